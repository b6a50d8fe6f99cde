// `slipway purge`: delete every stage and metadata record of the project from the stages storage (--repo, else
// the local one under the home directory). The same protection as cleanup: only tags shaped like stages or
// records whose config carries this project's `slipway` label are deleted; exported images and other tags stay.

import { runCleanup } from '../../cleanup/index.js';
import { loadProject } from '../../config/load-config.js';
import { openStagesStorage } from '../../stages/index.js';
import { defineCommand } from '../command.js';
import { REGISTRY_OPTION_NAMES, registryClientFor } from '../registry-client.js';
import { cleanupLog, printResult } from './cleanup.js';
import { CONFIG_OPTION_NAMES, configLoadOptions } from './config.js';

export const purgeCommand = defineCommand({
  name: 'purge',
  summary: 'Delete every stage and metadata record of the project from the stages storage',
  description:
    'Delete all stages, multi-platform indexes and metadata records of this project from --repo (without it, from ' +
    'the local stages storage). Tags that are not Slipway stages or records of this project, exported images ' +
    'included, are never touched. Do not run it while a build of the project is running.',
  options: [...CONFIG_OPTION_NAMES, ...REGISTRY_OPTION_NAMES, 'repo', 'homeDir', 'dryRun', 'force'],
  async run({ options, log, io, env }) {
    const { config } = loadProject(configLoadOptions(options, env));
    const client = registryClientFor(options, env, log);
    try {
      const storage = await openStagesStorage({
        ...(options.repo ? { repo: options.repo } : {}), client, project: config.project,
        ...(options.homeDir ? { home: options.homeDir } : {}), env,
      });
      log.info(`Stages storage: ${storage.describe()}`);
      const result = await runCleanup({ store: storage.store, project: config.project, mode: 'purge', dryRun: options.dryRun, log: cleanupLog(log) });
      printResult(io, log, result, options.dryRun);
      await storage.close();
    } finally {
      await client.close();
    }
  },
});
