// The in-process git reader (src/project/git-reader.ts and below) against git itself: real repositories made with
// the git CLI (loose objects, packs with OFS_DELTA and REF_DELTA chains, 64-bit index offsets, packed refs, a
// detached HEAD, linked worktrees, submodules, alternates), each answer compared with `git rev-parse`, `git ls-tree
// -r -l` and `git cat-file`. Then the repositories it must leave to git (SHA-256, replace refs, grafts, unknown
// extensions, config from the environment, another owner, missing or corrupt objects): git.ts still gives git's
// answers there.

import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { commitExists, findWorkTree, headCommit, isoDate, listCommitFiles, listCommitTree, openBlobStream, readBlob } from '../../src/project/git.js';
import { MissingObject } from '../../src/project/git-format.js';
import { readerFor, type GitReader, type ListedEntry } from '../../src/project/git-reader.js';
import { openCommittedBlob } from '../../src/project/git-blob-reader.js';
import { commitAll, git, gitWith, makeRepo, removeTempDirs, tempDir, write } from '../support/git-repo.js';

afterEach(removeTempDirs);

function gitBytes(dir: string, ...args: string[]): Buffer {
  return execFileSync('git', args, { cwd: dir, env: { ...process.env, GIT_DIR: undefined }, maxBuffer: 1024 * 1024 * 1024 });
}

/** `git ls-tree -r -z [-l] --full-tree`, parsed on its own here (not with src/project/git.ts's parser). */
function lsTree(dir: string, commit: string, sizes: boolean): Map<string, ListedEntry> {
  const out = gitBytes(dir, 'ls-tree', '-r', '-z', ...(sizes ? ['-l'] : []), '--full-tree', commit).toString('utf8');
  const entries = new Map<string, ListedEntry>();
  for (const record of out.split('\0')) {
    if (record === '') continue;
    const tab = record.indexOf('\t');
    const [mode = '', kind = '', objectId = '', size = ''] = record.slice(0, tab).split(/ +/);
    const numeric = parseInt(mode, 8);
    const type = kind === 'commit' ? 'submodule' : numeric === 0o120000 ? 'symlink' : 'file';
    entries.set(record.slice(tab + 1), { mode: numeric, type, objectId, ...(sizes ? { size: size === '-' ? 0 : Number(size) } : {}) });
  }
  return entries;
}

/** Blob contents as `git cat-file --batch` gives them. */
function catFile(dir: string, ids: readonly string[]): Map<string, Buffer> {
  const out = execFileSync('git', ['cat-file', '--batch'], { cwd: dir, input: ids.map((id) => `${id}\n`).join(''), maxBuffer: 1 << 30 });
  const result = new Map<string, Buffer>();
  let offset = 0;
  for (const id of ids) {
    const newline = out.indexOf(0x0a, offset);
    const [name, type, size] = out.toString('utf8', offset, newline).split(' ');
    expect([name, type]).toEqual([id, 'blob']);
    result.set(id, out.subarray(newline + 1, newline + 1 + Number(size)));
    offset = newline + 1 + Number(size) + 1;
  }
  return result;
}

function revParse(dir: string, rev: string): string {
  return git(dir, 'rev-parse', rev).trim();
}

function reader(dir: string): GitReader {
  const found = readerFor(dir, { revalidate: true });
  expect(found, `the repository at ${dir} should be read in-process`).toBeDefined();
  return found!;
}

/** Every commit of `rev`: the in-process listing (with and without sizes, in git's order) and every blob, as git has them. */
function expectCommitsAsGit(dir: string, rev = 'HEAD'): number {
  const r = reader(dir);
  const commits = git(dir, 'rev-list', rev).trim().split('\n');
  const blobs = new Set<string>();
  for (const commit of commits) {
    const expected = lsTree(dir, commit, true);
    const listed = r.listCommit(commit, true);
    expect([...listed.keys()]).toEqual([...expected.keys()]);
    expect(listed).toEqual(expected);
    // Without sizes: the same entries, no size read.
    const unsized = new Map([...expected].map(([p, { size: _size, ...entry }]) => [p, entry]));
    expect(r.listCommit(commit, false)).toEqual(unsized);
    for (const entry of expected.values()) if (entry.type !== 'submodule') blobs.add(entry.objectId);
  }
  for (const [id, data] of catFile(dir, [...blobs])) expect(r.readBlob(id).equals(data), `blob ${id}`).toBe(true);
  return blobs.size;
}

function expectHeadAsGit(dir: string): void {
  const r = reader(dir);
  const head = r.head();
  expect(head?.hash).toBe(revParse(dir, 'HEAD^{commit}'));
  const [seconds, iso] = git(dir, 'show', '-s', '--format=%ct %cI', 'HEAD^{commit}').trim().split(' ');
  expect(head?.commit.committerSeconds).toBe(Number(seconds));
  expect(headCommit(dir)).toEqual({ hash: head?.hash, date: new Date(Number(seconds) * 1000), dateIso: iso });
}

function looseCount(dir: string): number {
  return Number(/^count: (\d+)$/m.exec(git(dir, 'count-objects', '-v'))?.[1]);
}

function packedCount(dir: string): number {
  return Number(/^in-pack: (\d+)$/m.exec(git(dir, 'count-objects', '-v'))?.[1]);
}

function packFiles(dir: string, ext: '.idx' | '.pack'): string[] {
  const packDir = path.join(dir, '.git', 'objects', 'pack');
  return readdirSync(packDir).filter((name) => name.endsWith(ext)).map((name) => path.join(packDir, name));
}

/** The delta kinds (6 OFS_DELTA, 7 REF_DELTA) of the pack's deltified entries, from `git verify-pack -v` offsets. */
function deltaKinds(dir: string): number[] {
  const kinds: number[] = [];
  for (const idx of packFiles(dir, '.idx')) {
    const pack = readFileSync(idx.replace(/\.idx$/, '.pack'));
    for (const line of git(dir, 'verify-pack', '-v', idx).split('\n')) {
      // "<name> <type> <size> <size in pack> <offset> <depth> <base>" for a delta.
      const fields = line.split(/\s+/);
      if (fields.length === 7 && /^[0-9a-f]{40}$/.test(fields[0]!)) kinds.push((pack[Number(fields[4])]! >> 4) & 7);
    }
  }
  return kinds;
}

const LARGE = randomBytes(1536 * 1024);

/** Names and kinds git handles specially: spaces, non-ASCII, quotes, a newline, nesting, an executable, a symlink, an empty file, a large blob, a gitlink. */
function variedRepo(): string {
  const repo = makeRepo({
    'README.md': '# readme\n',
    'dir with space/ünïcödé ファイル.txt': 'unicode\n',
    'quote"and\\backslash.txt': 'q\n',
    'new\nline.txt': 'newline in the name\n',
    'a/b/c/d/deep.txt': 'deep\n',
    'empty.txt': '',
    'bin/run.sh': '#!/bin/sh\necho run\n',
    'large.bin': LARGE,
  });
  chmodSync(path.join(repo, 'bin/run.sh'), 0o755);
  symlinkSync('a/b/c/d/deep.txt', path.join(repo, 'link'));
  symlinkSync('../missing', path.join(repo, 'a/dangling'));
  commitAll(repo, 'more');
  // A gitlink without a checkout, as a submodule entry of a commit looks.
  git(repo, 'update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},vendor/lib`);
  gitWith({}, repo, 'commit', '-q', '--no-verify', '-m', 'gitlink');
  return repo;
}

describe('the in-process reader, loose and packed objects', () => {
  it('reads loose objects as git does', async () => {
    const repo = variedRepo();
    expect(packedCount(repo)).toBe(0);
    expect(looseCount(repo)).toBeGreaterThan(10);
    expectHeadAsGit(repo);
    expect(expectCommitsAsGit(repo)).toBeGreaterThanOrEqual(8);
    const listed = reader(repo).listCommit(revParse(repo, 'HEAD'), true);
    expect(listed.get('bin/run.sh')?.mode).toBe(0o100755);
    expect(listed.get('link')).toMatchObject({ type: 'symlink', mode: 0o120000 });
    expect(listed.get('vendor/lib')).toEqual({ type: 'submodule', mode: 0o160000, objectId: '1'.repeat(40), size: 0 });
    expect(listed.get('large.bin')?.size).toBe(LARGE.length);
    // A large loose blob is streamed (inflated as it is read), through git.ts and the build's blob reader.
    const id = listed.get('large.bin')!.objectId;
    expect((await buffer(openBlobStream(repo, id))).equals(LARGE)).toBe(true);
    expect((await buffer(openCommittedBlob(repo, id, process.env))).equals(LARGE)).toBe(true);
  });

  it('reads packs after git gc, large blobs streamed from the pack', async () => {
    const repo = variedRepo();
    git(repo, 'gc', '-q');
    expect(looseCount(repo)).toBe(0);
    expect(packedCount(repo)).toBeGreaterThan(10);
    expectHeadAsGit(repo);
    expectCommitsAsGit(repo);
    const id = lsTree(repo, 'HEAD', false).get('large.bin')!.objectId;
    expect((await buffer(openBlobStream(repo, id))).equals(LARGE)).toBe(true);
    const small = lsTree(repo, 'HEAD', false).get('README.md')!.objectId;
    expect((await buffer(openCommittedBlob(repo, small, process.env))).toString()).toBe('# readme\n');
  });

  /** 40 commits of slowly changing files: packed, most versions are deltas of others. */
  function historyRepo(): string {
    const repo = makeRepo();
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${'x'.repeat(i % 40)}`);
    const big = Buffer.from(randomBytes(200 * 1024).toString('base64'));
    for (let v = 0; v < 40; v++) {
      lines[(v * 7) % 300] = `changed in version ${v}`;
      big.write(`v${v}`, v * 1000);
      write(repo, 'text.txt', lines.join('\n'));
      write(repo, `dir/file-${v % 5}.txt`, lines.slice(v).join('\n'));
      write(repo, 'big.txt', big);
      commitAll(repo, `version ${v}`);
    }
    return repo;
  }

  it('resolves OFS_DELTA chains (git repack -adf --depth=50 --window=250)', () => {
    const repo = historyRepo();
    git(repo, 'repack', '-q', '-adf', '--depth=50', '--window=250');
    const kinds = deltaKinds(repo);
    expect(kinds.length).toBeGreaterThan(50);
    expect(new Set(kinds)).toEqual(new Set([6]));
    expect(Math.max(...[...git(repo, 'verify-pack', '-v', packFiles(repo, '.idx')[0]!).matchAll(/chain length = (\d+)/g)].map((m) => Number(m[1])))).toBeGreaterThan(10);
    expectHeadAsGit(repo);
    expect(expectCommitsAsGit(repo)).toBeGreaterThan(100);
  });

  it('resolves REF_DELTA chains (repack.useDeltaBaseOffset=false)', () => {
    const repo = historyRepo();
    git(repo, '-c', 'repack.useDeltaBaseOffset=false', 'repack', '-q', '-adf', '--depth=50', '--window=250');
    const kinds = deltaKinds(repo);
    expect(kinds.length).toBeGreaterThan(50);
    expect(new Set(kinds)).toEqual(new Set([7]));
    expectCommitsAsGit(repo);
  });

  it('reads a thin pack completed by index-pack --fix-thin, beside the pack of its bases', () => {
    const repo = historyRepo();
    const base = revParse(repo, 'HEAD~20');
    const receiver = makeRepo();
    // The receiver has history up to HEAD~20 (one pack); then a thin pack of the rest, whose deltas refer to
    // objects of the first pack by name, is completed with those bases appended.
    git(receiver, 'fetch', '-q', repo, `${base}:refs/heads/base`);
    git(receiver, 'repack', '-q', '-ad');
    const pack = execFileSync('git', ['pack-objects', '--thin', '--stdout', '--revs', '-q'], { cwd: repo, input: `HEAD\n^${base}\n`, maxBuffer: 1 << 30 });
    execFileSync('git', ['index-pack', '--fix-thin', '--stdin'], { cwd: receiver, input: pack });
    git(receiver, 'update-ref', 'refs/heads/main', revParse(repo, 'HEAD'));
    expect(packFiles(receiver, '.pack').length).toBe(2);
    expect(deltaKinds(receiver)).toContain(7);
    expectHeadAsGit(receiver);
    expectCommitsAsGit(receiver);
  });

  it('reads a pack index with 64-bit offsets', () => {
    const repo = historyRepo();
    git(repo, 'repack', '-q', '-adf');
    const [idx] = packFiles(repo, '.idx');
    const objects = packedCount(repo);
    rmSync(idx!);
    // Objects beyond offset 64 go to the 64-bit table (git does this for packs over 2 GiB).
    git(repo, 'index-pack', '--index-version=2,64', idx!.replace(/\.idx$/, '.pack'));
    expect(statSync(idx!).size).toBeGreaterThan(8 + 1024 + 28 * objects + 40 + 8 * (objects - 2));
    expectCommitsAsGit(repo);
  });
});

describe('the in-process reader, refs and layouts', () => {
  it('resolves HEAD through packed-refs only', () => {
    const repo = makeRepo({ 'a.txt': 'a' });
    git(repo, 'pack-refs', '--all');
    expect(existsSync(path.join(repo, '.git/refs/heads/main'))).toBe(false);
    expectHeadAsGit(repo);
  });

  it('resolves a detached HEAD, and an annotated tag written into HEAD to its commit', () => {
    const repo = makeRepo({ 'a.txt': 'a' });
    write(repo, 'b.txt', 'b');
    commitAll(repo, 'second');
    git(repo, 'checkout', '-q', '--detach', 'HEAD~1');
    expectHeadAsGit(repo);
    expect(reader(repo).head()?.hash).toBe(revParse(repo, 'main~1'));
    git(repo, 'tag', '-a', '-m', 'tag', 'v1', 'main');
    writeFileSync(path.join(repo, '.git/HEAD'), `${revParse(repo, 'v1')}\n`);
    expect(revParse(repo, 'HEAD')).not.toBe(revParse(repo, 'main'));
    expectHeadAsGit(repo);
    expect(reader(repo).head()?.hash).toBe(revParse(repo, 'main'));
  });

  it('has no HEAD commit on an unborn branch', () => {
    const repo = makeRepo();
    expect(reader(repo).head()).toBeUndefined();
    expect(headCommit(repo)).toBeUndefined();
  });

  it('formats committer dates as git 2.39 prints %cI', () => {
    for (const date of ['1700000000 +0200', '1700000000 -0530', '1700000000 +0000', '1700000000 -0000', '1234567890 +1345']) {
      const repo = makeRepo({ 'a.txt': date }, { env: { GIT_COMMITTER_DATE: date } });
      expectHeadAsGit(repo);
    }
    expect(isoDate(1_700_000_000, '+0200')).toBe('2023-11-15T00:13:20+02:00');
    expect(isoDate(1_700_000_000, '-0000')).toBe('2023-11-14T22:13:20+00:00');
  });

  it('reads a linked worktree (git worktree add): its own HEAD, the common objects and refs', () => {
    const repo = makeRepo({ 'a.txt': 'a' });
    const wt = path.join(tempDir(), 'linked');
    git(repo, 'worktree', 'add', '-q', '-b', 'other', wt);
    write(wt, 'sub/b.txt', 'b');
    commitAll(wt, 'on other');
    expect(findWorkTree(path.join(wt, 'sub'))).toBe(wt);
    const r = reader(wt);
    expect(r.layout).toMatchObject({ workTree: wt, gitDir: path.join(repo, '.git/worktrees/linked'), commonDir: path.join(repo, '.git') });
    expectHeadAsGit(wt);
    expect(r.head()?.hash).not.toBe(revParse(repo, 'HEAD'));
    git(repo, 'pack-refs', '--all');
    expectHeadAsGit(wt);
    expectCommitsAsGit(wt);
  });

  it('lists a submodule as a gitlink, and reads the submodule itself (a .git file, core.worktree)', () => {
    const sub = makeRepo({ 's.txt': 's' });
    const repo = makeRepo({ 'a.txt': 'a' });
    git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', sub, 'mods/sub');
    commitAll(repo, 'submodule');
    const listed = reader(repo).listCommit(revParse(repo, 'HEAD'), true);
    expect(listed.get('mods/sub')).toEqual({ mode: 0o160000, type: 'submodule', objectId: revParse(sub, 'HEAD'), size: 0 });
    expectCommitsAsGit(repo);
    const checkout = path.join(repo, 'mods/sub');
    expect(readFileSync(path.join(checkout, '.git'), 'utf8')).toMatch(/^gitdir: /);
    expect(git(checkout, 'config', 'core.worktree').trim()).not.toBe('');
    expect(findWorkTree(checkout)).toBe(checkout);
    expect(reader(checkout).layout.gitDir).toBe(path.join(repo, '.git/modules/mods/sub'));
    expectHeadAsGit(checkout);
  });

  it('reads objects of an alternate (git clone --shared)', () => {
    const source = variedRepo();
    git(source, 'gc', '-q');
    const clone = path.join(tempDir(), 'clone');
    git(path.dirname(clone), 'clone', '-q', '--shared', source, clone);
    write(clone, 'new.txt', 'only in the clone');
    commitAll(clone, 'clone commit');
    expect(readFileSync(path.join(clone, '.git/objects/info/alternates'), 'utf8')).toContain(source);
    expect(packedCount(clone)).toBe(0);
    expect(reader(clone).objectDirectories).toEqual([path.join(clone, '.git/objects'), path.join(source, '.git/objects')]);
    expectHeadAsGit(clone);
    expectCommitsAsGit(clone);
  });

  it('reads a bare repository (a stapel git.url mirror)', () => {
    const source = variedRepo();
    const mirror = path.join(tempDir(), 'mirror.git');
    git(path.dirname(mirror), 'clone', '-q', '--mirror', source, mirror);
    expect(reader(mirror).layout.workTree).toBeUndefined();
    expectCommitsAsGit(mirror);
    expect(commitExists(mirror, revParse(source, 'HEAD'))).toBe(true);
    expect(commitExists(mirror, lsTree(source, 'HEAD', false).get('README.md')!.objectId)).toBe(false);
  });
});

describe('what the in-process reader leaves to git', () => {
  it('a SHA-256 repository', () => {
    const repo = tempDir();
    git(repo, 'init', '-q', '--object-format=sha256', '-b', 'main');
    write(repo, 'dir/a.txt', 'sha256 content\n');
    gitWith({}, repo, 'add', '-A');
    gitWith({}, repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'c');
    expect(readerFor(repo, { revalidate: true })).toBeUndefined();
    const head = revParse(repo, 'HEAD');
    expect(head).toMatch(/^[0-9a-f]{64}$/);
    expect(findWorkTree(path.join(repo, 'dir'))).toBe(repo);
    expect(headCommit(repo)?.hash).toBe(head);
    const listing = lsTree(repo, head, false);
    expect(listCommitFiles(repo, head)).toEqual(listing);
    expect(listCommitTree(repo, head)).toEqual(lsTree(repo, head, true));
    expect(readBlob(repo, listing.get('dir/a.txt')!.objectId).toString()).toBe('sha256 content\n');
  });

  it('replace refs: git answers with the replacement', () => {
    const repo = makeRepo({ 'a.txt': 'original' });
    const original = revParse(repo, 'HEAD');
    const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: repo, input: 'replacement' }).toString().trim();
    const tree = execFileSync('git', ['mktree'], { cwd: repo, input: `100644 blob ${blob}\tb.txt\n` }).toString().trim();
    const replacement = gitWith({ GIT_COMMITTER_DATE: '1000000000 +0000', GIT_AUTHOR_DATE: '1000000000 +0000' }, repo, 'commit-tree', tree, '-m', 'r').trim();
    // In-process (before the replace ref exists) the commit is the original one.
    expect([...reader(repo).listCommit(original, false).keys()]).toEqual(['a.txt']);
    git(repo, 'replace', original, replacement);
    expect(readerFor(repo, { revalidate: true })).toBeUndefined();
    expect(findWorkTree(repo)).toBe(repo);
    expect(headCommit(repo)).toMatchObject({ hash: original, date: new Date(1_000_000_000_000) });
    expect([...listCommitFiles(repo, original).keys()]).toEqual(['b.txt']);
    // Packed, the replace ref is seen too.
    git(repo, 'pack-refs', '--all');
    expect(existsSync(path.join(repo, '.git/refs/replace', original))).toBe(false);
    expect(readerFor(repo, { revalidate: true })).toBeUndefined();
    expect([...listCommitFiles(repo, original).keys()]).toEqual(['b.txt']);
  });

  it('grafts, unknown extensions, and config given through the environment', () => {
    const grafted = makeRepo({ 'a.txt': 'a' });
    writeFileSync(path.join(grafted, '.git/info/grafts'), `${revParse(grafted, 'HEAD')}\n`);
    expect(readerFor(grafted, { revalidate: true })).toBeUndefined();
    expect(headCommit(grafted)?.hash).toBe(revParse(grafted, 'HEAD'));

    const extended = makeRepo({ 'a.txt': 'a' });
    git(extended, 'config', 'core.repositoryformatversion', '1');
    git(extended, 'config', 'extensions.refStorage', 'reftable');
    expect(readerFor(extended, { revalidate: true })).toBeUndefined();
    // git 2.39 refuses the repository; so does findWorkTree, with git's words.
    expect(() => findWorkTree(extended)).toThrow(/unknown repository extension/);

    const plain = makeRepo({ 'a.txt': 'a' });
    expect(readerFor(plain, { revalidate: true })).toBeDefined();
    process.env.GIT_CONFIG_PARAMETERS = "'core.abbrev=12'";
    try {
      expect(readerFor(plain, { revalidate: true })).toBeUndefined();
      expect(headCommit(plain)?.hash).toBe(revParse(plain, 'HEAD'));
    } finally {
      delete process.env.GIT_CONFIG_PARAMETERS;
    }
    expect(readerFor(plain, { revalidate: true })).toBeDefined();
  });

  it('a repository another user owns: git refuses it (safe.directory), and so does slipway', () => {
    const repo = makeRepo({ 'a.txt': 'a' });
    const saved = { global: process.env.GIT_CONFIG_GLOBAL, nosystem: process.env.GIT_CONFIG_NOSYSTEM };
    process.env.GIT_CONFIG_GLOBAL = '/dev/null';
    process.env.GIT_CONFIG_NOSYSTEM = '1';
    try {
      expect(findWorkTree(repo)).toBe(repo);
      if (process.geteuid?.() !== 0) return; // only root can hand the repository to another user
      execFileSync('chown', ['-R', '12345:12345', repo]);
      expect(readerFor(repo, { revalidate: true })).toBeUndefined();
      expect(() => findWorkTree(repo)).toThrow(ConfigError);
      try {
        findWorkTree(repo);
      } catch (error) {
        expect((error as ConfigError).hint).toContain('safe.directory');
      }
    } finally {
      chownSync(repo, 0, 0);
      execFileSync('chown', ['-R', '0:0', repo]);
      for (const [name, value] of [['GIT_CONFIG_GLOBAL', saved.global], ['GIT_CONFIG_NOSYSTEM', saved.nosystem]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('a missing object: git answers that call, the reader stays in use', () => {
    const repo = makeRepo({ 'a.txt': 'a', 'b.txt': 'b' });
    const listing = lsTree(repo, 'HEAD', false);
    const a = listing.get('a.txt')!.objectId;
    rmSync(path.join(repo, '.git/objects', a.slice(0, 2), a.slice(2)));
    const r = reader(repo);
    expect(() => r.readBlob(a)).toThrow(MissingObject);
    expect(() => readBlob(repo, a)).toThrow(ConfigError);
    expect(readerFor(repo)).toBe(r);
    expect(readBlob(repo, listing.get('b.txt')!.objectId).toString()).toBe('b');
    expect(commitExists(repo, '2'.repeat(40))).toBe(false);
    expect(readerFor(repo)).toBe(r);
  });

  it('a corrupt object or an index version the reader does not read: git answers from then on', () => {
    const repo = makeRepo({ 'a.txt': 'a', 'b.txt': 'b' });
    const a = lsTree(repo, 'HEAD', false).get('a.txt')!.objectId;
    const file = path.join(repo, '.git/objects', a.slice(0, 2), a.slice(2));
    chmodSync(file, 0o644);
    writeFileSync(file, 'not zlib');
    expect(readerFor(repo, { revalidate: true })).toBeDefined();
    expect(() => readBlob(repo, a)).toThrow(ConfigError); // git: "loose object ... is corrupt"
    expect(readerFor(repo)).toBeUndefined();

    const old = makeRepo({ 'a.txt': 'a', 'dir/b.txt': 'b' });
    git(old, 'repack', '-q', '-ad');
    const [idx] = packFiles(old, '.idx');
    rmSync(idx!);
    git(old, 'index-pack', '--index-version=1', idx!.replace(/\.idx$/, '.pack'));
    const head = revParse(old, 'HEAD');
    expect(readerFor(old, { revalidate: true })).toBeDefined();
    expect(listCommitTree(old, head)).toEqual(lsTree(old, head, true));
    expect(readerFor(old)).toBeUndefined();
  });
});
