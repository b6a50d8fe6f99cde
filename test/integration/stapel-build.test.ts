// Stapel images built end to end: werf's stage list, shell stages in the RUN sandbox with the mounted static
// bash, docker instructions, git mappings and their reuse rules, imports, artifacts. Images are read back with
// skopeo + umoci (test/support/image-fs.ts), independently of Slipway's code.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { busyboxBase } from '../support/busybox-base.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { uniqueRepo } from '../support/images.js';
import { imageConfig, snapshotImage, type FsSnapshot } from '../support/image-fs.js';
import { registries } from '../support/registries.js';
import { commitAsync, gitAsync, tempDirs } from '../support/git-repo.js';

let base: string;
const temp = tempDirs();
beforeAll(async () => {
  base = await busyboxBase();
}, 120_000);
afterAll(temp.removeAll);

async function project(files: Record<string, string>): Promise<string> {
  const dir = await temp.make('slipway-stapel-');
  await commit(dir, files, true);
  return dir;
}

async function commit(dir: string, files: Record<string, string | null>, init = false): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    if (content === null) {
      await gitAsync(dir, 'rm', '-q', path);
      continue;
    }
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
    if (path.endsWith('.sh')) await chmod(join(dir, path), 0o755);
  }
  await commitAsync(dir, 'change', { init });
}

interface Build {
  code: number;
  out: string;
  /** image name → content-based tag */
  tags: Map<string, string>;
  /** `image/stage` of every stage built (stored), in order. */
  stored: string[];
  reused: string[];
}

async function build(dir: string, repo: string, extra: string[] = []): Promise<Build> {
  let out = '';
  const code = await runCli(['build', '--dir', dir, '--repo', repo, ...extra], {
    io: { stdout: (t) => { out += t; }, stderr: (t) => { out += t; } },
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), SLIPWAY_HOME: join(dir, '.home') },
  });
  const tags = new Map([...out.matchAll(/^image (\S+): \S+:([0-9a-f]{56}-\d{13})$/gm)].map((m) => [m[1]!, m[2]!]));
  const stored = [...out.matchAll(/Store stage (\S+)/g)].map((m) => m[1]!);
  const reused = [...out.matchAll(/Use previously built image for (\S+)/g)].map((m) => m[1]!);
  return { code, out, tags, stored, reused };
}

const text = (fs: FsSnapshot, path: string): string | undefined => fs.get(path)?.text;
const yaml = (lines: string[]): string => `${lines.join('\n')}\n`;

describe('stapel images', () => {
  it('builds from, shell and docker stages with the mounted bash, and reuses them all', async () => {
    const dir = await project({
      'werf.yaml': yaml([
        'project: stapel', 'configVersion: 1', '---', 'image: app', `from: ${base}`,
        'shell:',
        '  beforeInstall:',
        '  - \'[[ -n "$BASH_VERSION" ]] && echo "bash ok" > /bash-check\'',
        '  install:',
        '  - mkdir -p /app',
        '  - echo install > /app/install',
        '  setup: echo setup > /app/setup',
        '  setupCacheVersion: "1"',
        'docker:',
        '  ENV: {A: "1", B: two words}',
        '  WORKDIR: /app',
        '  EXPOSE: ["8080", 53/udp]',
        '  CMD: ["sh", "-c", "cat /app/setup"]',
        '  ENTRYPOINT: exec "$@"',
        '  LABEL: {team: x}',
        '  USER: app',
        '  VOLUME: [/data]',
        '  HEALTHCHECK: --interval=5s CMD true',
      ]),
    });
    const repo = `${registries().plain.host}/${uniqueRepo('stapel/shell')}`;
    const first = await build(dir, repo);
    expect(first.code, first.out).toBe(0);
    expect(first.stored).toEqual(['app/from', 'app/beforeInstall', 'app/install', 'app/setup', 'app/dockerInstructions']);
    const ref = `${repo}:${first.tags.get('app')}`;
    const fs = await snapshotImage(ref);
    expect(text(fs, '/bash-check')).toBe('bash ok\n');
    expect(text(fs, '/app/install')).toBe('install\n');
    expect(text(fs, '/app/setup')).toBe('setup\n');
    // The stapel bash and the scripts are mounts: never in a layer.
    expect([...fs.keys()].filter((p) => p.startsWith('/.werf'))).toEqual([]);
    const config = (await imageConfig(ref)).config!;
    expect(config.Env).toEqual(expect.arrayContaining(['A=1', 'B=two words']));
    expect(config.WorkingDir).toBe('/app');
    expect(config.User).toBe('app');
    expect(config.Cmd).toEqual(['sh', '-c', 'cat /app/setup']);
    expect(config.Entrypoint).toEqual(['/bin/sh', '-c', 'exec "$@"']);
    expect(config.Labels?.['team']).toBe('x');
    expect(config['ExposedPorts']).toEqual({ '8080/tcp': {}, '53/udp': {} });
    expect(config['Volumes']).toEqual({ '/data': {} });
    expect(config['Healthcheck']).toEqual({ Test: ['CMD-SHELL', 'true'], Interval: 5_000_000_000 });

    // Through a proxy that counts: a stage that changes no commit label is not read until something needs it, so
    // a fully cached image reads only its last stage.
    const proxy = await startFaultProxy({ target: `http://${registries().plain.host}` });
    let again: Build;
    try {
      again = await build(dir, `${proxy.host}${repo.slice(repo.indexOf('/'))}`);
      const stageReads = proxy.requests.filter((r) => r.method === 'GET' && /\/stapel\/shell[^/]*\/(manifests|blobs)\//.test(r.path));
      expect(stageReads.map((r) => r.path.split('/').at(-2))).toEqual(['manifests', 'blobs']);
    } finally {
      await proxy.close();
    }
    expect(again.code, again.out).toBe(0);
    expect(again.stored).toEqual([]);
    expect(again.reused).toHaveLength(5);
    expect(again.tags.get('app')).toBe(first.tags.get('app'));

    // A per-stage cache version rebuilds that stage and the ones after it.
    await commit(dir, { 'werf.yaml': (await import('node:fs')).readFileSync(join(dir, 'werf.yaml'), 'utf8').replace('setupCacheVersion: "1"', 'setupCacheVersion: "2"') });
    const bumped = await build(dir, repo);
    expect(bumped.code, bumped.out).toBe(0);
    expect(bumped.stored).toEqual(['app/setup', 'app/dockerInstructions']);
    // setup was built on the reused install stage, read only then: the earlier stages' files are all there.
    const rebuilt = await snapshotImage(`${repo}:${bumped.tags.get('app')}`);
    expect([text(rebuilt, '/bash-check'), text(rebuilt, '/app/install'), text(rebuilt, '/app/setup')]).toEqual(['bash ok\n', 'install\n', 'setup\n']);
  }, 240_000);

  it('a failing command fails the build with its output', async () => {
    const dir = await project({
      'werf.yaml': yaml(['project: stapel', 'configVersion: 1', '---', 'image: app', `from: ${base}`, 'shell:', '  install:', '  - echo before-failure', '  - "false"', '  - echo never > /never']),
    });
    const repo = `${registries().plain.host}/${uniqueRepo('stapel/fail')}`;
    const result = await build(dir, repo);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/image app: stage install: the shell commands exited with code 1/);
    expect(result.out).toMatch(/before-failure/);
  }, 240_000);

  it('maps git files with owners and filters; a change matching no stageDependencies rebuilds only gitLatestPatch', async () => {
    const werfYaml = yaml([
      'project: stapel', 'configVersion: 1', '---', 'image: app', `from: ${base}`,
      'git:',
      '- add: /src',
      '  to: /app',
      '  excludePaths: ["**/*.tmp"]',
      '  owner: app',
      '  group: staff',
      '  stageDependencies:',
      '    install: [deps]',
      '    setup: ["*.sh"]',
      '- add: /config/app.conf',
      '  to: /etc/app.conf',
      'shell:',
      '  install: [cat /app/deps/list > /installed]',
      '  setup: [ls /app > /setup-listing]',
    ]);
    const dir = await project({
      'werf.yaml': werfYaml,
      'src/main.txt': 'main v1\n', 'src/old.txt': 'old\n', 'src/scratch.tmp': 'tmp\n', 'src/deps/list': 'dep-a\n',
      'src/run.sh': '#!/bin/sh\necho run\n', 'src/lib/nested/file.txt': 'nested\n', 'config/app.conf': 'conf=1\n', 'other/ignored': 'x\n',
    });
    const repo = `${registries().plain.host}/${uniqueRepo('stapel/git')}`;
    const first = await build(dir, repo);
    expect(first.code, first.out).toBe(0);
    expect(first.stored).toEqual(['app/from', 'app/gitArchive', 'app/install', 'app/setup']);
    let fs = await snapshotImage(`${repo}:${first.tags.get('app')}`);
    expect(text(fs, '/app/main.txt')).toBe('main v1\n');
    expect(fs.get('/app/main.txt')).toMatchObject({ uid: 1000, gid: 50, mode: 0o644 });
    expect(fs.get('/app/run.sh')).toMatchObject({ uid: 1000, gid: 50, mode: 0o755 });
    expect(fs.get('/app/lib/nested')).toMatchObject({ type: 'dir', uid: 1000, gid: 50 });
    expect(fs.has('/app/scratch.tmp')).toBe(false);
    expect(fs.has('/app/other')).toBe(false);
    expect(fs.has('/other')).toBe(false);
    expect(text(fs, '/etc/app.conf')).toBe('conf=1\n');
    expect(fs.get('/etc/app.conf')).toMatchObject({ uid: 0, gid: 0 });
    expect(text(fs, '/installed')).toBe('dep-a\n');
    expect(text(fs, '/setup-listing')).toBe('deps\nlib\nmain.txt\nold.txt\nrun.sh\n');

    // A change no stageDependencies match: the shell stages are reused, gitLatestPatch carries it.
    await commit(dir, { 'src/main.txt': 'main v2\n', 'src/old.txt': null, 'src/new.txt': 'new\n', 'src/more.tmp': 'tmp\n', 'other/ignored': 'y\n' });
    const patched = await build(dir, repo);
    expect(patched.code, patched.out).toBe(0);
    expect(patched.stored).toEqual(['app/gitLatestPatch']);
    expect(patched.reused).toEqual(['app/from', 'app/gitArchive', 'app/install', 'app/setup']);
    fs = await snapshotImage(`${repo}:${patched.tags.get('app')}`);
    expect(text(fs, '/app/main.txt')).toBe('main v2\n');
    expect(text(fs, '/app/new.txt')).toBe('new\n');
    expect(fs.get('/app/new.txt')).toMatchObject({ uid: 1000, gid: 50 });
    expect(fs.has('/app/old.txt')).toBe(false);
    expect(fs.has('/app/more.tmp')).toBe(false);
    // setup ran before the patch: its listing is the first commit's.
    expect(text(fs, '/setup-listing')).toBe('deps\nlib\nmain.txt\nold.txt\nrun.sh\n');

    // A change outside every mapping changes nothing at all.
    await commit(dir, { 'other/ignored': 'z\n' });
    const outside = await build(dir, repo);
    expect(outside.code, outside.out).toBe(0);
    expect(outside.stored).toEqual([]);
    expect(outside.tags.get('app')).toBe(patched.tags.get('app'));

    // A change matching install's stageDependencies rebuilds from install on, with the files up to date first;
    // the patch is then in install, and gitLatestPatch is empty.
    await commit(dir, { 'src/deps/list': 'dep-a\ndep-b\n', 'src/main.txt': 'main v3\n' });
    const deps = await build(dir, repo);
    expect(deps.code, deps.out).toBe(0);
    expect(deps.stored).toEqual(['app/install', 'app/setup']);
    expect(deps.reused).toEqual(['app/from', 'app/gitArchive']);
    fs = await snapshotImage(`${repo}:${deps.tags.get('app')}`);
    expect(text(fs, '/installed')).toBe('dep-a\ndep-b\n');
    expect(text(fs, '/app/main.txt')).toBe('main v3\n');
    expect(text(fs, '/setup-listing')).toBe('deps\nlib\nmain.txt\nnew.txt\nrun.sh\n');

    // setup's stageDependencies: only setup (and what follows) is rebuilt.
    await commit(dir, { 'src/run.sh': '#!/bin/sh\necho run v2\n' });
    const setup = await build(dir, repo);
    expect(setup.code, setup.out).toBe(0);
    expect(setup.stored).toEqual(['app/setup']);
    fs = await snapshotImage(`${repo}:${setup.tags.get('app')}`);
    expect(text(fs, '/app/run.sh')).toBe('#!/bin/sh\necho run v2\n');
    // Exported images lose the git commit labels with the other service labels.
    const labels = (await imageConfig(`${repo}:${setup.tags.get('app')}`)).config?.Labels ?? {};
    expect(Object.keys(labels).filter((k) => k.startsWith('slipway-git-'))).toHaveLength(2);
  }, 300_000);

  it('moves patches of 1 MiB and more to gitCache, which is reused until the patch grows by another MiB', async () => {
    const dir = await project({
      'werf.yaml': yaml(['project: stapel', 'configVersion: 1', '---', 'image: app', `from: ${base}`, 'git:', '- add: /', '  to: /src', '  excludePaths: [werf.yaml]']),
      'a.txt': 'a1\n',
    });
    const repo = `${registries().plain.host}/${uniqueRepo('stapel/git-cache')}`;
    const first = await build(dir, repo);
    expect(first.code, first.out).toBe(0);
    expect(first.stored).toEqual(['app/from', 'app/gitArchive']);

    const big = (c: string, mib: number): string => `${c.repeat(1024 * 1024 * mib)}\n`;
    await commit(dir, { 'big.bin': big('b', 1.5) });
    const cached = await build(dir, repo);
    expect(cached.code, cached.out).toBe(0);
    expect(cached.stored).toEqual(['app/gitCache']);
    expect((await snapshotImage(`${repo}:${cached.tags.get('app')}`)).get('/src/big.bin')?.size).toBe(1.5 * 1024 * 1024 + 1);

    // Still between 1 and 2 MiB from gitArchive's commit: gitCache is reused, the small change is a latest patch.
    await commit(dir, { 'a.txt': 'a2\n' });
    const small = await build(dir, repo);
    expect(small.code, small.out).toBe(0);
    expect(small.stored).toEqual(['app/gitLatestPatch']);
    expect(small.reused).toEqual(['app/from', 'app/gitArchive', 'app/gitCache']);
    const fs = await snapshotImage(`${repo}:${small.tags.get('app')}`);
    expect(text(fs, '/src/a.txt')).toBe('a2\n');
    expect(fs.get('/src/big.bin')?.size).toBe(1.5 * 1024 * 1024 + 1);

    // The patch grows past 2 MiB: a new gitCache at the current commit, no latest patch.
    await commit(dir, { 'big2.bin': big('c', 1) });
    const grown = await build(dir, repo);
    expect(grown.code, grown.out).toBe(0);
    expect(grown.stored).toEqual(['app/gitCache']);
    expect(text(await snapshotImage(`${repo}:${grown.tags.get('app')}`), '/src/a.txt')).toBe('a2\n');
  }, 300_000);

  it('imports from artifacts and non-final images; a changed source rebuilds from the importing stage; artifacts are never exported', async () => {
    const dir = await project({
      'werf.yaml': yaml([
        'project: stapel', 'configVersion: 1',
        'cleanup:', '  keepPolicies:', '  - references:', '      branch: /.*/', '    imagesPerReference:', '      last: 1',
        '---', 'artifact: builder', `from: ${base}`,
        'git:', '- add: /src', '  to: /build', '  stageDependencies:', '    install: ["**/*"]',
        'shell:', '  install:', '  - mkdir -p /out/sub', '  - cat /build/code > /out/binary', '  - echo notes > /out/notes.txt', '  - echo s > /out/sub/f',
        '---', 'image: tools', 'final: false', `from: ${base}`,
        'shell:', '  install: [mkdir -p /opt/tools, echo tool > /opt/tools/t]',
        '---', 'image: app', 'from: tools',
        'import:',
        '- artifact: builder', '  add: /out', '  to: /app', '  excludePaths: ["*.txt"]', '  owner: app', '  after: install',
        '- image: tools', '  add: /opt/tools/t', '  to: /usr/bin/t', '  before: setup',
        'dependencies:', '- image: tools', '  before: setup', '  imports:', '  - type: ImageTag', '    targetEnv: TOOLS_TAG',
        'shell:', '  install: [echo app-install > /app-install]', '  setup: [ls -R /app > /app-listing]',
        '---', 'image: web', 'dockerfile: Dockerfile',
      ]),
      'src/code': 'code v1\n',
      'Dockerfile': `FROM ${base}\nRUN echo web > /web\n`,
    });
    const repo = `${registries().plain.host}/${uniqueRepo('stapel/import')}`;
    const first = await build(dir, repo);
    expect(first.code, first.out).toBe(0);
    expect(first.stored.filter((s) => s.startsWith('app/'))).toEqual([
      'app/from', 'app/install', 'app/dependenciesAfterInstall', 'app/dependenciesBeforeSetup', 'app/setup',
    ]);
    // builder's and tools' from stages are the same stage (same base, same inputs): whichever is first stores it.
    expect(first.stored.filter((s) => s.startsWith('builder/') && s !== 'builder/from')).toEqual(['builder/gitArchive', 'builder/install']);
    const appRef = `${repo}:${first.tags.get('app')}`;
    const fs = await snapshotImage(appRef);
    expect(text(fs, '/app/binary')).toBe('code v1\n');
    expect(fs.get('/app/binary')).toMatchObject({ uid: 1000, gid: 1000 });
    expect(text(fs, '/app/sub/f')).toBe('s\n');
    expect(fs.has('/app/notes.txt')).toBe(false);
    expect(text(fs, '/usr/bin/t')).toBe('tool\n');
    expect(text(fs, '/opt/tools/t')).toBe('tool\n');
    expect(text(fs, '/app-listing')).toBe('/app:\nbinary\nsub\n\n/app/sub:\nf\n');
    expect(fs.has('/build')).toBe(false);
    const env = (await imageConfig(appRef)).config?.Env ?? [];
    expect(env).toContain(`TOOLS_TAG=${first.tags.get('tools')}`);

    // The artifact's source changes: the artifact rebuilds from install, app from the import on.
    await commit(dir, { 'src/code': 'code v2\n' });
    const changed = await build(dir, repo);
    expect(changed.code, changed.out).toBe(0);
    expect(changed.stored.filter((s) => s.startsWith('builder/'))).toEqual(['builder/install']);
    expect(changed.stored.filter((s) => s.startsWith('app/'))).toEqual(['app/dependenciesAfterInstall', 'app/dependenciesBeforeSetup', 'app/setup']);
    expect(changed.reused).toEqual(expect.arrayContaining(['app/from', 'app/install', 'tools/from', 'tools/install']));
    expect(text(await snapshotImage(`${repo}:${changed.tags.get('app')}`), '/app/binary')).toBe('code v2\n');

    // Export: the final images only (the stapel app and the Dockerfile web), never the artifact or tools.
    const dest = `${registries().plain2.host}/${uniqueRepo('stapel/export')}`;
    let out = '';
    const exported = await runCli(['export', '--dir', dir, '--repo', repo, '--tag', `${dest}/%image%:latest`], {
      io: { stdout: (t) => { out += t; }, stderr: (t) => { out += t; } },
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), SLIPWAY_HOME: join(dir, '.home') },
    });
    expect(exported, out).toBe(0);
    const refs = [...out.matchAll(/^(\S+?)@sha256:[0-9a-f]{64}$/gm)].map((m) => m[1]!).sort();
    expect(refs).toEqual([`${dest}/app:latest`, `${dest}/web:latest`]);
    const labels = (await imageConfig(`${dest}/app:latest`)).config?.Labels ?? {};
    expect(Object.keys(labels).filter((k) => k.startsWith('slipway'))).toEqual([]);
    expect(text(await snapshotImage(`${dest}/app:latest`), '/app/binary')).toBe('code v2\n');

    // Cleanup: the first commit's stages go, what the current commit needs stays (nothing to rebuild).
    // It counts origin's branches (werf's rule): push to a bare origin first.
    const origin = await temp.make('slipway-stapel-origin-');
    await gitAsync(origin, 'init', '-q', '--bare');
    await gitAsync(dir, 'remote', 'add', 'origin', origin);
    await gitAsync(dir, 'push', '-q', 'origin', 'HEAD:refs/heads/main');
    await gitAsync(dir, 'fetch', '-q', 'origin');
    let cleanupOut = '';
    const cleaned = await runCli(['cleanup', '--dir', dir, '--repo', repo, '--keep-stages-built-within-last-n-hours', '0'], {
      io: { stdout: (t) => { cleanupOut += t; }, stderr: (t) => { cleanupOut += t; } },
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), SLIPWAY_HOME: join(dir, '.home') },
    });
    expect(cleaned, cleanupOut).toBe(0);
    const deleted = [...cleanupOut.matchAll(/^deleted (\S+)/gm)].map((m) => m[1]!);
    // The first commit's app (and the artifact stage it imported) is stale; the current one stays.
    expect(deleted, cleanupOut).toContain(first.tags.get('app'));
    expect(deleted, cleanupOut).not.toContain(changed.tags.get('app'));
    expect(cleanupOut).toMatch(/^Deleted \d+ tags/m);
    const after = await build(dir, repo);
    expect(after.code, after.out).toBe(0);
    expect(after.stored).toEqual([]);
    expect(after.tags.get('app')).toBe(changed.tags.get('app'));
    expect(text(await snapshotImage(`${dest}/app:latest`), '/app/binary')).toBe('code v2\n');
  }, 300_000);

  it('maps files of other repositories (a local path and a file:// URL, branch, tag, commit); an unreachable one is a clear error', async () => {
    const lib = await temp.make('slipway-stapel-lib-');
    await commit(lib, { 'README': 'lib v1\n', 'pkg/a.txt': 'a1\n' }, true);
    await gitAsync(lib, 'tag', 'v1');
    await gitAsync(lib, 'checkout', '-q', '-b', 'next');
    await commit(lib, { 'pkg/a.txt': 'a-next\n' });
    await gitAsync(lib, 'checkout', '-q', '-');
    const werfYaml = (extra: string[]) => yaml([
      'project: stapel', 'configVersion: 1', '---', 'image: app', `from: ${base}`,
      'git:',
      `- url: ${lib}`, '  add: /pkg', '  to: /lib/head',
      `- url: file://${lib}`, '  tag: v1', '  add: /README', '  to: /lib/README',
      `- url: file://${lib}`, '  branch: next', '  add: /pkg', '  to: /lib/next',
      ...extra,
    ]);
    const v1 = (await import('node:child_process')).execFileSync('git', ['rev-parse', 'v1'], { cwd: lib }).toString().trim();
    const dir = await project({
      'werf.yaml': werfYaml([`- url: ${lib}`, `  commit: ${v1}`, '  add: /pkg/a.txt', '  to: /lib/pinned.txt']),
      'werf-giterminism.yaml': 'giterminismConfigVersion: 1\nconfig:\n  stapel:\n    git:\n      allowBranch: true\n',
    });
    const repo = `${registries().plain.host}/${uniqueRepo('stapel/remote')}`;
    const first = await build(dir, repo);
    expect(first.code, first.out).toBe(0);
    expect(first.stored).toEqual(['app/from', 'app/gitArchive']);
    let fs = await snapshotImage(`${repo}:${first.tags.get('app')}`);
    expect(text(fs, '/lib/head/a.txt')).toBe('a1\n');
    expect(text(fs, '/lib/README')).toBe('lib v1\n');
    expect(text(fs, '/lib/next/a.txt')).toBe('a-next\n');
    expect(text(fs, '/lib/pinned.txt')).toBe('a1\n');

    // The remote moves on: the next build fetches it, and the change is a latest patch.
    await commit(lib, { 'pkg/a.txt': 'a2\n', 'README': 'lib v2\n' });
    const moved = await build(dir, repo);
    expect(moved.code, moved.out).toBe(0);
    expect(moved.stored).toEqual(['app/gitLatestPatch']);
    fs = await snapshotImage(`${repo}:${moved.tags.get('app')}`);
    expect(text(fs, '/lib/head/a.txt')).toBe('a2\n');
    expect(text(fs, '/lib/README')).toBe('lib v1\n');
    expect(text(fs, '/lib/pinned.txt')).toBe('a1\n');

    const missing = await project({
      'werf.yaml': yaml(['project: stapel', 'configVersion: 1', '---', 'image: app', `from: ${base}`, 'git:', `- url: file://${lib}-missing`, '  add: /', '  to: /x']),
    });
    const failed = await build(missing, repo);
    expect(failed.code).not.toBe(0);
    expect(failed.out).toMatch(new RegExp(`git repository file://${lib}-missing: cannot clone it`));
  }, 300_000);

  it('mounts tmp_dir (fresh each build), build_dir (kept between builds) and fromPath; none of them reaches the image', async () => {
    const host = await temp.make('slipway-stapel-host-');
    await writeFile(join(host, 'input'), 'from the host\n');
    const werfYaml = (n: number) => yaml([
      'project: stapel', 'configVersion: 1', '---', 'image: app', `from: ${base}`,
      'mount:', '- from: tmp_dir', '  to: /var/tmpdir', '- from: build_dir', '  to: /var/cache/build', `- fromPath: ${host}`, '  to: /host',
      'shell:',
      '  install:',
      '  - ls -A /var/tmpdir > /tmp-listing',
      '  - echo junk > /var/tmpdir/junk',
      `  - echo run${n} >> /var/cache/build/log`,
      '  - cp /var/cache/build/log /seen',
      '  - cat /host/input > /from-host',
    ]);
    const dir = await project({
      'werf.yaml': werfYaml(1),
      'werf-giterminism.yaml': `giterminismConfigVersion: 1\nconfig:\n  stapel:\n    mount:\n      allowBuildDir: true\n      allowFromPaths: [${host}]\n`,
    });
    const repo = `${registries().plain.host}/${uniqueRepo('stapel/mount')}`;
    const first = await build(dir, repo);
    expect(first.code, first.out).toBe(0);
    await commit(dir, { 'werf.yaml': werfYaml(2) });
    const second = await build(dir, repo);
    expect(second.code, second.out).toBe(0);
    expect(second.stored).toEqual(['app/install']);
    const fs = await snapshotImage(`${repo}:${second.tags.get('app')}`);
    expect(text(fs, '/tmp-listing')).toBe('');
    expect(text(fs, '/seen')).toBe('run1\nrun2\n');
    expect(text(fs, '/from-host')).toBe('from the host\n');
    expect([...fs.keys()].filter((p) => p.startsWith('/var/tmpdir/') || p.startsWith('/var/cache/build/') || p.startsWith('/host/'))).toEqual([]);
    // The mounts are part of the from stage: another target is another from stage.
    await commit(dir, { 'werf.yaml': werfYaml(2).replace('to: /host', 'to: /host2').replace('/host/input', '/host2/input') });
    const moved = await build(dir, repo);
    expect(moved.code, moved.out).toBe(0);
    expect(moved.stored).toEqual(['app/from', 'app/install']);
  }, 300_000);

  it('refuses a git mapping that selects nothing', async () => {
    const dir = await project({
      'werf.yaml': yaml(['project: stapel', 'configVersion: 1', '---', 'image: app', `from: ${base}`, 'git:', '- add: /missing', '  to: /app']),
      'src/a': 'a\n',
    });
    const result = await build(dir, `${registries().plain.host}/${uniqueRepo('stapel/git-empty')}`);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/"git.add: \/missing" in werf.yaml matches no files/);
  }, 60_000);

  it('fromCacheVersion rebuilds from the from stage; fromImage and fromLatest take their base', async () => {
    const doc = (version: string) => yaml([
      'project: stapel', 'configVersion: 1',
      '---', 'image: base', `from: ${base}`, `fromCacheVersion: "${version}"`, 'shell:', '  install: [echo base > /base]',
      '---', 'image: app', 'fromImage: base', 'shell:', '  install: [cat /base > /seen]',
      '---', 'image: latest', `from: ${base}`, 'fromLatest: true', 'shell:', '  install: [touch /latest]',
    ]);
    const dir = await project({
      'werf.yaml': doc('1'),
      'werf-giterminism.yaml': 'giterminismConfigVersion: 1\nconfig:\n  stapel:\n    allowFromLatest: true\n',
    });
    const repo = `${registries().plain.host}/${uniqueRepo('stapel/from')}`;
    const first = await build(dir, repo);
    expect(first.code, first.out).toBe(0);
    expect(text(await snapshotImage(`${repo}:${first.tags.get('app')}`), '/seen')).toBe('base\n');
    // app's from stage starts from base's last stage: cleanup keeps that stage as its parent.
    const appFrom = (await imageConfig(`${repo}:${first.tags.get('app')}`)).config?.Labels ?? {};
    expect(appFrom['slipway.io/parent-stage-id']).toBeDefined();
    await commit(dir, { 'werf.yaml': doc('2') });
    const bumped = await build(dir, repo);
    expect(bumped.code, bumped.out).toBe(0);
    expect(bumped.stored.sort()).toEqual(['app/from', 'app/install', 'base/from', 'base/install']);
  }, 240_000);

  it('refuses secrets on stapel images before building anything', async () => {
    const dir = await project({
      'werf.yaml': yaml(['project: stapel', 'configVersion: 1', '---', 'image: app', `from: ${base}`, 'secrets:', '- id: token', '  value: x', 'shell:', '  install: [touch /x]']),
      'werf-giterminism.yaml': 'giterminismConfigVersion: 1\nconfig:\n  secrets:\n    allowValueIds: [token]\n',
    });
    const result = await build(dir, `${registries().plain.host}/${uniqueRepo('stapel/secrets')}`);
    expect(result.code).not.toBe(0);
    expect(result.out).toMatch(/image app: "secrets" of stapel images are not supported yet: nothing was built/);
    expect(result.stored).toEqual([]);
  }, 60_000);

  it('refuses an import with a legacy stage: but no before/after', async () => {
    const dir = await project({
      'werf.yaml': yaml([
        'project: stapel', 'configVersion: 1', '---', 'artifact: src', `from: ${base}`, 'shell:', '  install: [mkdir -p /out]',
        '---', 'image: app', `from: ${base}`, 'import:', '- artifact: src', '  add: /out', '  stage: install',
      ]),
    });
    const result = await build(dir, `${registries().plain.host}/${uniqueRepo('stapel/import-stage')}`);
    expect(result.code).not.toBe(0);
    expect(result.out).toMatch(/image app: import from "src" \(add: \/out\) names no stage to import at/);
  }, 120_000);

  it('refuses ansible before building anything', async () => {
    const dir = await project({
      'werf.yaml': yaml([
        'project: stapel', 'configVersion: 1', '---', 'image: first', `from: ${base}`, 'shell:', '  install: [touch /x]',
        '---', 'image: second', `from: ${base}`, 'ansible:', '  install:', '  - name: a task', '    shell: touch /y',
      ]),
    });
    const repo = `${registries().plain.host}/${uniqueRepo('stapel/ansible')}`;
    const result = await build(dir, repo);
    expect(result.code).not.toBe(0);
    expect(result.out).toMatch(/image second: stapel "ansible" is not supported: nothing was built/);
    expect(result.stored).toEqual([]);
  }, 60_000);
});
