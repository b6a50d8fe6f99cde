// Scratch directories that name the process that made them (`<prefix>-<pid>-<pid namespace>-<random>`), so that
// the ones a killed build left behind (SIGKILL, a power cut) are found and removed at the next start, and never
// the ones of a build still running beside this one (src/process-identity.ts).

import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isLeftover, ownerTag } from '../process-identity.js';
import { removeTree } from './run/privileges.js';

/** Older than this, a scratch directory is stale even if its PID is alive again (PIDs are reused). */
const STALE_MS = 24 * 3600 * 1000;

const swept = new Map<string, Promise<void>>();

/** Remove the scratch directories under `parent` whose process is gone (once per parent and process). */
function sweep(parent: string): Promise<void> {
  let done = swept.get(parent);
  if (done === undefined) {
    done = (async () => {
      for (const name of await readdir(parent).catch(() => [] as string[])) {
        const match = /-(\d+)-(\d+)-[0-9a-f]{12}$/.exec(name);
        if (match === null) continue;
        const st = await lstat(join(parent, name)).catch(() => undefined);
        if (st === undefined) continue;
        if (isLeftover(Number(match[1]), match[2]!, Date.now() - st.mtimeMs, STALE_MS)) await removeTree(join(parent, name)).catch(() => undefined);
      }
    })();
    swept.set(parent, done);
  }
  return done;
}

/** A new directory `<parent>/<prefix>-<pid>-<ns>-<random>`, after sweeping what dead processes left under `parent`. */
export async function makeScratchDir(parent: string, prefix: string): Promise<string> {
  await mkdir(parent, { recursive: true });
  await sweep(parent);
  const path = join(parent, `${prefix}-${ownerTag()}-${randomBytes(6).toString('hex')}`);
  await mkdir(path, { mode: 0o700 });
  return path;
}
