// One pack (objects/pack/pack-<hash>.pack) with its version 2 index (.idx), read with positioned reads on
// file descriptors that stay open: a pack can be gigabytes, and a lookup touches a few kilobytes of it.
// Formats: git's Documentation/gitformat-pack.txt.
//
// The index is looked up per first byte of the object name: its fan-out table (read once) gives the range of
// names with that byte, whose names and 32-bit offsets are read on first use and kept. An entry is a type and size
// header, then for the two delta kinds where the base is (OFS_DELTA: a distance back in this pack; REF_DELTA: an
// object name, resolved by the caller through the whole object database), then zlib data. Anything this reader
// does not know (an index version 1 or 3, a pack version other than 2 and 3, a count or checksum mismatch, a bad
// delta) is UnreadableRepository: git answers instead.

import { closeSync, createReadStream, fstatSync, openSync } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import { createInflate } from 'node:zlib';
import { inflateExact, inflatePrefix, PACK_OBJECT_TYPES, readAt, STREAM_INFLATE_BYTES, STREAM_READ_BYTES, unreadable, type ObjectType } from './git-format.js';

const IDX_MAGIC = 0xff744f63; // "\377tOc"
const IDX_HEADER = 8;
const FANOUT_BYTES = 256 * 4;
const NAME_BYTES = 20;
const TRAILER_BYTES = 2 * NAME_BYTES;
const OBJ_OFS_DELTA = 6;
const OBJ_REF_DELTA = 7;
/** Entries up to this size are read by a guess at their compressed size, larger ones by the offsets' order. */
const GUESS_MAX = 1024 * 1024;
/** Small reads (entry headers, small objects) come from cached pages of the pack: neighbours share them. */
const PAGE_BYTES = 64 * 1024;
const PAGES_KEPT = 32;

/** An entry's header: its own type (1-4, or a delta kind) and size, and where its zlib data starts. */
export interface PackEntryHeader {
  offset: number;
  /** 1-4 (commit, tree, blob, tag), 6 (OFS_DELTA) or 7 (REF_DELTA). */
  kind: number;
  /** The object's size, or for a delta the size of the delta data. */
  size: number;
  dataOffset: number;
  /** OFS_DELTA: the base entry's offset in this pack. */
  baseOffset?: number;
  /** REF_DELTA: the base object's name. */
  baseId?: string;
}

interface Bucket {
  names: Buffer;
  offsets: Buffer;
}

/** A pack and its index, opened lazily by the object database; close() releases both descriptors. */
export class Pack {
  private readonly idxFd: number;
  private readonly packFd: number;
  private readonly count: number;
  private readonly fanout: Uint32Array;
  private readonly largeOffsetsAt: number;
  private readonly largeOffsetCount: number;
  private readonly buckets = new Map<number, Bucket>();
  private readonly packSize: number;
  private sortedOffsets: Float64Array | undefined;
  private readonly pages = new Map<number, Buffer>();

  constructor(readonly idxPath: string, readonly packPath: string) {
    this.idxFd = openSync(idxPath, 'r');
    try {
      this.packFd = openSync(packPath, 'r');
    } catch (error) {
      closeSync(this.idxFd);
      throw error;
    }
    try {
      const idxSize = fstatSync(this.idxFd).size;
      const header = readAt(this.idxFd, 0, IDX_HEADER + FANOUT_BYTES);
      if (header.length < IDX_HEADER + FANOUT_BYTES || header.readUInt32BE(0) !== IDX_MAGIC) unreadable(`${idxPath}: not a version 2 pack index`);
      if (header.readUInt32BE(4) !== 2) unreadable(`${idxPath}: pack index version ${header.readUInt32BE(4)}`);
      this.fanout = new Uint32Array(256);
      for (let i = 0; i < 256; i++) {
        this.fanout[i] = header.readUInt32BE(IDX_HEADER + i * 4);
        if (i > 0 && this.fanout[i]! < this.fanout[i - 1]!) unreadable(`${idxPath}: fan-out table not sorted`);
      }
      this.count = this.fanout[255]!;
      this.largeOffsetsAt = IDX_HEADER + FANOUT_BYTES + this.count * (NAME_BYTES + 4 + 4);
      const rest = idxSize - this.largeOffsetsAt - TRAILER_BYTES;
      if (rest < 0 || rest % 8 !== 0) unreadable(`${idxPath}: size ${idxSize} does not fit ${this.count} objects`);
      this.largeOffsetCount = rest / 8;

      this.packSize = fstatSync(this.packFd).size;
      const packHeader = readAt(this.packFd, 0, 12);
      if (packHeader.length < 12 || packHeader.toString('latin1', 0, 4) !== 'PACK') unreadable(`${packPath}: not a pack`);
      const version = packHeader.readUInt32BE(4);
      if (version !== 2 && version !== 3) unreadable(`${packPath}: pack version ${version}`);
      if (packHeader.readUInt32BE(8) !== this.count) unreadable(`${packPath}: ${packHeader.readUInt32BE(8)} objects, its index lists ${this.count}`);
      // The index ends with the pack's checksum and its own: an index of another pack (or a pack being rewritten)
      // must not be used.
      const packChecksum = readAt(this.idxFd, idxSize - TRAILER_BYTES, NAME_BYTES);
      if (!packChecksum.equals(readAt(this.packFd, this.packSize - NAME_BYTES, NAME_BYTES))) unreadable(`${idxPath}: does not belong to ${packPath}`);
    } catch (error) {
      this.close();
      throw error;
    }
  }

  close(): void {
    for (const fd of [this.idxFd, this.packFd]) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
  }

  /** The offset of the object named by the 20 bytes at `at` of `name`, or undefined when the pack does not hold it. */
  find(name: Buffer, at = 0): number | undefined {
    const bucket = this.bucket(name[at]!);
    const names = bucket.names;
    // Names compared by their first four bytes as a number, then (rarely) the rest.
    const key = name.readUInt32BE(at);
    let low = 0;
    let high = names.length / NAME_BYTES;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const probe = names.readUInt32BE(middle * NAME_BYTES);
      const order = probe !== key ? (probe < key ? -1 : 1) : names.compare(name, at + 4, at + NAME_BYTES, middle * NAME_BYTES + 4, (middle + 1) * NAME_BYTES);
      if (order === 0) return this.offsetValue(bucket.offsets.readUInt32BE(middle * 4));
      if (order < 0) low = middle + 1;
      else high = middle;
    }
    return undefined;
  }

  private bucket(first: number): Bucket {
    let bucket = this.buckets.get(first);
    if (bucket === undefined) {
      const start = first === 0 ? 0 : this.fanout[first - 1]!;
      const end = this.fanout[first]!;
      const namesAt = IDX_HEADER + FANOUT_BYTES + start * NAME_BYTES;
      const offsetsAt = IDX_HEADER + FANOUT_BYTES + this.count * (NAME_BYTES + 4) + start * 4;
      bucket = { names: this.readIdx(namesAt, (end - start) * NAME_BYTES), offsets: this.readIdx(offsetsAt, (end - start) * 4) };
      this.buckets.set(first, bucket);
    }
    return bucket;
  }

  private readIdx(position: number, length: number): Buffer {
    const data = readAt(this.idxFd, position, length);
    if (data.length !== length) unreadable(`${this.idxPath}: truncated`);
    return data;
  }

  /** A 32-bit offset field: the offset itself, or (high bit set) an index into the 64-bit offset table. */
  private offsetValue(field: number): number {
    if ((field & 0x80000000) === 0) return field;
    const index = field & 0x7fffffff;
    if (index >= this.largeOffsetCount) unreadable(`${this.idxPath}: 64-bit offset ${index} out of range`);
    const value = this.readIdx(this.largeOffsetsAt + index * 8, 8).readBigUInt64BE(0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) unreadable(`${this.idxPath}: offset too large`);
    return Number(value);
  }

  /** `length` bytes of the pack at `position` (fewer at its end), not to be modified: small reads share pages. */
  private readPack(position: number, length: number): Buffer {
    const first = Math.floor(position / PAGE_BYTES);
    const last = Math.floor((position + length - 1) / PAGE_BYTES);
    if (length > PAGE_BYTES || last - first > 1) return readAt(this.packFd, position, length);
    const start = position - first * PAGE_BYTES;
    const page = this.page(first);
    if (first === last || page.length < PAGE_BYTES) return page.subarray(start, start + length);
    return Buffer.concat([page.subarray(start), this.page(last)]).subarray(0, length);
  }

  private page(index: number): Buffer {
    let page = this.pages.get(index);
    if (page !== undefined) {
      this.pages.delete(index);
    } else {
      page = readAt(this.packFd, index * PAGE_BYTES, PAGE_BYTES);
      if (this.pages.size >= PAGES_KEPT) this.pages.delete(this.pages.keys().next().value as number);
    }
    this.pages.set(index, page);
    return page;
  }

  /** The header of the entry at `offset`. */
  entryHeader(offset: number): PackEntryHeader {
    if (offset < 12 || offset >= this.packSize - NAME_BYTES) unreadable(`${this.packPath}: entry offset ${offset} out of range`);
    const bytes = this.readPack(offset, 32);
    let position = 0;
    const next = (): number => {
      if (position >= bytes.length) unreadable(`${this.packPath}: truncated entry header at ${offset}`);
      return bytes[position++]!;
    };
    let byte = next();
    const kind = (byte >> 4) & 7;
    let size = byte & 0x0f;
    let shift = 4;
    while (byte & 0x80) {
      byte = next();
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (shift > 53) unreadable(`${this.packPath}: entry size too large at ${offset}`);
    }
    if (kind === OBJ_OFS_DELTA) {
      // The distance back to the base, big-endian 7-bit groups where each continuation adds one (gitformat-pack).
      byte = next();
      let distance = byte & 0x7f;
      while (byte & 0x80) {
        byte = next();
        distance = (distance + 1) * 128 + (byte & 0x7f);
        if (distance > Number.MAX_SAFE_INTEGER / 256) unreadable(`${this.packPath}: delta base distance too large at ${offset}`);
      }
      if (distance <= 0 || distance > offset) unreadable(`${this.packPath}: delta base out of range at ${offset}`);
      return { offset, kind, size, dataOffset: offset + position, baseOffset: offset - distance };
    }
    if (kind === OBJ_REF_DELTA) {
      if (position + NAME_BYTES > bytes.length) unreadable(`${this.packPath}: truncated entry header at ${offset}`);
      const baseId = bytes.toString('hex', position, position + NAME_BYTES);
      return { offset, kind, size, dataOffset: offset + position + NAME_BYTES, baseId };
    }
    if (PACK_OBJECT_TYPES[kind] === undefined) unreadable(`${this.packPath}: entry type ${kind} at ${offset}`);
    return { offset, kind, size, dataOffset: offset + position };
  }

  /** The entry's inflated data (the object, or the delta), `header.size` bytes. */
  entryData(header: PackEntryHeader): Buffer {
    const limit = this.packSize - NAME_BYTES - header.dataOffset;
    // A large entry is read to where the next one starts (well compressed, it is far smaller than its size); a small
    // one by a guess: deflate rarely grows data by more than a few bytes per block, and a longer stream is read again.
    let length = header.size > GUESS_MAX ? this.entryEnd(header.offset) - header.dataOffset : Math.min(limit, header.size + (header.size >>> 8) + 64);
    for (;;) {
      const data = inflateExact(this.readPack(header.dataOffset, length), header.size, `${this.packPath} at ${header.offset}`);
      if (data !== undefined) return data;
      if (length >= limit) unreadable(`${this.packPath}: entry at ${header.offset} runs past the end`);
      length = Math.min(limit, length * 2);
    }
  }

  /** The first `want` bytes (or fewer, when the data is shorter) of an entry's inflated data: a delta's sizes. */
  entryDataPrefix(header: PackEntryHeader, want: number): Buffer {
    const limit = this.packSize - NAME_BYTES - header.dataOffset;
    let length = Math.min(limit, 256);
    for (;;) {
      const data = inflatePrefix(this.readPack(header.dataOffset, length), `${this.packPath} at ${header.offset}`);
      if (data.length >= Math.min(want, header.size) || length >= limit) return data;
      length = Math.min(limit, length * 4);
    }
  }

  /**
   * A stream of an undeltified entry's inflated data: large blobs are not held in memory. The compressed data ends
   * where the next entry starts (the offsets, sorted once per pack, tell where).
   */
  openEntryStream(header: PackEntryHeader): Readable {
    const end = this.entryEnd(header.offset);
    const inflate = createInflate({ chunkSize: STREAM_INFLATE_BYTES });
    if (end <= header.dataOffset) {
      process.nextTick(() => inflate.destroy(new Error(`${this.packPath}: empty entry at ${header.offset}`)));
      return inflate;
    }
    const source = createReadStream('', { fd: this.packFd, autoClose: false, start: header.dataOffset, end: end - 1, highWaterMark: STREAM_READ_BYTES });
    return pipeline(source, inflate, () => {});
  }

  /** Where the entry at `offset` ends: the next entry's offset, or the start of the pack's trailing checksum. */
  private entryEnd(offset: number): number {
    if (this.sortedOffsets === undefined) {
      const table = this.readIdx(IDX_HEADER + FANOUT_BYTES + this.count * (NAME_BYTES + 4), this.count * 4);
      const offsets = new Float64Array(this.count);
      for (let i = 0; i < this.count; i++) offsets[i] = this.offsetValue(table.readUInt32BE(i * 4));
      this.sortedOffsets = offsets.sort();
    }
    const offsets = this.sortedOffsets;
    let low = 0;
    let high = offsets.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (offsets[middle]! <= offset) low = middle + 1;
      else high = middle;
    }
    return low < offsets.length ? offsets[low]! : this.packSize - NAME_BYTES;
  }
}

/** The type name of an undeltified entry kind. */
export function entryType(kind: number): ObjectType | undefined {
  return PACK_OBJECT_TYPES[kind];
}

/** A delta's two leading sizes (little-endian 7-bit groups): the base's and the result's. */
export function deltaSizes(delta: Buffer): { baseSize: number; resultSize: number; position: number } {
  let position = 0;
  const size = (): number => {
    let value = 0;
    let shift = 0;
    let byte: number;
    do {
      if (position >= delta.length) unreadable('truncated delta header');
      byte = delta[position++]!;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (shift > 53) unreadable('delta size too large');
    } while (byte & 0x80);
    return value;
  };
  const baseSize = size();
  const resultSize = size();
  return { baseSize, resultSize, position };
}

/**
 * The object a delta makes of its base: after the two sizes, instructions either copy a range of the base (high
 * bit set; the low 7 bits say which offset and size bytes follow; a size of 0 means 0x10000) or insert the next
 * 1-127 bytes of the delta itself.
 */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  const { baseSize, resultSize, position: start } = deltaSizes(delta);
  if (baseSize !== base.length) unreadable(`delta base is ${base.length} bytes, the delta expects ${baseSize}`);
  const result = Buffer.allocUnsafe(resultSize);
  let out = 0;
  let position = start;
  const next = (): number => {
    if (position >= delta.length) unreadable('truncated delta');
    return delta[position++]!;
  };
  while (position < delta.length) {
    const op = delta[position++]!;
    if (op & 0x80) {
      let offset = 0;
      let size = 0;
      for (let bit = 0; bit < 4; bit++) if (op & (1 << bit)) offset += next() * 2 ** (8 * bit);
      for (let bit = 0; bit < 3; bit++) if (op & (0x10 << bit)) size += next() * 2 ** (8 * bit);
      if (size === 0) size = 0x10000;
      if (offset + size > base.length || out + size > resultSize) unreadable('delta copy out of range');
      base.copy(result, out, offset, offset + size);
      out += size;
    } else if (op !== 0) {
      if (position + op > delta.length || out + op > resultSize) unreadable('delta insert out of range');
      delta.copy(result, out, position, position + op);
      position += op;
      out += op;
    } else {
      unreadable('delta opcode 0');
    }
  }
  if (out !== resultSize) unreadable(`delta made ${out} bytes, ${resultSize} expected`);
  return result;
}
