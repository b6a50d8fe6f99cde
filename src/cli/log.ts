// A small logger for the CLI. Everything it prints goes to stderr, so stdout stays for command output
// (a version string, a JSON report) that scripts may parse. Anything logged that holds a URL goes through
// redactUrl from src/registry/redact.ts first.

export type LogLevel = 'quiet' | 'normal' | 'verbose' | 'debug';

export interface Logger {
  readonly level: LogLevel;
  info(message: string): void;
  /** Printed at every level, including quiet: a warning is something the user should act on. */
  warn(message: string): void;
  verbose(message: string): void;
  debug(message: string): void;
}

export interface LogFlags {
  logQuiet: boolean;
  logVerbose: boolean;
  logDebug: boolean;
}

/** When several are given, the one asking for more output wins: debugging beats quiet. */
export function logLevelOf(flags: LogFlags): LogLevel {
  if (flags.logDebug) return 'debug';
  if (flags.logVerbose) return 'verbose';
  if (flags.logQuiet) return 'quiet';
  return 'normal';
}

const RANK: Record<LogLevel, number> = { quiet: 0, normal: 1, verbose: 2, debug: 3 };

export function createLogger(level: LogLevel, write: (text: string) => void): Logger {
  const emit = (minimum: LogLevel, prefix: string, message: string): void => {
    if (RANK[level] < RANK[minimum]) return;
    for (const line of message.split('\n')) write(`${prefix}${line}\n`);
  };
  return {
    level,
    info: (message) => emit('normal', '', message),
    warn: (message) => emit('quiet', 'Warning: ', message),
    verbose: (message) => emit('verbose', '', message),
    debug: (message) => emit('debug', 'debug: ', message),
  };
}
