// `slipway build [IMAGE_NAME...]`: build the selected images (all by default) into the
// stages storage (`--repo`, or the local store), reusing every stage that exists.

import { resolve } from 'node:path';
import { buildImages, type BuildResult } from '../../builder/build-images.js';
import { buildReport } from '../../builder/build-report.js';
import type { BuildLog } from '../../builder/build-image.js';
import { loadProject } from '../../config/load-config.js';
import { selectImages } from '../../config/select-images.js';
import { openStagesStorage } from '../../stages/index.js';
import { SLIPWAY_VERSION } from '../../version.js';
import { checkOutputFile, writeOutputFile } from '../output-file.js';
import { defineCommand, type CliIo } from '../command.js';
import type { Logger } from '../log.js';
import { REGISTRY_OPTION_NAMES, registryClientFor } from '../registry-client.js';
import { CONFIG_OPTION_NAMES, configLoadOptions } from './config.js';

export const DEFAULT_BUILD_REPORT_PATH = '.slipway-build-report.json';

export const buildCommand = defineCommand({
  name: 'build',
  summary: 'Build images into the stages storage',
  description:
    'Build the images of werf.yaml (all, or those matching IMAGE_NAME patterns) and their dependencies. Every ' +
    'Dockerfile instruction that changes the image is a stage stored as <repo>:<digest>-<ms>; a stage whose digest ' +
    'exists in --repo (or in the local store without --repo) is reused, never built again.',
  arguments: [{ syntax: '[image-name...]', help: 'image name patterns (globs; !pattern excludes)' }],
  options: [...CONFIG_OPTION_NAMES, ...REGISTRY_OPTION_NAMES, 'repo', 'platform', 'parallel', 'parallelTasksLimit', 'homeDir', 'ociRuntime', 'saveBuildReport', 'buildReportPath'],
  async run({ options, args, log, io, env }) {
    const started = Date.now();
    const reportPath = resolve(options.dir ?? '.', options.buildReportPath ?? DEFAULT_BUILD_REPORT_PATH);
    if (options.saveBuildReport) await checkOutputFile(reportPath, '--build-report-path');
    const { config, files } = loadProject(configLoadOptions(options, env));
    const { images, warnings } = selectImages(config, args, { finalOnly: false });
    for (const warning of warnings) log.warn(warning);
    const client = registryClientFor(options, env, log);
    try {
      const storage = await openStagesStorage({
        ...(options.repo ? { repo: options.repo } : {}), client, project: config.project,
        ...(options.homeDir ? { home: options.homeDir } : {}), env,
      });
      log.info(`Stages storage: ${storage.describe()}`);
      const result = await buildImages({
        config, files, images, client, storage, platforms: options.platform,
        parallelTasksLimit: options.parallel ? options.parallelTasksLimit : 1, log: buildLog(log, io), version: SLIPWAY_VERSION,
        ...(options.homeDir ? { home: options.homeDir } : {}), ...(options.ociRuntime ? { ociRuntime: options.ociRuntime } : {}), env,
      });
      printSummary(log, result, Date.now() - started);
      if (options.saveBuildReport) {
        await writeOutputFile(reportPath, `${JSON.stringify(buildReport(result), null, 2)}\n`);
        log.info(`Build report: ${reportPath}`);
      }
    } finally {
      await client.close();
    }
  },
});

/**
 * werf-like lines, one per stage (reused or built), grouped in one block per image: images build
 * concurrently, and their lines would interleave otherwise. A block is printed when its image is
 * done; `Building stage` lines go out at once, so a long build shows what it is working on.
 */
export function buildLog(log: Logger, io: CliIo): BuildLog {
  const blocks = new Map<string, string[]>();
  // On a terminal, the stage being built shows on one line rewritten in place; blocks print over it.
  const live = process.stderr.isTTY === true && log.level !== 'quiet';
  let lineShown = false;
  const clearLine = (): void => {
    if (lineShown) io.stderr('\r\x1b[2K');
    lineShown = false;
  };
  const add = (image: string, line: string): void => {
    const block = blocks.get(image) ?? [];
    block.push(line);
    blocks.set(image, block);
  };
  const partial = new Map<string, string>();
  return {
    stageReused: (image, stage, tag) => add(image, `Use previously built image for ${image}/${stage}\n     name: ${tag}`),
    stageBuilding: (image, stage) => {
      log.verbose(`Building stage ${image}/${stage}`);
      if (live && log.level !== 'verbose' && log.level !== 'debug') {
        io.stderr(`\r\x1b[2KBuilding stage ${image}/${stage}...`);
        lineShown = true;
      }
    },
    // RUN output goes out as it comes (a long command shows progress), line by line, marked with its image.
    runOutput: (image, chunk) => {
      const text = (partial.get(image) ?? '') + chunk.toString('utf8');
      const lines = text.split('\n');
      partial.set(image, lines.pop()!);
      if (lines.length === 0) return;
      clearLine();
      log.info(lines.map((line) => `${image} │ ${line}`).join('\n'));
    },
    note: (message) => log.verbose(message),
    stageStored: (image, stage, tag, size) => add(image, `Store stage ${image}/${stage}\n     name: ${tag}\n     size: ${formatSize(size)}`),
    stageDiscarded: (image, stage, tag) => add(image, `Discarding newly built image for stage ${image}/${stage}: another runner published ${tag}`),
    imageDone: (image, outcome) => {
      const header = `┌ image ${image}`;
      const footer = `└ image ${image}${outcome.ok ? '' : ' FAILED'} (${outcome.built} built, ${outcome.reused} reused; ${(outcome.ms / 1000).toFixed(2)} s)`;
      clearLine();
      log.info([header, ...(blocks.get(image) ?? []), footer].join('\n'));
      blocks.delete(image);
    },
  };
}

function printSummary(log: Logger, result: BuildResult, ms: number): void {
  for (const image of result.images) log.info(`image ${image.name || '~'}: ${image.repository}:${image.tag}`);
  log.info(`Stage cache summary: ${result.stagesReused} reused, ${result.stagesBuilt} built; build time ${(ms / 1000).toFixed(2)} s`);
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}
