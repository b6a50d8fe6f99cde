// `slipway cleanup` end to end against a real registry, over the realistic history of test/support/git-history.ts,
// run from a `git clone --depth 1` as a CI job would: the CLI must unshallow and sync first (werf
// cmd/werf/cleanup/cleanup.go), the dry run must list exactly what the real run then deletes, and a second run
// deletes nothing. Expected sets: werf's default policies, derived in test/unit/cleanup-history.test.ts from werf
// pkg/cleaning/git_history_based_cleanup/{reference_to_scan,scanner}.go and pkg/cleaning/cleanup.go.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { staticCredentials } from '../../src/registry/auth/credentials.js';
import { RegistryClient } from '../../src/registry/client.js';
import { managedImageTag, metaTag, publishImageMetadata, publishRecord } from '../../src/stages/metadata.js';
import { RegistryStore } from '../../src/store/registry-store.js';
import { git, makeHistory, stageIds, type History } from '../support/git-history.js';
import { registries } from '../support/registries.js';

const PROJECT = 'historye2e';
const WERF_YAML = `project: ${PROJECT}\nconfigVersion: 1\n---\nimage: app\ndockerfile: app.Dockerfile\n---\nimage: tools\ndockerfile: tools.Dockerfile\n`;
const client = new RegistryClient({ credentials: staticCredentials({}), retryBaseDelayMs: 5 });

let history: History;
let ids: Record<string, string>;
let repo: string;
let store: RegistryStore;
const scratch: string[] = [];

async function slipway(dir: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli([argv[0]!, '--dir', dir, ...argv.slice(1)], {
    io: { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } },
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), SLIPWAY_HOME: join(history.root, 'slipway-home') },
  });
  return { code, stdout, stderr };
}

const metaOf = (image: 'app' | 'tools', commit: string, version: string): string => metaTag(image, history.commits[commit]!, ids[version]!);

beforeAll(async () => {
  history = makeHistory(Date.now(), WERF_YAML);
  ids = stageIds(history);
  const host = registries().plain.host;
  const name = `history/stages-${randomBytes(3).toString('hex')}`;
  repo = `${host}/${name}`;
  store = new RegistryStore(client, { registry: host, repository: name });
  // What CI left in the stages repository: a stage per version (manifest-only images with the project label are
  // enough for cleanup), the meta- record of every build and the managed-image records.
  // A label of its own per stage: identical manifests would share a digest, and cleanup deletes by digest.
  for (const id of Object.values(ids)) await publishRecord(store, id, PROJECT, { 'slipway-stage-content-digest': id });
  for (const build of history.builds) {
    for (const image of ['app', 'tools'] as const) {
      await publishImageMetadata(store, { project: PROJECT, imageName: image, commit: history.commits[build.commit]!, stageId: ids[build[image]]! });
    }
  }
}, 120_000);

afterAll(async () => {
  await client.close();
  if (history) rmSync(history.root, { recursive: true, force: true });
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

async function tags(): Promise<string[]> {
  return [...(await store.listTags())].sort();
}

describe('slipway cleanup over a realistic history, from a shallow clone', () => {
  it('unshallows, then deletes exactly what the dry run listed, and nothing on the second run', async () => {
    const ci = join(history.root, 'ci');
    git(history.root, ['clone', '-q', '--depth', '1', `file://${history.origin}`, ci]);
    const before = await tags();

    const dry = await slipway(ci, ['cleanup', '--repo', repo, '--keep-stages-built-within-last-n-hours', '0', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(git(ci, ['rev-parse', '--is-shallow-repository'])).toBe('false');
    expect(await tags()).toEqual(before);
    const planned = [...dry.stdout.matchAll(/^delete (\S+)/gm)].map((m) => m[1]!).sort();

    // werf's defaults: the stages of a1 a3 (main beyond its 10 images; v0.9 on the unbuilt m4 keeps nothing),
    // c1 (feature/old, 250 h old), d1 (feature/gone, deleted), e1 and t3 (local-only, never pushed) go, with every
    // record but those the kept stages were kept through.
    const deletedStages = ['a1', 'a3', 'c1', 'd1', 'e1', 't3'].map((v) => ids[v]!);
    const deletedMetas = [
      metaOf('app', 'm13', 'a13'), metaOf('app', 'm3', 'a3'), metaOf('app', 'm1', 'a1'), metaOf('app', 'fo1', 'c1'),
      metaOf('app', 'fg1', 'd1'), metaOf('app', 'lo1', 'e1'),
      ...['m1', 'm3', 'm7', 'm8', 'fo1'].map((c) => metaOf('tools', c, 't1')),
      ...['m10', 'm11', 'm12', 'm13', 'm14', 'fa1', 'fg1'].map((c) => metaOf('tools', c, 't2')),
      metaOf('tools', 'lo1', 't3'),
    ];
    expect(planned).toEqual([...deletedStages, ...deletedMetas].sort());

    const real = await slipway(ci, ['cleanup', '--repo', repo, '--keep-stages-built-within-last-n-hours', '0']);
    expect(real.code, real.stderr).toBe(0);
    const after = await tags();
    expect(before.filter((t) => !after.includes(t)).sort()).toEqual(planned);
    expect(after).toEqual(before.filter((t) => !planned.includes(t)));
    expect(after).toEqual(expect.arrayContaining([managedImageTag('app'), managedImageTag('tools'), ids.a15!, ids.a13!, ids.a2!, ids.b1!, ids.t1!]));

    const again = await slipway(ci, ['cleanup', '--repo', repo, '--keep-stages-built-within-last-n-hours', '0']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^Deleted 0 tags/m);
    expect(await tags()).toEqual(after);
  }, 120_000);

  it('refuses a shallow clone when werf.yaml forbids fetching, and deletes nothing', async () => {
    const ci = join(history.root, 'ci-no-fetch');
    git(history.root, ['clone', '-q', '--depth', '1', `file://${history.origin}`, ci]);
    writeFileSync(join(ci, 'werf.yaml'), `${WERF_YAML.split('---')[0]}gitWorktree:\n  allowFetchOriginBranchesAndTags: false\n---${WERF_YAML.split('---').slice(1).join('---')}`);
    git(ci, ['commit', '-qam', 'no fetch'], Date.now());
    const before = await tags();
    const result = await slipway(ci, ['cleanup', '--repo', repo, '--keep-stages-built-within-last-n-hours', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: git shallow clone is not allowed/m);
    expect(await tags()).toEqual(before);
  }, 60_000);

  it('refuses to run without a git work tree, also with --dev or --loose-giterminism, and does not suggest them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-nogit-'));
    scratch.push(dir);
    writeFileSync(join(dir, 'werf.yaml'), WERF_YAML);
    const before = await tags();
    for (const flags of [[], ['--dev'], ['--loose-giterminism']]) {
      const result = await slipway(dir, ['cleanup', ...flags, '--repo', repo, '--keep-stages-built-within-last-n-hours', '0']);
      expect(result.code, flags.join(' ')).toBe(1);
      expect(result.stderr).toMatch(/^Error: cleanup requires a git work tree/m);
      expect(result.stderr).not.toMatch(/or use --dev or --loose-giterminism/);
    }
    expect(await tags()).toEqual(before);
  }, 60_000);
});
