// CRC-32 (the gzip/zlib polynomial, reflected 0xedb88320) and crc32_combine.
//
// The parallel gzip writer computes one CRC per block in its worker threads and joins
// them here in order, as pigz does; zlib.crc32 exists only from Node 20.15 / 22.2, so
// a table-driven fallback covers older Node 20 releases.

import * as zlib from 'node:zlib';

const POLY = 0xedb88320;

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (table !== undefined) return table;
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? POLY ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  table = t;
  return t;
}

/** CRC-32 of `bytes` in plain JavaScript, continuing from `crc` (0 for a fresh one). */
export function crc32Js(bytes: Uint8Array, crc = 0): number {
  const t = crcTable();
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of `bytes`, continuing from `crc`: zlib's when Node has it, else crc32Js. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  return native !== undefined ? native(bytes, crc) >>> 0 : crc32Js(bytes, crc);
}

function gf2MatrixTimes(mat: Uint32Array, vec: number): number {
  let sum = 0;
  let i = 0;
  while (vec !== 0) {
    if (vec & 1) sum ^= mat[i]!;
    vec >>>= 1;
    i++;
  }
  return sum >>> 0;
}

function gf2MatrixSquare(square: Uint32Array, mat: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = gf2MatrixTimes(mat, mat[n]!);
}

/**
 * The CRC-32 of A followed by B, given crc(A), crc(B) and the length of B (zlib's
 * crc32_combine: apply len2 zero bytes to crc1 through GF(2) matrix powers).
 */
export function crc32Combine(crc1: number, crc2: number, len2: number): number {
  if (len2 <= 0) return crc1 >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = POLY;
  let row = 1;
  for (let n = 1; n < 32; n++) {
    odd[n] = row;
    row = (row << 1) >>> 0;
  }
  gf2MatrixSquare(even, odd); // two zero bits
  gf2MatrixSquare(odd, even); // four zero bits
  let c = crc1 >>> 0;
  // len2 may exceed 2^32 for a combined tail; walk its bits arithmetically.
  let len = len2;
  do {
    gf2MatrixSquare(even, odd);
    if (len % 2 === 1) c = gf2MatrixTimes(even, c);
    len = Math.floor(len / 2);
    if (len === 0) break;
    gf2MatrixSquare(odd, even);
    if (len % 2 === 1) c = gf2MatrixTimes(odd, c);
    len = Math.floor(len / 2);
  } while (len !== 0);
  return (c ^ crc2) >>> 0;
}
