// bench/build-stapel: the same image described twice, as a stapel image (git mapping + shell stages + docker
// directives) and as a Dockerfile (COPY + RUN + metadata), each built by Slipway (`slipway build --repo`), cold
// and fully cached, alternating over several rounds; prints medians and the ratio stapel/dockerfile. See
// bench/README.md ("bench/build-stapel").
//
//   npm run bench:build-stapel [-- --rounds 3 --files 500]
//
// Needs root (the RUN sandbox), docker-registry, skopeo, umoci, busybox-static, bash-static and git.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeBusyboxLayout } from '../test/support/busybox-base.js';
import { commonOptions, ensureOk, parseScenarios, slipwayRuns, startBench, type RunResult, type ScenarioId } from './lib/build-bench.js';
import { fail, inWorkDir, log, positiveInt, requireRootOnLinux, requireTools, setBenchName, typeCheck } from './lib/cli.js';
import { run, withBlobInfoCache } from './lib/process.js';
import { machineLine, median, sec, table, writeResults } from './lib/report.js';

setBenchName('bench/build-stapel');
const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const CLI = join(ROOT, 'dist', 'slipway.cjs');

const { values: opts } = parseArgs({
  options: { ...commonOptions('3'), files: { type: 'string', default: '500' } },
});
if (opts.help) {
  process.stdout.write(`usage: npm run bench:build-stapel -- [options]
  --rounds N        measured rounds (default 3; one extra warm-up round is not counted)
  --files N         source files in the git mapping / COPY (default 500)
  --scenarios LIST  any of cold,cached (default both)
  --json FILE       where to write the results (default bench/results/build-stapel-<date>.json)
  --no-json         write no results file
  --keep            keep the temp dir and print its path
`);
  process.exit(0);
}
const ROUNDS = positiveInt(opts.rounds, '--rounds');
const FILES = positiveInt(opts.files, '--files');
const SCENARIOS = parseScenarios(opts.scenarios);

const INSTALL = ['mkdir -p /opt/build', 'cp -r /app/src /opt/build/', 'find /opt/build -type f | wc -l > /opt/build/count'];
const SETUP = ['for f in /opt/build/src/*.txt; do sed "s/line/LINE/" "$f" > "$f.up"; done', 'echo done > /done'];

async function writeProject(dir: string, base: string, kind: 'stapel' | 'dockerfile'): Promise<void> {
  await mkdir(join(dir, 'src'), { recursive: true });
  for (let i = 0; i < FILES; i++) await writeFile(join(dir, 'src', `f${i}.txt`), `file ${i}\nline two ${i}\n`);
  if (kind === 'stapel') {
    await writeFile(join(dir, 'werf.yaml'), [
      'project: bench-stapel', 'configVersion: 1', '---', 'image: app', `from: ${base}`,
      'git:', '- add: /src', '  to: /app/src',
      'shell:', '  install:', ...INSTALL.map((c) => `  - ${JSON.stringify(c)}`), '  setup:', ...SETUP.map((c) => `  - ${JSON.stringify(c)}`),
      'docker:', '  WORKDIR: /opt/build', '  CMD: ["sh"]', '',
    ].join('\n'));
  } else {
    await writeFile(join(dir, 'werf.yaml'), 'project: bench-stapel\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n');
    await writeFile(join(dir, 'Dockerfile'), [
      `FROM ${base}`, 'COPY src /app/src', `RUN ${INSTALL.join(' && ')}`, `RUN ${SETUP.join(' && ')}`, 'WORKDIR /opt/build', 'CMD ["sh"]', '',
    ].join('\n'));
  }
  const git = (...args: string[]): number | null =>
    spawnSync('git', ['-c', 'user.email=bench@example.org', '-c', 'user.name=bench', ...args], { cwd: dir, stdio: 'ignore' }).status;
  if (git('init', '-q') !== 0 || git('add', '-A') !== 0 || git('commit', '-qm', 'bench') !== 0) throw new Error(`git failed in ${dir}`);
}

async function main(): Promise<void> {
  requireRootOnLinux('Slipway runs shell stages and RUN in namespaces');
  requireTools(ROOT, ['docker-registry', 'skopeo', 'umoci', 'busybox', 'git', 'bash-static'], 'docker-registry skopeo umoci busybox-static git bash-static');
  if (!existsSync(CLI)) fail('dist/ is missing: run `npm run build` (npm run bench:build-stapel does)');
  typeCheck(ROOT, join(BENCH_DIR, 'build-stapel.ts'));
  await inWorkDir('slipway-bench-build-stapel-', opts.keep, async (workDir) => {
    const startedAt = new Date();
    const bench = await startBench(workDir, SCENARIOS, 'HEAD');
    const layoutDir = await writeBusyboxLayout();
    const baseRef = `${bench.registry}/bench/base:v1`;
    try {
      ensureOk('push of the base image', await run(...withBlobInfoCache('cold', 'exec "$@"',
        ['skopeo', '--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${join(layoutDir, 'oci')}:latest`, `docker://${baseRef}`])));
    } finally {
      await rm(layoutDir, { recursive: true, force: true });
    }
    const projects = { stapel: join(workDir, 'stapel'), dockerfile: join(workDir, 'dockerfile') };
    await writeProject(projects.stapel, baseRef, 'stapel');
    await writeProject(projects.dockerfile, baseRef, 'dockerfile');

    const results: (RunResult & { kind: 'stapel' | 'dockerfile' })[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      const order = round % 2 === 0 ? (['stapel', 'dockerfile'] as const) : (['dockerfile', 'stapel'] as const);
      for (const kind of order) {
        // Its own home and repository per project and round (the round number names the repository).
        const id = round * 2 + (kind === 'stapel' ? 0 : 1);
        const roundDir = join(workDir, `round-${round}-${kind}`);
        const runs = await slipwayRuns(bench, { cli: CLI, projectDir: projects[kind], logDebug: false, stageTimesFromTags: false }, id, roundDir);
        for (const r of runs) {
          results.push({ ...r, round, kind });
          log(`${r.scenario.padEnd(6)} round ${round}${round === 0 ? ' (warm-up)' : ''} ${kind.padEnd(10)} ${sec(r.wallMs)} s  [${r.requests.total} requests]`);
        }
        if (!opts.keep) await rm(roundDir, { recursive: true, force: true });
      }
    }

    const rows: string[][] = [['scenario', 'stapel s', 'dockerfile s', 'ratio stapel/dockerfile']];
    const summary: Record<string, unknown> = {};
    for (const id of SCENARIOS as ScenarioId[]) {
      const pick = (kind: string): number => median(results.filter((r) => r.kind === kind && r.scenario === id && r.round > 0).map((r) => r.wallMs));
      const s = pick('stapel');
      const d = pick('dockerfile');
      rows.push([id, sec(s), sec(d), (s / d).toFixed(2)]);
      summary[id] = { stapelMs: s, dockerfileMs: d, ratio: s / d };
    }
    process.stdout.write([
      '',
      `bench/build-stapel: one image as a stapel image (git mapping of ${FILES} files, install and setup shell stages, docker directives) ` +
        'and as a Dockerfile (COPY, two RUNs, WORKDIR, CMD), built by `slipway build --repo` into a registry on 127.0.0.1; ' +
        `${ROUNDS} rounds + 1 warm-up, alternating; medians of wall-clock time.`,
      'cold: fresh SLIPWAY_HOME and repository. cached: the same commit again (every stage reused).',
      '',
      table(rows),
      machineLine('node'),
      '',
    ].join('\n'));
    if (!opts['no-json']) await writeResults(BENCH_DIR, 'build-stapel', opts.json, startedAt, { files: FILES, rounds: ROUNDS, summary, runs: results });
  });
}

await main();
