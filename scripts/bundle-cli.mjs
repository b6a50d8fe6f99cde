// Bundles the CLI into one CommonJS file (dist/bin/slipway.cjs) and writes its launcher (dist/slipway.cjs, the
// package's `bin`, from scripts/launcher.cjs). Node then reads two files instead of ~300 modules, and the launcher
// can hand V8 a code cache for the bundle (see the launcher's header). One file rather than chunks: the commands
// still load their machinery lazily (`await import(...)` becomes a module initialised on first use), and V8
// compiles a function only when it first runs, so `slipway version` does not compile the builder. The library
// (dist/index.js) stays unbundled ESM for importers.
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';

const BUNDLE = 'dist/bin/slipway.cjs';

// commander loads node:child_process (and with it net and stream, ~7 ms) when the CLI starts, for executable
// subcommands Slipway does not have. Give it a stand-in that loads the module only if it is ever used.
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(build) {
    build.onResolve({ filter: /^node:child_process$/ }, (args) => (
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'lazy-child-process', namespace: 'slipway' } : undefined
    ));
    build.onLoad({ filter: /.*/, namespace: 'slipway' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, name) => require('node:child_process')[name] });",
      loader: 'js',
    }));
  },
};

await rm('dist/bin', { recursive: true, force: true });
await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The sources are ESM: their import.meta.url is the bundle's own URL.
  define: { 'import.meta.url': '__slipwayBundleUrl' },
  banner: { js: "const __slipwayBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // Whitespace and comments out: a third less to read and compile; names stay, so stack traces still read.
  minifyWhitespace: true,
  // Licence comments of dependencies go to dist/bin/slipway.cjs.LEGAL.txt.
  legalComments: 'external',
  plugins: [lazyChildProcessForCommander],
  logLevel: 'warning',
});
// The launcher compiles the bundle inside a function wrapper, where a `#!` line is a syntax error.
const bundle = (await readFile(BUNDLE, 'utf8')).replace(/^#!.*\n/, '');
await writeFile(BUNDLE, bundle);
const hash = createHash('sha256').update(bundle).digest('hex').slice(0, 16);
// Decoding an ASCII file as latin1 makes a one-byte string at memcpy speed (UTF-8 decoding of 2 MB costs ~3 ms).
const encoding = /^[\x00-\x7f]*$/.test(bundle) ? 'latin1' : 'utf8';
const launcher = (await readFile('scripts/launcher.cjs', 'utf8')).replace('@BUNDLE_HASH@', hash).replace('@BUNDLE_ENCODING@', encoding);
await writeFile('dist/slipway.cjs', launcher, { mode: 0o755 });
// The launcher of earlier builds.
await rm('dist/slipway.mjs', { force: true });
