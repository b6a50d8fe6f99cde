// The cleanup plan over a realistic history in real git (test/support/git-history.ts: a bare origin, main with
// 15 dated commits, feature branches, a branch deleted after building, a local-only branch, lightweight
// and annotated tags with their own dates, shallow clones), with policies read from a real werf.yaml. Each
// expected set is derived by hand from werf's algorithm; the werf sources are cited where the rule comes from:
//   [refs]    werf/werf pkg/cleaning/git_history_based_cleanup/reference_to_scan.go (ReferencesToScan)
//   [scan]    werf/werf pkg/cleaning/git_history_based_cleanup/scanner.go (scanReferenceHistory)
//   [meta]    werf/werf pkg/cleaning/cleanup.go (gitHistoryBasedCleanup, cleanupImageMetadata)
//   [config]  werf/werf pkg/config/meta_cleanup.go (defaults of last and operator)
//   [cmd]     werf/werf cmd/werf/cleanup/cleanup.go, pkg/git_repo/local.go (SyncWithOrigin)
import { rmSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareGitHistory, readGitReferences } from '../../src/cleanup/cleanup.js';
import { planCleanup, type TagFacts } from '../../src/cleanup/plan.js';
import { loadWerfConfig } from '../../src/config/load-config.js';
import type { CleanupKeepPolicy } from '../../src/config/werf-config.js';
import { managedImageTag, metaTag, RECORD_LABELS } from '../../src/stages/metadata.js';
import { git, HOUR, makeHistory, stageIds, type History } from '../support/git-history.js';

const NOW = Math.floor(Date.UTC(2030, 5, 1, 12) / 1000) * 1000;
const PROJECT = 'history';
const BASE_YAML = `project: ${PROJECT}\nconfigVersion: 1\n---\nimage: app\ndockerfile: app.Dockerfile\n---\nimage: tools\ndockerfile: tools.Dockerfile\n`;

let history: History;
let ids: Record<string, string>;
const scratch: string[] = [];

beforeAll(() => {
  history = makeHistory(NOW, BASE_YAML);
  ids = stageIds(history);
  prepareGitHistory(history.clone, { allowFetchOriginBranchesAndTags: true, allowUnshallow: true });
});
afterAll(() => {
  rmSync(history.root, { recursive: true, force: true });
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** keepPolicies as werf.yaml states them, through Slipway's real config reader. */
function policiesOf(cleanupYaml: string): CleanupKeepPolicy[] {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-history-yaml-'));
  scratch.push(dir);
  writeFileSync(join(dir, 'werf.yaml'), `project: ${PROJECT}\nconfigVersion: 1\n${cleanupYaml}---\nimage: app\ndockerfile: app.Dockerfile\n`);
  return loadWerfConfig({ dir, looseGiterminism: true }).cleanup.keepPolicies;
}

/** What the stages repository holds after CI built every commit of the history: stages, meta- and managed-image records. */
function inventory(): TagFacts[] {
  const tags: TagFacts[] = [];
  let n = 0;
  const add = (tag: string, labels: Record<string, string>): void => {
    n++;
    tags.push({ tag, digest: `sha256:${String(n).padStart(64, '0')}`, kind: 'image', labels: { slipway: PROJECT, ...labels } });
  };
  for (const version of Object.keys(ids).sort()) add(ids[version]!, {});
  for (const build of history.builds) {
    for (const image of ['app', 'tools'] as const) {
      add(metaTag(image, history.commits[build.commit]!, ids[build[image]]!), { [RECORD_LABELS.imageName]: image });
    }
  }
  add(managedImageTag('app'), { [RECORD_LABELS.imageName]: 'app' });
  add(managedImageTag('tools'), { [RECORD_LABELS.imageName]: 'tools' });
  return tags;
}

interface Outcome {
  /** Versions (a1, t2, …) whose stage stays. */
  keptStages: string[];
  deletedStages: string[];
  /** `image@commit` of the meta- records that stay. */
  keptMetas: string[];
  deletedMetas: string[];
}

function outcome(workTree: string, policies: CleanupKeepPolicy[]): Outcome {
  const plan = planCleanup({
    project: PROJECT, tags: inventory(), mode: 'cleanup', now: NOW, keepBuiltWithinHours: 0,
    references: readGitReferences(workTree), policies, imageNames: ['app', 'tools'],
  });
  const versionOf = new Map(Object.entries(ids).map(([v, id]) => [id, v]));
  const labelOf = new Map(Object.entries(history.commits).map(([label, hash]) => [hash, label]));
  const metaLabel = (tag: string): string | undefined => {
    for (const build of history.builds) {
      for (const image of ['app', 'tools'] as const) {
        if (tag === metaTag(image, history.commits[build.commit]!, ids[build[image]]!)) return `${image}@${labelOf.get(history.commits[build.commit]!)}`;
      }
    }
    return undefined;
  };
  const stages = (list: { tag: string }[]): string[] => list.map((t) => versionOf.get(t.tag)).filter((v): v is string => v !== undefined).sort();
  const metas = (list: { tag: string }[]): string[] => list.map((t) => metaLabel(t.tag)).filter((v): v is string => v !== undefined).sort();
  expect(plan.delete.map((d) => d.tag)).not.toContain(managedImageTag('app'));
  return { keptStages: stages(plan.keep), deletedStages: stages(plan.delete), keptMetas: metas(plan.keep), deletedMetas: metas(plan.delete) };
}

/** A clone of origin as CI would get it (full history unless depth), synced the way cleanup syncs. */
function freshClone(name: string, depth?: number): string {
  const dir = join(history.root, name);
  git(history.root, ['clone', '-q', ...(depth === undefined ? [] : ['--depth', String(depth)]), `file://${history.origin}`, dir]);
  return dir;
}

const sorted = (...items: string[]): string[] => [...items].sort();
const ALL_STAGES = ['a1', 'a2', 'a3', 'a5', 'a6', 'a7', 'a8', 'a9', 'a10', 'a11', 'a12', 'a13', 'a15', 'b1', 'b2', 'c1', 'd1', 'e1', 't1', 't2', 't3'];
const except = (kept: string[]): string[] => ALL_STAGES.filter((v) => !kept.includes(v)).sort();

describe('the references cleanup sees', () => {
  it('after the sync: origin branches and the tags; the deleted branch and the local-only branch are not references', () => {
    const refs = readGitReferences(history.clone);
    // [refs]: only refs/remotes/origin/* and refs/tags/*; [cmd]: the sync prunes origin/feature/gone.
    expect(refs.map((r) => `${r.kind} ${r.name}`).sort()).toEqual(sorted(
      'branch feature/a', 'branch feature/old', 'branch main', 'tag v0.9', 'tag v1.0', 'tag v1.5', 'tag v2.0',
    ));
    // [refs]: an annotated tag is dated by its tagger, a lightweight tag and a branch by the commit.
    const time = (name: string): number => refs.find((r) => r.name === name)!.time;
    expect(time('v2.0')).toBe(NOW - 5 * HOUR);
    expect(time('v1.5')).toBe(NOW - 400 * HOUR);
    expect(time('v1.0')).toBe(history.times.m2);
    expect(time('main')).toBe(history.times.m15);
    // [refs]: a tag is scanned one commit deep.
    expect(refs.find((r) => r.name === 'v2.0')!.commits.map((c) => c.hash)).toEqual([history.commits.m5]);
    expect(refs.find((r) => r.name === 'main')!.commits).toHaveLength(15);
  });
});

describe('werf\'s default policies (no keepPolicies)', () => {
  // [refs] defaults: tags /.*/ last 10 (1 image each); branches /.*/ last 10 within 168h with 2 images within
  // 168h; ^(main|master|staging|production)$ with 10 images (the code's 10, not the docs' 2). main is selected by
  // the second and the third policy: the third, the last, sets its images (10).
  //   main (last 10): app stages on main, each dated by its newest commit: a15@m15 a13@m14 a12 a11 a10 a9 a8 a7
  //     a6 a5 a3 a2 a1 (m4 not built): the 10 newest commits keep a15 a13 a12 a11 a10 a9 a8 a7 a6 a5;
  //     tools: t2@m15, t1@m9 (2 ≤ 10, both).
  //   feature/a (10 h; last 2 in 168h And): commits within 168h fa2 fa1 m10 m9 m8 hold b2 b1 a10 a9 a8 → the two
  //     newest commits: b2, b1; tools t2@fa2, t1@m9.
  //   feature/old: its head is 250 h old, outside 168h: not selected. feature/gone: deleted. local-only: not on origin.
  //   tags (1 image, the tagged commit alone [scan depth 1]): v0.9 on m4 (not built): nothing (the history
  //     below, a3@m3, does not count); v1.0 → a2, t1; v1.5 → a6, t1; v2.0 → a5, t1.
  const kept = ['a15', 'a13', 'a12', 'a11', 'a10', 'a9', 'a8', 'a7', 'a6', 'a5', 'b2', 'b1', 'a2', 't1', 't2'];

  it('keeps exactly the stages the references select, and the meta- records they were kept through', () => {
    const result = outcome(history.clone, []);
    expect(result.keptStages).toEqual(sorted(...kept));
    expect(result.deletedStages).toEqual(except(kept)); // a1 a3 c1 d1 e1 t3
    // [meta]: a record stays only for the commit its stage was kept through (the newest one on that reference):
    // app@m13 goes (a13 is kept through m14), as do the records of every deleted stage and tools' other commits.
    expect(result.keptMetas).toEqual(sorted(
      'app@m15', 'app@m14', 'app@m12', 'app@m11', 'app@m10', 'app@m9', 'app@m8', 'app@m7', 'app@m6', 'app@m5', 'app@fa2', 'app@fa1', 'app@m2',
      'tools@m15', 'tools@m9', 'tools@fa2', 'tools@m2', 'tools@m6', 'tools@m5',
    ));
    expect(result.deletedMetas).toEqual(sorted(
      'app@m13', 'app@m3', 'app@m1', 'app@fo1', 'app@fg1', 'app@lo1',
      'tools@m1', 'tools@m3', 'tools@m7', 'tools@m8', 'tools@m10', 'tools@m11', 'tools@m12', 'tools@m13', 'tools@m14', 'tools@fa1',
      'tools@fo1', 'tools@fg1', 'tools@lo1',
    ));
  });

  it('a shallow clone is unshallowed and synced first, and then plans exactly as the full clone', () => {
    const shallow = freshClone('shallow', 1);
    expect(git(shallow, ['rev-parse', '--is-shallow-repository'])).toBe('true');
    // Without the sync, main would have one commit and no tags: the partial history the issue saw.
    expect(readGitReferences(shallow).find((r) => r.name === 'main')!.commits).toHaveLength(1);
    prepareGitHistory(shallow, { allowFetchOriginBranchesAndTags: true, allowUnshallow: true });
    expect(git(shallow, ['rev-parse', '--is-shallow-repository'])).toBe('false');
    expect(outcome(shallow, [])).toEqual(outcome(history.clone, []));
  });

  it('refuses a shallow clone it may not fetch or unshallow, and leaves it as it was', () => {
    const shallow = freshClone('shallow-refused', 1);
    // [cmd]: without allowFetchOriginBranchesAndTags werf refuses a shallow clone.
    expect(() => prepareGitHistory(shallow, { allowFetchOriginBranchesAndTags: false, allowUnshallow: true })).toThrow('git shallow clone is not allowed');
    // Slipway also honours allowUnshallow: false (werf would unshallow anyway; see docs/cleanup.md).
    expect(() => prepareGitHistory(shallow, { allowFetchOriginBranchesAndTags: true, allowUnshallow: false })).toThrow('git shallow clone is not allowed');
    expect(git(shallow, ['rev-parse', '--is-shallow-repository'])).toBe('true');
  });

  it('refuses a repository without an origin remote', () => {
    const dir = join(history.root, 'no-origin');
    git(history.root, ['clone', '-q', `file://${history.origin}`, dir]);
    git(dir, ['remote', 'remove', 'origin']);
    expect(() => prepareGitHistory(dir, { allowFetchOriginBranchesAndTags: true, allowUnshallow: true })).toThrow('git remote origin was not detected');
    expect(() => prepareGitHistory(dir, { allowFetchOriginBranchesAndTags: false, allowUnshallow: true })).toThrow('git remote origin was not detected');
  });
});

describe('custom keepPolicies', () => {
  it('overlapping policies: each reference gets the images of the last policy that selects it', () => {
    const policies = policiesOf([
      'cleanup:', '  keepPolicies:',
      '  - references:', '      branch: /.*/', '    imagesPerReference:', '      last: 5',
      '  - references:', '      branch: main', '    imagesPerReference:', '      last: 1', '',
    ].join('\n'));
    // [refs] applyImagesPerReference: main's settings are the second policy's (last 1), not a union of both.
    //   main: a15; tools t2.  feature/a (last 5): b2 b1 a10 a9 a8; tools t2@fa2, t1@m9.
    //   feature/old (last 5): c1@fo1 a5@m5 a3@m3 a2@m2 a1@m1; tools t1.  No tag policy: tags keep nothing.
    const kept = ['a15', 'b2', 'b1', 'a10', 'a9', 'a8', 'c1', 'a5', 'a3', 'a2', 'a1', 't1', 't2'];
    const result = outcome(history.clone, policies);
    expect(result.keptStages).toEqual(sorted(...kept));
    expect(result.deletedStages).toEqual(except(kept)); // a13 a12 a11 a7 a6 d1 e1 t3
  });

  it('imagesPerReference with `in` and no `last`: last is 1', () => {
    const policies = policiesOf(['cleanup:', '  keepPolicies:', '  - references:', '      branch: main', '    imagesPerReference:', '      in: 168h', ''].join('\n'));
    // [config] imagesPerReference.last defaults to 1, operator to And; [scan]: commits within 168h (m8 … m15) hold
    // a8 … a15 and t1@m9, t2@m15; one commit is kept: m15 → a15, t2.
    const result = outcome(history.clone, policies);
    expect(result.keptStages).toEqual(sorted('a15', 't2'));
    expect(result.keptMetas).toEqual(sorted('app@m15', 'tools@m15'));
  });

  it('an annotated tag is dated by its tagger date: a release tagged 5 h ago on a 220 h old commit is within 168h', () => {
    const policies = policiesOf(['cleanup:', '  keepPolicies:', '  - references:', '      tag: /.*/', '      limit:', '        in: 168h', ''].join('\n'));
    // [refs]: v2.0 (tagged 5 h ago) is in; v1.5 (tagged 400 h ago, on a 200 h old commit) and the lightweight
    // v1.0 and v0.9 (commits 280 h and 240 h old) are out. v2.0's commit m5 built a5 and t1.
    const result = outcome(history.clone, policies);
    expect(result.keptStages).toEqual(sorted('a5', 't1'));
    expect(result.keptMetas).toEqual(sorted('app@m5', 'tools@m5'));
  });

  it('a tag considers only the tagged commit, not its history', () => {
    const policies = policiesOf(['cleanup:', '  keepPolicies:', '  - references:', '      tag: v0.9', ''].join('\n'));
    // [refs] scanDepthLimit 1 for tags: v0.9 is on m4, which was not built; m3's a3 below it does not count.
    const result = outcome(history.clone, policies);
    expect(result.keptStages).toEqual([]);
    expect(result.deletedStages).toEqual(except([]));
  });

  it('a policy whose limit leaves a reference out does not take it over', () => {
    const policies = policiesOf([
      'cleanup:', '  keepPolicies:',
      '  - references:', '      branch: /.*/', '    imagesPerReference:', '      last: 3',
      '  - references:', '      branch: /.*/', '      limit:', '        last: 1', '    imagesPerReference:', '      last: 1', '',
    ].join('\n'));
    // [refs]: the second policy selects only the most recent branch, feature/a (head fa2, 10 h ago): it gets 1 image
    // (b2). main and feature/old keep the first policy's 3: a15 a13 a12; c1 a5 a3. tools: t2 (main, feature/a), t1 (feature/old).
    const kept = ['b2', 'a15', 'a13', 'a12', 'c1', 'a5', 'a3', 't1', 't2'];
    expect(outcome(history.clone, policies).keptStages).toEqual(sorted(...kept));
  });
});
