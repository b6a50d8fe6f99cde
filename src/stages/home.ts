// Slipway's home directory: the local stages storage and the lock files live under it.

import { homedir } from 'node:os';
import { join } from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * `SLIPWAY_HOME` (or `SLIPWAY_HOME_DIR`, which wins when both are set, as for the CLI's
 * `--home-dir`), else `~/.slipway`. werf's `WERF_HOME` is not read: it holds werf's own layout.
 */
export function slipwayHome(env: Env = process.env): string {
  return env['SLIPWAY_HOME_DIR'] || env['SLIPWAY_HOME'] || join(env['HOME'] || homedir(), '.slipway');
}

/** Where the per-digest lock files of stage publication live by default. */
export function defaultLockDir(home: string): string {
  return join(home, 'locks');
}
