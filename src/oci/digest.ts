// Content digests: `algorithm:hex`, sha256 and sha512, computed while bytes stream past.

import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { IntegrityError, InvalidInputError } from '../errors.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

export function parseDigest(digest: string): ParsedDigest {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new InvalidInputError(`unsupported digest "${digest}": only sha256 and sha512 are supported`);
  }
  if (hex.length !== HEX_LENGTH[algorithm] || !/^[a-f0-9]+$/.test(hex)) {
    throw new InvalidInputError(`invalid digest "${digest}": expected ${HEX_LENGTH[algorithm]} lowercase hex characters after "${algorithm}:"`);
  }
  return { algorithm, hex };
}

export function isDigest(value: string): boolean {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export function verifyBytes(bytes: Uint8Array, expected: string, what: string): void {
  const { algorithm } = parseDigest(expected);
  const actual = digestOf(bytes, algorithm);
  if (actual !== expected) {
    throw new IntegrityError(`${what}: digest mismatch, expected ${expected} but the content hashes to ${actual}`);
  }
}

/**
 * A pass-through stream that hashes and counts what flows through it. When `expected`
 * is given, the stream fails at its end on a size or digest mismatch, so a consumer that
 * writes to a temp file and renames on success never keeps bad content.
 */
export class DigestingStream extends Transform {
  private readonly hash: Hash;
  private readonly algorithm: DigestAlgorithm;
  size = 0;
  private result: string | undefined;

  constructor(
    private readonly expected?: { digest?: string; size?: number; what: string },
    algorithm?: DigestAlgorithm,
  ) {
    super();
    this.algorithm = algorithm ?? (expected?.digest ? parseDigest(expected.digest).algorithm : 'sha256');
    this.hash = createHash(this.algorithm);
  }

  /** The digest of everything that passed, available once the stream ended. */
  get digest(): string {
    if (this.result === undefined) throw new Error('DigestingStream: digest read before the stream ended');
    return this.result;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    const limit = this.expected?.size;
    if (limit !== undefined && this.size > limit) {
      callback(new IntegrityError(`${this.expected!.what}: more than the expected ${limit} bytes`));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.result = `${this.algorithm}:${this.hash.digest('hex')}`;
    const expected = this.expected;
    if (expected?.size !== undefined && this.size !== expected.size) {
      callback(new IntegrityError(`${expected.what}: size mismatch, expected ${expected.size} bytes but got ${this.size}`));
      return;
    }
    if (expected?.digest !== undefined && this.result !== expected.digest) {
      callback(new IntegrityError(`${expected.what}: digest mismatch, expected ${expected.digest} but the content hashes to ${this.result}`));
      return;
    }
    callback();
  }
}
