// buildah for the build benchmarks (bench/build, bench/build-run): installing it, one storage
// per round, `bud` and `push` with their blob-info cache isolated, and their timelines.
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { benchName, fail, log, onPath } from './cli.js';
import { ensureOk, run, withBlobInfoCache, type Line, type Spawned } from './process.js';

/** How much of a failed process's output the build benches' errors show (ensureOk()'s default is less). */
export const FAILURE_TAIL = 4000;

/** Installs buildah (the Debian package) when it is missing; stops with a clear message when that fails. */
export function requireBuildah(): void {
  if (onPath('buildah')) return;
  log(`${benchName()}: buildah is missing; installing it (apt-get install -y buildah)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', 'buildah'], { stdio: 'inherit', env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    r = spawnSync('apt-get', ['install', '-y', 'buildah'], { stdio: 'inherit', env });
  }
  if (r.status !== 0 || !onPath('buildah')) {
    fail('buildah is not installed and `apt-get install -y buildah` failed: install it as root (Debian package buildah) and run again');
  }
}

/** One buildah storage: its graph root, run root, blob-info cache and (optionally) temp dir; one per round. */
export interface BuildahStore {
  driver: 'vfs' | 'overlay';
  root: string;
  runroot: string;
  cache: string;
  /** buildah's TMPDIR; without it, the host's. */
  tmp?: string;
}

/** A new storage under `dir`; `tmp`: with a TMPDIR of its own, removed with the round's directory. */
export async function newBuildahStore(dir: string, driver: BuildahStore['driver'], options: { tmp?: boolean } = {}): Promise<BuildahStore> {
  const store: BuildahStore = {
    driver, root: join(dir, 'root'), runroot: join(dir, 'runroot'), cache: join(dir, 'blob-info-cache'),
    ...(options.tmp ? { tmp: join(dir, 'tmp') } : {}),
  };
  for (const d of [store.root, store.runroot, store.tmp, store.cache]) if (d !== undefined) await mkdir(d, { recursive: true });
  return store;
}

/**
 * buildah in a private mount namespace whose /var/lib/containers/cache (containers/image's
 * blob-info cache for root) is this store's own directory: what one round's bud learns
 * (where the base layers came from) its push can use (a cross-repo mount, as Slipway does),
 * but nothing leaks between rounds, and the host's real cache is never read or written.
 */
export function buildahArgv(store: BuildahStore, args: string[]): [string, string[]] {
  return withBlobInfoCache({ warm: store.cache }, 'exec "$@"', [...(store.tmp !== undefined ? ['env', `TMPDIR=${store.tmp}`] : []),
    'buildah', '--root', store.root, '--runroot', store.runroot, '--storage-driver', store.driver, ...args]);
}

/**
 * `buildah bud` of `dir`'s Dockerfile as `name`; `flags` go before `-f` (e.g. `--layers`).
 * `workDir` holds /usr/bin/time's figures (cpuS in the result), as for buildahPush().
 */
export async function buildahBud(store: BuildahStore, workDir: string, dir: string, name: string, flags: string[]): Promise<Spawned> {
  const r = await run(...buildahArgv(store, ['bud', '--isolation', 'chroot', '--tls-verify=false', ...flags,
    '-f', join(dir, 'Dockerfile'), '-t', name, dir]), { timeFile: join(workDir, 'time-buildah') });
  ensureOk(`buildah bud ${name}`, r, FAILURE_TAIL);
  return r;
}

/** `buildah push` of `name` to `docker://<dst>`, with the manifest digest it pushed (its --digestfile, in `workDir`). */
export async function buildahPush(store: BuildahStore, workDir: string, name: string, dst: string): Promise<{ spawned: Spawned; digest: string }> {
  const digestFile = join(workDir, 'buildah-digest');
  await rm(digestFile, { force: true });
  const r = await run(...buildahArgv(store, ['push', '--tls-verify=false', '--digestfile', digestFile, name, `docker://${dst}`]),
    { timeFile: join(workDir, 'time-buildah') });
  ensureOk(`buildah push ${name} ${dst}`, r, FAILURE_TAIL);
  return { spawned: r, digest: (await readFile(digestFile, 'utf8')).trim() };
}

/**
 * buildah's timeline: from one STEP / COMMIT / push line to the next, each phase named with
 * `prefix`. `numbered`: a STEP's phase is named after its instruction and number (`run@3`),
 * the others after their position (`commit#20`), which tells a dozen RUNs apart; without, after
 * the instruction alone (`copy`), FROM as `from (pull base)`.
 */
export function buildahPhases(step: { wallMs: number; lines: Line[] }, prefix: string, numbered: boolean): { name: string; ms: number }[] {
  const phases: { name: string; ms: number }[] = [];
  let last = 0;
  let current = `${prefix}start-up`;
  let n = 0;
  for (const { t, text } of step.lines) {
    const m = text.match(/^STEP (\d+)\/\d+: (\S+)/) ?? text.match(/^(COMMIT)\b/) ?? text.match(/^(Getting image source signatures)/) ??
      text.match(/^(Writing manifest)/);
    if (!m) continue;
    phases.push({ name: current, ms: t - last });
    last = t;
    n++;
    if (numbered) {
      current = m[2] ? `${prefix}${m[2].toLowerCase()}@${m[1]}` : `${prefix}${m[1]!.toLowerCase()}#${n}`;
    } else {
      current = `${prefix}${(m[2] ?? m[1]!).toLowerCase()}`;
      if (current.endsWith('from')) current = `${prefix}from (pull base)`;
    }
  }
  phases.push({ name: current, ms: step.wallMs - last });
  return phases;
}
