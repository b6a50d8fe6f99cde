import { describe, expect, it } from 'vitest';
import { compile, compileAnchored, quoteMeta, RegexpSyntaxError } from '../../src/go/regexp.js';
import { compileNameOrRegexValue, compileRegexValue, isRegexValue } from '../../src/text/regex-value.js';

describe('regexp.Compile', () => {
  it('gives a RegExp whose test() keeps no state', () => {
    const re = compile('a');
    expect([re.test('a'), re.test('a'), re.test('a')]).toEqual([true, true, true]);
  });

  it('reads RE2 syntax, not JavaScript syntax', () => {
    expect(compile('^(?P<x>a+)$').exec('aa')?.groups?.['x']).toBe('aa');
    expect(compile('^[[:digit:]]+$').test('123')).toBe(true);
    expect(compile('^\\Qa.b\\E$').test('a.b')).toBe(true);
    expect(compile('^\\Qa.b\\E$').test('axb')).toBe(false);
    // Go's \s is ASCII-only.
    expect(compile('^\\s$').test('\u00a0')).toBe(false);
    expect(() => compile('a\\')).toThrow(RegexpSyntaxError);
    expect(() => compile('(?<=a)b')).toThrow(RegexpSyntaxError);
  });
});

describe('regexp.Compile("^" + body + "$")', () => {
  it('pastes the body between the anchors: an alternation is not grouped', () => {
    const re = compileAnchored('main|release-.*');
    expect(re.test('main')).toBe(true);
    expect(re.test('release-1')).toBe(true);
    // Go: ^main|release-.*$ — the first branch is anchored at the start only.
    expect(re.test('mainline')).toBe(true);
    expect(re.test('feature/release-1')).toBe(true);
    expect(re.test('feature')).toBe(false);
  });

  it('applies a leading flag group to the body, and keeps `^` at the start of the text under (?m)', () => {
    expect(compileAnchored('(?i)main').test('MAIN')).toBe(true);
    expect(compileAnchored('(?i)main').test('xMAIN')).toBe(false);
    const multiline = compileAnchored('(?m)b');
    expect(multiline.test('b\nc')).toBe(true); // `$` after (?m) is an end of line
    expect(multiline.test('a\nb')).toBe(false); // `^` before (?m) is the start of the text
  });

  it('QuoteMeta makes an exact name', () => {
    expect(quoteMeta('a.b*c')).toBe('a\\.b\\*c');
    expect(compileAnchored(quoteMeta('v1.0')).test('v1x0')).toBe(false);
    expect(compileAnchored(quoteMeta('v1.0')).test('v1.0')).toBe(true);
  });
});

describe("werf's /regex/ values", () => {
  it('are values of two or more characters between slashes', () => {
    expect(isRegexValue('/a/')).toBe(true);
    expect(isRegexValue('//')).toBe(true);
    expect(isRegexValue('/')).toBe(false);
    expect(isRegexValue('a/')).toBe(false);
  });

  it('compile as werf does: ^body$, exact names through QuoteMeta', () => {
    expect(compileRegexValue('/feature-.*/').test('feature-x')).toBe(true);
    expect(compileRegexValue('/a|b/').test('axxx')).toBe(true);
    expect(compileNameOrRegexValue('release.1').test('release.1')).toBe(true);
    expect(compileNameOrRegexValue('release.1').test('releasex1')).toBe(false);
    expect(compileNameOrRegexValue('//').test('')).toBe(true);
  });
});
