// The one table of command-line options. Every option is defined here once (flag, env vars, default, help);
// commands name the options they take and get them resolved and typed.
//
// Precedence, highest first:
//   1. the flag on the command line;
//   2. Slipway's own env var, derived from the flag (`--foo-bar` → `SLIPWAY_FOO_BAR`), then `slipwayEnv` aliases;
//   3. werf's env vars, in the order werf reads them (`werfEnv`);
//   4. the default.
// An empty env var counts as unset, as in werf, which reads most of its variables "when non-empty".
//
// Array options come in two kinds, as in werf:
//   - `envPrefix: true`: every `SLIPWAY_FOO_BAR_*` (or, when none is set, werf's `<PREFIX>_*`) contributes one value,
//     ordered by the full `NAME=VALUE` string, and those values come BEFORE the command-line ones
//     (werf's `PredefinedValuesByEnvNamePrefix`);
//   - otherwise: the first non-empty env var becomes a single-element default that the command line replaces
//     (werf's `--platform` with `WERF_PLATFORM` / `DOCKER_DEFAULT_PLATFORM`).

import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { compare } from '../go/strings.js';
import { WERF_NO_OP_OPTIONS } from './werf-no-ops.js';

export type Env = Readonly<Record<string, string | undefined>>;

type Flag = `--${string}`;

interface OptionBase {
  flag: Flag;
  short?: `-${string}`;
  help: string;
  /** werf's own env vars, in the order werf reads them; for `envPrefix` options these are name prefixes. */
  werfEnv?: readonly string[];
  /** Further Slipway env var names, read after the automatic `SLIPWAY_<FLAG>` one. */
  slipwayEnv?: readonly string[];
  /** Other spellings accepted on the command line, never shown in help (werf's `--debug` for `--log-debug`). */
  aliases?: readonly Flag[];
  hidden?: boolean;
  /** How help shows a default that is computed, e.g. `~/.docker`. */
  defaultHelp?: string;
  /** A werf flag Slipway accepts and ignores, and why (werf-no-ops.ts). */
  noOp?: string;
  /** For a no-op: ignoring it changes what a werf user gets, so it is warned about at every level. */
  warn?: true;
}

export interface BooleanOption extends OptionBase {
  value: 'boolean';
  /** false when absent. */
  default?: boolean;
}

export interface StringOption extends OptionBase {
  value: 'string';
  default?: string | ((env: Env) => string);
  /** Restricts the accepted values; the resolved type becomes their union. */
  choices?: readonly string[];
  /** Placeholder shown in help: `--repo <address>`. */
  valueName?: string;
}

export interface StringArrayOption extends OptionBase {
  value: 'string[]';
  /** Collect `SLIPWAY_<FLAG>_*` / `<werfEnv>_*` variables, placed before command-line values. */
  envPrefix?: boolean;
  valueName?: string;
}

export interface IntOption extends OptionBase {
  value: 'int';
  default?: number;
  /** Smallest accepted value. */
  min?: number;
  valueName?: string;
}

export type OptionDefinition = BooleanOption | StringOption | StringArrayOption | IntOption;

export type OptionTable = Readonly<Record<string, OptionDefinition>>;

/** The typed value an option resolves to. */
export type ResolvedValue<D extends OptionDefinition> = D extends BooleanOption
  ? boolean
  : D extends StringArrayOption
    ? string[]
    : D extends IntOption
      ? D extends { default: number }
        ? number
        : number | undefined
      : D extends StringOption
        ? (D extends { choices: readonly (infer C extends string)[] } ? C : string) | (D extends { default: unknown } ? never : undefined)
        : never;

export type ResolvedValues<T extends OptionTable> = { -readonly [K in keyof T]: ResolvedValue<T[K]> };

const SLIPWAY_ENV_PREFIX = 'SLIPWAY_';

/** `--parallel-tasks-limit` → `parallelTasksLimit`: the key commander stores the value under. */
export function attributeNameOf(flag: Flag): string {
  return flag.slice(2).replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** `--parallel-tasks-limit` → `SLIPWAY_PARALLEL_TASKS_LIMIT`. */
export function slipwayEnvNameOf(flag: Flag): string {
  return SLIPWAY_ENV_PREFIX + flag.slice(2).toUpperCase().replace(/-/g, '_');
}

/** Slipway's env names first (they win), then werf's. */
function envNamesOf(definition: OptionDefinition): { slipway: string[]; werf: string[] } {
  return {
    slipway: [slipwayEnvNameOf(definition.flag), ...(definition.slipwayEnv ?? [])],
    werf: [...(definition.werfEnv ?? [])],
  };
}

/** Keys must be the camelCase of their flag, so commander's parsed values line up with the table. */
function defineOptionTable<const T extends OptionTable>(table: T): T {
  for (const [key, definition] of Object.entries(table)) {
    if (attributeNameOf(definition.flag) !== key) {
      throw new Error(`option table: key "${key}" does not match flag ${definition.flag}`);
    }
  }
  return table;
}

export const OPTIONS = defineOptionTable({
  // werf's flags that Slipway accepts and ignores (werf-no-ops.ts).
  ...WERF_NO_OP_OPTIONS,
  logDebug: {
    flag: '--log-debug',
    value: 'boolean',
    help: 'Print debugging output, and the cause chain and stack of an error',
    werfEnv: ['WERF_LOG_DEBUG', 'WERF_DEBUG'],
    aliases: ['--debug'],
  },
  logQuiet: {
    flag: '--log-quiet',
    value: 'boolean',
    help: 'Print only warnings and errors',
    werfEnv: ['WERF_LOG_QUIET', 'WERF_QUIET'],
    aliases: ['--quiet'],
  },
  logVerbose: {
    flag: '--log-verbose',
    value: 'boolean',
    help: 'Print more about what is being done',
    werfEnv: ['WERF_LOG_VERBOSE', 'WERF_VERBOSE'],
    aliases: ['--verbose'],
  },
  dockerConfig: {
    flag: '--docker-config',
    value: 'string',
    valueName: 'path',
    help: 'Directory holding config.json with registry credentials and credential helpers (alone: without it, $REGISTRY_AUTH_FILE is read first)',
    werfEnv: ['WERF_DOCKER_CONFIG', 'DOCKER_CONFIG'],
    // No computed default: dockerConfigPath() finds ~/.docker, after $REGISTRY_AUTH_FILE.
    defaultHelp: '~/.docker',
  },
  insecureRegistry: {
    flag: '--insecure-registry',
    value: 'boolean',
    help: 'Talk to registries over plain HTTP',
    werfEnv: ['WERF_INSECURE_REGISTRY'],
  },
  skipTlsVerifyRegistry: {
    flag: '--skip-tls-verify-registry',
    value: 'boolean',
    help: "Do not verify registries' TLS certificates",
    werfEnv: ['WERF_SKIP_TLS_VERIFY_REGISTRY'],
  },
  repo: {
    flag: '--repo',
    value: 'string',
    valueName: 'address',
    help: 'Repository of the stages storage; without it the local stages storage under the home directory is used',
    werfEnv: ['WERF_REPO'],
  },
  parallelTasksLimit: {
    flag: '--parallel-tasks-limit',
    value: 'int',
    valueName: 'n',
    default: 5,
    help: 'How many tasks run at the same time; 0 or less means no limit',
    werfEnv: ['WERF_PARALLEL_TASKS_LIMIT'],
  },
  registryTimeout: {
    flag: '--registry-timeout',
    value: 'int',
    valueName: 'seconds',
    default: 30,
    min: 1,
    help: 'How long a registry may take to accept a connection, to answer, or between two pieces of a transfer',
  },
  registryRetries: {
    flag: '--registry-retries',
    value: 'int',
    valueName: 'n',
    default: 3,
    min: 0,
    help: 'How many times a registry request is retried after a 408, 429, 5xx answer or a broken connection (a timeout is retried once; a refused connection or an unknown host is not retried)',
  },
  // The store root. `SLIPWAY_HOME` is the documented name; `SLIPWAY_HOME_DIR` (derived from the flag) also
  // works and wins when both are set. werf's `WERF_HOME` is deliberately not read: it holds werf's own
  // layout, and Slipway's local store must not mix with it.
  ociRuntime: {
    flag: '--oci-runtime',
    value: 'string',
    valueName: 'name|path',
    help: 'The OCI runtime RUN commands execute in (runc, crun, or a path)',
    defaultHelp: 'crun, else runc',
  },
  homeDir: {
    flag: '--home-dir',
    value: 'string',
    valueName: 'path',
    help: "Slipway's home directory, holding the local stages storage",
    slipwayEnv: ['SLIPWAY_HOME'],
    default: (env: Env) => join(homeOf(env), '.slipway'),
    defaultHelp: '~/.slipway',
  },
  platform: {
    flag: '--platform',
    value: 'string[]',
    valueName: 'os/arch[/variant]',
    help: 'Target platform; repeat for several. Overrides the platforms in werf.yaml',
    werfEnv: ['WERF_PLATFORM', 'DOCKER_DEFAULT_PLATFORM'],
  },
  // Project, config and giterminism (werf's SetupDir, SetupConfigPath, SetupGiterminismOptions, ...).
  dir: {
    flag: '--dir',
    value: 'string',
    valueName: 'path',
    help: 'Project directory (where werf.yaml is)',
    werfEnv: ['WERF_DIR'],
    defaultHelp: 'the current directory',
  },
  config: {
    flag: '--config',
    value: 'string',
    valueName: 'path',
    help: 'werf.yaml to use, relative to the project directory',
    werfEnv: ['WERF_CONFIG'],
    defaultHelp: 'werf.yaml, else werf.yml',
  },
  configTemplatesDir: {
    flag: '--config-templates-dir',
    value: 'string',
    valueName: 'path',
    default: '.werf',
    help: 'Directory of the *.tmpl templates werf.yaml can include, relative to the project directory',
    werfEnv: ['WERF_CONFIG_TEMPLATES_DIR'],
  },
  env: {
    flag: '--env',
    value: 'string',
    valueName: 'name',
    help: 'Environment name, exposed to werf.yaml templates as .Env',
    werfEnv: ['WERF_ENV'],
  },
  gitWorkTree: {
    flag: '--git-work-tree',
    value: 'string',
    valueName: 'path',
    help: 'Git work tree of the project',
    werfEnv: ['WERF_GIT_WORK_TREE'],
    defaultHelp: 'found by searching upward from the project directory for .git',
  },
  dev: {
    flag: '--dev',
    value: 'boolean',
    help: 'Read the configuration and build context from the working tree (tracked and untracked files) instead of the HEAD commit',
    werfEnv: ['WERF_DEV'],
  },
  devIgnore: {
    flag: '--dev-ignore',
    value: 'string[]',
    valueName: 'glob',
    envPrefix: true,
    help: 'With --dev, paths that keep their committed state; repeat for several',
    werfEnv: ['WERF_DEV_IGNORE'],
  },
  looseGiterminism: {
    flag: '--loose-giterminism',
    value: 'boolean',
    help: 'Relax giterminism: read plain files and allow env variables, fromLatest, mounts and the like',
    werfEnv: ['WERF_LOOSE_GITERMINISM'],
  },
  giterminismConfig: {
    flag: '--giterminism-config',
    value: 'string',
    valueName: 'path',
    default: 'werf-giterminism.yaml',
    help: 'Giterminism configuration, relative to the project directory',
    werfEnv: ['WERF_GITERMINISM_CONFIG'],
  },
  parallel: {
    flag: '--parallel',
    short: '-p',
    value: 'boolean',
    default: true,
    help: 'Build images in parallel (see --parallel-tasks-limit)',
    werfEnv: ['WERF_PARALLEL'],
  },
  saveBuildReport: {
    flag: '--save-build-report',
    value: 'boolean',
    help: 'Write a build report (werf\'s JSON format) to --build-report-path',
    werfEnv: ['WERF_SAVE_BUILD_REPORT'],
  },
  buildReportPath: {
    flag: '--build-report-path',
    value: 'string',
    valueName: 'path',
    help: 'Where --save-build-report writes the report (default .slipway-build-report.json)',
    werfEnv: ['WERF_BUILD_REPORT_PATH'],
  },
  finalOnly: {
    flag: '--final-only',
    value: 'boolean',
    help: 'Only final images',
    // werf's `config list` spells it --final-images-only (and the deprecated --images-only).
    aliases: ['--final-images-only', '--images-only'],
  },
  // Export (werf's cmd/werf/export/export.go; src/export/).
  tag: {
    flag: '--tag',
    value: 'string[]',
    valueName: 'template',
    help:
      'Destination of the exported images, a tag template; repeat for several (at least one is required). ' +
      '%image% is the image name, %image_slug% its slug, %image_safe_slug% the name itself when it is a valid tag ' +
      'and else its slug with a hash, %image_content_based_tag% the content-based tag of the image. With several ' +
      'images the template must tell them apart (e.g. REPO:TAG-%image% or REPO-%image%:TAG). Name the registry: ' +
      'index.docker.io/ORG/REPO for Docker Hub; oci:DIR[:TAG] and oci-archive:FILE[:TAG] write locally',
    // werf reads no env var for --tag (WERF_TAG belongs to its bundle commands).
  },
  username: {
    flag: '--username',
    short: '-u',
    value: 'string',
    valueName: 'name',
    help: 'The user name to log in with',
  },
  password: {
    flag: '--password',
    short: '-p',
    value: 'string',
    valueName: 'password',
    help: 'The password (or token) to log in with; --password-stdin keeps it out of the process list and shell history',
  },
  passwordStdin: {
    flag: '--password-stdin',
    value: 'boolean',
    help: 'Read the password (or token) from standard input',
  },
  digestfile: {
    flag: '--digestfile',
    value: 'string',
    valueName: 'path',
    help: 'After the copy, write the digest of the destination manifest (or index) to this file',
  },
  addLabel: {
    flag: '--add-label',
    value: 'string[]',
    valueName: 'key=value',
    envPrefix: true,
    help:
      'Add a label to the exported images; repeat for several. One value may hold several KEY=VALUE pairs ' +
      'separated by --add-label-separator. Env values come first, later pairs win',
    slipwayEnv: ['SLIPWAY_EXPORT_ADD_LABEL'],
    werfEnv: ['WERF_EXPORT_ADD_LABEL'],
  },
  addLabelSeparator: {
    flag: '--add-label-separator',
    value: 'string',
    valueName: 'separator',
    default: '\n',
    help: 'Separator between several KEY=VALUE pairs in one --add-label value',
    slipwayEnv: ['SLIPWAY_EXPORT_ADD_LABEL_SEPARATOR'],
    werfEnv: ['WERF_EXPORT_ADD_LABEL_SEPARATOR'],
    defaultHelp: 'a newline',
  },
  addAnnotation: {
    flag: '--add-annotation',
    value: 'string[]',
    valueName: 'key=value',
    envPrefix: true,
    help: 'Add an annotation to the manifests of the exported images (and to the index of a multi-platform image); repeat for several',
    slipwayEnv: ['SLIPWAY_EXPORT_ADD_ANNOTATION'],
  },
  requireBuiltImages: {
    flag: '--require-built-images',
    short: '-Z',
    value: 'boolean',
    // werf build's spelling of the same check.
    aliases: ['--check-built-images'],
    help: 'Build nothing: fail, naming the images, if any stage is missing from the stages storage',
    werfEnv: ['WERF_REQUIRE_BUILT_IMAGES'],
  },
  useBuildReport: {
    flag: '--use-build-report',
    value: 'boolean',
    help: 'Build nothing: export exactly the images a build report (--build-report-path) names',
    werfEnv: ['WERF_USE_BUILD_REPORT'],
  },
  exportReportPath: {
    flag: '--export-report-path',
    value: 'string',
    valueName: 'path',
    help: 'Write a JSON report of the export (image, platforms, source, destination, digest, media type, skipped) to this file',
  },
  // Cleanup and purge (werf's pkg/cleaning; docs/cleanup.md; src/cleanup/).
  keepStagesBuiltWithinLastNHours: {
    flag: '--keep-stages-built-within-last-n-hours',
    value: 'int',
    valueName: 'n',
    min: 0,
    help: 'Keep stages built within the last N hours (the time is in the stage tag); overrides werf.yaml cleanup.keepImagesBuiltWithinLastNHours (default 2)',
    werfEnv: ['WERF_KEEP_STAGES_BUILT_WITHIN_LAST_N_HOURS'],
  },
  dryRun: {
    flag: '--dry-run',
    value: 'boolean',
    help: 'Print what would be kept (and why) and deleted, and delete nothing',
    werfEnv: ['WERF_DRY_RUN'],
  },
  keepList: {
    flag: '--keep-list',
    value: 'string',
    valueName: 'file|tags',
    help: 'Tags to keep: a file with one tag per line (as werf), or a comma-separated list',
    werfEnv: ['WERF_KEEP_LIST'],
  },
  force: {
    flag: '--force',
    value: 'boolean',
    help: "Accepted for werf compatibility (werf first removes local containers of the images); Slipway runs no containers, so it changes nothing",
  },
});

export type Options = typeof OPTIONS;
export type OptionName = keyof Options & string;

/** The options every command takes, registered once on the program. */
export const GLOBAL_OPTION_NAMES = ['logDebug', 'logQuiet', 'logVerbose'] as const satisfies readonly OptionName[];
export type GlobalOptionName = (typeof GLOBAL_OPTION_NAMES)[number];

export type ResolvedOptions<N extends OptionName> = ResolvedValues<Pick<Options, N>>;

function homeOf(env: Env): string {
  return env['HOME'] || homedir();
}

export function pickOptions<const N extends OptionName>(names: readonly N[]): Pick<Options, N> {
  const subset: Partial<Record<OptionName, OptionDefinition>> = {};
  for (const name of names) subset[name] = OPTIONS[name];
  return subset as Pick<Options, N>;
}

// ---------------------------------------------------------------------------------------------------------
// Resolution

/** werf's rule (`pkg/util/env.go`): only these exact spellings flip a boolean away from its default. */
const ENV_TRUE = new Set(['1', 'true', 'yes']);
const ENV_FALSE = new Set(['0', 'false', 'no']);

function booleanFromEnv(raw: string, defaultValue: boolean): boolean {
  return defaultValue ? !ENV_FALSE.has(raw) : ENV_TRUE.has(raw);
}

interface EnvHit {
  name: string;
  value: string;
}

function firstSet(names: readonly string[], env: Env): EnvHit | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return { name, value };
  }
  return undefined;
}

/** Where a raw value came from, for error messages. */
function describeSource(flag: Flag, envName: string | undefined): string {
  return envName === undefined ? flag : `$${envName} (for ${flag})`;
}

function parseInt10(raw: string, definition: IntOption, envName: string | undefined): number {
  const source = describeSource(definition.flag, envName);
  const trimmed = raw.trim();
  if (!/^[+-]?\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
    throw new UsageError(`invalid value "${raw}" for ${source}: expected an integer`);
  }
  const value = Number(trimmed);
  if (definition.min !== undefined && value < definition.min) {
    throw new UsageError(`invalid value "${raw}" for ${source}: expected an integer >= ${definition.min}`);
  }
  return value;
}

function checkChoice(value: string, definition: StringOption, envName: string | undefined): string {
  if (definition.choices !== undefined && !definition.choices.includes(value)) {
    throw new UsageError(
      `invalid value "${value}" for ${describeSource(definition.flag, envName)}: expected one of ${definition.choices.join(', ')}`,
    );
  }
  return value;
}

/** Env var names owned outright by some option: a prefix scan must not pick them up (`..._SEPARATOR`). */
function exactEnvNames(tables: readonly OptionTable[]): Set<string> {
  const names = new Set<string>();
  for (const table of tables) {
    for (const definition of Object.values(table)) {
      if (definition.value === 'string[]' && definition.envPrefix) continue;
      const { slipway, werf } = envNamesOf(definition);
      for (const name of [...slipway, ...werf]) names.add(name);
    }
  }
  return names;
}

function valuesByEnvPrefix(prefixes: readonly string[], env: Env, excluded: ReadonlySet<string>): string[] {
  const entries: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || excluded.has(name)) continue;
    if (prefixes.some((prefix) => name.startsWith(`${prefix}_`))) entries.push(`${name}=${value}`);
  }
  // Go's sort.Strings: by UTF-8 bytes.
  return entries.sort(compare).map((entry) => entry.slice(entry.indexOf('=') + 1));
}

function cliValueOf(definition: OptionDefinition, cli: Readonly<Record<string, unknown>>): unknown {
  for (const flag of [definition.flag, ...(definition.aliases ?? [])]) {
    const value = cli[attributeNameOf(flag)];
    if (value !== undefined) return value;
  }
  return undefined;
}

function expectType(flag: Flag, value: unknown, check: boolean): void {
  // Commander hands over what addOptions registered; anything else is a wiring bug, not a user mistake.
  if (!check) throw new Error(`option ${flag}: unexpected parsed value ${JSON.stringify(value)}`);
}

function resolveOne(
  definition: OptionDefinition,
  cliValue: unknown,
  env: Env,
  excluded: ReadonlySet<string>,
): boolean | string | string[] | number | undefined {
  const names = envNamesOf(definition);
  switch (definition.value) {
    case 'boolean': {
      if (cliValue !== undefined) {
        expectType(definition.flag, cliValue, typeof cliValue === 'boolean');
        return cliValue as boolean;
      }
      const defaultValue = definition.default ?? false;
      const own = firstSet(names.slipway, env);
      if (own) return booleanFromEnv(own.value, defaultValue);
      // werf ORs its alternatives (WERF_LOG_DEBUG || WERF_DEBUG): any one of them flips the default.
      const werfHits = names.werf.map((name) => env[name]).filter((v): v is string => v !== undefined && v !== '');
      return werfHits.some((raw) => booleanFromEnv(raw, defaultValue) !== defaultValue) ? !defaultValue : defaultValue;
    }
    case 'string': {
      if (cliValue !== undefined) {
        expectType(definition.flag, cliValue, typeof cliValue === 'string');
        return checkChoice(cliValue as string, definition, undefined);
      }
      const hit = firstSet(names.slipway, env) ?? firstSet(names.werf, env);
      if (hit) return checkChoice(hit.value, definition, hit.name);
      return typeof definition.default === 'function' ? definition.default(env) : definition.default;
    }
    case 'int': {
      if (cliValue !== undefined) {
        expectType(definition.flag, cliValue, typeof cliValue === 'string');
        return parseInt10(cliValue as string, definition, undefined);
      }
      const hit = firstSet(names.slipway, env) ?? firstSet(names.werf, env);
      if (hit) return parseInt10(hit.value, definition, hit.name);
      return definition.default;
    }
    case 'string[]': {
      const fromCli: string[] = [];
      if (cliValue !== undefined) {
        expectType(definition.flag, cliValue, Array.isArray(cliValue) && cliValue.every((v) => typeof v === 'string'));
        fromCli.push(...(cliValue as string[]));
      }
      if (definition.envPrefix) {
        const own = valuesByEnvPrefix(names.slipway, env, excluded);
        const fromEnv = own.length > 0 ? own : valuesByEnvPrefix(names.werf, env, excluded);
        return [...fromEnv, ...fromCli];
      }
      if (fromCli.length > 0) return fromCli;
      const hit = firstSet(names.slipway, env) ?? firstSet(names.werf, env);
      return hit ? [hit.value] : [];
    }
  }
}

/**
 * Turn parsed command-line values (commander's `opts()`, keyed by camelCase) and the environment into typed
 * option values. Pure: reads nothing but its arguments. Throws UsageError for a malformed value.
 */
export function resolveOptions<const T extends OptionTable>(
  definitions: T,
  cliValues: Readonly<Record<string, unknown>>,
  env: Env,
): ResolvedValues<T> {
  const excluded = exactEnvNames([OPTIONS, definitions]);
  const resolved: Record<string, unknown> = {};
  for (const [key, definition] of Object.entries(definitions)) {
    resolved[key] = resolveOne(definition, cliValueOf(definition, cliValues), env, excluded);
  }
  return resolved as ResolvedValues<T>;
}

// ---------------------------------------------------------------------------------------------------------
// Commander wiring

function envHelpOf(definition: OptionDefinition): string {
  const { slipway, werf } = envNamesOf(definition);
  const suffix = definition.value === 'string[]' && definition.envPrefix ? '_*' : '';
  return [...slipway, ...werf].map((name) => `$${name}${suffix}`).join(', ');
}

function defaultHelpOf(definition: OptionDefinition): string | undefined {
  if (definition.defaultHelp !== undefined) return definition.defaultHelp;
  switch (definition.value) {
    case 'boolean':
      return String(definition.default ?? false);
    case 'string':
      return typeof definition.default === 'string' && definition.default !== '' ? JSON.stringify(definition.default) : undefined;
    case 'int':
      return definition.default === undefined ? undefined : String(definition.default);
    case 'string[]':
      return undefined;
  }
}

/** The help line: what it does, then its default and env vars, like werf's `(default $WERF_X or false)`. */
export function helpTextOf(definition: OptionDefinition): string {
  const details: string[] = [];
  if (definition.value === 'string' && definition.choices) details.push(`one of: ${definition.choices.join(', ')}`);
  const defaultHelp = defaultHelpOf(definition);
  if (defaultHelp !== undefined) details.push(`default: ${defaultHelp}`);
  details.push(`env: ${envHelpOf(definition)}`);
  return `${definition.help} (${details.join('; ')})`;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function commanderOptionsFor(definition: OptionDefinition): Option[] {
  const shortPart = definition.short ? `${definition.short}, ` : '';
  const options: Option[] = [];
  if (definition.value === 'boolean') {
    const main = new Option(`${shortPart}${definition.flag}`, helpTextOf(definition));
    options.push(main.hideHelp(definition.hidden ?? false));
    // `--no-foo` is the spelling `--foo=false` is rewritten to (see normalizeBooleanAssignments).
    options.push(new Option(`--no-${definition.flag.slice(2)}`).hideHelp());
    for (const alias of definition.aliases ?? []) {
      options.push(new Option(alias).hideHelp(), new Option(`--no-${alias.slice(2)}`).hideHelp());
    }
    return options;
  }
  const placeholder = `<${definition.valueName ?? 'value'}>`;
  const main = new Option(`${shortPart}${definition.flag} ${placeholder}`, helpTextOf(definition)).hideHelp(
    definition.hidden ?? false,
  );
  if (definition.value === 'string[]') main.argParser(collect);
  options.push(main);
  for (const alias of definition.aliases ?? []) {
    const hiddenAlias = new Option(`${alias} ${placeholder}`).hideHelp();
    if (definition.value === 'string[]') hiddenAlias.argParser(collect);
    options.push(hiddenAlias);
  }
  return options;
}

/**
 * Register options from the table on a commander command. Defaults are applied by resolveOptions, not by
 * commander, so that "not given on the command line" stays distinguishable from "given as the default".
 */
export function addOptions(command: Command, names: readonly OptionName[], help: Partial<Record<OptionName, string>> = {}): Command {
  for (const name of names) {
    const definition = help[name] === undefined ? OPTIONS[name] : { ...OPTIONS[name], help: help[name] };
    for (const option of commanderOptionsFor(definition)) command.addOption(option);
  }
  return command;
}

// Go's strconv.ParseBool, which is what pflag applies to `--flag=value`.
const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * werf (pflag) accepts `--log-debug=false`; commander rejects a value on a boolean flag. Rewrite
 * `--flag=<bool>` to `--flag` / `--no-flag` before commander sees it. Stops at `--`.
 */
export function normalizeBooleanAssignments(argv: readonly string[], table: OptionTable = OPTIONS): string[] {
  const booleanFlags = new Set<string>();
  for (const definition of Object.values(table)) {
    if (definition.value !== 'boolean') continue;
    booleanFlags.add(definition.flag);
    for (const alias of definition.aliases ?? []) booleanFlags.add(alias);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const equals = arg.indexOf('=');
    const flag = arg.slice(0, equals);
    if (!arg.startsWith('--') || equals < 0 || !booleanFlags.has(flag)) {
      out.push(arg);
      continue;
    }
    const raw = arg.slice(equals + 1);
    if (GO_TRUE.has(raw)) out.push(flag);
    else if (GO_FALSE.has(raw)) out.push(`--no-${flag.slice(2)}`);
    else throw new UsageError(`invalid value "${raw}" for ${flag}: expected true or false`);
  }
  return out;
}
