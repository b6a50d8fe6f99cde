// Word expansion as BuildKit's Dockerfile shell lexer does it (moby/buildkit frontend/dockerfile/shell/lex.go,
// `ProcessWord` and `ProcessWords`): `$VAR`, `${VAR}`, `${VAR:-w}`, `${VAR-w}`, `${VAR:+w}`, `${VAR+w}`,
// `${VAR:?msg}`, `${VAR?msg}`, `${VAR#pat}`, `${VAR##pat}`, `${VAR%pat}`, `${VAR%%pat}`, `${VAR/pat/rep}`,
// `${VAR//pat/rep}`; single quotes literal; double quotes with `\"`, `\$` and `\\` escapes; the escape
// character (`\` or the Dockerfile's `# escape=` backtick) escapes any character outside quotes; unset
// variables expand to the empty string. Pure: no I/O, no process environment.

import { ShellExpansionError } from './errors.js';

/** Variables for expansion: a Map or a plain record (own properties only; `constructor` is not a variable). */
export type ExpansionEnv = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export interface ShellLexOptions {
  /** The escape character: `\` (default) or a backtick. */
  escape?: string;
  /** Keep quote characters in the result (BuildKit's RawQuotes). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result (BuildKit's RawEscapes). */
  rawEscapes?: boolean;
  /** Quotes are ordinary characters (BuildKit's SkipProcessQuotes; used for heredoc content). */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written (BuildKit's SkipUnsetEnv). */
  skipUnsetEnv?: boolean;
}

export interface ShellProcessResult {
  /** The word after expansion, whitespace kept (ProcessWord). */
  result: string;
  /** The word split on unquoted whitespace after expansion (ProcessWords). */
  words: string[];
  /** Variables that were looked up and found. */
  matched: Set<string>;
  /** Variables that were looked up and not set. */
  unmatched: Set<string>;
}

// Go's unicode.IsSpace: the Latin-1 spaces plus the Unicode White_Space property.
const SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u;
const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;

function isSpace(ch: string): boolean {
  return SPACE.test(ch);
}

function isSpecialParam(ch: string): boolean {
  return ch === '@' || ch === '*' || ch === '#' || ch === '?' || ch === '-' || ch === '$' || ch === '!' || ch === '0';
}

function lookup(env: ExpansionEnv, name: string): string | undefined {
  if (env instanceof Map) return env.get(name);
  const record = env as Readonly<Record<string, string>>;
  return Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined;
}

class Words {
  private word = '';
  private inWord = false;
  private readonly words: string[] = [];

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length !== 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }

  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }

  addString(str: string): void {
    for (const ch of str) this.addChar(ch);
  }

  addRawString(str: string): void {
    this.word += str;
    this.inWord = true;
  }

  getWords(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}

/** One run of the lexer over one word (BuildKit's shellWord). */
class ShellWord {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    source: string,
    private readonly env: ExpansionEnv,
    private readonly opts: Required<ShellLexOptions>,
  ) {
    this.chars = Array.from(source);
    this.rawEscapes = opts.rawEscapes;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    const ch = this.chars[this.pos];
    if (ch !== undefined) this.pos++;
    return ch;
  }

  process(): { result: string; words: string[] } {
    return this.processStopOn(undefined, this.rawEscapes);
  }

  private processStopOn(stopChar: string | undefined, rawEscapes: boolean): { result: string; words: string[] } {
    let result = '';
    const words = new Words();
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
        if (stopChar !== undefined && ch === stopChar) {
          this.next();
          return { result, words: words.getWords() };
        }
        if (ch === '$') {
          const tmp = this.processDollar();
          result += tmp;
          words.addString(tmp);
        } else if (!this.opts.skipProcessQuotes && (ch === "'" || ch === '"')) {
          const tmp = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else {
          let c = this.next()!;
          if (c === this.opts.escape) {
            if (this.rawEscapes) {
              words.addRawChar(c);
              result += c;
            }
            const escaped = this.next();
            if (escaped === undefined) break; // an escape at the very end is dropped
            c = escaped;
            words.addRawChar(c);
          } else {
            words.addChar(c);
          }
          result += c;
        }
      }
      if (stopChar !== undefined) {
        throw new ShellExpansionError(`unexpected end of statement while looking for matching ${stopChar}`);
      }
      return { result, words: words.getWords() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    // Everything up to the next ' is literal; a ' cannot be escaped inside.
    let result = '';
    const open = this.next()!;
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new ShellExpansionError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    // Literal up to the next ", except $ expansions; the escape character escapes only " $ and itself.
    let result = '';
    const open = this.next()!;
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const peek = this.peek();
      if (peek === undefined) throw new ShellExpansionError('unexpected end of statement while looking for matching double-quote');
      if (peek === '"') {
        const ch = this.next()!;
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      if (peek === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next()!;
      if (ch === this.opts.escape) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === undefined) continue; // reported as a missing quote on the next turn
        if (after === '"' || after === '$' || after === this.opts.escape) ch = this.next()!;
      }
      result += ch;
    }
  }

  private getEnv(name: string): { value: string; set: boolean } {
    const value = lookup(this.env, name);
    if (value === undefined) {
      this.unmatched.add(name);
      return { value: '', set: false };
    }
    this.matched.add(name);
    return { value, set: true };
  }

  private processName(): string {
    let name = '';
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name.length === 0 && DIGIT.test(ch)) {
        while (this.peek() !== undefined && DIGIT.test(this.peek()!)) name += this.next()!;
        return name;
      }
      if (name.length === 0 && isSpecialParam(ch)) return this.next()!;
      if (!LETTER.test(ch) && !DIGIT.test(ch) && ch !== '_') break;
      name += this.next()!;
    }
    return name;
  }

  private processDollar(): string {
    this.next(); // $
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const { value, set } = this.getEnv(name);
      if (!set && this.opts.skipUnsetEnv) return '$' + name;
      return value;
    }
    this.next(); // {
    const first = this.peek();
    if (first === undefined) throw new ShellExpansionError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new ShellExpansionError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    if (ch === undefined) throw new ShellExpansionError("syntax error: missing '}'");
    let chs = ch;
    let nullIsUnset = false;

    if (ch === '}') {
      const { value, set } = this.getEnv(name);
      if (!set && this.opts.skipUnsetEnv) return `\${${name}}`;
      return value;
    }

    if (ch === ':' || ch === '+' || ch === '-' || ch === '?' || ch === '#' || ch === '%') {
      if (ch === ':') {
        nullIsUnset = true;
        ch = this.next();
        chs += ch ?? '';
      }
      const rawEscapes = ch === '#' || ch === '%';
      let word: string;
      try {
        word = this.processStopOn('}', rawEscapes).result;
      } catch (err) {
        if (this.peek() === undefined) throw new ShellExpansionError("syntax error: missing '}'");
        throw err;
      }
      const { value, set } = this.getEnv(name);
      if (this.opts.skipUnsetEnv && !set) return `\${${name}${chs}${word}}`;
      switch (ch) {
        case '-':
          return !set || (nullIsUnset && value === '') ? word : value;
        case '+':
          return !set || (nullIsUnset && value === '') ? '' : word;
        case '?':
          if (!set) throw new ShellExpansionError(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
          if (nullIsUnset && value === '') throw new ShellExpansionError(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
          return value;
        case '%':
        case '#': {
          // # and % remove the shortest match, ## and %% the longest.
          const greedy = word.startsWith(ch);
          const pattern = greedy ? word.slice(1) : word;
          return ch === '%' ? trimSuffix(pattern, value, greedy) : trimPrefix(pattern, value, greedy);
        }
        default:
          throw new ShellExpansionError(`unsupported modifier (${chs}) in substitution`);
      }
    }

    if (ch === '/') {
      const replaceAll = this.peek() === '/';
      if (replaceAll) this.next();
      let pattern: string;
      try {
        pattern = this.processStopOn('/', true).result;
      } catch (err) {
        if (this.peek() === undefined) throw new ShellExpansionError("syntax error: missing '/' in ${}");
        throw err;
      }
      let replacement: string;
      try {
        replacement = this.processStopOn('}', true).result;
      } catch (err) {
        if (this.peek() === undefined) throw new ShellExpansionError("syntax error: missing '}'");
        throw err;
      }
      const { value, set } = this.getEnv(name);
      if (this.opts.skipUnsetEnv && !set) return `\${${name}/${pattern}/${replacement}}`;
      const re = shellPatternToRegExp(pattern, true, false, replaceAll);
      return value.replace(re, () => replacement);
    }

    throw new ShellExpansionError(`unsupported modifier (${chs}) in substitution`);
  }
}

/**
 * A shell-like wildcard pattern (`?` one character, `*` any string; `\` escapes `*`, `?` and `\`) as a regular
 * expression, as BuildKit's convertShellPatternToRegex (no bracket expressions).
 */
function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  const star = greedy ? '.*' : '.*?';
  for (let i = 0; i < chars.length; i++) {
    let tok = chars[i]!;
    switch (tok) {
      case '*':
        out += star;
        continue;
      case '?':
        out += '.';
        continue;
      case '\\': {
        // `}` and `/` are escaped inside ${...}, but the escape is not part of the pattern.
        const peek = chars[i + 1];
        if (peek === '}' || peek === '/') continue;
        out += '\\';
        i++;
        tok = chars[i] ?? '';
        if (tok !== '*' && tok !== '?' && tok !== '\\') {
          throw new ShellExpansionError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${tok}'`);
        }
        break;
      }
      case '[':
      case ']':
      case '{':
      case '}':
      case '.':
      case '+':
      case '(':
      case ')':
      case '|':
      case '^':
      case '$':
        out += '\\';
        break;
    }
    out += tok;
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

// Reverses a pattern without reversing its escapes: a\*c becomes c\*a.
function reversePattern(pattern: string): string {
  const runes = Array.from(pattern);
  const out = new Array<string>(runes.length);
  const last = runes.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = runes[i]!;
    const outIdx = last - i;
    if (tok === '\\' && i !== last) {
      out[outIdx - 1] = tok;
      out[outIdx] = runes[i + 1]!;
      i += 2;
    } else {
      out[outIdx] = tok;
      i++;
    }
  }
  return out.join('');
}

function reverseString(s: string): string {
  return Array.from(s).reverse().join('');
}

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // A regular expression cannot find the shortest rightmost match, so search the reversed string.
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/** BuildKit's shell.Lex: expands one word with the given options. */
export class ShellLex {
  private readonly opts: Required<ShellLexOptions>;

  constructor(options: ShellLexOptions = {}) {
    const escape = options.escape ?? '\\';
    if (Array.from(escape).length !== 1) throw new ShellExpansionError(`invalid escape character "${escape}"`);
    this.opts = {
      escape,
      rawQuotes: options.rawQuotes ?? false,
      rawEscapes: options.rawEscapes ?? false,
      skipProcessQuotes: options.skipProcessQuotes ?? false,
      skipUnsetEnv: options.skipUnsetEnv ?? false,
    };
  }

  /** Expands `word`; throws ShellExpansionError with BuildKit's message (`failed to process "w": ...`). */
  process(word: string, env: ExpansionEnv): ShellProcessResult {
    const sw = new ShellWord(word, env, this.opts);
    try {
      const { result, words } = sw.process();
      return { result, words, matched: sw.matched, unmatched: sw.unmatched };
    } catch (err) {
      if (err instanceof ShellExpansionError) {
        throw new ShellExpansionError(`failed to process "${word}": ${err.message}`, { cause: err });
      }
      throw err;
    }
  }
}

/**
 * Expands one word (BuildKit's ProcessWord): variables substituted, quotes and escapes removed, whitespace
 * kept. Used for most instruction arguments (COPY sources, ENV values, WORKDIR, ...).
 */
export function expandWord(word: string, env: ExpansionEnv, escape = '\\'): string {
  return new ShellLex({ escape }).process(word, env).result;
}

/**
 * Expands a word and splits it on unquoted whitespace (BuildKit's ProcessWords), as EXPOSE does:
 * `"a b" c` gives `a b` and `c`; a variable's value is split too unless quoted.
 */
export function expandWords(word: string, env: ExpansionEnv, escape = '\\'): string[] {
  return new ShellLex({ escape }).process(word, env).words;
}
