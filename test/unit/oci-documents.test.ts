import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { DigestingStream, digestOf, parseDigest, verifyBytes } from '../../src/oci/digest.js';
import { encodeManifest, parseManifest, type ImageManifest } from '../../src/oci/documents.js';
import { MediaType } from '../../src/oci/media-types.js';
import { formatPlatform, parsePlatform } from '../../src/oci/platform.js';
import { IntegrityError, InvalidInputError } from '../../src/errors.js';

const layer = { mediaType: MediaType.OciLayerGzip, digest: 'sha256:' + '1'.repeat(64), size: 10 };
const config = { mediaType: MediaType.OciConfig, digest: 'sha256:' + '2'.repeat(64), size: 5 };

describe('digests', () => {
  it('computes and verifies sha256 and sha512', () => {
    const bytes = Buffer.from('hello');
    expect(digestOf(bytes)).toBe('sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(digestOf(bytes, 'sha512')).toMatch(/^sha512:[a-f0-9]{128}$/);
    expect(() => verifyBytes(bytes, digestOf(bytes, 'sha512'), 'x')).not.toThrow();
    expect(() => verifyBytes(Buffer.from('hellO'), digestOf(bytes), 'blob x')).toThrow(/blob x: digest mismatch/);
  });

  it('rejects malformed digests', () => {
    expect(() => parseDigest('md5:abc')).toThrow(InvalidInputError);
    expect(() => parseDigest('sha256:ABC')).toThrow('64 lowercase hex');
    expect(parseDigest('sha256:' + 'f'.repeat(64)).algorithm).toBe('sha256');
  });

  it('DigestingStream fails on a digest or size mismatch and passes good content', async () => {
    const data = Buffer.alloc(100_000, 7);
    const good = new DigestingStream({ digest: digestOf(data), size: data.length, what: 'blob' });
    const sink: Buffer[] = [];
    await pipeline(Readable.from([data.subarray(0, 500), data.subarray(500)]), good, async (src) => { for await (const c of src) sink.push(c as Buffer); });
    expect(Buffer.concat(sink).equals(data)).toBe(true);
    expect(good.digest).toBe(digestOf(data));

    const wrongDigest = new DigestingStream({ digest: digestOf(Buffer.from('other')), size: data.length, what: 'blob' });
    await expect(pipeline(Readable.from([data]), wrongDigest, async (src) => { for await (const _ of src) void _; })).rejects.toThrow(IntegrityError);
    const tooLong = new DigestingStream({ digest: digestOf(data), size: 10, what: 'blob' });
    await expect(pipeline(Readable.from([data]), tooLong, async (src) => { for await (const _ of src) void _; })).rejects.toThrow(/more than the expected 10 bytes/);
    const tooShort = new DigestingStream({ digest: digestOf(data), size: data.length + 1, what: 'blob' });
    await expect(pipeline(Readable.from([data]), tooShort, async (src) => { for await (const _ of src) void _; })).rejects.toThrow(/size mismatch/);
  });
});

describe('documents', () => {
  it('keeps exact bytes and unknown fields through an edit', () => {
    const text = '{"schemaVersion":2,  "mediaType":"application/vnd.oci.image.manifest.v1+json","config":' + JSON.stringify(config) +
      ',"layers":[' + JSON.stringify({ ...layer, 'x-vendor': { keep: true } }) + '],"x-future":[1,2]}';
    const doc = parseManifest(Buffer.from(text));
    expect(doc.kind).toBe('image');
    expect(Buffer.from(doc.bytes).toString()).toBe(text);
    expect(doc.digest).toBe(digestOf(Buffer.from(text)));
    const edited = encodeManifest({ ...(doc.parsed as ImageManifest), annotations: { a: 'b' } }, doc.mediaType);
    const reparsed = JSON.parse(Buffer.from(edited.bytes).toString()) as Record<string, unknown>;
    expect(reparsed['x-future']).toEqual([1, 2]);
    expect((reparsed.layers as Record<string, unknown>[])[0]!['x-vendor']).toEqual({ keep: true });
    expect(edited.digest).toBe(digestOf(edited.bytes));
  });

  it('detects media types from the document, the header, or the shape', () => {
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [] }));
    expect(parseManifest(index).mediaType).toBe(MediaType.OciIndex);
    expect(parseManifest(index, MediaType.DockerManifestList).mediaType).toBe(MediaType.DockerManifestList);
    const docker = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.DockerManifest, config, layers: [layer] }));
    expect(parseManifest(docker, 'application/json').kind).toBe('image');
    expect(() => parseManifest(Buffer.from('{"schemaVersion":1}'))).toThrow(/schemaVersion 1/);
    expect(() => parseManifest(Buffer.from('nope'), undefined, 'manifest x')).toThrow(/manifest x is not valid JSON/);
  });

  it('parses and normalises platforms', () => {
    expect(parsePlatform('linux/amd64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(formatPlatform(parsePlatform('linux/arm64/v8'))).toBe('linux/arm64');
    expect(formatPlatform(parsePlatform('linux/x86_64'))).toBe('linux/amd64');
    expect(formatPlatform(parsePlatform('linux/arm'))).toBe('linux/arm/v7');
    expect(() => parsePlatform('linux')).toThrow('OS/ARCH');
  });
});
