// The HTTP layer under the registry client: requests over node:http's pooled connections (connections.ts),
// `--registry-timeout` on each of them, redirects that never carry Authorization to another host, retry
// decisions, and the conversion of failed responses into RegistryError. Bodies stream both ways as node Readables:
// a blob is never held whole.

import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { RegistryError, type RegistryErrorDetail } from '../errors.js';
import { ConnectionPools, type Route } from './connections.js';
import { closedError, timeoutError } from './network-errors.js';
import { proxyFor, type ProxySettings } from './proxy.js';
import { redactUrl } from './redact.js';

export { isRetryableNetworkError, isTimeoutError, isTlsError } from './network-errors.js';

export interface HttpOptions {
  /** Skip TLS certificate verification (`--skip-tls-verify-registry`). */
  skipTlsVerify?: boolean;
  /** Connections per origin. */
  connectionsPerHost?: number;
  userAgent?: string;
  /**
   * How long a connection may stay silent, each: while it is opened, while the response head is awaited, and
   * between two pieces of a body being read (`--registry-timeout`). A registry that stops answering fails the
   * request after this long; a body its reader has not asked for yet does not count.
   */
  timeoutMs?: number;
  /** HTTP(S) proxies (see proxy.ts); direct connections when absent. */
  proxy?: ProxySettings;
}

/** The default `--registry-timeout`: long enough for a slow registry, short enough that a frozen one is noticed. */
export const DEFAULT_REGISTRY_TIMEOUT_MS = 30_000;

export type RequestBody = Buffer | Uint8Array | string | Readable;

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Follow 3xx answers (manual, so Authorization is dropped across hosts). Default true for GET/HEAD. */
  followRedirects?: boolean;
}

/** Response headers, names in lower case; a repeated header (WWW-Authenticate) has every value. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

export interface HttpResponse {
  status: number;
  headers: ResponseHeaders;
  /**
   * The body (node:http's IncomingMessage). Read it to its end, drain() it or destroy it: until then its
   * connection serves no other request.
   */
  body: Readable;
  /** The URL that answered, after redirects. */
  url: URL;
}

const MAX_REDIRECTS = 5;

export class HttpTransport {
  private readonly pools: ConnectionPools;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  /** How to abort each exchange in flight, for close(). */
  private readonly inFlight = new Set<(error: Error) => void>();
  private closed = false;

  constructor(private readonly options: HttpOptions = {}) {
    this.userAgent = options.userAgent ?? 'slipway';
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REGISTRY_TIMEOUT_MS;
    this.pools = new ConnectionPools({
      connectionsPerHost: options.connectionsPerHost ?? 16,
      skipTlsVerify: options.skipTlsVerify ?? false,
      timeoutMs: this.timeoutMs,
    });
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    let headers: Record<string, string> = { 'user-agent': this.userAgent, ...req.headers };
    const follow = req.followRedirects ?? (req.method === 'GET' || req.method === 'HEAD');
    for (let hop = 0; ; hop++) {
      if (this.closed) throw closedError();
      const proxy = this.options.proxy === undefined ? undefined : proxyFor(url, this.options.proxy);
      const res = await exchange(this.pools.route(url, proxy), req.method, headers, req.body, this.timeoutMs, this.inFlight);
      const response: HttpResponse = { status: res.statusCode ?? 0, headers: headersOf(res), body: res, url };
      const location = header(response.headers, 'location');
      if (!follow || !isRedirect(response.status) || location === undefined || hop >= MAX_REDIRECTS) return response;
      await drain(res);
      const next = new URL(location, url);
      // Blob storage behind a redirect (S3, a CDN) must never see the registry's credentials.
      if (next.host !== url.host) headers = withoutAuthorization(headers);
      url = next;
    }
  }

  /**
   * End every connection, idle or busy, and fail what is in flight: the process can exit at once instead of
   * waiting for keep-alive connections or a request nobody awaits any more. Sends after this fail.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const abort of [...this.inFlight]) abort(closedError());
    this.pools.destroy();
  }
}

/**
 * Send one request and wait for its response head. The connection's idle timer (`timeoutMs`) runs from the start:
 * it fails a connection that does not open, a server that does not answer, and a body that stops coming while its
 * reader waits for it. A request body that fails or is destroyed before its end aborts the request.
 */
function exchange(
  route: Route, method: string, headers: Record<string, string>, body: RequestBody | undefined, timeoutMs: number,
  inFlight: Set<(error: Error) => void>,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = route.request({
      agent: route.agent,
      host: route.host,
      port: route.port,
      path: route.path,
      method,
      headers: { ...headers, ...route.headers },
      ...(route.servername !== undefined ? { servername: route.servername } : {}),
    });
    let response: IncomingMessage | undefined;
    const abort = (error: Error): void => {
      reject(error);
      if (response === undefined) req.destroy(error);
      else if (!response.destroyed) response.destroy(error);
    };
    inFlight.add(abort);
    req.once('close', () => inFlight.delete(abort));
    // After the head, a failure reaches the reader through the body; before it, it rejects.
    req.on('error', (error) => {
      if (response === undefined) reject(error);
    });
    req.once('response', (res: IncomingMessage) => {
      response = res;
      // Read by node:http when the response ends: a connection that is not to be reused is closed then.
      if (route.reusableAfter?.(res) === false) req.shouldKeepAlive = false;
      // node:http frees a connection when its response has been read to the end, even an empty one: an answer that
      // has no body is read at once, so that a caller looking only at the status and headers holds no connection.
      if (hasNoBody(method, res.statusCode)) res.resume();
      resolve(res);
    });
    req.once('socket', (socket: Socket) => watchIdle(req, socket, timeoutMs, () => response, abort));
    writeBody(req, body, () => response, abort);
  });
}

/** HEAD answers, 204 and 304 carry no body whatever their headers say (RFC 9110). */
function hasNoBody(method: string, status: number | undefined): boolean {
  return method === 'HEAD' || status === 204 || status === 304;
}

/** `--registry-timeout` on the connection of `req`, until the exchange ends and the connection is free again. */
function watchIdle(req: ClientRequest, socket: Socket, timeoutMs: number, response: () => IncomingMessage | undefined, abort: (error: Error) => void): void {
  const rearm = (): void => {
    socket.setTimeout(timeoutMs);
  };
  const onTimeout = (): void => {
    const res = response();
    // A complete response has nothing more to wait for; a body its reader does not read yet (the socket is paused
    // by backpressure) is no stalled server: look again once the reader resumes it.
    if (res?.complete) return;
    if (res !== undefined && socket.isPaused()) {
      socket.once('resume', rearm);
      return;
    }
    abort(timeoutError(res !== undefined ? 'body' : socket.connecting ? 'connect' : 'headers', timeoutMs));
  };
  socket.setTimeout(timeoutMs);
  socket.on('timeout', onTimeout);
  req.once('close', () => {
    socket.off('timeout', onTimeout);
    socket.off('resume', rearm);
    socket.setTimeout(0);
  });
}

function writeBody(req: ClientRequest, body: RequestBody | undefined, response: () => IncomingMessage | undefined, abort: (error: Error) => void): void {
  if (body === undefined) {
    req.end();
    return;
  }
  if (!(body instanceof Readable)) {
    req.end(body);
    return;
  }
  // A source that fails or is destroyed before its end must not leave a request half sent on a pooled connection.
  // Before the answer, that fails the request. After it (a server that answered early, say 401, and the caller
  // released the source), the answer is still read; then the connection goes, since it carries a cut request.
  const cut = (error: Error): void => {
    const res = response();
    if (res === undefined) abort(error);
    else if (res.closed) req.destroy();
    else res.once('close', () => req.destroy());
  };
  body.once('error', cut);
  body.once('close', () => {
    if (!body.readableEnded) cut(Object.assign(new Error('the request body ended early'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
  });
  body.pipe(req);
}

/** The headers as one record: a header that came once is a string, a repeated one an array of its values. */
function headersOf(res: IncomingMessage): ResponseHeaders {
  const out: ResponseHeaders = {};
  for (const [name, values] of Object.entries(res.headersDistinct)) {
    if (values !== undefined) out[name] = values.length === 1 ? values[0] : values;
  }
  return out;
}

/**
 * Read and discard what is left of a body, so that its connection can serve another request; a long one (more than
 * `limit` bytes) is cut instead, closing its connection, which costs less than reading it. Never throws: a body that
 * breaks has nothing left to read.
 */
export async function drain(body: Readable, limit = 256 * 1024): Promise<void> {
  if (body.readableEnded || body.destroyed) return;
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > limit) break;
    }
  } catch {
    // Nothing to do: the connection is gone with the body.
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'authorization') out[k] = v;
  return out;
}

/** One header's value as a string (the first when repeated). */
export function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Every value of a repeatable header such as WWW-Authenticate. */
export function headerValues(headers: ResponseHeaders, name: string): string[] {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Delay before retry `attempt` (0-based): Retry-After when the server gave one, else exponential backoff with jitter. */
export function retryDelayMs(attempt: number, baseMs: number, retryAfter: string | undefined, maxMs: number): number {
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, maxMs);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.min(Math.max(0, date - Date.now()), maxMs);
  }
  const backoff = baseMs * 2 ** attempt;
  return Math.min(backoff + Math.random() * backoff * 0.25, maxMs);
}

function hintForStatus(status: number, registry: string): string | undefined {
  switch (status) {
    case 401:
      return `check the credentials for ${registry} in the docker config (docker login ${registry}, or --docker-config DIR)`;
    case 403:
      return `the credentials for ${registry} are valid but lack permission for this repository or action`;
    case 404:
      return 'check the repository name, tag or digest';
    case 405:
      return 'the registry does not allow this operation (for deletes, the registry must have deletion enabled)';
    case 429:
      return 'the registry is rate-limiting requests: retry later or raise --registry-retries';
    default:
      return status >= 500 ? 'the registry failed; retry later' : undefined;
  }
}

/** Read a failed response's body (bounded) and turn it into a RegistryError. */
export async function errorFromResponse(res: HttpResponse, method: string, what: string, registry: string): Promise<RegistryError> {
  let details: RegistryErrorDetail[] = [];
  let text = '';
  if (method !== 'HEAD') {
    text = await readBounded(res.body, 64 * 1024);
    try {
      const parsed = JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] };
      details = (parsed.errors ?? [])
        .filter((e) => typeof e.code === 'string')
        .map((e) => ({ code: String(e.code), ...(typeof e.message === 'string' ? { message: e.message } : {}) }));
    } catch {
      // Not a distribution error document; keep a snippet of the text instead.
    }
  } else {
    await drain(res.body);
  }
  const summary = details.length > 0
    ? details.map((d) => (d.message ? `${d.code}: ${d.message}` : d.code)).join('; ')
    : text.trim().slice(0, 200);
  const url = redactUrl(res.url);
  const message = `${what}: ${method} ${url} answered ${res.status}${summary ? ` (${summary})` : ''}`;
  const hint = hintForStatus(res.status, registry);
  return new RegistryError(message, { method, url, status: res.status, errors: details, ...(hint ? { hint } : {}) });
}

async function readBounded(body: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.from(chunk as Uint8Array);
    if (size < limit) chunks.push(buf.subarray(0, limit - size));
    size += buf.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Read a whole (small) body, refusing more than `limit` bytes. */
export async function readBody(body: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.from(chunk as Uint8Array);
    size += buf.length;
    if (size > limit) {
      body.destroy();
      throw new RegistryError(`${what}: larger than ${limit} bytes`, { method: 'GET', url: what });
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}
