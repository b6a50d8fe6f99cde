// Go's strconv, the parts Slipway needs to print values as werf (a Go program) does:
//   - quote, quoteToASCII, quoteRune, quoteRuneToASCII (strconv.Quote, QuoteToASCII, QuoteRune,
//     QuoteRuneToASCII): what `%q` prints, in werf's error messages and in Go templates;
//   - canBackquote (strconv.CanBackquote) and isPrint (strconv.IsPrint, i.e. unicode.IsPrint): for `%#q`, `%#U`
//     and the template lexer.
// Source: src/strconv/quote.go in golang/go. One implementation, because two copies had drifted (one escaped a
// lone surrogate as `\ud800`, which Go never prints).
//
// A JavaScript string is UTF-16, a Go string UTF-8 bytes. A lone surrogate, which no Go string can hold, is
// written `\ufffd`: the replacement character its UTF-8 encoding becomes, escaped so that it stays visible.
// Leaf module: imports nothing from the rest of src.

// Made on first use: V8 builds the Unicode property classes when the literal is evaluated (~3 ms at start-up).
let printable: RegExp | undefined;

/** Go's strconv.IsPrint (= unicode.IsPrint): letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(cp: number): boolean {
  if (cp === 0x20) return true;
  if (cp < 0x20 || cp === 0x7f) return false;
  if (cp < 0x7f) return true;
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  if (cp > 0x10ffff || cp < 0) return false;
  printable ??= /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
  return printable.test(String.fromCodePoint(cp));
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

// strconv.appendEscapedRune
function escapeRune(cp: number, quote: string, asciiOnly: boolean): string {
  const ch = String.fromCodePoint(cp);
  if (ch === quote || ch === '\\') return '\\' + ch;
  if (asciiOnly ? cp < 0x7f && isPrint(cp) : isPrint(cp)) return ch;
  switch (cp) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
  }
  if (cp < 0x20 || cp === 0x7f) return '\\x' + hex(cp, 2);
  if (cp >= 0xd800 && cp <= 0xdfff) return '\\ufffd'; // a lone surrogate: not a code point Go can hold
  if (cp < 0x10000) return '\\u' + hex(cp, 4);
  return '\\U' + hex(cp, 8);
}

/**
 * strconv.Quote: double quotes; `\"` and `\\`; `\a \b \f \n \r \t \v`; `\xNN` for the other ASCII control
 * characters and DEL; `\uNNNN` / `\UNNNNNNNN` for other non-printable code points (U+00A0, U+00AD, U+2028, ...);
 * printable code points as they are.
 */
export function quote(s: string): string {
  return quoteWith(s, false);
}

/** strconv.QuoteToASCII: quote(), and every non-ASCII code point escaped too. */
export function quoteToASCII(s: string): string {
  return quoteWith(s, true);
}

function quoteWith(s: string, asciiOnly: boolean): string {
  let out = '"';
  for (const ch of s) out += escapeRune(ch.codePointAt(0)!, '"', asciiOnly);
  return out + '"';
}

/** strconv.QuoteRune; an invalid code point is quoted as U+FFFD, as Go does. */
export function quoteRune(cp: number): string {
  return quoteRuneWith(cp, false);
}

/** strconv.QuoteRuneToASCII. */
export function quoteRuneToASCII(cp: number): string {
  return quoteRuneWith(cp, true);
}

function quoteRuneWith(cp: number, asciiOnly: boolean): string {
  if (cp > 0x10ffff || cp < 0 || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  return "'" + escapeRune(cp, "'", asciiOnly) + "'";
}

/** strconv.CanBackquote: no backquote, no BOM, no control character other than tab. */
export function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '`' || cp === 0xfeff) return false;
    if ((cp < 0x20 && cp !== 0x09) || cp === 0x7f) return false;
  }
  return true;
}
