import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_GITERMINISM_CONFIG_PATH,
  EMPTY_GITERMINISM_CONFIG,
  inspectContextAddFile,
  inspectCustomTags,
  inspectEnv,
  inspectFromLatest,
  inspectGitBranch,
  inspectMountBuildDir,
  inspectMountFromPath,
  isAllowedPath,
  isEnvAllowed,
  loadGiterminismConfig,
  openProjectFiles,
  openProjectFilesWithGiterminism,
  parseGiterminismConfig,
  ProjectFileError,
  type GiterminismConfig,
} from '../../src/project/index.js';
import { configErrorOf } from '../support/errors.js';
import { makeRepo, removeTempDirs, writeFiles } from '../support/git-repo.js';

afterEach(removeTempDirs);

const FULL = `giterminismConfigVersion: 1
cli:
  allowCustomTags: true
config:
  allowUncommitted: true
  allowUncommittedTemplates:
    - .werf/**/*.tmpl
  goTemplateRendering:
    allowEnvVariables:
      - CI_COMMIT_TAG
      - /CI_.*/
    allowUncommittedFiles:
      - configs/*
  secrets:
    allowEnvVariables: [SECRET]
    allowFiles: [/run/secrets/x]
    allowValueIds: [id]
  stapel:
    allowFromLatest: true
    git:
      allowBranch: true
    mount:
      allowBuildDir: true
      allowFromPaths: [/tmp/cache]
  dockerfile:
    allowUncommitted: [Dockerfile]
    allowUncommittedDockerignoreFiles: [.dockerignore]
    allowContextAddFiles: [gen]
helm:
  allowUncommittedFiles: ['.helm/**']
includes:
  allowIncludesUpdate: true
`;

describe('parseGiterminismConfig', () => {
  it('reads every directive werf documents', () => {
    const config = parseGiterminismConfig(FULL);
    expect(config).toEqual({
      giterminismConfigVersion: 1,
      cli: { allowCustomTags: true },
      config: {
        allowUncommitted: true,
        allowUncommittedTemplates: ['.werf/**/*.tmpl'],
        goTemplateRendering: { allowEnvVariables: ['CI_COMMIT_TAG', '/CI_.*/'], allowUncommittedFiles: ['configs/*'] },
        secrets: { allowEnvVariables: ['SECRET'], allowFiles: ['/run/secrets/x'], allowValueIds: ['id'] },
        stapel: {
          allowFromLatest: true,
          git: { allowBranch: true },
          mount: { allowBuildDir: true, allowFromPaths: ['/tmp/cache'] },
        },
        dockerfile: {
          allowUncommitted: ['Dockerfile'],
          allowUncommittedDockerignoreFiles: ['.dockerignore'],
          allowContextAddFiles: ['gen'],
        },
      },
      helm: { allowUncommittedFiles: ['.helm/**'] },
      includes: { allowIncludesUpdate: true },
    } satisfies GiterminismConfig);
  });

  it('accepts the version as a string, and empty sections', () => {
    expect(parseGiterminismConfig('giterminismConfigVersion: "1"\nconfig:\n')).toEqual({ giterminismConfigVersion: 1 });
  });

  it('requires giterminismConfigVersion: 1', () => {
    expect(configErrorOf(() => parseGiterminismConfig('')).message).toMatch(/"giterminismConfigVersion" is required/);
    expect(configErrorOf(() => parseGiterminismConfig('config: {}')).message).toMatch(/"giterminismConfigVersion" is required/);
    expect(configErrorOf(() => parseGiterminismConfig('giterminismConfigVersion: 2')).message).toMatch(/must be 1/);
  });

  it('names unknown keys with their full path', () => {
    expect(configErrorOf(() => parseGiterminismConfig('giterminismConfigVersion: 1\nconfgi: {}')).message).toContain(
      'unknown key "confgi"',
    );
    const nested = configErrorOf(() =>
      parseGiterminismConfig('giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnv: [X]\n'),
    );
    expect(nested.message).toContain('unknown key "config.goTemplateRendering.allowEnv"');
    expect(nested.message).toContain('allowEnvVariables');
    expect(
      configErrorOf(() => parseGiterminismConfig('giterminismConfigVersion: 1\nconfig:\n  dockerfile:\n    allowContextAddFile: [x]\n'))
        .message,
    ).toContain('unknown key "config.dockerfile.allowContextAddFile"');
  });

  it('checks value types, globs and regular expressions', () => {
    const parse = (body: string) => parseGiterminismConfig(`giterminismConfigVersion: 1\n${body}`);
    expect(configErrorOf(() => parse('config:\n  allowUncommitted: "yes"')).message).toContain(
      '"config.allowUncommitted" must be a boolean',
    );
    expect(configErrorOf(() => parse('config:\n  allowUncommittedTemplates: .werf/a.tmpl')).message).toContain(
      '"config.allowUncommittedTemplates" must be a list of strings',
    );
    expect(configErrorOf(() => parse('config: []')).message).toContain('"config" must be a mapping');
    expect(configErrorOf(() => parse('config:\n  allowUncommittedTemplates: ["[a"]')).message).toContain('invalid glob');
    expect(
      configErrorOf(() => parse('config:\n  goTemplateRendering:\n    allowEnvVariables: ["/(/"]')).message,
    ).toContain('invalid regular expression');
  });

  it('reports YAML syntax errors and duplicate keys', () => {
    expect(configErrorOf(() => parseGiterminismConfig('giterminismConfigVersion: [1')).message).toMatch(/unable to parse/);
    expect(
      configErrorOf(() => parseGiterminismConfig('giterminismConfigVersion: 1\ngiterminismConfigVersion: 1')).message,
    ).toMatch(/unable to parse/);
  });
});

describe('loadGiterminismConfig', () => {
  it('no file anywhere means no relaxations', () => {
    const repo = makeRepo({ 'werf.yaml': 'x' });
    expect(loadGiterminismConfig(repo)).toEqual(EMPTY_GITERMINISM_CONFIG);
    expect(loadGiterminismConfig(openProjectFiles({ projectDir: repo }))).toEqual({ giterminismConfigVersion: 1 });
  });

  it('reads the committed file, from a directory or from project files', () => {
    const repo = makeRepo({ [DEFAULT_GITERMINISM_CONFIG_PATH]: 'giterminismConfigVersion: 1\ncli:\n  allowCustomTags: true\n' });
    expect(loadGiterminismConfig(repo).cli?.allowCustomTags).toBe(true);
    expect(loadGiterminismConfig(openProjectFiles({ projectDir: repo })).cli?.allowCustomTags).toBe(true);
  });

  it('a custom path, in a subdirectory project', () => {
    const repo = makeRepo({ 'app/ci/giterminism.yaml': 'giterminismConfigVersion: 1\nconfig:\n  allowUncommitted: true\n' });
    const config = loadGiterminismConfig(path.join(repo, 'app'), 'ci/giterminism.yaml');
    expect(config.config?.allowUncommitted).toBe(true);
    // As in werf, any file of the git work tree: one above it is refused.
    expect(() => loadGiterminismConfig(path.join(repo, 'app'), '../../x.yaml')).toThrow(/outside the git work tree/);
  });

  it('the giterminism config itself must be committed', () => {
    const repo = makeRepo({ [DEFAULT_GITERMINISM_CONFIG_PATH]: 'giterminismConfigVersion: 1\n' });
    writeFiles(repo, { [DEFAULT_GITERMINISM_CONFIG_PATH]: 'giterminismConfigVersion: 1\nconfig:\n  allowUncommitted: true\n' });
    const error = configErrorOf(() => loadGiterminismConfig(repo));
    expect(error.message).toBe(
      'unable to read werf giterminism config: the file "werf-giterminism.yaml" must be committed',
    );
    expect(error.cause).toBeInstanceOf(ProjectFileError);
  });

  it('an untracked giterminism config is an error, not silently ignored', () => {
    const repo = makeRepo({ 'werf.yaml': 'x' });
    writeFiles(repo, { [DEFAULT_GITERMINISM_CONFIG_PATH]: 'giterminismConfigVersion: 1\nconfig:\n  allowUncommitted: true\n' });
    expect(configErrorOf(() => loadGiterminismConfig(repo)).message).toBe(
      'unable to read werf giterminism config: the file "werf-giterminism.yaml" must be committed',
    );
  });

  it('under --dev and --loose-giterminism the working-tree copy is read', () => {
    const repo = makeRepo({ 'werf.yaml': 'x' });
    writeFiles(repo, { [DEFAULT_GITERMINISM_CONFIG_PATH]: 'giterminismConfigVersion: 1\ncli:\n  allowCustomTags: true\n' });
    for (const options of [{ dev: true }, { looseGiterminism: true }]) {
      const files = openProjectFiles({ projectDir: repo, ...options });
      expect(loadGiterminismConfig(files).cli?.allowCustomTags).toBe(true);
    }
  });

  it('an invalid committed file is a ConfigError naming the key', () => {
    const repo = makeRepo({ [DEFAULT_GITERMINISM_CONFIG_PATH]: 'giterminismConfigVersion: 1\nconfig:\n  nope: true\n' });
    expect(configErrorOf(() => loadGiterminismConfig(repo)).message).toContain('unknown key "config.nope"');
  });

  it('openProjectFilesWithGiterminism applies the committed relaxations', () => {
    const repo = makeRepo({
      'werf.yaml': 'committed',
      [DEFAULT_GITERMINISM_CONFIG_PATH]: 'giterminismConfigVersion: 1\nconfig:\n  allowUncommitted: true\n',
    });
    writeFiles(repo, { 'werf.yaml': 'working' });
    const files = openProjectFilesWithGiterminism({ projectDir: repo });
    expect(files.giterminism.config?.allowUncommitted).toBe(true);
    expect(files.readFile('werf.yaml', 'config').toString()).toBe('working');
    const strict = openProjectFiles({ projectDir: repo });
    expect(() => strict.readFile('werf.yaml', 'config')).toThrow(/must be committed/);
  });
});

describe('isEnvAllowed', () => {
  const config = parseGiterminismConfig(
    'giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariables: [HOME, "/CI_[A-Z_]+/", "/(?i)app_.*/"]\n',
  );

  it('allows listed names exactly', () => {
    expect(isEnvAllowed(config, 'HOME', false)).toBe(true);
    expect(isEnvAllowed(config, 'HOMEX', false)).toBe(false);
    expect(isEnvAllowed(config, 'home', false)).toBe(false);
  });

  it('allows names matching a /REGEXP/ over the whole name', () => {
    expect(isEnvAllowed(config, 'CI_COMMIT_TAG', false)).toBe(true);
    expect(isEnvAllowed(config, 'XCI_COMMIT_TAG', false)).toBe(false);
    expect(isEnvAllowed(config, 'CI_commit', false)).toBe(false);
    expect(isEnvAllowed(config, 'APP_NAME', false)).toBe(true); // Go's (?i) flag
  });

  it('allows everything under --loose-giterminism and nothing without a config', () => {
    expect(isEnvAllowed(EMPTY_GITERMINISM_CONFIG, 'ANY', true)).toBe(true);
    expect(isEnvAllowed(EMPTY_GITERMINISM_CONFIG, 'HOME', false)).toBe(false);
  });

  it('inspectEnv throws werf\'s external-dependency error', () => {
    expect(() => inspectEnv(config, 'HOME', false)).not.toThrow();
    expect(configErrorOf(() => inspectEnv(config, 'SECRET', false)).message).toBe(
      "the configuration with external dependency found in the werf config: env name 'SECRET' not allowed",
    );
  });
});

describe('isAllowedPath', () => {
  it('follows werf\'s path matcher', () => {
    expect(isAllowedPath(undefined, 'a')).toBe(false);
    expect(isAllowedPath([], 'a')).toBe(false);
    expect(isAllowedPath(['.werf/**/*.tmpl'], '.werf/a.tmpl')).toBe(true);
    expect(isAllowedPath(['.werf/**/*.tmpl'], '.werf/x/y/a.tmpl')).toBe(true);
    expect(isAllowedPath(['.werf/**/*.tmpl'], 'other/a.tmpl')).toBe(false);
    expect(isAllowedPath(['*.tmpl'], 'a.tmpl')).toBe(true);
    expect(isAllowedPath(['*.tmpl'], 'dir/a.tmpl')).toBe(false);
    expect(isAllowedPath(['gen'], 'gen/deep/file')).toBe(true);
    expect(isAllowedPath(['gen/'], 'gen/file')).toBe(true);
    expect(isAllowedPath(['./gen'], 'gen/file')).toBe(true);
    expect(isAllowedPath(['configs/*'], 'configs/a/b.yaml')).toBe(true);
    expect(isAllowedPath(['Dockerfile*'], 'Dockerfile.dev')).toBe(true);
    expect(isAllowedPath(['{a,b}.txt'], 'b.txt')).toBe(true);
  });
});

describe('inspectors', () => {
  const none = EMPTY_GITERMINISM_CONFIG;
  const all = parseGiterminismConfig(FULL);

  it('fromLatest, git branch, mounts, contextAddFiles and custom tags follow the config and --loose-giterminism', () => {
    const checks: [string, (config: GiterminismConfig, loose: boolean) => void][] = [
      ['fromLatest directive not allowed', inspectFromLatest],
      ['git branch directive not allowed', inspectGitBranch],
      ['"mount { from: build_dir, ... }" not allowed', inspectMountBuildDir],
      ['"mount { fromPath: /tmp/cache, ... }" not allowed', (c, l) => inspectMountFromPath(c, '/tmp/cache', l)],
      ['contextAddFile "gen/a" not allowed by giterminism', (c, l) => inspectContextAddFile(c, 'gen/a', l)],
      ['custom tags not allowed by giterminism', inspectCustomTags],
    ];
    for (const [message, check] of checks) {
      expect(configErrorOf(() => check(none, false)).message).toContain(message);
      expect(() => check(none, true)).not.toThrow();
      expect(() => check(all, false)).not.toThrow();
    }
    expect(configErrorOf(() => inspectContextAddFile(all, 'other', false)).message).toMatch(
      /^the configuration with external dependency found in the werf config: contextAddFile "other" not allowed by giterminism/,
    );
  });
});
