import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/go/time.js';

// Expected values and messages are Go's (time.ParseDuration, go1.22).
describe('time.ParseDuration', () => {
  it.each([
    ['0', 0n],
    ['-0', 0n],
    ['+0', 0n],
    ['0s', 0n],
    ['10ns', 10n],
    ['2us', 2_000n],
    ['2µs', 2_000n],
    ['2μs', 2_000n],
    ['300ms', 300_000_000n],
    ['30s', 30_000_000_000n],
    ['1m30s', 90_000_000_000n],
    ['1.5h', 5_400_000_000_000n],
    ['168h', 604_800_000_000_000n],
    ['1.s', 1_000_000_000n],
    ['.5s', 500_000_000n],
    ['-1.5h', -5_400_000_000_000n],
    ['+2h45m', 9_900_000_000_000n],
    ['1h1h', 7_200_000_000_000n],
    // Go computes fractions in float64 and truncates.
    ['0.3333333333333333333h', 1_200_000_000_000n],
    ['1.0000000001ns', 1n],
    // int64 limits, exactly.
    ['9223372036854775807ns', 9_223_372_036_854_775_807n],
    ['-9223372036854775808ns', -9_223_372_036_854_775_808n],
    ['2562047h47m16.854775807s', 9_223_372_036_854_775_807n],
  ])('%s = %d ns', (text, ns) => {
    expect(parseDuration(text)).toBe(ns);
  });

  it('returns nanoseconds, not milliseconds', () => {
    expect(parseDuration('1ms')).toBe(1_000_000n);
    expect(parseDuration('500ns')).toBe(500n);
  });

  it.each([
    ['', 'time: invalid duration ""'],
    ['-', 'time: invalid duration "-"'],
    ['s', 'time: invalid duration "s"'],
    ['.s', 'time: invalid duration ".s"'],
    ['1..5s', 'time: missing unit in duration "1..5s"'],
    ['5', 'time: missing unit in duration "5"'],
    ['10', 'time: missing unit in duration "10"'],
    ['1h2', 'time: missing unit in duration "1h2"'],
    ['7d', 'time: unknown unit "d" in duration "7d"'],
    ['1H', 'time: unknown unit "H" in duration "1H"'],
    ['1h ', 'time: unknown unit "h " in duration "1h "'],
    ['1é', 'time: unknown unit "\\xc3\\xa9" in duration "1\\xc3\\xa9"'],
    ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
    ['2562048h', 'time: invalid duration "2562048h"'],
    ['99999999999999999999s', 'time: invalid duration "99999999999999999999s"'],
  ])('%j is rejected with Go message %s', (text, message) => {
    expect(() => parseDuration(text)).toThrow(message);
  });
});
