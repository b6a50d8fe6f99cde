// The real-world corpus (issue 12): each case of test/corpus/cases.ts is built by Slipway (`slipway build`, in
// process) and by buildah (`buildah bud --layers --isolation oci` with runc, the runtime Slipway's RUN uses), both
// FROM the same debootstrapped Debian bookworm base (test/support/debian-base.ts); both images are unpacked
// independently of Slipway's code (skopeo + umoci, test/support/image-fs.ts) and compared: paths, types, modes,
// owners, link targets, hard links, contents, xattrs, and the config. Each side is also checked for what the
// Dockerfile is meant to produce. Both builders then build again with nothing changed: Slipway must build no
// stage and give the same image.
//
// `npm test` runs the cases marked `ci` (about 5 minutes); SLIPWAY_CORPUS=all (`npm run test:corpus`) runs all
// of them, or SLIPWAY_CORPUS=name,name the ones named. With SLIPWAY_CORPUS_REPORT=<file>, each case appends its
// row of the results table (docs/corpus.md) to that file.
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { buildahBuild } from '../support/buildah.js';
import { debianBase } from '../support/debian-base.js';
import { commitAsync } from '../support/git-repo.js';
import { uniqueRepo } from '../support/images.js';
import { diffSnapshots, imageConfig, runConfig, snapshotImage, type FsEntry, type IgnoreRule, type ImageConfig } from '../support/image-fs.js';
import { registries } from '../support/registries.js';
import { CASES, type CorpusCase } from './cases.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const CASE_TIMEOUT = 30 * 60_000;

/** The cases this run builds: SLIPWAY_CORPUS=all, a comma-separated list of names, or (default) the CI subset. */
export function selectedCases(selection = process.env.SLIPWAY_CORPUS): CorpusCase[] {
  if (selection === 'all') return CASES;
  if (selection) {
    const names = selection.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = names.filter((n) => !CASES.some((c) => c.name === n));
    if (unknown.length > 0) throw new Error(`SLIPWAY_CORPUS names no corpus case ${unknown.join(', ')} (cases: ${CASES.map((c) => c.name).join(', ')})`);
    return CASES.filter((c) => names.includes(c.name));
  }
  return CASES.filter((c) => c.ci);
}

let base: string;
beforeAll(async () => {
  base = await debianBase();
}, 10 * 60_000);

const temps: string[] = [];
afterAll(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

const isEmptyFile = (e: FsEntry): boolean => e.type === 'file' && e.size === 0;

/**
 * buildah 1.28 bind-mounts its own /etc/hosts and /etc/resolv.conf over files it creates empty when the base has
 * none (the debootstrapped base has neither: a container gets its own), and commits those stubs into the image;
 * BuildKit removes such stubs, and Slipway need not create them. Skipped only while they are empty stubs.
 */
const BUILDAH_STUBS: IgnoreRule[] = [
  { path: '/etc/hosts', reason: 'buildah mount-point stub', when: isEmptyFile },
  { path: '/etc/hostname', reason: 'buildah mount-point stub', when: isEmptyFile },
  { path: '/etc/resolv.conf', reason: 'buildah mount-point stub', when: isEmptyFile },
];

/**
 * The config as both builders say it: Env sorted (buildah moves a variable set again to the end), an empty
 * Entrypoint as none, ports and volumes by key; labels without each builder's own (slipway*, io.buildah.version).
 */
function comparableConfig(config: ImageConfig): Record<string, unknown> {
  const c = runConfig(config);
  const raw = config.config ?? {};
  const keys = (v: unknown): string[] | null => (v && typeof v === 'object' && Object.keys(v).length > 0 ? Object.keys(v).sort() : null);
  const labels = Object.entries(raw.Labels ?? {}).filter(([k]) => !k.startsWith('slipway') && k !== 'io.buildah.version').sort(([a], [b]) => (a < b ? -1 : 1));
  return {
    ...c,
    Env: c.Env ? [...c.Env].sort() : null,
    Entrypoint: c.Entrypoint?.length ? c.Entrypoint : null,
    ExposedPorts: keys(raw.ExposedPorts),
    Volumes: keys(raw.Volumes),
    StopSignal: raw.StopSignal || null,
    Labels: labels.length > 0 ? Object.fromEntries(labels) : null,
    Healthcheck: raw.Healthcheck ?? null,
  };
}

const WERF_YAML = 'project: corpus\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n';

/**
 * The case's files, `@DEBIAN@` replaced, with werf.yaml beside the Dockerfile, twice: as a committed werf project
 * for Slipway (whose context is the commit), and as a plain directory for buildah (whose context is the
 * directory: without .git, as the commit has none).
 */
async function project(c: CorpusCase): Promise<{ dir: string; buildahDir: string }> {
  const dir = await mkdtemp(join(tmpdir(), `slipway-corpus-${c.name}-`));
  const buildahDir = await mkdtemp(join(tmpdir(), `slipway-corpus-${c.name}-buildah-`));
  temps.push(dir, buildahDir);
  await cp(join(HERE, c.name), dir, { recursive: true, preserveTimestamps: false });
  for (const name of await readdir(dir, { recursive: true })) {
    if (!/(^|\/)Dockerfile[^/]*$/.test(name)) continue;
    const path = join(dir, name);
    await writeFile(path, (await readFile(path, 'utf8')).replaceAll('@DEBIAN@', base));
  }
  await writeFile(join(dir, 'werf.yaml'), WERF_YAML);
  await cp(dir, buildahDir, { recursive: true });
  await commitAsync(dir, 'corpus case', { init: true });
  return { dir, buildahDir };
}

async function slipwayBuild(dir: string, repo: string): Promise<{ code: number; out: string; seconds: number }> {
  let out = '';
  const started = Date.now();
  const code = await runCli(['build', '--dir', dir, '--repo', repo], {
    io: { stdout: (t) => { out += t; }, stderr: (t) => { out += t; } },
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), SLIPWAY_HOME: join(dir, '.slipway-home') },
  });
  return { code, out, seconds: (Date.now() - started) / 1000 };
}

function appTag(out: string): string {
  const match = /^image app: \S+?:([0-9a-f]{56}-\d{13})$/m.exec(out);
  if (!match) throw new Error(`no 'image app:' line in Slipway's output:\n${out.slice(-4000)}`);
  return match[1]!;
}

const built = (out: string): string[] => [...out.matchAll(/^Store stage (\S+)/gm)].map((m) => m[1]!);

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = Date.now();
  const value = await work();
  return { value, seconds: (Date.now() - started) / 1000 };
}

describe('the real-world corpus: Slipway against buildah', () => {
  for (const c of selectedCases()) {
    it(`${c.name} (${c.source.repo}@${c.source.commit.slice(0, 7)})`, async () => {
      const { dir, buildahDir } = await project(c);
      const { plain } = registries();

      // buildah: cold, then again on the same storage (cached)
      const storage = await mkdtemp(join(tmpdir(), `slipway-corpus-buildah-${c.name}-`));
      temps.push(storage);
      const buildahRef = `${plain.host}/${uniqueRepo(`corpus/${c.name}-buildah`)}:latest`;
      const buildahArgs = { context: buildahDir, layers: true, isolation: 'oci' as const, storageDir: storage, destination: buildahRef };
      const buildahCold = await timed(() => buildahBuild(buildahArgs));
      const buildahCached = await timed(() => buildahBuild(buildahArgs));
      expect(buildahCached.value.digest, 'buildah rebuilds the same image').toBe(buildahCold.value.digest);
      await rm(storage, { recursive: true, force: true });

      // Slipway: cold, then again with nothing changed (it must build nothing)
      const repo = `${plain.host}/${uniqueRepo(`corpus/${c.name}-slipway`)}`;
      const cold = await slipwayBuild(dir, repo);
      expect(cold.code, cold.out.slice(-6000)).toBe(0);
      const cached = await slipwayBuild(dir, repo);
      expect(cached.code, cached.out.slice(-6000)).toBe(0);
      expect(built(cached.out), 'a rebuild with nothing changed builds no stage').toEqual([]);
      expect(appTag(cached.out)).toBe(appTag(cold.out));
      const slipwayRef = `${repo}:${appTag(cold.out)}`;

      const [buildahFs, slipwayFs] = await Promise.all([snapshotImage(buildahRef), snapshotImage(slipwayRef)]);
      const [buildahConfig, slipwayConfig] = await Promise.all([imageConfig(buildahRef), imageConfig(slipwayRef)]);
      c.check(buildahFs, buildahConfig, 'buildah');
      const diff = diffSnapshots(slipwayFs, buildahFs, { labels: ['slipway', 'buildah'], ignore: [...BUILDAH_STUBS, ...(c.differences ?? [])] });
      const configMatches = JSON.stringify(comparableConfig(slipwayConfig)) === JSON.stringify(comparableConfig(buildahConfig));

      const report = process.env.SLIPWAY_CORPUS_REPORT;
      if (report) {
        await mkdir(dirname(report), { recursive: true });
        const match = diff.length === 0 && configMatches ? 'yes' : `no (${diff.length} paths${configMatches ? '' : ', config'})`;
        const s = (n: number): string => `${n.toFixed(1)} s`;
        await appendFile(report, `| ${c.name} | ${match} | ${s(cold.seconds)} | ${s(cached.seconds)} | ${s(buildahCold.seconds)} | ${s(buildahCached.seconds)} | ${slipwayFs.size} |\n`);
      }
      expect(diff, `filesystem differences from buildah (${c.name}):\n${diff.slice(0, 200).join('\n')}`).toEqual([]);
      expect(comparableConfig(slipwayConfig), `config (${c.name})`).toEqual(comparableConfig(buildahConfig));
      c.check(slipwayFs, slipwayConfig, 'slipway');
    }, CASE_TIMEOUT);
  }
});
