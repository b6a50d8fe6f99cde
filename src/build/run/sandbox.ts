// The sandbox a RUN command executes in, with no daemon: new mount and PID namespaces (util-linux `unshare`),
// an overlay mount of the stage's layer directories with a fresh upper directory, /proc, a minimal /dev,
// /etc/hosts and /etc/resolv.conf, the instruction's --mount's, then a chroot (`unshare --root --wd`) as the
// image's user (`setpriv`). Every mount lives in the private mount namespace: when its last process ends, the
// kernel takes them all away, so a crash, Ctrl-C or timeout leaves none behind on the host.
//
// The namespace's first process is a small shell script that Slipway writes. After the command it kills what
// the command left running, takes the extra mounts down and waits, so that Slipway can compare the merged view
// with the lower layers through /proc/<pid>/root (overlay's opaque directories are xattrs, which Node cannot
// read); then it exits and the namespace goes away.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, lchown, lstat, mkdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BuildError } from '../../errors.js';
import { ancestors } from '../layer/paths.js';
import { removeTree, rootless } from './privileges.js';
import { visiblePath, visibleStat, type LayerDir, type LayerDirs } from './layer-dirs.js';

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
}

const TAIL_LINES = 20;
const MAX_SYMLINK_HOPS = 40;

/** Single-quote a word for /bin/sh. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * `path` (absolute, in the image) with every symlink resolved inside the image root, as the stack shows it:
 * mounting at the result never follows a link out to the host. Components that do not exist are kept.
 */
export async function resolveInRoot(stack: readonly LayerDir[], path: string): Promise<string> {
  let pending = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = [...done, part].join('/');
    const st = await visibleStat(stack, candidate);
    if (st?.isSymbolicLink()) {
      if (++hops > MAX_SYMLINK_HOPS) throw new BuildError(`too many symlinks resolving ${path} in the image`);
      const target = await readlink((await visiblePath(stack, candidate))!);
      if (target.startsWith('/')) done.length = 0;
      pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
      continue;
    }
    done.push(part);
  }
  return done.join('/');
}

/** Run a command in the sandbox; see the file comment. */
export async function runInSandbox<T>(options: SandboxOptions<T>): Promise<SandboxResult<T>> {
  const { layers, command } = options;
  if (rootless && (command.uid !== 0 || command.gid !== 0)) {
    throw new BuildError(`running as uid ${command.uid} (USER) needs root: without it, the sandbox maps only your own user (as root)`, {
      hint: 'run Slipway as root for RUN under another USER, or move the USER instruction after the RUN',
    });
  }
  const dir = await layers.scratch('run');
  let script: string;
  let stubs: Set<string>;
  try {
    ({ script, stubs } = await prepare(options, dir));
  } catch (error) {
    await removeTree(dir);
    throw error;
  }
  const scriptFile = join(dir, 'run.sh');
  await writeFile(scriptFile, script);
  const upper = join(dir, 'upper');
  const merged = join(dir, 'merged');
  const lower = join(dir, 'lower');

  const unshareArgs = [...(rootless ? ['--user', '--map-root-user'] : []), '--mount', '--pid', '--fork', '--kill-child', '--propagation', 'private', ...(command.network === 'none' ? ['--net'] : [])];
  // --pdeathsig: however Slipway ends (even SIGKILL), the outer unshare gets SIGKILL, and its --kill-child
  // takes the namespace down with every process and mount in it.
  const child = spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', '/usr/bin/unshare', ...unshareArgs, '/bin/sh', scriptFile], {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
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
  const kill = (why: string): void => {
    killedBy ??= why;
    // The outer unshare dies, and --kill-child takes the namespace's PID 1 (and so every process in it) along.
    child.kill('SIGKILL');
  };
  const onAbort = (): void => kill('was interrupted');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = options.timeoutMs !== undefined ? setTimeout(() => kill(`timed out after ${options.timeoutMs} ms`), options.timeoutMs) : undefined;
  const exited = once(child, 'close').then(([code]) => code as number | null);

  try {
    const control = await readControl(child.stdio[3] as Readable, exited);
    const tail = lines.filter((l, i) => l !== '' || i < lines.length - 1).slice(-TAIL_LINES).join('\n');
    if (killedBy !== undefined) throw new BuildError(`the command ${killedBy}`, { hint: tail ? `its last output:\n${tail}` : undefined });
    if (control === undefined) {
      const code = await exited;
      throw new BuildError(`the sandbox could not start (exit code ${code})${tail ? `:\n${tail}` : ''}`, {
        hint: 'RUN needs root (or a user namespace), util-linux unshare and setpriv, and overlayfs',
      });
    }
    // A last line without a newline still reaches the log.
    if (lines[lines.length - 1] !== '') options.output(Buffer.from('\n'));
    let value: T | undefined;
    if (control.status === 0) {
      value = await options.inspect({
        merged: join(`/proc/${control.pid}/root`, merged), lower: join(`/proc/${control.pid}/root`, lower), upper, stubs,
      });
    }
    child.stdin!.end();
    await exited;
    for (const stub of [...stubs].sort().reverse()) await rm(join(upper, stub), { recursive: true, force: true });
    return { exitCode: control.status, tail, value, upper, dir };
  } catch (error) {
    kill('was stopped');
    await exited;
    await removeTree(dir);
    throw error;
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** The mount points (made in the upper directory) and the script the namespace's first process runs. */
async function prepare<T>(options: SandboxOptions<T>, dir: string): Promise<{ script: string; stubs: Set<string> }> {
  const { layers, stack, command } = options;
  const upper = join(dir, 'upper');
  const work = join(dir, 'work');
  const merged = join(dir, 'merged');
  const lower = join(dir, 'lower');
  for (const d of [upper, work, merged, lower]) await mkdir(d);
  const empty = await layers.emptyDir();
  // Not root: a user namespace where the invoking user is root (see docs/architecture.md for what that cannot
  // do); overlay there keeps its metadata in user.* xattrs. Renames of lower directories copy (no redirects) and
  // metadata changes copy data, so the upper directory is a self-contained layer.
  const overlayExtra = rootless ? ',userxattr' : ',redirect_dir=off,metacopy=off';
  const lowerdir = [...stack.map((l) => l.name), empty].join(':');
  if (lowerdir.length > 3800) throw new BuildError(`the image has ${stack.length} layers: too many to mount as one overlay here`, { hint: 'squash the base image' });

  // Mount points, resolved inside the image; the missing ones are created in the upper directory.
  const stubs = new Set<string>();
  const makeStub = async (target: string, file: boolean): Promise<string> => {
    const resolved = await resolveInRoot(stack, target);
    if (resolved === '') throw new BuildError(`cannot mount over the image's root directory`);
    if ((await visibleStat(stack, resolved)) !== undefined) return resolved;
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
    'cd /',
    `M=${shellQuote(merged)}`,
  ];
  const unmount: string[] = [];
  const at = (path: string): string => `"$M"/${shellQuote(path)}`;

  const proc = await makeStub('/proc', false);
  lines.push(`mount -t proc -o nosuid,nodev,noexec proc ${at(proc)}`);
  unmount.unshift(at(proc));
  const dev = await makeStub('/dev', false);
  lines.push(
    `mount -t tmpfs -o nosuid,mode=0755 tmpfs ${at(dev)}`,
    `for d in null zero full random urandom tty; do : > ${at(dev)}/$d; mount --bind /dev/$d ${at(dev)}/$d; done`,
    `mkdir ${at(`${dev}/shm`)} ${at(`${dev}/pts`)}`,
    `mount -t tmpfs -o nosuid,nodev,noexec tmpfs ${at(`${dev}/shm`)}`,
    `mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts ${at(`${dev}/pts`)} 2>/dev/null && ln -s pts/ptmx ${at(`${dev}/ptmx`)} || true`,
    `ln -s /proc/self/fd ${at(`${dev}/fd`)}`,
    `ln -s /proc/self/fd/0 ${at(`${dev}/stdin`)}; ln -s /proc/self/fd/1 ${at(`${dev}/stdout`)}; ln -s /proc/self/fd/2 ${at(`${dev}/stderr`)}`,
  );
  unmount.unshift(`-R ${at(dev)}`);

  // /etc/hosts and /etc/resolv.conf: private copies, so that the command cannot change the host's.
  const hostsFile = join(dir, 'hosts');
  await writeFile(hostsFile, '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n');
  const resolvFile = join(dir, 'resolv.conf');
  await writeFile(resolvFile, command.network === 'none' ? '' : await hostResolvConf());
  for (const [target, source] of [['/etc/hosts', hostsFile], ['/etc/resolv.conf', resolvFile]] as const) {
    const path = await makeStub(target, true);
    lines.push(`mount --bind ${shellQuote(source)} ${at(path)}`);
    unmount.unshift(at(path));
  }

  for (const mount of command.mounts) {
    let source: string | undefined;
    let isFile = mount.kind === 'bind' && mount.file === true;
    if (mount.kind === 'bind') source = shellQuote(mount.source);
    if (mount.kind === 'layers') {
      // The other image's root, mounted beside the sandbox's own, and the wanted path of it bound in.
      const root = join(mount.workDir, 'root');
      for (const d of [root, join(mount.workDir, 'upper'), join(mount.workDir, 'work')]) await mkdir(d, { recursive: true });
      const lowers = [...mount.stack.map((l) => l.name), empty].join(':');
      const options = mount.readonly ? `ro,lowerdir=${lowers}` : `lowerdir=${lowers},upperdir=${join(mount.workDir, 'upper')},workdir=${join(mount.workDir, 'work')}`;
      lines.push(`(cd ${shellQuote(layers.root)} && mount -t overlay overlay -o ${shellQuote(options)} ${shellQuote(root)})`);
      const inner = await resolveInRoot(mount.stack, mount.source);
      isFile = (await visibleStat(mount.stack, inner))?.isFile() === true;
      source = shellQuote(join(root, inner));
    }
    const resolved = await resolveInRoot(stack, mount.target);
    let path: string;
    if (resolved === dev || resolved.startsWith(`${dev}/`)) {
      // Under the sandbox's own /dev (a tmpfs): the mount point is made there, not in the image.
      path = resolved;
      lines.push(isFile ? `mkdir -p "$(dirname ${at(path)})" && : > ${at(path)}` : `mkdir -p ${at(path)}`);
    } else {
      path = await makeStub(mount.target, isFile);
    }
    if (mount.kind === 'tmpfs') lines.push(`mount -t tmpfs -o nosuid,nodev tmpfs ${at(path)}`);
    else lines.push(`mount --bind ${source!} ${at(path)}`);
    if (mount.readonly) lines.push(`mount -o remount,bind,ro ${at(path)}`);
    unmount.unshift(at(path));
  }

  const workdir = await resolveInRoot(stack, command.workdir);
  if (workdir !== '' && (await visibleStat(stack, workdir)) === undefined) {
    // Like buildah and BuildKit, a missing working directory is made (it is part of the layer), owned by the
    // user the command runs as, so that the command can write there; existing parents keep their owners.
    const created = [...(await ensureUpperParents(stack, upper, workdir)), workdir];
    await mkdir(join(upper, workdir));
    for (const path of created) {
      if (!rootless) await lchown(join(upper, path), command.uid, command.gid);
      await chmod(join(upper, path), 0o755);
    }
  }
  if (command.network === 'none') lines.push('ip link set lo up 2>/dev/null || true');

  // In a user namespace setgroups is denied: the (single) group stays as it is.
  const groups = rootless ? '--keep-groups' : command.groups.length > 0 ? `--groups=${command.groups.join(',')}` : '--clear-groups';
  lines.push(
    'set +e',
    [
      '/usr/bin/env', '-i', ...command.env.map(shellQuote),
      '/usr/bin/setpriv', `--regid=${command.gid}`, groups,
      '/usr/bin/unshare', '--root="$M"', `--wd=${shellQuote(`/${command.workdir.replace(/^\/+/, '')}`)}`, `--setuid=${command.uid}`, '--',
      ...command.argv.map(shellQuote), '</dev/null', '3>&-',
    ].join(' '),
    'status=$?',
    // Whatever the command left running dies with it (this shell is the namespace's PID 1).
    'kill -9 -1 2>/dev/null',
    ...unmount.map((m) => `umount -l ${m} 2>/dev/null`),
    'read -r pid rest < /proc/self/stat',
    'echo "$status $pid" >&3',
    'read -r _ || true',
  );
  return { script: `${lines.join('\n')}\n`, stubs };
}

/** The `<status> <pid>` line the script writes after the command, or undefined when it exited before. */
async function readControl(stream: Readable, exited: Promise<unknown>): Promise<{ status: number; pid: number } | undefined> {
  let text = '';
  const line = new Promise<string | undefined>((resolve) => {
    stream.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
    stream.on('end', () => resolve(undefined));
    void exited.then(() => resolve(undefined));
  });
  const got = await line;
  const match = got === undefined ? null : /^(\d+) (\d+)$/.exec(got.trim());
  return match ? { status: Number(match[1]), pid: Number(match[2]) } : undefined;
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

async function hostResolvConf(): Promise<string> {
  return readFile('/etc/resolv.conf', 'utf8').catch(() => '');
}
