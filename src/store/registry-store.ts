// An ImageStore over one repository of a registry.

import type { Readable } from 'node:stream';
import { InvalidInputError } from '../errors.js';
import { formatRepository, verifyBytes, type Descriptor, type ManifestDocument, type Repository } from '../oci/index.js';
import type { RegistryClient } from '../registry/client.js';
import type { BlobSource, BlobWriteResult, ImageStore } from './image-store.js';

const CONFIG_LIMIT = 16 * 1024 * 1024;

export class RegistryStore implements ImageStore {
  readonly name: string;

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
    return this.client.getManifest(this.repository, target);
  }

  putManifest(manifest: ManifestDocument, tag?: string): Promise<void> {
    return this.client.putManifest(this.repository, tag ?? manifest.digest, manifest);
  }

  deleteManifest(digest: string): Promise<void> {
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

  async readBlobBytes(descriptor: Descriptor): Promise<Uint8Array> {
    if (descriptor.size > CONFIG_LIMIT) {
      throw new InvalidInputError(`blob ${descriptor.digest} in ${this.name} is ${descriptor.size} bytes, too large to read into memory`);
    }
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
