// HEAD resolved in-process: the HEAD file of the git directory (a symbolic ref "ref: refs/heads/main" or, detached,
// an object name), then the ref as a loose file or a line of packed-refs (gitrepository-layout.txt). In a linked
// worktree HEAD and the per-worktree refs (refs/bisect, refs/worktree, refs/rewritten) live in the worktree's own
// git directory, every other ref in the common one. Reftable repositories never get here (git-repository.ts
// leaves any `extensions.refStorage` to git).

import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SHA1_HEX, unreadable } from './git-format.js';

const MAX_SYMREF_DEPTH = 5;
const PER_WORKTREE = ['refs/bisect/', 'refs/worktree/', 'refs/rewritten/'];

export interface RefDirectories {
  /** The git directory (`.git`, or `.git/worktrees/<name>` for a linked worktree). */
  gitDir: string;
  /** Where shared refs, packed-refs and objects live (the git directory itself outside linked worktrees). */
  commonDir: string;
}

/** The object HEAD names, or undefined when its branch has no commit yet (an unborn branch). */
export function resolveHead(dirs: RefDirectories): string | undefined {
  const head = path.join(dirs.gitDir, 'HEAD');
  // A symlinked HEAD is a layout from before git 1.5; git reads it, this does not.
  if (lstatSync(head).isSymbolicLink()) unreadable('HEAD is a symbolic link');
  return resolveValue(dirs, readFileSync(head, 'utf8'), 'HEAD', 0);
}

function resolveValue(dirs: RefDirectories, content: string, name: string, depth: number): string | undefined {
  const value = content.replace(/\r?\n$/, '');
  if (SHA1_HEX.test(value)) return value;
  if (value.startsWith('ref: ')) {
    if (depth >= MAX_SYMREF_DEPTH) unreadable(`${name}: symbolic refs nested too deeply`);
    return resolveRef(dirs, value.slice(5).trim(), depth + 1);
  }
  return unreadable(`${name}: neither an object name nor a symbolic ref`);
}

function resolveRef(dirs: RefDirectories, name: string, depth: number): string | undefined {
  if (!isPlainRefName(name)) unreadable(`ref "${name}" is not a name this reader resolves`);
  const dir = PER_WORKTREE.some((prefix) => name.startsWith(prefix)) ? dirs.gitDir : dirs.commonDir;
  const loose = readLooseRef(path.join(dir, ...name.split('/')));
  if (loose !== undefined) return resolveValue(dirs, loose, name, depth);
  return packedRefs(dirs.commonDir).get(name);
}

/** refs/... made of ordinary components: nothing that could leave the refs directory or that git would refuse. */
function isPlainRefName(name: string): boolean {
  if (!name.startsWith('refs/') || name.endsWith('/') || name.endsWith('.lock') || name.endsWith('.')) return false;
  if (/[\u0000-\u0020\u007f~^:?*[\\]|\.\.|@\{|\/\/|\/\./.test(name)) return false;
  return true;
}

/** The content of a loose ref file, or undefined when there is none (a directory is no ref either). */
function readLooseRef(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw error;
  }
}

/** packed-refs: "<object name> <ref>" lines, "^<object name>" peeled values and a "#" header. */
export function packedRefs(commonDir: string): Map<string, string> {
  const refs = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync(path.join(commonDir, 'packed-refs'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return refs;
    throw error;
  }
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || line.startsWith('#') || line.startsWith('^')) continue;
    const space = line.indexOf(' ');
    const id = line.slice(0, space);
    if (space < 0 || !SHA1_HEX.test(id)) unreadable(`packed-refs: unexpected line "${line.slice(0, 80)}"`);
    refs.set(line.slice(space + 1), id);
  }
  return refs;
}
