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
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRegistry } from '../test/setup/registry-process.js';
import { writeBusyboxLayout } from '../test/support/busybox-base.js';
import { diffSnapshots, snapshotDir, type FsEntry } from '../test/support/image-fs.js';
import { fail, inWorkDir, log, onPath, positiveInt, requireRootOnLinux, requireTools, setBenchName, tsc } from './lib/cli.js';
import { ensureOk as ensureOkTail, run, withBlobInfoCache, BLOB_INFO_CACHE_DIR, type Line, type Spawned } from './lib/process.js';
import { countsText, RequestLog, splitRef, type RequestCounts } from './lib/requests.js';
import { machineLine, median, sec, table, writeResults } from './lib/report.js';

setBenchName('bench/build-run');
const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const CLI = join(ROOT, 'dist', 'slipway.mjs'); // the bundled CLI: what `npm install` puts on PATH

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    files: { type: 'string', default: '3000' },
    'blob-mib': { type: 'string', default: '8' },
    scenarios: { type: 'string', default: 'cold,cached' },
    'buildah-driver': { type: 'string', default: 'overlay' },
    'no-check': { type: 'boolean', default: false },
    'log-debug': { type: 'boolean', default: false },
    json: { type: 'string' },
    'no-json': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
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
type ScenarioId = 'cold' | 'cached';
const SCENARIOS = opts.scenarios.split(',').map((s) => s.trim()) as ScenarioId[];
for (const s of SCENARIOS) if (!['cold', 'cached'].includes(s)) fail(`unknown scenario '${s}'`);
const DRIVER = opts['buildah-driver'];
if (DRIVER !== 'overlay' && DRIVER !== 'vfs') fail(`--buildah-driver: '${DRIVER}' is neither overlay nor vfs`);

type Tool = 'slipway' | 'buildah';

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

interface Step {
  /** ms since the epoch when the process was spawned (Slipway's builds). */
  startedAt?: number;
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
  requireRootOnLinux('Slipway runs RUN in namespaces; buildah runs under `unshare --mount` (its blob-info cache replaced by a mount)');
  requireTools(ROOT, ['docker-registry', 'skopeo', 'umoci', 'busybox', 'git', 'unshare', 'mount'], 'docker-registry skopeo umoci busybox-static git util-linux mount');
  if (!onPath('buildah')) {
    log('bench/build-run: buildah is missing; installing it (apt-get install -y buildah)');
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
  if (!existsSync(CLI)) fail('dist/ is missing: run `npm run build` (npm run bench:build-run does)');
  // tsx runs this file without type-checking it: check it (and its helpers) here.
  tsc(ROOT, ['--ignoreConfig', '--noEmit', '--target', 'ES2022', '--module', 'NodeNext',
    '--moduleResolution', 'NodeNext', '--strict', '--noUncheckedIndexedAccess', '--noImplicitOverride', '--skipLibCheck', '--types', 'node',
    join(BENCH_DIR, 'build-run.ts')], 'type errors in bench/build-run.ts');
}

// ---------------------------------------------------------------------------
// running processes

function ensureOk(what: string, r: Spawned): void {
  ensureOkTail(what, r, 4000);
}

function stepOf(r: Spawned, startedAt?: number): Step {
  return {
    ...(startedAt !== undefined ? { startedAt } : {}),
    wallMs: r.wallMs,
    ...(r.userS !== undefined ? { cpuS: r.userS + r.sysS!, maxRssKiB: r.maxRssKiB! } : {}),
    lines: r.lines,
  };
}

/** One buildah storage: its graph root, run root, temp dir and blob-info cache; one per round. */
interface BuildahStore {
  root: string;
  runroot: string;
  tmp: string;
  cache: string;
}

async function newBuildahStore(dir: string): Promise<BuildahStore> {
  const store = { root: join(dir, 'root'), runroot: join(dir, 'runroot'), tmp: join(dir, 'tmp'), cache: join(dir, 'blob-info-cache') };
  for (const d of Object.values(store)) await mkdir(d, { recursive: true });
  return store;
}

/**
 * buildah in a private mount namespace whose /var/lib/containers/cache is this store's own
 * directory (as in bench/build): what one round's bud learns its push can use, nothing leaks
 * between rounds, and the host's cache is never read or written.
 */
function buildahArgv(store: BuildahStore, args: string[]): [string, string[]] {
  return withBlobInfoCache({ warm: store.cache }, 'exec "$@"',
    ['env', `TMPDIR=${store.tmp}`, 'buildah', '--root', store.root, '--runroot', store.runroot, '--storage-driver', DRIVER, ...args]);
}

// ---------------------------------------------------------------------------
// registry reads for checks

async function manifestAt(ref: string): Promise<{ digest: string } | undefined> {
  const { host, repo, tag } = splitRef(ref);
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
  });
  if (!res.ok) return undefined;
  return { digest: res.headers.get('docker-content-digest') ?? '' };
}

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
// timelines

/**
 * Slipway's per-stage timeline. Slipway prints an image's block of `Store stage X` lines when the
 * image is done (not as each stage is stored), so a built stage's time comes from its tag
 * (`<digest>-<ms since the epoch>`, when it was stored): from the previous stage's tag (the first
 * from the process start). Without built stages (a cached build): from one line to the next.
 */
function slipwayPhases(step: Step): { name: string; ms: number }[] {
  const stored = [...step.lines.map((l) => l.text).join('\n').matchAll(/^Store stage \S+?\/(\S+)\n\s+name: [0-9a-f]{56}-(\d{13})$/gm)];
  if (stored.length > 0 && step.startedAt !== undefined) {
    const phases = [];
    let last = step.startedAt;
    for (const m of stored) {
      phases.push({ name: m[1]!, ms: Number(m[2]) - last });
      last = Number(m[2]);
    }
    phases.push({ name: 'after the last stage: exit', ms: step.startedAt + step.wallMs - last });
    return phases;
  }
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
  let n = 0;
  for (const { t, text } of step.lines) {
    const m = text.match(/^STEP (\d+)\/\d+: (\S+)/) ?? text.match(/^(COMMIT)\b/) ?? text.match(/^(Getting image source signatures)/) ??
      text.match(/^(Writing manifest)/);
    if (!m) continue;
    phases.push({ name: current, ms: t - last });
    last = t;
    n++;
    current = m[2] ? `${prefix}${m[2].toLowerCase()}@${m[1]}` : `${prefix}${m[1]!.toLowerCase()}#${n}`;
  }
  phases.push({ name: current, ms: step.wallMs - last });
  return phases;
}

function medianPhases(all: { name: string; ms: number }[][]): { name: string; ms: number }[] {
  if (all.length === 0) return [];
  const first = all[0]!;
  return first.map((p, i) => ({ name: p.name, ms: median(all.map((a) => a[i]?.ms ?? 0)) }));
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
    const results: RunResult[] = [];
    const startedAt = new Date();
    await mkdir(BLOB_INFO_CACHE_DIR, { recursive: true }); // the mount point; its contents are never touched

    log(`work dir ${workDir}; starting a registry`);
    const registry = await startRegistry(workDir, { name: 'registry', accessLog: true });
    const R = registry.host;
    const requests = new RequestLog([registry], { tags: true });

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
    const slipwayBuild = async (home: string, repo: string): Promise<Spawned & { startedAt: number }> => {
      const args = [CLI, 'build', '--dir', projectDir, '--repo', repo, ...(opts['log-debug'] ? ['--log-debug'] : [])];
      const startedAt = Date.now();
      const r = await run(process.execPath, args, { env: { ...process.env, SLIPWAY_HOME: home }, timeFile: join(workDir, 'time-slipway') });
      ensureOk(`slipway build --repo ${repo}`, r);
      return { ...r, startedAt };
    };
    const imageTag = (r: Spawned): string => {
      const m = r.stderr.match(/^image app: \S+?:([0-9a-f]{56}-\d{13})$/m);
      if (!m) throw new Error(`no 'image app:' line in slipway's output:\n${r.stderr.slice(-3000)}`);
      return m[1]!;
    };
    const buildahBud = async (store: BuildahStore, name: string): Promise<Spawned> => {
      const r = await run(...buildahArgv(store, ['bud', '--isolation', 'chroot', '--tls-verify=false', '--layers',
        '-f', join(projectDir, 'Dockerfile'), '-t', name, projectDir]), { timeFile: join(workDir, 'time-buildah') });
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
    const cpuOf = (...rs: Spawned[]): { cpuS: number } | Record<string, never> =>
      rs.every((r) => r.userS !== undefined) ? { cpuS: rs.reduce((n, r) => n + r.userS! + r.sysS!, 0) } : {};

    // ---- rounds
    let checked = opts['no-check'];
    const checkLines: string[] = [];
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
          // Cold: a fresh SLIPWAY_HOME and a fresh repository: every RUN runs, every stage is pushed.
          await requests.mark();
          const cold = await slipwayBuild(home, repo);
          const coldTag = imageTag(cold);
          const coldResult: RunResult = {
            scenario: 'cold', tool, round, wallMs: cold.wallMs, ...cpuOf(cold),
            steps: { build: stepOf(cold, cold.startedAt) }, requests: await requests.since(), ref: `${repo}:${coldTag}`, manifestDigest: '',
          };
          coldResult.manifestDigest = (await manifestAt(coldResult.ref))?.digest ?? '';
          await verify(coldResult.ref, '', 'slipway cold');
          if (SCENARIOS.includes('cold')) roundResults.push(coldResult);
          if (SCENARIOS.includes('cached')) {
            // Fully cached: the same commit again, same home and repository: every stage is reused, nothing runs.
            await requests.mark();
            const cached = await slipwayBuild(home, repo);
            const tag = imageTag(cached);
            if (tag !== coldTag) throw new Error(`slipway's second build gave ${tag}, the first ${coldTag}`);
            if (!/Stage cache summary: \d+ reused, 0 built/.test(cached.stderr)) throw new Error(`slipway's second build built stages:\n${cached.stderr.slice(-3000)}`);
            roundResults.push({
              scenario: 'cached', tool, round, wallMs: cached.wallMs, ...cpuOf(cached),
              steps: { build: stepOf(cached, cached.startedAt) }, requests: await requests.since(), ref: `${repo}:${tag}`, manifestDigest: coldResult.manifestDigest,
            });
          }
        } else {
          const store = await newBuildahStore(join(roundDir, 'buildah'));
          const name = `localhost/bench-run:r${round}`;
          const dst = `${R}/bench/buildah-${round}:latest`;
          // Cold: a fresh storage (no base, no layer cache); --layers, so every instruction is a layer
          // (and cached for the next scenario), as Slipway makes a stage of each.
          await requests.mark();
          const bud = await buildahBud(store, name);
          const push = await buildahPush(store, name, dst);
          await verify(dst, push.digest, 'buildah cold');
          if (SCENARIOS.includes('cold')) {
            roundResults.push({
              scenario: 'cold', tool, round, wallMs: bud.wallMs + push.spawned.wallMs, buildMs: bud.wallMs, pushMs: push.spawned.wallMs,
              ...cpuOf(bud, push.spawned), steps: { bud: stepOf(bud), push: stepOf(push.spawned) }, requests: await requests.since(),
              ref: dst, manifestDigest: push.digest,
            });
          }
          if (SCENARIOS.includes('cached')) {
            // Fully cached: a second `bud --layers` on the same storage (every step from the cache) + the same push.
            await requests.mark();
            const again = await buildahBud(store, name);
            const pushAgain = await buildahPush(store, name, dst);
            if (pushAgain.digest !== push.digest) throw new Error(`buildah's cached rebuild pushed ${pushAgain.digest}, the first ${push.digest}`);
            if (!/Using cache/.test(again.stdout + again.stderr)) throw new Error(`buildah's second bud used no cache:\n${again.stderr.slice(-3000)}`);
            roundResults.push({
              scenario: 'cached', tool, round, wallMs: again.wallMs + pushAgain.spawned.wallMs, buildMs: again.wallMs, pushMs: pushAgain.spawned.wallMs,
              ...cpuOf(again, pushAgain.spawned), steps: { bud: stepOf(again), push: stepOf(pushAgain.spawned) }, requests: await requests.since(),
              ref: dst, manifestDigest: pushAgain.digest,
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
        // Once: both images hold the same files (test/support/image-fs.ts's comparison; buildah's
        // empty mount-point stubs aside, see test/integration/run-differential.test.ts).
        checked = true;
        const sl = results.find((r) => r.tool === 'slipway')!;
        const bu = results.find((r) => r.tool === 'buildah')!;
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
      }
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
    out.push(`bench/build-run: a RUN-heavy Dockerfile (FROM a busybox base in the same registry, ${BODY.length + 1} instructions, ` +
      `${runs} RUNs: ${FILES} small files, a ${BLOB_MIB} MiB random file, tar/untar, sed over every file, deletions, chown -R), ` +
      `built and pushed to a registry on 127.0.0.1 (distribution 2.8.2); ${ROUNDS} rounds + 1 warm-up, alternating; medians of wall-clock time.`);
    out.push('slipway = `slipway build --repo` (one process; stages are pushed as they are built). ' +
      `buildah = \`buildah --storage-driver ${DRIVER} bud --isolation chroot --layers\` + \`buildah push\`.`);
    out.push('cold: fresh SLIPWAY_HOME and repo / fresh buildah root. cached: the same commit again (Slipway reuses every stage) / ' +
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
