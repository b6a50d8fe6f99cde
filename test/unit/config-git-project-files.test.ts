import { chmodSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  compileGlob,
  compilePathMatcher,
  globStaticPrefix,
  openProjectFiles,
  ProjectFileError,
  uncommittedFilesError,
  type GiterminismConfig,
  type OpenProjectFilesOptions,
  type ProjectFileErrorReason,
} from '../../src/project/index.js';
import { errorOf } from '../support/errors.js';
import { commitAll, git, makeRepo, removeTempDirs, tempDir, writeFiles } from '../support/git-repo.js';

afterEach(removeTempDirs);

function open(projectDir: string, options: Partial<OpenProjectFilesOptions> = {}) {
  return openProjectFiles({ projectDir, ...options });
}

function expectReason(fn: () => unknown, reason: ProjectFileErrorReason, message?: string | RegExp): ProjectFileError {
  const error = errorOf(ProjectFileError, fn);
  expect(error.reason).toBe(reason);
  if (typeof message === 'string') expect(error.message).toBe(message);
  else if (message) expect(error.message).toMatch(message);
  return error;
}

const read = (files: ReturnType<typeof open>, p: string, purpose?: Parameters<ReturnType<typeof open>['readFile']>[1]) =>
  files.readFile(p, purpose).toString('utf8');

describe('opening', () => {
  it('outside a git work tree fails with werf\'s message, naming the absolute directory', () => {
    const dir = tempDir();
    writeFiles(dir, { 'werf.yaml': 'x' });
    let error: unknown;
    try {
      open(dir);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      `slipway requires a git work tree for the project to exist: unable to find a valid .git in the current directory "${dir}" or parent directories, you may also specify git work tree explicitly with --git-work-tree option (or SLIPWAY_GIT_WORK_TREE / WERF_GIT_WORK_TREE env var)`,
    );
  });

  it('outside git, --dev and --loose-giterminism read plain files', () => {
    const dir = tempDir();
    writeFiles(dir, { 'werf.yaml': 'plain', 'sub/a.txt': 'a' });
    for (const options of [{ dev: true }, { looseGiterminism: true }]) {
      const files = open(dir, options);
      expect(files.source).toBe('filesystem');
      expect(files.workTree).toBeUndefined();
      expect(files.commit).toBeUndefined();
      expect(read(files, 'werf.yaml')).toBe('plain');
      expect(files.glob('**/*.txt')).toEqual(['sub/a.txt']);
      expectReason(() => files.readFile('nope'), 'not-found', 'the file "nope" not found in the project directory');
    }
  });

  it('a missing project directory is a ConfigError', () => {
    expect(() => open(path.join(tempDir(), 'missing'))).toThrow(/does not exist/);
  });

  it('exposes the work tree and HEAD', () => {
    const repo = makeRepo({ 'werf.yaml': 'x' });
    const files = open(repo);
    expect(files.source).toBe('commit');
    expect(files.workTree).toBe(repo);
    expect(files.projectDir).toBe(repo);
    expect(files.commit?.hash).toBe(git(repo, 'rev-parse', 'HEAD').trim());
    expect(files.commit?.date).toBeInstanceOf(Date);
    expect(files.dev).toBe(false);
    expect(files.looseGiterminism).toBe(false);
  });

  it('accepts an explicit --git-work-tree and rejects a project outside it', () => {
    const repo = makeRepo({ 'app/werf.yaml': 'in app' });
    const files = open(path.join(repo, 'app'), { gitWorkTree: repo });
    expect(read(files, 'werf.yaml')).toBe('in app');
    const elsewhere = tempDir();
    expect(() => open(elsewhere, { gitWorkTree: repo })).toThrow(/not inside the git work tree/);
    expect(() => open(repo, { gitWorkTree: elsewhere })).toThrow(/not a git work tree/);
  });

  it('a repository without commits has no commit and nothing in it', () => {
    const repo = makeRepo();
    writeFiles(repo, { 'werf.yaml': 'x' });
    const files = open(repo);
    expect(files.commit).toBeUndefined();
    expectReason(() => files.readFile('werf.yaml', 'config'), 'untracked');
    expect(files.exists('werf.yaml')).toBe(false);
  });
});

describe('the commit source (giterminism)', () => {
  it('reads committed files from HEAD, not from the working tree', () => {
    const repo = makeRepo({ 'werf.yaml': 'committed', 'a/b/c.txt': 'deep' });
    const files = open(repo);
    expect(read(files, 'werf.yaml', 'config')).toBe('committed');
    expect(read(files, './a//b/../b/c.txt')).toBe('deep');
  });

  it('a committed file with uncommitted changes must be committed', () => {
    const repo = makeRepo({ 'werf.yaml': 'committed' });
    writeFiles(repo, { 'werf.yaml': 'changed' });
    const error = expectReason(
      () => open(repo).readFile('werf.yaml', 'config'),
      'uncommitted',
      'the file "werf.yaml" must be committed',
    );
    expect(error.paths).toEqual(['werf.yaml']);
    expect(error.hint).toContain('--dev');
    expect(error.hint).toContain('werf-giterminism.yaml');
    expect(error.hint).toContain('config.allowUncommitted: true');
  });

  it('staged but uncommitted changes count as uncommitted', () => {
    const repo = makeRepo({ 'a.txt': 'one' });
    writeFiles(repo, { 'a.txt': 'two' });
    git(repo, 'add', 'a.txt');
    expectReason(() => open(repo).readFile('a.txt'), 'uncommitted');
  });

  it('a committed file deleted from the working tree must be committed', () => {
    const repo = makeRepo({ 'a.txt': 'one' });
    unlinkSync(path.join(repo, 'a.txt'));
    expectReason(() => open(repo).readFile('a.txt'), 'uncommitted', 'the file "a.txt" must be committed');
  });

  it('mode-only and CRLF-only changes are not uncommitted changes (werf compares content)', () => {
    const repo = makeRepo({ 'run.sh': 'echo hi\n', 'crlf.txt': 'a\nb\n' });
    chmodSync(path.join(repo, 'run.sh'), 0o755);
    writeFiles(repo, { 'crlf.txt': 'a\r\nb\r\n' });
    const files = open(repo);
    expect(read(files, 'run.sh')).toBe('echo hi\n');
    expect(read(files, 'crlf.txt')).toBe('a\nb\n');
  });

  it('an untracked file is not in the project git repository', () => {
    const repo = makeRepo({ 'werf.yaml': 'x' });
    writeFiles(repo, { 'new.txt': 'n' });
    const error = expectReason(
      () => open(repo).readFile('new.txt'),
      'untracked',
      'the file "new.txt" not found in the project git repository. If the file exists locally, configure werf-giterminism.yaml to allow uncommitted files',
    );
    expect(error.hint).toContain('untracked');
    expect(error.hint).toContain('config.goTemplateRendering.allowUncommittedFiles');
  });

  it('an ignored file is not in the project git repository either', () => {
    const repo = makeRepo({ '.gitignore': 'secret.env\n' });
    writeFiles(repo, { 'secret.env': 's' });
    const error = expectReason(() => open(repo).readFile('secret.env'), 'untracked');
    expect(error.hint).toContain('ignored by .gitignore');
  });

  it('a file absent everywhere is not found', () => {
    const repo = makeRepo({ 'werf.yaml': 'x' });
    expectReason(
      () => open(repo).readFile('missing.txt'),
      'not-found',
      'the file "missing.txt" not found in the project git repository',
    );
  });

  it('directories are not files', () => {
    const repo = makeRepo({ 'dir/a.txt': 'a' });
    expectReason(() => open(repo).readFile('dir'), 'not-a-file');
  });

  it('paths may leave the project directory for committed files of the git work tree, as in werf', () => {
    const repo = makeRepo({ 'app/werf.yaml': 'x', 'other.txt': 'o', 'shared/ctx/Dockerfile': 'FROM scratch\n', 'shared/ctx/a.txt': 'a' });
    writeFiles(repo, { 'untracked.txt': 'u' });
    const files = open(path.join(repo, 'app'));
    expect(files.readFile('../other.txt').toString()).toBe('o');
    expect(files.readFile('a/../../other.txt').toString()).toBe('o');
    expect(files.exists('../shared/ctx/a.txt')).toBe(true);
    expect(files.listFiles('../shared/ctx').map((f) => f.path)).toEqual(['../shared/ctx/Dockerfile', '../shared/ctx/a.txt']);
    expectReason(() => files.readFile('../untracked.txt'), 'untracked', /the file "..\/untracked.txt" not found in the project git repository/);
    expectReason(() => files.readFile('../../other.txt'), 'outside', `the path "../../other.txt" is outside the git work tree "${repo}"`);
    expectReason(() => files.exists('../..'), 'outside');
    expectReason(() => files.readFile('/etc/passwd'), 'outside', /must be relative/);
    // Globs stay inside the project directory.
    expectReason(() => files.glob('../*'), 'outside');
    // A change above the project directory is an uncommitted file of a context there.
    writeFiles(repo, { 'shared/ctx/a.txt': 'changed' });
    expect(open(path.join(repo, 'app')).uncommittedFiles('../shared/ctx')).toEqual(['../shared/ctx/a.txt']);
  });

  it('without git, nothing above the project directory is read', () => {
    const dir = tempDir();
    writeFiles(dir, { 'app/werf.yaml': 'x', 'other.txt': 'o' });
    const files = open(path.join(dir, 'app'), { looseGiterminism: true });
    expectReason(() => files.readFile('../other.txt'), 'outside', 'the path "../other.txt" is outside the project directory');
  });

  it('maps paths when the project directory is a subdirectory of the work tree', () => {
    const repo = makeRepo({
      'README.md': 'root',
      'services/api/werf.yaml': 'api config',
      'services/api/.werf/a.tmpl': 'a',
      'services/api/src/main.txt': 'main',
      'services/web/werf.yaml': 'web',
    });
    writeFiles(repo, { 'services/web/werf.yaml': 'changed elsewhere', 'services/api/untracked.txt': 'u' });
    const files = open(path.join(repo, 'services', 'api'));
    expect(read(files, 'werf.yaml')).toBe('api config');
    expect(files.exists('README.md')).toBe(false);
    expect(files.glob('**/*.yaml')).toEqual(['werf.yaml']);
    expect(files.glob('src/*')).toEqual(['src/main.txt']);
    expect(files.glob('.werf/*.tmpl', 'template')).toEqual(['.werf/a.tmpl']);
    // The untracked file of this project fails a glob matching it; changes elsewhere in the repo do not.
    expect(expectReason(() => files.glob('**/*.txt'), 'uncommitted').paths).toEqual(['untracked.txt']);
    expect(files.uncommittedFiles()).toEqual(['untracked.txt']);
    expect(files.listFiles('').map((f) => f.path)).toEqual(['.werf/a.tmpl', 'src/main.txt', 'werf.yaml']);
  });

  it('follows symlinks inside the repository, even out of the project directory', () => {
    const repo = makeRepo({ 'shared/common.yaml': 'shared', 'app/werf.yaml': 'x', 'app/real/f.txt': 'f' });
    symlinkSync('../shared/common.yaml', path.join(repo, 'app', 'link.yaml'));
    symlinkSync('real', path.join(repo, 'app', 'linkdir'));
    symlinkSync('link.yaml', path.join(repo, 'app', 'chain.yaml'));
    commitAll(repo);
    const files = open(path.join(repo, 'app'));
    expect(read(files, 'link.yaml')).toBe('shared');
    expect(read(files, 'chain.yaml')).toBe('shared');
    expect(read(files, 'linkdir/f.txt')).toBe('f');
    expect(files.isDir('linkdir')).toBe(true);
    expect(files.readLink('link.yaml')).toBe('../shared/common.yaml');
  });

  it('a symlink leaving the repository is an error', () => {
    const repo = makeRepo({ 'werf.yaml': 'x' });
    symlinkSync('../../../etc/passwd', path.join(repo, 'escape'));
    symlinkSync('/etc/passwd', path.join(repo, 'absolute'));
    commitAll(repo);
    const files = open(repo);
    expectReason(() => files.readFile('escape'), 'outside', /the symlink "escape" points outside the git work tree/);
    expectReason(() => files.readFile('absolute'), 'outside');
  });

  it('a changed symlink target must be committed', () => {
    const repo = makeRepo({ 'target.txt': 't' });
    symlinkSync('target.txt', path.join(repo, 'link'));
    commitAll(repo);
    writeFiles(repo, { 'target.txt': 'changed' });
    expectReason(() => open(repo).readFile('link'), 'uncommitted', 'the file "target.txt" must be committed');
  });

  it('a symlink loop is an error, not a hang', () => {
    const repo = makeRepo({ 'x': 'x' });
    symlinkSync('b', path.join(repo, 'a'));
    symlinkSync('a', path.join(repo, 'b'));
    commitAll(repo);
    expectReason(() => open(repo).readFile('a'), 'outside', /too many levels of symbolic links/);
  });

  it('submodules are seen but not read', () => {
    const inner = makeRepo({ 'x.txt': 'x' });
    const repo = makeRepo({ 'a.txt': 'a' });
    const innerHead = git(inner, 'rev-parse', 'HEAD').trim();
    git(repo, 'update-index', '--add', '--cacheinfo', `160000,${innerHead},sub`);
    git(repo, 'commit', '-q', '-m', 'gitlink');
    const files = open(repo);
    expect(files.exists('sub')).toBe(true);
    expect(files.isDir('sub')).toBe(true);
    expect(files.exists('sub/x.txt')).toBe(false);
    expectReason(() => files.readFile('sub/x.txt'), 'submodule', /inside the git submodule "sub"/);
    expectReason(() => files.readFile('sub'), 'submodule');
    expect(files.glob('**')).toEqual(['a.txt']);
    expect(files.listFiles('').map((f) => f.path)).toEqual(['a.txt']);
  });

  it('exists and isDir look at the commit', () => {
    const repo = makeRepo({ 'dir/sub/a.txt': 'a', 'file.txt': 'f' });
    writeFiles(repo, { 'untracked.txt': 'u', 'newdir/x': 'x' });
    unlinkSync(path.join(repo, 'file.txt'));
    const files = open(repo);
    expect(files.exists('dir')).toBe(true);
    expect(files.exists('dir/sub/a.txt')).toBe(true);
    expect(files.exists('file.txt')).toBe(true); // committed (reading it would fail)
    expect(files.exists('untracked.txt')).toBe(false);
    expect(files.exists('')).toBe(true);
    expect(files.isDir('dir/sub')).toBe(true);
    expect(files.isDir('dir/sub/a.txt')).toBe(false);
    expect(files.isDir('newdir')).toBe(false);
  });

  it('openStream streams committed content with the same checks', async () => {
    const repo = makeRepo({ 'big.bin': 'y'.repeat(100_000), 'changed.txt': 'a' });
    writeFiles(repo, { 'changed.txt': 'b' });
    const files = open(repo);
    expect((await text(files.openStream('big.bin', 'context'))).length).toBe(100_000);
    expectReason(() => files.openStream('changed.txt'), 'uncommitted');
  });
});

describe('globs', () => {
  it('werf path-matcher semantics over committed files', () => {
    const repo = makeRepo({
      '.werf/a.tmpl': 'a',
      '.werf/nested/b.tmpl': 'b',
      'top.tmpl': 't',
      'a.txt': 'a',
      'x/b.txt': 'b',
      'x/y/c.txt': 'c',
      'conf/one.yaml': '1',
      'conf/deep/two.yaml': '2',
      'img-1.png': '',
      'img-2.png': '',
      'img-a.png': '',
    });
    const files = open(repo);
    expect(files.glob('*.tmpl')).toEqual(['top.tmpl']);
    expect(files.glob('**/*.tmpl')).toEqual(['.werf/a.tmpl', '.werf/nested/b.tmpl', 'top.tmpl']);
    expect(files.glob('.werf/**/*.tmpl', 'template')).toEqual(['.werf/a.tmpl', '.werf/nested/b.tmpl']);
    expect(files.glob('**/*.txt')).toEqual(['a.txt', 'x/b.txt', 'x/y/c.txt']);
    expect(files.glob('x/*.txt')).toEqual(['x/b.txt']);
    // A glob also matches everything below a directory it matches (werf trims trailing `*` segments).
    expect(files.glob('conf')).toEqual(['conf/deep/two.yaml', 'conf/one.yaml']);
    expect(files.glob('conf/*')).toEqual(['conf/deep/two.yaml', 'conf/one.yaml']);
    expect(files.glob('conf/**')).toEqual(['conf/deep/two.yaml', 'conf/one.yaml']);
    expect(files.glob('img-[0-9].png')).toEqual(['img-1.png', 'img-2.png']);
    expect(files.glob('img-[!0-9].png')).toEqual(['img-a.png']);
    expect(files.glob('img-?.png')).toEqual(['img-1.png', 'img-2.png', 'img-a.png']);
    expect(files.glob('{a.txt,top.tmpl}')).toEqual(['a.txt', 'top.tmpl']);
    expect(files.glob('a.txt')).toEqual(['a.txt']);
    expect(files.glob('nothing/*')).toEqual([]);
    expect(() => files.glob('img-[0-9.png')).toThrow(/invalid glob pattern/);
  });

  it('a matching file with uncommitted changes, or an untracked matching file, fails the glob (as in werf)', () => {
    const repo = makeRepo({ '.werf/a.tmpl': 'a', '.werf/b.tmpl': 'b', 'other.txt': 'o' });
    writeFiles(repo, { '.werf/a.tmpl': 'changed', '.werf/new.tmpl': 'new', 'unrelated.txt': 'u' });
    const files = open(repo);
    const error = expectReason(() => files.glob('.werf/**/*.tmpl', 'template'), 'uncommitted');
    expect(error.message).toBe('the following files must be committed:\n\n - .werf/a.tmpl\n - .werf/new.tmpl');
    expect(error.hint).toContain('config.allowUncommittedTemplates');
    expect(files.glob('other*')).toEqual(['other.txt']);
    expect(expectReason(() => files.glob('*.txt'), 'uncommitted').paths).toEqual(['unrelated.txt']);
  });

  it('ignored files do not disturb a glob', () => {
    const repo = makeRepo({ '.gitignore': '*.log\n', 'a.txt': 'a' });
    writeFiles(repo, { 'debug.log': 'l' });
    expect(open(repo).glob('*')).toEqual(['.gitignore', 'a.txt']);
  });

  it('matchers', () => {
    const m = compileGlob('**/*.txt');
    expect(m('a.txt')).toBe(true);
    expect(m('a/b/c.txt')).toBe(true);
    expect(m('a/b/c.txt.bak')).toBe(false);
    expect(compileGlob('*')('.hidden')).toBe(true);
    expect(compileGlob('a/**/b')('a/b')).toBe(true);
    expect(compileGlob('a/**/b')('a/x/y/b')).toBe(true);
    expect(compileGlob('{a,b/c}/d')('b/c/d')).toBe(true);
    expect(compileGlob('\\*')('*')).toBe(true);
    expect(compileGlob('\\*')('x')).toBe(false);
    expect(compileGlob('[]]')(']')).toBe(true);
    expect(compileGlob('ü?')('üx')).toBe(true);
    expect(() => compileGlob('{a,b')).toThrow(/invalid glob pattern/);
    const allow = compilePathMatcher(['conf/*', 'single.txt']);
    expect(allow('conf/x/y')).toBe(true);
    expect(allow('single.txt')).toBe(true);
    expect(allow('other/single.txt')).toBe(false);
    expect(compilePathMatcher([])('x')).toBe(false);
    expect(compilePathMatcher(['.'])('any/thing')).toBe(true);
    expect(compilePathMatcher(['**'])('any/thing')).toBe(true);
    expect(globStaticPrefix('a/b/*.txt')).toBe('a/b');
    expect(globStaticPrefix('**/*.txt')).toBe('');
  });
});

describe('werf-giterminism.yaml allowances', () => {
  const config = (c: GiterminismConfig['config'], rest: Partial<GiterminismConfig> = {}): GiterminismConfig => ({
    giterminismConfigVersion: 1,
    config: c,
    ...rest,
  });

  it('config.allowUncommitted reads werf.yaml from the working tree, for the config purpose only', () => {
    const repo = makeRepo({ 'werf.yaml': 'committed', 'other.yaml': 'committed' });
    writeFiles(repo, { 'werf.yaml': 'working', 'other.yaml': 'working' });
    const files = open(repo, { giterminism: config({ allowUncommitted: true }) });
    expect(read(files, 'werf.yaml', 'config')).toBe('working');
    expectReason(() => files.readFile('other.yaml', 'files'), 'uncommitted');
  });

  it('allowUncommitted also covers an untracked or ignored werf.yaml', () => {
    const repo = makeRepo({ '.gitignore': 'werf.yaml\n' });
    writeFiles(repo, { 'werf.yaml': 'ignored but allowed' });
    const files = open(repo, { giterminism: config({ allowUncommitted: true }) });
    expect(read(files, 'werf.yaml', 'config')).toBe('ignored but allowed');
    expect(files.exists('werf.yaml', 'config')).toBe(true);
  });

  it('an allowed file missing from the working tree falls back to the commit', () => {
    const repo = makeRepo({ 'werf.yaml': 'committed' });
    unlinkSync(path.join(repo, 'werf.yaml'));
    const files = open(repo, { giterminism: config({ allowUncommitted: true }) });
    expectReason(() => files.readFile('werf.yaml', 'config'), 'uncommitted');
  });

  it('allowUncommittedTemplates, goTemplateRendering.allowUncommittedFiles, dockerfile.* by purpose and glob', () => {
    const repo = makeRepo({
      '.werf/a.tmpl': 'a',
      '.werf/b.tmpl': 'b',
      'files/x.txt': 'x',
      'Dockerfile': 'FROM a',
      'docker/Dockerfile.dev': 'FROM b',
      '.dockerignore': 'x',
    });
    writeFiles(repo, {
      '.werf/a.tmpl': 'A',
      '.werf/b.tmpl': 'B',
      '.werf/new.tmpl': 'NEW',
      'files/x.txt': 'X',
      'files/y.txt': 'Y',
      'Dockerfile': 'FROM A',
      'docker/Dockerfile.dev': 'FROM B',
      '.dockerignore': 'X',
      'gen/extra.txt': 'E',
    });
    const files = open(repo, {
      giterminism: config({
        allowUncommittedTemplates: ['.werf/a.tmpl', '.werf/new.tmpl'],
        goTemplateRendering: { allowUncommittedFiles: ['files/*'] },
        dockerfile: {
          allowUncommitted: ['docker/*'],
          allowUncommittedDockerignoreFiles: ['.dockerignore'],
          allowContextAddFiles: ['gen'],
        },
      }),
    });
    expect(read(files, '.werf/a.tmpl', 'template')).toBe('A');
    expect(read(files, '.werf/new.tmpl', 'template')).toBe('NEW');
    expectReason(() => files.readFile('.werf/b.tmpl', 'template'), 'uncommitted');
    expectReason(() => files.readFile('.werf/a.tmpl', 'files'), 'uncommitted');
    expect(read(files, 'files/x.txt', 'files')).toBe('X');
    expect(read(files, 'files/y.txt', 'files')).toBe('Y');
    expect(files.exists('files/y.txt', 'files')).toBe(true);
    expect(files.exists('files/y.txt', 'dockerfile')).toBe(false);
    expect(files.glob('files/*', 'files')).toEqual(['files/x.txt', 'files/y.txt']);
    expect(read(files, 'docker/Dockerfile.dev', 'dockerfile')).toBe('FROM B');
    expectReason(() => files.readFile('Dockerfile', 'dockerfile'), 'uncommitted', /Dockerfile/);
    expect(read(files, '.dockerignore', 'dockerignore')).toBe('X');
    expect(read(files, 'gen/extra.txt', 'context')).toBe('E');
    expectReason(() => files.readFile('gen/extra.txt', 'files'), 'untracked');
    // Templates: b.tmpl is changed and not allowed, so the template glob fails on it alone.
    const error = expectReason(() => files.glob('.werf/**/*.tmpl', 'template'), 'uncommitted');
    expect(error.paths).toEqual(['.werf/b.tmpl']);
  });

  it('withGiterminism changes the allowances and keeps the rest', () => {
    const repo = makeRepo({ 'werf.yaml': 'committed' });
    writeFiles(repo, { 'werf.yaml': 'working' });
    const strict = open(repo);
    expectReason(() => strict.readFile('werf.yaml', 'config'), 'uncommitted');
    const relaxed = strict.withGiterminism(config({ allowUncommitted: true }));
    expect(read(relaxed, 'werf.yaml', 'config')).toBe('working');
    expect(relaxed.commit).toEqual(strict.commit);
    expect(relaxed.giterminism.config?.allowUncommitted).toBe(true);
  });
});

describe('--dev (the working tree as git sees it)', () => {
  it('reads tracked changes and untracked files; .gitignore and deletions are respected', () => {
    const repo = makeRepo({ '.gitignore': '*.secret\n', 'werf.yaml': 'committed', 'gone.txt': 'g' });
    writeFiles(repo, { 'werf.yaml': 'working', 'new.txt': 'new', 'key.secret': 's', 'sub/n.txt': 'n' });
    unlinkSync(path.join(repo, 'gone.txt'));
    const files = open(repo, { dev: true });
    expect(files.source).toBe('worktree');
    expect(files.dev).toBe(true);
    expect(read(files, 'werf.yaml', 'config')).toBe('working');
    expect(read(files, 'new.txt')).toBe('new');
    expectReason(() => files.readFile('key.secret'), 'untracked', /ignored by .gitignore/);
    expectReason(() => files.readFile('gone.txt'), 'not-found', 'the file "gone.txt" not found in the project directory');
    expect(files.exists('key.secret')).toBe(false);
    expect(files.exists('gone.txt')).toBe(false);
    expect(files.isDir('sub')).toBe(true);
    expect(files.glob('**/*.txt')).toEqual(['new.txt', 'sub/n.txt']);
    // `*` alone is werf's universal glob: everything, at any depth.
    expect(files.glob('*')).toEqual(['.gitignore', 'new.txt', 'sub/n.txt', 'werf.yaml']);
    expect(files.glob('*.txt')).toEqual(['new.txt']);
    expect(files.uncommittedFiles()).toEqual([]);
  });

  it('reads an ignored file the giterminism config allows', () => {
    const repo = makeRepo({ '.gitignore': '*.secret\n' });
    writeFiles(repo, { 'key.secret': 's' });
    const files = open(repo, {
      dev: true,
      giterminism: { giterminismConfigVersion: 1, config: { goTemplateRendering: { allowUncommittedFiles: ['*.secret'] } } },
    });
    expect(read(files, 'key.secret')).toBe('s');
    expect(files.glob('*.secret')).toEqual(['key.secret']);
  });

  it('--dev-ignore paths keep their committed state', () => {
    const repo = makeRepo({ 'docs/a.md': 'committed', 'src/a.txt': 'committed' });
    writeFiles(repo, { 'docs/a.md': 'working', 'docs/new.md': 'new', 'src/a.txt': 'working' });
    const files = open(repo, { dev: true, devIgnore: ['docs'] });
    expect(read(files, 'docs/a.md')).toBe('committed');
    expect(read(files, 'src/a.txt')).toBe('working');
    expect(files.exists('docs/new.md')).toBe(false);
    expect(files.glob('docs/*')).toEqual(['docs/a.md']);
  });

  it('works from a subdirectory project', () => {
    const repo = makeRepo({ 'app/werf.yaml': 'c', 'other/x': 'x' });
    writeFiles(repo, { 'app/new.txt': 'n', 'other/y': 'y' });
    const files = open(path.join(repo, 'app'), { dev: true });
    expect(files.glob('**/*')).toEqual(['new.txt', 'werf.yaml']);
    expect(files.listFiles('').map((f) => f.path)).toEqual(['new.txt', 'werf.yaml']);
  });
});

describe('--loose-giterminism (plain files, no errors)', () => {
  it('reads whatever is in the working tree, ignored files included', () => {
    const repo = makeRepo({ '.gitignore': '*.secret\n', 'werf.yaml': 'committed' });
    writeFiles(repo, { 'werf.yaml': 'working', 'key.secret': 's', 'new.txt': 'n' });
    const files = open(repo, { looseGiterminism: true });
    expect(files.source).toBe('filesystem');
    expect(files.commit?.hash).toBe(git(repo, 'rev-parse', 'HEAD').trim());
    expect(read(files, 'werf.yaml')).toBe('working');
    expect(read(files, 'key.secret')).toBe('s');
    expect(files.glob('*')).toEqual(['.gitignore', 'key.secret', 'new.txt', 'werf.yaml']);
    expect(files.exists('.git')).toBe(false);
    expect(files.glob('**/HEAD')).toEqual([]);
    expectReason(() => files.readFile('nope'), 'not-found', 'the file "nope" not found in the project directory');
  });

  it('still refuses symlinks leaving the work tree', () => {
    const repo = makeRepo({ 'x': 'x' });
    const outside = tempDir();
    writeFiles(outside, { 'secret': 's' });
    symlinkSync(path.join(outside, 'secret'), path.join(repo, 'abs-link'));
    const files = open(repo, { looseGiterminism: true });
    expectReason(() => files.readFile('abs-link'), 'outside');
  });
});

describe('listFiles (build contexts) and uncommittedFiles', () => {
  it('lists committed files with git modes, types and project-relative paths', () => {
    const repo = makeRepo({ 'app/Dockerfile': 'FROM x', 'app/src/run.sh': 'run', 'app/src/a.txt': 'a', 'top.txt': 't' });
    chmodSync(path.join(repo, 'app/src/run.sh'), 0o755);
    symlinkSync('a.txt', path.join(repo, 'app/src/link'));
    commitAll(repo);
    writeFiles(repo, { 'app/src/untracked.txt': 'u' });
    const files = open(path.join(repo, 'app'));
    expect(files.listFiles('')).toEqual([
      { path: 'Dockerfile', mode: 0o100644, type: 'file' },
      { path: 'src/a.txt', mode: 0o100644, type: 'file' },
      { path: 'src/link', mode: 0o120000, type: 'symlink' },
      { path: 'src/run.sh', mode: 0o100755, type: 'file' },
    ]);
    expect(files.listFiles('src').map((f) => f.path)).toEqual(['src/a.txt', 'src/link', 'src/run.sh']);
    expect(files.listFiles('src/a.txt').map((f) => f.path)).toEqual(['src/a.txt']);
    expect(files.readLink('src/link', 'context')).toBe('a.txt');
    expectReason(() => files.listFiles('nope'), 'not-found');
    expectReason(() => files.listFiles('src/untracked.txt'), 'untracked');
  });

  it('lays the allowed working-tree files (allowContextAddFiles) over the commit', () => {
    const repo = makeRepo({ 'ctx/a.txt': 'a' });
    writeFiles(repo, { 'ctx/gen/out.bin': 'o', 'ctx/gen/more/x': 'x', 'ctx/other.txt': 'n' });
    chmodSync(path.join(repo, 'ctx/gen/out.bin'), 0o700);
    const files = open(repo, {
      giterminism: { giterminismConfigVersion: 1, config: { dockerfile: { allowContextAddFiles: ['ctx/gen'] } } },
    });
    expect(files.listFiles('ctx')).toEqual([
      { path: 'ctx/a.txt', mode: 0o100644, type: 'file' },
      { path: 'ctx/gen/more/x', mode: 0o100644, type: 'file' },
      { path: 'ctx/gen/out.bin', mode: 0o100755, type: 'file' },
    ]);
    expect(files.listFiles('ctx/gen').map((f) => f.path)).toEqual(['ctx/gen/more/x', 'ctx/gen/out.bin']);
    expect(files.uncommittedFiles('ctx')).toEqual(['ctx/other.txt']);
  });

  it('uncommittedFiles reports changed, deleted and untracked paths, not ignored ones or mode-only changes', () => {
    const repo = makeRepo({ '.gitignore': 'node_modules/\n', 'ctx/a.txt': 'a', 'ctx/b.txt': 'b', 'ctx/c.sh': 'c', 'out/x': 'x' });
    writeFiles(repo, { 'ctx/a.txt': 'A', 'ctx/new.txt': 'n', 'ctx/node_modules/m.js': 'm', 'out/y': 'y' });
    unlinkSync(path.join(repo, 'ctx/b.txt'));
    chmodSync(path.join(repo, 'ctx/c.sh'), 0o755);
    const files = open(repo);
    expect(files.uncommittedFiles('ctx')).toEqual(['ctx/a.txt', 'ctx/b.txt', 'ctx/new.txt']);
    expect(files.uncommittedFiles()).toEqual(['ctx/a.txt', 'ctx/b.txt', 'ctx/new.txt', 'out/y']);
    expect(open(repo, { dev: true }).uncommittedFiles()).toEqual([]);
    expect(uncommittedFilesError(['ctx/a.txt', 'ctx/b.txt'], 'context').message).toBe(
      'the following files must be committed:\n\n - ctx/a.txt\n - ctx/b.txt',
    );
  });

  it('in --dev, lists tracked and untracked files present in the working tree', () => {
    const repo = makeRepo({ '.gitignore': '*.log\n', 'ctx/a.txt': 'a', 'ctx/gone.txt': 'g' });
    writeFiles(repo, { 'ctx/new.txt': 'n', 'ctx/debug.log': 'l' });
    unlinkSync(path.join(repo, 'ctx/gone.txt'));
    expect(open(repo, { dev: true }).listFiles('ctx').map((f) => f.path)).toEqual(['ctx/a.txt', 'ctx/new.txt']);
    unlinkSync(path.join(repo, 'ctx/a.txt'));
    unlinkSync(path.join(repo, 'ctx/new.txt'));
    rmSync(path.join(repo, 'ctx/debug.log'));
    expectReason(() => open(repo, { dev: true }).listFiles('ctx'), 'not-found');
    writeFiles(repo, { 'ctx/a.txt': 'a', 'ctx/new.txt': 'n', 'ctx/debug.log': 'l' });
    expect(open(repo, { looseGiterminism: true }).listFiles('ctx').map((f) => f.path)).toEqual([
      'ctx/a.txt',
      'ctx/debug.log',
      'ctx/new.txt',
    ]);
  });
});
