// Reading tar archives and layers as streams: compression sniffed from the first bytes,
// entries parsed by tar-stream (USTAR, PAX, GNU long names), names canonicalised.

import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { InvalidInputError, SlipwayError } from '../../errors.js';
import { normalizeArchivePath } from './paths.js';

export type Compression = 'gzip' | 'zstd' | 'bzip2' | 'xz' | 'none';

/** Recognise a compressed stream by its magic bytes (at least 6 bytes of head, when there are that many). */
export function sniffCompression(head: Uint8Array): Compression {
  const at = (i: number): number | undefined => head[i];
  if (at(0) === 0x1f && at(1) === 0x8b) return 'gzip';
  if (at(0) === 0x28 && at(1) === 0xb5 && at(2) === 0x2f && at(3) === 0xfd) return 'zstd';
  if (at(0) === 0x42 && at(1) === 0x5a && at(2) === 0x68) return 'bzip2';
  if (at(0) === 0xfd && at(1) === 0x37 && at(2) === 0x7a && at(3) === 0x58 && at(4) === 0x5a && at(5) === 0x00) return 'xz';
  return 'none';
}

/** True when `block` (the first 512 bytes of a stream) is a tar header: a valid checksum, any magic. */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < 512) return false;
  const field = Buffer.from(block.subarray(148, 156)).toString('latin1').replace(/[\0 ]+$/, '').replace(/^[ ]+/, '');
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === parseInt(field, 8);
}

/**
 * Read at least `n` bytes from the head of `stream` (fewer only if it ends first) without
 * losing them: the returned stream yields the head and then the rest.
 */
export async function peek(stream: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < n) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : Buffer.from(next.value);
    chunks.push(chunk);
    length += chunk.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await iterator.return?.();
    }
  }
  return { head, stream: Readable.from(rest(), { objectMode: false }) };
}

const UNSUPPORTED: Record<Exclude<Compression, 'gzip' | 'none'>, string> = {
  zstd: 'zstd-compressed, which Slipway cannot read (Node 20 has no zstd)',
  bzip2: 'bzip2-compressed, which Slipway cannot read',
  xz: 'xz-compressed, which Slipway cannot read',
};

/**
 * The uncompressed bytes of a tar stream: gzip is undone (every member of a multi-member
 * stream), a plain tar passes through, zstd, bzip2 and xz are a clear error.
 */
export async function decompressTar(input: Readable, what: string): Promise<{ stream: Readable; compression: Compression }> {
  const { head, stream } = await peek(input, 6);
  const compression = sniffCompression(head);
  if (compression === 'gzip') {
    const gunzip = createGunzip();
    return { stream: pipeline(stream, gunzip, () => undefined), compression };
  }
  if (compression !== 'none') {
    stream.destroy();
    throw new InvalidInputError(`${what} is ${UNSUPPORTED[compression]}`, { hint: 'use a gzip-compressed or uncompressed tar' });
  }
  return { stream, compression };
}

export type TarRecordType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface TarRecord {
  /** Canonical image path ('' for the archive's root directory). */
  path: string;
  /** The raw name in the archive. */
  name: string;
  type: TarRecordType;
  /** tar-stream's type name, e.g. 'fifo' or 'character-device' for type 'other'. */
  rawType: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Symlink target verbatim; hard link target canonicalised like `path`. */
  linkTarget: string | undefined;
  /**
   * PAX `SCHILY.xattr.*` attributes. tar-stream decodes PAX values as UTF-8: a value that is not valid
   * UTF-8 (a capability set with bit 7 of a byte set, e.g. cap_setuid) would not survive exactly, and is
   * left out rather than corrupted.
   */
  xattrs: Record<string, Buffer> | undefined;
  /** The content; read it to the end (or call `body.resume()`) before asking for the next record. */
  body: AsyncIterable<Buffer> & { resume(): unknown };
}

function recordType(type: string | null | undefined): TarRecordType {
  switch (type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'dir';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'hardlink';
    default:
      return 'other';
  }
}

function paxNumber(pax: Record<string, string> | null | undefined, key: string): number | undefined {
  const value = pax?.[key];
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

function xattrsOf(pax: Record<string, string> | null | undefined): Record<string, Buffer> | undefined {
  let out: Record<string, Buffer> | undefined;
  for (const [key, value] of Object.entries(pax ?? {})) {
    if (!key.startsWith('SCHILY.xattr.')) continue;
    if (value.includes('\uFFFD')) continue; // not valid UTF-8, so not read exactly: dropped rather than corrupted
    (out ??= {})[key.slice('SCHILY.xattr.'.length)] = Buffer.from(value, 'utf8');
  }
  return out;
}

/**
 * The entries of a tar stream (compressed or not), in archive order. The caller must
 * consume or `resume()` each record's body before the next one is produced; leaving the
 * loop early stops reading and releases the input.
 */
export async function* readTar(input: Readable, what: string): AsyncGenerator<TarRecord> {
  const { stream } = await decompressTar(input, what);
  const extract = tarExtract();
  stream.on('error', (error) => extract.destroy(error));
  stream.pipe(extract);
  try {
    for await (const entry of extract) {
      const header = entry.header;
      const pax = (header as { pax?: Record<string, string> | null }).pax;
      const type = recordType(header.type);
      const linkname = header.linkname ?? undefined;
      yield {
        path: normalizeArchivePath(header.name, what),
        name: header.name,
        type,
        rawType: String(header.type),
        mode: (header.mode ?? 0) & 0o7777,
        uid: paxNumber(pax, 'uid') ?? header.uid ?? 0,
        gid: paxNumber(pax, 'gid') ?? header.gid ?? 0,
        size: type === 'file' ? (header.size ?? 0) : 0,
        linkTarget: type === 'hardlink' && linkname !== undefined ? normalizeArchivePath(linkname, what) : linkname,
        xattrs: xattrsOf(pax),
        body: entry as unknown as TarRecord['body'],
      };
      // A body the consumer left unread is skipped, so the archive keeps flowing.
      entry.resume();
    }
  } catch (error) {
    if (error instanceof SlipwayError) throw error;
    throw new InvalidInputError(`${what} is not a readable tar archive: ${(error as Error).message}`, { cause: error });
  } finally {
    stream.unpipe(extract);
    stream.destroy();
    extract.destroy();
  }
}
