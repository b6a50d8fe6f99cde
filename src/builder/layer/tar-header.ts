// Tar headers written byte for byte the way Go's archive/tar writes them (the library
// behind docker, buildkit, containerd and go-containerregistry), so Slipway's layers look
// like theirs to every reader:
//
// - USTAR (magic "ustar\0", version "00") whenever the entry fits: numbers in zero-padded
//   octal with a NUL, a long ASCII name split into prefix (155) and name (100), uname and
//   gname empty, devmajor/devminor "0000000\0", checksum "NNNNNN\0 ".
// - PAX only when USTAR cannot hold the entry (a non-ASCII or unsplittable name, a link
//   name over 100 bytes or non-ASCII, uid/gid of 2^21 or more, a size of 8 GiB or more):
//   one 'x' header named `<dir>/PaxHeaders.0/<base>` with records sorted by key, followed
//   by a USTAR-shaped header whose fields that do not fit are zero and whose name is the
//   ASCII part of the real one, truncated to 100 bytes.
// - No atime/ctime, no global headers, no GNU extensions; the archive ends with two zero
//   blocks (1024 bytes), without padding to a 10 KiB record.

export const BLOCK = 512;

export const TYPE_FILE = '0';
export const TYPE_HARDLINK = '1';
export const TYPE_SYMLINK = '2';
export const TYPE_DIR = '5';
export const TYPE_FIFO = '6';
const TYPE_PAX = 'x';

export type TarTypeflag = typeof TYPE_FILE | typeof TYPE_HARDLINK | typeof TYPE_SYMLINK | typeof TYPE_DIR | typeof TYPE_FIFO;

export interface TarHeader {
  /** The full name as stored: no leading '/', directories end with '/'. */
  name: string;
  typeflag: TarTypeflag;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname: string;
  /** Seconds since the epoch. */
  mtime: number;
  /** Extended attributes, written as PAX `SCHILY.xattr.<name>` records (the values are raw bytes). */
  xattrs?: Record<string, Buffer>;
}

const NAME_SIZE = 100;
const PREFIX_SIZE = 155;
/** Octal fields of n bytes hold n-1 digits and a NUL. */
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

/** The end-of-archive marker: two zero blocks. */
export const TAR_TRAILER: Buffer = Buffer.alloc(2 * BLOCK);

export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Go's toASCII: drop every non-ASCII character. */
function toAscii(s: string): string {
  let out = '';
  for (const ch of s) if (ch.charCodeAt(0) < 0x80) out += ch;
  return out;
}

/** Go's splitUSTARPath: a name longer than 100 bytes split at a '/' into prefix and name. */
function splitUstarPath(name: string): { prefix: string; suffix: string } | undefined {
  let length = name.length;
  if (length <= NAME_SIZE || !isAscii(name)) return undefined;
  if (length > PREFIX_SIZE + 1) length = PREFIX_SIZE + 1;
  else if (name[length - 1] === '/') length--;
  const i = name.lastIndexOf('/', length - 1);
  const nlen = name.length - i - 1;
  const plen = i;
  if (i <= 0 || nlen > NAME_SIZE || nlen === 0 || plen > PREFIX_SIZE) return undefined;
  return { prefix: name.slice(0, i), suffix: name.slice(i + 1) };
}

/** Go's formatString: copy, NUL-terminate when room is left, never end a truncated name with '/'. */
function putString(block: Buffer, offset: number, size: number, s: string): void {
  const bytes = Buffer.from(s, 'utf8');
  bytes.copy(block, offset, 0, Math.min(size, bytes.length));
  if (bytes.length < size) block[offset + bytes.length] = 0;
  if (bytes.length > size && block[offset + size - 1] === 0x2f) {
    let n = size;
    while (n > 0 && block[offset + n - 1] === 0x2f) n--;
    block[offset + n] = 0;
  }
}

/** Go's formatOctal: zero-padded octal leaving room for a NUL; a value that does not fit becomes 0. */
function putOctal(block: Buffer, offset: number, size: number, value: number): void {
  const max = size >= 12 ? MAX_OCTAL_11 : 8 ** (size - 1) - 1;
  const v = value >= 0 && value <= max ? value : 0;
  putString(block, offset, size, v.toString(8).padStart(size - 1, '0'));
}

function setUstarMagicAndChecksum(block: Buffer): void {
  block.write('ustar\0', 257, 'latin1');
  block.write('00', 263, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i]!;
  putOctal(block, 148, 7, sum);
  block[155] = 0x20;
}

function fillCommon(block: Buffer, h: TarHeader, name: string, linkname: string): void {
  block[156] = h.typeflag.charCodeAt(0);
  putString(block, 0, NAME_SIZE, name);
  putString(block, 157, NAME_SIZE, linkname);
  putOctal(block, 100, 8, h.mode);
  putOctal(block, 108, 8, h.uid);
  putOctal(block, 116, 8, h.gid);
  putOctal(block, 124, 12, h.size);
  putOctal(block, 136, 12, h.mtime);
  putString(block, 265, 32, ''); // uname
  putString(block, 297, 32, ''); // gname
  putOctal(block, 329, 8, 0); // devmajor
  putOctal(block, 337, 8, 0); // devminor
}

/** Go's formatPAXRecord: "<len> <key>=<value>\n" where len counts itself (in bytes: xattr values are binary). */
function paxRecord(key: string, value: string | Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), typeof value === 'string' ? Buffer.from(value, 'utf8') : value, Buffer.from('\n')]);
  const bodyBytes = body.length;
  let size = bodyBytes + String(bodyBytes).length;
  if (String(size).length + bodyBytes !== size) size = String(size).length + bodyBytes;
  return Buffer.concat([Buffer.from(String(size)), body]);
}

/** Go's path.Join(dir, "PaxHeaders.0", file) over path.Split(name). */
function paxHeaderName(name: string): string {
  const slash = name.lastIndexOf('/');
  const dir = name.slice(0, slash + 1);
  const file = name.slice(slash + 1);
  const joined = [dir, 'PaxHeaders.0', file]
    .filter((part) => part !== '')
    .join('/')
    .replace(/\/+/g, '/')
    .replace(/\/$/, '');
  let ascii = toAscii(joined);
  if (ascii.length > NAME_SIZE) ascii = ascii.slice(0, NAME_SIZE);
  return ascii.replace(/\/+$/, '');
}

function padLength(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}

/** The zero bytes that pad `size` bytes of content to a whole block. */
export function padding(size: number): Buffer {
  return Buffer.alloc(padLength(size));
}

/**
 * Encode the header(s) of one entry: 512 bytes, or a PAX extended header, its records
 * and then the 512-byte header when USTAR cannot hold the entry.
 */
export function encodeTarHeader(h: TarHeader): Buffer {
  const pax: Record<string, string | Buffer> = {};
  for (const [name, value] of Object.entries(h.xattrs ?? {})) pax[`SCHILY.xattr.${name}`] = value;
  const nameFits = isAscii(h.name) && (h.name.length <= NAME_SIZE || splitUstarPath(h.name) !== undefined);
  if (!nameFits) pax.path = h.name;
  if (!isAscii(h.linkname) || h.linkname.length > NAME_SIZE) pax.linkpath = h.linkname;
  if (h.uid > MAX_OCTAL_7) pax.uid = String(h.uid);
  if (h.gid > MAX_OCTAL_7) pax.gid = String(h.gid);
  if (h.size > MAX_OCTAL_11) pax.size = String(h.size);
  const keys = Object.keys(pax).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

  const block = Buffer.alloc(BLOCK);
  if (keys.length === 0) {
    let name = h.name;
    let prefix = '';
    const split = splitUstarPath(h.name);
    if (split !== undefined) {
      prefix = split.prefix;
      name = split.suffix;
    }
    fillCommon(block, h, name, h.linkname);
    putString(block, 345, PREFIX_SIZE, prefix);
    setUstarMagicAndChecksum(block);
    return block;
  }

  const data = Buffer.concat(keys.map((k) => paxRecord(k, pax[k]!)));
  const paxBlock = Buffer.alloc(BLOCK);
  paxBlock[156] = TYPE_PAX.charCodeAt(0);
  putString(paxBlock, 0, NAME_SIZE, paxHeaderName(h.name));
  putOctal(paxBlock, 100, 8, 0);
  putOctal(paxBlock, 108, 8, 0);
  putOctal(paxBlock, 116, 8, 0);
  putOctal(paxBlock, 124, 12, data.length);
  putOctal(paxBlock, 136, 12, 0);
  setUstarMagicAndChecksum(paxBlock);

  fillCommon(block, h, toAscii(h.name), toAscii(h.linkname));
  setUstarMagicAndChecksum(block);
  return Buffer.concat([paxBlock, data, padding(data.length), block]);
}
