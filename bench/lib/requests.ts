// Request counting from the registries' access logs, and reading registries back for checks.
import { open, stat } from 'node:fs/promises';
import type { StartedRegistry } from '../../test/setup/registry-process.js';

export type RequestCounts = Record<string, number>;

export interface ClassifyOptions {
  /** Count uploads with `mount=` as `mount` (a cross-repository mount), apart from `upload`. */
  mount?: boolean;
  /** Count tag listings as `tags` (else `other`). */
  tags?: boolean;
}

export function classify(path: string, options: ClassifyOptions = {}): string {
  if (path === '/v2/') return 'ping';
  if (/\/blobs\/uploads\//.test(path)) return options.mount && /[?&]mount=/.test(path) ? 'mount' : 'upload';
  if (/\/blobs\//.test(path)) return 'blob';
  if (/\/manifests\//.test(path)) return 'manifest';
  if (options.tags && /\/tags\/list/.test(path)) return 'tags';
  return 'other';
}

export class RequestLog {
  private offsets = new Map<string, number>();
  constructor(private readonly registries: StartedRegistry[], private readonly options: ClassifyOptions = {}) {}

  async mark(): Promise<void> {
    for (const r of this.registries) this.offsets.set(r.logFile, (await stat(r.logFile)).size);
  }

  /** Requests logged since mark(), by method and kind (and total). */
  async since(): Promise<RequestCounts> {
    // The registry writes the access-log line after it answered: give it a moment.
    await new Promise((r) => setTimeout(r, 100));
    const counts: RequestCounts = { total: 0 };
    for (const r of this.registries) {
      const from = this.offsets.get(r.logFile) ?? 0;
      const handle = await open(r.logFile, 'r');
      try {
        const size = (await handle.stat()).size;
        const buf = Buffer.alloc(size - from);
        await handle.read(buf, 0, buf.length, from);
        for (const m of buf.toString('utf8').matchAll(/"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP\/[\d.]+" (\d+)/g)) {
          const key = `${m[1]} ${classify(m[2]!, this.options)}`;
          counts[key] = (counts[key] ?? 0) + 1;
          counts.total!++;
        }
      } finally {
        await handle.close();
      }
    }
    return counts;
  }
}

/** `GET blob 4, HEAD manifest 2, ...`: the counts but the total, sorted. */
export function countsText(c: RequestCounts): string {
  return Object.entries(c).filter(([k]) => k !== 'total').sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ${v}`).join(', ');
}

/** `host:port/repo:tag` in its parts. */
export function splitRef(ref: string): { host: string; repo: string; tag: string } {
  const slash = ref.indexOf('/');
  const colon = ref.lastIndexOf(':');
  return { host: ref.slice(0, slash), repo: ref.slice(slash + 1, colon), tag: ref.slice(colon + 1) };
}
