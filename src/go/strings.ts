// Go's strings package, the parts Slipway needs to split and order strings as werf (a Go program) does:
//   - split / splitN (strings.Split, strings.SplitN): an empty separator splits after each UTF-8 sequence, i.e.
//     into code points (JavaScript's `split('')` splits into UTF-16 code units, cutting astral characters in two),
//     and an empty string splits into no parts at all with an empty separator, into `[""]` otherwise;
//   - compare (strings.Compare, and the order of Go's `<` on strings, hence sort.Strings and sorted map keys):
//     Go compares the UTF-8 bytes. JavaScript's `<` compares UTF-16 code units, which differs for astral
//     characters: U+FF5E `～` < U+1F600 `😀` in Go, but "\uff5e" > "\ud83d\ude00" in JavaScript.
// Source: src/strings/strings.go in golang/go.
// Leaf module: imports nothing from the rest of src.

/** strings.SplitN: `n < 0` all parts, `n === 0` none, otherwise at most `n` (the last holds the rest). */
export function splitN(s: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  if (sep === '') {
    const cps = Array.from(s);
    if (n < 0 || n >= cps.length) return cps;
    return [...cps.slice(0, n - 1), cps.slice(n - 1).join('')];
  }
  const parts = s.split(sep);
  if (n < 0 || n >= parts.length) return parts;
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

/** strings.Split: every part (see splitN). */
export function split(s: string, sep: string): string[] {
  return splitN(s, sep, -1);
}

/**
 * strings.Compare: -1, 0 or 1 by the UTF-8 bytes of the strings (Go's `<`). Usable as a sort comparator: it is
 * sort.Strings' order. For well-formed strings, UTF-8 byte order is code point order; comparing code units
 * only goes wrong when a surrogate (an astral character) meets a BMP code unit at or above U+E000, which sorts
 * before it in code point order. No string is encoded.
 */
export function compare(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}
