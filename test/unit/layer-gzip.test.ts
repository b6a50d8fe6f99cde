import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGunzip, gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32, crc32Combine, crc32Js } from '../../src/builder/layer/crc32.js';
import { DeflatePool } from '../../src/builder/layer/deflate-pool.js';
import { ParallelGzipWriter, type ParallelGzipOptions } from '../../src/builder/layer/parallel-gzip.js';

const run = promisify(execFile);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slipway-layer-gzip-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function gzipParallel(data: Buffer, options: ParallelGzipOptions = {}, chunk = 7919): Promise<Buffer> {
  const parts: Buffer[] = [];
  const writer = new ParallelGzipWriter(async (b) => {
    parts.push(Buffer.from(b));
  }, options);
  for (let offset = 0; offset < data.length; offset += chunk) await writer.write(data.subarray(offset, offset + chunk));
  await writer.end();
  return Buffer.concat(parts);
}

async function gunzipStream(gz: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of Readable.from([gz]).pipe(createGunzip())) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Text-like data: repetitive enough that deflate finds matches, also across block cuts. */
function compressible(size: number): Buffer {
  const words = ['layer', 'image', 'registry', 'manifest', 'digest', 'slipway', '\n', ' ', 'werf', 'tar'];
  const out = Buffer.alloc(size);
  let seed = 12345;
  let offset = 0;
  while (offset < size) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    offset += out.write(words[seed % words.length]!, offset);
  }
  return out;
}

describe('crc32', () => {
  it('matches the known check value and the JS fallback', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Js(Buffer.from('123456789'))).toBe(0xcbf43926);
    const data = randomBytes(100_003);
    expect(crc32Js(data)).toBe(crc32(data));
    expect(crc32Js(data.subarray(500), crc32Js(data.subarray(0, 500)))).toBe(crc32(data));
  });

  it('combines the CRCs of consecutive pieces', () => {
    const data = randomBytes(50_000);
    for (const cut of [0, 1, 4096, 33_333, 50_000]) {
      const a = data.subarray(0, cut);
      const b = data.subarray(cut);
      expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(crc32(data));
    }
  });
});

describe('ParallelGzipWriter', () => {
  const cases: [string, Buffer, number][] = [
    ['empty', Buffer.alloc(0), 1024],
    ['one byte', Buffer.from('x'), 1024],
    ['exactly one block', randomBytes(4096), 4096],
    ['exactly three blocks', compressible(3 * 4096), 4096],
    ['many blocks of random data', randomBytes(200_000), 4096],
    ['many blocks of text, block smaller than the window', compressible(300_000), 1000],
    ['text in default-size blocks', compressible(2_500_000), 1024 * 1024],
  ];

  for (const [name, data, blockSize] of cases) {
    it(`round-trips ${name} through Node's gunzip, gzip -t and zcat`, async () => {
      const gz = await gzipParallel(data, { blockSize });
      expect(gunzipSync(gz).equals(data)).toBe(true);
      expect((await gunzipStream(gz)).equals(data)).toBe(true);
      const file = join(dir, `${name.replace(/\W+/g, '-')}.gz`);
      await writeFile(file, gz);
      await run('gzip', ['-t', file]);
      const { stdout } = await run('sh', ['-c', `zcat '${file}' | sha256sum`]);
      expect(stdout.split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
    });
  }

  it('writes one gzip member with a fixed header', async () => {
    const gz = await gzipParallel(compressible(50_000), { blockSize: 4096 });
    expect([...gz.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    // A second member would start with the magic again after the first one's trailer.
    expect(gz.indexOf(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]), 10)).toBe(-1);
  });

  it('gives the same bytes whatever the concurrency, pool size and write sizes', async () => {
    const data = compressible(400_000);
    const pool1 = new DeflatePool(1);
    const pool3 = new DeflatePool(3);
    try {
      const reference = await gzipParallel(data, { blockSize: 16_384, pool: pool1, concurrency: 1 }, 100_000);
      expect((await gzipParallel(data, { blockSize: 16_384, pool: pool3, concurrency: 5 }, 313)).equals(reference)).toBe(true);
      expect((await gzipParallel(data, { blockSize: 16_384 }, 65_536)).equals(reference)).toBe(true);
      // The block size and level are part of the output's identity.
      expect((await gzipParallel(data, { blockSize: 32_768, pool: pool3 })).equals(reference)).toBe(false);
    } finally {
      await Promise.all([pool1.close(), pool3.close()]);
    }
  });

  it('matches across blocks through the dictionary, close to single-stream size', async () => {
    const data = compressible(1_000_000);
    const single = (await import('node:zlib')).gzipSync(data, { level: 6 });
    const parallel = await gzipParallel(data, { blockSize: 65_536 });
    expect(parallel.length).toBeLessThan(single.length * 1.02);
  });

  it('fails later writes after a worker error and rejects a bad configuration', async () => {
    expect(() => new ParallelGzipWriter(async () => undefined, { level: 0 })).toThrow(/level/);
    expect(() => new ParallelGzipWriter(async () => undefined, { blockSize: 0 })).toThrow(/block size/);
    const pool = new DeflatePool(1);
    const writer = new ParallelGzipWriter(async () => undefined, { pool, blockSize: 1024, concurrency: 1 });
    await pool.close();
    await expect(
      (async () => {
        await writer.write(randomBytes(10_000));
        await writer.end();
      })(),
    ).rejects.toThrow(/closed/);
  });
});
