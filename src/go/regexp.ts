// Go's regexp (RE2 syntax, src/regexp in golang/go) on top of JavaScript's RegExp, with Go's matching loops
// (FindAll, ReplaceAll, Split, QuoteMeta) for the template functions, and compile() / compileAnchored() for
// werf's `/regex/` config values.
//
// The translation covers what templates and werf configs use: leading (?i)/(?s)/(?m) flag groups, (?P<name>),
// \A \z, POSIX classes [[:alpha:]], \Q...\E, \pL, escaped punctuation, literal { } ], and ASCII-only \s. It
// rejects what it cannot express (flag groups in the middle, (?U), backreferences, which RE2 does not have either).
// Leaf module: imports nothing from the rest of src.

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const JS_SYNTAX = '^$\\.*+?()[]{}|/';
const S_CLASS = '\\t\\n\\f\\r ';

function escapeLiteral(ch: string, inClass: boolean): string {
  if (JS_SYNTAX.includes(ch) || (inClass && ch === '-')) return '\\' + ch;
  return ch;
}

function unicodeClass(name: string, negated: boolean): string {
  const p = negated ? 'P' : 'p';
  if (/^[A-Z][a-z]?$/.test(name)) return `\\${p}{${name}}`;
  if (name === 'Any') return negated ? '[^\\s\\S]' : '[\\s\\S]';
  return `\\${p}{Script=${name}}`;
}

export class RegexpSyntaxError extends Error {}

/** Translates an RE2 pattern to a JavaScript RegExp (flags 'gu' plus the pattern's own). */
export function compileGoRegexp(pattern: string): RegExp {
  let flags = 'gu';
  let src = pattern;
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    if (lead[1]!.includes('U')) throw new RegexpSyntaxError(`unsupported flag U in ${pattern}`);
    for (const f of new Set(lead[1]!)) flags += f;
    src = src.slice(lead[0].length);
  }
  const multiline = flags.includes('m');
  let out = '';
  let inClass = false;
  let classStart = false;
  for (let i = 0; i < src.length; ) {
    const ch = src[i]!;
    if (ch === '\\') {
      const e = src[i + 1];
      if (e === undefined) throw new RegexpSyntaxError(`trailing backslash at end of expression`);
      i += 2;
      classStart = false;
      if (e === 'Q') {
        const end = src.indexOf('\\E', i);
        const lit = end < 0 ? src.slice(i) : src.slice(i, end);
        for (const c of lit) out += escapeLiteral(c, inClass);
        i = end < 0 ? src.length : end + 2;
        continue;
      }
      if (e === 'A' && !inClass) {
        out += multiline ? '(?<![\\s\\S])' : '^';
        continue;
      }
      if (e === 'z' && !inClass) {
        out += '(?![\\s\\S])';
        continue;
      }
      if (e === 's') {
        out += inClass ? S_CLASS : `[${S_CLASS}]`;
        continue;
      }
      if (e === 'S') {
        if (inClass) throw new RegexpSyntaxError(`\\S inside a character class is not supported`);
        out += `[^${S_CLASS}]`;
        continue;
      }
      if (e === 'p' || e === 'P') {
        let name: string;
        if (src[i] === '{') {
          const end = src.indexOf('}', i);
          if (end < 0) throw new RegexpSyntaxError(`invalid character class range in ${pattern}`);
          name = src.slice(i + 1, end);
          i = end + 1;
        } else {
          name = src[i] ?? '';
          i++;
        }
        let negated = e === 'P';
        if (name.startsWith('^')) {
          negated = !negated;
          name = name.slice(1);
        }
        out += unicodeClass(name, negated);
        continue;
      }
      if (e === 'x') {
        if (src[i] === '{') {
          const end = src.indexOf('}', i);
          out += `\\u{${src.slice(i + 1, end)}}`;
          i = end + 1;
        } else {
          out += '\\x' + src.slice(i, i + 2);
          i += 2;
        }
        continue;
      }
      if (e >= '0' && e <= '7') {
        let digits = e;
        while (digits.length < 3 && src[i]! >= '0' && src[i]! <= '7') digits += src[i++];
        if (digits !== '0' && digits.length === 1 && e !== '0') throw new RegexpSyntaxError(`invalid escape sequence: \\${e}`);
        out += `\\u{${parseInt(digits, 8).toString(16)}}`;
        continue;
      }
      if (e === 'a') {
        out += '\\x07';
        continue;
      }
      if ('dDwWbBfnrtv'.includes(e)) {
        out += '\\' + e;
        continue;
      }
      if (/[\p{L}\p{N}_]/u.test(e)) throw new RegexpSyntaxError(`invalid escape sequence: \\${e}`);
      out += escapeLiteral(e, inClass);
      continue;
    }
    if (inClass) {
      if (ch === ']' && !classStart) {
        inClass = false;
        out += ']';
        i++;
        continue;
      }
      if (src.startsWith('[:', i)) {
        const end = src.indexOf(':]', i + 2);
        const name = end < 0 ? '' : src.slice(i + 2, end);
        const cls = Object.prototype.hasOwnProperty.call(POSIX, name) ? POSIX[name] : undefined;
        if (cls) {
          out += cls;
          i = end + 2;
          classStart = false;
          continue;
        }
      }
      classStart = false;
      const cp = String.fromCodePoint(src.codePointAt(i)!);
      out += ch === '[' || ch === ']' || ch === '/' ? '\\' + ch : cp;
      i += cp.length;
      continue;
    }
    switch (ch) {
      case '[':
        inClass = true;
        classStart = true;
        out += '[';
        i++;
        if (src[i] === '^') {
          out += '^';
          i++;
        }
        continue;
      case '(':
        if (src.startsWith('(?P<', i)) {
          out += '(?<';
          i += 4;
          continue;
        }
        if (src.startsWith('(?', i) && !src.startsWith('(?:', i) && !(src.startsWith('(?<', i) && !src.startsWith('(?<=', i) && !src.startsWith('(?<!', i))) {
          throw new RegexpSyntaxError(`unsupported group syntax in ${pattern}`);
        }
        out += ch;
        i++;
        continue;
      case '{': {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
        if (m && out.length > 0) {
          out += m[0];
          i += m[0].length;
        } else {
          out += '\\{';
          i++;
        }
        continue;
      }
      case '}':
      case ']':
      case '/':
        out += '\\' + ch;
        i++;
        continue;
    }
    const cp = String.fromCodePoint(src.codePointAt(i)!);
    out += cp;
    i += cp.length;
  }
  if (inClass) throw new RegexpSyntaxError(`missing closing ]: ${pattern}`);
  try {
    return new RegExp(out, flags);
  } catch (e) {
    throw new RegexpSyntaxError(`error parsing regexp ${pattern}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function runeWidth(s: string, pos: number): number {
  if (pos >= s.length) return 0;
  return s.codePointAt(pos)! > 0xffff ? 2 : 1;
}

function execAt(re: RegExp, s: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(s);
}

/** Go's FindAll loop: at most n matches (all when n < 0); no empty match right after a match. */
export function findAll(re: RegExp, s: string, n: number): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  if (n === 0) return out;
  let pos = 0;
  let prevEnd = -1;
  while ((n < 0 || out.length < n) && pos <= s.length) {
    const m = execAt(re, s, pos);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    let accept = true;
    if (end === pos) {
      if (start === prevEnd) accept = false;
      const w = runeWidth(s, pos);
      pos = w > 0 ? pos + w : s.length + 1;
    } else {
      pos = end;
    }
    prevEnd = end;
    if (accept) out.push(m);
  }
  return out;
}

/** Go's Regexp.Expand for a replacement template ($1, ${1}, $name, ${name}, $$). */
function expand(template: string, m: RegExpExecArray): string {
  let out = '';
  let t = template;
  for (;;) {
    const i = t.indexOf('$');
    if (i < 0) break;
    out += t.slice(0, i);
    t = t.slice(i + 1);
    if (t.startsWith('$')) {
      out += '$';
      t = t.slice(1);
      continue;
    }
    const brace = t.startsWith('{');
    const body = brace ? t.slice(1) : t;
    const name = /^[\p{L}\p{Nd}_]*/u.exec(body)![0];
    if (name === '' || (brace && body[name.length] !== '}')) {
      out += '$';
      continue;
    }
    t = body.slice(name.length + (brace ? 1 : 0));
    let value: string | undefined;
    if (/^\d+$/.test(name)) value = m[Number(name)];
    else value = m.groups?.[name];
    out += value ?? '';
  }
  return out + t;
}

/** Go's ReplaceAllString (expand = true) or ReplaceAllLiteralString. */
export function replaceAll(re: RegExp, src: string, repl: string, expandTemplate: boolean): string {
  let out = '';
  let lastEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    const m = execAt(re, src, searchPos);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += src.slice(lastEnd, start);
    if (end > lastEnd || start === 0) out += expandTemplate ? expand(repl, m) : repl;
    lastEnd = end;
    const w = runeWidth(src, searchPos);
    if (searchPos + w > end) searchPos += w;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + src.slice(lastEnd);
}

/** Go's Regexp.Split. */
export function split(re: RegExp, s: string, n: number, patternEmpty: boolean): string[] {
  if (n === 0) return [];
  if (!patternEmpty && s.length === 0) return [''];
  const matches = findAll(re, s, n);
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of matches) {
    if (n > 0 && out.length === n - 1) break;
    end = m.index;
    if (m.index + m[0].length !== 0) out.push(s.slice(beg, end));
    beg = m.index + m[0].length;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

/** regexp.QuoteMeta. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/**
 * Go's `regexp.Compile(pattern)`, for MatchString: a JavaScript RegExp without the global flag, so that `test()`
 * keeps no state between calls. Throws RegexpSyntaxError.
 */
export function compile(pattern: string): RegExp {
  const re = compileGoRegexp(pattern);
  return new RegExp(re.source, re.flags.replace('g', ''));
}

/**
 * Go's `regexp.Compile("^" + body + "$")`: the body is pasted between the anchors as text, not wrapped in a
 * group, so `a|b` gives `^a|b$` (a name that starts with `a` or ends with `b`), exactly as in Go. A leading flag
 * group of the body, which Go applies from where it stands, is moved in front (the translation accepts flags
 * only there), with `\A` for the `^` it must not turn into a line anchor under `(?m)`.
 */
export function compileAnchored(body: string): RegExp {
  const lead = /^\(\?[imsU]+\)/.exec(body);
  if (lead === null) return compile(`^${body}$`);
  return compile(`${lead[0]}\\A${body.slice(lead[0].length)}$`);
}
