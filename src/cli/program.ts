// Builds the `slipway` commander program from the command list and runs it. Commander never prints or exits
// on its own here: its errors become UsageErrors and everything goes through exit.ts.

import { Command, CommanderError } from 'commander';
import { UsageError } from '../errors.js';
import { SLIPWAY_VERSION } from '../version.js';
import type { CliRuntime, SlipwayCommand } from './command.js';
import { versionCommand } from './commands/version.js';
import { copyCommand } from './commands/copy.js';
import { buildCommand } from './commands/build.js';
import { exportCommand } from './commands/export.js';
import { slugifyCommand } from './commands/slugify.js';
import { configCommand } from './commands/config.js';
import { cleanupCommand } from './commands/cleanup.js';
import { purgeCommand } from './commands/purge.js';
import { loginCommand, logoutCommand } from './commands/login.js';
import { EXIT_OK, exitCodeFor, formatError, splitCommanderMessage } from './exit.js';
import { addOptions, GLOBAL_OPTION_NAMES, normalizeBooleanAssignments, pickOptions, resolveOptions } from './options.js';

/** Every command, in the order `slipway --help` lists them. Add a command here and nowhere else. */
export const COMMANDS: readonly SlipwayCommand[] = [versionCommand, buildCommand, exportCommand, cleanupCommand, purgeCommand, copyCommand, loginCommand, logoutCommand, configCommand, slugifyCommand];

const PROGRAM_NAME = 'slipway';

export function processRuntime(): CliRuntime {
  return {
    io: {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    },
    env: process.env,
  };
}

/** Commander's signals for "help or version was printed" pass through; its parse errors become UsageErrors. */
function fromCommanderError(error: CommanderError, command: Command, helpCommand: string): CommanderError | UsageError {
  if (error.exitCode === 0) return error;
  if (error.code === 'commander.help') {
    // `slipway` alone, or `slipway help <unknown>`: commander has already printed the help to stderr.
    const [first, second] = command.args;
    const message = first === 'help' && second !== undefined ? `unknown command '${second}'` : 'no command given';
    return new UsageError(message, { cause: error, hint: `see ${helpCommand}` });
  }
  const { message, details } = splitCommanderMessage(error.message);
  return new UsageError(message, { cause: error, hint: [...details, `see ${helpCommand}`].join('\n') });
}

function routeOutput(command: Command, runtime: CliRuntime, helpCommand: string): void {
  command
    .configureOutput({
      writeOut: (text) => runtime.io.stdout(text),
      writeErr: (text) => runtime.io.stderr(text),
      outputError: () => {}, // exit.ts prints the error
    })
    .exitOverride((error) => {
      throw fromCommanderError(error, command, helpCommand);
    });
}

export function buildProgram(runtime: CliRuntime): Command {
  const program = new Command(PROGRAM_NAME)
    .description(
      'Build werf.yaml projects into content-addressed stages and export them to the registries and tags you choose; ' +
        'a werf-compatible implementation of `werf export`',
    )
    .version(`${PROGRAM_NAME} ${SLIPWAY_VERSION}`, '--version', 'Print the version')
    // Set before the commands are added: `.command()` copies these to each of them.
    .helpOption('-h, --help', 'Print help')
    .helpCommand('help [command]', 'Print help for a command')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText(
      'after',
      '\nOptions can also be set through the environment: --foo-bar reads $SLIPWAY_FOO_BAR,\n' +
        "then werf's variables where werf has them (listed in each option's help).\n" +
        'The command line wins over the environment.',
    );
  routeOutput(program, runtime, `${PROGRAM_NAME} --help`);
  addOptions(program, GLOBAL_OPTION_NAMES);
  for (const definition of COMMANDS) {
    const command = definition.register(program, runtime);
    routeOutput(command, runtime, `${PROGRAM_NAME} ${definition.name} --help`);
  }
  return program;
}

/** Whether to print debugging details for an error that may have happened before options were resolved. */
function debugRequested(argv: readonly string[], runtime: CliRuntime): boolean {
  let fromCli: boolean | undefined;
  try {
    for (const arg of normalizeBooleanAssignments(argv)) {
      if (arg === '--') break;
      if (arg === '--log-debug' || arg === '--debug') fromCli = true;
      if (arg === '--no-log-debug' || arg === '--no-debug') fromCli = false;
    }
    return resolveOptions(pickOptions(['logDebug']), { logDebug: fromCli }, runtime.env).logDebug;
  } catch {
    return false;
  }
}

/** Run the CLI with the given arguments (without `node` and the script) and return the exit code. */
export async function runCli(argv: readonly string[], runtime: CliRuntime = processRuntime()): Promise<number> {
  try {
    await buildProgram(runtime).parseAsync(normalizeBooleanAssignments(argv), { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    const text = formatError(error, { debug: debugRequested(argv, runtime) });
    if (text !== '') runtime.io.stderr(text);
    return exitCodeFor(error);
  }
}
