// werf's git-history keep policy, pure. The rules follow werf's code (werf/werf, pkg/cleaning/
// git_history_based_cleanup/reference_to_scan.go and scanner.go, pkg/config/meta_cleanup.go), restated here:
//
//   References. The `origin/*` branches and the tags (listReferences in config/git.ts). A branch is dated by
//   its commit's committer date, a tag by its tagger date (a lightweight tag: its commit's committer date).
//   Each policy selects the references its name or /regex/ matches, then applies `references.limit`: `last` N
//   most recent (absent or negative: no count limit) and those made within `in`, both (`And`, the default) or
//   either (`Or`). A reference that several policies select gets the `imagesPerReference` of the LAST policy
//   that selected it (a later policy whose limit leaves the reference out does not count).
//
//   Images per reference, for each image separately. A branch's history is its commit and every ancestor; a
//   tag's is the tagged commit alone. The candidates are the image's stages that exist and have a `meta-`
//   record; with `in` under `And`, only records whose commit is within `in` count. Walking the history, each
//   stage found is dated by its newest commit there. `last` (default 1, also when only `in` is given; 0 keeps
//   nothing; negative: no count limit) caps the number of distinct commits: when more stages are found than
//   `last`, the stages are grouped by that newest commit (stages of one commit count as one), the commits
//   sorted newest first, and the first `last` kept; with `in` as well, `And` wants both, `Or` either.
//
//   Records. For each stage kept, the record of the commit it was kept through (its newest commit on that
//   reference) is a "hit"; the image's other records are not needed by git any more (plan.ts deletes them).

import { compileNameOrRegexValue } from '../text/regex-value.js';
import type { CleanupKeepPolicy, CleanupLimit, ReferenceMatcher } from '../config/werf-config.js';

export interface GitCommit {
  hash: string;
  /** Committer time, Unix ms. */
  time: number;
}

/** A branch (of origin) or a tag, with the history the policy may look at. */
export interface GitReference {
  kind: 'branch' | 'tag';
  name: string;
  /** When the reference was made, Unix ms: what `references.limit` sorts and filters by (tagger date of an annotated tag). */
  time: number;
  /** The reference's commit first, then (for a branch) its ancestors, newest first (what `git rev-list` prints). */
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
  return { source, regex: compileNameOrRegexValue(source) };
}

function limit(last: number | undefined, hours?: number, operator?: 'And' | 'Or'): CleanupLimit {
  return { last, inMs: hours === undefined ? undefined : hours * HOUR_MS, in: hours === undefined ? undefined : `${hours}h`, operator };
}

/**
 * werf's default keepPolicies, as its code has them (reference_to_scan.go, ReferencesToScan): the last 10 tags
 * with 1 image each; the 10 most recent branches within 168h with up to 2 images each within 168h; main, master,
 * staging and production with 10 images each. (werf's documentation says 2 for the last; its code keeps 10.)
 */
export function defaultKeepPolicies(): CleanupKeepPolicy[] {
  return [
    { references: { branch: undefined, tag: matcher('/.*/'), limit: limit(10) }, imagesPerReference: undefined },
    { references: { branch: matcher('/.*/'), tag: undefined, limit: limit(10, 168, 'And') }, imagesPerReference: limit(2, 168, 'And') },
    { references: { branch: matcher('/^(main|master|staging|production)$/'), tag: undefined, limit: undefined }, imagesPerReference: limit(10) },
  ];
}

/** werf's `in`: strictly after `now - in`. */
function within(time: number, inMs: number | undefined, now: number): boolean {
  return inMs === undefined || time > now - inMs;
}

/**
 * `references.limit` over references sorted newest first (werf's applyReferencesLimit): `last` absent or
 * negative is no count limit; `And` (the default) keeps what both `last` and `in` keep, `Or` what either keeps
 * (so `Or` without `last` keeps everything).
 */
export function applyReferencesLimit<T>(items: readonly T[], spec: CleanupLimit | undefined, timeOf: (item: T) => number, now: number): T[] {
  if (spec === undefined) return [...items];
  const last = spec.last !== undefined && spec.last >= 0 ? spec.last : items.length;
  const byLast = (i: number): boolean => i < last;
  const byIn = (item: T): boolean => within(timeOf(item), spec.inMs, now);
  return spec.operator === 'Or' ? items.filter((item, i) => byLast(i) || byIn(item)) : items.filter((item, i) => byLast(i) && byIn(item));
}

function compareReferences(a: GitReference, b: GitReference): number {
  return b.time - a.time || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** The references a policy selects, newest first. */
export function selectReferences(policy: CleanupKeepPolicy, references: readonly GitReference[], now: number): GitReference[] {
  const { branch, tag } = policy.references;
  const matching = references.filter((ref) =>
    (ref.kind === 'branch' && branch !== undefined && branch.regex.test(ref.name)) || (ref.kind === 'tag' && tag !== undefined && tag.regex.test(ref.name)));
  return applyReferencesLimit([...matching].sort(compareReferences), policy.references.limit, (ref) => ref.time, now);
}

export interface ScannedReference {
  reference: GitReference;
  /** The policy whose `imagesPerReference` applies: the last one that selected the reference. */
  policy: CleanupKeepPolicy;
  policyIndex: number;
}

/** Every reference some policy selects, each with the last policy that selected it; newest first. */
export function referencesToScan(policies: readonly CleanupKeepPolicy[], references: readonly GitReference[], now: number): ScannedReference[] {
  const chosen = new Map<GitReference, ScannedReference>();
  policies.forEach((policy, policyIndex) => {
    for (const reference of selectReferences(policy, references, now)) chosen.set(reference, { reference, policy, policyIndex });
  });
  return [...chosen.values()].sort((a, b) => compareReferences(a.reference, b.reference));
}

/** `imagesPerReference` with werf's defaults filled in: `last` 1 when absent, operator `And`. */
export function imagesPerReference(spec: CleanupLimit | undefined): { last: number; inMs: number | undefined; operator: 'And' | 'Or' } {
  return { last: spec?.last ?? 1, inMs: spec?.inMs, operator: spec?.operator ?? 'And' };
}

/** One stage kept through one reference, and the commit it was kept through. */
export interface StageHit {
  stageId: string;
  commit: GitCommit;
}

/**
 * The stages one reference keeps for one image. `records` maps each existing stage of the image to the
 * commits of its `meta-` records.
 */
export function keepForReference(reference: GitReference, spec: CleanupLimit | undefined, records: ReadonlyMap<string, ReadonlySet<string>>, now: number): StageHit[] {
  const { last, inMs, operator } = imagesPerReference(spec);
  if (last === 0) return [];
  // A tag stands for its commit alone; a branch for its whole history.
  const history = reference.kind === 'tag' ? reference.commits.slice(0, 1) : reference.commits;
  const prefilter = inMs !== undefined && operator === 'And';
  // stage → its newest commit in this history (the first met on ties: git's order)
  const newest = new Map<string, GitCommit>();
  for (const commit of history) {
    if (prefilter && !within(commit.time, inMs, now)) continue;
    for (const [stageId, commits] of records) {
      if (!commits.has(commit.hash)) continue;
      const seen = newest.get(stageId);
      if (seen === undefined || commit.time > seen.time) newest.set(stageId, commit);
    }
  }
  const found = [...newest].map(([stageId, commit]) => ({ stageId, commit }));
  if (last < 0 || found.length <= last) return found;

  // More stages than `last`: count distinct commits, newest first.
  const commits: GitCommit[] = [];
  for (const { commit } of found) if (!commits.includes(commit)) commits.push(commit);
  const order = new Map(history.map((c, i) => [c, i]));
  commits.sort((a, b) => b.time - a.time || (order.get(a) ?? 0) - (order.get(b) ?? 0));
  const keptCommits = new Set(commits.filter((commit, i) => {
    const byLast = i < last;
    if (inMs === undefined) return byLast;
    const byIn = within(commit.time, inMs, now);
    return operator === 'Or' ? byLast || byIn : byLast && byIn;
  }));
  return found.filter((hit) => keptCommits.has(hit.commit));
}

function policyName(policy: CleanupKeepPolicy, index: number | undefined): string {
  const { branch, tag } = policy.references;
  const which = branch ? `branch ${branch.source}` : `tag ${tag?.source ?? '?'}`;
  return index === undefined ? `werf default policy (${which})` : `keepPolicies[${index}] (${which})`;
}

export interface GitHistoryDecision {
  /** Stage IDs the git history keeps, each with its reasons. */
  kept: Map<string, string[]>;
  /** `imageKey commit stageId` of every record some kept stage was kept through (see hitKey). */
  hits: Set<string>;
}

/** The key of a record in GitHistoryDecision.hits. */
export function hitKey(imageKey: string, commit: string, stageId: string): string {
  return `${imageKey} ${commit} ${stageId}`;
}

/**
 * The stages the git history keeps and the records they were kept through. `policies` empty means werf's
 * defaults. `metas` must be the records of stages that exist (werf does not count a record of a deleted stage).
 */
export function keepByGitHistory(input: {
  policies: readonly CleanupKeepPolicy[];
  references: readonly GitReference[];
  metas: readonly MetaRecord[];
  now: number;
}): GitHistoryDecision {
  const defaults = input.policies.length === 0;
  const policies = defaults ? defaultKeepPolicies() : input.policies;
  // image → stage → commits
  const images = new Map<string, { name: string; records: Map<string, Set<string>> }>();
  for (const meta of input.metas) {
    const image = images.get(meta.imageKey) ?? { name: meta.imageName, records: new Map<string, Set<string>>() };
    const commits = image.records.get(meta.stageId) ?? new Set<string>();
    commits.add(meta.commit);
    image.records.set(meta.stageId, commits);
    images.set(meta.imageKey, image);
  }
  const kept = new Map<string, string[]>();
  const hits = new Set<string>();
  for (const { reference, policy, policyIndex } of referencesToScan(policies, input.references, input.now)) {
    for (const [imageKey, { name, records }] of images) {
      for (const { stageId, commit } of keepForReference(reference, policy.imagesPerReference, records, input.now)) {
        const reason = `git history: ${reference.kind} ${reference.name}, image ${name || '~'} at commit ${commit.hash.slice(0, 12)} (${policyName(policy, defaults ? undefined : policyIndex)})`;
        const reasons = kept.get(stageId) ?? [];
        if (!reasons.includes(reason)) reasons.push(reason);
        kept.set(stageId, reasons);
        hits.add(hitKey(imageKey, commit.hash, stageId));
      }
    }
  }
  return { kept, hits };
}
