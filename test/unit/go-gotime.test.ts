import { afterEach, describe, expect, it } from 'vitest';

import { GoTime, UTC, formatDuration, loadLocation, local, parseTime, roundDuration } from '../../src/go/gotime.js';

// Expected values are Go's: golang/go src/time/format_test.go and time_test.go (go1.23).

const savedTZ = process.env['TZ'];
afterEach(() => {
  if (savedTZ === undefined) delete process.env['TZ'];
  else process.env['TZ'] = savedTZ;
});

describe('Time.Format', () => {
  // format_test.go's TestFormat: time.Unix(0, 1233810057012345600) in America/Los_Angeles.
  const la = loadLocation('America/Los_Angeles')!;
  const t = new GoTime(1233810057, 12345600, la);
  it.each([
    ['Mon Jan _2 15:04:05 2006', 'Wed Feb  4 21:00:57 2009'],
    ['Mon Jan _2 15:04:05 MST 2006', 'Wed Feb  4 21:00:57 PST 2009'],
    ['Mon Jan 02 15:04:05 -0700 2006', 'Wed Feb 04 21:00:57 -0800 2009'],
    ['02 Jan 06 15:04 MST', '04 Feb 09 21:00 PST'],
    ['02 Jan 06 15:04 -0700', '04 Feb 09 21:00 -0800'],
    ['Monday, 02-Jan-06 15:04:05 MST', 'Wednesday, 04-Feb-09 21:00:57 PST'],
    ['Mon, 02 Jan 2006 15:04:05 MST', 'Wed, 04 Feb 2009 21:00:57 PST'],
    ['Mon, 02 Jan 2006 15:04:05 -0700', 'Wed, 04 Feb 2009 21:00:57 -0800'],
    ['2006-01-02T15:04:05Z07:00', '2009-02-04T21:00:57-08:00'],
    ['2006-01-02T15:04:05.999999999Z07:00', '2009-02-04T21:00:57.0123456-08:00'],
    ['3:04PM', '9:00PM'],
    ['3pm', '9pm'],
    ['3PM', '9PM'],
    ['06 01 02', '09 02 04'],
    ['Hi Janet, the Month is January', 'Hi Janet, the Month is February'],
    ['Jan _2 15:04:05', 'Feb  4 21:00:57'],
    ['Jan _2 15:04:05.000', 'Feb  4 21:00:57.012'],
    ['Jan _2 15:04:05.000000', 'Feb  4 21:00:57.012345'],
    ['Jan _2 15:04:05.000000000', 'Feb  4 21:00:57.012345600'],
    ['Jan _2 15:04:05,000', 'Feb  4 21:00:57,012'],
    ['Jan  2 002 __2 2', 'Feb  4 035  35 4'],
    ['-07:00:00 Z07 Z0700', '-08:00:00 -08 -0800'],
  ])('%s', (layout, want) => {
    expect(t.Format(layout)).toBe(want);
  });

  it('Z layouts write Z for UTC; String() is Go fmt %v of a time.Time', () => {
    const u = new GoTime(1233810057, 12345600, UTC);
    expect(u.Format('2006-01-02T15:04:05Z07:00')).toBe('2009-02-05T05:00:57Z');
    expect(u.String()).toBe('2009-02-05 05:00:57.0123456 +0000 UTC');
    expect(GoTime.zero().String()).toBe('0001-01-01 00:00:00 +0000 UTC');
    // A zone without an abbreviation in tzdata prints its numeric form.
    expect(new GoTime(0, 0, loadLocation('Asia/Dubai')!).String()).toBe('1970-01-01 04:00:00 +0400 +04');
  });

  it('time.Now carries a monotonic reading, printed as m=+s', () => {
    expect(GoTime.now().String()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} \S+ m=\+\d+\.\d{9}$/);
  });

  it('daylight saving time from the rule in the TZif footer, after the last transition', () => {
    const berlin = loadLocation('Europe/Berlin')!;
    expect(new GoTime(4102444800, 0, berlin).String()).toBe('2100-01-01 01:00:00 +0100 CET');
    expect(new GoTime(4118083200, 0, berlin).String()).toBe('2100-07-01 02:00:00 +0200 CEST');
    expect(GoTime.date(2100, 3, 28, 2, 30, 0, 0, berlin).String()).toBe('2100-03-28 03:30:00 +0200 CEST');
  });
});

describe('locations', () => {
  it('LoadLocation refuses what Go refuses', () => {
    expect(loadLocation('Nowhere/City')).toBeNull();
    expect(loadLocation('../etc/passwd')).toBeNull();
    expect(loadLocation('/etc/localtime')).toBeNull();
    expect(loadLocation('')).toBe(UTC);
    expect(loadLocation('UTC')).toBe(UTC);
  });

  it('Local follows TZ as Go does', () => {
    process.env['TZ'] = 'Asia/Tokyo';
    expect(local().name).toBe('Asia/Tokyo');
    expect(GoTime.unix(0).String()).toBe('1970-01-01 09:00:00 +0900 JST');
    process.env['TZ'] = '';
    expect(GoTime.unix(0).String()).toBe('1970-01-01 00:00:00 +0000 UTC');
    process.env['TZ'] = 'Not/AZone';
    expect(local().name).toBe('UTC');
  });
});

describe('time.ParseInLocation', () => {
  it.each([
    ['Mon Jan _2 15:04:05 2006', 'Thu Feb  4 21:00:57 2010', '2010-02-04 21:00:57 +0000 UTC'],
    ['Mon, 02 Jan 2006 15:04:05 -0700', 'Thu, 04 Feb 2010 21:00:57 -0800', '2010-02-04 21:00:57 -0800 -0800'],
    ['2006-01-02T15:04:05Z07:00', '2010-02-04T21:00:57Z', '2010-02-04 21:00:57 +0000 UTC'],
    ['2006-01-02T15:04:05Z07:00', '2010-02-04T21:00:57.012345678+08:00', '2010-02-04 21:00:57.012345678 +0800 +0800'],
    ['2006-01-02 15:04:05', '2010-02-04 21:00:57.5', '2010-02-04 21:00:57.5 +0000 UTC'],
    ['02 Jan 06 15:04:05 MST', '13 Jun 19 20:39:39 GMT', '2019-06-13 20:39:39 +0000 GMT'],
    ['3:04PM', '9:00PM', '0000-01-01 21:00:00 +0000 UTC'],
    ['2006 002', '2012 366', '2012-12-31 00:00:00 +0000 UTC'],
  ])('%s %s', (layout, value, want) => {
    expect(parseTime(layout, value, UTC).String()).toBe(want);
  });

  it('a known abbreviation takes its zone from the location', () => {
    const la = loadLocation('America/Los_Angeles')!;
    const t = parseTime('Mon, 02 Jan 2006 15:04:05 MST', 'Thu, 04 Feb 2010 21:00:57 PST', la);
    expect(t.String()).toBe('2010-02-04 21:00:57 -0800 PST');
    expect(t.Unix()).toBe(1265346057);
  });

  it.each([
    ['2006-01-02', 'x', 'parsing time "x" as "2006-01-02": cannot parse "x" as "2006"'],
    ['2006-01-02', '2017-13-31', 'parsing time "2017-13-31": month out of range'],
    ['2006-01-02', '2017-02-30', 'parsing time "2017-02-30": day out of range'],
    ['2006-01-02', '2017-02-03 x', 'parsing time "2017-02-03 x": extra text: " x"'],
    ['2006-01-02', '2017/02/03', 'parsing time "2017/02/03" as "2006-01-02": cannot parse "/02/03" as "-"'],
    ['15:04', '25:00', 'parsing time "25:00": hour out of range'],
  ])('%s %s fails as in Go', (layout, value, message) => {
    expect(() => parseTime(layout, value, UTC)).toThrow(message);
  });
});

describe('time.Duration', () => {
  const ns = 1n;
  const us = 1000n;
  const ms = 1_000_000n;
  const s = 1_000_000_000n;
  it.each([
    [0n, '0s'],
    [1n * ns, '1ns'],
    [1100n * ns, '1.1µs'],
    [2200n * us, '2.2ms'],
    [3300n * ms, '3.3s'],
    [4n * 60n * s + 5n * s, '4m5s'],
    [4n * 60n * s + 5001n * ms, '4m5.001s'],
    [5n * 3600n * s + 6n * 60n * s + 7001n * ms, '5h6m7.001s'],
    [8n * 60n * s + 1n, '8m0.000000001s'],
    [(1n << 63n) - 1n, '2562047h47m16.854775807s'],
    [-(1n << 63n), '-2562047h47m16.854775808s'],
  ])('String(%s)', (d, want) => {
    expect(formatDuration(d)).toBe(want);
  });

  it('Round', () => {
    expect(roundDuration(1_500_000_000n, s)).toBe(2_000_000_000n);
    expect(roundDuration(-1_500_000_000n, s)).toBe(-2_000_000_000n);
    expect(roundDuration(1_499_999_999n, s)).toBe(1_000_000_000n);
    expect(roundDuration((1n << 63n) - 1n, s)).toBe((1n << 63n) - 1n);
  });
});
