// The label and annotation edit of an export, as a view over the source store: the new
// configs and manifests live in memory, every layer still comes from the source. copyImage
// then moves it like any image: mounted within a registry, streamed across registries,
// with only the new config blobs and manifests written by Slipway itself.

import { Readable } from 'node:stream';
import {
  encodeDocument, encodeManifest, parseConfig, type Descriptor, type Repository, type ImageConfig, type ImageIndex, type ImageManifest, type ManifestDocument,
} from '../oci/index.js';
import type { BlobWriteResult, ImageStore } from '../store/image-store.js';

export interface ExportEdit {
  /** Applied to each image config's labels (remove service labels, add the user's). */
  labels: (labels: Record<string, string> | null | undefined) => Record<string, string> | undefined;
  /** Set on every image manifest, and on the index for a multi-platform image. */
  annotations: Readonly<Record<string, string>>;
  /** Applied to each image config's history entries (remove the builder's own comments). */
  history?: (entries: readonly unknown[]) => unknown[];
}

/** A read-only view of `base` with extra documents and blobs held in memory. */
class OverlayStore implements ImageStore {
  readonly name: string;
  readonly repository: Repository | undefined;

  constructor(
    private readonly base: ImageStore,
    private readonly manifests: ReadonlyMap<string, ManifestDocument>,
    private readonly blobs: ReadonlyMap<string, Uint8Array>,
  ) {
    this.name = base.name;
    this.repository = base.repository;
  }

  async resolve(target: string) {
    const doc = this.manifests.get(target);
    return doc ? { mediaType: doc.mediaType, digest: doc.digest, size: doc.bytes.length } : this.base.resolve(target);
  }

  async getManifest(target: string): Promise<ManifestDocument> {
    return this.manifests.get(target) ?? this.base.getManifest(target);
  }

  async hasBlob(digest: string): Promise<boolean> {
    return this.blobs.has(digest) || this.base.hasBlob(digest);
  }

  async readBlob(descriptor: Descriptor): Promise<Readable> {
    const bytes = this.blobs.get(descriptor.digest);
    return bytes ? Readable.from([Buffer.from(bytes)]) : this.base.readBlob(descriptor);
  }

  async readBlobBytes(descriptor: Descriptor): Promise<Uint8Array> {
    return this.blobs.get(descriptor.digest) ?? this.base.readBlobBytes(descriptor);
  }

  listTags(): Promise<string[]> {
    return this.base.listTags();
  }

  putManifest(): Promise<void> {
    return Promise.reject(new Error('an export view is read-only'));
  }

  deleteManifest(): Promise<void> {
    return Promise.reject(new Error('an export view is read-only'));
  }

  writeBlob(): Promise<BlobWriteResult> {
    return Promise.reject(new Error('an export view is read-only'));
  }

  async close(): Promise<void> {}
}

export interface RelabelledImage {
  /** A store to copy from: the source plus the edited documents. */
  store: ImageStore;
  /** Digest of the edited top manifest (or index). */
  digest: string;
  mediaType: string;
  /** Platforms of the image (one for a plain image). */
  children: number;
}

/** Edit `target` of `source` for export; nothing is written anywhere. */
export async function relabel(source: ImageStore, target: string, edit: ExportEdit): Promise<RelabelledImage> {
  const manifests = new Map<string, ManifestDocument>();
  const blobs = new Map<string, Uint8Array>();
  const top = await source.getManifest(target);

  async function editImage(doc: ManifestDocument & { kind: 'image' }): Promise<ManifestDocument> {
    const config = parseConfig(await source.readBlobBytes(doc.parsed.config), doc.parsed.config.mediaType);
    const parsed: ImageConfig = { ...config.parsed, config: { ...(config.parsed.config ?? {}) } };
    const labels = edit.labels(parsed.config!.Labels);
    if (labels === undefined) delete parsed.config!.Labels;
    else parsed.config!.Labels = labels;
    if (edit.history !== undefined && parsed.history !== undefined) parsed.history = edit.history(parsed.history);
    const newConfig = encodeDocument(parsed, config.mediaType);
    blobs.set(newConfig.digest, newConfig.bytes);
    const manifest: ImageManifest = {
      ...doc.parsed,
      config: { ...doc.parsed.config, digest: newConfig.digest, size: newConfig.bytes.length },
      ...withAnnotations(doc.parsed.annotations, edit.annotations),
    };
    const edited = encodeManifest(manifest, doc.mediaType);
    manifests.set(edited.digest, edited);
    return edited;
  }

  async function editAny(doc: ManifestDocument): Promise<ManifestDocument> {
    if (doc.kind === 'image') return editImage(doc);
    const children: Descriptor[] = [];
    for (const descriptor of doc.parsed.manifests) {
      const child = await editAny(await source.getManifest(descriptor.digest));
      // Platform, annotations and any other descriptor field are kept; only the pointer changes.
      children.push({ ...descriptor, mediaType: child.mediaType, digest: child.digest, size: child.bytes.length });
    }
    const index: ImageIndex = { ...doc.parsed, manifests: children, ...withAnnotations(doc.parsed.annotations, edit.annotations) };
    const edited = encodeManifest(index, doc.mediaType);
    manifests.set(edited.digest, edited);
    return edited;
  }

  const edited = await editAny(top);
  return {
    store: new OverlayStore(source, manifests, blobs),
    digest: edited.digest,
    mediaType: edited.mediaType,
    children: top.kind === 'index' ? top.parsed.manifests.length : 1,
  };
}

function withAnnotations(existing: Record<string, string> | undefined, added: Readonly<Record<string, string>>): { annotations?: Record<string, string> } {
  if (Object.keys(added).length === 0) return existing ? { annotations: existing } : {};
  return { annotations: { ...(existing ?? {}), ...added } };
}
