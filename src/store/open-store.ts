// Locations as the command line names them, skopeo-style: `oci:DIR[:TAG]` for a local
// OCI image layout, `oci-archive:FILE[:TAG]` for one packed in a tar file, `docker://REF` or a plain image reference for a registry.

import { resolve as resolvePath } from 'node:path';
import { UsageError } from '../errors.js';
import { TAG_PATTERN, isDigest, parseReference } from '../oci/index.js';
import type { RegistryClient } from '../registry/client.js';
import type { ImageStore } from './image-store.js';
import { OciArchiveStore } from './oci-archive-store.js';
import { OciLayoutStore } from './oci-layout-store.js';
import { RegistryStore } from './registry-store.js';

export interface ImageLocation {
  store: ImageStore;
  /** What to read: a digest, else the tag, else `latest`. */
  target: string;
  /** The tag named in the location, if any: what a copy writes at a destination. */
  tag?: string;
}

export interface OpenLocationOptions {
  client: RegistryClient;
  /** Create a missing OCI layout (for destinations). */
  create?: boolean;
}

export async function openLocation(location: string, options: OpenLocationOptions): Promise<ImageLocation> {
  if (location.startsWith('oci-archive:')) {
    const { dir: file, ref } = splitOciLocation(location.slice('oci-archive:'.length), location);
    const store = await OciArchiveStore.open(resolvePath(file), { create: options.create ?? false });
    if (ref === undefined) return { store, target: 'latest', tag: 'latest' };
    return isDigest(ref) ? { store, target: ref } : { store, target: ref, tag: ref };
  }
  if (location.startsWith('oci:')) {
    const { dir, ref } = splitOciLocation(location.slice('oci:'.length), location);
    const store = await OciLayoutStore.open(resolvePath(dir), { create: options.create ?? false });
    if (ref === undefined) return { store, target: 'latest', tag: 'latest' };
    return isDigest(ref) ? { store, target: ref } : { store, target: ref, tag: ref };
  }
  const reference = parseReference(location.startsWith('docker://') ? location.slice('docker://'.length) : location);
  const store = new RegistryStore(options.client, { registry: reference.registry, repository: reference.repository });
  const target = reference.digest ?? reference.tag ?? 'latest';
  return reference.tag === undefined && reference.digest !== undefined
    ? { store, target }
    : { store, target, tag: reference.tag ?? 'latest' };
}

/** `DIR:TAG` or `DIR@DIGEST` or `DIR`; a directory may itself contain ':'. */
function splitOciLocation(rest: string, location: string): { dir: string; ref?: string } {
  const at = rest.lastIndexOf('@');
  if (at > 0 && isDigest(rest.slice(at + 1))) return { dir: rest.slice(0, at), ref: rest.slice(at + 1) };
  const colon = rest.lastIndexOf(':');
  if (colon > 0 && TAG_PATTERN.test(rest.slice(colon + 1))) return { dir: rest.slice(0, colon), ref: rest.slice(colon + 1) };
  if (rest === '') throw new UsageError(`invalid location "${location}": the OCI layout directory is missing`, { hint: 'write oci:DIR[:TAG]' });
  return { dir: rest };
}
