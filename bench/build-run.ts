// bench/build-run: a RUN-heavy Dockerfile built by Slipway (`slipway build --repo`) and by
// `buildah bud --isolation chroot --layers` + `buildah push`, in the same run, alternating, over
// several rounds; prints medians and the ratio slipway/buildah for a cold build and for a fully
// cached rebuild. See bench/README.md ("bench/build-run").
//
//   npm run bench:build-run [-- --rounds 3 --files 3000 --blob-mib 8 ...]
//
// Needs root (Slipway's RUN sandbox, buildah's storage, its blob-info cache isolated with
// `unshare --mount`), docker-registry, skopeo, umoci, busybox-static, buildah and git (Debian
// packages; installed when missing).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeBusyboxLayout } from '../test/support/busybox-base.js';
import { diffSnapshots, snapshotDir, type FsEntry } from '../test/support/image-fs.js';
import { buildahBud, buildahPush, newBuildahStore, requireBuildah, type BuildahStore } from './lib/buildah.js';
import { buildahResult, commonOptions, comparison, ensureOk, parseScenarios, runRounds, slipwayRuns, startBench, type RunResult, type SlipwayCommand } from './lib/build-bench.js';
import { fail, inWorkDir, log, positiveInt, requireRootOnLinux, requireTools, setBenchName, typeCheck } from './lib/cli.js';
import { run, withBlobInfoCache, type Spawned } from './lib/process.js';
import { verifyPushed } from './lib/requests.js';
import { machineLine, sec, writeResults } from './lib/report.js';

setBenchName('bench/build-run');
const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const CLI = join(ROOT, 'dist', 'slipway.cjs'); // the bundled CLI: what `npm install` puts on PATH

const { values: opts } = parseArgs({
  options: {
    ...commonOptions('3'),
    files: { type: 'string', default: '3000' },
    'blob-mib': { type: 'string', default: '8' },
    'buildah-driver': { type: 'string', default: 'overlay' },
    'no-check': { type: 'boolean', default: false },
  },
});

if (opts.help) {
  process.stdout.write(`usage: npm run bench:build-run -- [options]
  --rounds N             measured rounds (default 3; one extra warm-up round is not counted)
  --files N              small files the first RUN creates (default 3000, in 50 directories)
  --blob-mib N           the random file dd writes, in MiB (default 8)
  --scenarios LIST       any of cold,cached (default both)
  --buildah-driver D     buildah's storage driver: overlay (default) or vfs
  --no-check             do not compare the two images' filesystems (skopeo + umoci) after the first round
  --log-debug            run Slipway with --log-debug (its lines land in the JSON timelines)
  --json FILE            where to write the results (default bench/results/build-run-<date>.json)
  --no-json              write no results file
  --keep                 keep the temp dir (registry storage, projects, logs) and print its path
`);
  process.exit(0);
}

const ROUNDS = positiveInt(opts.rounds, '--rounds');
const FILES = positiveInt(opts.files, '--files');
const BLOB_MIB = positiveInt(opts['blob-mib'], '--blob-mib');
const SCENARIOS = parseScenarios(opts.scenarios);
const driver = opts['buildah-driver'];
if (driver !== 'overlay' && driver !== 'vfs') fail(`--buildah-driver: '${driver}' is neither overlay nor vfs`);
const DRIVER: BuildahStore['driver'] = driver;

/**
 * The Dockerfile's body after FROM: 12 RUNs of file work (thousands of small files, a random
 * blob, tar and untar, sed over every file, deletions, chmod/chown of a tree, links) and a few
 * metadata instructions.
 */
function dockerfileBody(files: number, blobMib: number): string[] {
  return [
    'ENV DATA=/data LANG=C.UTF-8',
    `RUN mkdir -p $DATA/src && cd $DATA/src && for d in $(seq 0 49); do mkdir d$d; done && for i in $(seq 1 ${files}); do printf 'file %s\\nline two %s\\n' $i $i > d$((i % 50))/f$i.txt; done`,
    `RUN dd if=/dev/urandom of=$DATA/blob.bin bs=1048576 count=${blobMib} 2>/dev/null && sha256sum $DATA/blob.bin > $DATA/blob.sha256`,
    'RUN tar -cf $DATA/src.tar -C $DATA src',
    'RUN mkdir -p $DATA/copy && tar -xf $DATA/src.tar -C $DATA/copy',
    "RUN find $DATA/copy -name '*.txt' | xargs sed -i 's/line two/LINE TWO/'",
    'RUN rm -rf $DATA/src $DATA/src.tar',
    "RUN find $DATA/copy -name 'f*5.txt' -exec rm {} + && rm -rf $DATA/copy/src/d7",
    'RUN gzip -1 -c $DATA/blob.bin > $DATA/blob.bin.gz && cp $DATA/blob.sha256 $DATA/blob.sha256.bak',
    'RUN chmod -R go-w $DATA/copy && chown -R app:app $DATA/copy',
    'RUN mkdir -p /srv && ln -s $DATA/copy /srv/copy && ln $DATA/blob.bin $DATA/blob.hard && mkdir -p /var/log/app && chmod 1777 /var/log/app',
    'WORKDIR /data/copy',
    'RUN find . -type f | wc -l > $DATA/count && ls -R . | wc -l > $DATA/entries',
    'RUN rm $DATA/blob.bin.gz && echo done > /data/done',
    'USER app',
    'CMD ["sh"]',
  ];
}
const BODY = dockerfileBody(FILES, BLOB_MIB);

// ---------------------------------------------------------------------------
// preconditions

function preconditions(): void {
  requireRootOnLinux('Slipway runs RUN in namespaces; buildah runs under `unshare --mount` (its blob-info cache replaced by a mount)');
  requireTools(ROOT, ['docker-registry', 'skopeo', 'umoci', 'busybox', 'git', 'unshare', 'mount'], 'docker-registry skopeo umoci busybox-static git util-linux mount');
  requireBuildah();
  if (!existsSync(CLI)) fail('dist/ is missing: run `npm run build` (npm run bench:build-run does)');
  // tsx runs this file without type-checking it: check it (and its helpers) here.
  typeCheck(ROOT, join(BENCH_DIR, 'build-run.ts'));
}

// ---------------------------------------------------------------------------
// the check

/** The image's root filesystem (skopeo with an empty blob-info cache, then `umoci raw unpack`), as a snapshot. */
async function snapshotOf(workDir: string, ref: string, name: string): Promise<Map<string, FsEntry>> {
  const dir = join(workDir, `check-${name}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  ensureOk(`skopeo copy ${ref}`, await run(...withBlobInfoCache('cold', 'exec "$@"',
    ['skopeo', '--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(dir, 'layout')}:t`])));
  ensureOk(`umoci raw unpack ${ref}`, await run('umoci', ['raw', 'unpack', '--image', `${join(dir, 'layout')}:t`, join(dir, 'rootfs')]));
  try {
    return await snapshotDir(join(dir, 'rootfs'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------

async function writeProject(dir: string, base: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'werf.yaml'), 'project: bench-run\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n');
  await writeFile(join(dir, 'Dockerfile'), [`FROM ${base}`, ...BODY, ''].join('\n'));
  const git = (...args: string[]): Spawned['code'] =>
    spawnSync('git', ['-c', 'user.email=bench@example.org', '-c', 'user.name=bench', ...args], { cwd: dir, stdio: 'ignore' }).status;
  if (git('init', '-q') !== 0 || git('add', '-A') !== 0 || git('commit', '-qm', 'bench') !== 0) throw new Error(`git failed in ${dir}`);
}

async function main(): Promise<void> {
  preconditions();
  await inWorkDir('slipway-bench-build-run-', opts.keep, async (workDir) => {
    const startedAt = new Date();
    const bench = await startBench(workDir, SCENARIOS, 'HEAD');
    const { registry: R, requests } = bench;

    // ---- fixtures: the busybox base (test/support/busybox-base.ts) and the project
    const fixtureStarted = performance.now();
    const layoutDir = await writeBusyboxLayout();
    const baseRef = `${R}/bench/base:v1`;
    try {
      ensureOk('push of the base image', await run(...withBlobInfoCache('cold', 'exec "$@"',
        ['skopeo', '--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${join(layoutDir, 'oci')}:latest`, `docker://${baseRef}`])));
    } finally {
      await rm(layoutDir, { recursive: true, force: true });
    }
    const projectDir = join(workDir, 'project');
    await writeProject(projectDir, baseRef);
    const runs = BODY.filter((l) => l.startsWith('RUN')).length;
    log(`fixtures in ${sec(performance.now() - fixtureStarted)} s: base ${baseRef} (busybox), Dockerfile of ${BODY.length + 1} instructions, ${runs} RUNs`);

    // ---- one build by each tool
    const slipway: SlipwayCommand = { cli: CLI, projectDir, logDebug: opts['log-debug'], stageTimesFromTags: true };

    const buildahRuns = async (round: number, roundDir: string): Promise<RunResult[]> => {
      const results: RunResult[] = [];
      // Its own TMPDIR, removed with the round.
      const store = await newBuildahStore(join(roundDir, 'buildah'), DRIVER, { tmp: true });
      const name = `localhost/bench-run:r${round}`;
      const dst = `${R}/bench/buildah-${round}:latest`;
      // Cold: a fresh storage (no base, no layer cache); --layers, so every instruction is a layer
      // (and cached for the next scenario), as Slipway makes a stage of each.
      await requests.mark();
      const bud = await buildahBud(store, workDir, projectDir, name, ['--layers']);
      const push = await buildahPush(store, workDir, name, dst);
      await verifyPushed(dst, push.digest, 'buildah cold', 'HEAD');
      if (SCENARIOS.includes('cold')) results.push(buildahResult('cold', round, bud, push, dst, await requests.since()));
      if (SCENARIOS.includes('cached')) {
        // Fully cached: a second `bud --layers` on the same storage (every step from the cache) + the same push.
        await requests.mark();
        const again = await buildahBud(store, workDir, projectDir, name, ['--layers']);
        const pushAgain = await buildahPush(store, workDir, name, dst);
        if (pushAgain.digest !== push.digest) throw new Error(`buildah's cached rebuild pushed ${pushAgain.digest}, the first ${push.digest}`);
        if (!/Using cache/.test(again.stdout + again.stderr)) throw new Error(`buildah's second bud used no cache:\n${again.stderr.slice(-3000)}`);
        results.push(buildahResult('cached', round, again, pushAgain, dst, await requests.since()));
      }
      return results;
    };

    // Once, after the warm-up round: both images hold the same files (test/support/image-fs.ts's
    // comparison; buildah's empty mount-point stubs aside, see test/integration/run-differential.test.ts).
    const checkLines: string[] = [];
    const checkFiles = async (firstRound: RunResult[]): Promise<void> => {
      const sl = firstRound.find((r) => r.tool === 'slipway')!;
      const bu = firstRound.find((r) => r.tool === 'buildah')!;
      const stub = (e: FsEntry): boolean => (e.type === 'file' && e.size === 0) || e.type === 'dir';
      const diff = diffSnapshots(await snapshotOf(workDir, sl.ref, 'slipway'), await snapshotOf(workDir, bu.ref, 'buildah'), {
        labels: ['slipway', 'buildah'],
        ignore: ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/run'].map((path) => ({ path, reason: 'buildah mount-point stub', when: stub })),
      });
      // The dd'ed file is random by design (and so are its copy, hard link and checksums): only their content may differ.
      const random = /^\/data\/blob\.(?:bin|hard|sha256|sha256\.bak): content slipway (\d+) B .*, buildah \1 B /;
      const diffs = diff.filter((line) => !random.test(line));
      checkLines.push(diffs.length === 0
        ? 'check: both images hold the same files (paths, types, modes, owners, links; contents but the random file\'s).'
        : `check: the images differ in ${diffs.length} paths, e.g.:\n  ${diffs.slice(0, 10).join('\n  ')}`);
      log(checkLines[0]!);
    };

    // ---- rounds
    const results = await runRounds(bench, {
      rounds: ROUNDS, keep: opts.keep, check: opts['no-check'] ? undefined : checkFiles,
      run: (tool, round, roundDir) => (tool === 'slipway' ? slipwayRuns(bench, slipway, round, roundDir) : buildahRuns(round, roundDir)),
    });

    // ---- report
    const { lines, summary } = comparison(results, SCENARIOS, true);
    const out: string[] = [];
    out.push('');
    out.push(`bench/build-run: a RUN-heavy Dockerfile (FROM a busybox base in the same registry, ${BODY.length + 1} instructions, ` +
      `${runs} RUNs: ${FILES} small files, a ${BLOB_MIB} MiB random file, tar/untar, sed over every file, deletions, chown -R), ` +
      `built and pushed to a registry on 127.0.0.1 (distribution 2.8.2); ${ROUNDS} rounds + 1 warm-up, alternating; medians of wall-clock time.`);
    out.push('slipway = `slipway build --repo` (one process; stages are pushed as they are built). ' +
      `buildah = \`buildah --storage-driver ${DRIVER} bud --isolation chroot --layers\` + \`buildah push\`.`);
    out.push('cold: fresh SLIPWAY_HOME and repo / fresh buildah root. cached: the same commit again (Slipway reuses every stage) / ' +
      'a second `bud --layers` on the same storage + push of the same image to the same repo. ratio = slipway / buildah (build + push), goal <= 1.00.');
    out.push('');
    out.push(...lines);
    out.push(...checkLines);
    out.push(machineLine('buildah'));
    process.stdout.write(`${out.join('\n')}\n`);

    if (!opts['no-json']) {
      await writeResults(BENCH_DIR, 'build-run', opts.json, startedAt, {
        dockerfile: BODY, files: FILES, blobMib: BLOB_MIB, buildahDriver: DRIVER, rounds: ROUNDS, summary, check: checkLines, runs: results,
      });
    }
  });
}

await main();
