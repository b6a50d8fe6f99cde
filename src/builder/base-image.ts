// FROM an image: resolve a reference to the manifest for the target platform and its config.

import { BuildError } from '../errors.js';
import { formatPlatform, parseReference, platformsEqual, type Descriptor, type Document, type ImageConfig, type ManifestDocument, type Platform } from '../oci/index.js';
import type { RegistryClient } from '../registry/client.js';
import { readConfig, type ImageStore } from '../store/image-store.js';
import { openLocation } from '../store/location.js';
import { RegistryStore } from '../store/registry-store.js';
import { SERVICE_LABELS } from '../stages/stage-id.js';

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
  // `oci:DIR:TAG` names an image of a local store: a dependency built without --repo.
  const { store, target, name } = ref.startsWith('oci:') ? await localImage(ref, client) : registryImage(ref, client);
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
  const { os, architecture, variant } = config.parsed;
  if (os !== undefined && architecture !== undefined && !platformsEqual({ os, architecture, ...(variant ? { variant } : {}) }, platform)) {
    throw new BuildError(`${where}: image ${ref} is ${formatPlatform({ os, architecture, ...(variant ? { variant } : {}) })}, not ${formatPlatform(platform)}`, {
      hint: 'use a base image that has this platform (a multi-platform index), or build for its platform',
    });
  }
  return { reference: name, store, manifestDigest: manifest.digest, manifest, config };
}

/**
 * Images resolved once per build: ten images FROM one base make one lookup instead of ten, and every image of
 * the build sees the same digest even if the tag moves meanwhile. A failed lookup is not kept.
 */
export class ImageResolver {
  private readonly resolved = new Map<string, Promise<ResolvedImage>>();

  constructor(private readonly client: RegistryClient) {}

  resolve(ref: string, platform: Platform, where: string): Promise<ResolvedImage> {
    const key = `${formatPlatform(platform)} ${ref}`;
    const known = this.resolved.get(key);
    if (known !== undefined) return known;
    const resolving = resolveImage(this.client, ref, platform, where);
    this.resolved.set(key, resolving);
    resolving.catch(() => {
      if (this.resolved.get(key) === resolving) this.resolved.delete(key);
    });
    return resolving;
  }
}

function registryImage(ref: string, client: RegistryClient): { store: ImageStore; target: string; name: string } {
  const reference = parseReference(ref);
  const store = new RegistryStore(client, { registry: reference.registry, repository: reference.repository });
  const target = reference.digest ?? reference.tag ?? 'latest';
  return { store, target, name: `${store.name}${reference.digest ? '@' : ':'}${target}` };
}

async function localImage(ref: string, client: RegistryClient): Promise<{ store: ImageStore; target: string; name: string }> {
  const location = await openLocation(ref, { client });
  return { store: location.store, target: location.target, name: ref };
}

function pickPlatform(manifests: Descriptor[], platform: Platform): Descriptor | undefined {
  // Attestation manifests (unknown/unknown) are never a match.
  return manifests.find((m) => m.platform !== undefined && platformsEqual(m.platform, platform));
}

/**
 * What a FROM image contributes to the digest: its manifest digest, so a moved tag rebuilds.
 * A stage Slipway built is identified by its content digest instead: its manifest also
 * holds timestamps (the parent stage's tag), which differ between runners that built the
 * same content, and must not change the digests of the images built on it.
 */
export function baseIdentity(manifestDigest: string, config: ImageConfig): string {
  const content = config.config?.Labels?.[SERVICE_LABELS.stageContentDigest];
  return content ? `slipway-stage:${content}` : manifestDigest;
}
