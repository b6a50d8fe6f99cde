// Which parts of which instruction the builder expands, as Docker does: ADD, COPY, ENV, EXPOSE, FROM, LABEL,
// STOPSIGNAL, USER, VOLUME, WORKDIR and ARG defaults have their variables substituted, and so do the values of
// COPY/ADD --chown, --chmod, --from, --checksum and --exclude and of RUN --mount. RUN, CMD, ENTRYPOINT, SHELL,
// HEALTHCHECK and ONBUILD keep their text: the shell (or the child build, for ONBUILD) deals with it.

import { DockerfileError, ShellExpansionError } from './errors.js';
import { heredocText, parseHeredocWord } from './parse.js';
import { ShellLex, type ExpansionEnv } from './shell-lex.js';
import type { FlagValue, Heredoc, Instruction, InstructionKeyword } from './types.js';

/** A COPY/ADD source: a path, glob or (ADD) URL of the context or `--from` source, or a heredoc's text. */
export type CopySource = { kind: 'path'; path: string } | { kind: 'heredoc'; name: string; content: string };

export interface ExpandedInstruction {
  keyword: InstructionKeyword;
  line: number;
  /** The flags with their values expanded where Docker expands them (booleans unchanged). */
  flags: Record<string, FlagValue>;
  /** The arguments after expansion (EXPOSE: split into words; ARG: `name=expanded default`). */
  args: string[];
  json: boolean;
  /** Heredocs; COPY/ADD content is chomped and expanded unless the delimiter was quoted. */
  heredocs?: Heredoc[];
  /** COPY/ADD: the sources in order, heredocs resolved. */
  sources?: CopySource[];
  /** COPY/ADD: the destination. */
  dest?: string;
  /** ONBUILD: the trigger, as written. */
  trigger?: Instruction;
}

export interface ExpandOptions {
  /** The Dockerfile's escape character (Dockerfile.escape). */
  escape?: string;
  /** The Dockerfile's name, for messages. */
  file: string;
}

/** The flags whose values are expanded, per instruction. */
const EXPANDED_FLAGS: Partial<Record<InstructionKeyword, readonly string[]>> = {
  ADD: ['chown', 'chmod', 'checksum', 'exclude'],
  COPY: ['chown', 'chmod', 'from', 'exclude'],
  FROM: ['platform'],
};

/**
 * Go's encoding/csv for one record, as BuildKit reads `--mount` values: fields separated by commas, a field
 * may be double-quoted ("" is a quote inside).
 */
export function splitCSV(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new ShellExpansionError(`extraneous or missing " in quoted-field: ${line}`);
        const ch = line[i]!;
        if (ch === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += ch;
        i++;
      }
      if (i < line.length && line[i] !== ',') throw new ShellExpansionError(`extraneous or missing " in quoted-field: ${line}`);
    } else {
      while (i < line.length && line[i] !== ',') {
        if (line[i] === '"') throw new ShellExpansionError(`bare " in non-quoted-field: ${line}`);
        field += line[i];
        i++;
      }
    }
    fields.push(field);
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

function joinCSV(fields: string[]): string {
  return fields.map((f) => (/[",\r\n]/.test(f) || /^\s/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',');
}

/** RUN --mount: each `key=value` field's value is expanded (BuildKit's parseMount with an expander). */
function expandMount(spec: string, expand: (w: string) => string): string {
  return joinCSV(
    splitCSV(spec).map((field) => {
      const eq = field.indexOf('=');
      return eq < 0 ? field : `${field.slice(0, eq)}=${expand(field.slice(eq + 1))}`;
    }),
  );
}

/**
 * The instruction with its variables substituted the way Docker substitutes them, from `env` (the ARG/ENV
 * scope in effect: ArgEnvScope.lookupEnv(); for FROM, the meta ARGs). Throws DockerfileError naming the
 * instruction's line when an expansion fails (`${X:?must be set}`, a missing `}`).
 *
 * ARG: only the defaults are expanded here; which value an ARG takes (build arg, meta ARG, default) is
 * ArgEnvScope.declareArg's business.
 */
export function expandInstruction(instr: Instruction, env: ExpansionEnv, options: ExpandOptions): ExpandedInstruction {
  const escape = options.escape ?? '\\';
  const lex = new ShellLex({ escape });
  const word = (w: string): string => lex.process(w, env).result;
  const out: ExpandedInstruction = { keyword: instr.keyword, line: instr.line, flags: { ...instr.flags }, args: [...instr.args], json: instr.json };
  if (instr.heredocs) out.heredocs = instr.heredocs.map((h) => ({ ...h }));
  if (instr.trigger) out.trigger = instr.trigger;
  try {
    for (const name of EXPANDED_FLAGS[instr.keyword] ?? []) {
      const value = instr.flags[name];
      if (typeof value === 'string') out.flags[name] = word(value);
      else if (Array.isArray(value)) out.flags[name] = value.map(word);
    }
    switch (instr.keyword) {
      case 'FROM':
        out.args[0] = word(instr.args[0]!);
        break;
      case 'ARG':
        out.args = instr.args.map((a) => {
          const eq = a.indexOf('=');
          return eq < 0 ? a : `${a.slice(0, eq)}=${word(a.slice(eq + 1))}`;
        });
        break;
      case 'ENV':
      case 'LABEL':
      case 'VOLUME':
      case 'WORKDIR':
      case 'USER':
      case 'STOPSIGNAL':
        out.args = instr.args.map(word);
        break;
      case 'EXPOSE':
        out.args = instr.args.flatMap((a) => lex.process(a, env).words);
        break;
      case 'ADD':
      case 'COPY': {
        const byName = new Map((instr.heredocs ?? []).map((h) => [h.name, h] as const));
        // Heredoc content is expanded with quotes left alone and `\` as the escape (BuildKit's ExpandRaw).
        const raw = new ShellLex({ escape: '\\', skipProcessQuotes: true });
        const sources: CopySource[] = [];
        for (const src of instr.args.slice(0, -1)) {
          const doc = instr.json ? undefined : parseHeredocWord(src);
          if (doc) {
            const heredoc = byName.get(doc.name);
            let content = heredoc ? heredocText(heredoc) : '';
            if (doc.expand) content = raw.process(content, env).result;
            sources.push({ kind: 'heredoc', name: doc.name, content });
          } else {
            sources.push({ kind: 'path', path: word(src) });
          }
        }
        out.sources = sources;
        out.dest = word(instr.args[instr.args.length - 1]!);
        out.args = [...sources.map((s) => (s.kind === 'path' ? s.path : `<<${s.name}`)), out.dest];
        if (out.heredocs) {
          out.heredocs = out.heredocs.map((h) => {
            const src = sources.find((s) => s.kind === 'heredoc' && s.name === h.name);
            return src && src.kind === 'heredoc' ? { ...h, content: src.content, chomp: false } : h;
          });
        }
        break;
      }
      case 'RUN': {
        const mounts = instr.flags['mount'];
        if (Array.isArray(mounts)) out.flags['mount'] = mounts.map((m) => expandMount(m, word));
        break;
      }
      default:
        break;
    }
  } catch (err) {
    if (err instanceof ShellExpansionError) throw new DockerfileError(options.file, instr.line, `${instr.keyword}: ${err.message}`, { cause: err });
    throw err;
  }
  return out;
}
