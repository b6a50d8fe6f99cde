// `slipway purge`: delete every stage and metadata record of the project from the stages storage (--repo, else
// the local one under the home directory). The same protection as cleanup: only tags shaped like stages or
// records whose config carries this project's `slipway` label are deleted; exported images and other tags stay.

import { defineCommand } from '../command.js';
import { cliEvents } from '../events.js';
import { projectOptions } from '../project-options.js';
import { REGISTRY_OPTION_NAMES, registryClientFor } from '../registry-client.js';
import { printResult } from './cleanup.js';
import { CONFIG_OPTION_NAMES } from '../config-options.js';
import { WERF_CLEANUP_REPORT_NO_OPS, WERF_HOST_CLEANUP_NO_OPS, WERF_STORAGE_NO_OPS } from '../werf-no-ops.js';

export const purgeCommand = defineCommand({
  name: 'purge',
  summary: 'Delete every stage and metadata record of the project from the stages storage',
  description:
    'Delete all stages, multi-platform indexes and metadata records of this project from --repo (without it, from ' +
    'the local stages storage). Tags that are not Slipway stages or records of this project, exported images ' +
    'included, are never touched. Do not run it while a build of the project is running.',
  options: [
    ...CONFIG_OPTION_NAMES, ...REGISTRY_OPTION_NAMES, 'repo', 'homeDir', 'dryRun', 'force', 'platform', 'parallel', 'parallelTasksLimit',
    ...WERF_STORAGE_NO_OPS, ...WERF_HOST_CLEANUP_NO_OPS, ...WERF_CLEANUP_REPORT_NO_OPS,
  ],
  async run({ options, log, io, env }) {
    const { purgeProject } = await import('../../operations/index.js');
    const client = await registryClientFor(options, env, log);
    const events = cliEvents(log, io);
    try {
      const result = await purgeProject({ ...projectOptions(options, env, client, events), dryRun: options.dryRun });
      events.finish();
      printResult(io, log, result, options.dryRun);
    } finally {
      events.finish();
      await client.close();
    }
  },
});
