// A mutual-exclusion lock shared by concurrent work in this process and by other
// processes: a promise queue per lock path (so one process never spins against itself),
// around a lock file created with O_EXCL (`wx`), which is atomic on local filesystems and
// NFSv3+. The file names its holder, so a waiter can tell a crashed holder from a slow one.

import { randomBytes } from 'node:crypto';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, SlipwayError, describeError } from '../errors.js';

export interface FileLockOptions {
  /**
   * A lock file older than this is broken when its holder is gone: a dead pid on this
   * host, another host (whose pids cannot be checked), or an unreadable holder record.
   * Default 30 s; a holder that is alive on this host is always waited for.
   */
  staleMs?: number;
  /** Stop waiting after this long with a ConflictError. Default 120 s. */
  timeoutMs?: number;
}

const DEFAULT_STALE_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 120_000;
const FIRST_RETRY_MS = 5;
const MAX_RETRY_MS = 100;

interface Holder {
  pid: number;
  host: string;
  token: string;
  since: string;
}

interface Observed {
  ino: number;
  mtimeMs: number;
  size: number;
  holder: Holder | undefined;
}

const queues = new Map<string, Promise<void>>();

/** Run `fn` while holding the lock file `lockPath` (created next to what it protects). */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  return serialize(lockPath, async () => {
    const token = await acquire(lockPath, options);
    try {
      return await fn();
    } finally {
      await release(lockPath, token);
    }
  });
}

/** Chain `fn` after every earlier call with the same key; a failure does not stop the queue. */
function serialize<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const result = previous.then(fn);
  const tail = result.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return result;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

async function acquire(lockPath: string, options: FileLockOptions): Promise<string> {
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const me: Holder = { pid: process.pid, host: hostname(), token: randomBytes(12).toString('hex'), since: new Date().toISOString() };
  let delay = FIRST_RETRY_MS;
  for (;;) {
    if (await tryCreate(lockPath, me)) return me.token;
    const observed = await observe(lockPath);
    if (observed === undefined) continue; // released between our attempt and the look: try again at once
    if (isStale(observed, staleMs)) {
      await breakStale(lockPath, observed, staleMs);
      continue;
    }
    if (Date.now() >= deadline) {
      const who = observed.holder ? `pid ${observed.holder.pid} on ${observed.holder.host} since ${observed.holder.since}` : 'an unknown holder';
      throw new ConflictError(`timed out waiting for the lock ${lockPath}, held by ${who}`, {
        hint: `if no Slipway process is working on this directory any more, delete ${lockPath}`,
      });
    }
    // Jitter keeps several waiting processes from retrying in lockstep.
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, MAX_RETRY_MS);
  }
}

async function tryCreate(lockPath: string, me: Holder): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, 'wx');
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw new SlipwayError(`cannot create the lock file ${lockPath}: ${describeError(error)}`, { cause: error });
  }
  try {
    await handle.writeFile(JSON.stringify(me));
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(lockPath).catch(() => undefined);
    throw new SlipwayError(`cannot write the lock file ${lockPath}: ${describeError(error)}`, { cause: error });
  }
  return true;
}

async function observe(lockPath: string): Promise<Observed | undefined> {
  try {
    const st = await stat(lockPath);
    let holder: Holder | undefined;
    try {
      holder = parseHolder(await readFile(lockPath, 'utf8'));
    } catch {
      holder = undefined; // vanished or half-written: judged by age alone
    }
    return { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, holder };
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new SlipwayError(`cannot inspect the lock file ${lockPath}: ${describeError(error)}`, { cause: error });
  }
}

function parseHolder(text: string): Holder | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.pid !== 'number' || typeof v.host !== 'string' || typeof v.token !== 'string') return undefined;
  return { pid: v.pid, host: v.host, token: v.token, since: typeof v.since === 'string' ? v.since : '?' };
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(error) === 'EPERM';
  }
}

function isStale(observed: Observed, staleMs: number): boolean {
  if (Date.now() - observed.mtimeMs <= staleMs) return false;
  const holder = observed.holder;
  if (holder === undefined || holder.host !== hostname()) return true;
  return !isProcessAlive(holder.pid);
}

/**
 * Remove a stale lock file. Two waiters may both judge the same file stale; without care
 * the slower one would delete the lock the faster one has just created. So breaking takes
 * its own short-lived `.break` lock and removes the file only if it is still the one
 * observed (same inode, mtime and size).
 */
async function breakStale(lockPath: string, observed: Observed, staleMs: number): Promise<void> {
  const breakPath = `${lockPath}.break`;
  let handle;
  try {
    handle = await open(breakPath, 'wx');
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw new SlipwayError(`cannot create ${breakPath}: ${describeError(error)}`, { cause: error });
    // Breaking takes microseconds, so an old `.break` file was left by a crash.
    const st = await stat(breakPath).catch(() => undefined);
    if (st !== undefined && Date.now() - st.mtimeMs > staleMs) await unlink(breakPath).catch(() => undefined);
    else await sleep(FIRST_RETRY_MS);
    return;
  }
  try {
    await handle.close();
    const now = await stat(lockPath).catch(() => undefined);
    if (now !== undefined && now.ino === observed.ino && now.mtimeMs === observed.mtimeMs && now.size === observed.size) {
      await unlink(lockPath).catch((error: unknown) => {
        if (errorCode(error) !== 'ENOENT') throw error;
      });
    }
  } finally {
    await unlink(breakPath).catch(() => undefined);
  }
}

async function release(lockPath: string, token: string): Promise<void> {
  let holder: Holder | undefined;
  try {
    holder = parseHolder(await readFile(lockPath, 'utf8'));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return; // broken as stale by someone else: nothing of ours is left
    throw new SlipwayError(`cannot read the lock file ${lockPath} to release it: ${describeError(error)}`, { cause: error });
  }
  if (holder?.token !== token) return;
  try {
    await unlink(lockPath);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw new SlipwayError(`cannot remove the lock file ${lockPath}: ${describeError(error)}`, {
      cause: error,
      hint: `other Slipway processes wait for it: delete ${lockPath} by hand`,
    });
  }
}
