// The Slipway side of bench/copy.ts, run as its own process per copy so that it pays
// process start-up like `skopeo copy` does, and so that its peak RSS is its own.
//
//   node bench/.build/bench/copy-worker.js SRC DST [--concurrency N] [--trace]
//
// SRC and DST are image references (`127.0.0.1:PORT/repo:tag`). It does what
// `slipway copy SRC DST` does (src/cli/commands/copy.ts): one RegistryClient with the
// docker-config credentials, openLocation() for both ends, copyImage(); without
// commander and the rest of the CLI. It imports the built library (`slipway`, i.e. dist/),
// compiled from this file by bench/copy.ts with tsc, so no TypeScript loader runs here.
//
// Prints one JSON line on stdout (WorkerReport). With --trace, every ImageStore call is
// timed and listed in `trace` (start and end in ms since process start).
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

export interface TraceEvent {
  store: 'src' | 'dst';
  call: string;
  arg: string;
  startMs: number;
  endMs: number;
  /** For readBlob: when the returned stream ended. */
  streamEndMs?: number;
}

export interface WorkerReport {
  /** When the worker's own code started running, ms since process start (Node bootstrap). */
  startMs: number;
  /** Time to import the library (dist/index.js and its dependencies). */
  importMs: number;
  /** copyImage() itself, client creation to close. */
  copyMs: number;
  /** Process uptime when the report was written. */
  totalMs: number;
  /** process.resourceUsage().maxRSS: peak resident set, KiB. */
  maxRssKiB: number;
  result: { digest: string; skipped: boolean; blobs: Record<string, number>; bytesUploaded: number };
  trace?: TraceEvent[];
}

const startMs = performance.now();
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { concurrency: { type: 'string' }, trace: { type: 'boolean', default: false } },
});
const [source, destination] = positionals;
if (source === undefined || destination === undefined) {
  process.stderr.write('usage: copy-worker SRC DST [--concurrency N] [--trace]\n');
  process.exit(2);
}

const beforeImport = performance.now();
const slipway = await import('slipway');
const importMs = performance.now() - beforeImport;

type ImageStore = import('slipway').ImageStore;
const trace: TraceEvent[] | undefined = values.trace ? [] : undefined;

/** An ImageStore whose async calls are recorded in `trace`. */
function traced(store: ImageStore, label: 'src' | 'dst'): ImageStore {
  if (!trace) return store;
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const first = args[0] as { descriptor?: { digest: string }; digest?: string } | string | undefined;
        const arg = typeof first === 'string' ? first : first?.descriptor?.digest ?? first?.digest ?? '';
        const event: TraceEvent = { store: label, call: String(property), arg, startMs: performance.now(), endMs: 0 };
        trace.push(event);
        const out = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (out instanceof Promise) {
          return out.then((v: unknown) => {
            event.endMs = performance.now();
            if (property === 'readBlob' && v && typeof (v as NodeJS.ReadableStream).once === 'function') {
              (v as NodeJS.ReadableStream).once('end', () => (event.streamEndMs = performance.now()));
            }
            return v;
          });
        }
        event.endMs = performance.now();
        return out;
      };
    },
  });
}

const beforeCopy = performance.now();
const client = new slipway.RegistryClient({ credentials: slipway.dockerConfigCredentials() });
let result: import('slipway').CopyResult;
try {
  const src = await slipway.openLocation(source, { client });
  const dst = await slipway.openLocation(destination, { client, create: true });
  const concurrency = values.concurrency !== undefined ? Number(values.concurrency) : undefined;
  result = await slipway.copyImage(traced(src.store, 'src'), src.target, traced(dst.store, 'dst'), {
    ...(dst.tag ? { tag: dst.tag } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
  });
  await Promise.all([src.store.close(), dst.store.close()]);
} finally {
  await client.close();
}
const copyMs = performance.now() - beforeCopy;

const report: WorkerReport = {
  startMs,
  importMs,
  copyMs,
  totalMs: performance.now(),
  maxRssKiB: process.resourceUsage().maxRSS,
  result: { digest: result.digest, skipped: result.skipped, blobs: result.blobs, bytesUploaded: result.bytesUploaded },
  ...(trace ? { trace } : {}),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
