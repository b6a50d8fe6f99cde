import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliRuntime } from '../../src/cli/command.js';
import { runCli } from '../../src/cli/program.js';
import { makeRepo, removeTempDirs } from '../support/git-repo.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/werf/', import.meta.url));

afterEach(removeTempDirs);

/** A committed git repository with a copy of a fixture (and extra files). */
function repo(fixture: string | undefined, files: Record<string, string> = {}): string {
  return makeRepo(files, { prefix: 'slipway-config-cli-', ...(fixture === undefined ? {} : { fixture: path.join(FIXTURES, fixture) }) });
}

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const runtime: CliRuntime = {
    io: {
      stdout: (text) => {
        out.stdout += text;
      },
      stderr: (text) => {
        out.stderr += text;
      },
    },
    env,
  };
  const code = await runCli(argv, runtime);
  return { code, ...out };
}

describe('slipway config list', () => {
  it.each([
    ['minimal', 'myapp\n'],
    ['export-simple', 'alpine\n'],
    ['export-complex', 'backend\nfrombackend\nfrombackend2\n'],
    ['typical', 'backend\nfrontend\n'],
    ['templated', 'api\nbase\nworker\n'],
  ])('lists the images of the %s fixture, sorted', async (fixture, expected) => {
    expect(await run(['config', 'list', '--dir', repo(fixture)])).toEqual({ code: 0, stdout: expected, stderr: '' });
  });

  it('lists only final images with --final-only (werf: --final-images-only)', async () => {
    const dir = repo('templated');
    expect((await run(['config', 'list', '--dir', dir, '--final-only'])).stdout).toBe('api\nworker\n');
    expect((await run(['config', 'list', '--dir', dir, '--final-images-only'])).stdout).toBe('api\nworker\n');
    expect((await run(['config', 'list', '--dir', dir, '--final-only=false'])).stdout).toBe('api\nbase\nworker\n');
  });

  it('shows the nameless image as ~', async () => {
    const dir = repo(undefined, { 'werf.yaml': 'project: app\nconfigVersion: 1\n---\nimage: ~\nfrom: alpine\n' });
    expect((await run(['config', 'list', '--dir', dir])).stdout).toBe('~\n');
  });

  it('reads the project directory from WERF_DIR, and --env from WERF_ENV', async () => {
    const dir = repo('templated');
    expect((await run(['config', 'list'], { WERF_DIR: dir })).stdout).toBe('api\nbase\nworker\n');
    const rendered = await run(['config', 'render', 'api'], { WERF_DIR: dir, WERF_ENV: 'staging' });
    expect(rendered.stdout).toContain('ENVIRONMENT: "staging"');
  });
});

describe('slipway config render', () => {
  it.each(['minimal', 'export-simple', 'export-complex', 'typical'])('prints the %s fixture exactly as written', async (fixture) => {
    const dir = repo(fixture);
    const result = await run(['config', 'render', '--dir', dir]);
    expect(result).toEqual({ code: 0, stdout: readFileSync(path.join(dir, 'werf.yaml'), 'utf8'), stderr: '' });
  });

  it('prints the rendered configuration of a templated werf.yaml', async () => {
    const result = await run(['config', 'render', '--dir', repo('templated'), '--env', 'prod']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`project: templated-app
configVersion: 1
build:
  platform: [linux/amd64]
cleanup:
  keepPolicies:
  - references:
      branch: /.*/
      limit:
        last: 10
        in: 168h
    imagesPerReference:
      last: 2
---
image: api
dockerfile: Dockerfile
args:
  COMPONENT: api
  ENVIRONMENT: "prod"
imageSpec:
  config:
    labels:
      component: api
---
image: worker
dockerfile: Dockerfile
args:
  COMPONENT: worker
  ENVIRONMENT: "prod"
imageSpec:
  config:
    labels:
      component: worker
---
image: base
final: false
from: alpine:3.20
shell:
  install:
  - echo 1.2.3 > /version
`);
  });

  it('prints only the documents of the selected images, without the meta document, as werf does', async () => {
    const complex = repo('export-complex');
    expect((await run(['config', 'render', '--dir', complex, 'frombackend'])).stdout).toBe('image: frombackend\nfromImage: backend\n');
    expect((await run(['config', 'render', '--dir', complex, 'frombackend*', '!frombackend'])).stdout).toBe(
      'image: frombackend2\nfromImage: frombackend\nshell:\n  install: date',
    );
    const typical = repo('typical');
    expect((await run(['config', 'render', '--dir', typical, 'front*', 'backend'])).stdout).toBe(
      'image: backend\ncontext: backend\ndockerfile: Dockerfile\n---\nimage: frontend\ncontext: frontend\ndockerfile: Dockerfile\n',
    );
  });

  it('prints a document that defines several selected images once', async () => {
    const dir = repo(undefined, { 'werf.yaml': 'project: app\nconfigVersion: 1\n---\nimage: [a, b]\nfrom: alpine\n---\nimage: c\nfrom: alpine\n' });
    expect((await run(['config', 'render', '--dir', dir, 'a', 'b'])).stdout).toBe('image: [a, b]\nfrom: alpine\n');
  });

  it('fails as werf does for a pattern that matches nothing or is invalid', async () => {
    const dir = repo('minimal');
    expect(await run(['config', 'render', '--dir', dir, 'nonexistent'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: no image matches pattern "nonexistent"\n',
    });
    expect((await run(['config', 'render', '--dir', dir, '**'])).stderr).toBe('Error: recursive glob (**) not supported\n');
  });

  it('fails with every problem of an invalid werf.yaml, one per line', async () => {
    const dir = repo(undefined, { 'werf.yaml': 'project: app\nconfigVersion: 1\n---\nimage: a\ndockerfile: Dockerfile\ndockerfil: x\n---\nimage: b\nfromImage: missing\n' });
    expect(await run(['config', 'list', '--dir', dir])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'Error: werf.yaml: 2 problems\n' +
        '  werf.yaml:6: document 2 (image "a"): unknown key "dockerfil"\n' +
        '  werf.yaml:9: document 3 (image "b"): fromImage: image "missing" is not defined in werf.yaml\n',
    });
  });

  it('reads the committed werf.yaml unless --dev', async () => {
    const dir = repo('minimal');
    writeFileSync(path.join(dir, 'werf.yaml'), 'project: myproject\nconfigVersion: 1\n---\nimage: changed\ndockerfile: Dockerfile\n');
    const committed = await run(['config', 'list', '--dir', dir]);
    expect(committed.code).toBe(1);
    expect(committed.stderr).toContain('werf.yaml');
    expect((await run(['config', 'list', '--dir', dir, '--dev'])).stdout).toBe('changed\n');
  });

  it('is listed in help with its subcommands', async () => {
    const help = await run(['config', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('render');
    expect(help.stdout).toContain('list');
    const renderHelp = await run(['config', 'render', '--help']);
    expect(renderHelp.stdout).toContain('--config-templates-dir');
    expect(renderHelp.stdout).toContain('$WERF_GIT_WORK_TREE');
  });
});
