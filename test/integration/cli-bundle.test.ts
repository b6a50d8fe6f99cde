// The installed `slipway` is the bundled dist/slipway.cjs (package.json `bin`): run it as a user would.
// Its launcher keeps V8's code cache under $SLIPWAY_HOME/cache/v8 (scripts/launcher.cjs).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDirs } from '../support/git-repo.js';
import { skopeoInspect } from '../support/registries.js';

const run = promisify(execFile);
const temp = tempDirs();
afterAll(temp.removeAll);
const BUNDLE = join(process.cwd(), 'dist/slipway.cjs');

describe('the bundled CLI', () => {
  it('exists (npm test builds it first)', () => {
    expect(existsSync(BUNDLE), 'dist/slipway.cjs is missing: run `npm run build`').toBe(true);
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

  it('keeps a code cache per command in its home, and runs on with a damaged or unwritable one', async () => {
    const home = await temp.make('slipway-bundle-cache-');
    const env = { ...process.env, SLIPWAY_HOME: home };
    const cacheDir = join(home, 'cache', 'v8');
    expect((await run(process.execPath, [BUNDLE, 'version'], { env })).stdout).toMatch(/^slipway /);
    await run(process.execPath, [BUNDLE, 'slugify', '--format', 'docker-tag', 'a/b'], { env });
    const files = (await readdir(cacheDir)).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(new RegExp(`^[0-9a-f]{16}-${process.version.replaceAll('.', '\\.')}-${process.arch}-slugify\\.bin$`));
    expect(files[1]).toMatch(/-version\.bin$/);
    const versionCache = join(cacheDir, files[1]!);
    const written = await readFile(versionCache);
    expect(written.length).toBeGreaterThan(1000);

    // Garbage where the cache was: V8 refuses it, the command runs, and a good cache replaces it.
    await writeFile(versionCache, Buffer.alloc(written.length, 7));
    expect((await run(process.execPath, [BUNDLE, 'version'], { env })).stdout).toMatch(/^slipway /);
    expect((await readFile(versionCache)).equals(Buffer.alloc(written.length, 7))).toBe(false);

    // A cache of an older build is removed when the new one is written.
    const stale = join(cacheDir, `0000000000000000-${process.version}-${process.arch}-version.bin`);
    await writeFile(stale, 'old');
    await run(process.execPath, [BUNDLE, 'config', '--help'], { env });
    expect(await readdir(cacheDir)).not.toContain('0000000000000000-' + `${process.version}-${process.arch}-version.bin`);

    // A home it cannot write to costs only the compile (as an unprivileged user: root writes anywhere).
    const readOnly = await temp.make('slipway-bundle-ro-');
    await chmod(readOnly, 0o555);
    const asNobody = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BUNDLE, 'version'], {
      env: { ...process.env, SLIPWAY_HOME: join(readOnly, 'home') },
    });
    expect(asNobody.stdout).toMatch(/^slipway /);
    expect(existsSync(join(readOnly, 'home'))).toBe(false);
  });
});
