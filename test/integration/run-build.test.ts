// RUN inside whole builds: mounts (context, another stage, cache, tmpfs, secrets from werf.yaml), networks,
// what enters the stage digest, and platforms the host cannot run. Images are read back with skopeo + umoci
// (test/support/image-fs.ts), independently of Slipway's code.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { mountsUnder } from '../support/mounts.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { busyboxBase } from '../support/busybox-base.js';
import { uniqueRepo } from '../support/images.js';
import { snapshotImage, type FsSnapshot } from '../support/image-fs.js';
import { registries } from '../support/registries.js';
import { commitAsync, tempDirs } from '../support/git-repo.js';
import { compileResolver } from '../support/resolve-probe.js';

let base: string;
const temp = tempDirs();
beforeAll(async () => {
  base = await busyboxBase();
}, 120_000);
afterAll(temp.removeAll);

async function project(files: Record<string, string>, werfYaml = 'project: runb\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n'): Promise<string> {
  const dir = await temp.make('slipway-run-build-');
  await commit(dir, { 'werf.yaml': werfYaml, ...files }, true);
  return dir;
}

async function commit(dir: string, files: Record<string, string>, init = false): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await commitAsync(dir, 'change', { init });
}

async function build(dir: string, repo: string, env: Record<string, string> = {}, extra: string[] = []): Promise<{ code: number; out: string; tag: string | undefined; built: number }> {
  let out = '';
  const code = await runCli(['build', '--dir', dir, '--repo', repo, ...extra], {
    io: { stdout: (t) => { out += t; }, stderr: (t) => { out += t; } },
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), SLIPWAY_HOME: join(dir, '.home'), ...env },
  });
  const tag = /^image app: \S+:([0-9a-f]{56}-\d{13})$/m.exec(out)?.[1];
  const built = Number(/Stage cache summary: \d+ reused, (\d+) built/.exec(out)?.[1] ?? NaN);
  return { code, out, tag, built };
}

const content = (fs: FsSnapshot, path: string): string | undefined => fs.get(path)?.text;


/** Processes running `sleep <seconds>` (a number no other test uses). */
async function sleeping(seconds: number): Promise<number> {
  let n = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline === `sleep\0${seconds}\0`) n++;
  }
  return n;
}

describe('RUN in builds', () => {
  it('bind-mounts context files and another stage read-only; their content enters the digest, not the layer', async () => {
    const dir = await project({
      'Dockerfile': [
        `FROM ${base} AS tools`,
        'RUN mkdir -p /opt/tool && echo tool-v1 > /opt/tool/version',
        `FROM ${base}`,
        'RUN --mount=type=bind,source=conf,target=/mnt/conf --mount=type=bind,from=tools,source=/opt/tool,target=/mnt/tool \\',
        '    cat /mnt/conf/app.conf /mnt/tool/version > /result && (touch /mnt/conf/x 2>/dev/null && echo rw || echo ro) >> /result',
      ].join('\n'),
      'conf/app.conf': 'setting=1\n',
    });
    const repo = `${registries().plain.host}/${uniqueRepo('run/bind')}`;
    const first = await build(dir, repo);
    expect(first.code, first.out).toBe(0);
    const fs = await snapshotImage(`${repo}:${first.tag}`);
    expect(content(fs, '/result')).toBe('setting=1\ntool-v1\nro\n');
    expect(fs.has('/mnt/conf/app.conf')).toBe(false);
    expect(fs.has('/mnt/tool/version')).toBe(false);

    const again = await build(dir, repo);
    expect([again.code, again.built, again.tag]).toEqual([0, 0, first.tag]);
    // A change to a mounted context file rebuilds the RUN.
    await commit(dir, { 'conf/app.conf': 'setting=2\n' });
    const changed = await build(dir, repo);
    expect(changed.code, changed.out).toBe(0);
    expect(changed.built).toBe(1);
    expect(content(await snapshotImage(`${repo}:${changed.tag}`), '/result')).toBe('setting=2\ntool-v1\nro\n');
  }, 240_000);

  it('keeps cache mounts between builds and out of the image; tmpfs is empty and discarded', async () => {
    const dir = await project({
      'Dockerfile': [
        `FROM ${base}`,
        'ARG N=1',
        'RUN --mount=type=cache,target=/var/cache/pkg --mount=type=tmpfs,target=/scratch \\',
        '    echo "run $N" >> /var/cache/pkg/log && cp /var/cache/pkg/log /seen && ls -A /scratch > /scratch-listing && echo junk > /scratch/junk',
      ].join('\n'),
    });
    const repo = `${registries().plain.host}/${uniqueRepo('run/cache')}`;
    const first = await build(dir, repo);
    expect(first.code, first.out).toBe(0);
    const second = await build(dir, repo, {}, ['--platform', 'linux/amd64']);
    expect(second.built).toBe(0);
    await commit(dir, { 'Dockerfile': (await import('node:fs')).readFileSync(join(dir, 'Dockerfile'), 'utf8').replace('ARG N=1', 'ARG N=2') });
    const third = await build(dir, repo);
    expect(third.code, third.out).toBe(0);
    const fs = await snapshotImage(`${repo}:${third.tag}`);
    expect(content(fs, '/seen')).toBe('run 1\nrun 2\n');
    expect(content(fs, '/scratch-listing')).toBe('');
    expect([...fs.keys()].filter((p) => p.startsWith('/var/cache') || p.startsWith('/scratch/'))).toEqual([]);
  }, 240_000);

  it('mounts werf.yaml secrets without putting their values in the image or the digest', async () => {
    const werfYaml = [
      'project: runb', 'configVersion: 1', '---', 'image: app', 'dockerfile: Dockerfile',
      'secrets:', '  - id: token', '    value: s3cr3t-1', '  - env: API_KEY',
    ].join('\n');
    const dir = await project({
      'Dockerfile': [
        `FROM ${base}`,
        'RUN --mount=type=secret,id=token --mount=type=secret,id=API_KEY,target=/key,mode=0444 \\',
        '    (cat /run/secrets/token; echo; cat /key; stat -c " %a" /run/secrets/token) | wc -c > /secret-bytes && test ! -s /run/secrets/missing',
        'RUN --mount=type=secret,id=missing,required=true true',
      ].join('\n'),
    }, werfYaml);
    const giterminism = 'giterminismConfigVersion: 1\nconfig:\n  secrets:\n    allowValueIds: [token]\n    allowEnvVariables: [API_KEY]\n';
    await commit(dir, { 'werf-giterminism.yaml': giterminism });
    const repo = `${registries().plain.host}/${uniqueRepo('run/secret')}`;
    const failed = await build(dir, repo, { API_KEY: 'key-1' });
    expect(failed.code, failed.out).toBe(1);
    expect(failed.out).toMatch(/Dockerfile:4: RUN --mount type=secret,id=missing: no secret "missing" in werf.yaml/);

    await commit(dir, { 'Dockerfile': `FROM ${base}\nRUN --mount=type=secret,id=token --mount=type=secret,id=API_KEY,target=/key cat /run/secrets/token /key > /dev/null && ls /run/secrets > /listing\n` });
    const ok = await build(dir, repo, { API_KEY: 'key-1' });
    expect(ok.code, ok.out).toBe(0);
    const fs = await snapshotImage(`${repo}:${ok.tag}`);
    expect(content(fs, '/listing')).toBe('token\n');
    expect(fs.has('/key')).toBe(false);
    expect([...fs.values()].some((e) => e.text?.includes('s3cr3t') || e.text?.includes('key-1'))).toBe(false);
    // Another value of the secret is the same stage: secrets never reach digests.
    const other = await build(dir, repo, { API_KEY: 'key-2' });
    expect([other.built, other.tag]).toEqual([0, ok.tag]);
  }, 240_000);

  it('--network=none gives the command only a loopback interface', async () => {
    const dir = await project({
      'Dockerfile': `FROM ${base}\nRUN --network=none ls /sys/class/net > /none.txt || cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' ' > /none.txt\n`,
    });
    const repo = `${registries().plain.host}/${uniqueRepo('run/net')}`;
    const result = await build(dir, repo);
    expect(result.code, result.out).toBe(0);
    expect(content(await snapshotImage(`${repo}:${result.tag}`), '/none.txt')).toBe('lo\n');
  }, 240_000);

  it('addHost: a RUN resolves the added hosts; they enter the RUN\'s digest', async () => {
    const werfYaml = (hosts: string): string => `project: runb\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\naddHost:\n${hosts}`;
    const dir = await project({
      'Dockerfile': `FROM ${base}\nRUN --network=none --mount=type=bind,source=probe/resolve,target=/resolve cp /etc/hosts /hosts.txt && /resolve registry.local v6.local > /resolved.txt\n`,
    }, werfYaml('- registry.local:127.0.0.9\n- v6.local=[::1]\n'));
    await mkdir(join(dir, 'probe'));
    await compileResolver(join(dir, 'probe'));
    await commit(dir, {});
    const repo = `${registries().plain.host}/${uniqueRepo('run-build/addhost')}`;
    const first = await build(dir, repo);
    expect(first.code, first.out).toBe(0);
    const fs = await snapshotImage(`${repo}:${first.tag!}`);
    expect(content(fs, '/hosts.txt')).toBe('127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.9\tregistry.local\n::1\tv6.local\n');
    expect(content(fs, '/resolved.txt')).toBe('registry.local 127.0.0.9\nv6.local ::1\n');
    // Other hosts: the RUN is built again, and resolves them.
    await commit(dir, { 'werf.yaml': werfYaml('- registry.local:127.0.0.10\n') });
    const second = await build(dir, repo);
    expect(second.code, second.out).toBe(0);
    expect(second.built).toBe(1);
    expect(content(await snapshotImage(`${repo}:${second.tag!}`), '/resolved.txt')).toMatch(/^registry\.local 127\.0\.0\.10\nv6\.local: /);
  }, 240_000);

  it('bind-mounts a path of another image', async () => {
    const dir = await project({ 'Dockerfile': `FROM ${base}\nRUN --mount=type=bind,from=${base},source=/etc,target=/mnt/etc cp /mnt/etc/group /group-copy\n` });
    const repo = `${registries().plain.host}/${uniqueRepo('run/bind-image')}`;
    const result = await build(dir, repo);
    expect(result.code, result.out).toBe(0);
    const fs = await snapshotImage(`${repo}:${result.tag}`);
    expect(content(fs, '/group-copy')).toBe(content(fs, '/etc/group'));
    expect(fs.has('/mnt/etc')).toBe(false);
  }, 120_000);

  it('Ctrl-C (SIGINT) or SIGKILL of slipway takes the RUN command, everything it started, and its mounts down', async () => {
    const cli = join(process.cwd(), 'dist', 'slipway.cjs');
    if (!existsSync(cli)) throw new Error('dist/slipway.cjs is missing: run npm run build (npm test does)');
    const repo = `${registries().plain.host}/${uniqueRepo('run/interrupt')}`;
    const dirs: string[] = [];
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      // A duration no other process on the machine sleeps (another test run may be running this test too).
      const marker = 20_000_000 + (process.pid % 100_000) * 10 + (signal === 'SIGINT' ? 1 : 2);
      const dir = await project({ 'Dockerfile': `FROM ${base}\nRUN echo started; sleep ${marker} & sleep ${marker}\n` });
      dirs.push(dir);
      const child = spawn(process.execPath, [cli, 'build', '--dir', dir, '--repo', repo], {
        env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), SLIPWAY_HOME: join(dir, '.home') }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise((resolve) => child.on('close', resolve));
      try {
        let out = '';
        await new Promise<void>((resolve, reject) => {
          const collect = (d: Buffer): void => { out += d.toString(); if (out.includes('│ started')) resolve(); };
          child.stdout.on('data', collect);
          child.stderr.on('data', collect);
          void exited.then(() => reject(new Error(`slipway exited before the RUN started:\n${out}`)));
        });
        // "started" comes before the shell has started both sleeps: wait for them.
        for (let i = 0; i < 50 && (await sleeping(marker)) < 2; i++) await new Promise((r) => setTimeout(r, 100));
        expect(await sleeping(marker)).toBe(2);
        child.kill(signal);
        await exited;
      } finally {
        child.kill('SIGKILL');
      }
      for (let i = 0; i < 50 && (await sleeping(marker)) > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await sleeping(marker), signal).toBe(0);
    }
    expect(await mountsUnder(...dirs)).toEqual([]);
  }, 120_000);

  it('refuses a RUN for a platform this machine cannot execute, naming it', async () => {
    const dir = await project({ 'Dockerfile': 'FROM scratch\nRUN ["/bin/true"]\n' });
    const repo = `${registries().plain.host}/${uniqueRepo('run/platform')}`;
    const result = await build(dir, repo, {}, ['--platform', 'linux/s390x']);
    expect(result.code).toBe(1);
    if (existsSync('/proc/sys/fs/binfmt_misc/qemu-s390x')) {
      // Emulation is registered here: the RUN gets as far as looking for its program.
      expect(result.out).toMatch(/Dockerfile:2: RUN: \/bin\/true does not exist in the image/);
    } else {
      expect(result.out).toMatch(/Dockerfile:2: RUN for linux\/s390x cannot execute on this amd64 machine/);
    }
  }, 60_000);
});
