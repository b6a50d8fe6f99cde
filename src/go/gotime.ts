// Go's time.Time, time.Location and time.Duration formatting (src/time in golang/go, go1.23), for the Sprig date
// functions of werf.yaml templates (now, date, dateInZone, toDate, duration, ago, ...).
//
// A GoTime is Unix seconds plus nanoseconds in a Location, with an optional monotonic reading (time.Now's,
// printed by String() as ` m=+0.000000001`). Locations are read from the system's TZif files as Go reads them
// (ZONEINFO, then /usr/share/zoneinfo and Go's other Unix directories), with the POSIX TZ rule of their footer
// for instants past the last transition; Local follows Go's initLocal (TZ unset: /etc/localtime; TZ="": UTC;
// TZ=name or :name or /path: that zone; a zone that cannot be loaded: UTC).
// Format and Parse follow time/format.go: every layout element (January .. Z07:00:00, .000 and .999, _2, __2,
// 002), Go's ParseError messages, and its zone rules for parsed abbreviations and offsets.
// Leaf module: imports nothing from the rest of src.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, as Go's)

const SECONDS_PER_DAY = 86400;

function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** Days since 1970-01-01 of year-month-day (month 1..12, day 1..31). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = floorDiv(y, 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z: number): { year: number; month: number; day: number } {
  z += 719468;
  const era = floorDiv(z, 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

const DAYS_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

function daysIn(month: number, year: number): number {
  if (month === 2 && isLeap(year)) return 29;
  return DAYS_BEFORE[month]! - DAYS_BEFORE[month - 1]!;
}

// ---------------------------------------------------------------------------------------------
// Locations

interface Zone {
  name: string;
  offset: number;
  isDST: boolean;
}

export interface ZoneInfo extends Zone {}

export class Location {
  constructor(
    readonly name: string,
    private readonly zones: Zone[],
    private readonly tx: { when: number; index: number }[],
    private readonly extend: string,
  ) {}

  static fixed(name: string, offset: number): Location {
    return new Location(name, [{ name, offset, isDST: false }], [{ when: -Infinity, index: 0 }], '');
  }

  /** The zone in effect at Unix second `sec` (Go's Location.lookup). */
  lookup(sec: number): ZoneInfo {
    if (this.zones.length === 0) return { name: 'UTC', offset: 0, isDST: false };
    const tx = this.tx;
    if (tx.length === 0 || sec < tx[0]!.when) return this.zones[this.firstZone()]!;
    let lo = 0;
    let hi = tx.length;
    while (hi - lo > 1) {
      const m = (lo + hi) >>> 1;
      if (sec < tx[m]!.when) hi = m;
      else lo = m;
    }
    const zone = this.zones[tx[lo]!.index]!;
    if (lo === tx.length - 1 && this.extend !== '') {
      const z = tzset(this.extend, sec);
      if (z) return z;
    }
    return zone;
  }

  /** The offset of the zone named `name` near `unix` (Go's lookupName, for parsed abbreviations). */
  lookupName(name: string, unix: number): number | null {
    for (const zone of this.zones) {
      if (zone.name === name) {
        const z = this.lookup(unix - zone.offset);
        if (z.name === zone.name) return z.offset;
      }
    }
    for (const zone of this.zones) if (zone.name === name) return zone.offset;
    return null;
  }

  renamed(name: string): Location {
    return new Location(name, this.zones, this.tx, this.extend);
  }

  private firstZone(): number {
    if (!this.tx.some((t) => t.index === 0)) return 0;
    if (this.tx.length > 0 && this.zones[this.tx[0]!.index]!.isDST) {
      for (let zi = this.tx[0]!.index - 1; zi >= 0; zi--) if (!this.zones[zi]!.isDST) return zi;
    }
    const i = this.zones.findIndex((z) => !z.isDST);
    return i >= 0 ? i : 0;
  }

  toString(): string {
    return this.name;
  }
}

export const UTC = new Location('UTC', [], [], '');

/** Parses a TZif file (RFC 8536) as Go's LoadLocationFromTZData does; null when it is not one. */
export function parseTZif(name: string, data: Buffer): Location | null {
  if (data.length < 44 || data.toString('latin1', 0, 4) !== 'TZif') return null;
  const version = data[4]!;
  let p = 0;
  const header = (): number[] => {
    if (data.length < p + 44 || data.toString('latin1', p, p + 4) !== 'TZif') throw new Error('bad header');
    const counts = [0, 1, 2, 3, 4, 5].map((i) => data.readUInt32BE(p + 20 + i * 4));
    p += 44;
    return counts;
  };
  try {
    let [isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt] = header() as [number, number, number, number, number, number];
    let is64 = false;
    if (version >= 0x32) {
      // Skip the 32-bit data; read the 64-bit block.
      p += timecnt * 5 + typecnt * 6 + charcnt + leapcnt * 8 + isstdcnt + isutcnt;
      [isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt] = header() as [number, number, number, number, number, number];
      is64 = true;
    }
    const size = is64 ? 8 : 4;
    const when: number[] = [];
    for (let i = 0; i < timecnt; i++) {
      when.push(is64 ? Number(data.readBigInt64BE(p + i * 8)) : data.readInt32BE(p + i * 4));
    }
    p += timecnt * size;
    const idx: number[] = [];
    for (let i = 0; i < timecnt; i++) idx.push(data[p + i]!);
    p += timecnt;
    const types: { offset: number; isDST: boolean; abbr: number }[] = [];
    for (let i = 0; i < typecnt; i++) {
      types.push({ offset: data.readInt32BE(p), isDST: data[p + 4] !== 0, abbr: data[p + 5]! });
      p += 6;
    }
    const chars = data.subarray(p, p + charcnt);
    p += charcnt + leapcnt * (size + 4) + isstdcnt + isutcnt;
    const zones = types.map((t) => {
      const end = chars.indexOf(0, t.abbr);
      return { name: chars.toString('latin1', t.abbr, end < 0 ? chars.length : end), offset: t.offset, isDST: t.isDST };
    });
    let extend = '';
    if (is64 && data[p] === 0x0a) {
      const end = data.indexOf(0x0a, p + 1);
      if (end > p) extend = data.toString('latin1', p + 1, end);
    }
    const tx = when.map((w, i) => ({ when: w, index: idx[i]! }));
    if (tx.length === 0) tx.push({ when: -Infinity, index: 0 });
    return new Location(name, zones, tx, extend);
  } catch {
    return null;
  }
}

const ZONE_DIRS = ['/usr/share/zoneinfo/', '/usr/share/lib/zoneinfo/', '/usr/lib/locale/TZ/', '/etc/zoneinfo/'];

function loadFrom(name: string, dirs: string[]): Location | null {
  for (const dir of dirs) {
    let data: Buffer;
    try {
      data = readFileSync(join(dir, name));
    } catch {
      continue;
    }
    const loc = parseTZif(name, data);
    if (loc) return loc;
  }
  return null;
}

/** time.LoadLocation: null when Go fails ("unknown time zone x"). */
export function loadLocation(name: string): Location | null {
  if (name === '' || name === 'UTC') return UTC;
  if (name === 'Local') return local();
  if (name.split(/[/\\]/).includes('..') || name[0] === '/' || name[0] === '\\') return null;
  const zoneinfo = process.env['ZONEINFO'];
  if (zoneinfo) {
    const loc = loadFrom(name, [zoneinfo]);
    if (loc) return loc;
  }
  return loadFrom(name, ZONE_DIRS);
}

let localCache: { tz: string | undefined; loc: Location } | null = null;

/** time.Local, after Go's initLocal (read again when TZ changes, which Go reads once). */
export function local(): Location {
  const tz = process.env['TZ'];
  if (localCache && localCache.tz === tz) return localCache.loc;
  const make = (): Location => {
    if (tz === undefined) return loadFrom('localtime', ['/etc'])?.renamed('Local') ?? UTC;
    let t = tz;
    if (t !== '' && t[0] === ':') t = t.slice(1);
    if (t !== '' && t[0] === '/') {
      let data: Buffer | null = null;
      try {
        data = readFileSync(t);
      } catch {
        data = null;
      }
      const loc = data ? parseTZif(t === '/etc/localtime' ? 'Local' : t, data) : null;
      if (loc) return loc;
    } else if (t !== '' && t !== 'UTC') {
      const loc = loadFrom(t, process.env['ZONEINFO'] ? [process.env['ZONEINFO'], ...ZONE_DIRS] : ZONE_DIRS);
      if (loc) return loc.renamed(t);
    }
    return UTC;
  };
  localCache = { tz, loc: make() };
  return localCache.loc;
}

// POSIX TZ rules of TZif footers (Go's tzset).

interface Rule {
  kind: 'julian' | 'doy' | 'mwd';
  day: number;
  week: number;
  mon: number;
  time: number;
}

function tzsetName(s: string): [string, string] | null {
  if (s === '') return null;
  if (s[0] !== '<') {
    let i = 0;
    while (i < s.length && !/[0-9,+-]/.test(s[i]!)) i++;
    if (i < 3) return null;
    return [s.slice(0, i), s.slice(i)];
  }
  const end = s.indexOf('>');
  if (end < 0) return null;
  return [s.slice(1, end), s.slice(end + 1)];
}

function tzsetNum(s: string, min: number, max: number): [number, string] | null {
  const m = /^[0-9]+/.exec(s);
  if (!m) return null;
  const n = Number(m[0]);
  if (n < min || n > max) return null;
  return [n, s.slice(m[0].length)];
}

function tzsetOffset(s: string): [number, string] | null {
  let neg = false;
  if (s[0] === '+') s = s.slice(1);
  else if (s[0] === '-') {
    s = s.slice(1);
    neg = true;
  }
  let r = tzsetNum(s, 0, 24 * 7);
  if (!r) return null;
  let off = r[0] * 3600;
  s = r[1];
  if (s[0] === ':') {
    r = tzsetNum(s.slice(1), 0, 59);
    if (!r) return null;
    off += r[0] * 60;
    s = r[1];
    if (s[0] === ':') {
      r = tzsetNum(s.slice(1), 0, 59);
      if (!r) return null;
      off += r[0];
      s = r[1];
    }
  }
  return [neg ? -off : off, s];
}

function tzsetRule(s: string): [Rule, string] | null {
  const rule: Rule = { kind: 'doy', day: 0, week: 0, mon: 0, time: 2 * 3600 };
  if (s === '') return null;
  if (s[0] === 'J') {
    const r = tzsetNum(s.slice(1), 1, 365);
    if (!r) return null;
    rule.kind = 'julian';
    rule.day = r[0];
    s = r[1];
  } else if (s[0] === 'M') {
    const m = tzsetNum(s.slice(1), 1, 12);
    if (!m || m[1][0] !== '.') return null;
    const w = tzsetNum(m[1].slice(1), 1, 5);
    if (!w || w[1][0] !== '.') return null;
    const d = tzsetNum(w[1].slice(1), 0, 6);
    if (!d) return null;
    Object.assign(rule, { kind: 'mwd', mon: m[0], week: w[0], day: d[0] });
    s = d[1];
  } else {
    const r = tzsetNum(s, 0, 365);
    if (!r) return null;
    rule.day = r[0];
    s = r[1];
  }
  if (s[0] !== '/') return [rule, s];
  const off = tzsetOffset(s.slice(1));
  if (!off) return null;
  rule.time = off[0];
  return [rule, off[1]];
}

function tzruleTime(year: number, r: Rule, off: number): number {
  let s = 0;
  if (r.kind === 'julian') {
    s = (r.day - 1) * SECONDS_PER_DAY;
    if (isLeap(year) && r.day >= 60) s += SECONDS_PER_DAY;
  } else if (r.kind === 'doy') {
    s = r.day * SECONDS_PER_DAY;
  } else {
    const m1 = ((r.mon + 9) % 12) + 1;
    let yy0 = year;
    if (r.mon <= 2) yy0--;
    const yy1 = Math.trunc(yy0 / 100);
    const yy2 = yy0 % 100;
    let dow = (Math.trunc((26 * m1 - 2) / 10) + 1 + yy2 + Math.trunc(yy2 / 4) + Math.trunc(yy1 / 4) - 2 * yy1) % 7;
    if (dow < 0) dow += 7;
    let d = r.day - dow;
    if (d < 0) d += 7;
    for (let i = 1; i < r.week; i++) {
      if (d + 7 >= daysIn(r.mon, year)) break;
      d += 7;
    }
    d += DAYS_BEFORE[r.mon - 1]!;
    if (isLeap(year) && r.mon > 2) d++;
    s = d * SECONDS_PER_DAY;
  }
  return s + r.time - off;
}

function tzset(s: string, sec: number): ZoneInfo | null {
  const std = tzsetName(s);
  if (!std) return null;
  const stdOff = tzsetOffset(std[1]);
  if (!stdOff) return null;
  const stdName = std[0];
  const stdOffset = -stdOff[0];
  s = stdOff[1];
  if (s === '' || s[0] === ',') return { name: stdName, offset: stdOffset, isDST: false };
  const dst = tzsetName(s);
  if (!dst) return null;
  const dstName = dst[0];
  s = dst[1];
  let dstOffset: number;
  if (s === '' || s[0] === ',') dstOffset = stdOffset + 3600;
  else {
    const o = tzsetOffset(s);
    if (!o) return null;
    dstOffset = -o[0];
    s = o[1];
  }
  if (s === '') s = ',M3.2.0,M11.1.0';
  if (s[0] !== ',' && s[0] !== ';') return null;
  const start = tzsetRule(s.slice(1));
  if (!start || start[1] === '' || start[1][0] !== ',') return null;
  const end = tzsetRule(start[1].slice(1));
  if (!end || end[1] !== '') return null;
  const days = floorDiv(sec, SECONDS_PER_DAY);
  const { year } = civilFromDays(days);
  const yearStart = daysFromCivil(year, 1, 1) * SECONDS_PER_DAY;
  const ysec = sec - yearStart;
  let startSec = tzruleTime(year, start[0], stdOffset);
  let endSec = tzruleTime(year, end[0], dstOffset);
  let names = [stdName, dstName];
  let offsets = [stdOffset, dstOffset];
  let dsts = [false, true];
  if (endSec < startSec) {
    [startSec, endSec] = [endSec, startSec];
    names = [dstName, stdName];
    offsets = [dstOffset, stdOffset];
    dsts = [true, false];
  }
  if (ysec < startSec || ysec >= endSec) return { name: names[0]!, offset: offsets[0]!, isDST: dsts[0]! };
  return { name: names[1]!, offset: offsets[1]!, isDST: dsts[1]! };
}

// ---------------------------------------------------------------------------------------------
// Durations

export const NANOSECOND = 1n;
export const SECOND = 1_000_000_000n;
const MAX_DURATION = (1n << 63n) - 1n;
const MIN_DURATION = -(1n << 63n);

/** Wraps to int64 as Go's Duration arithmetic does. */
export function int64(n: bigint): bigint {
  return BigInt.asIntN(64, n);
}

function fmtFrac(v: bigint, prec: number): [string, bigint] {
  let out = '';
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    print = print || digit !== 0n;
    if (print) out = String(digit) + out;
    v /= 10n;
  }
  if (print) out = '.' + out;
  return [out, v];
}

/** time.Duration.String(): 1h2m3.5s, 1.5ms, 0s. */
export function formatDuration(d: bigint): string {
  let u = d < 0n ? -d : d;
  let out: string;
  if (u < SECOND) {
    if (u === 0n) return '0s';
    let prec: number;
    let unit: string;
    if (u < 1000n) {
      prec = 0;
      unit = 'ns';
    } else if (u < 1_000_000n) {
      prec = 3;
      unit = 'µs';
    } else {
      prec = 6;
      unit = 'ms';
    }
    const [frac, whole] = fmtFrac(u, prec);
    out = String(whole) + frac + unit;
  } else {
    const [frac, whole] = fmtFrac(u, 9);
    u = whole;
    out = String(u % 60n) + frac + 's';
    u /= 60n;
    if (u > 0n) {
      out = String(u % 60n) + 'm' + out;
      u /= 60n;
      if (u > 0n) out = String(u) + 'h' + out;
    }
  }
  return d < 0n ? '-' + out : out;
}

/** time.Duration.Round. */
export function roundDuration(d: bigint, m: bigint): bigint {
  if (m <= 0n) return d;
  let r = d % m;
  const lessThanHalf = (x: bigint, y: bigint): boolean => BigInt.asUintN(64, x + x) < BigInt.asUintN(64, y);
  if (d < 0n) {
    r = -r;
    if (lessThanHalf(r, m)) return d + r;
    const d1 = d - m + r;
    return d1 < d && d1 >= MIN_DURATION ? d1 : MIN_DURATION;
  }
  if (lessThanHalf(r, m)) return d - r;
  const d1 = d + m - r;
  return d1 > d && d1 <= MAX_DURATION ? d1 : MAX_DURATION;
}

// ---------------------------------------------------------------------------------------------
// Time

const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const LONG_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const startWall = BigInt(Date.now()) * 1_000_000n;
const startHr = process.hrtime.bigint();

/** The Go type of a value of the template engine (read by its typeOf/kindOf and printf %T). */
export const GO_TYPE = Symbol.for('slipway.goType');

/** Go's time.Time. Its methods are what a template may call (`now.Year`, `(now).Format "2006"`). */
export class GoTime {
  readonly #sec: number;
  readonly #nsec: number;
  readonly #loc: Location;
  readonly #mono: bigint | null;

  constructor(sec: number, nsec: number, loc: Location, mono: bigint | null = null) {
    this.#sec = sec;
    this.#nsec = nsec;
    this.#loc = loc;
    this.#mono = mono;
  }

  get [GO_TYPE](): string {
    return 'time.Time';
  }

  /** time.Now(), in Local, with a monotonic reading. */
  static now(): GoTime {
    const hr = process.hrtime.bigint() - startHr;
    const ns = startWall + hr;
    return new GoTime(Number(ns / SECOND), Number(ns % SECOND), local(), hr + 1n);
  }

  /** time.Unix(sec, nsec), in Local. */
  static unix(sec: number, nsec = 0): GoTime {
    const s = sec + Math.floor(nsec / 1e9);
    return new GoTime(s, ((nsec % 1e9) + 1e9) % 1e9, local());
  }

  /** The zero Time: January 1, year 1, 00:00:00 UTC. */
  static zero(): GoTime {
    return new GoTime(daysFromCivil(1, 1, 1) * SECONDS_PER_DAY, 0, UTC);
  }

  /** time.Date: out-of-range values are normalised, as in Go. */
  static date(year: number, month: number, day: number, hour: number, min: number, sec: number, nsec: number, loc: Location): GoTime {
    const m0 = month - 1;
    year += floorDiv(m0, 12);
    month = (((m0 % 12) + 12) % 12) + 1;
    sec += floorDiv(nsec, 1e9);
    nsec = ((nsec % 1e9) + 1e9) % 1e9;
    let unix = (daysFromCivil(year, month, 1) + day - 1) * SECONDS_PER_DAY + hour * 3600 + min * 60 + sec;
    const guess = loc.lookup(unix).offset;
    unix -= loc.lookup(unix - guess).offset;
    return new GoTime(unix, nsec, loc);
  }

  /** Unix seconds and nanoseconds. */
  get unixSeconds(): number {
    return this.#sec;
  }
  get nanos(): number {
    return this.#nsec;
  }
  get location(): Location {
    return this.#loc;
  }

  /** Nanoseconds since the Unix epoch, exactly. */
  unixNanos(): bigint {
    return BigInt(this.#sec) * SECOND + BigInt(this.#nsec);
  }

  private zone(): ZoneInfo {
    return this.#loc.lookup(this.#sec);
  }

  private civil(): { year: number; month: number; day: number; hour: number; min: number; sec: number; yday: number; wday: number; zone: ZoneInfo } {
    const zone = this.zone();
    const local = this.#sec + zone.offset;
    const days = floorDiv(local, SECONDS_PER_DAY);
    const rem = local - days * SECONDS_PER_DAY;
    const c = civilFromDays(days);
    return {
      ...c,
      hour: Math.floor(rem / 3600),
      min: Math.floor((rem % 3600) / 60),
      sec: rem % 60,
      yday: days - daysFromCivil(c.year, 1, 1) + 1,
      wday: (((days + 4) % 7) + 7) % 7,
      zone,
    };
  }

  // The methods of time.Time a template may call.
  Year(): number {
    return this.civil().year;
  }
  Month(): GoMonth {
    return new GoMonth(this.civil().month);
  }
  Day(): number {
    return this.civil().day;
  }
  Hour(): number {
    return this.civil().hour;
  }
  Minute(): number {
    return this.civil().min;
  }
  Second(): number {
    return this.civil().sec;
  }
  Nanosecond(): number {
    return this.#nsec;
  }
  YearDay(): number {
    return this.civil().yday;
  }
  Weekday(): GoWeekday {
    return new GoWeekday(this.civil().wday);
  }
  Unix(): number {
    return this.#sec;
  }
  UnixMilli(): number {
    return Number(this.unixNanos() / 1_000_000n);
  }
  UnixNano(): bigint {
    return this.unixNanos();
  }
  IsZero(): boolean {
    return this.#sec === GoTime.zero().#sec && this.#nsec === 0;
  }
  UTC(): GoTime {
    return new GoTime(this.#sec, this.#nsec, UTC);
  }
  Local(): GoTime {
    return new GoTime(this.#sec, this.#nsec, local());
  }
  /** t.In(loc): the same instant in another Location (the monotonic reading is dropped, as in Go). */
  In(loc: Location): GoTime {
    return new GoTime(this.#sec, this.#nsec, loc);
  }
  /** t.Add(d), d in nanoseconds. */
  Add(d: bigint | number): GoTime {
    const ns = this.unixNanos() + BigInt(d);
    const sec = ns / SECOND - (ns % SECOND < 0n ? 1n : 0n);
    return new GoTime(Number(sec), Number(ns - sec * SECOND), this.#loc, this.#mono === null ? null : this.#mono + BigInt(d));
  }
  AddDate(years: number, months: number, days: number): GoTime {
    const c = this.civil();
    return GoTime.date(c.year + years, c.month + months, c.day + days, c.hour, c.min, c.sec, this.#nsec, this.#loc);
  }
  /** t.Sub(u) in nanoseconds (monotonic readings when both have one, as in Go). */
  Sub(u: GoTime): bigint {
    if (this.#mono !== null && u.#mono !== null) return int64(this.#mono - u.#mono);
    return int64(this.unixNanos() - u.unixNanos());
  }
  Before(u: GoTime): boolean {
    return this.unixNanos() < u.unixNanos();
  }
  After(u: GoTime): boolean {
    return this.unixNanos() > u.unixNanos();
  }
  Equal(u: GoTime): boolean {
    return this.unixNanos() === u.unixNanos();
  }
  Format(layout: string): string {
    return formatTime(this, layout);
  }
  /** Go's Time.String(): `2006-01-02 15:04:05.999999999 -0700 MST`, then ` m=±s.nnnnnnnnn` with a monotonic reading. */
  String(): string {
    let s = formatTime(this, '2006-01-02 15:04:05.999999999 -0700 MST');
    if (this.#mono !== null) {
      const m = this.#mono;
      const abs = m < 0n ? -m : m;
      s += ` m=${m < 0n ? '-' : '+'}${abs / SECOND}.${String(abs % SECOND).padStart(9, '0')}`;
    }
    return s;
  }

  /** encoding/json and yaml: RFC 3339 with nanoseconds. */
  MarshalJSON(): string {
    return '"' + formatTime(this, '2006-01-02T15:04:05.999999999Z07:00') + '"';
  }
  MarshalText(): string {
    return formatTime(this, '2006-01-02T15:04:05.999999999Z07:00');
  }

  /** The fields Format and Parse work with. */
  fields(): ReturnType<GoTime['civil']> & { nsec: number } {
    return { ...this.civil(), nsec: this.#nsec };
  }
}

/** time.Month: prints as its English name. */
export class GoMonth {
  constructor(readonly n: number) {}
  get [GO_TYPE](): string {
    return 'time.Month';
  }
  String(): string {
    return LONG_MONTHS[this.n - 1] ?? `%!Month(${this.n})`;
  }
}

/** time.Weekday: prints as its English name. */
export class GoWeekday {
  constructor(readonly n: number) {}
  get [GO_TYPE](): string {
    return 'time.Weekday';
  }
  String(): string {
    return LONG_DAYS[this.n] ?? `%!Weekday(${this.n})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Layouts

type Std =
  | 'January' | 'Jan' | 'Monday' | 'Mon' | 'MST' | '01' | '1' | '02' | '2' | '_2' | '__2' | '002' | '15' | '3' | '03'
  | '4' | '04' | '5' | '05' | '2006' | '06' | 'PM' | 'pm'
  | '-070000' | '-07:00:00' | '-0700' | '-07:00' | '-07' | 'Z070000' | 'Z07:00:00' | 'Z0700' | 'Z07:00' | 'Z07'
  | 'frac0' | 'frac9';

interface Chunk {
  prefix: string;
  std: Std | null;
  /** The element's text in the layout. */
  text: string;
  suffix: string;
  /** Digits of a fractional-second element, and its separator. */
  digits?: number;
  sep?: string;
}

const isDigitAt = (s: string, i: number): boolean => i < s.length && s[i]! >= '0' && s[i]! <= '9';
const startsWithLower = (s: string): boolean => s !== '' && s[0]! >= 'a' && s[0]! <= 'z';

/** Go's nextStdChunk. */
function nextStdChunk(layout: string): Chunk {
  for (let i = 0; i < layout.length; i++) {
    const c = layout[i]!;
    const at = (std: Std, len: number, extra: Partial<Chunk> = {}): Chunk => ({ prefix: layout.slice(0, i), std, text: layout.slice(i, i + len), suffix: layout.slice(i + len), ...extra });
    const has = (s: string): boolean => layout.startsWith(s, i);
    switch (c) {
      case 'J':
        if (has('Jan')) {
          if (has('January')) return at('January', 7);
          if (!startsWithLower(layout.slice(i + 3))) return at('Jan', 3);
        }
        break;
      case 'M':
        if (layout.length >= i + 3) {
          if (has('Mon')) {
            if (has('Monday')) return at('Monday', 6);
            if (!startsWithLower(layout.slice(i + 3))) return at('Mon', 3);
          }
          if (has('MST')) return at('MST', 3);
        }
        break;
      case '0':
        if (layout.length >= i + 2 && layout[i + 1]! >= '1' && layout[i + 1]! <= '6') return at(('0' + layout[i + 1]) as Std, 2);
        if (has('002')) return at('002', 3);
        break;
      case '1':
        if (has('15')) return at('15', 2);
        return at('1', 1);
      case '2':
        if (has('2006')) return at('2006', 4);
        return at('2', 1);
      case '_':
        if (layout[i + 1] === '2') {
          if (has('_2006')) return { prefix: layout.slice(0, i + 1), std: '2006', text: '2006', suffix: layout.slice(i + 5) };
          return at('_2', 2);
        }
        if (has('__2')) return at('__2', 3);
        break;
      case '3':
      case '4':
      case '5':
        return at(c as Std, 1);
      case 'P':
        if (has('PM')) return at('PM', 2);
        break;
      case 'p':
        if (has('pm')) return at('pm', 2);
        break;
      case '-':
        for (const s of ['-070000', '-07:00:00', '-0700', '-07:00', '-07'] as const) if (has(s)) return at(s, s.length);
        break;
      case 'Z':
        for (const s of ['Z070000', 'Z07:00:00', 'Z0700', 'Z07:00', 'Z07'] as const) if (has(s)) return at(s, s.length);
        break;
      case '.':
      case ',':
        if (layout[i + 1] === '0' || layout[i + 1] === '9') {
          const ch = layout[i + 1]!;
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!isDigitAt(layout, j)) return at(ch === '0' ? 'frac0' : 'frac9', j - i, { digits: j - (i + 1), sep: c });
        }
        break;
    }
  }
  return { prefix: layout, std: null, text: '', suffix: '' };
}

const pad = (n: number, width: number): string => {
  const neg = n < 0;
  const s = String(Math.abs(n)).padStart(width, '0');
  return neg ? '-' + s : s;
};

function formatNano(nanosec: number, digits: number, trim: boolean, sep: string): string {
  let s = String(nanosec).padStart(9, '0').slice(0, digits);
  if (trim) {
    s = s.replace(/0+$/, '');
    if (s === '') return '';
  }
  return sep + s;
}

/** time.Time.Format. */
export function formatTime(t: GoTime, layout: string): string {
  const f = t.fields();
  let out = '';
  while (layout !== '') {
    const chunk = nextStdChunk(layout);
    out += chunk.prefix;
    if (chunk.std === null) break;
    layout = chunk.suffix;
    const zoneOffset = f.zone.offset;
    switch (chunk.std) {
      case '06':
        out += pad(((f.year % 100) + 100) % 100, 2);
        break;
      case '2006':
        out += pad(f.year, 4);
        break;
      case 'Jan':
        out += LONG_MONTHS[f.month - 1]!.slice(0, 3);
        break;
      case 'January':
        out += LONG_MONTHS[f.month - 1];
        break;
      case '1':
        out += f.month;
        break;
      case '01':
        out += pad(f.month, 2);
        break;
      case 'Mon':
        out += LONG_DAYS[f.wday]!.slice(0, 3);
        break;
      case 'Monday':
        out += LONG_DAYS[f.wday];
        break;
      case '2':
        out += f.day;
        break;
      case '_2':
        out += (f.day < 10 ? ' ' : '') + f.day;
        break;
      case '02':
        out += pad(f.day, 2);
        break;
      case '__2':
        out += String(f.yday).padStart(3, ' ');
        break;
      case '002':
        out += pad(f.yday, 3);
        break;
      case '15':
        out += pad(f.hour, 2);
        break;
      case '3':
        out += f.hour % 12 === 0 ? 12 : f.hour % 12;
        break;
      case '03':
        out += pad(f.hour % 12 === 0 ? 12 : f.hour % 12, 2);
        break;
      case '4':
        out += f.min;
        break;
      case '04':
        out += pad(f.min, 2);
        break;
      case '5':
        out += f.sec;
        break;
      case '05':
        out += pad(f.sec, 2);
        break;
      case 'PM':
        out += f.hour >= 12 ? 'PM' : 'AM';
        break;
      case 'pm':
        out += f.hour >= 12 ? 'pm' : 'am';
        break;
      case 'Z070000':
      case 'Z07:00:00':
      case 'Z0700':
      case 'Z07:00':
      case 'Z07':
      case '-070000':
      case '-07:00:00':
      case '-0700':
      case '-07:00':
      case '-07': {
        const std = chunk.std;
        if (std[0] === 'Z' && zoneOffset === 0) {
          out += 'Z';
          break;
        }
        let zone = Math.trunc(zoneOffset / 60);
        let absoffset = zoneOffset;
        if (zone < 0) {
          out += '-';
          zone = -zone;
          absoffset = -absoffset;
        } else out += '+';
        out += pad(Math.trunc(zone / 60), 2);
        const colon = std.includes(':');
        if (std !== '-07' && std !== 'Z07') out += (colon ? ':' : '') + pad(zone % 60, 2);
        if (std === '-070000' || std === '-07:00:00' || std === 'Z070000' || std === 'Z07:00:00') out += (colon ? ':' : '') + pad(absoffset % 60, 2);
        break;
      }
      case 'MST': {
        if (f.zone.name !== '') {
          out += f.zone.name;
          break;
        }
        let zone = Math.trunc(zoneOffset / 60);
        if (zone < 0) {
          out += '-';
          zone = -zone;
        } else out += '+';
        out += pad(Math.trunc(zone / 60), 2) + pad(zone % 60, 2);
        break;
      }
      case 'frac0':
      case 'frac9':
        out += formatNano(f.nsec, chunk.digits!, chunk.std === 'frac9', chunk.sep!);
        break;
    }
  }
  return out;
}

/** Go's strconv.Quote-like quoting of time's error messages (time's own `quote`). */
function timeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x80 || cp < 0x20) {
      for (const b of Buffer.from(ch, 'utf8')) out += `\\x${b.toString(16).padStart(2, '0')}`;
    } else out += ch === '"' || ch === '\\' ? '\\' + ch : ch;
  }
  return out + '"';
}

export class TimeParseError extends Error {}

function parseError(layout: string, value: string, layoutElem: string, valueElem: string, message = ''): TimeParseError {
  if (message === '') {
    return new TimeParseError(`parsing time ${timeQuote(value)} as ${timeQuote(layout)}: cannot parse ${timeQuote(valueElem)} as ${timeQuote(layoutElem)}`);
  }
  return new TimeParseError(`parsing time ${timeQuote(value)}${message}`);
}

function lookupName(names: string[], value: string): [number, string] | null {
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    if (value.length >= n.length && value.slice(0, n.length).toLowerCase() === n.toLowerCase()) return [i, value.slice(n.length)];
  }
  return null;
}

/** getnum: one or two digits (exactly two when fixed). */
function getnum(s: string, fixed: boolean): [number, string] | null {
  if (!isDigitAt(s, 0)) return null;
  if (!isDigitAt(s, 1)) {
    if (fixed) return null;
    return [Number(s[0]), s.slice(1)];
  }
  return [Number(s.slice(0, 2)), s.slice(2)];
}

function getnum3(s: string, fixed: boolean): [number, string] | null {
  let n = 0;
  let i = 0;
  for (; i < 3 && isDigitAt(s, i); i++) n = n * 10 + Number(s[i]);
  if (i === 0 || (fixed && i !== 3)) return null;
  return [n, s.slice(i)];
}

/** Go's parseTimeZone: the length of a time zone abbreviation at the start of value, or 0. */
function parseTimeZone(value: string): number {
  if (value.length < 3) return 0;
  if (value.length >= 4 && (value.startsWith('ChST') || value.startsWith('MeST'))) return 4;
  if (value.startsWith('GMT')) return parseGMT(value);
  if (value[0] === '+' || value[0] === '-') return parseSignedOffset(value);
  let nUpper = 0;
  for (; nUpper < 6 && nUpper < value.length; nUpper++) {
    const c = value[nUpper]!;
    if (c < 'A' || c > 'Z') break;
  }
  switch (nUpper) {
    case 0:
    case 1:
    case 2:
    case 6:
      return 0;
    case 5:
      return value[4] === 'T' ? 5 : 0;
    case 4:
      return value[3] === 'T' || value.startsWith('WITA') ? 4 : 0;
    case 3:
      return 3;
  }
  return 0;
}

function parseGMT(value: string): number {
  const rest = value.slice(3);
  if (rest === '') return 3;
  return 3 + parseSignedOffset(rest);
}

function parseSignedOffset(value: string): number {
  const sign = value[0];
  if (sign !== '-' && sign !== '+') return 0;
  const m = /^[0-9]+/.exec(value.slice(1));
  if (!m) return 0;
  const x = Number(m[0]);
  if (x > 23) return 0;
  return 1 + m[0].length;
}

function parseNanoseconds(value: string, nbytes: number): [number, string] {
  if (value[0] !== '.' && value[0] !== ',') return [0, 'fractional second'];
  if (nbytes > 10) {
    value = value.slice(0, 10);
    nbytes = 10;
  }
  const digits = value.slice(1, nbytes);
  if (!/^[0-9]*$/.test(digits)) return [0, 'fractional second'];
  return [Number(digits.padEnd(9, '0')), ''];
}

/** time.ParseInLocation (time.Parse with UTC). Throws TimeParseError with Go's message. */
export function parseTime(layout: string, value: string, loc: Location): GoTime {
  const alayout = layout;
  const avalue = value;
  let rangeErr = '';
  let amSet = false;
  let pmSet = false;
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let z: Location | null = null;
  let zoneOffset = -1;
  let zoneName = '';

  for (;;) {
    const chunk = nextStdChunk(layout);
    const stdstr = chunk.text;
    // skip: the literal prefix, spaces matching loosely as in Go.
    let v = value;
    let prefix = chunk.prefix;
    let ok = true;
    while (prefix.length > 0) {
      if (prefix[0] === ' ') {
        if (v.length > 0 && v[0] !== ' ') {
          ok = false;
          break;
        }
        prefix = prefix.replace(/^ +/, '');
        v = v.replace(/^ +/, '');
        continue;
      }
      if (v.length === 0 || v[0] !== prefix[0]) {
        ok = false;
        break;
      }
      prefix = prefix.slice(1);
      v = v.slice(1);
    }
    if (!ok) throw parseError(alayout, avalue, chunk.prefix, value);
    value = v;
    if (chunk.std === null) {
      if (value.length !== 0) throw parseError(alayout, avalue, '', value, `: extra text: ${timeQuote(value)}`);
      break;
    }
    layout = chunk.suffix;
    const hold = value;
    let bad = false;
    const num = (r: [number, string] | null): number => {
      if (!r) {
        bad = true;
        return 0;
      }
      value = r[1];
      return r[0];
    };
    switch (chunk.std) {
      case '06': {
        if (value.length < 2 || !isDigitAt(value, 0) || !isDigitAt(value, 1)) {
          bad = true;
          break;
        }
        const y = Number(value.slice(0, 2));
        value = value.slice(2);
        year = y >= 69 ? y + 1900 : y + 2000;
        break;
      }
      case '2006':
        if (value.length < 4 || !/^[0-9]{4}/.test(value)) {
          bad = true;
          break;
        }
        year = Number(value.slice(0, 4));
        value = value.slice(4);
        break;
      case 'Jan':
      case 'January': {
        const names = chunk.std === 'Jan' ? LONG_MONTHS.map((m) => m.slice(0, 3)) : LONG_MONTHS;
        const r = lookupName(names, value);
        if (!r) bad = true;
        else {
          month = r[0] + 1;
          value = r[1];
        }
        break;
      }
      case '1':
      case '01':
        month = num(getnum(value, chunk.std === '01'));
        if (!bad && (month <= 0 || month > 12)) rangeErr = 'month';
        break;
      case 'Mon':
      case 'Monday': {
        const names = chunk.std === 'Mon' ? LONG_DAYS.map((d) => d.slice(0, 3)) : LONG_DAYS;
        const r = lookupName(names, value);
        if (!r) bad = true;
        else value = r[1];
        break;
      }
      case '2':
      case '_2':
      case '02':
        if (chunk.std === '_2' && value.length > 1 && value[0] === ' ') value = value.slice(1);
        day = num(getnum(value, chunk.std === '02'));
        break;
      case '__2':
      case '002':
        if (chunk.std === '__2' && value.length > 1 && value[0] === ' ') {
          value = value.slice(1);
          if (value.length > 1 && value[0] === ' ') value = value.slice(1);
        }
        yday = num(getnum3(value, chunk.std === '002'));
        if (!bad && (yday < 1 || yday > 366)) rangeErr = 'day-of-year';
        break;
      case '15':
        hour = num(getnum(value, false));
        if (!bad && (hour < 0 || hour >= 24)) rangeErr = 'hour';
        break;
      case '3':
      case '03':
        hour = num(getnum(value, chunk.std === '03'));
        if (!bad && (hour < 0 || hour > 12)) rangeErr = 'hour';
        break;
      case '4':
      case '04':
        min = num(getnum(value, chunk.std === '04'));
        if (!bad && (min < 0 || min >= 60)) rangeErr = 'minute';
        break;
      case '5':
      case '05': {
        sec = num(getnum(value, chunk.std === '05'));
        if (bad) break;
        if (sec < 0 || sec >= 60) {
          rangeErr = 'second';
          break;
        }
        // A fractional second in the value without one in the layout.
        if (value.length >= 2 && (value[0] === '.' || value[0] === ',') && isDigitAt(value, 1)) {
          const next = nextStdChunk(layout);
          if (next.std === 'frac0' || next.std === 'frac9') break;
          let n = 2;
          while (n < value.length && isDigitAt(value, n)) n++;
          const [ns, re] = parseNanoseconds(value, n);
          nsec = ns;
          rangeErr = re;
          value = value.slice(n);
        }
        break;
      }
      case 'PM':
      case 'pm': {
        if (value.length < 2) {
          bad = true;
          break;
        }
        const p = value.slice(0, 2);
        value = value.slice(2);
        const want = chunk.std === 'PM' ? ['PM', 'AM'] : ['pm', 'am'];
        if (p === want[0]) pmSet = true;
        else if (p === want[1]) amSet = true;
        else bad = true;
        break;
      }
      case 'Z070000':
      case 'Z07:00:00':
      case 'Z0700':
      case 'Z07:00':
      case 'Z07':
      case '-070000':
      case '-07:00:00':
      case '-0700':
      case '-07:00':
      case '-07': {
        const std = chunk.std;
        if (std[0] === 'Z' && value.length >= 1 && value[0] === 'Z') {
          value = value.slice(1);
          z = UTC;
          break;
        }
        const pattern: Record<string, RegExp> = {
          '07:00': /^([+-])([0-9]{2}):([0-9]{2})/,
          '07': /^([+-])([0-9]{2})/,
          '07:00:00': /^([+-])([0-9]{2}):([0-9]{2}):([0-9]{2})/,
          '070000': /^([+-])([0-9]{2})([0-9]{2})([0-9]{2})/,
          '0700': /^([+-])([0-9]{2})([0-9]{2})/,
        };
        const m = pattern[std.slice(1)]!.exec(value);
        if (!m) {
          bad = true;
          break;
        }
        value = value.slice(m[0].length);
        const hr = Number(m[2]);
        const mm = Number(m[3] ?? '0');
        const ss = Number(m[4] ?? '0');
        if (hr > 24) rangeErr = 'time zone offset hour';
        if (mm > 60) rangeErr = 'time zone offset minute';
        if (ss > 60) rangeErr = 'time zone offset second';
        zoneOffset = (hr * 60 + mm) * 60 + ss;
        if (m[1] === '-') zoneOffset = -zoneOffset;
        break;
      }
      case 'MST': {
        if (value.length >= 3 && value.startsWith('UTC')) {
          z = UTC;
          value = value.slice(3);
          break;
        }
        const n = parseTimeZone(value);
        if (n === 0) {
          bad = true;
          break;
        }
        zoneName = value.slice(0, n);
        value = value.slice(n);
        break;
      }
      case 'frac0': {
        const ndigit = 1 + chunk.digits!;
        if (value.length < ndigit) {
          bad = true;
          break;
        }
        const [ns, re] = parseNanoseconds(value, ndigit);
        nsec = ns;
        rangeErr = re;
        value = value.slice(ndigit);
        break;
      }
      case 'frac9': {
        if (value.length < 2 || (value[0] !== '.' && value[0] !== ',') || !isDigitAt(value, 1)) break;
        let i = 0;
        while (i + 1 < value.length && isDigitAt(value, i + 1)) i++;
        const [ns, re] = parseNanoseconds(value, 1 + i);
        nsec = ns;
        rangeErr = re;
        value = value.slice(1 + i);
        break;
      }
    }
    if (rangeErr !== '') throw parseError(alayout, avalue, stdstr, value, `: ${rangeErr} out of range`);
    if (bad) throw parseError(alayout, avalue, stdstr, hold);
  }
  if (pmSet && hour < 12) hour += 12;
  else if (amSet && hour === 12) hour = 0;

  if (yday >= 0) {
    let m = 0;
    let d = 0;
    if (isLeap(year)) {
      if (yday === 31 + 29) {
        m = 2;
        d = 29;
      } else if (yday > 31 + 29) yday--;
    }
    if (yday < 1 || yday > 365) throw parseError(alayout, avalue, '', value, ': day-of-year out of range');
    if (m === 0) {
      m = Math.floor((yday - 1) / 31) + 1;
      if (DAYS_BEFORE[m]! < yday) m++;
      d = yday - DAYS_BEFORE[m - 1]!;
    }
    if (month >= 0 && month !== m) throw parseError(alayout, avalue, '', value, ': day-of-year does not match month');
    month = m;
    if (day >= 0 && day !== d) throw parseError(alayout, avalue, '', value, ': day-of-year does not match day');
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > daysIn(month, year)) throw parseError(alayout, avalue, '', value, ': day out of range');

  if (z !== null) return GoTime.date(year, month, day, hour, min, sec, nsec, z);
  if (zoneOffset !== -1) {
    const t = GoTime.date(year, month, day, hour, min, sec, nsec, UTC);
    const unix = t.unixSeconds - zoneOffset;
    const zl = loc.lookup(unix);
    if (zl.offset === zoneOffset && (zoneName === '' || zl.name === zoneName)) return new GoTime(unix, nsec, loc);
    return new GoTime(unix, nsec, Location.fixed(zoneName, zoneOffset));
  }
  if (zoneName !== '') {
    const t = GoTime.date(year, month, day, hour, min, sec, nsec, UTC);
    const offset = loc.lookupName(zoneName, t.unixSeconds);
    if (offset !== null) return new GoTime(t.unixSeconds - offset, nsec, loc);
    let off = 0;
    if (zoneName.length > 3 && zoneName.startsWith('GMT')) off = Number(zoneName.slice(3)) * 3600;
    // Go records the wall clock as UTC in a made-up zone (it does not move the instant).
    return new GoTime(t.unixSeconds, nsec, Location.fixed(zoneName, off));
  }
  return GoTime.date(year, month, day, hour, min, sec, nsec, loc);
}
