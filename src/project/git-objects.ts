// A repository's object database read in-process: loose objects (objects/xx/yyyy..., zlib), packs (git-pack.ts)
// and the databases objects/info/alternates names; and the two object formats slipway needs, commits (tree,
// committer date) and trees (listed recursively like `git ls-tree -r`). Formats: git's gitformat-pack.txt,
// gitrepository-layout.txt and the object format of the Git book's "Git Objects".
//
// Reading a commit's listing, HEAD and a few blobs this way costs microseconds where a git process costs ~5-10 ms
// each. Resolved delta bases are kept in a small LRU: the versions of a tree or a file are deltas of each other.
// An object that is not found, after the pack directories were looked at again (a `git gc` may have run), is
// MissingObject; git answers then (a partial clone fetches it). Packs, once opened, stay open for the life of the
// process (a pack removed meanwhile by `git gc` stays readable through its descriptor).

import { closeSync, createReadStream, existsSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { createInflate, inflateSync } from 'node:zlib';
import { inflatePrefix, MissingObject, readAt, SHA1_HEX, STREAM_INFLATE_BYTES, STREAM_READ_BYTES, unreadable, type GitObject, type ObjectInfo, type ObjectType } from './git-format.js';
import { applyDelta, deltaSizes, entryType, Pack, type PackEntryHeader } from './git-pack.js';

/** Objects up to this size are read into memory to be streamed; larger undeltified ones are inflated as they go. */
const STREAM_IN_MEMORY_MAX = 1024 * 1024;
const CACHE_BYTES = 32 * 1024 * 1024;
const CACHE_OBJECT_MAX = 8 * 1024 * 1024;
const MAX_DELTA_DEPTH = 10_000;
const MAX_ALTERNATES_DEPTH = 5;

/** A small least-recently-used cache of resolved pack entries, bounded by bytes. */
class ObjectCache {
  private readonly entries = new Map<string, GitObject>();
  private bytes = 0;

  get(key: string): GitObject | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: GitObject): void {
    if (value.data.length > CACHE_OBJECT_MAX || this.entries.has(key)) return;
    this.entries.set(key, value);
    this.bytes += value.data.length;
    for (const [oldest, old] of this.entries) {
      if (this.bytes <= CACHE_BYTES) break;
      this.entries.delete(oldest);
      this.bytes -= old.data.length;
    }
  }
}

/** One objects directory: its loose objects and its packs (listed lazily, again when an object is not found). */
class ObjectDirectory {
  private packs: Map<string, Pack> | undefined;
  private packArray: Pack[] = [];
  private packListing = '';

  constructor(readonly dir: string) {}

  loosePath(objectId: string): string {
    return path.join(this.dir, objectId.slice(0, 2), objectId.slice(2));
  }

  packList(): readonly Pack[] {
    if (this.packs === undefined) this.rescan();
    return this.packArray;
  }

  /** Lists objects/pack again; returns whether the set of packs changed. Packs already open stay open. */
  rescan(): boolean {
    const packDir = path.join(this.dir, 'pack');
    let names: string[] = [];
    try {
      names = readdirSync(packDir).filter((name) => name.startsWith('pack-') && name.endsWith('.idx')).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const listing = names.join('\n');
    const changed = this.packs === undefined || listing !== this.packListing;
    const packs = this.packs ?? new Map<string, Pack>();
    for (const name of names) {
      if (packs.has(name)) continue;
      const packPath = path.join(packDir, `${name.slice(0, -'.idx'.length)}.pack`);
      // git ignores an index without its pack (one being written or removed); so does this.
      if (!existsSync(packPath)) continue;
      packs.set(name, new Pack(path.join(packDir, name), packPath));
    }
    this.packs = packs;
    this.packArray = [...packs.values()];
    this.packListing = listing;
    return changed;
  }
}

type Location = { kind: 'packed'; pack: Pack; offset: number } | { kind: 'loose'; file: string };

/** The object database of a repository: its objects directory and, in order, its alternates. */
export class ObjectDatabase {
  private readonly dirs: ObjectDirectory[];
  private readonly cache = new ObjectCache();

  constructor(objectsDir: string) {
    this.dirs = objectDirectories(objectsDir).map((dir) => new ObjectDirectory(dir));
  }

  /** The directories read, the repository's own first (for tests and messages). */
  get directories(): string[] {
    return this.dirs.map((dir) => dir.dir);
  }

  /** A whole object. */
  read(objectId: string): GitObject {
    const location = this.locate(objectId);
    if (location.kind === 'loose') return readLoose(location.file, objectId);
    return this.readPacked(location.pack, location.offset);
  }

  /**
   * An object's size, from its header (a delta's from the start of its data), not its contents: what `git ls-tree
   * -l` shows. Its type is not checked (a tree entry says what it is). `name` may hold the object name's 20 bytes
   * at `at` (in the tree that lists it), saving their conversion.
   */
  size(objectId: string, name?: Buffer, at = 0): number {
    const location = this.locate(objectId, name, at);
    if (location.kind === 'loose') return looseHeader(location.file, objectId).info.size;
    const header = location.pack.entryHeader(location.offset);
    if (entryType(header.kind) !== undefined) return header.size;
    return deltaSizes(location.pack.entryDataPrefix(header, 20)).resultSize;
  }

  /**
   * A stream of a blob's contents. Small objects and deltas are resolved in memory first (a wrong type or a
   * missing object throws here); a large loose object or undeltified pack entry is inflated as it is read.
   */
  openBlob(objectId: string): Readable {
    const location = this.locate(objectId);
    if (location.kind === 'loose') {
      const { info, headerLength } = looseHeader(location.file, objectId);
      if (info.type !== 'blob') unreadable(`${objectId} is a ${info.type}, not a blob`);
      if (info.size <= STREAM_IN_MEMORY_MAX) return streamOf(readLoose(location.file, objectId).data);
      const source = createReadStream(location.file, { highWaterMark: STREAM_READ_BYTES });
      return pipeline(source, createInflate({ chunkSize: STREAM_INFLATE_BYTES }), new ExactBytes(info.size, headerLength, objectId), ignore);
    }
    const header = location.pack.entryHeader(location.offset);
    const type = entryType(header.kind);
    if (type === undefined || header.size <= STREAM_IN_MEMORY_MAX) {
      const object = this.readPacked(location.pack, location.offset);
      if (object.type !== 'blob') unreadable(`${objectId} is a ${object.type}, not a blob`);
      return streamOf(object.data);
    }
    if (type !== 'blob') unreadable(`${objectId} is a ${type}, not a blob`);
    return pipeline(location.pack.openEntryStream(header), new ExactBytes(header.size, 0, objectId), ignore);
  }

  private locate(objectId: string, name?: Buffer, at = 0): Location {
    let bytes = name;
    if (bytes === undefined) {
      // Not a SHA-1 name (a SHA-256 one, say): not in this database.
      if (!SHA1_HEX.test(objectId)) throw new MissingObject(objectId);
      bytes = Buffer.from(objectId, 'hex');
    }
    const found = this.find(objectId, bytes, at);
    if (found !== undefined) return found;
    // A `git gc` or a fetch in the meantime: look at the pack directories again, once.
    let changed = false;
    for (const dir of this.dirs) if (dir.rescan()) changed = true;
    const again = changed ? this.find(objectId, bytes, at) : undefined;
    if (again === undefined) throw new MissingObject(objectId);
    return again;
  }

  private find(objectId: string, name: Buffer, at: number): Location | undefined {
    for (const dir of this.dirs) {
      for (const pack of dir.packList()) {
        const offset = pack.find(name, at);
        if (offset !== undefined) return { kind: 'packed', pack, offset };
      }
    }
    for (const dir of this.dirs) {
      const file = dir.loosePath(objectId);
      if (existsSync(file)) return { kind: 'loose', file };
    }
    return undefined;
  }

  /** The entry at `offset`, its delta chain applied (OFS_DELTA within the pack, REF_DELTA through the database). */
  private readPacked(pack: Pack, offset: number): GitObject {
    const deltas: PackEntryHeader[] = [];
    let base: GitObject | undefined;
    let current = offset;
    for (;;) {
      const cached = this.cache.get(cacheKey(pack, current));
      if (cached !== undefined) {
        base = cached;
        break;
      }
      const header = pack.entryHeader(current);
      const type = entryType(header.kind);
      if (type !== undefined) {
        base = { type, data: pack.entryData(header) };
        if (deltas.length > 0) this.cache.set(cacheKey(pack, current), base);
        break;
      }
      deltas.push(header);
      if (deltas.length > MAX_DELTA_DEPTH) unreadable(`${pack.packPath}: delta chain longer than ${MAX_DELTA_DEPTH} at ${offset}`);
      if (header.baseOffset !== undefined) {
        current = header.baseOffset;
      } else {
        base = this.read(header.baseId ?? '');
        break;
      }
    }
    let object = base;
    for (let i = deltas.length - 1; i >= 0; i--) {
      const header = deltas[i]!;
      object = { type: object.type, data: applyDelta(object.data, pack.entryData(header)) };
      if (i > 0) this.cache.set(cacheKey(pack, header.offset), object);
    }
    return object;
  }
}

function cacheKey(pack: Pack, offset: number): string {
  return `${pack.packPath}:${offset}`;
}

/** The objects directory and the alternates it names (recursively, as git: at most 5 levels, each once). */
function objectDirectories(objectsDir: string): string[] {
  const result: string[] = [];
  const visit = (dir: string, depth: number): void => {
    const existing = existingDir(dir);
    if (existing === undefined || result.includes(existing)) return;
    result.push(existing);
    if (depth >= MAX_ALTERNATES_DEPTH) return;
    for (const alternate of alternatesOf(existing)) visit(alternate, depth + 1);
  };
  visit(objectsDir, 0);
  if (result.length === 0) unreadable(`no objects directory at ${objectsDir}`);
  return result;
}

function existingDir(dir: string): string | undefined {
  try {
    return statSync(dir).isDirectory() ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** objects/info/alternates: one directory per line, relative to the objects directory; `#` comments. */
export function alternatesOf(objectsDir: string): string[] {
  let text: string;
  try {
    text = readFileSync(path.join(objectsDir, 'info', 'alternates'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const dirs: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || line.startsWith('#')) continue;
    // A C-quoted path (a name with a newline or a quote) is git's business.
    if (line.startsWith('"')) unreadable(`${objectsDir}/info/alternates: quoted path`);
    dirs.push(path.resolve(objectsDir, line));
  }
  return dirs;
}

/** A loose object's header ("<type> <size>\0"), from the first inflated bytes of the file. */
function looseHeader(file: string, objectId: string): { info: ObjectInfo; headerLength: number } {
  const fd = openSync(file, 'r');
  let head: Buffer;
  try {
    head = readAt(fd, 0, 512);
  } finally {
    closeSync(fd);
  }
  return parseLooseHeader(inflatePrefix(head, `loose object ${objectId}`), objectId);
}

function parseLooseHeader(data: Buffer, objectId: string): { info: ObjectInfo; headerLength: number } {
  const nul = data.indexOf(0);
  if (nul < 0) unreadable(`loose object ${objectId}: no header`);
  const match = /^(commit|tree|blob|tag) (0|[1-9][0-9]{0,15})$/.exec(data.toString('latin1', 0, nul));
  if (match === null) unreadable(`loose object ${objectId}: bad header`);
  return { info: { type: match[1] as ObjectType, size: Number(match[2]) }, headerLength: nul + 1 };
}

function readLoose(file: string, objectId: string): GitObject {
  let whole: Buffer;
  try {
    whole = inflateSync(readFileSync(file));
  } catch (error) {
    return unreadable(`loose object ${objectId}: cannot inflate: ${(error as Error).message}`);
  }
  const { info, headerLength } = parseLooseHeader(whole, objectId);
  if (whole.length !== headerLength + info.size) unreadable(`loose object ${objectId}: ${whole.length - headerLength} bytes, ${info.size} expected`);
  return { type: info.type, data: whole.subarray(headerLength) };
}

/** pipeline's callback: an error reaches the consumer through the last stream, which pipeline destroys with it. */
function ignore(): void {}

function streamOf(data: Buffer): Readable {
  const stream = new PassThrough();
  stream.end(data);
  return stream;
}

/** Drops `skip` leading bytes (a loose object's header) and checks that exactly `size` bytes follow. */
class ExactBytes extends Transform {
  private seen = 0;

  constructor(private readonly size: number, private skip: number, private readonly objectId: string) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let piece = chunk;
    if (this.skip > 0) {
      const dropped = Math.min(this.skip, piece.length);
      piece = piece.subarray(dropped);
      this.skip -= dropped;
    }
    this.seen += piece.length;
    if (this.seen > this.size) {
      callback(new Error(`git object ${this.objectId}: more than ${this.size} bytes`));
      return;
    }
    callback(null, piece);
  }

  override _flush(callback: TransformCallback): void {
    callback(this.seen === this.size ? null : new Error(`git object ${this.objectId}: ${this.seen} bytes, ${this.size} expected`));
  }
}

// --- commits and trees

export interface ParsedCommit {
  tree: string;
  /** The committer's timestamp, seconds since the epoch. */
  committerSeconds: number;
  /** The committer's UTC offset as written, e.g. "+0200". */
  committerOffset: string;
}

/** The header lines of a commit object up to the message: its tree and committer. */
export function parseCommit(data: Buffer, objectId: string): ParsedCommit {
  const end = data.indexOf('\n\n');
  const header = data.toString('utf8', 0, end < 0 ? data.length : end);
  let tree: string | undefined;
  let committer: string | undefined;
  for (const line of header.split('\n')) {
    if (line.startsWith('tree ') && tree === undefined) tree = line.slice(5);
    else if (line.startsWith('committer ') && committer === undefined) committer = line.slice(10);
  }
  if (tree === undefined || !SHA1_HEX.test(tree)) unreadable(`commit ${objectId}: no tree`);
  // "Name <email> 1714557600 +0200": the date follows the last ">".
  const date = committer === undefined ? null : /> (\d{1,13}) ([+-]\d{4})$/.exec(committer);
  if (date === null) unreadable(`commit ${objectId}: no committer date git and slipway read alike`);
  return { tree, committerSeconds: Number(date[1]), committerOffset: date[2]! };
}

/** The object a tag points at and that object's type. */
export function parseTag(data: Buffer, objectId: string): { object: string; type: string } {
  const end = data.indexOf('\n\n');
  const header = data.toString('utf8', 0, end < 0 ? data.length : end);
  const object = /^object ([0-9a-f]{40})$/m.exec(header)?.[1];
  const type = /^type (\S+)$/m.exec(header)?.[1];
  if (object === undefined || type === undefined) unreadable(`tag ${objectId}: no object`);
  return { object, type };
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFGITLINK = 0o160000;

/**
 * The mode git reports for a tree entry: old repositories hold modes like 100664, which git reads as 100644
 * (any executable bit of the owner makes 100755); symlinks, directories and gitlinks keep their type alone.
 */
export function canonicalMode(mode: number): number {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return S_IFREG | (mode & 0o100 ? 0o755 : 0o644);
    case S_IFLNK:
      return S_IFLNK;
    case S_IFDIR:
      return S_IFDIR;
    default:
      return S_IFGITLINK;
  }
}

/**
 * Calls `visit` for each entry of a tree object, in order: "<octal mode> <name>\0<20-byte object name>", repeated.
 * `visit` gets the mode as git lists it (canonicalMode) and where the raw object name sits in `data`.
 */
export function forEachTreeEntry(data: Buffer, objectId: string, visit: (mode: number, name: string, entryId: string, idAt: number) => void): void {
  let position = 0;
  while (position < data.length) {
    let mode = 0;
    let i = position;
    for (; i < data.length && data[i] !== 0x20; i++) {
      const digit = data[i]! - 0x30;
      if (digit < 0 || digit > 7 || i - position >= 7) unreadable(`tree ${objectId}: bad mode at ${position}`);
      mode = mode * 8 + digit;
    }
    const nul = i === position || i >= data.length ? -1 : data.indexOf(0, i + 1);
    if (nul < 0 || nul === i + 1 || nul + 21 > data.length) unreadable(`tree ${objectId}: malformed entry at ${position}`);
    const name = data.toString('utf8', i + 1, nul);
    if (name.includes('/')) unreadable(`tree ${objectId}: bad name`);
    visit(canonicalMode(mode), name, data.toString('hex', nul + 1, nul + 21), nul + 1);
    position = nul + 21;
  }
}

export function isTreeMode(mode: number): boolean {
  return (mode & S_IFMT) === S_IFDIR;
}

export function isGitlinkMode(mode: number): boolean {
  return (mode & S_IFMT) === S_IFGITLINK;
}

export function isSymlinkMode(mode: number): boolean {
  return (mode & S_IFMT) === S_IFLNK;
}
