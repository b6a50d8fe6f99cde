// An ImageStore over one repository of a registry. Documents named by digest never change, so the store keeps
// the manifests and small blobs it has read: a run reads a stage's manifest and config to find the stage and again
// to export it, and each read is a round trip.

import type { Readable } from 'node:stream';
import { InvalidInputError } from '../errors.js';
import { formatRepository, verifyBytes, type Descriptor, type ManifestDocument, type Repository } from '../oci/index.js';
import type { RegistryClient } from '../registry/client.js';
import type { BlobSource, BlobWriteResult, ImageStore } from './image-store.js';

const CONFIG_LIMIT = 16 * 1024 * 1024;
/** Blobs above this size are read again rather than kept (configs are a few KiB). */
const MEMO_BLOB_LIMIT = 1024 * 1024;
/** Documents kept per kind; the oldest goes first. */
const MEMO_ENTRIES = 256;

export class RegistryStore implements ImageStore {
  readonly name: string;
  private readonly manifests = new Map<string, Promise<ManifestDocument>>();
  private readonly blobs = new Map<string, Promise<Uint8Array>>();

  /** `client` is shared and owned by the caller: close() leaves it open. */
  constructor(
    private readonly client: RegistryClient,
    readonly repository: Repository,
  ) {
    this.name = formatRepository(repository);
  }

  resolve(target: string): Promise<Descriptor | undefined> {
    return this.client.headManifest(this.repository, target);
  }

  getManifest(target: string): Promise<ManifestDocument> {
    if (!isDigest(target)) {
      return this.client.getManifest(this.repository, target).then((doc) => {
        remember(this.manifests, doc.digest, Promise.resolve(doc));
        return doc;
      });
    }
    return memo(this.manifests, target, () => this.client.getManifest(this.repository, target));
  }

  putManifest(manifest: ManifestDocument, tag?: string): Promise<void> {
    return this.client.putManifest(this.repository, tag ?? manifest.digest, manifest);
  }

  deleteManifest(digest: string): Promise<void> {
    this.manifests.delete(digest);
    return this.client.deleteManifest(this.repository, digest);
  }

  listTags(): Promise<string[]> {
    return this.client.listTags(this.repository);
  }

  async hasBlob(digest: string): Promise<boolean> {
    return (await this.client.headBlob(this.repository, digest)) !== undefined;
  }

  readBlob(descriptor: Descriptor): Promise<Readable> {
    return this.client.getBlob(this.repository, descriptor);
  }

  readBlobBytes(descriptor: Descriptor): Promise<Uint8Array> {
    if (descriptor.size > CONFIG_LIMIT) {
      return Promise.reject(new InvalidInputError(`blob ${descriptor.digest} in ${this.name} is ${descriptor.size} bytes, too large to read into memory`));
    }
    if (descriptor.size > MEMO_BLOB_LIMIT) return this.fetchBlobBytes(descriptor);
    return memo(this.blobs, descriptor.digest, () => this.fetchBlobBytes(descriptor));
  }

  private async fetchBlobBytes(descriptor: Descriptor): Promise<Uint8Array> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.readBlob(descriptor)) chunks.push(Buffer.from(chunk as Uint8Array));
    const bytes = Buffer.concat(chunks);
    verifyBytes(bytes, descriptor.digest, `blob ${descriptor.digest} in ${this.name}`);
    return bytes;
  }

  async writeBlob(source: BlobSource): Promise<BlobWriteResult> {
    // A mount answers 201 for a blob that is already here too: no HEAD needed before it.
    const mountable = source.mountFrom !== undefined && source.mountFrom.registry === this.repository.registry
      && source.mountFrom.repository !== this.repository.repository;
    if (!mountable && (await this.hasBlob(source.descriptor.digest))) return 'present';
    return this.client.uploadBlob(this.repository, source);
  }

  async close(): Promise<void> {}
}

function isDigest(target: string): boolean {
  return target.includes(':');
}

function remember<T>(memory: Map<string, Promise<T>>, key: string, value: Promise<T>): void {
  memory.delete(key);
  memory.set(key, value);
  if (memory.size > MEMO_ENTRIES) memory.delete(memory.keys().next().value!);
}

/** One read per key; a failed read is forgotten, so the next caller tries again. */
function memo<T>(memory: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
  const known = memory.get(key);
  if (known !== undefined) return known;
  const reading = read();
  remember(memory, key, reading);
  reading.catch(() => {
    if (memory.get(key) === reading) memory.delete(key);
  });
  return reading;
}
