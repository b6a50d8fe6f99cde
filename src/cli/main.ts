#!/usr/bin/env node
// The `slipway` executable. All the work is in program.ts so that tests can run the CLI in-process.

import { writeSync } from 'node:fs';
import { EXIT_FAILURE, handleFatal } from './exit.js';
import { runCli } from './program.js';

// A promise that failed with nobody waiting for it (a bug) still ends the way every error does: the usual
// `Error:` line and exit code, never Node's trace; the first one wins, and the process stops.
let fatal = false;
const onStray = (error: unknown): void => {
  if (fatal) return;
  fatal = true;
  process.exit(handleFatal(error, process.argv.includes('--log-debug')));
};
// A reader that went away (`slipway ... | head`): stop quietly, as other command-line tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    // Mid-command, that is a failure (141, as a shell reports SIGPIPE): `slipway export | head` must not look
    // like a finished export.
    if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 141);
    onStray(error);
  });
}
process.on('unhandledRejection', onStray);
process.on('uncaughtException', onStray);

// Node ends a process whose event loop ran dry with code 0, even if the command never finished (a promise that
// nothing will ever settle: a bug). That must not read as success.
let finished = false;
process.on('exit', (code) => {
  if (finished || fatal || code !== 0) return;
  writeSync(2, 'Error: internal error: the command stopped before it finished (nothing was left to wait for); please report it\n');
  process.exitCode = EXIT_FAILURE;
});

runCli(process.argv.slice(2)).then(
  (code) => {
    finished = true;
    // Set, not process.exit(): pending writes to stdout and stderr get flushed.
    process.exitCode = code;
  },
  (error: unknown) => {
    finished = true;
    handleFatal(error, true);
  },
);
