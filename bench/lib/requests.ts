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

const MANIFEST_ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

/** The image manifest at `ref` (a GET) and its digest; undefined when the registry has none there. */
export async function manifestAt(ref: string): Promise<{ digest: string; body: { layers: { size: number }[]; config: { digest: string } } } | undefined> {
  const { host, repo, tag } = splitRef(ref);
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { headers: { accept: MANIFEST_ACCEPT } });
  if (!res.ok) return undefined;
  return { digest: res.headers.get('docker-content-digest') ?? '', body: await res.json() as never };
}

/**
 * The digest of the image manifest at `ref`, from a GET (manifestAt()) or a HEAD; undefined
 * when the registry has none there. The method shows in the request counts (RequestLog) when
 * the read falls inside a measured scenario.
 */
export async function manifestDigestAt(ref: string, method: 'GET' | 'HEAD'): Promise<string | undefined> {
  if (method === 'GET') return (await manifestAt(ref))?.digest;
  const { host, repo, tag } = splitRef(ref);
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT } });
  return res.ok ? res.headers.get('docker-content-digest') ?? '' : undefined;
}

/** The `config` object of the image config at `ref`. */
export async function configAt(ref: string): Promise<Record<string, unknown>> {
  const m = await manifestAt(ref);
  if (!m) throw new Error(`no manifest at ${ref}`);
  const { host, repo } = splitRef(ref);
  const res = await fetch(`http://${host}/v2/${repo}/blobs/${m.body.config.digest}`);
  return ((await res.json()) as { config: Record<string, unknown> }).config;
}

/**
 * Throws unless the registry has a manifest at `ref` (with `digest`, unless that is empty),
 * read with `method` (see manifestDigestAt()); `what` starts the message.
 */
export async function verifyPushed(ref: string, digest: string, what: string, method: 'GET' | 'HEAD'): Promise<void> {
  const at = await manifestDigestAt(ref, method);
  if (at === undefined) throw new Error(`${what}: nothing at ${ref}`);
  if (digest && at !== digest) throw new Error(`${what}: ${ref} holds ${at}, expected ${digest}`);
}
