// The pure cleanup plan: candidates, keep reasons, the shared-digest check, purge; no registry, no git.
import { describe, expect, it } from 'vitest';
import { planCleanup, type PlanInput, type TagFacts } from '../../src/cleanup/plan.js';
import type { GitReference } from '../../src/cleanup/git-policy.js';
import { managedImageTag, metaTag } from '../../src/stages/metadata.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2030, 0, 10, 12);
const hex = (c: string): string => c.repeat(56);
const stage = (c: string, hoursAgo: number): string => `${hex(c)}-${NOW - hoursAgo * HOUR}`;
const dg = (n: number): string => `sha256:${String(n).padStart(64, '0')}`;
const P = 'proj';

function image(tag: string, digest: string, labels: Record<string, string> | undefined, layers: [string, number][] = []): TagFacts {
  return { tag, digest, kind: 'image', labels, layers: layers.map(([d, size]) => ({ digest: d, size })) };
}
const ours = (extra: Record<string, string> = {}): Record<string, string> => ({ slipway: P, ...extra });

function plan(tags: TagFacts[], extra: Partial<PlanInput> = {}) {
  return planCleanup({ project: P, tags, mode: 'cleanup', now: NOW, keepBuiltWithinHours: 2, ...extra });
}
const deleted = (p: ReturnType<typeof plan>): string[] => p.delete.map((d) => d.tag).sort();
const reasonsOf = (p: ReturnType<typeof plan>, tag: string): string[] => p.keep.find((k) => k.tag === tag)?.reasons ?? [];

describe('cleanup plan: candidates', () => {
  it('never touches a stage-shaped tag without this project\'s label (an exported image), nor other tags', () => {
    const exported = stage('e', 100);
    const other = stage('f', 100);
    const tags = [
      image(exported, dg(1), { 'org.example': 'x' }),
      image(other, dg(2), { slipway: 'another-project' }),
      image('latest', dg(3), ours()),
      image(hex('a'), dg(4), ours()), // an image (not an index) under an index-shaped tag
      image(stage('b', 100), dg(5), ours()),
    ];
    for (const mode of ['cleanup', 'purge'] as const) {
      const p = plan(tags, { mode });
      expect(deleted(p)).toEqual([stage('b', 100)]);
      expect(p.untouched.sort()).toEqual([exported, other, 'latest', hex('a')].sort());
    }
  });

  it('takes an index as a candidate only when every child is this project\'s', () => {
    const s1 = stage('1', 100);
    const tags: TagFacts[] = [
      image(s1, dg(1), ours()),
      { tag: hex('a'), digest: dg(10), kind: 'index', children: [dg(1)], childProject: P },
      { tag: hex('b'), digest: dg(11), kind: 'index', children: [dg(99)], childProject: undefined },
    ];
    const p = plan(tags, { mode: 'purge' });
    expect(deleted(p)).toEqual([s1, hex('a')].sort());
    expect(p.untouched).toEqual([hex('b')]);
  });
});

describe('cleanup plan: keep', () => {
  it('keeps stages built within the window, and their parents transitively', () => {
    const root = stage('1', 100);
    const mid = stage('2', 90);
    const young = stage('3', 1);
    const stale = stage('4', 50);
    const tags = [
      image(root, dg(1), ours()),
      image(mid, dg(2), ours({ 'slipway.io/parent-stage-id': root })),
      image(young, dg(3), ours({ 'slipway.io/parent-stage-id': mid })),
      image(stale, dg(4), ours({ 'slipway.io/parent-stage-id': root })),
    ];
    const p = plan(tags);
    expect(deleted(p)).toEqual([stale]);
    expect(reasonsOf(p, young)).toEqual(['built within the last 2 hours']);
    expect(reasonsOf(p, mid)).toEqual([`parent of kept stage ${young}`]);
    expect(reasonsOf(p, root)).toEqual([`parent of kept stage ${mid}`]);
    expect(deleted(plan(tags, { keepBuiltWithinHours: 0 }))).toEqual([root, mid, young, stale].sort());
    expect(deleted(plan(tags, { keepBuiltWithinHours: undefined }))).toEqual([root, mid, young, stale].sort());
  });

  it('keeps --keep-list tags and the platform stages of a kept index', () => {
    const amd = stage('1', 100);
    const arm = stage('2', 100);
    const tags: TagFacts[] = [
      image(amd, dg(1), ours()), image(arm, dg(2), ours()),
      { tag: hex('a'), digest: dg(10), kind: 'index', children: [dg(1), dg(2)], childProject: P },
    ];
    const p = plan(tags, { keepList: [hex('a')] });
    expect(deleted(p)).toEqual([]);
    expect(reasonsOf(p, hex('a'))).toEqual(['in --keep-list']);
    expect(reasonsOf(p, amd)).toEqual([`platform stage of kept index ${hex('a')}`]);
  });

  it('keeps an index one of whose platform stages is young', () => {
    const tags: TagFacts[] = [
      image(stage('1', 1), dg(1), ours()), image(stage('2', 100), dg(2), ours()),
      { tag: hex('a'), digest: dg(10), kind: 'index', children: [dg(1), dg(2)], childProject: P },
    ];
    expect(deleted(plan(tags))).toEqual([]);
  });

  it('without the git policy deletes every meta- record (werf purges them), keeps managed-image records of images in werf.yaml', () => {
    const kept = stage('1', 1);
    const gone = stage('2', 100);
    const commit = 'c'.repeat(40);
    const metaKept = metaTag('app', commit, kept);
    const metaGone = metaTag('app', commit, gone);
    const metaOrphan = metaTag('app', commit, stage('9', 100));
    const tags = [
      image(kept, dg(1), ours()), image(gone, dg(2), ours()),
      image(metaKept, dg(3), ours()), image(metaGone, dg(4), ours()), image(metaOrphan, dg(5), ours()),
      image(managedImageTag('app'), dg(6), ours({ 'slipway.io/image-name': 'app' })),
      image(managedImageTag('old'), dg(7), ours({ 'slipway.io/image-name': 'old' })),
    ];
    const p = plan(tags, { imageNames: ['app'] });
    // werf pkg/cleaning/cleanup.go: with the git-history policy off, purgeImageMetadata deletes every record,
    // also that of a stage kept for another reason.
    expect(deleted(p)).toEqual([gone, metaKept, metaGone, metaOrphan, managedImageTag('old')].sort());
    expect(reasonsOf(p, managedImageTag('app'))).toEqual(['image app is in werf.yaml']);
    expect(deleted(plan(tags, { imageNames: undefined }))).not.toContain(managedImageTag('old'));
  });

  it('with cleanup.disable deletes only metadata records', () => {
    const s = stage('1', 100);
    const meta = metaTag('app', 'c'.repeat(40), stage('9', 100));
    const p = plan([image(s, dg(1), ours()), image(meta, dg(2), ours())], { disabled: true });
    expect(deleted(p)).toEqual([meta]);
    expect(reasonsOf(p, s)).toEqual(['cleanup.disable is set in werf.yaml']);
  });
});

describe('cleanup plan: deleting by digest', () => {
  it('refuses to delete a digest another staying tag points at, and keeps what that stage needs', () => {
    const parent = stage('1', 100);
    const child = stage('2', 100);
    const tags = [
      image(parent, dg(1), ours()),
      image(child, dg(2), ours({ 'slipway.io/parent-stage-id': parent })),
      image('release', dg(2), { slipway: P }), // a user tag on the same manifest
    ];
    const p = plan(tags);
    expect(deleted(p)).toEqual([]);
    expect(reasonsOf(p, child)[0]).toMatch(/tag release has the same manifest digest/);
    expect(reasonsOf(p, parent)).toEqual([`parent of kept stage ${child}`]);
  });

  it('refuses to delete a manifest a staying (foreign) index names', () => {
    const s = stage('1', 100);
    const tags: TagFacts[] = [image(s, dg(1), ours()), { tag: 'multi', digest: dg(10), kind: 'index', children: [dg(1)] }];
    expect(deleted(plan(tags, { mode: 'purge' }))).toEqual([]);
  });

  it('deletes two candidate tags of one digest once, and counts layers referenced only by deleted images', () => {
    const a = stage('1', 100);
    const b = stage('2', 100);
    const tags = [
      image(a, dg(1), ours(), [['L1', 100], ['L2', 50]]),
      image(b, dg(1), ours(), [['L1', 100], ['L2', 50]]),
      image('exported', dg(5), {}, [['L2', 50]]),
    ];
    const p = plan(tags);
    expect(deleted(p)).toEqual([a, b].sort());
    expect(p.deleteDigests).toEqual([dg(1)]);
    expect(p.bytesReferenced).toBe(100);
  });
});

describe('cleanup plan: git history', () => {
  const commits = (...specs: [string, number][]) => specs.map(([c, hoursAgo]) => ({ hash: c.repeat(40), time: NOW - hoursAgo * HOUR }));

  it('keeps the stages linked to the newest commits with records of each selected reference (werf defaults)', () => {
    const v1 = stage('1', 300);
    const v2 = stage('2', 200);
    const v3 = stage('3', 100);
    const tags = [
      image(v1, dg(1), ours()), image(v2, dg(2), ours()), image(v3, dg(3), ours()),
      image(metaTag('app', 'a'.repeat(40), v1), dg(11), ours({ 'slipway.io/image-name': 'app' })),
      image(metaTag('app', 'b'.repeat(40), v2), dg(12), ours({ 'slipway.io/image-name': 'app' })),
      image(metaTag('app', 'd'.repeat(40), v3), dg(13), ours({ 'slipway.io/image-name': 'app' })),
    ];
    const main: GitReference = { kind: 'branch', name: 'main', time: NOW - 100 * HOUR, commits: commits(['d', 100], ['e', 150], ['b', 200], ['a', 300]) };
    const p = plan(tags, { references: [main], keepBuiltWithinHours: 0 });
    // main: 10 images (werf's code for main/master/staging/production; its docs say 2), so all three stay;
    // the "most active branches" policy wants 168h and main is older.
    expect(deleted(p)).toEqual([]);
    expect(reasonsOf(p, v3)[0]).toMatch(/^git history: branch main, image app at commit d{12}/);
    // A tag keeps one image.
    const tag: GitReference = { kind: 'tag', name: 'v1.0', time: NOW - 300 * HOUR, commits: commits(['a', 300]) };
    expect(deleted(plan(tags, { references: [tag], keepBuiltWithinHours: 0 }))).toEqual(
      [v2, v3, metaTag('app', 'b'.repeat(40), v2), metaTag('app', 'd'.repeat(40), v3)].sort(),
    );
  });
});
