// A fault-injecting reverse proxy in front of a real registry, for the protocol corners
// a real registry will not produce on demand (5xx, 429, cut connections, missing
// headers, ECR's 201-for-PATCH, expiring tokens, S3-style blob redirects).
//
// Everything not touched by a fault is passed through: method, path, query, headers
// (except hop-by-hop ones and Host, which names the target) and bodies, streamed.
// Absolute `Location` headers that point at the registry are rewritten to point at
// the proxy, so upload sessions keep flowing through it.
import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';

export type FaultAction =
  /** Answer at once with this status; the registry never sees the request. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Forward, then end the client connection after `afterBytes` bytes of the response body
   *  (the response is never completed, even if the body is shorter). */
  | { kind: 'reset-mid-body'; afterBytes: number }
  /** Forward, then after `afterBytes` bytes of the response body send nothing more, keeping the connection
   *  open (a registry that froze mid-transfer); the connection is closed when the client gives up. */
  | { kind: 'stall-mid-body'; afterBytes: number }
  /** Forward, and remove this header from the registry's response. */
  | { kind: 'drop-header'; header: string }
  /** Forward, and replace status `from` by `to` (the fault is only used up when `from` occurs). */
  | { kind: 'rewrite-status'; from: number; to: number }
  /** Each distinct `Authorization: Bearer` value may make `requests` requests; later ones get the
   *  registry's own 401 challenge for that request plus `error="invalid_token"`, as if it expired.
   *  Requests without a bearer token are not affected. */
  | { kind: 'expire-token-after'; requests: number }
  /** Answer a GET of /v2/<name>/blobs/<digest> with 307 to a second server (host `localhost`, not
   *  127.0.0.1) that serves the blob like a presigned S3 URL: 403 if the request carries Authorization. */
  | { kind: 'redirect-blob-get' };

export interface FaultSpec {
  /** Case-insensitive; any method when omitted. */
  method?: string;
  /** Tested against the path with its query; any path when omitted. */
  path?: RegExp;
  /** How many times the fault fires; default 1, Infinity allowed. */
  times?: number;
  action: FaultAction;
}

export interface FaultHandle {
  readonly action: FaultAction;
  /** How many times the fault fired. */
  readonly hits: number;
  /** How many more times it may fire. */
  readonly remaining: number;
  remove(): void;
}

export interface ProxiedRequest {
  method: string;
  /** Path with query, as the client sent it. */
  path: string;
  /** Status the client got; undefined while in flight (or if the connection was cut before headers). */
  status: number | undefined;
  /** Request headers as the client sent them (lower-case names). */
  headers: IncomingHttpHeaders;
  /** The fault that fired for this request, if any. */
  fault?: FaultAction['kind'];
}

export interface RedirectedBlobRequest {
  method: string;
  path: string;
  /** Whether the client (wrongly) sent an Authorization header to the redirect target. */
  authorization: boolean;
  status: number | undefined;
}

export interface FaultProxyOptions {
  /** Registry base URL, e.g. 'http://127.0.0.1:5000' (http only). */
  target: string;
  /** If set, expire-token-after synthesizes its challenge from these instead of asking the registry. */
  tokenRealm?: string;
  tokenService?: string;
}

export interface FaultProxy {
  /** '127.0.0.1:PORT' */
  host: string;
  /** 'http://127.0.0.1:PORT' */
  url: string;
  target: string;
  /** 'localhost:PORT' of the redirect-blob-get target server. */
  blobHost: string;
  addFault(spec: FaultSpec): FaultHandle;
  clearFaults(): void;
  /** Every request the proxy received, in arrival order (live array). */
  requests: ProxiedRequest[];
  /** Every request the redirect target received (live array). */
  blobRequests: RedirectedBlobRequest[];
  clearRequests(): void;
  close(): Promise<void>;
}

// Hop-by-hop headers belong to one connection, not to the message. `expect` is
// included because this proxy's server already answered the 100-continue.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

const BLOB_GET = /^\/v2\/(.+)\/blobs\/([a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+)$/;

interface Fault {
  spec: FaultSpec;
  remaining: number;
  hits: number;
  /** expire-token-after: requests seen per bearer value. */
  bearerCounts: Map<string, number>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (target.protocol !== 'http:') throw new Error(`fault-proxy: only http targets are supported, got ${options.target}`);
  const targetOrigin = target.origin;
  const agent = new Agent({ keepAlive: true });

  let faults: Fault[] = [];
  const requests: ProxiedRequest[] = [];
  const blobRequests: RedirectedBlobRequest[] = [];
  /** redirect id -> what the blob server must fetch, with the credentials of the original request */
  const redirects = new Map<string, { path: string; authorization: string | undefined }>();

  let proxyOrigin = ''; // set once listening
  let blobPort = 0;

  /** Sends a request to the registry; the callback gets its response. */
  const upstream = (
    method: string,
    path: string,
    headers: OutgoingHttpHeaders,
    onResponse: (res: IncomingMessage) => void,
    onError: (err: Error) => void,
  ) => {
    const req = httpRequest(
      { host: target.hostname, port: target.port, method, path, headers: { ...headers, host: target.host }, agent },
      onResponse,
    );
    req.on('error', onError);
    return req;
  };

  const fail = (res: ServerResponse, err: Error): void => {
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`fault-proxy: upstream error: ${err.message}`);
    } else {
      res.destroy(err);
    }
  };

  /** The first fault that matches and fires for this request (request-time decision). */
  const pickFault = (req: IncomingMessage, path: string): Fault | undefined => {
    for (const fault of faults) {
      const { spec } = fault;
      if (fault.remaining <= 0) continue;
      if (spec.method && spec.method.toUpperCase() !== req.method) continue;
      if (spec.path) {
        spec.path.lastIndex = 0; // a /g regex would otherwise carry state between requests
        if (!spec.path.test(path)) continue;
      }
      const action = spec.action;
      if (action.kind === 'redirect-blob-get') {
        if (req.method !== 'GET' || !BLOB_GET.test(path.split('?')[0] ?? '')) continue;
      }
      if (action.kind === 'expire-token-after') {
        const bearer = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1];
        if (!bearer) continue;
        const seen = (fault.bearerCounts.get(bearer) ?? 0) + 1;
        fault.bearerCounts.set(bearer, seen);
        if (seen <= action.requests) continue;
      }
      if (action.kind !== 'rewrite-status') use(fault); // rewrite-status is used up only when `from` occurs
      return fault;
    }
    return undefined;
  };

  const use = (fault: Fault): void => {
    fault.remaining -= 1;
    fault.hits += 1;
  };

  /** The registry's challenge for this request, as it would answer without credentials. */
  const challengeFor = (req: IncomingMessage, path: string): Promise<string> => {
    const repo = BLOB_OR_MANIFEST.exec(path.split('?')[0] ?? '')?.[1];
    if (options.tokenRealm) {
      const actions = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'pull,push';
      const scope = repo ? `,scope="repository:${repo}:${actions}"` : '';
      return Promise.resolve(`Bearer realm="${options.tokenRealm}",service="${options.tokenService ?? ''}"${scope}`);
    }
    // Same method and path, no credentials and no body: a token-auth registry rejects
    // it before doing anything, with exactly the challenge a client must follow.
    return new Promise((resolve, reject) => {
      const headers = endToEnd(req.headers);
      delete headers.authorization;
      headers['content-length'] = '0';
      delete headers['content-type'];
      upstream(
        req.method ?? 'GET',
        path,
        headers,
        (res) => {
          res.resume();
          const challenge = res.headers['www-authenticate'];
          if (res.statusCode === 401 && challenge) resolve(challenge);
          else reject(new Error(`registry answered ${res.statusCode} without a challenge; set tokenRealm`));
        },
        reject,
      ).end();
    });
  };

  const forward = (req: IncomingMessage, res: ServerResponse, record: ProxiedRequest, fault: Fault | undefined): void => {
    const action = fault?.spec.action;
    const upReq = upstream(
      req.method ?? 'GET',
      record.path,
      endToEnd(req.headers),
      (up) => {
        let status = up.statusCode ?? 502;
        const headers = endToEnd(up.headers);
        const location = headers.location;
        if (typeof location === 'string' && location.startsWith(targetOrigin)) {
          headers.location = proxyOrigin + location.slice(targetOrigin.length);
        }
        if (fault && action?.kind === 'drop-header') delete headers[action.header.toLowerCase()];
        if (fault && action?.kind === 'rewrite-status') {
          if (status === action.from && fault.remaining > 0) {
            use(fault);
            status = action.to;
          } else {
            delete record.fault; // it did not fire after all
          }
        }
        record.status = status;
        res.writeHead(status, headers);

        if (action?.kind === 'reset-mid-body') {
          cutAfter(up, res, action.afterBytes);
        } else if (action?.kind === 'stall-mid-body') {
          stallAfter(up, res, action.afterBytes);
        } else {
          pipeline(up, res, () => undefined);
        }
      },
      (err) => fail(res, err),
    );
    pipeline(req, upReq, (err) => {
      if (err) upReq.destroy(err);
    });
    res.on('close', () => {
      if (!res.writableFinished) upReq.destroy();
    });
  };

  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const record: ProxiedRequest = { method: req.method ?? 'GET', path, status: undefined, headers: req.headers };
    requests.push(record);
    const fault = pickFault(req, path);
    const action = fault?.spec.action;
    if (action) record.fault = action.kind;

    switch (action?.kind) {
      case 'status': {
        req.resume();
        record.status = action.status;
        const body = action.body ?? '';
        res.writeHead(action.status, { 'content-length': Buffer.byteLength(body), ...action.headers });
        res.end(body);
        return;
      }
      case 'expire-token-after': {
        req.resume();
        challengeFor(req, path).then(
          (challenge) => {
            const expired = /error=/.test(challenge) ? challenge : `${challenge},error="invalid_token"`;
            const body = JSON.stringify({
              errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: 'token expired (fault-proxy)' }],
            });
            record.status = 401;
            res.writeHead(401, {
              'content-type': 'application/json; charset=utf-8',
              'content-length': Buffer.byteLength(body),
              'www-authenticate': expired,
              'docker-distribution-api-version': 'registry/2.0',
            });
            res.end(body);
          },
          (err: Error) => fail(res, err),
        );
        return;
      }
      case 'redirect-blob-get': {
        req.resume();
        const id = randomUUID();
        redirects.set(id, { path, authorization: req.headers.authorization });
        const digest = BLOB_GET.exec(path.split('?')[0] ?? '')?.[2] ?? '';
        record.status = 307;
        res.writeHead(307, {
          location: `http://localhost:${blobPort}/presigned/${id}?digest=${encodeURIComponent(digest)}`,
          'content-length': 0,
        });
        res.end();
        return;
      }
      default:
        forward(req, res, record, fault);
    }
  });

  // The redirect target: like S3 behind a presigned URL, it rejects any Authorization
  // header, and fetches the blob from the registry with the original request's credentials.
  const blobServer = createServer((req, res) => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const record: RedirectedBlobRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      authorization: req.headers.authorization !== undefined,
      status: undefined,
    };
    blobRequests.push(record);
    const answer = (status: number, body: string): void => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (record.authorization) {
      answer(403, '<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>');
      return;
    }
    const entry = redirects.get(/^\/presigned\/([^/]+)$/.exec(url.pathname)?.[1] ?? '');
    if (!entry || (req.method !== 'GET' && req.method !== 'HEAD')) {
      answer(404, '<Error><Code>NoSuchKey</Code></Error>');
      return;
    }
    const headers: OutgoingHttpHeaders = {};
    if (entry.authorization) headers.authorization = entry.authorization;
    if (req.headers.range) headers.range = req.headers.range;
    const upReq = upstream(
      req.method ?? 'GET',
      entry.path,
      headers,
      (up) => {
        record.status = up.statusCode;
        const out: OutgoingHttpHeaders = { 'content-type': 'application/octet-stream' };
        for (const name of ['content-length', 'content-range', 'accept-ranges', 'etag']) {
          const value = up.headers[name];
          if (value !== undefined) out[name] = value;
        }
        res.writeHead(up.statusCode ?? 502, out);
        pipeline(up, res, () => undefined);
      },
      (err) => fail(res, err),
    );
    upReq.end();
  });

  const port = await listen(server);
  blobPort = await listen(blobServer);
  proxyOrigin = `http://127.0.0.1:${port}`;

  return {
    host: `127.0.0.1:${port}`,
    url: proxyOrigin,
    target: targetOrigin,
    blobHost: `localhost:${blobPort}`,
    requests,
    blobRequests,
    addFault(spec) {
      const fault: Fault = { spec, remaining: spec.times ?? 1, hits: 0, bearerCounts: new Map() };
      faults.push(fault);
      return {
        action: spec.action,
        get hits() {
          return fault.hits;
        },
        get remaining() {
          return fault.remaining;
        },
        remove() {
          faults = faults.filter((f) => f !== fault);
        },
      };
    },
    clearFaults() {
      faults = [];
    },
    clearRequests() {
      requests.length = 0;
      blobRequests.length = 0;
    },
    async close() {
      const closed = [server, blobServer].map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      );
      await Promise.all(closed);
      agent.destroy();
    },
  };
}

const BLOB_OR_MANIFEST = /^\/v2\/(.+)\/(?:blobs|manifests|tags)\//;

/** Streams at most `afterBytes` bytes of `up` into `res`, then ends the connection uncompleted. */
function stallAfter(up: IncomingMessage, res: ServerResponse, afterBytes: number): void {
  let sent = 0;
  res.flushHeaders();
  up.on('data', (chunk: Buffer) => {
    if (sent >= afterBytes) return;
    const part = chunk.subarray(0, afterBytes - sent);
    sent += part.length;
    res.write(part);
  });
  // The client hangs up when its idle timeout fires; then the upstream response is dropped.
  res.on('close', () => up.destroy());
}

function cutAfter(up: IncomingMessage, res: ServerResponse, afterBytes: number): void {
  let sent = 0;
  let cut = false;
  const socket = res.socket;
  const doCut = (): void => {
    if (cut) return;
    cut = true;
    up.destroy();
    // end() (FIN after the queued bytes) rather than an RST, so the client
    // deterministically receives exactly `afterBytes` bytes before the cut.
    socket?.end();
    setTimeout(() => socket?.destroy(), 1000).unref();
  };
  if (afterBytes <= 0) {
    res.flushHeaders();
    doCut();
    return;
  }
  up.on('data', (chunk: Buffer) => {
    if (cut) return;
    const room = afterBytes - sent;
    const part = chunk.length < room ? chunk : chunk.subarray(0, room);
    sent += part.length;
    const ok = res.write(part);
    if (sent >= afterBytes) {
      doCut();
    } else if (!ok) {
      up.pause();
      res.once('drain', () => up.resume());
    }
  });
  // A body shorter than afterBytes is still never completed.
  up.on('end', doCut);
  up.on('error', doCut);
}
