// Loading werf.yaml: open the project's files (giterminism), render the Go template, parse and validate.
//
//   1. Project files: the HEAD commit of the git work tree by default, the working tree with --dev, plain
//      files with --loose-giterminism; werf-giterminism.yaml relaxations apply (project-files.ts).
//   2. The configuration file: --config, else `werf.yaml`, else `werf.yml`.
//   3. Templates: every `*.tmpl` under --config-templates-dir (default `.werf`), named by their path inside
//      that directory, available to `include` / `template`.
//   4. Rendering (werf's `renderWerfConfigYaml`): data `.Env` (the --env value), `.Files.Get/Glob/Exists/IsDir`
//      (read through giterminism), `.Commit.Hash`, `.Commit.Date.Human` (Go's time.Time String()),
//      `.Commit.Date.Unix`; function `env NAME [DEFAULT]`, gated by werf-giterminism.yaml.
//   5. Parsing and validation (schema.ts), with `SLIPWAY_PROJECT_NAME` / `WERF_PROJECT_NAME` overriding
//      `project`, and werf's giterminism checks for fromLatest, git branch, mounts, contextAddFiles, secrets.

import { ConfigError } from '../errors.js';
import {
  DEFAULT_GITERMINISM_CONFIG_PATH,
  inspectContextAddFile,
  inspectEnv,
  inspectFromLatest,
  inspectGitBranch,
  inspectMountBuildDir,
  inspectMountFromPath,
  isAllowedPath,
  isEnvAllowed,
  openProjectFilesWithGiterminism,
  type GiterminismConfig,
  ProjectFileError,
  type CommitInfo,
  type ProjectFiles,
} from '../project/index.js';
import { parseWerfConfig, type ConfigInspector } from './schema/index.js';
import { renderTemplate } from './template/index.js';
import type { WerfConfig } from './werf-config.js';

export const DEFAULT_CONFIG_PATHS = ['werf.yaml', 'werf.yml'] as const;
export const DEFAULT_CONFIG_TEMPLATES_DIR = '.werf';

export interface LoadWerfConfigOptions {
  /** The project directory (--dir); default: the current directory. */
  dir?: string;
  /** The configuration file relative to the project directory (--config); default werf.yaml, else werf.yml. */
  config?: string;
  /** Directory of `*.tmpl` templates relative to the project directory (--config-templates-dir); default `.werf`. */
  configTemplatesDir?: string;
  /** --env: exposed to templates as `.Env`. */
  env?: string;
  /** --git-work-tree; found by searching upward from the project directory when absent. */
  gitWorkTree?: string;
  /** --dev: read the working tree instead of the HEAD commit. */
  dev?: boolean;
  /** --dev-ignore globs. */
  devIgnore?: readonly string[];
  /** --loose-giterminism. */
  looseGiterminism?: boolean;
  /** --giterminism-config, relative to the project directory; default werf-giterminism.yaml. */
  giterminismConfig?: string;
  /** Environment for the `env` template function and the project-name override; default process.env. */
  environment?: Readonly<Record<string, string | undefined>>;
  /** Files already opened (then dir, gitWorkTree, dev, devIgnore, looseGiterminism and giterminismConfig are not used). */
  files?: ProjectFiles;
}

export interface LoadedProject {
  config: WerfConfig;
  /** The project's files, for the steps that read Dockerfiles and build contexts. */
  files: ProjectFiles;
  /** Whether the configuration source had template actions. */
  templated: boolean;
}

const PROJECT_NAME_VARIABLES = ['SLIPWAY_PROJECT_NAME', 'WERF_PROJECT_NAME'] as const;

/** Go's `time.Time.String()` for a commit date, in the committer's offset (`2006-01-02 15:04:05 -0700 MST`). */
export function goTimeString(commit: Pick<CommitInfo, 'date' | 'dateIso'>): string {
  // werf reads the date with go-git, which records the commit's offset in a zone without a name; Go then
  // prints the numeric offset as the zone name, except for +0000 on a host whose local zone is UTC (the
  // usual CI case), where the zone is UTC. Without the commit's offset, UTC is used.
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})$/.exec(commit.dateIso);
  if (match !== null) {
    const [, day, time, zone] = match as unknown as [string, string, string, string];
    const offset = zone === 'Z' ? '+0000' : zone.replace(':', '');
    return `${day} ${time} ${offset} ${offset === '+0000' || offset === '-0000' ? 'UTC' : offset}`;
  }
  const iso = commit.date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;
}

/** Go's fmt.Sprint for the values a template hands to `env`. */
function goSprint(value: unknown): string {
  if (value === undefined || value === null) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** A giterminism ConfigError as one line for a configuration problem list. */
function inspected(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const first = error.message.split('\n')[0]!;
    const hint = error.hint?.split('\n')[0];
    return hint === undefined || hint === '' ? first : `${first} (${hint})`;
  }
}

function secretProblem(secret: string, allowed: boolean, key: string): string | undefined {
  if (allowed) return undefined;
  return (
    `the configuration with external dependency found in the werf config: secret ${JSON.stringify(secret)} is not allowed by giterminism ` +
    `(allow it in werf-giterminism.yaml: config.secrets.${key}: [${secret}])`
  );
}

/** werf's inspector checks over the giterminism allowances in effect. */
export function configInspector(config: GiterminismConfig, loose: boolean): ConfigInspector {
  const secrets = config.config?.secrets;
  return {
    fromLatest: () => inspected(() => inspectFromLatest(config, loose)),
    gitBranch: () => inspected(() => inspectGitBranch(config, loose)),
    mountBuildDir: () => inspected(() => inspectMountBuildDir(config, loose)),
    mountFromPath: (fromPath) => inspected(() => inspectMountFromPath(config, fromPath, loose)),
    contextAddFile: (relPath) => inspected(() => inspectContextAddFile(config, relPath, loose)),
    secretEnv: (name) =>
      secretProblem(
        name,
        isEnvAllowed({ giterminismConfigVersion: 1, config: { goTemplateRendering: { allowEnvVariables: secrets?.allowEnvVariables ?? [] } } }, name, loose),
        'allowEnvVariables',
      ),
    secretSrc: (path) => secretProblem(path, loose || isAllowedPath(secrets?.allowFiles, path), 'allowFiles'),
    secretValue: (id) => secretProblem(id, loose || (secrets?.allowValueIds ?? []).includes(id), 'allowValueIds'),
  };
}

/** The configuration file: `--config`, else werf.yaml, else werf.yml. */
function readConfigSource(files: ProjectFiles, configPath: string | undefined): { file: string; source: string } {
  const candidates = configPath !== undefined && configPath !== '' ? [configPath] : [...DEFAULT_CONFIG_PATHS];
  for (const file of candidates) {
    try {
      return { file, source: files.readFile(file, 'config').toString('utf8') };
    } catch (error) {
      if (error instanceof ProjectFileError && error.reason === 'not-found' && file !== candidates[candidates.length - 1]) continue;
      if (error instanceof ProjectFileError && error.reason === 'not-found') {
        const tried = candidates.map((name) => `"${name}"`).join(' or ');
        throw new ConfigError(`unable to load werf config: ${tried} not found in the project directory "${files.projectDir}"`, {
          cause: error,
          hint: 'run in the project directory, or point --dir (and --config) at it',
        });
      }
      throw error;
    }
  }
  // Unreachable: the loop returns or throws for the last candidate.
  throw new ConfigError('unable to load werf config');
}

function readTemplates(files: ProjectFiles, dir: string): { name: string; source: string }[] {
  const base = dir.replace(/\/+$/, '');
  if (base === '' || !files.isDir(base, 'template')) return [];
  return files.glob(`${base}/**/*.tmpl`, 'template').map((path) => ({
    name: path.slice(base.length + 1),
    source: files.readFile(path, 'template').toString('utf8'),
  }));
}

/** The data werf passes to the werf.yaml template. */
function templateData(files: ProjectFiles, env: string) {
  const commit = files.commit;
  return {
    Env: env,
    Files: {
      Get: (path: unknown) => files.readFile(goSprint(path), 'files').toString('utf8'),
      Glob: (pattern: unknown) => {
        const text = goSprint(pattern);
        const paths = files.glob(text, 'files');
        if (paths.length === 0) throw new ConfigError(`{{ .Files.Glob ${JSON.stringify(text)} }}: no matches found`);
        const result: Record<string, string> = {};
        for (const path of paths) result[path] = files.readFile(path, 'files').toString('utf8');
        return result;
      },
      Exists: (path: unknown) => files.exists(goSprint(path), 'files'),
      IsDir: (path: unknown) => files.isDir(goSprint(path), 'files'),
    },
    Commit: {
      Hash: commit?.hash ?? '',
      Date: {
        Human: commit === undefined ? '' : goTimeString(commit),
        Unix: commit === undefined ? '' : String(Math.floor(commit.date.getTime() / 1000)),
      },
    },
  };
}

/** werf's `env` template function. */
function envFunction(files: ProjectFiles, environment: Readonly<Record<string, string | undefined>>) {
  return (...args: unknown[]): string => {
    if (args.length === 0) throw new ConfigError('wrong number of args for env: want at least 1 got 0');
    if (args.length > 2) throw new ConfigError('more than 1 optional argument prohibited');
    const name = goSprint(args[0]);
    inspectEnv(files.giterminism, name, files.looseGiterminism);
    const fallback = args.length === 2 ? goSprint(args[1]) : undefined;
    const value = environment[name];
    if (value === undefined) {
      if (fallback !== undefined) return fallback;
      if (!files.looseGiterminism) throw new ConfigError(`the environment variable ${JSON.stringify(name)} must be set or default must be provided`);
      return '';
    }
    if (value === '' && fallback !== undefined) return fallback;
    return value;
  };
}

function projectNameOverride(environment: Readonly<Record<string, string | undefined>>): { value: string; from: string } | undefined {
  for (const name of PROJECT_NAME_VARIABLES) {
    const value = environment[name];
    if (value !== undefined && value !== '') return { value, from: name };
  }
  return undefined;
}

/** Open the project, then load its configuration; the opened files come back too, for the build steps. */
export function loadProject(options: LoadWerfConfigOptions = {}): LoadedProject {
  const environment = options.environment ?? process.env;
  const files =
    options.files ??
    openProjectFilesWithGiterminism({
      projectDir: options.dir || process.cwd(),
      ...(options.gitWorkTree ? { gitWorkTree: options.gitWorkTree } : {}),
      dev: options.dev ?? false,
      devIgnore: options.devIgnore ?? [],
      looseGiterminism: options.looseGiterminism ?? false,
      giterminismConfigPath: options.giterminismConfig || DEFAULT_GITERMINISM_CONFIG_PATH,
    });

  const { file, source } = readConfigSource(files, options.config);
  const templates = readTemplates(files, options.configTemplatesDir || DEFAULT_CONFIG_TEMPLATES_DIR);
  const rendered = renderTemplate(source, templateData(files, options.env ?? ''), {
    name: file,
    templates,
    functions: { env: envFunction(files, environment) },
  });
  const templated = source.includes('{{');
  const projectName = projectNameOverride(environment);
  const config = parseWerfConfig(rendered, {
    file,
    templated,
    inspector: configInspector(files.giterminism, files.looseGiterminism),
    ...(projectName === undefined ? {} : { projectName }),
  });
  return { config, files, templated };
}

/** Load and validate werf.yaml (see the module comment). Throws ConfigError (or a subclass) on any problem. */
export function loadWerfConfig(options: LoadWerfConfigOptions = {}): WerfConfig {
  return loadProject(options).config;
}
