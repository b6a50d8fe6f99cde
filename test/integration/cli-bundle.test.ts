// The installed `slipway` is the bundled dist/slipway.mjs (package.json `bin`): run it as a user would.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDirs } from '../support/git-repo.js';
import { skopeoInspect } from '../support/registries.js';

const run = promisify(execFile);
const temp = tempDirs();
afterAll(temp.removeAll);
const BUNDLE = join(process.cwd(), 'dist/slipway.mjs');

describe('the bundled CLI', () => {
  it('exists (npm test builds it first)', () => {
    expect(existsSync(BUNDLE), 'dist/slipway.mjs is missing: run `npm run build`').toBe(true);
  });

  it('prints its version and exports the example project with no registry', async () => {
    const { stdout } = await run(process.execPath, [BUNDLE, 'version']);
    expect(stdout).toMatch(/^slipway \d+\.\d+\.\d+\n$/);
    const home = await temp.make('slipway-bundle-home-');
    const out = await temp.make('slipway-bundle-out-');
    const exported = await run(process.execPath, [BUNDLE, 'export', '--dir', 'examples/hello', '--tag', `oci:${out}/layout:%image%`], {
      env: { ...process.env, SLIPWAY_HOME: home },
    });
    expect(exported.stdout.trim().split('\n').map((line) => line.replace(/@sha256:[0-9a-f]{64}$/, ''))).toEqual([
      `oci:${out}/layout:docs`, `oci:${out}/layout:web`,
    ]);
    const config = await skopeoInspect(`oci:${out}/layout:web`, { config: true }) as { config: { Labels: Record<string, string>; User: string } };
    expect(config.config.User).toBe('65534:65534');
    expect(Object.keys(config.config.Labels).filter((k) => k.startsWith('slipway'))).toEqual([]);
  });
});
