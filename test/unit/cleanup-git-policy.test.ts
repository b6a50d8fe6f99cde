// werf's git-history policy, pure: reference selection (limit last/in/operator) and images per reference.
import { describe, expect, it } from 'vitest';
import { applyReferencesLimit as applyLimit, defaultKeepPolicies, keepByGitHistory, selectReferences, type GitReference } from '../../src/cleanup/git-policy.js';
import type { CleanupKeepPolicy, CleanupLimit } from '../../src/config/werf-config.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2030, 0, 10, 12);
const lim = (last: number | undefined, hours?: number, operator?: 'And' | 'Or'): CleanupLimit =>
  ({ last, inMs: hours === undefined ? undefined : hours * HOUR, in: hours === undefined ? undefined : `${hours}h`, operator });
const branchRef = (name: string, hoursAgo: number, commits: [string, number][] = []): GitReference =>
  ({ kind: 'branch', name, time: NOW - hoursAgo * HOUR, commits: commits.map(([c, h]) => ({ hash: c.repeat(40), time: NOW - h * HOUR })) });

// werf pkg/cleaning/git_history_based_cleanup/reference_to_scan.go applyReferencesLimit; pkg/config/meta_cleanup.go
// (references.limit.last defaults to -1, operator to And).
describe('applyReferencesLimit', () => {
  const items = [1, 10, 100, 200]; // hours ago, newest first
  const time = (h: number): number => NOW - h * HOUR;
  it('last, in, And, Or, no limit', () => {
    expect(applyLimit(items, lim(2), time, NOW)).toEqual([1, 10]);
    expect(applyLimit(items, lim(undefined, 50), time, NOW)).toEqual([1, 10]);
    // Or with no count limit: the unlimited `last` side keeps everything.
    expect(applyLimit(items, lim(undefined, 50, 'Or'), time, NOW)).toEqual(items);
    // `in` is strict: a reference exactly `in` old is out.
    expect(applyLimit(items, lim(undefined, 10), time, NOW)).toEqual([1]);
    expect(applyLimit(items, lim(3, 50), time, NOW)).toEqual([1, 10]);
    expect(applyLimit(items, lim(3, 50, 'And'), time, NOW)).toEqual([1, 10]);
    expect(applyLimit(items, lim(3, 5, 'Or'), time, NOW)).toEqual([1, 10, 100]);
    expect(applyLimit(items, lim(1, 50, 'Or'), time, NOW)).toEqual([1, 10]);
    expect(applyLimit(items, lim(-1), time, NOW)).toEqual(items);
    expect(applyLimit(items, undefined, time, NOW)).toEqual(items);
  });
});

describe('selectReferences', () => {
  it('matches names and keeps the most recently active first', () => {
    const [tags, active, named] = defaultKeepPolicies() as [CleanupKeepPolicy, CleanupKeepPolicy, CleanupKeepPolicy];
    const refs = [branchRef('old', 500), branchRef('main', 400), branchRef('f1', 5), branchRef('f2', 1), { ...branchRef('v1', 1), kind: 'tag' as const }];
    expect(selectReferences(active, refs, NOW).map((r) => r.name)).toEqual(['f2', 'f1']);
    expect(selectReferences(named, refs, NOW).map((r) => r.name)).toEqual(['main']);
    expect(selectReferences(tags, refs, NOW).map((r) => r.name)).toEqual(['v1']);
  });
});

describe('keepByGitHistory', () => {
  it('walks each reference newest first, counting each stage once per image', () => {
    const metas = [
      { imageKey: 'k', imageName: 'app', commit: 'd'.repeat(40), stageId: 'S3' },
      { imageKey: 'k', imageName: 'app', commit: 'c'.repeat(40), stageId: 'S2' },
      { imageKey: 'k', imageName: 'app', commit: 'b'.repeat(40), stageId: 'S2' },
      { imageKey: 'k', imageName: 'app', commit: 'a'.repeat(40), stageId: 'S1' },
      { imageKey: 'j', imageName: 'tools', commit: 'a'.repeat(40), stageId: 'T1' },
    ];
    const main = branchRef('main', 1, [['d', 1], ['c', 2], ['b', 3], ['a', 4]]);
    const policy: CleanupKeepPolicy = {
      references: { branch: { source: 'main', regex: /^main$/ }, tag: undefined, limit: undefined },
      imagesPerReference: lim(2),
    };
    const kept = keepByGitHistory({ policies: [policy], references: [main], metas, now: NOW }).kept;
    expect([...kept.keys()].sort()).toEqual(['S2', 'S3', 'T1']);
    // Default imagesPerReference: one image.
    const one = keepByGitHistory({ policies: [{ ...policy, imagesPerReference: undefined }], references: [main], metas, now: NOW }).kept;
    expect([...one.keys()].sort()).toEqual(['S3', 'T1']);
    // imagesPerReference.in with last -1: every stage with a commit within the window.
    const recent = keepByGitHistory({ policies: [{ ...policy, imagesPerReference: lim(-1, 2.5) }], references: [main], metas, now: NOW }).kept;
    expect([...recent.keys()].sort()).toEqual(['S2', 'S3']);
    // imagesPerReference.in without last: werf's last defaults to 1 (pkg/config/meta_cleanup.go).
    const inOnly = keepByGitHistory({ policies: [{ ...policy, imagesPerReference: lim(undefined, 2.5) }], references: [main], metas, now: NOW }).kept;
    expect([...inOnly.keys()].sort()).toEqual(['S3']);
  });
});
