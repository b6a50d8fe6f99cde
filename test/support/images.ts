// Small images made through the client under test, for tests that need content in a registry.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { digestOf, encodeDocument, encodeManifest, MediaType, type ManifestDocument, type Repository } from '../../src/oci/index.js';
import type { RegistryClient } from '../../src/registry/client.js';

/** A repository name no other test uses. */
export function uniqueRepo(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Upload `layers` (raw bytes as uncompressed layers) plus a config, and return the manifest (not yet put). */
export async function uploadBytes(client: RegistryClient, repo: Repository, layers: Buffer[]): Promise<ManifestDocument> {
  const layerDescriptors = [];
  for (const bytes of layers) {
    const descriptor = { mediaType: MediaType.OciLayer, digest: digestOf(bytes), size: bytes.length };
    if ((await client.headBlob(repo, descriptor.digest)) === undefined) {
      await client.uploadBlob(repo, { descriptor, open: async () => Readable.from([bytes]) });
    }
    layerDescriptors.push(descriptor);
  }
  const config = encodeDocument({
    architecture: 'amd64', os: 'linux', config: { Labels: { test: 'slipway' } },
    rootfs: { type: 'layers', diff_ids: layerDescriptors.map((l) => l.digest) },
  }, MediaType.OciConfig);
  const configDescriptor = { mediaType: MediaType.OciConfig, digest: config.digest, size: config.bytes.length };
  await client.uploadBlob(repo, { descriptor: configDescriptor, open: async () => Readable.from([Buffer.from(config.bytes)]) });
  return encodeManifest({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDescriptor, layers: layerDescriptors }, MediaType.OciManifest);
}
