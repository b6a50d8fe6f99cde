// StagesStorage against the real plain registry and a temp OCI layout: publish, find, the
// tag-list cache, oldest-wins, the per-digest critical section across instances and processes,
// multi-platform indexes, and opening the storage of a run.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError } from '../../src/errors.js';
import { MediaType, descriptorOf, encodeManifest, parseRepository, type ManifestDocument } from '../../src/oci/index.js';
import { staticCredentials } from '../../src/registry/auth/credentials.js';
import { RegistryClient } from '../../src/registry/client.js';
import type { ImageStore } from '../../src/store/image-store.js';
import { OciLayoutStore } from '../../src/store/oci-layout-store.js';
import { RegistryStore } from '../../src/store/registry-store.js';
import { openLocalStagesStorage, openStagesStorage } from '../../src/stages/local-storage.js';
import { formatStageTag, multiplatformDigestOf, rejectedStageTag, stageDigest } from '../../src/stages/stage-id.js';
import { StagesStorage } from '../../src/stages/stages-storage.js';
import { pushStageImage, writeStageBlobs } from '../fixtures/stages-image.js';
import { uniqueRepo } from '../support/images.js';
import { registries, skopeoInspect } from '../support/registries.js';

const run = promisify(execFile);
const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const client = new RegistryClient({ credentials: staticCredentials({}), retryBaseDelayMs: 5 });
afterAll(() => client.close());

const PROJECT = 'app';
const TS = 1_700_000_000_000;

let temp: string;
let lockDir: string;
beforeEach(async () => {
  temp = await mkdtemp(join(tmpdir(), 'slipway-stages-'));
  lockDir = join(temp, 'locks');
});
afterEach(async () => {
  await rm(temp, { recursive: true, force: true });
});

const newDigest = (): string => stageDigest([randomUUID()]);

interface Kind {
  name: string;
  /** A new empty location; `open` gives another store over the same location. */
  create(): Promise<{ location: string; open(): Promise<ImageStore> }>;
}

const KINDS: Kind[] = [
  {
    name: 'registry',
    async create() {
      const location = `${registries().plain.host}/${uniqueRepo('stages/app')}`;
      return { location, open: async () => new RegistryStore(client, parseRepository(location)) };
    },
  },
  {
    name: 'OCI layout',
    async create() {
      const dir = join(temp, 'layout');
      await OciLayoutStore.open(dir, { create: true });
      return { location: `oci:${dir}`, open: () => OciLayoutStore.open(dir) };
    },
  },
];

/** A push callback that writes a stage image and counts its calls. */
function pusher(store: ImageStore, content = 'stage'): { push: (tag: string) => Promise<{ manifestDigest: string }>; tags: string[] } {
  const tags: string[] = [];
  return {
    tags,
    push: async (tag) => {
      tags.push(tag);
      return { manifestDigest: await pushStageImage(store, tag, { project: PROJECT, content: `${content} ${tag}` }) };
    },
  };
}

describe.each(KINDS)('StagesStorage over a $name', (kind) => {
  async function storage(options: { now?: () => number } = {}): Promise<{ storage: StagesStorage; store: ImageStore; location: string; another(): Promise<StagesStorage> }> {
    const { location, open } = await kind.create();
    const store = await open();
    return {
      storage: new StagesStorage(store, { project: PROJECT, lockDir, ...options }),
      store,
      location,
      another: async () => new StagesStorage(await open(), { project: PROJECT, lockDir }),
    };
  }

  it('publishes a stage and finds it, in this instance and in a new one', async () => {
    const { storage: s, store, another } = await storage();
    const digest = newDigest();
    expect(await s.findStage(digest)).toBeUndefined();
    expect(await s.listStages()).toEqual([]);

    const before = Date.now();
    const { push, tags } = pusher(store);
    const published = await s.publishStage(digest, push);
    expect(tags).toEqual([published.tag]);
    expect(published.digest).toBe(digest);
    expect(published.tag).toBe(formatStageTag(digest, published.timestamp));
    expect(published.timestamp).toBeGreaterThanOrEqual(before);
    expect(published.timestamp).toBeLessThanOrEqual(Date.now());
    expect(published.manifestDigest).toMatch(/^sha256:/);

    // The same instance sees it without listing again.
    expect(await s.findStage(digest)).toEqual(published);
    expect(await s.listStages()).toEqual([published]);

    const other = await another();
    const found = await other.findStage(digest);
    expect(found).toEqual({ digest, timestamp: published.timestamp, tag: published.tag });
    expect(await other.resolveStage(found!)).toEqual(published);

    const image = await other.getStageImage(found!);
    expect(image.manifest.kind).toBe('image');
    expect(image.manifest.digest).toBe(published.manifestDigest);
    expect(image.config.parsed.config?.Labels).toMatchObject({ slipway: PROJECT });
  });

  it('lists once and caches: a stage published by another instance is invisible until refresh()', async () => {
    const { storage: s, another } = await storage();
    const other = await another();
    const digest = newDigest();
    expect(await s.findStage(digest)).toBeUndefined();

    const theirs = await other.publishStage(digest, pusher(other.store, 'theirs').push);
    expect(await s.findStage(digest)).toBeUndefined();
    expect(await s.listStages()).toEqual([]);

    s.refresh();
    expect(await s.findStage(digest)).toEqual({ digest, timestamp: theirs.timestamp, tag: theirs.tag });
  });

  it('returns the stage another runner published meanwhile, without calling push', async () => {
    const { storage: s, another } = await storage();
    const other = await another();
    const digest = newDigest();
    expect(await s.findStage(digest)).toBeUndefined(); // the lookup before building

    const theirs = await other.publishStage(digest, pusher(other.store, 'theirs').push);
    const mine = pusher(s.store, 'mine');
    const result = await s.publishStage(digest, mine.push);
    expect(mine.tags).toEqual([]);
    expect(result.tag).toBe(theirs.tag);
    expect((await s.findStage(digest))?.tag).toBe(theirs.tag); // the re-listing refreshed the cache
    const { manifest } = await s.getStageImage(result);
    expect(manifest.digest).toBe(theirs.manifestDigest);
  });

  it('keeps every stage it published when publications of other digests overlap', async () => {
    const { storage: s, store } = await storage();
    const digests = [newDigest(), newDigest(), newDigest()];
    // Each push waits a different time, so the re-listings and pushes interleave.
    const published = await Promise.all(
      digests.map((digest, i) =>
        s.publishStage(digest, async (tag) => {
          await sleep(50 * (digests.length - i));
          return { manifestDigest: await pushStageImage(store, tag, { project: PROJECT, content: tag }) };
        }),
      ),
    );
    for (const [i, digest] of digests.entries()) expect((await s.findStage(digest))?.tag).toBe(published[i]!.tag);
    expect((await s.listStages()).map((x) => x.tag).sort()).toEqual(published.map((p) => p.tag).sort());
  });

  it('picks the oldest timestamp, skips rejected stages and stages older than the parent', async () => {
    const { storage: s, store } = await storage();
    const digest = newDigest();
    for (const ts of [TS + 50, TS, TS + 20]) await pushStageImage(store, formatStageTag(digest, ts), { project: PROJECT, content: String(ts) });
    await pushStageImage(store, 'latest', { project: PROJECT, content: 'not a stage' });
    await pushStageImage(store, `${formatStageTag(digest, TS + 70)}-rejected`, { project: PROJECT, content: 'a rejected marker' });
    expect((await s.findStage(digest))?.timestamp).toBe(TS);
    expect((await s.findStage(digest, { minTimestamp: TS + 1 }))?.timestamp).toBe(TS + 20);
    expect((await s.listStages()).map((x) => x.timestamp)).toEqual([TS, TS + 20, TS + 50]);

    await pushStageImage(store, rejectedStageTag(digest, TS), { project: PROJECT, content: 'rejected' });
    s.refresh();
    expect((await s.findStage(digest))?.timestamp).toBe(TS + 20);
    expect(await s.findStage(digest, { minTimestamp: TS + 51 })).toBeUndefined();
  });

  it('publishes a new stage when the existing ones are older than the parent, not older than it', async () => {
    const clock = TS + 100;
    const { storage: s, store } = await storage({ now: () => clock });
    const digest = newDigest();
    await pushStageImage(store, formatStageTag(digest, TS), { project: PROJECT, content: 'old' });

    // The parent was stamped by a machine whose clock is ahead of ours.
    const { push, tags } = pusher(store);
    const stage = await s.publishStage(digest, push, { minTimestamp: TS + 500 });
    expect(tags).toEqual([formatStageTag(digest, TS + 500)]);
    expect(stage.timestamp).toBe(TS + 500);
    expect((await s.findStage(digest, { minTimestamp: TS + 500 }))?.tag).toBe(stage.tag);
    expect((await s.findStage(digest))?.timestamp).toBe(TS); // without a parent, the oldest still wins

    // A suitable stage exists now: nothing is pushed.
    const again = pusher(store);
    expect((await s.publishStage(digest, again.push, { minTimestamp: TS + 400 })).tag).toBe(stage.tag);
    expect(again.tags).toEqual([]);
  });

  it('never reuses the tag of a rejected stage', async () => {
    const { storage: s, store } = await storage({ now: () => TS });
    const digest = newDigest();
    await pushStageImage(store, rejectedStageTag(digest, TS), { project: PROJECT, content: 'rejected' });
    const stage = await s.publishStage(digest, pusher(store).push);
    expect(stage.timestamp).toBe(TS + 1);
  });

  it('releases the lock when push fails, and publishes on the next attempt', async () => {
    const { storage: s, store } = await storage();
    const digest = newDigest();
    await expect(s.publishStage(digest, async () => Promise.reject(new Error('upload broke')))).rejects.toThrow('upload broke');
    expect(await s.findStage(digest)).toBeUndefined();
    expect(await readdir(lockDir)).toEqual([]);
    const stage = await s.publishStage(digest, pusher(store).push);
    expect((await s.findStage(digest))?.tag).toBe(stage.tag);
  });

  it('serialises 4 instances in one process: one push, one tag', async () => {
    const { another } = await storage();
    const instances = await Promise.all([another(), another(), another(), another()]);
    const digest = newDigest();
    for (const instance of instances) expect(await instance.findStage(digest)).toBeUndefined();
    const pushes: string[] = [];
    const results = await Promise.all(
      instances.map((instance, i) =>
        instance.publishStage(digest, async (tag) => {
          pushes.push(tag);
          await sleep(100); // long enough that unserialised pushes would overlap
          return { manifestDigest: await pushStageImage(instance.store, tag, { project: PROJECT, content: `instance ${i}` }) };
        }),
      ),
    );
    expect(pushes).toHaveLength(1);
    expect(new Set(results.map((r) => r.tag))).toEqual(new Set(pushes));
    const fresh = await another();
    expect((await fresh.listStages()).filter((x) => x.digest === digest).map((x) => x.tag)).toEqual(pushes);
  });

  it('serialises 4 processes publishing the same digest at once: one push, one tag', async () => {
    const { location, another } = await storage();
    const digest = newDigest();
    const fixture = join(projectRoot, 'test', 'fixtures', 'stages-publisher.ts');
    // Node and tsx take a while to start: give every child the same start time well ahead.
    const start = Date.now() + 3000;
    const children = [0, 1, 2, 3].map(() => run(process.execPath, ['--import', 'tsx', fixture, location, lockDir, digest, String(start)], { cwd: projectRoot }));
    const outputs = (await Promise.all(children)).map((c) => JSON.parse(c.stdout.trim()) as { tag: string; pushed: boolean; manifestDigest?: string });

    const pushers = outputs.filter((o) => o.pushed);
    expect(pushers).toHaveLength(1);
    expect(new Set(outputs.map((o) => o.tag))).toEqual(new Set([pushers[0]!.tag]));
    const fresh = await another();
    const stages = (await fresh.listStages()).filter((x) => x.digest === digest);
    expect(stages.map((x) => x.tag)).toEqual([pushers[0]!.tag]);
    expect((await fresh.resolveStage(stages[0]!)).manifestDigest).toBe(pushers[0]!.manifestDigest);
    expect(await readdir(lockDir)).toEqual([]);
  }, 60_000);

  it('publishes and finds a multi-platform index under the bare digest, keeping the first one', async () => {
    const { storage: s, store, another } = await storage();
    const platforms = ['linux/arm64', 'linux/amd64'];
    const entries: { platform: string; stageId: string; manifest: ManifestDocument }[] = [];
    for (const platform of platforms) {
      const architecture = platform.split('/')[1]!;
      let manifest: ManifestDocument | undefined;
      const stage = await s.publishStage(newDigest(), async (tag) => {
        manifest = await writeStageBlobs(store, { project: PROJECT, content: platform, architecture });
        await store.putManifest(manifest, tag);
        return { manifestDigest: manifest.digest };
      });
      entries.push({ platform, stageId: stage.tag, manifest: manifest! });
    }
    const digest = multiplatformDigestOf(entries);
    const index = encodeManifest(
      {
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: entries.map((e) => descriptorOf(e.manifest, { platform: { os: 'linux', architecture: e.platform.split('/')[1]! } })),
      },
      MediaType.OciIndex,
    );
    expect(await s.findIndex(digest)).toBeUndefined();
    const published = await s.publishIndex(digest, index);
    expect(published).toEqual({ digest, tag: digest, manifestDigest: index.digest });
    expect(await s.findIndex(digest)).toEqual(published);
    expect((await s.findStage(digest))).toBeUndefined(); // an index is no stage

    const other = await another();
    const found = await other.findIndex(digest);
    expect(found).toEqual({ digest, tag: digest });
    expect((await other.getIndex(found!)).digest).toBe(index.digest);

    // A second, different index for the same digest does not replace the first.
    const annotated = encodeManifest({ ...index.parsed, annotations: { second: 'yes' } }, MediaType.OciIndex);
    expect((await other.publishIndex(digest, annotated)).manifestDigest).toBe(index.digest);
    expect((await store.resolve(digest))?.digest).toBe(index.digest);
    await expect(other.getStageImage({ digest, timestamp: TS, tag: digest })).rejects.toThrow(InvalidInputError);
  });

  it('refuses malformed digests and reports a listed stage that vanished', async () => {
    const { storage: s, store } = await storage();
    await expect(s.findStage('abc')).rejects.toThrow(InvalidInputError);
    await expect(s.publishStage('A'.repeat(56), pusher(store).push)).rejects.toThrow(InvalidInputError);
    const image = await writeStageBlobs(store, { project: PROJECT, content: 'x' });
    await expect(s.publishIndex(newDigest(), image)).rejects.toThrow(InvalidInputError);
    await expect(s.resolveStage({ digest: 'b'.repeat(56), timestamp: TS, tag: formatStageTag('b'.repeat(56), TS) })).rejects.toThrow(NotFoundError);
  });
});

describe('the stage images in the registry', () => {
  it('are plain images that skopeo reads under <repo>:<digest>-<ms>', async () => {
    const { plain } = registries();
    const location = `${plain.host}/${uniqueRepo('stages/skopeo')}`;
    const store = new RegistryStore(client, parseRepository(location));
    const s = new StagesStorage(store, { project: PROJECT, lockDir });
    const stage = await s.publishStage(newDigest(), pusher(store).push);
    const inspected = (await skopeoInspect(`${location}:${stage.tag}`)) as { Digest: string; Labels: Record<string, string> };
    expect(inspected.Digest).toBe(stage.manifestDigest);
    expect(inspected.Labels).toMatchObject({ slipway: PROJECT });
  });
});

describe('opening the stages storage of a run', () => {
  it('uses the registry repository given as --repo', async () => {
    const { plain } = registries();
    const repo = `${plain.host}/${uniqueRepo('stages/open')}`;
    const s = await openStagesStorage({ repo, client, project: PROJECT, home: join(temp, 'home') });
    expect(s.describe()).toBe(repo);
    expect(s.store).toBeInstanceOf(RegistryStore);
    expect(s.lockDir).toBe(join(temp, 'home', 'locks'));
    const stage = await s.publishStage(newDigest(), pusher(s.store).push);
    expect(await client.listTags(parseRepository(repo))).toEqual([stage.tag]);
    await s.close();
  });

  it('without --repo, uses an OCI layout under <home>/stages/<project>, created on demand', async () => {
    const home = join(temp, '.slipway');
    const s = await openStagesStorage({ client, project: PROJECT, home, env: { HOME: temp } });
    expect(s.describe()).toBe('local (~/.slipway/stages/app)');
    expect(s.store).toBeInstanceOf(OciLayoutStore);
    expect((await stat(join(home, 'stages', PROJECT, 'oci-layout'))).isFile()).toBe(true);
    const stage = await s.publishStage(newDigest(), pusher(s.store).push);
    expect(s.lockDir).toBe(join(home, 'locks'));

    // Another run finds it; another project does not.
    const again = await openLocalStagesStorage(home, PROJECT, { env: { HOME: '/elsewhere' } });
    expect(again.describe()).toBe(`local (${join(home, 'stages', PROJECT)})`);
    expect((await again.findStage(stage.digest))?.tag).toBe(stage.tag);
    const otherProject = await openStagesStorage({ repo: '', client, project: 'other', home, env: { HOME: temp } });
    expect(otherProject.describe()).toBe('local (~/.slipway/stages/other)');
    expect(await otherProject.findStage(stage.digest)).toBeUndefined();
  });

  it('takes the home from SLIPWAY_HOME when none is given', async () => {
    const home = join(temp, 'custom-home');
    const s = await openStagesStorage({ client, project: PROJECT, env: { HOME: temp, SLIPWAY_HOME: home } });
    expect(s.describe()).toBe('local (~/custom-home/stages/app)');
    expect(s.lockDir).toBe(join(home, 'locks'));
  });

  it('refuses a --repo with a tag', async () => {
    await expect(openStagesStorage({ repo: 'example.org/app:1', client, project: PROJECT, home: temp })).rejects.toThrow(InvalidInputError);
  });
});
