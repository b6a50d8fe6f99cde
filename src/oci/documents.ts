// Manifests, indexes and configs, held as the exact bytes that were read or will be
// written plus a parsed view. The parsed view is the whole JSON object, so an edit
// that re-serialises it keeps every field Slipway does not know about.

import { InvalidInputError } from '../errors.js';
import { digestOf } from './digest.js';
import { MediaType, isImageManifestMediaType, isIndexMediaType } from './media-types.js';
import type { Platform } from './platform.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
  [unknown: string]: unknown;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
  [unknown: string]: unknown;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
  [unknown: string]: unknown;
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: {
    Labels?: Record<string, string> | null;
    Env?: string[] | null;
    [unknown: string]: unknown;
  };
  rootfs?: { type: string; diff_ids: string[] };
  history?: unknown[];
  [unknown: string]: unknown;
}

/** A JSON document as stored: exact bytes, their digest, media type and the parsed object. */
export interface Document<T> {
  readonly bytes: Uint8Array;
  readonly digest: string;
  readonly mediaType: string;
  readonly parsed: T;
}

export type ManifestDocument =
  | (Document<ImageManifest> & { readonly kind: 'image' })
  | (Document<ImageIndex> & { readonly kind: 'index' });

function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new InvalidInputError(`${what} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidInputError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Parse manifest bytes. The media type comes from the document itself, else from the
 * Content-Type the registry sent, else from its shape (Docker's schema 2 documents
 * always carry `mediaType`; OCI ones may omit it).
 */
export function parseManifest(bytes: Uint8Array, contentType?: string, what = 'manifest'): ManifestDocument {
  const parsed = parseJsonObject(bytes, what);
  const declared = typeof parsed.mediaType === 'string' ? parsed.mediaType : undefined;
  const header = contentType?.split(';')[0]?.trim();
  let mediaType = declared ?? (header && (isIndexMediaType(header) || isImageManifestMediaType(header)) ? header : undefined);
  if (mediaType === undefined) {
    if (Array.isArray(parsed.manifests)) mediaType = MediaType.OciIndex;
    else if (parsed.config !== undefined && Array.isArray(parsed.layers)) mediaType = MediaType.OciManifest;
  }
  if (parsed.schemaVersion !== 2) {
    throw new InvalidInputError(`${what}: schemaVersion ${String(parsed.schemaVersion)} is not supported (only schema 2 manifests are)`);
  }
  const digest = digestOf(bytes);
  if (mediaType !== undefined && isIndexMediaType(mediaType)) {
    if (!Array.isArray(parsed.manifests)) throw new InvalidInputError(`${what}: an index without "manifests"`);
    return { kind: 'index', bytes, digest, mediaType, parsed: parsed as unknown as ImageIndex };
  }
  if (mediaType !== undefined && isImageManifestMediaType(mediaType)) {
    if (typeof parsed.config !== 'object' || !Array.isArray(parsed.layers)) {
      throw new InvalidInputError(`${what}: an image manifest without "config" and "layers"`);
    }
    return { kind: 'image', bytes, digest, mediaType, parsed: parsed as unknown as ImageManifest };
  }
  throw new InvalidInputError(`${what}: unsupported media type ${mediaType ?? '(none)'}`);
}

export function parseConfig(bytes: Uint8Array, mediaType: string = MediaType.OciConfig, what = 'image config'): Document<ImageConfig> {
  const parsed = parseJsonObject(bytes, what) as ImageConfig;
  return { bytes, digest: digestOf(bytes), mediaType, parsed };
}

/** Serialise an edited object once; the digest is over exactly these bytes. */
export function encodeDocument<T>(parsed: T, mediaType: string): Document<T> {
  const bytes = Buffer.from(JSON.stringify(parsed), 'utf8');
  return { bytes, digest: digestOf(bytes), mediaType, parsed };
}

export function encodeManifest(parsed: ImageManifest | ImageIndex, mediaType: string): ManifestDocument {
  return parseManifest(Buffer.from(JSON.stringify(parsed), 'utf8'), mediaType);
}

/** The descriptor that points at a document. */
export function descriptorOf(doc: Document<unknown>, extra: Partial<Descriptor> = {}): Descriptor {
  return { ...extra, mediaType: doc.mediaType, digest: doc.digest, size: doc.bytes.length };
}

/** Every blob an image manifest references: config first, then layers. */
export function blobsOf(manifest: ImageManifest): Descriptor[] {
  return [manifest.config, ...manifest.layers];
}
