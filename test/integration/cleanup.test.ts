// `slipway cleanup` and `slipway purge` against a real registry of the test's own, so it can be stopped, garbage
// collected with `docker-registry garbage-collect` and started again on the same storage. The guarantee under
// test: exported images (in --repo under any tag, a stage-shaped one included, and elsewhere) and unrelated
// tags are never deleted, and stay pullable after the registry's garbage collection.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { startRegistry, stopChild, type StartedRegistry } from '../setup/registry-process.js';
import { pushRandomImage, skopeo, skopeoCopy, skopeoInspect } from '../support/registries.js';
import { gitAsync } from '../support/git-repo.js';

const run = promisify(execFile);

interface Result { code: number; stdout: string; stderr: string }

async function slipway(dir: string, argv: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await runCli([argv[0]!, '--dir', dir, ...argv.slice(1)], {
    io: { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } },
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), SLIPWAY_HOME: join(dir, '.git', 'slipway-home') },
  });
  return { code, stdout, stderr };
}

async function write(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

function imageTags(stderr: string): Record<string, string> {
  return Object.fromEntries([...stderr.matchAll(/^image (\S+): \S+?:([0-9a-f]{56}-\d{13})$/gm)].map((m) => [m[1]!, m[2]!]));
}

function storedStages(stderr: string): string[] {
  return [...stderr.matchAll(/^Store stage (\S+)/gm)].map((m) => m[1]!);
}

const WERF_YAML = [
  'project: cleanuptest', 'configVersion: 1',
  'cleanup:', '  keepPolicies:', '  - references:', '      branch: /.*/', '    imagesPerReference:', '      last: 1', '---',
  'image: app', 'dockerfile: app.Dockerfile', '---',
  'image: tools', 'dockerfile: tools.Dockerfile', '',
].join('\n');

let workDir: string;
let registry: StartedRegistry;
let project: string;
let repoName: string;
/** Image tags built at each commit, by commit label. */
const built: Record<string, Record<string, string>> = {};

function repo(): string {
  return `${registry.host}/${repoName}`;
}

async function build(label: string): Promise<void> {
  const result = await slipway(project, ['build', '--repo', repo()]);
  expect(result.code, result.stderr).toBe(0);
  built[label] = imageTags(result.stderr);
}

async function listTags(repository = repo()): Promise<string[]> {
  const out = JSON.parse(await skopeo(['list-tags', '--tls-verify=false', `docker://${repository}`])) as { Tags: string[] | null };
  return [...(out.Tags ?? [])].sort();
}

/** skopeo reads the manifest, the config and every layer (verifying digests) into an OCI layout. */
async function pullable(ref: string): Promise<void> {
  const out = await mkdtemp(join(tmpdir(), 'slipway-cleanup-pull-'));
  try {
    await skopeoInspect(ref);
    await skopeoCopy(ref, `oci:${out}:x`);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

async function restartWithGarbageCollection(): Promise<void> {
  await stopChild(registry.child);
  await run('docker-registry', ['garbage-collect', '--delete-untagged=false', join(workDir, 'cleanup-registry', 'config.yml')]);
  registry = await startRegistry(workDir, { name: 'cleanup-registry' });
}

const stageShapedExport = `${randomBytes(28).toString('hex')}-${Date.now() - 3 * 3_600_000}`;
const indexShapedForeign = randomBytes(28).toString('hex');
let otherRepo: string;
let exportedRefs: string[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'slipway-cleanup-reg-'));
  registry = await startRegistry(workDir, { name: 'cleanup-registry' });
  repoName = `cleanup/stages-${randomBytes(3).toString('hex')}`;
  otherRepo = `cleanup/exported-${randomBytes(3).toString('hex')}`;

  project = await mkdtemp(join(tmpdir(), 'slipway-cleanup-'));
  // cleanup counts origin's branches only (werf's rule): the project has a bare origin and pushes to it.
  await gitAsync(workDir, 'init', '-q', '--bare', 'origin.git');
  await gitAsync(project, 'init', '-q', '-b', 'main');
  await gitAsync(project, 'remote', 'add', 'origin', join(workDir, 'origin.git'));
  await write(project, {
    'werf.yaml': WERF_YAML,
    'app.Dockerfile': 'FROM scratch\nCOPY base.txt /base.txt\nCOPY app.txt /app.txt\nCMD ["/app"]\n',
    'tools.Dockerfile': 'FROM scratch\nCOPY tools.txt /tools.txt\n',
    'base.txt': `base ${randomBytes(2000).toString('hex')}\n`,
    'app.txt': `app v1 ${randomBytes(2000).toString('hex')}\n`,
    'tools.txt': 'tools v1\n',
  });
  await gitAsync(project, 'add', '-A');
  await gitAsync(project, 'commit', '-qm', 'A');
  await gitAsync(project, 'push', '-q', 'origin', 'main');
  await build('A');

  // An export of app v1 into --repo and into another repository, made while its stages exist; its layers are
  // those of stages cleanup will delete.
  const exportV1 = await slipway(project, ['export', 'app', '--repo', repo(), '--tag', `${repo()}:exported-v1-%image%`, '--tag', `${registry.host}/${otherRepo}:v1-%image%`]);
  expect(exportV1.code, exportV1.stderr).toBe(0);

  await write(project, { 'app.txt': `app v2 ${randomBytes(2000).toString('hex')}\n` });
  await gitAsync(project, 'commit', '-qam', 'B');
  await gitAsync(project, 'push', '-q', 'origin', 'main');
  await build('B');

  await gitAsync(project, 'checkout', '-q', '-b', 'feature');
  await write(project, { 'tools.txt': 'tools v2\n' });
  await gitAsync(project, 'commit', '-qam', 'C');
  await gitAsync(project, 'push', '-q', 'origin', 'feature');
  await build('C');

  await gitAsync(project, 'checkout', '-q', 'main');
  await write(project, { 'app.txt': `app v3 ${randomBytes(2000).toString('hex')}\n` });
  await gitAsync(project, 'commit', '-qam', 'D');
  await gitAsync(project, 'push', '-q', 'origin', 'main');
  await build('D');

  const exportD = await slipway(project, ['export', '--repo', repo(), '--tag', `${repo()}:exported-%image%`, '--tag', `${registry.host}/${otherRepo}:%image%`]);
  expect(exportD.code, exportD.stderr).toBe(0);

  // An exported image under a stage-shaped tag in --repo (old enough to be outside any window), a foreign
  // image under a multi-platform-shaped tag, and an unrelated tag.
  await skopeoCopy(`${repo()}:exported-v1-app`, `${repo()}:${stageShapedExport}`);
  await pushRandomImage(registry.host, repoName, indexShapedForeign, { layers: 1, layerSize: 5_000 });
  await pushRandomImage(registry.host, repoName, 'unrelated', { layers: 1, layerSize: 5_000 });

  exportedRefs = [
    `${repoName}:exported-v1-app`, `${repoName}:exported-app`, `${repoName}:exported-tools`, `${repoName}:${stageShapedExport}`,
    `${otherRepo}:v1-app`, `${otherRepo}:app`, `${otherRepo}:tools`,
  ];
}, 240_000);

afterAll(async () => {
  if (registry) await stopChild(registry.child);
  if (workDir) await rm(workDir, { recursive: true, force: true });
  if (project) await rm(project, { recursive: true, force: true });
});

const foreignTags = (): string[] => ['exported-app', 'exported-tools', 'exported-v1-app', stageShapedExport, indexShapedForeign, 'unrelated'];

describe('slipway cleanup', () => {
  it('--dry-run prints the plan and deletes nothing', async () => {
    const before = await listTags();
    const result = await slipway(project, ['cleanup', '--repo', repo(), '--keep-stages-built-within-last-n-hours', '0', '--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    expect(await listTags()).toEqual(before);
    const deleted = [...result.stdout.matchAll(/^delete (\S+)/gm)].map((m) => m[1]!);
    expect(deleted).toContain(built.A!.app);
    for (const tag of foreignTags()) expect(result.stdout).not.toContain(tag);
    expect(result.stdout).toMatch(new RegExp(`^keep ${built.D!.app} \\(stage\\): git history: branch main`, 'm'));
    expect(result.stdout).toMatch(/^Dry run: \d+ tags would be deleted/m);
  });

  it('deletes stale stages and records only; exported and unrelated images survive the registry GC', async () => {
    const before = await listTags();
    const result = await slipway(project, ['cleanup', '--repo', repo(), '--keep-stages-built-within-last-n-hours', '0']);
    expect(result.code, result.stderr).toBe(0);
    const after = await listTags();
    const deleted = before.filter((t) => !after.includes(t));

    // Stale: app v1 (built at A only); its meta record too.
    expect(deleted).toContain(built.A!.app);
    expect(deleted.some((t) => t.startsWith('meta-') && t.includes(built.A!.app!))).toBe(true);
    // Kept: what each branch's last commit needs, and their records.
    for (const tag of [built.D!.app, built.D!.tools, built.C!.app, built.C!.tools, built.B!.app]) expect(after).toContain(tag);
    expect(after.some((t) => t.startsWith('meta-') && t.includes(built.D!.app!))).toBe(true);
    expect(after.filter((t) => t.startsWith('managed-image-')).sort()).toEqual(['managed-image-app', 'managed-image-tools']);
    // Nothing but stages and records was deleted; every foreign tag stays.
    for (const tag of deleted) expect(tag).toMatch(/^([0-9a-f]{56}-\d{13}|meta-.*)$/);
    for (const tag of foreignTags()) expect(after).toContain(tag);
    expect(result.stdout).toMatch(/^Deleted \d+ tags \(\d+ manifests; about .* of layers were referenced only by them, approximate\)/m);
    expect(deleted.length).toBeGreaterThan(0);

    for (const ref of exportedRefs) await pullable(`${registry.host}/${ref}`);
    await restartWithGarbageCollection();
    for (const ref of exportedRefs) await pullable(`${registry.host}/${ref}`);
    for (const tag of [built.D!.app, built.C!.tools]) await pullable(`${repo()}:${tag}`);

    // The next builds reuse every kept stage: nothing is stored.
    const again = await slipway(project, ['build', '--repo', repo()]);
    expect(again.code, again.stderr).toBe(0);
    expect(storedStages(again.stderr)).toEqual([]);
    expect(imageTags(again.stderr)).toEqual(built.D);
    await gitAsync(project, 'checkout', '-q', 'feature');
    try {
      const feature = await slipway(project, ['build', '--repo', repo()]);
      expect(feature.code, feature.stderr).toBe(0);
      expect(storedStages(feature.stderr)).toEqual([]);
    } finally {
      await gitAsync(project, 'checkout', '-q', 'main');
    }
  }, 180_000);

  it('purge deletes every stage and record of the project and nothing else', async () => {
    const result = await slipway(project, ['purge', '--repo', repo()]);
    expect(result.code, result.stderr).toBe(0);
    expect(await listTags()).toEqual(foreignTags().sort());
    for (const ref of exportedRefs) await pullable(`${registry.host}/${ref}`);
    expect(await listTags(`${registry.host}/${otherRepo}`)).toEqual(['app', 'tools', 'v1-app']);
  }, 120_000);
});

describe('without --repo: the local stages storage', () => {
  it('cleanup and purge work on the OCI layout and spare a foreign image under a stage-shaped tag', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-cleanup-local-'));
    try {
      await gitAsync(workDir, 'init', '-q', '--bare', 'local-origin.git');
      await gitAsync(dir, 'init', '-q', '-b', 'main');
      await gitAsync(dir, 'remote', 'add', 'origin', join(workDir, 'local-origin.git'));
      const werfYaml = 'project: cleanuplocal\nconfigVersion: 1\ncleanup:\n  keepPolicies:\n  - references:\n      branch: main\n    imagesPerReference:\n      last: 2\n---\nimage: one\ndockerfile: one.Dockerfile\n';
      await write(dir, { 'werf.yaml': werfYaml, 'one.Dockerfile': 'FROM scratch\nCOPY one.txt /one.txt\n', 'one.txt': 'v1\n' });
      await gitAsync(dir, 'add', '-A');
      await gitAsync(dir, 'commit', '-qm', 'one');
      const first = await slipway(dir, ['build']);
      expect(first.code, first.stderr).toBe(0);
      const v1 = imageTags(first.stderr).one!;
      await write(dir, { 'one.txt': 'v2\n' });
      await gitAsync(dir, 'commit', '-qam', 'two');
      const second = await slipway(dir, ['build']);
      expect(second.code, second.stderr).toBe(0);
      const v2 = imageTags(second.stderr).one!;
      await write(dir, { 'one.txt': 'v3\n' });
      await gitAsync(dir, 'commit', '-qam', 'three');
      await gitAsync(dir, 'push', '-q', 'origin', 'main');
      const third = await slipway(dir, ['build']);
      expect(third.code, third.stderr).toBe(0);
      const v3 = imageTags(third.stderr).one!;

      const layout = join(dir, '.git', 'slipway-home', 'stages', 'cleanuplocal');
      const foreign = `${randomBytes(28).toString('hex')}-${Date.now() - 5 * 3_600_000}`;
      await skopeoCopy(`${registry.host}/${repoName}:unrelated`, `oci:${layout}:${foreign}`);
      const localTags = async (): Promise<string[]> => {
        const index = JSON.parse(await (await import('node:fs/promises')).readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
        return index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']).filter((t): t is string => t !== undefined).sort();
      };

      const cleanup = await slipway(dir, ['cleanup', '--keep-stages-built-within-last-n-hours', '0']);
      expect(cleanup.code, cleanup.stderr).toBe(0);
      const afterCleanup = await localTags();
      // keepPolicies: two images of origin/main (fetched by cleanup itself: the push came after the builds).
      expect(afterCleanup).toContain(v3);
      expect(afterCleanup).toContain(v2);
      expect(afterCleanup).not.toContain(v1);
      expect(afterCleanup).toContain(foreign);

      const purge = await slipway(dir, ['purge']);
      expect(purge.code, purge.stderr).toBe(0);
      expect(await localTags()).toEqual([foreign]);
      // The blobs were written minutes ago: the local store keeps them for the grace period, and says so.
      expect(purge.stdout).toMatch(/kept \d+ unreferenced blobs \(.*\) younger than 60 min, which a running build may still need/);
      await pullable(`oci:${layout}:${foreign}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
