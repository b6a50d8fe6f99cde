// Whether a committed file changed in the working tree (GitState.isChanged, what giterminism asks for every file
// read from the commit) without `git status` when the index or the file's content settles it: the same answers as
// the git status based check, and no git process where none is needed (PATH without git proves it). Then the index
// reader itself against `git ls-files --stage` (versions 2, 3, 4) and its stat check.

import { chmodSync, rmSync, symlinkSync, unlinkSync, utimesSync, lstatSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { headCommit } from '../../src/project/git.js';
import { readIndex, statUnchanged } from '../../src/project/git-index.js';
import { GitState } from '../../src/project/git-state.js';
import { commitAll, git, gitWith, makeRepo, removeTempDirs, tempDir, write } from '../support/git-repo.js';

afterEach(removeTempDirs);

function withoutGit<T>(read: () => T): T {
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    return read();
  } finally {
    process.env.PATH = saved;
  }
}

function stateOf(repo: string): GitState {
  return new GitState(repo, repo, headCommit(repo));
}

/** The answer of the git status based check: git status read first, then only the paths it lists are compared. */
function byStatus(repo: string, w: string): boolean {
  const state = stateOf(repo);
  state.gitStatus();
  return state.isChanged(w);
}

/** Files dated a minute back with the index refreshed after: not racily clean, stat data in the index. */
function settled(files: Record<string, string>): string {
  const repo = makeRepo(files);
  const past = new Date(Date.now() - 60_000);
  for (const w of Object.keys(files)) utimesSync(path.join(repo, w), past, past);
  git(repo, 'update-index', '--refresh');
  return repo;
}

describe('GitState.isChanged', () => {
  it('answers unchanged files without any git process: stat data in the index, or the content hashed', () => {
    const repo = settled({ 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.sh': 'echo c\n', 'd.txt': 'd\n' });
    symlinkSync('a.txt', path.join(repo, 'link'));
    commitAll(repo, 'link');
    const touched = new Date(Date.now() - 10_000);
    utimesSync(path.join(repo, 'b.txt'), touched, touched); // same content, other stat data
    chmodSync(path.join(repo, 'c.sh'), 0o755); // a mode-only change (werf ignores those)
    writeFileSync(path.join(repo, 'd.txt'), 'staged\n');
    git(repo, 'add', 'd.txt');
    writeFileSync(path.join(repo, 'd.txt'), 'd\n'); // staged, then reverted in the working tree
    const state = stateOf(repo);
    for (const w of ['a.txt', 'b.txt', 'c.sh', 'd.txt', 'link']) {
      expect(withoutGit(() => state.isChanged(w)), w).toBe(false);
      expect(byStatus(repo, w), w).toBe(false);
    }
    // git status itself does list two of them.
    const listed = stateOf(repo).gitStatus().modified;
    expect([...listed].sort()).toEqual(['c.sh', 'd.txt']);
  });

  it('asks git status about real changes, and agrees with the git status based check', () => {
    const repo = settled({ 'changed.txt': 'a\n', 'crlf.txt': 'one\ntwo\n', 'deleted.txt': 'x\n', 'to-link.txt': 't\n', 'kept.txt': 'k\n' });
    symlinkSync('kept.txt', path.join(repo, 'retargeted'));
    commitAll(repo, 'link');
    writeFileSync(path.join(repo, 'changed.txt'), 'b\n');
    writeFileSync(path.join(repo, 'crlf.txt'), 'one\r\ntwo\r\n');
    rmSync(path.join(repo, 'deleted.txt'));
    unlinkSync(path.join(repo, 'to-link.txt'));
    symlinkSync('kept.txt', path.join(repo, 'to-link.txt'));
    unlinkSync(path.join(repo, 'retargeted'));
    symlinkSync('changed.txt', path.join(repo, 'retargeted'));
    const expected: Record<string, boolean> = { 'changed.txt': true, 'crlf.txt': false, 'deleted.txt': true, 'to-link.txt': true, retargeted: true, 'kept.txt': false };
    const state = stateOf(repo);
    for (const [w, changed] of Object.entries(expected)) {
      expect(state.isChanged(w), w).toBe(changed);
      expect(byStatus(repo, w), w).toBe(changed);
    }
  });

  it('leaves a file git status calls clean clean, though its bytes differ from the blob (a clean filter, skip-worktree)', () => {
    const repo = makeRepo();
    git(repo, 'config', 'filter.upper.clean', 'tr a-z A-Z');
    git(repo, 'config', 'filter.upper.smudge', 'cat');
    write(repo, '.gitattributes', '*.up filter=upper\n');
    write(repo, 'a.up', 'hello\n');
    write(repo, 'skipped.txt', 'skip\n');
    commitAll(repo, 'filtered');
    expect(git(repo, 'cat-file', 'blob', 'HEAD:a.up')).toBe('HELLO\n');
    const later = new Date(Date.now() + 5_000);
    utimesSync(path.join(repo, 'a.up'), later, later); // stat data differs from the index: the content is hashed
    git(repo, 'update-index', '--skip-worktree', 'skipped.txt');
    writeFileSync(path.join(repo, 'skipped.txt'), 'changed but skipped\n');
    const state = stateOf(repo);
    for (const w of ['a.up', 'skipped.txt']) {
      expect(state.isChanged(w), w).toBe(false);
      expect(byStatus(repo, w), w).toBe(false);
    }
    // The hash alone would have called them changed: git status had to be asked.
    expect(() => withoutGit(() => stateOf(repo).isChanged('a.up'))).toThrow(/git/);
  });

  it('uses git status alone in a repository read by git (SHA-256)', () => {
    const repo = tempDir();
    git(repo, 'init', '-q', '--object-format=sha256', '-b', 'main');
    write(repo, 'a.txt', 'a\n');
    write(repo, 'b.txt', 'b\n');
    gitWith({}, repo, 'add', '-A');
    gitWith({}, repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'c');
    writeFileSync(path.join(repo, 'b.txt'), 'B\n');
    const state = stateOf(repo);
    expect(state.isChanged('a.txt')).toBe(false);
    expect(state.isChanged('b.txt')).toBe(true);
    expect(() => withoutGit(() => stateOf(repo).isChanged('a.txt'))).toThrow(/git/);
  });
});

describe('the index reader', () => {
  function lsFilesStage(repo: string): Map<string, { mode: number; objectId: string }> {
    const entries = new Map<string, { mode: number; objectId: string }>();
    for (const record of git(repo, 'ls-files', '--stage', '-z').split('\0')) {
      if (record === '') continue;
      const [mode = '', objectId = ''] = record.slice(0, record.indexOf('\t')).split(' ');
      entries.set(record.slice(record.indexOf('\t') + 1), { mode: parseInt(mode, 8), objectId });
    }
    return entries;
  }

  it('reads versions 2, 3 (extended flags) and 4 (prefix-compressed paths) as git ls-files --stage lists them', () => {
    const repo = makeRepo({ 'a.txt': 'a', 'dir/b.txt': 'b', 'dir/sub/ünï c.txt': 'c', 'dir/sub/ünï d.txt': 'd', 'x.sh': 'x' });
    chmodSync(path.join(repo, 'x.sh'), 0o755);
    commitAll(repo, 'exec');
    symlinkSync('a.txt', path.join(repo, 'link'));
    git(repo, 'add', 'link');
    const entriesOf = () => {
      const index = readIndex(path.join(repo, '.git/index'));
      expect(index).toBeDefined();
      return new Map([...index!.entries].map(([p, e]) => [p, { mode: e.mode, objectId: e.objectId }]));
    };
    git(repo, 'update-index', '--index-version', '2');
    expect(entriesOf()).toEqual(lsFilesStage(repo));
    git(repo, 'update-index', '--skip-worktree', 'dir/b.txt'); // needs version 3's extended flags
    expect(entriesOf()).toEqual(lsFilesStage(repo));
    expect(readIndex(path.join(repo, '.git/index'))!.entries.get('dir/b.txt')?.special).toBe(true);
    git(repo, 'update-index', '--no-skip-worktree', 'dir/b.txt');
    git(repo, 'update-index', '--index-version', '4');
    expect(entriesOf()).toEqual(lsFilesStage(repo));
    expect(entriesOf().size).toBe(6);
  });

  it('is not used with a split index (a required extension)', () => {
    const repo = makeRepo({ 'a.txt': 'a' });
    git(repo, 'update-index', '--split-index');
    expect(readIndex(path.join(repo, '.git/index'))).toBeUndefined();
  });

  it('matches stat data only while it is what the index recorded, and not for racily clean entries', () => {
    const repo = settled({ 'a.txt': 'a\n' });
    const file = path.join(repo, 'a.txt');
    const stat = () => lstatSync(file, { bigint: true });
    let index = readIndex(path.join(repo, '.git/index'))!;
    const entry = index.entries.get('a.txt')!;
    expect(statUnchanged(entry, stat(), index)).toBe(true);
    // An index written in the second the file was last modified: racily clean.
    expect(statUnchanged(entry, stat(), { ...index, mtimeSeconds: entry.mtimeSeconds })).toBe(false);
    expect(statUnchanged(entry, stat(), { ...index, mtimeSeconds: entry.mtimeSeconds + 1 })).toBe(true);
    const touched = new Date(Date.now() - 30_000);
    utimesSync(file, touched, touched);
    expect(statUnchanged(index.entries.get('a.txt')!, stat(), index)).toBe(false);
    // Modified now, indexed in the same second: racily clean, never trusted.
    utimesSync(file, new Date(), new Date());
    git(repo, 'update-index', '--refresh');
    index = readIndex(path.join(repo, '.git/index'))!;
    expect(statUnchanged(index.entries.get('a.txt')!, stat(), index)).toBe(false);
  });
});
