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
// This module holds the public types; project-files.ts implements them, open.ts opens a project, paths.ts
// and globs.ts hold the path rules, giterminism.ts the allowances.

import type { Readable } from 'node:stream';
import type { CommitInfo } from './git.js';
import type { GiterminismConfig } from './giterminism.js';

export type { CommitInfo } from './git.js';

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
