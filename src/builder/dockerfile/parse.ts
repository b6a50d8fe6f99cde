// The Dockerfile parser: the line rules and per-instruction argument rules of BuildKit's Dockerfile frontend
// (moby/buildkit frontend/dockerfile/parser and instructions), so that a Dockerfile means here what it means
// to `docker build`.
//
// Why not an editor library's model such as dockerfile-ast's (not a dependency of Slipway; weighed and set
// aside): it disagrees with BuildKit where it matters for building. It splits arguments on whitespace without
// quotes (`ENV c="d e"` gives two arguments `c="d` and `e"`) and lists heredoc bodies as arguments; it does not treat
// `RUN a \␠␠` (whitespace after the escape) as a continuation, so the next line becomes an instruction; it
// applies `# escape=` after an unknown directive (`# foo=bar`), which BuildKit ignores; it does not know
// `3<<EOF` heredocs. The rules below are small, and ported from BuildKit with its error messages.

import { InvalidInputError } from '../../errors.js';
import { parseDuration } from '../../go/time.js';
import { DockerfileError, ShellExpansionError } from './errors.js';
import { ShellLex } from './shell-lex.js';
import type { Dockerfile, FlagValue, Heredoc, Instruction, InstructionKeyword, Stage } from './types.js';

/** An error about the instruction being parsed; the caller adds file and line. */
class LineError extends Error {}

const KEYWORDS: ReadonlySet<string> = new Set<InstructionKeyword>([
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
]);

type FlagType = 'bool' | 'string' | 'strings';

/** The flags each instruction accepts (BuildKit's BFlags definitions). Any other flag is an error. */
export const INSTRUCTION_FLAGS: Readonly<Record<InstructionKeyword, Readonly<Record<string, FlagType>>>> = {
  ADD: { chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', exclude: 'strings', unpack: 'bool' },
  COPY: { chown: 'string', chmod: 'string', from: 'string', link: 'bool', parents: 'bool', exclude: 'strings' },
  FROM: { platform: 'string' },
  RUN: { mount: 'strings', network: 'string', security: 'string', device: 'strings' },
  HEALTHCHECK: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
  ARG: {},
  CMD: {},
  ENTRYPOINT: {},
  ENV: {},
  EXPOSE: {},
  LABEL: {},
  MAINTAINER: {},
  ONBUILD: {},
  SHELL: {},
  STOPSIGNAL: {},
  USER: {},
  VOLUME: {},
  WORKDIR: {},
};

// ---------------------------------------------------------------------------------------------------------
// Lines, directives, continuations (parser/parser.go)

const DIRECTIVE = /^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
const VALID_DIRECTIVES = new Set(['escape', 'syntax', 'check']);
const TOKEN_WHITESPACE = /[\t\v\f\r ]+/;
const LEADING_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;
const TRAILING_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/u;
const HEREDOC_WORD = /^(\d*)<<(-?)([^<]*)$/;

function trimNewline(s: string): string {
  return s.replace(/[\r\n]+$/, '');
}

function trimSpace(s: string): string {
  return s.replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '');
}

function isComment(raw: string): boolean {
  return trimNewline(raw).replace(LEADING_SPACE, '').startsWith('#');
}

/** Lines with their line endings, as Go's bufio scanner with BuildKit's scanLines gives them. */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      if (start < text.length) lines.push(text.slice(start));
      return lines;
    }
    lines.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
}

class Directives {
  escape = '\\';
  private done = false;
  private readonly seen = new Set<string>();
  readonly values: Record<string, string> = {};
  /** The 1-based line of each directive (relative to the text scanned). */
  readonly lines: Record<string, number> = {};
  private continuation = Directives.continuationRegExp('\\');

  private static continuationRegExp(escape: string): RegExp {
    // The escape character at the end of a line (trailing blanks allowed) continues it, unless it is itself
    // escaped; or a line holding only the escape character.
    const e = escape === '\\' ? '\\\\' : escape;
    return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
  }

  /** Looks for `# name=value` at the top of the file; the first other line ends the directives. */
  possibleDirective(line: string, lineNumber = 0): void {
    if (this.done) return;
    const m = DIRECTIVE.exec(line);
    if (!m) {
      this.done = true;
      return;
    }
    const name = m[1]!.toLowerCase();
    if (!VALID_DIRECTIVES.has(name)) {
      this.done = true;
      return;
    }
    if (this.seen.has(name)) throw new LineError(`only one ${name} parser directive can be used`);
    this.seen.add(name);
    const value = m[2]!;
    this.values[name] = value;
    this.lines[name] = lineNumber;
    if (name === 'escape') {
      if (value !== '`' && value !== '\\') throw new LineError(`invalid escape token '${value}' does not match \` or \\`);
      this.escape = value;
      this.continuation = Directives.continuationRegExp(value);
    }
  }

  /** Removes a trailing continuation; `continues` is true when the next line belongs to this one. */
  trimContinuation(line: string): { line: string; continues: boolean } {
    if (this.continuation.test(line)) return { line: line.replace(this.continuation, '$1'), continues: true };
    return { line, continues: false };
  }
}

// ---------------------------------------------------------------------------------------------------------
// One logical line into a node (parser/line_parsers.go, parser/split_command.go)

interface Node {
  /** The instruction word, lowercased. */
  cmd: string;
  /** The instruction word as written. */
  word: string;
  original: string;
  flags: string[];
  args: string[];
  json: boolean;
  child?: Node;
  heredocs: Heredoc[];
}

const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

/** Extracts leading `--flag[=value]` words (quotes and `\` escapes removed); stops at the first other word or `--`. */
function extractBuilderFlags(line: string): { rest: string; flags: string[] } {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    let ch = pos < line.length ? line[pos]! : '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (/\s/.test(ch)) continue;
      if (ch !== '-' || pos + 1 === line.length || line[pos + 1] !== '-') return { rest: line.slice(pos), flags: words };
      phase = 'word';
    }
    if (pos === line.length) {
      if (word !== '--' && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (/\s/.test(ch)) {
        phase = 'spaces';
        if (word === '--') return { rest: line.slice(pos), flags: words };
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      if (ch === '\\') {
        if (pos + 1 === line.length) continue;
        pos++;
        ch = line[pos]!;
      }
      word += ch;
      continue;
    }
    // in quotes
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === '\\') {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      pos++;
      ch = line[pos]!;
    }
    word += ch;
  }
  return { rest: '', flags: words };
}

/** Words separated by whitespace, quotes and escapes kept in the words (they are removed at expansion). */
function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = chars[pos] ?? '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (/\s/u.test(ch)) continue;
      phase = 'word';
    }
    if (pos === chars.length) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (/\s/u.test(ch)) {
        phase = 'spaces';
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue; // an escape at the end of the line is dropped
        // Outside quotes the escape and the next character are both kept, even a quote.
        word += ch;
        pos++;
        ch = chars[pos]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = 'word';
    // The escape character works inside double quotes, not inside single quotes.
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      pos++;
      word += ch;
      ch = chars[pos]!;
    }
    word += ch;
  }
  return words;
}

function splitWhitespace(rest: string): string[] {
  if (rest === '') return [];
  return rest.split(/[\t\v\f\r ]+/);
}

/**
 * Go's json.Decoder.Decode into []interface{}: the first JSON value of `rest` (trailing text ignored) must be
 * an array; its elements must be strings. Returns undefined when `rest` is not a JSON array.
 */
function parseJSONArray(rest: string): string[] | undefined {
  const text = rest.replace(LEADING_SPACE, '');
  if (!text.startsWith('[')) return undefined;
  let depth = 0;
  let inString = false;
  let end = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) {
        end = i + 1;
        break;
      }
    }
  }
  if (end < 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text.slice(0, end));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v): v is string => typeof v === 'string')) throw new LineError(NOT_STRING_ARRAY);
  return value;
}

type Parsed = { args: string[]; json: boolean; child?: Node };

function parseMaybeJSON(rest: string): Parsed {
  if (rest === '') return { args: [], json: false };
  const json = parseJSONArray(rest);
  if (json) return { args: json, json: true };
  return { args: [rest], json: false };
}

function parseMaybeJSONToList(rest: string): Parsed {
  const json = parseJSONArray(rest);
  if (json) return { args: json, json: true };
  return { args: splitWhitespace(rest), json: false };
}

/** ENV and LABEL: `key=value ...`, or the legacy `key value` (the value is the rest of the line). */
function parseNameVal(rest: string, keyword: string, escape: string): string[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0]!.includes('=')) {
    const ws = TOKEN_WHITESPACE.exec(rest);
    if (!ws) throw new LineError(`${keyword} must have two arguments`);
    return [rest.slice(0, ws.index), rest.slice(ws.index + ws[0].length)];
  }
  const out: string[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) throw new LineError(`Syntax error - can't find = in "${word}". Must be of the form: name=value`);
    out.push(word.slice(0, eq), word.slice(eq + 1));
  }
  return out;
}

function parseHealthConfig(rest: string): Parsed {
  const m = /^(\S*)\s*/.exec(rest)!;
  const type = m[1]!;
  if (type === '') return { args: [], json: false };
  const cmd = parseMaybeJSON(rest.slice(m[0].length));
  return { args: [type, ...cmd.args], json: cmd.json };
}

function newNodeFromLine(line: string, escape: string): Node {
  const trimmed = trimSpace(line);
  const ws = TOKEN_WHITESPACE.exec(trimmed);
  const word = ws ? trimmed.slice(0, ws.index) : trimmed;
  let flags: string[] = [];
  let rest = '';
  if (ws) {
    const extracted = extractBuilderFlags(trimmed.slice(ws.index + ws[0].length));
    flags = extracted.flags;
    rest = trimSpace(extracted.rest);
  }
  const cmd = word.toLowerCase();
  let parsed: Parsed;
  switch (cmd) {
    case 'add':
    case 'copy':
    case 'volume':
      parsed = parseMaybeJSONToList(rest);
      break;
    case 'cmd':
    case 'entrypoint':
    case 'run':
    case 'shell':
      parsed = parseMaybeJSON(rest);
      break;
    case 'arg':
      parsed = { args: parseWords(rest, escape), json: false };
      break;
    case 'env':
    case 'label':
      parsed = { args: parseNameVal(rest, cmd.toUpperCase(), escape), json: false };
      break;
    case 'expose':
    case 'from':
      parsed = { args: splitWhitespace(rest), json: false };
      break;
    case 'healthcheck':
      parsed = parseHealthConfig(rest);
      break;
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      parsed = { args: rest === '' ? [] : [rest], json: false };
      break;
    case 'onbuild':
      parsed = rest === '' ? { args: [], json: false } : { args: [rest], json: false, child: newNodeFromLine(rest, escape) };
      break;
    default:
      parsed = { args: [], json: false };
  }
  const node: Node = { cmd, word, original: line, flags, args: parsed.args, json: parsed.json, heredocs: [] };
  if (parsed.child) node.child = parsed.child;
  return node;
}

function canContainHeredoc(node: Node): boolean {
  const n = node.cmd === 'onbuild' && node.child ? node.child : node;
  return (n.cmd === 'run' || n.cmd === 'copy' || n.cmd === 'add') && !n.json;
}

interface HeredocStart {
  name: string;
  expand: boolean;
  chomp: boolean;
  fd: number;
}

/** `<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF` as one word; undefined if the word is not a heredoc operator. */
export function parseHeredocWord(word: string): HeredocStart | undefined {
  const m = HEREDOC_WORD.exec(word);
  if (!m) return undefined;
  const fd = m[1] === '' ? 0 : Number.parseInt(m[1]!, 10);
  const chomp = m[2] === '-';
  const rest = m[3]!;
  if (rest === '') return undefined;
  // Lex the delimiter with and without quotes: a quoted delimiter turns expansion of the content off.
  const words = new ShellLex({ skipUnsetEnv: true }).process(rest, {}).words;
  if (words.length !== 1) return undefined;
  const wordsRaw = new ShellLex({ skipUnsetEnv: true, rawQuotes: true }).process(rest, {}).words;
  if (wordsRaw.length !== words.length) throw new LineError(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const countQuotes = (s: string) => Array.from(s).filter((c) => c === "'" || c === '"').length;
  return { name: words[0]!, expand: countQuotes(words[0]!) === countQuotes(wordsRaw[0]!), chomp, fd };
}

function heredocsFromLine(line: string): HeredocStart[] {
  let words: string[];
  try {
    words = new ShellLex({ rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).process(line, {}).words;
  } catch {
    words = [];
  }
  const docs: HeredocStart[] = [];
  for (const word of words) {
    const doc = parseHeredocWord(word);
    if (doc) docs.push(doc);
  }
  return docs;
}

/** A heredoc's text as the build uses it: with `<<-`, leading tabs removed from every line. */
export function heredocText(heredoc: Heredoc): string {
  return heredoc.chomp ? heredoc.content.replace(/(^|\n)\t+/g, '$1') : heredoc.content;
}

// ---------------------------------------------------------------------------------------------------------
// The scanner: physical lines into logical instructions with their heredocs

interface ScannedNode {
  node: Node;
  line: number;
  endLine: number;
}

function scan(text: string, file: string, firstLine: number, directives: Directives): ScannedNode[] {
  const lines = splitLines(text);
  const out: ScannedNode[] = [];
  let i = 0;
  let currentLine = 0;
  const at = (line: number, err: unknown): never => {
    if (err instanceof LineError || err instanceof ShellExpansionError) throw new DockerfileError(file, line + firstLine - 1, err.message, { cause: err });
    throw err;
  };
  const processLine = (raw: string, stripLeft: boolean): string => {
    let token = trimNewline(raw);
    if (stripLeft) token = token.replace(LEADING_SPACE, '');
    try {
      directives.possibleDirective(token, currentLine + firstLine);
    } catch (err) {
      at(currentLine + 1, err);
    }
    return token.startsWith('#') ? '' : token;
  };

  while (i < lines.length) {
    let raw = lines[i++]!;
    if (currentLine === 0) raw = raw.replace(/^\uFEFF/, '');
    const first = processLine(raw, true);
    currentLine++;
    const startLine = currentLine;
    let { line, continues } = directives.trimContinuation(first);
    if (!continues && line === '') continue;
    while (continues && i < lines.length) {
      const rawNext = lines[i++]!;
      const token = processLine(rawNext, false);
      currentLine++;
      if (isComment(rawNext)) continue;
      if (token.replace(LEADING_SPACE, '') === '') continue; // empty continuation line
      const trimmed = directives.trimContinuation(token);
      line += trimmed.line;
      continues = trimmed.continues;
    }

    let node: Node;
    try {
      node = newNodeFromLine(line, directives.escape);
    } catch (err) {
      return at(startLine, err);
    }

    if (canContainHeredoc(node)) {
      let starts: HeredocStart[];
      try {
        starts = heredocsFromLine(line);
      } catch (err) {
        return at(startLine, err);
      }
      for (const start of starts) {
        let content = '';
        let terminated = false;
        while (i < lines.length) {
          const rawLine = lines[i++]!;
          currentLine++;
          let candidate = trimNewline(rawLine);
          if (start.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === start.name) {
            terminated = true;
            break;
          }
          content += rawLine;
        }
        if (!terminated) {
          throw new DockerfileError(file, startLine + firstLine - 1, `unterminated heredoc: no line "${start.name}" ends the here-document`);
        }
        node.heredocs.push({ name: start.name, content, chomp: start.chomp, expand: start.expand, fd: start.fd });
      }
    }
    out.push({ node, line: startLine + firstLine - 1, endLine: currentLine + firstLine - 1 });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Nodes into typed instructions, with BuildKit's validation (instructions/parse.go, instructions/bflag.go)

function parseFlags(words: string[], spec: Readonly<Record<string, FlagType>>): Record<string, FlagValue> {
  const flags: Record<string, FlagValue> = {};
  for (const word of words) {
    if (!word.startsWith('--')) throw new LineError(`arg should start with -- : ${word}`);
    if (word === '--') break;
    let name = word.slice(2);
    let value = '';
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const type = Object.prototype.hasOwnProperty.call(spec, name) ? spec[name] : undefined;
    if (type === undefined) {
      const known = Object.keys(spec);
      throw new LineError(`unknown flag: ${name}${known.length > 0 ? ` (this instruction accepts ${known.map((k) => `--${k}`).join(', ')})` : ' (this instruction takes no flags)'}`);
    }
    if (Object.prototype.hasOwnProperty.call(flags, name) && type !== 'strings') throw new LineError(`duplicate flag specified: ${name}`);
    switch (type) {
      case 'bool': {
        if (eq >= 0 && value === '') throw new LineError(`missing a value on flag: ${name}`);
        const lower = value.toLowerCase();
        if (lower === '') flags[name] = 'true';
        else if (lower === 'true' || lower === 'false') flags[name] = lower;
        else throw new LineError(`expecting boolean value for flag ${name}, not: ${value}`);
        break;
      }
      case 'string':
        if (eq < 0) throw new LineError(`missing a value on flag: ${name}`);
        flags[name] = value;
        break;
      case 'strings': {
        if (eq < 0) throw new LineError(`missing a value on flag: ${name}`);
        const list = flags[name];
        if (Array.isArray(list)) list.push(value);
        else flags[name] = [value];
        break;
      }
    }
  }
  return flags;
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function exactlyOne(node: Node, keyword: string): void {
  if (node.args.length !== 1) throw new LineError(`${keyword} requires exactly one argument`);
}

function atLeastOne(node: Node, keyword: string): void {
  if (node.args.length === 0) throw new LineError(`${keyword} requires at least one argument`);
}

/** `ADD` of a git repository, as BuildKit recognises one (git://, git@, ssh://, github.com/, http(s)://....git). */
export function isGitSource(source: string): boolean {
  return /^(?:git:\/\/|git@|ssh:\/\/|github\.com\/)/.test(source) || /^https?:\/\/[^#\s]+\.git(?:#.*)?$/.test(source);
}

const list = (v: FlagValue | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * COPY/ADD features Slipway does not implement, refused before any build (they would otherwise be ignored and
 * give another image than Docker's): ADD of a git repository and --keep-git-dir, ADD --unpack, and --exclude or
 * --parents together with --from.
 */
function refuseUnsupportedCopy(keyword: InstructionKeyword, node: Node, flags: Record<string, FlagValue>): void {
  const sources = node.args.slice(0, -1);
  if (keyword === 'ADD') {
    const git = sources.find(isGitSource);
    if (git !== undefined) throw new LineError(`ADD of a git repository (${git}) is not supported: clone it in the build context, or in a RUN`);
    if (flags['keep-git-dir'] !== undefined) throw new LineError('ADD --keep-git-dir is not supported: Slipway does not ADD git repositories');
    if (flags['unpack'] !== undefined) throw new LineError('ADD --unpack is not supported: ADD unpacks local archives; download and unpack a remote one in a RUN');
    if (list(flags['exclude']).length > 0 && sources.some((src) => /^https?:\/\//.test(src))) {
      throw new LineError('ADD --exclude is not supported with a URL source');
    }
  }
  if (typeof flags['from'] === 'string' && flags['from'] !== '') {
    if (list(flags['exclude']).length > 0) throw new LineError(`${keyword} --exclude is not supported together with --from (only for build-context sources)`);
    if (flags['parents'] === 'true') throw new LineError(`${keyword} --parents is not supported together with --from (only for build-context sources)`);
  }
}

const RUN_MOUNT_TYPES = new Set(['bind', 'cache', 'tmpfs', 'secret']);

/**
 * RUN features Slipway does not implement, refused before any build: --security=insecure (every RUN is
 * sandboxed), --device, and --mount types other than bind, cache, tmpfs and secret (ssh: no agent forwarding).
 */
function refuseUnsupportedRun(flags: Record<string, FlagValue>): void {
  if (flags['security'] === 'insecure') {
    throw new LineError('RUN --security=insecure is not supported: Slipway runs every RUN sandboxed (Docker\'s default capabilities, seccomp and masked paths)');
  }
  if (list(flags['device']).length > 0) throw new LineError('RUN --device is not supported');
  for (const mount of list(flags['mount'])) {
    const type = /(?:^|,)type=([^,]*)/.exec(mount)?.[1] ?? 'bind';
    if (type.includes('$') || RUN_MOUNT_TYPES.has(type)) continue;
    if (type === 'ssh') {
      throw new LineError('RUN --mount=type=ssh is not supported: Slipway does not forward an SSH agent; use --mount=type=secret for a key, or fetch in the build context');
    }
    throw new LineError(`RUN --mount type=${type} is not supported (Slipway supports type=bind, cache, tmpfs and secret)`);
  }
}

/** A `# syntax=` directive naming Docker's Dockerfile frontend (docker/dockerfile, -upstream; any tag or digest). */
export function isDockerfileFrontend(value: string): boolean {
  return /^(?:docker\.io\/)?docker\/dockerfile(?:-upstream)?(?::[A-Za-z0-9_][A-Za-z0-9_.-]*)?(?:@sha256:[0-9a-f]{64})?$/.test(value.trim());
}

function validate(keyword: InstructionKeyword, node: Node, flags: Record<string, FlagValue>): void {
  switch (keyword) {
    case 'FROM': {
      const args = node.args;
      if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
        if (!STAGE_NAME.test(args[2]!.toLowerCase())) {
          throw new LineError(`invalid name for build stage: "${args[2]}", name can't start with a number or contain symbols`);
        }
      } else if (args.length !== 1) {
        throw new LineError(`FROM requires either one or three arguments: FROM [--platform=<platform>] <image> [AS <name>]`);
      }
      break;
    }
    case 'ARG':
      atLeastOne(node, 'ARG');
      for (const arg of node.args) if (arg.startsWith('=')) throw new LineError('ARG names can not be blank');
      break;
    case 'ENV':
    case 'LABEL':
      atLeastOne(node, keyword);
      for (let j = 0; j < node.args.length; j += 2) if (node.args[j] === '') throw new LineError(`${keyword} names can not be blank`);
      break;
    case 'MAINTAINER':
    case 'WORKDIR':
    case 'USER':
    case 'STOPSIGNAL':
      exactlyOne(node, keyword);
      break;
    case 'EXPOSE':
      atLeastOne(node, 'EXPOSE');
      break;
    case 'VOLUME':
      atLeastOne(node, 'VOLUME');
      for (const v of node.args) if (trimSpace(v) === '') throw new LineError('VOLUME specified can not be an empty string');
      break;
    case 'ADD':
    case 'COPY': {
      if (node.args.length < 2) {
        throw new LineError(`${keyword} requires at least two arguments, but only ${node.args.length === 1 ? 'one was' : 'none were'} provided. Destination could not be determined.`);
      }
      if (!node.json && parseHeredocWord(node.args[node.args.length - 1]!)) throw new LineError(`${keyword} cannot accept a heredoc as a destination`);
      refuseUnsupportedCopy(keyword, node, flags);
      break;
    }
    case 'RUN':
      atLeastOne(node, 'RUN');
      if (typeof flags['network'] === 'string' && !['default', 'none', 'host'].includes(flags['network'])) {
        throw new LineError(`unsupported network mode "${flags['network']}" (default, none or host)`);
      }
      if (typeof flags['security'] === 'string' && !['sandbox', 'insecure'].includes(flags['security'])) {
        throw new LineError(`unsupported security mode "${flags['security']}" (sandbox or insecure)`);
      }
      refuseUnsupportedRun(flags);
      break;
    case 'CMD':
    case 'ENTRYPOINT':
      break;
    case 'SHELL':
      if (node.args.length === 0) throw new LineError('SHELL requires at least one argument');
      if (!node.json) throw new LineError('SHELL requires the arguments to be in JSON form');
      break;
    case 'HEALTHCHECK': {
      atLeastOne(node, 'HEALTHCHECK');
      const type = node.args[0]!.toUpperCase();
      if (type === 'NONE') {
        if (node.args.length !== 1) throw new LineError('HEALTHCHECK NONE takes no arguments');
        break;
      }
      if (type !== 'CMD') throw new LineError(`Unknown type "${node.args[0]}" in HEALTHCHECK (try CMD)`);
      if (node.args.length === 1) throw new LineError('Missing command after HEALTHCHECK CMD');
      for (const name of ['interval', 'timeout', 'start-period', 'start-interval']) {
        const v = flags[name];
        if (typeof v !== 'string' || v === '') continue;
        const ns = parseDuration(v);
        if (ns !== 0n && ns < 1_000_000n) throw new LineError(`Interval "${name}" cannot be less than 1ms`);
      }
      const retries = flags['retries'];
      if (typeof retries === 'string' && retries !== '') {
        if (!/^[+-]?\d+$/.test(retries)) throw new LineError(`--retries must be an integer, not "${retries}"`);
        if (Number(retries) < 0) throw new LineError(`--retries cannot be negative (${retries})`);
      }
      break;
    }
    case 'ONBUILD':
      atLeastOne(node, 'ONBUILD');
      break;
  }
}

function toInstruction(node: Node, line: number, endLine: number, heredocs: Heredoc[], inOnbuild = false): Instruction {
  const keyword = node.cmd.toUpperCase();
  if (!KEYWORDS.has(keyword)) throw new LineError(`unknown instruction: ${node.word.toUpperCase()}`);
  const kw = keyword as InstructionKeyword;
  if (inOnbuild) {
    if (kw === 'ONBUILD') throw new LineError('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
    if (kw === 'FROM' || kw === 'MAINTAINER') throw new LineError(`${kw} isn't allowed as an ONBUILD trigger`);
  }
  const flags = parseFlags(node.flags, INSTRUCTION_FLAGS[kw]);
  validate(kw, node, flags);
  const instr: Instruction = { keyword: kw, line, endLine, flags, args: [...node.args], json: node.json, source: trimSpace(node.original) };
  if (kw === 'ONBUILD') {
    const child = node.child!;
    instr.args = [trimSpace(node.original).replace(/^ONBUILD[\t\v\f\r ]*/i, '')];
    instr.trigger = toInstruction(child, line, endLine, heredocs, true);
  } else if (heredocs.length > 0) {
    instr.heredocs = heredocs;
  }
  return instr;
}

function nodeToInstruction(file: string, scanned: ScannedNode): Instruction {
  try {
    return toInstruction(scanned.node, scanned.line, scanned.endLine, scanned.node.heredocs);
  } catch (err) {
    if (err instanceof LineError || err instanceof ShellExpansionError || err instanceof InvalidInputError) throw new DockerfileError(file, scanned.line, err.message, { cause: err });
    throw err;
  }
}

/**
 * Parses a Dockerfile into stages of instructions. Pure: `file` only names the Dockerfile in messages.
 * Throws DockerfileError (a BuildError) as `<file>:<line>: <message>` for anything Docker would reject at
 * parse time: unknown instructions, wrong argument counts, unknown or malformed flags, unterminated heredocs,
 * instructions before the first FROM, a file without FROM.
 */
export function parseDockerfile(text: string, file: string): Dockerfile {
  const directives = new Directives();
  const scanned = scan(text, file, 1, directives);
  const syntax = directives.values['syntax'];
  if (syntax !== undefined && !isDockerfileFrontend(syntax)) {
    throw new DockerfileError(file, directives.lines['syntax'], `# syntax=${syntax} names another frontend than docker/dockerfile: Slipway reads Dockerfiles itself and cannot run a frontend image`);
  }
  if (scanned.length === 0) throw new DockerfileError(file, undefined, 'the Dockerfile has no instructions');

  const metaArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const s of scanned) {
    const instr = nodeToInstruction(file, s);
    if (instr.keyword === 'FROM') {
      const stage: Stage = { index: stages.length, line: instr.line, base: instr.args[0]!, from: instr, instructions: [] };
      if (instr.args.length === 3) stage.name = instr.args[2]!.toLowerCase();
      const platform = instr.flags['platform'];
      if (typeof platform === 'string') stage.platform = platform;
      stages.push(stage);
      continue;
    }
    const current = stages[stages.length - 1];
    if (current) {
      current.instructions.push(instr);
    } else if (instr.keyword === 'ARG') {
      metaArgs.push(instr);
    } else {
      throw new DockerfileError(file, instr.line, `${instr.keyword} before the first FROM: only ARG may come before FROM (no build stage in current context)`);
    }
  }
  if (stages.length === 0) {
    const last = scanned[scanned.length - 1]!;
    throw new DockerfileError(file, last.line, 'the Dockerfile has no FROM instruction: a build stage starts with FROM <image>');
  }
  const names = new Map<string, number>();
  for (const stage of stages) {
    if (stage.name === undefined) continue;
    const earlier = names.get(stage.name);
    if (earlier !== undefined) {
      throw new DockerfileError(file, stage.line, `duplicate stage name "${stage.name}" (also on line ${stages[earlier]!.line})`);
    }
    names.set(stage.name, stage.index);
  }
  return { file, escape: directives.escape, directives: { ...directives.values }, directiveLines: { ...directives.lines }, metaArgs, stages };
}

/**
 * Parses one instruction, e.g. an ONBUILD trigger read from a base image's config (`OnBuild`), which BuildKit
 * parses as a one-instruction Dockerfile. `line` is reported in messages (the FROM that triggered it).
 */
export function parseInstruction(text: string, options: { file: string; line: number; escape?: string }): Instruction {
  const directives = new Directives();
  if (options.escape !== undefined && options.escape !== '\\') directives.possibleDirective(`# escape=${options.escape}`);
  const scanned = scan(text, options.file, options.line, directives);
  if (scanned.length !== 1) throw new DockerfileError(options.file, options.line, `"${text}" should be a single instruction (found ${scanned.length})`);
  return nodeToInstruction(options.file, scanned[0]!);
}
