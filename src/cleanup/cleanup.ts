// `cleanup` and `purge` with I/O at the edges: read the repository (inventory.ts) and the git history
// (config/git.ts), plan (plan.ts, pure), then delete by manifest digest.
//
// Concurrent builds: only tags listed at the start are ever deleted, and stages younger than the keep window
// are kept anyway. Right before deleting, the repository is listed again and every tag that stays is resolved
// again, so a digest that a tag pushed meanwhile (or re-pointed) shares is not deleted.

import { readFile, stat } from 'node:fs/promises';
import type { CleanupKeepPolicy } from '../config/werf-config.js';
import { fetchOriginBranchesAndTags, isShallowRepository, listReferences, originUrl, revList } from '../project/index.js';
import { ConfigError, NotFoundError, RegistryError, UsageError } from '../errors.js';
import type { ImageStore } from '../store/image-store.js';
import { OciLayoutStore } from '../store/oci-layout-store.js';
import type { GitCommit, GitReference } from './git-policy.js';
import { listAllTags, mapLimit, readInventory, readTagFacts } from './inventory.js';
import { planCleanup, type CleanupPlan, type PlanInput, type PlannedTag } from './plan.js';

/**
 * The git facts the keep policies need: every origin branch with its history and every tag with its commit,
 * newest first. The history must be whole (see prepareGitHistory): a shallow clone would look like a history
 * with no older images in it.
 */
export function readGitReferences(workTree: string): GitReference[] {
  const histories = new Map<string, GitCommit[]>();
  return listReferences(workTree).map((ref): GitReference => {
    if (ref.kind === 'tag') {
      // A tag stands for the tagged commit alone (werf scans one commit deep for a tag).
      return { kind: 'tag', name: ref.name, time: ref.date.getTime(), commits: [{ hash: ref.commit, time: ref.commitDate.getTime() }] };
    }
    let commits = histories.get(ref.commit);
    if (commits === undefined) {
      commits = revList(workTree, ref.commit).map((c) => ({ hash: c.hash, time: c.date.getTime() }));
      histories.set(ref.commit, commits);
    }
    return { kind: 'branch', name: ref.name, time: ref.date.getTime(), commits };
  });
}

/** The git facts cleanup reads and runs, so tests can stand in for them. */
export interface GitWorkTreeOps {
  isShallow(workTree: string): boolean;
  originUrl(workTree: string): string | undefined;
  fetch(workTree: string, options: { unshallow: boolean }): void;
}

const GIT_OPS: GitWorkTreeOps = { isShallow: isShallowRepository, originUrl, fetch: fetchOriginBranchesAndTags };

export interface PrepareGitHistoryOptions {
  /** werf.yaml `gitWorktree` (defaults true). */
  allowFetchOriginBranchesAndTags: boolean;
  allowUnshallow: boolean;
  log?: { info?(message: string): void };
  git?: GitWorkTreeOps;
}

const SHALLOW_HINT =
  'cleanup needs the whole history: the keep policies would see a clone with --depth as a history without older images ' +
  'and delete them. Set gitWorktree.allowFetchOriginBranchesAndTags and gitWorktree.allowUnshallow to true in werf.yaml ' +
  '(the defaults) so that cleanup fetches it, or run "git fetch --unshallow origin" first';

/**
 * Before the keep policies read git, make the history whole and current, as werf's cleanup command does
 * (cmd/werf/cleanup/cleanup.go, pkg/git_repo/local.go SyncWithOrigin): with
 * gitWorktree.allowFetchOriginBranchesAndTags (default true) fetch origin's branches and tags, pruning what
 * origin no longer has, and unshallow a shallow clone. Refuse rather than apply policies to a partial history:
 *   - a shallow clone that may not be fetched, or (unlike werf) may not be unshallowed, or that is still shallow;
 *   - (unlike werf, which then sees no branches at all) a repository without an `origin` remote.
 */
export function prepareGitHistory(workTree: string, options: PrepareGitHistoryOptions): void {
  const ops = options.git ?? GIT_OPS;
  const url = ops.originUrl(workTree);
  if (url === undefined) {
    throw new ConfigError('git remote origin was not detected', {
      hint: 'cleanup keeps images by the branches of the "origin" remote (werf\'s rule); add it ("git remote add origin <url>") and fetch',
    });
  }
  const shallow = ops.isShallow(workTree);
  if (shallow && (!options.allowFetchOriginBranchesAndTags || !options.allowUnshallow)) {
    throw new ConfigError('git shallow clone is not allowed', { hint: SHALLOW_HINT });
  }
  if (options.allowFetchOriginBranchesAndTags) {
    options.log?.info?.(`Syncing origin branches and tags${shallow ? ' (unshallowing the clone)' : ''}`);
    ops.fetch(workTree, { unshallow: shallow });
    if (ops.isShallow(workTree)) throw new ConfigError('git shallow clone is not allowed: the history is still shallow after fetching origin', { hint: SHALLOW_HINT });
  }
}

/** werf never runs cleanup without git; the no-git hint of other commands (--dev, --loose-giterminism) does not apply. */
export function cleanupNeedsGitError(projectDir: string): ConfigError {
  return new ConfigError(`cleanup requires a git work tree: the project directory "${projectDir}" is in none`, {
    hint: 'run cleanup in a clone of the project\'s repository (with its "origin" remote), or point --git-work-tree at one; ' +
      '--dev and --loose-giterminism do not lift this: the keep policies need the git history',
  });
}

const KEEP_LIST_LINE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * `--keep-list`: werf's is a file with one tag per line (`<56hex>-<13 digits>`); Slipway also takes a comma
 * separated list when the value is not an existing file. Empty lines are skipped; anything that is not a tag is
 * an error.
 */
export async function readKeepList(value: string | undefined): Promise<string[]> {
  if (value === undefined || value === '') return [];
  let text: string;
  const isFile = await stat(value).then((s) => s.isFile(), () => false);
  if (isFile) text = await readFile(value, 'utf8');
  else text = value.split(',').join('\n');
  const tags: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const tag = raw.trim();
    if (tag === '') continue;
    if (!KEEP_LIST_LINE.test(tag)) {
      throw new UsageError(`invalid --keep-list entry "${tag}": expected a tag such as <56 hex>-<13 digits>`, {
        hint: isFile ? `fix ${value}: one tag per line` : 'give a file with one tag per line, or tags separated by commas',
      });
    }
    tags.push(tag);
  }
  return tags;
}

export interface CleanupLog {
  deleted?(entry: PlannedTag): void;
  warn?(message: string): void;
}

export interface RunCleanupOptions extends Omit<PlanInput, 'tags' | 'now'> {
  store: ImageStore;
  dryRun?: boolean;
  now?: number;
  log?: CleanupLog;
  concurrency?: number;
  /** Run the local store's garbage collection after deleting (OciLayoutStore only). Default true. */
  garbageCollect?: boolean;
}

export interface CleanupResult {
  plan: CleanupPlan;
  /** What was deleted (empty with dryRun). */
  deleted: PlannedTag[];
  /** Manifests deleted. */
  manifestsDeleted: number;
  /** Planned deletions left alone at the last check (a tag pushed meanwhile shares the digest). */
  skipped: { entry: PlannedTag; reason: string }[];
  /** Bytes the local store's garbage collection freed, when it ran. */
  freedBytes?: number;
  /** Unreferenced blobs the garbage collection kept for their grace period (they may belong to a running build). */
  spared?: { blobs: number; bytes: number; graceMs: number };
}

function isGone(error: unknown): boolean {
  return error instanceof NotFoundError || (error instanceof RegistryError && (error.status === 404 || error.hasCode('MANIFEST_UNKNOWN')));
}

/** Plan, and unless dryRun, delete. */
export async function runCleanup(options: RunCleanupOptions): Promise<CleanupResult> {
  const { store } = options;
  const concurrency = options.concurrency ?? 8;
  const inventory = await readInventory(store, { concurrency });
  const plan = planCleanup({ ...options, tags: inventory.tags, now: options.now ?? Date.now() });
  const result: CleanupResult = { plan, deleted: [], manifestsDeleted: 0, skipped: [] };
  if (options.dryRun || plan.delete.length === 0) return result;

  // The last check: every tag that stays now, and what it points at.
  const deleting = new Set(plan.delete.map((d) => d.tag));
  const known = new Map(inventory.tags.map((t) => [t.tag, t]));
  const now = await listAllTags(store);
  const protectedDigests = new Map<string, string>();
  await mapLimit(now.filter((tag) => !deleting.has(tag)), concurrency, async (tag) => {
    const before = known.get(tag);
    const descriptor = await store.resolve(tag);
    if (descriptor === undefined) return;
    protectedDigests.set(descriptor.digest, `tag ${tag}`);
    const children = before !== undefined && before.digest === descriptor.digest ? before.children : (await readTagFacts(store, tag))?.children;
    for (const child of children ?? []) protectedDigests.set(child, `index ${tag}`);
  });

  const byDigest = new Map<string, PlannedTag[]>();
  for (const entry of plan.delete) byDigest.set(entry.digest, [...(byDigest.get(entry.digest) ?? []), entry]);
  for (const [digest, entries] of byDigest) {
    const holder = protectedDigests.get(digest);
    if (holder !== undefined) {
      for (const entry of entries) result.skipped.push({ entry, reason: `${holder} now points at the same manifest` });
      options.log?.warn?.(`not deleting ${entries.map((e) => e.tag).join(', ')}: ${holder} now points at ${digest}`);
      continue;
    }
    try {
      await store.deleteManifest(digest);
    } catch (error) {
      if (!isGone(error)) throw error;
    }
    result.manifestsDeleted++;
    for (const entry of entries) {
      result.deleted.push(entry);
      options.log?.deleted?.(entry);
    }
  }

  if (store instanceof OciLayoutStore && options.garbageCollect !== false) {
    const collected = await store.garbageCollect();
    result.freedBytes = collected.freedBytes;
    result.spared = collected.spared;
  }
  return result;
}

export type { CleanupKeepPolicy };
