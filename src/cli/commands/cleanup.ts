// `slipway cleanup`: delete the stages and metadata records in the stages storage (--repo, else the local one)
// that the keep policies no longer need (werf's pkg/cleaning; docs/cleanup.md; src/cleanup/). Exported images are never touched:
// only tags shaped like stages or records whose config carries this project's `slipway` label are candidates.

import { cleanupNeedsGitError, prepareGitHistory, runCleanup, readGitReferences, readKeepList, type CleanupResult, type PlannedTag } from '../../cleanup/index.js';
import { loadProject, type LoadedProject, type LoadWerfConfigOptions } from '../../config/load-config.js';
import { NoGitWorkTreeError } from '../../project/index.js';
import { openStagesStorage } from '../../stages/index.js';
import { defineCommand, type CliIo } from '../command.js';
import type { Logger } from '../log.js';
import { REGISTRY_OPTION_NAMES, registryClientFor } from '../registry-client.js';
import { CONFIG_OPTION_NAMES, configLoadOptions } from './config.js';

export const cleanupCommand = defineCommand({
  name: 'cleanup',
  summary: 'Delete stages and records in the stages storage that the keep policies no longer need',
  description:
    'Keep what werf.yaml cleanup.keepPolicies select through the git history (werf\'s defaults when absent), ' +
    'stages built within the last N hours (--keep-stages-built-within-last-n-hours, werf.yaml ' +
    'keepImagesBuiltWithinLastNHours, default 2), the tags of --keep-list, and the parents of everything kept; ' +
    'delete the other stages and metadata records of this project. Only tags shaped like stages or records whose ' +
    'config carries this project\'s label are ever deleted: exported images and any other tag stay. Deleting ' +
    'untags manifests; run the registry\'s garbage collection to free the space.',
  options: [
    ...CONFIG_OPTION_NAMES, ...REGISTRY_OPTION_NAMES, 'repo', 'homeDir', 'keepStagesBuiltWithinLastNHours', 'dryRun', 'keepList',
  ],
  async run({ options, log, io, env }) {
    const { config, files } = loadCleanupProject(configLoadOptions(options, env));
    // werf never runs cleanup without git, not even with --dev or --loose-giterminism (which let the
    // configuration be read from plain files): without the history, the keep policies would keep nothing.
    if (files.workTree === undefined) throw cleanupNeedsGitError(files.projectDir);
    const meta = config.cleanup;
    const keepList = await readKeepList(options.keepList);
    const hours = meta.disableBuiltWithinLastNHoursPolicy ? undefined : (options.keepStagesBuiltWithinLastNHours ?? meta.keepImagesBuiltWithinLastNHours);
    let references: ReturnType<typeof readGitReferences> | undefined;
    if (!meta.disable && !meta.disableGitHistoryBasedPolicy) {
      prepareGitHistory(files.workTree, {
        allowFetchOriginBranchesAndTags: config.gitWorktree.allowFetchOriginBranchesAndTags,
        allowUnshallow: config.gitWorktree.allowUnshallow,
        log: { info: (message) => log.info(message) },
      });
      references = readGitReferences(files.workTree);
    }
    const client = registryClientFor(options, env, log);
    try {
      const storage = await openStagesStorage({
        ...(options.repo ? { repo: options.repo } : {}), client, project: config.project,
        ...(options.homeDir ? { home: options.homeDir } : {}), env,
      });
      log.info(`Stages storage: ${storage.describe()}`);
      const result = await runCleanup({
        store: storage.store, project: config.project, mode: 'cleanup', dryRun: options.dryRun,
        keepBuiltWithinHours: hours, keepList, references, policies: meta.keepPolicies,
        imageNames: config.images.map((i) => i.name), disabled: meta.disable,
        log: cleanupLog(log),
      });
      printResult(io, log, result, options.dryRun);
      await storage.close();
    } finally {
      await client.close();
    }
  },
});

/** loadProject, with the no-git error's hint (--dev, --loose-giterminism) replaced: those do not help cleanup. */
function loadCleanupProject(options: LoadWerfConfigOptions): LoadedProject {
  try {
    return loadProject(options);
  } catch (error) {
    if (error instanceof NoGitWorkTreeError) throw cleanupNeedsGitError(error.projectDir);
    throw error;
  }
}

export function cleanupLog(log: Logger): { deleted(entry: PlannedTag): void; warn(message: string): void } {
  return {
    deleted: (entry) => log.verbose(`Deleted ${entry.what} ${entry.tag} (${entry.digest})`),
    warn: (message) => log.warn(message),
  };
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** The plan (dry run) or what was deleted, on stdout; one tag a line, then a summary. */
export function printResult(io: CliIo, log: Logger, result: CleanupResult, dryRun: boolean): void {
  const { plan } = result;
  if (dryRun) {
    for (const k of plan.keep) io.stdout(`keep ${k.tag} (${k.what}): ${k.reasons.join('; ')}\n`);
    for (const d of plan.delete) io.stdout(`delete ${d.tag} (${d.what})\n`);
    io.stdout(
      `Dry run: ${plan.delete.length} tags would be deleted (${plan.deleteDigests.length} manifests, ` +
        `about ${formatBytes(plan.bytesReferenced)} of layers referenced only by them), ${plan.keep.length} kept, ` +
        `${plan.untouched.length} other tags not touched\n`,
    );
    return;
  }
  for (const k of plan.keep) log.verbose(`Kept ${k.what} ${k.tag}: ${k.reasons.join('; ')}`);
  for (const d of result.deleted) io.stdout(`deleted ${d.tag} (${d.what})\n`);
  for (const s of result.skipped) io.stdout(`skipped ${s.entry.tag} (${s.entry.what}): ${s.reason}\n`);
  let freed = result.freedBytes === undefined ? '' : `; the local store's garbage collection freed ${formatBytes(result.freedBytes)}`;
  if (result.spared !== undefined && result.spared.blobs > 0) {
    freed += ` and kept ${result.spared.blobs} unreferenced blobs (${formatBytes(result.spared.bytes)}) younger than ` +
      `${Math.round(result.spared.graceMs / 60_000)} min, which a running build may still need: run again later to free them`;
  }
  io.stdout(
    `Deleted ${result.deleted.length} tags (${result.manifestsDeleted} manifests; about ${formatBytes(plan.bytesReferenced)} of ` +
      `layers were referenced only by them, approximate), kept ${plan.keep.length + result.skipped.length}, ` +
      `${plan.untouched.length} other tags not touched${freed}\n`,
  );
}
