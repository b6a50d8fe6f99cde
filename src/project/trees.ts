// Trees: the commit, the working tree seen by git, the plain file system; and symlink resolution over them.
// Symlinks are followed within the work tree (werf does the same); one that leaves it is an error.

import { lstatSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { ProjectFileError } from './file-errors.js';
import type { GitState } from './git-state.js';
import { cleanPath } from './globs.js';
import { joinW } from './paths.js';

export type NodeKind = 'file' | 'dir' | 'symlink' | 'submodule' | 'missing';

export interface Tree {
  /** What is at `w`, without following a final symlink. */
  kind(w: string): NodeKind;
  readLink(w: string): string;
  /** Where a link's target leads, as a w path; undefined when it leaves the tree. */
  targetOf(linkW: string, target: string): string | undefined;
}

export interface Resolved {
  w: string;
  kind: NodeKind;
  /** Every symlink followed on the way. */
  links: string[];
}

const MAX_SYMLINKS = 40;

export function relativeTarget(linkW: string, target: string): string | undefined {
  if (target === '' || path.posix.isAbsolute(target)) return undefined;
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(linkW), target));
  if (joined === '..' || joined.startsWith('../')) return undefined;
  return cleanPath(joined);
}

/** The plain file system under `root` (the work tree, or the project directory outside git); `.git` is hidden. */
export function fsTreeOf(root: string): Tree {
  return {
    kind(w) {
      if (w === '') return 'dir';
      if (w.split('/').includes('.git')) return 'missing';
      const stats = lstatSync(path.join(root, w), { throwIfNoEntry: false });
      if (stats === undefined) return 'missing';
      if (stats.isSymbolicLink()) return 'symlink';
      if (stats.isDirectory()) return 'dir';
      if (stats.isFile()) return 'file';
      return 'missing';
    },
    readLink: (w) => readlinkSync(path.join(root, w)),
    targetOf(linkW, target) {
      if (path.isAbsolute(target)) {
        const relative = path.relative(root, target);
        if (relative === '' ) return '';
        if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
        return cleanPath(relative.split(path.sep).join('/'));
      }
      return relativeTarget(linkW, target);
    },
  };
}

/** The HEAD commit's files (nothing without git). */
export function commitTreeOf(git: GitState | undefined): Tree {
  return {
    kind(w) {
      if (w === '') return 'dir';
      if (git === undefined) return 'missing';
      const entry = git.commitEntries().get(w);
      if (entry !== undefined) return entry.type;
      return git.commitDirs().has(w) ? 'dir' : 'missing';
    },
    readLink(w) {
      const entry = git?.commitEntries().get(w);
      if (git === undefined || entry === undefined) return '';
      return git.blob(entry.objectId).toString('utf8');
    },
    targetOf: relativeTarget,
  };
}

/** The working tree as git sees it (tracked and untracked-not-ignored files), read from the file system. */
export function devTreeOf(git: GitState | undefined, fsTree: Tree): Tree {
  return {
    kind(w) {
      if (w === '' || git === undefined) return fsTree.kind(w);
      const { files, dirs } = git.worktreeFiles();
      return files.has(w) || dirs.has(w) ? fsTree.kind(w) : 'missing';
    },
    readLink: fsTree.readLink,
    targetOf: fsTree.targetOf,
  };
}

/** How resolution names paths in its errors: as the user knows them, and the tree (work tree or directory). */
export interface ResolveNames {
  display(w: string): string;
  treeName(): string;
}

/**
 * Walks `w` through a tree, following symlinks (the final one only when `followLast`), at most MAX_SYMLINKS.
 * A link leaving the tree is an `outside` error; a path through a submodule a `submodule` error.
 */
export function resolveIn(tree: Tree, w: string, followLast: boolean, names: ResolveNames): Resolved {
  const links: string[] = [];
  const walk = (target: string, followFinal: boolean): Resolved => {
    const parts = target === '' ? [] : target.split('/');
    let current = '';
    let kind: NodeKind = 'dir';
    for (let i = 0; i < parts.length; i++) {
      const next = joinW(current, parts[i] ?? '');
      const last = i === parts.length - 1;
      const rest = parts.slice(i + 1).join('/');
      const nextKind = tree.kind(next);
      if (nextKind === 'missing') return { w: joinW(next, rest), kind: 'missing', links };
      if (nextKind === 'symlink' && (!last || followFinal)) {
        links.push(next);
        if (links.length > MAX_SYMLINKS) {
          throw new ProjectFileError(
            'outside',
            [names.display(w)],
            `too many levels of symbolic links while resolving "${names.display(w)}"`,
          );
        }
        const linkTarget = tree.readLink(next);
        const targetW = tree.targetOf(next, linkTarget);
        if (targetW === undefined) {
          throw new ProjectFileError(
            'outside',
            [names.display(next)],
            `the symlink "${names.display(next)}" points outside the ${names.treeName()}: "${linkTarget}"`,
          );
        }
        const resolved = walk(targetW, true);
        if (resolved.kind === 'missing') return { w: joinW(resolved.w, rest), kind: 'missing', links };
        current = resolved.w;
        kind = resolved.kind;
      } else {
        current = next;
        kind = nextKind;
      }
      if (!last && kind !== 'dir') {
        if (kind === 'submodule') {
          throw new ProjectFileError(
            'submodule',
            [names.display(w)],
            `the path "${names.display(w)}" is inside the git submodule "${names.display(current)}", which slipway does not read`,
          );
        }
        return { w: joinW(current, rest), kind: 'missing', links };
      }
    }
    return { w: current, kind, links };
  };
  return walk(w, followLast);
}
