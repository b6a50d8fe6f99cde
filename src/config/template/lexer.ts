// The lexer of Go text/template: text, actions between {{ and }}, trim markers and comments.

import { isPrint, quote } from '../../go/strconv.js';


export type TokenType =
  | 'error'
  | 'eof'
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'identifier'
  | 'field'
  | 'variable'
  | 'bool'
  | 'number'
  | 'charConstant'
  | 'complex'
  | 'string'
  | 'rawString'
  | 'leftParen'
  | 'rightParen'
  | 'pipe'
  | 'declare'
  | 'assign'
  | 'char'
  // keywords
  | 'dot'
  | 'nil'
  | 'block'
  | 'break'
  | 'continue'
  | 'define'
  | 'else'
  | 'end'
  | 'if'
  | 'range'
  | 'template'
  | 'with';

export interface Token {
  type: TokenType;
  val: string;
  /** Offset of the token in the source. */
  pos: number;
  /** Offset of the `{{` of the action holding the token (the token's own offset for text). */
  action: number;
}

const KEYWORDS = new Map<string, TokenType>([
  ['block', 'block'],
  ['break', 'break'],
  ['continue', 'continue'],
  ['define', 'define'],
  ['else', 'else'],
  ['end', 'end'],
  ['if', 'if'],
  ['range', 'range'],
  ['nil', 'nil'],
  ['template', 'template'],
  ['with', 'with'],
]);

const KEYWORD_TYPES = new Set<TokenType>(['dot', 'nil', 'block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);

/** How Go prints a token in "unexpected ..." messages. */
export function describeToken(t: Token): string {
  if (t.type === 'eof') return 'EOF';
  if (t.type === 'error') return t.val;
  if (KEYWORD_TYPES.has(t.type)) return `<${t.val}>`;
  const cps = Array.from(t.val);
  if (cps.length > 10) return quote(cps.slice(0, 10).join('')) + '...';
  return quote(t.val);
}

/** `%#U` of a code point: U+002D '-'. */
export function describeRune(cp: number): string {
  const code = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
  return isPrint(cp) ? `${code} '${String.fromCodePoint(cp)}'` : code;
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

const ALNUM = /^[\p{L}\p{Nd}_]$/u;

function isAlnumAt(s: string, p: number): number {
  if (p >= s.length) return 0;
  const cp = s.codePointAt(p)!;
  const ch = String.fromCodePoint(cp);
  return ALNUM.test(ch) ? ch.length : 0;
}

/** Tokenises a template. Stops with an 'error' token at the first lexical error. */
export function lex(input: string): Token[] {
  const tokens: Token[] = [];
  const n = input.length;
  let pos = 0;

  const atRightDelim = (p: number): [boolean, boolean] => {
    if (isSpace(input[p]) && input[p + 1] === '-' && input.startsWith('}}', p + 2)) return [true, true];
    if (input.startsWith('}}', p)) return [true, false];
    return [false, false];
  };
  const skipSpaces = (p: number): number => {
    while (p < n && isSpace(input[p])) p++;
    return p;
  };
  const atTerminator = (p: number): boolean => {
    if (p >= n) return true;
    const c = input[p]!;
    return isSpace(c) || '.,|:()=}'.includes(c);
  };
  const scanAlnum = (p: number): number => {
    for (let w = isAlnumAt(input, p); w > 0; w = isAlnumAt(input, p)) p += w;
    return p;
  };

  for (;;) {
    // Text up to the next action.
    const x = input.indexOf('{{', pos);
    if (x < 0) {
      if (pos < n) tokens.push({ type: 'text', val: input.slice(pos), pos, action: pos });
      tokens.push({ type: 'eof', val: '', pos: n, action: n });
      return tokens;
    }
    const leftTrim = input[x + 2] === '-' && isSpace(input[x + 3]);
    let textEnd = x;
    if (leftTrim) while (textEnd > pos && isSpace(input[textEnd - 1])) textEnd--;
    if (textEnd > pos) tokens.push({ type: 'text', val: input.slice(pos, textEnd), pos, action: pos });
    const action = x;
    const fail = (msg: string): Token[] => {
      tokens.push({ type: 'error', val: msg, pos: action, action });
      return tokens;
    };
    let p = x + 2 + (leftTrim ? 2 : 0);

    if (input.startsWith('/*', p)) {
      const end = input.indexOf('*/', p + 2);
      if (end < 0) return fail('unclosed comment');
      p = end + 2;
      const [delim, trim] = atRightDelim(p);
      if (!delim) return fail('comment ends before closing delimiter');
      p += (trim ? 2 : 0) + 2;
      if (trim) p = skipSpaces(p);
      pos = p;
      continue;
    }

    tokens.push({ type: 'leftDelim', val: '{{', pos: x, action });
    let parenDepth = 0;
    const emit = (type: TokenType, start: number, end: number): void => {
      tokens.push({ type, val: input.slice(start, end), pos: start, action });
    };

    for (;;) {
      const [delim, trim] = atRightDelim(p);
      if (delim) {
        if (parenDepth > 0) return fail('unclosed left paren');
        if (trim) p += 2;
        tokens.push({ type: 'rightDelim', val: '}}', pos: p, action });
        p += 2;
        if (trim) p = skipSpaces(p);
        pos = p;
        break;
      }
      if (p >= n) return fail('unclosed action');
      const c = input[p]!;
      const start = p;
      if (isSpace(c)) {
        while (p < n && isSpace(input[p])) p++;
        // Leave the last space for a trim-marked right delimiter (" -}}").
        if (input[p] === '-' && input.startsWith('}}', p + 1)) p--;
        if (p > start) emit('space', start, p);
        continue;
      }
      switch (c) {
        case '=':
          emit('assign', start, ++p);
          continue;
        case ':':
          if (input[p + 1] !== '=') return fail('expected :=');
          p += 2;
          emit('declare', start, p);
          continue;
        case '|':
          emit('pipe', start, ++p);
          continue;
        case '"': {
          p++;
          for (;;) {
            const ch = input[p];
            if (ch === '\\') {
              p++;
              if (p >= n || input[p] === '\n') return fail('unterminated quoted string');
              p++;
              continue;
            }
            if (ch === undefined || ch === '\n') return fail('unterminated quoted string');
            p++;
            if (ch === '"') break;
          }
          emit('string', start, p);
          continue;
        }
        case '`': {
          const end = input.indexOf('`', p + 1);
          if (end < 0) return fail('unterminated raw quoted string');
          p = end + 1;
          emit('rawString', start, p);
          continue;
        }
        case "'": {
          p++;
          for (;;) {
            const ch = input[p];
            if (ch === '\\') {
              p++;
              if (p >= n || input[p] === '\n') return fail('unterminated character constant');
              p++;
              continue;
            }
            if (ch === undefined || ch === '\n') return fail('unterminated character constant');
            p++;
            if (ch === "'") break;
          }
          emit('charConstant', start, p);
          continue;
        }
        case '$': {
          p++;
          if (atTerminator(p)) {
            emit('variable', start, p);
            continue;
          }
          p = scanAlnum(p);
          if (!atTerminator(p)) return fail(`bad character ${describeRune(input.codePointAt(p)!)}`);
          emit('variable', start, p);
          continue;
        }
        case '(':
          parenDepth++;
          emit('leftParen', start, ++p);
          continue;
        case ')':
          parenDepth--;
          emit('rightParen', start, ++p);
          if (parenDepth < 0) return fail(`unexpected right paren ${describeRune(0x29)}`);
          continue;
      }
      if (c === '.' && !(p + 1 < n && input[p + 1]! >= '0' && input[p + 1]! <= '9')) {
        p++;
        if (atTerminator(p)) {
          emit('dot', start, p);
          continue;
        }
        p = scanAlnum(p);
        if (!atTerminator(p)) return fail(`bad character ${describeRune(input.codePointAt(p)!)}`);
        emit('field', start, p);
        continue;
      }
      if (c === '.' || c === '+' || c === '-' || (c >= '0' && c <= '9')) {
        const end = scanNumber(input, p);
        if (end < 0) return fail(`bad number syntax: ${quote(input.slice(start, -end - 1))}`);
        p = end;
        if (input[p] === '+' || input[p] === '-') {
          const end2 = scanNumber(input, p);
          if (end2 < 0 || input[end2 - 1] !== 'i') {
            return fail(`bad number syntax: ${quote(input.slice(start, end2 < 0 ? -end2 - 1 : end2))}`);
          }
          p = end2;
          emit('complex', start, p);
        } else {
          emit('number', start, p);
        }
        continue;
      }
      if (isAlnumAt(input, p) > 0) {
        p = scanAlnum(p);
        if (!atTerminator(p)) return fail(`bad character ${describeRune(input.codePointAt(p)!)}`);
        const word = input.slice(start, p);
        const kw = KEYWORDS.get(word);
        if (kw) emit(kw, start, p);
        else if (word === 'true' || word === 'false') emit('bool', start, p);
        else emit('identifier', start, p);
        continue;
      }
      const cp = input.codePointAt(p)!;
      if (cp < 0x7f && isPrint(cp)) {
        emit('char', start, ++p);
        continue;
      }
      return fail(`unrecognized character in action: ${describeRune(cp)}`);
    }
  }
}

/**
 * Scans a number the way Go's lexer does (sign, 0x/0o/0b prefixes, underscores, fraction, exponent, 'i').
 * Returns the end offset, or -(end+1) when the number runs into an alphanumeric character.
 */
function scanNumber(s: string, p: number): number {
  const accept = (valid: string): boolean => {
    if (p < s.length && valid.includes(s[p]!)) {
      p++;
      return true;
    }
    return false;
  };
  const acceptRun = (valid: string): void => {
    while (p < s.length && valid.includes(s[p]!)) p++;
  };
  accept('+-');
  let digits = '0123456789_';
  if (accept('0')) {
    if (accept('xX')) digits = '0123456789abcdefABCDEF_';
    else if (accept('oO')) digits = '01234567_';
    else if (accept('bB')) digits = '01_';
  }
  acceptRun(digits);
  if (accept('.')) acceptRun(digits);
  if (digits.length === 11 && accept('eE')) {
    accept('+-');
    acceptRun('0123456789_');
  }
  if (digits.length === 23 && accept('pP')) {
    accept('+-');
    acceptRun('0123456789_');
  }
  accept('i');
  const w = isAlnumAt(s, p);
  if (w > 0) return -(p + w + 1);
  return p;
}
