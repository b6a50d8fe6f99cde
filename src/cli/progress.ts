// How the CLI shows a transfer. On a terminal: one line rewritten in place, with the blobs done and the bytes moved
// so far, large blobs included as they stream. Without one (CI logs): a plain line when a blob's bytes start to move
// and when it ends (with its size and rate; one line for a blob already there or mounted), and every 10 s a line for
// each blob still moving, so a long upload never looks hung. --log-quiet shows none of it.

import type { CliIo } from './command.js';
import type { Logger } from './log.js';

export interface BlobMove {
  image: string;
  destination: string;
  digest: string;
  size: number;
}

export interface TransferProgress {
  started(blob: BlobMove): void;
  progress(blob: BlobMove, bytes: number): void;
  done(blob: BlobMove, result: 'present' | 'mounted' | 'uploaded'): void;
  /** Before other output: take the live line away. */
  clear(): void;
  /** Stop the periodic lines. */
  stop(): void;
}

const PERIOD_MS = 10_000;
const LIVE_REDRAW_MS = 100;

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

function rate(bytes: number, ms: number): string {
  return `${formatBytes(ms > 0 ? (bytes * 1000) / ms : bytes)}/s`;
}

function short(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

export function transferProgress(io: CliIo, log: Logger, terminal: boolean = process.stderr.isTTY === true): TransferProgress {
  const quiet = log.level === 'quiet';
  const moving = new Map<string, { blob: BlobMove; bytes: number; since: number; announced: boolean }>();
  const key = (b: BlobMove): string => `${b.destination} ${b.digest}`;
  let blobsDone = 0;
  let movedDone = 0;
  let shown = false;
  let drawnAt = 0;

  const draw = (force: boolean): void => {
    if (!terminal || quiet) return;
    const now = Date.now();
    if (!force && now - drawnAt < LIVE_REDRAW_MS) return;
    drawnAt = now;
    const streaming = [...moving.values()].reduce((n, m) => n + m.bytes, 0);
    io.stderr(`\r\x1b[2KExporting: ${blobsDone} blobs done, ${moving.size} moving, ${formatBytes(movedDone + streaming)} moved`);
    shown = true;
  };
  const clear = (): void => {
    if (shown) io.stderr('\r\x1b[2K');
    shown = false;
  };

  const timer = !terminal && !quiet ? setInterval(() => {
    const now = Date.now();
    for (const { blob, bytes, since } of moving.values()) {
      if (now - since < PERIOD_MS) continue;
      log.info(`  ${blob.image || '~'}: blob ${short(blob.digest)} to ${blob.destination}: ${formatBytes(bytes)} of ${formatBytes(blob.size)} (${rate(bytes, now - since)})`);
    }
  }, PERIOD_MS) : undefined;
  timer?.unref();

  return {
    started(blob) {
      moving.set(key(blob), { blob, bytes: 0, since: Date.now(), announced: false });
      draw(false);
    },
    progress(blob, bytes) {
      const entry = moving.get(key(blob));
      if (entry !== undefined) {
        entry.bytes = bytes;
        // The start line waits for the first bytes: a blob that is already there or mounted gets one line, at its end.
        if (!entry.announced && !terminal && !quiet) log.info(`  ${blob.image || '~'}: blob ${short(blob.digest)} (${formatBytes(blob.size)}) to ${blob.destination}`);
        entry.announced = true;
      }
      draw(false);
    },
    done(blob, result) {
      const entry = moving.get(key(blob));
      moving.delete(key(blob));
      blobsDone++;
      if (result === 'uploaded') movedDone += blob.size;
      if (!terminal && !quiet) {
        const ms = entry === undefined ? 0 : Date.now() - entry.since;
        const how = result === 'uploaded' ? `uploaded in ${(ms / 1000).toFixed(1)} s (${rate(blob.size, ms)})` : result === 'mounted' ? 'mounted from another repository' : 'already there';
        log.info(`  ${blob.image || '~'}: blob ${short(blob.digest)} ${how}`);
      }
      draw(true);
    },
    clear,
    stop() {
      if (timer) clearInterval(timer);
      moving.clear(); // blobs of a failed transfer end with it
      clear();
    },
  };
}
