// ProjectFiles, implemented over the three sources (see types.ts): every read locates its path in one tree
// (the commit, the working tree as git sees it, or the plain file system) according to the source, --dev-ignore
// and the werf-giterminism.yaml allowance for its purpose; listings (glob, listFiles, uncommittedFiles) merge
// the trees the same way. git state comes from a GitState shared by views with other allowances.

import { createReadStream, lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { allowanceKeyFor, GITERMINISM_NOTE, ProjectFileError, uncommittedFilesError } from './file-errors.js';
import { openCommittedBlob } from './git-blob-reader.js';
import type { CommitEntry, CommitInfo } from './git.js';
import type { GitState } from './git-state.js';
import type { GiterminismConfig } from './giterminism.js';
import { cleanPath, compilePathMatcher, globStaticPrefix } from './globs.js';
import { gitMode, isUnder, joinW, normalizeRelative, normalizeSafe } from './paths.js';
import { commitTreeOf, devTreeOf, fsTreeOf, resolveIn, type NodeKind, type Resolved, type ResolveNames, type Tree } from './trees.js';
import type { FilePurpose, ProjectFile, ProjectFiles, ProjectFilesSource } from './types.js';

interface Located {
  source: 'fs' | 'commit';
  w: string;
  kind: NodeKind;
  entry?: CommitEntry;
}

/** What openProjectFiles found: shared by every view of the same project. */
export interface Setup {
  projectDir: string;
  root: string;
  prefix: string;
  workTree: string | undefined;
  commit: CommitInfo | undefined;
  source: ProjectFilesSource;
  dev: boolean;
  loose: boolean;
  devIgnore: readonly string[];
  git: GitState | undefined;
}

/** One view of the project's files: a source and a set of giterminism allowances (see types.ts). */
export class ProjectFilesImpl implements ProjectFiles {
  readonly projectDir: string;
  readonly workTree: string | undefined;
  readonly commit: CommitInfo | undefined;
  readonly dev: boolean;
  readonly looseGiterminism: boolean;
  readonly source: ProjectFilesSource;
  readonly giterminism: GiterminismConfig;

  private readonly root: string;
  private readonly prefix: string;
  private readonly git: GitState | undefined;
  private readonly isDevIgnored: (p: string) => boolean;
  private readonly allowMatchers = new Map<FilePurpose, (p: string) => boolean>();
  private readonly fsTree: Tree;
  private readonly commitTree: Tree;
  private readonly devTree: Tree;
  private readonly names: ResolveNames = { display: (w) => this.display(w), treeName: () => this.treeName() };

  constructor(
    private readonly setup: Setup,
    giterminism: GiterminismConfig,
  ) {
    this.projectDir = setup.projectDir;
    this.workTree = setup.workTree;
    this.commit = setup.commit;
    this.dev = setup.dev;
    this.looseGiterminism = setup.loose;
    this.source = setup.source;
    this.giterminism = giterminism;
    this.root = setup.root;
    this.prefix = setup.prefix;
    this.git = setup.git;
    this.isDevIgnored = setup.devIgnore.length === 0 ? () => false : compilePathMatcher(setup.devIgnore);

    this.fsTree = fsTreeOf(this.root);
    this.commitTree = commitTreeOf(this.git);
    this.devTree = devTreeOf(this.git, this.fsTree);
  }

  withGiterminism(config: GiterminismConfig): ProjectFiles {
    return new ProjectFilesImpl(this.setup, config);
  }

  // --- path helpers

  /**
   * The work-tree path of `p`. A `p` above the project directory (`../x`) is accepted while it stays in the git
   * work tree, as werf reads such files; without git (a plain directory) nothing above the project is read.
   */
  private toW(p: string): string {
    if (p !== '..' && !p.startsWith('../')) return joinW(this.prefix, p);
    const w = cleanPath(path.posix.join(this.prefix, p));
    if (w === '..' || w.startsWith('../') || this.workTree === undefined) {
      throw new ProjectFileError(
        'outside',
        [p],
        this.workTree === undefined
          ? `the path "${p}" is outside the project directory`
          : `the path "${p}" is outside the git work tree "${this.workTree}"`,
        this.workTree === undefined ? 'without git, only files inside the project directory can be read' : 'only files of the git repository can be read',
      );
    }
    return w;
  }

  /** A w path as the user knows it: relative to the project directory. */
  private display(w: string): string {
    if (this.prefix === '') return w;
    if (w === this.prefix) return '.';
    if (w.startsWith(`${this.prefix}/`)) return w.slice(this.prefix.length + 1);
    return path.posix.relative(this.prefix, w);
  }

  private underProject(w: string): string | undefined {
    if (this.prefix === '') return w;
    if (w.startsWith(`${this.prefix}/`)) return w.slice(this.prefix.length + 1);
    return undefined;
  }

  private abs(w: string): string {
    return path.join(this.root, w);
  }

  private shortCommit(): string {
    return this.commit === undefined ? '(no commits yet)' : this.commit.hash.slice(0, 12);
  }

  private treeName(): string {
    return this.workTree === undefined ? 'project directory' : 'git work tree';
  }

  // --- allowances

  private allowedBy(purpose: FilePurpose): ((p: string) => boolean) | undefined {
    const config = this.giterminism.config;
    switch (purpose) {
      case 'config':
        return config?.allowUncommitted === true ? () => true : undefined;
      case 'giterminism':
        return undefined;
      default: {
        const globs = this.allowGlobs(purpose);
        if (globs.length === 0) return undefined;
        let matcher = this.allowMatchers.get(purpose);
        if (matcher === undefined) {
          matcher = compilePathMatcher(globs);
          this.allowMatchers.set(purpose, matcher);
        }
        return matcher;
      }
    }
  }

  private allowGlobs(purpose: FilePurpose): readonly string[] {
    const config = this.giterminism.config;
    switch (purpose) {
      case 'template':
        return config?.allowUncommittedTemplates ?? [];
      case 'files':
        return config?.goTemplateRendering?.allowUncommittedFiles ?? [];
      case 'dockerfile':
        return config?.dockerfile?.allowUncommitted ?? [];
      case 'dockerignore':
        return config?.dockerfile?.allowUncommittedDockerignoreFiles ?? [];
      case 'context':
        return config?.dockerfile?.allowContextAddFiles ?? [];
      case 'config':
        return config?.allowUncommitted === true ? ['**'] : [];
      case 'giterminism':
        return [];
    }
  }

  /** Whether working-tree reading is allowed for a project-relative path (only meaningful with git). */
  private accepted(purpose: FilePurpose, p: string): boolean {
    if (this.source === 'filesystem') return false;
    return this.allowedBy(purpose)?.(p) ?? false;
  }

  // --- resolution

  private resolve(tree: Tree, w: string, followLast: boolean): Resolved {
    return resolveIn(tree, w, followLast, this.names);
  }

  /** Resolution for "does it exist locally" probes in error paths: never throws. */
  private probeFs(w: string): NodeKind {
    try {
      return this.resolve(this.fsTree, w, true).kind;
    } catch {
      return this.fsTree.kind(w);
    }
  }

  private locate(p: string, purpose: FilePurpose, followLast: boolean): Located {
    const w = this.toW(p);
    if (this.source === 'filesystem') {
      const r = this.resolve(this.fsTree, w, followLast);
      if (r.kind === 'missing') throw this.notFoundInDirectory(p);
      return { source: 'fs', w: r.w, kind: r.kind };
    }

    if (this.source === 'worktree' && this.isDevIgnored(p)) {
      const r = this.resolve(this.commitTree, w, followLast);
      if (r.kind === 'missing') throw this.notFoundInRepository(p);
      return { source: 'commit', w: r.w, kind: r.kind, ...this.entryOf(r.w) };
    }

    if (this.accepted(purpose, p)) {
      const r = this.resolve(this.fsTree, w, followLast);
      if (r.kind !== 'missing') return { source: 'fs', w: r.w, kind: r.kind };
    }

    if (this.source === 'worktree') {
      const r = this.resolve(this.devTree, w, followLast);
      if (r.kind !== 'missing') return { source: 'fs', w: r.w, kind: r.kind };
      if (this.probeFs(w) !== 'missing') throw this.ignoredInDevMode(p, purpose);
      throw this.notFoundInDirectory(p);
    }

    // The commit.
    const r = this.resolve(this.commitTree, w, followLast);
    if (r.kind === 'missing') {
      if (this.probeFs(w) !== 'missing') throw this.notInRepository(p, purpose);
      throw this.notFoundInRepository(p);
    }
    if (r.kind === 'submodule') {
      throw new ProjectFileError(
        'submodule',
        [p],
        `the path "${p}" is the git submodule "${this.display(r.w)}", which slipway does not read`,
      );
    }
    if (r.kind !== 'dir') {
      const git = this.git;
      if (git !== undefined) {
        for (const candidate of new Set([w, ...r.links, r.w])) {
          if (git.isChanged(candidate)) throw uncommittedFilesError([this.display(candidate)], purpose);
        }
      }
    }
    return { source: 'commit', w: r.w, kind: r.kind, ...this.entryOf(r.w) };
  }

  private entryOf(w: string): { entry?: CommitEntry } {
    const entry = this.git?.commitEntries().get(w);
    return entry === undefined ? {} : { entry };
  }

  // --- errors

  private notFoundInDirectory(p: string): ProjectFileError {
    return new ProjectFileError(
      'not-found',
      [p],
      `the file "${p}" not found in the project directory`,
      `looked for "${path.join(this.projectDir, p)}"`,
    );
  }

  private notFoundInRepository(p: string): ProjectFileError {
    return new ProjectFileError(
      'not-found',
      [p],
      `the file "${p}" not found in the project git repository`,
      `it is neither in the commit ${this.shortCommit()} nor in the project directory "${this.projectDir}"`,
    );
  }

  /** The file exists in the working tree (untracked, ignored or only staged) but not in the commit. */
  private notInRepository(p: string, purpose: FilePurpose): ProjectFileError {
    if (purpose === 'giterminism') return uncommittedFilesError([p], purpose);
    const w = this.toW(p);
    const untracked = this.git?.gitStatus().untracked.has(w) ?? false;
    const staged = this.git?.gitStatus().modified.has(w) ?? false;
    const state = untracked ? 'untracked' : staged ? 'staged but not committed' : 'ignored by .gitignore';
    const key = allowanceKeyFor(purpose);
    return new ProjectFileError(
      'untracked',
      [p],
      `the file "${p}" not found in the project git repository. If the file exists locally, configure werf-giterminism.yaml to allow uncommitted files`,
      `"${p}" exists in the project directory but not in the commit ${this.shortCommit()} (it is ${state}): commit it` +
        (key === undefined ? '' : `, allow it in werf-giterminism.yaml (${key})`) +
        `, or use --dev.\n\n${GITERMINISM_NOTE}`,
    );
  }

  private ignoredInDevMode(p: string, purpose: FilePurpose): ProjectFileError {
    const key = allowanceKeyFor(purpose);
    return new ProjectFileError(
      'untracked',
      [p],
      `the file "${p}" not found in the project directory: it is ignored by .gitignore`,
      '--dev reads tracked files and untracked files that .gitignore does not exclude' +
        (key === undefined ? '' : `; to read an ignored file, allow it in werf-giterminism.yaml (${key})`),
    );
  }

  private notAFile(p: string): ProjectFileError {
    return new ProjectFileError('not-a-file', [p], `the path "${p}" is a directory, not a file`);
  }

  // --- reading

  readFile(input: string, purpose: FilePurpose = 'files'): Buffer {
    const p = normalizeRelative(input, 'file path', true);
    const located = this.locate(p, purpose, true);
    if (located.kind === 'dir') throw this.notAFile(p);
    if (located.source === 'fs') return readFileSync(this.abs(located.w));
    return this.blobOf(located, p);
  }

  openStream(input: string, purpose: FilePurpose = 'files'): Readable {
    const p = normalizeRelative(input, 'file path', true);
    const located = this.locate(p, purpose, true);
    if (located.kind === 'dir') throw this.notAFile(p);
    if (located.source === 'fs') return createReadStream(this.abs(located.w));
    if (located.entry === undefined || this.git === undefined) throw this.notFoundInRepository(p);
    return openCommittedBlob(this.git.workTree, located.entry.objectId);
  }

  readLink(input: string, purpose: FilePurpose = 'files'): string {
    const p = normalizeRelative(input, 'file path', true);
    const located = this.locate(p, purpose, false);
    if (located.kind !== 'symlink') {
      throw new ProjectFileError('not-a-file', [p], `the path "${p}" is not a symbolic link`);
    }
    if (located.source === 'fs') return readlinkSync(this.abs(located.w));
    return this.blobOf(located, p).toString('utf8');
  }

  private blobOf(located: Located, p: string): Buffer {
    if (located.entry === undefined || this.git === undefined) throw this.notFoundInRepository(p);
    return this.git.blob(located.entry.objectId);
  }

  private kindOf(p: string, purpose: FilePurpose): NodeKind {
    const w = this.toW(p);
    if (this.source === 'filesystem') return this.resolve(this.fsTree, w, true).kind;
    if (this.source === 'worktree' && this.isDevIgnored(p)) return this.resolve(this.commitTree, w, true).kind;
    if (this.accepted(purpose, p)) {
      const kind = this.resolve(this.fsTree, w, true).kind;
      if (kind !== 'missing') return kind;
    }
    return this.resolve(this.source === 'worktree' ? this.devTree : this.commitTree, w, true).kind;
  }

  /** kindOf, where a path inside a submodule (which is not read) simply does not exist. */
  private probe(input: string, purpose: FilePurpose): NodeKind {
    const p = normalizeRelative(input, 'path', true);
    try {
      return this.kindOf(p, purpose);
    } catch (error) {
      if (error instanceof ProjectFileError && error.reason === 'submodule') return 'missing';
      throw error;
    }
  }

  exists(input: string, purpose: FilePurpose = 'files'): boolean {
    return this.probe(input, purpose) !== 'missing';
  }

  isDir(input: string, purpose: FilePurpose = 'files'): boolean {
    const kind = this.probe(input, purpose);
    return kind === 'dir' || kind === 'submodule';
  }

  // --- listing

  /** Files and symlinks under a w directory on the plain file system (no `.git`), not following symlinks. */
  private walkFs(wDir: string, visit: (w: string, stats: Stats) => void): void {
    const start = this.abs(wDir);
    const top = lstatSync(start, { throwIfNoEntry: false });
    if (top === undefined) return;
    if (!top.isDirectory()) {
      if (top.isFile() || top.isSymbolicLink()) visit(wDir, top);
      return;
    }
    const stack = [wDir];
    while (stack.length > 0) {
      const dir = stack.pop() ?? '';
      let names: string[];
      try {
        names = readdirSync(this.abs(dir));
      } catch {
        continue;
      }
      for (const name of names) {
        if (name === '.git') continue;
        const w = joinW(dir, name);
        const stats = lstatSync(this.abs(w), { throwIfNoEntry: false });
        if (stats === undefined) continue;
        if (stats.isDirectory()) stack.push(w);
        else if (stats.isFile() || stats.isSymbolicLink()) visit(w, stats);
      }
    }
  }

  /** Working-tree files allowed for the purpose, under the given w directories. */
  private acceptedFsFiles(purpose: FilePurpose, wDirs: readonly string[], visit: (p: string, w: string, stats: Stats) => void): void {
    const allowed = this.allowedBy(purpose);
    if (allowed === undefined || this.source === 'filesystem') return;
    const globs = this.allowGlobs(purpose);
    const roots = new Set<string>();
    for (const wDir of wDirs) {
      for (const glob of globs) {
        const staticW = this.toW(normalizeSafe(globStaticPrefix(glob)));
        // Walk the narrower of the two: the listed directory or the allowance's fixed prefix.
        if (isUnder(staticW, wDir)) roots.add(staticW);
        else if (isUnder(wDir, staticW)) roots.add(wDir);
      }
    }
    const seen = new Set<string>();
    for (const root of [...roots].sort()) {
      if ([...roots].some((other) => other !== root && isUnder(root, other))) continue;
      this.walkFs(root, (w, stats) => {
        const p = this.underProject(w);
        if (p === undefined || seen.has(w) || !allowed(p)) return;
        seen.add(w);
        visit(p, w, stats);
      });
    }
  }

  glob(pattern: string, purpose: FilePurpose = 'files'): string[] {
    const cleaned = normalizeRelative(pattern, 'glob');
    const matches = compilePathMatcher([cleaned]);
    const results = new Set<string>();
    const fixed = this.toW(globStaticPrefix(cleaned));

    if (this.source === 'filesystem') {
      this.walkFs(fixed, (w, stats) => {
        const p = this.underProject(w);
        if (p !== undefined && matches(p) && !this.isLinkToDir(this.fsTree, w, stats.isSymbolicLink())) results.add(p);
      });
      return [...results].sort();
    }

    const git = this.git;
    if (git === undefined) return [];
    const problems: string[] = [];

    if (this.source === 'worktree') {
      for (const w of git.worktreeFiles().files) {
        const p = this.underProject(w);
        if (p === undefined || !matches(p) || this.isDevIgnored(p)) continue;
        if (this.fsTree.kind(w) === 'dir' || this.isLinkToDir(this.devTree, w, this.fsTree.kind(w) === 'symlink')) continue;
        results.add(p);
      }
      for (const [w, entry] of git.commitEntries()) {
        const p = this.underProject(w);
        if (p === undefined || entry.type === 'submodule' || !this.isDevIgnored(p) || !matches(p)) continue;
        if (!this.isLinkToDir(this.commitTree, w, entry.type === 'symlink')) results.add(p);
      }
    } else {
      const candidates: [string, string, CommitEntry][] = [];
      for (const [w, entry] of git.commitEntries()) {
        const p = this.underProject(w);
        if (p === undefined || entry.type === 'submodule' || !matches(p) || this.accepted(purpose, p)) continue;
        candidates.push([p, w, entry]);
      }
      const status = git.gitStatus();
      git.prefetch(
        candidates
          .filter(([, w, entry]) => entry.type === 'file' && (status.modified.has(w) || status.untracked.has(w)))
          .map(([, , entry]) => entry.objectId),
      );
      for (const [p, w, entry] of candidates) {
        if (git.isChanged(w)) problems.push(p);
        if (!this.isLinkToDir(this.commitTree, w, entry.type === 'symlink')) results.add(p);
      }
      for (const w of status.untracked) {
        const p = this.underProject(w);
        if (p !== undefined && matches(p) && !this.accepted(purpose, p)) problems.push(p);
      }
    }

    this.acceptedFsFiles(purpose, [fixed], (p, w, stats) => {
      if (matches(p) && !this.isLinkToDir(this.fsTree, w, stats.isSymbolicLink())) results.add(p);
    });

    if (problems.length > 0) throw uncommittedFilesError([...new Set(problems)].sort(), purpose);
    return [...results].sort();
  }

  private isLinkToDir(tree: Tree, w: string, isLink: boolean): boolean {
    if (!isLink) return false;
    try {
      return this.resolve(tree, w, true).kind === 'dir';
    } catch {
      return false;
    }
  }

  listFiles(dir: string, purpose: FilePurpose = 'context'): ProjectFile[] {
    const d = normalizeRelative(dir, 'directory', true);
    const files = new Map<string, ProjectFile>();
    const wDir = this.toW(d);

    // A directory reached through symlinks lists under its real location, reported under the given path.
    const remap = (resolvedDir: string) => (w: string) => {
      const suffix = w === resolvedDir ? '' : w.slice(resolvedDir === '' ? 0 : resolvedDir.length + 1);
      return joinW(d, suffix);
    };

    const fromCommit = (filter: (p: string) => boolean) => {
      const git = this.git;
      if (git === undefined) return false;
      const r = this.resolve(this.commitTree, wDir, true);
      if (r.kind === 'missing') return false;
      const toP = remap(r.w);
      for (const [w, entry] of git.commitEntries()) {
        if (entry.type === 'submodule' || !isUnder(w, r.w)) continue;
        const p = toP(w);
        if (!filter(p)) continue;
        files.set(p, { path: p, mode: entry.mode, type: entry.type === 'symlink' ? 'symlink' : 'file' });
      }
      return true;
    };

    let found = false;
    if (this.source === 'filesystem') {
      const r = this.resolve(this.fsTree, wDir, true);
      if (r.kind !== 'missing') {
        found = true;
        const toP = remap(r.w);
        this.walkFs(r.w, (w, stats) => {
          const p = toP(w);
          files.set(p, { path: p, mode: gitMode(stats), type: stats.isSymbolicLink() ? 'symlink' : 'file' });
        });
      }
    } else if (this.source === 'worktree') {
      const git = this.git;
      const r = this.resolve(this.devTree, wDir, true);
      if (git !== undefined && r.kind !== 'missing') {
        found = true;
        const toP = remap(r.w);
        for (const w of git.worktreeFiles().files) {
          if (!isUnder(w, r.w)) continue;
          const p = toP(w);
          if (this.isDevIgnored(p)) continue;
          const stats = lstatSync(this.abs(w), { throwIfNoEntry: false });
          if (stats === undefined || !(stats.isFile() || stats.isSymbolicLink())) continue;
          files.set(p, { path: p, mode: gitMode(stats), type: stats.isSymbolicLink() ? 'symlink' : 'file' });
        }
      }
      if (this.setup.devIgnore.length > 0 && fromCommit((p) => this.isDevIgnored(p))) found = true;
    } else {
      found = fromCommit(() => true);
    }

    this.acceptedFsFiles(purpose, [wDir], (p, _w, stats) => {
      found = true;
      files.set(p, { path: p, mode: gitMode(stats), type: stats.isSymbolicLink() ? 'symlink' : 'file' });
    });

    if (!found && d !== '') {
      if (this.source === 'commit') {
        if (this.probeFs(wDir) !== 'missing') throw this.notInRepository(d, purpose);
        throw this.notFoundInRepository(d);
      }
      throw this.notFoundInDirectory(d);
    }
    return [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  uncommittedFiles(dir = '', purpose: FilePurpose = 'context'): string[] {
    const git = this.git;
    if (this.source !== 'commit' || git === undefined) return [];
    const wDir = this.toW(normalizeRelative(dir, 'directory', true));
    const status = git.gitStatus();
    const result = new Set<string>();
    const entries = git.commitEntries();
    git.prefetch(
      [...status.modified]
        .filter((w) => isUnder(w, wDir))
        .map((w) => entries.get(w))
        .filter((entry): entry is CommitEntry => entry?.type === 'file')
        .map((entry) => entry.objectId),
    );
    for (const set of [status.modified, status.deleted, status.untracked]) {
      for (const w of set) {
        if (!isUnder(w, wDir)) continue;
        // wDir may lie above the project directory (a context there): name the file relative to the project.
        const p = path.posix.relative(this.prefix, w);
        if (this.accepted(purpose, p)) continue;
        if (git.isChanged(w)) result.add(p);
      }
    }
    return [...result].sort();
  }
}
