// The CLI in process, with its output collected: what a user would see, and the exit code.
import { tmpdir } from 'node:os';
import { runCli } from '../../src/cli/program.js';

export interface CliRun {
  code: number;
  /** stdout and stderr, interleaved as written. */
  out: string;
  stdout: string;
}

/** `slipway <argv>` with a clean environment (PATH, HOME) plus `env`. */
export async function runSlipway(argv: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  let out = '';
  let stdout = '';
  const code = await runCli(argv, {
    io: { stdout: (t) => { out += t; stdout += t; }, stderr: (t) => { out += t; } },
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...env },
  });
  return { code, out, stdout };
}
