// Sprig's string functions that come from huandu/xstrings v1.4.0 (snakecase, kebabcase, camelcase, shuffle) and
// Masterminds/goutils v1.1.1 (wrap, wrapWith, abbrev, abbrevboth, randAlpha & co): the versions werf links
// (werf's go.mod: sprig v3.2.3, xstrings v1.4.0, goutils v1.1.1). Ported from their Go sources; the tests hold
// their outputs against those libraries' own test tables.

import { randomInt } from 'node:crypto';

import { isGoSpace } from './values.js';

const RUNE_ERROR = 0xfffd;

const isUpper = (r: number): boolean => /\p{Lu}/u.test(String.fromCodePoint(r));
const isLetter = (r: number): boolean => /\p{L}/u.test(String.fromCodePoint(r));
const isPunct = (r: number): boolean => /\p{P}/u.test(String.fromCodePoint(r));
const isNumber = (r: number): boolean => /\p{N}/u.test(String.fromCodePoint(r));
const isDigit = (r: number): boolean => /\p{Nd}/u.test(String.fromCodePoint(r));

function simple(r: number, to: 'upper' | 'lower'): number {
  const ch = String.fromCodePoint(r);
  const mapped = to === 'upper' ? ch.toUpperCase() : ch.toLowerCase();
  const cps = Array.from(mapped);
  return cps.length === 1 ? cps[0]!.codePointAt(0)! : r;
}

function runes(s: string): number[] {
  return Array.from(s, (c) => c.codePointAt(0)!);
}

const str = (rs: number[]): string => String.fromCodePoint(...rs);

// --- xstrings ----------------------------------------------------------------------------------

function isConnector(r: number): boolean {
  return r === 0x2d || r === 0x5f || isGoSpace(r);
}

function isAlphabet(r: number): boolean {
  if (!isLetter(r)) return false;
  if (r < 0x3400) return true;
  if (r >= 0x4e00 && r <= 0x9fcc) return false;
  if (r >= 0x3400 && r <= 0x4d85) return false;
  if (r >= 0x20000 && r <= 0x2b81d) return false;
  return true;
}

/** xstrings.ToCamelCase (v1.4.0: the case of letters other than a word's first is kept). */
export function toCamelCase(s: string): string {
  const rs = runes(s);
  if (rs.length === 0) return '';
  const out: number[] = [];
  let i = 0;
  let r0 = 0;
  let consumed = false;
  while (i < rs.length) {
    r0 = rs[i++]!;
    consumed = true;
    if (!isConnector(r0)) {
      r0 = simple(r0, 'upper');
      break;
    }
    out.push(r0);
  }
  if (i >= rs.length) {
    // As in Go, the last rune is written once more (an all-connector string gets its last rune twice).
    if (consumed) out.push(r0);
    return str(out);
  }
  let r1 = 0;
  while (i < rs.length) {
    r1 = r0;
    r0 = rs[i++]!;
    if (isConnector(r0) && isConnector(r1)) {
      out.push(r1);
      continue;
    }
    if (isConnector(r1)) r0 = simple(r0, 'upper');
    else out.push(r1);
  }
  out.push(r0);
  return str(out);
}

const enum W {
  invalid,
  number,
  upperCase,
  alphabet,
  connector,
  punct,
  other,
}

interface Word {
  wt: W;
  word: number[];
  rest: number[];
}

function nextValidRune(s: number[], prev: number): [number, number] {
  let size = 0;
  for (const r of s) {
    size++;
    if (r !== RUNE_ERROR) return [r, size];
  }
  return [prev, size];
}

function nextWord(s: number[]): Word {
  if (s.length === 0) return { wt: W.invalid, word: [], rest: [] };
  let offset = 0;
  let remaining = s;
  let [r, size] = nextValidRune(remaining, RUNE_ERROR);
  offset += size;
  let wt: W;
  if (r === RUNE_ERROR) return { wt: W.invalid, word: s.slice(0, offset), rest: s.slice(offset) };
  const run = (pred: (x: number) => boolean): void => {
    remaining = remaining.slice(size);
    while (remaining.length > 0) {
      [r, size] = nextValidRune(remaining, r);
      if (!pred(r)) break;
      offset += size;
      remaining = remaining.slice(size);
    }
  };
  if (isConnector(r)) {
    wt = W.connector;
    run(isConnector);
  } else if (isPunct(r)) {
    wt = W.punct;
    run(isPunct);
  } else if (isUpper(r)) {
    wt = W.upperCase;
    remaining = remaining.slice(size);
    if (remaining.length > 0) {
      [r, size] = nextValidRune(remaining, r);
      if (isUpper(r)) {
        let prevSize = size;
        offset += size;
        remaining = remaining.slice(size);
        while (remaining.length > 0) {
          [r, size] = nextValidRune(remaining, r);
          if (!isUpper(r)) break;
          prevSize = size;
          offset += size;
          remaining = remaining.slice(size);
        }
        if (remaining.length > 0 && isAlphabet(r)) {
          offset -= prevSize;
          remaining = s.slice(offset);
        }
      } else if (isAlphabet(r)) {
        offset += size;
        remaining = remaining.slice(size);
        while (remaining.length > 0) {
          [r, size] = nextValidRune(remaining, r);
          if (!isAlphabet(r) || isUpper(r)) break;
          offset += size;
          remaining = remaining.slice(size);
        }
      }
    }
  } else if (isAlphabet(r)) {
    wt = W.alphabet;
    run((x) => isAlphabet(x) && !isUpper(x));
  } else if (isNumber(r)) {
    wt = W.number;
    run(isNumber);
  } else {
    wt = W.other;
    remaining = remaining.slice(size);
    while (remaining.length > 0) {
      [r, size] = nextValidRune(remaining, r);
      if (size === 0 || isConnector(r) || isAlphabet(r) || isNumber(r) || isPunct(r)) break;
      offset += size;
      remaining = remaining.slice(size);
    }
  }
  return { wt, word: s.slice(0, offset), rest: remaining };
}

function toLower(out: number[], wt: W, word: number[], connector: number): void {
  if (wt !== W.upperCase && wt !== W.connector) {
    out.push(...word);
    return;
  }
  for (const r of word) {
    if (isConnector(r)) out.push(connector);
    else if (isUpper(r)) out.push(simple(r, 'lower'));
    else out.push(r);
  }
}

function camelCaseToLowerCase(s: string, connector: number): string {
  const rs = runes(s);
  if (rs.length === 0) return '';
  const out: number[] = [];
  let c = nextWord(rs);
  while (c.rest.length > 0) {
    if (c.wt !== W.connector) toLower(out, c.wt, c.word, connector);
    const prev = c.wt;
    const last = c.word;
    c = nextWord(c.rest);
    switch (prev) {
      case W.number:
        while (c.wt === W.alphabet || c.wt === W.number) {
          toLower(out, c.wt, c.word, connector);
          c = nextWord(c.rest);
        }
        if (c.wt !== W.invalid && c.wt !== W.punct && c.wt !== W.connector) out.push(connector);
        break;
      case W.connector:
        toLower(out, prev, last, connector);
        break;
      case W.punct:
        break;
      default: {
        if (c.wt !== W.number) {
          if (c.wt !== W.connector && c.wt !== W.punct) out.push(connector);
          break;
        }
        if (c.rest.length === 0) break;
        const lastNumber = c.word;
        c = nextWord(c.rest);
        if (c.wt !== W.alphabet) {
          toLower(out, W.number, lastNumber, connector);
          if (c.wt !== W.connector && c.wt !== W.punct) out.push(connector);
          break;
        }
        out.push(connector);
        toLower(out, W.number, lastNumber, connector);
        while (c.wt === W.alphabet || c.wt === W.number) {
          toLower(out, c.wt, c.word, connector);
          c = nextWord(c.rest);
        }
        if (c.wt !== W.invalid && c.wt !== W.connector && c.wt !== W.punct) out.push(connector);
      }
    }
  }
  toLower(out, c.wt, c.word, connector);
  return str(out);
}

/** xstrings.ToSnakeCase. */
export function toSnakeCase(s: string): string {
  return camelCaseToLowerCase(s, 0x5f);
}

/** xstrings.ToKebabCase. */
export function toKebabCase(s: string): string {
  return camelCaseToLowerCase(s, 0x2d);
}

/** xstrings.Shuffle: the runes in random order (Fisher-Yates, as Go's). */
export function shuffle(s: string): string {
  const rs = runes(s);
  for (let i = rs.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [rs[i], rs[j]] = [rs[j]!, rs[i]!];
  }
  return str(rs);
}

// --- goutils -------------------------------------------------------------------------------------
// goutils works on bytes: strings are handled as latin1 strings of their UTF-8 bytes.

const toBytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
const fromBytes = (b: string): string => Buffer.from(b, 'latin1').toString('utf8');

/** goutils.WrapCustom. */
export function wrapCustom(input: string, wrapLength: number, newLineStr: string, wrapLongWords: boolean): string {
  if (input === '') return '';
  const s = toBytes(input);
  const nl = toBytes(newLineStr === '' ? '\n' : newLineStr);
  if (wrapLength < 1) wrapLength = 1;
  const len = s.length;
  let offset = 0;
  let out = '';
  while (len - offset > wrapLength) {
    if (s[offset] === ' ') {
      offset++;
      continue;
    }
    const end = wrapLength + offset + 1;
    const spaceToWrapAt = s.slice(offset, end).lastIndexOf(' ') + offset;
    if (spaceToWrapAt >= offset) {
      out += s.slice(offset, spaceToWrapAt) + nl;
      offset = spaceToWrapAt + 1;
    } else if (wrapLongWords) {
      out += s.slice(offset, wrapLength + offset) + nl;
      offset += wrapLength;
    } else {
      const e = wrapLength + offset;
      const index = s.slice(e).indexOf(' ');
      if (index === -1) {
        out += s.slice(offset);
        offset = len;
      } else {
        out += s.slice(offset, index + e) + nl;
        offset = index + e + 1;
      }
    }
  }
  return fromBytes(out + s.slice(offset));
}

/** goutils.AbbreviateFull; null where it returns an error (sprig then prints ""). */
export function abbreviateFull(input: string, offset: number, maxWidth: number): string | null {
  if (input === '') return '';
  if (maxWidth < 4) return null;
  const s = toBytes(input);
  if (s.length <= maxWidth) return input;
  if (offset > s.length) offset = s.length;
  if (s.length - offset < maxWidth - 3) offset = s.length - (maxWidth - 3);
  if (offset <= 4) return fromBytes(s.slice(0, maxWidth - 3) + '...');
  if (maxWidth < 7) return null;
  if (offset + maxWidth - 3 < s.length) {
    const rest = abbreviateFull(fromBytes(s.slice(offset)), 0, maxWidth - 3);
    return '...' + (rest ?? '');
  }
  return fromBytes('...' + s.slice(s.length - (maxWidth - 3)));
}

/** goutils.CryptoRandom(count, 0, 0, letters, numbers) and (count, 32, 127, false, false) for ASCII. */
export function cryptoRandom(count: number, kind: 'alpha' | 'alphanum' | 'numeric' | 'ascii'): string {
  if (count <= 0) return '';
  const start = 0x20;
  let end = 0x7b; // 'z' + 1
  if (kind === 'ascii') end = 127;
  const letters = kind === 'alpha' || kind === 'alphanum';
  const numbers = kind === 'numeric' || kind === 'alphanum';
  const gap = end - start;
  let out = '';
  let n = count;
  while (n > 0) {
    const ch = start + randomInt(gap);
    if ((letters && isLetter(ch)) || (numbers && isDigit(ch)) || (!letters && !numbers)) {
      out += String.fromCharCode(ch);
      n--;
    }
  }
  return out;
}
