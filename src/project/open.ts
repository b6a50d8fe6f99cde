// Opening a project: find the git work tree, read HEAD, pick the source (see types.ts), and read
// werf-giterminism.yaml through the opened files.

import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { noGitWorkTreeError, ProjectFileError } from './file-errors.js';
import * as gitCli from './git.js';
import type { CommitInfo } from './git.js';
import { GitState } from './git-state.js';
import { DEFAULT_GITERMINISM_CONFIG_PATH, EMPTY_GITERMINISM_CONFIG, parseGiterminismConfig, type GiterminismConfig } from './giterminism.js';
import { ProjectFilesImpl } from './project-files.js';
import type { OpenProjectFilesOptions, ProjectFiles, ProjectFilesSource } from './types.js';

const EMPTY_GITERMINISM: GiterminismConfig = { giterminismConfigVersion: 1 };

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

/**
 * Reads werf-giterminism.yaml (or `path`, relative to the project directory) through giterminism: from
 * the commit, and an uncommitted or untracked copy is an error. Absent everywhere: no relaxations.
 * Given a directory, opens it as a project first (default, commit source).
 */
export function loadGiterminismConfig(
  filesOrDir: ProjectFiles | string,
  path: string = DEFAULT_GITERMINISM_CONFIG_PATH,
): GiterminismConfig {
  const files = typeof filesOrDir === 'string' ? openProjectFiles({ projectDir: filesOrDir }) : filesOrDir;
  let data: Buffer;
  try {
    data = files.readFile(path, 'giterminism');
  } catch (error) {
    if (error instanceof ProjectFileError && error.reason === 'not-found') return EMPTY_GITERMINISM_CONFIG;
    if (error instanceof ConfigError) {
      throw new ConfigError(`unable to read werf giterminism config: ${error.message}`, {
        cause: error,
        ...(error.hint === undefined ? {} : { hint: error.hint }),
      });
    }
    throw error;
  }
  return parseGiterminismConfig(data.toString('utf8'), path);
}

/**
 * Opens the project files, reads werf-giterminism.yaml through them, and returns the files with those
 * allowances in effect (git is read once).
 */
export function openProjectFilesWithGiterminism(
  options: Omit<OpenProjectFilesOptions, 'giterminism'> & { giterminismConfigPath?: string },
): ProjectFiles {
  const { giterminismConfigPath, ...rest } = options;
  const base = openProjectFiles(rest);
  const config = loadGiterminismConfig(base, giterminismConfigPath || DEFAULT_GITERMINISM_CONFIG_PATH);
  return base.withGiterminism(config);
}
