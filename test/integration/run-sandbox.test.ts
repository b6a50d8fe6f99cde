// RUN's machinery on its own: the layer cache unpacking layers into overlay directories, and the sandbox
// running commands over them (as root, like CI). The whole-build comparison with buildah is in
// run-differential.test.ts.
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pack as tarPack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLayer, type LayerEntry } from '../../src/builder/layer/index.js';
import { LayerDirs, visibleChildren, visibleStat, type LayerDir } from '../../src/builder/run/layer-dirs.js';
import { diffRun, type RunDiff } from '../../src/builder/run/run-diff.js';
import { findOciRuntime } from '../../src/builder/run/oci-runtime.js';
import { runInSandbox, type SandboxCommand } from '../../src/builder/run/sandbox.js';
import { mountsUnder } from '../support/mounts.js';
import type { Descriptor } from '../../src/oci/index.js';
import type { ImageStore } from '../../src/store/image-store.js';

const run = promisify(execFile);
let dir: string;
let layers: LayerDirs;
const blobs = new Map<string, string>();
// Layers are read from files by digest: the cache only ever calls readBlob.
const store = { readBlob: async (d: Descriptor) => createReadStream(blobs.get(d.digest)!) } as unknown as ImageStore;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests run RUN sandboxes: run them as root (CI does)');
  if (!existsSync('/bin/busybox')) throw new Error('install busybox-static (apt-get install busybox-static)');
  dir = await mkdtemp(join(tmpdir(), 'slipway-run-'));
  layers = new LayerDirs({ root: join(dir, 'cache') });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = (path: string, content: string, mode = 0o644, uid = 0, gid = 0): LayerEntry => ({
  path, type: 'file', mode, uid, gid, size: Buffer.byteLength(content), open: async () => (await import('node:stream')).Readable.from([Buffer.from(content)]),
});
const dirEntry = (path: string, mode = 0o755, uid = 0, gid = 0): LayerEntry => ({ path, type: 'dir', mode, uid, gid });

async function layer(entries: LayerEntry[]): Promise<{ descriptor: Descriptor; diffId: string }> {
  const built = await createLayer(entries, { tmpDir: join(dir, 'blobs') });
  blobs.set(built.digest, built.path);
  return { descriptor: { mediaType: built.mediaType, digest: built.digest, size: built.size }, diffId: built.diffId };
}

async function stackOf(...list: { descriptor: Descriptor; diffId: string }[]): Promise<LayerDir[]> {
  return layers.stack(async () => store, list.map((l) => l.descriptor), list.map((l) => l.diffId));
}

/** A root filesystem with busybox (static) as /bin/sh and friends. */
async function busyboxLayer(): Promise<{ descriptor: Descriptor; diffId: string }> {
  const bytes = await readFile('/bin/busybox');
  const applets = ['sh', 'echo', 'cat', 'rm', 'mkdir', 'sleep', 'ls', 'id', 'touch', 'ip', 'grep'];
  return layer([
    dirEntry('bin'), dirEntry('etc'), dirEntry('tmp', 0o1777), dirEntry('proc'), dirEntry('dev'),
    { path: 'bin/busybox', type: 'file', mode: 0o755, uid: 0, gid: 0, size: bytes.length, open: async () => createReadStream('/bin/busybox') },
    ...applets.map((a): LayerEntry => ({ path: `bin/${a}`, type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkTarget: 'busybox' })),
    file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n'),
    dirEntry('data'), file('data/same', 'aaaa\n'), dirEntry('data/sub'), file('data/sub/old', 'old\n'), file('data/keep', 'keep\n'),
  ]);
}

const command = (script: string, extra: Partial<SandboxCommand> = {}): SandboxCommand => ({
  argv: ['/bin/sh', '-c', script], env: ['PATH=/bin'], workdir: '/', uid: 0, gid: 0, groups: [0], network: 'none', mounts: [], ...extra,
});


/** Processes whose command line contains `marker`. */
async function processesWith(marker: string): Promise<number> {
  let n = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker)) n++;
  }
  return n;
}

describe('layer cache', () => {
  it('unpacks whiteouts and opaque directories so that the overlay shows what the layers mean', async () => {
    const base = await layer([
      dirEntry('a'), file('a/x', 'x'), file('a/y', 'y'), dirEntry('b'), file('b/k', 'k'), file('top', 't', 0o600, 7, 8),
      { path: 'pipe', type: 'fifo', mode: 0o640, uid: 3, gid: 4 },
    ]);
    const change = await layer([
      dirEntry('a', 0o700), { path: 'a', type: 'opaque', mode: 0, uid: 0, gid: 0 }, file('a/new', 'n'),
      { path: 'b', type: 'whiteout', mode: 0, uid: 0, gid: 0 },
    ]);
    const stack = await stackOf(base, change);
    expect(stack).toHaveLength(2);
    expect([...(await visibleChildren(stack, 'a'))].sort()).toEqual(['new']);
    expect(await visibleStat(stack, 'b')).toBeUndefined();
    const top = await visibleStat(stack, 'top');
    expect([top?.mode! & 0o7777, top?.uid, top?.gid]).toEqual([0o600, 7, 8]);
    const pipe = await visibleStat(stack, 'pipe');
    expect([pipe?.isFIFO(), pipe?.mode! & 0o7777, pipe?.uid, pipe?.gid]).toEqual([true, 0o640, 3, 4]);

    // The kernel agrees: mount the stack (in a private mount namespace) and list it.
    const target = join(dir, 'view');
    await mkdir(target, { recursive: true });
    const lowerdir = [...stack.map((l) => l.name), await layers.emptyDir()].join(':');
    const { stdout } = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
      `cd ${layers.root} && mount -t overlay overlay -o ro,lowerdir=${lowerdir} ${target} && cd ${target} && find . | sort && stat -c '%a' a`]);
    expect(stdout.trim().split('\n')).toEqual(['.', './a', './a/new', './pipe', './top', '700']);
    // A second stack over the same layers unpacks nothing: the directories are the same.
    expect((await stackOf(base, change)).map((l) => l.path)).toEqual(stack.map((l) => l.path));
  });

  it('refuses a layer that writes through a symlink it made, and writes nothing outside', async () => {
    const outside = join(dir, 'outside');
    await mkdir(outside, { recursive: true });
    // Slipway's own layer writer refuses such a tar; a hostile registry need not.
    const evil = await rawLayer([{ name: 'link', type: 'symlink', linkname: outside }, { name: 'link/pwned', content: 'x' }]);
    await expect(stackOf(evil)).rejects.toThrow(/lies under "link", which the same layer made a symlink/);
    expect(await readdir(outside)).toEqual([]);
    // A hard link through such a symlink would link a host file into the image's root filesystem.
    await writeFile(join(outside, 'secret'), 'host file\n');
    const linker = await rawLayer([{ name: 'link', type: 'symlink', linkname: outside }, { name: 'stolen', type: 'link', linkname: 'link/secret' }]);
    await expect(stackOf(linker)).rejects.toThrow(/hard link "stolen" points through "link", which is not a directory/);
  });
});

/** A layer tar written entry by entry, as a hostile registry could serve it. */
async function rawLayer(entries: { name: string; type?: 'symlink' | 'link'; linkname?: string; content?: string }[]): Promise<{ descriptor: Descriptor; diffId: string }> {
  const pack = tarPack();
  for (const e of entries) {
    if (e.content !== undefined) pack.entry({ name: e.name, size: Buffer.byteLength(e.content) }, e.content);
    else pack.entry({ name: e.name, type: e.type!, linkname: e.linkname! });
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  const tar = Buffer.concat(chunks);
  const digest = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  const path = join(dir, `${digest.slice(7, 19)}.tar`);
  await writeFile(path, tar);
  blobs.set(digest, path);
  return { descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: tar.length }, diffId: digest };
}

describe('sandbox', () => {
  async function runScript(script: string, extra: Partial<SandboxCommand> = {}, options: { signal?: AbortSignal; timeoutMs?: number } = {}) {
    const stack = await stackOf(await busyboxLayer());
    let output = '';
    const result = await runInSandbox<RunDiff>({
      layers, stack, command: command(script, extra), output: (c) => { output += c.toString(); }, inspect: diffRun, ...options,
      runtime: () => findOciRuntime(undefined), note: () => undefined,
    });
    await rm(result.dir, { recursive: true, force: true });
    return { ...result, output };
  }

  it('runs the command chrooted in its own PID namespace, streams its output and leaves no mount behind', async () => {
    const result = await runScript('echo pid=$$; ls /proc | grep -c "^[0-9]"; cat /etc/hosts | head -1; echo err >&2; exit 0');
    expect(result.exitCode).toBe(0);
    // The shell is the container's PID 1, and sees only its own namespace's processes. stdout and stderr are two
    // pipes: their lines arrive in order each, not necessarily in order with each other.
    const lines = result.output.split('\n');
    expect(lines.filter((l) => l !== 'err').join('\n')).toMatch(/^pid=1\n[1-3]\n127\.0\.0\.1\tlocalhost\n$/);
    expect(lines.filter((l) => l === 'err')).toEqual(['err']);
    expect(await mountsUnder(dir)).toEqual([]);
  });

  it('reports the exit code and the last lines of output of a failing command', async () => {
    const result = await runScript('for i in $(seq 1 30); do echo line $i; done; exit 7');
    expect(result.exitCode).toBe(7);
    expect(result.tail.split('\n')).toHaveLength(20);
    expect(result.tail.endsWith('line 30')).toBe(true);
    expect(result.value).toBeUndefined();
  });

  it('records changes as overlay saw them: a same-size rewrite in the same second, deletions, opaque directories', async () => {
    const result = await runScript('echo bbbb > /data/same; rm /data/keep; rm -rf /data/sub && mkdir /data/sub && echo n > /data/sub/n');
    expect(result.exitCode).toBe(0);
    const byPath = new Map(result.value!.entries.map((e) => [`${e.type}:${e.path}`, e]));
    expect([...byPath.keys()].sort()).toEqual([
      'dir:data', 'dir:data/sub', 'file:data/same', 'file:data/sub/n', 'opaque:data/sub', 'whiteout:data/keep',
    ]);
    expect(result.value!.opaque).toEqual(['data/sub']);
    // Mount points the sandbox made (/etc/hosts, /etc/resolv.conf) are not changes of the command.
    expect([...byPath.keys()].some((k) => k.includes('etc'))).toBe(false);
  });

  it('kills the whole process tree on abort and on timeout', async () => {
    // Durations no other process on the machine uses (another test run may be sleeping too).
    const base = 10_000_000 + (process.pid % 100_000) * 10;
    const sleeps = [1, 2, 3, 4, 5].map((i) => `sleep\u0000${base + i}\u0000`);
    const running = async (): Promise<number> => (await Promise.all(sleeps.map(processesWith))).reduce((a, b) => a + b, 0);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    await expect(runScript(`sleep ${base + 1} & sleep ${base + 2} & sleep ${base + 3}`, {}, { signal: controller.signal })).rejects.toThrow(/was interrupted/);
    await expect(runScript(`sleep ${base + 4} & sleep ${base + 5}`, {}, { timeoutMs: 500 })).rejects.toThrow(/timed out after 500 ms/);
    // SIGKILL is asynchronous: give the kernel a moment to reap.
    for (let i = 0; i < 20 && (await running()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await running()).toBe(0);
    expect(await mountsUnder(dir)).toEqual([]);
  });

  it('mounts a cache directory and a read-only bind, and keeps them out of the layer', async () => {
    const cache = join(dir, 'cache-mount');
    const ro = join(dir, 'ro');
    await mkdir(cache, { recursive: true });
    await mkdir(ro, { recursive: true });
    const result = await runScript('echo hit >> /var/cache/x/log; ls /srv/ro; touch /srv/ro/file 2>/dev/null && echo writable || echo read-only', {
      mounts: [
        { kind: 'bind', source: cache, target: '/var/cache/x', readonly: false },
        { kind: 'bind', source: ro, target: '/srv/ro', readonly: true },
      ],
    });
    expect(result.output).toBe('read-only\n');
    expect(await readFile(join(cache, 'log'), 'utf8')).toBe('hit\n');
    expect(result.value!.entries.map((e) => e.path)).toEqual([]);
  });

  it('gives the default network a namespace of its own through slirp4netns, and --network=none only a loopback', async () => {
    if (!existsSync('/usr/bin/slirp4netns')) throw new Error('install slirp4netns (apt-get install slirp4netns)');
    const links = 'ip -o link | grep -o "^[0-9]*: [a-z0-9]*"; cat /etc/resolv.conf';
    const own = await runScript(links, { network: 'default' });
    expect(own.output).toBe('1: lo\n2: tap0\nnameserver 10.0.2.3\n');
    const none = await runScript(links, { network: 'none' });
    expect(none.output).toBe('1: lo\n');
  });

  it('never reads the host through a symlink of the layers below when it compares directories', async () => {
    // The image's /a is a symlink to /etc; the command makes /a a directory with an `ssl` directory in it. Read
    // through the lower view, a/ssl would be the host's /etc/ssl, whose files the merged view lacks: the diff
    // would call a/ssl opaque.
    if (!existsSync('/etc/ssl')) throw new Error('this test needs a host directory /etc/ssl (Debian has it)');
    const stack = await stackOf(await busyboxLayer(), await layer([{ path: 'a', type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkTarget: '/etc' }]));
    const result = await runInSandbox<RunDiff>({
      layers, stack, command: command('rm /a && mkdir -p /a/ssl && echo made'), output: () => undefined, inspect: diffRun,
      runtime: () => findOciRuntime(undefined), note: () => undefined,
    });
    await rm(result.dir, { recursive: true, force: true });
    expect(result.exitCode).toBe(0);
    expect(result.value!.opaque).toEqual([]);
    expect(result.value!.entries.map((e) => `${e.type}:${e.path}`).sort()).toEqual(['dir:a', 'dir:a/ssl']);
  });

  it('keeps what the command writes inside a directory Slipway made as a mount point (an image without /etc)', async () => {
    const stack = await stackOf(await busyboxLayer(), await layer([{ path: 'etc', type: 'whiteout', mode: 0, uid: 0, gid: 0 }]));
    const result = await runInSandbox<RunDiff>({
      layers, stack, command: command('echo hi > /etc/motd'), output: () => undefined, inspect: diffRun,
      runtime: () => findOciRuntime(undefined), note: () => undefined,
    });
    await rm(result.dir, { recursive: true, force: true });
    expect(result.exitCode).toBe(0);
    // The stubs themselves (/etc/hosts, /etc/resolv.conf) are not changes; the command's file and its directory are.
    expect(result.value!.entries.map((e) => `${e.type}:${e.path}`).sort()).toEqual(['dir:etc', 'file:etc/motd']);
  });

  it('makes a missing working directory before the mount points below it (WORKDIR /app, a mount at /app/cache)', async () => {
    const cache = join(dir, 'workdir-cache');
    await mkdir(cache, { recursive: true });
    const result = await runScript('pwd; echo x > /app/cache/seen; touch /app/made', {
      workdir: '/app', mounts: [{ kind: 'bind', source: cache, target: '/app/cache', readonly: false }],
    });
    expect(result.exitCode, result.output).toBe(0);
    expect(result.output).toBe('/app\n');
    expect(await readFile(join(cache, 'seen'), 'utf8')).toBe('x\n');
    expect(result.value!.entries.map((e) => `${e.type}:${e.path}`).sort()).toEqual(['dir:app', 'file:app/made']);
  });

  it('takes no extended attributes for a symlink, not even those of the host file it points to', async () => {
    const hostFile = join(dir, 'host-xattr');
    await writeFile(hostFile, 'host\n');
    await run('setfattr', ['-n', 'user.hostonly', '-v', 'HOSTVALUE', hostFile]);
    const result = await runScript(`ln -s ${hostFile} /leak && echo data > /own && /bin/busybox true`);
    expect(result.exitCode).toBe(0);
    const link = result.value!.entries.find((e) => e.path === 'leak')!;
    expect(link.type).toBe('symlink');
    expect(link.xattrs).toBeUndefined();
    expect(JSON.stringify(result.value!.entries.map((e) => e.xattrs ?? null))).not.toContain('HOSTVALUE');
  });
});

