// The parsed form of a Dockerfile. Arguments are kept as written (before ARG/ENV expansion), split the way
// BuildKit's parser splits each instruction, so that later steps expand them with the scope in effect.

import type { Platform } from '../../oci/platform.js';

export type InstructionKeyword =
  | 'ADD'
  | 'ARG'
  | 'CMD'
  | 'COPY'
  | 'ENTRYPOINT'
  | 'ENV'
  | 'EXPOSE'
  | 'FROM'
  | 'HEALTHCHECK'
  | 'LABEL'
  | 'MAINTAINER'
  | 'ONBUILD'
  | 'RUN'
  | 'SHELL'
  | 'STOPSIGNAL'
  | 'USER'
  | 'VOLUME'
  | 'WORKDIR';

/** A flag value: `--name=value` or a boolean flag (`'true'`/`'false'`); repeatable flags collect arrays. */
export type FlagValue = string | string[];

export interface Heredoc {
  /** The delimiter word, quotes removed (`<<"EOF"` gives `EOF`). */
  name: string;
  /**
   * The lines between the instruction and the delimiter, each with its line ending, exactly as written
   * (leading tabs kept even with `<<-`; see heredocText).
   */
  content: string;
  /** `<<-NAME`: leading tabs are stripped from every content line (and the delimiter line may be indented with tabs). */
  chomp: boolean;
  /** False when the delimiter was quoted (`<<'EOF'`, `<<"EOF"`): the content is not expanded. */
  expand: boolean;
  /** The file descriptor written before `<<` (`3<<EOF`), 0 when absent. */
  fd: number;
}

export interface Instruction {
  keyword: InstructionKeyword;
  /** 1-based line of the instruction's first line. */
  line: number;
  /** 1-based line of its last line (continuations and heredocs included). */
  endLine: number;
  /**
   * Flags as written (quotes of the flag word removed, not yet expanded). Boolean flags are `'true'` or
   * `'false'`; repeatable flags (COPY/ADD `exclude`, RUN `mount` and `device`) are arrays.
   */
  flags: Record<string, FlagValue>;
  /**
   * Arguments as written, split per instruction the way BuildKit does:
   * FROM `[image]` or `[image, 'AS', name]`; ARG one word per `name[=value]`; ENV and LABEL alternate key and
   * value (`ENV k v` legacy form gives one pair); WORKDIR, USER, STOPSIGNAL, MAINTAINER the whole rest;
   * EXPOSE and non-JSON COPY/ADD/VOLUME split on whitespace; RUN/CMD/ENTRYPOINT/SHELL the JSON array's strings
   * or the whole shell-form text; HEALTHCHECK `[type, ...command]`; ONBUILD the trigger's text.
   */
  args: string[];
  /** The exec (JSON array) form was used: `CMD ["a", "b"]`. */
  json: boolean;
  /** Here-documents of RUN, COPY and ADD (shell form only), in order. */
  heredocs?: Heredoc[];
  /** ONBUILD: the trigger instruction, parsed (its line is the ONBUILD's). */
  trigger?: Instruction;
  /** The instruction's logical line as written: continuations joined, comment lines dropped, no heredoc bodies. */
  source: string;
}

export interface Stage {
  /** 0-based position in the Dockerfile (what `COPY --from=<index>` refers to). */
  index: number;
  /** `FROM ... AS name`, lowercased (stage names are case-insensitive). */
  name?: string;
  /** The FROM line. */
  line: number;
  /** The base image expression as written (`${BASE}:1`); expanded with the meta ARGs by planStages. */
  base: string;
  /** The `--platform` expression as written, if any. */
  platform?: string;
  /** The FROM instruction itself. */
  from: Instruction;
  /** The instructions after FROM, up to the next FROM. */
  instructions: Instruction[];
}

export interface Dockerfile {
  /** The path given to parseDockerfile; every error message starts with it. */
  file: string;
  /** The escape character, from the `# escape=` parser directive: `\` (default) or a backtick. */
  escape: string;
  /**
   * Parser directives (`escape`, `syntax`, `check`), lowercased names. `syntax` must name Docker's Dockerfile
   * frontend (docker/dockerfile:<tag>), whose syntax this parser follows; it is otherwise ignored.
   */
  directives: Record<string, string>;
  /** The line of each directive. */
  directiveLines: Record<string, number>;
  /** ARG instructions before the first FROM (meta ARGs: visible in FROM lines only). */
  metaArgs: Instruction[];
  stages: Stage[];
}

/** Where a stage starts from, or where `COPY --from` / `RUN --mount=from=` reads. */
export type StageSource =
  | { kind: 'image'; ref: string; platform?: Platform }
  | { kind: 'stage'; index: number }
  | { kind: 'scratch' };
