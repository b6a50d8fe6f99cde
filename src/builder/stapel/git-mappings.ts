// The `git` mappings of a stapel image, from the project's own repository: which committed files a mapping
// selects (add, includePaths, excludePaths, to), their layer entries (owner, group), the patch between two
// commits, and what enters the stage digests (werf's pkg/build/stage/git_mapping.go rules, see docs/stapel.md).

import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { BuildError } from '../../errors.js';
import { compilePathMatcher, listCommitTree, openCommittedBlob, type SizedCommitEntry } from '../../project/index.js';
import { readBlob } from '../../project/git.js';
import type { GitMapping } from '../../config/werf-config.js';
import type { LayerEntry } from '../layer/types.js';

/** One selected file: where it lands in the image (no leading '/') and what it is in the commit. */
export interface SelectedFile {
  target: string;
  /** The path relative to `add` ('' when `add` is the file itself). */
  rel: string;
  entry: SizedCommitEntry;
}

export interface Owner {
  uid: number;
  gid: number;
}

export interface GitPatch {
  /** Files added or changed (their new state). */
  changed: SelectedFile[];
  /** Targets of files that are gone. */
  deleted: string[];
  /** Bytes of the changed files' new contents plus the deleted files' old contents: werf's patch size stand-in. */
  size: number;
}

const sha256 = (parts: readonly string[]): string => createHash('sha256').update(parts.join('\0')).digest('hex');

/** The project repository's commits and trees, read once each. */
export class ProjectRepository {
  private readonly trees = new Map<string, Map<string, SizedCommitEntry>>();

  constructor(readonly workTree: string, readonly head: string) {}

  tree(commit: string): Map<string, SizedCommitEntry> {
    let tree = this.trees.get(commit);
    if (tree === undefined) {
      tree = listCommitTree(this.workTree, commit);
      this.trees.set(commit, tree);
    }
    return tree;
  }

  openBlob(objectId: string) {
    return openCommittedBlob(this.workTree, objectId);
  }

  readBlob(objectId: string): Buffer {
    return readBlob(this.workTree, objectId);
  }
}

/** One mapping with its matchers compiled. */
export class MappingView {
  private readonly add: string;
  private readonly to: string;
  private readonly include: ((p: string) => boolean) | undefined;
  private readonly exclude: ((p: string) => boolean) | undefined;
  /** werf's GetParamshash: what the gitArchive digest holds, and the key of the commit label. */
  readonly paramsHash: string;

  constructor(readonly mapping: GitMapping, readonly repo: ProjectRepository) {
    this.add = mapping.add.replace(/^\/+|\/+$/g, '');
    this.to = mapping.to.replace(/^\/+|\/+$/g, '');
    this.include = mapping.includePaths.length > 0 ? compilePathMatcher(mapping.includePaths) : undefined;
    this.exclude = mapping.excludePaths.length > 0 ? compilePathMatcher(mapping.excludePaths) : undefined;
    this.paramsHash = sha256([
      mapping.url === undefined ? 'project' : `${mapping.url}#${mapping.branch ?? ''}#${mapping.tag ?? ''}#${mapping.commit ?? ''}`, `/${this.add}`, `/${this.to}`, ...mapping.includePaths, '--', ...mapping.excludePaths,
      mapping.owner ?? '', mapping.group ?? '',
    ]);
  }

  /** The commit the build maps files from: the project's HEAD, or the remote's branch, tag or commit. */
  get head(): string {
    return this.repo.head;
  }

  /** The image label holding the commit this mapping's files are at in a stage. */
  get commitLabel(): string {
    return `slipway-git-${this.paramsHash.slice(0, 32)}-commit`;
  }

  describe(): string {
    return `git ${this.mapping.url === undefined ? '' : `url: ${this.mapping.url} `}add: /${this.add} to: /${this.to}`;
  }

  /** The committed files the mapping selects at `commit`, by target path. */
  select(commit: string): Map<string, SelectedFile> {
    const out = new Map<string, SelectedFile>();
    for (const [path, entry] of this.repo.tree(commit)) {
      if (entry.type === 'submodule') continue;
      let rel: string;
      if (this.add === '') rel = path;
      else if (path === this.add) rel = '';
      else if (path.startsWith(`${this.add}/`)) rel = path.slice(this.add.length + 1);
      else continue;
      if (rel !== '') {
        if (this.include && !this.include(rel)) continue;
        if (this.exclude && this.exclude(rel)) continue;
      }
      const target = rel === '' ? this.to : this.to === '' ? rel : `${this.to}/${rel}`;
      out.set(target, { target, rel, entry });
    }
    return out;
  }

  /** werf refuses a mapping that selects nothing. */
  checkNotEmpty(commit: string): void {
    if (this.select(commit).size === 0) {
      throw new BuildError(`"git.add: /${this.add}" in werf.yaml matches no files at commit ${commit.slice(0, 12)}`, {
        hint: 'git.add (with includePaths and excludePaths) must select at least one committed file',
      });
    }
  }

  /** What changed in the mapping's selection between two commits. */
  patch(from: string, to: string): GitPatch {
    const before = this.select(from);
    const after = this.select(to);
    const changed: SelectedFile[] = [];
    const deleted: string[] = [];
    let size = 0;
    for (const [target, file] of after) {
      const old = before.get(target);
      if (old && old.entry.objectId === file.entry.objectId && old.entry.mode === file.entry.mode) continue;
      changed.push(file);
      size += file.entry.size;
    }
    for (const [target, file] of before) {
      if (!after.has(target)) {
        deleted.push(target);
        size += file.entry.size;
      }
    }
    return { changed, deleted: deleted.sort(), size };
  }

  /** The patch's identity for the gitLatestPatch digest (werf hashes the patch text). */
  static patchChecksum(patch: GitPatch): string {
    return sha256([
      ...patch.changed.map((f) => `${f.target}\t${f.entry.mode.toString(8)}\t${f.entry.objectId}`).sort(),
      '--',
      ...patch.deleted,
    ]);
  }

  /** werf's stage dependencies checksum: the files under the stage's globs (relative to `add`) at `commit`. */
  stageDependenciesChecksum(stage: 'install' | 'beforeSetup' | 'setup', commit: string): string {
    const globs = this.mapping.stageDependencies[stage];
    if (globs.length === 0) return '';
    const match = compilePathMatcher(globs);
    const lines: string[] = [];
    for (const file of this.select(commit).values()) {
      if (!match(file.rel)) continue;
      lines.push(`${file.rel}\t${file.entry.mode.toString(8)}\t${file.entry.objectId}`);
    }
    return sha256([...globs, '--', ...lines.sort()]);
  }

  /** Layer entries for the selected files (and the directories below `to`), owned by `owner`. */
  entries(files: Iterable<SelectedFile>, owner: Owner): LayerEntry[] {
    const out: LayerEntry[] = [];
    const dirs = new Set<string>();
    for (const file of files) {
      if (file.rel !== '' && this.to !== '') dirs.add(this.to);
      const parts = file.rel.split('/').slice(0, -1);
      for (let i = 1; i <= parts.length; i++) dirs.add(posix.join(this.to, ...parts.slice(0, i)));
      const { entry } = file;
      if (entry.type === 'symlink') {
        out.push({ path: file.target, type: 'symlink', mode: 0o777, ...owner, linkTarget: this.repo.readBlob(entry.objectId).toString('utf8') });
      } else {
        const objectId = entry.objectId;
        out.push({
          path: file.target, type: 'file', mode: entry.mode & 0o111 ? 0o755 : 0o644, ...owner, size: entry.size,
          open: async () => this.repo.openBlob(objectId),
        });
      }
    }
    for (const dir of dirs) if (dir !== '') out.push({ path: dir, type: 'dir', mode: 0o755, ...owner });
    return out;
  }

  /** A patch as layer entries: the new files, and whiteouts for the deleted ones. */
  patchEntries(patch: GitPatch, owner: Owner): LayerEntry[] {
    return [
      ...this.entries(patch.changed, owner),
      ...patch.deleted.map((target): LayerEntry => ({ path: target, type: 'whiteout', mode: 0, uid: 0, gid: 0 })),
    ];
  }
}
