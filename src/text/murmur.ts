// werf's util.LegacyMurmurHash (used by pkg/slug/slug.go in werf/werf): MurmurHash3 x86 32-bit, seed 0, over the UTF-8 bytes of
// the arguments joined by `:::`, printed as lowercase hex WITHOUT zero padding (Go's `%x` of a uint32), so the
// result is 1 to 8 characters long and the empty string hashes to `0`. Pure.

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** werf's separator between several hashed strings. */
export const MURMUR_ARGUMENT_SEPARATOR = ':::';

function rotl32(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function mixK(k: number): number {
  return Math.imul(rotl32(Math.imul(k, C1), 15), C2);
}

/** MurmurHash3_x86_32 of `bytes`, as an unsigned 32-bit integer. */
export function murmur3x86_32(bytes: Uint8Array, seed = 0): number {
  let h = seed >>> 0;
  const length = bytes.length;
  const blocksEnd = length - (length % 4);
  for (let i = 0; i < blocksEnd; i += 4) {
    const k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    h ^= mixK(k);
    h = rotl32(h, 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let tail = 0;
  switch (length % 4) {
    case 3:
      tail ^= bytes[blocksEnd + 2]! << 16;
    // falls through
    case 2:
      tail ^= bytes[blocksEnd + 1]! << 8;
    // falls through
    case 1:
      tail ^= bytes[blocksEnd]!;
      h ^= mixK(tail);
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * werf's `LegacyMurmurHash(args...)`: the arguments joined by `:::` (one argument as is, none as the empty
 * string), hashed over UTF-8, as lowercase hex without padding: `backend` → `27dba8ed`, `da/ta` → `afa96f8`.
 */
export function murmurHex(...args: readonly string[]): string {
  const data = Buffer.from(args.join(MURMUR_ARGUMENT_SEPARATOR), 'utf8');
  return murmur3x86_32(data, 0).toString(16);
}
