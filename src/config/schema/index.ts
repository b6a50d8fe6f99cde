// werf.yaml documents → typed configuration (parse.ts), split along werf.yaml's own sections: the meta
// document (meta.ts, cleanup.ts), image documents (image-common.ts, image-spec.ts, secrets.ts,
// dockerfile-image.ts, stapel-image.ts), over a typed yaml view (yaml-view.ts) and the document splitter
// (documents.ts); problems are collected (issues.ts) through a per-document context (context.ts).

export { ConfigValidationError, formatIssue, type ConfigIssue } from './issues.js';
export { splitDocuments, type RawDocument } from './documents.js';
export { hasTagOrDigest, projectNameProblem, referenceMatcher } from './rules.js';
export type { ConfigInspector } from './context.js';
export { parseWerfConfig, type ParseWerfConfigOptions } from './parse.js';
