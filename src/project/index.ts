// The project's files for the rest of Slipway: open a project (git work tree, giterminism), read its files
// through one ProjectFiles, check werf-giterminism.yaml allowances, and the git commands cleanup needs.

export type {
  FilePurpose,
  OpenProjectFilesOptions,
  ProjectFile,
  ProjectFiles,
  ProjectFilesSource,
} from './types.js';
export type { CommitEntry, CommitInfo, SizedCommitEntry, GitReferenceInfo, GitStatus, HistoryCommit } from './git.js';
export {
  allowanceKeyFor,
  NoGitWorkTreeError,
  noGitWorkTreeError,
  ProjectFileError,
  uncommittedFilesError,
  type ProjectFileErrorReason,
} from './file-errors.js';
export { compileGlob, compilePathMatcher, globStaticPrefix } from './globs.js';
export { loadGiterminismConfig, openProjectFiles, openProjectFilesWithGiterminism } from './open.js';
export {
  DEFAULT_GITERMINISM_CONFIG_PATH,
  EMPTY_GITERMINISM_CONFIG,
  GITERMINISM_DOCS_URL,
  inspectContextAddFile,
  inspectCustomTags,
  inspectEnv,
  inspectFromLatest,
  inspectGitBranch,
  inspectMountBuildDir,
  inspectMountFromPath,
  isAllowedPath,
  isEnvAllowed,
  parseGiterminismConfig,
  type GiterminismConfig,
} from './giterminism.js';
export { commitExists, fetchRemoteRepository, listCommitTree, openBlobStream } from './git.js';
export { openCommittedBlob } from './git-blob-reader.js';
export { fetchOriginBranchesAndTags, isShallowRepository, listReferences, originUrl, revList } from './git.js';
