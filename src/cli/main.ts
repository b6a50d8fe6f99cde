#!/usr/bin/env node
// The `slipway` executable. All the work is in program.ts so that tests can run the CLI in-process.

import { handleFatal } from './exit.js';
import { runCli } from './program.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    // Set, not process.exit(): pending writes to stdout and stderr get flushed.
    process.exitCode = code;
  },
  (error: unknown) => handleFatal(error, true),
);
