import { describe, expect, it } from 'vitest';
import { compare, split, splitN } from '../../src/go/strings.js';

describe('strings.Split / SplitN', () => {
  it('splits on a separator, keeping empty parts', () => {
    expect(split('a,b,,c', ',')).toEqual(['a', 'b', '', 'c']);
    expect(split('', ',')).toEqual(['']);
    expect(split('abc', '')).toEqual(['a', 'b', 'c']);
  });

  it('an empty separator splits into code points, never into halves of a surrogate pair', () => {
    expect(split('a😀b', '')).toEqual(['a', '😀', 'b']);
    expect(split('', '')).toEqual([]);
  });

  it('SplitN keeps the rest in the last part', () => {
    expect(splitN('a=b=c', '=', 2)).toEqual(['a', 'b=c']);
    expect(splitN('a=b=c', '=', 0)).toEqual([]);
    expect(splitN('a=b=c', '=', 9)).toEqual(['a', 'b', 'c']);
    expect(splitN('a😀bc', '', 3)).toEqual(['a', '😀', 'bc']);
  });
});

describe('strings.Compare (Go string order: UTF-8 bytes)', () => {
  it('orders astral characters after every BMP character, unlike JavaScript <', () => {
    const bmp = '\uff5e'; // ～, UTF-8 ef bd 9e
    const astral = '😀'; // U+1F600, UTF-8 f0 9f 98 80; in UTF-16 it starts with 0xd83d < 0xff5e
    expect(astral < bmp).toBe(true); // JavaScript's order
    expect(compare(bmp, astral)).toBe(-1);
    expect(compare(astral, bmp)).toBe(1);
    expect(['😀', '～', 'z', 'a', 'é'].sort(compare)).toEqual(['a', 'z', 'é', '～', '😀']);
  });

  it('agrees with a byte comparison of the UTF-8 encodings', () => {
    const words = ['', 'a', 'ab', 'b', 'é', '\ue000', '\uffff', '😀', '😁', 'a😀', 'a\uffff', 'Z'];
    for (const a of words) {
      for (const b of words) {
        expect(compare(a, b)).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }
    }
  });
});
