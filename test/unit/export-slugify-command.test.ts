import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import type { CliRuntime } from '../../src/cli/command.js';
import { slugifyAs, slugifyCommand } from '../../src/cli/commands/slugify.js';

async function run(argv: string[]): Promise<{ stdout: string; error?: unknown }> {
  let stdout = '';
  const runtime: CliRuntime = {
    io: {
      stdout: (text) => {
        stdout += text;
      },
      stderr: () => {},
    },
    env: {},
  };
  const program = new Command('slipway').exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  const command = slugifyCommand.register(program, runtime);
  command.exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return { stdout };
  } catch (error) {
    return { stdout, error };
  }
}

describe('slugifyAs', () => {
  it.each([
    ['kubernetes-namespace', 'feature-fix-2', 'feature-fix-2'],
    ['kubernetes-namespace', 'branch/one/!@#4.4-3', 'branch-one-4-4-3-4fe08955'],
    ['ns', 'My_branch', 'my-branch-8ebf2d1d'],
    ['helm-release', 'looooooooooooooooooooooooooooooooooooooooooong_string', 'looooooooooooooooooooooooooooooooooooooooooo-b150a895'],
    ['r', 'release.name', 'release.name'],
    ['docker-tag', 'helo/ehlo', 'helo-ehlo-b6f6ab1f'],
    ['tag', '16.04', '16.04'],
    ['docker-tag', 'Backend_API', 'Backend_API'],
    ['image-slug', 'Backend_API', 'backend-api'],
    ['project', 'My_Project', 'my-project'],
  ])('-f %s %j → %j', (format, input, expected) => {
    expect(slugifyAs(format, [input])).toBe(expected);
  });

  it("gives werf's errors", () => {
    const cases: [string | undefined, string[], string][] = [
      [undefined, ['x'], '--format FORMAT argument required'],
      ['', ['x'], '--format FORMAT argument required'],
      ['bogus', ['x'], 'unknown format "bogus"'],
      ['toString', ['x'], 'unknown format "toString"'],
      ['ns', [], 'accepts 1 position argument, received 0'],
      ['ns', ['a', 'b'], 'accepts 1 position argument, received 2'],
    ];
    for (const [format, args, message] of cases) {
      expect(() => slugifyAs(format, args)).toThrow(UsageError);
      expect(() => slugifyAs(format, args)).toThrow(message);
    }
  });
});

describe('slipway slugify', () => {
  it('prints the slug and a newline', async () => {
    expect(await run(['slugify', '-f', 'kubernetes-namespace', 'My_branch'])).toEqual({ stdout: 'my-branch-8ebf2d1d\n' });
    expect(await run(['slugify', '--format', 'docker-tag', 'helo/ehlo'])).toEqual({ stdout: 'helo-ehlo-b6f6ab1f\n' });
    expect(await run(['slugify', '--format=image-slug', '--', '-leading'])).toEqual({ stdout: 'leading\n' });
    expect(await run(['slugify', '-f', 'docker-tag', ''])).toEqual({ stdout: '\n' });
  });

  it('fails without a format or with the wrong number of strings', async () => {
    const noFormat = await run(['slugify', 'x']);
    expect(noFormat.error).toBeInstanceOf(UsageError);
    expect((noFormat.error as Error).message).toBe('--format FORMAT argument required');
    const two = await run(['slugify', '-f', 'ns', 'a', 'b']);
    expect((two.error as Error).message).toBe('accepts 1 position argument, received 2');
  });
});
