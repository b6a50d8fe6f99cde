import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, IntegrityError, InvalidInputError, NotFoundError } from '../../src/errors.js';
import { MediaType, digestOf, encodeManifest, type Descriptor, type ManifestDocument } from '../../src/oci/index.js';
import type { BlobSource } from '../../src/store/image-store.js';
import { OciLayoutStore, REF_NAME_ANNOTATION } from '../../src/store/oci-layout-store.js';

const run = promisify(execFile);
const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slipway-oci-layout-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sourceOf(bytes: Uint8Array, descriptor?: Partial<Descriptor>): BlobSource {
  return {
    descriptor: { mediaType: MediaType.OciLayerGzip, digest: digestOf(bytes), size: bytes.length, ...descriptor },
    // Several chunks, so the streaming path is exercised rather than one write.
    open: async () => Readable.from([Buffer.from(bytes.subarray(0, 3)), Buffer.from(bytes.subarray(3))]),
  };
}

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A ustar archive built by hand: enough for a real layer without a tar dependency. */
function tarOf(files: { name: string; content: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const file of files) {
    const body = Buffer.from(file.content);
    const header = Buffer.alloc(512);
    header.write(file.name, 0, 100, 'utf8');
    header.write('0000644\0', 100, 'ascii');
    header.write('0000000\0', 108, 'ascii');
    header.write('0000000\0', 116, 'ascii');
    header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
    header.write(`${(1_700_000_000).toString(8).padStart(11, '0')}\0`, 136, 'ascii');
    header.write('        ', 148, 'ascii'); // checksum field counts as spaces while summing
    header.write('0', 156, 'ascii');
    header.write('ustar\0', 257, 'ascii');
    header.write('00', 263, 'ascii');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

interface TestImage {
  config: Buffer;
  layer: Buffer;
  manifest: ManifestDocument;
}

function makeImage(text = 'hello from slipway\n'): TestImage {
  const tar = tarOf([{ name: 'hello.txt', content: text }]);
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin'] },
      rootfs: { type: 'layers', diff_ids: [digestOf(tar)] },
    }),
  );
  const manifest = encodeManifest(
    {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: digestOf(layer), size: layer.length }],
    },
    MediaType.OciManifest,
  );
  return { config, layer, manifest };
}

async function storeImage(store: OciLayoutStore, image: TestImage, tag?: string): Promise<void> {
  expect(await store.writeBlob(sourceOf(image.config, { mediaType: MediaType.OciConfig }))).toBe('uploaded');
  expect(await store.writeBlob(sourceOf(image.layer))).toBe('uploaded');
  await store.putManifest(image.manifest, tag);
}

function smallManifest(label: string): ManifestDocument {
  return encodeManifest(
    {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciEmpty, digest: digestOf(Buffer.from('{}')), size: 2 },
      layers: [],
      annotations: { label },
    },
    MediaType.OciManifest,
  );
}

async function readIndexJson(): Promise<{ manifests: Descriptor[] }> {
  return JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
}

async function blobFiles(): Promise<string[]> {
  return readdir(join(dir, 'blobs', 'sha256'));
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((done) => child.on('exit', done));
  if (child.pid === undefined) throw new Error('could not spawn a child process');
  return child.pid;
}

async function skopeo(args: string[]): Promise<string> {
  try {
    return (await run('skopeo', args, { maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') {
      throw new Error('skopeo is not installed, but this test checks the layout with it: apt-get install skopeo');
    }
    throw error;
  }
}

describe('OciLayoutStore: the layout itself', () => {
  it('creates a layout and reopens it', async () => {
    const layout = join(dir, 'new', 'store');
    const store = await OciLayoutStore.open(layout, { create: true });
    expect(store.name).toBe(`oci:${layout}`);
    expect(store.repository).toBeUndefined();
    expect(JSON.parse(await readFile(join(layout, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'))).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [],
    });
    await store.putManifest(smallManifest('a'), 'a');

    const again = await OciLayoutStore.open(layout);
    expect(await again.listTags()).toEqual(['a']);
    // create on an existing layout keeps its content
    const created = await OciLayoutStore.open(layout, { create: true });
    expect(await created.listTags()).toEqual(['a']);
  });

  it('names the directory when there is no layout', async () => {
    const missing = join(dir, 'missing');
    await expect(OciLayoutStore.open(missing)).rejects.toThrow(NotFoundError);
    await expect(OciLayoutStore.open(missing)).rejects.toThrow(missing);
    await expect(OciLayoutStore.open(dir)).rejects.toThrow(/no oci-layout file/);
  });

  it('rejects an invalid layout, and will not turn a foreign directory into one', async () => {
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    await expect(OciLayoutStore.open(dir)).rejects.toThrow(InvalidInputError);
    await writeFile(join(dir, 'oci-layout'), 'not json');
    await expect(OciLayoutStore.open(dir)).rejects.toThrow(InvalidInputError);
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await expect(OciLayoutStore.open(dir)).rejects.toThrow(/has no index.json/);
    await writeFile(join(dir, 'index.json'), '{"schemaVersion":2}');
    await expect(OciLayoutStore.open(dir)).rejects.toThrow(InvalidInputError);

    const foreign = join(dir, 'foreign');
    await mkdir(foreign);
    await writeFile(join(foreign, 'notes.txt'), 'mine');
    await expect(OciLayoutStore.open(foreign, { create: true })).rejects.toThrow(/not empty and not an OCI image layout/);
  });
});

describe('OciLayoutStore: manifests and tags', () => {
  it('writes blobs and a tagged manifest, resolves by tag and digest, returns identical bytes', async () => {
    const store = await OciLayoutStore.open(dir, { create: true });
    const image = makeImage();
    await storeImage(store, image, 'v1');

    const byTag = await store.resolve('v1');
    expect(byTag).toEqual({ mediaType: MediaType.OciManifest, digest: image.manifest.digest, size: image.manifest.bytes.length, platform: { architecture: 'amd64', os: 'linux' } });
    expect(await store.resolve(image.manifest.digest)).toEqual(byTag);
    expect(await store.resolve('v2')).toBeUndefined();
    expect(await store.resolve(digestOf(Buffer.from('nothing')))).toBeUndefined();
    // a layer is a blob but not a manifest
    expect(await store.resolve(digestOf(image.layer))).toBeUndefined();

    const doc = await store.getManifest('v1');
    expect(Buffer.from(doc.bytes).equals(Buffer.from(image.manifest.bytes))).toBe(true);
    expect(doc.digest).toBe(image.manifest.digest);
    expect(doc.kind).toBe('image');
    expect(Buffer.from((await store.getManifest(image.manifest.digest)).bytes).equals(Buffer.from(image.manifest.bytes))).toBe(true);
    await expect(store.getManifest('nope')).rejects.toThrow(NotFoundError);

    const index = await readIndexJson();
    expect(index.manifests).toEqual([{ ...byTag, annotations: { [REF_NAME_ANNOTATION]: 'v1' } }]);
    expect(await store.listTags()).toEqual(['v1']);
  });

  it('re-tagging replaces the entry; untagged puts add one entry per digest', async () => {
    const store = await OciLayoutStore.open(dir, { create: true });
    const a = smallManifest('a');
    const b = smallManifest('b');
    await store.putManifest(a, 'latest');
    await store.putManifest(a, 'stable');
    await store.putManifest(b, 'latest');
    expect((await store.resolve('latest'))?.digest).toBe(b.digest);
    expect((await store.resolve('stable'))?.digest).toBe(a.digest);
    expect(await store.listTags()).toEqual(['latest', 'stable']);
    expect((await readIndexJson()).manifests).toHaveLength(2);

    const c = smallManifest('c');
    await store.putManifest(c);
    await store.putManifest(c);
    await store.putManifest(a); // already tagged: nothing to add
    const entries = (await readIndexJson()).manifests;
    expect(entries).toHaveLength(3);
    expect(entries.filter((d) => d.digest === c.digest)).toEqual([{ mediaType: MediaType.OciManifest, digest: c.digest, size: c.bytes.length }]);

    // tagging the untagged manifest folds its untagged entry into the tagged one
    await store.putManifest(c, 'c');
    expect((await readIndexJson()).manifests.filter((d) => d.digest === c.digest)).toHaveLength(1);
    expect(await store.listTags()).toEqual(['c', 'latest', 'stable']);

    // the replaced manifest stays readable by digest, as in a registry
    await store.putManifest(b, 'stable');
    expect(await store.resolve(a.digest)).toEqual({ mediaType: MediaType.OciManifest, digest: a.digest, size: a.bytes.length });
    await expect(store.putManifest(a, 'bad tag')).rejects.toThrow(InvalidInputError);
  });

  it('deletes a manifest with all its tags, keeping the layers', async () => {
    const store = await OciLayoutStore.open(dir, { create: true });
    const image = makeImage();
    await storeImage(store, image, 'v1');
    await store.putManifest(image.manifest, 'v1-alias');
    const other = smallManifest('other');
    await store.putManifest(other, 'other');

    await store.deleteManifest(image.manifest.digest);
    expect(await store.listTags()).toEqual(['other']);
    expect(await store.resolve(image.manifest.digest)).toBeUndefined();
    expect(await store.hasBlob(image.manifest.digest)).toBe(false);
    expect(await store.hasBlob(digestOf(image.layer))).toBe(true);
    await expect(store.deleteManifest(image.manifest.digest)).rejects.toThrow(NotFoundError);
    // a layer is not a manifest: deleteManifest leaves it alone
    await expect(store.deleteManifest(digestOf(image.layer))).rejects.toThrow(NotFoundError);
    expect(await store.hasBlob(digestOf(image.layer))).toBe(true);
  });

  it('garbage-collects blobs nothing in index.json reaches', async () => {
    const store = await OciLayoutStore.open(dir, { create: true });
    const kept = makeImage('kept\n');
    const dropped = makeImage('dropped\n');
    await storeImage(store, kept, 'kept');
    await storeImage(store, dropped, 'dropped');
    const orphan = Buffer.from('orphan');
    await store.writeBlob(sourceOf(orphan));

    const young = await store.garbageCollect();
    expect(young.removed).toEqual([]); // everything is younger than the default grace
    expect(young.spared).toEqual({ blobs: 1, bytes: orphan.length, graceMs: 3600_000 }); // the orphan, kept and counted
    await store.deleteManifest(dropped.manifest.digest);
    const result = await store.garbageCollect({ minAgeMs: 0 });
    // each image has its own config (diff_ids differ), so all three of the dropped image's blobs go
    expect(result.removed.sort()).toEqual([digestOf(dropped.config), digestOf(dropped.layer), digestOf(orphan)].sort());
    expect(result.freedBytes).toBe(dropped.config.length + dropped.layer.length + orphan.length);
    expect((await blobFiles()).sort()).toEqual(
      [kept.manifest.digest, digestOf(kept.config), digestOf(kept.layer)].map((d) => d.slice('sha256:'.length)).sort(),
    );
  });
});

describe('OciLayoutStore: blobs', () => {
  it('streams blobs in and out, verified', async () => {
    const store = await OciLayoutStore.open(dir, { create: true });
    const bytes = Buffer.from('some layer bytes');
    const source = sourceOf(bytes);
    expect(await store.hasBlob(source.descriptor.digest)).toBe(false);
    expect(await store.writeBlob(source)).toBe('uploaded');
    expect(await store.writeBlob(source)).toBe('present');
    expect(await store.hasBlob(source.descriptor.digest)).toBe(true);
    expect((await drain(await store.readBlob(source.descriptor))).equals(bytes)).toBe(true);
    expect(Buffer.from(await store.readBlobBytes(source.descriptor)).equals(bytes)).toBe(true);
    await expect(store.readBlob(sourceOf(Buffer.from('absent')).descriptor)).rejects.toThrow(NotFoundError);
    await expect(store.hasBlob('sha256:nothex')).rejects.toThrow(InvalidInputError);
  });

  it('keeps nothing when the written content does not match its digest or size', async () => {
    const store = await OciLayoutStore.open(dir, { create: true });
    const claimed = sourceOf(Buffer.from('what the descriptor promises'));
    const wrongContent: BlobSource = { descriptor: claimed.descriptor, open: async () => Readable.from([Buffer.from('what the source really holds')]) };
    await expect(store.writeBlob(wrongContent)).rejects.toThrow(IntegrityError);
    const tooLong: BlobSource = { descriptor: claimed.descriptor, open: async () => Readable.from([Buffer.alloc(1000)]) };
    await expect(store.writeBlob(tooLong)).rejects.toThrow(IntegrityError);
    const failing: BlobSource = {
      descriptor: claimed.descriptor,
      open: async () =>
        new Readable({
          read() {
            this.destroy(new Error('connection reset'));
          },
        }),
    };
    await expect(store.writeBlob(failing)).rejects.toThrow(/connection reset/);
    expect(await blobFiles()).toEqual([]);
    expect(await store.hasBlob(claimed.descriptor.digest)).toBe(false);
  });

  it('fails the read stream on a blob corrupted on disk', async () => {
    const store = await OciLayoutStore.open(dir, { create: true });
    const bytes = Buffer.from('precious content, 32 bytes long!');
    const { descriptor } = sourceOf(bytes);
    await store.writeBlob(sourceOf(bytes));
    const path = join(dir, 'blobs', 'sha256', descriptor.digest.slice('sha256:'.length));

    await writeFile(path, Buffer.from('precious content, 32 bytes LONG!')); // same size, other bytes
    await expect(drain(await store.readBlob(descriptor))).rejects.toThrow(IntegrityError);
    await expect(store.readBlobBytes(descriptor)).rejects.toThrow(IntegrityError);

    await writeFile(path, Buffer.concat([bytes, Buffer.from('trailing')])); // longer
    await expect(drain(await store.readBlob(descriptor))).rejects.toThrow(/more than the expected/);
    await writeFile(path, bytes.subarray(0, 10)); // truncated
    await expect(drain(await store.readBlob(descriptor))).rejects.toThrow(/size mismatch/);
  });

  it('streams a blob larger than one read chunk', async () => {
    const store = await OciLayoutStore.open(dir, { create: true });
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    await store.writeBlob(sourceOf(big));
    let chunks = 0;
    const stream = await store.readBlob(sourceOf(big).descriptor);
    let size = 0;
    for await (const chunk of stream) {
      chunks++;
      size += (chunk as Buffer).length;
    }
    expect(size).toBe(big.length);
    expect(chunks).toBeGreaterThan(1);
  });
});

describe('OciLayoutStore: concurrent writers', () => {
  it('loses no index entry among 50 concurrent putManifest calls in one process', async () => {
    const store = await OciLayoutStore.open(dir, { create: true });
    const second = await OciLayoutStore.open(dir); // another instance on the same directory
    const manifests = Array.from({ length: 50 }, (_, i) => smallManifest(`m${i}`));
    await Promise.all(manifests.map((m, i) => (i % 2 === 0 ? store : second).putManifest(m, `tag-${i}`)));
    const tags = await store.listTags();
    expect(tags).toHaveLength(50);
    for (const [i, m] of manifests.entries()) expect((await store.resolve(`tag-${i}`))?.digest).toBe(m.digest);
    expect(await readdir(dir)).not.toContain('index.json.lock');
  });

  it('loses no index entry among 4 processes adding 20 tags each', async () => {
    await OciLayoutStore.open(dir, { create: true });
    const fixture = join(projectRoot, 'test', 'fixtures', 'oci-layout-writer.ts');
    const writers = ['p0', 'p1', 'p2', 'p3'].map((prefix) =>
      run(process.execPath, ['--import', 'tsx', fixture, dir, prefix, '20'], { cwd: projectRoot }),
    );
    await Promise.all(writers);
    const store = await OciLayoutStore.open(dir);
    const tags = await store.listTags();
    const expected = ['p0', 'p1', 'p2', 'p3'].flatMap((p) => Array.from({ length: 20 }, (_, i) => `${p}-${i}`)).sort();
    expect(tags).toEqual(expected);
    for (const tag of tags) expect((await store.getManifest(tag)).kind).toBe('image');
    expect((await readdir(dir)).filter((f) => f.includes('.tmp') || f.includes('lock'))).toEqual([]);
  }, 60_000);

  it('breaks a stale lock whose holder died', async () => {
    const store = await OciLayoutStore.open(dir, { create: true });
    const lock = join(dir, 'index.json.lock');
    await writeFile(lock, JSON.stringify({ pid: await deadPid(), host: hostname(), token: 'crashed', since: '2020-01-01T00:00:00Z' }));
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    await store.putManifest(smallManifest('after-crash'), 'after-crash');
    expect(await store.listTags()).toEqual(['after-crash']);
    expect(await readdir(dir)).not.toContain('index.json.lock');
  });

  it('waits for a live holder, however old its lock, and then gives up with a ConflictError', async () => {
    const store = await OciLayoutStore.open(dir, { create: true, lock: { timeoutMs: 300, staleMs: 10 } });
    const lock = join(dir, 'index.json.lock');
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), token: 'someone-else', since: '2020-01-01T00:00:00Z' }));
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    const attempt = store.putManifest(smallManifest('blocked'), 'blocked');
    await expect(attempt).rejects.toThrow(ConflictError);
    await expect(attempt).rejects.toThrow(`pid ${process.pid}`);
    expect(await store.listTags()).toEqual([]);
    // the holder's lock is left alone
    expect(JSON.parse(await readFile(lock, 'utf8'))).toMatchObject({ token: 'someone-else' });
  });
});

describe('OciLayoutStore: read by skopeo', () => {
  it('writes a layout skopeo can inspect and copy, and reads what skopeo wrote', async () => {
    const store = await OciLayoutStore.open(join(dir, 'layout'), { create: true });
    const image = makeImage();
    await storeImage(store, image, 'v1');

    const inspected = JSON.parse(await skopeo(['inspect', `oci:${join(dir, 'layout')}:v1`])) as {
      Digest: string;
      Architecture: string;
      Os: string;
      Layers: string[];
    };
    expect(inspected.Digest).toBe(image.manifest.digest);
    expect(inspected.Architecture).toBe('amd64');
    expect(inspected.Os).toBe('linux');
    expect(inspected.Layers).toEqual([digestOf(image.layer)]);
    const raw = await skopeo(['inspect', '--raw', `oci:${join(dir, 'layout')}:v1`]);
    expect(raw).toBe(Buffer.from(image.manifest.bytes).toString('utf8'));

    // skopeo copy reads (and verifies) every blob; then we read the layout skopeo wrote
    await skopeo(['copy', '--quiet', `oci:${join(dir, 'layout')}:v1`, `oci:${join(dir, 'copy')}:copied`]);
    const copy = await OciLayoutStore.open(join(dir, 'copy'));
    expect(await copy.listTags()).toEqual(['copied']);
    const copied = await copy.getManifest('copied');
    expect(copied.digest).toBe(image.manifest.digest);
    const configDescriptor = { mediaType: MediaType.OciConfig, digest: digestOf(image.config), size: image.config.length };
    expect(Buffer.from(await copy.readBlobBytes(configDescriptor)).equals(image.config)).toBe(true);
    const layerDescriptor = { mediaType: MediaType.OciLayerGzip, digest: digestOf(image.layer), size: image.layer.length };
    expect((await drain(await copy.readBlob(layerDescriptor))).equals(image.layer)).toBe(true);
  }, 60_000);
});
