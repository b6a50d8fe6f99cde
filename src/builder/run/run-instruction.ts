// RUN: what it contributes to the stage digest, and the layer it makes by running the command in the sandbox.
//
// The digest gets the canonical instruction (command, flags, heredocs) plus what its bind mounts read: the
// mounted context files' contents, or the digest of the stage or image mounted. Cache, tmpfs and secret
// mounts do not enter it (BuildKit's rule: a secret's value never reaches a cache key).

import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extraHostLines, type ExtraHost } from '../../config/add-host.js';
import { BuildError } from '../../errors.js';
import type { Platform } from '../../oci/index.js';
import type { Secret } from '../../config/werf-config.js';
import { baseIdentity, resolveImage } from '../base-image.js';
import type { InstructionEnvironment, PreparedLayer, StageState } from '../build-state.js';
import type { BuildContext } from '../context.js';
import { DEFAULT_SHELL, commandLine } from '../dockerfile/instructions.js';
import type { ExpandedInstruction } from '../dockerfile/expand.js';
import { splitCSV } from '../dockerfile/expand.js';
import { heredocText } from '../dockerfile/parse.js';
import type { PlannedStage } from '../dockerfile/plan.js';
import { containerConfig } from '../image-config.js';
import { createLayer } from '../layer/create-layer.js';
import { parseGroup, parsePasswd } from '../layer/passwd.js';
import { resolveInside } from '../layer/paths.js';
import type { BuiltLayer } from '../layer/types.js';
import { chainIds, visiblePath, visibleStat, type LayerDir, type LayerDirs } from './layer-dirs.js';
import { diffRun, type RunDiff } from './run-diff.js';
import type { OciRuntime } from './oci-runtime.js';
import { removeTree, rootless } from './privileges.js';
import { resolveInRoot, runInSandbox, type NetworkMode, type SandboxMount } from './sandbox.js';

/** Docker's PATH for a command whose image sets none. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RunSettings {
  /** The layer cache (unpacked layers) and where cache mounts keep their content. */
  layers: LayerDirs;
  cacheMountDir: string;
  /** werf.yaml `secrets` of the image, and where `env` secrets are read. */
  secrets: readonly Secret[];
  secretEnv: Readonly<Record<string, string | undefined>>;
  /** werf.yaml `network` of the image (`--network` on a RUN wins). */
  network: string | undefined;
  /** werf.yaml `addHost`, parsed: in every RUN's /etc/hosts, and in every RUN's digest (werf's stage digest holds it). */
  extraHosts?: readonly ExtraHost[];
  /** Output of the commands, as it comes. */
  output: (chunk: Buffer) => void;
  /** The OCI runtime the containers run in (found on first use). */
  runtime: () => OciRuntime;
  /** Things worth knowing that are not failures. */
  note: (message: string) => void;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface RunEnvironment extends InstructionEnvironment {
  settings: RunSettings;
}

/** One `--mount` of a RUN, parsed (BuildKit's keys and defaults). */
export interface RunMount {
  type: 'bind' | 'cache' | 'tmpfs' | 'secret';
  target: string;
  source: string | undefined;
  from: string | undefined;
  id: string | undefined;
  readonly: boolean;
  required: boolean;
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
  env: string | undefined;
}

/** Parse one `--mount` value (`type=cache,target=/root/.cache,...`); errors name the instruction. */
export function parseRunMount(spec: string, where: string): RunMount {
  const fields = new Map<string, string>();
  for (const field of splitCSV(spec)) {
    const eq = field.indexOf('=');
    fields.set((eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase(), eq < 0 ? '' : field.slice(eq + 1));
  }
  const get = (...keys: string[]): string | undefined => keys.map((k) => fields.get(k)).find((v) => v !== undefined);
  const type = (get('type') ?? 'bind').toLowerCase();
  if (!['bind', 'cache', 'tmpfs', 'secret'].includes(type)) {
    throw new BuildError(`${where}: RUN --mount type=${type} is not supported`, { hint: 'Slipway supports type=bind, cache, tmpfs and secret' });
  }
  const flag = (key: string, alias: string): boolean | undefined => {
    const v = get(key, alias);
    return v === undefined ? undefined : v === '' || v.toLowerCase() === 'true';
  };
  const number = (key: string, radix: number): number | undefined => {
    const v = get(key);
    if (v === undefined) return undefined;
    const n = parseInt(v, radix);
    if (!Number.isInteger(n) || n < 0) throw new BuildError(`${where}: RUN --mount ${key}=${v} is not a valid number`);
    return n;
  };
  const id = get('id');
  let target = get('target', 'dst', 'destination');
  if (type === 'secret' && target === undefined && get('env') === undefined) {
    if (id === undefined) throw new BuildError(`${where}: RUN --mount type=secret needs id= or target=`);
    target = `/run/secrets/${id}`;
  }
  if (target === undefined && type !== 'secret') throw new BuildError(`${where}: RUN --mount type=${type} needs target=`);
  const readwrite = flag('rw', 'readwrite');
  const readonly = flag('ro', 'readonly');
  return {
    type: type as RunMount['type'],
    target: target ?? '',
    source: get('source', 'src'),
    from: get('from'),
    id: id ?? (type === 'secret' ? (target ? posix.basename(target) : undefined) : undefined),
    // bind mounts are read-only unless rw; cache mounts writable unless ro.
    readonly: type === 'bind' ? !(readwrite ?? false) : (readonly ?? false),
    required: flag('required', 'required') ?? false,
    mode: number('mode', 8),
    uid: number('uid', 10),
    gid: number('gid', 10),
    env: get('env'),
  };
}


export class RunInstruction {
  constructor(private readonly env: RunEnvironment) {}

  async prepare(stage: PlannedStage, state: StageState, instruction: ExpandedInstruction, where: string): Promise<PreparedLayer> {
    await mkdir(this.env.services.tmpDir, { recursive: true });
    const scratch = await mkdtemp(join(this.env.services.tmpDir, 'run-'));
    const hash = createHash('sha256');
    const mounts: { mount: RunMount; prepared: () => Promise<SandboxMount[]> }[] = [];
    const specs = Array.isArray(instruction.flags['mount']) ? instruction.flags['mount'] : [];
    try {
      for (const [index, spec] of specs.entries()) {
        const mount = parseRunMount(spec, where);
        mounts.push({ mount, prepared: await this.prepareMount(stage, mount, index, scratch, hash, where) });
      }
    } catch (error) {
      await removeTree(scratch);
      throw error;
    }
    const extraHosts = this.env.settings.extraHosts ?? [];
    if (extraHosts.length > 0) hash.update(`addHost\0${extraHostLines(extraHosts)}`);
    return {
      checksum: hash.digest('hex'),
      build: async () => {
        try {
          return await this.build(state, instruction, mounts, scratch, where);
        } finally {
          await removeTree(scratch);
        }
      },
      dispose: () => removeTree(scratch),
    };
  }

  /** Resolve one mount for the digest now; what goes into the sandbox is made when the command runs. */
  private async prepareMount(stage: PlannedStage, mount: RunMount, index: number, scratch: string, hash: Hash, where: string): Promise<() => Promise<SandboxMount[]>> {
    const target = mount.target;
    switch (mount.type) {
      case 'tmpfs':
        return async () => [{ kind: 'tmpfs', target, readonly: false }];
      case 'cache': {
        if (mount.from !== undefined) throw new BuildError(`${where}: RUN --mount type=cache,from= is not supported`, { hint: 'drop from=: the cache lives on this machine' });
        const id = mount.id ?? target;
        const dir = join(this.env.settings.cacheMountDir, createHash('sha256').update(id).digest('hex').slice(0, 32));
        return async () => {
          // The project's cache directory is root's alone: a RUN (as root) may leave setuid files in its caches.
          await mkdir(this.env.settings.cacheMountDir, { recursive: true, mode: 0o700 });
          await chmod(this.env.settings.cacheMountDir, 0o700);
          await mkdir(dir, { recursive: true });
          if (mount.mode !== undefined) await chmod(dir, mount.mode);
          if ((mount.uid !== undefined || mount.gid !== undefined) && !rootless) await chown(dir, mount.uid ?? 0, mount.gid ?? 0);
          return [{ kind: 'bind', source: dir, target, readonly: mount.readonly }];
        };
      }
      case 'secret': {
        const secret = this.env.settings.secrets.find((s) => s.id === mount.id);
        if (secret === undefined) {
          if (mount.required) throw new BuildError(`${where}: RUN --mount type=secret,id=${mount.id}: no secret "${mount.id}" in werf.yaml`, { hint: 'declare it under the image\'s `secrets:` (env, src or value)' });
          return async () => [];
        }
        if (mount.env !== undefined) throw new BuildError(`${where}: RUN --mount type=secret,env= is not supported`, { hint: 'mount the secret as a file (target=) and read it' });
        const value = await this.secretValue(secret, where);
        // Never written to disk: the sandbox puts it on a tmpfs of its own.
        return async () => [{ kind: 'secret', data: value, mode: mount.mode ?? 0o400, uid: mount.uid ?? 0, gid: mount.gid ?? 0, target, readonly: true }];
      }
      case 'bind': {
        const source = (mount.source ?? '').replace(/^\/+/, '');
        if (mount.from === undefined) {
          // Context files: copied out (the mount may be rw; writes are discarded) and hashed for the digest. The
          // source is resolved through the context's own symlinks, inside the context: never on the host.
          const dir = join(scratch, `bind-${index}`);
          const root = resolveContextPath(this.env.context, source, where);
          const single = root !== '' && this.env.context.files.has(root);
          const prefix = root === '' ? '' : `${root}/`;
          const selected = single ? [{ source: root, target: '' }]
            : [...this.env.context.files.keys()].filter((p) => p.startsWith(prefix)).map((p) => ({ source: p, target: p.slice(prefix.length) }));
          hash.update(`bind ${target}\0`);
          for (const file of selected) {
            const projectPath = posix.join(this.env.context.dir, file.source);
            const meta = this.env.context.files.get(file.source)!;
            const path = single ? dir : join(dir, file.target);
            await mkdir(single ? scratch : join(path, '..'), { recursive: true });
            const contentHash = createHash('sha256');
            if (meta.type === 'symlink') {
              const linkTarget = this.env.services.files.readLink(projectPath, 'context');
              await symlink(linkTarget, path);
              contentHash.update(linkTarget);
            } else {
              const stream = this.env.services.files.openStream(projectPath, 'context');
              stream.on('data', (chunk: Buffer) => contentHash.update(chunk));
              await pipeline(stream, createWriteStream(path, { mode: meta.mode & 0o111 ? 0o755 : 0o644 }));
            }
            hash.update(`${file.source}\0${meta.mode}\0${contentHash.digest('hex')}\0`);
          }
          if (selected.length === 0) await mkdir(dir, { recursive: true });
          return async () => [{ kind: 'bind', source: dir, target, readonly: mount.readonly, file: single }];
        }
        const ref = stage.references.find((r) => r.via === 'mount' && r.mount === index);
        if (ref?.source.kind === 'scratch') throw new BuildError(`${where}: RUN --mount from=scratch has no files`);
        if (ref?.source.kind === 'stage') {
          const state = this.env.stages.get(ref.source.index)!;
          hash.update(`bind ${target} stage ${state.digest} ${source}\0`);
          return async () => {
            await this.env.ensureAdopted(state);
            const stack = await this.stack(state);
            return [this.layersMount(stack, source, target, mount.readonly, scratch, index)];
          };
        }
        const image = await resolveImage(this.env.services.client, ref?.source.kind === 'image' ? ref.source.ref : mount.from, this.env.platform, where);
        hash.update(`bind ${target} image ${baseIdentity(image.manifestDigest, image.config.parsed)} ${source}\0`);
        return async () => {
          const stack = await this.env.settings.layers.stack(async () => image.store, image.manifest.parsed.layers, image.config.parsed.rootfs?.diff_ids ?? []);
          return [this.layersMount(stack, source, target, mount.readonly, scratch, index)];
        };
      }
    }
  }

  private layersMount(stack: LayerDir[], source: string, target: string, readonly: boolean, scratch: string, index: number): SandboxMount {
    return { kind: 'layers', stack, source, target, readonly, workDir: join(scratch, `layers-${index}`) };
  }

  private async secretValue(secret: Secret, where: string): Promise<string | Buffer> {
    switch (secret.kind) {
      case 'value':
        return secret.value;
      case 'env': {
        const value = this.env.settings.secretEnv[secret.env];
        if (value === undefined) throw new BuildError(`${where}: secret "${secret.id}" reads the environment variable ${secret.env}, which is not set`, { hint: `export ${secret.env} before the build` });
        return value;
      }
      case 'src': {
        const path = secret.src.startsWith('~/') ? join(homedir(), secret.src.slice(2)) : resolve(this.env.services.files.projectDir, secret.src);
        try {
          return await readFile(path);
        } catch (error) {
          throw new BuildError(`${where}: secret "${secret.id}": cannot read ${path}: ${(error as Error).message}`, { cause: error });
        }
      }
    }
  }

  private stack(state: StageState): Promise<LayerDir[]> {
    const store = state.layerSource ?? this.env.services.storage.store;
    return this.env.settings.layers.stack(async () => store, state.layers, state.config.rootfs?.diff_ids ?? []);
  }

  private async build(state: StageState, instruction: ExpandedInstruction, mounts: { mount: RunMount; prepared: () => Promise<SandboxMount[]> }[], scratch: string, where: string): Promise<BuiltLayer> {
    const { settings, services } = this.env;
    checkPlatform(this.env.platform, where);
    const stack = await this.stack(state);
    const config = containerConfig(state.config);
    const user = await resolveUser(stack, config.User ?? '', where);
    const env = runEnv(config.Env ?? [], state.scope.declaredArgs(), user.home);
    const sandboxMounts: SandboxMount[] = [];
    for (const m of mounts) sandboxMounts.push(...(await m.prepared()));
    const argv = await runArgv(instruction, config.Shell ?? DEFAULT_SHELL, scratch, sandboxMounts);
    const network = networkMode(instruction.flags['network'], settings.network, where);
    const program = argv[0];
    if (program !== undefined && program.startsWith('/') && !program.startsWith('/dev/')
      && (await visibleStat(stack, await resolveInRoot(stack, program))) === undefined) {
      throw new BuildError(`${where}: RUN: ${program} does not exist in the image`, {
        hint: instruction.json ? 'check the program path of the exec form' : 'the shell form needs a shell: use a base image that has one, or the exec form ["program", "arg"]',
      });
    }

    const result = await runInSandbox<RunDiff>({
      layers: settings.layers, stack,
      command: { argv, env, workdir: config.WorkingDir || '/', uid: user.uid, gid: user.gid, groups: user.groups, network, mounts: sandboxMounts, ...(settings.extraHosts ? { extraHosts: settings.extraHosts } : {}) },
      output: settings.output, inspect: diffRun, runtime: settings.runtime, note: settings.note,
      ...(settings.signal ? { signal: settings.signal } : {}),
      ...(settings.timeoutMs !== undefined ? { timeoutMs: settings.timeoutMs } : {}),
    }).catch((error: unknown) => {
      if (error instanceof BuildError) throw new BuildError(`${where}: RUN: ${error.message}`, { cause: error, ...(error.hint ? { hint: error.hint } : {}) });
      throw error;
    });
    try {
      if (result.exitCode !== 0) {
        throw new BuildError(`${where}: RUN exited with code ${result.exitCode}`, { hint: result.tail ? `the last lines of its output:\n${result.tail}` : 'it printed nothing' });
      }
      const diff = result.value!;
      const layer = await createLayer(diff.entries, { tmpDir: services.tmpDir, parentDirs: 'omit' });
      const chain = chainIds([...(state.config.rootfs?.diff_ids ?? []), layer.diffId]);
      await settings.layers.adopt(chain[chain.length - 1]!, layer.diffId, result.upper, diff.opaque).catch(() => undefined);
      return layer;
    } finally {
      await removeTree(result.dir);
    }
  }
}

/**
 * A bind mount's `source` in the build context ('' for its root), with the context's symlinks followed inside
 * the context, as BuildKit resolves it: `..` and absolute link targets stop at the context's root.
 */
export function resolveContextPath(context: BuildContext, source: string, where: string): string {
  const path = resolveInside(source, (candidate) => (context.files.get(candidate)?.type === 'symlink'
    ? context.project.readLink(posix.join(context.dir, candidate), 'context') : undefined), {
    tooMany: () => new BuildError(`${where}: RUN --mount source=${source}: too many symlinks`),
  });
  if (path !== '' && !context.files.has(path) && !context.dirs.has(path)) {
    throw new BuildError(`${where}: RUN --mount source=${source} is not in the build context${source !== path ? ` (it resolves to ${path || '/'})` : ''}`, {
      hint: 'name a committed file or directory of the context (symlinks are followed inside the context only)',
    });
  }
  return path;
}

/** A RUN for another architecture needs binfmt emulation registered for it. */
function checkPlatform(platform: Platform, where: string): void {
  const host: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };
  const hostArch = host[process.arch] ?? process.arch;
  if (platform.os === 'linux' && (platform.architecture === hostArch || (hostArch === 'amd64' && platform.architecture === '386'))) return;
  const qemu: Record<string, string> = { arm64: 'aarch64', arm: 'arm', amd64: 'x86_64', '386': 'i386', ppc64le: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  const name = qemu[platform.architecture];
  if (platform.os === 'linux' && name !== undefined && existsSync(`/proc/sys/fs/binfmt_misc/qemu-${name}`)) return;
  throw new BuildError(`${where}: RUN for ${platform.os}/${platform.architecture} cannot execute on this ${hostArch} machine`, {
    hint: `register binfmt emulation for ${platform.architecture} (e.g. apt-get install qemu-user-static binfmt-support), or build for linux/${hostArch}`,
  });
}

function networkMode(flag: unknown, configured: string | undefined, where: string): NetworkMode {
  const value = (typeof flag === 'string' && flag !== '' ? flag : configured) ?? 'default';
  if (value === 'default' || value === 'none' || value === 'host') return value;
  throw new BuildError(`${where}: network "${value}" is not supported`, { hint: 'use --network=default, none or host' });
}

/** The command's environment: the image's Env, then ARGs the Env does not set, PATH and HOME when missing. */
export function runEnv(configEnv: readonly string[], args: ReadonlyMap<string, string | undefined>, home: string): string[] {
  const env = [...configEnv];
  const has = (key: string): boolean => env.some((e) => e === key || e.startsWith(`${key}=`));
  for (const [key, value] of args) if (value !== undefined && !has(key)) env.push(`${key}=${value}`);
  if (!has('PATH')) env.unshift(`PATH=${DEFAULT_PATH}`);
  if (!has('HOME')) env.push(`HOME=${home}`);
  return env;
}

/**
 * The argv of a RUN: the exec form as written; a lone heredoc (`RUN <<EOF`) is the script itself (run with the
 * shell, or as a file when it starts with `#!`); any other shell form goes to the shell with its heredoc
 * bodies appended, so the shell feeds them to the command.
 */
export async function runArgv(instruction: ExpandedInstruction, shell: readonly string[], scratch: string, mounts: SandboxMount[]): Promise<string[]> {
  const heredocs = instruction.heredocs ?? [];
  if (instruction.json || heredocs.length === 0) return commandLine(instruction, shell) ?? [...shell];
  const text = instruction.args.join(' ');
  const first = heredocs[0]!;
  if (heredocs.length === 1 && /^\s*\d*<<-?["']?[^\s"']+["']?\s*$/.test(text)) {
    const body = heredocText(first);
    if (body.startsWith('#!')) {
      const file = join(scratch, 'heredoc-script');
      await writeFile(file, body, { mode: 0o755 });
      const target = '/dev/pipes/heredoc-script';
      mounts.push({ kind: 'bind', source: file, target, readonly: true, file: true });
      return [target];
    }
    return [...shell, body];
  }
  return [...shell, `${text}\n${heredocs.map((h) => `${heredocText(h)}${h.name}\n`).join('')}`];
}

export interface RunUser {
  uid: number;
  gid: number;
  groups: number[];
  home: string;
}

/** USER `name|uid[:group|gid]` through the image's /etc/passwd and /etc/group, as Docker resolves it. */
export async function resolveUser(stack: readonly LayerDir[], spec: string, where: string): Promise<RunUser> {
  const read = async (path: string): Promise<string | undefined> => {
    // Resolved inside the image: an image whose /etc/passwd is a symlink never makes Slipway read a host file.
    const full = await visiblePath(stack, await resolveInRoot(stack, path));
    return full === undefined ? undefined : readFile(full, 'utf8').catch(() => undefined);
  };
  const passwd = parsePasswd((await read('/etc/passwd')) ?? '');
  const group = parseGroup((await read('/etc/group')) ?? '');
  const [userPart = '', groupPart] = spec.split(':', 2) as [string, string | undefined];
  const numeric = (s: string): number | undefined => (/^\d+$/.test(s) ? Number(s) : undefined);
  let entry = userPart === '' ? passwd.find((p) => p.uid === 0) : passwd.find((p) => p.name === userPart);
  let uid: number;
  if (userPart === '') uid = 0;
  else if (numeric(userPart) !== undefined) {
    uid = numeric(userPart)!;
    entry = passwd.find((p) => p.uid === uid);
  } else if (entry !== undefined) uid = entry.uid;
  else throw new BuildError(`${where}: USER "${userPart}" is not in the image's /etc/passwd`, { hint: 'create the user in an earlier RUN, or use a numeric uid' });
  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== '') {
    const g = numeric(groupPart) ?? group.find((e) => e.name === groupPart)?.gid;
    if (g === undefined) throw new BuildError(`${where}: USER group "${groupPart}" is not in the image's /etc/group`);
    gid = g;
  }
  const name = entry?.name;
  const groups = groupPart === undefined && name !== undefined ? group.filter((g) => g.members.includes(name)).map((g) => g.gid) : [];
  return { uid, gid, groups: [...new Set([gid, ...groups])], home: entry?.home || '/' };
}
