// Masterminds/semver v3.3.1 (the version werf links through sprig v3.2.3): NewVersion, Version's methods and
// NewConstraint/Check, ported from version.go and constraints.go for Sprig's semver and semverCompare.
// Leaf module.

import { GO_TYPE } from './gotime.js';

const S = '[\\t\\n\\f\\r ]'; // RE2's \s
const SEMVER = 'v?(0|[1-9][0-9]*)(?:\\.(0|[1-9][0-9]*))?(?:\\.(0|[1-9][0-9]*))?' +
  '(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?' +
  '(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?';
const VERSION_RE = new RegExp(`^${SEMVER}$`);

const NUM = '0123456789';
const ALLOWED = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-' + NUM;
const containsOnly = (s: string, set: string): boolean => Array.from(s).every((c) => set.includes(c));

export class SemverError extends Error {}

const MAX_U64 = (1n << 64n) - 1n;

function parseUint(s: string): bigint {
  const n = BigInt(s);
  if (n > MAX_U64) throw new SemverError(`Error parsing version segment: strconv.ParseUint: parsing "${s}": value out of range`);
  return n;
}

function validatePrerelease(p: string): void {
  for (const part of p.split('.')) {
    if (part === '') throw new SemverError('Invalid Metadata string');
    if (containsOnly(part, NUM)) {
      if (part.length > 1 && part[0] === '0') throw new SemverError('Version segment starts with 0');
    } else if (!containsOnly(part, ALLOWED)) throw new SemverError('Invalid Prerelease string');
  }
}

function validateMetadata(m: string): void {
  for (const part of m.split('.')) {
    if (part === '' || !containsOnly(part, ALLOWED)) throw new SemverError('Invalid Metadata string');
  }
}

function compareSegment(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePrePart(s: string, o: string): number {
  if (s === o) return 0;
  if (s === '') return o !== '' ? -1 : 1;
  if (o === '') return s !== '' ? 1 : -1;
  const on = /^[0-9]+$/.test(o) && BigInt(o) <= MAX_U64;
  const sn = /^[0-9]+$/.test(s) && BigInt(s) <= MAX_U64;
  if (!on && !sn) return s > o ? 1 : -1;
  if (!on) return -1;
  if (!sn) return 1;
  return BigInt(s) > BigInt(o) ? 1 : -1;
}

function comparePrerelease(v: string, o: string): number {
  const sp = v.split('.');
  const op = o.split('.');
  const l = Math.max(sp.length, op.length);
  for (let i = 0; i < l; i++) {
    const d = comparePrePart(sp[i] ?? '', op[i] ?? '');
    if (d !== 0) return d;
  }
  return 0;
}

/** semver.Version (a *Version in templates: its methods are callable, it prints as String()). */
export class SemverVersion {
  constructor(
    readonly major: bigint,
    readonly minor: bigint,
    readonly patch: bigint,
    readonly pre: string,
    readonly metadata: string,
    readonly original: string,
  ) {}

  get [GO_TYPE](): string {
    return '*semver.Version';
  }

  /** semver.NewVersion. Throws SemverError with the library's messages. */
  static parse(v: string): SemverVersion {
    const m = VERSION_RE.exec(v);
    if (!m) throw new SemverError('Invalid Semantic Version');
    const pre = m[4] ?? '';
    const meta = m[5] ?? '';
    const major = parseUint(m[1]!);
    const minor = m[2] ? parseUint(m[2]) : 0n;
    const patch = m[3] ? parseUint(m[3]) : 0n;
    if (pre !== '') validatePrerelease(pre);
    if (meta !== '') validateMetadata(meta);
    return new SemverVersion(major, minor, patch, pre, meta, v);
  }

  String(): string {
    let s = `${this.major}.${this.minor}.${this.patch}`;
    if (this.pre !== '') s += `-${this.pre}`;
    if (this.metadata !== '') s += `+${this.metadata}`;
    return s;
  }
  MarshalJSON(): string {
    return JSON.stringify(this.String());
  }
  MarshalText(): string {
    return this.String();
  }
  Original(): string {
    return this.original;
  }
  Major(): bigint {
    return this.major;
  }
  Minor(): bigint {
    return this.minor;
  }
  Patch(): bigint {
    return this.patch;
  }
  Prerelease(): string {
    return this.pre;
  }
  Metadata(): string {
    return this.metadata;
  }
  private vPrefix(): string {
    return this.original.startsWith('v') ? 'v' : '';
  }
  private derive(major: bigint, minor: bigint, patch: bigint, pre: string, meta: string): SemverVersion {
    const v = new SemverVersion(major, minor, patch, pre, meta, '');
    return new SemverVersion(major, minor, patch, pre, meta, this.vPrefix() + v.String());
  }
  IncPatch(): SemverVersion {
    return this.pre !== '' ? this.derive(this.major, this.minor, this.patch, '', '') : this.derive(this.major, this.minor, this.patch + 1n, '', '');
  }
  IncMinor(): SemverVersion {
    return this.derive(this.major, this.minor + 1n, 0n, '', '');
  }
  IncMajor(): SemverVersion {
    return this.derive(this.major + 1n, 0n, 0n, '', '');
  }
  SetPrerelease(p: string): SemverVersion {
    if (p !== '') validatePrerelease(p);
    return this.derive(this.major, this.minor, this.patch, p, this.metadata);
  }
  SetMetadata(m: string): SemverVersion {
    if (m !== '') validateMetadata(m);
    return this.derive(this.major, this.minor, this.patch, this.pre, m);
  }
  Compare(o: SemverVersion): number {
    const d = compareSegment(this.major, o.major) || compareSegment(this.minor, o.minor) || compareSegment(this.patch, o.patch);
    if (d !== 0) return d;
    if (this.pre === '' && o.pre === '') return 0;
    if (this.pre === '') return 1;
    if (o.pre === '') return -1;
    return comparePrerelease(this.pre, o.pre);
  }
  LessThan(o: SemverVersion): boolean {
    return this.Compare(o) < 0;
  }
  LessThanEqual(o: SemverVersion): boolean {
    return this.Compare(o) <= 0;
  }
  GreaterThan(o: SemverVersion): boolean {
    return this.Compare(o) > 0;
  }
  GreaterThanEqual(o: SemverVersion): boolean {
    return this.Compare(o) >= 0;
  }
  Equal(o: SemverVersion): boolean {
    return this.Compare(o) === 0;
  }
}

// --- Constraints -----------------------------------------------------------------------------

const CV = 'v?([0-9|x|X|\\*]+)(\\.[0-9|x|X|\\*]+)?(\\.[0-9|x|X|\\*]+)?' + '(-([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?' + '(\\+([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?';
const OPS = '=||!=|>|<|>=|=>|<=|=<|~|~>|\\^';
const CONSTRAINT_RE = new RegExp(`^${S}*(${OPS})${S}*(${CV})${S}*$`);
const RANGE_RE = new RegExp(`${S}*(${CV})${S}+-${S}+(${CV})${S}*`, 'g');
const FIND_RE = new RegExp(`(${OPS})${S}*(${CV})`, 'g');
const VALID_RE = new RegExp(`^(${S}*(${OPS})${S}*(${CV})${S}*)((?:${S}+|,${S}*)(${OPS})${S}*(${CV})${S}*)*$`);

interface Constraint {
  con: SemverVersion;
  orig: string;
  op: string;
  minorDirty: boolean;
  patchDirty: boolean;
  dirty: boolean;
}

const isX = (x: string): boolean => x === 'x' || x === '*' || x === 'X';

function parseConstraint(c: string): Constraint {
  if (c.length === 0) {
    return { con: SemverVersion.parse('0.0.0'), orig: c, op: '', minorDirty: false, patchDirty: false, dirty: true };
  }
  const m = CONSTRAINT_RE.exec(c);
  if (!m) throw new SemverError(`improper constraint: ${c}`);
  // m[3..] are the groups of CV: 3 major, 4 .minor, 5 .patch, 6 -pre (with its dash), ...
  const g3 = m[3] ?? '';
  const g4 = m[4] ?? '';
  const g5 = m[5] ?? '';
  const g6 = m[6] ?? '';
  let ver = m[2]!;
  let minorDirty = false;
  let patchDirty = false;
  let dirty = false;
  if (isX(g3) || g3 === '') {
    ver = `0.0.0${g6}`;
    dirty = true;
  } else if (isX(g4.replace(/^\./, '')) || g4 === '') {
    minorDirty = true;
    dirty = true;
    ver = `${g3}.0.0${g6}`;
  } else if (isX(g5.replace(/^\./, '')) || g5 === '') {
    dirty = true;
    patchDirty = true;
    ver = `${g3}${g4}.0${g6}`;
  }
  let con: SemverVersion;
  try {
    con = SemverVersion.parse(ver);
  } catch {
    throw new SemverError('constraint Parser Error');
  }
  return { con, orig: m[2]!, op: m[1]!, minorDirty, patchDirty, dirty };
}

function rewriteRange(i: string): string {
  let o = i;
  for (const m of i.matchAll(RANGE_RE)) o = o.replace(m[0], `>= ${m[1]}, <= ${m[11]} `);
  return o;
}

function tilde(v: SemverVersion, c: Constraint): boolean {
  if (v.pre !== '' && c.con.pre === '') return false;
  if (v.LessThan(c.con)) return false;
  if (c.con.major === 0n && c.con.minor === 0n && c.con.patch === 0n && !c.minorDirty && !c.patchDirty) return true;
  if (v.major !== c.con.major) return false;
  if (v.minor !== c.con.minor && !c.minorDirty) return false;
  return true;
}

function check(v: SemverVersion, c: Constraint): boolean {
  const preBlocked = v.pre !== '' && c.con.pre === '';
  switch (c.op) {
    case '':
    case '=':
      if (preBlocked) return false;
      if (c.dirty) return tilde(v, c);
      return v.Equal(c.con);
    case '!=':
      if (c.dirty) {
        if (preBlocked) return false;
        if (c.con.major !== v.major) return true;
        if (c.con.minor !== v.minor && !c.minorDirty) return true;
        if (c.minorDirty) return false;
        if (c.con.patch !== v.patch && !c.patchDirty) return true;
        if (c.patchDirty) {
          if (v.pre !== '' || c.con.pre !== '') return comparePrerelease(v.pre, c.con.pre) !== 0;
          return false;
        }
      }
      return !v.Equal(c.con);
    case '>':
      if (preBlocked) return false;
      if (!c.dirty) return v.Compare(c.con) === 1;
      if (v.major > c.con.major) return true;
      if (v.major < c.con.major) return false;
      if (c.minorDirty) return false;
      if (c.patchDirty) return v.minor > c.con.minor;
      return v.Compare(c.con) === 1;
    case '<':
      if (preBlocked) return false;
      return v.Compare(c.con) < 0;
    case '>=':
    case '=>':
      if (preBlocked) return false;
      return v.Compare(c.con) >= 0;
    case '<=':
    case '=<':
      if (preBlocked) return false;
      if (!c.dirty) return v.Compare(c.con) <= 0;
      if (v.major > c.con.major) return false;
      if (v.major === c.con.major && v.minor > c.con.minor && !c.minorDirty) return false;
      return true;
    case '~':
    case '~>':
      return tilde(v, c);
    case '^':
      if (preBlocked) return false;
      if (v.LessThan(c.con)) return false;
      if (c.con.major > 0n || c.minorDirty) return v.major === c.con.major;
      if (c.con.major === 0n && v.major > 0n) return false;
      if (c.con.minor > 0n || c.patchDirty) return v.minor === c.con.minor;
      if (c.con.minor === 0n && v.minor > 0n) return false;
      return c.con.patch === v.patch;
  }
  return false;
}

/** semver.NewConstraint(c).Check(v). Throws SemverError for an invalid constraint. */
export class SemverConstraints {
  private constructor(private readonly ors: Constraint[][]) {}

  static parse(c: string): SemverConstraints {
    const ors = rewriteRange(c)
      .split('||')
      .map((v) => {
        if (!VALID_RE.test(v)) throw new SemverError(`improper constraint: ${v}`);
        const cs = Array.from(v.matchAll(FIND_RE), (m) => m[0]);
        return (cs.length > 0 ? cs : [v]).map(parseConstraint);
      });
    return new SemverConstraints(ors);
  }

  check(v: SemverVersion): boolean {
    return this.ors.some((and) => and.every((c) => check(v, c)));
  }
}
