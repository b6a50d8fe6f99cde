// The value model of the template engine: how plain JavaScript values stand in for Go values.
//
//   undefined            an invalid reflect.Value ("no value": a missing map key, an empty pipeline)
//   null                 a nil interface{}
//   string, boolean      string, bool
//   number               int when integral, float64 otherwise
//   GoFloat              a float64 whose value happens to be integral (3.0, fromJson numbers, float64 results)
//   bigint               int64
//   array                []interface{}
//   other objects        map[string]interface{} (own enumerable keys; class instances also expose prototype methods)
//   function             a method: called when reached through a field chain

/** A float64 value. Used wherever a float must stay a float even though its value is integral. */
export class GoFloat {
  constructor(readonly value: number) {}
}

import { GO_TYPE } from '../../go/gotime.js';
import { compare } from '../../go/strings.js';

/** The Go type a class instance stands for (time.Time, *semver.Version, ...), when it declares one. */
export function goTypeOf(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return null;
  const t = (v as { [GO_TYPE]?: unknown })[GO_TYPE];
  return typeof t === 'string' ? t : null;
}

/** A value with a Go String() method (fmt prints it through the method, as for a fmt.Stringer). */
export function stringerOf(v: unknown): string | null {
  if (goTypeOf(v) === null) return null;
  const m = (v as { String?: unknown }).String;
  return typeof m === 'function' ? String(m.call(v)) : null;
}

export type Dict = Record<string, unknown>;

export function isList(v: unknown): v is unknown[] {
  return Array.isArray(v);
}

export function isMap(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoFloat);
}

/** A map in the Go sense: a plain object (not a class instance, which behaves like a struct). */
export function isPlainMap(v: unknown): v is Dict {
  if (!isMap(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

export function isFloat(v: unknown): boolean {
  return v instanceof GoFloat || (typeof v === 'number' && !Number.isInteger(v));
}

export function isInt(v: unknown): boolean {
  return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
}

export function isNumber(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'bigint' || v instanceof GoFloat;
}

/** The numeric value of a number of any representation. */
export function numValue(v: unknown): number {
  if (v instanceof GoFloat) return v.value;
  if (typeof v === 'bigint') return Number(v);
  return v as number;
}

/** Turns engine-internal values into plain JavaScript for user functions and serialisers. */
export function toPlain(v: unknown): unknown {
  if (v === undefined) return null;
  if (v instanceof GoFloat) return v.value;
  return v;
}

/** Own keys of a map, sorted the way Go sorts string keys (by UTF-8 bytes, i.e. by code points). */
export function sortedKeys(m: Dict): string[] {
  return Object.keys(m).sort(compare);
}


/** Reads key `k` of a map the way Go reads a map entry: own properties only for plain objects. */
export function hasKey(m: Dict, k: string): boolean {
  if (isPlainMap(m)) return Object.prototype.hasOwnProperty.call(m, k);
  if (Object.prototype.hasOwnProperty.call(m, k)) return true;
  // Class instances: methods and getters on the prototype chain, but never Object.prototype's.
  if (k === 'constructor') return false;
  for (let p = Object.getPrototypeOf(m) as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (Object.prototype.hasOwnProperty.call(p, k)) return true;
  }
  return false;
}

export function getKey(m: Dict, k: string): unknown {
  return hasKey(m, k) ? m[k] : undefined;
}

/** Sets a key without ever touching a prototype (`__proto__` becomes an ordinary key). */
export function setKey(m: Dict, k: string, v: unknown): void {
  Object.defineProperty(m, k, { value: v, writable: true, enumerable: true, configurable: true });
}

export function newMap(): Dict {
  return {};
}

/** Go's reflect Kind name of a value, as sprig's kindOf reports it. */
export function kindName(v: unknown): string {
  if (v === undefined || v === null) return 'invalid';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int64';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (v instanceof GoFloat) return 'float64';
  if (Array.isArray(v)) return 'slice';
  if (typeof v === 'function') return 'func';
  if (isPlainMap(v)) return 'map';
  const goType = goTypeOf(v);
  if (goType !== null && goType.startsWith('*')) return 'ptr';
  if (goType === 'time.Month' || goType === 'time.Weekday') return 'int';
  return 'struct';
}

/** Go's type name of a value, as `%T` and sprig's typeOf report it. */
export function typeName(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int64';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (v instanceof GoFloat) return 'float64';
  if (Array.isArray(v)) return '[]interface {}';
  if (typeof v === 'function') return 'func(...interface {}) interface {}';
  if (isPlainMap(v)) return 'map[string]interface {}';
  const goType = goTypeOf(v);
  if (goType !== null) return goType;
  const ctor = (v as { constructor?: { name?: string } }).constructor?.name;
  return ctor ? `*${ctor}` : 'struct {}';
}

/** Type name used in "wrong type" errors: a nil reached through a map or list is an `interface {}`. */
export function argTypeName(v: unknown): string {
  return v === null ? 'interface {}' : typeName(v);
}

/** text/template's truth: false, 0, nil, and empty strings, lists and maps are false. */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (v instanceof GoFloat) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'function') return true;
  if (isPlainMap(v)) return Object.keys(v).length > 0;
  return true; // a struct
}

/** sprig's `empty`: the zero value of its type. Same as !truth. */
export function isEmpty(v: unknown): boolean {
  return !truth(v);
}

/** reflect.DeepEqual over the value model (int and float64 are different types). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null) return a === b;
  if (isNumber(a) || isNumber(b)) {
    if (!isNumber(a) || !isNumber(b)) return false;
    if (isFloat(a) !== isFloat(b)) return false;
    if (typeof a === 'bigint' || typeof b === 'bigint') {
      if (typeof a !== typeof b) return false;
      return a === b;
    }
    return numValue(a) === numValue(b);
  }
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  const ma = a as Dict;
  const mb = b as Dict;
  const ka = Object.keys(ma);
  const kb = Object.keys(mb);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(mb, k) && deepEqual(ma[k], mb[k]));
}

/** Number of UTF-8 bytes of a string (Go's len). */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Slices a string by UTF-8 byte offsets, as Go does; a cut inside a character yields U+FFFD. */
export function byteSlice(s: string, start: number, end?: number): string {
  const buf = Buffer.from(s, 'utf8');
  return buf.subarray(start, end).toString('utf8');
}

/** Go's unicode.IsSpace. */
export function isGoSpace(cp: number): boolean {
  switch (cp) {
    case 0x09:
    case 0x0a:
    case 0x0b:
    case 0x0c:
    case 0x0d:
    case 0x20:
    case 0x85:
    case 0xa0:
      return true;
  }
  if (cp < 0x100) return false;
  return /^\p{White_Space}$/u.test(String.fromCodePoint(cp));
}

/** Go's strings.TrimSpace. */
export function trimSpace(s: string): string {
  const cps = Array.from(s);
  let i = 0;
  let j = cps.length;
  while (i < j && isGoSpace(cps[i]!.codePointAt(0)!)) i++;
  while (j > i && isGoSpace(cps[j - 1]!.codePointAt(0)!)) j--;
  return cps.slice(i, j).join('');
}

