// Writing OCI image layouts of generated layers: shared by test/support/registries.ts
// (pushRandomImage) and the benchmarks' images (bench/image.ts, bench/build-fixture.ts).
// No vitest import: the benchmarks run it outside the test runner.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

export const sha256 = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** A 512-byte ustar header for one entry (a regular file unless `typeflag` says otherwise). */
export function tarHeader(name: string, size: number, mode = 0o644, typeflag = '0'): Buffer {
  const h = Buffer.alloc(512);
  const put = (offset: number, length: number, value: string): void => {
    h.write(value, offset, length, 'ascii');
  };
  const octal = (value: number, length: number): string => `${value.toString(8).padStart(length - 1, '0')}\0`;
  put(0, 100, name);
  put(100, 8, octal(mode, 8));
  put(108, 8, octal(0, 8));
  put(116, 8, octal(0, 8));
  put(124, 12, octal(size, 12));
  put(136, 12, octal(0, 12));
  put(148, 8, '        '); // checksum counts as spaces while computing it
  put(156, 1, typeflag);
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  let sum = 0;
  for (const byte of h) sum += byte;
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** A pass-through that hashes and counts what flows through it. */
export function hasher(): PassThrough & { digest(): string; size(): number } {
  const hash = createHash('sha256');
  let size = 0;
  const t = new PassThrough() as PassThrough & { digest(): string; size(): number };
  t.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    size += chunk.length;
  });
  let digest: string | undefined;
  t.digest = () => (digest ??= `sha256:${hash.digest('hex')}`);
  t.size = () => size;
  return t;
}

export interface LayerBlob {
  /** Digest and size of the stored (possibly compressed) blob. */
  digest: string;
  size: number;
  /** Digest of the uncompressed tar (config rootfs.diff_ids). */
  diffId: string;
}

/**
 * Streams `tar` into the layout at `dir` (its blobs/sha256 must exist) as one layer blob,
 * gzip-compressed at level 1 (random data does not compress: level 1 costs the least) or
 * left as it is; written to `dir/tmpName` first and renamed to its digest.
 */
export async function writeLayerBlob(dir: string, tmpName: string, tar: Readable, compression: 'gzip' | 'none'): Promise<LayerBlob> {
  const tmp = join(dir, tmpName);
  const uncompressed = hasher();
  const stored = hasher();
  if (compression === 'gzip') await pipeline(tar, uncompressed, createGzip({ level: 1 }), stored, createWriteStream(tmp));
  else await pipeline(tar, uncompressed, stored, createWriteStream(tmp));
  await rename(tmp, join(dir, 'blobs', 'sha256', stored.digest().slice('sha256:'.length)));
  return { digest: stored.digest(), size: stored.size(), diffId: uncompressed.digest() };
}

export interface WrittenLayout {
  configDigest: string;
  manifestDigest: string;
  /** The exact manifest bytes written (OCI image manifest). */
  manifest: string;
}

/**
 * Completes the layout at `dir` (its blobs/sha256 must exist, holding the layers) with the
 * config blob, an OCI image manifest of `config` and `layers`, `oci-layout`, and an
 * `index.json` naming just this manifest, under `tag`.
 */
export async function writeOciLayout(
  dir: string,
  tag: string,
  config: string,
  layers: { mediaType: string; digest: string; size: number }[],
): Promise<WrittenLayout> {
  const blobs = join(dir, 'blobs', 'sha256');
  const writeBlob = async (data: string): Promise<string> => {
    const digest = sha256(data);
    await writeFile(join(blobs, digest.slice('sha256:'.length)), data);
    return digest;
  };
  const configDigest = await writeBlob(config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: Buffer.byteLength(config) },
    layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
  });
  const manifestDigest = await writeBlob(manifest);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifestDigest,
          size: Buffer.byteLength(manifest),
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  return { configDigest, manifestDigest, manifest };
}
