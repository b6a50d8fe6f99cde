// text/template's builtin functions, and the functions werf adds (include, tpl, required, YAML).

import { TemplateError } from './error.js';
import type { CallContext, FuncSpec } from './exec.js';
import { fromYaml, toYaml } from './encoding.js';
import { fmtValue, sprint, sprintf, sprintln } from './format.js';
import { quote } from '../../go/strconv.js';
import { compare } from '../../go/strings.js';
import {
  byteLength,
  hasKey,
  isFloat,
  isInt,
  isMap,
  isPlainMap,
  numValue,
  toPlain,
  truth,
  typeName,
} from './values.js';

// ---------------------------------------------------------------------------------------------
// Comparison (eq, ne, lt, le, gt, ge)

type BasicKind = 'invalid' | 'bool' | 'int' | 'float' | 'string' | 'other';

function basicKind(v: unknown): BasicKind {
  if (v === undefined || v === null) return 'invalid';
  if (typeof v === 'boolean') return 'bool';
  if (isInt(v)) return 'int';
  if (isFloat(v)) return 'float';
  if (typeof v === 'string') return 'string';
  return 'other';
}

const numeric = (k: BasicKind): boolean => k === 'int' || k === 'float';

function eq(a: unknown, ...bs: unknown[]): boolean {
  if (bs.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(a);
  for (const b of bs) {
    const k2 = basicKind(b);
    let truth = false;
    if (k1 !== k2) {
      // Go refuses to compare an int with a float; so long as both are numbers, compare them.
      if (numeric(k1) && numeric(k2)) truth = numValue(a) === numValue(b);
      else if (k1 !== 'invalid' && k2 !== 'invalid') throw new Error('incompatible types for comparison');
    } else {
      switch (k1) {
        case 'invalid':
          truth = true;
          break;
        case 'int':
        case 'float':
          truth = numValue(a) === numValue(b);
          break;
        case 'other':
          throw new Error(`non-comparable type ${fmtValue(b)}: ${typeName(b)}`);
        default:
          truth = a === b;
      }
    }
    if (truth) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === 'invalid' || k1 === 'other' || k1 === 'bool') throw new Error('invalid type for comparison');
  if (k1 !== k2) {
    if (numeric(k1) && numeric(k2)) return numValue(a) < numValue(b);
    if (k2 === 'invalid' || k2 === 'other' || k2 === 'bool') throw new Error('invalid type for comparison');
    throw new Error('incompatible types for comparison');
  }
  if (k1 === 'string') return compare(a as string, b as string) < 0;
  return numValue(a) < numValue(b);
}

function le(a: unknown, b: unknown): boolean {
  return lt(a, b) || eq(a, b);
}

// ---------------------------------------------------------------------------------------------
// Others

function len(v: unknown): number {
  if (v === undefined || v === null) throw new Error('len of nil pointer');
  if (typeof v === 'string') return byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (isPlainMap(v)) return Object.keys(v).length;
  throw new Error(`len of type ${typeName(v)}`);
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  for (const idx of indexes) {
    if (item === undefined || item === null) throw new Error('index of untyped nil');
    if (Array.isArray(item) || typeof item === 'string') {
      if (idx === undefined || idx === null) throw new Error('cannot index slice/array with nil');
      if (!isInt(idx)) throw new Error(`cannot index slice/array with type ${typeName(idx)}`);
      const x = numValue(idx);
      const length = typeof item === 'string' ? byteLength(item) : item.length;
      if (x < 0 || x >= length) throw new Error(`index out of range: ${x}`);
      item = typeof item === 'string' ? Buffer.from(item, 'utf8')[x] : item[x];
    } else if (isMap(item)) {
      if (idx === undefined || idx === null) throw new Error('value is nil; should be of type string');
      if (typeof idx !== 'string') throw new Error(`value has type ${typeName(idx)}; should be string`);
      item = hasKey(item, idx) ? item[idx] : null;
    } else {
      throw new Error(`can't index item of type ${typeName(item)}`);
    }
    if (item === undefined) item = null;
  }
  return item;
}

function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args);
}

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => ({ '\0': '\uFFFD', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
    }
    if (cp < 0x20) out += '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
    else if (cp < 0x80 || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch)) out += ch;
    else out += '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
  }
  return out;
}

function urlQueryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function call(fn: unknown, ...args: unknown[]): unknown {
  if (fn === undefined || fn === null) throw new Error('call of nil');
  if (typeof fn !== 'function') throw new Error(`non-function ${fmtValue(fn)} of type ${typeName(fn)}`);
  return (fn as (...a: unknown[]) => unknown)(...args.map(toPlain));
}

export function goBuiltins(): Record<string, FuncSpec> {
  return {
    and: { params: ['value'], variadic: 'value', shortCircuit: 'and', fn: () => undefined },
    or: { params: ['value'], variadic: 'value', shortCircuit: 'or', fn: () => undefined },
    not: { params: ['value'], fn: (v: unknown) => !truth(v) },
    len: { params: ['value'], fn: len },
    index: { params: ['value'], variadic: 'value', fn: index },
    print: { params: [], variadic: 'any', fn: (...a: unknown[]) => sprint(a) },
    printf: { params: ['string'], variadic: 'any', fn: (f: string, ...a: unknown[]) => sprintf(f, a) },
    println: { params: [], variadic: 'any', fn: (...a: unknown[]) => sprintln(a) },
    html: { params: [], variadic: 'any', fn: (...a: unknown[]) => htmlEscape(evalArgs(a)) },
    js: { params: [], variadic: 'any', fn: (...a: unknown[]) => jsEscape(evalArgs(a)) },
    urlquery: { params: [], variadic: 'any', fn: (...a: unknown[]) => urlQueryEscape(evalArgs(a)) },
    call: { params: ['value'], variadic: 'value', fn: call },
    eq: { params: ['value'], variadic: 'value', fn: eq },
    ne: { params: ['value', 'value'], fn: (a: unknown, b: unknown) => !eq(a, b) },
    lt: { params: ['value', 'value'], fn: lt },
    le: { params: ['value', 'value'], fn: le },
    gt: { params: ['value', 'value'], fn: (a: unknown, b: unknown) => !le(a, b) },
    ge: { params: ['value', 'value'], fn: (a: unknown, b: unknown) => !lt(a, b) },
  };
}

// ---------------------------------------------------------------------------------------------
// werf

let tplCounter = 0;

export function werfFunctions(): Record<string, FuncSpec> {
  return {
    include: {
      params: ['string', 'any'],
      nested: true,
      fn(this: CallContext, name: string, data: unknown) {
        const tree = this.engine.templates.get(name);
        if (!tree) throw new Error(`template ${quote(name)} not defined`);
        return this.engine.execute(tree, data, () => `include ${quote(name)} at ${this.callSite()}`);
      },
    },
    tpl: {
      params: ['string', 'any'],
      nested: true,
      fn(this: CallContext, source: string, data: unknown) {
        const frame = (): string => `tpl at ${this.callSite()}`;
        let tree;
        try {
          // Like werf, the string joins the template set: its {{define}}s stay available.
          tree = this.engine.addFile(`tpl#${++tplCounter}`, source, 'tpl');
        } catch (e) {
          if (e instanceof TemplateError) e.addFrame(frame());
          throw e;
        }
        return this.engine.execute(tree, data, frame);
      },
    },
    required: {
      params: ['string', 'any'],
      fn: (msg: string, val: unknown) => {
        if (val === null || val === undefined || val === '') throw new Error(msg);
        return val;
      },
    },
    toYaml: { params: ['any'], fn: toYaml },
    fromYaml: { params: ['string'], fn: fromYaml },
    // Debug helpers print only with --debug-templates; rendering them yields nothing.
    tpl_debug: { params: ['string', 'any'], fn: () => '' },
    include_debug: { params: ['string', 'any'], fn: () => '' },
    printf_debug: { params: ['string'], variadic: 'any', fn: () => '' },
    dump_debug: { params: [], variadic: 'any', fn: () => '' },
  };
}
