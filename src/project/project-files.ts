// How the configuration layer reads project files: werf.yaml, templates, `.Files.*`, Dockerfiles,
// .dockerignore files and build contexts all go through one ProjectFiles.
//
// Three sources, chosen once when the project is opened:
//
//   commit      (the default, "giterminism") files come from the HEAD commit of the git work tree. A file
//               that is committed but changed in the working tree, or that exists only in the working tree,
//               is an error, unless werf-giterminism.yaml allows reading it from the working tree for that
//               purpose (allowUncommitted, allowUncommittedTemplates, goTemplateRendering.allowUncommittedFiles,
//               dockerfile.allowUncommitted / allowUncommittedDockerignoreFiles / allowContextAddFiles).
//   worktree    (--dev) the working tree as git sees it: tracked files and untracked files that .gitignore
//               does not exclude. Paths matching --dev-ignore keep their committed state.
//   filesystem  (--loose-giterminism, or --dev outside a git work tree) plain files, no checks.
//
// Paths in and out are relative to the project directory, posix style. The project directory may be a
// subdirectory of the work tree; internally paths are kept relative to the top of the work tree ("w" paths).
// Symlinks are followed within the work tree (werf does the same); one that leaves it is an error.
//
// Glob semantics are werf's path matcher (pkg/path_matcher, doublestar v4): `*`, `?`, `[...]`, `{a,b}` and
// `**` (any number of directories); and a glob also matches everything below a directory it matches, so
// `conf`, `conf/*` and `conf/**` all match `conf/a/b.txt` (werf trims trailing `*` segments and appends
// `**/*`). `*.tmpl` matches only at the top; `**/*.txt` at any depth. `*` matches dotfiles.

import { createReadStream, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ConfigError } from '../errors.js';
import * as gitCli from './git.js';
import { openCommittedBlob } from './git-blob-reader.js';
import type { CommitEntry, CommitInfo, GitStatus } from './git.js';
import type { GiterminismConfig } from './giterminism.js';

export type { CommitInfo } from './git.js';

// ---------------------------------------------------------------------------------------------------------
// Public types

export interface ProjectFile {
  /** Relative to the project directory, posix. */
  path: string;
  /** The git-normalised mode: 0o100644, 0o100755 (any user-executable bit) or 0o120000 (symlink). */
  mode: number;
  type: 'file' | 'symlink';
}

/**
 * Why a file is read; it selects the werf-giterminism.yaml allowance that may let the working-tree copy be
 * read instead of the committed one. `giterminism` (werf-giterminism.yaml itself) has no allowance.
 */
export type FilePurpose = 'config' | 'template' | 'dockerfile' | 'dockerignore' | 'context' | 'files' | 'giterminism';

export type ProjectFilesSource = 'commit' | 'worktree' | 'filesystem';

export interface ProjectFiles {
  /** Absolute. */
  readonly projectDir: string;
  /** The top of the git work tree (as git reports it), or undefined outside git. */
  readonly workTree: string | undefined;
  /** HEAD, or undefined outside git or in a repository without commits. */
  readonly commit: CommitInfo | undefined;
  readonly dev: boolean;
  readonly looseGiterminism: boolean;
  /** Where file contents come from (see the module comment). */
  readonly source: ProjectFilesSource;
  /** The giterminism allowances in effect (empty unless given). */
  readonly giterminism: GiterminismConfig;

  /** The content of a file (symlinks followed). Throws ProjectFileError (a ConfigError). Default purpose `files`. */
  readFile(path: string, purpose?: FilePurpose): Buffer;
  /** The same checks as readFile, streamed (for large build-context files). */
  openStream(path: string, purpose?: FilePurpose): Readable;
  /** The target of a symlink (not followed), with the same checks as readFile. */
  readLink(path: string, purpose?: FilePurpose): string;
  /** Whether a file or directory exists in this view (`.Files.Exists`). Default purpose `files`. */
  exists(path: string, purpose?: FilePurpose): boolean;
  /** Whether a directory exists in this view (`.Files.IsDir`). Default purpose `files`. */
  isDir(path: string, purpose?: FilePurpose): boolean;
  /**
   * Sorted paths of the files matching a glob (`.Files.Glob`; templates with `.werf/**\/*.tmpl`). In the commit
   * source, matching files with uncommitted changes or untracked matching files are an error, as in werf.
   * Default purpose `files`.
   */
  glob(pattern: string, purpose?: FilePurpose): string[];
  /**
   * Every file and symlink under `dir` (or `dir` itself when it is a file), sorted by path, for build
   * contexts. In the commit source: the committed files, with the working-tree copies of files the purpose
   * allows (default purpose `context`, i.e. allowContextAddFiles) laid over them. Submodules are skipped.
   */
  listFiles(dir: string, purpose?: FilePurpose): ProjectFile[];
  /**
   * In the commit source, the paths under `dir` whose working-tree state differs from the commit (changed,
   * deleted or untracked and not ignored), excluding paths the purpose allows (default `context`); sorted.
   * Always empty for the other sources. The build step filters these through .dockerignore and reports the
   * rest with uncommittedFilesError().
   */
  uncommittedFiles(dir?: string, purpose?: FilePurpose): string[];
  /** The same files (sharing the git state already read) with other giterminism allowances. */
  withGiterminism(config: GiterminismConfig): ProjectFiles;
}

export interface OpenProjectFilesOptions {
  /** Absolute, or relative to the process's cwd. */
  projectDir: string;
  /** --git-work-tree; found by searching upward from the project directory when absent. */
  gitWorkTree?: string;
  dev?: boolean;
  /** --dev-ignore globs: in dev mode, paths matching them keep their committed state. */
  devIgnore?: readonly string[];
  looseGiterminism?: boolean;
  giterminism?: GiterminismConfig;
}

export type ProjectFileErrorReason = 'uncommitted' | 'untracked' | 'not-found' | 'outside' | 'not-a-file' | 'submodule';

/** A ConfigError about one project file (or several), with a machine-readable reason. */
export class ProjectFileError extends ConfigError {
  readonly reason: ProjectFileErrorReason;
  /** The paths concerned, relative to the project directory. */
  readonly paths: readonly string[];
  constructor(reason: ProjectFileErrorReason, paths: readonly string[], message: string, hint?: string) {
    super(message, hint === undefined ? {} : { hint });
    this.reason = reason;
    this.paths = paths;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Messages (werf's wording, pkg/giterminism_manager/file_reader/errors.go, with "slipway" for "werf")

export const GITERMINISM_DOCS_URL = 'https://werf.io/docs/latest/usage/project_configuration/giterminism.html';

const GITERMINISM_NOTE =
  "To provide a strong guarantee of reproducibility, slipway (like werf) reads the configuration and build's context " +
  'files from the project git repository, and eliminates external dependencies. We strongly recommend following this ' +
  'approach, but if necessary, you can allow the reading of specific files directly from the file system and enable ' +
  'the features that require careful use in werf-giterminism.yaml. Read more about giterminism and how to manage it ' +
  `here: ${GITERMINISM_DOCS_URL}.`;

const DEV_MODE_NOTE =
  'You might also be interested in developer mode (activated with --dev option) that allows you to work with ' +
  'uncommitted changes without doing redundant commits during debugging and development.';

/** The werf-giterminism.yaml directive that lets a purpose read working-tree files. */
export function allowanceKeyFor(purpose: FilePurpose): string | undefined {
  switch (purpose) {
    case 'config':
      return 'config.allowUncommitted: true';
    case 'template':
      return 'config.allowUncommittedTemplates: [<glob>]';
    case 'files':
      return 'config.goTemplateRendering.allowUncommittedFiles: [<glob>]';
    case 'dockerfile':
      return 'config.dockerfile.allowUncommitted: [<glob>]';
    case 'dockerignore':
      return 'config.dockerfile.allowUncommittedDockerignoreFiles: [<glob>]';
    case 'context':
      return 'config.dockerfile.allowContextAddFiles: [<path>]';
    case 'giterminism':
      return undefined;
  }
}

function listOfFiles(paths: readonly string[]): string {
  return paths.map((p) => ` - ${p}`).join('\n');
}

/** `the file "X" must be committed` / `the following files must be committed: ...`, with werf's hints. */
export function uncommittedFilesError(paths: readonly string[], purpose: FilePurpose = 'files'): ProjectFileError {
  const message =
    paths.length === 1
      ? `the file "${paths[0] ?? ''}" must be committed`
      : `the following files must be committed:\n\n${listOfFiles(paths)}`;
  const key = allowanceKeyFor(purpose);
  const allow = key === undefined ? '' : `\nTo read ${paths.length === 1 ? 'it' : 'them'} from the working tree instead, allow ${paths.length === 1 ? 'it' : 'them'} in werf-giterminism.yaml (${key}).`;
  return new ProjectFileError('uncommitted', paths, message, `${DEV_MODE_NOTE}${allow}\n\n${GITERMINISM_NOTE}`);
}

/** No git work tree around the project (commands that cannot work without git replace the hint). */
export class NoGitWorkTreeError extends ConfigError {
  constructor(readonly projectDir: string, message: string, hint: string) {
    super(message, { hint });
  }
}

/** The no-git-work-tree error of werf's `common.GetGiterminismManager`, for the absolute project dir. */
export function noGitWorkTreeError(absDir: string): NoGitWorkTreeError {
  return new NoGitWorkTreeError(
    absDir,

    `slipway requires a git work tree for the project to exist: unable to find a valid .git in the current directory "${absDir}" or parent directories, you may also specify git work tree explicitly with --git-work-tree option (or SLIPWAY_GIT_WORK_TREE / WERF_GIT_WORK_TREE env var)`,
    'initialise a repository and commit the project ("git init && git add -A && git commit"), or use --dev or --loose-giterminism to read the files as they are',
  );
}

// ---------------------------------------------------------------------------------------------------------
// Globs: doublestar v4 matching, and werf's path matcher on top of it

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
function cleanPath(p: string): string {
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

// ---------------------------------------------------------------------------------------------------------
// Paths

function normalizeRelative(input: string, what: string): string {
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
  if (cleaned === '..' || cleaned.startsWith('../')) {
    throw new ProjectFileError('outside', [input], `the ${what} "${input}" is outside the project directory`);
  }
  return cleaned;
}

function joinW(a: string, b: string): string {
  if (a === '') return b;
  if (b === '') return a;
  return `${a}/${b}`;
}

function isUnder(w: string, dir: string): boolean {
  return dir === '' || w === dir || w.startsWith(`${dir}/`);
}

function gitMode(stats: { mode: number; isSymbolicLink(): boolean }): number {
  if (stats.isSymbolicLink()) return 0o120000;
  return stats.mode & 0o100 ? 0o100755 : 0o100644;
}

function sameContent(committed: Buffer, local: Buffer): boolean {
  if (committed.equals(local)) return true;
  // werf also accepts a working-tree copy that differs only by CRLF line breaks (core.autocrlf checkouts).
  if (!local.includes('\r\n')) return false;
  return committed.equals(Buffer.from(local.toString('latin1').replaceAll('\r\n', '\n'), 'latin1'));
}

// ---------------------------------------------------------------------------------------------------------
// Trees: the commit, the working tree seen by git, the plain file system; and symlink resolution over them

type NodeKind = 'file' | 'dir' | 'symlink' | 'submodule' | 'missing';

interface Tree {
  /** What is at `w`, without following a final symlink. */
  kind(w: string): NodeKind;
  readLink(w: string): string;
  /** Where a link's target leads, as a w path; undefined when it leaves the tree. */
  targetOf(linkW: string, target: string): string | undefined;
}

interface Resolved {
  w: string;
  kind: NodeKind;
  /** Every symlink followed on the way. */
  links: string[];
}

const MAX_SYMLINKS = 40;

function relativeTarget(linkW: string, target: string): string | undefined {
  if (target === '' || path.posix.isAbsolute(target)) return undefined;
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(linkW), target));
  if (joined === '..' || joined.startsWith('../')) return undefined;
  return cleanPath(joined);
}

// ---------------------------------------------------------------------------------------------------------
// Git state shared by views with different allowances

class GitState {
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

// ---------------------------------------------------------------------------------------------------------
// The implementation

interface Located {
  source: 'fs' | 'commit';
  w: string;
  kind: NodeKind;
  entry?: CommitEntry;
}

interface Setup {
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

const EMPTY_GITERMINISM: GiterminismConfig = { giterminismConfigVersion: 1 };

class ProjectFilesImpl implements ProjectFiles {
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

    const root = this.root;
    this.fsTree = {
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
    const git = this.git;
    this.commitTree = {
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
    const fsTree = this.fsTree;
    this.devTree = {
      kind(w) {
        if (w === '' || git === undefined) return fsTree.kind(w);
        const { files, dirs } = git.worktreeFiles();
        return files.has(w) || dirs.has(w) ? fsTree.kind(w) : 'missing';
      },
      readLink: fsTree.readLink,
      targetOf: fsTree.targetOf,
    };
  }

  withGiterminism(config: GiterminismConfig): ProjectFiles {
    return new ProjectFilesImpl(this.setup, config);
  }

  // --- path helpers

  private toW(p: string): string {
    return joinW(this.prefix, p);
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
              [this.display(w)],
              `too many levels of symbolic links while resolving "${this.display(w)}"`,
            );
          }
          const linkTarget = tree.readLink(next);
          const targetW = tree.targetOf(next, linkTarget);
          if (targetW === undefined) {
            throw new ProjectFileError(
              'outside',
              [this.display(next)],
              `the symlink "${this.display(next)}" points outside the ${this.treeName()}: "${linkTarget}"`,
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
              [this.display(w)],
              `the path "${this.display(w)}" is inside the git submodule "${this.display(current)}", which slipway does not read`,
            );
          }
          return { w: joinW(current, rest), kind: 'missing', links };
        }
      }
      return { w: current, kind, links };
    };
    return walk(w, followLast);
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
    const p = normalizeRelative(input, 'file path');
    const located = this.locate(p, purpose, true);
    if (located.kind === 'dir') throw this.notAFile(p);
    if (located.source === 'fs') return readFileSync(this.abs(located.w));
    return this.blobOf(located, p);
  }

  openStream(input: string, purpose: FilePurpose = 'files'): Readable {
    const p = normalizeRelative(input, 'file path');
    const located = this.locate(p, purpose, true);
    if (located.kind === 'dir') throw this.notAFile(p);
    if (located.source === 'fs') return createReadStream(this.abs(located.w));
    if (located.entry === undefined || this.git === undefined) throw this.notFoundInRepository(p);
    return openCommittedBlob(this.git.workTree, located.entry.objectId, gitCli.gitEnv());
  }

  readLink(input: string, purpose: FilePurpose = 'files'): string {
    const p = normalizeRelative(input, 'file path');
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
    const p = normalizeRelative(input, 'path');
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
    const d = normalizeRelative(dir, 'directory');
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
    const wDir = this.toW(normalizeRelative(dir, 'directory'));
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
        const p = this.underProject(w);
        if (p === undefined || this.accepted(purpose, p)) continue;
        if (git.isChanged(w)) result.add(p);
      }
    }
    return [...result].sort();
  }
}

function normalizeSafe(p: string): string {
  try {
    return normalizeRelative(p, 'glob');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Opening

function realDirectory(dir: string, what: string): string {
  const stats = statSync(dir, { throwIfNoEntry: false });
  if (stats === undefined) throw new ConfigError(`the ${what} "${dir}" does not exist`);
  if (!stats.isDirectory()) throw new ConfigError(`the ${what} "${dir}" is not a directory`);
  return realpathSync(dir);
}

/**
 * Opens the project's files. Finds the git work tree (unless given), reads HEAD, and picks the source:
 * `filesystem` under --loose-giterminism (or --dev outside git), `worktree` under --dev, `commit` otherwise.
 * Without a work tree and without --dev/--loose-giterminism this throws werf's "requires a git work tree".
 * The listing and status of the commit are read lazily, once.
 */
export function openProjectFiles(options: OpenProjectFilesOptions): ProjectFiles {
  const projectDir = path.resolve(options.projectDir);
  const realProject = realDirectory(projectDir, 'project directory');
  const dev = options.dev ?? false;
  const loose = options.looseGiterminism ?? false;

  let workTree: string | undefined;
  if (options.gitWorkTree !== undefined && options.gitWorkTree !== '') {
    const given = path.resolve(options.gitWorkTree);
    realDirectory(given, 'git work tree');
    workTree = gitCli.findWorkTree(given);
    if (workTree === undefined) {
      throw new ConfigError(`the git work tree "${given}" is not a git work tree: unable to find a valid .git there`, {
        hint: 'check --git-work-tree (or SLIPWAY_GIT_WORK_TREE / WERF_GIT_WORK_TREE)',
      });
    }
  } else {
    workTree = gitCli.findWorkTree(realProject);
  }

  let root = realProject;
  let prefix = '';
  let git: GitState | undefined;
  let commit: CommitInfo | undefined;
  if (workTree !== undefined) {
    const realWorkTree = realpathSync(workTree);
    const relative = path.relative(realWorkTree, realProject);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new ConfigError(`the project directory "${projectDir}" is not inside the git work tree "${workTree}"`, {
        hint: 'point --dir at a directory of the work tree, or --git-work-tree at the repository containing it',
      });
    }
    root = realWorkTree;
    prefix = relative.split(path.sep).join('/');
    commit = gitCli.headCommit(workTree);
    git = new GitState(workTree, realWorkTree, commit);
  } else if (!dev && !loose) {
    throw noGitWorkTreeError(projectDir);
  }

  const source: ProjectFilesSource = loose || git === undefined ? 'filesystem' : dev ? 'worktree' : 'commit';
  return new ProjectFilesImpl(
    {
      projectDir,
      root,
      prefix,
      workTree,
      commit,
      source,
      dev,
      loose,
      devIgnore: options.devIgnore ?? [],
      git,
    },
    options.giterminism ?? EMPTY_GITERMINISM,
  );
}
