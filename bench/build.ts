// bench/build: a no-RUN Dockerfile built by Slipway (`slipway build --repo`) and by
// `buildah bud --isolation chroot` + `buildah push`, in the same run, alternating, over
// several rounds; prints medians and the ratio slipway/buildah for a cold build and for a
// fully cached rebuild. See bench/README.md ("bench/build").
//
//   npm run bench:build [-- --rounds 5 --large-mib 16,12,8 --small-files 360 ...]
//
// Needs root (buildah's vfs storage, and its blob-info cache isolated with `unshare
// --mount`), docker-registry, skopeo, buildah and git (Debian packages; installed when
// missing).
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DOCKERFILE_BODY, writeBaseLayout, writeProject, type Project } from './build-fixture.js';
import { buildahArgv, buildahBud, buildahPush, newBuildahStore, requireBuildah, type BuildahStore } from './lib/buildah.js';
import { buildahResult, commonOptions, comparison, ensureOk, parseScenarios, runRounds, slipwayRuns, startBench, stepOf, type RunResult, type SlipwayCommand } from './lib/build-bench.js';
import { fail, inWorkDir, log, positiveInt, requireRootOnLinux, requireTools, setBenchName, typeCheck } from './lib/cli.js';
import { run, withBlobInfoCache, type Spawned } from './lib/process.js';
import { MIB } from './lib/random.js';
import { configAt, verifyPushed } from './lib/requests.js';
import { machineLine, mb, median, sec, writeResults } from './lib/report.js';

setBenchName('bench/build');
const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const CLI = join(ROOT, 'dist', 'slipway.cjs'); // the bundled CLI: what `npm install` puts on PATH

const { values: opts } = parseArgs({
  options: {
    ...commonOptions('5'),
    'large-mib': { type: 'string', default: '16,12,8' },
    'small-files': { type: 'string', default: '360' },
    'small-kib-max': { type: 'string', default: '64' },
    'base-mib': { type: 'string', default: '12,8' },
    'cpu-prof': { type: 'string' },
    'slipway-arg': { type: 'string', multiple: true, default: [] },
  },
});

if (opts.help) {
  process.stdout.write(`usage: npm run bench:build -- [options]
  --rounds N           measured rounds (default 5; one extra warm-up round is not counted)
  --large-mib A,B,C    sizes of the large random context files in MiB (default 16,12,8)
  --small-files N      number of small text files (default 360)
  --small-kib-max N    small files are 1 KiB to N KiB (default 64)
  --base-mib A,B       the base image's random layers in MiB (default 12,8: ~20 MB)
  --scenarios LIST     any of cold,cached (default both)
  --cpu-prof DIR       run Slipway with node --cpu-prof into DIR (measured rounds)
  --log-debug          run Slipway with --log-debug (its lines land in the JSON timelines)
  --slipway-arg ARG    one more argument for \`slipway build\` (repeatable), e.g. --slipway-arg=--dev to read
                       the context from the working tree instead of the commit (a what-if for diagnosis)
  --json FILE          where to write the results (default bench/results/build-<date>.json)
  --no-json            write no results file
  --keep               keep the temp dir (registry storage, projects, logs) and print its path
`);
  process.exit(0);
}

const ROUNDS = positiveInt(opts.rounds, '--rounds');
const LARGE = opts['large-mib'].split(',').filter(Boolean).map((s) => positiveInt(s, '--large-mib') * MIB);
const SMALL_FILES = Number(opts['small-files']);
const SMALL_MAX = positiveInt(opts['small-kib-max'], '--small-kib-max') * 1024;
const BASE = opts['base-mib'].split(',').filter(Boolean).map((s) => positiveInt(s, '--base-mib') * MIB);
const SCENARIOS = parseScenarios(opts.scenarios);

// ---------------------------------------------------------------------------
// preconditions

function preconditions(): void {
  requireRootOnLinux('buildah runs with vfs storage under `unshare --mount` (its blob-info cache replaced by a mount)');
  requireTools(ROOT, ['docker-registry', 'skopeo', 'git', 'unshare', 'mount'], 'docker-registry skopeo git util-linux mount');
  requireBuildah();
  if (!existsSync(CLI)) fail('dist/ is missing: run `npm run build` (npm run bench:build does)');
  // tsx runs this file without type-checking it: check it and its helpers (bench/tsconfig.json is bench/copy's).
  typeCheck(ROOT, join(BENCH_DIR, 'build.ts'));
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  preconditions();
  await inWorkDir('slipway-bench-build-', opts.keep, async (workDir) => {
    const startedAt = new Date();
    const cpuProfDir = opts['cpu-prof'] ? resolve(opts['cpu-prof']) : undefined;
    if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true });
    const bench = await startBench(workDir, SCENARIOS, 'GET');
    const { registry: R, requests } = bench;

    // ---- fixtures
    const fixtureStarted = performance.now();
    const base = await writeBaseLayout(join(workDir, 'oci-base'), 'v1', BASE);
    const baseRef = `${R}/bench/base:v1`;
    // skopeo's blob-info cache is replaced by an empty tmpfs: the host's cache stays untouched.
    ensureOk('push of the base image', await run(...withBlobInfoCache('cold', 'exec "$@"', ['skopeo', '--insecure-policy', 'copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${join(workDir, 'oci-base')}:v1`, `docker://${baseRef}`])));
    await rm(join(workDir, 'oci-base'), { recursive: true });
    const project: Project = await writeProject(join(workDir, 'project'), { base: baseRef, largeFiles: LARGE, smallFiles: SMALL_FILES, smallMax: SMALL_MAX });
    log(`fixtures in ${sec(performance.now() - fixtureStarted)} s: base ${baseRef} (${base.layers} layers, ${mb(base.layerBytes)} MB), ` +
      `context ${mb(project.contextBytes)} MB in ${project.files} files`);

    // ---- one build by each tool
    let slipwayCount = 0;
    const slipway: SlipwayCommand = {
      cli: CLI, projectDir: project.dir, logDebug: opts['log-debug'], args: opts['slipway-arg'], stageTimesFromTags: false,
      // Profiles of the measured rounds only.
      nodeArgs: (round) => round > 0 && cpuProfDir
        ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', `slipway-${++slipwayCount}-${Date.now()}.cpuprofile`]
        : [],
    };
    const runBud = (store: BuildahStore, name: string, layers: boolean): Promise<Spawned> =>
      buildahBud(store, workDir, project.dir, name, [`--layers=${layers}`]);

    const buildahRuns = async (round: number, roundDir: string): Promise<RunResult[]> => {
      const results: RunResult[] = [];
      const store = await newBuildahStore(join(roundDir, 'buildah'), 'vfs');
      const name = `localhost/bench-app:r${round}`;
      const dst = `${R}/bench/buildah-${round}:latest`;
      if (SCENARIOS.includes('cold')) {
        // Cold: a fresh storage (no base, no cache), one layer for the whole body (--layers=false), then the push.
        await requests.mark();
        const bud = await runBud(store, name, false);
        const push = await buildahPush(store, workDir, name, dst);
        await verifyPushed(dst, push.digest, 'buildah cold', 'GET');
        results.push(buildahResult('cold', round, bud, push, dst, await requests.since()));
      }
      if (SCENARIOS.includes('cached')) {
        // Fill the layer cache (a first --layers build and its push; not measured), then measure the second.
        const layeredName = `localhost/bench-app-layers:r${round}`;
        const layeredDst = `${R}/bench/buildah-layers-${round}:latest`;
        const fill = await runBud(store, layeredName, true);
        const fillPush = await buildahPush(store, workDir, layeredName, layeredDst);
        await requests.mark();
        const bud = await runBud(store, layeredName, true);
        const push = await buildahPush(store, workDir, layeredName, layeredDst);
        if (push.digest !== fillPush.digest) throw new Error(`buildah's cached rebuild pushed ${push.digest}, the first ${fillPush.digest}`);
        await verifyPushed(layeredDst, push.digest, 'buildah cached', 'GET');
        results.push(buildahResult('cached', round, bud, push, layeredDst, await requests.since(), { fill: stepOf(fill), fillPush: stepOf(fillPush.spawned) }));
      }
      return results;
    };

    // ---- start-up references
    const startup = { node: [] as number[], slipwayVersion: [] as number[], buildahVersion: [] as number[], buildahWrapper: [] as number[] };
    const refStore = await newBuildahStore(join(workDir, 'buildah-ref'), 'vfs');
    for (let i = 0; i < 5; i++) {
      startup.node.push((await run(process.execPath, ['-e', '0'])).wallMs);
      startup.slipwayVersion.push((await run(process.execPath, [CLI, 'version'])).wallMs);
      startup.buildahVersion.push((await run('buildah', ['--version'])).wallMs);
      startup.buildahWrapper.push((await run(...buildahArgv(refStore, ['--version']))).wallMs);
    }

    // Once, after the warm-up round: both images say what the Dockerfile says.
    const checkConfigs = async (firstRound: RunResult[]): Promise<void> => {
      const sl = firstRound.find((r) => r.tool === 'slipway')!;
      const bu = firstRound.find((r) => r.tool === 'buildah')!;
      const [a, b] = [await configAt(sl.ref), await configAt(bu.ref)];
      // Env as a set: buildah appends a variable that ENV sets again (PATH here), Docker and Slipway replace it in place.
      const norm = (key: string, v: unknown): string => JSON.stringify(key === 'Env' && Array.isArray(v) ? [...(v as string[])].sort() : v);
      for (const key of ['User', 'WorkingDir', 'Cmd', 'ExposedPorts', 'Env']) {
        if (norm(key, a[key]) !== norm(key, b[key])) log(`warning: config ${key} differs: slipway ${JSON.stringify(a[key])}, buildah ${JSON.stringify(b[key])}`);
      }
    };

    // ---- rounds
    const results = await runRounds(bench, {
      rounds: ROUNDS, keep: opts.keep, check: checkConfigs,
      run: (tool, round, roundDir) => (tool === 'slipway' ? slipwayRuns(bench, slipway, round, roundDir) : buildahRuns(round, roundDir)),
    });

    // ---- report
    const { lines, summary } = comparison(results, SCENARIOS, false);
    const out: string[] = [];
    out.push('');
    out.push(`bench/build: a no-RUN Dockerfile (FROM a ${mb(base.layerBytes)} MB ${base.layers}-layer base in the same registry, ` +
      `${DOCKERFILE_BODY.length} instructions, ${DOCKERFILE_BODY.filter((l) => l.startsWith('COPY')).length} COPYs of ${mb(project.contextBytes)} MB in ${project.files} files), ` +
      `built and pushed to a registry on 127.0.0.1 (distribution 2.8.2); ${ROUNDS} rounds + 1 warm-up, alternating; medians of wall-clock time.`);
    out.push(`slipway = \`slipway build --repo${opts['slipway-arg'].map((a) => ` ${a}`).join('')}\` (one process; stages are pushed as they are built). ` +
      'buildah = `buildah --storage-driver vfs bud --isolation chroot` + `buildah push`.');
    out.push('cold: fresh SLIPWAY_HOME and repo / fresh buildah root, --layers=false. cached: the same commit again (Slipway reuses every stage) / ' +
      'a second `bud --layers` on the same storage + push of the same image to the same repo. ratio = slipway / buildah (build + push), goal <= 1.00.');
    out.push('');
    out.push(...lines);
    out.push(`start-up, median of 5: node -e 0 ${sec(median(startup.node))} s; \`slipway version\` ${sec(median(startup.slipwayVersion))} s; ` +
      `buildah --version ${sec(median(startup.buildahVersion))} s (with the unshare + bind-mount wrapper every buildah run here has: ${sec(median(startup.buildahWrapper))} s).`);
    out.push(machineLine('buildah'));
    process.stdout.write(`${out.join('\n')}\n`);

    if (!opts['no-json']) {
      await writeResults(BENCH_DIR, 'build', opts.json, startedAt, {
        base: { bytes: base.layerBytes, layers: base.layers }, context: { bytes: project.contextBytes, files: project.files },
        dockerfile: DOCKERFILE_BODY, rounds: ROUNDS, summary, startup, runs: results,
      });
    }
  });
}

await main();
