// imageSpec end to end against a real registry: werf's spec_mutation e2e fixture (adapted to Dockerfile images in
// test/fixtures/werf/spec-mutation) built into --repo, its checks read back from the stored configs; reuse, the
// stage digest, and export.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildReport } from '../../src/builder/build-report.js';
import { runSlipway, type CliRun } from '../support/cli.js';
import { commitAll, makeRepo, removeTempDirs, write } from '../support/git-repo.js';
import { imageConfig, type ImageConfig } from '../support/image-fs.js';
import { uniqueRepo } from '../support/images.js';
import { registries } from '../support/registries.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/werf/spec-mutation/', import.meta.url));

interface Built { run: CliRun; report: BuildReport; configs: Record<string, ImageConfig & { author?: string }> }

async function build(dir: string, repo: string): Promise<Built> {
  const reportPath = join(dir, '.report.json');
  const run = await runSlipway(['build', '--dir', dir, '--repo', repo, '--save-build-report', '--build-report-path', reportPath], { SLIPWAY_HOME: join(dir, '.slipway-home') });
  expect(run.code, run.out).toBe(0);
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as BuildReport;
  const configs: Built['configs'] = {};
  for (const [name, image] of Object.entries(report.Images)) configs[name] = await imageConfig(image.DockerImageName);
  return { run, report, configs };
}

let project: string;
let repo: string;
let first: Built;

beforeAll(async () => {
  project = makeRepo({}, { fixture: FIXTURE, prefix: 'slipway-image-spec-' });
  repo = `${registries().plain.host}/${uniqueRepo('image-spec/stages')}`;
  first = await build(project, repo);
});
afterAll(removeTempDirs);

describe('imageSpec (werf\'s spec_mutation fixture on Dockerfile images)', () => {
  it('builds the imageSpec stage last, with werf\'s log lines', () => {
    // werf's mutate_test.go: Expect(buildOut).To(ContainSubstring("Building stage")).
    expect(first.run.out).toContain('Building stage');
    expect(first.run.out).toMatch(/^Building stage basic-test\/imageSpec\nStore stage basic-test\/imageSpec$/m);
    for (const image of ['base', 'basic-test', 'clean-test', 'cmd-test']) {
      expect(first.report.Images[image]!.Stages.at(-1)!.Name).toBe('imageSpec');
    }
  });

  it('basic-test: the checks of werf\'s mutate_test.go', () => {
    const config = first.configs['basic-test']!;
    const c = config.config!;
    expect(config.author).toBe('globalAuthor');

    expect(c.Env).toContain('ADD=me');
    expect(c.Env).toContain('ADD_ANOTHER=me');
    expect(c.Env).toContain('PATH=/usr/bin:/add/path');
    expect(c.Env).not.toContain('APP_ENV=test');
    expect(c.Env).not.toContain('APP_VERSION=0.0.1');
    expect(c.Env).not.toContain('REMOVE=ME');

    const volumes = c.Volumes as Record<string, object>;
    expect(volumes).toHaveProperty(['/home/app/data']);
    expect(volumes).toHaveProperty(['/test/volume']);
    expect(volumes).toHaveProperty(['/second/test/volume']);
    expect(volumes).not.toHaveProperty(['/home/remove/me']);

    expect(c.Cmd).toContain('/bin/sh');
    expect(c.Entrypoint).toContain('test');

    const labels = c.Labels!;
    expect(labels).toHaveProperty(['maintainer']);
    expect(labels).toHaveProperty(['save']);
    expect(labels).toHaveProperty(['test']);
    // werf's `werf` and `werf.io/parent-stage-id` are Slipway's `slipway` and `slipway.io/parent-stage-id`.
    expect(labels).toHaveProperty(['slipway']);
    expect(labels).toHaveProperty(['global_label']);
    expect(labels).toHaveProperty(['slipway.io/parent-stage-id']);
    expect(labels).not.toHaveProperty(['pleaseremove']);
    expect(labels).not.toHaveProperty(['remove.completely']);
    expect(labels).not.toHaveProperty(['remove.all']);

    expect(c.User).toBe('testuser');
    expect(c.ExposedPorts).toEqual({ 99: {} });
    expect(c.ExposedPorts).not.toHaveProperty(['1234/tcp']);
    expect(c.WorkingDir).toBe('/test/work');
    expect(c.StopSignal).toBe('SIGINT');
    // Not checked by werf's test: the healthcheck as go-containerregistry writes it (durations in nanoseconds).
    expect(c.Healthcheck).toEqual({ Test: ['curl -f http://localhost/ || exit 1'], Interval: 30_000_000_000, Retries: 3 });
    // build.imageSpec clearHistory reaches every final image.
    expect(config.history).toBeUndefined();
  });

  it('clean-test: the checks of werf\'s mutate_test.go', () => {
    const config = first.configs['clean-test']!;
    const c = config.config!;
    expect(config.author).toBe('globalAuthor');
    expect(c.Env ?? []).toEqual([]);
    expect(c.Volumes ?? {}).toEqual({});
    expect(c.Cmd ?? []).toEqual([]);
    expect(c.Entrypoint ?? []).toEqual([]);
    expect(c.Labels).toHaveProperty(['global_label']);
    expect(c.User ?? '').toBe('');
    expect(c.ExposedPorts).toEqual({ '': {} });
    expect(c.WorkingDir ?? '').toBe('');
    // removeLabels /.*/ spares the essential labels (keepEssentialWerfLabels false: with werf's warning, once).
    expect(Object.keys(c.Labels!).sort()).toEqual(['global_label', 'slipway', 'slipway-project-repo-commit', 'slipway-stage-content-digest', 'slipway.io/parent-stage-id']);
    expect(first.run.out.match(/cannot be removed within the imageSpec stage/g)).toHaveLength(1);
  });

  it('cmd-test: the checks of werf\'s mutate_test.go', () => {
    const config = first.configs['cmd-test']!;
    expect(config.author).toBe('globalAuthor');
    expect(config.config!.Cmd ?? []).toEqual([]);
    expect(config.config!.Entrypoint).toContain('/bin/test');
  });

  it('base: build.imageSpec applies to every final image', () => {
    const config = first.configs['base']!;
    expect(config.author).toBe('globalAuthor');
    expect(config.config!.Labels).toHaveProperty(['global_label'], 'yes');
    expect(config.config!.Labels).not.toHaveProperty(['remove_global_label']);
    expect(config.config!.Labels).toHaveProperty(['remove.all'], 'yes');
  });

  it('reuses every stage on a second build; a changed imageSpec rebuilds only the imageSpec stage', async () => {
    const again = await build(project, repo);
    expect(again.run.out).not.toMatch(/^Store stage|^Building stage/m);
    expect(again.run.out).toMatch(/^Use previously built image for basic-test\/imageSpec$/m);
    for (const name of Object.keys(first.report.Images)) expect(again.report.Images[name]!.DockerTag).toBe(first.report.Images[name]!.DockerTag);

    const werfYaml = readFileSync(join(project, 'werf.yaml'), 'utf8').replace('stopSignal: SIGINT', 'stopSignal: SIGQUIT');
    write(project, 'werf.yaml', werfYaml);
    commitAll(project, 'stop signal');
    const changed = await build(project, repo);
    expect([...changed.run.out.matchAll(/^Store stage (\S+)/gm)].map((m) => m[1])).toEqual(['basic-test/imageSpec']);
    expect(changed.report.Images['basic-test']!.DockerTag).not.toBe(first.report.Images['basic-test']!.DockerTag);
    expect(changed.report.Images['clean-test']!.DockerTag).toBe(first.report.Images['clean-test']!.DockerTag);
    expect(changed.configs['basic-test']!.config!.StopSignal).toBe('SIGQUIT');
  });

  it('export publishes the imageSpec stage, without the service labels', async () => {
    const dest = `${registries().plain2.host}/${uniqueRepo('image-spec/out')}`;
    const run = await runSlipway(['export', 'basic-test', '--dir', project, '--repo', repo, '--tag', `${dest}:v1`], { SLIPWAY_HOME: join(project, '.slipway-home') });
    expect(run.code, run.out).toBe(0);
    const config = (await imageConfig(`${dest}:v1`)) as ImageConfig & { author?: string };
    expect(config.author).toBe('globalAuthor');
    expect(config.config!.User).toBe('testuser');
    expect(Object.keys(config.config!.Labels!).sort()).toEqual(['global_label', 'maintainer', 'save', 'test']);
  });

  it('a staged Dockerfile image gets no imageSpec stage, as in werf, and says so', async () => {
    const dir = makeRepo({
      'werf.yaml': 'project: staged\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\nstaged: true\nimageSpec:\n  author: me\n',
      Dockerfile: 'FROM scratch\nLABEL a=b\n',
    });
    const built = await build(dir, `${registries().plain.host}/${uniqueRepo('image-spec/staged')}`);
    expect(built.run.out).toContain('Warning: image app: imageSpec is not applied to a staged Dockerfile image');
    expect(built.report.Images['app']!.Stages.map((s) => s.Name)).not.toContain('imageSpec');
    expect(built.configs['app']!.author).toBeUndefined();
  });
});
