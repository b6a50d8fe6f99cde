// The one place that turns errors into exit codes and into what the user reads on stderr.
//
//   UsageError, and commander's own parse errors   → exit 2
//   every other SlipwayError                       → exit 1 (werf exits 1 on any error)
//   a system error of the machine (ENOSPC, EACCES)  → exit 1, with what to do
//   anything else (a bug)                          → exit 1, shown as `Error: internal error: ...`
//
// Output: the first line is exactly `Error: <message>`, as werf prints it (pkg/logging/termination.go);
// a hint follows on lines indented by two spaces. Under --log-debug the cause chain and stacks follow.
// Messages are printed as their producers wrote them: producers redact URLs and never include credentials,
// and nothing here adds environment or request details.

import { CommanderError } from 'commander';
import { SlipwayError, UsageError, systemErrorHint } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const INTERNAL_ERROR_HINT =
  'this is a bug in Slipway; please report it with the output of the same command run with --log-debug';

/** Commander's "help or version was printed" signals: not failures. */
function isCommanderSuccess(error: unknown): error is CommanderError {
  return error instanceof CommanderError && error.exitCode === 0;
}

export function exitCodeFor(error: unknown): number {
  if (isCommanderSuccess(error)) return EXIT_OK;
  if (error instanceof UsageError || error instanceof CommanderError) return EXIT_USAGE;
  return EXIT_FAILURE;
}

/** Commander's messages read `error: unknown option '--x'\n(Did you mean --y?)`. */
export function splitCommanderMessage(message: string): { message: string; details: string[] } {
  const [first = '', ...rest] = message.replace(/^error: /, '').split('\n');
  return { message: first, details: rest.filter((line) => line.trim() !== '') };
}

function indent(text: string, prefix: string): string[] {
  return text.split('\n').map((line) => `${prefix}${line}`);
}

const MAX_CAUSES = 16;

/** The error, its causes (guarding against cycles), each with its stack when it has one. */
function debugDetails(error: unknown): string[] {
  const lines: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  for (let depth = 0; current !== undefined && !seen.has(current) && depth < MAX_CAUSES; depth++) {
    seen.add(current);
    const label = depth === 0 ? 'debug:' : 'caused by:';
    if (current instanceof Error) {
      lines.push(`  ${label} ${current.stack ?? `${current.name}: ${current.message}`}`.split('\n').join('\n    '));
      current = current.cause;
    } else {
      lines.push(`  ${label} ${String(current)}`);
      current = undefined;
    }
  }
  return lines;
}

export interface FormatOptions {
  debug: boolean;
}

/** The text for stderr, ending with a newline; empty when there is nothing to report. Pure. */
export function formatError(error: unknown, { debug }: FormatOptions): string {
  if (isCommanderSuccess(error)) return '';
  const lines: string[] = [];
  if (error instanceof SlipwayError) {
    const [first = '', ...more] = error.message.split('\n');
    lines.push(`Error: ${first}`, ...more.map((line) => `  ${line}`));
    if (error.hint) lines.push(...indent(error.hint, '  '));
  } else if (error instanceof CommanderError) {
    // Normally converted to UsageError by the program; this keeps the format if one slips through.
    const { message, details } = splitCommanderMessage(error.message);
    lines.push(`Error: ${message}`, ...details.map((line) => `  ${line}`));
  } else if (error instanceof Error && systemErrorHint(error) !== undefined) {
    // A full disk or a denied write that no producer wrapped: the machine's problem, not a bug.
    lines.push(`Error: ${error.message}`, `  ${systemErrorHint(error)!}`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    const [first = '', ...more] = message.split('\n');
    lines.push(`Error: internal error: ${first}`, ...more.map((line) => `  ${line}`), `  ${INTERNAL_ERROR_HINT}`);
  }
  if (debug) lines.push(...debugDetails(error));
  return `${lines.join('\n')}\n`;
}

/** Report a fatal error and set the process's exit code; the caller then lets the process end. */
export function handleFatal(error: unknown, debug: boolean, write: (text: string) => void = (text) => process.stderr.write(text)): number {
  const code = exitCodeFor(error);
  const text = formatError(error, { debug });
  if (text !== '') write(text);
  process.exitCode = code;
  return code;
}
