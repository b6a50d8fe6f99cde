// Problems and how they are reported: ConfigIssue, its one-line format, and ConfigValidationError listing them
// all in line order (with a hint when line numbers are those of the rendered template).

import { ConfigError } from '../../errors.js';

// ---------------------------------------------------------------------------------------------------------
// Problems and how they are reported

export interface ConfigIssue {
  /** The configuration file, relative to the project directory. */
  file: string;
  /** 1-based line of the rendered file; undefined for a problem of the whole file. */
  line: number | undefined;
  /** 1-based index of the (non-empty) document. */
  document: number | undefined;
  /** `meta`, `image "backend"`, `images "a", "b"`, `image ~`, `artifact "x"`. */
  subject: string | undefined;
  /** Key path inside the document, `""` for the document itself. */
  path: string;
  message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  const parts = [issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`];
  if (issue.document !== undefined) {
    parts.push(issue.subject === undefined ? `document ${issue.document}` : `document ${issue.document} (${issue.subject})`);
  }
  if (issue.path !== '') parts.push(issue.path);
  parts.push(issue.message);
  return parts.join(': ');
}

const TEMPLATED_HINT =
  'line numbers are those of the rendered configuration, because the file has template actions: ' +
  'see it with `slipway config render`';

/** All the problems of one configuration file; the message lists them, one per line. */
export class ConfigValidationError extends ConfigError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options: { file: string; templated: boolean }) {
    const lines = issues.map(formatIssue);
    const message = lines.length === 1 ? lines[0]! : [`${options.file}: ${lines.length} problems`, ...lines].join('\n');
    super(message, options.templated ? { hint: TEMPLATED_HINT } : {});
    this.issues = issues;
  }
}

export function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  // Stable: problems on the same line keep the order they were found in.
  return issues
    .map((issue, order) => ({ issue, order }))
    .sort((a, b) => (a.issue.line ?? 0) - (b.issue.line ?? 0) || a.order - b.order)
    .map(({ issue }) => issue);
}
