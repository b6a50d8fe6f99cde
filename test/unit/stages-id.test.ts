// Pure helpers of the stages storage: digests, tag shapes, oldest-wins, service labels.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import {
  SERVICE_LABELS,
  formatStageTag,
  isMultiplatformTag,
  isServiceLabel,
  isStageDigest,
  isStageTag,
  multiplatformDigest,
  multiplatformDigestOf,
  parseRejectedStageTag,
  parseStageTag,
  rejectedStageTag,
  selectOldest,
  stageDigest,
} from '../../src/stages/stage-id.js';
import { localStagesDir, slipwayHome } from '../../src/stages/local-storage.js';

const D = 'a'.repeat(56);
const TS = 1_700_000_000_000;

describe('stageDigest', () => {
  it('is SHA3-224 hex over the parts joined by ":::"', () => {
    const expected = createHash('sha3-224').update('linux/arm64:::1.2:::dockerfile').digest('hex');
    expect(stageDigest(['linux/arm64', '1.2', 'dockerfile'])).toBe(expected);
    expect(stageDigest(['x'])).toMatch(/^[0-9a-f]{56}$/);
  });

  it('gives the FIPS-202 value of the empty string', () => {
    expect(stageDigest([])).toBe('6b4e03423667dbb73b6e15454f0eb1abd4597f9a1b078e3f5b5a6bc7');
  });

  it('depends on where the separators fall', () => {
    expect(stageDigest(['a:::b'])).toBe(stageDigest(['a', 'b'])); // werf's join has this property too
    expect(stageDigest(['ab'])).not.toBe(stageDigest(['a', 'b']));
  });
});

describe('stage tags', () => {
  it('formats and parses <56 hex>-<13 digits>', () => {
    const tag = formatStageTag(D, TS);
    expect(tag).toBe(`${D}-${TS}`);
    expect(tag).toHaveLength(70);
    expect(parseStageTag(tag)).toEqual({ digest: D, timestamp: TS });
    expect(isStageTag(tag)).toBe(true);
  });

  it.each([
    ['55 hex', `${'a'.repeat(55)}-${TS}`],
    ['57 hex', `${'a'.repeat(57)}-${TS}`],
    ['uppercase hex', `${'A'.repeat(56)}-${TS}`],
    ['non-hex letter', `${'g'.repeat(56)}-${TS}`],
    ['12 digits', `${D}-${String(TS).slice(1)}`],
    ['14 digits', `${D}-${TS}0`],
    ['rejected marker', `${D}-${TS}-rejected`],
    ['multi-platform tag', D],
    ['no dash', `${D}${TS}`],
    ['underscore', `${D}_${TS}`],
    ['leading text', `x${D}-${TS}`],
    ['trailing newline', `${D}-${TS}\n`],
    ['negative', `${D}--${String(TS).slice(1)}`],
    ['meta record', `meta-27dba8ed_${'0'.repeat(40)}_${D}-${TS}`],
    ['managed image', 'managed-image-frontend__slash__app'],
    ['plain tag', 'latest'],
  ])('is not a stage: %s', (_what, tag) => {
    expect(parseStageTag(tag)).toBeUndefined();
    expect(isStageTag(tag)).toBe(false);
  });

  it('refuses to format what it would not parse', () => {
    expect(() => formatStageTag('A'.repeat(56), TS)).toThrow(InvalidInputError);
    expect(() => formatStageTag('a'.repeat(64), TS)).toThrow(InvalidInputError);
    expect(() => formatStageTag(D, 999_999_999_999)).toThrow(InvalidInputError);
    expect(() => formatStageTag(D, 10_000_000_000_000)).toThrow(InvalidInputError);
    expect(() => formatStageTag(D, TS + 0.5)).toThrow(InvalidInputError);
    expect(() => formatStageTag(D, Number.NaN)).toThrow(InvalidInputError);
  });

  it('accepts leading zeros in the 13 digits (werf parses them as a number)', () => {
    expect(parseStageTag(`${D}-0000000000001`)).toEqual({ digest: D, timestamp: 1 });
  });

  it('recognises rejected markers separately', () => {
    expect(rejectedStageTag(D, TS)).toBe(`${D}-${TS}-rejected`);
    expect(parseRejectedStageTag(`${D}-${TS}-rejected`)).toEqual({ digest: D, timestamp: TS });
    expect(parseRejectedStageTag(`${D}-${TS}`)).toBeUndefined();
    expect(parseRejectedStageTag(`${D}-${TS}-rejected-x`)).toBeUndefined();
  });

  it('recognises multi-platform tags and digests', () => {
    expect(isMultiplatformTag(D)).toBe(true);
    expect(isMultiplatformTag(`${D}-${TS}`)).toBe(false);
    expect(isMultiplatformTag('A'.repeat(56))).toBe(false);
    expect(isStageDigest(D)).toBe(true);
    expect(isStageDigest('a'.repeat(64))).toBe(false);
  });
});

describe('multiplatformDigest', () => {
  const amd = '2604b86b2c7a1c6d19c62601aadb19e7d5c6bb8f17bc2bf26a390ea7-1611836746968';
  const arm = '1b77754d35b0a3e603731828ee6f2400c4f937382874db2566c616bb-1624991915332';

  it("reproduces werf's worked example", () => {
    expect(multiplatformDigest([amd, arm])).toBe('27b6a44a7433422f2a73365a09a64f08bab8f8ffa6b9e06ce4ae34af');
  });

  it('depends on the order, so multiplatformDigestOf sorts by platform', () => {
    expect(multiplatformDigest([arm, amd])).not.toBe(multiplatformDigest([amd, arm]));
    const expected = multiplatformDigest([amd, arm]);
    expect(multiplatformDigestOf([{ platform: 'linux/arm64', stageId: arm }, { platform: 'linux/amd64', stageId: amd }])).toBe(expected);
    expect(multiplatformDigestOf([{ platform: 'linux/amd64', stageId: amd }, { platform: 'linux/arm64', stageId: arm }])).toBe(expected);
  });

  it('sorts platforms by byte order (linux/arm/v7 before linux/arm64)', () => {
    const a = `${'1'.repeat(56)}-${TS}`;
    const b = `${'2'.repeat(56)}-${TS}`;
    expect(multiplatformDigestOf([{ platform: 'linux/arm64', stageId: a }, { platform: 'linux/arm/v7', stageId: b }])).toBe(multiplatformDigest([b, a]));
  });

  it('refuses no platforms, malformed IDs and a platform twice', () => {
    expect(() => multiplatformDigest([])).toThrow(InvalidInputError);
    expect(() => multiplatformDigest([D])).toThrow(InvalidInputError);
    expect(() => multiplatformDigestOf([{ platform: 'linux/amd64', stageId: amd }, { platform: 'linux/amd64', stageId: arm }])).toThrow(/twice/);
  });
});

describe('selectOldest', () => {
  const c = (timestamp: number, name: string): { timestamp: number; name: string } => ({ timestamp, name });

  it('picks the oldest timestamp whatever the order', () => {
    expect(selectOldest([c(TS + 2, 'b'), c(TS, 'a'), c(TS + 1, 'c')])?.name).toBe('a');
    expect(selectOldest([c(TS, 'a'), c(TS + 5, 'b')])?.name).toBe('a');
  });

  it('is undefined without candidates', () => {
    expect(selectOldest([])).toBeUndefined();
  });

  it('keeps the first of equal timestamps', () => {
    expect(selectOldest([c(TS, 'first'), c(TS, 'second')])?.name).toBe('first');
  });

  it('skips candidates older than the parent (minTimestamp), keeping equal ones', () => {
    const list = [c(TS, 'old'), c(TS + 10, 'equal'), c(TS + 20, 'young')];
    expect(selectOldest(list, { minTimestamp: TS + 10 })?.name).toBe('equal');
    expect(selectOldest(list, { minTimestamp: TS + 11 })?.name).toBe('young');
    expect(selectOldest(list, { minTimestamp: TS + 21 })).toBeUndefined();
  });
});

describe('service labels', () => {
  it("are Slipway's names for werf's labels", () => {
    expect(SERVICE_LABELS).toEqual({
      project: 'slipway',
      version: 'slipway-version',
      stageContentDigest: 'slipway-stage-content-digest',
      parentStageId: 'slipway.io/parent-stage-id',
      projectRepoCommit: 'slipway-project-repo-commit',
    });
    for (const key of Object.values(SERVICE_LABELS)) expect(isServiceLabel(key)).toBe(true);
  });

  it.each([
    'slipway', 'slipway-version', 'slipway-anything', 'slipway.io/parent-stage-id', 'slipway.io/x',
    'werf', 'werf-version', 'werf-stage-content-digest', 'werf.io/parent-stage-id', 'werf.io/base-image-id',
    'werf-dependency-stage-id-abc', 'werf-import-checksum-1',
  ])('%s is a service label', (key) => {
    expect(isServiceLabel(key)).toBe(true);
  });

  it.each([
    'Slipway', 'WERF', 'slipwayish', 'werfish', 'io.werf.x', 'org.werf', 'slipway.io', 'slipway.iox/y',
    'werf.com/x', 'maintainer', 'org.opencontainers.image.source', '', 'x-slipway',
  ])('%j is not a service label', (key) => {
    expect(isServiceLabel(key)).toBe(false);
  });
});

describe('local paths', () => {
  it('slipwayHome: SLIPWAY_HOME_DIR, then SLIPWAY_HOME, then ~/.slipway', () => {
    expect(slipwayHome({ HOME: '/home/me' })).toBe(join('/home/me', '.slipway'));
    expect(slipwayHome({ HOME: '/home/me', SLIPWAY_HOME: '/data/slipway' })).toBe('/data/slipway');
    expect(slipwayHome({ HOME: '/home/me', SLIPWAY_HOME: '/a', SLIPWAY_HOME_DIR: '/b' })).toBe('/b');
    expect(slipwayHome({ HOME: '/home/me', SLIPWAY_HOME: '' })).toBe(join('/home/me', '.slipway'));
  });

  it('localStagesDir: <home>/stages/<project>, refusing names that leave it', () => {
    expect(localStagesDir('/h', 'app')).toBe(join('/h', 'stages', 'app'));
    for (const bad of ['', '.', '..', 'a/b', 'a\\b']) expect(() => localStagesDir('/h', bad)).toThrow(InvalidInputError);
  });
});
