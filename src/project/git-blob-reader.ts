// Streams of committed files: read in-process (git-reader.ts) when the repository allows, else
// through one long-lived `git cat-file --batch` process per work tree. Starting a git process per
// file cost ~27 ms of blocked main thread each (bench/build: 700 processes, 20 s, for a context of
// 360 small files); one process answers them all. Requests are served one at a time, in order; a
// stream the caller abandons is drained so the next request is not held up.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { ConfigError } from '../errors.js';
import { gitEnv } from './git.js';
import { tryReader } from './git-reader.js';

interface Request {
  objectId: string;
  out: PassThrough;
}

type Phase = { kind: 'header' } | { kind: 'body'; remaining: number } | { kind: 'newline' };

class GitBlobReader {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly queue: Request[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private phase: Phase = { kind: 'header' };
  private failed: Error | undefined;

  constructor(workTree: string, env: NodeJS.ProcessEnv) {
    this.child = spawn('git', ['-c', 'core.quotepath=off', 'cat-file', '--batch'], { cwd: workTree, env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    this.child.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    const stderr: Buffer[] = [];
    this.child.stderr.on('data', (chunk: Buffer) => { if (stderr.length < 16) stderr.push(chunk); });
    this.child.on('error', (error) => this.fail(new ConfigError(`cannot run git cat-file: ${error.message}`, { cause: error })));
    this.child.on('close', (code) => this.fail(new ConfigError(`git cat-file --batch ended (exit code ${String(code)}): ${Buffer.concat(stderr).toString('utf8').trim() || 'no message'}`)));
    this.idle();
  }

  open(objectId: string): Readable {
    const out = new PassThrough();
    if (this.failed) {
      process.nextTick(() => out.destroy(this.failed));
      return out;
    }
    this.queue.push({ objectId, out });
    if (this.queue.length === 1) this.start();
    return out;
  }

  /** Ask for the request at the head of the queue. */
  private start(): void {
    this.busy();
    this.child.stdin.write(`${this.queue[0]!.objectId}\n`);
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.queue.length > 0 && this.buffer.length > 0) {
      const request = this.queue[0]!;
      if (this.phase.kind === 'header') {
        const end = this.buffer.indexOf(0x0a);
        if (end < 0) return;
        const header = this.buffer.subarray(0, end).toString('utf8');
        this.buffer = this.buffer.subarray(end + 1);
        const match = /^[0-9a-f]+ (\S+) (\d+)$/.exec(header);
        if (!match || match[1] !== 'blob') {
          request.out.destroy(new ConfigError(`git object ${request.objectId} is not a readable blob (${header})`));
          this.next();
          continue;
        }
        this.phase = { kind: 'body', remaining: Number(match[2]) };
        if (this.phase.remaining === 0) this.finishBody(request);
      } else if (this.phase.kind === 'body') {
        const take = Math.min(this.phase.remaining, this.buffer.length);
        const piece = this.buffer.subarray(0, take);
        this.buffer = this.buffer.subarray(take);
        this.phase.remaining -= take;
        // Backpressure: a slow reader pauses git's output until it catches up.
        if (!request.out.destroyed && !request.out.write(piece) && !this.child.stdout.isPaused()) {
          this.child.stdout.pause();
          // One pair of listeners per pause, both removed by whichever fires: a slow reader (a full disk) must not
          // pile up a 'close' listener per chunk.
          const resume = (): void => {
            request.out.off('drain', resume);
            request.out.off('close', resume);
            this.child.stdout.resume();
          };
          request.out.on('drain', resume);
          request.out.on('close', resume);
        }
        if (this.phase.remaining === 0) this.finishBody(request);
      } else {
        this.buffer = this.buffer.subarray(1); // the newline after the contents
        this.next();
      }
    }
  }

  private finishBody(request: Request): void {
    if (!request.out.destroyed) request.out.end();
    this.phase = { kind: 'newline' };
  }

  private next(): void {
    this.queue.shift();
    this.phase = { kind: 'header' };
    if (this.queue.length > 0) this.start();
    else this.idle();
  }

  private fail(error: Error): void {
    this.failed ??= error;
    for (const request of this.queue.splice(0)) request.out.destroy(error);
    readers.forEach((reader, key) => { if (reader === this) readers.delete(key); });
  }

  // An idle reader must not keep the process alive; a busy one must.
  private idle(): void {
    this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
  }

  private busy(): void {
    this.child.ref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) (stream as unknown as { ref?: () => void }).ref?.();
  }
}

const readers = new Map<string, GitBlobReader>();

/**
 * A stream of a committed blob: from the in-process reader, or (a repository it leaves to git, an object it does not
 * find) through the work tree's shared `git cat-file --batch`, started with `env` (default: gitEnv(), made then).
 */
export function openCommittedBlob(workTree: string, objectId: string, env?: NodeJS.ProcessEnv): Readable {
  const stream = /^[0-9a-f]{40}$/.test(objectId) ? tryReader(workTree, (git) => git.openBlob(objectId)) : undefined;
  if (stream !== undefined) return stream;
  let reader = readers.get(workTree);
  if (!reader) {
    reader = new GitBlobReader(workTree, env ?? gitEnv());
    readers.set(workTree, reader);
  }
  return reader.open(objectId);
}
