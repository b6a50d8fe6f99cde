// Proves the test infrastructure itself: the registries global-setup starts, the
// token server, the skopeo helpers and every fault-proxy action. If these fail,
// no other integration test result means anything.
import { createHash, X509Certificate, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { get as httpsGet } from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import {
  freePort,
  pushRandomImage,
  registries,
  skopeoCopy,
  skopeoInspect,
  skopeoInspectText,
  type PushedImage,
} from '../support/registries.js';

const r = registries();
const basicAuth = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const sha256 = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
// distribution 2.8.2 answers 404 MANIFEST_UNKNOWN for an OCI manifest unless Accept names the OCI type.
const OCI_ACCEPT = { accept: 'application/vnd.oci.image.manifest.v1+json' };
/** Unique repository names, so files running in parallel never share state. */
const uniq = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

interface TokenAnswer {
  token?: string;
  access_token?: string;
  expires_in: number;
  issued_at: string;
}

async function getToken(
  scopes: string[],
  auth?: { username: string; password: string },
  path = '/token',
): Promise<{ status: number; body: TokenAnswer }> {
  const url = new URL(path, r.token.tokenServerUrl);
  url.searchParams.set('service', r.token.service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  const res = await fetch(url, { headers: auth ? { authorization: basicAuth(auth.username, auth.password) } : {} });
  return { status: res.status, body: (await res.json()) as TokenAnswer };
}

function decodeJwt(jwt: string): { header: Record<string, unknown>; claims: Record<string, unknown>; valid: boolean } {
  const [h, c, s] = jwt.split('.');
  if (!h || !c || !s) throw new Error(`not a JWT: ${jwt}`);
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
  const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>;
  const x5c = header.x5c as string[];
  const cert = new X509Certificate(Buffer.from(x5c[0] ?? '', 'base64'));
  const valid = verify('sha256', Buffer.from(`${h}.${c}`), cert.publicKey, Buffer.from(s, 'base64url'));
  return { header, claims, valid };
}

/** Pushes one blob monolithically (POST then PUT ?digest=) with the given Authorization. */
async function pushBlob(
  base: string,
  repo: string,
  data: Buffer,
  authorization?: string,
): Promise<{ postStatus: number; putStatus?: number; postHeaders: Headers }> {
  const headers: Record<string, string> = authorization ? { authorization } : {};
  const post = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers });
  await post.arrayBuffer();
  if (post.status !== 202) return { postStatus: post.status, postHeaders: post.headers };
  const location = new URL(post.headers.get('location') ?? '', base);
  location.searchParams.set('digest', sha256(data));
  const put = await fetch(location, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
    body: new Uint8Array(data),
  });
  await put.arrayBuffer();
  return { postStatus: post.status, putStatus: put.status, postHeaders: post.headers };
}

/** GET over node:http, counting body bytes, and whether the message completed. */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; bytes: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('error', () => undefined); // 'aborted' surfaces here; 'close' reports it
      res.on('close', () => resolve({ status: res.statusCode ?? 0, bytes, complete: res.complete }));
    });
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------------------

describe('registries started by global setup', () => {
  test('plain and plain2 are two distinct open registries', async () => {
    expect(r.plain.host).not.toBe(r.plain2.host);
    for (const host of [r.plain.host, r.plain2.host]) {
      expect(host).toMatch(/^127\.0\.0\.1:\d+$/);
      const res = await fetch(`http://${host}/v2/`);
      expect(res.status).toBe(200);
      expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    }
  });

  test('plain has delete enabled', async () => {
    const repo = uniq('infra/delete');
    const image = await pushRandomImage(r.plain.host, repo, 'v1', { layers: 1, layerSize: 1024 });
    const del = await fetch(`http://${r.plain.host}/v2/${repo}/manifests/${image.manifestDigest}`, { method: 'DELETE' });
    expect(del.status).toBe(202);
    const head = await fetch(`http://${r.plain.host}/v2/${repo}/manifests/${image.manifestDigest}`, { method: 'HEAD' });
    expect(head.status).toBe(404);
  });

  test('basic challenges with Basic, accepts the right password only', async () => {
    const url = `http://${r.basic.host}/v2/`;
    const anon = await fetch(url);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+"/);
    const good = await fetch(url, { headers: { authorization: basicAuth(r.basic.username, r.basic.password) } });
    expect(good.status).toBe(200);
    const bad = await fetch(url, { headers: { authorization: basicAuth(r.basic.username, 'wrong') } });
    expect(bad.status).toBe(401);
  });

  test('token challenges with Bearer realm and service', async () => {
    const res = await fetch(`http://${r.token.host}/v2/`);
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain(`realm="${r.token.tokenServerUrl}/token"`);
    expect(challenge).toContain(`service="${r.token.service}"`);
    expect(r.token.realm).toBe(`${r.token.tokenServerUrl}/token`);
  });

  test('tls serves https trusted through the generated CA only', async () => {
    const ca = await readFile(r.tls.caFile, 'utf8');
    expect(r.tls.certDir).toBe(r.tls.caFile.replace(/\/ca\.crt$/, ''));
    // node:https directly (the global fetch takes no CA of its own): the status, or the connection's error.
    const status = (url: string, options: { ca?: string }): Promise<number> => new Promise((resolve, reject) => {
      httpsGet(url, { ...options, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(await status(`https://${r.tls.host}/v2/`, { ca })).toBe(200);
    // The cert also names localhost.
    const port = r.tls.host.split(':')[1];
    expect(await status(`https://localhost:${port}/v2/`, { ca })).toBe(200);
    await expect(status(`https://${r.tls.host}/v2/`, {})).rejects.toThrow();
  });

  test('freePort returns a bindable loopback port', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
  });
});

describe('token server', () => {
  const creds = { username: r.token.username, password: r.token.password };

  test('grants what valid credentials ask for, in a verifiable RS256 JWT', async () => {
    const repo = uniq('infra/granted');
    const { status, body } = await getToken([`repository:${repo}:pull,push`], creds);
    expect(status).toBe(200);
    expect(body.expires_in).toBe(300);
    expect(Number.isNaN(Date.parse(body.issued_at))).toBe(false);
    expect(body.access_token).toBeUndefined();
    const { header, claims, valid } = decodeJwt(body.token ?? '');
    expect(valid).toBe(true);
    expect(header.alg).toBe('RS256');
    expect(claims.iss).toBe(r.token.issuer);
    expect(claims.aud).toBe(r.token.service);
    expect(claims.sub).toBe(r.token.username);
    expect(typeof claims.jti).toBe('string');
    expect((claims.exp as number) - (claims.iat as number)).toBe(300);
    expect(claims.nbf as number).toBeLessThanOrEqual(claims.iat as number);
    expect(claims.access).toEqual([{ type: 'repository', name: repo, actions: ['pull', 'push'] }]);
  });

  test('accepts several scope params and space-separated scopes', async () => {
    const [a, b, c] = [uniq('infra/a'), uniq('infra/b'), uniq('infra/c')];
    const { body } = await getToken([`repository:${a}:pull`, `repository:${b}:push repository:${c}:pull,delete`], creds);
    expect(decodeJwt(body.token ?? '').claims.access).toEqual([
      { type: 'repository', name: a, actions: ['pull'] },
      { type: 'repository', name: b, actions: ['push'] },
      { type: 'repository', name: c, actions: ['pull', 'delete'] },
    ]);
  });

  test('anonymous callers get pull on public/ repositories only', async () => {
    const pub = uniq('public/infra');
    const priv = uniq('infra/private');
    const { status, body } = await getToken([`repository:${pub}:pull,push`, `repository:${priv}:pull`]);
    expect(status).toBe(200);
    const { claims } = decodeJwt(body.token ?? '');
    expect(claims.sub).toBe('');
    expect(claims.access).toEqual([{ type: 'repository', name: pub, actions: ['pull'] }]);
  });

  test('wrong credentials get 401', async () => {
    const { status } = await getToken([`repository:infra/x:pull`], { username: 'slipway', password: 'nope' });
    expect(status).toBe(401);
  });

  test('/token-access-form answers with access_token only', async () => {
    const repo = uniq('infra/form');
    const { status, body } = await getToken([`repository:${repo}:pull`], creds, '/token-access-form');
    expect(status).toBe(200);
    expect(body.token).toBeUndefined();
    expect(decodeJwt(body.access_token ?? '').claims.access).toEqual([{ type: 'repository', name: repo, actions: ['pull'] }]);
  });

  test('/requests logs each token request; /requests/reset empties the log', async () => {
    const repo = uniq('infra/logged');
    await getToken([`repository:${repo}:pull,push`], creds);
    await getToken([`repository:${repo}:pull`]);
    type Rec = { path: string; scopes: string[]; authenticated: boolean; status: number; at: string };
    const read = async (query: string): Promise<Rec[]> =>
      (await (await fetch(`${r.token.tokenServerUrl}/requests${query}`)).json()) as Rec[];
    // Other test files share the server (and may reset it): `all` ignores resets,
    // `repository` keeps only this test's records.
    const mine = await read(`?all=1&repository=${encodeURIComponent(repo)}`);
    expect(mine.map(({ path, scopes, authenticated, status }) => ({ path, scopes, authenticated, status }))).toEqual([
      { path: '/token', scopes: [`repository:${repo}:pull,push`], authenticated: true, status: 200 },
      { path: '/token', scopes: [`repository:${repo}:pull`], authenticated: false, status: 200 },
    ]);
    expect(await read(`?repository=${encodeURIComponent(uniq('infra/other'))}`)).toEqual([]);
    const reset = await fetch(`${r.token.tokenServerUrl}/requests/reset`, { method: 'POST' });
    expect(reset.status).toBe(200);
    expect(await read(`?repository=${encodeURIComponent(repo)}`)).toEqual([]);
    expect(await read(`?all=1&repository=${encodeURIComponent(repo)}`)).toHaveLength(2);
  });

  test('a push token lets you push a blob to the token registry; a pull-only token does not', async () => {
    const repo = uniq('infra/tokenpush');
    const base = `http://${r.token.host}`;
    const data = Buffer.from(`blob for ${repo}`);

    const none = await pushBlob(base, repo, data);
    expect(none.postStatus).toBe(401);

    const pullOnly = (await getToken([`repository:${repo}:pull`], creds)).body.token;
    const denied = await pushBlob(base, repo, data, `Bearer ${pullOnly}`);
    expect([401, 403]).toContain(denied.postStatus);
    expect(denied.postHeaders.get('www-authenticate')).toContain('insufficient_scope');

    const push = (await getToken([`repository:${repo}:pull,push`], creds)).body.token;
    const pushed = await pushBlob(base, repo, data, `Bearer ${push}`);
    expect(pushed).toMatchObject({ postStatus: 202, putStatus: 201 });
    const head = await fetch(`${base}/v2/${repo}/blobs/${sha256(data)}`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${push}` },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(data.length));
  });

  test('anonymous pulls work on public/ repositories and fail elsewhere (skopeo)', async () => {
    const pub = uniq('public/img');
    const priv = uniq('infra/img');
    const auth = `${r.token.username}:${r.token.password}`;
    const pubImage = await pushRandomImage(r.token.host, pub, 'v1', { layers: 1, layerSize: 1024, creds: auth });
    await pushRandomImage(r.token.host, priv, 'v1', { layers: 1, layerSize: 1024, creds: auth });
    const raw = await skopeoInspectText(`${r.token.host}/${pub}:v1`, { raw: true });
    expect(sha256(raw)).toBe(pubImage.manifestDigest);
    await expect(skopeoInspect(`${r.token.host}/${priv}:v1`, { raw: true })).rejects.toThrow(/unauthorized|denied|authentication/i);
  });
});

describe('pushRandomImage and skopeo helpers', () => {
  let image: PushedImage;
  const repo = uniq('infra/random');

  beforeAll(async () => {
    image = await pushRandomImage(r.plain.host, repo, 'v1', { layers: 3, layerSize: 64 * 1024 });
  });

  test('pushes what it reports', async () => {
    expect(image.layerDigests).toHaveLength(3);
    expect(new Set(image.layerDigests).size).toBe(3);
    const raw = await skopeoInspectText(`${r.plain.host}/${repo}:v1`, { raw: true });
    expect(raw).toBe(image.manifest);
    expect(sha256(raw)).toBe(image.manifestDigest);
    const summary = (await skopeoInspect(`docker://${r.plain.host}/${repo}:v1`)) as { Digest: string; Layers: string[] };
    expect(summary.Digest).toBe(image.manifestDigest);
    expect(summary.Layers).toEqual(image.layerDigests);
    const config = (await skopeoInspect(`${r.plain.host}/${repo}:v1`, { config: true })) as { rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).toEqual(image.diffIds);
    const configRaw = await skopeoInspectText(`${r.plain.host}/${repo}:v1`, { config: true, raw: true });
    expect(sha256(configRaw)).toBe(image.configDigest);
  });

  test('layer blobs have the reported digests and sizes, and are gzip tars of the stated size', async () => {
    const res = await fetch(`http://${r.plain.host}/v2/${repo}/blobs/${image.layerDigests[0]}`);
    const body = Buffer.from(await res.arrayBuffer());
    expect(sha256(body)).toBe(image.layerDigests[0]);
    expect(body.length).toBe(image.layerSizes[0]);
    expect(body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const { gunzipSync } = await import('node:zlib');
    const tar = gunzipSync(body);
    expect(sha256(tar)).toBe(image.diffIds[0]);
    expect(tar.length).toBe(512 + 64 * 1024 + 1024);
    expect(tar.subarray(257, 262).toString()).toBe('ustar');
  });

  test('uncompressed layers keep their digests', async () => {
    const plainRepo = uniq('infra/uncompressed');
    const img = await pushRandomImage(r.plain.host, plainRepo, 'v1', { layers: 1, layerSize: 4096, compression: 'none' });
    expect(img.layerDigests).toEqual(img.diffIds);
    const raw = (await skopeoInspect(`${r.plain.host}/${plainRepo}:v1`, { raw: true })) as { layers: { mediaType: string }[] };
    expect(raw.layers[0]?.mediaType).toBe('application/vnd.oci.image.layer.v1.tar');
  });

  test('skopeoCopy copies registry to registry with the same digest', async () => {
    const digest = await skopeoCopy(`${r.plain.host}/${repo}:v1`, `${r.plain2.host}/${repo}:copied`);
    expect(digest).toBe(image.manifestDigest);
    const raw = await skopeoInspectText(`${r.plain2.host}/${repo}:copied`, { raw: true });
    expect(sha256(raw)).toBe(image.manifestDigest);
  });

  test('works against the basic and tls registries with creds and cert dir', async () => {
    const creds = `${r.basic.username}:${r.basic.password}`;
    const b = await pushRandomImage(r.basic.host, uniq('infra/basic'), 'v1', { layers: 1, layerSize: 1024, creds });
    expect(sha256(await skopeoInspectText(b.ref, { raw: true, creds }))).toBe(b.manifestDigest);
    await expect(skopeoInspect(b.ref, { raw: true })).rejects.toThrow();

    const t = await pushRandomImage(r.tls.host, uniq('infra/tls'), 'v1', { layers: 1, layerSize: 1024, certDir: r.tls.certDir });
    expect(sha256(await skopeoInspectText(t.ref, { raw: true, certDir: r.tls.certDir }))).toBe(t.manifestDigest);
    // Verifying TLS without the CA must fail: proves tls: true really verifies.
    await expect(skopeoInspect(t.ref, { raw: true, tls: true })).rejects.toThrow(/certificate/);
  });
});

describe('fault proxy', () => {
  let proxy: FaultProxy;
  let image: PushedImage;
  const repo = uniq('infra/proxied');

  beforeAll(async () => {
    image = await pushRandomImage(r.plain.host, repo, 'v1', { layers: 1, layerSize: 256 * 1024 });
    proxy = await startFaultProxy({ target: `http://${r.plain.host}` });
  });
  afterAll(async () => {
    await proxy.close();
  });
  afterEach(() => {
    proxy.clearFaults();
    proxy.clearRequests();
  });

  const blobUrl = (): string => `${proxy.url}/v2/${repo}/blobs/${image.layerDigests[0]}`;
  const manifestUrl = (): string => `${proxy.url}/v2/${repo}/manifests/v1`;

  test('passes requests through and logs them', async () => {
    expect(proxy.host).toMatch(/^127\.0\.0\.1:\d+$/);
    const res = await fetch(`${proxy.url}/v2/`, { headers: { 'x-probe': 'yes' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    const body = Buffer.from(await (await fetch(blobUrl())).arrayBuffer());
    expect(sha256(body)).toBe(image.layerDigests[0]);
    expect(proxy.requests.map((q) => [q.method, q.path, q.status])).toEqual([
      ['GET', '/v2/', 200],
      ['GET', `/v2/${repo}/blobs/${image.layerDigests[0]}`, 200],
    ]);
    expect(proxy.requests[0]?.headers['x-probe']).toBe('yes');
    expect(proxy.requests[0]?.fault).toBeUndefined();
  });

  test('status: answers instead of the registry, `times` times, filtered by method and path', async () => {
    const handle = proxy.addFault({
      method: 'GET',
      path: /\/manifests\//,
      times: 2,
      action: { kind: 'status', status: 429, headers: { 'retry-after': '1' }, body: 'slow down' },
    });
    const head = await fetch(manifestUrl(), { method: 'HEAD', headers: OCI_ACCEPT }); // other method: untouched
    expect(head.status).toBe(200);
    const ping = await fetch(`${proxy.url}/v2/`); // other path: untouched
    expect(ping.status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(manifestUrl());
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.text()).toBe('slow down');
    }
    expect(handle.hits).toBe(2);
    expect(handle.remaining).toBe(0);
    const after = await fetch(manifestUrl(), { headers: OCI_ACCEPT });
    expect(after.status).toBe(200);
    expect(await after.text()).toBe(image.manifest);
    expect(proxy.requests.filter((q) => q.fault === 'status').map((q) => q.status)).toEqual([429, 429]);
  });

  test('status: times Infinity keeps firing until cleared; remove() stops one fault', async () => {
    const handle = proxy.addFault({ path: /^\/v2\/$/, times: Infinity, action: { kind: 'status', status: 503 } });
    for (let i = 0; i < 3; i++) expect((await fetch(`${proxy.url}/v2/`)).status).toBe(503);
    handle.remove();
    expect((await fetch(`${proxy.url}/v2/`)).status).toBe(200);
  });

  test('reset-mid-body: the client gets exactly afterBytes of the body, then the connection ends', async () => {
    proxy.addFault({ method: 'GET', path: /\/blobs\//, action: { kind: 'reset-mid-body', afterBytes: 1000 } });
    const cut = await rawGet(blobUrl());
    expect(cut).toEqual({ status: 200, bytes: 1000, complete: false });
    // fetch sees it as an error while reading the body.
    proxy.addFault({ method: 'GET', path: /\/blobs\//, action: { kind: 'reset-mid-body', afterBytes: 70_000 } });
    const res = await fetch(blobUrl());
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
    // Used up: the next GET is whole.
    const whole = await rawGet(blobUrl());
    expect(whole).toEqual({ status: 200, bytes: image.layerSizes[0], complete: true });
  });

  test('drop-header: removes Docker-Content-Digest from the real response', async () => {
    const headers = OCI_ACCEPT;
    const before = await fetch(manifestUrl(), { method: 'HEAD', headers });
    expect(before.headers.get('docker-content-digest')).toBe(image.manifestDigest);
    proxy.addFault({ action: { kind: 'drop-header', header: 'Docker-Content-Digest' } });
    const dropped = await fetch(manifestUrl(), { method: 'HEAD', headers });
    expect(dropped.status).toBe(200);
    expect(dropped.headers.get('docker-content-digest')).toBeNull();
    expect(dropped.headers.get('content-type')).toBe('application/vnd.oci.image.manifest.v1+json');
  });

  test('rewrite-status: PATCH 202 -> 201 like ECR, with upload Locations rewritten to the proxy', async () => {
    const uploadRepo = uniq('infra/upload');
    const data = Buffer.from('chunked upload through the proxy');
    const post = await fetch(`${proxy.url}/v2/${uploadRepo}/blobs/uploads/`, { method: 'POST' });
    expect(post.status).toBe(202);
    const location = post.headers.get('location') ?? '';
    expect(location.startsWith(`${proxy.url}/v2/${uploadRepo}/blobs/uploads/`)).toBe(true);

    const handle = proxy.addFault({ method: 'PATCH', action: { kind: 'rewrite-status', from: 202, to: 201 } });
    const patch = await fetch(location, {
      method: 'PATCH',
      headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${data.length - 1}` },
      body: data,
    });
    expect(patch.status).toBe(201);
    expect(handle.hits).toBe(1);
    const next = new URL(patch.headers.get('location') ?? '');
    expect(next.host).toBe(proxy.host);
    next.searchParams.set('digest', sha256(data));
    const put = await fetch(next, { method: 'PUT' });
    expect(put.status).toBe(201);
    // It really reached the registry.
    const head = await fetch(`http://${r.plain.host}/v2/${uploadRepo}/blobs/${sha256(data)}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  test('rewrite-status is only used up when the `from` status occurs', async () => {
    const handle = proxy.addFault({ action: { kind: 'rewrite-status', from: 404, to: 500 } });
    expect((await fetch(`${proxy.url}/v2/`)).status).toBe(200);
    expect(handle.remaining).toBe(1);
    expect((await fetch(`${proxy.url}/v2/${repo}/manifests/missing`)).status).toBe(500);
    expect(handle.remaining).toBe(0);
  });

  test('redirect-blob-get: 307 to another host that serves the blob and rejects Authorization', async () => {
    proxy.addFault({ times: Infinity, action: { kind: 'redirect-blob-get' } });
    const manual = await fetch(blobUrl(), { redirect: 'manual' });
    expect(manual.status).toBe(307);
    const location = new URL(manual.headers.get('location') ?? '');
    expect(location.host).toBe(proxy.blobHost);
    expect(location.hostname).toBe('localhost');

    const followed = await fetch(blobUrl());
    expect(followed.status).toBe(200);
    expect(sha256(Buffer.from(await followed.arrayBuffer()))).toBe(image.layerDigests[0]);

    const withAuth = await fetch(location, { headers: { authorization: 'Bearer leaked' } });
    expect(withAuth.status).toBe(403);
    expect(proxy.blobRequests.map((b) => [b.authorization, b.status])).toEqual([
      [false, 200],
      [true, 403],
    ]);
    // Manifests and HEADs are not redirected.
    expect((await fetch(manifestUrl(), { method: 'HEAD', headers: OCI_ACCEPT })).status).toBe(200);
    expect((await fetch(blobUrl(), { method: 'HEAD', redirect: 'manual' })).status).toBe(200);
  });
});

describe('fault proxy in front of the token registry', () => {
  let proxy: FaultProxy;
  const repo = uniq('infra/expiring');
  let image: PushedImage;
  const creds = { username: r.token.username, password: r.token.password };

  beforeAll(async () => {
    image = await pushRandomImage(r.token.host, repo, 'v1', {
      layers: 1,
      layerSize: 8 * 1024,
      creds: `${creds.username}:${creds.password}`,
    });
    proxy = await startFaultProxy({ target: `http://${r.token.host}` });
  });
  afterAll(async () => {
    await proxy.close();
  });
  afterEach(() => {
    proxy.clearFaults();
    proxy.clearRequests();
  });

  test('expire-token-after: after N requests a bearer gets the registry challenge with invalid_token', async () => {
    const token = (await getToken([`repository:${repo}:pull`], creds)).body.token;
    const headers = { authorization: `Bearer ${token}`, accept: 'application/vnd.oci.image.manifest.v1+json' };
    const url = `${proxy.url}/v2/${repo}/manifests/v1`;
    proxy.addFault({ action: { kind: 'expire-token-after', requests: 2 } });

    expect((await fetch(url, { headers })).status).toBe(200);
    expect((await fetch(url, { headers })).status).toBe(200);
    const expired = await fetch(url, { headers });
    expect(expired.status).toBe(401);
    const challenge = expired.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain(`realm="${r.token.realm}"`);
    expect(challenge).toContain(`service="${r.token.service}"`);
    expect(challenge).toContain(`scope="repository:${repo}:pull"`);
    expect(challenge).toContain('error="invalid_token"');

    // A fresh token works again.
    const fresh = (await getToken([`repository:${repo}:pull`], creds)).body.token;
    const again = await fetch(url, { headers: { ...headers, authorization: `Bearer ${fresh}` } });
    expect(again.status).toBe(200);
    expect(await again.text()).toBe(image.manifest);
    expect(proxy.requests.map((q) => [q.status, q.fault])).toEqual([
      [200, undefined],
      [200, undefined],
      [401, 'expire-token-after'],
      [200, undefined],
    ]);
  });

  test('expire-token-after: a push request gets the pull,push challenge and nothing reaches the registry', async () => {
    const pushToken = (await getToken([`repository:${repo}:pull,push`], creds)).body.token;
    proxy.addFault({ method: 'POST', action: { kind: 'expire-token-after', requests: 0 } });
    const res = await fetch(`${proxy.url}/v2/${repo}/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pushToken}` },
    });
    expect(res.status).toBe(401);
    // distribution lists the actions in no fixed order (a Go map): either order is the same scope.
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect([`scope="repository:${repo}:pull,push"`, `scope="repository:${repo}:push,pull"`].some((scope) => challenge.includes(scope)), challenge).toBe(true);
  });

  test('expire-token-after can synthesize the challenge from a configured realm', async () => {
    const synth = await startFaultProxy({
      target: `http://${r.token.host}`,
      tokenRealm: 'http://127.0.0.1:1/elsewhere',
      tokenService: 'svc',
    });
    try {
      synth.addFault({ action: { kind: 'expire-token-after', requests: 0 } });
      const res = await fetch(`${synth.url}/v2/${repo}/manifests/v1`, { headers: { authorization: 'Bearer whatever' } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        `Bearer realm="http://127.0.0.1:1/elsewhere",service="svc",scope="repository:${repo}:pull",error="invalid_token"`,
      );
    } finally {
      await synth.close();
    }
  });

  test('redirect-blob-get fetches with the original credentials; fetch drops Authorization across hosts', async () => {
    const token = (await getToken([`repository:${repo}:pull`], creds)).body.token;
    proxy.addFault({ action: { kind: 'redirect-blob-get' } });
    const res = await fetch(`${proxy.url}/v2/${repo}/blobs/${image.layerDigests[0]}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(image.layerDigests[0]);
    expect(proxy.blobRequests.map((b) => [b.authorization, b.status])).toEqual([[false, 200]]);
  });
});
