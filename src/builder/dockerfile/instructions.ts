// Small pure helpers that turn parsed (and expanded) instructions into the values an image config holds.

import { DockerfileError } from './errors.js';
import type { ExpandedInstruction } from './expand.js';
import { parseDuration } from '../../go/time.js';
import type { Instruction } from './types.js';

/** The shell of shell-form commands when no SHELL instruction set one. */
export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];

/** ENV and LABEL arguments (alternating key and value) as pairs. */
export function keyValuePairs(args: readonly string[]): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  for (let i = 0; i + 1 < args.length; i += 2) out.push({ key: args[i]!, value: args[i + 1]! });
  return out;
}

/**
 * RUN, CMD and ENTRYPOINT as an argv: the exec form as written, the shell form as `[...shell, text]`.
 * ENTRYPOINT with no arguments is null (it clears the entrypoint).
 */
export function commandLine(instr: Instruction | ExpandedInstruction, shell: readonly string[] = DEFAULT_SHELL): string[] | null {
  if (instr.json) return instr.keyword === 'ENTRYPOINT' && instr.args.length === 0 ? null : [...instr.args];
  return [...shell, instr.args.join(' ')];
}

/** Docker's image config Healthcheck (durations in nanoseconds). */
export interface HealthConfig {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The HealthConfig a HEALTHCHECK instruction sets: `{Test: ['NONE']}`, `['CMD', ...]` or `['CMD-SHELL', text]`. */
export function healthcheckConfig(instr: Instruction, file = 'Dockerfile'): HealthConfig {
  if (instr.keyword !== 'HEALTHCHECK') throw new DockerfileError(file, instr.line, `${instr.keyword} is not a HEALTHCHECK`);
  const type = instr.args[0]!.toUpperCase();
  if (type === 'NONE') return { Test: ['NONE'] };
  const config: HealthConfig = { Test: instr.json ? ['CMD', ...instr.args.slice(1)] : ['CMD-SHELL', instr.args.slice(1).join(' ')] };
  const durations: [string, 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval'][] = [
    ['interval', 'Interval'],
    ['timeout', 'Timeout'],
    ['start-period', 'StartPeriod'],
    ['start-interval', 'StartInterval'],
  ];
  try {
    for (const [flag, key] of durations) {
      const v = instr.flags[flag];
      if (typeof v === 'string' && v !== '') {
        const ns = parseDuration(v);
        if (ns !== 0n) config[key] = Number(ns);
      }
    }
  } catch (err) {
    throw new DockerfileError(file, instr.line, (err as Error).message, { cause: err });
  }
  const retries = instr.flags['retries'];
  if (typeof retries === 'string' && retries !== '' && Number(retries) !== 0) config.Retries = Number(retries);
  return config;
}
