// The git state of a work tree, read lazily and once, shared by ProjectFiles views with different
// giterminism allowances: the commit's files, git status, the working-tree files git sees, blobs, and whether
// a path's working-tree state really differs from the commit.

import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import * as gitCli from './git.js';
import type { CommitEntry, CommitInfo, GitStatus } from './git.js';

function sameContent(committed: Buffer, local: Buffer): boolean {
  if (committed.equals(local)) return true;
  // werf also accepts a working-tree copy that differs only by CRLF line breaks (core.autocrlf checkouts).
  if (!local.includes('\r\n')) return false;
  return committed.equals(Buffer.from(local.toString('latin1').replaceAll('\r\n', '\n'), 'latin1'));
}
export class GitState {
  private entries: Map<string, CommitEntry> | undefined;
  private dirs: Set<string> | undefined;
  private status: GitStatus | undefined;
  private worktree: { files: Set<string>; dirs: Set<string> } | undefined;
  private readonly blobs = new Map<string, Buffer>();
  private readonly changed = new Map<string, boolean>();

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

  /** Reads many small blobs with one process, for the comparisons that follow. */
  prefetch(objectIds: readonly string[]): void {
    const missing = objectIds.filter((id) => !this.blobs.has(id));
    if (missing.length < 2) return;
    for (const [id, data] of gitCli.readBlobs(this.workTree, missing)) this.blobs.set(id, data);
  }

  /**
   * Whether the working-tree state of `w` differs from the commit. git status names the candidates; the
   * content comparison (werf's extraCheckFileModifiedLocally) then ignores mode-only and CRLF-only changes.
   */
  isChanged(w: string): boolean {
    const status = this.gitStatus();
    if (!status.modified.has(w) && !status.deleted.has(w) && !status.untracked.has(w)) return false;
    const cached = this.changed.get(w);
    if (cached !== undefined) return cached;
    const result = this.contentDiffers(w);
    this.changed.set(w, result);
    return result;
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
