// bench/cached-build: a fully cached `slipway build --repo` of a project of many images (every stage already in
// the registry), against Slipway's own start-up (`slipway version`) and bare Node (`node -e 0`) in the same run,
// alternating, over several rounds. What it measures is the fixed cost of finding every stage again: reading
// werf.yaml and the Dockerfiles from git, the build contexts, one base image lookup and one tag listing, and the
// manifest and config of each image's last stage. The goal (issue 16): under 0.5 s beyond start-up for 10 images.
// See bench/README.md ("bench/cached-build").
//
//   npm run bench:cached-build [-- --rounds 5 --images 10 --files 30]
//
// Needs docker-registry, skopeo and git (Debian packages; test/setup/install-deps.sh installs them) and dist/.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRegistry } from '../test/setup/registry-process.js';
import { buildImage } from './image.js';
import { fail, inWorkDir, log, positiveInt, requireTools, setBenchName } from './lib/cli.js';
import { ensureOk, run, type Spawned } from './lib/process.js';
import { MIB } from './lib/random.js';
import { machineLine, median, sec, table, writeResults } from './lib/report.js';

setBenchName('bench/cached-build');
const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const CLI = join(ROOT, 'dist', 'slipway.cjs');

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    images: { type: 'string', default: '10' },
    files: { type: 'string', default: '30' },
    json: { type: 'string' },
    'no-json': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  process.stdout.write(`usage: node --import tsx bench/cached-build.ts [options]
  --rounds N      measured rounds (default 5; one extra warm-up round is not counted)
  --images N      images in werf.yaml (default 10), each FROM one base image, COPYing the context, ENV, CMD
  --files N       small files in the build context (default 30)
  --json FILE     where to write the results (default bench/results/cached-build-<date>.json)
  --no-json       write no results file
  --keep          keep the temp dir (registry storage, project) and print its path
`);
  process.exit(0);
}
const ROUNDS = positiveInt(opts.rounds, '--rounds');
const IMAGES = positiveInt(opts.images, '--images');
const FILES = positiveInt(opts.files, '--files');

async function writeProject(dir: string, base: string): Promise<void> {
  await mkdir(join(dir, 'app'), { recursive: true });
  const names = Array.from({ length: IMAGES }, (_, i) => `img${i + 1}`);
  await writeFile(join(dir, 'werf.yaml'), ['project: bench-cached', 'configVersion: 1', ...names.flatMap((n) => ['---', `image: ${n}`, `dockerfile: ${n}.Dockerfile`])].join('\n') + '\n');
  for (const n of names) await writeFile(join(dir, `${n}.Dockerfile`), `FROM ${base}\nCOPY app/ /srv/${n}/\nENV IMAGE=${n}\nCMD ["/srv/${n}/run"]\n`);
  for (let i = 0; i < FILES; i++) await writeFile(join(dir, 'app', `f${i}.txt`), `file ${i}\n`.repeat(20));
  const git = (...args: string[]): void => {
    const r = spawnSync('git', ['-c', 'user.email=bench@example.org', '-c', 'user.name=bench', ...args], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) fail(`git ${args.join(' ')}: ${r.stderr}`);
  };
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'bench cached-build fixture');
}

async function main(): Promise<void> {
  requireTools(ROOT, ['docker-registry', 'git', 'skopeo'], 'docker-registry git skopeo');
  if (!existsSync(CLI)) fail('dist/ is missing: run `npm run build`');
  await inWorkDir('slipway-bench-cached-', opts.keep, async (workDir) => {
    const startedAt = new Date();
    const registry = await startRegistry(workDir, { name: 'registry' });
    const layout = join(workDir, 'base-layout');
    await buildImage(layout, 'base', [{ size: 2 * MIB, compression: 'gzip' }]);
    const base = `${registry.host}/bench/base:v1`;
    ensureOk('skopeo copy of the base image', await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layout}:base`, `docker://${base}`]));
    const project = join(workDir, 'project');
    await writeProject(project, base);
    const env = { ...process.env, SLIPWAY_HOME: join(workDir, 'home') };
    const build = (): Promise<Spawned> => run(process.execPath, [CLI, 'build', '--dir', project, '--repo', `${registry.host}/bench/stages`], { env });
    const cold = await build();
    ensureOk('the cold build', cold);
    log(`cold build of ${IMAGES} images in ${sec(cold.wallMs)} s`);

    const times = { node: [] as number[], version: [] as number[], cached: [] as number[] };
    for (let round = 0; round <= ROUNDS; round++) {
      const node = await run(process.execPath, ['-e', '0']);
      const version = await run(process.execPath, [CLI, 'version'], { env });
      const cached = await build();
      ensureOk('a cached build', cached);
      const built = /Stage cache summary: (\d+) reused, (\d+) built/.exec(cached.stderr);
      if (built === null || built[2] !== '0') fail(`the cached build built stages:\n${cached.stderr.slice(-2000)}`);
      if (round === 0) continue; // warm-up: page cache, V8's code cache
      times.node.push(node.wallMs);
      times.version.push(version.wallMs);
      times.cached.push(cached.wallMs);
    }
    const [node, version, cached] = [median(times.node), median(times.version), median(times.cached)];
    process.stdout.write(`\nbench/cached-build: ${IMAGES} images, ${FILES} context files, medians of ${ROUNDS} rounds\n${table([
      ['measurement', 'seconds'],
      ['node -e 0', sec(node)],
      ['slipway version (start-up)', sec(version)],
      ['slipway build, every stage cached', sec(cached)],
      ['cached build beyond start-up', sec(cached - version)],
    ])}\n${machineLine('node')}\n`);
    if (!opts['no-json']) {
      await writeResults(BENCH_DIR, 'cached-build', opts.json, startedAt, { images: IMAGES, files: FILES, rounds: ROUNDS, coldMs: cold.wallMs, times, medians: { node, version, cached } });
    }
  });
}

await main();
