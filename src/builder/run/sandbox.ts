// Where a RUN command executes: a container made by an OCI runtime (runc or crun, oci-runtime.ts) from a
// runtime-spec bundle Slipway writes (oci-spec.ts), with no daemon.
//
// The container's root filesystem is an overlay of the stage's layer directories (layer-dirs.ts) with a fresh
// upper directory: what the command changes lands there and becomes the layer. Slipway mounts that overlay,
// the read-only view of the layers below, the tmpfs for secrets and the roots of other images' bind mounts in a
// private mount and PID namespace of its own (util-linux `unshare`), whose first process is a small shell script
// Slipway writes. The runtime starts inside it, so every mount is private to that namespace: when its last
// process ends (even after a SIGKILL of Slipway, through --pdeathsig and --kill-child), the kernel takes them all
// away, and nothing stays mounted on the host.
//
// The script's steps, told on the control pipe (fd 3) and paced by Slipway on its stdin:
//   1. mount, then `ready <pid>`: Slipway writes the secrets into the tmpfs through /proc/<pid>/root, starts
//      slirp4netns for the default network, and says go;
//   2. run the runtime (the container's own namespaces, pivot_root into the overlay), then `<status> <pid>`:
//      Slipway compares the merged view with the lower layers through /proc/<pid>/root (overlay's opaque
//      directories are xattrs, which Node cannot read), then closes stdin and the namespace goes away.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, lstatSync, rmdirSync, unlinkSync } from 'node:fs';
import { chmod, lchown, lstat, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { extraHostLines, type ExtraHost } from '../../config/add-host.js';
import { BuildError } from '../../errors.js';
import { ancestors, resolveInside } from '../layer/paths.js';
import { removeTree, rootless } from './privileges.js';
import { visibleLink, visibleStat, type LayerDir, type LayerDirs } from './layer-dirs.js';
import { CGROUP_PARENT, containerId, removeKilledContainerCgroups, sweepStaleCgroups } from './cgroups.js';
import type { OciRuntime } from './oci-runtime.js';
import { runtimeSpec, type SpecMount } from './oci-spec.js';

export type NetworkMode = 'default' | 'none' | 'host';

export type SandboxMount = {
  /** An absolute path in the image. */
  target: string;
  readonly: boolean;
} & (
  /** A host file or directory. */
  | { kind: 'bind'; source: string; file?: boolean }
  | { kind: 'tmpfs' }
  /** `source` (a path in that image) of another image's layer directories, overlay-mounted under `workDir`. */
  | { kind: 'layers'; stack: readonly LayerDir[]; source: string; workDir: string }
  /** A file that exists only in memory (a tmpfs of the sandbox), owned by uid:gid. */
  | { kind: 'secret'; data: string | Buffer; mode: number; uid: number; gid: number }
);

export interface SandboxCommand {
  argv: string[];
  /** `KEY=value` entries, exactly the command's environment. */
  env: string[];
  /** Absolute, in the image; created when missing. */
  workdir: string;
  uid: number;
  gid: number;
  groups: number[];
  network: NetworkMode;
  mounts: SandboxMount[];
  /** werf.yaml `addHost`: added to the container's /etc/hosts after the defaults. */
  extraHosts?: readonly ExtraHost[];
}

export interface SandboxView {
  /** The root filesystem as the command left it (host path through /proc/<pid>/root). */
  merged: string;
  /** The layers below, read-only. */
  lower: string;
  /** The overlay upper directory: what the command changed (plus `stubs`). */
  upper: string;
  /** Mount points Slipway created in the upper directory: not changes of the command. */
  stubs: ReadonlySet<string>;
}

export interface SandboxResult<T> {
  exitCode: number;
  /** The last lines of the command's output, for error messages. */
  tail: string;
  /** What `inspect` returned (only when the command succeeded). */
  value: T | undefined;
  /** The upper directory: the command's changes in overlay format. The caller owns (moves or deletes) its parent `dir`. */
  upper: string;
  dir: string;
}

export interface SandboxOptions<T> {
  layers: LayerDirs;
  /** The stage's layer directories, top first. */
  stack: readonly LayerDir[];
  command: SandboxCommand;
  /** Output of the command, as it comes. */
  output: (chunk: Buffer) => void;
  /** Called after a successful command, while the merged view is still mounted. */
  inspect: (view: SandboxView) => Promise<T>;
  signal?: AbortSignal;
  /** Kill the command (and everything it started) after this many milliseconds. */
  timeoutMs?: number;
  /** The OCI runtime, found when the first command runs. */
  runtime: () => OciRuntime;
  /** Told things worth knowing (the network falling back to the host's). */
  note: (message: string) => void;
}

const TAIL_LINES = 20;

/** Single-quote a word for /bin/sh. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * `path` (absolute, in the image) with every symlink resolved inside the image root, as the stack shows it:
 * mounting at the result never follows a link out to the host. Components that do not exist are kept.
 */
export async function resolveInRoot(stack: readonly LayerDir[], path: string): Promise<string> {
  return resolveInside(path, (candidate) => visibleLink(stack, candidate), {
    tooMany: () => new BuildError(`too many symlinks resolving ${path} in the image`),
  });
}

/** Run a command in the sandbox; see the file comment. */
export async function runInSandbox<T>(options: SandboxOptions<T>): Promise<SandboxResult<T>> {
  const { layers, command } = options;
  if (rootless && (command.uid !== 0 || command.gid !== 0)) {
    throw new BuildError(`running as uid ${command.uid} (USER) needs root: without it, the sandbox maps only your own user (as root)`, {
      hint: 'run Slipway as root for RUN under another USER, or move the USER instruction after the RUN',
    });
  }
  const runtime = options.runtime();
  const network = networkPlan(command.network, options.note);
  const dir = await layers.scratch('run');
  if (!rootless) sweepStaleCgroups();
  const id = containerId(randomBytes(6).toString('hex'));
  let prepared: Prepared;
  try {
    prepared = await prepare(options, dir, id, runtime, network);
  } catch (error) {
    await removeTree(dir);
    throw error;
  }
  const { stubs, secrets } = prepared;
  const upper = join(dir, 'upper');

  const unshareArgs = [
    ...(rootless ? ['--user', '--map-root-user'] : []), '--mount', '--pid', '--fork', '--kill-child', '--propagation', 'private',
    ...(network.kind === 'slirp' ? ['--net'] : []),
  ];
  // --pdeathsig: however Slipway ends (even SIGKILL), the outer unshare gets SIGKILL, and its --kill-child
  // takes the namespace down with every process and mount in it, the container included.
  const child = spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', '/usr/bin/unshare', ...unshareArgs, '/bin/sh', join(dir, 'run.sh')], {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    env: { PATH: HOST_PATH, LC_ALL: 'C' },
  });
  const lines: string[] = [''];
  const collect = (chunk: Buffer): void => {
    options.output(chunk);
    const parts = chunk.toString('utf8').split('\n');
    lines[lines.length - 1] += parts[0]!;
    lines.push(...parts.slice(1));
    if (lines.length > TAIL_LINES * 2) lines.splice(0, lines.length - TAIL_LINES - 1);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  child.stdin!.on('error', () => undefined);

  let killedBy: string | undefined;
  let slirp: ChildProcess | undefined;
  const kill = (why: string): void => {
    killedBy ??= why;
    // The outer unshare dies, and --kill-child takes the namespace's PID 1 (and so every process in it) along.
    child.kill('SIGKILL');
    slirp?.kill('SIGKILL');
  };
  const onAbort = (): void => kill('was interrupted');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = options.timeoutMs !== undefined ? setTimeout(() => kill(`timed out after ${options.timeoutMs} ms`), options.timeoutMs) : undefined;
  // Never rejects: a runner that could not even start (no setpriv) is told by `notStarted` like any other.
  let spawnError: Error | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (error) => { spawnError = error; resolve(null); });
    child.once('close', (code) => resolve(code));
  });
  const control = controlLines(child.stdio[3] as Readable, exited);
  const tail = (): string => lines.filter((l, i) => l !== '' || i < lines.length - 1).slice(-TAIL_LINES).join('\n');
  const notStarted = async (): Promise<never> => {
    const code = await exited;
    const why = spawnError !== undefined ? `: ${spawnError.message}` : ` (exit code ${code})${tail() ? `:\n${tail()}` : ''}`;
    throw new BuildError(`the sandbox could not start${why}`, {
      hint: `RUN needs root (or a user namespace), util-linux unshare and setpriv, overlayfs and a working OCI runtime (${runtime.path})`,
    });
  };

  try {
    const ready = await control.next();
    if (killedBy !== undefined) throw new BuildError(`the command ${killedBy}`);
    if (ready === undefined || !ready.startsWith('ready ')) return await notStarted();
    const pid = Number(ready.slice('ready '.length));
    for (const secret of secrets) await writeSecret(join(`/proc/${pid}/root`, secret.path), secret);
    if (network.kind === 'slirp') slirp = await startSlirp(network.binary, pid);
    child.stdin!.write('go\n');

    const done = await control.next();
    if (killedBy !== undefined) throw new BuildError(`the command ${killedBy}`, { hint: tail() ? `its last output:\n${tail()}` : undefined });
    const match = done === undefined ? null : /^(\d+)$/.exec(done);
    if (match === null) return await notStarted();
    const exitCode = Number(match[1]);
    // A last line without a newline still reaches the log.
    if (lines[lines.length - 1] !== '') options.output(Buffer.from('\n'));
    let value: T | undefined;
    if (exitCode === 0) {
      value = await options.inspect({
        merged: join(`/proc/${pid}/root`, dir, 'merged'), lower: join(`/proc/${pid}/root`, dir, 'lower'), upper, stubs,
      });
    }
    child.stdin!.end();
    await exited;
    removeStubs(upper, stubs);
    return { exitCode, tail: tail(), value, upper, dir };
  } catch (error) {
    kill('was stopped');
    await exited;
    if (!rootless) await removeKilledContainerCgroups(id);
    await removeTree(dir);
    throw error;
  } finally {
    slirp?.kill('SIGKILL');
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** How the container gets its network (see networkPlan). */
type NetworkPlan =
  | { kind: 'none' }
  | { kind: 'host' }
  /** A network namespace of the sandbox's, connected to the outside by slirp4netns (user-mode TCP/IP, no host loopback). */
  | { kind: 'slirp'; binary: string };

let fellBackToHost = false;

/** `default` is the sandbox's own network through slirp4netns when it is installed, else the host's (said once). */
function networkPlan(mode: NetworkMode, note: (message: string) => void): NetworkPlan {
  if (mode !== 'default') return { kind: mode };
  const binary = ['/usr/bin/slirp4netns', '/usr/local/bin/slirp4netns'].find((p) => existsSync(p));
  // slirp4netns opens /dev/net/tun as the invoking user; machines without udev leave it 0600.
  const usable = binary !== undefined && (!rootless || canOpen('/dev/net/tun'));
  if (usable) return { kind: 'slirp', binary };
  if (!fellBackToHost) {
    fellBackToHost = true;
    note(binary === undefined
      ? 'slirp4netns is not installed: RUN uses the host\'s network (install slirp4netns for a network namespace of its own)'
      : 'slirp4netns cannot open /dev/net/tun as this user: RUN uses the host\'s network (chmod 0666 /dev/net/tun, as udev does)');
  }
  return { kind: 'host' };
}

function canOpen(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** slirp4netns is where the container's traffic leaves: 10.0.2.0/24 with DNS at 10.0.2.3, host loopback unreachable. */
const SLIRP_DNS = '10.0.2.3';

/** Connect the network namespace of `pid` to the outside; resolves once the interface is up. */
async function startSlirp(binary: string, pid: number): Promise<ChildProcess> {
  const args = [
    '--pdeathsig', 'KILL', binary, '--configure', '--mtu=65520', '--disable-host-loopback', '--enable-sandbox', '--enable-seccomp', '--ready-fd=3',
    ...(rootless ? [`--userns-path=/proc/${pid}/ns/user`] : []), String(pid), 'tap0',
  ];
  const slirp = spawn('/usr/bin/setpriv', args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  let err = '';
  slirp.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const ready = new Promise<void>((resolve, reject) => {
    (slirp.stdio[3] as Readable).once('data', () => resolve());
    slirp.once('error', reject);
    slirp.once('close', (code) => reject(new BuildError(`slirp4netns could not connect the RUN's network (exit code ${code}): ${err.trim()}`, {
      hint: 'use --network=host, or check slirp4netns',
    })));
  });
  try {
    await ready;
  } catch (error) {
    slirp.kill('SIGKILL');
    throw error;
  }
  return slirp;
}

/** A secret file: written into the sandbox's tmpfs once it is mounted, so it never touches the disk. */
interface SecretFile {
  /** Host path in the sandbox's mount namespace. */
  path: string;
  data: string | Buffer;
  mode: number;
  uid: number;
  gid: number;
}

async function writeSecret(path: string, secret: SecretFile): Promise<void> {
  await writeFile(path, secret.data, { mode: secret.mode });
  await chmod(path, secret.mode);
  if (!rootless) await lchown(path, secret.uid, secret.gid);
}

interface Prepared {
  stubs: Set<string>;
  secrets: SecretFile[];
}

/** The mount points (made in the upper directory), the bundle, and the script the namespace's first process runs. */
async function prepare<T>(options: SandboxOptions<T>, dir: string, id: string, runtime: OciRuntime, network: NetworkPlan): Promise<Prepared> {
  const { layers, stack, command } = options;
  const upper = join(dir, 'upper');
  const work = join(dir, 'work');
  const merged = join(dir, 'merged');
  const lower = join(dir, 'lower');
  const secretsDir = join(dir, 'secrets');
  const bundle = join(dir, 'bundle');
  for (const d of [upper, work, merged, lower, secretsDir, bundle]) await mkdir(d);
  const empty = await layers.emptyDir();
  // Not root: a user namespace where the invoking user is root (see docs/security.md for what that cannot
  // do); overlay there keeps its metadata in user.* xattrs. Renames of lower directories copy (no redirects) and
  // metadata changes copy data, so the upper directory is a self-contained layer.
  const overlayExtra = rootless ? ',userxattr' : ',redirect_dir=off,metacopy=off';
  const lowerdir = [...stack.map((l) => l.name), empty].join(':');
  if (lowerdir.length > 3800) throw new BuildError(`the image has ${stack.length} layers: too many to mount as one overlay here`, { hint: 'squash the base image' });

  // Mount points, resolved inside the image; the missing ones are created in the upper directory (and removed
  // afterwards), so that the runtime never creates anything in the layer.
  const stubs = new Set<string>();
  const makeStub = async (target: string, file: boolean): Promise<string> => {
    const resolved = await resolveInRoot(stack, target);
    if (resolved === '') throw new BuildError(`cannot mount over the image's root directory`);
    if ((await visibleStat(stack, resolved)) !== undefined) return resolved;
    // Made already, as the working directory (which is the command's, not a stub).
    if ((await lstat(join(upper, resolved)).catch(() => undefined)) !== undefined) return resolved;
    for (const created of await ensureUpperParents(stack, upper, resolved)) stubs.add(created);
    const full = join(upper, resolved);
    if (file) await writeFile(full, '', { mode: 0o644 });
    else await mkdir(full, { mode: 0o755 });
    stubs.add(resolved);
    return resolved;
  };

  const lines: string[] = [
    'set -e',
    `cd ${shellQuote(layers.root)}`,
    `mount -t overlay overlay -o ${shellQuote(`lowerdir=${lowerdir},upperdir=${upper},workdir=${work}${overlayExtra}`)} ${shellQuote(merged)}`,
    `mount -t overlay overlay -o ${shellQuote(`ro,lowerdir=${lowerdir}${rootless ? ',userxattr' : ''}`)} ${shellQuote(lower)}`,
    // Secrets live in memory only, readable by root of this namespace alone until they are bound in.
    `mount -t tmpfs -o ${shellQuote('mode=0700,size=16m,nosuid,nodev,noexec')} tmpfs ${shellQuote(secretsDir)}`,
  ];
  const workdir = await resolveInRoot(stack, command.workdir);
  if (workdir !== '' && (await visibleStat(stack, workdir)) === undefined) {
    // Like buildah and BuildKit, a missing working directory is made (it is part of the layer), owned by the
    // user the command runs as, so that the command can write there; existing parents keep their owners. Made
    // before the mount points, which may lie below it (WORKDIR /app, --mount=...,target=/app/node_modules).
    const created = [...(await ensureUpperParents(stack, upper, workdir)), workdir];
    await mkdir(join(upper, workdir));
    for (const path of created) {
      if (!rootless) await lchown(join(upper, path), command.uid, command.gid);
      await chmod(join(upper, path), 0o755);
    }
  }

  const dev = await makeStub('/dev', false);
  for (const path of ['/proc', '/sys']) await makeStub(path, false);
  const specMounts: SpecMount[] = [];

  // /etc/hosts and /etc/resolv.conf: private copies, so that the command cannot change the host's.
  const hostsFile = join(dir, 'hosts');
  await writeFile(hostsFile, `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${extraHostLines(command.extraHosts ?? [])}`);
  const resolvFile = join(dir, 'resolv.conf');
  await writeFile(resolvFile, network.kind === 'none' ? '' : network.kind === 'slirp' ? `nameserver ${SLIRP_DNS}\n` : await hostResolvConf());
  for (const [target, source] of [['/etc/hosts', hostsFile], ['/etc/resolv.conf', resolvFile]] as const) {
    specMounts.push(bindMount(`/${await makeStub(target, true)}`, source, false));
  }

  const secrets: SecretFile[] = [];
  for (const [index, mount] of command.mounts.entries()) {
    let source: string | undefined;
    let isFile = (mount.kind === 'bind' && mount.file === true) || mount.kind === 'secret';
    if (mount.kind === 'bind') source = mount.source;
    if (mount.kind === 'secret') {
      source = join(secretsDir, `secret-${index}`);
      secrets.push({ path: source, data: mount.data, mode: mount.mode, uid: mount.uid, gid: mount.gid });
    }
    if (mount.kind === 'layers') {
      // The other image's root, mounted beside the container's own; the wanted path of it, resolved inside
      // that image, is bound in.
      const root = join(mount.workDir, 'root');
      for (const d of [root, join(mount.workDir, 'upper'), join(mount.workDir, 'work')]) await mkdir(d, { recursive: true });
      const lowers = [...mount.stack.map((l) => l.name), empty].join(':');
      const overlay = mount.readonly ? `ro,lowerdir=${lowers}` : `lowerdir=${lowers},upperdir=${join(mount.workDir, 'upper')},workdir=${join(mount.workDir, 'work')}`;
      lines.push(`(cd ${shellQuote(layers.root)} && mount -t overlay overlay -o ${shellQuote(`${overlay}${rootless ? ',userxattr' : ''}`)} ${shellQuote(root)})`);
      const inner = await resolveInRoot(mount.stack, mount.source);
      isFile = (await visibleStat(mount.stack, inner))?.isFile() === true;
      source = join(root, inner);
    }
    const resolved = await resolveInRoot(stack, mount.target);
    // Under the container's own /dev (a tmpfs), the runtime makes the mount point; elsewhere it is a stub.
    const path = resolved === dev || resolved.startsWith(`${dev}/`) ? resolved : await makeStub(mount.target, isFile);
    if (mount.kind === 'tmpfs') specMounts.push({ destination: `/${path}`, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
    else specMounts.push(bindMount(`/${path}`, source!, mount.readonly));
  }

  const spec = runtimeSpec({
    rootfs: merged, argv: command.argv, env: command.env, cwd: `/${workdir}`,
    uid: command.uid, gid: command.gid, groups: rootless ? [] : command.groups,
    network: network.kind === 'none' ? 'own' : 'inherit', rootless, hostNetwork: network.kind === 'host',
    mounts: specMounts, cgroupsPath: `/${CGROUP_PARENT}/${id}`,
  });
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
  lines.push(
    // The host's PID of this script (the /proc of the host still shows it), then a /proc of this PID namespace
    // for the runtime, which finds its processes there.
    'read -r pid rest < /proc/self/stat',
    'mount -t proc -o nosuid,nodev,noexec proc /proc',
    'echo "ready $pid" >&3',
    'read -r go',
    'set +e',
    [shellQuote(runtime.path), '--root', shellQuote(join(dir, 'state')), 'run', '--bundle', shellQuote(bundle), id, '</dev/null', '3>&-'].join(' '),
    'echo "$?" >&3',
    'read -r _ || true',
  );
  await writeFile(join(dir, 'run.sh'), `${lines.join('\n')}\n`);
  return { stubs, secrets };
}

function bindMount(destination: string, source: string, readonly: boolean): SpecMount {
  return { destination, type: 'bind', source, options: ['rbind', 'nosuid', 'nodev', readonly ? 'ro' : 'rw'] };
}

/** The lines a script writes on a pipe, one at a time; undefined once it ends. */
function controlLines(stream: Readable, exited: Promise<unknown>): { next(): Promise<string | undefined> } {
  let buffer = '';
  let ended = false;
  const waiters: (() => void)[] = [];
  const wake = (): void => { for (const w of waiters.splice(0)) w(); };
  stream.on('data', (d: Buffer) => { buffer += d.toString(); wake(); });
  stream.on('end', () => { ended = true; wake(); });
  void exited.then(() => { ended = true; wake(); });
  return {
    async next() {
      for (;;) {
        const eol = buffer.indexOf('\n');
        if (eol >= 0) {
          const line = buffer.slice(0, eol).trim();
          buffer = buffer.slice(eol + 1);
          return line;
        }
        if (ended) return undefined;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

/**
 * Make the directories above `path` exist in the upper directory: the ones the stack has are copied up with
 * their mode and owner (overlay would do the same); the others are created and returned.
 */
async function ensureUpperParents(stack: readonly LayerDir[], upper: string, path: string): Promise<string[]> {
  const created: string[] = [];
  for (const parent of ancestors(path)) {
    const full = join(upper, parent);
    if (await lstat(full).catch(() => undefined)) continue;
    const st = await visibleStat(stack, parent);
    await mkdir(full);
    if (st?.isDirectory()) {
      if (!rootless) await lchown(full, st.uid, st.gid);
      await chmod(full, st.mode & 0o7777);
    } else {
      await chmod(full, 0o755);
      created.push(parent);
    }
  }
  return created;
}

/**
 * Remove the mount points Slipway made in the upper directory, deepest first, where they are still what it made
 * (an empty directory or file, reached through real directories). The command may have moved them, or put a
 * symlink to a host path in their place: a path is never followed through a symlink, and what is no longer a
 * stub stays, as the command's own change. Nothing runs in the sandbox any more, so nothing changes meanwhile.
 */
export function removeStubs(upper: string, stubs: ReadonlySet<string>): void {
  for (const stub of [...stubs].sort().reverse()) {
    const parts = stub.split('/');
    let path = upper;
    let reachable = true;
    for (const part of parts.slice(0, -1)) {
      path = join(path, part);
      if (lstatSync(path, { throwIfNoEntry: false })?.isDirectory() !== true) {
        reachable = false;
        break;
      }
    }
    if (!reachable) continue;
    const full = join(path, parts[parts.length - 1]!);
    const st = lstatSync(full, { throwIfNoEntry: false });
    try {
      if (st?.isDirectory()) rmdirSync(full);
      else if (st?.isFile() && st.size === 0) unlinkSync(full);
    } catch {
      // not empty: the command put something there, which is its change
    }
  }
}

async function hostResolvConf(): Promise<string> {
  return readFile('/etc/resolv.conf', 'utf8').catch(() => '');
}
