// The HTTP layer under the registry client: one undici Agent (a connection pool per
// origin), redirects that never carry Authorization to another host, retry decisions,
// and the conversion of failed responses into RegistryError.

import { Readable } from 'node:stream';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { RegistryError, type RegistryErrorDetail } from '../errors.js';
import { proxyFor, type ProxySettings } from './proxy.js';
import { redactUrl } from './redact.js';

export interface HttpOptions {
  /** Skip TLS certificate verification (`--skip-tls-verify-registry`). */
  skipTlsVerify?: boolean;
  /** Connections per origin. */
  connectionsPerHost?: number;
  userAgent?: string;
  /**
   * How long to wait for a connection, for the response headers, and between two pieces of a body, each
   * (`--registry-timeout`). A registry that stops answering fails the request after this long.
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

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered, after redirects. */
  url: URL;
}

const MAX_REDIRECTS = 5;

export class HttpTransport {
  private readonly direct: Agent;
  private readonly proxies = new Map<string, ProxyAgent>();
  private readonly userAgent: string;
  private readonly dispatcherOptions: Agent.Options;

  constructor(private readonly options: HttpOptions = {}) {
    this.userAgent = options.userAgent ?? 'slipway';
    const timeout = options.timeoutMs ?? DEFAULT_REGISTRY_TIMEOUT_MS;
    this.dispatcherOptions = {
      connections: options.connectionsPerHost ?? 16,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      // Node's default CA store already includes NODE_EXTRA_CA_CERTS.
      connect: { rejectUnauthorized: !options.skipTlsVerify, timeout },
    };
    this.direct = new Agent(this.dispatcherOptions);
  }

  /** The connection pool for `url`: direct, or through the proxy the environment names for it. */
  private dispatcherFor(url: URL): Dispatcher {
    const proxy = this.options.proxy === undefined ? undefined : proxyFor(url, this.options.proxy);
    if (proxy === undefined) return this.direct;
    let agent = this.proxies.get(proxy);
    if (agent === undefined) {
      const tls = { rejectUnauthorized: !this.options.skipTlsVerify, timeout: this.dispatcherOptions.headersTimeout ?? DEFAULT_REGISTRY_TIMEOUT_MS };
      agent = new ProxyAgent({ ...this.dispatcherOptions, uri: proxy, requestTls: tls, proxyTls: tls });
      this.proxies.set(proxy, agent);
    }
    return agent;
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    let headers: Record<string, string> = { 'user-agent': this.userAgent, ...req.headers };
    const follow = req.followRedirects ?? (req.method === 'GET' || req.method === 'HEAD');
    for (let hop = 0; ; hop++) {
      const res = await request(url, {
        dispatcher: this.dispatcherFor(url),
        method: req.method as Dispatcher.HttpMethod,
        headers,
        body: req.body,
      });
      const location = header(res.headers, 'location');
      if (!follow || !isRedirect(res.statusCode) || location === undefined || hop >= MAX_REDIRECTS) {
        return { status: res.statusCode, headers: res.headers, body: res.body, url };
      }
      await res.body.dump();
      const next = new URL(location, url);
      // Blob storage behind a redirect (S3, a CDN) must never see the registry's credentials.
      if (next.host !== url.host) headers = withoutAuthorization(headers);
      url = next;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.direct.close(), ...[...this.proxies.values()].map((p) => p.close())]);
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
export function header(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Every value of a repeatable header such as WWW-Authenticate. */
export function headerValues(headers: HttpResponse['headers'], name: string): string[] {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** The registry did not connect, answer or go on sending within the timeout. */
const TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

// A connection that broke or a network that hiccuped is worth another try. A refused connection and a host name
// that does not resolve are not: nothing listens there or the name is wrong, and retrying only delays the error.
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE', ...TIMEOUT_CODES,
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

/** The registry did not connect, answer or go on sending within `--registry-timeout`. */
export function isTimeoutError(error: unknown): boolean {
  return errorCode(error, TIMEOUT_CODES) !== undefined;
}

export function isTlsError(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (/CERT|SELF_SIGNED|TLS|SSL|ERR_SSL/.test(code) || /wrong version number|packet length too long/i.test(e.message)) return true;
  }
  return false;
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
    await res.body.dump();
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
