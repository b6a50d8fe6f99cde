// A small typed view of the yaml AST (YamlReader, MapView): every value read has a key path and a line, and
// every problem goes to an IssueSink instead of being thrown.

import { isAlias, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';
import type { YamlValue } from '../werf-config.js';

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

/** `dependencies[0].imports[1].type`. */
export function formatPath(path: Path): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? segment : `.${segment}`;
  }
  return text;
}

/** Where the problems of one document go. */
export interface IssueSink {
  /** Report a problem at a node (its line is used), under a key path. */
  report(node: Node | null | undefined, path: Path, message: string): void;
}

/** What a node is, for "expected X, got Y" messages. */
export function describeNode(node: Node | null | undefined): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    if (node.value === null) return 'null';
    const text = scalarText(node);
    return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
  }
  return 'an unsupported value';
}

function scalarText(node: Node): string {
  if (!isScalar(node)) return '';
  if (typeof node.value === 'string') return node.value;
  return node.source ?? String(node.value);
}

export function isNull(node: Node | null | undefined): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

/** Follows aliases (bounded, against alias loops). */
export function resolveNode(doc: Document, node: unknown): Node | null {
  let current = node;
  for (let i = 0; i < 64 && isAlias(current); i++) current = current.resolve(doc) ?? null;
  if (current === null || current === undefined) return null;
  return current as Node;
}

interface Entry {
  key: string;
  keyNode: Node;
  value: Node | null;
}

/** Readers for one document. */
export class YamlReader {
  constructor(
    readonly doc: Document,
    readonly sink: IssueSink,
  ) {}

  resolve(node: unknown): Node | null {
    return resolveNode(this.doc, node);
  }

  /** A mapping view, or undefined (reported) when the node is not a mapping. */
  map(node: Node | null, path: Path): MapView | undefined {
    if (!isMap(node)) {
      this.sink.report(node, path, `expected a mapping, got ${describeNode(node)}`);
      return undefined;
    }
    return new MapView(this, node, path);
  }

  /** The items of a sequence, aliases resolved; undefined (reported) when not a sequence. */
  list(node: Node | null, path: Path, what = 'a list'): { node: Node | null; path: Path }[] | undefined {
    if (!isSeq(node)) {
      this.sink.report(node, path, `expected ${what}, got ${describeNode(node)}`);
      return undefined;
    }
    return node.items.map((item, index) => ({ node: this.resolve(item), path: [...path, index] }));
  }

  str(node: Node | null, path: Path): string | undefined {
    if (isScalar(node)) return node.value === null ? '' : scalarText(node);
    this.sink.report(node, path, `expected a string, got ${describeNode(node)}`);
    return undefined;
  }

  /** A scalar whose YAML type is string (image names: werf rejects `image: 123`). */
  strictStr(node: Node | null, path: Path, what = 'a string'): string | undefined {
    if (isScalar(node) && typeof node.value === 'string') return node.value;
    this.sink.report(node, path, `expected ${what}, got ${describeNode(node)}`);
    return undefined;
  }

  bool(node: Node | null, path: Path): boolean | undefined {
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    this.sink.report(node, path, `expected a boolean (true or false), got ${describeNode(node)}`);
    return undefined;
  }

  int(node: Node | null, path: Path, min?: number): number | undefined {
    if (isScalar(node) && typeof node.value === 'number' && Number.isInteger(node.value)) {
      if (min !== undefined && node.value < min) {
        this.sink.report(node, path, `expected an integer >= ${min}, got ${describeNode(node)}`);
        return undefined;
      }
      return node.value;
    }
    this.sink.report(node, path, `expected an integer, got ${describeNode(node)}`);
    return undefined;
  }

  enumValue<const T extends string>(node: Node | null, path: Path, values: readonly T[]): T | undefined {
    const text = isScalar(node) && node.value !== null ? scalarText(node) : undefined;
    const found = values.find((value) => value === text);
    if (found !== undefined) return found;
    this.sink.report(node, path, `expected one of ${values.join(', ')}, got ${describeNode(node)}`);
    return undefined;
  }

  /** A list of scalars, as strings. */
  strList(node: Node | null, path: Path): string[] | undefined {
    const items = this.list(node, path, 'a list of strings');
    if (items === undefined) return undefined;
    const out: string[] = [];
    for (const item of items) {
      const value = this.str(item.node, item.path);
      if (value !== undefined) out.push(value);
    }
    return out;
  }

  /** A string or a list of strings (werf's InterfaceToStringArray); `~` is an empty list. */
  strOrList(node: Node | null, path: Path): string[] | undefined {
    if (isScalar(node)) return node.value === null ? [] : [scalarText(node)];
    if (isSeq(node)) return this.strList(node, path);
    this.sink.report(node, path, `expected a string or a list of strings, got ${describeNode(node)}`);
    return undefined;
  }

  /** A mapping of scalars to scalars, as strings. */
  strMap(node: Node | null, path: Path): Record<string, string> | undefined {
    if (!isMap(node)) {
      this.sink.report(node, path, `expected a mapping of strings, got ${describeNode(node)}`);
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const entry of this.entries(node, path)) {
      const value = this.str(entry.value, [...path, entry.key]);
      if (value !== undefined) out[entry.key] = value;
    }
    return out;
  }

  /** The node as plain data (aliases and merges resolved), for values Slipway keeps without interpreting. */
  value(node: Node | null): YamlValue {
    const toValue = (current: Node | null, depth: number): YamlValue => {
      if (depth > 256) return null;
      if (current === null) return null;
      if (isScalar(current)) {
        const value: unknown = current.value;
        if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
        if (typeof value === 'number') return Number.isFinite(value) ? value : scalarText(current);
        return scalarText(current);
      }
      if (isSeq(current)) return current.items.map((item) => toValue(this.resolve(item), depth + 1));
      if (isMap(current)) {
        const out: { [key: string]: YamlValue } = {};
        for (const entry of this.entries(current, [])) out[entry.key] = toValue(entry.value, depth + 1);
        return out;
      }
      return null;
    };
    return toValue(node, 0);
  }

  /** The key/value pairs of a mapping, `<<` merges applied (explicit keys win, as in YAML 1.1). */
  entries(node: Node, path: Path): Entry[] {
    if (!isMap(node)) return [];
    const own: Entry[] = [];
    const merged: Entry[] = [];
    for (const pair of node.items) {
      const keyNode = this.resolve(pair.key);
      const value = this.resolve(pair.value);
      if (isScalar(keyNode) && typeof keyNode.value === 'symbol') {
        // `<<: *anchor` or `<<: [*a, *b]`: the first source that has a key wins.
        const sources = isSeq(value) ? value.items.map((item) => this.resolve(item)) : [value];
        for (const source of sources) {
          if (!isMap(source)) {
            this.sink.report(value, [...path, '<<'], `a merge key needs a mapping or a list of mappings, got ${describeNode(source)}`);
            continue;
          }
          for (const entry of this.entries(source, path)) {
            if (!merged.some((other) => other.key === entry.key)) merged.push(entry);
          }
        }
        continue;
      }
      if (!isScalar(keyNode)) {
        this.sink.report(keyNode ?? node, path, `expected a string key, got ${describeNode(keyNode)}`);
        continue;
      }
      own.push({ key: scalarText(keyNode), keyNode, value });
    }
    return [...own, ...merged.filter((entry) => !own.some((other) => other.key === entry.key))];
  }
}

/**
 * A mapping being read field by field. Every key read through it counts as known; `unknownKeys()` reports
 * the rest, which is werf's `checkOverflow` ("unknown key").
 */
export class MapView {
  private readonly byKey = new Map<string, Entry>();
  private readonly used = new Set<string>();

  constructor(
    readonly reader: YamlReader,
    readonly node: Node,
    readonly path: Path,
  ) {
    for (const entry of reader.entries(node, path)) this.byKey.set(entry.key, entry);
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }

  /** Present, even with a null value. */
  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** The value node; undefined when absent or null (werf treats `key: ~` as absent). Marks the key known. */
  get(key: string): Node | undefined {
    this.used.add(key);
    const entry = this.byKey.get(key);
    if (entry === undefined || isNull(entry.value)) return undefined;
    return entry.value ?? undefined;
  }

  /** The raw entry (null values included). Marks the key known. */
  entry(key: string): Entry | undefined {
    this.used.add(key);
    return this.byKey.get(key);
  }

  /** The node to point at for a key: its value, else the key, else the mapping. */
  at(key: string): Node {
    const entry = this.byKey.get(key);
    return entry?.value ?? entry?.keyNode ?? this.node;
  }

  /** The node of the key itself (for problems about the key's presence rather than its value). */
  keyAt(key: string): Node {
    return this.byKey.get(key)?.keyNode ?? this.node;
  }

  pathOf(key: string): Path {
    return [...this.path, key];
  }

  private read<T>(key: string, reader: (node: Node, path: Path) => T | undefined): T | undefined {
    const node = this.get(key);
    return node === undefined ? undefined : reader(node, this.pathOf(key));
  }

  str(key: string): string | undefined {
    return this.read(key, (node, path) => this.reader.str(node, path));
  }

  bool(key: string): boolean | undefined {
    return this.read(key, (node, path) => this.reader.bool(node, path));
  }

  int(key: string, min?: number): number | undefined {
    return this.read(key, (node, path) => this.reader.int(node, path, min));
  }

  enumValue<const T extends string>(key: string, values: readonly T[]): T | undefined {
    return this.read(key, (node, path) => this.reader.enumValue(node, path, values));
  }

  strList(key: string): string[] | undefined {
    return this.read(key, (node, path) => this.reader.strList(node, path));
  }

  strOrList(key: string): string[] | undefined {
    return this.read(key, (node, path) => this.reader.strOrList(node, path));
  }

  strMap(key: string): Record<string, string> | undefined {
    return this.read(key, (node, path) => this.reader.strMap(node, path));
  }

  map(key: string): MapView | undefined {
    return this.read(key, (node, path) => this.reader.map(node, path));
  }

  list(key: string): { node: Node | null; path: Path }[] | undefined {
    return this.read(key, (node, path) => this.reader.list(node, path));
  }

  /**
   * Report every key not read so far. `describe` may turn a key into a more helpful message (a key that
   * belongs to the other kind of image, say).
   */
  reportUnknownKeys(describe?: (key: string) => string | undefined): void {
    for (const [key, entry] of this.byKey) {
      if (this.used.has(key)) continue;
      const message = describe?.(key) ?? `unknown key ${JSON.stringify(key)}`;
      this.reader.sink.report(entry.keyNode, this.path, message);
    }
  }
}
