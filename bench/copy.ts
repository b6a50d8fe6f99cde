// bench/copy: registry-to-registry copies by Slipway (copyImage, in a child process per
// copy: bench/copy-worker.ts) and by `skopeo copy`, in the same run, alternating, over
// several rounds; prints medians and the ratio slipway/skopeo per scenario, and
// Slipway's peak RSS while moving a 1 GiB blob. See bench/README.md.
//
//   npm run bench:copy [-- --rounds 5 --layers 125,75,50 --big-mib 1024 ...]
//
// Needs root (skopeo's cache is isolated with `unshare --mount`), docker-registry and
// skopeo (Debian packages; installed by test/setup/install-deps.sh when missing).
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRegistry } from '../test/setup/registry-process.js';
import type { WorkerReport } from './copy-worker.js';
import { buildImage, type BuiltImage } from './image.js';
import { fail, inWorkDir, log, positiveInt, requireRootOnLinux, requireTools, setBenchName, tsc } from './lib/cli.js';
import { BLOB_INFO_CACHE_DIR as SKOPEO_CACHE_DIR, cpuSeconds, ensureOk, run, skopeoArgv, skopeoCopyArgs, timedArgv, type Spawned } from './lib/process.js';
import { MIB } from './lib/random.js';
import { countsText, RequestLog, splitRef, type RequestCounts } from './lib/requests.js';
import { machineLine, mb, median, sec, table, writeResults } from './lib/report.js';

setBenchName('bench/copy');
const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const WORKER = join(BENCH_DIR, '.build', 'bench', 'copy-worker.js');

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    layers: { type: 'string', default: '125,75,50' },
    'big-mib': { type: 'string', default: '1024' },
    scenarios: { type: 'string', default: 'cross,mount,repeat' },
    concurrency: { type: 'string' },
    trace: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'node-args': { type: 'string' },
    json: { type: 'string' },
    'no-json': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (opts.help) {
  process.stdout.write(`usage: npm run bench:copy -- [options]
  --rounds N          measured rounds per scenario (default 5; one extra warm-up round is not counted)
  --layers A,B,C      layer sizes of the image in MiB of random content (default 125,75,50 = ~262 MB gzip)
  --big-mib N         size of the single-layer image for the peak-RSS measurement (default 1024; 0 skips it)
  --scenarios LIST    any of cross,mount,repeat (default all)
  --concurrency N     Slipway's copy concurrency (default: copyImage's default)
  --trace             record every ImageStore call of the Slipway runs in the JSON results
  --cpu-prof DIR      run the Slipway workers with --cpu-prof into DIR
  --node-args "ARGS"  extra node flags for the Slipway workers (experiments, e.g. "--max-semi-space-size=32")
  --json FILE         where to write the results (default bench/results/copy-<date>.json)
  --no-json           write no results file
  --keep              keep the temp dir (registry storage and logs) and print its path
`);
  process.exit(0);
}

const ROUNDS = positiveInt(opts.rounds, '--rounds');
const LAYER_MIB = opts.layers.split(',').map((s) => positiveInt(s, '--layers'));
const BIG_MIB = Number(opts['big-mib']);
const SCENARIOS = opts.scenarios.split(',').map((s) => s.trim()) as ScenarioId[];
for (const s of SCENARIOS) if (!['cross', 'mount', 'repeat'].includes(s)) fail(`unknown scenario '${s}'`);

type Tool = 'slipway' | 'skopeo';
type ScenarioId = 'cross' | 'mount' | 'repeat';

interface RunResult {
  scenario: ScenarioId | 'big';
  tool: Tool;
  round: number;
  /** Wall-clock time of the whole process, spawn to exit. */
  wallMs: number;
  /** CPU seconds (user + sys) of the process and its children, from the wrapping shell's `times`. */
  cpuS: number;
  /** Requests the two registries logged during the run, by method. */
  requests: RequestCounts;
  worker?: WorkerReport;
  /** skopeo's peak RSS (KiB) from /usr/bin/time, when measured. */
  maxRssKiB?: number;
}

// ---------------------------------------------------------------------------
// preconditions

function preconditions(): void {
  requireRootOnLinux('skopeo runs under `unshare --mount` with its blob-info cache replaced by a mount');
  requireTools(ROOT, ['docker-registry', 'skopeo', 'unshare', 'mount'], 'docker-registry skopeo util-linux mount');
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) fail('dist/ is missing: run `npm run build` (npm run bench:copy does)');
  // The worker runs as plain JavaScript against dist/: compile it (and type-check the bench).
  tsc(ROOT, ['-p', join(BENCH_DIR, 'tsconfig.json')], 'tsc -p bench/tsconfig.json failed');
}

// ---------------------------------------------------------------------------
// checks

async function manifestDigestAt(ref: string): Promise<string | undefined> {
  const { host, repo, tag } = splitRef(ref);
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  return res.ok ? res.headers.get('docker-content-digest') ?? undefined : undefined;
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  preconditions();
  await inWorkDir('slipway-bench-', opts.keep, async (workDir) => {
    const results: RunResult[] = [];
    const startedAt = new Date();
    const warmCache = join(workDir, 'skopeo-cache-warm');
    await mkdir(warmCache);
    await mkdir(SKOPEO_CACHE_DIR, { recursive: true }); // the mount point; its contents are never touched
    const cpuProfDir = opts['cpu-prof'] ? resolve(opts['cpu-prof']) : undefined;
    const extraNodeArgs = opts['node-args']?.split(/\s+/).filter(Boolean) ?? [];
    if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true });

    log(`work dir ${workDir}; starting registries A and B`);
    const [regA, regB] = await Promise.all([
      startRegistry(workDir, { name: 'registry-a', accessLog: true }),
      startRegistry(workDir, { name: 'registry-b', accessLog: true }),
    ]);
    const A = regA.host;
    const B = regB.host;
    const requests = new RequestLog([regA, regB]);

    // ---- images
    const buildStarted = performance.now();
    const image = await buildImage(join(workDir, 'oci-image'), 'v1', LAYER_MIB.map((m) => ({ size: m * MIB, compression: 'gzip' as const })));
    let big: BuiltImage | undefined;
    if (BIG_MIB > 0) big = await buildImage(join(workDir, 'oci-big'), 'v1', [{ size: BIG_MIB * MIB, compression: 'none' }]);
    log(`built images in ${sec(performance.now() - buildStarted)} s: ${mb(image.totalBytes)} MB (layers ${image.layerSizes.map(mb).join(' + ')} MB)` +
      (big ? `, big ${mb(big.totalBytes)} MB` : ''));
    const SRC = `${A}/bench/src:v1`;
    const BIG_SRC = `${A}/bench/big:v1`;
    // Pushed by skopeo with the warm cache: it now knows the blobs are in A/bench/src (what lets it mount later).
    ensureOk('push of the image', await run(...skopeoArgv({ warm: warmCache }, ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${join(workDir, 'oci-image')}:v1`, `docker://${SRC}`])));
    if (big) ensureOk('push of the big image', await run(...skopeoArgv('cold', ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${join(workDir, 'oci-big')}:v1`, `docker://${BIG_SRC}`])));
    await rm(join(workDir, 'oci-image'), { recursive: true });
    await rm(join(workDir, 'oci-big'), { recursive: true, force: true });

    // ---- one copy by each tool
    const slipwayCopy = async (src: string, dst: string, profile: boolean): Promise<{ spawned: Spawned; report: WorkerReport }> => {
      const nodeArgs = [...extraNodeArgs, ...(profile && cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [])];
      const args = [...nodeArgs, WORKER, src, dst, ...(opts.trace ? ['--trace'] : []), ...(opts.concurrency ? ['--concurrency', opts.concurrency] : [])];
      const spawned = await run(...timedArgv(process.execPath, args));
      ensureOk(`slipway copy ${src} ${dst}`, spawned);
      return { spawned, report: JSON.parse(spawned.stdout.trim().split('\n').pop()!) as WorkerReport };
    };
    const copyOnce = async (scenario: RunResult['scenario'], tool: Tool, round: number, src: string, dst: string, cache: 'cold' | 'warm', digest: string, rss = false): Promise<RunResult> => {
      await requests.mark();
      let result: RunResult;
      if (tool === 'slipway') {
        const { spawned, report } = await slipwayCopy(src, dst, round > 0);
        result = { scenario, tool, round, wallMs: spawned.wallMs, cpuS: cpuSeconds(spawned.stderr), requests: {}, worker: report };
      } else {
        const timeFile = rss && existsSync('/usr/bin/time') ? join(workDir, 'skopeo-time') : undefined;
        const spawned = await run(...skopeoArgv(cache === 'cold' ? 'cold' : { warm: warmCache }, skopeoCopyArgs(src, dst), timeFile));
        ensureOk(`skopeo copy ${src} ${dst}`, spawned);
        result = { scenario, tool, round, wallMs: spawned.wallMs, cpuS: cpuSeconds(spawned.stderr), requests: {} };
        if (timeFile) result.maxRssKiB = Number((await readFile(timeFile, 'utf8')).trim().split('\n').pop());
      }
      result.requests = await requests.since();
      const at = await manifestDigestAt(dst);
      if (at !== digest) throw new Error(`${tool} copy to ${dst}: the destination holds ${at ?? 'nothing'}, expected ${digest}`);
      return result;
    };

    // ---- start-up references (no copy)
    const startup = { node: [] as number[], slipwayCli: [] as number[], skopeo: [] as number[], skopeoWrapper: [] as number[] };
    for (let i = 0; i < 5; i++) {
      startup.node.push((await run(process.execPath, ['-e', '0'])).wallMs);
      startup.slipwayCli.push((await run(process.execPath, [join(ROOT, 'dist', 'slipway.cjs'), 'version'])).wallMs);
      startup.skopeo.push((await run('skopeo', ['--version'])).wallMs);
      startup.skopeoWrapper.push((await run(...skopeoArgv('cold', ['--version']))).wallMs);
    }

    // ---- scenarios
    const scenarios: Record<ScenarioId, { title: string; dst: (tool: Tool, round: number) => string; cache: 'cold' | 'warm' }> = {
      cross: { title: 'cross-registry (A -> B, new repo)', dst: (t, r) => `${B}/cross/${t}-${r}:v1`, cache: 'cold' },
      mount: { title: 'same registry, new repo (mount)', dst: (t, r) => `${A}/mount/${t}-${r}:v1`, cache: 'warm' },
      repeat: { title: 'repeated (all present, same tag)', dst: () => `${B}/repeat/image:v1`, cache: 'warm' },
    };
    for (const id of SCENARIOS) {
      const s = scenarios[id];
      for (let round = 0; round <= ROUNDS; round++) {
        // Alternate who goes first; round 0 is a warm-up and is not counted.
        const order: Tool[] = round % 2 === 0 ? ['slipway', 'skopeo'] : ['skopeo', 'slipway'];
        for (const tool of order) {
          const r = await copyOnce(id, tool, round, SRC, s.dst(tool, round), s.cache, image.manifestDigest);
          results.push(r);
          log(`${id.padEnd(6)} round ${round}${round === 0 ? ' (warm-up)' : ''} ${tool.padEnd(7)} ${sec(r.wallMs)} s` +
            (r.worker ? ` (in-process copy ${sec(r.worker.copyMs)} s)` : '') + `  cpu ${r.cpuS.toFixed(2)} s  [${r.requests.total} requests]`);
        }
      }
    }

    // ---- peak RSS while moving a big blob (one copy each, cross-registry, cold skopeo cache)
    if (big) {
      for (const tool of ['slipway', 'skopeo'] as Tool[]) {
        const r = await copyOnce('big', tool, 1, BIG_SRC, `${B}/big/${tool}:v1`, 'cold', big.manifestDigest, true);
        results.push(r);
        log(`big    ${tool.padEnd(7)} ${sec(r.wallMs)} s, peak RSS ${r.worker ? (r.worker.maxRssKiB / 1024).toFixed(0) : r.maxRssKiB ? (r.maxRssKiB / 1024).toFixed(0) : '?'} MiB`);
      }
    }

    // ---- report
    const rows: string[][] = [['scenario', 'slipway s', 'skopeo s', 'ratio', 'slipway MB/s', 'skopeo MB/s', 'slipway in-proc s', 'CPU s slipway/skopeo', 'requests slipway/skopeo']];
    const summary: Record<string, unknown> = {};
    for (const id of SCENARIOS) {
      const pick = (tool: Tool): RunResult[] => results.filter((r) => r.scenario === id && r.tool === tool && r.round > 0);
      const sl = pick('slipway');
      const sk = pick('skopeo');
      const slMs = median(sl.map((r) => r.wallMs));
      const skMs = median(sk.map((r) => r.wallMs));
      const inProc = median(sl.map((r) => r.worker!.copyMs));
      const reqSl = median(sl.map((r) => r.requests.total!));
      const reqSk = median(sk.map((r) => r.requests.total!));
      const cpuSl = median(sl.map((r) => r.cpuS));
      const cpuSk = median(sk.map((r) => r.cpuS));
      rows.push([scenarios[id].title, sec(slMs), sec(skMs), (slMs / skMs).toFixed(2),
        (image.totalBytes / 1e3 / slMs).toFixed(0), (image.totalBytes / 1e3 / skMs).toFixed(0), sec(inProc),
        `${cpuSl.toFixed(2)}/${cpuSk.toFixed(2)}`, `${reqSl}/${reqSk}`]);
      summary[id] = {
        slipwayMedianMs: slMs, skopeoMedianMs: skMs, ratio: slMs / skMs, slipwayInProcessMedianMs: inProc,
        slipwayCpuMedianS: cpuSl, skopeoCpuMedianS: cpuSk,
        slipwayMinMaxMs: [Math.min(...sl.map((r) => r.wallMs)), Math.max(...sl.map((r) => r.wallMs))],
        skopeoMinMaxMs: [Math.min(...sk.map((r) => r.wallMs)), Math.max(...sk.map((r) => r.wallMs))],
        requests: { slipway: sl[0]?.requests, skopeo: sk[0]?.requests },
      };
    }
    const slipwayStart = results.filter((r) => r.tool === 'slipway' && r.round > 0 && r.worker).map((r) => r.worker!);
    const out: string[] = [];
    out.push('');
    out.push(`bench/copy: ${mb(image.totalBytes)} MB image (${image.layerSizes.length} gzip layers of random data: ${image.layerSizes.map(mb).join(' + ')} MB), ` +
      `registry to registry on 127.0.0.1 (distribution 2.8.2), ${ROUNDS} rounds + 1 warm-up, alternating; medians of wall-clock time per process.`);
    out.push(`MB = 10^6 bytes; MB/s = image size / median (for mount and repeat it is an effective rate: no blob bytes move). ratio = slipway / skopeo, goal <= 1.00.`);
    out.push(`in-proc = Slipway's copyImage() alone, without process start-up and exit; CPU s = user + sys of the copying process (medians).`);
    out.push('');
    out.push(table(rows));
    out.push('');
    out.push(`skopeo: cross runs with an empty blob-info cache (tmpfs on ${SKOPEO_CACHE_DIR} in a private mount namespace), ` +
      `mount and repeat with a warm cache of its own; its times include that wrapper (unshare + sh + mount: ${sec(median(startup.skopeoWrapper) - median(startup.skopeo))} s median).`);
    out.push(`start-up, median of 5: node -e 0 ${sec(median(startup.node))} s; slipway worker bootstrap ${sec(median(slipwayStart.map((w) => w.startMs)))} s + import of dist/ ` +
      `${sec(median(slipwayStart.map((w) => w.importMs)))} s; \`slipway version\` (CLI) ${sec(median(startup.slipwayCli))} s; skopeo --version ${sec(median(startup.skopeo))} s.`);
    if (big) {
      const bs = results.find((r) => r.scenario === 'big' && r.tool === 'slipway')!;
      const bk = results.find((r) => r.scenario === 'big' && r.tool === 'skopeo')!;
      const rss = bs.worker!.maxRssKiB * 1024;
      out.push(`peak RSS: Slipway ${mb(rss)} MB (${(rss / MIB).toFixed(0)} MiB) copying a ${mb(big.totalBytes)} MB single-layer image cross-registry ` +
        `(goal < 150 MB: ${rss < 150e6 ? 'met' : 'NOT met'}); took ${sec(bs.wallMs)} s (${(big.totalBytes / 1e3 / bs.wallMs).toFixed(0)} MB/s), ` +
        `skopeo ${sec(bk.wallMs)} s (${(big.totalBytes / 1e3 / bk.wallMs).toFixed(0)} MB/s)` +
        (bk.maxRssKiB ? `, skopeo peak RSS ${mb(bk.maxRssKiB * 1024)} MB` : '') + '.');
      summary.big = { slipwayMaxRssBytes: rss, slipwayMs: bs.wallMs, skopeoMs: bk.wallMs, skopeoMaxRssBytes: bk.maxRssKiB ? bk.maxRssKiB * 1024 : undefined, bytes: big.totalBytes };
    }
    out.push(`requests (first measured round): ` + SCENARIOS.map((id) => {
      const first = (tool: Tool): RunResult => results.find((r) => r.scenario === id && r.tool === tool && r.round === 1)!;
      return `${id}: slipway {${countsText(first('slipway').requests)}} skopeo {${countsText(first('skopeo').requests)}}`;
    }).join('; '));
    if (opts['node-args']) out.push(`Slipway workers ran with extra node flags: ${opts['node-args']}`);
    out.push(machineLine('skopeo'));
    process.stdout.write(`${out.join('\n')}\n`);

    if (!opts['no-json']) {
      await writeResults(BENCH_DIR, 'copy', opts.json, startedAt, {
        image: { bytes: image.totalBytes, layers: image.layerSizes }, big: big ? { bytes: big.totalBytes } : undefined,
        rounds: ROUNDS, slipwayNodeArgs: opts['node-args'] ?? '', summary, startup, runs: results,
      });
    }
  });
}

await main();
