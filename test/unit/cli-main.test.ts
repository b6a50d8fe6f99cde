import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { defineCommand, type CliRuntime } from '../../src/cli/command.js';
import { COMMANDS, runCli } from '../../src/cli/program.js';
import { SLIPWAY_VERSION } from '../../src/version.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

function captureRuntime(env: Record<string, string> = {}): { runtime: CliRuntime; out: { stdout: string; stderr: string } } {
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
  return { runtime, out };
}

async function run(argv: string[], env: Record<string, string> = {}): Promise<Captured> {
  const { runtime, out } = captureRuntime(env);
  const code = await runCli(argv, runtime);
  return { code, ...out };
}

describe('SLIPWAY_VERSION', () => {
  it('is the version in package.json', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(SLIPWAY_VERSION).toBe(manifest.version);
  });
});

describe('runCli, in process', () => {
  it('prints the version with `version` and `--version`', async () => {
    expect(await run(['version'])).toEqual({ code: 0, stdout: `slipway ${SLIPWAY_VERSION}\n`, stderr: '' });
    expect(await run(['--version'])).toEqual({ code: 0, stdout: `slipway ${SLIPWAY_VERSION}\n`, stderr: '' });
  });

  it('lists every command and the global options in --help', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    for (const command of COMMANDS) expect(result.stdout).toMatch(new RegExp(`^ {2}${command.name}\\b`, 'm'));
    expect(result.stdout).toContain('--log-debug');
    expect(result.stdout).not.toContain('--no-log-debug');
    expect(result.stdout).not.toMatch(/ --debug\b/);
  });

  it('an unknown option exits 2 with `Error:` on the first line', async () => {
    const result = await run(['version', '--no-such-option']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toBe("Error: unknown option '--no-such-option'");
    expect(result.stderr).toContain('  see slipway version --help');
  });

  it('an unknown command exits 2 and points at --help', async () => {
    const result = await run(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("Error: unknown command 'frobnicate'\n  see slipway --help\n");
  });

  it('suggests a near command name', async () => {
    const result = await run(['verion']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('(Did you mean version?)');
  });

  it('no command exits 2', async () => {
    const result = await run([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Error: no command given');
  });

  it('extra operands exit 2', async () => {
    expect((await run(['version', 'extra'])).code).toBe(2);
  });

  it('accepts global options after the command and in werf `--flag=value` form', async () => {
    expect((await run(['version', '--log-debug'])).code).toBe(0);
    expect((await run(['--log-quiet=true', 'version'])).code).toBe(0);
    const bad = await run(['version', '--log-debug=perhaps']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe('Error: invalid value "perhaps" for --log-debug: expected true or false');
  });

  it('adds the stack under --log-debug, or WERF_LOG_DEBUG, and not otherwise', async () => {
    expect((await run(['nope'])).stderr).not.toContain('debug:');
    expect((await run(['nope', '--log-debug'])).stderr).toContain('debug: UsageError');
    expect((await run(['nope'], { WERF_LOG_DEBUG: 'true' })).stderr).toContain('debug: UsageError');
  });
});

describe('defineCommand', () => {
  it('hands resolved, typed options and operands to run, and lets errors through', async () => {
    const seen: unknown[] = [];
    const command = defineCommand({
      name: 'probe',
      summary: 'test command',
      arguments: [{ syntax: '[image-name...]', help: 'images' }],
      options: ['repo', 'parallelTasksLimit', 'platform'],
      run({ options, args, log }) {
        const limit: number = options.parallelTasksLimit;
        const repo: string | undefined = options.repo;
        const debug: boolean = options.logDebug;
        seen.push({ limit, repo, debug, platform: options.platform, args });
        log.verbose('verbose line');
        log.info('info line');
        if (args.includes('fail')) throw new ConfigError('probe failed');
      },
    });
    const { runtime, out } = captureRuntime({ WERF_REPO: 'r.example/stages', WERF_PLATFORM: 'linux/arm64' });
    const program = new Command('slipway').exitOverride();
    program.option('--log-debug').option('--log-quiet').option('--log-verbose');
    command.register(program, runtime);

    await program.parseAsync(['probe', 'a', 'b', '--parallel-tasks-limit', '2', '--log-quiet'], { from: 'user' });
    expect(seen).toEqual([{ limit: 2, repo: 'r.example/stages', debug: false, platform: ['linux/arm64'], args: ['a', 'b'] }]);
    expect(out.stderr).toBe(''); // quiet

    await expect(program.parseAsync(['probe', 'fail', '--log-verbose'], { from: 'user' })).rejects.toThrow('probe failed');
    expect(out.stderr).toBe('verbose line\ninfo line\n');
  });
});

describe('the executable, spawned with tsx', () => {
  function spawnCli(args: string[]): Captured {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' },
      timeout: 60_000,
    });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  it('version', () => {
    expect(spawnCli(['version'])).toEqual({ code: 0, stdout: `slipway ${SLIPWAY_VERSION}\n`, stderr: '' });
  });

  it('--help lists the commands', () => {
    const result = spawnCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: slipway /);
    expect(result.stdout).toMatch(/^ {2}version\b/m);
  });

  it('an unknown option exits 2 with `Error:` first', () => {
    const result = spawnCli(['--bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe("Error: unknown option '--bogus'");
  });

  it('an unknown command exits 2', () => {
    const result = spawnCli(['bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe("Error: unknown command 'bogus'");
  });
});
