// `slipway build [IMAGE_NAME...]`: build the selected images (all by default) into the
// stages storage (`--repo`, or the local store), reusing every stage that exists.

import { resolve } from 'node:path';
import type { BuildResult } from '../../builder/build-images.js';
import { defineCommand } from '../command.js';
import { cliEvents } from '../events.js';
import type { Logger } from '../log.js';
import { checkOutputFile, writeOutputFile } from '../output-file.js';
import { projectOptions } from '../project-options.js';
import { REGISTRY_OPTION_NAMES, registryClientFor } from '../registry-client.js';
import { CONFIG_OPTION_NAMES } from '../config-options.js';
import { WERF_BUILDING_NO_OPS, WERF_HOST_CLEANUP_NO_OPS, WERF_STORAGE_NO_OPS } from '../werf-no-ops.js';

/** werf's default `--build-report-path` (relative to the project directory). */
export const DEFAULT_BUILD_REPORT_PATH = '.werf-build-report.json';

export const buildCommand = defineCommand({
  name: 'build',
  summary: 'Build images into the stages storage, reusing stages that exist',
  description:
    'Build the Dockerfile images of werf.yaml (all of them, or those matching the patterns) stage by stage. Each ' +
    'Dockerfile instruction that changes the image is a stage stored as <repo>:<digest>-<ms>; a stage whose digest ' +
    'exists in --repo (or in the local store without --repo) is reused, never built again.',
  arguments: [{ syntax: '[image-name...]', help: 'image name patterns (globs; !pattern excludes)' }],
  options: [
    ...CONFIG_OPTION_NAMES, ...REGISTRY_OPTION_NAMES, 'repo', 'platform', 'parallel', 'parallelTasksLimit', 'homeDir', 'ociRuntime', 'saveBuildReport', 'buildReportPath',
    'finalOnly', 'requireBuiltImages',
    ...WERF_STORAGE_NO_OPS, ...WERF_HOST_CLEANUP_NO_OPS, ...WERF_BUILDING_NO_OPS, 'addCustomTag', 'follow',
  ],
  async run({ options, args, log, io, env }) {
    const started = Date.now();
    const reportPath = resolve(options.dir ?? '.', options.buildReportPath ?? DEFAULT_BUILD_REPORT_PATH);
    if (options.saveBuildReport) await checkOutputFile(reportPath, '--build-report-path');
    // Loaded here, not at start-up: `slipway version` and `--help` need none of the builder.
    const [{ buildProject }, { buildReport }] = await Promise.all([import('../../operations/index.js'), import('../../builder/build-report.js')]);
    const client = await registryClientFor(options, env, log);
    const events = cliEvents(log, io);
    try {
      const result = await buildProject({
        ...projectOptions(options, env, client, events),
        images: args, platforms: options.platform, parallelTasksLimit: options.parallel ? options.parallelTasksLimit : 1,
        finalOnly: options.finalOnly, requireBuilt: options.requireBuiltImages,
        ...(options.ociRuntime ? { ociRuntime: options.ociRuntime } : {}),
      });
      events.finish();
      printSummary(log, result, Date.now() - started);
      if (options.saveBuildReport) {
        await writeOutputFile(reportPath, `${JSON.stringify(buildReport(result), null, 2)}\n`);
        log.info(`Build report: ${reportPath}`);
      }
    } finally {
      events.finish();
      await client.close();
    }
  },
});

function printSummary(log: Logger, result: BuildResult, ms: number): void {
  for (const image of result.images) log.info(`image ${image.name || '~'}: ${image.repository}:${image.tag}`);
  log.info(`Stage cache summary: ${result.stagesReused} reused, ${result.stagesBuilt} built; build time ${(ms / 1000).toFixed(2)} s`);
}
