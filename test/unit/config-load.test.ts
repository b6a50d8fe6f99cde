import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  ConfigValidationError,
  goTimeString,
  loadProject,
  loadWerfConfig,
  type DockerfileImage,
  type LoadWerfConfigOptions,
  type StapelImage,
  type WerfConfig,
} from '../../src/config/index.js';
import { configErrorOf } from '../support/errors.js';
import { gitWith, makeRepo, removeTempDirs, tempDir } from '../support/git-repo.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/werf/', import.meta.url));
const COMMIT_DATE = '2024-05-01T12:34:56+02:00';

afterEach(removeTempDirs);

const COMMIT_DATES = { GIT_AUTHOR_DATE: COMMIT_DATE, GIT_COMMITTER_DATE: COMMIT_DATE };

function git(dir: string, ...args: string[]): string {
  return gitWith(COMMIT_DATES, dir, ...args);
}

/** A committed git repository holding `files` (and a copy of a fixture directory, when given). */
function repo(files: Record<string, string>, fixture?: string): string {
  return makeRepo(files, { prefix: 'slipway-config-', env: COMMIT_DATES, ...(fixture === undefined ? {} : { fixture: path.join(FIXTURES, fixture) }) });
}

function load(dir: string, options: Omit<LoadWerfConfigOptions, 'dir'> = {}): WerfConfig {
  return loadWerfConfig({ dir, environment: {}, ...options });
}

function loadError(dir: string, options: Omit<LoadWerfConfigOptions, 'dir'> = {}): ConfigError {
  return configErrorOf(() => load(dir, options));
}

const META = 'project: app\nconfigVersion: 1\n---\n';

function image<K extends 'dockerfile' | 'stapel'>(config: WerfConfig, name: string, kind: K): K extends 'dockerfile' ? DockerfileImage : StapelImage {
  const found = config.images.find((i) => i.name === name);
  if (found?.kind !== kind) throw new Error(`no ${kind} image ${name}`);
  return found as K extends 'dockerfile' ? DockerfileImage : StapelImage;
}

describe('loadWerfConfig: templates end to end, through a git repository', () => {
  it('renders the templated fixture: variables, range, include of a .werf template, .Env, .Files.Get', () => {
    const dir = repo({}, 'templated');
    const { config, templated } = loadProject({ dir, environment: {} });
    expect(templated).toBe(true);
    expect(config.project).toBe('templated-app');
    expect(config.images.map((i) => [i.name, i.final])).toEqual([
      ['api', true],
      ['worker', true],
      ['base', false],
    ]);
    expect(image(config, 'worker', 'dockerfile').args).toEqual({ COMPONENT: 'worker', ENVIRONMENT: 'dev' });
    expect(image(config, 'api', 'dockerfile').imageSpec?.labels).toEqual({ component: 'api' });
    expect(image(config, 'base', 'stapel').shell?.install).toEqual(['echo 1.2.3 > /version']);
    expect(config.build.platform).toEqual(['linux/amd64']);
    expect(config.cleanup.keepPolicies[0]?.references.limit).toMatchObject({ last: 10, in: '168h', operator: 'And' });
    expect(config.rendered).toContain('image: worker\ndockerfile: Dockerfile\n');
    expect(config.rendered).not.toContain('{{');
  });

  it('passes --env as .Env', () => {
    const dir = repo({}, 'templated');
    expect(image(load(dir, { env: 'production' }), 'api', 'dockerfile').args['ENVIRONMENT']).toBe('production');
  });

  it('exposes .Files.Get, .Glob, .Exists and .IsDir over the committed files', () => {
    const dir = repo({
      'werf.yaml': `${META}image: a
dockerfile: Dockerfile
args:
  GET: {{ .Files.Get "conf/a.txt" | trim | quote }}
{{- range $path, $content := .Files.Glob "conf/*.txt" }}
  {{ $path | replace "/" "_" | replace "." "_" | upper }}: {{ $content | trim | quote }}
{{- end }}
  EXISTS: "{{ .Files.Exists "conf/a.txt" }} {{ .Files.Exists "nope.txt" }} {{ .Files.Exists "conf" }}"
  ISDIR: "{{ .Files.IsDir "conf" }} {{ .Files.IsDir "conf/a.txt" }}"
`,
      'conf/a.txt': 'alpha\n',
      'conf/b.txt': 'beta\n',
      Dockerfile: 'FROM alpine\n',
    });
    expect(image(load(dir), 'a', 'dockerfile').args).toEqual({
      GET: 'alpha',
      CONF_A_TXT: 'alpha',
      CONF_B_TXT: 'beta',
      EXISTS: 'true false true',
      ISDIR: 'true false',
    });
  });

  it('fails when .Files.Glob matches nothing, or .Files.Get reads a missing file', () => {
    const glob = repo({ 'werf.yaml': `${META}image: a\nfrom: {{ .Files.Glob "none/*" }}\n` });
    expect(loadError(glob).message).toContain('{{ .Files.Glob "none/*" }}: no matches found');
    const get = repo({ 'werf.yaml': `${META}image: a\nfrom: {{ .Files.Get "missing.txt" }}\n` });
    expect(loadError(get).message).toContain('missing.txt');
  });

  it('reads .Files.* through giterminism: an uncommitted change is an error naming the file', () => {
    const dir = repo({ 'werf.yaml': `${META}image: a\nfrom: {{ .Files.Get "base.txt" | trim }}\n`, 'base.txt': 'alpine\n' });
    writeFileSync(path.join(dir, 'base.txt'), 'ubuntu\n');
    expect(loadError(dir).message).toContain('base.txt');
    expect(image(load(dir, { dev: true }), 'a', 'stapel').from).toBe('ubuntu');
    expect(image(load(dir, { looseGiterminism: true }), 'a', 'stapel').from).toBe('ubuntu');
  });

  it('exposes .Commit.Hash, .Commit.Date.Human (Go time format) and .Commit.Date.Unix', () => {
    const dir = repo({
      'werf.yaml': `${META}image: a
dockerfile: Dockerfile
args:
  HASH: "{{ .Commit.Hash }}"
  HUMAN: "{{ .Commit.Date.Human }}"
  UNIX: "{{ .Commit.Date.Unix }}"
`,
    });
    const args = image(load(dir), 'a', 'dockerfile').args;
    expect(args['HASH']).toBe(git(dir, 'rev-parse', 'HEAD').trim());
    expect(args['HUMAN']).toBe('2024-05-01 12:34:56 +0200 +0200');
    expect(args['UNIX']).toBe(String(Date.parse(COMMIT_DATE) / 1000));
  });

  it('formats commit dates as Go time.Time String()', () => {
    const date = new Date('2024-05-01T10:34:56Z');
    expect(goTimeString({ date, dateIso: '2024-05-01T12:34:56+02:00' })).toBe('2024-05-01 12:34:56 +0200 +0200');
    expect(goTimeString({ date, dateIso: '2024-05-01T10:34:56+00:00' })).toBe('2024-05-01 10:34:56 +0000 UTC');
    expect(goTimeString({ date, dateIso: '2024-05-01T05:04:56-05:30' })).toBe('2024-05-01 05:04:56 -0530 -0530');
    expect(goTimeString({ date, dateIso: '' })).toBe('2024-05-01 10:34:56 +0000 UTC');
  });
});

describe('loadWerfConfig: the env function and giterminism', () => {
  const withEnv = `${META}image: a\nfrom: alpine\ncacheVersion: "{{ env "BUILD_FLAVOUR" }}"\n`;
  const withDefault = `${META}image: a\nfrom: alpine\ncacheVersion: "{{ env "BUILD_FLAVOUR" "fallback" }}"\n`;
  const allowance = 'giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariables: [BUILD_FLAVOUR]\n';

  it('refuses a variable werf-giterminism.yaml does not allow', () => {
    const error = loadError(repo({ 'werf.yaml': withEnv }), { environment: { BUILD_FLAVOUR: 'x' } });
    expect(error.message).toContain("env name 'BUILD_FLAVOUR' not allowed");
  });

  it('reads an allowed variable; unset without a default is an error', () => {
    const dir = repo({ 'werf.yaml': withEnv, 'werf-giterminism.yaml': allowance });
    expect(load(dir, { environment: { BUILD_FLAVOUR: 'fast' } }).images[0]?.cacheVersion).toBe('fast');
    expect(loadError(dir).message).toContain('the environment variable "BUILD_FLAVOUR" must be set or default must be provided');
  });

  it('uses the default when the variable is unset or empty', () => {
    const dir = repo({ 'werf.yaml': withDefault, 'werf-giterminism.yaml': allowance });
    expect(load(dir).images[0]?.cacheVersion).toBe('fallback');
    expect(load(dir, { environment: { BUILD_FLAVOUR: '' } }).images[0]?.cacheVersion).toBe('fallback');
    expect(load(dir, { environment: { BUILD_FLAVOUR: 'set' } }).images[0]?.cacheVersion).toBe('set');
  });

  it('allows every variable under --loose-giterminism, an unset one being empty', () => {
    const dir = repo({ 'werf.yaml': withEnv });
    expect(load(dir, { looseGiterminism: true, environment: { BUILD_FLAVOUR: 'loose' } }).images[0]?.cacheVersion).toBe('loose');
    expect(load(dir, { looseGiterminism: true }).images[0]?.cacheVersion).toBe('');
  });

  it('checks fromLatest, mounts and contextAddFiles against werf-giterminism.yaml', () => {
    const text = `${META}image: a
from: alpine
fromLatest: true
mount:
- from: build_dir
  to: /cache
---
image: d
dockerfile: Dockerfile
contextAddFiles: [secret.txt]
`;
    const error = loadError(repo({ 'werf.yaml': text }));
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect(error.message.split('\n')).toEqual([
      'werf.yaml: 3 problems',
      expect.stringMatching(/^werf\.yaml:6: document 2 \(image "a"\): fromLatest: the configuration with external dependency found in the werf config: fromLatest directive not allowed/),
      expect.stringMatching(/^werf\.yaml:8: document 2 \(image "a"\): mount\[0\]\.from: .*"mount \{ from: build_dir, \.\.\. \}" not allowed/),
      expect.stringMatching(/^werf\.yaml:13: document 3 \(image "d"\): contextAddFiles\[0\]: .*contextAddFile "secret.txt" not allowed/),
    ]);
    const allowed = repo({
      'werf.yaml': text,
      'werf-giterminism.yaml':
        'giterminismConfigVersion: 1\nconfig:\n  stapel:\n    allowFromLatest: true\n    mount:\n      allowBuildDir: true\n  dockerfile:\n    allowContextAddFiles: [secret.txt]\n',
    });
    expect(load(allowed).images).toHaveLength(2);
    expect(load(repo({ 'werf.yaml': text }), { looseGiterminism: true }).images).toHaveLength(2);
  });
  it('checks build secrets against config.secrets of werf-giterminism.yaml', () => {
    const text = `${META}image: a
dockerfile: Dockerfile
secrets:
- env: NPM_TOKEN
- src: .npmrc
- id: key
  value: plain
`;
    const error = loadError(repo({ 'werf.yaml': text }));
    expect(error.message.split('\n')).toEqual([
      'werf.yaml: 3 problems',
      'werf.yaml:7: document 2 (image "a"): secrets[0].env: the configuration with external dependency found in the werf config: secret "NPM_TOKEN" is not allowed by giterminism (allow it in werf-giterminism.yaml: config.secrets.allowEnvVariables: [NPM_TOKEN])',
      'werf.yaml:8: document 2 (image "a"): secrets[1].src: the configuration with external dependency found in the werf config: secret ".npmrc" is not allowed by giterminism (allow it in werf-giterminism.yaml: config.secrets.allowFiles: [.npmrc])',
      'werf.yaml:10: document 2 (image "a"): secrets[2].value: the configuration with external dependency found in the werf config: secret "key" is not allowed by giterminism (allow it in werf-giterminism.yaml: config.secrets.allowValueIds: [key])',
    ]);
    const allowed = repo({
      'werf.yaml': text,
      'werf-giterminism.yaml': 'giterminismConfigVersion: 1\nconfig:\n  secrets:\n    allowEnvVariables: [/^NPM_.*/]\n    allowFiles: [.npmrc]\n    allowValueIds: [key]\n',
    });
    expect(load(allowed).images[0]?.secrets.map((secret) => secret.id)).toEqual(['NPM_TOKEN', '.npmrc', 'key']);
  });
});

describe('loadWerfConfig: files, options and overrides', () => {
  it('lets SLIPWAY_PROJECT_NAME, else WERF_PROJECT_NAME, override project', () => {
    const dir = repo({}, 'minimal');
    expect(load(dir).project).toBe('myproject');
    expect(load(dir, { environment: { WERF_PROJECT_NAME: 'from-werf' } }).project).toBe('from-werf');
    expect(load(dir, { environment: { WERF_PROJECT_NAME: 'from-werf', SLIPWAY_PROJECT_NAME: 'from-slipway' } }).project).toBe('from-slipway');
    expect(load(dir, { environment: { WERF_PROJECT_NAME: '' } }).project).toBe('myproject');
  });

  it('falls back to werf.yml, honours --config, and says when there is no configuration', () => {
    expect(load(repo({ 'werf.yml': `${META}image: yml\nfrom: alpine\n` })).images[0]?.name).toBe('yml');
    const custom = repo({ 'ci/werf-ci.yaml': `${META}image: ci\nfrom: alpine\n` });
    const config = load(custom, { config: 'ci/werf-ci.yaml' });
    expect(config.images[0]?.name).toBe('ci');
    expect(config.file).toBe('ci/werf-ci.yaml');
    expect(loadError(repo({ 'README.md': 'x' })).message).toMatch(/^unable to load werf config: "werf\.yaml" or "werf\.yml" not found/);
  });

  it('reads templates from --config-templates-dir, named by their path inside it', () => {
    const dir = repo({
      'werf.yaml': `${META}image: {{ include "nested/name.tmpl" . }}\nfrom: {{ template "base" }}\n`,
      'templates/nested/name.tmpl': '{{- "from-template" -}}',
      'templates/base.tmpl': '{{ define "base" }}alpine{{ end }}',
    });
    const config = load(dir, { configTemplatesDir: 'templates' });
    expect(config.images[0]).toMatchObject({ name: 'from-template', from: 'alpine' });
  });

  it('reads the committed werf.yaml: an uncommitted change is a giterminism error, --dev reads it', () => {
    const dir = repo({}, 'minimal');
    writeFileSync(path.join(dir, 'werf.yaml'), 'project: changed\nconfigVersion: 1\n---\nimage: other\ndockerfile: Dockerfile\n');
    expect(loadError(dir).message).toContain('werf.yaml');
    expect(load(dir, { dev: true }).project).toBe('changed');
  });

  it('reports validation problems with lines of the rendered file, saying so when the file is templated', () => {
    const dir = repo({ 'werf.yaml': `{{ $x := 1 }}${META}{{ range list "a" "b" }}image: {{ . }}\nfrom: alpine\nbogus: {{ . }}\n---\n{{ end }}` });
    const error = loadError(dir);
    expect(error.message.split('\n')).toEqual([
      'werf.yaml: 2 problems',
      'werf.yaml:6: document 2 (image "a"): unknown key "bogus"',
      'werf.yaml:10: document 3 (image "b"): unknown key "bogus"',
    ]);
    expect(error.hint).toContain('slipway config render');
  });

  it('reports template errors with the file, line and column', () => {
    const error = loadError(repo({ 'werf.yaml': `${META}image: a\nfrom: {{ nosuchfunction 1 }}\n` }));
    expect(error.message).toMatch(/^werf\.yaml:5:\d+: /);
    expect(error.message).toContain('nosuchfunction');
  });

  it('loads the werf examples of the reference', () => {
    expect(load(repo({}, 'export-simple')).images.map((i) => i.name)).toEqual(['alpine']);
    const complex = load(repo({}, 'export-complex'));
    expect(complex.project).toBe('werf-test-e2e-export-complex');
    expect(complex.images.map((i) => [i.name, i.dependsOn.from])).toEqual([
      ['backend', undefined],
      ['frombackend', 'backend'],
      ['frombackend2', 'frombackend'],
    ]);
    expect(load(repo({}, 'typical')).images.map((i) => [i.name, i.kind === 'dockerfile' ? i.context : ''])).toEqual([
      ['backend', 'backend'],
      ['frontend', 'frontend'],
    ]);
  });

  it('needs a git work tree unless --dev or --loose-giterminism', () => {
    const dir = tempDir('slipway-nogit-');
    cpSync(path.join(FIXTURES, 'minimal'), dir, { recursive: true });
    expect(loadError(dir).message).toContain('git work tree');
    expect(load(dir, { looseGiterminism: true }).images[0]?.name).toBe('myapp');
  });
});
