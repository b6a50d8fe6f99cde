// toJson/fromJson (Go encoding/json) and toYaml/fromYaml (werf: gopkg.in/yaml.v2; Helm: sigs.k8s.io/yaml).

import { parseAllDocuments, stringify, visit, type Scalar } from 'yaml';

import { GoFloat, isMap, isPlainMap, sortedKeys, type Dict } from './values.js';

// ---------------------------------------------------------------------------------------------
// JSON

function jsonString(s: string, escapeHTML: boolean): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c < 0x20) out += '\\u00' + c.toString(16).padStart(2, '0');
    else if (escapeHTML && (ch === '<' || ch === '>' || ch === '&')) out += '\\u00' + c.toString(16);
    else if (c === 0x2028 || c === 0x2029) out += '\\u' + c.toString(16);
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += ch + s[i + 1]!;
        i++;
      } else {
        out += '\\ufffd';
      }
    } else if (c >= 0xdc00 && c <= 0xdfff) out += '\\ufffd';
    else out += ch;
  }
  return out + '"';
}

function jsonFloat(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`json: unsupported value: ${Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf'}`);
  if (Object.is(x, -0)) return '-0';
  // Go switches to exponent form below 1e-6 and from 1e21, like JavaScript, and writes e-7 rather than e-07.
  return String(x);
}

/** encoding/json Marshal (sorted keys, HTML escaping unless raw) or MarshalIndent with two spaces. */
export function toJson(v: unknown, options: { pretty?: boolean; escapeHTML?: boolean } = {}): string {
  const escapeHTML = options.escapeHTML ?? true;
  const enc = (x: unknown, indent: string): string => {
    if (x === undefined || x === null) return 'null';
    if (typeof x === 'boolean') return String(x);
    if (typeof x === 'bigint') return x.toString();
    if (typeof x === 'number') return Number.isInteger(x) ? (Object.is(x, -0) ? '0' : String(x)) : jsonFloat(x);
    if (x instanceof GoFloat) return jsonFloat(x.value);
    if (typeof x === 'string') return jsonString(x, escapeHTML);
    if (typeof x === 'function') throw new Error('json: unsupported type: func()');
    const marshal = (x as { MarshalJSON?: unknown }).MarshalJSON;
    if (typeof marshal === 'function') return String(marshal.call(x));
    const inner = options.pretty ? indent + '  ' : '';
    const nl = options.pretty ? '\n' : '';
    if (Array.isArray(x)) {
      if (x.length === 0) return '[]';
      return '[' + nl + x.map((e) => inner + enc(e, inner)).join(',' + nl) + nl + indent + ']';
    }
    const m = x as Dict;
    const keys = isPlainMap(m) ? sortedKeys(m) : Object.keys(m).sort();
    if (keys.length === 0) return '{}';
    const sep = options.pretty ? ': ' : ':';
    return '{' + nl + keys.map((k) => inner + jsonString(k, escapeHTML) + sep + enc(m[k], inner)).join(',' + nl) + nl + indent + '}';
  };
  return enc(v, '');
}

/** encoding/json Unmarshal into interface{}: every number is a float64. */
export function fromJson(s: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch (e) {
    throw new Error(e instanceof Error ? e.message : String(e));
  }
  const conv = (x: unknown): unknown => {
    if (typeof x === 'number') return new GoFloat(x);
    if (Array.isArray(x)) return x.map(conv);
    if (isMap(x)) {
      const out: Dict = {};
      for (const k of Object.keys(x)) Object.defineProperty(out, k, { value: conv(x[k]), writable: true, enumerable: true, configurable: true });
      return out;
    }
    return x;
  };
  return conv(parsed);
}

// ---------------------------------------------------------------------------------------------
// YAML

/** Plain data for the YAML writer: GoFloat to number, no functions, class instances as maps. */
function yamlData(x: unknown): unknown {
  if (x === undefined || x === null) return null;
  if (x instanceof GoFloat) return x.value;
  if (typeof x === 'bigint') return Number(x);
  if (typeof x === 'function') throw new Error('cannot marshal a function to YAML');
  const marshal = typeof x === 'object' ? (x as { MarshalText?: unknown }).MarshalText : undefined;
  if (typeof marshal === 'function') return String(marshal.call(x));
  if (Array.isArray(x)) return x.map(yamlData);
  if (isMap(x)) {
    const out: Dict = {};
    for (const k of Object.keys(x)) Object.defineProperty(out, k, { value: yamlData(x[k]), writable: true, enumerable: true, configurable: true });
    return out;
  }
  return x;
}

const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;

/** yaml.v2's key order: letters after other characters, runs of digits compared as numbers. */
function yamlKeyLess(a: string, b: string): boolean {
  const ar = Array.from(a);
  const br = Array.from(b);
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue;
    const al = LETTER.test(ar[i]!);
    const bl = LETTER.test(br[i]!);
    if (al && bl) return ar[i]!.codePointAt(0)! < br[i]!.codePointAt(0)!;
    if (al || bl) return bl;
    let an = 0;
    let bn = 0;
    if (ar[i] === '0' || br[i] === '0') {
      for (let j = i - 1; j >= 0 && DIGIT.test(ar[j]!); j--) {
        if (ar[j] !== '0') {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    let ai = i;
    let bi = i;
    for (; ai < ar.length && DIGIT.test(ar[ai]!); ai++) an = an * 10 + Number(ar[ai]);
    for (; bi < br.length && DIGIT.test(br[bi]!); bi++) bn = bn * 10 + Number(br[bi]);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ar[i]!.codePointAt(0)! < br[i]!.codePointAt(0)!;
  }
  return ar.length < br.length;
}

/** toYaml: block style, sorted keys, sequences not indented under their key, no trailing newline. */
export function toYaml(v: unknown): string {
  const text = stringify(yamlData(v), {
    version: '1.1',
    indent: 2,
    indentSeq: false,
    sortMapEntries: (a, b) => (yamlKeyLess(String(a.key), String(b.key)) ? -1 : yamlKeyLess(String(b.key), String(a.key)) ? 1 : 0),
    lineWidth: 0,
    minContentWidth: 0,
    aliasDuplicateObjects: false,
    blockQuote: 'literal',
    nullStr: 'null',
  });
  return text.replace(/\n$/, '');
}

/** fromYaml as werf defines it: the first document, which must be a map (an empty one if absent). */
export function fromYaml(s: string): Dict {
  const docs = parseAllDocuments(s, {
    version: '1.1',
    merge: true,
    uniqueKeys: false,
    customTags: (tags) => tags.filter((t) => typeof t === 'string' || !['tag:yaml.org,2002:timestamp', 'tag:yaml.org,2002:binary'].includes(t.tag)),
  });
  const list = Array.isArray(docs) ? docs : [docs];
  const doc = list[0];
  if (!doc) return {};
  if (doc.errors.length > 0) throw new Error(`yaml: ${doc.errors[0]!.message}`);
  // A float written with a point or an exponent stays a float64, as in Go, even if its value is integral.
  visit(doc, {
    Scalar(_key, node: Scalar) {
      if (typeof node.value !== 'number' || !Number.isInteger(node.value) || !node.range) return;
      const text = s.slice(node.range[0], node.range[1]);
      if (/[.eE]/.test(text) && !/^[-+]?0x/i.test(text)) node.value = new GoFloat(node.value);
    },
  });
  const data = doc.toJS({ maxAliasCount: -1 }) as unknown;
  if (data === null || data === undefined) return {};
  if (!isPlainMap(data)) {
    const kind = Array.isArray(data) ? '!!seq' : typeof data === 'string' ? '!!str' : typeof data === 'boolean' ? '!!bool' : '!!' + typeof data;
    throw new Error(`yaml: unmarshal errors:\n  cannot unmarshal ${kind} into map[string]interface {}`);
  }
  return normalizeKeys(data) as Dict;
}

function normalizeKeys(x: unknown): unknown {
  if (x instanceof Map) {
    const out: Dict = {};
    for (const [k, v] of x) Object.defineProperty(out, String(k), { value: normalizeKeys(v), writable: true, enumerable: true, configurable: true });
    return out;
  }
  if (Array.isArray(x)) return x.map(normalizeKeys);
  if (isPlainMap(x)) {
    for (const k of Object.keys(x)) Object.defineProperty(x, k, { value: normalizeKeys(x[k]), writable: true, enumerable: true, configurable: true });
    return x;
  }
  return x;
}

