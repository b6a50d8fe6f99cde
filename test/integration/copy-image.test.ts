// copyImage and `slipway copy` between real registries and OCI layouts, checked with skopeo.
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { digestOf, encodeManifest, MediaType } from '../../src/oci/index.js';
import { staticCredentials } from '../../src/registry/auth/credentials.js';
import { RegistryClient } from '../../src/registry/client.js';
import { copyImage } from '../../src/store/copy-image.js';
import { OciLayoutStore } from '../../src/store/oci-layout-store.js';
import { RegistryStore } from '../../src/store/registry-store.js';
import { runCli } from '../../src/cli/program.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { tempDirs } from '../support/git-repo.js';
import { uniqueRepo, uploadBytes } from '../support/images.js';
import { pushRandomImage, registries, skopeoInspect, skopeoInspectText } from '../support/registries.js';

const client = new RegistryClient({ credentials: staticCredentials({}), retryBaseDelayMs: 5 });
afterAll(() => client.close());
const temp = tempDirs();
afterAll(temp.removeAll);

function store(host: string, repository: string): RegistryStore {
  return new RegistryStore(client, { registry: host, repository });
}

async function rawDigest(ref: string): Promise<string> {
  return digestOf(Buffer.from(await skopeoInspectText(ref, { raw: true })));
}

describe('copyImage', () => {
  it('streams an image to another registry, then skips it with one HEAD when repeated', async () => {
    const { plain, plain2 } = registries();
    const name = uniqueRepo('copy/src');
    const pushed = await pushRandomImage(plain.host, name, 'v1', { layers: 3, layerSize: 300_000 });
    const dstName = uniqueRepo('copy/dst');
    const result = await copyImage(store(plain.host, name), 'v1', store(plain2.host, dstName), { tag: 'v1' });
    expect(result).toMatchObject({ digest: pushed.manifestDigest, skipped: false, blobs: { uploaded: 4, mounted: 0, present: 0 } });
    expect(await rawDigest(`${plain2.host}/${dstName}:v1`)).toBe(pushed.manifestDigest);

    const again = await copyImage(store(plain.host, name), 'v1', store(plain2.host, dstName), { tag: 'v1' });
    expect(again.skipped).toBe(true);
    // Under another tag: the blobs are all there already, only the manifest is written.
    const other = await copyImage(store(plain.host, name), 'v1', store(plain2.host, dstName), { tag: 'v2' });
    expect(other.blobs).toEqual({ uploaded: 0, mounted: 0, present: 4 });
    expect(await rawDigest(`${plain2.host}/${dstName}:v2`)).toBe(pushed.manifestDigest);
  });

  it('mounts blobs within one registry instead of moving them', async () => {
    const { plain } = registries();
    const name = uniqueRepo('copy/mount-src');
    const pushed = await pushRandomImage(plain.host, name, 'v1', { layers: 2, layerSize: 100_000 });
    const dstName = uniqueRepo('copy/mount-dst');
    const result = await copyImage(store(plain.host, name), 'v1', store(plain.host, dstName), { tag: 'latest' });
    expect(result.blobs).toEqual({ uploaded: 0, mounted: 3, present: 0 });
    expect(result.bytesUploaded).toBe(0);
    expect(await rawDigest(`${plain.host}/${dstName}:latest`)).toBe(pushed.manifestDigest);
  });

  it('copies an index with its children, keeping every digest', async () => {
    const { plain, plain2 } = registries();
    const name = uniqueRepo('copy/index-src');
    const src = { registry: plain.host, repository: name };
    const children = [];
    for (const arch of ['amd64', 'arm64']) {
      const child = await uploadBytes(client, src, [Buffer.from(`layer for ${arch}`)]);
      await client.putManifest(src, child.digest, child);
      children.push({ mediaType: child.mediaType, digest: child.digest, size: child.bytes.length, platform: { os: 'linux', architecture: arch } });
    }
    const index = encodeManifest({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: children, annotations: { keep: 'me' } }, MediaType.OciIndex);
    await client.putManifest(src, 'multi', index);

    const dstName = uniqueRepo('copy/index-dst');
    const result = await copyImage(store(plain.host, name), 'multi', store(plain2.host, dstName), { tag: 'multi' });
    expect(result.digest).toBe(index.digest);
    expect(await rawDigest(`${plain2.host}/${dstName}:multi`)).toBe(index.digest);
    for (const child of children) expect(await rawDigest(`${plain2.host}/${dstName}@${child.digest}`)).toBe(child.digest);
  });

  it('round-trips registry -> OCI layout -> registry with identical digests', async () => {
    const { plain } = registries();
    const name = uniqueRepo('copy/oci');
    const pushed = await pushRandomImage(plain.host, name, 'v1', { layers: 2, layerSize: 50_000 });
    const dir = await temp.make('slipway-layout-');
    const layout = await OciLayoutStore.open(dir, { create: true });
    await copyImage(store(plain.host, name), 'v1', layout, { tag: 'saved' });
    const inspected = await skopeoInspect(`oci:${dir}:saved`, { raw: true }) as { layers: unknown[] };
    expect(inspected.layers).toHaveLength(2);
    const backName = uniqueRepo('copy/oci-back');
    const back = await copyImage(layout, 'saved', store(plain.host, backName), { tag: 'restored' });
    expect(back.blobs.uploaded).toBe(3); // a layout is not a registry: nothing to mount from
    expect(await rawDigest(`${plain.host}/${backName}:restored`)).toBe(pushed.manifestDigest);
  });

  it('never writes the tag when a blob fails', async () => {
    const { plain } = registries();
    const proxy = await startFaultProxy({ target: `http://${plain.host}` });
    try {
      const name = uniqueRepo('copy/partial-src');
      await pushRandomImage(plain.host, name, 'v1', { layers: 2, layerSize: 50_000 });
      proxy.addFault({ method: 'PUT', path: /\/blobs\/uploads\//, times: Infinity, action: { kind: 'status', status: 500 } });
      const dstName = uniqueRepo('copy/partial-dst');
      const failing = new RegistryClient({ credentials: staticCredentials({}), retries: 1, retryBaseDelayMs: 1 });
      try {
        await expect(copyImage(store(plain.host, name), 'v1', new RegistryStore(failing, { registry: proxy.host, repository: dstName }), { tag: 'v1' })).rejects.toThrow(/answered 500/);
      } finally {
        await failing.close();
      }
      expect(await client.headManifest({ registry: plain.host, repository: dstName }, 'v1')).toBeUndefined();
      expect(proxy.requests.some((r) => r.method === 'PUT' && r.path.includes('/manifests/'))).toBe(false);
    } finally {
      await proxy.close();
    }
  });
});

describe('slipway copy', () => {
  function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    return runCli(argv, { io: { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } }, env: { HOME: tmpdir(), PATH: process.env.PATH ?? '' } })
      .then((code) => ({ code, stdout, stderr }));
  }

  it('copies between registries and reports what moved', async () => {
    const { plain, plain2 } = registries();
    const name = uniqueRepo('cli/src');
    const pushed = await pushRandomImage(plain.host, name, 'v1', { layers: 1, layerSize: 10_000 });
    const dst = `${plain2.host}/${uniqueRepo('cli/dst')}:copied`;
    const first = await cli(['copy', `docker://${plain.host}/${name}:v1`, dst]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(`${dst}@${pushed.manifestDigest}\n`);
    expect(first.stderr).toContain('2 copied');
    expect(await rawDigest(dst)).toBe(pushed.manifestDigest);
    const second = await cli(['copy', `${plain.host}/${name}:v1`, dst]);
    expect(second.stderr).toContain('already holds');
  });

  it('writes extra --tags in the same transfer, one dest@digest line each, and the digest to --digestfile', async () => {
    const { plain, plain2 } = registries();
    const name = uniqueRepo('cli/src-tags');
    const pushed = await pushRandomImage(plain.host, name, 'v1', { layers: 1, layerSize: 5_000 });
    const repo = `${plain2.host}/${uniqueRepo('cli/dst-tags')}`;
    const digestFile = join(tmpdir(), `slipway-digest-${process.pid}`);
    try {
      const result = await cli(['copy', `${plain.host}/${name}:v1`, `${repo}:main`, '--tag', 'v1.2', '--tag', 'latest', '--digestfile', digestFile]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim().split('\n')).toEqual([`${repo}:main`, `${repo}:v1.2`, `${repo}:latest`].map((r) => `${r}@${pushed.manifestDigest}`));
      for (const tag of ['main', 'v1.2', 'latest']) expect(await rawDigest(`${repo}:${tag}`)).toBe(pushed.manifestDigest);
      expect(await readFile(digestFile, 'utf8')).toBe(pushed.manifestDigest);
      // A --digestfile in a missing directory is refused before anything moves.
      const refused = await cli(['copy', `${plain.host}/${name}:v1`, `${repo}:other`, '--digestfile', join(tmpdir(), 'no-such-dir', 'd')]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/^Error: --digestfile .*: the directory .* does not exist/);
      const bad = await cli(['copy', `${plain.host}/${name}:v1`, `${repo}:other`, '--tag', 'no/slash']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^Error: --tag "no\/slash" is not a valid tag/);
    } finally {
      await rm(digestFile, { force: true });
    }
  });

  it('names a bad reference and exits non-zero with nothing written', async () => {
    const { plain } = registries();
    const bad = await cli(['copy', `${plain.host}/Upper/Case:v1`, `${plain.host}/x:y`]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.split('\n')[0]).toBe(`Error: invalid image reference "${plain.host}/Upper/Case:v1": repository "Upper/Case" must be lowercase (component "Upper")`);
    const missing = await cli(['copy', `${plain.host}/${uniqueRepo('cli/none')}:v1`, `${plain.host}/x:y`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^Error: manifest .* not found/);
  });
});
