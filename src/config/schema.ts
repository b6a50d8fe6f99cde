// werf.yaml documents → typed configuration, with every problem of the file reported at once.
//
// The rendered file is split into documents the way werf splits it (`splitContent` in pkg/config/parser.go:
// a line of `---`, optionally followed by spaces or a comment); documents holding only comments and blanks are
// skipped, and the others are numbered from 1. Each document is parsed as YAML 1.1 (werf uses yaml.v2) and
// read through a small typed view of the AST, so that each problem has a key path and a line.
//
// Problems are collected, never thrown one by one: parseWerfConfig throws one ConfigValidationError listing
// them all, in line order, each formatted as
//
//     <file>:<line>: document <n> (image "<name>"): <key path>: <message>
//
// for example `werf.yaml:12: document 2 (image "backend"): unknown key "dockerfil"` or
// `werf.yaml:20: document 2 (image "backend"): dependencies[0].imports[0].type: expected one of ImageName, ...`.
// Lines are lines of the rendered file; when the source had template actions, the error says so in its hint.
//
// The keys accepted are werf 2's (its JSON schema, schemas/werf.json, and pkg/config/raw_*.go), plus the
// werf 1.x keys still found in the wild (`artifact:`, `fromArtifact`, `ansible`, `docker`, import `artifact`),
// which are parsed and typed too.

import { posix } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError } from '../errors.js';
import { parseDuration } from '../go/time.js';
import { compileNameOrRegexValue, isRegexValue } from '../text/regex-value.js';
import {
  DEPENDENCY_IMPORT_TYPES,
  imageLogName,
  type Ansible,
  type CleanupKeepPolicy,
  type CleanupLimit,
  type ConfigDocument,
  type Dependency,
  type DependencyImport,
  type DependsOn,
  type DockerfileImage,
  type DockerInstructions,
  type GitMapping,
  type Healthcheck,
  type ImageConfig,
  type ImageSpec,
  type Import,
  type MetaBuild,
  type MetaCleanup,
  type MetaGitWorktree,
  type Mount,
  type ReferenceMatcher,
  type Secret,
  type Shell,
  type StapelImage,
  type UserStage,
  type WerfConfig,
  type YamlValue,
} from './werf-config.js';

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

// ---------------------------------------------------------------------------------------------------------
// Problems and how they are reported

export interface ConfigIssue {
  /** The configuration file, relative to the project directory. */
  file: string;
  /** 1-based line of the rendered file; undefined for a problem of the whole file. */
  line: number | undefined;
  /** 1-based index of the (non-empty) document. */
  document: number | undefined;
  /** `meta`, `image "backend"`, `images "a", "b"`, `image ~`, `artifact "x"`. */
  subject: string | undefined;
  /** Key path inside the document, `""` for the document itself. */
  path: string;
  message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  const parts = [issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`];
  if (issue.document !== undefined) {
    parts.push(issue.subject === undefined ? `document ${issue.document}` : `document ${issue.document} (${issue.subject})`);
  }
  if (issue.path !== '') parts.push(issue.path);
  parts.push(issue.message);
  return parts.join(': ');
}

const TEMPLATED_HINT =
  'line numbers are those of the rendered configuration, because the file has template actions: ' +
  'see it with `slipway config render`';

/** All the problems of one configuration file; the message lists them, one per line. */
export class ConfigValidationError extends ConfigError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options: { file: string; templated: boolean }) {
    const lines = issues.map(formatIssue);
    const message = lines.length === 1 ? lines[0]! : [`${options.file}: ${lines.length} problems`, ...lines].join('\n');
    super(message, options.templated ? { hint: TEMPLATED_HINT } : {});
    this.issues = issues;
  }
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  // Stable: problems on the same line keep the order they were found in.
  return issues
    .map((issue, order) => ({ issue, order }))
    .sort((a, b) => (a.issue.line ?? 0) - (b.issue.line ?? 0) || a.order - b.order)
    .map(({ issue }) => issue);
}

// ---------------------------------------------------------------------------------------------------------
// Splitting into documents (werf's splitContent / emptyDocContent)

export interface RawDocument {
  /** 1-based, counting non-empty documents only. */
  index: number;
  /** 1-based line where the document's text starts. */
  line: number;
  /** Offset of the text in the rendered file. */
  offset: number;
  text: string;
}

/**
 * The `[start, end)` ranges of the documents, separators excluded. A separator is a line that is exactly
 * `---`, optionally followed by blanks and a `#` comment. (werf's splitter gives up on a comment containing
 * `-`, leaving the `---` line inside the document, where YAML then fails; Slipway treats it as a separator.)
 */
function documentRanges(content: string): [number, number][] {
  type State = 'lineBegin' | 'regular' | 'dash1' | 'dash2' | 'dash3' | 'spaces' | 'comment';
  const ranges: [number, number][] = [];
  let state: State = 'lineBegin';
  let start = 0;
  let separatorLength = 0;
  for (let index = 0; index < content.length; index++) {
    const ch = content[index];
    if (state === 'comment' && ch !== '\n') {
      separatorLength++;
      continue;
    }
    switch (ch) {
      case '-':
        if (state === 'lineBegin') {
          separatorLength = 1;
          state = 'dash1';
        } else if (state === 'dash1' || state === 'dash2') {
          separatorLength++;
          state = state === 'dash1' ? 'dash2' : 'dash3';
        } else {
          state = 'regular';
        }
        break;
      case '\n':
        if (state === 'dash3' || state === 'spaces' || state === 'comment') {
          ranges.push([start, index - separatorLength]);
          start = index + 1;
        }
        separatorLength = 0;
        state = 'lineBegin';
        break;
      case ' ':
      case '\r':
      case '\t':
        if (state === 'dash3' || state === 'spaces') {
          separatorLength++;
          state = 'spaces';
        } else {
          state = 'regular';
        }
        break;
      case '#':
        if (state === 'dash3' || state === 'spaces') {
          separatorLength++;
          state = 'comment';
        } else {
          state = 'regular';
        }
        break;
      default:
        state = 'regular';
    }
  }
  if (start < content.length) {
    const endsWithSeparator = state === 'dash3' || state === 'spaces' || state === 'comment';
    ranges.push([start, endsWithSeparator ? content.length - separatorLength : content.length]);
  }
  return ranges;
}

/** Only blanks and comments (werf's emptyDocContent). */
function isEmptyDocument(text: string): boolean {
  let inComment = false;
  for (const ch of text) {
    if (ch === '#') inComment = true;
    else if (ch === '\n') inComment = false;
    else if (ch !== ' ' && ch !== '\r' && ch !== '\t' && !inComment) return false;
  }
  return true;
}

export function splitDocuments(content: string): RawDocument[] {
  const documents: RawDocument[] = [];
  let line = 1;
  let counted = 0;
  for (const [start, end] of documentRanges(content)) {
    for (let i = counted; i < start; i++) if (content[i] === '\n') line++;
    counted = start;
    const text = content.slice(start, end);
    if (!isEmptyDocument(text)) documents.push({ index: documents.length + 1, line, offset: start, text });
  }
  return documents;
}

// ---------------------------------------------------------------------------------------------------------
// Small werf rules

const PROJECT_NAME_PATTERN = /^(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;
const PROJECT_NAME_MAX_LENGTH = 50;

/** werf's `slug.ValidateProject`; returns the problem, or undefined. */
export function projectNameProblem(name: string): string | undefined {
  if (name === '') return 'the project name cannot be empty';
  if (!PROJECT_NAME_PATTERN.test(name) || name.length > PROJECT_NAME_MAX_LENGTH) {
    return (
      `bad project name ${JSON.stringify(name)}: use lower-case letters, digits and dashes, not starting or ending ` +
      `with a dash (${PROJECT_NAME_PATTERN.source}), at most ${PROJECT_NAME_MAX_LENGTH} characters`
    );
  }
  return undefined;
}

/** werf's keep-policy reference: `/regex/`, or an exact name (src/config/regex-value.ts); undefined if invalid. */
export function referenceMatcher(source: string): ReferenceMatcher | undefined {
  try {
    return { source, regex: compileNameOrRegexValue(source) };
  } catch {
    return undefined;
  }
}

/** An image reference with a tag or a digest (`nginx:1.25`, `x@sha256:...`), as opposed to a werf image name. */
export function hasTagOrDigest(reference: string): boolean {
  if (reference.includes('@')) return true;
  const lastComponent = reference.slice(reference.lastIndexOf('/') + 1);
  return lastComponent.includes(':');
}

function isAbsolutePath(path: string): boolean {
  return path.startsWith('/');
}

function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function quoteList(names: readonly string[]): string {
  return names.map((name) => JSON.stringify(name)).join(', ');
}

// ---------------------------------------------------------------------------------------------------------
// Giterminism checks the configuration needs (wired by load-config.ts)

/**
 * Each method returns why giterminism forbids the directive, or undefined when it is allowed. All are
 * optional: without an inspector everything is allowed (for callers that parse text they trust).
 */
export interface ConfigInspector {
  fromLatest?(): string | undefined;
  gitBranch?(): string | undefined;
  mountBuildDir?(): string | undefined;
  mountFromPath?(fromPath: string): string | undefined;
  contextAddFile?(relPath: string): string | undefined;
  secretEnv?(name: string): string | undefined;
  secretSrc?(path: string): string | undefined;
  secretValue?(id: string): string | undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Per-document context

class DocumentContext implements IssueSink {
  subject: string | undefined;
  readonly reader: YamlReader;

  constructor(
    readonly file: string,
    readonly raw: RawDocument,
    readonly doc: Document,
    private readonly lineCounter: LineCounter,
    private readonly issues: ConfigIssue[],
    readonly inspector: ConfigInspector,
  ) {
    this.reader = new YamlReader(doc, this);
  }

  lineOf(node: Node | null | undefined): number {
    const offset = node?.range?.[0];
    if (offset === undefined) return this.raw.line + this.firstContentLine();
    return this.raw.line - 1 + this.lineCounter.linePos(offset).line;
  }

  /** Lines before the first non-blank, non-comment line of the document. */
  private firstContentLine(): number {
    const lines = this.raw.text.split('\n');
    const index = lines.findIndex((line) => line.trim() !== '' && !line.trim().startsWith('#'));
    return index < 0 ? 0 : index;
  }

  report(node: Node | null | undefined, path: Path, message: string): void {
    this.issues.push({
      file: this.file,
      line: this.lineOf(node),
      document: this.raw.index,
      subject: this.subject,
      path: formatPath(path),
      message,
    });
  }

  /** A problem that giterminism raised: reported as is. */
  inspect(node: Node | null | undefined, path: Path, problem: string | undefined): void {
    if (problem !== undefined) this.report(node, path, problem);
  }
}

// ---------------------------------------------------------------------------------------------------------
// imageSpec

function emptyImageSpec(): ImageSpec {
  return {
    author: undefined,
    clearHistory: false,
    keepEssentialWerfLabels: false,
    clearWerfLabels: false,
    removeLabels: [],
    removeVolumes: [],
    removeEnv: [],
    clearCmd: false,
    clearEntrypoint: false,
    clearUser: false,
    clearWorkingDir: false,
    volumes: [],
    labels: {},
    env: {},
    expose: [],
    user: undefined,
    cmd: undefined,
    entrypoint: undefined,
    workingDir: undefined,
    stopSignal: undefined,
    healthcheck: undefined,
  };
}

function readRegexOrStringList(view: MapView, key: string, cx: DocumentContext): string[] {
  const values = view.strList(key) ?? [];
  const items = view.has(key) ? (cx.reader.list(view.get(key) ?? null, view.pathOf(key)) ?? []) : [];
  values.forEach((value, index) => {
    if (isRegexValue(value) && referenceMatcher(value) === undefined) {
      cx.report(items[index]?.node, [...view.pathOf(key), index], `invalid regular expression ${JSON.stringify(value)}`);
    }
  });
  return values;
}

function readHealthcheck(view: MapView): Healthcheck {
  const healthcheck: Healthcheck = {
    test: view.strList('test') ?? [],
    interval: view.int('interval', 0),
    timeout: view.int('timeout', 0),
    startPeriod: view.int('startperiod', 0),
    retries: view.int('retries', 0),
  };
  view.reportUnknownKeys((key) =>
    key === 'startPeriod' ? 'unknown key "startPeriod": werf reads this value from "startperiod" (all lower case)' : undefined,
  );
  return healthcheck;
}

/** `build.imageSpec` (global: fewer keys) or an image's `imageSpec`. */
function readImageSpec(view: MapView, cx: DocumentContext, global: boolean): ImageSpec {
  const spec = emptyImageSpec();
  spec.author = view.str('author');
  spec.clearHistory = view.bool('clearHistory') ?? false;
  const config = view.map('config');
  if (config !== undefined) {
    spec.keepEssentialWerfLabels = config.bool('keepEssentialWerfLabels') ?? false;
    spec.clearWerfLabels = config.bool('clearWerfLabels') ?? false;
    spec.removeLabels = readRegexOrStringList(config, 'removeLabels', cx);
    spec.labels = config.strMap('labels') ?? {};
    if (global) {
      config.reportUnknownKeys((key) =>
        PER_IMAGE_SPEC_KEYS.includes(key)
          ? `unknown key ${JSON.stringify(key)}: only keepEssentialWerfLabels, clearWerfLabels, removeLabels and labels can be set for all images; set ${key} in an image's imageSpec`
          : undefined,
      );
    } else {
      spec.removeVolumes = config.strList('removeVolumes') ?? [];
      spec.removeEnv = readRegexOrStringList(config, 'removeEnv', cx);
      spec.clearCmd = config.bool('clearCmd') ?? false;
      spec.clearEntrypoint = config.bool('clearEntrypoint') ?? false;
      spec.clearUser = config.bool('clearUser') ?? false;
      spec.clearWorkingDir = config.bool('clearWorkingDir') ?? false;
      spec.volumes = config.strList('volumes') ?? [];
      spec.env = config.strMap('env') ?? {};
      spec.expose = config.strList('expose') ?? [];
      spec.user = config.str('user');
      spec.cmd = config.strList('cmd');
      spec.entrypoint = config.strList('entrypoint');
      spec.workingDir = config.str('workingDir');
      spec.stopSignal = config.str('stopSignal');
      const healthcheck = config.map('healthcheck');
      spec.healthcheck = healthcheck === undefined ? undefined : readHealthcheck(healthcheck);
      config.reportUnknownKeys();
    }
  }
  view.reportUnknownKeys();
  return spec;
}

const PER_IMAGE_SPEC_KEYS = [
  'removeVolumes',
  'removeEnv',
  'clearCmd',
  'clearEntrypoint',
  'clearUser',
  'clearWorkingDir',
  'volumes',
  'env',
  'expose',
  'user',
  'cmd',
  'entrypoint',
  'workingDir',
  'stopSignal',
  'healthcheck',
];

/** werf's mergeImageSpec: the meta `build.imageSpec` applied to a final image's own. */
function mergeImageSpec(meta: ImageSpec, image: ImageSpec | undefined): ImageSpec {
  const merged: ImageSpec = image === undefined ? emptyImageSpec() : structuredClone(image);
  if (meta.author !== undefined && meta.author !== '') merged.author = meta.author;
  if (meta.clearHistory) merged.clearHistory = true;
  if (meta.keepEssentialWerfLabels) merged.keepEssentialWerfLabels = true;
  merged.labels = { ...merged.labels, ...meta.labels };
  for (const label of meta.removeLabels) if (!merged.removeLabels.includes(label)) merged.removeLabels.push(label);
  return merged;
}

// ---------------------------------------------------------------------------------------------------------
// The meta document

interface MetaDraft {
  cx: DocumentContext;
  project: string | undefined;
  projectNode: Node | undefined;
  build: MetaBuild;
  cleanup: MetaCleanup;
  deploy: { [key: string]: YamlValue } | undefined;
  gitWorktree: MetaGitWorktree;
}

/**
 * A keep policy's `in`: Go's time.ParseDuration (werf decodes it into a time.Duration), in milliseconds. Undefined
 * when Go rejects it, and for a negative duration, which werf would take and which would keep nothing.
 */
function durationMs(text: string): number | undefined {
  let ns: bigint;
  try {
    ns = parseDuration(text);
  } catch {
    return undefined;
  }
  return ns < 0n ? undefined : Number(ns) / 1e6;
}

function readCleanupLimit(view: MapView): CleanupLimit {
  const last = view.int('last', -1);
  let inMs: number | undefined;
  let inText: string | undefined;
  const inNode = view.get('in');
  if (inNode !== undefined) {
    const text = view.reader.str(inNode, view.pathOf('in'));
    if (text !== undefined) {
      inMs = durationMs(text);
      if (inMs === undefined) {
        view.reader.sink.report(inNode, view.pathOf('in'), `invalid duration ${JSON.stringify(text)}: expected a Go duration such as 12h, 168h or 1h30m (there is no unit for days)`);
      } else {
        inText = text;
      }
    }
  }
  let operator = view.enumValue('operator', ['And', 'Or'] as const);
  if (operator === undefined && !view.has('operator') && last !== undefined && inMs !== undefined) operator = 'And';
  view.reportUnknownKeys();
  return { last, inMs, in: inText, operator };
}

function readKeepPolicy(view: MapView, cx: DocumentContext): CleanupKeepPolicy {
  const policy: CleanupKeepPolicy = {
    references: { branch: undefined, tag: undefined, limit: undefined },
    imagesPerReference: undefined,
  };
  const references = view.map('references');
  if (references === undefined) {
    if (!view.has('references')) cx.report(view.node, view.path, 'missing key "references": a keep policy needs a branch or a tag');
  } else {
    const read = (key: 'branch' | 'tag'): ReferenceMatcher | undefined => {
      const text = references.str(key);
      if (text === undefined) return undefined;
      const matcher = text === '' ? undefined : referenceMatcher(text);
      if (matcher === undefined) {
        cx.report(references.at(key), references.pathOf(key), `invalid value ${JSON.stringify(text)}: expected a name or a /regular expression/`);
      }
      return matcher;
    };
    policy.references.branch = read('branch');
    policy.references.tag = read('tag');
    const hasBranch = references.get('branch') !== undefined;
    const hasTag = references.get('tag') !== undefined;
    if (hasBranch && hasTag) {
      cx.report(references.keyAt('tag'), references.path, 'specify only one of "branch" and "tag"');
    } else if (!hasBranch && !hasTag) {
      cx.report(references.node, references.path, 'missing key "branch" or "tag": one of them is required');
    }
    const limit = references.map('limit');
    policy.references.limit = limit === undefined ? undefined : readCleanupLimit(limit);
    references.reportUnknownKeys();
  }
  const perReference = view.map('imagesPerReference');
  policy.imagesPerReference = perReference === undefined ? undefined : readCleanupLimit(perReference);
  view.reportUnknownKeys();
  return policy;
}

function readCleanup(view: MapView | undefined, cx: DocumentContext): MetaCleanup {
  const cleanup: MetaCleanup = {
    disable: false,
    disableKubernetesBasedPolicy: false,
    disableGitHistoryBasedPolicy: false,
    disableBuiltWithinLastNHoursPolicy: false,
    keepImagesBuiltWithinLastNHours: 2,
    keepPolicies: [],
  };
  if (view === undefined) return cleanup;
  cleanup.disable = view.bool('disable') ?? false;
  cleanup.disableKubernetesBasedPolicy = view.bool('disableKubernetesBasedPolicy') ?? false;
  cleanup.disableGitHistoryBasedPolicy = view.bool('disableGitHistoryBasedPolicy') ?? false;
  cleanup.disableBuiltWithinLastNHoursPolicy = view.bool('disableBuiltWithinLastNHoursPolicy') ?? false;
  cleanup.keepImagesBuiltWithinLastNHours = view.int('keepImagesBuiltWithinLastNHours', 0) ?? 2;
  for (const item of view.list('keepPolicies') ?? []) {
    const policy = cx.reader.map(item.node, item.path);
    if (policy !== undefined) cleanup.keepPolicies.push(readKeepPolicy(policy, cx));
  }
  view.reportUnknownKeys((key) =>
    key === 'policies'
      ? 'unknown key "policies": werf 1.1 cleanup policies are not supported; use "keepPolicies"'
      : undefined,
  );
  return cleanup;
}

function readMeta(view: MapView, cx: DocumentContext): MetaDraft {
  cx.subject = 'meta';
  const versionEntry = view.entry('configVersion');
  const version = versionEntry?.value;
  if (!(isScalar(version) && version.value === 1)) {
    cx.report(version ?? versionEntry?.keyNode, ['configVersion'], `expected 1, got ${describeNode(version)}: 'configVersion: 1' is required`);
  }

  let project: string | undefined;
  const projectNode = view.get('project');
  if (projectNode === undefined) {
    cx.report(view.entry('project')?.keyNode ?? view.node, view.has('project') ? ['project'] : [], 'missing key "project": the project name is required');
  } else {
    project = cx.reader.str(projectNode, ['project']);
    const problem = project === undefined ? undefined : projectNameProblem(project);
    if (problem !== undefined) cx.report(projectNode, ['project'], problem);
  }

  const build: MetaBuild = { cacheVersion: undefined, platform: [], staged: false, imageSpec: undefined };
  const buildView = view.map('build');
  if (buildView !== undefined) {
    build.cacheVersion = buildView.str('cacheVersion');
    build.platform = buildView.strList('platform') ?? [];
    build.staged = buildView.bool('staged') ?? false;
    const spec = buildView.map('imageSpec');
    build.imageSpec = spec === undefined ? undefined : readImageSpec(spec, cx, true);
    buildView.reportUnknownKeys();
  }

  const cleanup = readCleanup(view.map('cleanup'), cx);

  let deploy: { [key: string]: YamlValue } | undefined;
  const deployNode = view.get('deploy');
  if (deployNode !== undefined && cx.reader.map(deployNode, ['deploy']) !== undefined) {
    const value = cx.reader.value(deployNode);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) deploy = value;
  }

  const gitWorktree: MetaGitWorktree = { forceShallowClone: false, allowUnshallow: true, allowFetchOriginBranchesAndTags: true };
  const worktree = view.map('gitWorktree');
  if (worktree !== undefined) {
    gitWorktree.forceShallowClone = worktree.bool('forceShallowClone') ?? false;
    gitWorktree.allowUnshallow = worktree.bool('allowUnshallow') ?? true;
    gitWorktree.allowFetchOriginBranchesAndTags = worktree.bool('allowFetchOriginBranchesAndTags') ?? true;
    worktree.reportUnknownKeys();
  }

  view.reportUnknownKeys((key) =>
    IMAGE_DOCUMENT_KEYS.has(key)
      ? `unknown key ${JSON.stringify(key)}: image directives go in their own document (separated by ---), not in the meta document`
      : undefined,
  );
  return { cx, project, projectNode, build, cleanup, deploy, gitWorktree };
}

// ---------------------------------------------------------------------------------------------------------
// Image documents: shared directives

interface ImageRef {
  target: string;
  node: Node | null;
  path: Path;
  kind: 'fromImage' | 'fromArtifact' | 'import' | 'dependency';
}

interface ImageDraft {
  image: ImageConfig;
  cx: DocumentContext;
  nameNode: Node | null;
  /** Images that must exist. */
  refs: ImageRef[];
  /** A stapel `from`: a werf image when one has that name, else an external reference. */
  from: { target: string; node: Node | null; path: Path } | undefined;
  /** Dockerfile images: `staged` as written, else the meta default applies. */
  stagedExplicit: boolean | undefined;
}

function readStage(view: MapView, key: 'before' | 'after'): UserStage | undefined {
  return view.enumValue(key, ['install', 'setup'] as const);
}

function readDependencies(view: MapView, cx: DocumentContext, kind: 'dockerfile' | 'stapel', refs: ImageRef[]): Dependency[] {
  const dependencies: Dependency[] = [];
  const targets = new Map<string, Path>();
  for (const item of view.list('dependencies') ?? []) {
    const dep = cx.reader.map(item.node, item.path);
    if (dep === undefined) continue;
    const from = dep.str('from');
    const legacy = dep.str('image');
    if (from !== undefined && legacy !== undefined) {
      cx.report(dep.keyAt('image'), dep.path, 'specify only one of "from" and the deprecated "image"');
    }
    const image = from ?? legacy;
    if (image === undefined || image === '') {
      cx.report(dep.node, dep.path, 'missing key "from": the image depended on is required');
    } else {
      const key = from !== undefined ? 'from' : 'image';
      refs.push({ target: image, node: dep.at(key), path: dep.pathOf(key), kind: 'dependency' });
    }

    let before: UserStage | undefined;
    let after: UserStage | undefined;
    if (kind === 'stapel') {
      before = readStage(dep, 'before');
      after = readStage(dep, 'after');
      const hasBefore = dep.get('before') !== undefined;
      const hasAfter = dep.get('after') !== undefined;
      if (hasBefore && hasAfter) cx.report(dep.keyAt('after'), dep.path, 'specify only one of "before" and "after"');
      else if (!hasBefore && !hasAfter) cx.report(dep.node, dep.path, 'missing key "before" or "after": the stage (install or setup) is required');
    }

    const imports: DependencyImport[] = [];
    for (const importItem of dep.list('imports') ?? []) {
      const imp = cx.reader.map(importItem.node, importItem.path);
      if (imp === undefined) continue;
      const type = imp.enumValue('type', DEPENDENCY_IMPORT_TYPES);
      if (!imp.has('type')) cx.report(imp.node, imp.path, 'missing key "type"');
      const targetKey = kind === 'dockerfile' ? 'targetBuildArg' : 'targetEnv';
      const target = imp.str(targetKey);
      if (target === undefined || target === '') {
        cx.report(imp.node, imp.path, `missing key "${targetKey}"`);
      } else if (targets.has(target)) {
        cx.report(imp.at(targetKey), imp.pathOf(targetKey), `duplicate ${targetKey} ${JSON.stringify(target)}: already set at ${formatPath(targets.get(target)!)}`);
      } else {
        targets.set(target, imp.pathOf(targetKey));
      }
      imp.reportUnknownKeys((key) => {
        if (kind === 'dockerfile' && key === 'targetEnv') return 'unknown key "targetEnv": Dockerfile images receive dependencies through build args ("targetBuildArg")';
        if (kind === 'stapel' && key === 'targetBuildArg') return 'unknown key "targetBuildArg": stapel images receive dependencies through environment variables ("targetEnv")';
        return undefined;
      });
      if (type !== undefined) {
        imports.push({
          type,
          targetBuildArg: kind === 'dockerfile' ? target : undefined,
          targetEnv: kind === 'stapel' ? target : undefined,
        });
      }
    }

    dep.reportUnknownKeys((key) =>
      kind === 'dockerfile' && (key === 'before' || key === 'after')
        ? `unknown key ${JSON.stringify(key)}: "before" and "after" are for stapel image dependencies, not Dockerfile ones`
        : undefined,
    );
    if (image !== undefined && image !== '') dependencies.push({ image, before, after, imports });
  }
  return dependencies;
}

function readSecrets(view: MapView, cx: DocumentContext): Secret[] {
  const secrets: Secret[] = [];
  const ids = new Map<string, Path>();
  for (const item of view.list('secrets') ?? []) {
    const secret = cx.reader.map(item.node, item.path);
    if (secret === undefined) continue;
    const id = secret.str('id');
    const env = secret.str('env');
    const src = secret.str('src');
    const value = secret.str('value');
    secret.reportUnknownKeys();
    const given = [env, src, value].filter((v) => v !== undefined && v !== '').length;
    if (given === 0) {
      cx.report(secret.node, secret.path, 'one of "env", "src" or "value" is required');
      continue;
    }
    if (given > 1) {
      cx.report(secret.node, secret.path, 'specify only one of "env", "src" and "value"');
      continue;
    }
    let result: Secret;
    if (env !== undefined && env !== '') {
      result = { kind: 'env', id: id || env, env };
      cx.inspect(secret.at('env'), secret.pathOf('env'), cx.inspector.secretEnv?.(env));
    } else if (src !== undefined && src !== '') {
      result = { kind: 'src', id: id || baseName(src), src };
      cx.inspect(secret.at('src'), secret.pathOf('src'), cx.inspector.secretSrc?.(src));
    } else {
      if (id === undefined || id === '') {
        cx.report(secret.node, secret.path, 'missing key "id": it is required with "value"');
        continue;
      }
      result = { kind: 'value', id, value: value ?? '' };
      cx.inspect(secret.at('value'), secret.pathOf('value'), cx.inspector.secretValue?.(id));
    }
    const seen = ids.get(result.id);
    if (seen !== undefined) {
      cx.report(secret.node, secret.path, `duplicate secret id ${JSON.stringify(result.id)}: already used at ${formatPath(seen)}`);
      continue;
    }
    ids.set(result.id, secret.path);
    secrets.push(result);
  }
  return secrets;
}

/** `image:` (or the legacy `artifact:`): the names the document defines. */
function readImageNames(view: MapView, cx: DocumentContext, kind: 'dockerfile' | 'stapel'): { names: string[]; node: Node | null; artifact: boolean } {
  const imageEntry = view.entry('image');
  const artifactEntry = kind === 'stapel' && view.has('artifact') ? view.entry('artifact') : undefined;
  if (imageEntry !== undefined && artifactEntry !== undefined) {
    cx.report(artifactEntry.keyNode, [], 'specify only one of "image" and "artifact"');
  }
  if (imageEntry === undefined && artifactEntry !== undefined) {
    const name = cx.reader.strictStr(artifactEntry.value, ['artifact'], 'an artifact name');
    if (name === '') cx.report(artifactEntry.value ?? artifactEntry.keyNode, ['artifact'], 'the artifact name cannot be empty');
    return { names: name ? [name] : [], node: artifactEntry.value ?? artifactEntry.keyNode, artifact: true };
  }
  if (imageEntry === undefined) {
    cx.report(view.node, [], 'missing key "image": the image name is required');
    return { names: [], node: view.node, artifact: false };
  }
  const value = imageEntry.value;
  if (isNull(value)) {
    if (kind === 'dockerfile') {
      cx.report(value ?? imageEntry.keyNode, ['image'], 'the nameless image (`image: ~`) is not supported for Dockerfile images: give the image a name');
      return { names: [], node: value, artifact: false };
    }
    return { names: [''], node: value ?? imageEntry.keyNode, artifact: false };
  }
  if (isSeq(value)) {
    const names: string[] = [];
    for (const item of cx.reader.list(value, ['image']) ?? []) {
      const name = cx.reader.strictStr(item.node, item.path, 'an image name');
      if (name === '') cx.report(item.node, item.path, 'an image name cannot be empty');
      else if (name !== undefined) names.push(name);
    }
    if (value.items.length === 0) cx.report(value, ['image'], 'expected at least one image name');
    return { names, node: value, artifact: false };
  }
  const name = cx.reader.strictStr(value, ['image'], 'an image name or a list of names');
  return { names: name === undefined ? [] : [name], node: value, artifact: false };
}

function subjectOf(names: readonly string[], artifact: boolean): string | undefined {
  if (names.length === 0) return undefined;
  if (artifact) return `artifact ${JSON.stringify(names[0])}`;
  if (names.length === 1) return names[0] === '' ? 'image ~' : `image ${JSON.stringify(names[0])}`;
  return `images ${quoteList(names)}`;
}

/** Directives common to both kinds of images. */
function readCommon(view: MapView, cx: DocumentContext, kind: 'dockerfile' | 'stapel', refs: ImageRef[], defaultFinal: boolean) {
  const imageSpec = view.map('imageSpec');
  return {
    final: view.bool('final') ?? defaultFinal,
    platform: view.strList('platform') ?? [],
    cacheVersion: view.str('cacheVersion'),
    network: view.str('network'),
    secrets: readSecrets(view, cx),
    dependencies: readDependencies(view, cx, kind, refs),
    imageSpec: imageSpec === undefined ? undefined : readImageSpec(imageSpec, cx, false),
  };
}

const EMPTY_DEPENDS_ON: DependsOn = { from: undefined, imports: [], dependencies: [] };

const DOCKERFILE_ONLY_KEYS = new Set(['dockerfile', 'context', 'contextAddFiles', 'contextAddFile', 'target', 'args', 'addHost', 'ssh', 'staged']);
const STAPEL_ONLY_KEYS = new Set([
  'from',
  'fromImage',
  'fromArtifact',
  'fromLatest',
  'fromCacheVersion',
  'disableGitAfterPatch',
  'git',
  'shell',
  'ansible',
  'mount',
  'import',
  'docker',
  'artifact',
]);
const IMAGE_DOCUMENT_KEYS = new Set([
  ...DOCKERFILE_ONLY_KEYS,
  ...STAPEL_ONLY_KEYS,
  'image',
  'final',
  'platform',
  'network',
  'secrets',
  'dependencies',
  'imageSpec',
]);

// ---------------------------------------------------------------------------------------------------------
// Dockerfile images

function readDockerfileImage(view: MapView, cx: DocumentContext): ImageDraft[] {
  const { names, node: nameNode } = readImageNames(view, cx, 'dockerfile');
  cx.subject = subjectOf(names, false);
  const refs: ImageRef[] = [];

  const dockerfile = view.str('dockerfile') ?? '';
  if (dockerfile === '') {
    cx.report(view.at('dockerfile'), ['dockerfile'], 'expected the path of the Dockerfile, relative to the context');
  } else if (isAbsolutePath(dockerfile)) {
    cx.report(view.at('dockerfile'), ['dockerfile'], 'the Dockerfile path must be relative to the context');
  }
  const context = view.str('context') ?? '';
  if (isAbsolutePath(context)) cx.report(view.at('context'), ['context'], 'the context must be a path relative to the project directory');

  const contextAddFiles = view.strOrList('contextAddFiles') ?? [];
  const contextAddFile = view.strOrList('contextAddFile') ?? [];
  if (contextAddFiles.length > 0 && contextAddFile.length > 0) {
    cx.report(view.keyAt('contextAddFile'), [], 'only one of "contextAddFiles" and "contextAddFile" can be used: move everything into "contextAddFiles"');
  }
  const addFilesKey = contextAddFile.length > 0 && contextAddFiles.length === 0 ? 'contextAddFile' : 'contextAddFiles';
  const addFiles = addFilesKey === 'contextAddFile' ? contextAddFile : contextAddFiles;
  addFiles.forEach((path, index) => {
    if (isAbsolutePath(path)) cx.report(view.at(addFilesKey), [addFilesKey, index], 'each path must be relative to the context');
    else cx.inspect(view.at(addFilesKey), [addFilesKey, index], cx.inspector.contextAddFile?.(posix.join(context, path)));
  });

  const target = view.str('target');
  const args = view.strMap('args') ?? {};
  const addHost = view.strOrList('addHost') ?? [];
  const ssh = view.str('ssh');
  const staged = view.bool('staged');
  const common = readCommon(view, cx, 'dockerfile', refs, true);

  for (const dependency of common.dependencies) {
    for (const imp of dependency.imports) {
      if (imp.targetBuildArg !== undefined && Object.hasOwn(args, imp.targetBuildArg)) {
        cx.report(view.at('args'), ['args', imp.targetBuildArg], `build arg ${JSON.stringify(imp.targetBuildArg)} is also set by a dependency import ("targetBuildArg"): avoid duplicated build args`);
      }
    }
  }

  view.reportUnknownKeys((key) =>
    STAPEL_ONLY_KEYS.has(key)
      ? `unknown key ${JSON.stringify(key)}: this is a Dockerfile image (it has "dockerfile"), and ${JSON.stringify(key)} is a stapel directive`
      : undefined,
  );

  return names.map((name) => {
    const image: DockerfileImage = {
      kind: 'dockerfile',
      name,
      ...structuredClone(common),
      dependsOn: structuredClone(EMPTY_DEPENDS_ON),
      source: { file: cx.file, document: cx.raw.index, line: cx.lineOf(null) },
      dockerfile,
      context,
      contextAddFiles: [...addFiles],
      target,
      args: { ...args },
      addHost: [...addHost],
      ssh,
      staged: staged ?? false,
    };
    return { image, cx, nameNode, refs, from: undefined, stagedExplicit: staged };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Stapel images

function readGitMapping(view: MapView, cx: DocumentContext): GitMapping | undefined {
  const url = view.str('url');
  const remote = url !== undefined && url !== '';
  const mapping: GitMapping = {
    url: remote ? url : undefined,
    branch: view.str('branch'),
    tag: view.str('tag'),
    commit: view.str('commit'),
    add: view.str('add') ?? '/',
    to: view.str('to') ?? '',
    includePaths: view.strOrList('includePaths') ?? [],
    excludePaths: view.strOrList('excludePaths') ?? [],
    owner: view.str('owner'),
    group: view.str('group'),
    lfs: view.bool('lfs') ?? false,
    basicAuth: undefined,
    stageDependencies: { install: [], beforeSetup: [], setup: [] },
  };
  const auth = view.map('basicAuth');
  if (auth !== undefined) {
    const username = auth.str('username');
    let password: { env: string } | { src: string } | { value: string } | undefined;
    const passwordView = auth.map('password');
    if (passwordView !== undefined) {
      const env = passwordView.str('env');
      const src = passwordView.str('src');
      const value = passwordView.str('value');
      const given = [env, src, value].filter((v) => v !== undefined && v !== '').length;
      if (given !== 1) cx.report(passwordView.node, passwordView.path, 'exactly one of "env", "src" or "value" is required');
      else password = env ? { env } : src ? { src } : { value: value ?? '' };
      passwordView.reportUnknownKeys();
    }
    auth.reportUnknownKeys();
    mapping.basicAuth = { username, password };
  }
  const stageDependencies = view.map('stageDependencies');
  if (stageDependencies !== undefined) {
    mapping.stageDependencies = {
      install: stageDependencies.strOrList('install') ?? [],
      beforeSetup: stageDependencies.strOrList('beforeSetup') ?? [],
      setup: stageDependencies.strOrList('setup') ?? [],
    };
    stageDependencies.reportUnknownKeys((key) =>
      key === 'beforeInstall' ? 'unknown key "beforeInstall": git changes cannot trigger beforeInstall (use install, beforeSetup or setup)' : undefined,
    );
  }

  if (!remote) {
    for (const key of ['branch', 'tag', 'commit', 'basicAuth'] as const) {
      if (view.get(key) !== undefined) cx.report(view.at(key), view.pathOf(key), `"${key}" is only for remote repositories (with "url")`);
    }
  } else {
    const refs = (['branch', 'tag', 'commit'] as const).filter((key) => view.get(key) !== undefined);
    if (refs.length > 1) cx.report(view.keyAt(refs[1]!), view.path, `specify only one of "branch", "tag" and "commit" (got ${refs.join(' and ')})`);
    if (mapping.branch !== undefined && mapping.branch !== '') cx.inspect(view.at('branch'), view.pathOf('branch'), cx.inspector.gitBranch?.());
  }
  if (!isAbsolutePath(mapping.add)) cx.report(view.at('add'), view.pathOf('add'), `"add" must be an absolute path in the repository, got ${JSON.stringify(mapping.add)}`);
  if (view.get('to') === undefined) cx.report(view.node, view.path, 'missing key "to": the absolute destination path in the image is required');
  else if (!isAbsolutePath(mapping.to)) cx.report(view.at('to'), view.pathOf('to'), `"to" must be an absolute path in the image, got ${JSON.stringify(mapping.to)}`);
  view.reportUnknownKeys();
  return mapping;
}

const STAGE_KEYS = ['beforeInstall', 'install', 'beforeSetup', 'setup'] as const;

function readCacheVersions(view: MapView) {
  return {
    cacheVersion: view.str('cacheVersion'),
    beforeInstallCacheVersion: view.str('beforeInstallCacheVersion'),
    installCacheVersion: view.str('installCacheVersion'),
    beforeSetupCacheVersion: view.str('beforeSetupCacheVersion'),
    setupCacheVersion: view.str('setupCacheVersion'),
  };
}

function readShell(view: MapView): Shell {
  const shell: Shell = {
    beforeInstall: view.strOrList('beforeInstall') ?? [],
    install: view.strOrList('install') ?? [],
    beforeSetup: view.strOrList('beforeSetup') ?? [],
    setup: view.strOrList('setup') ?? [],
    ...readCacheVersions(view),
  };
  view.reportUnknownKeys();
  return shell;
}

function readAnsible(view: MapView, cx: DocumentContext): Ansible {
  const tasks = (key: (typeof STAGE_KEYS)[number]): YamlValue[] => {
    const out: YamlValue[] = [];
    for (const item of view.list(key) ?? []) {
      if (cx.reader.map(item.node, item.path) !== undefined) out.push(cx.reader.value(item.node));
    }
    return out;
  };
  const ansible: Ansible = {
    beforeInstall: tasks('beforeInstall'),
    install: tasks('install'),
    beforeSetup: tasks('beforeSetup'),
    setup: tasks('setup'),
    ...readCacheVersions(view),
  };
  view.reportUnknownKeys();
  return ansible;
}

function readMount(view: MapView, cx: DocumentContext): Mount | undefined {
  const from = view.enumValue('from', ['tmp_dir', 'build_dir'] as const);
  const fromPath = view.str('fromPath');
  const to = view.str('to');
  view.reportUnknownKeys();
  const hasFrom = view.get('from') !== undefined;
  const hasFromPath = fromPath !== undefined && fromPath !== '';
  if (hasFrom && hasFromPath) {
    cx.report(view.keyAt('fromPath'), view.path, 'specify only one of "from" and "fromPath"');
    return undefined;
  }
  if (!hasFrom && !hasFromPath) {
    cx.report(view.node, view.path, 'missing key "from" (tmp_dir or build_dir) or "fromPath" (a host path)');
    return undefined;
  }
  if (to === undefined || to === '') {
    cx.report(view.node, view.path, 'missing key "to": the absolute path in the image is required');
    return undefined;
  }
  if (!isAbsolutePath(to)) {
    cx.report(view.at('to'), view.pathOf('to'), `"to" must be an absolute path in the image, got ${JSON.stringify(to)}`);
    return undefined;
  }
  if (hasFromPath) {
    cx.inspect(view.at('fromPath'), view.pathOf('fromPath'), cx.inspector.mountFromPath?.(fromPath));
    return { fromPath, to };
  }
  if (from === undefined) return undefined;
  if (from === 'build_dir') cx.inspect(view.at('from'), view.pathOf('from'), cx.inspector.mountBuildDir?.());
  return { from, to };
}

function readImport(view: MapView, cx: DocumentContext, refs: ImageRef[]): Import | undefined {
  const sources = (['from', 'image', 'artifact'] as const).filter((key) => view.get(key) !== undefined);
  const values = { from: view.str('from'), image: view.str('image'), artifact: view.str('artifact') };
  const add = view.str('add');
  const to = view.str('to');
  const before = readStage(view, 'before');
  const after = readStage(view, 'after');
  const imp: Import = {
    image: '',
    external: false,
    add: add ?? '',
    to: to ?? add ?? '',
    before,
    after,
    includePaths: view.strOrList('includePaths') ?? [],
    excludePaths: view.strOrList('excludePaths') ?? [],
    owner: view.str('owner'),
    group: view.str('group'),
    stage: view.str('stage'),
  };
  view.reportUnknownKeys();

  let ok = true;
  if (sources.length === 0) {
    cx.report(view.node, view.path, 'missing key "from": the image to import from is required');
    ok = false;
  } else if (sources.length > 1) {
    cx.report(view.keyAt(sources[1]!), view.path, `specify only one of ${sources.map((s) => `"${s}"`).join(' and ')}`);
    ok = false;
  } else {
    const key = sources[0]!;
    imp.image = values[key] ?? '';
    imp.external = key !== 'artifact' && hasTagOrDigest(imp.image);
    if (!imp.external) refs.push({ target: imp.image, node: view.at(key), path: view.pathOf(key), kind: 'import' });
  }
  if (add === undefined || add === '') {
    cx.report(view.node, view.path, 'missing key "add": the absolute path to copy from the source image is required');
    ok = false;
  } else if (!isAbsolutePath(add)) {
    cx.report(view.at('add'), view.pathOf('add'), `"add" must be an absolute path, got ${JSON.stringify(add)}`);
    ok = false;
  }
  if (to !== undefined && to !== '' && !isAbsolutePath(to)) {
    cx.report(view.at('to'), view.pathOf('to'), `"to" must be an absolute path, got ${JSON.stringify(to)}`);
    ok = false;
  }
  const hasBefore = view.get('before') !== undefined;
  const hasAfter = view.get('after') !== undefined;
  if (hasBefore && hasAfter) {
    cx.report(view.keyAt('after'), view.path, 'specify only one of "before" and "after"');
    ok = false;
  } else if (!hasBefore && !hasAfter && imp.stage === undefined) {
    cx.report(view.node, view.path, 'missing key "before" or "after": the stage (install or setup) is required');
    ok = false;
  }
  return ok ? imp : undefined;
}

function readCommand(view: MapView, key: string, cx: DocumentContext): string | string[] | undefined {
  const node = view.get(key);
  if (node === undefined) return undefined;
  if (isSeq(node)) return cx.reader.strList(node, view.pathOf(key));
  return cx.reader.str(node, view.pathOf(key));
}

function readDocker(view: MapView, cx: DocumentContext): DockerInstructions {
  const docker: DockerInstructions = {
    volume: view.strOrList('VOLUME') ?? [],
    expose: view.strOrList('EXPOSE') ?? [],
    env: view.strMap('ENV') ?? {},
    label: view.strMap('LABEL') ?? {},
    entrypoint: readCommand(view, 'ENTRYPOINT', cx),
    cmd: readCommand(view, 'CMD', cx),
    workdir: view.str('WORKDIR'),
    user: view.str('USER'),
    healthcheck: view.str('HEALTHCHECK'),
  };
  view.reportUnknownKeys();
  return docker;
}

function readStapelImage(view: MapView, cx: DocumentContext): ImageDraft[] {
  const { names, node: nameNode, artifact } = readImageNames(view, cx, 'stapel');
  cx.subject = subjectOf(names, artifact);
  const refs: ImageRef[] = [];

  const from = view.str('from');
  const fromImage = view.str('fromImage');
  const fromArtifact = view.str('fromArtifact');
  const bases = (['from', 'fromImage', 'fromArtifact'] as const).filter((key) => view.get(key) !== undefined);
  let fromRef: ImageDraft['from'];
  if (bases.length === 0) {
    cx.report(view.node, [], 'missing key "from": the base image (an image reference, or the name of another image) is required');
  } else if (bases.length > 1) {
    cx.report(view.keyAt(bases[1]!), [], `specify only one of ${bases.map((key) => `"${key}"`).join(', ')}`);
  } else if (fromImage !== undefined && fromImage !== '') {
    refs.push({ target: fromImage, node: view.at('fromImage'), path: ['fromImage'], kind: 'fromImage' });
  } else if (fromArtifact !== undefined && fromArtifact !== '') {
    refs.push({ target: fromArtifact, node: view.at('fromArtifact'), path: ['fromArtifact'], kind: 'fromArtifact' });
  } else if (from !== undefined && from !== '') {
    fromRef = { target: from, node: view.at('from'), path: ['from'] };
  }

  const fromLatest = view.bool('fromLatest') ?? false;
  if (fromLatest) {
    if (from === 'scratch') cx.report(view.at('fromLatest'), ['fromLatest'], '"fromLatest" cannot be used with "from: scratch"');
    cx.inspect(view.at('fromLatest'), ['fromLatest'], cx.inspector.fromLatest?.());
  }

  const git: GitMapping[] = [];
  for (const item of view.list('git') ?? []) {
    const mapping = cx.reader.map(item.node, item.path);
    const parsed = mapping === undefined ? undefined : readGitMapping(mapping, cx);
    if (parsed !== undefined) git.push(parsed);
  }

  const shellView = view.map('shell');
  const ansibleView = view.map('ansible');
  if (shellView !== undefined && ansibleView !== undefined) {
    cx.report(view.keyAt('ansible'), [], 'specify only one of "shell" and "ansible"');
  }
  const shell = shellView === undefined ? undefined : readShell(shellView);
  const ansible = ansibleView === undefined ? undefined : readAnsible(ansibleView, cx);

  const mounts: Mount[] = [];
  const mountTargets = new Map<string, Path>();
  for (const item of view.list('mount') ?? []) {
    const mountView = cx.reader.map(item.node, item.path);
    const mount = mountView === undefined ? undefined : readMount(mountView, cx);
    if (mount === undefined || mountView === undefined) continue;
    const seen = mountTargets.get(mount.to);
    if (seen !== undefined) {
      cx.report(mountView.at('to'), mountView.pathOf('to'), `conflict between mounts: "to: ${mount.to}" is already used at ${formatPath(seen)}`);
      continue;
    }
    mountTargets.set(mount.to, mountView.path);
    mounts.push(mount);
  }

  const imports: Import[] = [];
  for (const item of view.list('import') ?? []) {
    const importView = cx.reader.map(item.node, item.path);
    const imp = importView === undefined ? undefined : readImport(importView, cx, refs);
    if (imp !== undefined) imports.push(imp);
  }

  const dockerView = view.map('docker');
  const docker = dockerView === undefined ? undefined : readDocker(dockerView, cx);
  const fromCacheVersion = view.str('fromCacheVersion');
  const disableGitAfterPatch = view.bool('disableGitAfterPatch') ?? false;
  const common = readCommon(view, cx, 'stapel', refs, !artifact);
  if (artifact && common.final) cx.report(view.at('final'), ['final'], 'an artifact cannot be final: use "image:" with "final: true" instead');

  view.reportUnknownKeys((key) =>
    DOCKERFILE_ONLY_KEYS.has(key)
      ? `unknown key ${JSON.stringify(key)}: this is a stapel image (it has no "dockerfile"), and ${JSON.stringify(key)} is a Dockerfile image directive`
      : undefined,
  );

  return names.map((name) => {
    const image: StapelImage = {
      kind: 'stapel',
      name,
      ...structuredClone(common),
      dependsOn: structuredClone(EMPTY_DEPENDS_ON),
      source: { file: cx.file, document: cx.raw.index, line: cx.lineOf(null) },
      artifact,
      from: from === '' ? undefined : from,
      fromImage: fromImage === '' ? undefined : fromImage,
      fromArtifact: fromArtifact === '' ? undefined : fromArtifact,
      fromLatest,
      fromCacheVersion,
      disableGitAfterPatch,
      git: structuredClone(git),
      shell: structuredClone(shell),
      ansible: structuredClone(ansible),
      import: structuredClone(imports),
      mount: structuredClone(mounts),
      docker: structuredClone(docker),
    };
    return { image, cx, nameNode, refs, from: fromRef, stagedExplicit: undefined };
  });
}

// ---------------------------------------------------------------------------------------------------------
// The whole file

export interface ParseWerfConfigOptions {
  /** The configuration file, relative to the project directory, for messages. Default `werf.yaml`. */
  file?: string;
  /** An override of `project` (SLIPWAY_PROJECT_NAME / WERF_PROJECT_NAME), with the variable it came from. */
  projectName?: { value: string; from: string };
  /** The source had template actions: line numbers are those of the rendered text (said in the error's hint). */
  templated?: boolean;
  /** Giterminism checks; without one, every directive is allowed. */
  inspector?: ConfigInspector;
}

function yamlErrorMessage(message: string): string {
  return message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').split('\n')[0]!;
}

/** Reports missing images, the nameless-image rule, duplicates and cycles; fills in `dependsOn`. */
function checkImageGraph(drafts: readonly ImageDraft[]): void {
  const byName = new Map<string, ImageDraft>();
  for (const draft of drafts) {
    const name = draft.image.name;
    const first = byName.get(name);
    if (first === undefined) {
      byName.set(name, draft);
      continue;
    }
    const key = draft.image.kind === 'stapel' && draft.image.artifact ? 'artifact' : 'image';
    draft.cx.report(
      draft.nameNode,
      [key],
      `image ${name === '' ? '~' : JSON.stringify(name)} is already defined in document ${first.cx.raw.index} (line ${first.cx.lineOf(first.nameNode)}): image names must be unique`,
    );
  }
  const nameless = byName.get('');
  if (nameless !== undefined && drafts.filter((draft) => draft.image.final).length > 1) {
    nameless.cx.report(nameless.nameNode, ['image'], 'the nameless image (`image: ~`) cannot be used together with other images: give every image a name');
  }

  for (const draft of drafts) {
    const dependsOn: DependsOn = { from: undefined, imports: [], dependencies: [] };
    for (const ref of draft.refs) {
      if (!byName.has(ref.target)) {
        const what = ref.kind === 'fromArtifact' ? 'artifact' : 'image';
        draft.cx.report(ref.node, ref.path, `${what} ${JSON.stringify(ref.target)} is not defined in werf.yaml`);
        continue;
      }
      if (ref.kind === 'fromImage' || ref.kind === 'fromArtifact') dependsOn.from = ref.target;
      else if (ref.kind === 'import' && !dependsOn.imports.includes(ref.target)) dependsOn.imports.push(ref.target);
      else if (ref.kind === 'dependency' && !dependsOn.dependencies.includes(ref.target)) dependsOn.dependencies.push(ref.target);
    }
    if (draft.from !== undefined) {
      if (draft.from.target === draft.image.name) {
        draft.cx.report(draft.from.node, draft.from.path, `image ${JSON.stringify(draft.image.name)} cannot use itself as its base image`);
      } else if (byName.has(draft.from.target)) {
        dependsOn.from = draft.from.target;
      }
    }
    draft.image.dependsOn = dependsOn;
  }

  // Cycles: depth-first from each image in document order; each cycle reported once, at its first image.
  const related = (draft: ImageDraft): { target: string; node: Node | null; path: Path }[] => {
    const edges: { target: string; node: Node | null; path: Path }[] = [];
    if (draft.from !== undefined && draft.image.dependsOn.from === draft.from.target) edges.push(draft.from);
    for (const ref of draft.refs) if (byName.has(ref.target)) edges.push(ref);
    return edges;
  };
  const done = new Set<string>();
  const reported = new Set<string>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    if (done.has(name)) return;
    const draft = byName.get(name);
    if (draft === undefined) return;
    stack.push(name);
    for (const edge of related(draft)) {
      const at = stack.indexOf(edge.target);
      if (at >= 0) {
        const cycle = [...stack.slice(at), edge.target];
        const key = [...new Set(cycle)].sort().join('\u0000');
        if (!reported.has(key)) {
          reported.add(key);
          const start = byName.get(cycle[0]!)!;
          const firstEdge = related(start).find((e) => e.target === cycle[1]) ?? edge;
          start.cx.report(firstEdge.node, firstEdge.path, `dependency cycle between images: ${cycle.map(imageLogName).join(' -> ')}`);
        }
        continue;
      }
      visit(edge.target);
    }
    stack.pop();
    done.add(name);
  };
  for (const draft of drafts) visit(draft.image.name);
}

/**
 * Parse and validate rendered werf.yaml text. Throws ConfigValidationError listing every problem found.
 * Pure: reads nothing but its arguments (giterminism questions go through `options.inspector`).
 */
export function parseWerfConfig(rendered: string, options: ParseWerfConfigOptions = {}): WerfConfig {
  const file = options.file ?? 'werf.yaml';
  const inspector = options.inspector ?? {};
  const issues: ConfigIssue[] = [];
  const metas: MetaDraft[] = [];
  const drafts: ImageDraft[] = [];
  const documents: ConfigDocument[] = [];
  let unparsable = false;

  for (const raw of splitDocuments(rendered)) {
    const lineCounter = new LineCounter();
    const doc = parseDocument(raw.text, { version: '1.1', lineCounter, uniqueKeys: true, prettyErrors: true });
    const cx = new DocumentContext(file, raw, doc, lineCounter, issues, inspector);
    if (doc.errors.length > 0) {
      unparsable = true;
      for (const error of doc.errors) {
        const line = error.linePos?.[0]?.line;
        issues.push({
          file,
          line: line === undefined ? raw.line : raw.line - 1 + line,
          document: raw.index,
          subject: undefined,
          path: '',
          message: `invalid YAML: ${yamlErrorMessage(error.message)}`,
        });
      }
      continue;
    }
    const root = cx.reader.resolve(doc.contents);
    if (!isMap(root)) {
      cx.report(root, [], `expected a mapping of directives, got ${describeNode(root)}`);
      continue;
    }
    const view = new MapView(cx.reader, root, []);
    const base = { index: raw.index, line: raw.line, text: raw.text };
    if (view.has('configVersion')) {
      metas.push(readMeta(view, cx));
      documents.push({ ...base, kind: 'meta', imageNames: [] });
    } else if (view.has('dockerfile') || view.has('image') || view.has('artifact')) {
      const images = view.has('dockerfile') ? readDockerfileImage(view, cx) : readStapelImage(view, cx);
      drafts.push(...images);
      documents.push({ ...base, kind: 'image', imageNames: images.map((draft) => draft.image.name) });
    } else {
      cx.report(
        root,
        [],
        'cannot recognize the document: the meta document has "configVersion", an image document has "image" ' +
          '(with "dockerfile" for a Dockerfile image)',
      );
    }
  }

  if (metas.length === 0 && !unparsable) {
    issues.push({
      file,
      line: undefined,
      document: undefined,
      subject: undefined,
      path: '',
      message:
        'the meta document is missing: add a document with "configVersion: 1" and "project: <name>", separated from ' +
        'the image documents by a line of ---',
    });
  }
  for (const extra of metas.slice(1)) {
    extra.cx.report(null, [], `duplicate meta document: the meta document is document ${metas[0]!.cx.raw.index}`);
  }
  if (!unparsable) checkImageGraph(drafts);

  const meta = metas[0];
  let project = meta?.project;
  if (options.projectName !== undefined && options.projectName.value !== '') {
    const problem = projectNameProblem(options.projectName.value);
    if (problem !== undefined) {
      issues.push({ file, line: undefined, document: undefined, subject: undefined, path: '', message: `$${options.projectName.from}: ${problem}` });
    }
    project = options.projectName.value;
  }

  if (issues.length > 0 || meta === undefined || project === undefined) {
    const seen = new Set<string>();
    const unique = sortIssues(issues).filter((issue) => {
      const text = formatIssue(issue);
      if (seen.has(text)) return false;
      seen.add(text);
      return true;
    });
    throw new ConfigValidationError(unique, { file, templated: options.templated ?? false });
  }

  const images: ImageConfig[] = drafts.map((draft) => {
    const image = draft.image;
    if (image.kind === 'dockerfile' && draft.stagedExplicit === undefined) image.staged = meta.build.staged;
    if (meta.build.imageSpec !== undefined && image.final) image.imageSpec = mergeImageSpec(meta.build.imageSpec, image.imageSpec);
    return image;
  });

  return {
    configVersion: 1,
    project,
    build: meta.build,
    cleanup: meta.cleanup,
    deploy: meta.deploy,
    gitWorktree: meta.gitWorktree,
    images,
    file,
    rendered,
    documents,
  };
}
