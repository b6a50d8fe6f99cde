// Reading the stages repository for a cleanup plan: list the tags once, then for every tag its manifest
// digest, and for candidate-shaped tags (stage, multi-platform index, metadata record) the labels of the
// config (of every child's config for an index). Tags that are not candidate-shaped are read too, but only
// for their digest, the children of an index and the layers of an image: deleting by digest must never take
// one of them along.

import { NotFoundError, RegistryError, SlipwayError, describeError } from '../errors.js';
import type { ManifestDocument } from '../oci/index.js';
import { readConfig, type ImageStore } from '../store/image-store.js';
import { isMetadataTag } from '../stages/metadata.js';
import { isMultiplatformTag, isStageTag, SERVICE_LABELS } from '../stages/stage-id.js';
import type { TagFacts } from './plan.js';

export interface InventoryOptions {
  /** Requests at the same time; default 8. */
  concurrency?: number;
}

export interface Inventory {
  /** Every tag listed, sorted. */
  listed: string[];
  /** The facts of every listed tag still there when read. */
  tags: TagFacts[];
}

function isCandidateShaped(tag: string): boolean {
  return isStageTag(tag) || isMultiplatformTag(tag) || isMetadataTag(tag);
}

function isGone(error: unknown): boolean {
  return error instanceof NotFoundError || (error instanceof RegistryError && (error.status === 404 || error.hasCode('MANIFEST_UNKNOWN', 'NAME_UNKNOWN')));
}

/** Run `fn` over `items` with at most `limit` at a time; results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Every tag of the store; an absent repository has none. */
export async function listAllTags(store: ImageStore): Promise<string[]> {
  try {
    return [...new Set(await store.listTags())].sort();
  } catch (error) {
    if (isGone(error)) return [];
    if (error instanceof SlipwayError) throw error;
    throw new SlipwayError(`cannot list the tags of ${store.name}: ${describeError(error)}`, { cause: error });
  }
}

async function labelsOf(store: ImageStore, manifest: ManifestDocument & { kind: 'image' }): Promise<Record<string, string>> {
  const config = await readConfig(store, manifest.parsed.config);
  return { ...(config.parsed.config?.Labels ?? {}) };
}

/** The facts of one tag, or undefined when it disappeared meanwhile. */
export async function readTagFacts(store: ImageStore, tag: string): Promise<TagFacts | undefined> {
  let manifest: ManifestDocument;
  try {
    manifest = await store.getManifest(tag);
  } catch (error) {
    if (isGone(error)) return undefined;
    // A manifest we cannot parse (an old schema, an artifact) still has a digest: never delete what shares it.
    // Without labels it is not provably ours, so it is never a candidate, only a digest to protect.
    const descriptor = await store.resolve(tag);
    if (descriptor === undefined) return undefined;
    return { tag, digest: descriptor.digest, kind: 'image' };
  }
  const candidateShaped = isCandidateShaped(tag);
  if (manifest.kind === 'image') {
    const layers = manifest.parsed.layers.map((l) => ({ digest: l.digest, size: l.size }));
    if (!candidateShaped) return { tag, digest: manifest.digest, kind: 'image', layers };
    let labels: Record<string, string> | undefined;
    try {
      labels = await labelsOf(store, manifest);
    } catch (error) {
      if (!isGone(error)) throw error;
      labels = undefined; // a config that is gone: not provably ours
    }
    return { tag, digest: manifest.digest, kind: 'image', labels, layers };
  }
  const children = manifest.parsed.manifests.map((d) => d.digest);
  if (!candidateShaped || !isMultiplatformTag(tag)) return { tag, digest: manifest.digest, kind: 'index', children };
  // An index is ours when every child is an image whose config carries the same `slipway` label.
  let childProject: string | undefined;
  let first = true;
  for (const child of children) {
    let project: string | undefined;
    try {
      const doc = await store.getManifest(child);
      project = doc.kind === 'image' ? (await labelsOf(store, doc))[SERVICE_LABELS.project] : undefined;
    } catch (error) {
      if (!isGone(error)) throw error;
      project = undefined;
    }
    if (first) childProject = project;
    else if (childProject !== project) childProject = undefined;
    first = false;
  }
  return { tag, digest: manifest.digest, kind: 'index', children, childProject: children.length > 0 ? childProject : undefined };
}

/** List the store once and read every tag's facts. */
export async function readInventory(store: ImageStore, options: InventoryOptions = {}): Promise<Inventory> {
  const listed = await listAllTags(store);
  const facts = await mapLimit(listed, options.concurrency ?? 8, (tag) => readTagFacts(store, tag));
  return { listed, tags: facts.filter((f): f is TagFacts => f !== undefined) };
}
