// `slipway build` against a real registry: stages, reuse, rebuilds, concurrency, configs read back by skopeo.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { uniqueRepo } from '../support/images.js';
import { pushRandomImage, registries, skopeoInspect } from '../support/registries.js';
import { gitAsync, tempDirs } from '../support/git-repo.js';

const run = promisify(execFile);
// Every project, clone and home this file makes (each project's .slipway-home inside it).
const temp = tempDirs();
afterAll(temp.removeAll);

interface CliResult { code: number; stdout: string; stderr: string }

async function slipway(cwd: string, argv: string[], env: Record<string, string> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli([argv[0]!, '--dir', cwd, ...argv.slice(1)], {
    io: { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } },
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), SLIPWAY_HOME: join(cwd, '.slipway-home'), ...env },
  });
  return { code, stdout, stderr };
}

/** A project of three Dockerfile images: `base` from a registry image, `app` FROM base (a dependency), `tools` from scratch. */
async function makeProject(baseImage: string): Promise<string> {
  const dir = await temp.make('slipway-build-');
  await gitAsync(dir, 'init', '-q');
  const files: Record<string, string> = {
    'werf.yaml': [
      'project: buildtest', 'configVersion: 1', '---',
      'image: base', 'dockerfile: base.Dockerfile', 'args:', `  BASE_IMAGE: ${baseImage}`, '---',
      'image: app', 'dockerfile: app.Dockerfile', 'dependencies:', '- image: base', '  imports:', '  - type: ImageName', '    targetBuildArg: BASE', '---',
      'image: tools', 'dockerfile: tools.Dockerfile', '',
    ].join('\n'),
    'base.Dockerfile': 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nENV APP_HOME=/srv LANG=C.UTF-8\nCOPY etc/ /etc/app/\nLABEL org.example.team="platform"\n',
    'app.Dockerfile': 'ARG BASE\nFROM ${BASE}\nWORKDIR $APP_HOME\nCOPY src/ ./\n# comments do not matter\nUSER 1000:1000\nENTRYPOINT ["/srv/main.sh"]\nCMD ["--serve"]\nEXPOSE 8080\n',
    'tools.Dockerfile': 'FROM scratch\nCOPY tools/tool.sh /usr/local/bin/tool\nCMD ["tool"]\n',
    'etc/app.conf': 'port=8080\n',
    'src/main.sh': '#!/bin/sh\necho main\n',
    'src/lib/util.sh': 'util() { :; }\n',
    'tools/tool.sh': '#!/bin/sh\n',
  };
  for (const [path, text] of Object.entries(files)) {
    await run('mkdir', ['-p', join(dir, path, '..')]);
    await writeFile(join(dir, path), text, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
  }
  await gitAsync(dir, 'add', '-A');
  await gitAsync(dir, 'commit', '-qm', 'initial');
  return dir;
}

function stageLines(output: string): { built: string[]; reused: string[] } {
  return {
    built: [...output.matchAll(/^Store stage (\S+)/gm)].map((m) => m[1]!),
    reused: [...output.matchAll(/^Use previously built image for (\S+)/gm)].map((m) => m[1]!),
  };
}

function imageTags(output: string): Record<string, string> {
  return Object.fromEntries([...output.matchAll(/^image (\S+): \S+?:([0-9a-f]{56}-\d{13})$/gm)].map((m) => [m[1]!, m[2]!]));
}

let baseRef: string;
beforeAll(async () => {
  const { plain } = registries();
  const base = await pushRandomImage(plain.host, uniqueRepo('build/base'), 'v1', { layers: 2, layerSize: 20_000 });
  baseRef = base.ref;
});

describe('slipway build', () => {
  it('builds three images into --repo, then reuses every stage without moving a layer', async () => {
    const { plain } = registries();
    const repoName = uniqueRepo('build/stages');
    const project = await makeProject(baseRef);
    const first = await slipway(project, ['build', '--repo', `${plain.host}/${repoName}`]);
    expect(first.code, first.stderr).toBe(0);
    const built = stageLines(first.stderr);
    expect(built.reused).toEqual([]);
    expect(built.built.length).toBeGreaterThanOrEqual(9);
    const tags = imageTags(first.stderr);
    expect(Object.keys(tags).sort()).toEqual(['app', 'base', 'tools']);

    // The second build goes through a proxy that records every request: nothing is written and no layer is read.
    const layers = new Set<string>();
    for (const tag of Object.values(tags)) {
      for (const layer of (await skopeoInspect(`${plain.host}/${repoName}:${tag}`) as { Layers: string[] }).Layers) layers.add(layer);
    }
    const proxy = await startFaultProxy({ target: `http://${plain.host}` });
    try {
      const second = await slipway(project, ['build', '--repo', `${proxy.host}/${repoName}`]);
      expect(second.code, second.stderr).toBe(0);
      expect(stageLines(second.stderr).built).toEqual([]);
      expect(imageTags(second.stderr)).toEqual(tags);
      expect(proxy.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
      const blobReads = proxy.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/'));
      expect(blobReads.length).toBeGreaterThan(0); // stage configs are read...
      expect(blobReads.filter((r) => layers.has(r.path.slice(r.path.lastIndexOf('/') + 1)))).toEqual([]); // ...layers never
    } finally {
      await proxy.close();
    }

    // What the Dockerfile says is what skopeo reads back.
    const config = await skopeoInspect(`${plain.host}/${repoName}:${tags.app}`, { config: true }) as { config: Record<string, unknown> };
    expect(config.config).toMatchObject({
      User: '1000:1000', WorkingDir: '/srv', Entrypoint: ['/srv/main.sh'], Cmd: ['--serve'], ExposedPorts: { '8080/tcp': {} },
    });
    expect(config.config.Env).toEqual(expect.arrayContaining(['APP_HOME=/srv', 'LANG=C.UTF-8']));
    expect(config.config.Labels).toMatchObject({ 'org.example.team': 'platform', slipway: 'buildtest' });
    const summary = await skopeoInspect(`${plain.host}/${repoName}:${tags.app}`) as { Layers: string[] };
    expect(summary.Layers).toHaveLength(4); // two base layers, COPY etc/, COPY src/
  });

  it('rebuilds only the stages after the COPY that reads a changed file', async () => {
    const { plain } = registries();
    const repo = `${plain.host}/${uniqueRepo('build/change')}`;
    const project = await makeProject(baseRef);
    expect((await slipway(project, ['build', '--repo', repo])).code).toBe(0);
    await writeFile(join(project, 'src/lib/util.sh'), 'util() { echo changed; }\n');
    await gitAsync(project, 'commit', '-qam', 'change util');
    const second = await slipway(project, ['build', '--repo', repo]);
    expect(second.code, second.stderr).toBe(0);
    const { built, reused } = stageLines(second.stderr);
    expect(built).toEqual(['app/0/copy@4', 'app/0/user@6', 'app/0/entrypoint@7', 'app/0/cmd@8', 'app/0/expose@9']);
    expect(reused).toContain('app/0/workdir@3');
    expect(reused.filter((s) => s.startsWith('base/') || s.startsWith('tools/')).length).toBe(reused.length - 1);
  });

  it('computes the same stage digests in two clones with separate caches', async () => {
    const { plain } = registries();
    const project = await makeProject(baseRef);
    const clone = await temp.make('slipway-clone-');
    await run('git', ['clone', '-q', project, clone]);
    const a = await slipway(project, ['build', '--repo', `${plain.host}/${uniqueRepo('build/clone-a')}`]);
    const b = await slipway(clone, ['build', '--repo', `${plain.host}/${uniqueRepo('build/clone-b')}`]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const digests = (out: string): Record<string, string> => Object.fromEntries(Object.entries(imageTags(out)).map(([k, v]) => [k, v.slice(0, 56)]));
    expect(digests(b.stderr)).toEqual(digests(a.stderr));
  });

  it('lets four processes build the same project at once; all agree on every stage tag', async () => {
    const { plain } = registries();
    const repo = `${plain.host}/${uniqueRepo('build/race')}`;
    const project = await makeProject(baseRef);
    const home = await temp.make('slipway-race-home-');
    const runs = await Promise.all([0, 1, 2, 3].map(async () => {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(process.cwd(), 'src/cli/main.ts'), 'build', '--dir', project, '--repo', repo], {
        cwd: process.cwd(), env: { ...process.env, SLIPWAY_HOME: home },
      });
      return stdout + stderr;
    }));
    const tags = runs.map(imageTags);
    for (const t of tags) expect(t).toEqual(tags[0]);
    expect(Object.keys(tags[0]!)).toHaveLength(3);
    const listed = (await run('skopeo', ['list-tags', '--tls-verify=false', `docker://${repo}`])).stdout;
    const stageTags = (JSON.parse(listed) as { Tags: string[] }).Tags.filter((t) => /^[0-9a-f]{56}-\d{13}$/.test(t));
    expect(stageTags.length).toBeGreaterThanOrEqual(9);
    // One tag per stage digest: nobody published a second timestamp.
    const digests = stageTags.map((t) => t.slice(0, 56));
    expect(new Set(digests).size).toBe(digests.length);
  });

  it('reports a Dockerfile error with file and line, and a RUN without a shell in the image', async () => {
    const project = await makeProject(baseRef);
    await writeFile(join(project, 'tools.Dockerfile'), 'FROM scratch\nCOPY missing.txt /x\n');
    await gitAsync(project, 'commit', '-qam', 'break');
    const missing = await slipway(project, ['build', 'tools']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^Error: tools\.Dockerfile:2: source "missing\.txt" not found in the build context/m);
    await writeFile(join(project, 'tools.Dockerfile'), 'FROM scratch\n\nRUN echo hi\n');
    await gitAsync(project, 'commit', '-qam', 'run');
    const runError = await slipway(project, ['build', 'tools']);
    expect(runError.code).toBe(1);
    expect(runError.stderr).toMatch(/^Error: tools\.Dockerfile:3: RUN: \/bin\/sh does not exist in the image/m);
    await writeFile(join(project, 'tools.Dockerfile'), 'FROM scratch\nCOPYY a b\n');
    await gitAsync(project, 'commit', '-qam', 'typo');
    const typo = await slipway(project, ['build', 'tools']);
    expect(typo.stderr).toMatch(/^Error: tools\.Dockerfile:2:/m);
  });

  it('fails with the error of the image that failed when more images wait than --parallel-tasks-limit runs', async () => {
    const project = await temp.make('slipway-build-queue-');
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    await writeFile(join(project, 'werf.yaml'), ['project: queuetest', 'configVersion: 1', ...names.flatMap((n) => ['---', `image: ${n}`, `dockerfile: ${n}.Dockerfile`])].join('\n') + '\n');
    for (const n of names) await writeFile(join(project, `${n}.Dockerfile`), n === 'a' ? 'FROM scratch\nRUN echo hi\n' : `FROM scratch\nENV N=${n}\n`);
    await gitAsync(project, 'init', '-q');
    await gitAsync(project, 'add', '-A');
    await gitAsync(project, '-c', 'user.email=t@example.org', '-c', 'user.name=t', 'commit', '-qm', 'queue');
    // The images still queued when `a` fails are dropped; the build must still end, with a's error.
    const result = await slipway(project, ['build', '--parallel-tasks-limit', '2']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: a\.Dockerfile:2: RUN: \/bin\/sh does not exist in the image/m);
    expect(result.stderr).not.toMatch(/AbortError|aborted/i);
  });

  it('looks up a base image once per build, however many images start FROM it', async () => {
    const { plain } = registries();
    const proxy = await startFaultProxy({ target: `http://${plain.host}` });
    try {
      const base = `${proxy.host}${baseRef.slice(baseRef.indexOf('/'))}`;
      const project = await temp.make('slipway-build-from-');
      const names = ['one', 'two', 'three'];
      await writeFile(join(project, 'werf.yaml'), ['project: fromonce', 'configVersion: 1', ...names.flatMap((n) => ['---', `image: ${n}`, `dockerfile: ${n}.Dockerfile`])].join('\n') + '\n');
      for (const n of names) await writeFile(join(project, `${n}.Dockerfile`), `FROM ${base}\nENV IMAGE=${n}\n`);
      await gitAsync(project, 'init', '-q');
      await gitAsync(project, 'add', '-A');
      await gitAsync(project, '-c', 'user.email=t@example.org', '-c', 'user.name=t', 'commit', '-qm', 'from once');
      const result = await slipway(project, ['build', '--repo', `${plain.host}/${uniqueRepo('build/from-once')}`]);
      expect(result.code, result.stderr).toBe(0);
      const baseRepo = baseRef.slice(baseRef.indexOf('/') + 1).split(':')[0]!;
      const manifestReads = proxy.requests.filter((r) => r.method === 'GET' && r.path.startsWith(`/v2/${baseRepo}/manifests/`));
      expect(manifestReads).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('builds into the local store without --repo (the embedded default)', async () => {
    const project = await makeProject(baseRef);
    const first = await slipway(project, ['build', 'tools']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/Stages storage: local/);
    const second = await slipway(project, ['build', 'tools']);
    expect(stageLines(second.stderr).built).toEqual([]);
    const tag = imageTags(second.stderr).tools!;
    const config = await skopeoInspect(`oci:${join(project, '.slipway-home/stages/buildtest')}:${tag}`, { config: true }) as { config: { Cmd: string[] } };
    expect(config.config.Cmd).toEqual(['tool']);
  });
});
