// The cleanup plan, pure: from what the stages repository holds (every listed tag with its manifest digest and
// the labels of its config), the `meta-` records, the git facts and the policies, decide which tags are kept
// (and why) and which are deleted. Nothing here does I/O; inventory.ts reads, apply.ts deletes.
//
// The guarantee users rely on: only a CANDIDATE is ever deleted, and a candidate is a tag that
//   1. has the shape of a stage (`<56hex>-<13 digits>`), of a multi-platform index (`<56hex>`) or of a
//      metadata record (`meta-…`, `managed-image-…`), AND
//   2. whose config carries `slipway=<this project>` (for an index: every child's config does).
// Exported images have their service labels stripped, so they are never candidates, whatever their tag.
// Deleting is by manifest digest, which removes every tag of that digest: a candidate whose digest is also
// the digest of any tag that stays (kept or foreign), or a child of an index that stays, is not deleted.

import type { CleanupKeepPolicy } from '../config/werf-config.js';
import { isMetadataTag, MANAGED_IMAGE_PREFIX, managedImageTag, parseMetaTag, RECORD_LABELS } from '../stages/metadata.js';
import { isMultiplatformTag, parseStageTag, SERVICE_LABELS } from '../stages/stage-id.js';
import { hitKey, keepByGitHistory, type GitReference, type MetaRecord } from './git-policy.js';

export interface LayerRef {
  digest: string;
  size: number;
}

/** One listed tag, as read from the repository. */
export interface TagFacts {
  tag: string;
  /** The manifest digest the tag pointed at when it was read. */
  digest: string;
  kind: 'image' | 'index';
  /** Config labels of an image (undefined when not read: a tag that is not candidate-shaped need not be). */
  labels?: Readonly<Record<string, string>> | undefined;
  /** For an index: the `slipway` label every child's config carries, when they all carry the same one. */
  childProject?: string | undefined;
  /** For an index: the digests of its child manifests. */
  children?: readonly string[];
  /** For an image: its layers (for the bytes summary). */
  layers?: readonly LayerRef[];
}

export type CandidateKind = 'stage' | 'index' | 'meta' | 'managed-image';

export interface PlanInput {
  project: string;
  /** Every tag listed at the start, with its facts. */
  tags: readonly TagFacts[];
  /** `purge`: every candidate goes. `cleanup`: the keep policies decide. */
  mode: 'cleanup' | 'purge';
  /** Unix ms. */
  now: number;
  /** Keep stages whose tag timestamp is within this many hours; undefined turns the policy off. */
  keepBuiltWithinHours?: number | undefined;
  /** `--keep-list`: tags kept as they are. */
  keepList?: readonly string[];
  /** The git facts; undefined turns the git-history policy off. */
  references?: readonly GitReference[] | undefined;
  /** `cleanup.keepPolicies`; empty: werf's defaults. */
  policies?: readonly CleanupKeepPolicy[];
  /** The image names of werf.yaml: their `managed-image-` records stay. Undefined: every such record stays. */
  imageNames?: readonly string[] | undefined;
  /** `cleanup.disable`: only the metadata records are purged, stages stay. */
  disabled?: boolean;
}

export interface PlannedTag {
  tag: string;
  digest: string;
  what: CandidateKind;
}

export interface KeptTag extends PlannedTag {
  reasons: string[];
}

export interface CleanupPlan {
  /** Candidates that stay, each with why. */
  keep: KeptTag[];
  /** Candidates to delete (by their digest). */
  delete: PlannedTag[];
  /** The manifest digests to delete, each once. */
  deleteDigests: string[];
  /** Tags that are not candidates: never touched. */
  untouched: string[];
  /** Bytes of layers referenced by deleted images and by no image that stays (approximate: this repository only). */
  bytesReferenced: number;
}

function candidateKind(facts: TagFacts, project: string): CandidateKind | undefined {
  const { tag } = facts;
  let what: CandidateKind;
  if (parseStageTag(tag) !== undefined) what = 'stage';
  else if (isMultiplatformTag(tag)) what = 'index';
  else if (isMetadataTag(tag)) what = tag.startsWith(MANAGED_IMAGE_PREFIX) ? 'managed-image' : 'meta';
  else return undefined;
  if (what === 'index' || facts.kind === 'index') {
    // An index is a candidate only when it is an index whose children are this project's stages.
    return facts.kind === 'index' && what === 'index' && facts.childProject === project ? 'index' : undefined;
  }
  return facts.labels?.[SERVICE_LABELS.project] === project ? what : undefined;
}

/** Decide. Deterministic: the same input gives the same plan, tags in listing order. */
export function planCleanup(input: PlanInput): CleanupPlan {
  const candidates = new Map<string, PlannedTag & { facts: TagFacts }>();
  const untouched: string[] = [];
  for (const facts of input.tags) {
    const what = candidateKind(facts, input.project);
    if (what === undefined) untouched.push(facts.tag);
    else candidates.set(facts.tag, { tag: facts.tag, digest: facts.digest, what, facts });
  }

  const reasons = new Map<string, string[]>();
  const keep = (tag: string, reason: string): boolean => {
    if (!candidates.has(tag)) return false;
    const list = reasons.get(tag);
    if (list === undefined) {
      reasons.set(tag, [reason]);
      return true;
    }
    if (!list.includes(reason)) list.push(reason);
    return false;
  };

  // Tags by digest, for index children and the shared-digest check.
  const tagsByDigest = new Map<string, string[]>();
  for (const facts of input.tags) tagsByDigest.set(facts.digest, [...(tagsByDigest.get(facts.digest) ?? []), facts.tag]);

  if (input.mode === 'cleanup') keepByPolicies(input, candidates, keep);

  // Delete the rest, unless its digest stays anyway; a refused deletion keeps the tag, which may keep more.
  for (;;) {
    closeOverDependencies(candidates, reasons, keep, tagsByDigest);
    const deleting = new Set([...candidates.keys()].filter((tag) => !reasons.has(tag)));
    const staying = input.tags.filter((f) => !deleting.has(f.tag));
    const protectedBy = new Map<string, string>();
    for (const facts of staying) {
      if (!protectedBy.has(facts.digest)) protectedBy.set(facts.digest, `tag ${facts.tag} has the same manifest digest`);
      for (const child of facts.children ?? []) if (!protectedBy.has(child)) protectedBy.set(child, `index ${facts.tag} names this manifest`);
    }
    let refused = false;
    for (const tag of deleting) {
      const why = protectedBy.get(candidates.get(tag)!.digest);
      if (why !== undefined) {
        keep(tag, `not deletable: ${why} (deleting by digest would remove it)`);
        refused = true;
      }
    }
    if (!refused) break;
  }

  const kept: KeptTag[] = [];
  const deleted: PlannedTag[] = [];
  for (const { tag, digest, what } of candidates.values()) {
    const why = reasons.get(tag);
    if (why === undefined) deleted.push({ tag, digest, what });
    else kept.push({ tag, digest, what, reasons: why });
  }
  const deleteDigests = [...new Set(deleted.map((d) => d.digest))];

  // Layers of deleted images that no staying image references.
  const deletedTags = new Set(deleted.map((d) => d.tag));
  const stayingLayers = new Set<string>();
  for (const facts of input.tags) if (!deletedTags.has(facts.tag)) for (const layer of facts.layers ?? []) stayingLayers.add(layer.digest);
  const freed = new Map<string, number>();
  for (const facts of input.tags) {
    if (!deletedTags.has(facts.tag)) continue;
    for (const layer of facts.layers ?? []) if (!stayingLayers.has(layer.digest)) freed.set(layer.digest, layer.size);
  }
  const bytesReferenced = [...freed.values()].reduce((a, b) => a + b, 0);

  return { keep: kept, delete: deleted, deleteDigests, untouched, bytesReferenced };
}

type Candidates = Map<string, PlannedTag & { facts: TagFacts }>;
type Keep = (tag: string, reason: string) => boolean;

function keepByPolicies(input: PlanInput, candidates: Candidates, keep: Keep): void {
  if (input.disabled) {
    for (const c of candidates.values()) if (c.what === 'stage' || c.what === 'index') keep(c.tag, 'cleanup.disable is set in werf.yaml');
  }

  // (1) git history. Only records of stages that exist count (werf leaves a record of a deleted stage out of
  // the scan, so it does not use up a reference's `last`). A `meta-` record stays only when a kept stage was
  // kept through it (werf's cleanupImageMetadata): without the git policy, or for any other record, it goes.
  if (input.references !== undefined && !input.disabled) {
    const metas: MetaRecord[] = [];
    const metaTags = new Map<string, string>();
    for (const c of candidates.values()) {
      if (c.what !== 'meta') continue;
      const parsed = parseMetaTag(c.tag);
      if (parsed === undefined) continue;
      const stage = candidates.get(parsed.stageId);
      if (stage === undefined || (stage.what !== 'stage' && stage.what !== 'index')) continue;
      metas.push({ imageKey: parsed.nameHash, imageName: c.facts.labels?.[RECORD_LABELS.imageName] ?? parsed.nameHash, commit: parsed.commit, stageId: parsed.stageId });
      metaTags.set(hitKey(parsed.nameHash, parsed.commit, parsed.stageId), c.tag);
    }
    const byGit = keepByGitHistory({ policies: input.policies ?? [], references: input.references, metas, now: input.now });
    for (const [stageId, why] of byGit.kept) for (const reason of why) keep(stageId, reason);
    for (const key of byGit.hits) {
      const tag = metaTags.get(key);
      if (tag !== undefined) keep(tag, `the git history keeps ${parseMetaTag(tag)!.stageId} through commit ${parseMetaTag(tag)!.commit.slice(0, 12)}`);
    }
  }

  // (2) built within the last N hours (the timestamp is in the tag); an index with such a platform stage too
  if (input.keepBuiltWithinHours !== undefined) {
    const hours = input.keepBuiltWithinHours;
    const since = input.now - hours * 3_600_000;
    const young = new Set<string>();
    for (const c of candidates.values()) {
      const id = c.what === 'stage' ? parseStageTag(c.tag) : undefined;
      if (id !== undefined && id.timestamp >= since) {
        keep(c.tag, `built within the last ${hours} hours`);
        young.add(c.digest);
      }
    }
    for (const c of candidates.values()) {
      if (c.what === 'index' && (c.facts.children ?? []).some((d) => young.has(d))) keep(c.tag, `has a platform stage built within the last ${hours} hours`);
    }
  }

  // (3) --keep-list
  for (const tag of input.keepList ?? []) keep(tag, 'in --keep-list');

  // managed-image records of images still in werf.yaml
  const managed = input.imageNames === undefined ? undefined : new Set(input.imageNames.map(managedImageTag));
  for (const c of candidates.values()) {
    if (c.what !== 'managed-image') continue;
    if (managed === undefined) keep(c.tag, 'managed image (werf.yaml not read)');
    else if (managed.has(c.tag)) keep(c.tag, `image ${c.facts.labels?.[RECORD_LABELS.imageName] || '~'} is in werf.yaml`);
  }
}

/**
 * (4) Whatever a kept stage needs stays: its parent (`slipway.io/parent-stage-id`, transitively) and the
 * platform stages of a kept index. (A `meta-` record does not stay because its stage does: see (1).)
 */
function closeOverDependencies(candidates: Candidates, reasons: Map<string, string[]>, keep: Keep, tagsByDigest: Map<string, string[]>): void {
  const queue = [...reasons.keys()];
  while (queue.length > 0) {
    const tag = queue.shift()!;
    const c = candidates.get(tag);
    if (c === undefined) continue;
    if (c.what === 'stage') {
      const parent = c.facts.labels?.[SERVICE_LABELS.parentStageId];
      if (parent !== undefined && parent !== tag && keep(parent, `parent of kept stage ${tag}`)) queue.push(parent);
    } else if (c.what === 'index') {
      for (const child of c.facts.children ?? []) {
        for (const childTag of tagsByDigest.get(child) ?? []) {
          if (candidates.get(childTag)?.what === 'stage' && keep(childTag, `platform stage of kept index ${tag}`)) queue.push(childTag);
        }
      }
    }
  }

}
