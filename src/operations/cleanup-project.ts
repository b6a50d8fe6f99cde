// cleanupProject and purgeProject: delete the stages and metadata records of a project that werf's keep policies no
// longer need, or all of them (what `slipway cleanup` and `slipway purge` do). Only tags shaped like stages or
// records whose config carries the project's label are ever deleted.

import { cleanupNeedsGitError, prepareGitHistory, readGitReferences, runCleanup, type CleanupResult, type GitReference } from '../cleanup/index.js';
import type { LoadedProject } from '../config/load-config.js';
import { NoGitWorkTreeError } from '../project/index.js';
import { emitterOf, loadProjectOf, withProjectSession, type ProjectOptions } from './project.js';

export interface CleanupProjectOptions extends ProjectOptions {
  /** Print the plan, delete nothing. */
  dryRun?: boolean;
  /** Tags kept as they are (`--keep-list`). */
  keepList?: readonly string[];
  /** Keep stages built within this many hours; default werf.yaml's keepImagesBuiltWithinLastNHours (2). */
  keepBuiltWithinHours?: number;
}

export async function cleanupProject(options: CleanupProjectOptions = {}): Promise<CleanupResult> {
  const emit = emitterOf(options);
  const project = loadWithGit(options);
  const { config, files } = project;
  // werf never runs cleanup without git, not even with --dev or --loose-giterminism (which let the configuration be
  // read from plain files): without the history, the keep policies would keep nothing.
  if (files.workTree === undefined) throw cleanupNeedsGitError(files.projectDir);
  const meta = config.cleanup;
  const hours = meta.disableBuiltWithinLastNHoursPolicy ? undefined : (options.keepBuiltWithinHours ?? meta.keepImagesBuiltWithinLastNHours);
  let references: GitReference[] | undefined;
  if (!meta.disable && !meta.disableGitHistoryBasedPolicy) {
    prepareGitHistory(files.workTree, {
      allowFetchOriginBranchesAndTags: config.gitWorktree.allowFetchOriginBranchesAndTags,
      allowUnshallow: config.gitWorktree.allowUnshallow,
      log: { info: (message) => emit({ type: 'info', message }) },
    });
    references = readGitReferences(files.workTree);
  }
  return withProjectSession(options, project, ({ storage }) => runCleanup({
    store: storage.store, project: config.project, mode: 'cleanup', dryRun: options.dryRun ?? false,
    keepBuiltWithinHours: hours, keepList: options.keepList ?? [], references, policies: meta.keepPolicies,
    imageNames: config.images.map((i) => i.name), disabled: meta.disable,
    log: { deleted: (entry) => emit({ type: 'tag-deleted', entry }), warn: (message) => emit({ type: 'warning', message }) },
  }));
}

export interface PurgeProjectOptions extends ProjectOptions {
  dryRun?: boolean;
}

export async function purgeProject(options: PurgeProjectOptions = {}): Promise<CleanupResult> {
  const emit = emitterOf(options);
  const project = loadProjectOf(options);
  return withProjectSession(options, project, ({ storage }) => runCleanup({
    store: storage.store, project: project.config.project, mode: 'purge', dryRun: options.dryRun ?? false,
    log: { deleted: (entry) => emit({ type: 'tag-deleted', entry }), warn: (message) => emit({ type: 'warning', message }) },
  }));
}

/** The project, with the no-git error's hint (--dev, --loose-giterminism) replaced: those do not help cleanup. */
function loadWithGit(options: ProjectOptions): LoadedProject {
  try {
    return loadProjectOf(options);
  } catch (error) {
    if (error instanceof NoGitWorkTreeError) throw cleanupNeedsGitError(error.projectDir);
    throw error;
  }
}
