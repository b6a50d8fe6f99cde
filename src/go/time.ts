// Go's time.ParseDuration (src/time/format.go in golang/go), for werf.yaml's `keepPolicies[].references.limit.in`
// and `imagesPerReference.in` (werf decodes them into a time.Duration) and Dockerfile HEALTHCHECK's
// `--interval`, `--timeout`, `--start-period` and `--start-interval` (BuildKit parses them with ParseDuration).
//
// The result is what Go returns: a time.Duration, i.e. int64 nanoseconds, here a bigint, so that every value Go
// accepts is exact. Callers convert explicitly (`Number(ns) / 1e6` for milliseconds). There used to be two
// copies, one returning milliseconds and accepting no sign, the other nanoseconds as a float, with neither
// Go's overflow check nor its unit rule (the unit is everything up to the next digit or `.`).
// Leaf module: imports nothing from the rest of src but src/errors.ts.

import { InvalidInputError } from '../errors.js';

const NANOSECONDS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 MICRO SIGN
  'μs': 1_000n, // U+03BC GREEK SMALL LETTER MU
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX = 1n << 63n;

/** time's own quote: printable ASCII as is (`"` and `\` escaped), every other UTF-8 byte as `\xNN`. */
function timeQuote(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte >= 0x80 || byte < 0x20) out += `\\x${byte.toString(16).padStart(2, '0')}`;
    else {
      const c = String.fromCharCode(byte);
      out += c === '"' || c === '\\' ? `\\${c}` : c;
    }
  }
  return `${out}"`;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/**
 * Go's `time.ParseDuration`: a signed sequence of decimal numbers, each with an optional fraction and a unit
 * (`300ms`, `-1.5h`, `2h45m`; units ns, us, µs, μs, ms, s, m, h; `0` alone needs no unit). Returns nanoseconds.
 * Throws InvalidInputError with Go's message: `time: invalid duration "x"`, `time: missing unit in duration "x"`,
 * `time: unknown unit "d" in duration "7d"`. Out of int64 range is an invalid duration, as in Go.
 */
export function parseDuration(text: string): bigint {
  const invalid = (): InvalidInputError => new InvalidInputError(`time: invalid duration ${timeQuote(text)}`);
  let s = text;
  let negative = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) throw invalid();
    // [0-9]*: an overflow is an error.
    let i = 0;
    let whole = 0n;
    for (; isDigit(s[i]); i++) {
      whole = whole * 10n + BigInt(s.charCodeAt(i) - 48);
      if (whole > MAX) throw invalid();
    }
    const before = i > 0;
    s = s.slice(i);
    // (\.[0-9]*)?: digits past uint64 precision are skipped, not an error.
    let fraction = 0n;
    let scale = 1;
    let after = false;
    if (s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      for (; isDigit(s[j]); j++) {
        if (overflow) continue;
        const next = fraction * 10n + BigInt(s.charCodeAt(j) - 48);
        if (fraction > (MAX - 1n) / 10n || next > MAX) {
          overflow = true;
          continue;
        }
        fraction = next;
        scale *= 10;
      }
      after = j > 0;
      s = s.slice(j);
    }
    if (!before && !after) throw invalid();
    // The unit: everything up to the next digit or `.`.
    let k = 0;
    while (k < s.length && !(s[k] === '.' || isDigit(s[k]))) k++;
    if (k === 0) throw new InvalidInputError(`time: missing unit in duration ${timeQuote(text)}`);
    const unitName = s.slice(0, k);
    s = s.slice(k);
    const unit = NANOSECONDS[unitName];
    if (unit === undefined) throw new InvalidInputError(`time: unknown unit ${timeQuote(unitName)} in duration ${timeQuote(text)}`);
    if (whole > MAX / unit) throw invalid();
    let value = whole * unit;
    if (fraction > 0n) {
      // Go computes the fraction in float64 ("nanosecond accurate for fractions of hours") and truncates.
      value += BigInt(Math.trunc(Number(fraction) * (Number(unit) / scale)));
      if (value > MAX) throw invalid();
    }
    total += value;
    if (total > MAX) throw invalid();
  }
  if (negative) return -total;
  if (total > MAX - 1n) throw invalid();
  return total;
}
