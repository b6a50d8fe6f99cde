#!/usr/bin/env node
// The `slipway` executable. All the work is in program.ts so that tests can run the CLI in-process.

import { setFlagsFromString } from 'node:v8';
import { handleFatal } from './exit.js';
import { runCli } from './program.js';

// undici's HTTP parser is WebAssembly; V8's optimising tier for it finishes in the background
// and holds the process 0.2-0.6 s after the work is done. The baseline tier is fast enough
// for parsing HTTP heads (bench/copy measured no throughput loss). CLI only: a library user's
// process keeps its own V8 settings.
setFlagsFromString('--liftoff-only');

runCli(process.argv.slice(2)).then(
  (code) => {
    // Set, not process.exit(): pending writes to stdout and stderr get flushed.
    process.exitCode = code;
  },
  (error: unknown) => handleFatal(error, true),
);
