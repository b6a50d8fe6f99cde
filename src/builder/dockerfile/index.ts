// The Dockerfile front end: parsing, word expansion, ARG/ENV scoping, stage planning and canonical forms.
// Pure: no I/O; later build steps feed it text and base image configs.

export * from './types.js';
export { DockerfileError, ShellExpansionError } from './errors.js';
export { parseDockerfile, parseInstruction, parseHeredocWord, heredocText, INSTRUCTION_FLAGS } from './parse.js';
export { ShellLex, expandWord, expandWords, type ExpansionEnv, type ShellLexOptions, type ShellProcessResult } from './shell-lex.js';
export { expandInstruction, splitCSV, type CopySource, type ExpandedInstruction, type ExpandOptions } from './expand.js';
export { ArgEnvScope, type ArgEnvScopeOptions } from './scope.js';
export {
  planStages,
  resolveMetaArgs,
  platformArgs,
  createStageScope,
  BUILTIN_BUILD_ARGS,
  type PlanOptions,
  type PlannedStage,
  type StagePlan,
  type StageReference,
} from './plan.js';
export { canonicalInstruction, normalizeShellText } from './canonical.js';
export { keyValuePairs, commandLine, healthcheckConfig, DEFAULT_SHELL, type HealthConfig } from './instructions.js';
