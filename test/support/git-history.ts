// A realistic project history for cleanup tests, in real git: a bare origin and a clone of it, every commit and
// annotated tag dated explicitly relative to `now`, and the images that CI "built" at each commit.
//
//   main          m1 … m15, m_i made (16 - i) × 20 h before now (m1 300 h ago, m15 20 h ago); m4 was not built
//   feature/a     from m10: fa1 (30 h ago), fa2 (10 h ago); pushed
//   feature/old   from m5: fo1 (250 h ago); pushed
//   feature/gone  from m12: fg1 (50 h ago); pushed, built, then deleted on origin and locally
//   local-only    from m15: lo1 (2 h ago); never pushed
//   tags          v0.9 lightweight on m4 (not built); v1.0 lightweight on m2;
//                 v1.5 annotated on m6, tagged 400 h ago; v2.0 annotated on m5 (220 h ago), tagged 5 h ago
//
// Images: `app` changes at almost every commit (m13 and m14 build the same app stage a13); `tools` is t1 up to
// m9 and on feature/old, t2 from m10 on (and on feature/a and feature/gone), t3 on local-only.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HOUR = 3_600_000;

export interface Build {
  /** The commit's label (m1, fa2, …). */
  commit: string;
  app: string;
  tools: string;
}

export interface History {
  root: string;
  /** The bare origin. */
  origin: string;
  /** The clone CI worked in (full history), with the local-only branch and tag. */
  clone: string;
  /** Commit hashes by label. */
  commits: Record<string, string>;
  /** Commit times (ms) by label. */
  times: Record<string, number>;
  builds: Build[];
}

const IDENTITY = ['-c', 'user.email=ci@example.org', '-c', 'user.name=ci', '-c', 'init.defaultBranch=main', '-c', 'advice.detachedHead=false'];

export function git(dir: string, args: string[], when?: number): string {
  const date = when === undefined ? undefined : `@${Math.floor(when / 1000)} +0000`;
  const env: NodeJS.ProcessEnv = { ...process.env, ...(date ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {}) };
  for (const name of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE']) delete env[name];
  return execFileSync('git', [...IDENTITY, ...args], { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** What each built commit built. */
const BUILDS: readonly Build[] = [
  ...[1, 2, 3, 5, 6, 7, 8, 9].map((i) => ({ commit: `m${i}`, app: `a${i}`, tools: 't1' })),
  ...[10, 11, 12, 13].map((i) => ({ commit: `m${i}`, app: `a${i}`, tools: 't2' })),
  { commit: 'm14', app: 'a13', tools: 't2' },
  { commit: 'm15', app: 'a15', tools: 't2' },
  { commit: 'fa1', app: 'b1', tools: 't2' },
  { commit: 'fa2', app: 'b2', tools: 't2' },
  { commit: 'fo1', app: 'c1', tools: 't1' },
  { commit: 'fg1', app: 'd1', tools: 't2' },
  { commit: 'lo1', app: 'e1', tools: 't3' },
];

/**
 * Make the history under a new temporary directory. `werfYaml` is committed at m1 (the file is the same on every
 * branch), so the clone can be a real project.
 */
export function makeHistory(now: number, werfYaml: string): History {
  const root = mkdtempSync(join(tmpdir(), 'slipway-history-'));
  const origin = join(root, 'origin.git');
  const clone = join(root, 'clone');
  git(root, ['init', '-q', '--bare', origin]);
  git(root, ['clone', '-q', origin, clone]);
  const commits: Record<string, string> = {};
  const times: Record<string, number> = {};
  const commit = (label: string, hoursAgo: number): void => {
    const when = now - hoursAgo * HOUR;
    writeFileSync(join(clone, 'history.txt'), `${label}\n`);
    if (label === 'm1') writeFileSync(join(clone, 'werf.yaml'), werfYaml);
    git(clone, ['add', '-A']);
    git(clone, ['commit', '-qm', label], when);
    commits[label] = git(clone, ['rev-parse', 'HEAD']);
    times[label] = Math.floor(when / 1000) * 1000;
  };

  for (let i = 1; i <= 15; i++) {
    commit(`m${i}`, (16 - i) * 20);
    if (i === 5) git(clone, ['branch', 'feature/old']);
    if (i === 10) git(clone, ['branch', 'feature/a']);
    if (i === 12) git(clone, ['branch', 'feature/gone']);
  }
  git(clone, ['push', '-q', 'origin', 'main']);
  git(clone, ['checkout', '-q', 'feature/a']);
  commit('fa1', 30);
  commit('fa2', 10);
  git(clone, ['push', '-q', 'origin', 'feature/a']);
  git(clone, ['checkout', '-q', 'feature/old']);
  commit('fo1', 250);
  git(clone, ['push', '-q', 'origin', 'feature/old']);
  git(clone, ['checkout', '-q', 'feature/gone']);
  commit('fg1', 50);
  git(clone, ['push', '-q', 'origin', 'feature/gone']);
  git(clone, ['checkout', '-q', '-b', 'local-only', 'main']);
  commit('lo1', 2);
  git(clone, ['checkout', '-q', 'main']);
  // The branch is merged or abandoned: deleted on origin and here, after CI built it.
  git(clone, ['push', '-q', 'origin', '--delete', 'feature/gone']);
  git(clone, ['branch', '-q', '-D', 'feature/gone']);

  git(clone, ['tag', 'v0.9', commits.m4!]);
  git(clone, ['tag', 'v1.0', commits.m2!]);
  git(clone, ['tag', '-a', '-m', 'release 1.5', 'v1.5', commits.m6!], now - 400 * HOUR);
  git(clone, ['tag', '-a', '-m', 'release 2.0', 'v2.0', commits.m5!], now - 5 * HOUR);
  git(clone, ['push', '-q', 'origin', 'v0.9', 'v1.0', 'v1.5', 'v2.0']);
  // The clone's remote-tracking refs as CI left them (origin/feature/gone pruned by the delete push).
  git(clone, ['fetch', '-q', 'origin']);
  return { root, origin, clone, commits, times, builds: [...BUILDS] };
}

/** A stage ID for an image version, stable for a given build time: `<56 hex>-<ms>`. */
export function stageIdOf(version: string, builtAt: number): string {
  return `${createHash('sha256').update(`stage ${version}`).digest('hex').slice(0, 56)}-${builtAt}`;
}

/** Each version's stage ID: built when its first commit was built. */
export function stageIds(history: History): Record<string, string> {
  const ids: Record<string, string> = {};
  const ordered = [...history.builds].sort((a, b) => history.times[a.commit]! - history.times[b.commit]!);
  for (const build of ordered) {
    for (const version of [build.app, build.tools]) ids[version] ??= stageIdOf(version, history.times[build.commit]!);
  }
  return ids;
}
