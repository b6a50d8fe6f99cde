// How a command is written: one file per command in src/cli/commands/, exporting `defineCommand({...})`,
// listed once in program.ts. A command names the options it takes (from the table in options.ts); its `run`
// receives them resolved and typed, calls library code, and throws SlipwayErrors, which exit.ts reports.

import type { Command } from 'commander';
import { createLogger, logLevelOf, type Logger } from './log.js';
import {
  OPTIONS,
  addOptions,
  GLOBAL_OPTION_NAMES,
  pickOptions,
  resolveOptions,
  type Env,
  type GlobalOptionName,
  type OptionName,
  type ResolvedOptions,
} from './options.js';

/** Where a command writes. Raw writes: callers add their own newlines. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** All of standard input (`login --password-stdin`); the process's own when absent. */
  stdin?(): Promise<string>;
}

export interface CliRuntime {
  io: CliIo;
  env: Env;
}

export interface CommandContext<N extends OptionName> {
  /** The command's own options plus the global ones (logging). */
  options: ResolvedOptions<N | GlobalOptionName>;
  /** The operands, in order, after options are taken out. */
  args: string[];
  /** Logs to stderr at the level chosen by --log-quiet / --log-verbose / --log-debug. */
  log: Logger;
  io: CliIo;
  env: Env;
}

export interface CommandArgument {
  /** commander syntax: `<name>`, `[name]`, `[name...]`. */
  syntax: string;
  help: string;
}

export interface CommandSpec<N extends OptionName> {
  name: string;
  /** One line, shown in `slipway --help`. */
  summary: string;
  /** Longer text for `slipway <name> --help`; the summary when absent. */
  description?: string;
  arguments?: readonly CommandArgument[];
  /** Option names from the table in options.ts (global options are always included). */
  options: readonly N[];
  /** Help texts that differ from the table's for this command (one flag, two meanings: `--tag`). */
  optionHelp?: Partial<Record<N, string>>;
  run(context: CommandContext<N>): Promise<void> | void;
}

/** A command ready to be attached to the program; its option types are checked inside defineCommand. */
export interface SlipwayCommand {
  readonly name: string;
  register(program: Command, runtime: CliRuntime): Command;
}

export function defineCommand<const N extends OptionName>(spec: CommandSpec<N>): SlipwayCommand {
  return {
    name: spec.name,
    register(program, runtime) {
      const command = program.command(spec.name).summary(spec.summary).description(spec.description ?? spec.summary);
      for (const argument of spec.arguments ?? []) command.argument(argument.syntax, argument.help);
      addOptions(command, spec.options, spec.optionHelp);
      command.action(async () => {
        const names: readonly (N | GlobalOptionName)[] = [...GLOBAL_OPTION_NAMES, ...spec.options];
        const options = resolveOptions(pickOptions(names), command.optsWithGlobals(), runtime.env);
        const log = createLogger(logLevelOf(options), (text) => runtime.io.stderr(text));
        noteWerfNoOps(spec.options, options as Record<string, unknown>, log);
        await spec.run({ options, args: [...command.args], log, io: runtime.io, env: runtime.env });
      });
      return command;
    },
  };
}

/** werf's flags that were given and are ignored: noted under --log-verbose, warned about when it matters. */
function noteWerfNoOps(names: readonly OptionName[], values: Record<string, unknown>, log: Logger): void {
  for (const name of names) {
    const definition = OPTIONS[name] as { flag: string; noOp?: string; warn?: true };
    if (definition.noOp === undefined) continue;
    const value = values[name];
    const given = Array.isArray(value) ? value.length > 0 : value !== undefined && value !== false;
    if (!given) continue;
    const message = `werf's ${definition.flag} is accepted and ignored: ${definition.noOp}`;
    if (definition.warn) log.warn(message);
    else log.verbose(message);
  }
}
