// Escape probes against the RUN sandbox (issue 11): each probe, if it gets out, writes a marker into a host
// directory, and the assertion is that the marker is absent after Slipway ran it. Each probe also runs once in
// a weak sandbox made here without Slipway (unshare, the host's /proc bound in, chroot into the same busybox
// root filesystem), where it must escape: that shows the probe can detect an escape at all.
// As root (CI), and as an unprivileged user for Slipway's rootless mode (test/support/escape-probe-runner.ts).
// The probes are in test/support/escape-probes.ts.
import { execFile, spawn } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { LayerDir, LayerDirs } from '../../src/builder/run/layer-dirs.js';
import { busyboxBase } from '../support/busybox-base.js';
import { tempDirs } from '../support/git-repo.js';
import { uniqueRepo } from '../support/images.js';
import { registries } from '../support/registries.js';
import {
  chrootEscapeProbe, compileChrootEscape, filesContaining, hostDeviceOf, mknodProbe, networkProbe, parseStatus, probeLayerStack,
  procRootProbe, requireProbeTools, runBaseline, runProbe, startMarkerServer, statusProbe, STUB_TARGET, stubProbe, writeProbeRootfs,
  type MarkerServer, type ProbeRequest, type ProbeResult,
} from '../support/escape-probes.js';

const run = promisify(execFile);
/** The unprivileged user of the rootless probes (test/setup/install-deps.sh creates it). */
const PROBE_USER = 'slipway-probe';

let work: string;
let chrootEscape: string;
let rootfs: string;
let layers: LayerDirs;
let stack: LayerDir[];
let user: { uid: number; gid: number };

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the escape probes run RUN sandboxes and a weak baseline sandbox as root: run them as root (CI does)');
  await requireProbeTools();
  const ids = await run('id', ['-u', PROBE_USER]).then(async (u) => ({ uid: Number(u.stdout), gid: Number((await run('id', ['-g', PROBE_USER])).stdout) }))
    .catch(() => { throw new Error(`the rootless escape probes run as the user ${PROBE_USER}: create it (test/setup/install-deps.sh does: useradd --system --no-create-home ${PROBE_USER})`); });
  user = ids;
  // On the root filesystem (a disk, for the mknod probe), not a tmpfs /tmp.
  work = await mkdtemp('/var/tmp/slipway-escape-');
  await chmod(work, 0o755);
  await mkdir(join(work, 'bin'), { mode: 0o755 });
  chrootEscape = await compileChrootEscape(join(work, 'bin'));
  rootfs = join(work, 'rootfs');
  await writeProbeRootfs(rootfs, chrootEscape);
  await mkdir(join(work, 'blobs'));
  ({ layers, stack } = await probeLayerStack(join(work, 'cache'), join(work, 'blobs'), chrootEscape));
}, 60_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

let markers = 0;
/** A fresh host directory for one probe's markers, owned by `owner` (root by default). */
async function markerDir(owner?: { uid: number; gid: number }): Promise<string> {
  const path = join(work, 'markers', `m${++markers}`);
  await mkdir(path, { recursive: true, mode: 0o755 });
  await chmod(join(work, 'markers'), 0o755);
  if (owner) await chown(path, owner.uid, owner.gid);
  return path;
}

const ls = async (dir: string): Promise<string[]> => (await readdir(dir)).sort();

async function probe(request: ProbeRequest): Promise<ProbeResult> {
  return runProbe(layers, stack, request);
}

describe('as root: a probe escapes unshare + chroot, not Slipway\'s RUN', () => {
  it('CAP_SYS_ADMIN and seccomp', async () => {
    const host = parseStatus(await runBaseline(statusProbe(), { rootfs }));
    expect([host.sysAdmin, host.seccomp]).toEqual([true, 0]);
    const result = await probe({ name: 'status', script: statusProbe(), network: 'none' });
    const inside = parseStatus(result.output);
    expect([inside.sysAdmin, inside.seccomp], result.output).toEqual([false, 2]);
  });

  it('/proc/<pid>/root and chroot into it, for every visible pid', async () => {
    const host = await markerDir();
    const out = await runBaseline(procRootProbe(host), { rootfs });
    // Some hosts deny even root /proc/1/root (a VM's init with more capabilities): any host process will do.
    const found = await ls(host);
    expect(found.some((f) => f.startsWith('proc-root-')) && found.some((f) => f.startsWith('chroot-')), out).toBe(true);
    const m = await markerDir();
    const result = await probe({ name: 'proc-root', script: procRootProbe(m), network: 'none' });
    expect(result.exitCode, result.output).toBe(0);
    expect(await ls(m), result.output).toEqual([]);
  });

  it('the classic chroot escape (chroot without chdir, chdir .. 64 times, chroot .)', async () => {
    const host = await markerDir();
    const out = await runBaseline(chrootEscapeProbe(host), { rootfs });
    expect(await ls(host), out).toEqual(['chroot-escape']);
    const m = await markerDir();
    const result = await probe({ name: 'chroot-escape', script: chrootEscapeProbe(m), network: 'none' });
    // chroot itself is allowed (CAP_SYS_CHROOT, as in Docker): the climb ends at the container's root.
    expect(result.output).toMatch(/chroot-escape: open .*: No such file or directory/);
    expect(await ls(m), result.output).toEqual([]);
  });

  it('mknod + mount of the host\'s disk; mounting proc, sysfs, tmpfs', async () => {
    const host = await markerDir();
    const out = await runBaseline(mknodProbe(hostDeviceOf(host)), { rootfs });
    expect(await ls(host), out).toEqual(['mknod']);
    // (open-disk:ok needs a host whose own device cgroup lets root open the disk: not asserted here.)
    expect(out).toMatch(/mount-proc:ok[\s\S]*mount-sysfs:ok[\s\S]*mount-tmpfs:ok/);
    const m = await markerDir();
    const result = await probe({ name: 'mknod', script: mknodProbe(hostDeviceOf(m)), network: 'none' });
    expect(await ls(m), result.output).toEqual([]);
    // mknod itself may work (CAP_MKNOD, as in Docker); the device cgroup refuses to open the node.
    expect(result.output).toContain('mount-disk:fail');
    expect(result.output).toContain('open-disk:fail');
    expect(result.output).toMatch(/mount-proc:fail[\s\S]*mount-sysfs:fail[\s\S]*mount-tmpfs:fail/);
  });

  describe('network', () => {
    let server: MarkerServer;
    let m: string;
    beforeAll(async () => {
      m = await markerDir();
      server = await startMarkerServer(m);
    });
    afterAll(async () => server?.close());

    it('--network=none: host loopback is unreachable, directly and through other processes\' network namespaces', async () => {
      // Baseline: an own network namespace, but the host's /proc: nsenter into PID 1's namespace reaches the host.
      const host = await markerDir();
      const hostServer = await startMarkerServer(host);
      try {
        const out = await runBaseline(networkProbe(hostServer.port), { rootfs, net: true });
        expect(out).toMatch(/connected: nsenter-/);
        expect(await ls(host), out).toContain('net-connection');
      } finally {
        await hostServer.close();
      }
      const result = await probe({ name: 'net-none', script: networkProbe(server.port), network: 'none' });
      expect(result.output).toContain('no connection');
      expect(await ls(m), result.output).toEqual([]);
    });

    it('default network (slirp4netns): host loopback is unreachable at 127.0.0.1 and 10.0.2.2', async () => {
      const host = await markerDir();
      const hostServer = await startMarkerServer(host);
      try {
        const out = await runBaseline(networkProbe(hostServer.port), { rootfs });
        expect(out).toContain('connected: direct-127.0.0.1');
        expect(await ls(host), out).toContain('net-connection');
      } finally {
        await hostServer.close();
      }
      // The container has slirp's interface (so this is not --network=none in disguise).
      const result = await probe({ name: 'net-default', script: `ip -o -4 addr show tap0 | grep -o 'inet [0-9./]*'\n${networkProbe(server.port)}`, network: 'default' });
      expect(result.output).toMatch(/inet 10\.0\.2\.\d+/);
      expect(result.output).toContain('no connection');
      expect(await ls(m), result.output).toEqual([]);
    });
  });

  it('a secret is readable at its target and never on disk', async () => {
    const value = `probe-secret-${Math.random().toString(36).slice(2)}-${Date.now()}`;
    const scanDirs = [layers.root, tmpdir(), work];
    // Baseline: the detector finds a secret a naive builder wrote into its scratch directory.
    const naive = join(work, 'cache', 'naive-secret');
    await writeFile(naive, value);
    expect(await filesContaining(scanDirs, value)).toContain(naive);
    await rm(naive);

    const result = await probe({
      name: 'secret', network: 'none', scanDirs, secret: { target: '/run/secrets/token', value },
      script: 'sha256sum /run/secrets/token && echo SECRET-READ && sleep 2',
    });
    const { createHash } = await import('node:crypto');
    expect(result.output).toContain(createHash('sha256').update(value).digest('hex'));
    expect(result.secretDuring).toEqual([]);
    expect(result.secretAfter).toEqual([]);
  });
});

/** A host directory with etc/keep and etc/victimdir/keep, owned by `owner`: what stubProbe tries to get deleted. */
async function victimTree(owner?: { uid: number; gid: number }): Promise<string> {
  const v = await markerDir(owner);
  await mkdir(join(v, 'etc/victimdir'), { recursive: true });
  await writeFile(join(v, 'etc/keep'), 'keep\n');
  await writeFile(join(v, 'etc/victimdir/keep'), 'keep\n');
  if (owner) for (const p of ['etc', 'etc/victimdir', 'etc/keep', 'etc/victimdir/keep']) await chown(join(v, p), owner.uid, owner.gid);
  return v;
}

const victimFiles = async (v: string): Promise<string[]> => (await readdir(v, { recursive: true })).map(String).sort();

// A RUN may move the mount-point stubs Slipway made (the missing parents of a mount target) and put a symlink to
// a host directory in their place; removing the stubs afterwards must not follow it (removeStubs in
// src/builder/run/sandbox.ts once deleted <host dir>/etc here).
describe('as root: a RUN that swaps a stub directory for a symlink to a host directory', () => {
  let v: string;
  let result: ProbeResult;
  beforeAll(async () => {
    v = await victimTree();
    result = await probe({ name: 'stub', script: stubProbe(v), network: 'none', tmpfsTarget: STUB_TARGET });
  });

  it('(the probe made the swap)', () => {
    expect(result.output).toContain('swapped /a');
  });

  it('does not make Slipway delete files there', async () => {
    expect(await victimFiles(v)).toEqual(['etc', 'etc/keep', 'etc/victimdir', 'etc/victimdir/keep']);
  });
});

describe('RUN --mount=type=bind from the build context', () => {
  let base: string;
  const temp = tempDirs();
  beforeAll(async () => {
    base = await busyboxBase();
  }, 120_000);
  afterAll(temp.removeAll);

  async function project(files: Record<string, string>, links: Record<string, string> = {}): Promise<string> {
    const dir = await temp.make('slipway-escape-build-');
    const all = { 'werf.yaml': 'project: escape\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n', ...files };
    for (const [path, content] of Object.entries(all)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    for (const [path, target] of Object.entries(links)) await symlink(target, join(dir, path));
    const git = (...args: string[]) => run('git', ['-c', 'user.email=t@example.org', '-c', 'user.name=t', ...args], { cwd: dir });
    await git('init', '-q');
    await git('add', '-A');
    await git('commit', '-qm', 'probe');
    return dir;
  }

  async function build(dir: string): Promise<{ code: number; out: string }> {
    let out = '';
    const repo = `${registries().plain.host}/${uniqueRepo('run/escape')}`;
    const code = await runCli(['build', '--dir', dir, '--repo', repo], {
      io: { stdout: (t) => { out += t; }, stderr: (t) => { out += t; } },
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), SLIPWAY_HOME: join(dir, '.home') },
    });
    return { code, out };
  }

  it('a committed symlink to a host directory, mounted rw, does not reach that directory', async () => {
    const hostDir = await markerDir();
    // Baseline: a naive bind mount of the link (as a builder that passed the path to mount would) writes there.
    const linkDir = await mkdtemp(join(work, 'link-'));
    await symlink(hostDir, join(linkDir, 'link'));
    const out = await runBaseline('echo x > /m/symlink-bind', { rootfs, bindAtM: join(linkDir, 'link') });
    expect(await ls(hostDir), out).toEqual(['symlink-bind']);
    await rm(join(hostDir, 'symlink-bind'));

    const relative = '../'.repeat(12) + hostDir.slice(1);
    for (const [name, target] of [['abs-link', hostDir], ['rel-link', relative]] as const) {
      const dir = await project({
        'Dockerfile': `FROM ${base}\nRUN --mount=type=bind,source=${name},target=/m,rw sh -c 'echo x > /m/symlink-bind; echo y > /m/${name}-other; ls /m'\n`,
      }, { [name]: target });
      const result = await build(dir);
      if (process.env['SLIPWAY_ESCAPE_LOG']) process.stderr.write(`--- build with ${name} -> ${target} (exit ${result.code})\n${result.out}\n`);
      // Either outcome is fine (refused, or the link's target resolved inside the context); the host dir stays untouched.
      if (result.code !== 0) expect(result.out).toMatch(/not in the build context/);
      expect(await ls(hostDir), result.out).toEqual([]);
    }
  }, 120_000);

  it('source=../sub is the context\'s sub directory, with its names', async () => {
    const dir = await project({
      'Dockerfile': `FROM ${base}\nRUN --mount=type=bind,source=../sub,target=/m sh -c 'echo "listing: $(ls /m | tr "\\n" " ")"'\n`,
      'sub/a.txt': 'a\n',
      'sub/b.txt': 'b\n',
    });
    const result = await build(dir);
    expect(result.code, result.out).toBe(0);
    expect(result.out).toMatch(/listing: a\.txt b\.txt/);
  }, 120_000);
});

describe('rootless: as an unprivileged user, a probe escapes unshare --user + chroot, not Slipway\'s RUN', () => {
  let userWork: string;
  let results: Map<string, ProbeResult>;
  const dirs: Record<string, string> = {};
  let victim: string;
  let noneServer: MarkerServer;
  let defaultServer: MarkerServer;
  let secret: string;

  beforeAll(async () => {
    // slirp4netns, started by the user, opens /dev/net/tun: Debian's udev makes it 0666 (install-deps.sh checks).
    const tun = await stat('/dev/net/tun').catch(() => undefined);
    if (tun === undefined || (tun.mode & 0o006) !== 0o006) {
      throw new Error('rootless RUN with the default network needs /dev/net/tun readable and writable by everyone (mode 0666, as Debian\'s udev makes it): chmod 0666 /dev/net/tun (test/setup/install-deps.sh does)');
    }
    userWork = join(work, 'user');
    for (const d of ['', 'home', 'tmp']) await mkdir(join(userWork, d), { recursive: true, mode: 0o700 });
    for (const d of ['', 'home', 'tmp']) await chown(join(userWork, d), user.uid, user.gid);
    for (const name of ['proc-root', 'chroot-escape', 'mknod', 'net-none', 'net-default', 'victim']) dirs[name] = await markerDir(user);
    dirs['stub'] = await victimTree(user);
    victim = join(dirs['victim']!, 'owned-by-user');
    await writeFile(victim, 'original\n');
    await chown(victim, user.uid, user.gid);
    noneServer = await startMarkerServer(dirs['net-none']!);
    defaultServer = await startMarkerServer(dirs['net-default']!);
    secret = `rootless-secret-${Math.random().toString(36).slice(2)}-${Date.now()}`;
    const probes: ProbeRequest[] = [
      { name: 'status', script: statusProbe(), network: 'none' },
      { name: 'proc-root', script: procRootProbe(dirs['proc-root']!, victim), network: 'none' },
      { name: 'chroot-escape', script: chrootEscapeProbe(dirs['chroot-escape']!), network: 'none' },
      { name: 'mknod', script: mknodProbe(hostDeviceOf(dirs['mknod']!)), network: 'none' },
      { name: 'net-none', script: networkProbe(noneServer.port), network: 'none' },
      { name: 'net-default', script: `ip -o -4 addr show tap0 | grep -o 'inet [0-9./]*'\n${networkProbe(defaultServer.port)}`, network: 'default' },
      { name: 'stub', script: stubProbe(dirs['stub']!), network: 'none', tmpfsTarget: STUB_TARGET },
      { name: 'secret', script: 'sha256sum /run/secrets/token && echo SECRET-READ && sleep 2', network: 'none', secret: { target: '/run/secrets/token', value: secret }, scanDirs: [userWork, tmpdir()] },
    ];
    const argsFile = join(userWork, 'args.json');
    await writeFile(argsFile, JSON.stringify({ work: userWork, chrootEscape, probes }));
    await chown(argsFile, user.uid, user.gid);
    // The secret is in args.json only for the runner to read: the runner removes the file first.
    // The checkout may sit where the user cannot go (a CI clone under /root): it is bound, in a mount namespace of
    // the runner's own, at a directory the user can reach.
    const checkout = join(work, 'checkout');
    await mkdir(checkout, { recursive: true, mode: 0o755 });
    const out = await new Promise<string>((resolve, reject) => {
      const runner = ['/usr/bin/setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', process.execPath, '--import', 'tsx', 'test/support/escape-probe-runner.ts', argsFile];
      const child = spawn('/usr/bin/unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', 'mount --bind "$1" "$2" && cd "$2" && shift 2 && exec "$@"', 'sh', process.cwd(), checkout, ...runner], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '', HOME: join(userWork, 'home'), SLIPWAY_HOME: join(userWork, 'home'), TMPDIR: join(userWork, 'tmp'),
          ...(process.env['SLIPWAY_ESCAPE_LOG'] ? { SLIPWAY_ESCAPE_LOG: '1' } : {}) },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('error', reject);
      child.on('close', (code) => (process.env['SLIPWAY_ESCAPE_LOG'] ? process.stderr.write(stderr) : true) && (code === 0 ? resolve(stdout) : reject(new Error(`the rootless probe runner failed (exit ${code}):\n${stdout}\n${stderr}`))));
    });
    const parsed = JSON.parse(out.trim().split('\n').pop()!) as { uid: number; results: ProbeResult[] };
    expect(parsed.uid).toBe(user.uid);
    results = new Map(parsed.results.map((r) => [r.name, r]));
  }, 120_000);
  afterAll(async () => {
    await noneServer?.close();
    await defaultServer?.close();
  });

  const asUser = (script: string): Promise<string> => runBaseline(script, { rootfs, user });

  it('CAP_SYS_ADMIN and seccomp', async () => {
    const host = parseStatus(await asUser(statusProbe()));
    expect([host.sysAdmin, host.seccomp]).toEqual([true, 0]);
    const inside = parseStatus(results.get('status')!.output);
    expect([inside.sysAdmin, inside.seccomp], results.get('status')!.output).toEqual([false, 2]);
  });

  it('/proc/<pid>/root: no marker, and a file the user owns outside the sandbox stays as it was', async () => {
    const host = await markerDir(user);
    const hostVictim = join(await markerDir(user), 'owned-by-user');
    await writeFile(hostVictim, 'original\n');
    await chown(hostVictim, user.uid, user.gid);
    const out = await asUser(procRootProbe(host, hostVictim));
    expect((await ls(host)).length, out).toBeGreaterThan(0);
    expect(await readFile(hostVictim, 'utf8'), out).toBe('pwned\n');
    const result = results.get('proc-root')!;
    expect(result.exitCode, result.output).toBe(0);
    expect(await ls(dirs['proc-root']!), result.output).toEqual([]);
    expect(await readFile(victim, 'utf8'), result.output).toBe('original\n');
  });

  it('the classic chroot escape', async () => {
    const host = await markerDir(user);
    const out = await asUser(chrootEscapeProbe(host));
    expect(await ls(host), out).toEqual(['chroot-escape']);
    const result = results.get('chroot-escape')!;
    expect(result.output).toMatch(/chroot-escape: open .*: No such file or directory/);
    expect(await ls(dirs['chroot-escape']!), result.output).toEqual([]);
  });

  it('mknod + mount of the host\'s disk; mounting proc, sysfs, tmpfs', async () => {
    // In a user namespace even the weak sandbox cannot make a block device; it can mount a tmpfs.
    const host = await markerDir(user);
    const out = await asUser(mknodProbe(hostDeviceOf(host)));
    expect(out).toContain('mount-tmpfs:ok');
    const result = results.get('mknod')!;
    expect(await ls(dirs['mknod']!), result.output).toEqual([]);
    expect(result.output).toContain('mknod:fail');
    expect(result.output).toContain('open-disk:fail');
    expect(result.output).toMatch(/mount-proc:fail[\s\S]*mount-sysfs:fail[\s\S]*mount-tmpfs:fail/);
  });

  it('--network=none and the default network: host loopback is unreachable', async () => {
    const host = await markerDir(user);
    const hostServer = await startMarkerServer(host);
    try {
      const out = await asUser(networkProbe(hostServer.port));
      expect(out).toContain('connected: direct-127.0.0.1');
      expect(await ls(host), out).toContain('net-connection');
    } finally {
      await hostServer.close();
    }
    for (const name of ['net-none', 'net-default']) {
      const result = results.get(name)!;
      expect(result.output, name).toContain('no connection');
      expect(await ls(dirs[name]!), result.output).toEqual([]);
    }
    expect(results.get('net-default')!.output).toMatch(/inet 10\.0\.2\.\d+/);
  });

  it('(the stub probe made its swap)', () => {
    expect(results.get('stub')?.output).toContain('swapped /a');
  });

  // As for root above: Slipway (running as the user) must not delete the user's own files.
  it('a RUN that swaps a stub directory for a symlink does not make Slipway delete the user\'s files', async () => {
    expect(await victimFiles(dirs['stub']!)).toEqual(['etc', 'etc/keep', 'etc/victimdir', 'etc/victimdir/keep']);
  });

  it('a secret is readable at its target and never on disk', async () => {
    const result = results.get('secret')!;
    const { createHash } = await import('node:crypto');
    expect(result.output).toContain(createHash('sha256').update(secret).digest('hex'));
    expect(result.secretDuring).toEqual([]);
    expect(result.secretAfter).toEqual([]);
    expect(await filesContaining([userWork, tmpdir()], secret)).toEqual([]);
  });
});
