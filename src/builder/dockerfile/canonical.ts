// A stable text form of an instruction, for stage digests: comments, line continuations, whitespace, the
// case of the keyword, the order of flags and the choice between equivalent forms (`ENV k v` and `ENV k=v`,
// `COPY a b` and `COPY ["a", "b"]`) do not change it; anything that changes what the instruction does does.

import type { ExpandedInstruction } from './expand.js';
import { INSTRUCTION_FLAGS, heredocText } from './parse.js';
import type { FlagValue, Heredoc, Instruction, InstructionKeyword } from './types.js';

/** Flag values that mean the same as leaving the flag out. */
const DEFAULT_FLAG_VALUES: Readonly<Record<string, string>> = { network: 'default', security: 'sandbox' };

/**
 * Shell-form text with runs of unquoted blanks collapsed to one space and the ends trimmed; quoted and
 * escaped text is kept byte for byte.
 */
export function normalizeShellText(text: string): string {
  let out = '';
  let pendingSpace = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t') {
      pendingSpace = out !== '';
      i++;
      continue;
    }
    if (pendingSpace) {
      out += ' ';
      pendingSpace = false;
    }
    if (ch === '\\') {
      out += text.slice(i, i + 2);
      i += 2;
    } else if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      const stop = end < 0 ? text.length : end + 1;
      out += text.slice(i, stop);
      i = stop;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const stop = Math.min(j + 1, text.length);
      out += text.slice(i, stop);
      i = stop;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

function formatFlags(keyword: InstructionKeyword, flags: Record<string, FlagValue>): string[] {
  const spec = INSTRUCTION_FLAGS[keyword];
  const out: string[] = [];
  for (const name of Object.keys(flags).sort()) {
    const value = flags[name]!;
    if (spec[name] === 'bool') {
      if (value === 'true') out.push(`--${name}`);
    } else if (Array.isArray(value)) {
      for (const v of value) out.push(`--${name}=${JSON.stringify(v)}`);
    } else if (DEFAULT_FLAG_VALUES[name] !== value) {
      out.push(`--${name}=${JSON.stringify(value)}`);
    }
  }
  return out;
}

function formatHeredocs(heredocs: readonly Heredoc[] | undefined): string[] {
  if (!heredocs || heredocs.length === 0) return [];
  return [JSON.stringify(heredocs.map((h) => ({ name: h.name, fd: h.fd, expand: h.expand, content: heredocText(h) })))];
}

function shellOrJSON(json: boolean, args: readonly string[]): string {
  return json ? JSON.stringify(args) : JSON.stringify(normalizeShellText(args.join(' ')));
}

/**
 * The canonical text of an instruction: the keyword uppercased, the flags sorted (`--name="value"`; true
 * booleans as `--name`, false ones and default values left out), then the arguments as a JSON array (exec
 * and list forms alike), or for shell-form RUN/CMD/ENTRYPOINT/HEALTHCHECK the command as a JSON string with
 * its unquoted whitespace collapsed, then heredocs (chomped) as JSON.
 *
 * Pass `expanded` (expandInstruction / ArgEnvScope.apply) to get the form after ARG/ENV substitution; without
 * it the instruction is taken as written. ONBUILD always uses its trigger as written (it is expanded in the
 * child build).
 */
export function canonicalInstruction(instr: Instruction, expanded?: ExpandedInstruction): string {
  const keyword = instr.keyword;
  const flags = expanded?.flags ?? instr.flags;
  const args = expanded?.args ?? instr.args;
  const heredocs = expanded?.heredocs ?? instr.heredocs;
  const parts: string[] = [keyword, ...formatFlags(keyword, flags)];
  switch (keyword) {
    case 'ONBUILD':
      parts.push(canonicalInstruction(instr.trigger!));
      break;
    case 'RUN':
    case 'CMD':
    case 'ENTRYPOINT':
      parts.push(shellOrJSON(instr.json, args));
      break;
    case 'HEALTHCHECK': {
      const type = (args[0] ?? '').toUpperCase();
      if (type === 'NONE') parts.push('NONE');
      else parts.push(instr.json ? 'CMD' : 'CMD-SHELL', shellOrJSON(instr.json, args.slice(1)));
      break;
    }
    case 'FROM':
      parts.push(JSON.stringify([args[0]]));
      if (args.length === 3) parts.push('AS', JSON.stringify(args[2]!.toLowerCase()));
      break;
    case 'EXPOSE':
      parts.push(JSON.stringify([...args].sort()));
      break;
    default:
      parts.push(JSON.stringify(args));
  }
  parts.push(...formatHeredocs(heredocs));
  return parts.join(' ');
}
