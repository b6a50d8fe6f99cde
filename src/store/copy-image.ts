// Copy an image or an index between any two stores: blobs first (largest first, in a
// bounded pool, mounted or skipped where possible), then child manifests, then the
// top manifest, so a tag never points at content that is not there yet.

import { Transform, type Readable } from 'node:stream';
import pLimit from 'p-limit';
import { MediaType, blobsOf, type Descriptor, type ManifestDocument } from '../oci/index.js';
import type { BlobWriteResult, ImageStore } from './image-store.js';

export interface CopyOptions {
  /** Tag to write at the destination; without one the manifest is stored by digest only. */
  tag?: string;
  /** Several tags in one destination: blobs move once, then each tag is one manifest PUT. */
  tags?: readonly string[];
  /** Blobs moved at once. */
  concurrency?: number;
  /** A blob starts moving (or being checked at the destination). */
  onBlobStart?: (descriptor: Descriptor) => void;
  /** Bytes of a blob read from the source so far, as they stream (only when this is given: counting costs a little). */
  onBlobProgress?: (descriptor: Descriptor, bytes: number) => void;
  onBlob?: (descriptor: Descriptor, result: BlobWriteResult) => void;
}

export interface CopyResult {
  digest: string;
  mediaType: string;
  /** The destination already held this exact manifest under every tag: nothing was moved. */
  skipped: boolean;
  /** The tags that already pointed at this manifest and were left alone. */
  upToDate: string[];
  blobs: Record<BlobWriteResult, number>;
  /** Bytes of blobs that were uploaded (not mounted, not already present). */
  bytesUploaded: number;
}

export const DEFAULT_COPY_CONCURRENCY = 6;

/** Copy `srcTarget` (a tag or digest) of `src` into `dst`. */
export async function copyImage(src: ImageStore, srcTarget: string, dst: ImageStore, options: CopyOptions = {}): Promise<CopyResult> {
  const top = await src.getManifest(srcTarget);
  const result: CopyResult = { digest: top.digest, mediaType: top.mediaType, skipped: false, upToDate: [], blobs: { present: 0, mounted: 0, uploaded: 0 }, bytesUploaded: 0 };
  const tags = options.tags ?? (options.tag !== undefined ? [options.tag] : []);

  // One HEAD per tag (or for the digest): a tag that already points at this manifest needs nothing.
  const pending: (string | undefined)[] = [];
  for (const tag of tags.length > 0 ? tags : [undefined]) {
    const existing = await dst.resolve(tag ?? top.digest);
    if (existing?.digest === top.digest) {
      if (tag !== undefined) result.upToDate.push(tag);
    } else pending.push(tag);
  }
  if (pending.length === 0) return { ...result, skipped: true };

  const children = top.kind === 'index' ? await missingChildren(src, dst, top) : [];
  const images = top.kind === 'image' ? [top] : children.filter((c) => c.kind === 'image');
  await copyBlobs(src, dst, images, options, result);

  // Children of an index before the index: a registry refuses an index whose manifests are missing.
  for (const child of children) await dst.putManifest(child);
  for (const tag of pending) await dst.putManifest(top, tag);
  return result;
}

async function missingChildren(src: ImageStore, dst: ImageStore, index: ManifestDocument): Promise<ManifestDocument[]> {
  if (index.kind !== 'index') return [];
  const out: ManifestDocument[] = [];
  for (const descriptor of index.parsed.manifests) {
    if (await dst.resolve(descriptor.digest)) continue;
    const child = await src.getManifest(descriptor.digest);
    // Nested indexes are rare but legal: their own children come first.
    if (child.kind === 'index') out.push(...(await missingChildren(src, dst, child)));
    out.push(child);
  }
  return out;
}

async function copyBlobs(src: ImageStore, dst: ImageStore, images: ManifestDocument[], options: CopyOptions, result: CopyResult): Promise<void> {
  const unique = new Map<string, Descriptor>();
  for (const image of images) {
    if (image.kind !== 'image') continue;
    for (const blob of blobsOf(image.parsed)) if (!isForeign(blob)) unique.set(blob.digest, blob);
  }
  // Largest first: the long transfers start at once and the small ones fill the gaps.
  const blobs = [...unique.values()].sort((a, b) => b.size - a.size);
  const mountFrom = src.repository && dst.repository && src.repository.registry === dst.repository.registry ? src.repository : undefined;
  // rejectOnClear: blobs still queued when one fails settle (as aborted) instead of staying pending forever.
  const limit = pLimit({ concurrency: options.concurrency ?? DEFAULT_COPY_CONCURRENCY, rejectOnClear: true });
  await settleAll(blobs.map((descriptor) => limit(async () => {
    try {
      options.onBlobStart?.(descriptor);
      const open = options.onBlobProgress === undefined ? () => src.readBlob(descriptor) : async () => counted(await src.readBlob(descriptor), (bytes) => options.onBlobProgress!(descriptor, bytes));
      const outcome = await dst.writeBlob({ descriptor, open, ...(mountFrom ? { mountFrom } : {}) });
      result.blobs[outcome]++;
      if (outcome === 'uploaded') result.bytesUploaded += descriptor.size;
      options.onBlob?.(descriptor, outcome);
    } catch (error) {
      limit.clearQueue(); // one failed blob fails the copy: start no more transfers
      throw error;
    }
  })));
}

/**
 * Like Promise.all, but after a failure it waits for the tasks already running (the failure cleared the queue of
 * the rest), so that nothing still writes into a destination its caller then discards or closes.
 */
export async function settleAll<T>(tasks: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  const failure = firstFailure(results);
  if (failure) throw failure.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** The failure itself, not the aborts of the tasks it cleared from a queue; undefined when all succeeded. */
export function firstFailure(results: readonly PromiseSettledResult<unknown>[]): PromiseRejectedResult | undefined {
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  return failures.find((r) => !(r.reason instanceof Error && r.reason.name === 'AbortError')) ?? failures[0];
}

/** `stream`, reporting the bytes that passed through it so far (a retry starts counting again). */
function counted(stream: Readable, report: (bytes: number) => void): Readable {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      report(bytes);
      callback(null, chunk);
    },
  });
  stream.on('error', (error) => counter.destroy(error));
  counter.on('close', () => { if (!stream.destroyed) stream.destroy(); });
  return stream.pipe(counter);
}

/** Non-distributable layers live at their `urls`, not in the registry: they are never copied. */
function isForeign(blob: Descriptor): boolean {
  return (blob.mediaType === MediaType.DockerForeignLayerGzip || blob.mediaType.includes('nondistributable')) && (blob.urls?.length ?? 0) > 0;
}
