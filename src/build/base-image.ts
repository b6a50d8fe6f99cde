// FROM an image: resolve a reference to the manifest for the target platform and its config.

import { BuildError } from '../errors.js';
import { formatPlatform, parseReference, platformsEqual, type Descriptor, type Document, type ImageConfig, type ManifestDocument, type Platform } from '../oci/index.js';
import type { RegistryClient } from '../registry/client.js';
import { readConfig, type ImageStore } from '../store/image-store.js';
import { RegistryStore } from '../store/registry-store.js';

export interface ResolvedImage {
  /** The reference, normalised (`index.docker.io/library/alpine:3`). */
  reference: string;
  store: ImageStore;
  /** Digest of the platform's image manifest: what a stage digest depends on, so a moved tag rebuilds. */
  manifestDigest: string;
  manifest: ManifestDocument & { kind: 'image' };
  config: Document<ImageConfig>;
}

/** Resolve `ref` (a tag or digest reference) for `platform`, choosing from an index when there is one. */
export async function resolveImage(client: RegistryClient, ref: string, platform: Platform, where: string): Promise<ResolvedImage> {
  const reference = parseReference(ref);
  const store = new RegistryStore(client, { registry: reference.registry, repository: reference.repository });
  const target = reference.digest ?? reference.tag ?? 'latest';
  let manifest = await store.getManifest(target);
  if (manifest.kind === 'index') {
    const child = pickPlatform(manifest.parsed.manifests, platform);
    if (!child) {
      const offered = manifest.parsed.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : '?')).join(', ');
      throw new BuildError(`${where}: image ${ref} has no ${formatPlatform(platform)} variant (it offers ${offered})`, {
        hint: 'choose another base image or set the platform with --platform / werf.yaml platform',
      });
    }
    manifest = await store.getManifest(child.digest);
  }
  if (manifest.kind !== 'image') throw new BuildError(`${where}: image ${ref} resolves to a nested index, which is not supported`);
  const config = await readConfig(store, manifest.parsed.config);
  return { reference: `${reference.registry}/${reference.repository}${reference.digest ? `@${reference.digest}` : `:${target}`}`, store, manifestDigest: manifest.digest, manifest, config };
}

function pickPlatform(manifests: Descriptor[], platform: Platform): Descriptor | undefined {
  // Attestation manifests (unknown/unknown) are never a match.
  return manifests.find((m) => m.platform !== undefined && platformsEqual(m.platform, platform));
}
