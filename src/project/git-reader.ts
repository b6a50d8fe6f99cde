// The in-process reader of one repository: HEAD, commits, recursive tree listings and blobs, answered from the
// files under .git (git-repository.ts, git-refs.ts, git-objects.ts) instead of by git processes. git.ts asks it first
// and runs git when readerFor() says no or a call throws (see git-format.ts); a reader that met something it could
// not read (other than a missing object) is not asked again.

import type { Readable } from 'node:stream';
import { MissingObject, unreadable } from './git-format.js';
import { readIndex, type GitIndex } from './git-index.js';
import { forEachTreeEntry, isGitlinkMode, isSymlinkMode, isTreeMode, ObjectDatabase, parseCommit, parseTag, type ParsedCommit } from './git-objects.js';
import { resolveHead } from './git-refs.js';
import { readableLayout, type RepositoryLayout } from './git-repository.js';

export type ListedType = 'file' | 'symlink' | 'submodule';

export interface ListedEntry {
  mode: number;
  type: ListedType;
  objectId: string;
  /** With sizes: the blob's size (0 for submodules). */
  size?: number;
}

export interface HeadCommit {
  hash: string;
  commit: ParsedCommit;
}

const MAX_TAG_DEPTH = 10;

export class GitReader {
  /** Set once a call met something it could not read: git answers from then on. */
  broken = false;
  private readonly objects: ObjectDatabase;

  constructor(readonly layout: RepositoryLayout) {
    this.objects = new ObjectDatabase(layout.objectsDir);
  }

  /** The directories objects are read from (the repository's own, then alternates). */
  get objectDirectories(): string[] {
    return this.objects.directories;
  }

  /** HEAD peeled to a commit, or undefined on an unborn branch. */
  head(): HeadCommit | undefined {
    const id = resolveHead(this.layout);
    if (id === undefined) return undefined;
    const hash = this.peelToCommit(id) ?? unreadable(`HEAD (${id}) is not a commit`);
    return { hash, commit: parseCommit(this.objects.read(hash).data, hash) };
  }

  /** The commit `id` names, through tags; undefined when it names a tree or a blob. MissingObject when absent. */
  peelToCommit(id: string): string | undefined {
    let current = id;
    for (let depth = 0; depth < MAX_TAG_DEPTH; depth++) {
      const object = this.objects.read(current);
      if (object.type === 'commit') return current;
      if (object.type !== 'tag') return undefined;
      current = parseTag(object.data, current).object;
    }
    return unreadable(`${id}: tags nested too deeply`);
  }

  /**
   * Every blob, symlink and gitlink of the commit's tree by path, in `git ls-tree -r` order; with `sizes`, each
   * blob's size from its object header (`ls-tree -l`).
   */
  listCommit(commitId: string, sizes: boolean): Map<string, ListedEntry> {
    const commit = parseCommit(this.read(commitId, 'commit'), commitId);
    const entries = new Map<string, ListedEntry>();
    const walk = (treeId: string, prefix: string): void => {
      const tree = this.read(treeId, 'tree');
      forEachTreeEntry(tree, treeId, (mode, name, objectId, idAt) => {
        const p = prefix + name;
        if (isTreeMode(mode)) {
          walk(objectId, `${p}/`);
          return;
        }
        const type: ListedType = isGitlinkMode(mode) ? 'submodule' : isSymlinkMode(mode) ? 'symlink' : 'file';
        const listed: ListedEntry = { mode, type, objectId };
        if (sizes) listed.size = type === 'submodule' ? 0 : this.objects.size(objectId, tree, idAt);
        entries.set(p, listed);
      });
    };
    walk(commit.tree, '');
    return entries;
  }

  /** The contents of a blob. */
  readBlob(objectId: string): Buffer {
    return this.read(objectId, 'blob');
  }

  /** A stream of a blob (large ones are not held in memory). */
  openBlob(objectId: string): Readable {
    return this.objects.openBlob(objectId);
  }

  /** The index as it is now (read again on every call). */
  index(): GitIndex | undefined {
    return readIndex(this.layout.indexFile);
  }

  private read(objectId: string, type: 'commit' | 'tree' | 'blob'): Buffer {
    const object = this.objects.read(objectId);
    if (object.type !== type) unreadable(`${objectId} is a ${object.type}, not a ${type}`);
    return object.data;
  }
}

const readers = new Map<string, GitReader | null>();

/**
 * The in-process reader of the repository at `dir` (a work tree's top or a bare repository), decided once per
 * directory, or undefined when git must read it. `revalidate` decides again (when a project is opened: its
 * config, replace refs or layout may have changed since); an unchanged layout keeps the open packs.
 */
export function readerFor(dir: string, options: { revalidate?: boolean } = {}): GitReader | undefined {
  const known = readers.get(dir);
  if (known !== undefined && options.revalidate !== true) return known === null || known.broken ? undefined : known;
  const layout = readableLayout(dir);
  let reader: GitReader | null = null;
  if (layout !== undefined) {
    if (known != null && !known.broken && sameLayout(known.layout, layout)) reader = known;
    else {
      try {
        reader = new GitReader(layout);
      } catch {
        reader = null;
      }
    }
  }
  readers.set(dir, reader);
  return reader ?? undefined;
}

/**
 * `read` answered by the in-process reader of `dir`, or undefined when git must answer: there is no reader, or
 * the call threw (a missing object leaves the reader in use for other calls; anything else retires it).
 */
export function tryReader<T>(dir: string, read: (reader: GitReader) => T, options: { revalidate?: boolean } = {}): T | undefined {
  const reader = readerFor(dir, options);
  if (reader === undefined) return undefined;
  try {
    return read(reader);
  } catch (error) {
    if (!(error instanceof MissingObject)) reader.broken = true;
    return undefined;
  }
}

function sameLayout(a: RepositoryLayout, b: RepositoryLayout): boolean {
  return a.workTree === b.workTree && a.gitDir === b.gitDir && a.commonDir === b.commonDir && a.objectsDir === b.objectsDir;
}
