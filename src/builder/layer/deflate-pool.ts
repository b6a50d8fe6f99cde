// A process-wide pool of worker threads that deflate blocks for the parallel gzip writer.
//
// One pool for the whole process, sized to the machine's cores: however many layers are
// built at once, compression never asks for more CPUs than there are, and it stays off
// libuv's threadpool (4 threads shared with every fs call and DNS lookup). Workers are
// started on first use and unref'd while idle, so an idle pool never keeps the process
// alive; a worker with a job in hand is ref'd, so a process awaiting a layer does not exit.
//
// The worker is inline JavaScript (eval), so it runs the same from src/ under tsx or
// vitest as from dist/. Each job transfers its input ArrayBuffer to the worker and gets
// it back with the compressed bytes and the CRC-32 of the input.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { BuildError } from '../../errors.js';

const WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
let table;
function crcJs(bytes) {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
const crc32 = typeof zlib.crc32 === 'function' ? (b) => zlib.crc32(b) >>> 0 : crcJs;
parentPort.on('message', (job) => {
  const input = new Uint8Array(job.input, 0, job.length);
  try {
    const options = {
      level: job.level,
      finishFlush: job.final ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
      chunkSize: Math.max(16384, job.length + (job.length >>> 3) + 1024),
    };
    if (job.dictionary) options.dictionary = job.dictionary;
    const out = zlib.deflateRawSync(input, options);
    const crc = crc32(input);
    const exact = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength
      ? out.buffer
      : out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
    parentPort.postMessage({ id: job.id, output: exact, crc, input: job.input }, [exact, job.input]);
  } catch (error) {
    parentPort.postMessage({ id: job.id, error: String((error && error.message) || error), input: job.input }, [job.input]);
  }
});
`;

export interface DeflateJob {
  /** A standalone ArrayBuffer (it is transferred to the worker and back). */
  input: ArrayBuffer;
  /** Bytes of `input` to compress, from offset 0. */
  length: number;
  level: number;
  /** End the deflate stream (Z_FINISH) rather than byte-align it with an empty stored block (Z_SYNC_FLUSH). */
  final: boolean;
  /** Up to 32 KiB that precede this block in the stream: back-references may point into them. */
  dictionary?: Uint8Array;
}

export interface DeflateResult {
  output: Buffer;
  /** CRC-32 of the input bytes. */
  crc: number;
  /** The job's input buffer, handed back for reuse. */
  input: ArrayBuffer;
}

interface Pending {
  job: DeflateJob;
  resolve: (result: DeflateResult) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  busy: Pending | undefined;
}

export class DeflatePool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private closed = false;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`deflate pool size must be a positive integer, got ${size}`);
  }

  run(job: DeflateJob): Promise<DeflateResult> {
    if (this.closed) return Promise.reject(new BuildError('the compression worker pool was closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.dispatch();
    });
  }

  /** Stop every worker; queued and running jobs fail. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new BuildError('the compression worker pool was closed');
    for (const p of this.queue.splice(0)) p.reject(error);
    const workers = this.workers.splice(0);
    for (const w of workers) w.busy?.reject(error);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let idle = this.workers.find((w) => w.busy === undefined);
      if (idle === undefined && this.workers.length < this.size) idle = this.spawn();
      if (idle === undefined) return;
      const pending = this.queue.shift()!;
      idle.busy = pending;
      idle.worker.ref();
      const { job } = pending;
      const message = { id: this.nextId++, input: job.input, length: job.length, level: job.level, final: job.final, dictionary: job.dictionary };
      try {
        idle.worker.postMessage(message, [job.input]);
      } catch (error) {
        idle.busy = undefined;
        pending.reject(new BuildError(`cannot hand a block to a compression worker: ${(error as Error).message}`, { cause: error }));
      }
    }
  }

  private spawn(): PoolWorker {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    const entry: PoolWorker = { worker, busy: undefined };
    worker.unref();
    worker.on('message', (message: { output?: ArrayBuffer; crc?: number; input: ArrayBuffer; error?: string }) => {
      const pending = entry.busy;
      entry.busy = undefined;
      worker.unref();
      if (pending !== undefined) {
        if (message.error !== undefined) pending.reject(new BuildError(`compressing a layer block failed: ${message.error}`));
        else pending.resolve({ output: Buffer.from(message.output!), crc: message.crc!, input: message.input });
      }
      this.dispatch();
    });
    const fail = (error: Error): void => {
      const index = this.workers.indexOf(entry);
      if (index >= 0) this.workers.splice(index, 1);
      const pending = entry.busy;
      entry.busy = undefined;
      pending?.reject(new BuildError(`a compression worker failed: ${error.message}`, { cause: error }));
      this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.workers.includes(entry)) fail(new Error(`it exited with code ${code}`));
    });
    this.workers.push(entry);
    return entry;
  }
}

let shared: DeflatePool | undefined;

/** The process-wide pool: one worker per core (availableParallelism()). */
export function sharedDeflatePool(): DeflatePool {
  shared ??= new DeflatePool(Math.max(1, availableParallelism()));
  return shared;
}
