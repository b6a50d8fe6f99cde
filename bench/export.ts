// bench/export: `slipway export` (the real CLI, one process per export) against
// `skopeo copy --preserve-digests` of the same stage image, in the same run, alternating,
// over several rounds; prints medians and the ratio slipway/skopeo for a cross-registry
// export, a same-registry export (cross-repository mount) and a re-run onto the same tag.
// See bench/README.md ("bench/export").
//
//   npm run bench:export [-- --rounds 5 --layers 125,75,50 --trace --cpu-prof DIR ...]
//
// Needs root (skopeo's blob-info cache is isolated with `unshare --mount`, as bench/copy
// does), docker-registry, skopeo and git (Debian packages; installed by
// test/setup/install-deps.sh when missing), and dist/ (the npm script builds it).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRegistry } from '../test/setup/registry-process.js';
import { summarizeProfile, type ProfileSummary } from './export-profile.js';
import type { ExportTrace } from './export-trace.js';
import { buildImage } from './image.js';
import { fail, inWorkDir, log, positiveInt, requireRootOnLinux, requireTools, setBenchName, tsc } from './lib/cli.js';
import { BLOB_INFO_CACHE_DIR as SKOPEO_CACHE_DIR, cpuSeconds, ensureOk, run, skopeoArgv, skopeoCopyArgs, timedArgv, type Line } from './lib/process.js';
import { MIB } from './lib/random.js';
import { countsText, RequestLog, splitRef, type RequestCounts } from './lib/requests.js';
import { machineLine, mb, median, sec, table, writeResults } from './lib/report.js';

setBenchName('bench/export');
const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const CLI = join(ROOT, 'dist', 'slipway.cjs'); // the bundled CLI: what `npm install` puts on PATH
/** The --trace preload, compiled by `tsc -p bench/tsconfig.export.json` (plain JS: no loader in Slipway's start-up). */
const TRACER = join(BENCH_DIR, '.build', 'bench', 'export-trace.js');

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    layers: { type: 'string', default: '125,75,50' },
    scenarios: { type: 'string', default: 'cross,mount,repeat' },
    trace: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'log-debug': { type: 'boolean', default: false },
    json: { type: 'string' },
    'no-json': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (opts.help) {
  process.stdout.write(`usage: npm run bench:export -- [options]
  --rounds N          measured rounds per scenario (default 5; one extra warm-up round is not counted)
  --layers A,B,C      the base image's layers in MiB of random content (default 125,75,50 = ~262 MB gzip)
  --scenarios LIST    any of cross,mount,repeat (default all)
  --trace             run Slipway with a preload (bench/export-trace.ts) that records every HTTP request and
                      log line with its time; prints the timeline of the first measured round per scenario
  --cpu-prof DIR      run the measured Slipway exports with node --cpu-prof into DIR; prints a summary
  --log-debug         run Slipway's exports with --log-debug
  --json FILE         where to write the results (default bench/results/export-<date>.json)
  --no-json           write no results file
  --keep              keep the temp dir (registry storage, project, logs) and print its path
`);
  process.exit(0);
}

const ROUNDS = positiveInt(opts.rounds, '--rounds');
const LAYER_MIB = opts.layers.split(',').map((s) => positiveInt(s, '--layers'));
type ScenarioId = 'cross' | 'mount' | 'repeat';
const SCENARIOS = opts.scenarios.split(',').map((s) => s.trim()) as ScenarioId[];
for (const s of SCENARIOS) if (!['cross', 'mount', 'repeat'].includes(s)) fail(`unknown scenario '${s}'`);

type Tool = 'slipway' | 'skopeo';

/** Slipway's log milestones, ms since spawn (from when its stderr lines arrived). */
interface Phases {
  /** `Stages storage: ...`: start-up, config and git read, storage opened. */
  storage?: number;
  /** The last `Use previously built image ...`: every stage found in the stages storage. */
  reused?: number;
  /** `Exporting image ...`: relabelled and copied (logged when all destinations are written). */
  exported?: number;
}

interface RunResult {
  scenario: ScenarioId;
  tool: Tool;
  round: number;
  destination: string;
  /** Wall-clock time of the whole process, spawn to exit. */
  wallMs: number;
  /** CPU seconds (user + sys) of the process and its children, from the wrapping shell's `times`. */
  cpuS: number;
  /** Requests the two registries logged during the run, by method and kind (and total). */
  requests: RequestCounts;
  /** The digest the destination tag names afterwards. */
  digest: string;
  phases?: Phases;
  trace?: ExportTrace;
  profile?: ProfileSummary;
}

// ---------------------------------------------------------------------------
// preconditions

function preconditions(): void {
  requireRootOnLinux('skopeo runs under `unshare --mount` with its blob-info cache replaced by a mount');
  requireTools(ROOT, ['docker-registry', 'skopeo', 'unshare', 'mount', 'git'], 'docker-registry skopeo git util-linux mount');
  if (!existsSync(CLI)) fail('dist/ is missing: run `npm run build` (npm run bench:export does)');
  // Type-checks this bench and compiles the --trace preload to plain JavaScript.
  tsc(ROOT, ['-p', join(BENCH_DIR, 'tsconfig.export.json')], 'tsc -p bench/tsconfig.export.json failed');
}

// ---------------------------------------------------------------------------
// reading the registries back (checks)

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

interface Manifest {
  mediaType?: string;
  config: { digest: string; size: number; mediaType: string };
  layers: { digest: string; size: number; mediaType: string }[];
}
interface Config { config?: { Labels?: Record<string, string> | null }; rootfs?: { diff_ids?: string[] } }

async function getManifest(ref: string): Promise<{ digest: string; manifest: Manifest }> {
  const { host, repo, tag } = splitRef(ref);
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { headers: { accept: MANIFEST_ACCEPT } });
  if (!res.ok) throw new Error(`GET manifest ${ref}: ${res.status}`);
  const digest = res.headers.get('docker-content-digest');
  if (!digest) throw new Error(`GET manifest ${ref}: no Docker-Content-Digest`);
  return { digest, manifest: await res.json() as Manifest };
}

async function getConfig(ref: string, digest: string): Promise<Config> {
  const { host, repo } = splitRef(ref);
  const res = await fetch(`http://${host}/v2/${repo}/blobs/${digest}`);
  if (!res.ok) throw new Error(`GET config of ${ref}: ${res.status}`);
  return await res.json() as Config;
}

/**
 * A Slipway export: the destination names the digest Slipway printed, its config has no
 * `slipway*` (nor werf's service) labels, its layers and diff_ids are the source's.
 */
async function checkExport(source: { manifest: Manifest; config: Config }, dst: string, printedDigest: string | undefined): Promise<string> {
  const { digest, manifest } = await getManifest(dst);
  if (printedDigest !== digest) throw new Error(`slipway export to ${dst}: it printed ${printedDigest ?? 'no digest'}, the tag names ${digest}`);
  const config = await getConfig(dst, manifest.config.digest);
  const service = Object.keys(config.config?.Labels ?? {}).filter((k) => /^(slipway|werf)/i.test(k));
  if (service.length > 0) throw new Error(`slipway export to ${dst}: service labels left in the config: ${service.join(', ')}`);
  if (JSON.stringify(manifest.layers) !== JSON.stringify(source.manifest.layers)) throw new Error(`slipway export to ${dst}: the layers differ from the source's`);
  if (JSON.stringify(config.rootfs?.diff_ids) !== JSON.stringify(source.config.rootfs?.diff_ids)) throw new Error(`slipway export to ${dst}: rootfs.diff_ids differ from the source's`);
  if (manifest.config.digest === source.manifest.config.digest) throw new Error(`slipway export to ${dst}: the config was not relabelled`);
  return digest;
}

// ---------------------------------------------------------------------------
// output

function phasesOf(lines: Line[]): Phases {
  const phases: Phases = {};
  for (const { t: ms, text } of lines) {
    if (phases.storage === undefined && text.startsWith('Stages storage:')) phases.storage = ms;
    if (text.startsWith('Use previously built image')) phases.reused = ms;
    if (phases.exported === undefined && text.startsWith('Exporting image')) phases.exported = ms;
  }
  return phases;
}

/** The requests of a trace as lines: start, duration, method, where, status. */
function timelineText(trace: ExportTrace, hosts: Record<string, string>): string[] {
  const out = [`    ${'0.0'.padStart(7)}  process start; preload (end of Node's bootstrap) at ${trace.preloadMs.toFixed(1)} ms`];
  const events: { ms: number; text: string }[] = [];
  for (const r of trace.requests) {
    const host = hosts[r.origin.replace(/^https?:\/\//, '')] ?? r.origin;
    const path = r.path.replace(/sha256(:|%3A)([0-9a-f]{12})[0-9a-f]{52}/g, 'sha256:$2…').replace(/([0-9a-f]{12})[0-9a-f]{44}-(\d+)/, '$1…-$2').replace(/&_state=[^&]*|\?_state=[^&]*&?/, '?…');
    const took = r.endMs !== undefined ? (r.endMs - r.createdMs).toFixed(1) : '?';
    const head = r.headersMs !== undefined ? ` (head after ${(r.headersMs - r.createdMs).toFixed(1)})` : '';
    const outcome = r.status ?? (r.error ? `failed: ${r.error.split('\n')[0]!.slice(0, 60)}` : '?');
    events.push({ ms: r.createdMs, text: `${r.method} ${host}${path} -> ${outcome} in ${took} ms${head}` });
  }
  for (const c of trace.connections) events.push({ ms: c.ms, text: `connected to ${hosts[c.origin.replace(/^https?:\/\//, '')] ?? c.origin}` });
  for (const l of trace.stderr) for (const line of l.text.split('\n').filter(Boolean).slice(0, 1)) events.push({ ms: l.ms, text: `log: ${line.trim()}` });
  events.sort((a, b) => a.ms - b.ms);
  for (const e of events) out.push(`    ${e.ms.toFixed(1).padStart(7)}  ${e.text}`);
  out.push(`    ${trace.exitMs.toFixed(1).padStart(7)}  process 'exit' event`);
  return out;
}

// ---------------------------------------------------------------------------

async function writeProject(dir: string, base: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'werf.yaml'), 'project: bench-export\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n');
  await writeFile(join(dir, 'Dockerfile'), `FROM ${base}\nCOPY app/ /srv/app/\nCMD ["/srv/app/run.sh"]\n`);
  await mkdir(join(dir, 'app'));
  await writeFile(join(dir, 'app', 'run.sh'), '#!/bin/sh\necho "bench export"\n', { mode: 0o755 });
  await writeFile(join(dir, 'app', 'data.txt'), 'slipway bench export fixture\n'.repeat(200));
  const git = (...args: string[]): void => {
    const r = spawnSync('git', ['-c', 'user.email=bench@example.org', '-c', 'user.name=bench', ...args], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'bench export fixture');
}

async function main(): Promise<void> {
  preconditions();
  await inWorkDir('slipway-bench-export-', opts.keep, async (workDir) => {
    const results: RunResult[] = [];
    const startedAt = new Date();
    const warmCache = join(workDir, 'skopeo-cache-warm');
    await mkdir(warmCache);
    await mkdir(SKOPEO_CACHE_DIR, { recursive: true }); // the mount point; its contents are never touched
    const cpuProfDir = opts['cpu-prof'] ? resolve(opts['cpu-prof']) : undefined;
    if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true });
    const traceDir = join(workDir, 'traces');
    await mkdir(traceDir);
    // Slipway's own state (its home: locks, caches) stays in the temp dir.
    const env: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_HOME: join(workDir, 'slipway-home') };

    log(`work dir ${workDir}; starting registries A and B`);
    const [regA, regB] = await Promise.all([
      startRegistry(workDir, { name: 'registry-a', accessLog: true }),
      startRegistry(workDir, { name: 'registry-b', accessLog: true }),
    ]);
    const A = regA.host;
    const B = regB.host;
    const hosts: Record<string, string> = { [A]: 'A', [B]: 'B' };
    const requests = new RequestLog([regA, regB], { mount: true, tags: true });

    // ---- the base image, in A (pushed by skopeo with the warm cache, which so learns its blobs are in A)
    const buildStarted = performance.now();
    const image = await buildImage(join(workDir, 'oci-base'), 'v1', LAYER_MIB.map((m) => ({ size: m * MIB, compression: 'gzip' as const })));
    const BASE = `${A}/bench/base:v1`;
    ensureOk('push of the base image', await run(...skopeoArgv({ warm: warmCache }, ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${join(workDir, 'oci-base')}:v1`, `docker://${BASE}`])));
    await rm(join(workDir, 'oci-base'), { recursive: true });
    log(`base image ${BASE}: ${mb(image.totalBytes)} MB (layers ${image.layerSizes.map(mb).join(' + ')} MB), built and pushed in ${sec(performance.now() - buildStarted)} s`);

    // ---- the project, built once into A/stages (not measured)
    const project = join(workDir, 'project');
    await writeProject(project, BASE);
    const STAGES = `${A}/stages`;
    const build = await run(process.execPath, [CLI, 'build', '--dir', project, '--repo', STAGES], { env });
    ensureOk('slipway build', build);
    const built = /^image app: (\S+):([^:\s]+)$/m.exec(build.stderr);
    if (!built || built[1] !== STAGES) throw new Error(`slipway build printed no \`image app: ${STAGES}:<tag>\` line:\n${build.stderr}`);
    const stageTag = built[2]!;
    const SRC = `${STAGES}:${stageTag}`;
    const source = await getManifest(SRC);
    const sourceConfig = await getConfig(SRC, source.manifest.config.digest);
    const sourceBytes = source.manifest.layers.reduce((n, l) => n + l.size, 0) + source.manifest.config.size;
    log(`slipway build in ${sec(build.wallMs)} s: ${SRC} (${source.manifest.layers.length} layers, ${mb(sourceBytes)} MB, ` +
      `labels ${Object.keys(sourceConfig.config?.Labels ?? {}).join(', ') || 'none'})`);

    // ---- one export by each tool
    const slipwayExport = async (scenario: ScenarioId, round: number, dst: string): Promise<RunResult> => {
      const measured = round > 0;
      const traceFile = join(traceDir, `${scenario}-${round}.json`);
      const nodeArgs = [
        ...(opts.trace ? ['--import', TRACER] : []),
        ...(measured && cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', `export-${scenario}-${round}.cpuprofile`] : []),
      ];
      const args = [...nodeArgs, CLI, 'export', '--dir', project, '--repo', STAGES, '--tag', dst, ...(opts['log-debug'] ? ['--log-debug'] : [])];
      const spawned = await run(...timedArgv(process.execPath, args), { env: opts.trace ? { ...env, SLIPWAY_BENCH_TRACE: traceFile } : env });
      ensureOk(`slipway export --tag ${dst}`, spawned);
      const printed = new RegExp(`^${dst.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}@(sha256:[0-9a-f]{64})$`, 'm').exec(spawned.stdout)?.[1];
      const result: RunResult = {
        scenario, tool: 'slipway', round, destination: dst, wallMs: spawned.wallMs, cpuS: cpuSeconds(spawned.stderr),
        requests: {}, digest: '', phases: { ...phasesOf(spawned.stderrLines) },
      };
      result.requests = await requests.since();
      result.digest = await checkExport({ manifest: source.manifest, config: sourceConfig }, dst, printed);
      if (opts.trace) result.trace = JSON.parse(await readFile(traceFile, 'utf8')) as ExportTrace;
      if (measured && cpuProfDir) result.profile = await summarizeProfile(join(cpuProfDir, `export-${scenario}-${round}.cpuprofile`));
      return result;
    };
    const skopeoCopy = async (scenario: ScenarioId, round: number, dst: string, cache: 'cold' | 'warm'): Promise<RunResult> => {
      const spawned = await run(...skopeoArgv(cache === 'cold' ? 'cold' : { warm: warmCache }, skopeoCopyArgs(SRC, dst)));
      ensureOk(`skopeo copy ${SRC} ${dst}`, spawned);
      const result: RunResult = { scenario, tool: 'skopeo', round, destination: dst, wallMs: spawned.wallMs, cpuS: cpuSeconds(spawned.stderr), requests: {}, digest: '' };
      result.requests = await requests.since();
      result.digest = (await getManifest(dst)).digest;
      if (result.digest !== source.digest) throw new Error(`skopeo copy to ${dst}: the destination holds ${result.digest}, expected ${source.digest}`);
      return result;
    };

    // ---- start-up references (no export)
    const startup = { node: [] as number[], slipwayCli: [] as number[], skopeo: [] as number[], skopeoWrapper: [] as number[] };
    for (let i = 0; i < 5; i++) {
      startup.node.push((await run(process.execPath, ['-e', '0'])).wallMs);
      startup.slipwayCli.push((await run(process.execPath, [CLI, 'version'])).wallMs);
      startup.skopeo.push((await run('skopeo', ['--version'])).wallMs);
      startup.skopeoWrapper.push((await run(...skopeoArgv('cold', ['--version']))).wallMs);
    }

    // ---- scenarios
    const scenarios: Record<ScenarioId, { title: string; dst: (tool: Tool, round: number) => string; cache: 'cold' | 'warm' }> = {
      cross: { title: 'cross-registry (A -> B, new repo)', dst: (t, r) => `${B}/cross/${t}-${r}:latest`, cache: 'cold' },
      mount: { title: 'same registry, new repo (mount)', dst: (t, r) => `${A}/mount/${t}-${r}:latest`, cache: 'warm' },
      // One destination per tool: Slipway's relabelled manifest and skopeo's copy of the stage differ, and a
      // shared tag would be rewritten by the other tool every round.
      repeat: { title: 're-run (same tag, all present)', dst: (t) => `${B}/repeat/${t}:latest`, cache: 'warm' },
    };
    for (const id of SCENARIOS) {
      const s = scenarios[id];
      for (let round = 0; round <= ROUNDS; round++) {
        // Alternate who goes first; round 0 is a warm-up and is not counted.
        const order: Tool[] = round % 2 === 0 ? ['slipway', 'skopeo'] : ['skopeo', 'slipway'];
        for (const tool of order) {
          await requests.mark();
          const r = tool === 'slipway' ? await slipwayExport(id, round, s.dst(tool, round)) : await skopeoCopy(id, round, s.dst(tool, round), s.cache);
          results.push(r);
          const p = r.phases;
          log(`${id.padEnd(6)} round ${round}${round === 0 ? ' (warm-up)' : ''} ${tool.padEnd(7)} ${sec(r.wallMs)} s  cpu ${r.cpuS.toFixed(2)} s  [${r.requests.total} requests]` +
            (p ? `  (storage ${sec(p.storage ?? NaN)}, stages found ${sec(p.reused ?? NaN)}, exported ${sec(p.exported ?? NaN)})` : ''));
        }
      }
    }

    // ---- report
    const rows: string[][] = [['scenario', 'slipway s', 'skopeo s', 'ratio', 'CPU s slipway/skopeo', 'requests slipway/skopeo']];
    const phaseRows: string[][] = [['scenario', 'start-up+config', 'find stages', 'relabel+copy', 'exit', 'total']];
    const summary: Record<string, unknown> = {};
    for (const id of SCENARIOS) {
      const pick = (tool: Tool): RunResult[] => results.filter((r) => r.scenario === id && r.tool === tool && r.round > 0);
      const sl = pick('slipway');
      const sk = pick('skopeo');
      const slMs = median(sl.map((r) => r.wallMs));
      const skMs = median(sk.map((r) => r.wallMs));
      const reqSl = median(sl.map((r) => r.requests.total!));
      const reqSk = median(sk.map((r) => r.requests.total!));
      const cpuSl = median(sl.map((r) => r.cpuS));
      const cpuSk = median(sk.map((r) => r.cpuS));
      rows.push([scenarios[id].title, sec(slMs), sec(skMs), (slMs / skMs).toFixed(2), `${cpuSl.toFixed(2)}/${cpuSk.toFixed(2)}`, `${reqSl}/${reqSk}`]);
      const ph = (f: (p: Required<Phases>, r: RunResult) => number): number => median(sl.map((r) => f(r.phases as Required<Phases>, r)));
      const phases = {
        startupMs: ph((p) => p.storage),
        findStagesMs: ph((p) => p.reused - p.storage),
        relabelCopyMs: ph((p) => p.exported - p.reused),
        exitMs: ph((p, r) => r.wallMs - p.exported),
      };
      phaseRows.push([scenarios[id].title, sec(phases.startupMs), sec(phases.findStagesMs), sec(phases.relabelCopyMs), sec(phases.exitMs), sec(slMs)]);
      summary[id] = {
        slipwayMedianMs: slMs, skopeoMedianMs: skMs, ratio: slMs / skMs, slipwayCpuMedianS: cpuSl, skopeoCpuMedianS: cpuSk,
        slipwayMinMaxMs: [Math.min(...sl.map((r) => r.wallMs)), Math.max(...sl.map((r) => r.wallMs))],
        skopeoMinMaxMs: [Math.min(...sk.map((r) => r.wallMs)), Math.max(...sk.map((r) => r.wallMs))],
        slipwayPhasesMedianMs: phases,
        requests: { slipway: sl[0]?.requests, skopeo: sk[0]?.requests },
      };
    }
    const slipwayDigests = new Set(results.filter((r) => r.tool === 'slipway').map((r) => r.digest));
    const out: string[] = [];
    out.push('');
    out.push(`bench/export: \`slipway export\` vs \`skopeo copy --preserve-digests\` of the stage ${SRC.replace(A, 'A')} ` +
      `(${mb(sourceBytes)} MB: ${source.manifest.layers.length} layers, ${image.layerSizes.length} of them a random-data gzip base of ${image.layerSizes.map(mb).join(' + ')} MB, ` +
      `plus a small COPY), registries on 127.0.0.1 (distribution 2.8.2), ${ROUNDS} rounds + 1 warm-up, alternating; medians of wall-clock time per process.`);
    out.push(`Slipway relabels (new config and manifest; finding the stages is part of its run), skopeo copies the stage as it is: the closest peer. ratio = slipway / skopeo, goal <= 1.00.`);
    out.push('');
    out.push(table(rows));
    out.push('');
    out.push(`Slipway's time by phase (medians; from when its log lines arrived): start-up+config = spawn to "Stages storage", ` +
      `find stages = to the last "Use previously built image", relabel+copy = to "Exporting image", exit = to process exit.`);
    out.push('');
    out.push(table(phaseRows));
    out.push('');
    out.push(`every Slipway export checked: the tag names the printed digest, no slipway*/werf* labels, layers and diff_ids = the stage's; ` +
      `${slipwayDigests.size === 1 ? `one digest in every run (${[...slipwayDigests][0]!.slice(0, 19)}…)` : `${slipwayDigests.size} different digests`}. ` +
      `skopeo's destinations name the stage's digest.`);
    out.push(`skopeo: cross runs with an empty blob-info cache (tmpfs on ${SKOPEO_CACHE_DIR} in a private mount namespace), ` +
      `mount and re-run with a warm cache of its own; its times include that wrapper (unshare + sh + mount: ${sec(median(startup.skopeoWrapper) - median(startup.skopeo))} s median).`);
    out.push(`start-up, median of 5: node -e 0 ${sec(median(startup.node))} s; \`slipway version\` ${sec(median(startup.slipwayCli))} s; skopeo --version ${sec(median(startup.skopeo))} s.`);
    out.push(`requests (first measured round):`);
    for (const id of SCENARIOS) {
      const first = (tool: Tool): RunResult => results.find((r) => r.scenario === id && r.tool === tool && r.round === 1)!;
      out.push(`  ${id.padEnd(6)} slipway {${countsText(first('slipway').requests)}}`);
      out.push(`  ${''.padEnd(6)} skopeo  {${countsText(first('skopeo').requests)}}`);
    }
    if (opts.trace) {
      out.push('');
      out.push('Slipway request timelines (--trace; first measured round; ms since process start):');
      for (const id of SCENARIOS) {
        const r = results.find((x) => x.scenario === id && x.tool === 'slipway' && x.round === 1)!;
        out.push(`  ${id} (${sec(r.wallMs)} s wall):`);
        out.push(...timelineText(r.trace!, hosts));
      }
    }
    if (cpuProfDir) {
      out.push('');
      out.push(`CPU profiles in ${cpuProfDir} (Slipway, measured rounds; the profiler starts after Node's bootstrap). Median ms over the rounds:`);
      const medianOf = (profiles: ProfileSummary[], pick: (p: ProfileSummary) => [string, number][]): [string, number][] => {
        const keys = new Set(profiles.flatMap((p) => pick(p).map(([k]) => k)));
        return [...keys].map((k) => [k, median(profiles.map((p) => pick(p).find(([x]) => x === k)?.[1] ?? 0))] as [string, number])
          .sort((a, b) => b[1] - a[1]).filter(([, ms]) => ms >= 5);
      };
      for (const id of SCENARIOS) {
        const profiles = results.filter((r) => r.scenario === id && r.profile).map((r) => r.profile!);
        out.push(`  ${id} (profile length ${median(profiles.map((p) => p.totalMs)).toFixed(0)} ms)`);
        out.push(`    by activity: ${medianOf(profiles, (p) => p.byActivity).map(([c, ms]) => `${c} ${ms.toFixed(0)}`).join('; ')}`);
        out.push(`    self time by code: ${medianOf(profiles, (p) => p.byCategory).map(([c, ms]) => `${c} ${ms.toFixed(0)}`).join('; ')}`);
        const first = profiles[0];
        if (first) out.push(`    top functions (round 1): ${first.top.slice(0, 8).map((f) => `${f.name} ${f.where} ${f.selfMs.toFixed(0)}`).join('; ')}`);
      }
    }
    out.push(`${machineLine('skopeo')}${opts.trace ? '; Slipway ran with the --trace preload' : ''}` +
      `${cpuProfDir ? '; Slipway ran with --cpu-prof' : ''}${opts['log-debug'] ? '; Slipway ran with --log-debug' : ''}`);
    process.stdout.write(`${out.join('\n')}\n`);

    if (!opts['no-json']) {
      await writeResults(BENCH_DIR, 'export', opts.json, startedAt, {
        source: { ref: SRC.replace(A, 'A'), bytes: sourceBytes, layers: source.manifest.layers.map((l) => l.size), digest: source.digest },
        rounds: ROUNDS, options: { trace: opts.trace, cpuProf: cpuProfDir ?? null, logDebug: opts['log-debug'] }, summary, startup,
        runs: results,
      });
    }
    if (cpuProfDir) log(`profiles: ${(await readdir(cpuProfDir)).filter((f) => f.startsWith('export-')).length} files in ${cpuProfDir}`);
  });
}

await main();
