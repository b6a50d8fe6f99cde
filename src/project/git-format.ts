// Shared pieces of the in-process git reader (git-objects.ts, git-pack.ts, git-refs.ts, git-repository.ts): its two
// internal errors, object types, and positioned file reads and inflation.
//
// The reader never decides anything on its own when a repository surprises it: it throws UnreadableRepository (a
// format, version or layout it does not handle, or data that does not parse) or MissingObject, and git.ts asks the
// git command line instead. Neither error leaves src/project.

import { readSync } from 'node:fs';
import { constants, inflateSync } from 'node:zlib';

/** Something the in-process reader does not handle (or finds corrupt): git itself must answer. */
export class UnreadableRepository extends Error {}

/** An object the object database does not hold (a partial clone fetches it lazily; git must answer). */
export class MissingObject extends Error {
  constructor(readonly objectId: string) {
    super(`git object ${objectId} not found`);
  }
}

export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';

/** The type names of pack entry types 1-4 (gitformat-pack: OBJ_COMMIT, OBJ_TREE, OBJ_BLOB, OBJ_TAG). */
export const PACK_OBJECT_TYPES: readonly (ObjectType | undefined)[] = [undefined, 'commit', 'tree', 'blob', 'tag'];

export interface GitObject {
  type: ObjectType;
  data: Buffer;
}

export interface ObjectInfo {
  type: ObjectType;
  size: number;
}

export const SHA1_HEX = /^[0-9a-f]{40}$/;

/**
 * Chunk sizes of streamed (large) objects: Node's defaults (64 KiB reads, 16 KiB of inflated output per round trip
 * to the thread pool) made a 16 MiB blob take ~100-140 ms; these ~30 ms, with a few MiB in flight at most.
 */
export const STREAM_READ_BYTES = 1024 * 1024;
export const STREAM_INFLATE_BYTES = 256 * 1024;

export function unreadable(message: string): never {
  throw new UnreadableRepository(message);
}

/** Exactly `length` bytes at `position` of an open file, or fewer at its end. */
export function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done === length ? buffer : buffer.subarray(0, done);
}

/**
 * The whole zlib stream at the start of `input` inflated, which must give exactly `size` bytes; bytes after the
 * stream's end are ignored. Returns undefined when `input` ends before the stream does (read more and retry).
 */
export function inflateExact(input: Buffer, size: number, what: string): Buffer | undefined {
  let output: Buffer;
  try {
    output = inflateSync(input, { maxOutputLength: Math.max(1, size) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR') return undefined;
    return unreadable(`${what}: cannot inflate: ${(error as Error).message}`);
  }
  if (output.length !== size) unreadable(`${what}: ${output.length} bytes inflated, ${size} expected`);
  return output;
}

/** As much of a zlib stream's output as `input` (possibly a prefix of the stream) yields; for headers. */
export function inflatePrefix(input: Buffer, what: string): Buffer {
  try {
    return inflateSync(input, { finishFlush: constants.Z_SYNC_FLUSH });
  } catch (error) {
    return unreadable(`${what}: cannot inflate: ${(error as Error).message}`);
  }
}
