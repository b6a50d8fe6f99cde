// Stage IDs and tags in the stages storage, werf's format (pkg/image/stage.go and pkg/storage/repo_stages_storage.go in werf/werf):
//
//   <56 hex>-<13 digit ms>          a stage image; also the content-based tag of a single-platform image
//   <56 hex>                        a multi-platform index over per-platform stage IDs
//   <56 hex>-<13 digit ms>-rejected a marker: that stage must not be reused
//
// The 56 hex are a SHA3-224 digest over strings joined by `:::` (werf's util.Sha3_224Hash).
// Everything here is pure.

import { createHash } from 'node:crypto';
import { InvalidInputError } from '../errors.js';

/** werf's separator between the strings a digest is taken over. */
export const DIGEST_PART_SEPARATOR = ':::';

const DIGEST_RE = /^[0-9a-f]{56}$/;
const STAGE_TAG_RE = /^([0-9a-f]{56})-([0-9]{13})$/;
const REJECTED_TAG_RE = /^([0-9a-f]{56})-([0-9]{13})-rejected$/;
const MIN_TIMESTAMP = 1e12; // the first 13-digit millisecond time (2001-09-09)
const MAX_TIMESTAMP = 1e13 - 1; // the last one (2286-11-20)

/** A stage found in (or about to be written to) a stages storage. */
export interface StageId {
  /** 56 lowercase hex: SHA3-224 over the stage's inputs. */
  digest: string;
  /** Unix milliseconds when the stage was first published, 13 digits. */
  timestamp: number;
}

/** SHA3-224 (FIPS-202) hex over `parts` joined by `:::`: werf's stage and multi-platform digest. */
export function stageDigest(parts: readonly string[]): string {
  return createHash('sha3-224').update(parts.join(DIGEST_PART_SEPARATOR), 'utf8').digest('hex');
}

/** Exactly 56 lowercase hex characters. */
export function isStageDigest(value: string): boolean {
  return DIGEST_RE.test(value);
}

function checkDigest(digest: string): void {
  if (!isStageDigest(digest)) {
    throw new InvalidInputError(`invalid stage digest "${digest}": expected 56 lowercase hex characters (SHA3-224)`);
  }
}

function checkTimestamp(ms: number): void {
  if (!Number.isSafeInteger(ms) || ms < MIN_TIMESTAMP || ms > MAX_TIMESTAMP) {
    throw new InvalidInputError(`invalid stage timestamp ${String(ms)}: expected Unix milliseconds of 13 digits`);
  }
}

/** `<digest>-<ms>`: the tag (and stage ID) of a stage image. */
export function formatStageTag(digest: string, ms: number): string {
  checkDigest(digest);
  checkTimestamp(ms);
  return `${digest}-${ms}`;
}

/**
 * The digest and timestamp of a stage tag, or undefined for any other tag: exactly 56 lowercase
 * hex, `-`, 13 digits. Rejected markers, multi-platform tags and metadata records are not stages.
 */
export function parseStageTag(tag: string): StageId | undefined {
  const match = STAGE_TAG_RE.exec(tag);
  if (match === null) return undefined;
  return { digest: match[1]!, timestamp: Number(match[2]) };
}

export function isStageTag(tag: string): boolean {
  return STAGE_TAG_RE.test(tag);
}

/** `<digest>-<ms>-rejected`: werf's marker that a stage must not be reused. */
export function rejectedStageTag(digest: string, ms: number): string {
  return `${formatStageTag(digest, ms)}-rejected`;
}

/** The stage a `-rejected` marker refers to, or undefined when the tag is no such marker. */
export function parseRejectedStageTag(tag: string): StageId | undefined {
  const match = REJECTED_TAG_RE.exec(tag);
  if (match === null) return undefined;
  return { digest: match[1]!, timestamp: Number(match[2]) };
}

/** The tag of a multi-platform index: the bare 56 hex digest (werf's stage ID with timestamp 0). */
export function isMultiplatformTag(tag: string): boolean {
  return DIGEST_RE.test(tag);
}

/**
 * werf's digest of a multi-platform image (pkg/build/image/multiplatform_image.go): SHA3-224
 * over the per-platform stage IDs (`<digest>-<ms>`) joined by `:::`. The IDs must already be in
 * platform-sorted order; multiplatformDigestOf() sorts them.
 */
export function multiplatformDigest(stageIds: readonly string[]): string {
  if (stageIds.length === 0) throw new InvalidInputError('a multi-platform image needs at least one platform stage');
  for (const id of stageIds) {
    if (!isStageTag(id)) throw new InvalidInputError(`invalid stage ID "${id}": expected <56 hex>-<13 digit ms>`);
  }
  return stageDigest(stageIds);
}

/**
 * multiplatformDigest() over `{ platform, stageId }` pairs, sorted by platform string
 * (`linux/amd64` before `linux/arm64`) the way werf sorts its per-platform images: by byte order,
 * which for these ASCII strings is JavaScript's default string order.
 */
export function multiplatformDigestOf(entries: readonly { platform: string; stageId: string }[]): string {
  const sorted = [...entries].sort((a, b) => (a.platform < b.platform ? -1 : a.platform > b.platform ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.platform === sorted[i - 1]!.platform) {
      throw new InvalidInputError(`platform ${sorted[i]!.platform} appears twice in a multi-platform image`);
    }
  }
  return multiplatformDigest(sorted.map((e) => e.stageId));
}

export interface SelectOptions {
  /**
   * Skip candidates older than this (werf skips stages older than their parent stage: a stage
   * cannot have been built before what it was built on).
   */
  minTimestamp?: number;
}

/**
 * werf's selectStageDescByOldestCreationTs: among candidates (all of one digest), the one with
 * the oldest timestamp wins, so the tag a digest resolves to is stable once published. Ties
 * (the same tag listed twice) keep the first.
 */
export function selectOldest<T extends { timestamp: number }>(candidates: readonly T[], options: SelectOptions = {}): T | undefined {
  let best: T | undefined;
  for (const candidate of candidates) {
    if (options.minTimestamp !== undefined && candidate.timestamp < options.minTimestamp) continue;
    if (best === undefined || candidate.timestamp < best.timestamp) best = candidate;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------------
// Service labels

/** The labels Slipway puts on every stage image (pkg/image/const.go in werf/werf, with `slipway` for `werf`). */
export const SERVICE_LABELS = {
  /** The project name. */
  project: 'slipway',
  /** Slipway's version. */
  version: 'slipway-version',
  /** The content digest of the stage (§3.3). */
  stageContentDigest: 'slipway-stage-content-digest',
  /** The stage ID of the previous stage, or of the base stage. */
  parentStageId: 'slipway.io/parent-stage-id',
  /** The HEAD commit the stage was built from. */
  projectRepoCommit: 'slipway-project-repo-commit',
} as const;

export type ServiceLabel = (typeof SERVICE_LABELS)[keyof typeof SERVICE_LABELS];

/** The `comment` of the history entries Slipway writes; export removes it with the service labels. */
export const SERVICE_HISTORY_COMMENT = 'slipway';

function isFamily(key: string, name: string): boolean {
  return key === name || key.startsWith(`${name}-`) || key.startsWith(`${name}.io/`);
}

/**
 * A label of Slipway's bookkeeping: `slipway`, `slipway-*`, `slipway.io/*`; werf's `werf`, `werf-*`
 * and `werf.io/*` too, so images built by werf export clean. Case-sensitive, like werf.
 *
 * Note: werf's own export strips every key that merely starts with `werf` (so a user's `werfish`
 * too, §4.2); this predicate is narrower on purpose and leaves such user labels alone.
 */
export function isServiceLabel(key: string): boolean {
  return isFamily(key, 'slipway') || isFamily(key, 'werf');
}
