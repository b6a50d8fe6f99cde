// The index (.git/index, gitformat-index.txt), read for one purpose: to tell without running `git status` that a
// committed file is unchanged in the working tree. When the index holds the committed object for a path and the
// file's stat data (times, size, inode, type and executable bit) still equal what the index recorded when it last
// hashed the file, git status reports nothing for it either, so the file is unchanged for giterminism; anything
// else (no usable index, another object, other stat data, a "racily clean" entry written in the same second as
// the index) only means that a slower check must decide (git-state.ts).
//
// Versions 2, 3 and 4 (prefix-compressed paths) are read; an index with a required extension this reader does not
// know (a split index's "link", a sparse index's "sdir") is not used at all.

import { readFileSync, statSync, type BigIntStats } from 'node:fs';

export interface IndexEntry {
  ctimeSeconds: number;
  ctimeNanoseconds: number;
  mtimeSeconds: number;
  mtimeNanoseconds: number;
  ino: number;
  /** The git mode, e.g. 0o100644. */
  mode: number;
  /** The size git saw, truncated to 32 bits. */
  size: number;
  objectId: string;
  /** assume-unchanged, skip-worktree or intent-to-add: git status does not look at the file as usual. */
  special: boolean;
}

export interface GitIndex {
  /** Stage-0 entries by path. */
  entries: Map<string, IndexEntry>;
  /** Paths with conflict stages (1-3). */
  conflicted: Set<string>;
  /** The index file's modification time in seconds: entries modified at or after it are racily clean. */
  mtimeSeconds: number;
}

const SIGNATURE = 0x44495243; // "DIRC"
const ENTRY_FIXED = 62;
const ASSUME_VALID = 0x8000;
const EXTENDED = 0x4000;
const STAGE_MASK = 0x3000;
const SKIP_WORKTREE = 0x4000;
const INTENT_TO_ADD = 0x2000;

/** The index at `file`, or undefined when there is none or it cannot be used. */
export function readIndex(file: string): GitIndex | undefined {
  let data: Buffer;
  let mtimeSeconds: number;
  try {
    mtimeSeconds = Math.floor(statSync(file).mtimeMs / 1000);
    data = readFileSync(file);
  } catch {
    return undefined;
  }
  try {
    return parseIndex(data, mtimeSeconds);
  } catch {
    return undefined;
  }
}

export function parseIndex(data: Buffer, mtimeSeconds: number): GitIndex | undefined {
  if (data.length < 12 + 20 || data.readUInt32BE(0) !== SIGNATURE) return undefined;
  const version = data.readUInt32BE(4);
  if (version < 2 || version > 4) return undefined;
  const count = data.readUInt32BE(8);
  const end = data.length - 20; // the trailing checksum
  const entries = new Map<string, IndexEntry>();
  const conflicted = new Set<string>();
  let position = 12;
  let previous: Buffer = Buffer.alloc(0);
  for (let i = 0; i < count; i++) {
    const start = position;
    if (position + ENTRY_FIXED > end) return undefined;
    const flags = data.readUInt16BE(position + 60);
    let extended = 0;
    position += ENTRY_FIXED;
    if (flags & EXTENDED) {
      if (version < 3) return undefined;
      extended = data.readUInt16BE(position);
      position += 2;
    }
    let name: Buffer;
    if (version === 4) {
      // The number of bytes to drop from the previous path (an offset varint), then the rest NUL-terminated.
      let byte = data[position++]!;
      let drop = byte & 0x7f;
      while (byte & 0x80) {
        byte = data[position++]!;
        drop = (drop + 1) * 128 + (byte & 0x7f);
      }
      const nul = data.indexOf(0, position);
      if (nul < 0 || nul >= end || drop > previous.length) return undefined;
      name = Buffer.concat([previous.subarray(0, previous.length - drop), data.subarray(position, nul)]);
      position = nul + 1;
    } else {
      const nul = data.indexOf(0, position);
      if (nul < 0 || nul >= end) return undefined;
      name = data.subarray(position, nul);
      // Entries are padded with 1-8 NULs to a multiple of 8 bytes.
      position = start + ((nul - start + 8) & ~7);
    }
    previous = name;
    const path = name.toString('utf8');
    if ((flags & STAGE_MASK) !== 0) {
      conflicted.add(path);
      continue;
    }
    entries.set(path, {
      ctimeSeconds: data.readUInt32BE(start),
      ctimeNanoseconds: data.readUInt32BE(start + 4),
      mtimeSeconds: data.readUInt32BE(start + 8),
      mtimeNanoseconds: data.readUInt32BE(start + 12),
      ino: data.readUInt32BE(start + 20),
      mode: data.readUInt32BE(start + 24),
      size: data.readUInt32BE(start + 36),
      objectId: data.toString('hex', start + 40, start + 60),
      special: (flags & ASSUME_VALID) !== 0 || (extended & (SKIP_WORKTREE | INTENT_TO_ADD)) !== 0,
    });
  }
  // Extensions: a signature starting with A-Z is optional; anything else is required and unknown here.
  while (position + 8 <= end) {
    const first = data[position]!;
    if (first < 0x41 || first > 0x5a) return undefined;
    position += 8 + data.readUInt32BE(position + 4);
  }
  return { entries, conflicted, mtimeSeconds };
}

/**
 * Whether a file's lstat (with nanoseconds) still shows what the index entry recorded: git status would take it
 * as unchanged without reading it. A racily clean entry (modified in the second the index was written) is not.
 */
export function statUnchanged(entry: IndexEntry, stats: BigIntStats, index: GitIndex): boolean {
  if (entry.special) return false;
  const seconds = (ns: bigint): number => Number(ns / 1_000_000_000n);
  const nanoseconds = (ns: bigint): number => Number(ns % 1_000_000_000n);
  if (entry.mtimeSeconds >= index.mtimeSeconds) return false;
  const type = entry.mode & 0o170000;
  if (type === 0o120000 ? !stats.isSymbolicLink() : type === 0o100000 ? !stats.isFile() : true) return false;
  if (type === 0o100000 && (entry.mode & 0o100) !== (Number(stats.mode) & 0o100)) return false;
  return (
    (seconds(stats.mtimeNs) & 0xffffffff) >>> 0 === entry.mtimeSeconds &&
    nanoseconds(stats.mtimeNs) === entry.mtimeNanoseconds &&
    (seconds(stats.ctimeNs) & 0xffffffff) >>> 0 === entry.ctimeSeconds &&
    nanoseconds(stats.ctimeNs) === entry.ctimeNanoseconds &&
    Number(stats.ino & 0xffffffffn) === entry.ino &&
    Number(stats.size & 0xffffffffn) === entry.size
  );
}
