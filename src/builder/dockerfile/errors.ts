// Errors of the Dockerfile front end. Every message names the file and, when there is one, the line:
// `Dockerfile:12: COPY requires at least two arguments ...`.

import { BuildError, type SlipwayErrorOptions } from '../../errors.js';

/** A Dockerfile is malformed, or one of its instructions cannot be resolved (expansion, stage reference, target). */
export class DockerfileError extends BuildError {
  /** The Dockerfile's path as given to the parser (relative to the project, usually). */
  readonly file: string;
  /** 1-based line of the instruction's first line; undefined for errors about the whole file (e.g. an unknown target). */
  readonly line: number | undefined;
  /** The message without the `file:line: ` prefix. */
  readonly detail: string;

  constructor(file: string, line: number | undefined, detail: string, options: SlipwayErrorOptions = {}) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${detail}`, options);
    this.file = file;
    this.line = line;
    this.detail = detail;
  }
}

/** Word expansion failed (`${X:?msg}`, a missing `}`, an unterminated quote). Callers wrap it in a DockerfileError. */
export class ShellExpansionError extends BuildError {}
