// Temporary directories and git repositories for tests, in real git.
//
// Unit tests (synchronous): tempDir() makes a directory (real path, so it compares equal to what git reports)
// that removeTempDirs() deletes, to be registered with `afterEach(removeTempDirs)`; makeRepo() makes a
// repository on branch `main` with a test identity, no signing and no CRLF conversion, optionally from a
// fixture directory and files, committed.
//
// Integration tests (asynchronous): tempDirs() keeps a test file's temporary directories in one list, removed
// with `afterAll(temp.removeAll)`; gitAsync() runs git with a test identity; commitAsync() commits everything
// in a project directory, initialising the repository first when asked.

import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const created: string[] = [];

/** A new empty directory under the system temp dir (its real path), removed by removeTempDirs(). */
export function tempDir(prefix = 'slipway-test-'): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
  created.push(dir);
  return dir;
}

/** Removes every directory tempDir() made so far. */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Runs git in `dir` with `env` added to the environment (GIT_DIR from outside never applies); its stdout. */
export function gitWith(env: NodeJS.ProcessEnv, dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_DIR: undefined, ...env } });
}

/** Runs git in `dir`; its stdout. */
export function git(dir: string, ...args: string[]): string {
  return gitWith({}, dir, ...args);
}

/** Writes files (paths relative to `dir`, parent directories created). */
export function writeFiles(dir: string, files: Readonly<Record<string, string | Buffer>>): void {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

/** Writes one file (parent directories created). */
export function write(dir: string, rel: string, content: string | Buffer): void {
  writeFiles(dir, { [rel]: content });
}

/** `git init` on branch main, with a test identity, no commit signing and no CRLF conversion. */
export function initRepo(dir: string): void {
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.email', 'test@example.com');
  git(dir, 'config', 'user.name', 'Test');
  git(dir, 'config', 'commit.gpgsign', 'false');
  git(dir, 'config', 'core.autocrlf', 'false');
}

/** Stages everything and commits it (hooks skipped); `env` can fix the commit dates. */
export function commitAll(dir: string, message = 'commit', env: NodeJS.ProcessEnv = {}): void {
  gitWith(env, dir, 'add', '-A');
  gitWith(env, dir, 'commit', '-q', '--no-verify', '-m', message);
}

export interface MakeRepoOptions {
  /** The temp directory's name prefix. */
  prefix?: string;
  /** A directory copied into the repository before `files` are written. */
  fixture?: string;
  /** Added to git's environment for the first commit (GIT_AUTHOR_DATE, GIT_COMMITTER_DATE). */
  env?: NodeJS.ProcessEnv;
}

/**
 * A temporary repository (see initRepo) holding the fixture and the files; when there are any, they are
 * committed in one commit, otherwise the repository has no commit yet.
 */
export function makeRepo(files: Readonly<Record<string, string | Buffer>> = {}, options: MakeRepoOptions = {}): string {
  const dir = tempDir(options.prefix);
  initRepo(dir);
  if (options.fixture !== undefined) cpSync(options.fixture, dir, { recursive: true });
  writeFiles(dir, files);
  if (options.fixture !== undefined || Object.keys(files).length > 0) commitAll(dir, 'commit', options.env);
  return dir;
}

/** The temporary directories one test file makes: make() creates each under $TMPDIR, removeAll() deletes them all. */
export interface TempDirs {
  /** A new empty directory `$TMPDIR/<prefix>XXXXXX` (the path mkdtemp returns), remembered for removeAll(). */
  make(prefix: string): Promise<string>;
  /** Deletes every directory make() returned so far (for `afterAll(temp.removeAll)`; safe to call again). */
  removeAll(): Promise<void>;
}

/** A new list of temporary directories; register its removeAll with afterAll in the test file that makes it. */
export function tempDirs(): TempDirs {
  const made: string[] = [];
  return {
    async make(prefix: string): Promise<string> {
      const dir = await mkdtemp(path.join(tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    async removeAll(): Promise<void> {
      await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}

const execFileAsync = promisify(execFile);

/** Runs git in `dir` with a test identity. */
export async function gitAsync(dir: string, ...args: string[]): Promise<void> {
  await execFileAsync('git', ['-c', 'user.email=t@example.org', '-c', 'user.name=t', ...args], { cwd: dir });
}

/** Commits everything in `dir` (`git init` first when `init`). */
export async function commitAsync(dir: string, message: string, options: { init?: boolean } = {}): Promise<void> {
  if (options.init === true) await gitAsync(dir, 'init', '-q');
  await gitAsync(dir, 'add', '-A');
  await gitAsync(dir, 'commit', '-qm', message);
}
