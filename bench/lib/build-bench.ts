// What bench/build and bench/build-run share: their common options, the rounds (both tools,
// alternating), Slipway's side of a round, the timelines, and the table and summary of the
// report. What each builds, buildah's side of a round and the check stay in the bench.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { startRegistry } from '../../test/setup/registry-process.js';
import { buildahPhases, FAILURE_TAIL } from './buildah.js';
import { fail, log } from './cli.js';
import { BLOB_INFO_CACHE_DIR, ensureOk as ensureOkTail, run, type Line, type Spawned } from './process.js';
import { countsText, manifestDigestAt, RequestLog, verifyPushed, type RequestCounts } from './requests.js';
import { median, sec, table } from './report.js';

export type ScenarioId = 'cold' | 'cached';
export type Tool = 'slipway' | 'buildah';

const SCENARIO_IDS: readonly ScenarioId[] = ['cold', 'cached'];

/**
 * The parseArgs options both benches take (each adds its own); `rounds`: the default of --rounds.
 * The return type is left to inference: parseArgs types the parsed values from it.
 */
export function commonOptions(rounds: string) {
  return {
    rounds: { type: 'string', default: rounds },
    scenarios: { type: 'string', default: 'cold,cached' },
    'log-debug': { type: 'boolean', default: false },
    json: { type: 'string' },
    'no-json': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  } as const satisfies ParseArgsConfig['options'];
}

/** --scenarios: a comma-separated list of cold, cached; fails on another name. */
export function parseScenarios(list: string): ScenarioId[] {
  const scenarios = list.split(',').map((s) => s.trim()) as ScenarioId[];
  for (const s of scenarios) if (!SCENARIO_IDS.includes(s)) fail(`unknown scenario '${s}'`);
  return scenarios;
}

export interface Step {
  /** ms since the epoch when the process was spawned (Slipway's builds, with stage times from tags). */
  startedAt?: number;
  wallMs: number;
  cpuS?: number;
  maxRssKiB?: number;
  lines: Line[];
}

export interface RunResult {
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

export interface Phase {
  name: string;
  ms: number;
}

/** lib/process.ts's ensureOk() with the build benches' longer tail of output. */
export function ensureOk(what: string, r: Spawned): void {
  ensureOkTail(what, r, FAILURE_TAIL);
}

/** A process's figures and lines as a step of a result; `startedAt`: see Step. */
export function stepOf(r: Spawned, startedAt?: number): Step {
  return {
    ...(startedAt !== undefined ? { startedAt } : {}),
    wallMs: r.wallMs,
    ...(r.userS !== undefined ? { cpuS: r.userS + r.sysS!, maxRssKiB: r.maxRssKiB! } : {}),
    lines: r.lines,
  };
}

/** The processes' user + sys time together, when /usr/bin/time measured every one of them. */
function cpuOf(...rs: Spawned[]): { cpuS: number } | Record<string, never> {
  return rs.every((r) => r.userS !== undefined) ? { cpuS: rs.reduce((n, r) => n + r.userS! + r.sysS!, 0) } : {};
}

// ---------------------------------------------------------------------------
// one run of a bench

/** What the rounds of one bench run share: see startBench(). */
export interface BuildBench {
  workDir: string;
  /** `host:port` of the registry every image is pushed to. */
  registry: string;
  requests: RequestLog;
  scenarios: ScenarioId[];
  /**
   * How a pushed image's manifest is read back to check it: bench/build GETs it, bench/build-run
   * HEADs it. buildah's check falls inside its scenario's request count, so the choice shows there.
   */
  manifestMethod: 'GET' | 'HEAD';
}

/**
 * Starts the registry every image is pushed to (access log on, for the request counts), in
 * `workDir`; makes the mount point of the blob-info cache (see withBlobInfoCache()).
 */
export async function startBench(workDir: string, scenarios: ScenarioId[], manifestMethod: BuildBench['manifestMethod']): Promise<BuildBench> {
  await mkdir(BLOB_INFO_CACHE_DIR, { recursive: true }); // the mount point; its contents are never touched
  log(`work dir ${workDir}; starting a registry`);
  const registry = await startRegistry(workDir, { name: 'registry', accessLog: true });
  return { workDir, registry: registry.host, requests: new RequestLog([registry], { tags: true }), scenarios, manifestMethod };
}

/**
 * Runs round 0 (a warm-up, not counted) to `rounds`, in each both tools, alternating who goes
 * first; logs each result. `check` runs once, after the first round. Each round works in its
 * own directory, removed after it unless `keep`.
 */
export async function runRounds(bench: BuildBench, options: {
  rounds: number;
  keep: boolean;
  run: (tool: Tool, round: number, roundDir: string) => Promise<RunResult[]>;
  check?: (results: RunResult[]) => Promise<void>;
}): Promise<RunResult[]> {
  const results: RunResult[] = [];
  let checked = options.check === undefined;
  for (let round = 0; round <= options.rounds; round++) {
    // Alternate who goes first; round 0 is a warm-up and is not counted.
    const order: Tool[] = round % 2 === 0 ? ['slipway', 'buildah'] : ['buildah', 'slipway'];
    const roundDir = join(bench.workDir, `round-${round}`);
    const roundResults: RunResult[] = [];
    for (const tool of order) roundResults.push(...await options.run(tool, round, roundDir));
    for (const r of roundResults) {
      results.push(r);
      log(`${r.scenario.padEnd(6)} round ${round}${round === 0 ? ' (warm-up)' : ''} ${r.tool.padEnd(7)} ${sec(r.wallMs)} s` +
        (r.buildMs !== undefined ? ` (bud ${sec(r.buildMs)} + push ${sec(r.pushMs!)})` : '') +
        (r.cpuS !== undefined ? ` cpu ${r.cpuS.toFixed(2)} s` : '') + `  [${r.requests.total} requests]`);
    }
    if (!checked) {
      checked = true;
      await options.check!(results);
    }
    // Free the disk: buildah's storage is large (vfs keeps a full rootfs copy per layer).
    if (!options.keep) await rm(roundDir, { recursive: true, force: true });
  }
  return results;
}

/**
 * A buildah scenario's result: its bud and push, measured together with `requests`; `before`:
 * steps that are not measured (e.g. filling the layer cache), kept in the results.
 */
export function buildahResult(scenario: ScenarioId, round: number, bud: Spawned, push: { spawned: Spawned; digest: string }, ref: string,
  requests: RequestCounts, before: Record<string, Step> = {}): RunResult {
  return {
    scenario, tool: 'buildah', round, wallMs: bud.wallMs + push.spawned.wallMs, buildMs: bud.wallMs, pushMs: push.spawned.wallMs,
    ...cpuOf(bud, push.spawned), steps: { ...before, bud: stepOf(bud), push: stepOf(push.spawned) }, requests, ref, manifestDigest: push.digest,
  };
}

// ---------------------------------------------------------------------------
// Slipway

/** How a bench runs `slipway build --repo` (the bundled CLI). */
export interface SlipwayCommand {
  cli: string;
  projectDir: string;
  logDebug: boolean;
  /** node flags before the CLI in `round` (bench/build's --cpu-prof). */
  nodeArgs?: (round: number) => string[];
  /** More arguments for `slipway build` (bench/build's --slipway-arg). */
  args?: string[];
  /**
   * Whether the timeline takes a built stage's time from its tag (slipwayPhases()): the results
   * then keep each build's spawn time. Without, from when its lines arrived (bench/build).
   */
  stageTimesFromTags: boolean;
}

async function slipwayBuild(bench: BuildBench, cmd: SlipwayCommand, round: number, home: string, repo: string): Promise<Spawned & { startedAt: number }> {
  const args = [...cmd.nodeArgs?.(round) ?? [], cmd.cli, 'build', '--dir', cmd.projectDir, '--repo', repo,
    ...(cmd.logDebug ? ['--log-debug'] : []), ...cmd.args ?? []];
  const startedAt = Date.now();
  const r = await run(process.execPath, args, { env: { ...process.env, SLIPWAY_HOME: home }, timeFile: join(bench.workDir, 'time-slipway') });
  ensureOk(`slipway build --repo ${repo}`, r);
  return { ...r, startedAt };
}

/** The tag of the image Slipway built, from its `image app: <ref>` line. */
function imageTag(r: Spawned): string {
  const m = r.stderr.match(/^image app: \S+?:([0-9a-f]{56}-\d{13})$/m);
  if (!m) throw new Error(`no 'image app:' line in slipway's output:\n${r.stderr.slice(-3000)}`);
  return m[1]!;
}

/**
 * Slipway's side of a round. Cold: a fresh SLIPWAY_HOME and a fresh repository: every stage is
 * built (every RUN runs) and pushed; it runs even when only `cached` is measured, as it fills the
 * cache. Fully cached: the same commit again, same home and repository: every stage is reused.
 */
export async function slipwayRuns(bench: BuildBench, cmd: SlipwayCommand, round: number, roundDir: string): Promise<RunResult[]> {
  const results: RunResult[] = [];
  const { requests, scenarios } = bench;
  const home = join(roundDir, 'slipway-home');
  await mkdir(home, { recursive: true });
  const repo = `${bench.registry}/bench/slipway-${round}`;
  const startedAt = (r: { startedAt: number }): number | undefined => (cmd.stageTimesFromTags ? r.startedAt : undefined);
  await requests.mark();
  const cold = await slipwayBuild(bench, cmd, round, home, repo);
  const coldTag = imageTag(cold);
  const coldResult: RunResult = {
    scenario: 'cold', tool: 'slipway', round, wallMs: cold.wallMs, ...cpuOf(cold),
    steps: { build: stepOf(cold, startedAt(cold)) }, requests: await requests.since(), ref: `${repo}:${coldTag}`, manifestDigest: '',
  };
  coldResult.manifestDigest = (await manifestDigestAt(coldResult.ref, bench.manifestMethod)) ?? '';
  await verifyPushed(coldResult.ref, '', 'slipway cold', bench.manifestMethod);
  if (scenarios.includes('cold')) results.push(coldResult);
  if (scenarios.includes('cached')) {
    await requests.mark();
    const cached = await slipwayBuild(bench, cmd, round, home, repo);
    const tag = imageTag(cached);
    if (tag !== coldTag) throw new Error(`slipway's second build gave ${tag}, the first ${coldTag}`);
    if (!/Stage cache summary: \d+ reused, 0 built/.test(cached.stderr)) throw new Error(`slipway's second build built stages:\n${cached.stderr.slice(-3000)}`);
    results.push({
      scenario: 'cached', tool: 'slipway', round, wallMs: cached.wallMs, ...cpuOf(cached),
      steps: { build: stepOf(cached, startedAt(cached)) }, requests: await requests.since(), ref: `${repo}:${tag}`, manifestDigest: coldResult.manifestDigest,
    });
  }
  return results;
}

// ---------------------------------------------------------------------------
// timelines

/**
 * Slipway's per-stage timeline. Slipway prints an image's block of `Store stage X` lines when the
 * image is done (not as each stage is stored), so with the spawn time (`step.startedAt`) a built
 * stage's time comes from its tag (`<digest>-<ms since the epoch>`, when it was stored): from the
 * previous stage's tag (the first from the spawn). Otherwise, and for a cached build (no built
 * stages), each stage from the line before it ("Stages storage: ..." or the previous stage) to its
 * "Store stage X" / "Use previously built image for X" line.
 */
function slipwayPhases(step: Step): Phase[] {
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
  const phases: Phase[] = [];
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

function medianPhases(all: Phase[][]): Phase[] {
  if (all.length === 0) return [];
  const first = all[0]!;
  // Same shape in every run (same Dockerfile): take medians position by position.
  return first.map((p, i) => ({ name: p.name, ms: median(all.map((a) => a[i]?.ms ?? 0)) }));
}

// ---------------------------------------------------------------------------
// report

const TITLES: Record<ScenarioId, string> = { cold: 'cold build + push', cached: 'fully cached rebuild + push' };

/**
 * The comparison over the measured rounds: the table of medians per scenario, where the time goes
 * (see buildahPhases() for `numberedBuildahPhases`), the first measured round's requests; and the
 * summary per scenario for the JSON results.
 */
export function comparison(results: RunResult[], scenarios: ScenarioId[], numberedBuildahPhases: boolean): { lines: string[]; summary: Record<string, unknown> } {
  const pick = (id: ScenarioId, tool: Tool): RunResult[] => results.filter((r) => r.scenario === id && r.tool === tool && r.round > 0);
  const rows: string[][] = [['scenario', 'slipway s', 'buildah s', '= bud s', '+ push s', 'ratio', 'slipway cpu s', 'buildah cpu s', 'requests slipway/buildah']];
  const summary: Record<string, unknown> = {};
  const phases: Record<string, { slipway: Phase[]; buildah: Phase[] }> = {};
  for (const id of scenarios) {
    const sl = pick(id, 'slipway');
    const bu = pick(id, 'buildah');
    const slMs = median(sl.map((r) => r.wallMs));
    const buMs = median(bu.map((r) => r.wallMs));
    const budMs = median(bu.map((r) => r.buildMs!));
    const pushMs = median(bu.map((r) => r.pushMs!));
    const slCpu = sl.every((r) => r.cpuS !== undefined) ? median(sl.map((r) => r.cpuS!)) : undefined;
    const buCpu = bu.every((r) => r.cpuS !== undefined) ? median(bu.map((r) => r.cpuS!)) : undefined;
    rows.push([TITLES[id], sec(slMs), sec(buMs), sec(budMs), sec(pushMs), (slMs / buMs).toFixed(2),
      slCpu?.toFixed(2) ?? '?', buCpu?.toFixed(2) ?? '?', `${median(sl.map((r) => r.requests.total!))}/${median(bu.map((r) => r.requests.total!))}`]);
    const p = phases[id] = {
      slipway: medianPhases(sl.map((r) => slipwayPhases(r.steps.build!))),
      buildah: medianPhases(bu.map((r) => [...buildahPhases(r.steps.bud!, 'bud: ', numberedBuildahPhases),
        ...buildahPhases(r.steps.push!, 'push: ', numberedBuildahPhases)])),
    };
    summary[id] = {
      slipwayMedianMs: slMs, buildahMedianMs: buMs, buildahBudMedianMs: budMs, buildahPushMedianMs: pushMs, ratio: slMs / buMs,
      slipwayCpuMedianS: slCpu, buildahCpuMedianS: buCpu,
      slipwayMinMaxMs: [Math.min(...sl.map((r) => r.wallMs)), Math.max(...sl.map((r) => r.wallMs))],
      buildahMinMaxMs: [Math.min(...bu.map((r) => r.wallMs)), Math.max(...bu.map((r) => r.wallMs))],
      slipwayPhasesMs: p.slipway,
      buildahPhasesMs: p.buildah,
      requests: { slipway: sl[0]?.requests, buildah: bu[0]?.requests },
    };
  }
  const lines = [table(rows), ''];
  for (const id of scenarios) {
    lines.push(`${TITLES[id]}, where the time goes (medians, s):`);
    lines.push(`  slipway: ${phases[id]!.slipway.map((p) => `${p.name} ${sec(p.ms)}`).join(', ')}`);
    lines.push(`  buildah: ${phases[id]!.buildah.map((p) => `${p.name} ${sec(p.ms)}`).join(', ')}`);
  }
  lines.push(`requests (first measured round): ` + scenarios.map((id) => {
    const first = (tool: Tool): RunResult | undefined => results.find((r) => r.scenario === id && r.tool === tool && r.round === 1);
    return `${id}: slipway {${countsText(first('slipway')?.requests ?? {})}} buildah {${countsText(first('buildah')?.requests ?? {})}}`;
  }).join('; '));
  return { lines, summary };
}
