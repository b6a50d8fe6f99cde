// The README's library example runs as a user would run it (node, the built package imported by name), and what
// it exported is read back with skopeo.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skopeoInspect } from '../support/registries.js';

const run = promisify(execFile);
let work: string;

beforeAll(async () => {
  if (!existsSync(join(process.cwd(), 'dist', 'index.js'))) throw new Error('dist/index.js is missing: run npm run build (npm test does)');
  work = await mkdtemp(join(tmpdir(), 'slipway-library-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the library example (examples/library/export-hello.mjs)', () => {
  it('builds and exports examples/hello through exportProject, with events, twice (the second time reusing every stage)', async () => {
    const out = join(work, 'out');
    const home = join(work, 'home');
    const first = await run(process.execPath, ['examples/library/export-hello.mjs', out, home], { env: { PATH: process.env.PATH ?? '', HOME: work } });
    const lines = first.stdout.trim().split('\n').sort();
    expect(lines.map((l) => l.replace(/@sha256:[0-9a-f]{64}$/, ''))).toEqual([`oci:${out}:docs`, `oci:${out}:web`]);
    expect(first.stderr).toMatch(/^built web\//m);
    expect(first.stderr).toMatch(/^exported web$/m);
    const config = await skopeoInspect(`oci:${out}:web`, { config: true }) as { config: { Labels?: Record<string, string> } };
    expect(config.config.Labels?.['org.opencontainers.image.created']).toBe('2026-11-26');
    expect(Object.keys(config.config.Labels ?? {}).filter((k) => k.startsWith('slipway'))).toEqual([]);

    const second = await run(process.execPath, ['examples/library/export-hello.mjs', out, home], { env: { PATH: process.env.PATH ?? '', HOME: work } });
    expect(second.stderr).not.toMatch(/^built /m);
    expect(second.stderr).toMatch(/^reused web\//m);
    expect(second.stdout.trim().split('\n').sort()).toEqual(lines);
  }, 120_000);
});
