import { describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError } from '../../src/errors.js';
import { parseWerfConfig } from '../../src/config/schema/index.js';
import {
  dependencyLevels,
  parseImagePatterns,
  resolveDependencyOrder,
  selectImages,
} from '../../src/config/select-images.js';

const CONFIG = parseWerfConfig(`project: app
configVersion: 1
---
image: backend
dockerfile: Dockerfile
---
image: frontend
dockerfile: Dockerfile
dependencies:
- from: assets
---
image: assets
final: false
from: node:20
---
image: backend-worker
fromImage: base
---
image: base
from: alpine
final: false
`);

function names(patterns: string[], finalOnly = false): string[] {
  return selectImages(CONFIG, patterns, { finalOnly }).images.map((image) => image.name);
}

describe('selectImages (werf NewImagesToProcess)', () => {
  it('selects every image, sorted by name, without patterns', () => {
    expect(names([])).toEqual(['assets', 'backend', 'backend-worker', 'base', 'frontend']);
    expect(names([], true)).toEqual(['backend', 'backend-worker', 'frontend']);
  });

  it('matches globs and exact names', () => {
    expect(names(['back*'])).toEqual(['backend', 'backend-worker']);
    expect(names(['frontend', 'b?se'])).toEqual(['base', 'frontend']);
    expect(names(['[ab]*'])).toEqual(['assets', 'backend', 'backend-worker', 'base']);
  });

  it('applies exclusions, unless an include pattern names the image literally', () => {
    expect(names(['!back*'])).toEqual(['assets', 'base', 'frontend']);
    expect(names(['back*', '!*-worker'])).toEqual(['backend']);
    expect(names(['backend-worker', '!back*'])).toEqual(['backend-worker']);
    expect(names(['backend*', '!backend*'])).toEqual([]);
  });

  it('fails for an include pattern that matches nothing', () => {
    expect(() => names(['nonexistent'])).toThrow(new NotFoundError('no image matches pattern "nonexistent"'));
    expect(() => names(['backend', 'x*'])).toThrow('no image matches pattern "x*"');
    // An exclusion that matches nothing is fine.
    expect(names(['!nothing'])).toHaveLength(5);
  });

  it('rejects bad patterns with werf messages, before matching', () => {
    expect(() => names(['**'])).toThrow(new InvalidInputError('recursive glob (**) not supported'));
    expect(() => names(['a'.repeat(101)])).toThrow('pattern too long');
    expect(() => names(['a'.repeat(100)])).toThrow('no image matches pattern');
    for (const pattern of ['a&b', 'a|b', '$x']) expect(() => names([pattern])).toThrow('special characters not allowed');
    expect(() => names(['[-x]'])).toThrow('invalid pattern "[-x]": syntax error in pattern');
    expect(() => names(['!['])).toThrow('invalid pattern "[": syntax error in pattern');
    expect(() => parseImagePatterns(['ok', '**'])).toThrow(InvalidInputError);
  });

  it('leaves out non-final images under finalOnly, warning when one was named', () => {
    const named = selectImages(CONFIG, ['assets', 'backend'], { finalOnly: true });
    expect(named.images.map((i) => i.name)).toEqual(['backend']);
    expect(named.warnings).toEqual(['image "assets" is not final and is not exported']);
    const globOnlyNonFinal = selectImages(CONFIG, ['as*'], { finalOnly: true });
    expect(globOnlyNonFinal.images).toEqual([]);
    expect(globOnlyNonFinal.warnings).toEqual(['image "assets" is not final and is not exported']);
    // A glob that also matched final images does not warn about the intermediate ones.
    expect(selectImages(CONFIG, ['*'], { finalOnly: true }).warnings).toEqual([]);
    expect(selectImages(CONFIG, ['assets'], { finalOnly: false }).warnings).toEqual([]);
  });

  it('handles the nameless image', () => {
    const config = parseWerfConfig('project: app\nconfigVersion: 1\n---\nimage: ~\nfrom: alpine\n');
    expect(selectImages(config, [], { finalOnly: true }).images.map((i) => i.name)).toEqual(['']);
  });
});

describe('resolveDependencyOrder', () => {
  it('orders every image after the images it needs, ties by name', () => {
    expect(resolveDependencyOrder(CONFIG.images).map((i) => i.name)).toEqual(['assets', 'backend', 'base', 'backend-worker', 'frontend']);
    expect(dependencyLevels(CONFIG.images).map((level) => level.map((i) => i.name))).toEqual([
      ['assets', 'backend', 'base'],
      ['backend-worker', 'frontend'],
    ]);
  });

  it('limits the order to what the roots need', () => {
    const frontend = CONFIG.images.filter((i) => i.name === 'frontend');
    expect(resolveDependencyOrder(CONFIG.images, frontend).map((i) => i.name)).toEqual(['assets', 'frontend']);
  });

  it('follows from, imports and dependencies through several levels', () => {
    const config = parseWerfConfig(`project: app
configVersion: 1
---
image: c
from: b
import:
- from: a
  add: /x
  after: install
---
image: b
fromImage: a
---
image: a
from: alpine
`);
    expect(dependencyLevels(config.images).map((level) => level.map((i) => i.name))).toEqual([['a'], ['b'], ['c']]);
  });
});
