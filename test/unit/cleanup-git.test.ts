// The git queries cleanup's keep policies use: origin branches and tags with their dates,
// and `git rev-list` histories; also readGitReferences, which joins them.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readGitReferences } from '../../src/cleanup/cleanup.js';
import { listReferences, revList } from '../../src/project/git.js';
import { removeTempDirs, tempDir } from '../support/git-repo.js';

afterAll(removeTempDirs);

function repo(): { dir: string; git: (...args: string[]) => string } {
  const dir = tempDir('slipway-cleanup-git-');
  const git = (...args: string[]): string => execFileSync('git', ['-c', 'user.email=t@e.org', '-c', 'user.name=t', ...args], { cwd: dir, encoding: 'utf8' }).trim();
  return { dir, git };
}

describe('listReferences / revList', () => {
  it('lists branches and tags (annotated ones peeled) with commit dates, and histories newest first', () => {
    const { dir, git } = repo();
    git('init', '-q', '-b', 'main');
    const commit = (name: string, date: string): string => {
      writeFileSync(join(dir, 'f'), name);
      git('add', '-A');
      execFileSync('git', ['-c', 'user.email=t@e.org', '-c', 'user.name=t', 'commit', '-qm', name], { cwd: dir, env: { ...process.env, GIT_COMMITTER_DATE: date, GIT_AUTHOR_DATE: date } });
      return git('rev-parse', 'HEAD');
    };
    const a = commit('a', '2030-01-01T00:00:00Z');
    const b = commit('b', '2030-01-02T00:00:00Z');
    git('tag', 'light', a);
    // The tag object is dated 2030-02-01, after its commit: werf dates an annotated tag by its tagger date.
    execFileSync('git', ['-c', 'user.email=t@e.org', '-c', 'user.name=t', 'tag', '-a', '-m', 'annotated', 'v1', b], { cwd: dir, env: { ...process.env, GIT_COMMITTER_DATE: '2030-02-01T00:00:00Z' } });
    git('checkout', '-q', '-b', 'feature', a);
    const c = commit('c', '2030-01-03T00:00:00Z');
    // Only origin's remote-tracking branches are references (werf reference_to_scan.go): the local main and
    // feature are not, origin/HEAD is not.
    git('update-ref', 'refs/remotes/origin/main', a);
    git('update-ref', 'refs/remotes/origin/HEAD', a);

    const refs = listReferences(dir).map((r) => ({ ...r, date: r.date.toISOString(), commitDate: r.commitDate.toISOString() }));
    expect(refs).toEqual(expect.arrayContaining([
      { kind: 'branch', name: 'main', commit: a, date: '2030-01-01T00:00:00.000Z', commitDate: '2030-01-01T00:00:00.000Z' },
      { kind: 'tag', name: 'light', commit: a, date: '2030-01-01T00:00:00.000Z', commitDate: '2030-01-01T00:00:00.000Z' },
      { kind: 'tag', name: 'v1', commit: b, date: '2030-02-01T00:00:00.000Z', commitDate: '2030-01-02T00:00:00.000Z' },
    ]));
    expect(refs).toHaveLength(3);
    expect(revList(dir, c).map((x) => x.hash)).toEqual([c, a]);
    expect(revList(dir, b).map((x) => [x.hash, x.date.toISOString()])).toEqual([[b, '2030-01-02T00:00:00.000Z'], [a, '2030-01-01T00:00:00.000Z']]);
    const joined = readGitReferences(dir);
    // A tag stands for its commit alone (werf scans a tag one commit deep); a branch for its history.
    expect(joined.find((r) => r.name === 'v1')).toEqual({ kind: 'tag', name: 'v1', time: Date.parse('2030-02-01T00:00:00Z'), commits: [{ hash: b, time: Date.parse('2030-01-02T00:00:00Z') }] });
    expect(joined.find((r) => r.name === 'main')).toMatchObject({ kind: 'branch', commits: [{ hash: a }] });
    expect(joined.map((r) => r.name).sort()).toEqual(['light', 'main', 'v1']);
  });
});
