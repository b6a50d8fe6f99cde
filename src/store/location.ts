// Where an image is, as the command line names it (skopeo's transports): `[docker://]REGISTRY/REPOSITORY[:TAG|@DIGEST]`
// for a registry, `oci:DIR[:TAG|@DIGEST]` for an OCI image layout, `oci-archive:FILE[:TAG|@DIGEST]` for one packed
// in a tar file. One grammar and one type for every use: copy's source and destination, export's destinations,
// a build report's images. Parsing is pure; openLocation() turns a location into a store.
//
// As in an image reference, a tag follows the last ':' only when that comes after the last '/': a directory may
// hold ':' (`oci:/data/v1:2/layout` is the directory `/data/v1:2/layout`).

import { resolve as resolvePath } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { TAG_PATTERN, formatReference, isDigest, parseReference, type Reference } from '../oci/index.js';
import type { RegistryClient } from '../registry/client.js';
import type { ImageStore } from './image-store.js';
import { OciArchiveStore } from './oci-archive-store.js';
import { OciLayoutStore } from './oci-layout-store.js';
import { RegistryStore } from './registry-store.js';

export type LocalKind = 'oci' | 'oci-archive';

export type Location =
  /** The reference normalised (`docker.io` → `index.docker.io`, `library/` for official images). */
  | { kind: 'registry'; reference: Reference }
  | { kind: LocalKind; path: string; tag?: string; digest?: string };

const LOCAL_KINDS: readonly LocalKind[] = ['oci-archive', 'oci'];

export type ParsedLocation = { ok: true; location: Location } | { ok: false; detail: string; error: InvalidInputError };

function failed(text: string, detail: string): ParsedLocation {
  return { ok: false, detail, error: new InvalidInputError(`invalid location "${text}": ${detail}`) };
}

/** Parse a location; a failure says what is wrong (`detail`) and carries the error to throw. */
export function tryParseLocation(text: string): ParsedLocation {
  for (const kind of LOCAL_KINDS) {
    if (!text.startsWith(`${kind}:`)) continue;
    const rest = text.slice(kind.length + 1);
    const usage = `write ${kind}:${kind === 'oci' ? 'DIR' : 'FILE'}[:TAG]`;
    const at = rest.lastIndexOf('@');
    if (at >= 0 && isDigest(rest.slice(at + 1))) {
      if (at === 0) return failed(text, usage);
      return { ok: true, location: { kind, path: rest.slice(0, at), digest: rest.slice(at + 1) } };
    }
    const colon = rest.lastIndexOf(':');
    const hasTag = colon >= 0 && colon > rest.lastIndexOf('/');
    const path = hasTag ? rest.slice(0, colon) : rest;
    if (path === '') return failed(text, usage);
    if (!hasTag) return { ok: true, location: { kind, path } };
    const tag = rest.slice(colon + 1);
    if (!TAG_PATTERN.test(tag)) return failed(text, `tag "${tag}" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
    return { ok: true, location: { kind, path, tag } };
  }
  const name = text.startsWith('docker://') ? text.slice('docker://'.length) : text;
  try {
    return { ok: true, location: { kind: 'registry', reference: parseReference(name) } };
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    // parseReference's own message: `invalid image reference "NAME": DETAIL`.
    const prefix = `invalid image reference "${name}": `;
    return { ok: false, detail: error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message, error };
  }
}

/** Parse a location. Throws InvalidInputError naming it. */
export function parseLocation(text: string): Location {
  const parsed = tryParseLocation(text);
  if (!parsed.ok) throw parsed.error;
  return parsed.location;
}

/** The tag a location names, if any. */
export function tagOf(location: Location): string | undefined {
  return location.kind === 'registry' ? location.reference.tag : location.tag;
}

/** The digest a location names, if any. */
export function digestOf(location: Location): string | undefined {
  return location.kind === 'registry' ? location.reference.digest : location.digest;
}

/** The same location with another tag (and no digest). */
export function withTag(location: Location, tag: string): Location {
  if (location.kind === 'registry') return { kind: 'registry', reference: { registry: location.reference.registry, repository: location.reference.repository, tag } };
  return { kind: location.kind, path: location.path, tag };
}

/** The location in one canonical spelling: `registry/repository[:tag][@digest]`, `oci:DIR[:TAG|@DIGEST]`. */
export function formatLocation(location: Location): string {
  if (location.kind === 'registry') return formatReference(location.reference);
  return `${location.kind}:${location.path}${location.tag !== undefined ? `:${location.tag}` : ''}${location.digest !== undefined ? `@${location.digest}` : ''}`;
}

/** What identifies the store of a location (not its tag): locations with the same key share one store. */
export function storeKeyOf(location: Location): string {
  if (location.kind === 'registry') return `${location.reference.registry}/${location.reference.repository}`;
  return `${location.kind}:${resolvePath(location.path)}`;
}

export interface ImageLocation {
  store: ImageStore;
  /** What to read: a digest, else the tag, else `latest`. */
  target: string;
  /** The tag named in the location (`latest` when it names neither tag nor digest): what a copy writes at a destination. */
  tag?: string;
}

export interface OpenLocationOptions {
  client: RegistryClient;
  /** Create a missing OCI layout or archive (for destinations). */
  create?: boolean;
}

/** The store of a location, and what in it the location names. */
export async function openLocation(location: Location | string, options: OpenLocationOptions): Promise<ImageLocation> {
  const parsed = typeof location === 'string' ? parseLocation(location) : location;
  const store = await openStore(parsed, options);
  const digest = digestOf(parsed);
  const tag = tagOf(parsed);
  if (tag === undefined && digest !== undefined) return { store, target: digest };
  return { store, target: digest ?? tag ?? 'latest', tag: tag ?? 'latest' };
}

async function openStore(location: Location, options: OpenLocationOptions): Promise<ImageStore> {
  switch (location.kind) {
    case 'registry':
      return new RegistryStore(options.client, { registry: location.reference.registry, repository: location.reference.repository });
    case 'oci':
      return OciLayoutStore.open(resolvePath(location.path), { create: options.create ?? false });
    case 'oci-archive':
      return OciArchiveStore.open(resolvePath(location.path), { create: options.create ?? false });
  }
}
