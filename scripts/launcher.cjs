#!/usr/bin/env node
// The `slipway` executable: runs the bundled CLI (bin/slipway.cjs) through V8's code cache.
//
// Why: compiling the bundle (1.1 MB) was most of what start-up cost beyond Node itself (an up-to-date export
// measured 0.34 s compiled, 0.26 s from the cache, when it was 2.6 MB). Node 20 caches no user code, so this launcher does what Node 22's
// module.enableCompileCache() does: the first run of each command compiles, and at exit writes the code V8 made
// to $SLIPWAY_HOME/cache/v8/ (one file per command, so `export` does not inherit the few functions `version`
// ran); later runs hand it back to V8. V8 checks only the source's length, so the file name carries the bundle's
// hash (filled in by scripts/bundle-cli.mjs), with the Node version and architecture. Any failure to read or
// write the cache only costs the compile: it never stops the command.
'use strict';
const { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { createRequire, wrap } = require('node:module');
const { homedir } = require('node:os');
const { join } = require('node:path');
const { setFlagsFromString } = require('node:v8');
const { Script } = require('node:vm');

// V8 drops the bytecode of functions that have not run for a while when it collects garbage; a long command (a copy
// of gigabytes) would then save a cache without the start-up code it ran first. Set before the bundle is compiled:
// V8 accepts a cache only under the flags it was made with.
setFlagsFromString('--no-flush-bytecode');

const BUNDLE = join(__dirname, 'bin', 'slipway.cjs');
const BUNDLE_HASH = '@BUNDLE_HASH@';
const BUNDLE_ENCODING = '@BUNDLE_ENCODING@';

function cacheDir() {
  const env = process.env;
  const home = env.SLIPWAY_HOME_DIR || env.SLIPWAY_HOME || join(env.HOME || homedir(), '.slipway');
  return join(home, 'cache', 'v8');
}

/** The command word (`export`, `build`, ...): the first argument that is not an option, if it is a plain word. */
function commandOf(argv) {
  const word = argv.find((arg) => !arg.startsWith('-'));
  return word !== undefined && /^[a-z-]{1,32}$/.test(word) ? word : 'none';
}

const dir = cacheDir();
const prefix = `${BUNDLE_HASH}-`;
const cacheFile = join(dir, `${prefix}${process.version}-${process.arch}-${commandOf(process.argv.slice(2))}.bin`);

function saveCache(script) {
  const partial = `${cacheFile}.${process.pid}.tmp`;
  try {
    const data = script.createCachedData();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(partial, data, { mode: 0o600 });
    renameSync(partial, cacheFile);
    // Caches of other builds of Slipway are of no use any more.
    for (const name of readdirSync(dir)) if (!name.startsWith(prefix)) rmSync(join(dir, name), { force: true });
  } catch {
    // A read-only or full home: the next run compiles again, and no half-written file stays behind.
    try {
      rmSync(partial, { force: true });
    } catch {
      // nothing was written
    }
  }
}

let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new Script(wrap(readFileSync(BUNDLE, BUNDLE_ENCODING)), { filename: BUNDLE, cachedData });
if (cachedData === undefined || script.cachedDataRejected === true) process.once('exit', () => saveCache(script));
const bundleModule = { exports: {} };
script.runInThisContext().call(bundleModule.exports, bundleModule.exports, createRequire(BUNDLE), bundleModule, BUNDLE, join(__dirname, 'bin'));
