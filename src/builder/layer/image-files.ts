// The file tree of an image: its layers applied in order, as an extractor would.
//
// Layers are read bottom to top, each streamed from the store (verified), through gunzip
// when gzip, into a tree of paths. Whiteouts (`.wh.<name>`) and opaque directories
// (`.wh..wh..opq`) remove what the layers below put there, never what their own layer
// adds; a later entry replaces an earlier one, except that a directory over a directory
// keeps its children; an entry below a symlinked directory lands where the symlink leads.
// Hard links resolve to the file they point at, as it was when the link's layer was
// applied, and come out as plain files sharing its content.
//
// Only metadata is kept in memory. The content of the files the caller wants is spooled
// to temp files during the same pass; a wanted file whose content was not spooled (a hard
// link to a file that was not wanted) is fetched by reading its layer once more.

import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BuildError, InvalidInputError } from '../../errors.js';
import type { Descriptor } from '../../oci/index.js';
import type { ImageStore } from '../../store/image-store.js';
import { OPAQUE_MARKER, WHITEOUT_META_PREFIX, WHITEOUT_PREFIX, basename, dirname, joinPath, normalizeArchivePath, pathSortKey, resolveInside } from './paths.js';
import { spoolTo } from './spool.js';
import { readTar } from './tar-reader.js';
import type { LayerEntry } from './types.js';

/** Symlinks followed in one lookup before giving up, as Linux does (MAXSYMLINKS). */
/** readFilesFromImage reads whole files into memory: /etc/passwd, not a database. */
const DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024;

interface Content {
  layer: number;
  /** Position of the entry in its layer's tar: how a second pass finds it again. */
  ordinal: number;
  size: number;
  spool?: string;
  fetching?: Promise<void>;
}

interface Node {
  type: 'dir' | 'file' | 'symlink' | 'other';
  /** For 'other': what it is (fifo, character-device, ...). */
  rawType?: string;
  mode: number;
  uid: number;
  gid: number;
  /** Index of the layer that last wrote this node. */
  layer: number;
  linkTarget?: string;
  xattrs?: Record<string, Buffer>;
  content?: Content;
  children?: Map<string, Node>;
}

export interface ReadImageFilesOptions {
  /** Where file contents are spooled (in a new subdirectory removed by close()). Default: the OS temp dir. */
  tmpDir?: string;
}

export interface LookupOptions {
  /** Follow a symlink in the last component too (default true); symlinks in parent components are always followed. */
  followSymlinks?: boolean;
}

/** The union view of an image's layers. Keep the store open until close(). */
export interface ImageFiles {
  /**
   * Every path of the final image for which `wanted` returned true, sorted (parents first,
   * the order createLayer writes), hard links as files. Files can be opened until close().
   */
  readonly entries: readonly LayerEntry[];
  /**
   * Any path of the image, wanted or not, symlinks followed within the image root (an
   * absolute symlink target is relative to the image root). The entry's `path` is the
   * resolved one. A file that was not wanted is fetched from its layer when opened.
   */
  lookup(path: string, options?: LookupOptions): LayerEntry | undefined;
  /**
   * Where a write to `path` lands in the image, as BuildKit resolves a destination (continuity's
   * RootPath): symlinks followed within the image root (`..` and absolute targets clamped at the root),
   * the final component too when `followFinal`; a missing component and what follows it are taken as
   * written. Returns the resolved path and what is there.
   */
  resolveWrite(path: string, followFinal: boolean): { path: string; type: 'dir' | 'file' | 'symlink' | 'other' | undefined };
  /** Delete the spooled contents. */
  close(): Promise<void>;
}

function newDir(layer: number, mode = 0o755, uid = 0, gid = 0): Node {
  return { type: 'dir', mode, uid, gid, layer, children: new Map() };
}

/** True when `node`, written by a layer below `layer`, disappears entirely (its subtree kept only where `layer` wrote). */
function removeLower(node: Node, layer: number): boolean {
  if (node.type === 'dir') {
    purgeLower(node, layer);
    return node.layer < layer && node.children!.size === 0;
  }
  return node.layer < layer;
}

function purgeLower(dir: Node, layer: number): void {
  for (const [name, child] of dir.children!) if (removeLower(child, layer)) dir.children!.delete(name);
}

class ImageTree {
  readonly root: Node = newDir(-1);

  /** The directory at `path`, created (or made from a non-directory) as an extractor would: 0755 root:root. */
  ensureDir(path: string, layer: number): Node {
    let node = this.root;
    if (path === '') return node;
    for (const part of path.split('/')) {
      let child = node.children!.get(part);
      if (child === undefined || child.type !== 'dir') {
        child = newDir(layer);
        node.children!.set(part, child);
      }
      node = child;
    }
    return node;
  }

  /**
   * The directory an entry at `path` lands in. Like an extractor writing through the
   * filesystem, a symlink among the parents is followed (within the root); a missing
   * parent is created.
   */
  private parentOf(path: string, layer: number): Node {
    const dir = dirname(path);
    const resolved = dir === '' ? undefined : this.resolve(dir, true);
    if (resolved?.node.type === 'dir') return resolved.node;
    return this.ensureDir(dir, layer);
  }

  set(path: string, node: Node): void {
    const parent = this.parentOf(path, node.layer);
    const name = basename(path);
    const existing = parent.children!.get(name);
    if (existing?.type === 'dir' && node.type === 'dir') {
      existing.mode = node.mode;
      existing.uid = node.uid;
      existing.gid = node.gid;
      existing.layer = node.layer;
      existing.xattrs = node.xattrs;
      return;
    }
    parent.children!.set(name, node);
  }

  whiteout(path: string, layer: number): void {
    const parent = dirname(path) === '' ? this.root : this.resolve(dirname(path), true)?.node;
    const name = basename(path);
    const child = parent?.children?.get(name);
    if (child !== undefined && removeLower(child, layer)) parent!.children!.delete(name);
  }

  opaque(path: string, layer: number): void {
    const dir = this.resolve(path, true)?.node;
    if (dir?.type === 'dir') purgeLower(dir, layer);
    else this.ensureDir(path, layer);
  }

  /** See ImageFiles.resolveWrite. */
  resolveWrite(path: string, followFinal: boolean): { path: string; node: Node | undefined } {
    const resolved = this.resolvePath(path, followFinal);
    return { path: resolved, node: this.nodeAt(resolved) };
  }

  /** Resolve `path` following symlinks (within the root); undefined when a component is missing. */
  resolve(path: string, followFinal: boolean): { node: Node; path: string } | undefined {
    const resolved = this.resolvePath(path, followFinal);
    const node = this.nodeAt(resolved);
    return node === undefined ? undefined : { node, path: resolved };
  }

  private resolvePath(path: string, followFinal: boolean): string {
    return resolveInside(path, (candidate) => {
      const node = this.nodeAt(candidate);
      return node?.type === 'symlink' ? node.linkTarget ?? '' : undefined;
    }, { followFinal, tooMany: () => new BuildError(`cannot resolve "${path}" in the image: too many levels of symbolic links`) });
  }

  /** The node at a path whose components are no symlinks (as resolvePath gives them), or undefined. */
  private nodeAt(path: string): Node | undefined {
    let node: Node | undefined = this.root;
    for (const part of path === '' ? [] : path.split('/')) {
      if (node?.type !== 'dir') return undefined;
      node = node.children!.get(part);
    }
    return node;
  }
}

function describeLayer(layers: Descriptor[], index: number, store: ImageStore): string {
  return `layer ${index + 1}/${layers.length} (${layers[index]!.digest}) in ${store.name}`;
}

function checkLayerMediaType(descriptor: Descriptor, what: string): void {
  if (descriptor.mediaType.includes('zstd')) {
    throw new InvalidInputError(`${what} is zstd-compressed (${descriptor.mediaType}), which Slipway cannot read (Node 20 has no zstd)`, {
      hint: 'use a base image whose layers are gzip-compressed',
    });
  }
}

class ImageFilesImpl implements ImageFiles {
  entries: LayerEntry[] = [];
  private closed = false;

  constructor(
    private readonly store: ImageStore,
    private readonly layers: Descriptor[],
    private readonly tree: ImageTree,
    private readonly spoolDir: string,
  ) {}

  /** Read layers again to spool the given contents (grouped: one pass per layer). */
  async fetch(contents: Content[]): Promise<void> {
    const missing = contents.filter((c) => c.spool === undefined);
    const pending = missing.filter((c) => c.fetching !== undefined).map((c) => c.fetching!);
    const byLayer = new Map<number, Map<number, Content>>();
    for (const c of missing) {
      if (c.fetching !== undefined) continue;
      const wanted = byLayer.get(c.layer) ?? new Map<number, Content>();
      wanted.set(c.ordinal, c);
      byLayer.set(c.layer, wanted);
    }
    for (const [layer, wanted] of byLayer) {
      const pass = this.spoolFromLayer(layer, wanted);
      for (const c of wanted.values()) c.fetching = pass;
      pending.push(pass);
    }
    await Promise.all(pending);
  }

  private async spoolFromLayer(layer: number, wanted: Map<number, Content>): Promise<void> {
    if (this.closed) throw new BuildError('the image files were closed');
    const what = describeLayer(this.layers, layer, this.store);
    let ordinal = -1;
    try {
      for await (const record of readTar(await this.store.readBlob(this.layers[layer]!), what)) {
        ordinal++;
        const content = wanted.get(ordinal);
        if (content === undefined || content.spool !== undefined) continue;
        content.spool = await spoolContent(record.body, this.spoolDir, layer, ordinal);
        wanted.delete(ordinal);
        // No early exit: the layer is read to its end so that its digest is verified.
      }
    } finally {
      for (const c of wanted.values()) c.fetching = undefined;
    }
    if (wanted.size > 0) throw new BuildError(`${what} changed between two reads: an entry read before is missing`);
  }

  toEntry(path: string, node: Node): LayerEntry {
    const base = { path, mode: node.mode, uid: node.uid, gid: node.gid, ...(node.xattrs ? { xattrs: node.xattrs } : {}) };
    switch (node.type) {
      case 'dir':
        return { ...base, type: 'dir' };
      case 'symlink':
        return { ...base, type: 'symlink', linkTarget: node.linkTarget ?? '' };
      case 'file': {
        const content = node.content!;
        return { ...base, type: 'file', size: content.size, open: () => this.open(content) };
      }
      default:
        throw new BuildError(`"/${path}" in the image is a ${node.rawType ?? 'special file'}, which Slipway cannot copy`);
    }
  }

  private async open(content: Content): Promise<Readable> {
    if (this.closed) throw new BuildError('the image files were closed');
    if (content.spool === undefined) await this.fetch([content]);
    return createReadStream(content.spool!);
  }

  lookup(path: string, options: LookupOptions = {}): LayerEntry | undefined {
    const resolved = this.tree.resolve(path, options.followSymlinks ?? true);
    if (resolved === undefined || resolved.path === '') return undefined;
    return this.toEntry(resolved.path, resolved.node);
  }

  resolveWrite(path: string, followFinal: boolean): { path: string; type: Node['type'] | undefined } {
    const resolved = this.tree.resolveWrite(path, followFinal);
    return { path: resolved.path, type: resolved.node?.type };
  }

  async close(): Promise<void> {
    this.closed = true;
    await rm(this.spoolDir, { recursive: true, force: true });
  }
}

async function spoolContent(body: AsyncIterable<Uint8Array>, dir: string, layer: number, ordinal: number): Promise<string> {
  const path = join(dir, `${layer}-${ordinal}`);
  await spoolTo(body, path);
  return path;
}

/** Sorted children, in createLayer's order. */
function sortedChildren(node: Node): [string, Node][] {
  return [...node.children!].sort((a, b) => Buffer.compare(pathSortKey(a[0]), pathSortKey(b[0])));
}

/**
 * Apply `layers` (bottom first) and return the files of the resulting image for which
 * `wanted(path)` is true (path relative to the root, no leading '/'). `wanted` is asked
 * about every path of the image, so keep it cheap and pure.
 */
export async function readImageFiles(
  store: ImageStore,
  layers: Descriptor[],
  wanted: (path: string) => boolean,
  options: ReadImageFilesOptions = {},
): Promise<ImageFiles> {
  layers.forEach((layer, i) => checkLayerMediaType(layer, describeLayer(layers, i, store)));
  const spoolDir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'slipway-image-files-'));
  const tree = new ImageTree();
  const files = new ImageFilesImpl(store, layers, tree, spoolDir);
  try {
    for (let layer = 0; layer < layers.length; layer++) {
      const what = describeLayer(layers, layer, store);
      let ordinal = -1;
      for await (const record of readTar(await store.readBlob(layers[layer]!), what)) {
        ordinal++;
        const path = record.path;
        if (path === '') continue; // the root directory itself
        const name = basename(path);
        if (name === OPAQUE_MARKER) {
          tree.opaque(dirname(path), layer);
          continue;
        }
        if (name.startsWith(WHITEOUT_META_PREFIX)) continue;
        if (name.startsWith(WHITEOUT_PREFIX)) {
          tree.whiteout(joinPath(dirname(path), name.slice(WHITEOUT_PREFIX.length)), layer);
          continue;
        }
        const meta = { mode: record.mode, uid: record.uid, gid: record.gid, layer, ...(record.xattrs ? { xattrs: record.xattrs } : {}) };
        switch (record.type) {
          case 'dir':
            tree.set(path, { ...meta, type: 'dir', children: new Map() });
            break;
          case 'symlink':
            tree.set(path, { ...meta, type: 'symlink', linkTarget: record.linkTarget ?? '' });
            break;
          case 'file': {
            const content: Content = { layer, ordinal, size: record.size };
            if (wanted(path)) content.spool = await spoolContent(record.body, spoolDir, layer, ordinal);
            tree.set(path, { ...meta, type: 'file', content });
            break;
          }
          case 'hardlink': {
            const target = tree.resolve(record.linkTarget ?? '', false)?.node;
            if (target === undefined || (target.type !== 'file' && target.type !== 'symlink')) {
              if (wanted(path)) {
                throw new BuildError(`${what}: "/${path}" is a hard link to "/${record.linkTarget ?? ''}", which is ${target === undefined ? 'missing' : `a ${target.type}`}`);
              }
              break;
            }
            // The same inode: the target's metadata and content.
            const { children: _children, ...inode } = target;
            tree.set(path, { ...inode, layer });
            break;
          }
          default:
            tree.set(path, { ...meta, type: 'other', rawType: record.rawType });
        }
      }
    }

    const out: LayerEntry[] = [];
    const unspooled: Content[] = [];
    const walk = (node: Node, prefix: string): void => {
      for (const [name, child] of sortedChildren(node)) {
        const path = joinPath(prefix, name);
        if (wanted(path)) {
          out.push(files.toEntry(path, child));
          if (child.type === 'file' && child.content!.spool === undefined) unspooled.push(child.content!);
        }
        if (child.type === 'dir') walk(child, path);
      }
    };
    walk(tree.root, '');
    await files.fetch(unspooled);
    files.entries = out;
    return files;
  } catch (error) {
    await files.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Read small files (e.g. etc/passwd and etc/group) from an image in one pass over its
 * layers. Paths may start with '/'; symlinks are followed. A path that is absent, or not
 * a regular file after following symlinks, is missing from the result.
 */
export async function readFilesFromImage(
  store: ImageStore,
  layers: Descriptor[],
  paths: string[],
  options: ReadImageFilesOptions & { maxBytes?: number } = {},
): Promise<Map<string, Buffer>> {
  const normalized = paths.map((p) => normalizeArchivePath(p, 'path'));
  const set = new Set(normalized);
  const files = await readImageFiles(store, layers, (p) => set.has(p), options);
  try {
    const result = new Map<string, Buffer>();
    const max = options.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
    for (let i = 0; i < paths.length; i++) {
      const entry = files.lookup(normalized[i]!);
      if (entry?.type !== 'file') continue;
      if ((entry.size ?? 0) > max) {
        throw new BuildError(`"/${entry.path}" in the image has ${entry.size} bytes, more than the ${max} Slipway reads into memory`);
      }
      const stream = await entry.open!();
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      result.set(paths[i]!, Buffer.concat(chunks));
    }
    return result;
  } finally {
    await files.close();
  }
}

/** One small file of an image (see readFilesFromImage), or undefined when it has none. */
export async function readFileFromImage(
  store: ImageStore,
  layers: Descriptor[],
  path: string,
  options: ReadImageFilesOptions & { maxBytes?: number } = {},
): Promise<Buffer | undefined> {
  return (await readFilesFromImage(store, layers, [path], options)).get(path);
}

