// werf-giterminism.yaml: the project's declared relaxations of giterminism.
//
// Read like werf does (pkg/giterminism_manager/config): from the HEAD commit, never from an uncommitted
// working-tree copy (the file that grants exceptions cannot itself be one); absent anywhere means "no
// relaxations". Keys follow docs/_data/werf_giterminism_yaml.yml and the JSON schema werf publishes
// (https://werf.io/docs/v3/schemas/werf-giterminism.json), which forbids unknown keys; so do we, naming the key.
//
// The inspect* functions are werf's inspector checks (pkg/giterminism_manager/inspector) with its messages.
// Reading the file through the project's files is open.ts's (loadGiterminismConfig).

import { parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { compileRegexValue, isRegexValue } from '../text/regex-value.js';
import { compilePathMatcher } from './globs.js';

export const GITERMINISM_DOCS_URL = 'https://werf.io/docs/latest/usage/project_configuration/giterminism.html';

export const DEFAULT_GITERMINISM_CONFIG_PATH = 'werf-giterminism.yaml';

export interface GiterminismConfig {
  giterminismConfigVersion: 1;
  cli?: {
    /** Allow --use-custom-tag. */
    allowCustomTags?: boolean;
  };
  config?: {
    /** Read werf.yaml from the working tree. */
    allowUncommitted?: boolean;
    /** Globs of templates (.werf/**\/*.tmpl) read from the working tree. */
    allowUncommittedTemplates?: string[];
    goTemplateRendering?: {
      /** Names, or `/REGEXP/` (anchored), of environment variables the `env` function may read. */
      allowEnvVariables?: string[];
      /** Globs of files `.Files.Get/Glob/Exists/IsDir` read from the working tree. */
      allowUncommittedFiles?: string[];
    };
    secrets?: {
      allowEnvVariables?: string[];
      allowFiles?: string[];
      allowValueIds?: string[];
    };
    stapel?: {
      allowFromLatest?: boolean;
      git?: { allowBranch?: boolean };
      mount?: { allowBuildDir?: boolean; allowFromPaths?: string[] };
    };
    dockerfile?: {
      /** Globs of Dockerfiles read from the working tree. */
      allowUncommitted?: string[];
      /** Globs of .dockerignore files read from the working tree. */
      allowUncommittedDockerignoreFiles?: string[];
      /** Files or directories contextAddFiles may add from the working tree. */
      allowContextAddFiles?: string[];
    };
  };
  helm?: {
    allowUncommittedFiles?: string[];
  };
  includes?: {
    allowIncludesUpdate?: boolean;
  };
}

/** No relaxations. */
export const EMPTY_GITERMINISM_CONFIG: GiterminismConfig = Object.freeze({ giterminismConfigVersion: 1 as const });

// ---------------------------------------------------------------------------------------------------------
// Schema

type FieldType = 'boolean' | 'globs' | 'strings' | 'envPatterns';
interface Schema {
  [key: string]: FieldType | Schema;
}

const SCHEMA: Schema = {
  cli: { allowCustomTags: 'boolean' },
  config: {
    allowUncommitted: 'boolean',
    allowUncommittedTemplates: 'globs',
    goTemplateRendering: { allowEnvVariables: 'envPatterns', allowUncommittedFiles: 'globs' },
    secrets: { allowEnvVariables: 'strings', allowFiles: 'strings', allowValueIds: 'strings' },
    stapel: {
      allowFromLatest: 'boolean',
      git: { allowBranch: 'boolean' },
      mount: { allowBuildDir: 'boolean', allowFromPaths: 'strings' },
    },
    dockerfile: {
      allowUncommitted: 'globs',
      allowUncommittedDockerignoreFiles: 'globs',
      allowContextAddFiles: 'globs',
    },
  },
  helm: { allowUncommittedFiles: 'globs' },
  includes: { allowIncludesUpdate: 'boolean' },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** `/REGEXP/` → werf's anchored RegExp (src/config/regex-value.ts); undefined for an exact name. */
function compileEnvPattern(pattern: string): RegExp | undefined {
  return isRegexValue(pattern) ? compileRegexValue(pattern) : undefined;
}

function validate(value: unknown, schema: Schema, at: string, source: string): void {
  if (!isPlainObject(value)) {
    throw invalid(source, `"${at}" must be a mapping, not ${describeType(value)}`);
  }
  for (const [key, child] of Object.entries(value)) {
    const keyPath = at === '' ? key : `${at}.${key}`;
    const type = schema[key];
    if (type === undefined) {
      const known = Object.keys(schema).sort().join(', ');
      throw invalid(source, `unknown key "${keyPath}"${known === '' ? '' : ` (known keys${at === '' ? '' : ` under "${at}"`}: ${known})`}`);
    }
    if (child === null || child === undefined) continue; // `key:` with no value, as werf's JSON round trip allows
    if (typeof type === 'object') {
      validate(child, type, keyPath, source);
      continue;
    }
    if (type === 'boolean') {
      if (typeof child !== 'boolean') throw invalid(source, `"${keyPath}" must be a boolean, not ${describeType(child)}`);
      continue;
    }
    if (!Array.isArray(child) || child.some((item) => typeof item !== 'string')) {
      throw invalid(source, `"${keyPath}" must be a list of strings`);
    }
    for (const item of child as string[]) {
      try {
        if (type === 'globs') compilePathMatcher([item]);
        if (type === 'envPatterns') compileEnvPattern(item);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw invalid(source, `"${keyPath}" has an invalid ${type === 'envPatterns' ? 'regular expression' : 'glob'} "${item}": ${reason}`);
      }
    }
  }
}

function invalid(source: string, detail: string): ConfigError {
  return new ConfigError(`the giterminism config validation failed: ${source}: ${detail}`, {
    hint: 'see https://werf.io/docs/latest/reference/werf_giterminism_yaml.html for the directives werf-giterminism.yaml accepts',
  });
}

/** Parses and validates the text of a werf-giterminism.yaml. `source` names it in messages. */
export function parseGiterminismConfig(text: string, source = DEFAULT_GITERMINISM_CONFIG_PATH): GiterminismConfig {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const first = document.errors[0];
    throw new ConfigError(`unable to parse ${source}: ${first?.message ?? 'invalid YAML'}`, { cause: first });
  }
  const data: unknown = document.toJS();
  if (data === null || data === undefined) {
    throw invalid(source, '"giterminismConfigVersion" is required (giterminismConfigVersion: 1)');
  }
  if (!isPlainObject(data)) throw invalid(source, `the document must be a mapping, not ${describeType(data)}`);
  const { giterminismConfigVersion: version, ...rest } = data;
  if (version === undefined || version === null) {
    throw invalid(source, '"giterminismConfigVersion" is required (giterminismConfigVersion: 1)');
  }
  if (version !== 1 && version !== '1') {
    throw invalid(source, `"giterminismConfigVersion" must be 1, not ${describeType(version)}`);
  }
  validate(rest, SCHEMA, '', source);
  return { ...(pruneNulls(rest) as Omit<GiterminismConfig, 'giterminismConfigVersion'>), giterminismConfigVersion: 1 };
}

function pruneNulls(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (child === null || child === undefined) continue;
    out[key] = isPlainObject(child) ? pruneNulls(child) : child;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Checks

/** Whether a path (relative to the project directory) matches werf's path matcher for these globs. */
export function isAllowedPath(globs: readonly string[] | undefined, path: string): boolean {
  if (globs === undefined || globs.length === 0) return false;
  return compilePathMatcher(globs)(path);
}

/**
 * Whether the `env` template function may read `name`: always under --loose-giterminism; otherwise when
 * config.goTemplateRendering.allowEnvVariables lists the name or a `/REGEXP/` matching all of it.
 */
export function isEnvAllowed(config: GiterminismConfig, name: string, loose: boolean): boolean {
  if (loose) return true;
  for (const pattern of config.config?.goTemplateRendering?.allowEnvVariables ?? []) {
    let re: RegExp | undefined;
    try {
      re = compileEnvPattern(pattern);
    } catch (error) {
      throw new ConfigError(`invalid regular expression "${pattern}" in config.goTemplateRendering.allowEnvVariables`, {
        cause: error,
      });
    }
    if (re === undefined ? pattern === name : re.test(name)) return true;
  }
  return false;
}

function externalDependency(detail: string, hint: string): ConfigError {
  return new ConfigError(`the configuration with external dependency found in the werf config: ${detail}`, {
    hint: `${hint}\nRead more about giterminism and how to manage it here: ${GITERMINISM_DOCS_URL}.`,
  });
}

/** The `env` function's check (werf's InspectConfigGoTemplateRenderingEnv). */
export function inspectEnv(config: GiterminismConfig, name: string, loose: boolean): void {
  if (isEnvAllowed(config, name, loose)) return;
  throw externalDependency(
    `env name '${name}' not allowed`,
    `allow it in werf-giterminism.yaml: config.goTemplateRendering.allowEnvVariables: [${name}] (names or /REGEXP/)`,
  );
}

/** stapel `fromLatest` (werf's InspectConfigStapelFromLatest). */
export function inspectFromLatest(config: GiterminismConfig, loose: boolean): void {
  if (loose || config.config?.stapel?.allowFromLatest === true) return;
  throw externalDependency(
    `fromLatest directive not allowed

Pay attention, werf uses actual base image digest in stage digest if 'fromLatest' is specified. Thus, the usage of this directive might break the reproducibility of previous builds. If the base image is changed in the registry, all previously built stages become not usable.`,
    'allow it in werf-giterminism.yaml: config.stapel.allowFromLatest: true',
  );
}

/** stapel git `branch` (werf's InspectConfigStapelGitBranch). */
export function inspectGitBranch(config: GiterminismConfig, loose: boolean): void {
  if (loose || config.config?.stapel?.git?.allowBranch === true) return;
  throw externalDependency('git branch directive not allowed', 'allow it in werf-giterminism.yaml: config.stapel.git.allowBranch: true');
}

/** stapel `mount { from: build_dir }` (werf's InspectConfigStapelMountBuildDir). */
export function inspectMountBuildDir(config: GiterminismConfig, loose: boolean): void {
  if (loose || config.config?.stapel?.mount?.allowBuildDir === true) return;
  throw externalDependency(
    '"mount { from: build_dir, ... }" not allowed',
    'allow it in werf-giterminism.yaml: config.stapel.mount.allowBuildDir: true',
  );
}

/** stapel `mount { fromPath }` (werf's InspectConfigStapelMountFromPath). */
export function inspectMountFromPath(config: GiterminismConfig, fromPath: string, loose: boolean): void {
  if (loose || isAllowedPath(config.config?.stapel?.mount?.allowFromPaths, fromPath)) return;
  throw externalDependency(
    `"mount { fromPath: ${fromPath}, ... }" not allowed`,
    `allow it in werf-giterminism.yaml: config.stapel.mount.allowFromPaths: [${fromPath}]`,
  );
}

/** Dockerfile image `contextAddFiles` (werf's InspectConfigDockerfileContextAddFile). */
export function inspectContextAddFile(config: GiterminismConfig, relPath: string, loose: boolean): void {
  if (loose || isAllowedPath(config.config?.dockerfile?.allowContextAddFiles, relPath)) return;
  throw externalDependency(
    `contextAddFile "${relPath}" not allowed by giterminism

The use of the directive contextAddFiles complicates the sharing and reproducibility of the configuration in CI jobs and among developers because the file data affects the final digest of built images and must be identical at all steps of the pipeline and during local development.`,
    `allow it in werf-giterminism.yaml: config.dockerfile.allowContextAddFiles: [${relPath}]`,
  );
}

/** `--use-custom-tag` (werf's InspectCustomTags). */
export function inspectCustomTags(config: GiterminismConfig, loose: boolean): void {
  if (loose || config.cli?.allowCustomTags === true) return;
  throw new ConfigError(
    'custom tags not allowed by giterminism\n\nThe use of --use-custom-tag option might make previous deployments unreproducible and require extra configuration in the helm chart.',
    { hint: `allow it in werf-giterminism.yaml: cli.allowCustomTags: true. Read more: ${GITERMINISM_DOCS_URL}.` },
  );
}
