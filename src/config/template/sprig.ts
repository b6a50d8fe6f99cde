// The Sprig functions of werf.yaml templates: Masterminds/sprig v3 TxtFuncMap (v3.2.3, the version werf links),
// minus expandenv, as werf removes it, and env, which werf replaces (builtins.ts). Dates, random strings, case
// conversion, URLs, network, semver and crypto are in sprig-more.ts.

import { createHash, randomUUID } from 'node:crypto';

import type { FuncSpec, ParamKind } from './exec.js';
import { formatFloat, fmtValue } from './format.js';
import { compileGoRegexp, findAll, quoteMeta, replaceAll, split as regexpSplit } from '../../go/regexp.js';
import { fromJson, toJson } from './encoding.js';
import { moreSprigFunctions } from './sprig-more.js';
import { quote } from '../../go/strconv.js';
import { compare, splitN } from '../../go/strings.js';
import {
  GoFloat,
  byteLength,
  byteSlice,
  deepEqual,
  hasKey,
  isEmpty,
  isGoSpace,
  isMap,
  isNumber,
  kindName,
  newMap,
  numValue,
  setKey,
  sortedKeys,
  trimSpace,
  typeName,
  type Dict,
} from './values.js';

// ---------------------------------------------------------------------------------------------
// Conversions (spf13/cast, as sprig uses it)

/** strconv.ParseInt(s, 0, 64) for the syntax Go accepts; null when it fails. */
export function parseGoInt(s: string): number | null {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return null;
  let body = m[2]!.replace(/_/g, '');
  if (/^0[0-7]+$/.test(body)) body = '0o' + body.slice(1);
  if (/^0[xXoObB]$/.test(body)) return null;
  const big = BigInt(body) * (m[1] === '-' ? -1n : 1n);
  if (big > 0x7fffffffffffffffn || big < -0x8000000000000000n) return null;
  return Number(big);
}

/** strconv.ParseFloat(s, 64); null when it fails. */
export function parseGoFloat(s: string): number | null {
  const t = s.replace(/(?<=\d)_(?=\d)/g, '');
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  const hex = parseGoInt(t);
  return hex;
}

function trimZeroDecimal(s: string): string {
  let foundZero = false;
  for (let i = s.length; i > 0; i--) {
    const c = s[i - 1];
    if (c === '.') {
      if (foundZero) return s.slice(0, i - 1);
    } else if (c === '0') {
      foundZero = true;
    } else {
      return s;
    }
  }
  return s;
}

/** cast.ToInt64: numbers truncate, strings parse (failing to 0), bools are 0/1, others 0. */
export function toInt64(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : 0;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof GoFloat) return Number.isFinite(v.value) ? Math.trunc(v.value) : 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') return parseGoInt(trimZeroDecimal(v)) ?? 0;
  return 0;
}

/** cast.ToFloat64. */
export function toFloat64(v: unknown): number {
  if (isNumber(v)) return numValue(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') return parseGoFloat(v) ?? 0;
  return 0;
}

function float(x: number): GoFloat {
  return new GoFloat(x);
}

/** sprig's strval: strings as is, everything else with %v. */
export function strval(v: unknown): string {
  return typeof v === 'string' ? v : fmtValue(v);
}

/** sprig's strslice: a list's non-nil elements as strings; a nil as an empty list; anything else as [strval]. */
function strslice(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((e) => e !== null && e !== undefined).map(strval);
  if (v === null || v === undefined) return [];
  return [strval(v)];
}

// ---------------------------------------------------------------------------------------------
// Exact decimal arithmetic for addf & co (shopspring/decimal on the shortest decimal of each float)

interface Dec {
  m: bigint;
  e: number; // value = m * 10^e
}

function toDec(x: number): Dec {
  if (!Number.isFinite(x)) throw new Error(`cannot use ${fmtValue(float(x))} in decimal arithmetic`);
  const s = formatFloat(x, 'e', -1); // d.ddde±x, shortest
  const [mant, exp] = s.split('e') as [string, string];
  const frac = mant.includes('.') ? mant.split('.')[1]!.length : 0;
  return { m: BigInt(mant.replace('.', '')), e: Number(exp) - frac };
}

function align(a: Dec, b: Dec): [bigint, bigint, number] {
  const e = Math.min(a.e, b.e);
  return [a.m * 10n ** BigInt(a.e - e), b.m * 10n ** BigInt(b.e - e), e];
}

function decToNumber(d: Dec): number {
  return Number(`${d.m}e${d.e}`);
}

function decOp(op: 'add' | 'sub' | 'mul' | 'div', a: Dec, b: Dec): Dec {
  switch (op) {
    case 'add': {
      const [x, y, e] = align(a, b);
      return { m: x + y, e };
    }
    case 'sub': {
      const [x, y, e] = align(a, b);
      return { m: x - y, e };
    }
    case 'mul':
      return { m: a.m * b.m, e: a.e + b.e };
    case 'div': {
      if (b.m === 0n) throw new Error('decimal division by 0');
      // 16 fractional digits, rounded half away from zero (decimal.DivisionPrecision).
      const scale = 16;
      const shift = scale + 1 + a.e - b.e;
      let num = a.m;
      let den = b.m;
      if (shift >= 0) num *= 10n ** BigInt(shift);
      else den *= 10n ** BigInt(-shift);
      let q = num / den; // scale+1 digits after the point
      const neg = q < 0n;
      if (neg) q = -q;
      q = (q + 5n) / 10n;
      return { m: neg ? -q : q, e: -scale };
    }
  }
}

function decimalFold(op: 'add' | 'sub' | 'mul' | 'div', first: unknown, rest: unknown[]): GoFloat {
  let acc = toDec(toFloat64(first));
  for (const x of rest) acc = decOp(op, acc, toDec(toFloat64(x)));
  return float(decToNumber(acc));
}

// ---------------------------------------------------------------------------------------------
// Lists and dicts

function listOf(v: unknown, what: string): unknown[] {
  if (Array.isArray(v)) return v.map((e) => (e === undefined ? null : e));
  throw new Error(`Cannot ${what} on type ${kindName(v)}`);
}

function requireMap(d: Dict | null, fn: string): Dict {
  if (d === null) throw new Error(`assignment to entry in nil map (${fn})`);
  return d;
}

function inList(list: unknown[], needle: unknown): boolean {
  return list.some((x) => deepEqual(needle, x));
}

/** mergo-style deep merge of src into dst; overwrite replaces existing values. */
function mergeInto(dst: Dict, src: Dict, overwrite: boolean): void {
  for (const key of Object.keys(src)) {
    const s = src[key];
    const present = Object.prototype.hasOwnProperty.call(dst, key);
    const d = present ? dst[key] : undefined;
    if (s === null || s === undefined) {
      if (overwrite) setKey(dst, key, null);
      continue;
    }
    if (isMap(s) && isMap(d)) {
      mergeInto(d, s, overwrite);
      if (!isEmpty(d)) continue;
    }
    if (overwrite || !present || isEmpty(d)) setKey(dst, key, s);
  }
}

function deepCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(deepCopy);
  if (isMap(v)) {
    const out = newMap();
    for (const k of Object.keys(v)) setKey(out, k, deepCopy(v[k]));
    return out;
  }
  return v;
}

function sliceList(list: unknown, indices: unknown[]): unknown {
  if (typeof list === 'string') throw new Error(`list should be type of slice or array but string`);
  const l = listOf(list, 'slice');
  if (l.length === 0) return null;
  const start = indices.length > 0 ? toInt64(indices[0]) : 0;
  const end = indices.length > 1 ? toInt64(indices[1]) : l.length;
  if (start < 0 || end < start || end > l.length) throw new Error(`reflect: slice index out of range`);
  return l.slice(start, end);
}

// ---------------------------------------------------------------------------------------------
// Strings

function goTitle(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    const cp = prev.codePointAt(0)!;
    let sep: boolean;
    if (cp <= 0x7f) sep = !/[0-9A-Za-z_]/.test(prev);
    else if (/[\p{L}\p{Nd}]/u.test(prev)) sep = false;
    else sep = isGoSpace(cp);
    out += sep ? simpleCase(ch, 'upper') : ch;
    prev = ch;
  }
  return out;
}

/** Unicode simple case mapping, one character to one character, as Go's ToUpper/ToLower do. */
function simpleCase(ch: string, to: 'upper' | 'lower'): string {
  const mapped = to === 'upper' ? ch.toUpperCase() : ch.toLowerCase();
  return Array.from(mapped).length === 1 ? mapped : ch;
}

function mapCase(s: string, to: 'upper' | 'lower'): string {
  let out = '';
  for (const ch of s) out += simpleCase(ch, to);
  return out;
}

function trimCutset(s: string, cutset: string, left: boolean, right: boolean): string {
  const set = new Set(Array.from(cutset));
  const cps = Array.from(s);
  let i = 0;
  let j = cps.length;
  if (left) while (i < j && set.has(cps[i]!)) i++;
  if (right) while (j > i && set.has(cps[j - 1]!)) j--;
  return cps.slice(i, j).join('');
}

function b64dec(s: string): string {
  // Go's StdEncoding is strict: padding required, no whitespace other than \r and \n.
  const clean = s.replace(/[\r\n]/g, '');
  const bad = clean.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return `illegal base64 data at input byte ${bad}`;
  const pad = clean.indexOf('=');
  if (clean.length % 4 !== 0 || (pad >= 0 && (pad < clean.length - 2 || /[^=]/.test(clean.slice(pad))))) {
    return `illegal base64 data at input byte ${pad >= 0 ? pad : clean.length - (clean.length % 4)}`;
  }
  return Buffer.from(clean, 'base64').toString('utf8');
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function b32enc(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}

function b32dec(s: string): string {
  const clean = s.replace(/[\r\n]/g, '');
  const bad = clean.search(/[^A-Z2-7=]/);
  if (bad >= 0) return `illegal base32 data at input byte ${bad}`;
  if (clean.length % 8 !== 0) return `illegal base32 data at input byte ${clean.length - (clean.length % 8)}`;
  const body = clean.replace(/=+$/, '');
  if (body.includes('=')) return `illegal base32 data at input byte ${body.indexOf('=')}`;
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of body) {
    value = ((value << 5) | B32.indexOf(c)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out).toString('utf8');
}

function adler32(s: string): number {
  let a = 1;
  let b = 0;
  for (const byte of Buffer.from(s, 'utf8')) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return (b * 65536 + a) >>> 0;
}

// Go's path package (slash-separated paths).

function pathClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return '/' + joined;
  return joined === '' ? '.' : joined;
}

function pathBase(p: string): string {
  if (p === '') return '.';
  p = p.replace(/\/+$/, '');
  if (p === '') return '/';
  return p.slice(p.lastIndexOf('/') + 1);
}

function pathDir(p: string): string {
  return pathClean(p.slice(0, p.lastIndexOf('/') + 1));
}

function pathExt(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}

// ---------------------------------------------------------------------------------------------
// The table

type Fn = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

function def(params: ParamKind[], fn: Fn, variadic?: ParamKind): FuncSpec {
  return variadic === undefined ? { params, fn } : { params, variadic, fn };
}

function regexp(pattern: string): RegExp {
  return compileGoRegexp(pattern);
}

function untilStep(start: number, stop: number, step: number): number[] {
  const v: number[] = [];
  if (stop < start) {
    if (step >= 0) return v;
    for (let i = start; i > stop; i += step) v.push(i);
    return v;
  }
  if (step <= 0) return v;
  for (let i = start; i < stop; i += step) v.push(i);
  return v;
}

function seq(params: number[]): string {
  const join = (l: number[]): string => l.join(' ');
  switch (params.length) {
    case 1: {
      const end = params[0]!;
      const inc = end < 1 ? -1 : 1;
      return join(untilStep(1, end + inc, inc));
    }
    case 2: {
      const [start, end] = params as [number, number];
      const step = end < start ? -1 : 1;
      return join(untilStep(start, end + step, step));
    }
    case 3: {
      const [start, step, end] = params as [number, number, number];
      let inc = 1;
      if (end < start) {
        inc = -1;
        if (step > 0) return '';
      }
      return join(untilStep(start, end + inc, step));
    }
    default:
      return '';
  }
}

function intDiv(a: number, b: number, op: string): number {
  if (b === 0) throw new Error('runtime error: integer divide by zero');
  return op === 'div' ? Math.trunc(a / b) : a % b;
}

function roundf(a: unknown, p: number, rOpt: number[]): GoFloat {
  const roundOn = rOpt.length > 0 ? rOpt[0]! : 0.5;
  const val = toFloat64(a);
  const pow = Math.pow(10, p);
  const digit = pow * val;
  const frac = digit - Math.trunc(digit);
  return float((frac >= roundOn ? Math.ceil(digit) : Math.floor(digit)) / pow);
}

export function sprigFunctions(): Record<string, FuncSpec> {
  const fns: Record<string, FuncSpec> = {
    // Defaults and flow
    default: def(['any'], (d: unknown, ...given: unknown[]) => (given.length === 0 || isEmpty(given[0]) ? d : given[0]), 'any'),
    empty: def(['any'], (v: unknown) => isEmpty(v)),
    coalesce: def([], (...v: unknown[]) => v.find((x) => !isEmpty(x)) ?? null, 'any'),
    all: def([], (...v: unknown[]) => v.every((x) => !isEmpty(x)), 'any'),
    any: def([], (...v: unknown[]) => v.some((x) => !isEmpty(x)), 'any'),
    ternary: def(['any', 'any', 'bool'], (vt: unknown, vf: unknown, c: boolean) => (c ? vt : vf)),
    fail: def(['string'], (msg: string) => {
      throw new Error(msg);
    }),
    fromJson: def(['string'], (s: string) => {
      try {
        return fromJson(s);
      } catch {
        return null;
      }
    }),
    mustFromJson: def(['string'], (s: string) => fromJson(s)),
    toJson: def(['any'], (v: unknown) => {
      try {
        return toJson(v);
      } catch {
        return '';
      }
    }),
    mustToJson: def(['any'], (v: unknown) => toJson(v)),
    toPrettyJson: def(['any'], (v: unknown) => {
      try {
        return toJson(v, { pretty: true });
      } catch {
        return '';
      }
    }),
    mustToPrettyJson: def(['any'], (v: unknown) => toJson(v, { pretty: true })),
    toRawJson: def(['any'], (v: unknown) => toJson(v, { escapeHTML: false })),
    mustToRawJson: def(['any'], (v: unknown) => toJson(v, { escapeHTML: false })),
    deepCopy: def(['any'], deepCopy),
    mustDeepCopy: def(['any'], deepCopy),

    // Strings
    trim: def(['string'], trimSpace),
    trimAll: def(['string', 'string'], (cutset: string, s: string) => trimCutset(s, cutset, true, true)),
    trimall: def(['string', 'string'], (cutset: string, s: string) => trimCutset(s, cutset, true, true)),
    trimPrefix: def(['string', 'string'], (prefix: string, s: string) => (s.startsWith(prefix) ? s.slice(prefix.length) : s)),
    trimSuffix: def(['string', 'string'], (suffix: string, s: string) => (suffix !== '' && s.endsWith(suffix) ? s.slice(0, -suffix.length) : s)),
    upper: def(['string'], (s: string) => mapCase(s, 'upper')),
    lower: def(['string'], (s: string) => mapCase(s, 'lower')),
    title: def(['string'], goTitle),
    untitle: def(['string'], (s: string) => {
      const [first, ...rest] = Array.from(s);
      return first === undefined ? s : simpleCase(first, 'lower') + rest.join('');
    }),
    trunc: def(['int', 'string'], (c: number, s: string) => {
      const len = byteLength(s);
      if (c < 0 && len + c > 0) return byteSlice(s, len + c);
      if (c >= 0 && len > c) return byteSlice(s, 0, c);
      return s;
    }),
    substr: def(['int', 'int', 'string'], (start: number, end: number, s: string) => {
      const len = byteLength(s);
      if (start < 0) {
        if (end < 0 || end > len) throw new Error(`runtime error: slice bounds out of range [:${end}] with length ${len}`);
        return byteSlice(s, 0, end);
      }
      if (end < 0 || end > len) {
        if (start > len) throw new Error(`runtime error: slice bounds out of range [${start}:${len}]`);
        return byteSlice(s, start);
      }
      if (start > end) throw new Error(`runtime error: slice bounds out of range [${start}:${end}]`);
      return byteSlice(s, start, end);
    }),
    replace: def(['string', 'string', 'string'], (oldS: string, newS: string, src: string) =>
      oldS === '' ? newS + Array.from(src).join(newS) + (src === '' ? '' : newS) : src.split(oldS).join(newS),
    ),
    repeat: def(['int', 'string'], (count: number, s: string) => {
      if (count < 0) throw new Error('strings: negative Repeat count');
      return s.repeat(count);
    }),
    contains: def(['string', 'string'], (sub: string, s: string) => s.includes(sub)),
    hasPrefix: def(['string', 'string'], (p: string, s: string) => s.startsWith(p)),
    hasSuffix: def(['string', 'string'], (p: string, s: string) => s.endsWith(p)),
    quote: def([], (...v: unknown[]) => v.filter((x) => x !== null).map((x) => quote(strval(x))).join(' '), 'any'),
    squote: def([], (...v: unknown[]) => v.filter((x) => x !== null).map((x) => `'${fmtValue(x)}'`).join(' '), 'any'),
    cat: def([], (...v: unknown[]) => v.filter((x) => x !== null).map(fmtValue).join(' '), 'any'),
    indent: def(['int', 'string'], (n: number, s: string) => {
      const pad = ' '.repeat(Math.max(n, 0));
      return pad + s.split('\n').join('\n' + pad);
    }),
    nindent: def(['int', 'string'], (n: number, s: string) => {
      const pad = ' '.repeat(Math.max(n, 0));
      return '\n' + pad + s.split('\n').join('\n' + pad);
    }),
    nospace: def(['string'], (s: string) => Array.from(s).filter((c) => !isGoSpace(c.codePointAt(0)!)).join('')),
    plural: def(['string', 'string', 'int'], (one: string, many: string, n: number) => (n === 1 ? one : many)),
    initials: def(['string'], (s: string) =>
      s
        .split(/\s+/)
        .filter((w) => w !== '')
        .map((w) => Array.from(w)[0])
        .join(''),
    ),
    toString: def(['any'], strval),
    toStrings: def(['any'], strslice),
    join: def(['string', 'any'], (sep: string, v: unknown) => strslice(v).join(sep)),
    split: def(['string', 'string'], (sep: string, s: string) => {
      const out = newMap();
      splitN(s, sep, -1).forEach((part, i) => setKey(out, `_${i}`, part));
      return out;
    }),
    splitn: def(['string', 'int', 'string'], (sep: string, n: number, s: string) => {
      const out = newMap();
      splitN(s, sep, n).forEach((part, i) => setKey(out, `_${i}`, part));
      return out;
    }),
    splitList: def(['string', 'string'], (sep: string, s: string) => splitN(s, sep, -1)),
    sortAlpha: def(['any'], (v: unknown) => (Array.isArray(v) ? strslice(v).sort(compare) : [strval(v)])),
    b64enc: def(['string'], (s: string) => Buffer.from(s, 'utf8').toString('base64')),
    b64dec: def(['string'], b64dec),
    b32enc: def(['string'], b32enc),
    b32dec: def(['string'], b32dec),
    swapcase: def(['string'], (s: string) =>
      Array.from(s)
        .map((c) => (simpleCase(c, 'upper') !== c ? simpleCase(c, 'upper') : simpleCase(c, 'lower')))
        .join(''),
    ),
    sha256sum: def(['string'], (s: string) => createHash('sha256').update(s, 'utf8').digest('hex')),
    sha1sum: def(['string'], (s: string) => createHash('sha1').update(s, 'utf8').digest('hex')),
    sha512sum: def(['string'], (s: string) => createHash('sha512').update(s, 'utf8').digest('hex')),
    adler32sum: def(['string'], (s: string) => String(adler32(s))),
    uuidv4: def([], () => randomUUID()),

    // Regular expressions
    regexMatch: def(['string', 'string'], (re: string, s: string) => {
      try {
        return findAll(regexp(re), s, 1).length > 0;
      } catch {
        return false;
      }
    }),
    mustRegexMatch: def(['string', 'string'], (re: string, s: string) => findAll(regexp(re), s, 1).length > 0),
    regexFind: def(['string', 'string'], (re: string, s: string) => findAll(regexp(re), s, 1)[0]?.[0] ?? ''),
    regexFindAll: def(['string', 'string', 'int'], (re: string, s: string, n: number) => findAll(regexp(re), s, n).map((m) => m[0])),
    regexReplaceAll: def(['string', 'string', 'string'], (re: string, s: string, repl: string) => replaceAll(regexp(re), s, repl, true)),
    regexReplaceAllLiteral: def(['string', 'string', 'string'], (re: string, s: string, repl: string) => replaceAll(regexp(re), s, repl, false)),
    regexSplit: def(['string', 'string', 'int'], (re: string, s: string, n: number) => regexpSplit(regexp(re), s, n, re === '')),
    regexQuoteMeta: def(['string'], quoteMeta),

    // Conversions and arithmetic
    atoi: def(['string'], (s: string) => {
      if (!/^[+-]?\d+$/.test(s)) return 0;
      const n = BigInt(s);
      return n > 0x7fffffffffffffffn || n < -0x8000000000000000n ? 0 : Number(n);
    }),
    int: def(['any'], toInt64),
    int64: def(['any'], toInt64),
    float64: def(['any'], (v: unknown) => float(toFloat64(v))),
    toDecimal: def(['any'], (v: unknown) => parseGoInt('0o' + fmtValue(v)) ?? 0),
    add1: def(['any'], (v: unknown) => toInt64(v) + 1),
    add: def([], (...v: unknown[]) => v.reduce<number>((a, b) => a + toInt64(b), 0), 'any'),
    sub: def(['any', 'any'], (a: unknown, b: unknown) => toInt64(a) - toInt64(b)),
    mul: def(['any'], (a: unknown, ...v: unknown[]) => v.reduce<number>((x, b) => x * toInt64(b), toInt64(a)), 'any'),
    div: def(['any', 'any'], (a: unknown, b: unknown) => intDiv(toInt64(a), toInt64(b), 'div')),
    mod: def(['any', 'any'], (a: unknown, b: unknown) => intDiv(toInt64(a), toInt64(b), 'mod')),
    max: def(['any'], (a: unknown, ...v: unknown[]) => v.reduce<number>((x, b) => Math.max(x, toInt64(b)), toInt64(a)), 'any'),
    biggest: def(['any'], (a: unknown, ...v: unknown[]) => v.reduce<number>((x, b) => Math.max(x, toInt64(b)), toInt64(a)), 'any'),
    min: def(['any'], (a: unknown, ...v: unknown[]) => v.reduce<number>((x, b) => Math.min(x, toInt64(b)), toInt64(a)), 'any'),
    add1f: def(['any'], (v: unknown) => decimalFold('add', v, [1])),
    addf: def([], (...v: unknown[]) => decimalFold('add', 0, v), 'any'),
    subf: def(['any'], (a: unknown, ...v: unknown[]) => decimalFold('sub', a, v), 'any'),
    mulf: def(['any'], (a: unknown, ...v: unknown[]) => decimalFold('mul', a, v), 'any'),
    divf: def(['any'], (a: unknown, ...v: unknown[]) => decimalFold('div', a, v), 'any'),
    maxf: def(['any'], (a: unknown, ...v: unknown[]) => float(v.reduce<number>((x, b) => Math.max(x, toFloat64(b)), toFloat64(a))), 'any'),
    minf: def(['any'], (a: unknown, ...v: unknown[]) => float(v.reduce<number>((x, b) => Math.min(x, toFloat64(b)), toFloat64(a))), 'any'),
    floor: def(['any'], (v: unknown) => float(Math.floor(toFloat64(v)))),
    ceil: def(['any'], (v: unknown) => float(Math.ceil(toFloat64(v)))),
    round: def(['any', 'int'], (a: unknown, p: number, ...r: number[]) => roundf(a, p, r), 'float'),
    until: def(['int'], (n: number) => untilStep(0, n, n < 0 ? -1 : 1)),
    untilStep: def(['int', 'int', 'int'], untilStep),
    seq: def([], (...p: number[]) => seq(p), 'int'),

    // Lists
    list: def([], (...v: unknown[]) => v, 'any'),
    tuple: def([], (...v: unknown[]) => v, 'any'),
    first: def(['any'], (l: unknown) => listOf(l, 'find first')[0] ?? null),
    last: def(['any'], (l: unknown) => listOf(l, 'find last').at(-1) ?? null),
    rest: def(['any'], (l: unknown) => {
      const list = listOf(l, 'find rest');
      return list.length === 0 ? null : list.slice(1);
    }),
    initial: def(['any'], (l: unknown) => {
      const list = listOf(l, 'find initial');
      return list.length === 0 ? null : list.slice(0, -1);
    }),
    append: def(['any', 'any'], (l: unknown, v: unknown) => [...listOf(l, 'push'), v]),
    push: def(['any', 'any'], (l: unknown, v: unknown) => [...listOf(l, 'push'), v]),
    prepend: def(['any', 'any'], (l: unknown, v: unknown) => [v, ...listOf(l, 'prepend')]),
    concat: def([], (...lists: unknown[]) => lists.flatMap((l) => listOf(l, 'concat')), 'any'),
    reverse: def(['any'], (l: unknown) => [...listOf(l, 'find reverse')].reverse()),
    uniq: def(['any'], (l: unknown) => {
      const out: unknown[] = [];
      for (const x of listOf(l, 'find uniq')) if (!inList(out, x)) out.push(x);
      return out;
    }),
    without: def(['any'], (l: unknown, ...omit: unknown[]) => listOf(l, 'find without').filter((x) => !inList(omit, x)), 'any'),
    has: def(['any', 'any'], (needle: unknown, hay: unknown) => (hay === null ? false : inList(listOf(hay, 'find has'), needle))),
    compact: def(['any'], (l: unknown) => listOf(l, 'compact').filter((x) => !isEmpty(x))),
    slice: def(['any'], (l: unknown, ...idx: unknown[]) => sliceList(l, idx), 'any'),
    chunk: def(['int', 'any'], (size: number, l: unknown) => {
      const list = listOf(l, 'chunk');
      if (size <= 0) throw new Error('size must be positive');
      const out: unknown[][] = [];
      for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
      return out;
    }),

    // Dicts
    dict: def([], (...v: unknown[]) => {
      const out = newMap();
      for (let i = 0; i < v.length; i += 2) setKey(out, strval(v[i]), i + 1 < v.length ? v[i + 1] : '');
      return out;
    }, 'any'),
    get: def(['map', 'string'], (d: Dict | null, k: string) => (d !== null && hasKey(d, k) ? d[k] : '')),
    set: def(['map', 'string', 'any'], (d: Dict | null, k: string, v: unknown) => {
      const m = requireMap(d, 'set');
      setKey(m, k, v);
      return m;
    }),
    unset: def(['map', 'string'], (d: Dict | null, k: string) => {
      if (d !== null) delete d[k];
      return d;
    }),
    hasKey: def(['map', 'string'], (d: Dict | null, k: string) => d !== null && hasKey(d, k)),
    keys: def([], (...ds: (Dict | null)[]) => ds.flatMap((d) => (d === null ? [] : sortedKeys(d))), 'map'),
    values: def(['map'], (d: Dict | null) => (d === null ? [] : sortedKeys(d).map((k) => d[k]))),
    pluck: def(['string'], (k: string, ...ds: (Dict | null)[]) => ds.filter((d): d is Dict => d !== null && hasKey(d, k)).map((d) => d[k]), 'map'),
    pick: def(['map'], (d: Dict | null, ...ks: string[]) => {
      const out = newMap();
      for (const k of ks) if (d !== null && hasKey(d, k)) setKey(out, k, d[k]);
      return out;
    }, 'string'),
    omit: def(['map'], (d: Dict | null, ...ks: string[]) => {
      const out = newMap();
      if (d !== null) for (const k of Object.keys(d)) if (!ks.includes(k)) setKey(out, k, d[k]);
      return out;
    }, 'string'),
    dig: def([], (...args: unknown[]) => {
      if (args.length < 3) throw new Error('dig needs at least three arguments');
      const dict = args[args.length - 1];
      const dflt = args[args.length - 2];
      const ks = args.slice(0, -2);
      let cur: unknown = dict;
      for (const k of ks) {
        if (typeof k !== 'string') throw new Error(`dig keys must be strings, got ${typeName(k)}`);
        if (!isMap(cur) || !hasKey(cur, k)) return dflt;
        cur = cur[k];
      }
      return cur;
    }, 'any'),
    merge: def(['map'], (dst: Dict | null, ...srcs: (Dict | null)[]) => {
      const d = dst ?? newMap();
      for (const s of srcs) if (s !== null) mergeInto(d, s, false);
      return d;
    }, 'map'),
    mergeOverwrite: def(['map'], (dst: Dict | null, ...srcs: (Dict | null)[]) => {
      const d = dst ?? newMap();
      for (const s of srcs) if (s !== null) mergeInto(d, s, true);
      return d;
    }, 'map'),

    // Reflection
    kindOf: def(['any'], kindName),
    kindIs: def(['string', 'any'], (k: string, v: unknown) => kindName(v) === k),
    typeOf: def(['any'], typeName),
    typeIs: def(['string', 'any'], (t: string, v: unknown) => typeName(v) === t),
    typeIsLike: def(['string', 'any'], (t: string, v: unknown) => typeName(v) === t || typeName(v) === '*' + t),
    deepEqual: def(['any', 'any'], deepEqual),

    // Paths
    base: def(['string'], pathBase),
    dir: def(['string'], pathDir),
    clean: def(['string'], pathClean),
    ext: def(['string'], pathExt),
    isAbs: def(['string'], (p: string) => p.startsWith('/')),
    // The os* variants use the OS separator; werf runs on Linux, where it is the slash.
    osBase: def(['string'], pathBase),
    osDir: def(['string'], pathDir),
    osClean: def(['string'], pathClean),
    osExt: def(['string'], pathExt),
    osIsAbs: def(['string'], (p: string) => p.startsWith('/')),
  };

  Object.assign(fns, moreSprigFunctions());

  // The must* variants: ours report errors in every variant.
  for (const name of ['first', 'last', 'rest', 'initial', 'append', 'push', 'prepend', 'reverse', 'uniq', 'without', 'has', 'compact', 'slice', 'chunk', 'merge', 'mergeOverwrite']) {
    fns['must' + name[0]!.toUpperCase() + name.slice(1)] = fns[name]!;
  }
  for (const name of ['regexFind', 'regexFindAll', 'regexReplaceAll', 'regexReplaceAllLiteral', 'regexSplit']) {
    fns['must' + name[0]!.toUpperCase() + name.slice(1)] = fns[name]!;
  }
  return fns;
}
