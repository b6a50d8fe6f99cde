// The errors about project files, in werf's wording (pkg/giterminism_manager/file_reader/errors.go, with
// "slipway" for "werf"): ProjectFileError with a machine-readable reason, the "must be committed" message with
// the werf-giterminism.yaml allowance for the purpose, and the no-git-work-tree error.

import { ConfigError } from '../errors.js';
import { GITERMINISM_DOCS_URL } from './giterminism.js';
import type { FilePurpose } from './types.js';

export type ProjectFileErrorReason = 'uncommitted' | 'untracked' | 'not-found' | 'outside' | 'not-a-file' | 'submodule';

/** A ConfigError about one project file (or several), with a machine-readable reason. */
export class ProjectFileError extends ConfigError {
  readonly reason: ProjectFileErrorReason;
  /** The paths concerned, relative to the project directory. */
  readonly paths: readonly string[];
  constructor(reason: ProjectFileErrorReason, paths: readonly string[], message: string, hint?: string) {
    super(message, hint === undefined ? {} : { hint });
    this.reason = reason;
    this.paths = paths;
  }
}

// Messages (werf's wording, pkg/giterminism_manager/file_reader/errors.go, with "slipway" for "werf")

export const GITERMINISM_NOTE =
  "To provide a strong guarantee of reproducibility, slipway (like werf) reads the configuration and build's context " +
  'files from the project git repository, and eliminates external dependencies. We strongly recommend following this ' +
  'approach, but if necessary, you can allow the reading of specific files directly from the file system and enable ' +
  'the features that require careful use in werf-giterminism.yaml. Read more about giterminism and how to manage it ' +
  `here: ${GITERMINISM_DOCS_URL}.`;

const DEV_MODE_NOTE =
  'You might also be interested in developer mode (activated with --dev option) that allows you to work with ' +
  'uncommitted changes without doing redundant commits during debugging and development.';

/** The werf-giterminism.yaml directive that lets a purpose read working-tree files. */
export function allowanceKeyFor(purpose: FilePurpose): string | undefined {
  switch (purpose) {
    case 'config':
      return 'config.allowUncommitted: true';
    case 'template':
      return 'config.allowUncommittedTemplates: [<glob>]';
    case 'files':
      return 'config.goTemplateRendering.allowUncommittedFiles: [<glob>]';
    case 'dockerfile':
      return 'config.dockerfile.allowUncommitted: [<glob>]';
    case 'dockerignore':
      return 'config.dockerfile.allowUncommittedDockerignoreFiles: [<glob>]';
    case 'context':
      return 'config.dockerfile.allowContextAddFiles: [<path>]';
    case 'giterminism':
      return undefined;
  }
}

function listOfFiles(paths: readonly string[]): string {
  return paths.map((p) => ` - ${p}`).join('\n');
}

/** `the file "X" must be committed` / `the following files must be committed: ...`, with werf's hints. */
export function uncommittedFilesError(paths: readonly string[], purpose: FilePurpose = 'files'): ProjectFileError {
  const message =
    paths.length === 1
      ? `the file "${paths[0] ?? ''}" must be committed`
      : `the following files must be committed:\n\n${listOfFiles(paths)}`;
  const key = allowanceKeyFor(purpose);
  const allow = key === undefined ? '' : `\nTo read ${paths.length === 1 ? 'it' : 'them'} from the working tree instead, allow ${paths.length === 1 ? 'it' : 'them'} in werf-giterminism.yaml (${key}).`;
  return new ProjectFileError('uncommitted', paths, message, `${DEV_MODE_NOTE}${allow}\n\n${GITERMINISM_NOTE}`);
}

/** No git work tree around the project (commands that cannot work without git replace the hint). */
export class NoGitWorkTreeError extends ConfigError {
  constructor(readonly projectDir: string, message: string, hint: string) {
    super(message, { hint });
  }
}

/** The no-git-work-tree error of werf's `common.GetGiterminismManager`, for the absolute project dir. */
export function noGitWorkTreeError(absDir: string): NoGitWorkTreeError {
  return new NoGitWorkTreeError(
    absDir,

    `slipway requires a git work tree for the project to exist: unable to find a valid .git in the current directory "${absDir}" or parent directories, you may also specify git work tree explicitly with --git-work-tree option (or SLIPWAY_GIT_WORK_TREE / WERF_GIT_WORK_TREE env var)`,
    'initialise a repository and commit the project ("git init && git add -A && git commit"), or use --dev or --loose-giterminism to read the files as they are',
  );
}
