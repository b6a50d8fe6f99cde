// Globs: doublestar v4 matching (`*`, `?`, `[...]`, `{a,b}`, `**`), and werf's path matcher (pkg/path_matcher)
// on top of it: a glob also matches everything below a directory it matches, so `conf`, `conf/*` and `conf/**`
// all match `conf/a/b.txt` (werf trims trailing `*` segments and appends `**/*`). `*.tmpl` matches only at the
// top; `**/*.txt` at any depth. `*` matches dotfiles. Paths are posix, relative.

import path from 'node:path';
import { ConfigError } from '../errors.js';

type Segment = { kind: 'globstar' } | { kind: 'literal'; text: string } | { kind: 'pattern'; re: RegExp };

class BadPattern extends Error {}

const MAX_BRACE_EXPANSIONS = 4096;

/** Index of the `]` closing the class opened at `start`, or -1. Go's rule: a `]` right after `[`/`[^` is literal. */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^' || pattern[i] === '!') i++;
  if (pattern[i] === ']') i++;
  for (; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === ']') return i;
  }
  return -1;
}

function expandBraces(pattern: string, out: string[] = []): string[] {
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
    } else if (c === '[') {
      const end = classEnd(pattern, i);
      if (end < 0) throw new BadPattern('unclosed "["');
      i = end;
    } else if (c === '{') {
      open = i;
      break;
    } else if (c === '}') {
      throw new BadPattern('unmatched "}"');
    }
  }
  if (open < 0) {
    if (out.length >= MAX_BRACE_EXPANSIONS) throw new BadPattern('too many {…} alternatives');
    out.push(pattern);
    return out;
  }
  const bounds = [open];
  let depth = 0;
  let close = -1;
  for (let i = open; i < pattern.length && close < 0; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
    } else if (c === '[') {
      const end = classEnd(pattern, i);
      if (end < 0) throw new BadPattern('unclosed "["');
      i = end;
    } else if (c === '{') {
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) close = i;
    } else if (c === ',' && depth === 1) {
      bounds.push(i);
    }
  }
  if (close < 0) throw new BadPattern('unclosed "{"');
  bounds.push(close);
  const prefix = pattern.slice(0, open);
  const suffix = pattern.slice(close + 1);
  for (let k = 0; k + 1 < bounds.length; k++) {
    const alternative = pattern.slice((bounds[k] ?? 0) + 1, bounds[k + 1]);
    expandBraces(prefix + alternative + suffix, out);
  }
  return out;
}

function escapeRegex(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

function escapeClassChar(c: string): string {
  return /[\\\]\[^-]/.test(c) ? `\\${c}` : c;
}

function compileSegment(segment: string): Segment {
  if (segment === '**') return { kind: 'globstar' };
  if (!/[*?[\\]/.test(segment)) return { kind: 'literal', text: segment };
  let re = '^';
  const chars = Array.from(segment);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] ?? '';
    if (c === '\\') {
      const next = chars[++i];
      if (next === undefined) throw new BadPattern('trailing "\\"');
      re += escapeRegex(next);
    } else if (c === '*') {
      while (chars[i + 1] === '*') i++;
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      let j = i + 1;
      let negate = false;
      if (chars[j] === '^' || chars[j] === '!') {
        negate = true;
        j++;
      }
      let body = '';
      let first = true;
      let closed = false;
      for (; j < chars.length; j++) {
        const d = chars[j] ?? '';
        if (d === ']' && !first) {
          closed = true;
          break;
        }
        first = false;
        if (d === '\\') {
          const next = chars[++j];
          if (next === undefined) throw new BadPattern('trailing "\\"');
          body += escapeClassChar(next);
        } else if (d === '-' && body !== '' && chars[j + 1] !== ']' && chars[j + 1] !== undefined) {
          body += '-';
        } else {
          body += escapeClassChar(d);
        }
      }
      if (!closed) throw new BadPattern('unclosed "["');
      if (body === '') throw new BadPattern('empty character class');
      re += negate ? `[^/${body}]` : `[${body}]`;
      i = j;
    } else {
      re += escapeRegex(c);
    }
  }
  try {
    return { kind: 'pattern', re: new RegExp(`${re}$`, 'u') };
  } catch (error) {
    throw new BadPattern(error instanceof Error ? error.message : String(error));
  }
}

function matchSegments(segments: readonly Segment[], parts: readonly string[]): boolean {
  const memo = new Map<number, boolean>();
  const go = (si: number, pi: number): boolean => {
    const key = si * (parts.length + 1) + pi;
    const cached = memo.get(key);
    if (cached !== undefined) return cached;
    let result: boolean;
    const segment = segments[si];
    if (segment === undefined) {
      result = pi === parts.length;
    } else if (segment.kind === 'globstar') {
      result = go(si + 1, pi) || (pi < parts.length && go(si, pi + 1));
    } else {
      const part = parts[pi];
      result =
        part !== undefined &&
        (segment.kind === 'literal' ? segment.text === part : segment.re.test(part)) &&
        go(si + 1, pi + 1);
    }
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

/** posix-clean a glob or path the way werf's formatPath does: no `./`, no trailing `/`, `.` → ``. */
export function cleanPath(p: string): string {
  if (p === '') return '';
  let cleaned = path.posix.normalize(p);
  if (cleaned.length > 1 && cleaned.endsWith('/')) cleaned = cleaned.slice(0, -1);
  return cleaned === '.' ? '' : cleaned;
}

/** A doublestar v4 `PathMatch` for one glob; throws ConfigError on a malformed glob. */
export function compileGlob(pattern: string): (path: string) => boolean {
  let alternatives: Segment[][];
  try {
    alternatives = expandBraces(pattern).map((alternative) =>
      (alternative === '' ? [] : alternative.split('/')).map(compileSegment),
    );
  } catch (error) {
    if (error instanceof BadPattern) {
      throw new ConfigError(`invalid glob pattern "${pattern}": ${error.message}`, {
        hint: 'the special characters *?[{\\ must be used properly or escaped with "\\"',
      });
    }
    throw error;
  }
  return (p: string) => {
    const parts = p === '' ? [] : p.split('/');
    return alternatives.some((segments) => matchSegments(segments, parts));
  };
}

/** werf's SafeTrimGlobsAndSlashesFromPath: drop trailing segments made only of `*`. */
function trimTrailingStars(glob: string): string {
  const parts = glob === '' ? [] : glob.split('/');
  while (parts.length > 0 && (parts[parts.length - 1] ?? '').replace(/\*+$/, '') === '') parts.pop();
  return parts.join('/');
}

/**
 * werf's path matcher for a list of globs (allow lists, `.Files.Glob`): a path matches a glob when it matches
 * the glob itself, the glob without trailing `*` segments, or that plus `/**\/*` (everything below it).
 * An empty list matches nothing; `.`, `*` or `**` match everything.
 */
export function compilePathMatcher(globs: readonly string[]): (path: string) => boolean {
  const matchers: ((p: string) => boolean)[] = [];
  for (const raw of globs) {
    const glob = cleanPath(raw);
    const trimmed = trimTrailingStars(glob);
    if (glob === '' || trimmed === '') return () => true;
    matchers.push(compileGlob(glob), compileGlob(trimmed), compileGlob(`${trimmed}/**/*`));
  }
  return (p: string) => {
    const cleaned = cleanPath(p);
    return matchers.some((match) => match(cleaned));
  };
}

/** The leading segments of a glob without special characters (werf's GlobPrefixWithoutPatterns). */
export function globStaticPrefix(glob: string): string {
  const parts = cleanPath(glob).split('/');
  const fixed: string[] = [];
  for (const part of parts) {
    if (/[*?[{\\]/.test(part)) break;
    fixed.push(part);
  }
  return fixed.join('/');
}
