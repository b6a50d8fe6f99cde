// Stapel images built end to end: werf's stage list, shell stages in the RUN sandbox with the mounted static
// bash, docker instructions, git mappings and their reuse rules, imports, artifacts. Images are read back with
// skopeo + umoci (test/support/image-fs.ts), independently of Slipway's code.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { busyboxBase } from '../support/busybox-base.js';
import { uniqueRepo } from '../support/images.js';
import { imageConfig, snapshotImage, type FsSnapshot } from '../support/image-fs.js';
import { registries } from '../support/registries.js';
import { commitAsync, gitAsync } from '../support/git-repo.js';

let base: string;
const temps: string[] = [];
beforeAll(async () => {
  base = await busyboxBase();
}, 120_000);
afterAll(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-stapel-'));
  temps.push(dir);
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
    await writeFile(join(dir, path), content);
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

    const again = await build(dir, repo);
    expect(again.code, again.out).toBe(0);
    expect(again.stored).toEqual([]);
    expect(again.tags.get('app')).toBe(first.tags.get('app'));

    // A per-stage cache version rebuilds that stage and the ones after it.
    await commit(dir, { 'werf.yaml': (await import('node:fs')).readFileSync(join(dir, 'werf.yaml'), 'utf8').replace('setupCacheVersion: "1"', 'setupCacheVersion: "2"') });
    const bumped = await build(dir, repo);
    expect(bumped.code, bumped.out).toBe(0);
    expect(bumped.stored).toEqual(['app/setup', 'app/dockerInstructions']);
  }, 240_000);

  it('a failing command fails the build with its output', async () => {
    const dir = await project({
      'werf.yaml': yaml(['project: stapel', 'configVersion: 1', '---', 'image: app', `from: ${base}`, 'shell:', '  install:', '  - echo before-failure', '  - "false"', '  - echo never > /never']),
    });
    const repo = `${registries().plain.host}/${uniqueRepo('stapel/fail')}`;
    const result = await build(dir, repo);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/image app: stage install: install: the shell commands exited with code 1/);
    expect(result.out).toMatch(/before-failure/);
  }, 240_000);

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
