// Slipway's version, read from package.json at run time, so there is one source of truth. It is one level up from
// src/version.ts (tsx, vitest) and dist/version.js, two from the bundled CLI's chunks in dist/bin/.

import { readFileSync } from 'node:fs';

function readPackageVersion(): string {
  for (const relative of ['../package.json', '../../package.json']) {
    let text: string;
    try {
      text = readFileSync(new URL(relative, import.meta.url), 'utf8');
    } catch {
      continue;
    }
    const manifest: unknown = JSON.parse(text);
    if (typeof manifest === 'object' && manifest !== null && 'name' in manifest && manifest.name === 'slipway' && 'version' in manifest && typeof manifest.version === 'string') {
      return manifest.version;
    }
  }
  throw new Error('Slipway\'s package.json (with a "version") was not found beside its modules');
}

export const SLIPWAY_VERSION: string = readPackageVersion();
