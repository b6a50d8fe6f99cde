// Go's fmt for the value model: %v printing, Sprint/Sprintln/Sprintf, and strconv float formatting.

import { canBackquote, isPrint, quote, quoteRune, quoteRuneToASCII, quoteToASCII } from '../../go/strconv.js';
import {
  GoFloat,
  isFloat,
  isPlainMap,
  numValue,
  sortedKeys,
  stringerOf,
  typeName,
  type Dict,
} from './values.js';

// ---------------------------------------------------------------------------------------------
// Floats (strconv.FormatFloat)

interface Decimal {
  /** Significant digits without leading or trailing zeros; empty for zero. */
  d: string;
  /** Position of the decimal point relative to the start of d. */
  dp: number;
}

/** The shortest decimal that reads back as x (x finite, >= 0). */
function shortestDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const s = x.toExponential(); // shortest round-trip digits
  const e = s.indexOf('e');
  const mant = s.slice(0, e).replace('.', '');
  const exp = Number(s.slice(e + 1));
  return { d: mant.replace(/0+$/, ''), dp: exp + 1 };
}

/** The exact decimal expansion of x (x finite, >= 0). */
function exactDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (expBits === 0) {
    e = -1074;
  } else {
    mant |= 1n << 52n;
    e = expBits - 1075;
  }
  let digits: string;
  let dp: number;
  if (e >= 0) {
    digits = (mant << BigInt(e)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e)).toString();
    dp = digits.length + e;
  }
  const trimmed = digits.replace(/0+$/, '');
  const lead = trimmed.length - trimmed.replace(/^0+/, '').length;
  return { d: trimmed.slice(lead), dp: dp - lead };
}

/** Rounds to nd digits, halfway cases to even (the expansion is exact). */
function roundDecimal(a: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= a.d.length) return a;
  const digit = a.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (digit === 5 && nd + 1 === a.d.length) {
    up = nd > 0 && (a.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  } else {
    up = digit >= 5;
  }
  if (!up) {
    const kept = a.d.slice(0, nd).replace(/0+$/, '');
    return kept === '' ? { d: '', dp: 0 } : { d: kept, dp: a.dp };
  }
  let i = nd - 1;
  while (i >= 0 && a.d[i] === '9') i--;
  if (i < 0) return { d: '1', dp: a.dp + 1 };
  return { d: a.d.slice(0, i) + String.fromCharCode(a.d.charCodeAt(i) + 1), dp: a.dp };
}

function fmtE(neg: boolean, d: Decimal, prec: number, ch: string): string {
  let out = neg ? '-' : '';
  out += d.d.length > 0 ? d.d[0] : '0';
  if (prec > 0) {
    out += '.';
    const frac = d.d.slice(1, 1 + prec);
    out += frac + '0'.repeat(prec - frac.length);
  }
  let exp = d.d.length === 0 ? 0 : d.dp - 1;
  out += ch;
  if (exp < 0) {
    out += '-';
    exp = -exp;
  } else {
    out += '+';
  }
  return out + (exp < 10 ? '0' + exp : String(exp));
}

function fmtF(neg: boolean, d: Decimal, prec: number): string {
  let out = neg ? '-' : '';
  if (d.dp > 0) {
    const m = Math.min(d.d.length, d.dp);
    out += d.d.slice(0, m) + '0'.repeat(d.dp - m);
  } else {
    out += '0';
  }
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) {
      const j = d.dp + i - 1;
      out += j >= 0 && j < d.d.length ? d.d[j] : '0';
    }
  }
  return out;
}

/** strconv.FormatFloat(x, fmt, prec, 64) for fmt in e E f F g G; prec -1 means shortest. */
export function formatFloat(x: number, fmt: string, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  const shortest = prec < 0;
  const lower = fmt.toLowerCase();
  let d: Decimal;
  if (shortest) {
    d = shortestDecimal(abs);
    if (lower === 'e') prec = d.d.length - 1;
    else if (lower === 'f') prec = Math.max(d.d.length - d.dp, 0);
    else prec = d.d.length;
  } else {
    d = exactDecimal(abs);
    if (lower === 'e') d = roundDecimal(d, prec + 1);
    else if (lower === 'f') d = roundDecimal(d, d.dp + prec);
    else {
      if (prec === 0) prec = 1;
      d = roundDecimal(d, prec);
    }
  }
  const expChar = fmt === 'E' || fmt === 'G' ? 'E' : 'e';
  if (lower === 'e') return fmtE(neg, d, prec, expChar);
  if (lower === 'f') return fmtF(neg, d, prec);
  // %g
  let eprec = prec;
  if (eprec > d.d.length && d.d.length >= d.dp) eprec = d.d.length;
  if (shortest) eprec = 6;
  const exp = d.dp - 1;
  if (d.d.length > 0 && (exp < -4 || exp >= eprec)) {
    if (prec > d.d.length) prec = d.d.length;
    return fmtE(neg, d, prec - 1, expChar);
  }
  if (prec > d.dp) prec = d.d.length;
  return fmtF(neg, d, Math.max(prec - d.dp, 0));
}

// ---------------------------------------------------------------------------------------------
// The printer (fmt's pp)

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | undefined;
  prec: number | undefined;
}

function noFlags(): Flags {
  return { plus: false, minus: false, sharp: false, space: false, zero: false, width: undefined, prec: undefined };
}

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function pad(f: Flags, s: string, zeroAllowed = true): string {
  if (f.width === undefined) return s;
  const n = f.width - runeCount(s);
  if (n <= 0) return s;
  if (f.minus) return s + ' '.repeat(n);
  return (f.zero && zeroAllowed ? '0' : ' ').repeat(n) + s;
}

function truncateRunes(f: Flags, s: string): string {
  if (f.prec === undefined) return s;
  const cps = Array.from(s);
  return cps.length > f.prec ? cps.slice(0, f.prec).join('') : s;
}

function badVerb(verb: string, arg: unknown): string {
  if (arg === undefined || arg === null) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(arg)}=${printArg(noFlags(), arg, 'v', 1)})`;
}

function fmtInteger(f: Flags, v: number | bigint, verb: string): string {
  const big = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
  switch (verb) {
    case 'c': {
      const n = Number(big);
      const cp = n < 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff) ? 0xfffd : n;
      return pad(f, String.fromCodePoint(cp));
    }
    case 'q':
      return pad(f, (f.plus ? quoteRuneToASCII : quoteRune)(Number(big)));
    case 'U': {
      const n = Number(big);
      let s = 'U+' + (n < 0 ? 0 : n).toString(16).toUpperCase().padStart(Math.max(4, f.prec ?? 0), '0');
      if (f.sharp && n >= 0 && n <= 0x10ffff && isPrint(n)) s += " '" + String.fromCodePoint(n) + "'";
      return pad(f, s, false);
    }
  }
  let base = 10;
  if (verb === 'b') base = 2;
  else if (verb === 'o' || verb === 'O') base = 8;
  else if (verb === 'x' || verb === 'X') base = 16;
  const negative = big < 0n;
  let digits = (negative ? -big : big).toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  let zeroPadded = false;
  if (f.prec !== undefined) {
    if (f.prec === 0 && big === 0n) digits = '';
    digits = digits.padStart(f.prec, '0');
  } else if (f.zero && f.width !== undefined && !f.minus) {
    let w = f.width;
    if (negative || f.plus || f.space) w--;
    digits = digits.padStart(w, '0');
    zeroPadded = true;
  }
  let prefix = '';
  if (f.sharp) {
    if (verb === 'b') prefix = '0b';
    else if (verb === 'o' && !digits.startsWith('0')) prefix = '0';
    else if (verb === 'x') prefix = '0x';
    else if (verb === 'X') prefix = '0X';
  }
  if (verb === 'O') prefix = '0o';
  const sign = negative ? '-' : f.plus ? '+' : f.space ? ' ' : '';
  const s = sign + prefix + digits;
  return zeroPadded ? s : pad(f, s, false);
}

function fmtFloatVerb(f: Flags, x: number, verb: string): string {
  let fmt: string;
  let prec: number;
  switch (verb) {
    case 'v':
    case 'g':
    case 'G':
    case 'x':
    case 'X':
    case 'b':
      fmt = verb === 'G' || verb === 'X' ? 'G' : 'g';
      prec = f.prec ?? -1;
      break;
    case 'e':
    case 'E':
    case 'f':
    case 'F':
      fmt = verb === 'F' ? 'f' : verb;
      prec = f.prec ?? 6;
      break;
    default:
      return badVerb(verb, new GoFloat(x));
  }
  let num = formatFloat(x, fmt, prec);
  if (Number.isNaN(x)) {
    if (f.plus) num = '+NaN';
    else if (f.space) num = ' NaN';
    return pad(f, num, false);
  }
  if (!Number.isFinite(x)) {
    if (x > 0 && !f.plus) num = f.space ? ' Inf' : '+Inf';
    return pad(f, num, false);
  }
  let sign = '';
  if (num.startsWith('-')) {
    sign = '-';
    num = num.slice(1);
  } else if (f.plus) {
    sign = '+';
  } else if (f.space) {
    sign = ' ';
  }
  if (f.zero && f.width !== undefined && !f.minus) {
    return sign + num.padStart(f.width - sign.length, '0');
  }
  return pad(f, sign + num, false);
}

function hexBytes(f: Flags, s: string, upper: boolean): string {
  let bytes = Buffer.from(s, 'utf8');
  if (f.prec !== undefined && bytes.length > f.prec) bytes = bytes.subarray(0, f.prec);
  const parts: string[] = [];
  for (const b of bytes) {
    let h = b.toString(16).padStart(2, '0');
    if (upper) h = h.toUpperCase();
    parts.push(h);
  }
  const prefix = f.sharp ? (upper ? '0X' : '0x') : '';
  if (f.space) return pad(f, parts.map((p) => prefix + p).join(' '));
  return pad(f, prefix + parts.join(''));
}

function fmtString(f: Flags, s: string, verb: string): string {
  switch (verb) {
    case 'v':
      if (f.sharp) return pad(f, quote(s));
      return pad(f, truncateRunes(f, s));
    case 's':
      return pad(f, truncateRunes(f, s));
    case 'q': {
      const t = truncateRunes(f, s);
      if (f.sharp && canBackquote(t)) return pad(f, '`' + t + '`');
      return pad(f, (f.plus ? quoteToASCII : quote)(t));
    }
    case 'x':
      return hexBytes(f, s, false);
    case 'X':
      return hexBytes(f, s, true);
  }
  return badVerb(verb, s);
}

function goSyntax(v: unknown, top: boolean): string {
  if (v === undefined || v === null) return top ? '<nil>' : 'interface {}(nil)';
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'number' || v instanceof GoFloat) {
    return isFloat(v) ? formatFloat(numValue(v), 'g', -1) : String(v);
  }
  if (Array.isArray(v)) return '[]interface {}{' + v.map((e) => goSyntax(e, false)).join(', ') + '}';
  if (typeof v === 'function') return '(func(...interface {}) interface {})(0x0)';
  const m = v as Dict;
  return 'map[string]interface {}{' + sortedKeys(m).map((k) => quote(k) + ':' + goSyntax(m[k], false)).join(', ') + '}';
}

function printArg(f: Flags, arg: unknown, verb: string, depth: number): string {
  if (arg === undefined || arg === null) {
    if (depth > 0) return '<nil>';
    if (verb === 'T' || verb === 'v') return pad(f, '<nil>');
    return badVerb(verb, arg);
  }
  if (verb === 'T') return pad(f, typeName(arg));
  if (verb === 'v' && f.sharp) return pad(f, goSyntax(arg, true));
  if (typeof arg === 'boolean') {
    return verb === 't' || verb === 'v' ? pad(f, String(arg)) : badVerb(verb, arg);
  }
  if (typeof arg === 'bigint' || (typeof arg === 'number' && Number.isInteger(arg))) {
    if ('bcdoOqxXUv'.includes(verb)) return fmtInteger(f, arg, verb === 'v' ? 'd' : verb);
    return badVerb(verb, arg);
  }
  if (typeof arg === 'number' || arg instanceof GoFloat) return fmtFloatVerb(f, numValue(arg), verb);
  if (typeof arg === 'string') return fmtString(f, arg, verb);
  if (Array.isArray(arg)) {
    return '[' + arg.map((e) => printArg(f, e, verb, depth + 1)).join(' ') + ']';
  }
  if (typeof arg === 'function') return verb === 'v' || verb === 'p' ? pad(f, '0x0') : badVerb(verb, arg);
  // fmt's handleMethods: a Stringer prints through String() for %v %s %q %x %X.
  const str = 'vsqxX'.includes(verb) ? stringerOf(arg) : null;
  if (str !== null) return fmtString(f, str, verb);
  const m = arg as Dict;
  if (!isPlainMap(m)) {
    return '{' + Object.keys(m).map((k) => printArg(f, m[k], verb, depth + 1)).join(' ') + '}';
  }
  return 'map[' + sortedKeys(m).map((k) => printArg(f, k, verb, depth + 1) + ':' + printArg(f, m[k], verb, depth + 1)).join(' ') + ']';
}

/** fmt.Sprint of one value (%v). */
export function fmtValue(v: unknown): string {
  return printArg(noFlags(), v, 'v', 0);
}

/** fmt.Sprint: spaces between operands when neither is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = typeof arg === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += fmtValue(arg);
    prevString = isString;
  });
  return out;
}

/** fmt.Sprintln: spaces between all operands and a final newline. */
export function sprintln(args: unknown[]): string {
  return args.map(fmtValue).join(' ') + '\n';
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  let i = 0;
  const n = format.length;

  const parseNum = (): number | undefined => {
    const start = i;
    while (i < n && format.charCodeAt(i) >= 48 && format.charCodeAt(i) <= 57) i++;
    return i > start ? Number(format.slice(start, i)) : undefined;
  };
  // [n] argument index; returns false on a malformed index.
  const argIndex = (): boolean => {
    if (format[i] !== '[') return true;
    reordered = true;
    const close = format.indexOf(']', i);
    if (close < 0) return false;
    const idx = Number(format.slice(i + 1, close));
    i = close + 1;
    if (!Number.isInteger(idx) || idx < 1 || idx > args.length) return false;
    argNum = idx - 1;
    return true;
  };
  const intArg = (): number | undefined => {
    if (argNum >= args.length) return undefined;
    const a = args[argNum++];
    return typeof a === 'number' && Number.isInteger(a) ? a : typeof a === 'bigint' ? Number(a) : undefined;
  };

  while (i < n) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const f = noFlags();
    flags: for (; i < n; i++) {
      switch (format[i]) {
        case '#':
          f.sharp = true;
          break;
        case '0':
          f.zero = true;
          break;
        case '+':
          f.plus = true;
          break;
        case '-':
          f.minus = true;
          break;
        case ' ':
          f.space = true;
          break;
        default:
          break flags;
      }
    }
    let badIndex = !argIndex();
    if (format[i] === '*') {
      i++;
      const w = intArg();
      if (w === undefined) {
        out += '%!(BADWIDTH)';
      } else if (w < 0) {
        f.minus = true;
        f.width = -w;
      } else {
        f.width = w;
      }
    } else {
      f.width = parseNum();
    }
    if (format[i] === '.') {
      i++;
      if (!argIndex()) badIndex = true;
      if (format[i] === '*') {
        i++;
        const p = intArg();
        if (p === undefined || p < 0) out += '%!(BADPREC)';
        else f.prec = p;
      } else {
        f.prec = parseNum() ?? 0;
      }
    }
    if (!argIndex()) badIndex = true;
    if (i >= n) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (badIndex) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argNum++];
    out += printArg(f, arg, verb === 'w' ? 'v' : verb, 0);
  }
  if (!reordered && argNum < args.length) {
    out +=
      '%!(EXTRA ' +
      args
        .slice(argNum)
        .map((a) => (a === undefined || a === null ? '<nil>' : `${typeName(a)}=${fmtValue(a)}`))
        .join(', ') +
      ')';
  }
  return out;
}
