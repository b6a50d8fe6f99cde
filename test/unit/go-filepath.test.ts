import { describe, expect, it } from 'vitest';
import { BadPatternError, match } from '../../src/go/filepath.js';

// Go's own table for path/filepath.Match (match_test.go), Unix cases.
const GO_MATCH_CASES: [pattern: string, name: string, match: boolean, bad?: true][] = [
  ['abc', 'abc', true],
  ['*', 'abc', true],
  ['*c', 'abc', true],
  ['a*', 'a', true],
  ['a*', 'abc', true],
  ['a*', 'ab/c', false],
  ['a*/b', 'abc/b', true],
  ['a*/b', 'a/c/b', false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false],
  ['ab[c]', 'abc', true],
  ['ab[b-d]', 'abc', true],
  ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false],
  ['ab[^b-d]', 'abc', false],
  ['ab[^e-g]', 'abc', true],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'ab', false],
  ['a?b', 'a☺b', true],
  ['a[^a]b', 'a☺b', true],
  ['a???b', 'a☺b', false],
  ['a[^a][^a][^a]b', 'a☺b', false],
  ['[a-ζ]*', 'α', true],
  ['*[a-ζ]', 'A', false],
  ['a?b', 'a/b', false],
  ['a*b', 'a/b', false],
  ['[\\]a]', ']', true],
  ['[\\-]', '-', true],
  ['[x\\-]', 'x', true],
  ['[x\\-]', '-', true],
  ['[x\\-]', 'z', false],
  ['[\\-x]', 'x', true],
  ['[\\-x]', '-', true],
  ['[\\-x]', 'a', false],
  ['[]a]', ']', false, true],
  ['[-]', '-', false, true],
  ['[x-]', 'x', false, true],
  ['[x-]', '-', false, true],
  ['[x-]', 'z', false, true],
  ['[-x]', 'x', false, true],
  ['[-x]', '-', false, true],
  ['[-x]', 'a', false, true],
  ['\\', 'a', false, true],
  ['[a-b-c]', 'a', false, true],
  ['[', 'a', false, true],
  ['[^', 'a', false, true],
  ['[^bc', 'a', false, true],
  ['a[', 'a', false, true],
  ['a[', 'ab', false, true],
  ['a[', 'x', false, true],
  ['a/b[', 'x', false, true],
  ['*x', 'xxx', true],
];

// Where the regex approximation once used for COPY sources differed from Go.
const NOT_NEGATION_CASES: [pattern: string, name: string, match: boolean][] = [
  // `!` is an ordinary member of a class: `[!a]` matches `!` or `a`, and nothing else.
  ['[!a]', 'a', true],
  ['[!a]', '!', true],
  ['[!a]', 'b', false],
  ['file[!0-9].txt', 'file1.txt', true],
  ['file[!0-9].txt', 'filex.txt', false],
  ['file[!0-9].txt', 'file!.txt', true],
  // `^` negates; a negated class may match the separator (filepath.Match does not exclude it).
  ['[^a]', 'b', true],
  ['[^a]', 'a', false],
  ['x[^a]y', 'x/y', true],
  // `*` and `?` never match `/`.
  ['*', 'a/b', false],
  ['?', '/', false],
];

describe('filepath.Match', () => {
  it.each(NOT_NEGATION_CASES)('Match(%j, %j) = %s: [!...] is not a negation', (pattern, name, matches) => {
    expect(match(pattern, name)).toBe(matches);
  });

  it.each(GO_MATCH_CASES)('Go table: Match(%j, %j)', (pattern, name, matches, bad) => {
    if (bad) expect(() => match(pattern, name)).toThrow('syntax error in pattern');
    else expect(match(pattern, name)).toBe(matches);
  });
});

describe('filepath.ErrBadPattern', () => {
  it('is reported even when the name does not match', () => {
    expect(() => match('x[', 'abc')).toThrow(BadPatternError);
    expect(() => match('a*[', 'b')).toThrow('syntax error in pattern');
  });
});
