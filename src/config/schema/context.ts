// The giterminism checks the configuration needs (ConfigInspector, wired by load-config.ts) and the
// per-document context every section reads through.

import { LineCounter, type Document, type Node } from 'yaml';
import type { RawDocument } from './documents.js';
import type { ConfigIssue } from './issues.js';
import { formatPath, YamlReader, type IssueSink, type Path } from './yaml-view.js';

// ---------------------------------------------------------------------------------------------------------
// Giterminism checks the configuration needs (wired by load-config.ts)

/**
 * Each method returns why giterminism forbids the directive, or undefined when it is allowed. All are
 * optional: without an inspector everything is allowed (for callers that parse text they trust).
 */
export interface ConfigInspector {
  fromLatest?(): string | undefined;
  gitBranch?(): string | undefined;
  mountBuildDir?(): string | undefined;
  mountFromPath?(fromPath: string): string | undefined;
  contextAddFile?(relPath: string): string | undefined;
  secretEnv?(name: string): string | undefined;
  secretSrc?(path: string): string | undefined;
  secretValue?(id: string): string | undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Per-document context

export class DocumentContext implements IssueSink {
  subject: string | undefined;
  readonly reader: YamlReader;

  constructor(
    readonly file: string,
    readonly raw: RawDocument,
    readonly doc: Document,
    private readonly lineCounter: LineCounter,
    private readonly issues: ConfigIssue[],
    readonly inspector: ConfigInspector,
  ) {
    this.reader = new YamlReader(doc, this);
  }

  lineOf(node: Node | null | undefined): number {
    const offset = node?.range?.[0];
    if (offset === undefined) return this.raw.line + this.firstContentLine();
    return this.raw.line - 1 + this.lineCounter.linePos(offset).line;
  }

  /** Lines before the first non-blank, non-comment line of the document. */
  private firstContentLine(): number {
    const lines = this.raw.text.split('\n');
    const index = lines.findIndex((line) => line.trim() !== '' && !line.trim().startsWith('#'));
    return index < 0 ? 0 : index;
  }

  report(node: Node | null | undefined, path: Path, message: string): void {
    this.issues.push({
      file: this.file,
      line: this.lineOf(node),
      document: this.raw.index,
      subject: this.subject,
      path: formatPath(path),
      message,
    });
  }

  /** A problem that giterminism raised: reported as is. */
  inspect(node: Node | null | undefined, path: Path, problem: string | undefined): void {
    if (problem !== undefined) this.report(node, path, problem);
  }
}
