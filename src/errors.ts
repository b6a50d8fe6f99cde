// The one error hierarchy of Slipway. Every module throws one of these (or lets a
// cause bubble up wrapped in one); src/cli/exit.ts is the only place that turns
// them into exit codes and messages.

export interface SlipwayErrorOptions {
  cause?: unknown;
  /** What the user can do about it, printed after the message. */
  hint?: string;
}

export class SlipwayError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, options: SlipwayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** The command line or an option value is wrong. */
export class UsageError extends SlipwayError {}

/** A reference, digest or document given by the user or read from somewhere is malformed. */
export class InvalidInputError extends SlipwayError {}

/** werf.yaml and its templates. */
export class ConfigError extends SlipwayError {}

/** Building an image failed. */
export class BuildError extends SlipwayError {}

/** Content does not match what it claims to be (digest or size mismatch). */
export class IntegrityError extends SlipwayError {}

/** Two writers or two plans disagree (a tag collision, a destination that would overwrite a stage). */
export class ConflictError extends SlipwayError {}

/** The object asked for does not exist. */
export class NotFoundError extends SlipwayError {}

export interface RegistryErrorDetail {
  code: string;
  message?: string;
}

export interface RegistryErrorInit extends SlipwayErrorOptions {
  method: string;
  /** Already redacted: no credentials, no query secrets. */
  url: string;
  status?: number;
  errors?: RegistryErrorDetail[];
}

/** A registry answered with an error, or could not be reached. */
export class RegistryError extends SlipwayError {
  readonly method: string;
  readonly url: string;
  readonly status: number | undefined;
  readonly errors: RegistryErrorDetail[];

  constructor(message: string, init: RegistryErrorInit) {
    super(message, init);
    this.method = init.method;
    this.url = init.url;
    this.status = init.status;
    this.errors = init.errors ?? [];
  }

  /** True when the registry reported one of the given distribution error codes. */
  hasCode(...codes: string[]): boolean {
    return this.errors.some((e) => codes.includes(e.code));
  }
}

/** Describe any thrown value as one line, following the chain of causes. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** What to do about a system error that comes from the machine (a full disk, a denied write), or undefined. */
export function systemErrorHint(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return 'the disk is full: free some space and run again';
    case 'EACCES':
    case 'EPERM':
      return 'no permission: check the owner and mode of the file or directory named';
    case 'EROFS':
      return 'the filesystem is read-only: write somewhere else';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files: raise the limit (ulimit -n)';
    default:
      return undefined;
  }
}
