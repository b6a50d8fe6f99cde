// werf's git-history keep policy (werf-reference.md §6.5 step 4; werf's "cleanup" docs), pure: which
// references the `cleanup.keepPolicies` select, and which stages the `meta-` records of their commits link to.
//
//   - A policy names branches or tags (an exact name or /regex/); `references.limit` keeps the `last` N most
//     recent of them (by the date of the commit they point at) and/or those active within `in`; with both,
//     `operator` And (the default) wants both, Or either.
//   - For each selected reference and each image, the history (`git rev-list`, newest first) is walked and the
//     stages that `meta-` records link to its commits are collected, newest first, each stage once;
//     `imagesPerReference` keeps the first `last` (default 1; -1 for all) and/or those whose commit is within `in`.
//   - Without keepPolicies in werf.yaml, werf's defaults apply: the last 10 tags with 1 image each; the 10 most
//     active branches within 168h with up to 2 images each within 168h; main, master, staging and production
//     with 2 images each.

import type { CleanupKeepPolicy, CleanupLimit, ReferenceMatcher } from '../config/werf-config.js';

export interface GitCommit {
  hash: string;
  /** Committer time, Unix ms. */
  time: number;
}

/** A branch or tag with its history, newest first (what `git rev-list` prints). */
export interface GitReference {
  kind: 'branch' | 'tag';
  name: string;
  /** The time of the commit the reference points at, Unix ms: what `limit` sorts and filters by. */
  time: number;
  /** `git rev-list <ref>`: the reference's commit first. */
  commits: GitCommit[];
}

/** One `meta-` record: commit `commit` produced stage `stageId` for the image whose name hashes to `imageKey`. */
export interface MetaRecord {
  /** The image's identity: the murmur hash in the tag (the image-name label is not needed). */
  imageKey: string;
  /** For messages: the image name when known, else the hash. */
  imageName: string;
  commit: string;
  /** A stage tag `<56hex>-<ms>` or a multi-platform tag `<56hex>`. */
  stageId: string;
}

const HOUR_MS = 3_600_000;

function matcher(source: string): ReferenceMatcher {
  const regex = source.startsWith('/') && source.endsWith('/') && source.length > 1 ? new RegExp(`^(?:${source.slice(1, -1)})$`) : new RegExp(`^${source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return { source, regex };
}

function limit(last: number | undefined, hours?: number, operator?: 'And' | 'Or'): CleanupLimit {
  return { last, inMs: hours === undefined ? undefined : hours * HOUR_MS, in: hours === undefined ? undefined : `${hours}h`, operator };
}

/** werf's default keepPolicies (docs, "cr_cleanup": the defaults made more aggressive in werf 2). */
export function defaultKeepPolicies(): CleanupKeepPolicy[] {
  return [
    { references: { branch: undefined, tag: matcher('/.*/'), limit: limit(10) }, imagesPerReference: limit(1) },
    { references: { branch: matcher('/.*/'), tag: undefined, limit: limit(10, 168, 'And') }, imagesPerReference: limit(2, 168, 'And') },
    { references: { branch: matcher('/^(main|master|staging|production)$/'), tag: undefined, limit: undefined }, imagesPerReference: limit(2) },
  ];
}

/** `last` and `in` of a limit over items sorted newest first. Absent or negative `last` means no count limit. */
export function applyLimit<T>(items: readonly T[], spec: CleanupLimit | undefined, timeOf: (item: T) => number, now: number): T[] {
  const last = spec?.last !== undefined && spec.last >= 0 ? spec.last : undefined;
  const inMs = spec?.inMs;
  const recent = (item: T): boolean => inMs === undefined || now - timeOf(item) <= inMs;
  if (last === undefined) return items.filter(recent);
  if (inMs === undefined) return items.slice(0, last);
  if (spec?.operator === 'Or') return items.filter((item, i) => i < last || recent(item));
  return items.filter(recent).slice(0, last);
}

/** The references a policy selects, newest first. */
export function selectReferences(policy: CleanupKeepPolicy, references: readonly GitReference[], now: number): GitReference[] {
  const { branch, tag } = policy.references;
  const matching = references.filter((ref) =>
    (ref.kind === 'branch' && branch !== undefined && branch.regex.test(ref.name)) || (ref.kind === 'tag' && tag !== undefined && tag.regex.test(ref.name)));
  const sorted = [...matching].sort((a, b) => b.time - a.time || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return applyLimit(sorted, policy.references.limit, (ref) => ref.time, now);
}

/** The images-per-reference default: werf keeps one image per reference when `imagesPerReference` is absent. */
const DEFAULT_IMAGES_PER_REFERENCE: CleanupLimit = limit(1);

function policyName(policy: CleanupKeepPolicy, index: number): string {
  const { branch, tag } = policy.references;
  return `keepPolicies[${index}] (${branch ? `branch ${branch.source}` : `tag ${tag?.source ?? '?'}`})`;
}

/**
 * The stage IDs the git history keeps, each with its reasons. `policies` empty means werf's defaults.
 * Also returns the commits whose records were used (for messages).
 */
export function keepByGitHistory(input: {
  policies: readonly CleanupKeepPolicy[];
  references: readonly GitReference[];
  metas: readonly MetaRecord[];
  now: number;
}): Map<string, string[]> {
  const policies = input.policies.length > 0 ? input.policies : defaultKeepPolicies();
  // commit → image → stage IDs
  const byCommit = new Map<string, Map<string, { name: string; stages: string[] }>>();
  for (const meta of input.metas) {
    const images = byCommit.get(meta.commit) ?? new Map<string, { name: string; stages: string[] }>();
    const entry = images.get(meta.imageKey) ?? { name: meta.imageName, stages: [] };
    if (!entry.stages.includes(meta.stageId)) entry.stages.push(meta.stageId);
    images.set(meta.imageKey, entry);
    byCommit.set(meta.commit, images);
  }
  const kept = new Map<string, string[]>();
  const add = (stageId: string, reason: string): void => {
    const reasons = kept.get(stageId) ?? [];
    if (!reasons.includes(reason)) reasons.push(reason);
    kept.set(stageId, reasons);
  };
  policies.forEach((policy, index) => {
    const perReference = policy.imagesPerReference ?? DEFAULT_IMAGES_PER_REFERENCE;
    for (const ref of selectReferences(policy, input.references, input.now)) {
      // image → its versions along the history, newest first, each stage once
      const versions = new Map<string, { name: string; list: { stageId: string; commit: GitCommit }[] }>();
      for (const commit of ref.commits) {
        const images = byCommit.get(commit.hash);
        if (images === undefined) continue;
        for (const [key, { name, stages }] of images) {
          const entry = versions.get(key) ?? { name, list: [] };
          for (const stageId of stages) {
            if (!entry.list.some((v) => v.stageId === stageId)) entry.list.push({ stageId, commit });
          }
          versions.set(key, entry);
        }
      }
      for (const { name, list } of versions.values()) {
        for (const version of applyLimit(list, perReference, (v) => v.commit.time, input.now)) {
          add(version.stageId, `git history: ${ref.kind} ${ref.name}, image ${name || '~'} at commit ${version.commit.hash.slice(0, 12)} (${policyName(policy, index)})`);
        }
      }
    }
  });
  return kept;
}
