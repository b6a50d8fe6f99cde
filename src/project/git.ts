// The git operations slipway needs, and the one module that runs the `git` command line.
//
// A repository git-repository.ts finds ordinary is read in-process (git-reader.ts): the start-up reads (work tree,
// HEAD, the commit's listing, blobs) then spawn no process. Anything unusual about a repository, or a call the
// reader cannot answer (a missing object in a partial clone), falls through to the git command line below, whose
// answers are the reference; so do git status, ls-files and everything cleanup and stapel remotes need.
//
// Every call goes through spawnSync/spawn with an argument vector (never a shell), `-c core.quotepath=off`,
// and NUL-separated (`-z`) output where git offers it, so file names with spaces, quotes, newlines or
// non-ASCII characters come back verbatim. The API is synchronous because werf.yaml template functions
// (`.Files.Get`, `.Files.Glob`, ...) are synchronous; `openBlobStream` is the one streaming exception, for
// build contexts with large files.
//
// Paths given to and returned from this module are relative to the top of the work tree, posix style.

import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { ConfigError } from '../errors.js';
import { tryReader } from './git-reader.js';
import type { GitIndex } from './git-index.js';
import { searchWorkTree } from './git-repository.js';

/** Large enough for any blob or listing we read synchronously (config files, templates, tree listings). */
const MAX_BUFFER = 1024 * 1024 * 1024;

const GIT_HINT = 'install git (Debian/Ubuntu: "apt-get install git", package `git`) and make sure it is on PATH';

/** Variables that would make git look at another repository than the one we point it at. */
const REPOSITORY_ENV = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_NAMESPACE',
  'GIT_PREFIX',
];

export function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A hook or `git rebase --exec` exports GIT_DIR and friends; they would override the cwd-based discovery.
  for (const name of REPOSITORY_ENV) delete env[name];
  // `git status` refreshes the index and takes index.lock unless told not to; a read-only tool must not.
  env.GIT_OPTIONAL_LOCKS = '0';
  env.GIT_TERMINAL_PROMPT = '0';
  // Stable, parseable messages ("not a git repository", "dubious ownership").
  env.LC_ALL = 'C';
  env.LANGUAGE = 'C';
  return env;
}

function baseArgs(args: readonly string[]): string[] {
  return ['-c', 'core.quotepath=off', ...args];
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function gitMissingError(cause: unknown): ConfigError {
  return new ConfigError('the git command line tool is required but was not found', { cause, hint: GIT_HINT });
}

function firstLines(text: string, count = 3): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .slice(0, count)
    .join('; ');
}

interface RunOptions {
  input?: string | Buffer;
}

/** Runs git in `cwd`; the raw result, with spawn failures (git missing, cwd missing) turned into errors. */
function runGit(cwd: string, args: readonly string[], options: RunOptions = {}): SpawnSyncReturns<Buffer> {
  if (!isDirectory(cwd)) {
    throw new ConfigError(`the directory "${cwd}" does not exist or is not a directory`);
  }
  const result = spawnSync('git', baseArgs(args), {
    cwd,
    env: gitEnv(),
    maxBuffer: MAX_BUFFER,
    input: options.input,
    windowsHide: true,
  });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw gitMissingError(result.error);
    throw new ConfigError(`unable to run "git ${args.join(' ')}" in "${cwd}": ${result.error.message}`, {
      cause: result.error,
    });
  }
  return result;
}

function dubiousOwnershipError(cwd: string, stderr: string): ConfigError {
  return new ConfigError(`git refuses to read the repository at "${cwd}": ${firstLines(stderr, 1)}`, {
    hint: `the repository is owned by another user; if you trust it, run: git config --global --add safe.directory '${cwd}'`,
  });
}

/** Runs git and returns stdout; a non-zero exit becomes a ConfigError with git's own words. */
function git(cwd: string, args: readonly string[], options: RunOptions = {}): Buffer {
  const result = runGit(cwd, args, options);
  if (result.status !== 0) {
    const stderr = result.stderr.toString('utf8');
    if (/dubious ownership/i.test(stderr)) throw dubiousOwnershipError(cwd, stderr);
    const signal = result.signal ? ` (killed by ${result.signal})` : '';
    throw new ConfigError(
      `"git ${args.join(' ')}" failed in "${cwd}" with exit code ${String(result.status)}${signal}: ${firstLines(stderr) || 'no message'}`,
    );
  }
  return result.stdout;
}

function splitNul(buffer: Buffer): string[] {
  const text = buffer.toString('utf8');
  const parts = text.split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function stripFinalNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/**
 * The top of the git work tree containing `startDir` (its real path, as git reports it), or undefined when
 * `startDir` is in no work tree (or inside a `.git` directory, or in a bare repository).
 */
export function findWorkTree(startDir: string): string | undefined {
  if (!isDirectory(startDir)) return undefined;
  const search = searchWorkTree(startDir);
  if (search.kind === 'none') return undefined;
  // Decided again for every project opened: its config or replace refs may have changed since.
  if (search.kind === 'work-tree' && tryReader(search.top, () => true, { revalidate: true }) === true) return search.top;
  const result = runGit(startDir, ['rev-parse', '--show-toplevel']);
  const stderr = result.stderr.toString('utf8');
  if (result.status === 0) {
    const top = stripFinalNewline(result.stdout.toString('utf8'));
    // Inside .git, `--show-toplevel` succeeds with empty output on some versions.
    return top === '' ? undefined : top;
  }
  if (/dubious ownership/i.test(stderr)) throw dubiousOwnershipError(startDir, stderr);
  if (/not a git repository|must be run in a work tree|outside repository/i.test(stderr)) return undefined;
  throw new ConfigError(`unable to find the git work tree of "${startDir}": ${firstLines(stderr) || 'git failed'}`);
}

export interface CommitInfo {
  /** The full object name. */
  hash: string;
  /** The committer date (what werf exposes as `.Commit.Date`). */
  date: Date;
  /** The committer date in strict ISO 8601 with the committer's UTC offset, e.g. `2024-05-01T12:00:00+02:00`. */
  dateIso: string;
}

/** The HEAD commit, or undefined for a repository without commits (an unborn branch). */
export function headCommit(workTree: string): CommitInfo | undefined {
  const head = tryReader(workTree, (reader) => reader.head() ?? null);
  if (head === null) return undefined;
  if (head !== undefined) {
    const { committerSeconds, committerOffset } = head.commit;
    const dateIso = isoDate(committerSeconds, committerOffset);
    if (dateIso !== undefined) return { hash: head.hash, date: new Date(committerSeconds * 1000), dateIso };
  }
  const verify = runGit(workTree, ['rev-parse', '-q', '--verify', 'HEAD^{commit}']);
  if (verify.status !== 0) {
    const stderr = verify.stderr.toString('utf8');
    if (/dubious ownership/i.test(stderr)) throw dubiousOwnershipError(workTree, stderr);
    if (stderr.trim() !== '' && !/needed a single revision|unknown revision|bad revision/i.test(stderr)) {
      throw new ConfigError(`unable to read HEAD in "${workTree}": ${firstLines(stderr)}`);
    }
    return undefined;
  }
  const hash = verify.stdout.toString('utf8').trim();
  const fields = git(workTree, ['show', '-s', '--no-show-signature', '--format=%H%x00%ct%x00%cI', hash])
    .toString('utf8')
    .trim()
    .split('\0');
  const [fullHash = hash, seconds = '0', iso = ''] = fields;
  return { hash: fullHash, date: new Date(Number(seconds) * 1000), dateIso: iso };
}

/**
 * `%cI` as git 2.39 prints it: the committer's local time and offset, `+00:00` for a zero offset (also "-0000");
 * undefined for a year git would print otherwise (then git prints it).
 */
export function isoDate(seconds: number, offset: string): string | undefined {
  const hours = Number(offset.slice(1, 3));
  const minutes = Number(offset.slice(3, 5));
  const negative = offset.startsWith('-') && hours + minutes > 0;
  const shift = (negative ? -1 : 1) * (hours * 3600 + minutes * 60);
  const local = new Date((seconds + shift) * 1000);
  const year = local.getUTCFullYear();
  if (Number.isNaN(year) || year < 1000 || year > 9999) return undefined;
  return `${local.toISOString().slice(0, 19)}${negative ? '-' : '+'}${offset.slice(1, 3)}:${offset.slice(3, 5)}`;
}

export type CommitEntryType = 'file' | 'symlink' | 'submodule';

export interface CommitEntry {
  /** The git mode as a number, e.g. 0o100644, 0o100755, 0o120000, 0o160000. */
  mode: number;
  type: CommitEntryType;
  objectId: string;
}

const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

function checkObjectId(objectId: string): void {
  if (!OBJECT_ID.test(objectId)) throw new ConfigError(`invalid git object id "${objectId}"`);
}

/** Every blob, symlink and submodule of the commit's tree (recursively), keyed by work-tree-relative path. */
export function listCommitFiles(workTree: string, commit: string): Map<string, CommitEntry> {
  const listed = tryReader(workTree, (reader) => reader.listCommit(commit, false));
  if (listed !== undefined) return listed;
  return parseTree(git(workTree, ['ls-tree', '-r', '-z', '--full-tree', commit]));
}

export interface SizedCommitEntry extends CommitEntry {
  /** Bytes of the blob (0 for submodules). */
  size: number;
}

/**
 * listCommitFiles with each blob's size (`git ls-tree -l`): what stapel git stages archive and patch. (Sizes make
 * git read every object header, which the start-up listing does without.)
 */
export function listCommitTree(workTree: string, commit: string): Map<string, SizedCommitEntry> {
  const listed = tryReader(workTree, (reader) => reader.listCommit(commit, true));
  if (listed !== undefined) return listed as Map<string, SizedCommitEntry>;
  return parseTree(git(workTree, ['ls-tree', '-r', '-z', '-l', '--full-tree', commit])) as Map<string, SizedCommitEntry>;
}

/** `git ls-tree -r -z` records: "<mode> SP <type> SP <object>[ SP+ <size>] TAB <path>"; a size is kept when listed. */
function parseTree(output: Buffer): Map<string, CommitEntry & { size?: number }> {
  const entries = new Map<string, CommitEntry & { size?: number }>();
  for (const record of splitNul(output)) {
    const tab = record.indexOf('\t');
    if (tab < 0) continue;
    const [modeText = '', kind = '', objectId = '', sizeText] = record.slice(0, tab).split(/ +/);
    const path = record.slice(tab + 1);
    const mode = parseInt(modeText, 8);
    let type: CommitEntryType;
    if (kind === 'commit' || mode === 0o160000) type = 'submodule';
    else if (mode === 0o120000) type = 'symlink';
    else if (kind === 'blob') type = 'file';
    else continue;
    entries.set(path, { mode, type, objectId, ...(sizeText !== undefined ? { size: sizeText === '-' ? 0 : Number(sizeText) } : {}) });
  }
  return entries;
}

/** Whether `commit` names a commit of the repository. */
export function commitExists(workTree: string, commit: string): boolean {
  if (!OBJECT_ID.test(commit)) return false;
  const known = tryReader(workTree, (reader) => reader.peelToCommit(commit) !== undefined);
  if (known !== undefined) return known;
  return runGit(workTree, ['cat-file', '-e', `${commit}^{commit}`]).status === 0;
}

/**
 * A mirror of a remote repository (a local path or a `file://` URL; any URL git clones) in `cacheDir`, fetched
 * now, and the commit `ref` names there (`branch`, `tag`, `commit`, or the remote's HEAD). Stapel `git.url`.
 */
export function fetchRemoteRepository(url: string, cacheDir: string, ref: { branch?: string; tag?: string; commit?: string }): { dir: string; commit: string } {
  const key = createHash('sha256').update(url).digest('hex').slice(0, 32);
  const dir = join(cacheDir, key);
  mkdirSync(cacheDir, { recursive: true });
  const fail = (what: string, result: SpawnSyncReturns<Buffer>): never => {
    throw new ConfigError(`git repository ${redactUrl(url)}: ${what}: ${firstLines(result.stderr.toString('utf8')) || `exit code ${String(result.status)}`}`, {
      hint: 'check the url (a local path or file:// URL, or one git can clone) and that the repository is reachable',
    });
  };
  if (!existsSync(join(dir, 'HEAD'))) {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    const clone = runGit(cacheDir, ['clone', '--quiet', '--mirror', '--', url, tmp]);
    if (clone.status !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      fail('cannot clone it', clone);
    }
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another process made it meanwhile
    }
  } else {
    const fetch = runGit(dir, ['fetch', '--quiet', '--prune', '--force', 'origin', '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*']);
    if (fetch.status !== 0) fail('cannot fetch it', fetch);
  }
  const name = ref.commit ?? (ref.tag !== undefined ? `refs/tags/${ref.tag}` : ref.branch !== undefined ? `refs/heads/${ref.branch}` : 'HEAD');
  const resolved = runGit(dir, ['rev-parse', '-q', '--verify', `${name}^{commit}`]);
  if (resolved.status !== 0) {
    const what = ref.commit !== undefined ? `commit ${ref.commit}` : ref.tag !== undefined ? `tag ${ref.tag}` : ref.branch !== undefined ? `branch ${ref.branch}` : 'HEAD';
    throw new ConfigError(`git repository ${redactUrl(url)}: ${what} not found`, { hint: 'check branch, tag or commit in werf.yaml' });
  }
  return { dir, commit: resolved.stdout.toString('utf8').trim() };
}

/** user:password in a URL never reaches a message. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//***@');
}

/** The content of one blob. */
export function readBlob(workTree: string, objectId: string): Buffer {
  checkObjectId(objectId);
  const data = tryReader(workTree, (reader) => reader.readBlob(objectId));
  if (data !== undefined) return data;
  return git(workTree, ['cat-file', 'blob', objectId]);
}

/**
 * The contents of many blobs with one `git cat-file --batch` process (much faster than one process per
 * blob). Missing objects are an error. Everything is held in memory: use it for configuration-sized files.
 */
export function readBlobs(workTree: string, objectIds: readonly string[]): Map<string, Buffer> {
  const unique = [...new Set(objectIds)];
  const result = new Map<string, Buffer>();
  if (unique.length === 0) return result;
  for (const id of unique) checkObjectId(id);
  const read = tryReader(workTree, (reader) => new Map(unique.map((id) => [id, reader.readBlob(id)])));
  if (read !== undefined) return read;
  const output = git(workTree, ['cat-file', '--batch'], { input: unique.join('\n') + '\n' });
  let offset = 0;
  for (const id of unique) {
    const newline = output.indexOf(0x0a, offset);
    if (newline < 0) throw new ConfigError(`unexpected end of "git cat-file --batch" output while reading ${id}`);
    const header = output.subarray(offset, newline).toString('utf8');
    const [name = '', type = '', sizeText = ''] = header.split(' ');
    if (type === 'missing' || sizeText === '') {
      throw new ConfigError(`the git object ${id} is missing from the repository "${workTree}"`);
    }
    if (name !== id) throw new ConfigError(`unexpected "git cat-file --batch" output: ${header}`);
    const size = Number(sizeText);
    const start = newline + 1;
    result.set(id, Buffer.from(output.subarray(start, start + size)));
    offset = start + size + 1; // the content is followed by a newline
  }
  return result;
}

/** Streams one blob (for large build-context files); the stream errors when git fails. */
export function openBlobStream(workTree: string, objectId: string): Readable {
  checkObjectId(objectId);
  const stream = tryReader(workTree, (reader) => reader.openBlob(objectId));
  if (stream !== undefined) return stream;
  if (!isDirectory(workTree)) {
    throw new ConfigError(`the directory "${workTree}" does not exist or is not a directory`);
  }
  const child = spawn('git', baseArgs(['cat-file', 'blob', objectId]), {
    cwd: workTree,
    env: gitEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  // The output ends before git's exit status is known; hold the end back until then, so a failure
  // (a missing object) is an error on the stream rather than a silently short read.
  const output = new PassThrough();
  child.stdout.pipe(output, { end: false });
  const stderrChunks: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderrChunks.length < 16) stderrChunks.push(chunk);
  });
  child.on('error', (error: NodeJS.ErrnoException) => {
    output.destroy(error.code === 'ENOENT' ? gitMissingError(error) : error);
  });
  child.on('close', (code, signal) => {
    if (code === 0) {
      output.end();
      return;
    }
    const stderr = Buffer.concat(stderrChunks).toString('utf8');
    output.destroy(
      new ConfigError(
        `"git cat-file blob ${objectId}" failed with ${signal ? `signal ${signal}` : `exit code ${String(code)}`}: ${firstLines(stderr) || 'no message'}`,
      ),
    );
  });
  // A consumer that stops early must not leave git running.
  output.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
  return output;
}

/** Whether the repository of `workTree` is read in-process (see git-reader.ts). */
export function readsInProcess(workTree: string): boolean {
  return tryReader(workTree, () => true) === true;
}

/** The index of a repository read in-process, or undefined (none, unusable, or git reads the repository). */
export function indexOf(workTree: string): GitIndex | undefined {
  return tryReader(workTree, (reader) => reader.index());
}

export interface GitStatus {
  /** Tracked paths with staged or unstaged changes (content, mode, type), other than deletions. */
  modified: Set<string>;
  /** Untracked paths that .gitignore does not exclude. */
  untracked: Set<string>;
  /** Tracked paths deleted in the index or in the working tree (and the old side of a staged rename). */
  deleted: Set<string>;
}

/**
 * `git status --porcelain=v1 -z --untracked-files=all --no-renames`: what differs from HEAD, per path.
 * Ignored files (.gitignore, .git/info/exclude, core.excludesFile) are not reported.
 */
export function statusOf(workTree: string): GitStatus {
  const output = git(workTree, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames']);
  const status: GitStatus = { modified: new Set(), untracked: new Set(), deleted: new Set() };
  const records = splitNul(output);
  for (let i = 0; i < records.length; i++) {
    const record = records[i] ?? '';
    if (record.length < 4) continue;
    const x = record[0];
    const y = record[1];
    const path = record.slice(3);
    if (x === '?' && y === '?') {
      status.untracked.add(path);
      continue;
    }
    if (x === '!' && y === '!') continue;
    if (x === 'R' || x === 'C') {
      // With renames the original path follows as its own record; --no-renames should prevent this.
      const original = records[++i];
      if (x === 'R' && original !== undefined) status.deleted.add(original);
      status.modified.add(path);
      continue;
    }
    if (x === 'D' || y === 'D') status.deleted.add(path);
    else status.modified.add(path);
  }
  return status;
}

/**
 * The working tree as git sees it: tracked files (including ones deleted in the working tree but still in
 * the index) plus untracked files that .gitignore does not exclude. Sorted, unique.
 */
export function listWorkingTreeFiles(workTree: string): string[] {
  const output = git(workTree, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
  return [...new Set(splitNul(output))].sort();
}

export interface GitReferenceInfo {
  kind: 'branch' | 'tag';
  /** The branch name without `refs/remotes/origin/`, or the tag name without `refs/tags/`. */
  name: string;
  /** The commit the reference points at (an annotated tag peeled to its commit). */
  commit: string;
  /**
   * When the reference was made, as werf dates it for `references.limit`: the commit's committer date for a
   * branch and a lightweight tag, the tagger date of an annotated tag (a release tagged today on an old commit
   * is today's release).
   */
  date: Date;
  /** The committer date of `commit` (what `imagesPerReference.in` and the order of images go by). */
  commitDate: Date;
}

/**
 * The references cleanup's keep policies see, as werf's ReferencesToScan lists them
 * (pkg/cleaning/git_history_based_cleanup/reference_to_scan.go): the `origin` remote-tracking branches and
 * the tags. Local branches are not references: a branch that was never pushed keeps nothing. Tags that do not
 * lead to a commit (a tag of a tree or a blob) are left out; so is `origin/HEAD`.
 */
export function listReferences(workTree: string): GitReferenceInfo[] {
  // `creatordate` is the tagger date of a tag object and the committer date of a commit; `*` peels one level.
  const output = git(workTree, [
    'for-each-ref',
    '--format=%(refname)%00%(objecttype)%00%(objectname)%00%(creatordate:unix)%00%(*objecttype)%00%(*objectname)%00%(*committerdate:unix)',
    'refs/remotes/origin',
    'refs/tags',
  ]).toString('utf8');
  const references: GitReferenceInfo[] = [];
  for (const line of output.split('\n')) {
    if (line === '') continue;
    const [ref = '', type = '', object = '', created = '', peeledType = '', peeled = '', peeledTime = ''] = line.split('\0');
    let commit: string | undefined;
    let commitSeconds: string;
    if (type === 'commit') {
      commit = object;
      commitSeconds = created;
    } else if (type === 'tag' && peeledType === 'commit') {
      commit = peeled;
      commitSeconds = peeledTime;
    } else if (type === 'tag' && peeledType === 'tag') {
      // A tag of a tag: git peels one level in the format; resolve the commit with rev-parse.
      const resolved = runGit(workTree, ['rev-parse', '-q', '--verify', `${object}^{commit}`]);
      if (resolved.status !== 0) continue;
      commit = resolved.stdout.toString('utf8').trim();
      commitSeconds = git(workTree, ['show', '-s', '--no-show-signature', '--format=%ct', commit]).toString('utf8').trim();
    } else {
      continue;
    }
    if (created === '' || commitSeconds === '') continue;
    const date = new Date(Number(created) * 1000);
    const commitDate = new Date(Number(commitSeconds) * 1000);
    if (ref.startsWith('refs/tags/')) {
      references.push({ kind: 'tag', name: ref.slice('refs/tags/'.length), commit, date, commitDate });
      continue;
    }
    const name = ref.slice('refs/remotes/origin/'.length);
    if (name === 'HEAD') continue;
    references.push({ kind: 'branch', name, commit, date, commitDate });
  }
  return references;
}

/** `git rev-parse --is-shallow-repository`: whether the repository is a shallow clone (partial history). */
export function isShallowRepository(workTree: string): boolean {
  return git(workTree, ['rev-parse', '--is-shallow-repository']).toString('utf8').trim() === 'true';
}

/** The URL of the `origin` remote, or undefined when there is none. */
export function originUrl(workTree: string): string | undefined {
  const result = runGit(workTree, ['config', '--get', 'remote.origin.url']);
  if (result.status !== 0) return undefined;
  const url = result.stdout.toString('utf8').trim();
  return url === '' ? undefined : url;
}

/**
 * The very command werf's `SyncWithOrigin` runs before cleanup (pkg/git_repo/local.go, pkg/true_git/repository.go):
 * fetch every origin branch into `refs/remotes/origin/*`, pruning remote-tracking branches origin no longer has,
 * and with `unshallow` the whole history. Tags come along by git's automatic tag following (tags of fetched
 * commits). `--prune-tags` is werf's; with the explicit refspec git does not prune local tags, so a local tag
 * stays and counts, as in werf. This writes to the repository.
 */
export function fetchOriginBranchesAndTags(workTree: string, options: { unshallow: boolean }): void {
  git(workTree, [
    'fetch', ...(options.unshallow ? ['--unshallow'] : []), '--prune', '--prune-tags', 'origin', '+refs/heads/*:refs/remotes/origin/*',
  ]);
}

export interface HistoryCommit {
  hash: string;
  /** The committer date. */
  date: Date;
}

/** `git rev-list --timestamp <commit>`: the commit and its ancestors, newest first (git's default order). */
export function revList(workTree: string, commit: string): HistoryCommit[] {
  checkObjectId(commit);
  const output = git(workTree, ['rev-list', '--timestamp', commit]).toString('utf8');
  const commits: HistoryCommit[] = [];
  for (const line of output.split('\n')) {
    const space = line.indexOf(' ');
    if (space < 0) continue;
    commits.push({ hash: line.slice(space + 1), date: new Date(Number(line.slice(0, space)) * 1000) });
  }
  return commits;
}
