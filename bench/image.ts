// Benchmark images: OCI image layouts of random-content layers, written to disk and
// then pushed to a registry with skopeo by bench/copy.ts.
//
// Each layer is a tar holding one file of random bytes (an AES-CTR keystream: as
// incompressible as crypto.randomBytes, and fast). Layers are gzip-compressed (level 1,
// as pushRandomImage in test/support/registries.ts does): the media type and the bytes
// on the wire of a real image's layers, whose compressed content is near-random too.
// The compression runs on libuv's thread pool, so layers are built in parallel.
// A layer may instead stay an uncompressed tar (used for the 1 GiB memory test, where
// compression would only cost build time): push those with --preserve-digests.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

export interface LayerSpec {
  /** Bytes of random file content (the tar around it adds 2-3 KiB). */
  size: number;
  compression: 'gzip' | 'none';
}

export interface BuiltImage {
  /** The tag in the layout's index.json: `oci:<dir>:<tag>`. */
  tag: string;
  manifestDigest: string;
  /** Sum of the layer blobs and the config blob: what a copy moves. */
  totalBytes: number;
  layerSizes: number[];
}

const MIB = 1024 * 1024;

function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (offset: number, length: number, value: string): void => void h.write(value, offset, length, 'ascii');
  const octal = (value: number, length: number): string => `${value.toString(8).padStart(length - 1, '0')}\0`;
  put(0, 100, name);
  put(100, 8, octal(0o644, 8));
  put(108, 8, octal(0, 8));
  put(116, 8, octal(0, 8));
  put(124, 12, octal(size, 12));
  put(136, 12, octal(0, 12));
  put(148, 8, '        ');
  put(156, 1, '0');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  let sum = 0;
  for (const byte of h) sum += byte;
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

async function* randomTar(name: string, size: number): AsyncGenerator<Buffer> {
  yield tarHeader(name, size);
  const cipher = createCipheriv('aes-128-ctr', randomBytes(16), randomBytes(16));
  const zeros = Buffer.alloc(MIB);
  for (let left = size; left > 0; left -= MIB) yield cipher.update(left >= MIB ? zeros : zeros.subarray(0, left));
  yield Buffer.alloc(((512 - (size % 512)) % 512) + 1024);
}

function hasher(): PassThrough & { digest(): string; size(): number } {
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

const sha256 = (data: string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Adds an image of `layers` to the OCI layout at `dir` (created if needed) under `tag`. */
export async function buildImage(dir: string, tag: string, layers: LayerSpec[]): Promise<BuiltImage> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const built = await Promise.all(layers.map(async (layer, i) => {
    const tmp = join(dir, `${tag}-layer-${i}.tmp`);
    const uncompressed = hasher();
    const stored = hasher();
    const tar = Readable.from(randomTar(`${tag}-${i}.bin`, layer.size));
    if (layer.compression === 'gzip') await pipeline(tar, uncompressed, createGzip({ level: 1 }), stored, createWriteStream(tmp));
    else await pipeline(tar, uncompressed, stored, createWriteStream(tmp));
    await rename(tmp, join(blobs, stored.digest().slice('sha256:'.length)));
    return {
      mediaType: layer.compression === 'gzip' ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar',
      digest: stored.digest(),
      size: stored.size(),
      diffId: uncompressed.digest(),
    };
  }));

  const config = JSON.stringify({
    created: new Date().toISOString(),
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: built.map((l) => l.diffId) },
  });
  const configDigest = sha256(config);
  await writeFile(join(blobs, configDigest.slice('sha256:'.length)), config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: Buffer.byteLength(config) },
    layers: built.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
  });
  const manifestDigest = sha256(manifest);
  await writeFile(join(blobs, manifestDigest.slice('sha256:'.length)), manifest);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  // One image per layout directory: index.json names just this one.
  await writeFile(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: manifestDigest,
      size: Buffer.byteLength(manifest),
      annotations: { 'org.opencontainers.image.ref.name': tag },
    }],
  }));
  const layerSizes = built.map((l) => l.size);
  return { tag, manifestDigest, totalBytes: layerSizes.reduce((a, b) => a + b, 0) + Buffer.byteLength(config), layerSizes };
}
