// createLayer: a reproducible layer blob from a list of entries, streamed to a temp file.
//
//   entries ─► validate, resolve hard links, add parents, sort ─► tar ─┬─► sha256 (diffId)
//                                                                      └─► parallel gzip ─► sha256 (digest) ─► temp file
//
// Reproducible: the same entries, in any order, give the same bytes. Entries are sorted
// component by component (Go's filepath.Walk order, as docker and buildkit write them);
// every mtime is 0 (1970-01-01T00:00:00Z, LAYER_MTIME); uid and gid are numeric with
// empty uname/gname; no atime/ctime; PAX headers only where USTAR cannot hold an entry
// (tar-header.ts). The compressed bytes also depend on the gzip level and block size
// (fixed defaults) and on the zlib bundled with Node (process.versions.zlib).
//
// Nothing is held in memory: each file's content streams from its `open()` through the
// tar encoder and the compressor into the file. A file whose source yields more or fewer
// bytes than its `size` fails the whole layer, and the temp file is removed.

import { createReadStream, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { BuildError, IntegrityError, InvalidInputError, SlipwayError } from '../../errors.js';
import { MediaType } from '../../oci/index.js';
import { HashingFileWriter } from './blob-file.js';
import { ParallelGzipWriter } from './parallel-gzip.js';
import { OPAQUE_MARKER, WHITEOUT_PREFIX, ancestors, basename, dirname, joinPath, pathProblem, pathSortKey } from './paths.js';
import {
  BLOCK,
  TAR_TRAILER,
  TYPE_DIR,
  TYPE_FIFO,
  TYPE_FILE,
  TYPE_HARDLINK,
  TYPE_SYMLINK,
  encodeTarHeader,
  padding,
  type TarTypeflag,
} from './tar-header.js';
import type { BuiltLayer, LayerEntry } from './types.js';

/** The mtime of every entry of every layer Slipway writes: the Unix epoch. */
export const LAYER_MTIME = 0;
/** Mode of the parent directories createLayer adds: root-owned 0755, what extractors create for a missing parent. */
export const IMPLICIT_DIR_MODE = 0o755;

export interface CreateLayerOptions {
  /** Where the blob (and spooled sources without a `size`) are written. Created when missing. */
  tmpDir: string;
  /** Default 'gzip' (application/vnd.oci.image.layer.v1.tar+gzip); 'none' writes a plain tar. */
  compression?: 'gzip' | 'none';
  /** Blocks of this layer compressed at once (default: one per core, see deflate-pool.ts). */
  concurrency?: number;
  /**
   * 'add' (default): a parent directory that no entry gives is written as a 0755 root:root
   * directory. Over a base image that resets the base's directory: pass the base's
   * directories (with their mode and owner) as entries to keep them.
   * 'omit': leave missing parents out (extractors create them, and keep existing ones).
   */
  parentDirs?: 'add' | 'omit';
  /** Two entries for one path: 'error' (default), or 'last-wins' (the later one in input order). */
  duplicates?: 'error' | 'last-wins';
  /** Gzip tuning; both values are part of the blob's identity, so keep the defaults. */
  gzip?: { level?: number; blockSize?: number };
}

interface Planned {
  name: string;
  key: Buffer;
  typeflag: TarTypeflag;
  mode: number;
  uid: number;
  gid: number;
  size: number | undefined;
  linkname: string;
  open: (() => Promise<Readable>) | undefined;
  localFile: string | undefined;
  xattrs: Record<string, Buffer> | undefined;
  /** The entry's path as the caller gave it, for messages. */
  path: string;
}

const MAX_ID = 2 ** 53 - 1;

function invalid(entry: { path: string }, problem: string): InvalidInputError {
  return new InvalidInputError(`layer entry "${entry.path}": ${problem}`);
}

function validate(entry: LayerEntry): void {
  const problem = pathProblem(entry.path);
  if (problem !== undefined) throw invalid(entry, `not a valid image path: ${problem}`);
  const types = ['file', 'dir', 'symlink', 'hardlink', 'fifo', 'whiteout', 'opaque'];
  if (!types.includes(entry.type)) throw invalid(entry, `unknown type "${String(entry.type)}"`);
  if (basename(entry.path).startsWith(WHITEOUT_PREFIX)) {
    throw invalid(entry, `names starting with "${WHITEOUT_PREFIX}" are reserved for whiteouts; use type 'whiteout' or 'opaque' instead`);
  }
  if (entry.type === 'whiteout' || entry.type === 'opaque') return;
  if (!Number.isInteger(entry.mode) || entry.mode < 0 || entry.mode > 0o7777) {
    throw invalid(entry, `mode ${String(entry.mode)} is not permission bits (0 to 0o7777)`);
  }
  for (const [name, id] of [['uid', entry.uid], ['gid', entry.gid]] as const) {
    if (!Number.isInteger(id) || id < 0 || id > MAX_ID) throw invalid(entry, `${name} ${String(id)} is not a non-negative integer`);
  }
  if (entry.type === 'file') {
    if (entry.size !== undefined && (!Number.isInteger(entry.size) || entry.size < 0 || entry.size > MAX_ID)) {
      throw invalid(entry, `size ${String(entry.size)} is not a non-negative integer`);
    }
    if (entry.open === undefined && entry.size !== undefined && entry.size !== 0) {
      throw invalid(entry, `a file of ${entry.size} bytes needs open()`);
    }
  }
  if (entry.type === 'symlink' && (entry.linkTarget === undefined || entry.linkTarget === '' || entry.linkTarget.includes('\0'))) {
    throw invalid(entry, 'a symlink needs a non-empty linkTarget without NUL characters');
  }
  if (entry.type === 'hardlink') {
    const target = entry.linkTarget ?? '';
    const targetProblem = pathProblem(target);
    if (targetProblem !== undefined) throw invalid(entry, `hard link target "${target}" is not a valid image path: ${targetProblem}`);
    if (target === entry.path) throw invalid(entry, 'a hard link cannot point at itself');
  }
}

function plannedOf(entry: LayerEntry, name: string, typeflag: TarTypeflag, linkname = ''): Planned {
  const isFile = typeflag === TYPE_FILE;
  return {
    name: typeflag === TYPE_DIR ? `${name}/` : name,
    key: pathSortKey(name),
    typeflag,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    size: isFile ? entry.size : 0,
    linkname,
    open: isFile ? entry.open : undefined,
    localFile: isFile ? entry.localFile : undefined,
    xattrs: entry.xattrs && Object.keys(entry.xattrs).length > 0 ? entry.xattrs : undefined,
    path: entry.path,
  };
}

function markerOf(path: string, name: string): Planned {
  return {
    name,
    key: pathSortKey(name),
    typeflag: TYPE_FILE,
    mode: 0,
    uid: 0,
    gid: 0,
    size: 0,
    linkname: '',
    open: undefined,
    localFile: undefined,
    xattrs: undefined,
    path,
  };
}

/** Turn the caller's entries into the exact, sorted list of tar headers to write. */
async function plan(entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>, options: CreateLayerOptions): Promise<Planned[]> {
  const regular = new Map<string, LayerEntry>();
  const whiteouts = new Set<string>();
  const opaques = new Set<string>();
  for await (const entry of entries) {
    validate(entry);
    if (entry.type === 'whiteout') whiteouts.add(entry.path);
    else if (entry.type === 'opaque') opaques.add(entry.path);
    else {
      if (regular.has(entry.path)) {
        if (options.duplicates !== 'last-wins') throw invalid(entry, 'given twice (pass duplicates: "last-wins" to keep the later one)');
        regular.delete(entry.path); // re-insert: "later" is the input order
      }
      regular.set(entry.path, entry);
    }
  }
  for (const path of whiteouts) {
    if (regular.has(path)) throw invalid({ path }, 'both written and whited out in the same layer');
  }

  // Hard links: every member of a link group is the same inode. The member that sorts
  // first carries the content (readers need the target before the link); the others link to it.
  const groups = new Map<string, string[]>();
  const external: LayerEntry[] = [];
  for (const entry of regular.values()) {
    if (entry.type !== 'hardlink') continue;
    let target = entry.linkTarget!;
    const seen = new Set([entry.path]);
    let resolved = regular.get(target);
    while (resolved?.type === 'hardlink') {
      if (seen.has(resolved.path)) throw invalid(entry, 'hard links form a cycle');
      seen.add(resolved.path);
      target = resolved.linkTarget!;
      resolved = regular.get(target);
    }
    if (resolved === undefined) {
      external.push(entry); // a file of a lower layer
      continue;
    }
    if (resolved.type !== 'file' && resolved.type !== 'symlink') {
      throw invalid(entry, `hard link to "${target}", which is a ${resolved.type} in this layer`);
    }
    const members = groups.get(target) ?? [];
    members.push(entry.path);
    groups.set(target, members);
  }

  const planned: Planned[] = [];
  const linkedTo = new Map<string, string>(); // member path -> leader path
  for (const [root, members] of groups) {
    const all = [root, ...members].sort((a, b) => Buffer.compare(pathSortKey(a), pathSortKey(b)));
    for (const member of all.slice(1)) linkedTo.set(member, all[0]!);
    const content = regular.get(root)!;
    const leader = { ...content, path: all[0]! };
    planned.push(content.type === 'file' ? plannedOf(leader, leader.path, TYPE_FILE) : plannedOf(leader, leader.path, TYPE_SYMLINK, content.linkTarget));
    for (const member of all.slice(1)) planned.push(plannedOf({ ...content, path: member }, member, TYPE_HARDLINK, all[0]!));
  }
  for (const entry of external) planned.push(plannedOf(entry, entry.path, TYPE_HARDLINK, entry.linkTarget!));
  for (const entry of regular.values()) {
    if (entry.type === 'hardlink' || groups.has(entry.path)) continue;
    if (entry.type === 'file') planned.push(plannedOf(entry, entry.path, TYPE_FILE));
    else if (entry.type === 'dir') planned.push(plannedOf(entry, entry.path, TYPE_DIR));
    else if (entry.type === 'fifo') planned.push(plannedOf(entry, entry.path, TYPE_FIFO));
    else planned.push(plannedOf(entry, entry.path, TYPE_SYMLINK, entry.linkTarget!));
  }
  for (const path of whiteouts) planned.push(markerOf(path, joinPath(dirname(path), `${WHITEOUT_PREFIX}${basename(path)}`)));
  for (const path of opaques) planned.push(markerOf(path, joinPath(path, OPAQUE_MARKER)));

  // Parents: each must be a directory of this layer, or absent (then added, or left to the extractor).
  const needed = new Map<string, string>(); // directory -> an entry that needs it
  for (const entry of regular.values()) for (const dir of ancestors(entry.path)) needed.set(dir, entry.path);
  for (const path of whiteouts) for (const dir of ancestors(path)) needed.set(dir, path);
  for (const path of opaques) for (const dir of [...ancestors(path), path]) needed.set(dir, path);
  for (const [dir, by] of needed) {
    const existing = regular.get(dir);
    if (existing !== undefined) {
      const kind = linkedTo.has(dir) || existing.type === 'hardlink' ? 'hard link' : existing.type;
      if (existing.type !== 'dir') throw invalid({ path: by }, `its parent "${dir}" is a ${kind} in this layer, not a directory`);
      continue;
    }
    if (whiteouts.has(dir)) throw invalid({ path: by }, `its parent "${dir}" is whited out in this layer`);
    if (options.parentDirs !== 'omit') {
      planned.push(plannedOf({ path: dir, type: 'dir', mode: IMPLICIT_DIR_MODE, uid: 0, gid: 0 }, dir, TYPE_DIR));
    }
  }

  planned.sort((a, b) => Buffer.compare(a.key, b.key));
  return planned;
}

/** Files read ahead of the writer, and the largest file read ahead. */
const READ_AHEAD = 32;
const READ_AHEAD_MAX_SIZE = 256 * 1024;

/** A small file's content, read whole (at most its declared size plus one chunk, so a longer one is caught). */
async function readAll(entry: Planned): Promise<Uint8Array[]> {
  if (entry.localFile !== undefined) {
    try {
      // Synchronously: for small files Node's thread-pool round trips cost ~10x the read itself.
      return [readFileSync(entry.localFile)];
    } catch (error) {
      throw new BuildError(`cannot read the content of layer entry "${entry.path}": ${(error as Error).message}`, { cause: error });
    }
  }
  const source = await openSource(entry);
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for await (const chunk of source) {
      const bytes = toBytes(chunk);
      chunks.push(bytes);
      length += bytes.length;
      if (length > entry.size!) break;
    }
  } catch (error) {
    if (error instanceof SlipwayError) throw error;
    throw new BuildError(`cannot read the content of layer entry "${entry.path}": ${(error as Error).message}`, { cause: error });
  } finally {
    source.destroy();
  }
  return chunks;
}

async function spool(entry: Planned, tmpDir: string): Promise<{ path: string; size: number }> {
  const out = await HashingFileWriter.create(tmpDir, 'spool-');
  try {
    const source = await openSource(entry);
    try {
      for await (const chunk of source) await out.write(toBytes(chunk));
    } finally {
      source.destroy();
    }
    await out.finish();
    return { path: out.path, size: out.size };
  } catch (error) {
    await out.discard();
    throw error;
  }
}

async function openSource(entry: Planned): Promise<Readable> {
  try {
    return await entry.open!();
  } catch (error) {
    if (error instanceof SlipwayError) throw error;
    throw new BuildError(`cannot open the content of layer entry "${entry.path}": ${(error as Error).message}`, { cause: error });
  }
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new BuildError(`a layer entry's content stream yielded a ${typeof chunk}, not bytes`);
}

/**
 * Build a layer blob from `entries` (see CreateLayerOptions and the file comment).
 * On success the blob is a temp file under `options.tmpDir` that the caller owns; on
 * failure nothing is left behind.
 */
export async function createLayer(
  entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>,
  options: CreateLayerOptions,
): Promise<BuiltLayer> {
  const compression = options.compression ?? 'gzip';
  if (compression !== 'gzip' && compression !== 'none') {
    throw new InvalidInputError(`unsupported layer compression "${String(compression)}": use "gzip" or "none"`);
  }
  const planned = await plan(entries, options);

  const out = await HashingFileWriter.create(options.tmpDir, 'layer-');
  const spooled: string[] = [];
  const tarHash = createHash('sha256');
  let gzip: ParallelGzipWriter | undefined;
  try {
    gzip =
      compression === 'gzip'
        ? new ParallelGzipWriter(out.write, {
            ...(options.gzip?.level !== undefined ? { level: options.gzip.level } : {}),
            ...(options.gzip?.blockSize !== undefined ? { blockSize: options.gzip.blockSize } : {}),
            ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
          })
        : undefined;
    const sink = gzip;
    const emit = async (bytes: Uint8Array): Promise<void> => {
      tarHash.update(bytes);
      if (sink !== undefined) await sink.write(bytes);
      else await out.write(bytes);
    };

    // Small files are read a few dozen ahead: one at a time, a layer of thousands of them waits on file
    // system latency rather than on gzip.
    const ahead = new Map<number, Promise<Uint8Array[]>>();
    const readAhead = (from: number): void => {
      for (let j = from; j < Math.min(from + READ_AHEAD, planned.length); j++) {
        const e = planned[j]!;
        if (ahead.has(j) || e.typeflag !== TYPE_FILE || e.open === undefined || e.size === undefined || e.size === 0 || e.size > READ_AHEAD_MAX_SIZE) continue;
        const reading = readAll(e);
        reading.catch(() => undefined); // awaited (and reported) in order below
        ahead.set(j, reading);
      }
    };

    for (const [index, entry] of planned.entries()) {
      readAhead(index);
      const prefetched = ahead.get(index);
      ahead.delete(index);
      if (prefetched !== undefined) {
        const chunks = await prefetched;
        const copied = chunks.reduce((n, c) => n + c.length, 0);
        if (copied !== entry.size) {
          throw new IntegrityError(`layer entry "${entry.path}": its content has ${copied} bytes, but ${entry.size} were declared`);
        }
        await emit(encodeTarHeader({ name: entry.name, typeflag: entry.typeflag, mode: entry.mode, uid: entry.uid, gid: entry.gid, size: copied, linkname: entry.linkname, mtime: LAYER_MTIME, ...(entry.xattrs ? { xattrs: entry.xattrs } : {}) }));
        for (const chunk of chunks) await emit(chunk);
        if (copied % BLOCK !== 0) await emit(padding(copied));
        continue;
      }
      let open = entry.open;
      let size = entry.size ?? 0;
      if (entry.typeflag === TYPE_FILE && entry.size === undefined && open !== undefined) {
        const file = await spool(entry, options.tmpDir);
        spooled.push(file.path);
        size = file.size;
        open = async () => createReadStream(file.path);
      }
      await emit(encodeTarHeader({ name: entry.name, typeflag: entry.typeflag, mode: entry.mode, uid: entry.uid, gid: entry.gid, size, linkname: entry.linkname, mtime: LAYER_MTIME, ...(entry.xattrs ? { xattrs: entry.xattrs } : {}) }));
      if (size === 0) continue;
      const source = await openSource({ ...entry, open });
      let copied = 0;
      try {
        for await (const chunk of source) {
          const bytes = toBytes(chunk);
          if (copied + bytes.length > size) {
            throw new IntegrityError(`layer entry "${entry.path}": its content is longer than the declared ${size} bytes`);
          }
          copied += bytes.length;
          await emit(bytes);
        }
      } catch (error) {
        if (error instanceof SlipwayError) throw error;
        throw new BuildError(`cannot read the content of layer entry "${entry.path}": ${(error as Error).message}`, { cause: error });
      } finally {
        source.destroy();
      }
      if (copied !== size) {
        throw new IntegrityError(`layer entry "${entry.path}": its content has ${copied} bytes, but ${size} were declared`);
      }
      if (size % BLOCK !== 0) await emit(padding(size));
    }
    await emit(TAR_TRAILER);
    if (gzip !== undefined) await gzip.end();
    const digest = await out.finish();
    const diffId = `sha256:${tarHash.digest('hex')}`;
    return {
      path: out.path,
      digest,
      size: out.size,
      diffId,
      mediaType: compression === 'gzip' ? MediaType.OciLayerGzip : MediaType.OciLayer,
      entries: planned.length,
    };
  } catch (error) {
    gzip?.abort(error as Error);
    await out.discard();
    throw error;
  } finally {
    await Promise.all(spooled.map((p) => rm(p, { force: true }).catch(() => undefined)));
  }
}
