// One interface for every place images live: a repository in a registry, or a local
// OCI image layout directory. copyImage() moves images between any two of them.

import type { Readable } from 'node:stream';
import { parseConfig, type Descriptor, type Document, type ImageConfig, type ManifestDocument, type Repository } from '../oci/index.js';

/** A blob to be written: opened lazily, so a store that can mount or skip it never reads it. */
export interface BlobSource {
  readonly descriptor: Descriptor;
  /** Open the content; may be called again to retry. The stream need not verify itself. */
  open(): Promise<Readable>;
  /** A repository of the same registry that already holds the blob: a registry store mounts from it. */
  readonly mountFrom?: Repository;
}

export type BlobWriteResult = 'present' | 'mounted' | 'uploaded';

export interface ImageStore {
  /** Human-readable location for messages, e.g. `127.0.0.1:5000/app` or `oci:/home/me/.slipway/store`. */
  readonly name: string;
  /** Set for registry repositories: lets copyImage mount between repositories of one registry. */
  readonly repository?: Repository;

  /** The descriptor of the manifest a tag or digest points at, or undefined when absent. */
  resolve(target: string): Promise<Descriptor | undefined>;
  /** Read and verify a manifest or index. Throws NotFoundError when absent. */
  getManifest(target: string): Promise<ManifestDocument>;
  /** Write the exact bytes of a manifest under a tag, or under its digest when no tag is given. */
  putManifest(manifest: ManifestDocument, tag?: string): Promise<void>;
  /** Delete a manifest by digest (with every tag that points at it). */
  deleteManifest(digest: string): Promise<void>;
  listTags(): Promise<string[]>;

  hasBlob(digest: string): Promise<boolean>;
  /** A stream of the blob that fails (and keeps nothing) on a size or digest mismatch. */
  readBlob(descriptor: Descriptor): Promise<Readable>;
  /** Read a small blob (a config) fully, verified. */
  readBlobBytes(descriptor: Descriptor): Promise<Uint8Array>;
  writeBlob(source: BlobSource): Promise<BlobWriteResult>;

  /** Release connections or handles, and commit what a store writes only at the end (an archive). */
  close(): Promise<void>;

  /** After a failure: release like close(), but commit nothing. Stores that write as they go need none. */
  discard?(): Promise<void>;
}

/** close() after success, discard() (or close()) after a failure. */
export async function closeStore(store: ImageStore, failed: boolean): Promise<void> {
  if (failed && store.discard !== undefined) await store.discard();
  else await store.close();
}

/** Read an image's config through any store. */
export async function readConfig(store: ImageStore, config: Descriptor): Promise<Document<ImageConfig>> {

  return parseConfig(await store.readBlobBytes(config), config.mediaType, `config ${config.digest} in ${store.name}`);
}
