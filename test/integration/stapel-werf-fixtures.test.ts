// werf's own stapel e2e fixture (test/e2e/build/_fixtures/complex in werf/werf, states 0 and 1), adapted: the
// base is the busybox test image instead of ubuntu, the git repository is a local one with the same files at
// two commits instead of github.com/golang/example, and the config that werf's fixture sets with imageSpec is
// set with `docker:` directives (imageSpec is applied by another part of Slipway). The assertions are the ones
// werf's complex_test.go makes on the "stapel-shell" image.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { busyboxBase } from '../support/busybox-base.js';
import { uniqueRepo } from '../support/images.js';
import { imageConfig, snapshotImage, type FsSnapshot } from '../support/image-fs.js';
import { registries } from '../support/registries.js';
import { commitAsync, tempDirs } from '../support/git-repo.js';

let base: string;
const temp = tempDirs();
beforeAll(async () => {
  base = await busyboxBase();
}, 120_000);
afterAll(temp.removeAll);

async function writeAndCommit(dir: string, files: Record<string, string>, init = false): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await commitAsync(dir, 'state', { init });
  return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir }).toString().trim();
}

async function build(dir: string, repo: string): Promise<{ code: number; out: string; tag: string | undefined; stored: string[] }> {
  let out = '';
  const code = await runCli(['build', '--dir', dir, '--repo', repo], {
    io: { stdout: (t) => { out += t; }, stderr: (t) => { out += t; } },
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), SLIPWAY_HOME: join(dir, '.home') },
  });
  const tag = /^image stapel-shell: \S+:([0-9a-f]{56}-\d{13})$/m.exec(out)?.[1];
  return { code, out, tag, stored: [...out.matchAll(/Store stage (\S+)/g)].map((m) => m[1]!) };
}

function werfYaml(example: string, commit: string, includes: string[], volume: boolean): string {
  return [
    'project: werf-test-e2e-build-complex', 'configVersion: 1',
    '---', 'image: base-stapel-shell', `from: ${base}`,
    'shell:', '  setup:', '  - "mkdir -p /basedir"', '  - "echo content > /basedir/file"',
    '---', 'image: stapel-shell', 'from: base-stapel-shell', 'fromCacheVersion: 1',
    'mount:', '- from: tmp_dir', '  to: /tmp_dir',
    'git:', `- url: ${example}`, `  commit: ${commit}`, '  add: /appengine-hello', '  to: /app', '  owner: 1050', '  group: 1051',
    '  includePaths:', ...includes.map((i) => `  - '${i}'`),
    '  excludePaths:', "  - 'static/script.js'",
    '  stageDependencies:', '    beforeSetup:', '    - "README.md"', '    setup:', '    - "*"',
    'shell:', '  cacheVersion: 1',
    '  beforeInstallCacheVersion: 1', '  beforeInstall:', '  - "echo beforeInstall >> /triggered-stages"',
    '  installCacheVersion: 1', '  install:', '  - "echo install >> /triggered-stages"',
    '  beforeSetupCacheVersion: 1', '  beforeSetup:', '  - "echo beforeSetup >> /triggered-stages"',
    '  setupCacheVersion: 1', '  setup:', '  - "echo setup >> /triggered-stages"', '  - "echo content > /tmp_dir/file"',
    'docker:', '  USER: "0:0"', '  WORKDIR: /app', ...(volume ? ['  VOLUME: [/volume20]'] : []),
    '  ENV:', '    ENV_NAME: env-value', '  LABEL:', '    LABEL_NAME: label-value', '  EXPOSE: ["8010/tcp"]',
    '  ENTRYPOINT: [sh, -ec]', '  CMD: ["/bin/sh", "-c", "sleep infinity"]', '  HEALTHCHECK: CMD echo healthcheck20',
    'import:', '- from: base-stapel-shell', '  before: install', '  add: /basedir', '  to: /basedir-imported',
    '  owner: 1060', '  group: 1061', '  includePaths:', '    - file', '  excludePaths:', '    - nothing',
    '',
  ].join('\n');
}

function expectFile(fs: FsSnapshot, path: string, owner: string, contains: string): void {
  const entry = fs.get(path);
  expect(entry?.type, path).toBe('file');
  expect(`${entry!.uid}:${entry!.gid}`, path).toBe(owner);
  expect(entry!.text, path).toContain(contains);
}

describe("werf's complex stapel fixture", () => {
  it('state0 then state1 build, hold what werf asserts, and rebuild from the cache', async () => {
    const example = await temp.make('slipway-werf-example-');
    const commit0 = await writeAndCommit(example, {
      'appengine-hello/README.md': 'See https://cloud.google.com/appengine/docs/go/#Go_tools\n',
      'appengine-hello/app.go': 'package hello\n',
      'appengine-hello/app.yaml': 'runtime: go\n',
      'appengine-hello/static/index.html': '<title>Hello, world</title>\n',
      'appengine-hello/static/style.css': 'h1 { text-align: center; }\n',
      'appengine-hello/static/script.js': 'console.log(1)\n',
    }, true);
    const commit1 = await writeAndCommit(example, {
      'appengine-hello/README.md': 'Install https://cloud.google.com/sdk/ first\n',
    });

    const project = await temp.make('slipway-werf-complex-');
    await writeAndCommit(project, { 'werf.yaml': werfYaml(example, commit0, ['**/*.js', '**/*.html', 'static/*.css', 'README.md'], true) }, true);
    const repo = `${registries().plain.host}/${uniqueRepo('stapel/werf-complex')}`;

    const state0 = await build(project, repo);
    expect(state0.code, state0.out).toBe(0);
    expect(state0.stored.length).toBeGreaterThan(0);
    const again0 = await build(project, repo);
    expect([again0.code, again0.stored, again0.tag]).toEqual([0, [], state0.tag]);

    const ref0 = `${repo}:${state0.tag}`;
    const cfg0 = (await imageConfig(ref0)).config!;
    expect(cfg0.Env).toContain('ENV_NAME=env-value');
    expect(cfg0.Labels?.['LABEL_NAME']).toBe('label-value');
    expect(cfg0.User).toBe('0:0');
    expect(cfg0.WorkingDir).toBe('/app');
    expect(cfg0.Entrypoint).toEqual(['sh', '-ec']);
    expect(cfg0.Cmd).toContain('sleep infinity');
    expect(cfg0['Volumes']).toHaveProperty(['/volume20']);
    expect(cfg0['ExposedPorts']).toHaveProperty(['8010/tcp']);
    expect((cfg0['Healthcheck'] as { Test: string[] }).Test).toEqual(['CMD-SHELL', 'echo healthcheck20']);

    const fs0 = await snapshotImage(ref0);
    expectFile(fs0, '/app/README.md', '1050:1051', 'https://cloud.google.com/appengine/docs/go/#Go_tools');
    expectFile(fs0, '/app/static/index.html', '1050:1051', '<title>Hello, world</title>');
    expectFile(fs0, '/app/static/style.css', '1050:1051', 'text-align: center;');
    expect(fs0.has('/app/app.go')).toBe(false);
    expect(fs0.has('/app/static/script.js')).toBe(false);
    expectFile(fs0, '/triggered-stages', '0:0', '');
    expect(fs0.get('/triggered-stages')!.text).toBe('beforeInstall\ninstall\nbeforeSetup\nsetup\n');
    expect(fs0.has('/tmp_dir/file')).toBe(false);
    expectFile(fs0, '/basedir/file', '0:0', 'content');
    expect(fs0.get('/basedir-imported/file')!.text).toBe('content\n');
    expectFile(fs0, '/basedir-imported/file', '1060:1061', 'content');

    // state1: another commit of the example, other includePaths, no volume.
    await writeAndCommit(project, { 'werf.yaml': werfYaml(example, commit1, ['**/*.js', '**/*.html', 'app.go', 'README.md'], false) });
    const state1 = await build(project, repo);
    expect(state1.code, state1.out).toBe(0);
    expect(state1.stored.length).toBeGreaterThan(0);
    const again1 = await build(project, repo);
    expect([again1.code, again1.stored, again1.tag]).toEqual([0, [], state1.tag]);

    const ref1 = `${repo}:${state1.tag}`;
    expect((await imageConfig(ref1)).config!['Volumes'] ?? {}).not.toHaveProperty(['/volume20']);
    const fs1 = await snapshotImage(ref1);
    expectFile(fs1, '/app/README.md', '1050:1051', 'https://cloud.google.com/sdk/');
    expectFile(fs1, '/app/static/index.html', '1050:1051', '<title>Hello, world</title>');
    expect(fs1.has('/app/static/style.css')).toBe(false);
    expectFile(fs1, '/app/app.go', '1050:1051', 'package hello');
    expect(fs1.has('/app/static/script.js')).toBe(false);
    expect(fs1.get('/triggered-stages')!.text).toBe('beforeInstall\ninstall\nbeforeSetup\nsetup\n');
    expect(fs1.has('/tmp_dir/file')).toBe(false);
    expectFile(fs1, '/basedir-imported/file', '1060:1061', 'content');
  }, 300_000);
});
