// runCleanup over an in-memory store: the last check before deleting (a tag pushed during cleanup that shares a
// candidate's manifest), dry runs, and deletion by digest.
import { describe, expect, it } from 'vitest';
import { runCleanup } from '../../src/cleanup/cleanup.js';
import { NotFoundError } from '../../src/errors.js';
import { encodeDocument, encodeManifest, MediaType, type Descriptor, type ManifestDocument } from '../../src/oci/index.js';
import type { ImageStore } from '../../src/store/image-store.js';

class MemoryStore {
  readonly name = 'memory';
  readonly tags = new Map<string, string>();
  readonly manifests = new Map<string, ManifestDocument>();
  readonly blobs = new Map<string, Uint8Array>();
  deletes: string[] = [];
  onList: (() => void) | undefined;

  image(tag: string, labels: Record<string, string>): string {
    const config = encodeDocument({ architecture: 'amd64', os: 'linux', config: { Labels: labels }, rootfs: { type: 'layers', diff_ids: [] } }, MediaType.OciConfig);
    this.blobs.set(config.digest, config.bytes);
    const manifest = encodeManifest({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: config.digest, size: config.bytes.length }, layers: [] }, MediaType.OciManifest);
    this.manifests.set(manifest.digest, manifest);
    this.tags.set(tag, manifest.digest);
    return manifest.digest;
  }
  async listTags(): Promise<string[]> {
    const tags = [...this.tags.keys()];
    this.onList?.();
    return tags;
  }
  async resolve(target: string): Promise<Descriptor | undefined> {
    const m = this.manifests.get(this.tags.get(target) ?? target);
    return m && { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
  }
  async getManifest(target: string): Promise<ManifestDocument> {
    const m = this.manifests.get(this.tags.get(target) ?? target);
    if (!m) throw new NotFoundError(`${target} not found`);
    return m;
  }
  async readBlobBytes(d: Descriptor): Promise<Uint8Array> {
    const b = this.blobs.get(d.digest);
    if (!b) throw new NotFoundError(`${d.digest} not found`);
    return b;
  }
  async deleteManifest(digest: string): Promise<void> {
    this.deletes.push(digest);
    this.manifests.delete(digest);
    for (const [t, d] of this.tags) if (d === digest) this.tags.delete(t);
  }
}

const OLD = Date.now() - 10 * 3_600_000;
const stage = (c: string): string => `${c.repeat(56)}-${OLD}`;

describe('runCleanup', () => {
  it('dry run deletes nothing; a real run deletes by digest', async () => {
    const store = new MemoryStore();
    const digest = store.image(stage('a'), { slipway: 'p' });
    store.image('exported', { 'org.example': '1' });
    const options = { store: store as unknown as ImageStore, project: 'p', mode: 'cleanup' as const, keepBuiltWithinHours: 2 };
    const dry = await runCleanup({ ...options, dryRun: true });
    expect(dry.plan.delete.map((d) => d.tag)).toEqual([stage('a')]);
    expect(store.deletes).toEqual([]);
    const real = await runCleanup(options);
    expect(store.deletes).toEqual([digest]);
    expect(real.deleted.map((d) => d.tag)).toEqual([stage('a')]);
    expect([...store.tags.keys()]).toEqual(['exported']);
  });

  it('does not delete a digest that a tag pushed during the cleanup points at', async () => {
    const store = new MemoryStore();
    const digest = store.image(stage('a'), { slipway: 'p' });
    let lists = 0;
    store.onList = () => {
      if (++lists === 1) store.tags.set('pushed-meanwhile', digest); // after the first listing, before the check
    };
    const result = await runCleanup({ store: store as unknown as ImageStore, project: 'p', mode: 'purge' });
    expect(store.deletes).toEqual([]);
    expect(result.skipped.map((s) => s.entry.tag)).toEqual([stage('a')]);
    expect(result.skipped[0]!.reason).toMatch(/pushed-meanwhile/);
  });
});
