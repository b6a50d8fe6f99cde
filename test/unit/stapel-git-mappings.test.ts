// Stapel git mappings over a real repository: what a mapping selects (add, includePaths, excludePaths, to), the
// patch between two commits, the stage dependencies checksum, and the layer entries' owners.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { GitMapping } from '../../src/config/werf-config.js';
import { MappingView, ProjectRepository } from '../../src/builder/stapel/git-mappings.js';
import { commitAll, git, makeRepo, removeTempDirs, write } from '../support/git-repo.js';

afterAll(() => removeTempDirs());

function mapping(partial: Partial<GitMapping>): GitMapping {
  return {
    url: undefined, branch: undefined, tag: undefined, commit: undefined, add: '/', to: '/app', includePaths: [], excludePaths: [],
    owner: undefined, group: undefined, lfs: false, basicAuth: undefined, stageDependencies: { install: [], beforeSetup: [], setup: [] },
    ...partial,
  };
}

const head = (dir: string): string => git(dir, 'rev-parse', 'HEAD').trim();

describe('stapel git mappings', () => {
  const dir = makeRepo({
    'src/a.js': 'a', 'src/lib/b.js': 'b', 'src/static/s.css': 'css', 'src/static/x.js': 'x', 'src/README.md': 'readme',
    'config/app.conf': 'conf', 'other.txt': 'other',
  });
  const first = head(dir);
  const repo = new ProjectRepository(dir, first);
  const targets = (m: GitMapping): string[] => [...new MappingView(m, repo).select(first).keys()].sort();

  it('selects under add, maps to `to`, and applies includePaths and excludePaths relative to add', () => {
    expect(targets(mapping({ add: '/src' }))).toEqual(['app/README.md', 'app/a.js', 'app/lib/b.js', 'app/static/s.css', 'app/static/x.js']);
    expect(targets(mapping({ add: '/src', includePaths: ['**/*.js'] }))).toEqual(['app/a.js', 'app/lib/b.js', 'app/static/x.js']);
    expect(targets(mapping({ add: '/src', includePaths: ['*.js'] }))).toEqual(['app/a.js']);
    expect(targets(mapping({ add: '/src', includePaths: ['static'], excludePaths: ['static/*.js'] }))).toEqual(['app/static/s.css']);
    expect(targets(mapping({ add: '/src', excludePaths: ['static', 'README.md'] }))).toEqual(['app/a.js', 'app/lib/b.js']);
    expect(targets(mapping({ add: '/config/app.conf', to: '/etc/app.conf' }))).toEqual(['etc/app.conf']);
    expect(targets(mapping({ add: '/', to: '/' })).length).toBe(7);
    // A path that only starts like add is not under it.
    expect(targets(mapping({ add: '/sr' }))).toEqual([]);
  });

  it('patches between commits: changed, added and deleted files within the selection, and their size', () => {
    write(dir, 'src/a.js', 'a2');
    write(dir, 'src/new.js', 'new!');
    rmSync(`${dir}/src/lib/b.js`);
    write(dir, 'other.txt', 'changed outside');
    commitAll(dir, 'second');
    const second = head(dir);
    const view = new MappingView(mapping({ add: '/src', excludePaths: ['static'] }), repo);
    const patch = view.patch(first, second);
    expect(patch.changed.map((f) => f.target).sort()).toEqual(['app/a.js', 'app/new.js']);
    expect(patch.deleted).toEqual(['app/lib/b.js']);
    expect(patch.size).toBe(2 + 4 + 1);
    expect(view.patch(second, second)).toEqual({ changed: [], deleted: [], size: 0 });
    const entries = view.patchEntries(patch, { uid: 1000, gid: 50 });
    expect(entries.find((e) => e.path === 'app/lib/b.js')).toMatchObject({ type: 'whiteout' });
    expect(entries.find((e) => e.path === 'app/new.js')).toMatchObject({ type: 'file', uid: 1000, gid: 50, size: 4, mode: 0o644 });
    expect(entries.find((e) => e.path === 'app')).toMatchObject({ type: 'dir', uid: 1000, gid: 50 });
    // The patch checksum (gitLatestPatch's dependencies) follows the patch's content.
    expect(MappingView.patchChecksum(patch)).not.toBe(MappingView.patchChecksum(view.patch(first, first)));
  });

  it('stage dependencies checksums change only with the files their globs match', () => {
    const view = new MappingView(mapping({ add: '/src', stageDependencies: { install: ['static'], beforeSetup: [], setup: ['**/*.md'] } }), repo);
    const before = head(dir);
    const install = view.stageDependenciesChecksum('install', before);
    const setup = view.stageDependenciesChecksum('setup', before);
    expect(view.stageDependenciesChecksum('beforeSetup', before)).toBe('');
    write(dir, 'src/a.js', 'a3');
    commitAll(dir, 'unrelated');
    const unrelated = head(dir);
    expect(view.stageDependenciesChecksum('install', unrelated)).toBe(install);
    expect(view.stageDependenciesChecksum('setup', unrelated)).toBe(setup);
    write(dir, 'src/static/s.css', 'css2');
    commitAll(dir, 'related');
    const related = head(dir);
    expect(view.stageDependenciesChecksum('install', related)).not.toBe(install);
    expect(view.stageDependenciesChecksum('setup', related)).toBe(setup);
  });

  it('the params hash (gitArchive) and the commit label follow the mapping, not the commit', () => {
    const a = new MappingView(mapping({ add: '/src' }), repo);
    const b = new MappingView(mapping({ add: '/src', owner: 'app' }), repo);
    expect(a.paramsHash).not.toBe(b.paramsHash);
    expect(a.paramsHash).toBe(new MappingView(mapping({ add: '/src' }), new ProjectRepository(dir, head(dir))).paramsHash);
    expect(a.commitLabel).toMatch(/^slipway-git-[0-9a-f]{32}-commit$/);
  });
});
