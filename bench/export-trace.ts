// A preload for the Slipway runs of bench/export.ts under --trace:
//
//   node --import bench/.build/bench/export-trace.js dist/slipway.cjs export ...
//
// It records, in ms since the process started (performance.now()), every HTTP request
// node:http makes (from its diagnostics channels: started, request body sent, response
// head, response end), every TCP connection opened, and every stderr write (Slipway's log
// lines), and writes them as one JSON document (ExportTrace) to $SLIPWAY_BENCH_TRACE when
// the process exits. It touches nothing in Slipway; its own cost is a few ms of start-up
// (this module and node:diagnostics_channel) and microseconds per request: the big blob
// bodies are not followed chunk by chunk.
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface TracedRequest {
  method: string;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  path: string;
  status?: number;
  /** node:http started the request (it may wait for a connection of the pool from here). */
  createdMs: number;
  /** The request body (if any) was fully written. */
  bodySentMs?: number;
  /** The response head arrived. */
  headersMs?: number;
  /** The response body ended (its reader read it all). */
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

const now = (): number => performance.now();
const byRequest = new WeakMap<ClientRequest, TracedRequest>();

if (file) {
  subscribe('http.client.request.start', (message) => {
    const request = (message as { request: ClientRequest }).request;
    const event: TracedRequest = {
      method: request.method, origin: `${request.protocol}//${String(request.getHeader('host'))}`, path: request.path, createdMs: now(),
    };
    trace.requests.push(event);
    byRequest.set(request, event);
    request.once('finish', () => (event.bodySentMs = now()));
    request.once('response', (response: IncomingMessage) => {
      event.headersMs = now();
      event.status = response.statusCode;
      response.once('end', () => (event.endMs = now()));
    });
  });
  // A channel, not an 'error' listener: one of ours would keep an error nobody handles from surfacing.
  subscribe('http.client.request.error', (message) => {
    const { request, error } = message as { request: ClientRequest; error: unknown };
    const event = byRequest.get(request);
    if (event) {
      event.endMs ??= now();
      event.error = String(error);
    }
  });
  subscribe('net.client.socket', (message) => {
    const socket = (message as { socket: Socket }).socket;
    socket.once('connect', () => trace.connections.push({ origin: `http://${socket.remoteAddress}:${socket.remotePort}`, ms: now() }));
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
