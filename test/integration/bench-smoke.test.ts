// The benches still run: bench/export, bench/build-run and bench/cached-build on tiny inputs, one round each, so that a change that
// breaks a bench fails CI. The figures of a smoke run mean nothing (tests never assert on time); full runs are
// `npm run bench:*` (bench/README.md).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

async function bench(script: string, args: string[]): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', script, ...args], {
    maxBuffer: 16 * 1024 * 1024, env: { ...process.env },
  });
  return `${stdout}${stderr}`;
}

describe('bench smoke runs', () => {
  it('bench/export runs its three scenarios and checks every export', async () => {
    const out = await bench('bench/export.ts', ['--rounds', '1', '--layers', '1,1', '--no-json']);
    for (const scenario of ['cross-registry', 'same registry, new repo (mount)', 're-run (same tag, all present)']) expect(out).toContain(scenario);
    expect(out).toMatch(/every Slipway export checked/);
  }, 180_000);

  it('bench/build-run builds with Slipway and buildah and finds the same files', async () => {
    const out = await bench('bench/build-run.ts', ['--rounds', '1', '--files', '50', '--blob-mib', '1', '--no-json']);
    expect(out).toMatch(/check: both images hold the same files/);
    expect(out).toMatch(/cold build \+ push/);
  }, 300_000);

  it('bench/cached-build rebuilds a many-image project with every stage cached', async () => {
    const out = await bench('bench/cached-build.ts', ['--rounds', '1', '--images', '3', '--files', '3', '--no-json']);
    expect(out).toMatch(/slipway build, every stage cached +\d+\.\d{3}/);
  }, 120_000);
});
