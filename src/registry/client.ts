// The distribution-spec (v1.1) client. Every request goes through send(): endpoint
// discovery (https first, plain http for loopback and --insecure-registry), auth with
// a token cache, bounded retries with backoff, and typed errors with redacted URLs.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { IntegrityError, NotFoundError, RegistryError } from '../errors.js';
import {
  DigestingStream, MANIFEST_ACCEPT, digestOf, isLoopbackRegistry, parseDigest, parseManifest,
  type Descriptor, type ManifestDocument, type Repository,
} from '../oci/index.js';
import { Authenticator } from './auth/authenticator.js';
import { parseWwwAuthenticate, type Challenge } from './auth/challenge.js';
import { dockerConfigCredentials, type CredentialStore } from './auth/credentials.js';
import {
  DEFAULT_REGISTRY_TIMEOUT_MS, HttpTransport, drain, errorFromResponse, header, headerValues, isRetryableNetworkError, isRetryableStatus, isTimeoutError, isTlsError,
  readBody, retryDelayMs, type HttpOptions, type HttpResponse, type RequestBody,
} from './http.js';
import { describeProxy, proxyFor } from './proxy.js';
import { redactUrl } from './redact.js';

export interface RegistryClientOptions extends HttpOptions {
  /** Where credentials come from; default: the docker config (DOCKER_CONFIG or ~/.docker). */
  credentials?: CredentialStore;
  /** Allow plain HTTP for every registry (`--insecure-registry`); loopback registries always may use it. */
  insecure?: boolean;
  /** Retries after the first attempt for 408, 429, 5xx and network failures. */
  retries?: number;
  retryBaseDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Upload blobs in PATCH chunks instead of one streaming PUT (a fallback used automatically when a registry refuses the PUT). */
  chunkedUpload?: boolean;
  /** Chunk size for chunked uploads, raised to the registry's OCI-Chunk-Min-Length when that is larger. */
  chunkSize?: number;
  /** Tags asked for per page of a tag listing. */
  tagPageSize?: number;
  /** Called with debug lines (no secrets). */
  debug?: (line: string) => void;
}

export interface BlobUpload {
  readonly descriptor: Descriptor;
  /** Open the content from the start; called again when an upload is retried. */
  open(): Promise<Readable>;
  /** A repository of the same registry holding the blob: mount instead of upload. */
  readonly mountFrom?: Repository;
}

interface Endpoint {
  base: URL;
  challenges: Challenge[];
}

interface Operation {
  repo: Repository | { registry: string };
  method: string;
  /** A path from the registry root (`/v2/...`) or an absolute URL (an upload location). */
  target: string | URL;
  scopes: string[];
  headers?: Record<string, string>;
  /** A factory, so a retry sends the body again. */
  body?: () => RequestBody | Promise<RequestBody>;
  /** Retry on 408/429/5xx and network errors; off for requests whose side effects a retry cannot repeat. */
  retry?: boolean;
  what: string;
}

const MANIFEST_LIMIT = 4 * 1024 * 1024;
const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;
const ACCEPT = MANIFEST_ACCEPT.join(', ');

export function pullScope(repo: Repository): string {
  return `repository:${repo.repository}:pull`;
}

export function pushScope(repo: Repository): string {
  return `repository:${repo.repository}:pull,push`;
}

function deleteScope(repo: Repository): string {
  return `repository:${repo.repository}:delete`;
}

export class RegistryClient {
  private readonly http: HttpTransport;
  private readonly auth: Authenticator;
  private readonly endpoints = new Map<string, Promise<Endpoint>>();
  private readonly retries: number;
  private readonly timeoutMs: number;
  private readonly baseDelay: number;
  private readonly maxDelay: number;
  private readonly debug: (line: string) => void;

  constructor(private readonly options: RegistryClientOptions = {}) {
    this.http = new HttpTransport(options);
    this.auth = new Authenticator(this.http, options.credentials ?? dockerConfigCredentials());
    this.retries = options.retries ?? 3;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REGISTRY_TIMEOUT_MS;
    this.baseDelay = options.retryBaseDelayMs ?? 200;
    this.maxDelay = options.maxRetryDelayMs ?? 30_000;
    this.debug = options.debug ?? (() => {});
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  /** Check that the registry answers the /v2/ API (with or without auth). */
  async ping(registry: string): Promise<void> {
    await this.endpoint(registry);
  }

  /**
   * Start finding how to talk to these registries (scheme, auth challenges) without waiting, so the first real
   * request does not pay for it. A failure is kept for the first request that needs the registry, which reports
   * it (the discovery is not run twice).
   */
  prepare(registries: Iterable<string>): void {
    for (const registry of registries) {
      if (this.endpoints.has(registry)) continue;
      const found = this.discover(registry);
      found.catch(() => undefined);
      this.endpoints.set(registry, found);
    }
  }

  /**
   * Check that the registry accepts this client's credentials (`slipway login`), as docker login does: GET /v2/
   * with them (a token fetched with them, for a token registry). Throws a RegistryError on a refusal.
   */
  async verifyCredentials(registry: string): Promise<void> {
    const what = `login to ${registry}`;
    const res = await this.send({ repo: { registry }, method: 'GET', target: '/v2/', scopes: [], what, retry: true });
    if (res.status === 200) {
      await drain(res.body);
      return;
    }
    throw await errorFromResponse(res, 'GET', what, registry);
  }

  // ---- manifests ----------------------------------------------------------------

  /** HEAD a manifest: its descriptor, or undefined when absent. */
  async headManifest(repo: Repository, target: string): Promise<Descriptor | undefined> {
    const res = await this.send({
      repo, method: 'HEAD', target: `/v2/${repo.repository}/manifests/${target}`, scopes: [pullScope(repo)],
      headers: { accept: ACCEPT }, what: `manifest ${name(repo, target)}`,
    });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await errorFromResponse(res, 'HEAD', `manifest ${name(repo, target)}`, repo.registry);
    const digest = header(res.headers, 'docker-content-digest');
    const mediaType = header(res.headers, 'content-type')?.split(';')[0]?.trim();
    const size = Number(header(res.headers, 'content-length'));
    // Some registries and proxies drop Docker-Content-Digest on HEAD: learn it from the content instead.
    if (digest === undefined || mediaType === undefined || !Number.isFinite(size)) {
      const doc = await this.getManifest(repo, target);
      return { mediaType: doc.mediaType, digest: doc.digest, size: doc.bytes.length };
    }
    return { mediaType, digest, size };
  }

  async getManifest(repo: Repository, target: string): Promise<ManifestDocument> {
    const what = `manifest ${name(repo, target)}`;
    const res = await this.send({
      repo, method: 'GET', target: `/v2/${repo.repository}/manifests/${target}`, scopes: [pullScope(repo)],
      headers: { accept: ACCEPT }, what,
    });
    if (res.status === 404) {
      await drain(res.body);
      throw new NotFoundError(`${what} not found`, { hint: 'check the repository, tag or digest' });
    }
    if (res.status !== 200) throw await errorFromResponse(res, 'GET', what, repo.registry);
    const bytes = await readBody(res.body, MANIFEST_LIMIT, what);
    const doc = parseManifest(bytes, header(res.headers, 'content-type'), what);
    // Verify against what we asked for (a digest) or, for a tag, what the registry claims.
    const expected = target.includes(':') ? target : header(res.headers, 'docker-content-digest');
    if (expected !== undefined) {
      const actual = digestOf(bytes, parseDigest(expected).algorithm);
      if (actual !== expected) throw new IntegrityError(`${what}: the registry sent content hashing to ${actual}, not ${expected}`);
    }
    return doc;
  }

  /** PUT the exact bytes of a manifest under a tag or its digest. */
  async putManifest(repo: Repository, target: string, doc: ManifestDocument): Promise<void> {
    const what = `manifest ${name(repo, target)}`;
    let res: HttpResponse;
    for (let attempt = 0; ; attempt++) {
      res = await this.send({
        repo, method: 'PUT', target: `/v2/${repo.repository}/manifests/${target}`, scopes: [pushScope(repo)],
        headers: { 'content-type': doc.mediaType }, body: () => Buffer.from(doc.bytes), what,
      });
      if (res.status === 201 || res.status === 200) break;
      const error = await errorFromResponse(res, 'PUT', what, repo.registry);
      // distribution's filesystem driver rewrites a blob's repository link by truncating it first: while
      // another client uploads the same blob (four runners building one stage), a manifest PUT can
      // see the link empty and answer MANIFEST_BLOB_UNKNOWN for a blob that is there. Try again.
      if (!error.hasCode('MANIFEST_BLOB_UNKNOWN') || attempt >= this.retries) throw error;
      this.debug(`${what}: MANIFEST_BLOB_UNKNOWN, retry ${attempt + 1} of ${this.retries}`);
      await sleep(retryDelayMs(attempt, this.baseDelay, undefined, this.maxDelay));
    }
    await drain(res.body);
    const stored = header(res.headers, 'docker-content-digest');
    if (stored !== undefined && stored !== doc.digest) {
      throw new IntegrityError(`${what}: the registry stored ${stored}, but the bytes sent hash to ${doc.digest}`);
    }
  }

  /** Delete a manifest by digest (distribution refuses deletes by tag). */
  async deleteManifest(repo: Repository, digest: string): Promise<void> {
    const what = `manifest ${name(repo, digest)}`;
    const res = await this.send({
      repo, method: 'DELETE', target: `/v2/${repo.repository}/manifests/${digest}`, scopes: [deleteScope(repo)], what,
    });
    if (res.status === 404) {
      await drain(res.body);
      throw new NotFoundError(`${what} not found`);
    }
    if (res.status !== 202 && res.status !== 200 && res.status !== 204) throw await errorFromResponse(res, 'DELETE', what, repo.registry);
    await drain(res.body);
  }

  /** Every tag of a repository, following `Link` pagination; a repository that does not exist has none. */
  async listTags(repo: Repository): Promise<string[]> {
    const tags: string[] = [];
    let target: string | URL = `/v2/${repo.repository}/tags/list?n=${this.options.tagPageSize ?? 1000}`;
    for (;;) {
      const what = `tag list of ${repo.registry}/${repo.repository}`;
      const res: HttpResponse = await this.send({ repo, method: 'GET', target, scopes: [pullScope(repo)], what });
      if (res.status === 404) {
        await drain(res.body);
        return tags;
      }
      if (res.status !== 200) throw await errorFromResponse(res, 'GET', what, repo.registry);
      const body = JSON.parse((await readBody(res.body, 64 * 1024 * 1024, what)).toString('utf8')) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      const next = nextLink(header(res.headers, 'link'));
      if (next === undefined) return tags;
      target = new URL(next, res.url);
    }
  }

  // ---- blobs --------------------------------------------------------------------

  /** The size of a blob, or undefined when the repository does not hold it. */
  async headBlob(repo: Repository, digest: string): Promise<number | undefined> {
    const what = `blob ${name(repo, digest)}`;
    const res = await this.send({ repo, method: 'HEAD', target: `/v2/${repo.repository}/blobs/${digest}`, scopes: [pullScope(repo)], what });
    await drain(res.body);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await errorFromResponse(res, 'HEAD', what, repo.registry);
    return Number(header(res.headers, 'content-length'));
  }

  /**
   * A blob as a stream verified against its descriptor: a size or digest mismatch makes
   * the stream fail at its end. A connection lost mid-blob resumes with a Range request.
   */
  async getBlob(repo: Repository, descriptor: Descriptor): Promise<Readable> {
    const what = `blob ${name(repo, descriptor.digest)}`;
    const request = (offset: number): Promise<HttpResponse> => this.send({
      repo, method: 'GET', target: `/v2/${repo.repository}/blobs/${descriptor.digest}`, scopes: [pullScope(repo)], what,
      headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
    });
    const first = await request(0);
    if (first.status === 404) {
      await drain(first.body);
      throw new NotFoundError(`${what} not found`);
    }
    if (first.status !== 200) throw await errorFromResponse(first, 'GET', what, repo.registry);

    const retries = this.retries;
    const baseDelay = this.baseDelay;
    const debug = this.debug;
    const timeoutMs = this.timeoutMs;
    async function* resumable(): AsyncGenerator<Buffer> {
      let res = first;
      let offset = 0;
      let timeouts = 0;
      for (let attempt = 0; ; attempt++) {
        try {
          let skip = 0;
          // A server that ignores Range sends everything again: skip what was already passed on.
          if (offset > 0 && res.status === 200) skip = offset;
          else if (offset > 0 && res.status !== 206) throw await errorFromResponse(res, 'GET', what, repo.registry);
          for await (const chunk of res.body) {
            // A view, not a copy: copying every chunk cost a tenth of a cross-registry copy's CPU.
            const bytes = chunk as Uint8Array;
            let buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
            if (skip > 0) {
              const dropped = Math.min(skip, buf.length);
              skip -= dropped;
              buf = buf.subarray(dropped);
              if (buf.length === 0) continue;
            }
            offset += buf.length;
            yield buf;
          }
          return;
        } catch (error) {
          // A body that stopped flowing gets one more chance (as in withRetries), then a message naming the registry.
          if (isTimeoutError(error) && ++timeouts > 1) throw toRegistryError(error, 'GET', res.url, what, repo.registry, false, timeoutMs);
          if (!isRetryableNetworkError(error) || attempt >= retries || offset >= descriptor.size) throw error;
          debug(`${what}: connection lost at byte ${offset}, resuming`);
          await sleep(retryDelayMs(attempt, baseDelay, undefined, 5_000));
          res = await request(offset);
        }
      }
    }
    const verified = new DigestingStream({ digest: descriptor.digest, size: descriptor.size, what });
    pipeline(Readable.from(resumable(), { objectMode: false }), verified).catch(() => {
      // pipeline() already destroyed `verified` with the error; its reader sees it.
    });
    return verified;
  }

  /** Upload a blob unless it can be mounted from `mountFrom`. The blob's existence is the caller's check. */
  async uploadBlob(repo: Repository, upload: BlobUpload): Promise<'mounted' | 'uploaded'> {
    const { descriptor } = upload;
    let session: UploadSession | undefined;
    const from = upload.mountFrom;
    if (from && from.registry === repo.registry && from.repository !== repo.repository) {
      try {
        const mounted = await this.mount(repo, descriptor.digest, from);
        if (mounted === true) return 'mounted';
        // 202: the registry could not mount but opened an upload session: use it.
        session = mounted;
      } catch (error) {
        this.debug(`mount of ${descriptor.digest} from ${from.repository} failed, uploading instead: ${String(error)}`);
      }
    }
    let chunked = this.options.chunkedUpload ?? false;
    for (let attempt = 0; ; attempt++) {
      try {
        session ??= await this.startUpload(repo);
        if (chunked) await this.uploadChunked(repo, session, upload);
        else await this.uploadMonolithic(repo, session, upload);
        return 'uploaded';
      } catch (error) {
        session = undefined;
        if (!chunked && refusesMonolithicUpload(error)) {
          this.debug(`${repo.registry} refused a one-request upload (${String(error)}); retrying in chunks`);
          chunked = true;
          continue;
        }
        // A timeout was already retried once inside (withRetries): a frozen registry must not cost retries × timeouts.
        if (!isRetryable(error) || isTimeoutError(error) || attempt >= this.retries) throw error;
        await sleep(retryDelayMs(attempt, this.baseDelay, undefined, this.maxDelay));
      }
    }
  }

  private async mount(repo: Repository, digest: string, from: Repository): Promise<true | UploadSession> {
    const what = `mount of ${digest} from ${from.repository} into ${repo.repository}`;
    const query = new URLSearchParams({ mount: digest, from: from.repository });
    const res = await this.send({
      repo, method: 'POST', target: `/v2/${repo.repository}/blobs/uploads/?${query.toString()}`,
      scopes: [pushScope(repo), pullScope(from)], what,
    });
    await drain(res.body);
    if (res.status === 201) return true;
    if (res.status === 202) return sessionFrom(res, what);
    throw await errorFromResponse(res, 'POST', what, repo.registry);
  }

  private async startUpload(repo: Repository): Promise<UploadSession> {
    const what = `upload to ${repo.registry}/${repo.repository}`;
    const res = await this.send({ repo, method: 'POST', target: `/v2/${repo.repository}/blobs/uploads/`, scopes: [pushScope(repo)], what });
    if (res.status !== 202) throw await errorFromResponse(res, 'POST', what, repo.registry);
    await drain(res.body);
    return sessionFrom(res, what);
  }

  private async uploadMonolithic(repo: Repository, session: UploadSession, upload: BlobUpload): Promise<void> {
    const { digest, size } = upload.descriptor;
    const url = withDigest(session.location, digest);
    const res = await this.send({
      repo, method: 'PUT', target: url, scopes: [pushScope(repo)], retry: false, what: `upload of ${digest}`,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: () => upload.open(),
    });
    await this.finishUpload(repo, res, upload.descriptor);
  }

  /**
   * PATCH the blob in chunks, then PUT to close the session. Each chunk is held in
   * memory (bounded by the chunk size) so it can be re-sent from the offset the
   * registry reports after a failure.
   */
  private async uploadChunked(repo: Repository, session: UploadSession, upload: BlobUpload): Promise<void> {
    const { digest, size } = upload.descriptor;
    const chunkSize = Math.max(this.options.chunkSize ?? DEFAULT_CHUNK_SIZE, session.minChunkLength);
    const source = await upload.open();
    const reader = new ChunkReader(source);
    let location = session.location;
    let offset = 0;
    try {
      while (offset < size) {
        let chunk = await reader.read(Math.min(chunkSize, size - offset));
        if (chunk.length === 0) throw new IntegrityError(`upload of ${digest}: the source ended at byte ${offset} of ${size}`);
        for (let attempt = 0; chunk.length > 0; attempt++) {
          const end = offset + chunk.length;
          try {
            const body = chunk;
            const res = await this.send({
              repo, method: 'PATCH', target: location, scopes: [pushScope(repo)], retry: false, what: `upload of ${digest} (bytes ${offset}-${end - 1})`,
              headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length), 'content-range': `${offset}-${end - 1}` },
              body: () => body,
            });
            // 202 is the spec; some registries (ECR) answer 201 or 204.
            if (res.status !== 202 && res.status !== 201 && res.status !== 204) {
              throw await errorFromResponse(res, 'PATCH', `upload of ${digest}`, repo.registry);
            }
            await drain(res.body);
            location = resolveLocation(res, location);
            const confirmed = rangeEnd(header(res.headers, 'range')) ?? end;
            ({ chunk, offset } = advance(chunk, offset, confirmed));
          } catch (error) {
            if (!isRetryable(error) || attempt >= this.retries) throw error;
            await sleep(retryDelayMs(attempt, this.baseDelay, undefined, this.maxDelay));
            // Ask the registry how much it has, then resend from there.
            const status = await this.uploadStatus(repo, location);
            location = status.location;
            ({ chunk, offset } = advance(chunk, offset, status.received));
          }
        }
      }
    } finally {
      source.destroy();
    }
    const res = await this.send({
      repo, method: 'PUT', target: withDigest(location, digest), scopes: [pushScope(repo)], retry: false, what: `upload of ${digest}`,
      headers: { 'content-length': '0' },
    });
    await this.finishUpload(repo, res, upload.descriptor);
  }

  private async uploadStatus(repo: Repository, location: URL): Promise<{ location: URL; received: number }> {
    const what = 'upload status';
    const res = await this.send({ repo, method: 'GET', target: location, scopes: [pushScope(repo)], what });
    if (res.status !== 204 && res.status !== 200) throw await errorFromResponse(res, 'GET', what, repo.registry);
    await drain(res.body);
    return { location: resolveLocation(res, location), received: rangeEnd(header(res.headers, 'range')) ?? 0 };
  }

  private async finishUpload(repo: Repository, res: HttpResponse, descriptor: Descriptor): Promise<void> {
    if (res.status !== 201 && res.status !== 204 && res.status !== 200) {
      throw await errorFromResponse(res, 'PUT', `upload of ${descriptor.digest} to ${repo.registry}/${repo.repository}`, repo.registry);
    }
    await drain(res.body);
    const stored = header(res.headers, 'docker-content-digest');
    if (stored !== undefined && stored !== descriptor.digest) {
      throw new IntegrityError(`upload of ${descriptor.digest}: the registry stored ${stored} instead`);
    }
  }

  // ---- the request loop -----------------------------------------------------------

  private endpoint(registry: string): Promise<Endpoint> {
    let found = this.endpoints.get(registry);
    if (!found) {
      found = this.discover(registry);
      this.endpoints.set(registry, found);
    }
    // A failed discovery is told to its callers, then forgotten: a later request tries again.
    const told = found;
    told.catch(() => {
      if (this.endpoints.get(registry) === told) this.endpoints.delete(registry);
    });
    return found;
  }

  /**
   * Find the scheme a registry speaks: https, and for loopback hosts or with
   * --insecure-registry also plain http when https fails (go-containerregistry's rule).
   */
  private async discover(registry: string): Promise<Endpoint> {
    const schemes = this.options.insecure || isLoopbackRegistry(registry) ? ['https', 'http'] : ['https'];
    let firstError: unknown;
    for (const scheme of schemes) {
      // A registry that did not answer over https in time will not over http either.
      if (firstError !== undefined && isTimeoutError(firstError)) break;
      const base = new URL(`${scheme}://${registry}`);
      try {
        const res = await this.withRetries(`ping of ${registry}`, () => this.http.send({ method: 'GET', url: new URL('/v2/', base) }));
        await drain(res.body);
        if (res.status === 200 || res.status === 401) {
          const challenges = headerValues(res.headers, 'www-authenticate').flatMap(parseWwwAuthenticate);
          this.debug(`${registry}: ${scheme}, auth ${challenges.map((c) => c.scheme).join(',') || 'none'}`);
          return { base, challenges };
        }
        firstError ??= new RegistryError(`${registry} does not speak the registry API over ${scheme}: GET /v2/ answered ${res.status}`, {
          method: 'GET', url: redactUrl(new URL('/v2/', base)), status: res.status,
        });
      } catch (error) {
        firstError ??= error;
      }
    }
    const url = new URL(`https://${registry}/v2/`);
    const error = toRegistryError(firstError, 'GET', url, `cannot reach registry ${registry}`, registry, this.options.insecure ?? false, this.timeoutMs, this.proxyOf(url));
    // Already retried here: the request that needed the endpoint must not start the whole discovery again.
    if (error instanceof Error) alreadyRetried.add(error);
    throw error;
  }

  private async send(op: Operation): Promise<HttpResponse> {
    const { registry } = op.repo;
    let authRetried = false;
    return this.withRetries(op.what, async () => {
      for (;;) {
        const endpoint = await this.endpoint(registry);
        const url = typeof op.target === 'string' ? new URL(op.target, endpoint.base) : op.target;
        const authorization = await this.auth.authorization(registry, endpoint.challenges, op.scopes);
        const headers: Record<string, string> = { ...op.headers };
        if (authorization) headers.authorization = authorization;
        const body = op.body ? await op.body() : undefined;
        let res: HttpResponse;
        try {
          res = await this.http.send({ method: op.method, url, headers, ...(body !== undefined ? { body } : {}) });
        } catch (error) {
          if (body instanceof Readable) body.destroy();
          throw toRegistryError(error, op.method, url, op.what, registry, this.options.insecure ?? false, this.timeoutMs, this.proxyOf(url));
        }
        // A registry may answer before reading the whole body (an early 401 or 5xx): release the
        // source (often another registry's blob download) instead of leaving it half-read.
        if (body instanceof Readable && !body.readableEnded) body.destroy();
        // A 401 with credentials in hand means an expired or too narrow token: fetch a new one once.
        if (res.status === 401 && !authRetried) {
          authRetried = true;
          const challenges = headerValues(res.headers, 'www-authenticate').flatMap(parseWwwAuthenticate);
          await drain(res.body);
          if (challenges.length > 0) endpoint.challenges = challenges;
          this.auth.invalidate(registry);
          this.debug(`${op.what}: 401, refreshing credentials`);
          continue;
        }
        return res;
      }
    }, op.retry ?? true);
  }

  /** The proxy a request to `url` goes through, for messages. */
  private proxyOf(url: URL): string | undefined {
    return this.options.proxy === undefined ? undefined : proxyFor(url, this.options.proxy);
  }

  /** Run `attempt` until it answers with a non-retryable status, retrying 408/429/5xx and network errors. */
  private async withRetries(what: string, attempt: () => Promise<HttpResponse>, retry = true): Promise<HttpResponse> {
    let timeouts = 0;
    for (let n = 0; ; n++) {
      let res: HttpResponse;
      try {
        res = await attempt();
      } catch (error) {
        // A registry that did not answer in time gets one more chance, not --registry-retries of them: a frozen
        // registry must fail in about twice the timeout.
        const timedOut = isTimeoutError(error) && ++timeouts > 1;
        if (!retry || timedOut || !isRetryable(error) || n >= this.retries) throw error;
        this.debug(`${what}: ${String(error)}; retry ${n + 1} of ${this.retries}`);
        await sleep(retryDelayMs(n, this.baseDelay, undefined, this.maxDelay));
        continue;
      }
      if (!retry || !isRetryableStatus(res.status) || n >= this.retries) return res;
      const retryAfter = header(res.headers, 'retry-after');
      await drain(res.body);
      this.debug(`${what}: ${res.status}; retry ${n + 1} of ${this.retries}`);
      await sleep(retryDelayMs(n, this.baseDelay, retryAfter, this.maxDelay));
    }
  }
}

interface UploadSession {
  location: URL;
  minChunkLength: number;
}

function sessionFrom(res: HttpResponse, what: string): UploadSession {
  const location = header(res.headers, 'location');
  if (location === undefined) {
    throw new RegistryError(`${what}: the registry opened an upload without a Location`, { method: 'POST', url: redactUrl(res.url), status: res.status });
  }
  const minChunkLength = Number(header(res.headers, 'oci-chunk-min-length') ?? 0);
  return { location: new URL(location, res.url), minChunkLength: Number.isFinite(minChunkLength) ? minChunkLength : 0 };
}

function resolveLocation(res: HttpResponse, previous: URL): URL {
  const location = header(res.headers, 'location');
  return location === undefined ? previous : new URL(location, res.url);
}

function withDigest(location: URL, digest: string): URL {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url;
}

/** `Range: 0-N` (inclusive) gives N+1 bytes received. */
function rangeEnd(range: string | undefined): number | undefined {
  const match = range === undefined ? null : /^(?:bytes=)?0-(\d+)$/.exec(range.trim());
  return match ? Number(match[1]) + 1 : undefined;
}

/** Drop from `chunk` what the registry confirmed having; a confirmation outside the chunk is unrecoverable here. */
function advance(chunk: Buffer, offset: number, confirmed: number): { chunk: Buffer; offset: number } {
  if (confirmed < offset || confirmed > offset + chunk.length) {
    throw new RegistryError(`the registry reports ${confirmed} bytes received, outside the chunk at ${offset}-${offset + chunk.length - 1}`, { method: 'PATCH', url: '' });
  }
  return { chunk: chunk.subarray(confirmed - offset), offset: confirmed };
}

function refusesMonolithicUpload(error: unknown): boolean {
  if (!(error instanceof RegistryError) || error.status === undefined) return false;
  if (error.hasCode('DIGEST_INVALID', 'SIZE_INVALID', 'UNAUTHORIZED', 'DENIED')) return false;
  return [400, 405, 411, 413, 501].includes(error.status);
}

/** Errors that went through their retries already (a failed endpoint discovery). */
const alreadyRetried = new WeakSet<Error>();

function isRetryable(error: unknown): boolean {
  if (error instanceof Error && alreadyRetried.has(error)) return false;
  if (error instanceof RegistryError) return error.status === undefined ? isRetryableNetworkError(error) : isRetryableStatus(error.status);
  return isRetryableNetworkError(error);
}

function toRegistryError(error: unknown, method: string, url: URL | string, what: string, registry: string, insecure: boolean, timeoutMs: number, proxy?: string): unknown {
  if (error instanceof RegistryError || error instanceof IntegrityError) return error;
  if (proxy !== undefined) {
    // Through a proxy, the failure may be the proxy's: say which one (without its credentials).
    return new RegistryError(`${what}: ${method} ${redactUrl(url)} through the proxy ${describeProxy(proxy)} failed: ${error instanceof Error ? error.message : String(error)}`, {
      method, url: redactUrl(url), cause: error,
      hint: 'check the proxy (http_proxy, https_proxy), or name the registry in no_proxy to connect directly',
    });
  }
  if (isTimeoutError(error)) {
    return new RegistryError(`${what}: ${registry} did not answer within ${timeoutMs / 1000} s (${method} ${redactUrl(url)})`, {
      method, url: redactUrl(url), cause: error,
      hint: `the registry may be stopped or overloaded; for a slow one raise --registry-timeout (now ${timeoutMs / 1000} s)`,
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code ?? (error.cause as NodeJS.ErrnoException | undefined)?.code : undefined;
  let hint: string | undefined;
  if (isTlsError(error)) hint = `for a registry with a private CA set NODE_EXTRA_CA_CERTS=ca.pem; to skip verification use --skip-tls-verify-registry${insecure ? '' : '; for plain HTTP use --insecure-registry'}`;
  else if (code === 'ECONNREFUSED') hint = `is a registry listening at ${registry}?`;
  else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') hint = `check the registry host name ${registry}`;
  return new RegistryError(`${what}: ${method} ${redactUrl(url)} failed: ${reason}${code && !reason.includes(code) ? ` (${code})` : ''}`, {
    method, url: redactUrl(url), cause: error, ...(hint ? { hint } : {}),
  });
}

function nextLink(link: string | undefined): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return match[1];
  }
  return undefined;
}

function name(repo: Repository, target: string): string {
  return `${repo.registry}/${repo.repository}${target.includes(':') ? '@' : ':'}${target}`;
}

/** Reads exact-size chunks from a stream without holding more than one chunk. */
class ChunkReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);

  constructor(source: Readable) {
    this.iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  async read(size: number): Promise<Buffer> {
    const parts: Buffer[] = [this.pending];
    let have = this.pending.length;
    while (have < size) {
      const next = await this.iterator.next();
      if (next.done) break;
      const buf = Buffer.from(next.value);
      parts.push(buf);
      have += buf.length;
    }
    const all = Buffer.concat(parts);
    this.pending = all.subarray(Math.min(size, all.length));
    return all.subarray(0, Math.min(size, all.length));
  }
}
