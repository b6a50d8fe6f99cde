// Bundles the CLI (dist/slipway.mjs, the package's `bin`): Node then loads a few modules instead of ~300. The bundle
// is split where the commands import their machinery lazily (`await import(...)` in src/cli/commands): start-up
// reads only the option table and commander, and each command loads its chunk when it runs, so `slipway version`
// or `--help` does not compile the builder, the registry client or undici. The library (dist/index.js) stays
// unbundled for importers.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';

await rm('dist/bin', { recursive: true, force: true });
await build({
  entryPoints: { main: 'dist/cli/main.js' },
  outdir: 'dist/bin',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  chunkNames: 'chunk-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS dependencies (commander, yaml's helpers, ...) call require(): give ESM one.
  banner: { js: "import { createRequire as __slipwayCreateRequire } from 'node:module'; const require = __slipwayCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
await mkdir('dist', { recursive: true });
await writeFile('dist/slipway.mjs', "#!/usr/bin/env node\nimport './bin/main.mjs';\n", { mode: 0o755 });
