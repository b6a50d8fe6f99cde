import { Command } from 'commander';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  addOptions,
  attributeNameOf,
  helpTextOf,
  normalizeBooleanAssignments,
  OPTIONS,
  pickOptions,
  resolveOptions,
  slipwayEnvNameOf,
  type OptionTable,
} from '../../src/cli/options.js';
import { usageErrorOf } from '../support/errors.js';

const all = pickOptions(Object.keys(OPTIONS) as (keyof typeof OPTIONS)[]);

function resolveAll(cli: Record<string, unknown>, env: Record<string, string>) {
  return resolveOptions(all, cli, env);
}

describe('the option table', () => {
  it('keys are the camelCase of their flags and every option has help', () => {
    for (const [key, definition] of Object.entries(OPTIONS)) {
      expect(attributeNameOf(definition.flag)).toBe(key);
      expect(definition.help.length).toBeGreaterThan(0);
    }
  });

  it('derives Slipway env names from flags', () => {
    expect(slipwayEnvNameOf('--parallel-tasks-limit')).toBe('SLIPWAY_PARALLEL_TASKS_LIMIT');
  });

  it('shows the default and every env var in help', () => {
    expect(helpTextOf(OPTIONS.logDebug)).toContain('default: false; env: $SLIPWAY_LOG_DEBUG, $WERF_LOG_DEBUG, $WERF_DEBUG');
    expect(helpTextOf(OPTIONS.dockerConfig)).toContain('default: ~/.docker; env: $SLIPWAY_DOCKER_CONFIG, $WERF_DOCKER_CONFIG, $DOCKER_CONFIG');
    expect(helpTextOf(OPTIONS.homeDir)).toContain('env: $SLIPWAY_HOME_DIR, $SLIPWAY_HOME)');
    expect(helpTextOf(OPTIONS.parallelTasksLimit)).toContain('default: 5');
  });

  it('types resolved values from the table', () => {
    const resolved = resolveAll({}, {});
    expectTypeOf(resolved.logDebug).toEqualTypeOf<boolean>();
    expectTypeOf(resolved.repo).toEqualTypeOf<string | undefined>();
    expectTypeOf(resolved.dockerConfig).toEqualTypeOf<string | undefined>();
    expectTypeOf(resolved.parallelTasksLimit).toEqualTypeOf<number>();
    expectTypeOf(resolved.platform).toEqualTypeOf<string[]>();
  });
});

describe('precedence: flag, then SLIPWAY_ env, then werf env, then default', () => {
  it('for a string option', () => {
    const env = { SLIPWAY_REPO: 'slipway.example/repo', WERF_REPO: 'werf.example/repo' };
    expect(resolveAll({ repo: 'cli.example/repo' }, env).repo).toBe('cli.example/repo');
    expect(resolveAll({}, env).repo).toBe('slipway.example/repo');
    expect(resolveAll({}, { WERF_REPO: 'werf.example/repo' }).repo).toBe('werf.example/repo');
    expect(resolveAll({}, {}).repo).toBeUndefined();
  });

  it('for an int option', () => {
    const env = { SLIPWAY_PARALLEL_TASKS_LIMIT: '7', WERF_PARALLEL_TASKS_LIMIT: '9' };
    expect(resolveAll({ parallelTasksLimit: '2' }, env).parallelTasksLimit).toBe(2);
    expect(resolveAll({}, env).parallelTasksLimit).toBe(7);
    expect(resolveAll({}, { WERF_PARALLEL_TASKS_LIMIT: '9' }).parallelTasksLimit).toBe(9);
    expect(resolveAll({}, {}).parallelTasksLimit).toBe(5);
    expect(resolveAll({}, {}).registryRetries).toBe(3);
  });

  it('treats an empty env var as unset', () => {
    expect(resolveAll({}, { SLIPWAY_REPO: '', WERF_REPO: 'werf.example/repo' }).repo).toBe('werf.example/repo');
  });

  it('keeps an explicitly empty flag value', () => {
    expect(resolveAll({ repo: '' }, { WERF_REPO: 'werf.example/repo' }).repo).toBe('');
  });

  it('reads werf variables in werf order: WERF_DOCKER_CONFIG before DOCKER_CONFIG', () => {
    expect(resolveAll({}, { WERF_DOCKER_CONFIG: '/a', DOCKER_CONFIG: '/b' }).dockerConfig).toBe('/a');
    expect(resolveAll({}, { DOCKER_CONFIG: '/b' }).dockerConfig).toBe('/b');
    // Unset: the credential lookup then reads $REGISTRY_AUTH_FILE before ~/.docker (registry/auth/credentials.ts).
    expect(resolveAll({}, { HOME: '/home/u' }).dockerConfig).toBeUndefined();
  });

  it('home dir: SLIPWAY_HOME_DIR, then SLIPWAY_HOME; WERF_HOME is not read', () => {
    expect(resolveAll({}, { SLIPWAY_HOME_DIR: '/x', SLIPWAY_HOME: '/y' }).homeDir).toBe('/x');
    expect(resolveAll({}, { SLIPWAY_HOME: '/y' }).homeDir).toBe('/y');
    expect(resolveAll({}, { WERF_HOME: '/w', HOME: '/home/u' }).homeDir).toBe('/home/u/.slipway');
  });

  it('accepts values from hidden aliases (--debug)', () => {
    expect(resolveAll({ debug: true }, {}).logDebug).toBe(true);
    expect(resolveAll({ logDebug: false, debug: true }, {}).logDebug).toBe(false);
  });
});

describe('booleans from env follow werf', () => {
  it('a default-false option becomes true only for 1, true, yes', () => {
    for (const raw of ['1', 'true', 'yes']) expect(resolveAll({}, { SLIPWAY_LOG_DEBUG: raw }).logDebug).toBe(true);
    for (const raw of ['0', 'false', 'TRUE', 'Yes', 'on', 'y']) {
      expect(resolveAll({}, { SLIPWAY_LOG_DEBUG: raw }).logDebug).toBe(false);
    }
  });

  it('a default-true option becomes false only for 0, false, no', () => {
    const table = { finalImagesOnly: { flag: '--final-images-only', value: 'boolean', default: true, help: 'x' } } as const satisfies OptionTable;
    for (const raw of ['0', 'false', 'no']) {
      expect(resolveOptions(table, {}, { SLIPWAY_FINAL_IMAGES_ONLY: raw }).finalImagesOnly).toBe(false);
    }
    for (const raw of ['FALSE', 'off', 'n', '1']) {
      expect(resolveOptions(table, {}, { SLIPWAY_FINAL_IMAGES_ONLY: raw }).finalImagesOnly).toBe(true);
    }
  });

  it("Slipway's variable wins over werf's, and the flag over both", () => {
    expect(resolveAll({}, { SLIPWAY_LOG_DEBUG: '0', WERF_LOG_DEBUG: '1' }).logDebug).toBe(false);
    expect(resolveAll({ logDebug: false }, { SLIPWAY_LOG_DEBUG: '1' }).logDebug).toBe(false);
    expect(resolveAll({ logDebug: true }, {}).logDebug).toBe(true);
  });

  it("werf's alternatives are ORed, as werf does (WERF_LOG_DEBUG || WERF_DEBUG)", () => {
    expect(resolveAll({}, { WERF_DEBUG: 'true' }).logDebug).toBe(true);
    expect(resolveAll({}, { WERF_LOG_DEBUG: '0', WERF_DEBUG: '1' }).logDebug).toBe(true);
  });
});

describe('array options', () => {
  const table = {
    addLabel: { flag: '--add-label', value: 'string[]', envPrefix: true, werfEnv: ['WERF_EXPORT_ADD_LABEL'], help: 'x' },
    addLabelSeparator: { flag: '--add-label-separator', value: 'string', werfEnv: ['WERF_EXPORT_ADD_LABEL_SEPARATOR'], help: 'x' },
  } as const satisfies OptionTable;

  it('orders prefix variables by the whole NAME=VALUE string, before command-line values', () => {
    const env = {
      WERF_EXPORT_ADD_LABEL_B: 'b=2',
      WERF_EXPORT_ADD_LABEL_A: 'a=1',
      // By name alone _A sorts before _A0; by NAME=VALUE "_A0=" sorts first, since '0' < '='.
      WERF_EXPORT_ADD_LABEL_A0: 'a0=0',
      WERF_EXPORT_ADD_LABEL_SEPARATOR: ';',
      WERF_EXPORT_ADD_LABELX: 'not-a-match',
    };
    const resolved = resolveOptions(table, { addLabel: ['cli=1', 'cli=2'] }, env);
    expect(resolved.addLabel).toEqual(['a0=0', 'a=1', 'b=2', 'cli=1', 'cli=2']);
    expect(resolved.addLabelSeparator).toBe(';');
  });

  it("uses Slipway's prefix variables instead of werf's when any is set", () => {
    const env = { SLIPWAY_ADD_LABEL_1: 's=1', WERF_EXPORT_ADD_LABEL_1: 'w=1', SLIPWAY_ADD_LABEL_SEPARATOR: ',' };
    expect(resolveOptions(table, {}, env).addLabel).toEqual(['s=1']);
    expect(resolveOptions(table, {}, { WERF_EXPORT_ADD_LABEL_1: 'w=1' }).addLabel).toEqual(['w=1']);
  });

  it('platform: the first env var is a single-element default that the command line replaces', () => {
    expect(resolveAll({}, { WERF_PLATFORM: 'linux/arm64', DOCKER_DEFAULT_PLATFORM: 'linux/amd64' }).platform).toEqual(['linux/arm64']);
    expect(resolveAll({}, { DOCKER_DEFAULT_PLATFORM: 'linux/amd64' }).platform).toEqual(['linux/amd64']);
    expect(resolveAll({}, { SLIPWAY_PLATFORM: 'linux/s390x', WERF_PLATFORM: 'linux/arm64' }).platform).toEqual(['linux/s390x']);
    expect(resolveAll({ platform: ['linux/386', 'linux/arm/v7'] }, { WERF_PLATFORM: 'linux/arm64' }).platform).toEqual([
      'linux/386',
      'linux/arm/v7',
    ]);
    expect(resolveAll({}, {}).platform).toEqual([]);
  });
});

describe('invalid values are UsageErrors naming where they came from', () => {
  it('an int flag', () => {
    expect(usageErrorOf(() => resolveAll({ parallelTasksLimit: 'five' }, {})).message).toBe(
      'invalid value "five" for --parallel-tasks-limit: expected an integer',
    );
  });

  it('an int env var', () => {
    const error = usageErrorOf(() => resolveAll({}, { WERF_PARALLEL_TASKS_LIMIT: '2.5' }));
    expect(error.message).toBe('invalid value "2.5" for $WERF_PARALLEL_TASKS_LIMIT (for --parallel-tasks-limit): expected an integer');
  });

  it('an int below its minimum', () => {
    expect(usageErrorOf(() => resolveAll({ registryRetries: '-1' }, {})).message).toBe(
      'invalid value "-1" for --registry-retries: expected an integer >= 0',
    );
    expect(resolveAll({ parallelTasksLimit: '-1' }, {}).parallelTasksLimit).toBe(-1);
  });

  it('a value outside the choices', () => {
    const table = { logColorMode: { flag: '--log-color-mode', value: 'string', choices: ['on', 'off', 'auto'], default: 'auto', help: 'x' } } as const satisfies OptionTable;
    const resolved = resolveOptions(table, {}, {});
    expectTypeOf(resolved.logColorMode).toEqualTypeOf<'on' | 'off' | 'auto'>();
    expect(resolved.logColorMode).toBe('auto');
    expect(usageErrorOf(() => resolveOptions(table, {}, { SLIPWAY_LOG_COLOR_MODE: 'yes' })).message).toBe(
      'invalid value "yes" for $SLIPWAY_LOG_COLOR_MODE (for --log-color-mode): expected one of on, off, auto',
    );
  });
});

describe('normalizeBooleanAssignments', () => {
  it('rewrites --flag=<bool> the way pflag reads it, and stops at --', () => {
    expect(normalizeBooleanAssignments(['--log-debug=true', '--log-quiet=False', '--debug=1', '--repo=x=false', '--', '--log-debug=0'])).toEqual([
      '--log-debug',
      '--no-log-quiet',
      '--debug',
      '--repo=x=false',
      '--',
      '--log-debug=0',
    ]);
  });

  it('rejects other values', () => {
    expect(usageErrorOf(() => normalizeBooleanAssignments(['--log-verbose=maybe'])).message).toBe(
      'invalid value "maybe" for --log-verbose: expected true or false',
    );
  });
});

describe('addOptions', () => {
  function parse(argv: string[]): Record<string, unknown> {
    const command = addOptions(new Command().exitOverride(), ['logDebug', 'repo', 'platform', 'parallelTasksLimit']);
    command.parse(normalizeBooleanAssignments(argv), { from: 'user' });
    return command.opts();
  }

  it('leaves absent options undefined so env and defaults still apply', () => {
    const resolved = resolveOptions(pickOptions(['logDebug', 'repo', 'parallelTasksLimit']), parse([]), { WERF_REPO: 'r.example/x' });
    expect(resolved).toEqual({ logDebug: false, repo: 'r.example/x', parallelTasksLimit: 5 });
  });

  it('collects repeated array flags and parses --flag=false', () => {
    const values = parse(['--platform', 'linux/amd64', '--platform=linux/arm64', '--log-debug=false', '--parallel-tasks-limit', '3']);
    const resolved = resolveOptions(pickOptions(['logDebug', 'platform', 'parallelTasksLimit']), values, { SLIPWAY_LOG_DEBUG: '1' });
    expect(resolved).toEqual({ logDebug: false, platform: ['linux/amd64', 'linux/arm64'], parallelTasksLimit: 3 });
  });

  it('accepts the hidden alias --debug', () => {
    expect(resolveOptions(pickOptions(['logDebug']), parse(['--debug']), {}).logDebug).toBe(true);
  });
});
