// The registry client against real registries: plain, basic auth, TLS and bearer tokens.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { NotFoundError, RegistryError } from '../../src/errors.js';
import { digestOf, encodeManifest, MediaType, type Repository } from '../../src/oci/index.js';
import { Authenticator } from '../../src/registry/auth/authenticator.js';
import { dockerConfigCredentials, staticCredentials } from '../../src/registry/auth/credentials.js';
import { RegistryClient } from '../../src/registry/client.js';
import { HttpTransport } from '../../src/registry/http.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { pushRandomImage, registries, skopeoInspect, skopeoInspectText } from '../support/registries.js';
import { uploadBytes, uniqueRepo } from '../support/images.js';
import { tempDirs } from '../support/git-repo.js';

const run = promisify(execFile);
const clients: RegistryClient[] = [];
function client(options: ConstructorParameters<typeof RegistryClient>[0] = {}): RegistryClient {
  const c = new RegistryClient({ credentials: staticCredentials({}), retryBaseDelayMs: 10, ...options });
  clients.push(c);
  return c;
}
afterAll(async () => { await Promise.all(clients.map((c) => c.close())); });
const temp = tempDirs();
afterAll(temp.removeAll);

describe('plain registry', () => {
  it('uploads blobs and a manifest that skopeo reads back byte for byte', async () => {
    const { plain } = registries();
    const repo: Repository = { registry: plain.host, repository: uniqueRepo('client/push') };
    const c = client();
    const manifest = await uploadBytes(c, repo, [Buffer.from('layer one'), Buffer.alloc(3 * 1024 * 1024, 1)]);
    await c.putManifest(repo, 'v1', manifest);
    const raw = await skopeoInspectText(`${plain.host}/${repo.repository}:v1`, { raw: true });
    expect(digestOf(Buffer.from(raw))).toBe(manifest.digest);
    const head = await c.headManifest(repo, 'v1');
    expect(head).toEqual({ mediaType: MediaType.OciManifest, digest: manifest.digest, size: manifest.bytes.length });
    const got = await c.getManifest(repo, manifest.digest);
    expect(Buffer.from(got.bytes).equals(Buffer.from(manifest.bytes))).toBe(true);
  });

  it('prepare() contacts a registry ahead of its first request, once; a failure is told to that request, then tried afresh', async () => {
    const { plain } = registries();
    const proxy = await startFaultProxy({ target: `http://${plain.host}` });
    try {
      const pings = (): number => proxy.requests.filter((r) => r.method === 'GET' && r.path === '/v2/').length;
      const repo: Repository = { registry: proxy.host, repository: uniqueRepo('client/prepare') };
      const c = client();
      c.prepare([proxy.host]);
      expect(await c.listTags(repo)).toEqual([]);
      expect(pings()).toBe(1);

      proxy.clearRequests();
      const refusal = proxy.addFault({ method: 'GET', path: /^\/v2\/$/, times: Infinity, action: { kind: 'status', status: 404 } });
      const d = client();
      d.prepare([proxy.host]);
      // Let the discovery fail in the background before the first request asks for it.
      await vi.waitFor(() => expect(proxy.requests.find((r) => r.path === '/v2/')?.status).toBe(404));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await expect(d.listTags(repo)).rejects.toThrow(/cannot reach registry/);
      expect(pings()).toBe(1);
      refusal.remove();
      expect(await d.listTags(repo)).toEqual([]);
      expect(pings()).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it('reads a blob as a verified stream and reports absent objects', async () => {
    const { plain } = registries();
    const image = await pushRandomImage(plain.host, uniqueRepo('client/read'), 'latest', { layers: 1, layerSize: 200_000 });
    const repo = { registry: plain.host, repository: image.ref.slice(plain.host.length + 1).split(':')[0]! };
    const c = client();
    const size = await c.headBlob(repo, image.layerDigests[0]!);
    expect(size).toBe(image.layerSizes[0]);
    const chunks: Buffer[] = [];
    for await (const chunk of await c.getBlob(repo, { mediaType: MediaType.OciLayerGzip, digest: image.layerDigests[0]!, size: size! })) chunks.push(chunk as Buffer);
    expect(digestOf(Buffer.concat(chunks))).toBe(image.layerDigests[0]);
    // A wrong expected digest: the stream fails instead of handing out unverified bytes.
    const wrong = await c.getBlob(repo, { mediaType: MediaType.OciLayerGzip, digest: image.layerDigests[0]!, size: size! + 1 });
    await expect((async () => { for await (const _ of wrong) void _; })()).rejects.toThrow(/size mismatch/);
    expect(await c.headBlob(repo, digestOf(Buffer.from('absent')))).toBeUndefined();
    expect(await c.headManifest(repo, 'no-such-tag')).toBeUndefined();
    await expect(c.getManifest(repo, 'no-such-tag')).rejects.toThrow(NotFoundError);
  });

  it('lists tags across Link pages, and a missing repository has none', async () => {
    const { plain } = registries();
    const repo = { registry: plain.host, repository: uniqueRepo('client/tags') };
    const c = client({ tagPageSize: 2 });
    const manifest = await uploadBytes(c, repo, [Buffer.from('x')]);
    const tags = ['a', 'b', 'c', 'd', 'e'];
    for (const tag of tags) await c.putManifest(repo, tag, manifest);
    expect((await c.listTags(repo)).sort()).toEqual(tags);
    expect(await c.listTags({ registry: plain.host, repository: uniqueRepo('client/none') })).toEqual([]);
  });

  it('deletes by digest', async () => {
    const { plain } = registries();
    const repo = { registry: plain.host, repository: uniqueRepo('client/delete') };
    const c = client();
    const manifest = await uploadBytes(c, repo, [Buffer.from('to delete')]);
    await c.putManifest(repo, 'gone', manifest);
    await c.deleteManifest(repo, manifest.digest);
    expect(await c.headManifest(repo, manifest.digest)).toBeUndefined();
    await expect(c.deleteManifest(repo, manifest.digest)).rejects.toThrow(NotFoundError);
  });

  it('mounts a blob from another repository, and uploads when the source lacks it', async () => {
    const { plain } = registries();
    const from = { registry: plain.host, repository: uniqueRepo('client/mount-src') };
    const to = { registry: plain.host, repository: uniqueRepo('client/mount-dst') };
    const c = client();
    const manifest = await uploadBytes(c, from, [Buffer.from('mountable')]);
    const layer = manifest.kind === 'image' ? manifest.parsed.layers[0]! : undefined;
    const opened: string[] = [];
    const open = async () => { opened.push('x'); const { Readable } = await import('node:stream'); return Readable.from([Buffer.from('mountable')]); };
    expect(await c.uploadBlob(to, { descriptor: layer!, open, mountFrom: from })).toBe('mounted');
    expect(opened).toEqual([]);
    const elsewhere = { registry: plain.host, repository: uniqueRepo('client/mount-empty') };
    const fresh = Buffer.from('not in the source repository');
    const descriptor = { mediaType: MediaType.OciLayer, digest: digestOf(fresh), size: fresh.length };
    const open2 = async () => { const { Readable } = await import('node:stream'); return Readable.from([fresh]); };
    expect(await c.uploadBlob(to, { descriptor, open: open2, mountFrom: elsewhere })).toBe('uploaded');
    expect(await c.headBlob(to, descriptor.digest)).toBe(fresh.length);
  });

  it('uploads in chunks when asked, with a small chunk size', async () => {
    const { plain } = registries();
    const repo = { registry: plain.host, repository: uniqueRepo('client/chunked') };
    const c = client({ chunkedUpload: true, chunkSize: 256 * 1024 });
    const data = Buffer.alloc(1024 * 1024 + 17, 3);
    const manifest = await uploadBytes(c, repo, [data]);
    await c.putManifest(repo, 'chunked', manifest);
    const inspected = await skopeoInspect(`${plain.host}/${repo.repository}:chunked`, { raw: true }) as { layers: { size: number; digest: string }[] };
    expect(inspected.layers[0]).toMatchObject({ size: data.length, digest: digestOf(data) });
    const back: Buffer[] = [];
    for await (const chunk of await c.getBlob(repo, { mediaType: MediaType.OciLayer, digest: digestOf(data), size: data.length })) back.push(chunk as Buffer);
    expect(Buffer.concat(back).equals(data)).toBe(true);
  });

  it('puts an index after its children, with the exact bytes', async () => {
    const { plain } = registries();
    const repo = { registry: plain.host, repository: uniqueRepo('client/index') };
    const c = client();
    const child = await uploadBytes(c, repo, [Buffer.from('platform a')]);
    await c.putManifest(repo, child.digest, child);
    const index = encodeManifest({
      schemaVersion: 2, mediaType: MediaType.OciIndex,
      manifests: [{ mediaType: child.mediaType, digest: child.digest, size: child.bytes.length, platform: { os: 'linux', architecture: 'amd64' } }],
    }, MediaType.OciIndex);
    await c.putManifest(repo, 'multi', index);
    const raw = await skopeoInspectText(`${plain.host}/${repo.repository}:multi`, { raw: true });
    expect(digestOf(Buffer.from(raw))).toBe(index.digest);
    expect((await c.getManifest(repo, 'multi')).kind).toBe('index');
  });
});

describe('basic auth registry', () => {
  it('pushes with credentials from a docker config', async () => {
    const { basic } = registries();
    const dir = await temp.make('slipway-dockercfg-');
    const auth = Buffer.from(`${basic.username}:${basic.password}`).toString('base64');
    await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { [`http://${basic.host}`]: { auth } } }));
    const repo = { registry: basic.host, repository: uniqueRepo('basic/push') };
    const c = client({ credentials: dockerConfigCredentials({ configDir: dir }) });
    const manifest = await uploadBytes(c, repo, [Buffer.from('basic')]);
    await c.putManifest(repo, 'v1', manifest);
    const inspected = await skopeoInspect(`${basic.host}/${repo.repository}:v1`, { creds: `${basic.username}:${basic.password}`, raw: true }) as { layers: unknown[] };
    expect(inspected.layers).toHaveLength(1);
  });

  it('fails without credentials with a 401 RegistryError that never shows a password', async () => {
    const { basic } = registries();
    const repo = { registry: basic.host, repository: uniqueRepo('basic/denied') };
    const denied = client();
    const error = await denied.listTags(repo).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).status).toBe(401);
    expect((error as RegistryError).hint).toContain('docker login');
    const wrong = client({ credentials: staticCredentials({ [basic.host]: { username: basic.username, password: 'wrong-password-123' } }) });
    const error2 = await wrong.listTags(repo).catch((e: unknown) => e) as RegistryError;
    expect(error2.status).toBe(401);
    expect(`${error2.message} ${error2.hint} ${error2.url}`).not.toContain('wrong-password-123');
  });
});

describe('TLS registry', () => {
  it('refuses an unknown CA with a hint, and works with --skip-tls-verify-registry', async () => {
    const { tls } = registries();
    const repo = { registry: tls.host, repository: uniqueRepo('tls/push') };
    const strict = client({ retries: 0 });
    const error = await strict.listTags(repo).catch((e: unknown) => e) as RegistryError;
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.hint).toContain('NODE_EXTRA_CA_CERTS');
    const skipping = client({ skipTlsVerify: true });
    const manifest = await uploadBytes(skipping, repo, [Buffer.from('tls')]);
    await skipping.putManifest(repo, 'v1', manifest);
    const raw = await skopeoInspectText(`${tls.host}/${repo.repository}:v1`, { raw: true, certDir: tls.certDir });
    expect(digestOf(Buffer.from(raw))).toBe(manifest.digest);
  });

  it('trusts a CA given through NODE_EXTRA_CA_CERTS', async () => {
    const { tls } = registries();
    const script = `
      import { RegistryClient } from './src/registry/client.ts';
      import { staticCredentials } from './src/registry/auth/credentials.ts';
      const c = new RegistryClient({ credentials: staticCredentials({}), retries: 0 });
      console.log(JSON.stringify(await c.listTags({ registry: '${tls.host}', repository: 'tls/none' })));
      await c.close();`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: process.cwd(), env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.caFile },
    });
    expect(JSON.parse(stdout)).toEqual([]);
  });
});

describe('token auth registry', () => {
  // The token server's log is shared by every test file: read only this test's repositories.
  async function tokenRequests(url: string, repository: string): Promise<{ scopes: string[]; authenticated: boolean }[]> {
    return (await fetch(`${url}/requests?all=1&repository=${encodeURIComponent(repository)}`)).json() as Promise<{ scopes: string[]; authenticated: boolean }[]>;
  }

  it('fetches one token per scope set, and one token covering push and mount source', async () => {
    const { token } = registries();
    const creds = staticCredentials({ [token.host]: { username: token.username, password: token.password } });
    const c = client({ credentials: creds });
    const from = { registry: token.host, repository: uniqueRepo('tok/src') };
    const to = { registry: token.host, repository: uniqueRepo('tok/dst') };
    const manifest = await uploadBytes(c, from, [Buffer.from('token blob')]);
    await c.putManifest(from, 'v1', manifest);
    await c.putManifest(from, 'v2', manifest);
    const afterPush = await tokenRequests(token.tokenServerUrl, from.repository);
    expect(afterPush.every((r) => r.authenticated)).toBe(true);
    // Every request of the push shared one pull,push token.
    expect(afterPush.filter((r) => r.scopes.includes(`repository:${from.repository}:pull,push`))).toHaveLength(1);

    const layer = manifest.kind === 'image' ? manifest.parsed.layers[0]! : undefined;
    const { Readable } = await import('node:stream');
    expect(await c.uploadBlob(to, { descriptor: layer!, open: async () => Readable.from([Buffer.from('token blob')]), mountFrom: from })).toBe('mounted');
    const all = await tokenRequests(token.tokenServerUrl, to.repository);
    const mountRequest = all.find((r) => r.scopes.includes(`repository:${to.repository}:pull,push`));
    expect(mountRequest?.scopes).toContain(`repository:${from.repository}:pull`);
  });

  it('pulls anonymously where the token server allows it and refuses a push without credentials', async () => {
    const { token } = registries();
    const owner = client({ credentials: staticCredentials({ [token.host]: { username: token.username, password: token.password } }) });
    const repo = { registry: token.host, repository: uniqueRepo('public/anon') };
    const manifest = await uploadBytes(owner, repo, [Buffer.from('public')]);
    await owner.putManifest(repo, 'v1', manifest);
    const anonymous = client();
    expect((await anonymous.getManifest(repo, 'v1')).digest).toBe(manifest.digest);
    const error = await anonymous.putManifest(repo, 'v2', manifest).catch((e: unknown) => e) as RegistryError;
    expect(error).toBeInstanceOf(RegistryError);
    expect([401, 403]).toContain(error.status);
  });

  it('accepts a token answer carrying only access_token', async () => {
    const { token } = registries();
    const http = new HttpTransport();
    const auth = new Authenticator(http, staticCredentials({ [token.host]: { username: token.username, password: token.password } }));
    const header = await auth.authorization(token.host, [{ scheme: 'bearer', params: { realm: `${token.tokenServerUrl}/token-access-form`, service: token.service } }], ['repository:x/y:pull']);
    expect(header).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    const res = await fetch(`http://${token.host}/v2/x/y/tags/list`, { headers: { authorization: header! } });
    expect(res.status).not.toBe(401);
    await http.close();
  });
});
