// Where a work tree's repository is, and whether slipway may read it in-process (git-reader.ts) or must leave it
// to the git command line (git.ts). The answer errs towards git: anything this module does not fully understand
// makes git answer, so that reading in-process never changes an answer.
//
// Discovery follows git's (setup.c): from the start directory upward, a `.git` directory or a `.git` file
// ("gitdir: <path>", linked worktrees and submodules; the git directory then names its common directory in
// `commondir`). git stops at a file-system boundary and at GIT_CEILING_DIRECTORIES, refuses a repository owned by
// another user (safe.directory), and treats a directory that is itself a git directory (inside `.git`, a bare
// repository) as no work tree; in all those cases git is asked. GIT_DIR, GIT_WORK_TREE, GIT_OBJECT_DIRECTORY and the
// other variables gitEnv() removes never reach the git slipway runs, so they do not count here either.
//
// A repository is left to git when its config uses a format or extension not handled here (repository format
// version above 1, `extensions.objectFormat` other than sha1, `extensions.refStorage` or any other extension),
// when `core.worktree` points elsewhere or `core.bare` is set for a work tree, when replace refs or grafts change
// what objects say, or when the environment changes what git reads (GIT_REPLACE_REF_BASE, GIT_GRAFT_FILE, config
// given through GIT_CONFIG_PARAMETERS / GIT_CONFIG_COUNT).

import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { SHA1_HEX } from './git-format.js';

export interface RepositoryLayout {
  /** The top of the work tree; undefined for a bare repository. */
  workTree: string | undefined;
  /** `.git`, the directory a `.git` file names, or the bare repository. */
  gitDir: string;
  /** Where objects, shared refs and the config live (gitDir but for linked worktrees). */
  commonDir: string;
  objectsDir: string;
  indexFile: string;
}

export type WorkTreeSearch = { kind: 'work-tree'; top: string } | { kind: 'none' } | { kind: 'ask-git' };

const CONFIG_ENV = ['GIT_REPLACE_REF_BASE', 'GIT_GRAFT_FILE', 'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT'];
const HANDLED_EXTENSIONS = new Set(['objectformat', 'worktreeconfig', 'noop', 'preciousobjects', 'partialclone']);

function setInEnvironment(name: string): boolean {
  const value = process.env[name];
  return value !== undefined && value !== '';
}

function lstatOrUndefined(file: string): ReturnType<typeof lstatSync> | undefined {
  return lstatSync(file, { throwIfNoEntry: false });
}

function isDir(dir: string): boolean {
  return statSync(dir, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/**
 * The work tree containing `startDir` as git would find it: its top (a real path), none, or ask-git when the
 * search meets anything git decides in ways not reproduced here.
 */
export function searchWorkTree(startDir: string): WorkTreeSearch {
  if (setInEnvironment('GIT_CEILING_DIRECTORIES')) return { kind: 'ask-git' };
  try {
    let dir = realpathSync(startDir);
    const device = statSync(dir).dev;
    for (;;) {
      const dotGit = path.join(dir, '.git');
      const stats = lstatOrUndefined(dotGit);
      if (stats !== undefined) {
        if (stats.isDirectory()) return isGitDirectory(dotGit) ? { kind: 'work-tree', top: dir } : { kind: 'ask-git' };
        if (stats.isFile()) return gitFileTarget(dotGit) !== undefined ? { kind: 'work-tree', top: dir } : { kind: 'ask-git' };
        return { kind: 'ask-git' };
      }
      // Inside a git directory or a bare repository: git has no work tree to show.
      if (isGitDirectory(dir)) return { kind: 'ask-git' };
      const parent = path.dirname(dir);
      if (parent === dir) return { kind: 'none' };
      // git does not cross into another file system (GIT_DISCOVERY_ACROSS_FILESYSTEM): let it say so.
      if (statSync(parent).dev !== device) return { kind: 'ask-git' };
      dir = parent;
    }
  } catch {
    return { kind: 'ask-git' };
  }
}

/** git's is_git_directory: a valid HEAD, and objects/ and refs/ in the (common) directory. */
export function isGitDirectory(dir: string): boolean {
  const head = lstatOrUndefined(path.join(dir, 'HEAD'));
  if (head === undefined) return false;
  if (head.isSymbolicLink()) {
    if (!readlinkSync(path.join(dir, 'HEAD')).startsWith('refs/')) return false;
  } else if (head.isFile()) {
    const text = readFileSync(path.join(dir, 'HEAD'), 'utf8').replace(/\r?\n$/, '');
    if (!/^ref:\s*refs\//.test(text) && !SHA1_HEX.test(text)) return false;
  } else {
    return false;
  }
  const common = commonDirOf(dir);
  return common !== undefined && isDir(path.join(common, 'objects')) && isDir(path.join(common, 'refs'));
}

/** The common directory a git directory names in `commondir` (relative to it), or the directory itself. */
function commonDirOf(gitDir: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(gitDir, 'commondir'), 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? gitDir : undefined;
  }
  const value = text.replace(/\r?\n$/, '');
  return value === '' ? undefined : path.resolve(gitDir, value);
}

/** The git directory a `.git` file names ("gitdir: <path>", relative to the file's directory), when valid. */
function gitFileTarget(file: string): string | undefined {
  const text = readFileSync(file, 'utf8');
  if (!text.startsWith('gitdir: ')) return undefined;
  const value = text.slice('gitdir: '.length).replace(/\s+$/, '');
  if (value === '') return undefined;
  const target = path.resolve(path.dirname(file), value);
  return isGitDirectory(target) ? target : undefined;
}

/**
 * The layout of the repository at `dir` (a work tree's top, or a bare repository) when slipway reads it
 * in-process; undefined when git must (see the top of this file). Never throws.
 */
export function readableLayout(dir: string): RepositoryLayout | undefined {
  try {
    return layoutOf(dir);
  } catch {
    return undefined;
  }
}

function layoutOf(dir: string): RepositoryLayout | undefined {
  if (CONFIG_ENV.some(setInEnvironment)) return undefined;
  const top = realpathSync(dir);
  const dotGit = path.join(top, '.git');
  const dotGitStats = lstatOrUndefined(dotGit);
  let workTree: string | undefined;
  let gitDir: string | undefined;
  if (dotGitStats?.isDirectory()) {
    workTree = top;
    gitDir = isGitDirectory(dotGit) ? dotGit : undefined;
  } else if (dotGitStats?.isFile()) {
    workTree = top;
    gitDir = gitFileTarget(dotGit);
  } else if (dotGitStats === undefined && isGitDirectory(top)) {
    gitDir = top; // a bare repository (a stapel `git.url` mirror)
  }
  if (gitDir === undefined) return undefined;
  gitDir = realpathSync(gitDir);
  const commonDir = commonDirOf(gitDir);
  if (commonDir === undefined) return undefined;

  if (!ownedByUs([top, ...(dotGitStats === undefined ? [] : [dotGit]), gitDir, commonDir])) return undefined;

  const config = readConfig(path.join(commonDir, 'config'));
  if (config === undefined) return undefined;
  const formatVersion = config.get('core.repositoryformatversion') ?? '0';
  if (formatVersion !== '0' && formatVersion !== '1') return undefined;
  for (const [key, value] of config) {
    if (!key.startsWith('extensions.')) continue;
    const name = key.slice('extensions.'.length);
    if (!HANDLED_EXTENSIONS.has(name)) return undefined;
    if (name === 'objectformat' && value.toLowerCase() !== 'sha1') return undefined;
  }
  const core = new Map(config);
  if (parseBoolean(config.get('extensions.worktreeconfig') ?? 'false') === true) {
    const worktreeConfig = readConfig(path.join(gitDir, 'config.worktree'), true);
    if (worktreeConfig === undefined) return undefined;
    for (const [key, value] of worktreeConfig) core.set(key, value);
  }
  const bare = parseBoolean(core.get('core.bare') ?? 'false');
  if (bare === undefined) return undefined;
  if (workTree !== undefined) {
    if (bare) return undefined;
    const configured = core.get('core.worktree');
    if (configured !== undefined && realpathOrUndefined(path.resolve(gitDir, configured)) !== workTree) return undefined;
  }

  if (hasReplaceRefs(commonDir) || lstatOrUndefined(path.join(commonDir, 'info', 'grafts')) !== undefined) return undefined;
  const objectsDir = path.join(commonDir, 'objects');
  if (!isDir(objectsDir)) return undefined;
  return { workTree, gitDir, commonDir, objectsDir, indexFile: path.join(gitDir, 'index') };
}

/**
 * git (2.35.2 and later) refuses repositories whose directories another user owns, unless safe.directory says
 * otherwise: git is asked then, and decides (with the message and hint git.ts gives).
 */
function ownedByUs(paths: readonly string[]): boolean {
  const uid = process.geteuid?.();
  if (uid === undefined) return true;
  return paths.every((p) => lstatSync(p).uid === uid);
}

function realpathOrUndefined(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/** Whether refs/replace holds any ref, loose or packed: replaced objects are git's business. */
function hasReplaceRefs(commonDir: string): boolean {
  const hasFile = (dir: string): boolean => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    return entries.some((entry) => !entry.isDirectory() || hasFile(path.join(dir, entry.name)));
  };
  if (hasFile(path.join(commonDir, 'refs', 'replace'))) return true;
  let packed = '';
  try {
    packed = readFileSync(path.join(commonDir, 'packed-refs'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return packed.includes(' refs/replace/');
}

/** git's boolean values: true/yes/on/1 and false/no/off/0/empty; anything else is undefined. */
export function parseBoolean(value: string): boolean | undefined {
  const lower = value.toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(lower)) return true;
  if (['false', 'no', 'off', '0', ''].includes(lower)) return false;
  return undefined;
}

/**
 * The variables of a git config file as "section.key" or "section.subsection.key" (section and key lower case)
 * to their last value; undefined when the file does not parse here (git then reads it). A missing file is an
 * empty config when `optional`, else unreadable too.
 */
export function readConfig(file: string, optional = false): Map<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return optional && (error as NodeJS.ErrnoException).code === 'ENOENT' ? new Map() : undefined;
  }
  return parseConfig(text);
}

export function parseConfig(text: string): Map<string, string> | undefined {
  const values = new Map<string, string>();
  let section: string | undefined;
  // Lines ending in a backslash continue on the next line.
  const lines = text.replace(/\\\r?\n/g, '').split(/\r?\n/);
  for (const raw of lines) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      const header = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\\n]|\\.)*)")?\s*\](.*)$/.exec(line);
      if (header === null) return undefined;
      const name = header[1]!.toLowerCase();
      section = header[2] === undefined ? name : `${name}.${header[2].replace(/\\(.)/g, '$1')}`;
      line = header[3]!.trim();
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    }
    if (section === undefined) return undefined;
    const entry = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=(.*))?$/.exec(line);
    if (entry === null) return undefined;
    const value = entry[2] === undefined ? 'true' : configValue(entry[2]);
    if (value === undefined) return undefined;
    values.set(`${section}.${entry[1]!.toLowerCase()}`, value);
  }
  return values;
}

/** A value: quotes removed, escapes (\" \\ \n \t \b) read, an unquoted comment dropped, outer space trimmed. */
function configValue(raw: string): string | undefined {
  let out = '';
  let quoted = false;
  let pendingSpace = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\') {
      const next = raw[++i];
      const escaped = next === 'n' ? '\n' : next === 't' ? '\t' : next === 'b' ? '\b' : next === '"' || next === '\\' ? next : undefined;
      if (escaped === undefined) return undefined;
      out += pendingSpace + escaped;
      pendingSpace = '';
    } else if (c === '"') {
      out += pendingSpace;
      pendingSpace = '';
      quoted = !quoted;
    } else if (!quoted && (c === '#' || c === ';')) {
      break;
    } else if (!quoted && (c === ' ' || c === '\t')) {
      if (out !== '') pendingSpace += c;
    } else {
      out += pendingSpace + c;
      pendingSpace = '';
    }
  }
  return quoted ? undefined : out;
}
