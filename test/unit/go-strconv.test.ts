import { describe, expect, it } from 'vitest';
import { canBackquote, isPrint, quote, quoteRune, quoteRuneToASCII, quoteToASCII } from '../../src/go/strconv.js';

// Expected values are what Go 1.22 prints with strconv.Quote / fmt's %q.
describe('strconv.Quote', () => {
  it.each([
    ['', '""'],
    ['plain text', '"plain text"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['\x07\b\f\n\r\t\v', '"\\a\\b\\f\\n\\r\\t\\v"'],
    ['\x00\x1b\x7f', '"\\x00\\x1b\\x7f"'],
    ['é日本😀', '"é日本😀"'],
    ['über Привет ✓', '"über Привет ✓"'],
    ['\u200b', '"\\u200b"'],
    // Not printable in Go: NBSP (Zs), soft hyphen (Cf), line separator (Zl), a private-use character, BOM.
    ['\u00a0\u00ad\u2028\ue000\ufeff', '"\\u00a0\\u00ad\\u2028\\ue000\\ufeff"'],
    ['\u{e0001}', '"\\U000e0001"'],
    ['\u0085', '"\\u0085"'],
    ['\ud800x', '"\\ufffdx"'],
  ])('quote(%j) = %s', (input, expected) => {
    expect(quote(input)).toBe(expected);
  });

  it('QuoteToASCII escapes every non-ASCII code point', () => {
    expect(quoteToASCII('é😀 ~')).toBe('"\\u00e9\\U0001f600 ~"');
  });

  it('QuoteRune', () => {
    expect(quoteRune(0x27)).toBe("'\\''");
    expect(quoteRune(0x22)).toBe("'\"'");
    expect(quoteRune(0x0a)).toBe("'\\n'");
    expect(quoteRune(0xd800)).toBe("'�'");
    expect(quoteRune(0x110000)).toBe("'�'");
    expect(quoteRuneToASCII(0x263a)).toBe("'\\u263a'");
  });

  it('CanBackquote and IsPrint', () => {
    expect(canBackquote('a\tb')).toBe(true);
    expect(canBackquote('a`b')).toBe(false);
    expect(canBackquote('a\nb')).toBe(false);
    expect(canBackquote('\ufeff')).toBe(false);
    expect(isPrint(0x20)).toBe(true);
    expect(isPrint(0xa0)).toBe(false);
    expect(isPrint(0x3000)).toBe(false);
    expect(isPrint(0x1f600)).toBe(true);
  });
});
