// bench/copy: registry-to-registry copies by Slipway (copyImage, in a child process per
// copy: bench/copy-worker.ts) and by `skopeo copy`, in the same run, alternating, over
// several rounds; prints medians and the ratio slipway/skopeo per scenario, and
// Slipway's peak RSS while moving a 1 GiB blob. See bench/README.md.
//
//   npm run bench:copy [-- --rounds 5 --layers 125,75,50 --big-mib 1024 ...]
//
// Needs root (skopeo's cache is isolated with `unshare --mount`), docker-registry and
// skopeo (Debian packages; installed by test/setup/install-deps.sh when missing).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { removeOnExit, startRegistry, stopAllChildren, type StartedRegistry } from '../test/setup/registry-process.js';
import type { WorkerReport } from './copy-worker.js';
import { buildImage, type BuiltImage } from './image.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const WORKER = join(BENCH_DIR, '.build', 'bench', 'copy-worker.js');
/** Where skopeo (containers/image) keeps its blob-info cache when run as root; skopeo 1.9 has no option to move it. */
const SKOPEO_CACHE_DIR = '/var/lib/containers/cache';
const MIB = 1024 * 1024;

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
  --node-args "ARGS"  extra node flags for the Slipway workers (experiments, e.g. "--liftoff-only")
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
type RequestCounts = Record<string, number>;

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

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) fail(`${name}: '${value}' is not a positive integer`);
  return n;
}

function fail(message: string): never {
  process.stderr.write(`bench/copy: ${message}\n`);
  process.exit(1);
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

// ---------------------------------------------------------------------------
// preconditions

function onPath(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

function preconditions(): void {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    fail('needs root on Linux: skopeo runs under `unshare --mount` with its blob-info cache replaced by a mount');
  }
  const tools = ['docker-registry', 'skopeo', 'unshare', 'mount'];
  if (tools.some((t) => !onPath(t))) {
    spawnSync('bash', [join(ROOT, 'test', 'setup', 'install-deps.sh')], { stdio: 'inherit' });
    const missing = tools.filter((t) => !onPath(t));
    if (missing.length > 0) fail(`missing ${missing.join(', ')} (apt-get install -y docker-registry skopeo util-linux mount)`);
  }
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) fail('dist/ is missing: run `npm run build` (npm run bench:copy does)');
  // The worker runs as plain JavaScript against dist/: compile it (and type-check the bench).
  const tsc = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(BENCH_DIR, 'tsconfig.json')], { stdio: 'inherit' });
  if (tsc.status !== 0) fail('tsc -p bench/tsconfig.json failed');
}

// ---------------------------------------------------------------------------
// running one copy

interface Spawned {
  wallMs: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[]): Promise<Spawned> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    let exitedAt = 0;
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', () => (exitedAt = performance.now()));
    child.once('close', (code) => resolvePromise({ wallMs: (exitedAt || performance.now()) - started, code, stdout, stderr }));
  });
}

function ensureOk(what: string, r: Spawned): void {
  if (r.code !== 0) throw new Error(`${what} exited with ${r.code}:\n${r.stderr.slice(-3000)}`);
}

/**
 * skopeo inside a private mount namespace whose /var/lib/containers/cache is either an
 * empty tmpfs ('cold': it knows no blob locations and must copy) or the bench's own
 * persistent cache dir bind-mounted ('warm': it remembers where it pushed blobs before, and mounts).
 * The host's real cache is never read or written.
 */
function skopeoArgv(cache: 'cold' | { warm: string }, skopeoArgs: string[], timeFile?: string): [string, string[]] {
  const mountCmd = cache === 'cold'
    ? `mount -t tmpfs -o size=64m slipway-bench ${SKOPEO_CACHE_DIR}`
    : `mount --bind "$1" ${SKOPEO_CACHE_DIR}`;
  const script = `${mountCmd} && shift && ${TIMED}`;
  const timePrefix = timeFile ? ['/usr/bin/time', '-f', '%M', '-o', timeFile] : [];
  return ['unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh',
    cache === 'cold' ? '-' : cache.warm, ...timePrefix, 'skopeo', '--insecure-policy', ...skopeoArgs]];
}

/** Runs "$@" and then prints the shell's `times` (the last line: children's user and sys time) on stderr. */
const TIMED = '"$@"; rc=$?; times >&2; exit $rc';

/** `cmd args` under a shell that reports its CPU time: see cpuSeconds(). */
function timedArgv(cmd: string, args: string[]): [string, string[]] {
  return ['sh', ['-c', TIMED, 'sh', cmd, ...args]];
}

/** User + sys seconds of the children, from the last line `times` printed. */
function cpuSeconds(stderr: string): number {
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s\s*$/.exec(stderr);
  if (!m) throw new Error(`no \`times\` output in: ${stderr.slice(-500)}`);
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
}

function skopeoCopyArgs(src: string, dst: string): string[] {
  // --preserve-digests: copy the manifest and blobs as they are, exactly what Slipway does.
  return ['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${src}`, `docker://${dst}`];
}

// ---------------------------------------------------------------------------
// request counting from the registries' access logs

class RequestLog {
  private offsets = new Map<string, number>();
  constructor(private readonly registries: StartedRegistry[]) {}

  async mark(): Promise<void> {
    for (const r of this.registries) this.offsets.set(r.logFile, (await stat(r.logFile)).size);
  }

  /** Requests logged since mark(), by method (and total). */
  async since(): Promise<RequestCounts> {
    // The registry writes the access-log line after it answered: give it a moment.
    await new Promise((r) => setTimeout(r, 100));
    const counts: RequestCounts = { total: 0 };
    for (const r of this.registries) {
      const from = this.offsets.get(r.logFile) ?? 0;
      const handle = await open(r.logFile, 'r');
      try {
        const size = (await handle.stat()).size;
        const buf = Buffer.alloc(size - from);
        await handle.read(buf, 0, buf.length, from);
        for (const m of buf.toString('utf8').matchAll(/"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP\/[\d.]+" (\d+)/g)) {
          const key = `${m[1]} ${classify(m[2]!)}`;
          counts[key] = (counts[key] ?? 0) + 1;
          counts.total!++;
        }
      } finally {
        await handle.close();
      }
    }
    return counts;
  }
}

function classify(path: string): string {
  if (path === '/v2/') return 'ping';
  if (/\/blobs\/uploads\//.test(path)) return 'upload';
  if (/\/blobs\//.test(path)) return 'blob';
  if (/\/manifests\//.test(path)) return 'manifest';
  return 'other';
}

// ---------------------------------------------------------------------------
// checks

async function manifestDigestAt(ref: string): Promise<string | undefined> {
  const slash = ref.indexOf('/');
  const colon = ref.lastIndexOf(':');
  const res = await fetch(`http://${ref.slice(0, slash)}/v2/${ref.slice(slash + 1, colon)}/manifests/${ref.slice(colon + 1)}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  return res.ok ? res.headers.get('docker-content-digest') ?? undefined : undefined;
}

// ---------------------------------------------------------------------------
// statistics and output

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const sec = (ms: number): string => (ms / 1000).toFixed(3);
const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

function countsText(c: RequestCounts): string {
  return Object.entries(c).filter(([k]) => k !== 'total').sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ${v}`).join(', ');
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r, ri) => {
    const line = r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
    return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  preconditions();
  const workDir = await mkdtemp(join(tmpdir(), 'slipway-bench-'));
  if (!opts.keep) removeOnExit(workDir);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130)); // the exit hook stops the registries
  const results: RunResult[] = [];
  const startedAt = new Date();
  try {
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
      startup.slipwayCli.push((await run(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), 'version'])).wallMs);
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
    out.push(`machine: ${cpus().length} cpus, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}; ` +
      `${spawnSync('skopeo', ['--version']).stdout.toString().trim()}`);
    process.stdout.write(`${out.join('\n')}\n`);

    if (!opts['no-json']) {
      const file = opts.json ? resolve(opts.json) : join(BENCH_DIR, 'results', `copy-${startedAt.toISOString().replace(/:/g, '-').replace(/\..*/, '')}.json`);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify({
        startedAt: startedAt.toISOString(), node: process.version, cpus: cpus().length, loadavg: loadavg(),
        image: { bytes: image.totalBytes, layers: image.layerSizes }, big: big ? { bytes: big.totalBytes } : undefined,
        rounds: ROUNDS, slipwayNodeArgs: opts['node-args'] ?? '', summary, startup, runs: results,
      }, null, 2));
      process.stdout.write(`results: ${file}\n`);
    }
  } finally {
    await stopAllChildren();
    if (opts.keep) log(`kept ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
    removeOnExit(undefined);
  }
}

await main();
