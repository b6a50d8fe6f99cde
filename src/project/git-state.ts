// The git state of a work tree, read lazily and once, shared by ProjectFiles views with different
// giterminism allowances: the commit's files, git status, the working-tree files git sees, blobs, and whether
// a path's working-tree state really differs from the commit.
//
// Whether a committed file changed is asked for every file slipway reads from the commit (werf.yaml, templates,
// Dockerfiles, each build-context file). The answer is git status's listing narrowed by a content comparison; in a
// repository read in-process most answers come without git status (one process that walks the whole work tree):
// a file whose index entry holds the committed object and whose stat data is what the index recorded is not
// listed by git status, and a file that hashes to the committed blob has no content change. Only what neither
// settles (a real change, a touched file with filters in play) still asks git status.

import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readFileSync, readlinkSync, readSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import * as gitCli from './git.js';
import type { CommitEntry, CommitInfo, GitStatus } from './git.js';
import { statUnchanged, type GitIndex } from './git-index.js';

function sameContent(committed: Buffer, local: Buffer): boolean {
  if (committed.equals(local)) return true;
  // werf also accepts a working-tree copy that differs only by CRLF line breaks (core.autocrlf checkouts).
  if (!local.includes('\r\n')) return false;
  return committed.equals(Buffer.from(local.toString('latin1').replaceAll('\r\n', '\n'), 'latin1'));
}

/** The SHA-1 object name a file's or a symlink's current content would have as a git blob. */
function blobIdOf(abs: string, stats: BigIntStats): string | undefined {
  const hash = createHash('sha1');
  if (stats.isSymbolicLink()) {
    const target = readlinkSync(abs, { encoding: 'buffer' });
    return hash.update(`blob ${target.length}\0`).update(target).digest('hex');
  }
  const size = Number(stats.size);
  hash.update(`blob ${size}\0`);
  const fd = openSync(abs, 'r');
  try {
    const buffer = Buffer.allocUnsafe(Math.min(size, 1024 * 1024) || 1);
    let total = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, total);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      total += n;
    }
    // Changed while being read: not the content the header above described.
    return total === size ? hash.digest('hex') : undefined;
  } finally {
    closeSync(fd);
  }
}

export class GitState {
  private entries: Map<string, CommitEntry> | undefined;
  private dirs: Set<string> | undefined;
  private status: GitStatus | undefined;
  private worktree: { files: Set<string>; dirs: Set<string> } | undefined;
  private readonly blobs = new Map<string, Buffer>();
  private readonly changed = new Map<string, boolean>();
  private index: GitIndex | null | undefined;

  constructor(
    readonly workTree: string,
    readonly root: string,
    readonly commit: CommitInfo | undefined,
  ) {}

  commitEntries(): Map<string, CommitEntry> {
    if (this.entries === undefined) {
      this.entries = this.commit === undefined ? new Map() : gitCli.listCommitFiles(this.workTree, this.commit.hash);
      const dirs = new Set<string>();
      for (const w of this.entries.keys()) {
        for (let slash = w.lastIndexOf('/'); slash > 0; slash = w.lastIndexOf('/', slash - 1)) {
          const dir = w.slice(0, slash);
          if (dirs.has(dir)) break;
          dirs.add(dir);
        }
      }
      this.dirs = dirs;
    }
    return this.entries;
  }

  commitDirs(): Set<string> {
    this.commitEntries();
    return this.dirs ?? new Set();
  }

  gitStatus(): GitStatus {
    this.status ??= gitCli.statusOf(this.workTree);
    return this.status;
  }

  /** Tracked (present in the working tree) plus untracked-not-ignored files, and their directories. */
  worktreeFiles(): { files: Set<string>; dirs: Set<string> } {
    if (this.worktree === undefined) {
      const status = this.gitStatus();
      const files = new Set<string>();
      for (const w of gitCli.listWorkingTreeFiles(this.workTree)) {
        if (status.deleted.has(w) && !status.untracked.has(w)) continue;
        files.add(w);
      }
      const dirs = new Set<string>();
      for (const w of files) {
        for (let slash = w.lastIndexOf('/'); slash > 0; slash = w.lastIndexOf('/', slash - 1)) {
          const dir = w.slice(0, slash);
          if (dirs.has(dir)) break;
          dirs.add(dir);
        }
      }
      this.worktree = { files, dirs };
    }
    return this.worktree;
  }

  blob(objectId: string): Buffer {
    const cached = this.blobs.get(objectId);
    if (cached !== undefined) return cached;
    const data = gitCli.readBlob(this.workTree, objectId);
    if (data.length <= 1024 * 1024) this.blobs.set(objectId, data);
    return data;
  }

  /** Reads many small blobs at once (one process when git reads the repository), for the comparisons that follow. */
  prefetch(objectIds: readonly string[]): void {
    const missing = objectIds.filter((id) => !this.blobs.has(id));
    if (missing.length < 2) return;
    for (const [id, data] of gitCli.readBlobs(this.workTree, missing)) this.blobs.set(id, data);
  }

  /**
   * Whether the working-tree state of `w` differs from the commit. git status names the candidates; the
   * content comparison (werf's extraCheckFileModifiedLocally) then ignores mode-only and CRLF-only changes.
   * Without git status when that settles it (see the top of this file).
   */
  isChanged(w: string): boolean {
    const cached = this.changed.get(w);
    if (cached !== undefined) return cached;
    const result = this.unchangedWithoutStatus(w) ? false : this.listedByStatus(w) && this.contentDiffers(w);
    this.changed.set(w, result);
    return result;
  }

  private listedByStatus(w: string): boolean {
    const status = this.gitStatus();
    return status.modified.has(w) || status.deleted.has(w) || status.untracked.has(w);
  }

  /**
   * Whether a committed file or symlink is certainly unchanged, known without git status: git status would not
   * list it (its index entry holds the committed object and its stat data is unchanged), or its content is the
   * committed blob's (the content comparison would accept it whatever git status says). Only for repositories
   * read in-process (SHA-1 object names, a readable index) and while git status has not been read anyway.
   */
  private unchangedWithoutStatus(w: string): boolean {
    if (this.status !== undefined || !gitCli.readsInProcess(this.workTree)) return false;
    try {
      return this.indexedOrSame(w);
    } catch {
      return false; // unreadable now (removed meanwhile, no permission): git status and the comparison decide
    }
  }

  private indexedOrSame(w: string): boolean {
    const entry = this.commitEntries().get(w);
    if (entry === undefined || entry.type === 'submodule') return false;
    const abs = path.join(this.root, w);
    const stats = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
    if (stats === undefined || stats.isSymbolicLink() !== (entry.type === 'symlink') || !(stats.isFile() || stats.isSymbolicLink())) return false;
    this.index ??= gitCli.indexOf(this.workTree) ?? null;
    const indexed = this.index?.entries.get(w);
    if (
      this.index !== null &&
      indexed !== undefined &&
      !this.index.conflicted.has(w) &&
      indexed.objectId === entry.objectId &&
      indexed.mode === entry.mode &&
      statUnchanged(indexed, stats, this.index)
    ) {
      return true;
    }
    return blobIdOf(abs, stats) === entry.objectId;
  }

  private contentDiffers(w: string): boolean {
    const entry = this.commitEntries().get(w);
    if (entry === undefined || entry.type === 'submodule') return true;
    const abs = path.join(this.root, w);
    const stats = lstatSync(abs, { throwIfNoEntry: false });
    if (stats === undefined || stats.isDirectory()) return true;
    if (stats.isSymbolicLink() !== (entry.type === 'symlink')) return true;
    const local = stats.isSymbolicLink() ? Buffer.from(readlinkSync(abs)) : readFileSync(abs);
    return !sameContent(this.blob(entry.objectId), local);
  }
}
