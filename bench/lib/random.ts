// Random bytes for the benchmarks' fixtures.
import { createCipheriv, randomBytes } from 'node:crypto';

export const MIB = 1024 * 1024;

/**
 * A fast source of random bytes: an AES-128-CTR keystream (as incompressible as
 * crypto.randomBytes, and fast). Each call returns the next `n` bytes, a new buffer.
 */
export function keystream(): (n: number) => Buffer {
  const cipher = createCipheriv('aes-128-ctr', randomBytes(16), randomBytes(16));
  const zeros = Buffer.alloc(MIB);
  return (n) => cipher.update(n <= MIB ? zeros.subarray(0, n) : Buffer.alloc(n));
}
