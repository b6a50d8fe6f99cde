// Protocol corners a real registry will not produce on demand, injected by a proxy in front of one.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IntegrityError, RegistryError } from '../../src/errors.js';
import { digestOf, MediaType, type Repository } from '../../src/oci/index.js';
import { staticCredentials } from '../../src/registry/auth/credentials.js';
import { RegistryClient, type RegistryClientOptions } from '../../src/registry/client.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { uniqueRepo, uploadBytes } from '../support/images.js';
import { registries } from '../support/registries.js';

let proxy: FaultProxy;
const clients: RegistryClient[] = [];
function client(options: RegistryClientOptions = {}): RegistryClient {
  const c = new RegistryClient({ credentials: staticCredentials({}), retryBaseDelayMs: 5, ...options });
  clients.push(c);
  return c;
}
function repoOf(name: string): Repository {
  return { registry: proxy.host, repository: uniqueRepo(name) };
}
async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

beforeAll(async () => { proxy = await startFaultProxy({ target: `http://${registries().plain.host}` }); });
beforeEach(() => { proxy.clearFaults(); proxy.clearRequests(); });
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await proxy.close();
});

describe('retries', () => {
  it('retries 500 and 503 and then succeeds', async () => {
    const repo = repoOf('fault/5xx');
    const c = client();
    const manifest = await uploadBytes(c, repo, [Buffer.from('five hundred')]);
    await c.putManifest(repo, 'v1', manifest);
    proxy.addFault({ method: 'GET', path: /\/manifests\/v1$/, times: 1, action: { kind: 'status', status: 500 } });
    proxy.addFault({ method: 'GET', path: /\/manifests\/v1$/, times: 1, action: { kind: 'status', status: 503 } });
    expect((await c.getManifest(repo, 'v1')).digest).toBe(manifest.digest);
    const gets = proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/manifests/v1'));
    expect(gets.map((r) => r.status)).toEqual([500, 503, 200]);
  });

  it('gives up after the configured number of retries with a RegistryError', async () => {
    const repo = repoOf('fault/giveup');
    const c = client({ retries: 2 });
    proxy.addFault({ method: 'GET', path: /\/tags\/list/, times: Infinity, action: { kind: 'status', status: 502, body: 'bad gateway' } });
    const error = await c.listTags(repo).catch((e: unknown) => e) as RegistryError;
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.status).toBe(502);
    expect(error.message).toContain('answered 502');
    expect(proxy.requests.filter((r) => r.path.includes('/tags/list'))).toHaveLength(3);
  });

  it('honours Retry-After on 429', async () => {
    const repo = repoOf('fault/429');
    const c = client();
    proxy.addFault({ method: 'GET', path: /\/tags\/list/, times: 1, action: { kind: 'status', status: 429, headers: { 'retry-after': '1' } } });
    const started = Date.now();
    await c.listTags(repo);
    const waited = Date.now() - started;
    const listing = proxy.requests.filter((r) => r.path.includes('/tags/list'));
    expect(listing.map((r) => r.status)).toEqual([429, 404]);
    // The backoff alone (5 ms base) would retry at once: waiting a second shows Retry-After was read.
    expect(waited).toBeGreaterThanOrEqual(950);
  });

  it('does not retry a 404 or a 400', async () => {
    const repo = repoOf('fault/no-retry');
    const c = client();
    proxy.addFault({ method: 'GET', path: /\/tags\/list/, times: 1, action: { kind: 'status', status: 400, body: '{"errors":[{"code":"NAME_INVALID","message":"bad name"}]}' } });
    const error = await c.listTags(repo).catch((e: unknown) => e) as RegistryError;
    expect(error.status).toBe(400);
    expect(error.hasCode('NAME_INVALID')).toBe(true);
    expect(proxy.requests.filter((r) => r.path.includes('/tags/list'))).toHaveLength(1);
  });
});

describe('blobs', () => {
  it('resumes a blob download cut in the middle, with a Range request', async () => {
    const repo = repoOf('fault/reset');
    const c = client();
    const data = Buffer.alloc(2 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) % 251;
    await uploadBytes(c, repo, [data]);
    proxy.addFault({ method: 'GET', path: /\/blobs\/sha256:/, times: 1, action: { kind: 'reset-mid-body', afterBytes: 700_000 } });
    const descriptor = { mediaType: MediaType.OciLayer, digest: digestOf(data), size: data.length };
    const back = await readAll(await c.getBlob(repo, descriptor));
    expect(back.equals(data)).toBe(true);
    const gets = proxy.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/'));
    expect(gets).toHaveLength(2);
    expect(gets[1]!.headers.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/bytes=(\d+)-/.exec(gets[1]!.headers.range!)![1])).toBeGreaterThan(0);
  });

  it('follows a blob redirect to another host without sending Authorization there', async () => {
    const { basic } = registries();
    const authed = await startFaultProxy({ target: `http://${basic.host}` });
    try {
      const repo = { registry: authed.host, repository: uniqueRepo('fault/redirect') };
      const c = client({ credentials: staticCredentials({ [authed.host]: { username: basic.username, password: basic.password } }) });
      const data = Buffer.from('served from blob storage');
      await uploadBytes(c, repo, [data]);
      authed.addFault({ method: 'GET', path: /\/blobs\/sha256:/, times: Infinity, action: { kind: 'redirect-blob-get' } });
      const back = await readAll(await c.getBlob(repo, { mediaType: MediaType.OciLayer, digest: digestOf(data), size: data.length }));
      expect(back.equals(data)).toBe(true);
      expect(authed.blobRequests.length).toBeGreaterThan(0);
      expect(authed.blobRequests.every((r) => !r.authorization)).toBe(true);
      // The registry itself did get credentials.
      expect(authed.requests.some((r) => r.headers.authorization?.startsWith('Basic '))).toBe(true);
    } finally {
      await authed.close();
    }
  });

  it('accepts 201 on PATCH (as ECR answers) in a chunked upload', async () => {
    const repo = repoOf('fault/patch201');
    const c = client({ chunkedUpload: true, chunkSize: 64 * 1024 });
    proxy.addFault({ method: 'PATCH', times: Infinity, action: { kind: 'rewrite-status', from: 202, to: 201 } });
    const data = Buffer.alloc(200 * 1024, 9);
    const descriptor = { mediaType: MediaType.OciLayer, digest: digestOf(data), size: data.length };
    expect(await c.uploadBlob(repo, { descriptor, open: async () => Readable.from([data]) })).toBe('uploaded');
    const patches = proxy.requests.filter((r) => r.method === 'PATCH');
    expect(patches).toHaveLength(4);
    expect(patches.every((r) => r.status === 201)).toBe(true);
    expect(await c.headBlob(repo, descriptor.digest)).toBe(data.length);
  });

  it('resumes a chunked upload from the Range the registry reports after a failed PATCH', async () => {
    const repo = repoOf('fault/patch-resume');
    const c = client({ chunkedUpload: true, chunkSize: 64 * 1024 });
    proxy.addFault({ method: 'PATCH', times: 1, path: /.*/, action: { kind: 'status', status: 503 } });
    const data = Buffer.alloc(150 * 1024, 4);
    const descriptor = { mediaType: MediaType.OciLayer, digest: digestOf(data), size: data.length };
    expect(await c.uploadBlob(repo, { descriptor, open: async () => Readable.from([data]) })).toBe('uploaded');
    const methods = proxy.requests.filter((r) => r.path.includes('/blobs/uploads/')).map((r) => `${r.method} ${r.status}`);
    expect(methods).toContain('PATCH 503');
    expect(methods).toContain('GET 204'); // asked the registry how much it had
    expect(await c.headBlob(repo, descriptor.digest)).toBe(data.length);
  });

  it('falls back to a chunked upload when the registry refuses a one-request PUT', async () => {
    const repo = repoOf('fault/no-monolithic');
    const c = client({ chunkSize: 64 * 1024 });
    proxy.addFault({ method: 'PUT', path: /\/blobs\/uploads\//, times: 1, action: { kind: 'status', status: 413, body: 'too large' } });
    const data = Buffer.alloc(100 * 1024, 2);
    const descriptor = { mediaType: MediaType.OciLayer, digest: digestOf(data), size: data.length };
    expect(await c.uploadBlob(repo, { descriptor, open: async () => Readable.from([data]) })).toBe('uploaded');
    expect(proxy.requests.filter((r) => r.method === 'PATCH').length).toBe(2);
  });

  it('a corrupt source fails the upload and nothing is stored', async () => {
    const repo = repoOf('fault/corrupt');
    const c = client();
    const data = Buffer.from('what the descriptor promises');
    const descriptor = { mediaType: MediaType.OciLayer, digest: digestOf(data), size: data.length };
    const error = await c.uploadBlob(repo, { descriptor, open: async () => Readable.from([Buffer.from('something else entirely!!!!!')]) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).hasCode('DIGEST_INVALID')).toBe(true);
    expect(await c.headBlob(repo, descriptor.digest)).toBeUndefined();
  });
});

describe('manifests', () => {
  it('learns the digest from the content when HEAD lacks Docker-Content-Digest', async () => {
    const repo = repoOf('fault/nodigest');
    const c = client();
    const manifest = await uploadBytes(c, repo, [Buffer.from('digestless')]);
    await c.putManifest(repo, 'v1', manifest);
    proxy.addFault({ method: 'HEAD', path: /\/manifests\/v1$/, times: 1, action: { kind: 'drop-header', header: 'docker-content-digest' } });
    expect(await c.headManifest(repo, 'v1')).toEqual({ mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length });
  });

  it('refuses a manifest whose content does not match the digest asked for', async () => {
    const repo = repoOf('fault/wrong-manifest');
    const c = client();
    const manifest = await uploadBytes(c, repo, [Buffer.from('real')]);
    await c.putManifest(repo, manifest.digest, manifest);
    const other = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"x","digest":"sha256:' + 'a'.repeat(64) + '","size":1},"layers":[]}';
    proxy.addFault({ method: 'GET', path: /\/manifests\/sha256:/, times: 1, action: { kind: 'status', status: 200, headers: { 'content-type': MediaType.OciManifest }, body: other } });
    await expect(c.getManifest(repo, manifest.digest)).rejects.toThrow(IntegrityError);
  });
});

describe('tokens', () => {
  it('fetches a new token when the registry starts refusing the old one', async () => {
    const { token } = registries();
    const tokenProxy = await startFaultProxy({ target: `http://${token.host}` });
    try {
      const repo = { registry: tokenProxy.host, repository: uniqueRepo('fault/expiring') };
      const c = client({ credentials: staticCredentials({ [tokenProxy.host]: { username: token.username, password: token.password } }) });
      tokenProxy.addFault({ times: Infinity, action: { kind: 'expire-token-after', requests: 3 } });
      const manifest = await uploadBytes(c, repo, [Buffer.from('one'), Buffer.from('two'), Buffer.from('three')]);
      await c.putManifest(repo, 'v1', manifest);
      expect((await c.getManifest(repo, 'v1')).digest).toBe(manifest.digest);
      const tokenRequests = await (await fetch(`${token.tokenServerUrl}/requests?all=1&repository=${encodeURIComponent(repo.repository)}`)).json() as unknown[];
      expect(tokenRequests.length).toBeGreaterThan(2);
      expect(tokenProxy.requests.some((r) => r.status === 401 && r.headers.authorization?.startsWith('Bearer '))).toBe(true);
    } finally {
      await tokenProxy.close();
    }
  });
});
