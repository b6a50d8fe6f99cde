// Paths inside an image: posix, relative to the image root, no leading '/'.

import { InvalidInputError } from '../../errors.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
/** AUFS metadata entries (`.wh..wh.plnk`, `.wh..wh.aufs`, ...): not files of the image. */
export const WHITEOUT_META_PREFIX = '.wh..wh.';

/** Why `path` is not a canonical image path, or undefined when it is one. */
export function pathProblem(path: string): string | undefined {
  if (path === '') return 'it is empty';
  if (path.startsWith('/')) return 'it starts with "/" (paths are relative to the image root)';
  if (path.endsWith('/')) return 'it ends with "/"';
  if (path.includes('\0')) return 'it contains a NUL character';
  for (const part of path.split('/')) {
    if (part === '') return 'it has an empty component ("//")';
    if (part === '.' || part === '..') return `it has a "${part}" component`;
  }
  return undefined;
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The parent directory, '' for an entry at the root. */
export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** Every proper ancestor of `path`, outermost first: 'a/b/c' gives ['a', 'a/b']. */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}

/**
 * The sort key of a path: its UTF-8 bytes with '/' mapped to 0, so paths compare component
 * by component (bytewise within a component). This is the order of Go's filepath.Walk
 * (and so of the layers docker and buildkit write): a directory is followed by its
 * whole subtree before its next sibling ('a', 'a/b', 'a-b').
 */
export function pathSortKey(path: string): Buffer {
  const key = Buffer.from(path, 'utf8');
  for (let i = 0; i < key.length; i++) if (key[i] === 0x2f) key[i] = 0;
  return key;
}

export function comparePaths(a: string, b: string): number {
  return Buffer.compare(pathSortKey(a), pathSortKey(b));
}

/**
 * Canonicalise a name read from a tar archive: drop leading '/' and './', '.' components
 * and a trailing '/'. Returns '' for the root itself. A '..' that climbs out of the root
 * is an error: an archive must not write outside the directory it is unpacked into.
 */
export function normalizeArchivePath(name: string, what: string): string {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw new InvalidInputError(`${what}: entry "${name}" points outside the archive root`);
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  if (name.includes('\0')) throw new InvalidInputError(`${what}: entry "${name}" contains a NUL character`);
  return parts.join('/');
}

/** How many symlinks one path may pass through (Linux's limit). */
export const MAX_SYMLINK_HOPS = 40;

/**
 * `path` (in an image, or a build context) with its symlinks followed inside that root, as `linkAt` reports them
 * (the target of the symlink at a root-relative path, else undefined). `..` stops at the root and an absolute
 * target starts again from it, so a link never leads outside; components that do not exist are kept. With
 * `followFinal` false a symlink in the last component stays (what a write replaces). Root-relative; '' is the root.
 */
export function resolveInside(path: string, linkAt: (path: string) => string | undefined, options: { followFinal?: boolean; tooMany: () => Error }): string {
  let pending = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = [...done, part].join('/');
    const target = pending.length > 0 || (options.followFinal ?? true) ? linkAt(candidate) : undefined;
    if (target !== undefined) {
      if (++hops > MAX_SYMLINK_HOPS) throw options.tooMany();
      if (target.startsWith('/')) done.length = 0;
      pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
      continue;
    }
    done.push(part);
  }
  return done.join('/');
}
