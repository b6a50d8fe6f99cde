// An ImageStore over an OCI image layout directory (image-spec, image-layout.md):
//
//   DIR/oci-layout            {"imageLayoutVersion":"1.0.0"}
//   DIR/index.json            an OCI index; tagged entries carry org.opencontainers.image.ref.name
//   DIR/blobs/<alg>/<hex>     content-addressed blobs: manifests, configs, layers
//
// Every file is written to a temp file in its final directory, fsynced and renamed into
// place, so readers (this process, another one, skopeo, umoci) never see half a file.
// index.json is read-modify-written under a lock (file-lock.ts) so that concurrent writers,
// in this process or in others, never lose each other's entries. Reads take no lock: a
// rename replaces index.json atomically.

import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { link, mkdir, open, type FileHandle, readdir, readFile, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IntegrityError, InvalidInputError, NotFoundError, SlipwayError, describeError, systemErrorHint } from '../errors.js';
import {
  DigestingStream,
  MediaType,
  TAG_PATTERN,
  isDigest,
  isImageManifestMediaType,
  isIndexMediaType,
  parseDigest,
  parseManifest,
  verifyBytes,
  type Descriptor,
  type ImageIndex,
  type ManifestDocument,
  type Platform,
} from '../oci/index.js';
import { withFileLock, type FileLockOptions } from './file-lock.js';
import type { BlobSource, BlobWriteResult, ImageStore } from './image-store.js';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
const LAYOUT_VERSION = '1.0.0';
const LAYOUT_FILE = 'oci-layout';
const INDEX_FILE = 'index.json';
const LOCK_FILE = 'index.json.lock';
const BLOBS_DIR = 'blobs';
/** distribution refuses manifests above 4 MiB; a bigger "manifest" blob is a layer. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** readBlobBytes is for configs and manifests; anything bigger must be streamed. */
const MAX_IN_MEMORY_BYTES = 64 * 1024 * 1024;
/** Configs are read only to record a platform in index.json; a huge one is not worth it. */
const MAX_PLATFORM_CONFIG_BYTES = 1024 * 1024;
const DEFAULT_GC_MIN_AGE_MS = 60 * 60 * 1000;

/** The ref.name grammar of the image-spec annotations; plain docker tags are accepted too. */
const OCI_REF_NAME =
  /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;

const LAYOUT_HINT = 'point at a directory holding an OCI image layout (oci-layout, index.json, blobs/), e.g. one written by `skopeo copy ... oci:DIR:TAG`';

export interface OciLayoutOpenOptions {
  /** Create the layout (and the directory) when missing. An existing layout is used as it is. */
  create?: boolean;
  /** Tuning of the cross-process lock around index.json updates. */
  lock?: FileLockOptions;
  /** What messages call the store (default `oci:DIR`): an archive's work directory is named as the archive. */
  name?: string;
}

export interface GarbageCollectOptions {
  /**
   * Keep unreachable blobs younger than this (default 1 h): a copy writes its layers
   * before the manifest that makes them reachable, so a young blob may belong to a copy
   * still running in another process.
   */
  minAgeMs?: number;
}

export interface GarbageCollectResult {
  /** Digests of the blobs removed. */
  removed: string[];
  /** Bytes freed, temp files of crashed writers included. */
  freedBytes: number;
  /** Unreachable blobs kept because they are younger than the grace period (a running build may need them). */
  spared: { blobs: number; bytes: number; graceMs: number };
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

/** Our own errors pass through; filesystem errors get the action that failed, and what to do for the usual ones. */
export function wrapError(action: string, error: unknown): SlipwayError {
  if (error instanceof SlipwayError) return error;
  const hint = systemErrorHint(error);
  return new SlipwayError(`${action}: ${describeError(error)}`, { cause: error, ...(hint ? { hint } : {}) });
}


async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
    throw wrapError(`cannot stat ${path}`, error);
  }
}

function tempNameFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Best effort: make a rename durable. Some filesystems refuse fsync on directories. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // durability is a bonus here, correctness does not depend on it
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Write bytes to a temp file next to `target`, fsync, then rename (or link, to never replace) it into place. */
async function writeFileAtomic(target: string, bytes: Uint8Array, mode: 'replace' | 'create-only' = 'replace'): Promise<void> {
  const temp = tempNameFor(target);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (mode === 'replace') {
      await rename(temp, target);
    } else {
      try {
        await link(temp, target);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      await unlink(temp);
    }
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw wrapError(`cannot write ${target}`, error);
  }
  await syncDirectory(dirname(target));
}

/**
 * A Writable over a file handle that leaves the handle open, so it can be fsynced after
 * the last byte. (A handle's own createWriteStream with autoClose false never emits
 * 'close', and pipeline() would wait for it forever.)
 */
function writerTo(handle: FileHandle): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      handle.write(chunk).then(() => callback(), callback);
    },
    writev(chunks, callback) {
      handle.writev(chunks.map((c) => c.chunk as Buffer)).then(() => callback(), callback);
    },
  });
}

function refName(descriptor: Descriptor): string | undefined {
  return descriptor.annotations?.[REF_NAME_ANNOTATION];
}

function checkSize(descriptor: Descriptor): void {
  if (!Number.isSafeInteger(descriptor.size) || descriptor.size < 0) {
    throw new InvalidInputError(`descriptor of ${descriptor.digest} has an invalid size ${String(descriptor.size)}`);
  }
}

function validateTag(tag: string): void {
  if (isDigest(tag) || !(TAG_PATTERN.test(tag) || OCI_REF_NAME.test(tag))) {
    throw new InvalidInputError(`invalid tag "${tag}" for an OCI image layout`, {
      hint: 'a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, e.g. 1.0 or latest',
    });
  }
}

/** The descriptor as callers see it: ref.name is layout bookkeeping, not part of the image. */
function publicDescriptor(entry: Descriptor): Descriptor {
  const out: Descriptor = { ...entry };
  if (entry.annotations !== undefined && REF_NAME_ANNOTATION in entry.annotations) {
    const { [REF_NAME_ANNOTATION]: _ref, ...rest } = entry.annotations;
    if (Object.keys(rest).length > 0) out.annotations = rest;
    else delete out.annotations;
  }
  return out;
}

function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
}

export class OciLayoutStore implements ImageStore {
  readonly name: string;
  /** A layout is not a registry repository: nothing can be mounted from it. */
  readonly repository = undefined;
  private readonly lockPath: string;

  private constructor(
    /** Absolute path of the layout directory. */
    readonly dir: string,
    private readonly lockOptions: FileLockOptions,
    name?: string,
  ) {
    this.name = name ?? `oci:${dir}`;
    this.lockPath = join(dir, LOCK_FILE);
  }

  /** Open the layout at `dir`; with `create`, make it (and the directory) when missing. */
  static async open(dir: string, options: OciLayoutOpenOptions = {}): Promise<OciLayoutStore> {
    const root = resolvePath(dir);
    const st = await statOrUndefined(root);
    if (st !== undefined && !st.isDirectory()) {
      throw new InvalidInputError(`${root} is not a directory, so it cannot be an OCI image layout`, { hint: LAYOUT_HINT });
    }
    if (st === undefined && !options.create) {
      throw new NotFoundError(`no OCI image layout at ${root}: the directory does not exist`, { hint: LAYOUT_HINT });
    }
    const store = new OciLayoutStore(root, options.lock ?? {}, options.name);
    const layout = await store.readLayoutFile();
    if (layout === undefined) {
      if (!options.create) {
        throw new NotFoundError(`${root} is not an OCI image layout: it has no ${LAYOUT_FILE} file`, { hint: LAYOUT_HINT });
      }
      await store.initialize();
    } else {
      store.validateLayoutFile(layout);
      if (options.create) await store.initialize();
    }
    await store.readIndex(); // fail at open, not at first use, on a broken index.json
    return store;
  }

  private async readLayoutFile(): Promise<Uint8Array | undefined> {
    const path = join(this.dir, LAYOUT_FILE);
    try {
      return await readFile(path);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw wrapError(`cannot read ${path}`, error);
    }
  }

  private validateLayoutFile(bytes: Uint8Array): void {
    const path = join(this.dir, LAYOUT_FILE);
    let version: unknown;
    try {
      version = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
    } catch (error) {
      throw new InvalidInputError(`${path} is not valid JSON: ${describeError(error)}`, { cause: error, hint: LAYOUT_HINT });
    }
    // 1.x stays compatible by the spec's versioning; anything else we cannot read safely.
    if (typeof version !== 'string' || !/^1\.\d+\.\d+$/.test(version)) {
      throw new InvalidInputError(`${path} declares imageLayoutVersion ${JSON.stringify(version)}; only 1.x layouts are supported`, {
        hint: LAYOUT_HINT,
      });
    }
  }

  /**
   * Create what is missing, the oci-layout marker last, so that a crash half-way leaves
   * no directory that claims to be a layout. Idempotent and safe to run in several
   * processes at once (index.json is created without ever replacing one).
   */
  private async initialize(): Promise<void> {
    if ((await this.readLayoutFile()) === undefined) {
      const entries = await readdir(this.dir).catch(() => [] as string[]);
      const known = new Set([LAYOUT_FILE, INDEX_FILE, LOCK_FILE, BLOBS_DIR]);
      const foreign = entries.filter((e) => !known.has(e) && !e.startsWith('.'));
      if (foreign.length > 0) {
        throw new InvalidInputError(
          `${this.dir} is not empty and not an OCI image layout (it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''})`,
          { hint: 'choose a new or empty directory for the layout' },
        );
      }
    }
    try {
      await mkdir(join(this.dir, BLOBS_DIR, 'sha256'), { recursive: true });
    } catch (error) {
      throw wrapError(`cannot create the OCI image layout ${this.dir}`, error);
    }
    if ((await statOrUndefined(join(this.dir, INDEX_FILE))) === undefined) {
      await writeFileAtomic(join(this.dir, INDEX_FILE), Buffer.from(JSON.stringify(emptyIndex())), 'create-only');
    }
    if ((await this.readLayoutFile()) === undefined) {
      await writeFileAtomic(join(this.dir, LAYOUT_FILE), Buffer.from(JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION })));
    }
  }

  private blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.dir, BLOBS_DIR, algorithm, hex);
  }

  private async readIndex(): Promise<ImageIndex> {
    const path = join(this.dir, INDEX_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') {
        throw new InvalidInputError(`the OCI image layout ${this.dir} has no ${INDEX_FILE}`, { hint: LAYOUT_HINT });
      }
      throw wrapError(`cannot read ${path}`, error);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new InvalidInputError(`${path} is not valid JSON: ${describeError(error)}`, { cause: error });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidInputError(`${path} is not a JSON object`);
    const index = value as Record<string, unknown>;
    if (index.schemaVersion !== 2 || !Array.isArray(index.manifests)) {
      throw new InvalidInputError(`${path} is not an OCI index (schemaVersion 2 with "manifests")`);
    }
    index.manifests.forEach((entry: unknown, i: number) => {
      const e = entry as Partial<Descriptor> | null;
      if (typeof e !== 'object' || e === null || typeof e.mediaType !== 'string' || typeof e.digest !== 'string' || typeof e.size !== 'number') {
        throw new InvalidInputError(`${path}: manifests[${i}] is not a descriptor with mediaType, digest and size`);
      }
    });
    return index as unknown as ImageIndex;
  }

  private async writeIndex(index: ImageIndex): Promise<void> {
    await writeFileAtomic(join(this.dir, INDEX_FILE), Buffer.from(JSON.stringify(index)));
  }

  /** Read-modify-write index.json under the lock; `mutate` returns false when nothing changed. */
  private async updateIndex(mutate: (index: ImageIndex) => boolean | Promise<boolean>): Promise<void> {
    await withFileLock(
      this.lockPath,
      async () => {
        const index = await this.readIndex();
        if (await mutate(index)) await this.writeIndex(index);
      },
      this.lockOptions,
    );
  }

  async resolve(target: string): Promise<Descriptor | undefined> {
    const { manifests } = await this.readIndex();
    if (isDigest(target)) {
      const entry = manifests.find((d) => d.digest === target);
      if (entry !== undefined) return publicDescriptor(entry);
      return this.describeManifestBlob(target);
    }
    const entry = manifests.find((d) => refName(d) === target);
    return entry === undefined ? undefined : publicDescriptor(entry);
  }

  /** A manifest kept only as a blob (untagged and not in index.json): learn what it is by reading it. */
  private async describeManifestBlob(digest: string): Promise<Descriptor | undefined> {
    const st = await statOrUndefined(this.blobPath(digest));
    if (st === undefined || !st.isFile() || st.size > MAX_MANIFEST_BYTES) return undefined;
    const bytes = await this.readVerified({ mediaType: MediaType.OciManifest, digest, size: st.size }, `blob ${digest}`);
    try {
      const doc = parseManifest(bytes, undefined, `blob ${digest} in ${this.name}`);
      return { mediaType: doc.mediaType, digest, size: bytes.length };
    } catch (error) {
      if (error instanceof InvalidInputError) return undefined; // a config or other JSON, not a manifest
      throw error;
    }
  }

  async getManifest(target: string): Promise<ManifestDocument> {
    const descriptor = await this.resolve(target);
    if (descriptor === undefined) throw new NotFoundError(`manifest ${target} not found in ${this.name}`);
    const what = `manifest ${descriptor.digest} in ${this.name}`;
    const bytes = await this.readVerified(descriptor, what);
    return parseManifest(bytes, descriptor.mediaType, what);
  }

  async putManifest(manifest: ManifestDocument, tag?: string): Promise<void> {
    if (tag !== undefined) validateTag(tag);
    verifyBytes(manifest.bytes, manifest.digest, `manifest ${manifest.digest}`);
    const entry = await this.indexEntryFor(manifest);
    const path = this.blobPath(manifest.digest);
    await this.writeBlobBytes(path, manifest.bytes);
    await this.updateIndex(async (index) => {
      // A concurrent deleteManifest may have removed the blob since: never index a missing one.
      await this.writeBlobBytes(path, manifest.bytes);
      const before = JSON.stringify(index.manifests);
      if (tag === undefined) {
        if (!index.manifests.some((d) => d.digest === entry.digest)) index.manifests.push(entry);
      } else {
        const tagged: Descriptor = { ...entry, annotations: { [REF_NAME_ANNOTATION]: tag } };
        const next: Descriptor[] = [];
        let placed = false;
        for (const d of index.manifests) {
          const name = refName(d);
          if (name === tag) {
            if (!placed) next.push(tagged); // replaced where it stood, duplicates dropped
            placed = true;
          } else if (!(name === undefined && d.digest === entry.digest)) {
            next.push(d); // an untagged entry of the same digest is dropped: the tag now keeps it
          }
        }
        if (!placed) next.push(tagged);
        index.manifests = next;
      }
      return JSON.stringify(index.manifests) !== before;
    });
  }

  /** The index.json descriptor of a manifest, with the platform when its config is here and small. */
  private async indexEntryFor(manifest: ManifestDocument): Promise<Descriptor> {
    const entry: Descriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length };
    if (typeof manifest.parsed.artifactType === 'string') entry.artifactType = manifest.parsed.artifactType;
    if (manifest.kind === 'image') {
      const platform = await this.platformOf(manifest.parsed.config);
      if (platform !== undefined) entry.platform = platform;
    }
    return entry;
  }

  private async platformOf(config: Descriptor): Promise<Platform | undefined> {
    if (config.mediaType !== MediaType.OciConfig && config.mediaType !== MediaType.DockerConfig) return undefined;
    if (typeof config.size !== 'number' || config.size > MAX_PLATFORM_CONFIG_BYTES) return undefined;
    try {
      const parsed: unknown = JSON.parse(Buffer.from(await this.readVerified(config, `config ${config.digest}`)).toString('utf8'));
      const c = parsed as { os?: unknown; architecture?: unknown; variant?: unknown };
      if (typeof c.os !== 'string' || typeof c.architecture !== 'string') return undefined;
      const platform: Platform = { architecture: c.architecture, os: c.os };
      if (typeof c.variant === 'string' && c.variant !== '') platform.variant = c.variant;
      return platform;
    } catch {
      return undefined; // the platform is optional; a missing or bad config shows up when it is read
    }
  }

  /**
   * Remove every index.json entry with this digest and the manifest blob. Layers and
   * configs stay: there is no reference counting, see garbageCollect().
   */
  async deleteManifest(digest: string): Promise<void> {
    const path = this.blobPath(digest);
    await this.updateIndex(async (index) => {
      const kept = index.manifests.filter((d) => d.digest !== digest);
      const removed = kept.length !== index.manifests.length;
      // Not indexed: delete the blob only if it is a manifest, never a layer or a config.
      if (!removed && (await this.describeManifestBlob(digest)) === undefined) {
        throw new NotFoundError(`manifest ${digest} not found in ${this.name}`);
      }
      // Unlinked under the lock so a concurrent putManifest of the same digest re-writes it.
      let unlinked = false;
      try {
        await unlink(path);
        unlinked = true;
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw wrapError(`cannot delete ${path}`, error);
      }
      if (!removed && !unlinked) throw new NotFoundError(`manifest ${digest} not found in ${this.name}`);
      index.manifests = kept;
      return removed;
    });
  }

  async listTags(): Promise<string[]> {
    const { manifests } = await this.readIndex();
    const tags = new Set<string>();
    for (const d of manifests) {
      const name = refName(d);
      if (name !== undefined) tags.add(name);
    }
    return [...tags].sort();
  }

  async hasBlob(digest: string): Promise<boolean> {
    const st = await statOrUndefined(this.blobPath(digest));
    return st?.isFile() ?? false;
  }

  async readBlob(descriptor: Descriptor): Promise<Readable> {
    checkSize(descriptor);
    const path = this.blobPath(descriptor.digest);
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw new NotFoundError(`blob ${descriptor.digest} not found in ${this.name}`);
      throw wrapError(`cannot open ${path}`, error);
    }
    const file = handle.createReadStream();
    const verified = new DigestingStream({ digest: descriptor.digest, size: descriptor.size, what: `blob ${descriptor.digest} in ${this.name}` });
    // Errors travel downstream to the consumer; a consumer that stops early closes the file.
    file.on('error', (error) => verified.destroy(wrapError(`cannot read ${path}`, error)));
    verified.on('close', () => file.destroy());
    file.pipe(verified);
    return verified;
  }

  async readBlobBytes(descriptor: Descriptor): Promise<Uint8Array> {
    return this.readVerified(descriptor, `blob ${descriptor.digest} in ${this.name}`);
  }

  /** Read a small blob whole, checking size first (cheap) and then the digest. */
  private async readVerified(descriptor: Descriptor, what: string): Promise<Uint8Array> {
    checkSize(descriptor);
    if (descriptor.size > MAX_IN_MEMORY_BYTES) {
      throw new InvalidInputError(`${what} has ${descriptor.size} bytes, too many to read into memory; stream it with readBlob`);
    }
    const path = this.blobPath(descriptor.digest);
    let bytes: Buffer;
    try {
      const st = await stat(path);
      if (st.size !== descriptor.size) {
        throw new IntegrityError(`${what}: size mismatch, expected ${descriptor.size} bytes but ${path} has ${st.size}`);
      }
      bytes = await readFile(path);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw new NotFoundError(`${what} not found (no ${path})`);
      throw wrapError(`cannot read ${path}`, error);
    }
    verifyBytes(bytes, descriptor.digest, what);
    return bytes;
  }

  /** Write a small verified blob unless a file of the right size is already there. */
  private async writeBlobBytes(path: string, bytes: Uint8Array): Promise<void> {
    const st = await statOrUndefined(path);
    if (st?.isFile() && st.size === bytes.length) return;
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, bytes);
  }

  async writeBlob(source: BlobSource): Promise<BlobWriteResult> {
    const descriptor = source.descriptor;
    checkSize(descriptor);
    const target = this.blobPath(descriptor.digest);
    const existing = await statOrUndefined(target);
    if (existing?.isFile() && existing.size === descriptor.size) {
      // Freshen it: garbageCollect spares young blobs, and a copy in progress relies on this one.
      const now = new Date();
      await utimes(target, now, now).catch(() => undefined);
      return 'present';
    }
    const what = `blob ${descriptor.digest} for ${this.name}`;
    let input: Readable;
    try {
      input = await source.open();
    } catch (error) {
      throw wrapError(`cannot open the source of ${what}`, error);
    }
    const temp = tempNameFor(target);
    try {
      await mkdir(dirname(target), { recursive: true });
      const handle = await open(temp, 'wx');
      try {
        await pipeline(input, new DigestingStream({ digest: descriptor.digest, size: descriptor.size, what }), writerTo(handle));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
    } catch (error) {
      input.destroy();
      await rm(temp, { force: true }).catch(() => undefined);
      throw wrapError(`cannot write ${what}`, error);
    }
    await syncDirectory(dirname(target));
    return 'uploaded';
  }

  /**
   * Delete blobs that nothing in index.json reaches (through indexes, manifests, configs,
   * layers and subjects), and temp files left by crashed writers. Runs under the index lock,
   * so no manifest lands meanwhile; blobs younger than `minAgeMs` are kept for copies still
   * writing their layers. A manifest that cannot be read stops the collection: guessing what
   * it referenced could delete live layers.
   */
  async garbageCollect(options: GarbageCollectOptions = {}): Promise<GarbageCollectResult> {
    const minAgeMs = options.minAgeMs ?? DEFAULT_GC_MIN_AGE_MS;
    const result: GarbageCollectResult = { removed: [], freedBytes: 0, spared: { blobs: 0, bytes: 0, graceMs: minAgeMs } };
    await withFileLock(
      this.lockPath,
      async () => {
        const reachable = await this.markReachable((await this.readIndex()).manifests);
        const cutoff = Date.now() - minAgeMs;
        const blobsRoot = join(this.dir, BLOBS_DIR);
        const algorithms = await readdir(blobsRoot).catch(() => [] as string[]);
        for (const algorithm of algorithms) {
          const names = await readdir(join(blobsRoot, algorithm)).catch(() => [] as string[]);
          for (const name of names) {
            const path = join(blobsRoot, algorithm, name);
            const digest = `${algorithm}:${name}`;
            const isTemp = name.startsWith('.');
            if (!isTemp && reachable.has(digest)) continue;
            const st = await statOrUndefined(path);
            if (st === undefined || !st.isFile()) continue;
            if (st.mtimeMs > cutoff) {
              if (!isTemp) {
                result.spared.blobs++;
                result.spared.bytes += st.size;
              }
              continue;
            }
            try {
              await unlink(path);
            } catch (error) {
              if (errorCode(error) === 'ENOENT') continue;
              throw wrapError(`cannot delete ${path}`, error);
            }
            result.freedBytes += st.size;
            if (!isTemp) result.removed.push(digest);
          }
        }
      },
      this.lockOptions,
    );
    return result;
  }

  private async markReachable(roots: Descriptor[]): Promise<Set<string>> {
    const reachable = new Set<string>();
    const pending = [...roots];
    for (let d = pending.pop(); d !== undefined; d = pending.pop()) {
      if (reachable.has(d.digest)) continue;
      reachable.add(d.digest);
      if (!isIndexMediaType(d.mediaType) && !isImageManifestMediaType(d.mediaType)) continue;
      if (!(await this.hasBlob(d.digest))) continue; // referenced but absent (e.g. other platforms of an index)
      const what = `manifest ${d.digest} in ${this.name}`;
      const doc = parseManifest(await this.readVerified(d, what), d.mediaType, what);
      if (doc.kind === 'index') pending.push(...doc.parsed.manifests);
      else pending.push(doc.parsed.config, ...doc.parsed.layers);
      if (doc.parsed.subject !== undefined) pending.push(doc.parsed.subject);
    }
    return reachable;
  }

  /** Nothing to release: every operation opens and closes its own files. */
  async close(): Promise<void> {}
}
