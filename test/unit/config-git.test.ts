import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  findWorkTree,
  headCommit,
  listCommitFiles,
  listWorkingTreeFiles,
  openBlobStream,
  readBlob,
  readBlobs,
  statusOf,
} from '../../src/project/git.js';
import { commitAll, git, makeRepo, removeTempDirs, tempDir, write } from '../support/git-repo.js';

afterEach(removeTempDirs);

describe('findWorkTree', () => {
  it('finds the top of the work tree from a subdirectory', () => {
    const repo = makeRepo();
    mkdirSync(path.join(repo, 'a', 'b'), { recursive: true });
    expect(findWorkTree(path.join(repo, 'a', 'b'))).toBe(repo);
    expect(findWorkTree(repo)).toBe(repo);
  });

  it('returns undefined outside git, inside .git, and for a missing directory', () => {
    const plain = tempDir();
    expect(findWorkTree(plain)).toBeUndefined();
    const repo = makeRepo();
    expect(findWorkTree(path.join(repo, '.git'))).toBeUndefined();
    expect(findWorkTree(path.join(plain, 'missing'))).toBeUndefined();
  });

  it('ignores GIT_DIR exported by a surrounding git process', () => {
    const repo = makeRepo();
    const other = makeRepo();
    const saved = process.env.GIT_DIR;
    process.env.GIT_DIR = path.join(other, '.git');
    try {
      expect(findWorkTree(repo)).toBe(repo);
    } finally {
      if (saved === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved;
    }
  });

  it('names the Debian package when git is missing and needed; an ordinary repository is found without it', () => {
    const repo = makeRepo({ 'a.txt': 'a' });
    const saved = process.env.PATH;
    process.env.PATH = path.join(repo, 'no-such-bin');
    try {
      // Read in-process (src/project/git-reader.ts): no git process.
      expect(findWorkTree(repo)).toBe(repo);
      // git status has no in-process counterpart.
      expect(() => statusOf(repo)).toThrow(ConfigError);
      try {
        statusOf(repo);
      } catch (error) {
        expect((error as ConfigError).message).toContain('git');
        expect((error as ConfigError).hint).toContain('package `git`');
      }
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe('headCommit', () => {
  it('is undefined for a repository without commits', () => {
    expect(headCommit(makeRepo())).toBeUndefined();
  });

  it('returns the hash and committer date of HEAD', () => {
    const repo = makeRepo();
    write(repo, 'a.txt', 'a');
    git(repo, 'add', '-A');
    execFileSync('git', ['commit', '-q', '-m', 'first'], {
      cwd: repo,
      env: { ...process.env, GIT_COMMITTER_DATE: '2021-02-03T04:05:06+02:00', GIT_AUTHOR_DATE: '2000-01-01T00:00:00Z' },
    });
    const head = headCommit(repo);
    expect(head?.hash).toBe(git(repo, 'rev-parse', 'HEAD').trim());
    expect(head?.hash).toMatch(/^[0-9a-f]{40}$/);
    expect(head?.date.toISOString()).toBe('2021-02-03T02:05:06.000Z');
    expect(head?.dateIso).toBe('2021-02-03T04:05:06+02:00');
  });
});

describe('listCommitFiles, readBlob, readBlobs, openBlobStream', () => {
  it('lists files, executables, symlinks and odd names with their modes and object ids', () => {
    const repo = makeRepo();
    write(repo, 'plain.txt', 'plain\n');
    write(repo, 'bin/run.sh', '#!/bin/sh\n');
    chmodSync(path.join(repo, 'bin/run.sh'), 0o755);
    symlinkSync('plain.txt', path.join(repo, 'link'));
    write(repo, 'dir with space/ünïcode "quoted".txt', 'odd');
    write(repo, 'new\nline.txt', 'newline');
    commitAll(repo);
    const head = headCommit(repo);
    const files = listCommitFiles(repo, head?.hash ?? '');
    expect([...files.keys()].sort()).toEqual(
      ['bin/run.sh', 'dir with space/ünïcode "quoted".txt', 'link', 'new\nline.txt', 'plain.txt'].sort(),
    );
    expect(files.get('plain.txt')).toMatchObject({ mode: 0o100644, type: 'file' });
    expect(files.get('bin/run.sh')).toMatchObject({ mode: 0o100755, type: 'file' });
    expect(files.get('link')).toMatchObject({ mode: 0o120000, type: 'symlink' });
    const plain = files.get('plain.txt')?.objectId ?? '';
    expect(readBlob(repo, plain).toString()).toBe('plain\n');
    expect(readBlob(repo, files.get('link')?.objectId ?? '').toString()).toBe('plain.txt');
    const odd = files.get('dir with space/ünïcode "quoted".txt')?.objectId ?? '';
    const many = readBlobs(repo, [plain, odd, plain]);
    expect(many.size).toBe(2);
    expect(many.get(plain)?.toString()).toBe('plain\n');
    expect(many.get(odd)?.toString()).toBe('odd');
  });

  it('reads binary blobs byte for byte, also in a batch', () => {
    const repo = makeRepo();
    const binary = Buffer.from([0, 1, 2, 10, 13, 10, 255, 0, 10]);
    write(repo, 'bin.dat', binary);
    write(repo, 'empty', '');
    commitAll(repo);
    const files = listCommitFiles(repo, 'HEAD');
    const id = files.get('bin.dat')?.objectId ?? '';
    const empty = files.get('empty')?.objectId ?? '';
    expect(readBlob(repo, id).equals(binary)).toBe(true);
    const batch = readBlobs(repo, [id, empty]);
    expect(batch.get(id)?.equals(binary)).toBe(true);
    expect(batch.get(empty)?.length).toBe(0);
  });

  it('lists submodules as such', () => {
    const inner = makeRepo();
    write(inner, 'x', 'x');
    commitAll(inner);
    const repo = makeRepo();
    write(repo, 'a', 'a');
    commitAll(repo);
    const innerHead = headCommit(inner)?.hash ?? '';
    git(repo, 'update-index', '--add', '--cacheinfo', `160000,${innerHead},sub`);
    git(repo, 'commit', '-q', '-m', 'gitlink');
    expect(listCommitFiles(repo, 'HEAD').get('sub')).toEqual({ mode: 0o160000, type: 'submodule', objectId: innerHead });
  });

  it('rejects malformed object ids and reports missing objects', () => {
    const repo = makeRepo();
    expect(() => readBlob(repo, 'HEAD; rm -rf /')).toThrow(ConfigError);
    expect(() => readBlob(repo, 'a'.repeat(40))).toThrow(ConfigError);
    expect(() => readBlobs(repo, ['b'.repeat(40)])).toThrow(/missing/);
  });

  it('streams a blob', async () => {
    const repo = makeRepo();
    write(repo, 'big.txt', 'x'.repeat(200_000));
    commitAll(repo);
    const id = listCommitFiles(repo, 'HEAD').get('big.txt')?.objectId ?? '';
    expect((await text(openBlobStream(repo, id))).length).toBe(200_000);
    const missing = openBlobStream(repo, 'c'.repeat(40));
    await expect(text(missing)).rejects.toThrow(/failed/);
  });
});

describe('statusOf and listWorkingTreeFiles', () => {
  it('classifies modified, staged, deleted and untracked paths and leaves ignored ones out', () => {
    const repo = makeRepo();
    write(repo, '.gitignore', 'ignored.txt\nbuild/\n');
    write(repo, 'modified.txt', 'a');
    write(repo, 'staged.txt', 'a');
    write(repo, 'deleted.txt', 'a');
    write(repo, 'staged-deleted.txt', 'a');
    write(repo, 'renamed-from.txt', 'rename me');
    write(repo, 'clean.txt', 'a');
    commitAll(repo);
    write(repo, 'modified.txt', 'b');
    write(repo, 'staged.txt', 'b');
    git(repo, 'add', 'staged.txt');
    unlinkSync(path.join(repo, 'deleted.txt'));
    git(repo, 'rm', '-q', 'staged-deleted.txt');
    git(repo, 'mv', 'renamed-from.txt', 'renamed-to.txt');
    write(repo, 'untracked dir/new file.txt', 'n');
    write(repo, 'ignored.txt', 'i');
    write(repo, 'build/out.o', 'o');

    const status = statusOf(repo);
    expect([...status.modified].sort()).toEqual(['modified.txt', 'renamed-to.txt', 'staged.txt']);
    expect([...status.deleted].sort()).toEqual(['deleted.txt', 'renamed-from.txt', 'staged-deleted.txt']);
    expect([...status.untracked]).toEqual(['untracked dir/new file.txt']);

    expect(listWorkingTreeFiles(repo)).toEqual([
      '.gitignore',
      'clean.txt',
      'deleted.txt', // still in the index
      'modified.txt',
      'renamed-to.txt',
      'staged.txt',
      'untracked dir/new file.txt',
    ]);
  });

  it('works in a repository without commits', () => {
    const repo = makeRepo();
    write(repo, 'a.txt', 'a');
    write(repo, 'b.txt', 'b');
    git(repo, 'add', 'b.txt');
    const status = statusOf(repo);
    expect([...status.untracked]).toEqual(['a.txt']);
    expect([...status.modified]).toEqual(['b.txt']);
    expect(listWorkingTreeFiles(repo)).toEqual(['a.txt', 'b.txt']);
  });

  it('does not take the index lock', () => {
    const repo = makeRepo();
    write(repo, 'a.txt', 'a');
    commitAll(repo);
    writeFileSync(path.join(repo, '.git', 'index.lock'), '');
    expect(() => statusOf(repo)).not.toThrow();
  });
});
