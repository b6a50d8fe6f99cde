// Path rules. Paths in and out of ProjectFiles are relative to the project directory, posix style (`p` paths);
// the project directory may be a subdirectory of the work tree, so internally paths are kept relative to the
// top of the work tree (`w` paths). An absolute path is an error. A path that leaves the project directory is an
// error too, except where werf reads it (`.Files.Get "../x"`, a Dockerfile context above the project
// directory): those may name any file of the git work tree (ProjectFilesImpl.toW checks the work tree).

import path from 'node:path';
import { ConfigError } from '../errors.js';
import { ProjectFileError } from './file-errors.js';
import { cleanPath } from './globs.js';

/** `input` cleaned; `allowParent`: it may start with `../` (the caller checks where it leads). */
export function normalizeRelative(input: string, what: string, allowParent = false): string {
  if (typeof input !== 'string') throw new ConfigError(`the ${what} must be a string`);
  if (input.includes('\0')) throw new ProjectFileError('outside', [input], `the ${what} "${input}" contains a NUL character`);
  if (path.posix.isAbsolute(input) || /^[A-Za-z]:[\\/]/.test(input) || input.startsWith('\\\\')) {
    throw new ProjectFileError(
      'outside',
      [input],
      `the ${what} "${input}" must be relative to the project directory`,
    );
  }
  const cleaned = cleanPath(input);
  if (!allowParent && (cleaned === '..' || cleaned.startsWith('../'))) {
    throw new ProjectFileError('outside', [input], `the ${what} "${input}" is outside the project directory`);
  }
  return cleaned;
}

export function joinW(a: string, b: string): string {
  if (a === '') return b;
  if (b === '') return a;
  return `${a}/${b}`;
}

export function isUnder(w: string, dir: string): boolean {
  return dir === '' || w === dir || w.startsWith(`${dir}/`);
}

export function gitMode(stats: { mode: number; isSymbolicLink(): boolean }): number {
  if (stats.isSymbolicLink()) return 0o120000;
  return stats.mode & 0o100 ? 0o100755 : 0o100644;
}

/** normalizeRelative for a glob's static prefix, where a bad one simply means "from the top". */
export function normalizeSafe(p: string): string {
  try {
    return normalizeRelative(p, 'glob');
  } catch {
    return '';
  }
}
