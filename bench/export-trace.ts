// A preload for the Slipway runs of bench/export.ts under --trace:
//
//   node --import bench/.build/bench/export-trace.js dist/slipway.cjs export ...
//
// It records, in ms since the process started (performance.now()), every HTTP request
// undici makes (from its diagnostics channels: created, request body sent, response
// head, response end), every connection it opens, and every stderr write (Slipway's log
// lines), and writes them as one JSON document (ExportTrace) to $SLIPWAY_BENCH_TRACE when
// the process exits. It touches nothing in Slipway; its own cost is a few ms of start-up
// (this module and node:diagnostics_channel) and microseconds per request: the big blob
// bodies are not followed chunk by chunk.
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface TracedRequest {
  method: string;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  path: string;
  status?: number;
  /** undici created the request (it is queued for a connection from here). */
  createdMs: number;
  /** The request body (if any) was fully written. */
  bodySentMs?: number;
  /** The response head arrived. */
  headersMs?: number;
  /** The response body ended (undici's trailers event). */
  endMs?: number;
  error?: string;
}

export interface ExportTrace {
  /** When this preload ran: Node's bootstrap before any of Slipway's modules. */
  preloadMs: number;
  requests: TracedRequest[];
  connections: { origin: string; ms: number }[];
  stderr: { ms: number; text: string }[];
  /** process 'exit' event. */
  exitMs: number;
}

const file = process.env.SLIPWAY_BENCH_TRACE;
const trace: ExportTrace = { preloadMs: performance.now(), requests: [], connections: [], stderr: [], exitMs: 0 };

interface UndiciRequest { method: string; origin: unknown; path: string }
const byRequest = new WeakMap<object, TracedRequest>();
const now = (): number => performance.now();
const at = (message: unknown): TracedRequest | undefined => byRequest.get((message as { request: object }).request);

if (file) {
  subscribe('undici:request:create', (message) => {
    const request = (message as { request: UndiciRequest }).request;
    const event: TracedRequest = { method: request.method, origin: String(request.origin), path: request.path, createdMs: now() };
    byRequest.set(request, event);
    trace.requests.push(event);
  });
  subscribe('undici:request:bodySent', (message) => {
    const event = at(message);
    if (event) event.bodySentMs = now();
  });
  subscribe('undici:request:headers', (message) => {
    const event = at(message);
    if (event) {
      event.headersMs = now();
      event.status = (message as { response: { statusCode: number } }).response.statusCode;
    }
  });
  subscribe('undici:request:trailers', (message) => {
    const event = at(message);
    if (event) event.endMs = now();
  });
  subscribe('undici:request:error', (message) => {
    const event = at(message);
    if (event) {
      event.endMs = now();
      event.error = String((message as { error: unknown }).error);
    }
  });
  subscribe('undici:client:connected', (message) => {
    const { connectParams } = message as { connectParams: { protocol: string; hostname: string; port: string } };
    trace.connections.push({ origin: `${connectParams.protocol}//${connectParams.hostname}:${connectParams.port}`, ms: now() });
  });

  const write = process.stderr.write.bind(process.stderr) as (...args: unknown[]) => boolean;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    trace.stderr.push({ ms: now(), text: String(chunk).slice(0, 200) });
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;

  process.once('exit', () => {
    trace.exitMs = now();
    writeFileSync(file, JSON.stringify(trace));
  });
}
