// Metadata records in the stages repository, in werf's layout: manifest-only images whose
// tags say which images the project manages (`managed-image-<name>`) and which commit
// produced which stage for which image (`meta-<murmur(name)>_<commit>_<stage id>`).
// Cleanup reads them to keep what git history still needs. Each carries the `slipway`
// label of its project, so cleanup never mistakes someone else's tag for one.

import { MediaType, encodeDocument, encodeManifest, type ImageConfig } from '../oci/index.js';
import { settleAll } from '../store/copy-image.js';
import type { ImageStore } from '../store/image-store.js';
import { Readable } from 'node:stream';
import { murmurHex } from '../text/murmur.js';
import { isValidDockerTag, limitedSlug } from '../text/slug.js';
import { SERVICE_LABELS } from './stage-id.js';

export const MANAGED_IMAGE_PREFIX = 'managed-image-';
export const META_PREFIX = 'meta-';

/** Labels of a record, beside `slipway`: what cleanup needs without parsing tags. */
export const RECORD_LABELS = {
  imageName: 'slipway.io/image-name',
  commit: 'slipway.io/commit',
  stageId: 'slipway.io/stage-id',
} as const;

const META_TAG = /^meta-([0-9a-f]{1,8})_([0-9a-f]{40})_([0-9a-f]{56}(?:-[0-9]{13})?)$/;

/** werf's managed-image id: space, `/` and `+` spelled out, the nameless image `__nameless__`. */
export function managedImageTag(name: string): string {
  const id = name === '' ? '__nameless__' : name.replaceAll(' ', '__space__').replaceAll('/', '__slash__').replaceAll('+', '__plus__');
  const max = 128 - MANAGED_IMAGE_PREFIX.length;
  return MANAGED_IMAGE_PREFIX + (isValidDockerTag(id) && id.length <= max ? id : limitedSlug(id, max));
}

export function metaTag(imageName: string, commit: string, stageId: string): string {
  return `${META_PREFIX}${murmurHex(imageName)}_${commit}_${stageId}`;
}

export function parseMetaTag(tag: string): { nameHash: string; commit: string; stageId: string } | undefined {
  const match = META_TAG.exec(tag);
  return match ? { nameHash: match[1]!, commit: match[2]!, stageId: match[3]! } : undefined;
}

export function isMetadataTag(tag: string): boolean {
  return tag.startsWith(MANAGED_IMAGE_PREFIX) || META_TAG.test(tag);
}

/**
 * Write a manifest-only record under `tag` unless it is there already: `listed` answers from a listing made
 * earlier in the run (no request), else the store is asked.
 */
export async function publishRecord(store: ImageStore, tag: string, project: string, labels: Record<string, string>, listed?: (tag: string) => Promise<boolean>): Promise<void> {
  if ((listed !== undefined && await listed(tag)) || await store.resolve(tag)) return;
  const config: ImageConfig = {
    architecture: 'amd64', os: 'linux', config: { Labels: { [SERVICE_LABELS.project]: project, ...labels } },
    rootfs: { type: 'layers', diff_ids: [] },
  };
  const configDoc = encodeDocument(config, MediaType.OciConfig);
  const descriptor = { mediaType: MediaType.OciConfig, digest: configDoc.digest, size: configDoc.bytes.length };
  await store.writeBlob({ descriptor, open: async () => Readable.from([Buffer.from(configDoc.bytes)]) });
  await store.putManifest(encodeManifest({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: descriptor, layers: [] }, MediaType.OciManifest), tag);
}

/** The records of one built image at one commit. */
export async function publishImageMetadata(
  store: ImageStore, record: { project: string; imageName: string; commit: string; stageId: string }, listed?: (tag: string) => Promise<boolean>,
): Promise<void> {
  // Independent records: written side by side; on a re-run the listing already names both.
  await settleAll([
    publishRecord(store, managedImageTag(record.imageName), record.project, { [RECORD_LABELS.imageName]: record.imageName }, listed),
    publishRecord(store, metaTag(record.imageName, record.commit, record.stageId), record.project, {
      [RECORD_LABELS.imageName]: record.imageName, [RECORD_LABELS.commit]: record.commit, [RECORD_LABELS.stageId]: record.stageId,
    }, listed),
  ]);
}
