// The stages storage: where built stages live (a registry repository given by `--repo`, or
// the local OCI layout under $SLIPWAY_HOME), how they are found and how they are published.
//
// Finding follows werf (pkg/storage/repo_stages_storage.go in werf/werf): stages are recognised by tag alone,
// `<digest>-<ms>`; among the tags of one digest the oldest timestamp wins, so the tag a digest
// resolves to is stable once published. The tag list is read once per storage and cached
// (werf lists per lookup; one listing per run is enough for a build, which looks again, under
// the lock, before it publishes anything).
//
// Publishing follows werf's optimistic build plus per-digest lock (§8.1): a missing stage is
// built without any lock; then publishStage() takes the digest's lock, lists the tags again,
// and either returns a stage that another runner stored meanwhile or pushes the new one.

import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidInputError, NotFoundError, SlipwayError, describeError } from '../errors.js';
import type { Document, ImageConfig, ManifestDocument } from '../oci/index.js';
import { withFileLock, type FileLockOptions } from '../store/file-lock.js';
import { readConfig, type ImageStore } from '../store/image-store.js';
import { defaultLockDir, slipwayHome } from './home.js';
import { isMetadataTag } from './metadata.js';
import {
  formatStageTag,
  isMultiplatformTag,
  isStageDigest,
  parseRejectedStageTag,
  parseStageTag,
  selectOldest,
  type SelectOptions,
} from './stage-id.js';

/** How often a listed tag's missing manifest is read again (see getListedManifest). */
const LISTED_TAG_RETRIES = 3;

/** A stage in the storage. */
export interface StageDescriptor {
  /** 56 lowercase hex. */
  digest: string;
  /** Unix ms of publication, 13 digits. */
  timestamp: number;
  /** `<digest>-<timestamp>`: the stage ID, the tag in the storage, the image's content-based tag. */
  tag: string;
  /** The manifest digest the tag points at, when known; resolveStage() finds it. */
  manifestDigest?: string;
}

/** A multi-platform index in the storage, tagged with its bare 56 hex digest. */
export interface IndexDescriptor {
  digest: string;
  /** Equal to `digest`. */
  tag: string;
  manifestDigest?: string;
}

export interface StagesStorageOptions {
  /** The werf.yaml project: stage images carry it in their `slipway` label. */
  project: string;
  /**
   * Directory of the per-digest lock files. Default `$SLIPWAY_HOME/locks` (see slipwayHome()).
   * Processes that share it serialise their publications; see publishStage().
   */
  lockDir?: string;
  /** Tuning of the lock; by default a waiter gives up after an hour (a holder may be pushing big layers). */
  lock?: FileLockOptions;
  /** What describe() returns; default the store's name. */
  description?: string;
  /** The clock, in Unix ms (tests). Default Date.now. */
  now?: () => number;
}

export interface PublishOptions {
  /**
   * The timestamp of the parent stage: an existing stage older than this does not count
   * (werf skips it), and the new stage's timestamp is at least this, even when the local
   * clock is behind the one that stamped the parent.
   */
  minTimestamp?: number;
}

/** What a push callback may report: the digest of the manifest it put under the tag. */
export interface PushResult {
  manifestDigest?: string;
}

export type PushStage = (tag: string) => Promise<PushResult | void>;

const DEFAULT_LOCK_TIMEOUT_MS = 60 * 60 * 1000;

/** The tag listing of one moment, indexed. */
interface Listing {
  /** Usable stages by digest (rejected ones left out), in listing order. */
  stages: Map<string, StageDescriptor[]>;
  /** Tags of multi-platform indexes. */
  indexes: Set<string>;
  /** Every stage tag, rejected ones included: a new tag must not collide with them. */
  allStageTags: Set<string>;
  /** The `managed-image-` and `meta-` records. */
  records: Set<string>;
}

function indexTags(tags: readonly string[]): Listing {
  const rejected = new Set<string>();
  for (const tag of tags) {
    const marker = parseRejectedStageTag(tag);
    if (marker !== undefined) rejected.add(formatStageTag(marker.digest, marker.timestamp));
  }
  const stages = new Map<string, StageDescriptor[]>();
  const indexes = new Set<string>();
  const allStageTags = new Set<string>();
  const records = new Set<string>();
  for (const tag of tags) {
    if (isMetadataTag(tag)) {
      records.add(tag);
      continue;
    }
    if (isMultiplatformTag(tag)) {
      indexes.add(tag);
      continue;
    }
    const id = parseStageTag(tag);
    if (id === undefined || allStageTags.has(tag)) continue;
    allStageTags.add(tag);
    if (rejected.has(tag)) continue;
    const list = stages.get(id.digest) ?? [];
    list.push({ digest: id.digest, timestamp: id.timestamp, tag });
    stages.set(id.digest, list);
  }
  for (const marker of rejected) allStageTags.add(marker);
  return { stages, indexes, allStageTags, records };
}

function checkDigest(digest: string, what: string): void {
  if (!isStageDigest(digest)) {
    throw new InvalidInputError(`invalid ${what} digest "${digest}": expected 56 lowercase hex characters (SHA3-224)`);
  }
}

export class StagesStorage {
  readonly project: string;
  readonly lockDir: string;
  private readonly lockOptions: FileLockOptions;
  private readonly description: string;
  private readonly now: () => number;
  /** The cached listing; a promise so concurrent lookups share one request. */
  private listing: Promise<Listing> | undefined;
  /**
   * Stages and indexes this instance published (or found under the lock) since the last
   * refresh(). Kept apart from the listing because concurrent publications of other digests
   * replace the cached listing with ones that may predate them.
   */
  private readonly published = new Map<string, StageDescriptor[]>();
  private readonly publishedIndexes = new Set<string>();
  /** Manifest digests learnt from pushes and resolutions, by tag. */
  private readonly manifestDigests = new Map<string, string>();

  constructor(
    /** Where the stage images are read and written. Owned by the caller unless close() is called. */
    readonly store: ImageStore,
    options: StagesStorageOptions,
  ) {
    if (options.project === '') throw new InvalidInputError('a stages storage needs a project name');
    this.project = options.project;
    this.lockDir = options.lockDir ?? defaultLockDir(slipwayHome());
    this.lockOptions = { timeoutMs: DEFAULT_LOCK_TIMEOUT_MS, ...options.lock };
    this.description = options.description ?? store.name;
    this.now = options.now ?? Date.now;
  }

  /** For logs: `127.0.0.1:5000/app` or `local (~/.slipway/stages/app)`. */
  describe(): string {
    return this.description;
  }

  /** Drop the cached tag listing: the next lookup lists again and sees what other runners published. */
  refresh(): void {
    this.listing = undefined;
    this.published.clear();
    this.publishedIndexes.clear();
  }

  /** The stages of one digest: the listing's plus the ones published here since. */
  private candidates(listing: Listing, digest: string): StageDescriptor[] {
    const listed = listing.stages.get(digest) ?? [];
    const extra = (this.published.get(digest) ?? []).filter((p) => !listed.some((l) => l.tag === p.tag));
    return [...listed, ...extra];
  }

  private remember(stage: StageDescriptor): void {
    const list = this.published.get(stage.digest) ?? [];
    if (!list.some((s) => s.tag === stage.tag)) list.push({ digest: stage.digest, timestamp: stage.timestamp, tag: stage.tag });
    this.published.set(stage.digest, list);
  }

  private async listTags(): Promise<Listing> {
    let tags: string[];
    try {
      tags = await this.store.listTags();
    } catch (error) {
      if (error instanceof SlipwayError) throw error;
      throw new SlipwayError(`cannot list the stages in ${this.description}: ${describeError(error)}`, { cause: error });
    }
    return indexTags(tags);
  }

  /** The cached listing, made on first use (or by prefetch()). A failed listing is told to its callers, then forgotten. */
  private cached(): Promise<Listing> {
    const listing = (this.listing ??= this.listTags());
    listing.catch(() => {
      if (this.listing === listing) this.listing = undefined;
    });
    return listing;
  }

  /**
   * Start the listing now, without waiting: a build needs it once the first stage digest is known, which takes
   * a base image lookup. A failure is kept for the first lookup, which reports it.
   */
  prefetch(): void {
    if (this.listing !== undefined) return;
    this.listing = this.listTags();
    this.listing.catch(() => undefined);
  }

  private withManifest<T extends { tag: string; manifestDigest?: string }>(item: T): T {
    const manifestDigest = this.manifestDigests.get(item.tag);
    return manifestDigest === undefined ? { ...item } : { ...item, manifestDigest };
  }

  /** Every usable stage (rejected ones left out), by digest and then timestamp. */
  async listStages(): Promise<StageDescriptor[]> {
    const listing = await this.cached();
    const digests = new Set([...listing.stages.keys(), ...this.published.keys()]);
    return [...digests]
      .flatMap((digest) => this.candidates(listing, digest))
      .sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : a.timestamp - b.timestamp))
      .map((s) => this.withManifest(s));
  }

  /** Whether a metadata record was in the storage's listing (made once per run): then it need not be written. */
  async hasRecord(tag: string): Promise<boolean> {
    return (await this.cached()).records.has(tag);
  }

  /** The stage of this digest, the oldest when several were published; from the cached listing. */
  async findStage(digest: string, options: SelectOptions = {}): Promise<StageDescriptor | undefined> {
    checkDigest(digest, 'stage');
    const found = selectOldest(this.candidates(await this.cached(), digest), options);
    return found === undefined ? undefined : this.withManifest(found);
  }

  /** The stage with its manifest digest, read from the storage once and remembered. */
  async resolveStage(stage: StageDescriptor): Promise<StageDescriptor & { manifestDigest: string }> {
    const manifestDigest = await this.resolveTag(stage.tag, 'stage');
    return { ...stage, manifestDigest };
  }

  private async resolveTag(tag: string, what: string): Promise<string> {
    const known = this.manifestDigests.get(tag);
    if (known !== undefined) return known;
    let descriptor = await this.store.resolve(tag);
    // As in getListedManifest: the tag may be listed before another runner finished writing it.
    for (let attempt = 0; descriptor === undefined && attempt < LISTED_TAG_RETRIES; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
      descriptor = await this.store.resolve(tag);
    }
    if (descriptor === undefined) {
      throw new NotFoundError(`${what} ${tag} is listed but not found in ${this.description}`, {
        hint: 'it may have been deleted meanwhile (cleanup?); run again to rebuild it',
      });
    }
    this.manifestDigests.set(tag, descriptor.digest);
    return descriptor.digest;
  }

  /** The manifest and config of a stage image, verified, read through the store. */
  async getStageImage(stage: StageDescriptor): Promise<{ manifest: ManifestDocument; config: Document<ImageConfig> }> {
    const target = stage.manifestDigest ?? this.manifestDigests.get(stage.tag) ?? stage.tag;
    const manifest = await this.getListedManifest(target);
    if (manifest.kind !== 'image') {
      throw new InvalidInputError(`stage ${stage.tag} in ${this.description} is an index (${manifest.mediaType}), not an image`);
    }
    this.manifestDigests.set(stage.tag, manifest.digest);
    const config = await readConfig(this.store, manifest.parsed.config);
    return { manifest, config };
  }

  /**
   * A manifest whose tag the listing showed. A registry may list a tag that another runner is still writing
   * (distribution lists the tag's directory before its link is in place): a few short retries let that
   * publication finish before "not found" is believed.
   */
  private async getListedManifest(target: string): Promise<ManifestDocument> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.store.getManifest(target);
      } catch (error) {
        if (!(error instanceof NotFoundError) || attempt >= LISTED_TAG_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
      }
    }
  }

  /** The lock file of one digest in this storage. */
  lockPathFor(digest: string): string {
    const key = createHash('sha256').update(`${this.store.name}\n${digest}`).digest('hex');
    return join(this.lockDir, `stage-${key}.lock`);
  }

  private async withDigestLock<T>(digest: string, fn: () => Promise<T>): Promise<T> {
    try {
      await mkdir(this.lockDir, { recursive: true });
    } catch (error) {
      throw new SlipwayError(`cannot create the lock directory ${this.lockDir}: ${describeError(error)}`, { cause: error });
    }
    return withFileLock(this.lockPathFor(digest), fn, this.lockOptions);
  }

  /**
   * Publish a stage built for `digest`, unless one is there already. Under the digest's lock:
   * list the tags again (another runner may have published since the lookup); if a stage of this
   * digest exists now, return it and never call `push`; else choose `<digest>-<now ms>` and call
   * `push(tag)`, which must write the image under exactly that tag, blobs first and manifest last
   * (uploading the blobs before calling publishStage keeps the critical section short). After it,
   * findStage(digest) in this storage returns the stage returned here, until refresh().
   *
   * The lock is a file under `lockDir`, so processes on one machine serialise. Runners on
   * different machines do not share it: like werf without a synchronisation server, two of them
   * may both push a stage of the same digest, under different timestamps. That is harmless:
   * lookups pick the oldest timestamp, so every runner converges on one tag after its next
   * listing. (A runner that already used the younger tag as a parent keeps a valid chain:
   * its children carry its tag in their parent label.)
   */
  async publishStage(digest: string, push: PushStage, options: PublishOptions = {}): Promise<StageDescriptor> {
    checkDigest(digest, 'stage');
    return this.withDigestLock(digest, async () => {
      const fresh = this.listTags();
      this.listing = fresh; // fresher than what was cached: later lookups use it
      fresh.catch(() => {
        if (this.listing === fresh) this.listing = undefined;
      });
      const listing = await fresh;
      const existing = selectOldest(this.candidates(listing, digest), options);
      if (existing !== undefined) {
        this.remember(existing);
        return this.withManifest(existing);
      }

      // Not older than the parent, and never a tag that exists already (a rejected or too old one).
      let timestamp = Math.max(this.now(), options.minTimestamp ?? 0);
      while (listing.allStageTags.has(formatStageTag(digest, timestamp))) timestamp++;
      const tag = formatStageTag(digest, timestamp);
      const result = await push(tag);

      const stage: StageDescriptor = { digest, timestamp, tag };
      if (result && result.manifestDigest !== undefined) this.manifestDigests.set(tag, result.manifestDigest);
      this.remember(stage);
      return this.withManifest(stage);
    });
  }

  /**
   * Store a multi-platform index under its bare digest tag (pkg/storage/repo_stages_storage.go in werf/werf), unless an
   * index is there already, which is then returned as it is (the first one stays, like stages).
   * The per-platform manifests it names must be in the store already.
   */
  async publishIndex(digest: string, indexDocument: ManifestDocument): Promise<IndexDescriptor> {
    checkDigest(digest, 'multi-platform');
    if (indexDocument.kind !== 'index') {
      throw new InvalidInputError(`publishIndex: ${indexDocument.mediaType} is not an index`);
    }
    return this.withDigestLock(digest, async () => {
      const existing = await this.store.resolve(digest);
      const manifestDigest = existing?.digest ?? indexDocument.digest;
      if (existing === undefined) await this.store.putManifest(indexDocument, digest);
      this.manifestDigests.set(digest, manifestDigest);
      this.publishedIndexes.add(digest);
      return { digest, tag: digest, manifestDigest };
    });
  }

  /** The multi-platform index of this digest, from the cached listing. */
  async findIndex(digest: string): Promise<IndexDescriptor | undefined> {
    checkDigest(digest, 'multi-platform');
    if (!this.publishedIndexes.has(digest) && !(await this.cached()).indexes.has(digest)) return undefined;
    return this.withManifest({ digest, tag: digest });
  }

  /** The index document of a multi-platform image. */
  async getIndex(index: IndexDescriptor): Promise<ManifestDocument> {
    const manifest = await this.store.getManifest(index.manifestDigest ?? this.manifestDigests.get(index.tag) ?? index.tag);
    if (manifest.kind !== 'index') {
      throw new InvalidInputError(`${index.tag} in ${this.description} is an image (${manifest.mediaType}), not an index`);
    }
    this.manifestDigests.set(index.tag, manifest.digest);
    return manifest;
  }

  /** Close the store (a registry store leaves its shared client open). */
  async close(): Promise<void> {
    await this.store.close();
  }
}
