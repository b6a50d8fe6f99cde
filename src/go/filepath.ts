// Go's path/filepath.Match on Unix (src/path/filepath/match.go in golang/go): the separator is `/`, `\` escapes.
// Used for werf's IMAGE_NAME arguments (werf's config.NewImagesToProcess calls filepath.Match) and for the
// wildcards of Dockerfile COPY/ADD sources (BuildKit matches them with filepath.Match).
//
// Go's syntax: `*` (any run of non-separators), `?` (one non-separator), `[...]` (a class: `lo-hi` ranges,
// `\` escapes, negated by a leading `^` only: `[!a]` is a class of `!` and `a`, not a negation; a class can
// match `/`), and `\x` (a literal x). A malformed pattern is an error even where the name does not match.
// A regex approximation used to stand in for this in the build context; it took `[!a]` as a negation.
// Leaf module: imports nothing from the rest of src.

const SEPARATOR = '/';

/** Go's filepath.ErrBadPattern. */
export class BadPatternError extends Error {
  constructor() {
    super('syntax error in pattern');
  }
}

interface Chunk {
  star: boolean;
  chunk: string[];
  rest: string[];
}

function scanChunk(pattern: string[]): Chunk {
  let star = false;
  while (pattern.length > 0 && pattern[0] === '*') {
    pattern = pattern.slice(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  scan: for (; i < pattern.length; i++) {
    switch (pattern[i]) {
      case '\\':
        // The error for a trailing backslash is reported by matchChunk.
        if (i + 1 < pattern.length) i++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
        break;
    }
  }
  return { star, chunk: pattern.slice(0, i), rest: pattern.slice(i) };
}

function getEsc(chunk: string[]): { r: string; rest: string[] } {
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') throw new BadPatternError();
  if (chunk[0] === '\\') {
    chunk = chunk.slice(1);
    if (chunk.length === 0) throw new BadPatternError();
  }
  const r = chunk[0]!;
  const rest = chunk.slice(1);
  if (rest.length === 0) throw new BadPatternError();
  return { r, rest };
}

/** Matches `chunk` at the start of `s`: the rest of `s`, or undefined. Throws BadPatternError. */
function matchChunk(chunk: string[], s: string[]): string[] | undefined {
  // After a failure the loop goes on through the chunk, only to check that it is well formed.
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const head = chunk[0]!;
    if (head === '[') {
      let r = '';
      if (!failed) {
        r = s[0]!;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
      let negated = false;
      if (chunk.length > 0 && chunk[0] === '^') {
        negated = true;
        chunk = chunk.slice(1);
      }
      let match = false;
      let ranges = 0;
      for (;;) {
        if (chunk.length > 0 && chunk[0] === ']' && ranges > 0) {
          chunk = chunk.slice(1);
          break;
        }
        const lo = getEsc(chunk);
        chunk = lo.rest;
        let hi = lo.r;
        if (chunk[0] === '-') {
          const high = getEsc(chunk.slice(1));
          hi = high.r;
          chunk = high.rest;
        }
        const code = r.codePointAt(0) ?? 0;
        if ((lo.r.codePointAt(0) ?? 0) <= code && code <= (hi.codePointAt(0) ?? 0) && !failed) match = true;
        ranges++;
      }
      if (match === negated) failed = true;
    } else if (head === '?') {
      if (!failed) {
        if (s[0] === SEPARATOR) failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    } else {
      if (head === '\\') {
        chunk = chunk.slice(1);
        if (chunk.length === 0) throw new BadPatternError();
      }
      if (!failed) {
        if (chunk[0] !== s[0]) failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    }
  }
  return failed ? undefined : s;
}

/**
 * Go's `filepath.Match(pattern, name)` on Unix. Throws BadPatternError (Go's message, `syntax error in pattern`)
 * for a malformed pattern, which Go reports even when the name does not match.
 */
export function match(patternText: string, nameText: string): boolean {
  let pattern = [...patternText];
  let name = [...nameText];
  outer: while (pattern.length > 0) {
    const { star, chunk, rest } = scanChunk(pattern);
    pattern = rest;
    if (star && chunk.length === 0) {
      // A trailing * matches the rest of the name unless it has a separator.
      return !name.includes(SEPARATOR);
    }
    const t = matchChunk(chunk, name);
    // The last chunk must exhaust the name; otherwise a star may still match more.
    if (t !== undefined && (t.length === 0 || pattern.length > 0)) {
      name = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < name.length && name[i] !== SEPARATOR; i++) {
        const skipped = matchChunk(chunk, name.slice(i + 1));
        if (skipped !== undefined) {
          if (pattern.length === 0 && skipped.length > 0) continue;
          name = skipped;
          continue outer;
        }
      }
    }
    // No match: still report a malformed remainder, as Go does.
    while (pattern.length > 0) {
      const next = scanChunk(pattern);
      pattern = next.rest;
      matchChunk(next.chunk, []);
    }
    return false;
  }
  return name.length === 0;
}
