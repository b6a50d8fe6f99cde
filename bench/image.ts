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
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { tarHeader, writeLayerBlob, writeOciLayout } from '../test/support/oci-layout.js';
import { keystream, MIB } from './lib/random.js';

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

async function* randomTar(name: string, size: number): AsyncGenerator<Buffer> {
  yield tarHeader(name, size);
  const random = keystream();
  for (let left = size; left > 0; left -= MIB) yield random(Math.min(MIB, left));
  yield Buffer.alloc(((512 - (size % 512)) % 512) + 1024);
}

/** Adds an image of `layers` to the OCI layout at `dir` (created if needed) under `tag`. */
export async function buildImage(dir: string, tag: string, layers: LayerSpec[]): Promise<BuiltImage> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const built = await Promise.all(layers.map(async (layer, i) => ({
    mediaType: layer.compression === 'gzip' ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar',
    ...await writeLayerBlob(dir, `${tag}-layer-${i}.tmp`, Readable.from(randomTar(`${tag}-${i}.bin`, layer.size)), layer.compression),
  })));

  const config = JSON.stringify({
    created: new Date().toISOString(),
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: built.map((l) => l.diffId) },
  });
  // One image per layout directory: index.json names just this one.
  const { manifestDigest } = await writeOciLayout(dir, tag, config, built);
  const layerSizes = built.map((l) => l.size);
  return { tag, manifestDigest, totalBytes: layerSizes.reduce((a, b) => a + b, 0) + Buffer.byteLength(config), layerSizes };
}
