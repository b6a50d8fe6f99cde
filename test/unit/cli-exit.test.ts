import { CommanderError } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, InvalidInputError, RegistryError, SlipwayError, UsageError } from '../../src/errors.js';
import { exitCodeFor, formatError, handleFatal } from '../../src/cli/exit.js';

describe('exitCodeFor', () => {
  it('usage errors, including commander parse errors, exit 2', () => {
    expect(exitCodeFor(new UsageError('bad flag'))).toBe(2);
    expect(exitCodeFor(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"))).toBe(2);
  });

  it('every other Slipway error exits 1, like werf', () => {
    expect(exitCodeFor(new SlipwayError('x'))).toBe(1);
    expect(exitCodeFor(new ConfigError('x'))).toBe(1);
    expect(exitCodeFor(new InvalidInputError('x'))).toBe(1);
    expect(exitCodeFor(new RegistryError('x', { method: 'GET', url: 'https://r.example/v2/' }))).toBe(1);
  });

  it('unexpected errors and thrown non-errors exit 1', () => {
    expect(exitCodeFor(new TypeError('x'))).toBe(1);
    expect(exitCodeFor('a string')).toBe(1);
  });

  it('help and version output is success', () => {
    expect(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toBe(0);
    expect(exitCodeFor(new CommanderError(0, 'commander.version', 'slipway 0.1.0'))).toBe(0);
  });
});

describe('formatError', () => {
  it('prints exactly `Error: <message>` on the first line, and the hint indented after it', () => {
    const text = formatError(new ConfigError('unable to load werf config: no such file', { hint: 'check --config' }), { debug: false });
    expect(text).toBe('Error: unable to load werf config: no such file\n  check --config\n');
  });

  it('prints a one-line message without a hint as one line', () => {
    expect(formatError(new UsageError('no image matches pattern "nonexistent"'), { debug: false })).toBe(
      'Error: no image matches pattern "nonexistent"\n',
    );
  });

  it("shows a RegistryError's message, which carries the redacted URL and status", () => {
    const error = new RegistryError('GET https://r.example/v2/app/manifests/1.0: 401 Unauthorized', {
      method: 'GET',
      url: 'https://r.example/v2/app/manifests/1.0',
      status: 401,
      errors: [{ code: 'UNAUTHORIZED' }],
    });
    expect(formatError(error, { debug: false }).split('\n')[0]).toBe('Error: GET https://r.example/v2/app/manifests/1.0: 401 Unauthorized');
  });

  it('reports an unexpected error as an internal error with a hint to report it', () => {
    const lines = formatError(new TypeError("Cannot read properties of undefined (reading 'x')"), { debug: false }).split('\n');
    expect(lines[0]).toBe("Error: internal error: Cannot read properties of undefined (reading 'x')");
    expect(lines[1]).toMatch(/^ {2}this is a bug in Slipway; please report it/);
    expect(formatError(42, { debug: false })).toMatch(/^Error: internal error: 42\n/);
  });

  it('shows no stack without --log-debug', () => {
    const text = formatError(new TypeError('boom'), { debug: false });
    expect(text).not.toMatch(/\bat /);
  });

  it('with --log-debug, follows the cause chain and prints stacks', () => {
    const root = new Error('connect ECONNREFUSED 127.0.0.1:5000');
    const middle = new TypeError('fetch failed', { cause: root });
    const error = new RegistryError('GET http://127.0.0.1:5000/v2/: cannot connect', { method: 'GET', url: 'http://127.0.0.1:5000/v2/', cause: middle });
    const text = formatError(error, { debug: true });
    const lines = text.split('\n');
    expect(lines[0]).toBe('Error: GET http://127.0.0.1:5000/v2/: cannot connect');
    expect(text).toContain('debug: RegistryError: GET http://127.0.0.1:5000/v2/: cannot connect');
    expect(text).toContain('caused by: TypeError: fetch failed');
    expect(text).toContain('caused by: Error: connect ECONNREFUSED 127.0.0.1:5000');
    expect(text).toMatch(/\n {4,}at /);
  });

  it('survives a cause cycle and a non-error cause', () => {
    const a = new SlipwayError('a');
    const b = new SlipwayError('b', { cause: a });
    Object.defineProperty(a, 'cause', { value: b });
    expect(formatError(b, { debug: true }).match(/caused by:/g)).toHaveLength(1);
    expect(formatError(new SlipwayError('c', { cause: 'plain string' }), { debug: true })).toContain('caused by: plain string');
  });

  it('prints nothing for help and version', () => {
    expect(formatError(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), { debug: true })).toBe('');
  });

  it('formats a raw commander error without its `error:` prefix, suggestions indented', () => {
    const error = new CommanderError(1, 'commander.unknownOption', "error: unknown option '--rep'\n(Did you mean --repo?)");
    expect(formatError(error, { debug: false })).toBe("Error: unknown option '--rep'\n  (Did you mean --repo?)\n");
  });
});

describe('handleFatal', () => {
  const previous = process.exitCode;
  afterEach(() => {
    process.exitCode = previous;
  });

  it('writes the report and sets process.exitCode', () => {
    let written = '';
    const code = handleFatal(new UsageError('bad'), false, (text) => {
      written += text;
    });
    expect(code).toBe(2);
    expect(process.exitCode).toBe(2);
    expect(written).toBe('Error: bad\n');
  });
});
