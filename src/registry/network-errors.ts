// What a failed request means for the one who sent it: worth a retry, a timeout (`--registry-timeout`), a TLS
// problem. Node's sockets name their failures by `code` (ECONNRESET, CERT_HAS_EXPIRED, ...); the timeouts are ours
// (connections.ts and http.ts enforce them) and carry codes of ours, so that all of these are read the same way,
// through the error and its causes.

/** The phases `--registry-timeout` bounds, each with its own code. */
export type TimeoutPhase = 'connect' | 'headers' | 'body';

const TIMEOUT_CODE: Readonly<Record<TimeoutPhase, string>> = {
  connect: 'SLIPWAY_CONNECT_TIMEOUT',
  headers: 'SLIPWAY_HEADERS_TIMEOUT',
  body: 'SLIPWAY_BODY_TIMEOUT',
};

const TIMEOUT_WHAT: Readonly<Record<TimeoutPhase, string>> = {
  connect: 'no connection',
  headers: 'no answer',
  body: 'the body stalled: nothing more arrived',
};

/** The error for a server that did not connect, answer or go on sending within `timeoutMs`. */
export function timeoutError(phase: TimeoutPhase, timeoutMs: number): Error {
  return Object.assign(new Error(`${TIMEOUT_WHAT[phase]} within ${timeoutMs / 1000} s`), { code: TIMEOUT_CODE[phase] });
}

/** The error for an exchange on a transport that was closed. */
export function closedError(): Error {
  return Object.assign(new Error('the HTTP transport was closed'), { code: 'SLIPWAY_TRANSPORT_CLOSED' });
}

const TIMEOUT_CODES: ReadonlySet<string> = new Set(Object.values(TIMEOUT_CODE));

// A connection that broke or a network that hiccuped is worth another try. A refused connection and a host name
// that does not resolve are not: nothing listens there or the name is wrong, and retrying only delays the error.
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'ERR_STREAM_PREMATURE_CLOSE', ...TIMEOUT_CODES,
]);

function errorCode(error: unknown, codes: ReadonlySet<string>): string | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && codes.has(code)) return code;
  }
  return undefined;
}

/** A network-level failure worth another try (not a TLS verification failure, a refusal or a name that does not resolve). */
export function isRetryableNetworkError(error: unknown): boolean {
  return errorCode(error, RETRYABLE_CODES) !== undefined;
}

/** The server did not connect, answer or go on sending within `--registry-timeout`. */
export function isTimeoutError(error: unknown): boolean {
  return errorCode(error, TIMEOUT_CODES) !== undefined;
}

/** A TLS failure: an untrusted or invalid certificate, or a server that does not speak TLS on that port. */
export function isTlsError(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|TLS|SSL/.test(code) || /wrong version number|packet length too long/i.test(e.message)) return true;
  }
  return false;
}
