// `slipway cleanup`: delete the stages and metadata records in the stages storage (--repo, else the local one)
// that the keep policies no longer need (werf's pkg/cleaning; docs/cleanup.md; src/cleanup/). Exported images are never touched:
// only tags shaped like stages or records whose config carries this project's `slipway` label are candidates.

import type { CleanupResult } from '../../cleanup/index.js';
import { defineCommand, type CliIo } from '../command.js';
import { cliEvents } from '../events.js';
import type { Logger } from '../log.js';
import { formatBytes } from '../progress.js';
import { projectOptions } from '../project-options.js';
import { REGISTRY_OPTION_NAMES, registryClientFor } from '../registry-client.js';
import { CONFIG_OPTION_NAMES } from '../config-options.js';
import { WERF_CLEANUP_REPORT_NO_OPS, WERF_HOST_CLEANUP_NO_OPS, WERF_KUBE_SCAN_NO_OPS, WERF_STORAGE_NO_OPS } from '../werf-no-ops.js';

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
    'platform', 'parallel', 'parallelTasksLimit',
    ...WERF_STORAGE_NO_OPS, ...WERF_HOST_CLEANUP_NO_OPS, ...WERF_KUBE_SCAN_NO_OPS, ...WERF_CLEANUP_REPORT_NO_OPS,
  ],
  async run({ options, log, io, env }) {
    const [{ readKeepList }, { cleanupProject }] = await Promise.all([import('../../cleanup/index.js'), import('../../operations/index.js')]);
    const keepList = await readKeepList(options.keepList);
    const client = await registryClientFor(options, env, log);
    const events = cliEvents(log, io);
    try {
      const result = await cleanupProject({
        ...projectOptions(options, env, client, events), dryRun: options.dryRun, keepList,
        ...(options.keepStagesBuiltWithinLastNHours !== undefined ? { keepBuiltWithinHours: options.keepStagesBuiltWithinLastNHours } : {}),
      });
      events.finish();
      printResult(io, log, result, options.dryRun);
    } finally {
      events.finish();
      await client.close();
    }
  },
});

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
