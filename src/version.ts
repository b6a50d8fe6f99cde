// Slipway's version, read from package.json next to the module tree at run time, so there is one source of
// truth. `../package.json` is right both from src/version.ts (tsx, vitest) and from dist/version.js.

import { readFileSync } from 'node:fs';

function readPackageVersion(): string {
  const manifest: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  if (typeof manifest === 'object' && manifest !== null && 'version' in manifest && typeof manifest.version === 'string') {
    return manifest.version;
  }
  throw new Error('package.json has no "version" string');
}

export const SLIPWAY_VERSION: string = readPackageVersion();
