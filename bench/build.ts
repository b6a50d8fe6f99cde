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
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRegistry } from '../test/setup/registry-process.js';
import { DOCKERFILE_BODY, writeBaseLayout, writeProject, type Project } from './build-fixture.js';
import { fail, inWorkDir, log, onPath, positiveInt, requireRootOnLinux, requireTools, setBenchName, tsc } from './lib/cli.js';
import { BLOB_INFO_CACHE_DIR, ensureOk as ensureOkTail, run, withBlobInfoCache, type Line, type Spawned } from './lib/process.js';
import { MIB } from './lib/random.js';
import { countsText, RequestLog, splitRef, type RequestCounts } from './lib/requests.js';
import { machineLine, mb, median, sec, table, writeResults } from './lib/report.js';

setBenchName('bench/build');
const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const CLI = join(ROOT, 'dist', 'slipway.mjs'); // the bundled CLI: what `npm install` puts on PATH

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    'large-mib': { type: 'string', default: '16,12,8' },
    'small-files': { type: 'string', default: '360' },
    'small-kib-max': { type: 'string', default: '64' },
    'base-mib': { type: 'string', default: '12,8' },
    scenarios: { type: 'string', default: 'cold,cached' },
    'cpu-prof': { type: 'string' },
    'log-debug': { type: 'boolean', default: false },
    'slipway-arg': { type: 'string', multiple: true, default: [] },
    json: { type: 'string' },
    'no-json': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
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
type ScenarioId = 'cold' | 'cached';
const SCENARIOS = opts.scenarios.split(',').map((s) => s.trim()) as ScenarioId[];
for (const s of SCENARIOS) if (!['cold', 'cached'].includes(s)) fail(`unknown scenario '${s}'`);

type Tool = 'slipway' | 'buildah';

interface Step {
  wallMs: number;
  cpuS?: number;
  maxRssKiB?: number;
  lines: Line[];
}

interface RunResult {
  scenario: ScenarioId;
  tool: Tool;
  round: number;
  /** Whole scenario: Slipway's one process; buildah's bud + push. */
  wallMs: number;
  /** buildah only */
  buildMs?: number;
  pushMs?: number;
  cpuS?: number;
  steps: Record<string, Step>;
  requests: RequestCounts;
  /** The pushed image. */
  ref: string;
  manifestDigest: string;
}

// ---------------------------------------------------------------------------
// preconditions

function preconditions(): void {
  requireRootOnLinux('buildah runs with vfs storage under `unshare --mount` (its blob-info cache replaced by a mount)');
  requireTools(ROOT, ['docker-registry', 'skopeo', 'git', 'unshare', 'mount'], 'docker-registry skopeo git util-linux mount');
  if (!onPath('buildah')) {
    log('bench/build: buildah is missing; installing it (apt-get install -y buildah)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = spawnSync('apt-get', ['install', '-y', 'buildah'], { stdio: 'inherit', env });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
      r = spawnSync('apt-get', ['install', '-y', 'buildah'], { stdio: 'inherit', env });
    }
    if (r.status !== 0 || !onPath('buildah')) {
      fail('buildah is not installed and `apt-get install -y buildah` failed: install it as root (Debian package buildah) and run again');
    }
  }
  if (!existsSync(CLI)) fail('dist/ is missing: run `npm run build` (npm run bench:build does)');
  // tsx runs this file without type-checking it: check it (and its helpers) here. bench/tsconfig.json is bench/copy's.
  tsc(ROOT, ['--ignoreConfig', '--noEmit', '--target', 'ES2022', '--module', 'NodeNext',
    '--moduleResolution', 'NodeNext', '--strict', '--noUncheckedIndexedAccess', '--noImplicitOverride', '--skipLibCheck', '--types', 'node',
    join(BENCH_DIR, 'build.ts')], 'type errors in bench/build.ts');
}

// ---------------------------------------------------------------------------
// running processes

function ensureOk(what: string, r: Spawned): void {
  ensureOkTail(what, r, 4000);
}

function stepOf(r: Spawned): Step {
  return {
    wallMs: r.wallMs,
    ...(r.userS !== undefined ? { cpuS: r.userS + r.sysS!, maxRssKiB: r.maxRssKiB! } : {}),
    lines: r.lines,
  };
}

// ---------------------------------------------------------------------------
// buildah

/** One buildah storage: its graph root, run root and blob-info cache; one per round. */
interface BuildahStore {
  root: string;
  runroot: string;
  cache: string;
}

async function newBuildahStore(dir: string): Promise<BuildahStore> {
  const store = { root: join(dir, 'root'), runroot: join(dir, 'runroot'), cache: join(dir, 'blob-info-cache') };
  for (const d of Object.values(store)) await mkdir(d, { recursive: true });
  return store;
}

/**
 * buildah in a private mount namespace whose /var/lib/containers/cache (containers/image's
 * blob-info cache for root) is this store's own directory: what one round's bud learns
 * (where the base layers came from) its push can use (a cross-repo mount, as Slipway does),
 * but nothing leaks between rounds, and the host's real cache is never read or written.
 */
function buildahArgv(store: BuildahStore, args: string[]): [string, string[]] {
  return withBlobInfoCache({ warm: store.cache }, 'exec "$@"',
    ['buildah', '--root', store.root, '--runroot', store.runroot, '--storage-driver', 'vfs', ...args]);
}

// ---------------------------------------------------------------------------
// registry reads for checks

async function manifestAt(ref: string): Promise<{ digest: string; body: { layers: { size: number }[]; config: { digest: string } } } | undefined> {
  const { host, repo, tag } = splitRef(ref);
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
  });
  if (!res.ok) return undefined;
  return { digest: res.headers.get('docker-content-digest') ?? '', body: await res.json() as never };
}

async function configAt(ref: string): Promise<Record<string, unknown>> {
  const m = await manifestAt(ref);
  if (!m) throw new Error(`no manifest at ${ref}`);
  const { host, repo } = splitRef(ref);
  const res = await fetch(`http://${host}/v2/${repo}/blobs/${m.body.config.digest}`);
  return ((await res.json()) as { config: Record<string, unknown> }).config;
}

// ---------------------------------------------------------------------------
// timelines

/**
 * Slipway's per-stage timeline: each stage from the line before it ("Building stage X" or the
 * previous event) to its "Store stage X" / "Use previously built image for X" line. Keyed by
 * stage name; values in ms.
 */
function slipwayPhases(step: Step): { name: string; ms: number }[] {
  const phases: { name: string; ms: number }[] = [];
  let last = 0;
  for (const { t, text } of step.lines) {
    let m: RegExpMatchArray | null;
    if ((m = text.match(/^Stages storage: /))) {
      phases.push({ name: 'start-up, config, git', ms: t - last });
      last = t;
    } else if ((m = text.match(/^(?:Store stage|Use previously built image for) \S+?\/(\S+)/))) {
      phases.push({ name: m[1]!, ms: t - last });
      last = t;
    }
  }
  phases.push({ name: 'final manifest read, exit', ms: step.wallMs - last });
  return phases;
}

/** buildah's timeline: from one STEP / COMMIT / push line to the next. */
function buildahPhases(step: Step, prefix: string): { name: string; ms: number }[] {
  const phases: { name: string; ms: number }[] = [];
  let last = 0;
  let current = `${prefix}start-up`;
  for (const { t, text } of step.lines) {
    const m = text.match(/^STEP \d+\/\d+: (\S+)/) ?? text.match(/^(COMMIT)\b/) ?? text.match(/^(Getting image source signatures)/) ??
      text.match(/^(Writing manifest)/);
    if (!m) continue;
    phases.push({ name: current, ms: t - last });
    last = t;
    current = `${prefix}${m[1]!.toLowerCase()}`;
    if (current.endsWith('from')) current = `${prefix}from (pull base)`;
  }
  phases.push({ name: current, ms: step.wallMs - last });
  return phases;
}

function medianPhases(all: { name: string; ms: number }[][]): { name: string; ms: number }[] {
  if (all.length === 0) return [];
  const first = all[0]!;
  // Same shape in every run (same Dockerfile): take medians position by position.
  return first.map((p, i) => ({ name: p.name, ms: median(all.map((a) => a[i]?.ms ?? 0)) }));
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  preconditions();
  await inWorkDir('slipway-bench-build-', opts.keep, async (workDir) => {
    const results: RunResult[] = [];
    const startedAt = new Date();
    const cpuProfDir = opts['cpu-prof'] ? resolve(opts['cpu-prof']) : undefined;
    if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true });
    await mkdir(BLOB_INFO_CACHE_DIR, { recursive: true }); // the mount point; its contents are never touched

    log(`work dir ${workDir}; starting a registry`);
    const registry = await startRegistry(workDir, { name: 'registry', accessLog: true });
    const R = registry.host;
    const requests = new RequestLog([registry], { tags: true });

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
    const slipwayBuild = async (home: string, repo: string, profile: boolean): Promise<Spawned> => {
      const nodeArgs = profile && cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', `slipway-${++slipwayCount}-${Date.now()}.cpuprofile`] : [];
      const args = [...nodeArgs, CLI, 'build', '--dir', project.dir, '--repo', repo, ...(opts['log-debug'] ? ['--log-debug'] : []), ...opts['slipway-arg']];
      const r = await run(process.execPath, args, { env: { ...process.env, SLIPWAY_HOME: home }, timeFile: join(workDir, 'time-slipway') });
      ensureOk(`slipway build --repo ${repo}`, r);
      return r;
    };
    const imageTag = (r: Spawned): string => {
      const m = r.stderr.match(/^image app: \S+?:([0-9a-f]{56}-\d{13})$/m);
      if (!m) throw new Error(`no 'image app:' line in slipway's output:\n${r.stderr.slice(-3000)}`);
      return m[1]!;
    };

    const buildahBud = async (store: BuildahStore, name: string, layers: boolean): Promise<Spawned> => {
      const r = await run(...buildahArgv(store, ['bud', '--isolation', 'chroot', '--tls-verify=false', `--layers=${layers}`,
        '-f', join(project.dir, 'Dockerfile'), '-t', name, project.dir]), { timeFile: join(workDir, 'time-buildah') });
      ensureOk(`buildah bud ${name}`, r);
      return r;
    };
    const buildahPush = async (store: BuildahStore, name: string, dst: string): Promise<{ spawned: Spawned; digest: string }> => {
      const digestFile = join(workDir, 'buildah-digest');
      await rm(digestFile, { force: true });
      const r = await run(...buildahArgv(store, ['push', '--tls-verify=false', '--digestfile', digestFile, name, `docker://${dst}`]), { timeFile: join(workDir, 'time-buildah') });
      ensureOk(`buildah push ${name} ${dst}`, r);
      return { spawned: r, digest: (await readFile(digestFile, 'utf8')).trim() };
    };

    const verify = async (ref: string, digest: string, what: string): Promise<void> => {
      const at = await manifestAt(ref);
      if (!at) throw new Error(`${what}: nothing at ${ref}`);
      if (digest && at.digest !== digest) throw new Error(`${what}: ${ref} holds ${at.digest}, expected ${digest}`);
    };

    // ---- start-up references
    const startup = { node: [] as number[], slipwayVersion: [] as number[], buildahVersion: [] as number[], buildahWrapper: [] as number[] };
    const refStore = await newBuildahStore(join(workDir, 'buildah-ref'));
    for (let i = 0; i < 5; i++) {
      startup.node.push((await run(process.execPath, ['-e', '0'])).wallMs);
      startup.slipwayVersion.push((await run(process.execPath, [CLI, 'version'])).wallMs);
      startup.buildahVersion.push((await run('buildah', ['--version'])).wallMs);
      startup.buildahWrapper.push((await run(...buildahArgv(refStore, ['--version']))).wallMs);
    }

    // ---- rounds
    let checked = false;
    for (let round = 0; round <= ROUNDS; round++) {
      // Alternate who goes first; round 0 is a warm-up and is not counted.
      const order: Tool[] = round % 2 === 0 ? ['slipway', 'buildah'] : ['buildah', 'slipway'];
      const roundDir = join(workDir, `round-${round}`);
      const roundResults: RunResult[] = [];
      for (const tool of order) {
        if (tool === 'slipway') {
          const home = join(roundDir, 'slipway-home');
          await mkdir(home, { recursive: true });
          const repo = `${R}/bench/slipway-${round}`;
          // Cold: a fresh SLIPWAY_HOME and a fresh repository; the build pushes every stage.
          await requests.mark();
          const cold = await slipwayBuild(home, repo, round > 0);
          const coldTag = imageTag(cold);
          const coldResult: RunResult = {
            scenario: 'cold', tool, round, wallMs: cold.wallMs, ...(cold.userS !== undefined ? { cpuS: cold.userS + cold.sysS! } : {}),
            steps: { build: stepOf(cold) }, requests: await requests.since(), ref: `${repo}:${coldTag}`, manifestDigest: '',
          };
          coldResult.manifestDigest = (await manifestAt(coldResult.ref))?.digest ?? '';
          await verify(coldResult.ref, '', 'slipway cold');
          if (SCENARIOS.includes('cold')) roundResults.push(coldResult);
          if (SCENARIOS.includes('cached')) {
            // Fully cached: the same commit again, same home, same repository: every stage is reused.
            await requests.mark();
            const cached = await slipwayBuild(home, repo, round > 0);
            const tag = imageTag(cached);
            if (tag !== coldTag) throw new Error(`slipway's second build gave ${tag}, the first ${coldTag}`);
            if (!/Stage cache summary: \d+ reused, 0 built/.test(cached.stderr)) throw new Error(`slipway's second build built stages:\n${cached.stderr.slice(-3000)}`);
            roundResults.push({
              scenario: 'cached', tool, round, wallMs: cached.wallMs, ...(cached.userS !== undefined ? { cpuS: cached.userS + cached.sysS! } : {}),
              steps: { build: stepOf(cached) }, requests: await requests.since(), ref: `${repo}:${tag}`, manifestDigest: coldResult.manifestDigest,
            });
          }
        } else {
          const store = await newBuildahStore(join(roundDir, 'buildah'));
          const name = `localhost/bench-app:r${round}`;
          const dst = `${R}/bench/buildah-${round}:latest`;
          if (SCENARIOS.includes('cold')) {
            // Cold: a fresh storage (no base, no cache), one layer for the whole body (--layers=false), then the push.
            await requests.mark();
            const bud = await buildahBud(store, name, false);
            const push = await buildahPush(store, name, dst);
            await verify(dst, push.digest, 'buildah cold');
            roundResults.push({
              scenario: 'cold', tool, round, wallMs: bud.wallMs + push.spawned.wallMs, buildMs: bud.wallMs, pushMs: push.spawned.wallMs,
              ...(bud.userS !== undefined && push.spawned.userS !== undefined ? { cpuS: bud.userS + bud.sysS! + push.spawned.userS + push.spawned.sysS! } : {}),
              steps: { bud: stepOf(bud), push: stepOf(push.spawned) }, requests: await requests.since(), ref: dst, manifestDigest: push.digest,
            });
          }
          if (SCENARIOS.includes('cached')) {
            // Fill the layer cache (a first --layers build and its push; not measured), then measure the second.
            const layeredName = `localhost/bench-app-layers:r${round}`;
            const layeredDst = `${R}/bench/buildah-layers-${round}:latest`;
            const fill = await buildahBud(store, layeredName, true);
            const fillPush = await buildahPush(store, layeredName, layeredDst);
            await requests.mark();
            const bud = await buildahBud(store, layeredName, true);
            const push = await buildahPush(store, layeredName, layeredDst);
            if (push.digest !== fillPush.digest) throw new Error(`buildah's cached rebuild pushed ${push.digest}, the first ${fillPush.digest}`);
            await verify(layeredDst, push.digest, 'buildah cached');
            roundResults.push({
              scenario: 'cached', tool, round, wallMs: bud.wallMs + push.spawned.wallMs, buildMs: bud.wallMs, pushMs: push.spawned.wallMs,
              ...(bud.userS !== undefined && push.spawned.userS !== undefined ? { cpuS: bud.userS + bud.sysS! + push.spawned.userS + push.spawned.sysS! } : {}),
              steps: { fill: stepOf(fill), fillPush: stepOf(fillPush.spawned), bud: stepOf(bud), push: stepOf(push.spawned) },
              requests: await requests.since(), ref: layeredDst, manifestDigest: push.digest,
            });
          }
        }
      }
      for (const r of roundResults) {
        results.push(r);
        log(`${r.scenario.padEnd(6)} round ${round}${round === 0 ? ' (warm-up)' : ''} ${r.tool.padEnd(7)} ${sec(r.wallMs)} s` +
          (r.buildMs !== undefined ? ` (bud ${sec(r.buildMs)} + push ${sec(r.pushMs!)})` : '') +
          (r.cpuS !== undefined ? ` cpu ${r.cpuS.toFixed(2)} s` : '') + `  [${r.requests.total} requests]`);
      }
      if (!checked) {
        // Once: both images say what the Dockerfile says.
        checked = true;
        const sl = results.find((r) => r.tool === 'slipway')!;
        const bu = results.find((r) => r.tool === 'buildah')!;
        const [a, b] = [await configAt(sl.ref), await configAt(bu.ref)];
        // Env as a set: buildah appends a variable that ENV sets again (PATH here), Docker and Slipway replace it in place.
        const norm = (key: string, v: unknown): string => JSON.stringify(key === 'Env' && Array.isArray(v) ? [...(v as string[])].sort() : v);
        for (const key of ['User', 'WorkingDir', 'Cmd', 'ExposedPorts', 'Env']) {
          if (norm(key, a[key]) !== norm(key, b[key])) log(`warning: config ${key} differs: slipway ${JSON.stringify(a[key])}, buildah ${JSON.stringify(b[key])}`);
        }
      }
      // Free the disk: vfs keeps a full rootfs copy per layer.
      if (!opts.keep) await rm(roundDir, { recursive: true, force: true });
    }

    // ---- report
    const pick = (id: ScenarioId, tool: Tool): RunResult[] => results.filter((r) => r.scenario === id && r.tool === tool && r.round > 0);
    const rows: string[][] = [['scenario', 'slipway s', 'buildah s', '= bud s', '+ push s', 'ratio', 'slipway cpu s', 'buildah cpu s', 'requests slipway/buildah']];
    const summary: Record<string, unknown> = {};
    const titles: Record<ScenarioId, string> = { cold: 'cold build + push', cached: 'fully cached rebuild + push' };
    for (const id of SCENARIOS) {
      const sl = pick(id, 'slipway');
      const bu = pick(id, 'buildah');
      const slMs = median(sl.map((r) => r.wallMs));
      const buMs = median(bu.map((r) => r.wallMs));
      const budMs = median(bu.map((r) => r.buildMs!));
      const pushMs = median(bu.map((r) => r.pushMs!));
      const slCpu = sl.every((r) => r.cpuS !== undefined) ? median(sl.map((r) => r.cpuS!)) : undefined;
      const buCpu = bu.every((r) => r.cpuS !== undefined) ? median(bu.map((r) => r.cpuS!)) : undefined;
      rows.push([titles[id], sec(slMs), sec(buMs), sec(budMs), sec(pushMs), (slMs / buMs).toFixed(2),
        slCpu?.toFixed(2) ?? '?', buCpu?.toFixed(2) ?? '?', `${median(sl.map((r) => r.requests.total!))}/${median(bu.map((r) => r.requests.total!))}`]);
      summary[id] = {
        slipwayMedianMs: slMs, buildahMedianMs: buMs, buildahBudMedianMs: budMs, buildahPushMedianMs: pushMs, ratio: slMs / buMs,
        slipwayCpuMedianS: slCpu, buildahCpuMedianS: buCpu,
        slipwayMinMaxMs: [Math.min(...sl.map((r) => r.wallMs)), Math.max(...sl.map((r) => r.wallMs))],
        buildahMinMaxMs: [Math.min(...bu.map((r) => r.wallMs)), Math.max(...bu.map((r) => r.wallMs))],
        slipwayPhasesMs: medianPhases(sl.map((r) => slipwayPhases(r.steps.build!))),
        buildahPhasesMs: medianPhases(bu.map((r) => [...buildahPhases(r.steps.bud!, 'bud: '), ...buildahPhases(r.steps.push!, 'push: ')])),
        requests: { slipway: sl[0]?.requests, buildah: bu[0]?.requests },
      };
    }
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
    out.push(table(rows));
    out.push('');
    for (const id of SCENARIOS) {
      const s = summary[id] as { slipwayPhasesMs: { name: string; ms: number }[]; buildahPhasesMs: { name: string; ms: number }[] };
      out.push(`${titles[id]}, where the time goes (medians, s):`);
      out.push(`  slipway: ${s.slipwayPhasesMs.map((p) => `${p.name} ${sec(p.ms)}`).join(', ')}`);
      out.push(`  buildah: ${s.buildahPhasesMs.map((p) => `${p.name} ${sec(p.ms)}`).join(', ')}`);
    }
    out.push(`requests (first measured round): ` + SCENARIOS.map((id) => {
      const first = (tool: Tool): RunResult | undefined => results.find((r) => r.scenario === id && r.tool === tool && r.round === 1);
      return `${id}: slipway {${countsText(first('slipway')?.requests ?? {})}} buildah {${countsText(first('buildah')?.requests ?? {})}}`;
    }).join('; '));
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
