// WWW-Authenticate challenges (RFC 7235 section 4.1) and token scopes
// (distribution token spec: `type:name:action,action`).

export interface Challenge {
  /** Lowercased, e.g. `basic`, `bearer`. */
  scheme: string;
  /** auth-params; keys lowercased, values unquoted and unescaped. */
  params: Record<string, string>;
  /** Set when the challenge carries a token68 instead of auth-params (rare in registries). */
  token68?: string;
}

interface Cursor {
  readonly text: string;
  pos: number;
}

// RFC 7230 tchar.
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const UNQUOTED_VALUE_CHAR = /[^,\s"]/;
// RFC 7235 token68 body (padding '=' handled separately).
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

function peek(c: Cursor): string | undefined {
  return c.text[c.pos];
}

function atEnd(c: Cursor): boolean {
  return c.pos >= c.text.length;
}

function skipWhitespace(c: Cursor): void {
  while (peek(c) === ' ' || peek(c) === '\t') c.pos++;
}

/** Skips OWS and empty list elements: RFC 7230 #rule allows `, ,`. */
function skipSeparators(c: Cursor): void {
  while (peek(c) === ' ' || peek(c) === '\t' || peek(c) === ',') c.pos++;
}

function readWhile(c: Cursor, pattern: RegExp): string {
  const start = c.pos;
  while (!atEnd(c) && pattern.test(c.text[c.pos]!)) c.pos++;
  return c.text.slice(start, c.pos);
}

/** Reads a quoted-string starting at `"`; an unterminated one runs to the end of the header. */
function readQuoted(c: Cursor): string {
  let value = '';
  c.pos++; // opening quote
  while (!atEnd(c)) {
    const ch = c.text[c.pos]!;
    if (ch === '\\' && c.pos + 1 < c.text.length) {
      value += c.text[c.pos + 1];
      c.pos += 2;
    } else if (ch === '"') {
      c.pos++;
      return value;
    } else {
      value += ch;
      c.pos++;
    }
  }
  return value;
}

/** Recovery from garbage: jump to the next list comma that is not inside a quoted string. */
function skipToComma(c: Cursor): void {
  while (!atEnd(c) && peek(c) !== ',') {
    if (peek(c) === '"') readQuoted(c);
    else c.pos++;
  }
}

/** True when the cursor is at `token BWS "="`, i.e. an auth-param rather than a new challenge. */
function atParam(c: Cursor): boolean {
  const probe: Cursor = { text: c.text, pos: c.pos };
  if (readWhile(probe, TCHAR) === '') return false;
  skipWhitespace(probe);
  return peek(probe) === '=';
}

/**
 * token68 is accepted only when it is the whole challenge: followed by the end or by a comma and a new
 * challenge. `realm=, service="s"` is an empty param followed by another, not the token68 `realm=`.
 */
function tryToken68(c: Cursor): string | undefined {
  const start = c.pos;
  const body = readWhile(c, TOKEN68_CHAR);
  if (body !== '') {
    const value = body + readWhile(c, /=/);
    skipWhitespace(c);
    if (atEnd(c)) return value;
    if (peek(c) === ',') {
      const probe: Cursor = { text: c.text, pos: c.pos };
      skipSeparators(probe);
      if (!atParam(probe)) return value;
    }
  }
  c.pos = start;
  return undefined;
}

function readParams(c: Cursor): Record<string, string> {
  // A Map keeps the first occurrence and makes `__proto__` an ordinary key.
  const params = new Map<string, string>();
  for (;;) {
    const before = c.pos;
    skipSeparators(c);
    if (!atParam(c)) {
      c.pos = before;
      break;
    }
    const name = readWhile(c, TCHAR).toLowerCase();
    skipWhitespace(c);
    c.pos++; // '='
    skipWhitespace(c);
    // Unquoted values should be tokens, but servers send bare URLs too: read up to the list comma.
    const value = peek(c) === '"' ? readQuoted(c) : readWhile(c, UNQUOTED_VALUE_CHAR);
    if (!params.has(name)) params.set(name, value);
    skipWhitespace(c);
    // Tolerate a missing comma between params; anything else is skipped.
    if (!atEnd(c) && peek(c) !== ',' && !atParam(c)) skipToComma(c);
  }
  return Object.fromEntries(params);
}

/**
 * Parses a WWW-Authenticate value (or several header lines) into challenges.
 * Never throws: unparseable pieces are skipped up to the next comma.
 */
export function parseWwwAuthenticate(header: string | readonly string[]): Challenge[] {
  const text = typeof header === 'string' ? header : header.join(', ');
  const c: Cursor = { text, pos: 0 };
  const challenges: Challenge[] = [];
  for (;;) {
    skipSeparators(c);
    if (atEnd(c)) break;
    const scheme = readWhile(c, TCHAR);
    const next = peek(c);
    if (scheme === '' || (next !== undefined && next !== ' ' && next !== '\t' && next !== ',')) {
      skipToComma(c);
      continue;
    }
    skipWhitespace(c);
    const token68 = tryToken68(c);
    if (token68 !== undefined) {
      challenges.push({ scheme: scheme.toLowerCase(), params: {}, token68 });
    } else {
      challenges.push({ scheme: scheme.toLowerCase(), params: readParams(c) });
    }
  }
  return challenges;
}

export interface Scope {
  /** Resource type, e.g. `repository`, `repository(plugin)`, `registry`. */
  type: string;
  /** Resource name, e.g. `library/alpine` or `catalog`. */
  name: string;
  /** e.g. `pull`, `push`, `delete`, `*`. */
  actions: string[];
}

/**
 * Parses `type:name:actions`. The type ends at the first colon and the actions start after the last,
 * so a name holding `host:port` (allowed by the token spec) survives. Returns undefined when malformed.
 */
export function parseScope(scope: string): Scope | undefined {
  const text = scope.trim();
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const name = text.slice(first + 1, last);
  if (name === '' || /\s/.test(text)) return undefined;
  const actions = text
    .slice(last + 1)
    .split(',')
    .filter((a) => a !== '');
  return { type: text.slice(0, first), name, actions };
}

// Code-unit order, not locale order: the result is used as a cache key.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function formatScope(scope: Scope): string {
  const actions = [...new Set(scope.actions.filter((a) => a !== ''))].sort(compare);
  return `${scope.type}:${scope.name}:${actions.join(',')}`;
}

interface MergeEntry {
  key: string;
  scope?: Scope;
  /** Kept verbatim when the text is not a scope we understand. */
  opaque?: string;
}

function sortedOutput(entries: Iterable<MergeEntry>): string[] {
  return [...entries]
    .sort((a, b) => compare(a.key, b.key))
    .map((e) => (e.scope ? formatScope(e.scope) : e.opaque!));
}

function addScope(entries: Map<string, MergeEntry>, scope: Scope): void {
  const key = `${scope.type}:${scope.name}`;
  const entry = entries.get(key);
  if (entry?.scope) entry.scope.actions.push(...scope.actions);
  else entries.set(key, { key, scope: { ...scope, actions: [...scope.actions] } });
}

/** Merges actions per resource; resources and actions sorted, so the result can be a cache key. */
export function formatScopes(scopes: readonly Scope[]): string[] {
  const entries = new Map<string, MergeEntry>();
  for (const scope of scopes) addScope(entries, scope);
  return sortedOutput(entries.values());
}

/**
 * Merges scope strings (each may hold several space-separated scopes, as in a challenge's `scope`
 * parameter). Unparseable scopes are kept verbatim, once.
 */
export function mergeScopes(scopes: readonly string[]): string[] {
  const entries = new Map<string, MergeEntry>();
  for (const text of scopes) {
    for (const part of text.split(/\s+/)) {
      if (part === '') continue;
      const scope = parseScope(part);
      if (scope) addScope(entries, scope);
      else if (!entries.has(`\0${part}`)) entries.set(`\0${part}`, { key: part, opaque: part });
    }
  }
  return sortedOutput(entries.values());
}
