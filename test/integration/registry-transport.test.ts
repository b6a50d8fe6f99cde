// The HTTP transport under the registry client (src/registry/http.ts) against a real registry: what its
// connections do when a reader holds a body back, when a request body fails, and when the transport is closed
// with work in flight. Timeouts of a registry that stalls or freezes are in registry-network.test.ts.
import { execFile } from 'node:child_process';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { Descriptor } from '../../src/oci/index.js';
import { staticCredentials } from '../../src/registry/auth/credentials.js';
import { RegistryClient } from '../../src/registry/client.js';
import { HttpTransport, drain, header, readBody } from '../../src/registry/http.js';
import { uniqueRepo, uploadBytes } from '../support/images.js';
import { registries } from '../support/registries.js';

const exec = promisify(execFile);
const client = new RegistryClient({ credentials: staticCredentials({}), timeoutMs: 1000, retries: 0 });
afterAll(async () => {
  await client.close();
});

/** A repository of the plain registry holding one blob of `size` bytes; its descriptor. */
async function pushBlob(name: string, size: number): Promise<{ repo: { registry: string; repository: string }; layer: Descriptor }> {
  const repo = { registry: registries().plain.host, repository: uniqueRepo(name) };
  const manifest = await uploadBytes(client, repo, [Buffer.alloc(size, 5)]);
  const layer = (JSON.parse(Buffer.from(manifest.bytes).toString('utf8')) as { layers: Descriptor[] }).layers[0]!;
  return { repo, layer };
}

describe('--registry-timeout and a reader that holds a body back', () => {
  it('is no stalled registry: a blob read only after twice the timeout arrives whole and verified', async () => {
    const { repo, layer } = await pushBlob('transport/held', 8 * 1024 * 1024);
    const blob = await client.getBlob(repo, layer);
    await sleep(2500);
    let size = 0;
    for await (const chunk of blob) {
      size += (chunk as Buffer).length;
      // A slow reader too: a pause longer than the timeout in the middle.
      if (size > 1024 * 1024 && size - (chunk as Buffer).length <= 1024 * 1024) await sleep(1500);
    }
    expect(size).toBe(layer.size);
  });

  it('a complete answer may wait longer than the timeout to be read', async () => {
    const http = new HttpTransport({ timeoutMs: 1000 });
    try {
      const res = await http.send({ method: 'GET', url: new URL(`http://${registries().plain.host}/v2/`) });
      await sleep(2000);
      expect(res.status).toBe(200);
      expect((await readBody(res.body, 1024, 'ping')).toString()).toBe('{}');
    } finally {
      await http.close();
    }
  });
});

describe('answers without a body', () => {
  it('hold no connection, though nobody reads them (HEAD of manifests, more than the pool has connections)', async () => {
    const { plain } = registries();
    const small = new RegistryClient({ credentials: staticCredentials({}), connectionsPerHost: 2, timeoutMs: 5000, retries: 0 });
    try {
      const repo = { registry: plain.host, repository: uniqueRepo('transport/head') };
      const manifest = await uploadBytes(small, repo, [Buffer.from('head')]);
      await small.putManifest(repo, 'v1', manifest);
      // headManifest looks at the headers only, and a missing tag answers 404: neither body is read.
      for (let i = 0; i < 6; i++) {
        expect((await small.headManifest(repo, 'v1'))?.digest).toBe(manifest.digest);
        expect(await small.headManifest(repo, 'absent')).toBeUndefined();
      }
      expect((await small.getManifest(repo, 'v1')).digest).toBe(manifest.digest);
    } finally {
      await small.close();
    }
  }, 20_000);
});

describe('a request body that fails', () => {
  it('aborts its request with the body\'s error, and the transport goes on', async () => {
    const { plain } = registries();
    const http = new HttpTransport({ timeoutMs: 5000 });
    try {
      const start = await http.send({ method: 'POST', url: new URL(`http://${plain.host}/v2/${uniqueRepo('transport/fail')}/blobs/uploads/`) });
      await drain(start.body);
      expect(start.status).toBe(202);
      const location = new URL(header(start.headers, 'location')!, start.url);
      location.searchParams.set('digest', `sha256:${'0'.repeat(64)}`);
      async function* failing(): AsyncGenerator<Buffer> {
        yield Buffer.alloc(256 * 1024, 1);
        await sleep(50);
        throw new Error('the source broke');
      }
      const put = http.send({
        method: 'PUT', url: location, headers: { 'content-length': String(1024 * 1024) }, body: Readable.from(failing()),
      });
      await expect(put).rejects.toThrow('the source broke');
      const ping = await http.send({ method: 'GET', url: new URL(`http://${plain.host}/v2/`) });
      expect(ping.status).toBe(200);
      await drain(ping.body);
    } finally {
      await http.close();
    }
  });
});

describe('close()', () => {
  it('fails a body being read and any later request', async () => {
    const { repo, layer } = await pushBlob('transport/close', 4 * 1024 * 1024);
    const http = new HttpTransport();
    const res = await http.send({ method: 'GET', url: new URL(`http://${repo.registry}/v2/${repo.repository}/blobs/${layer.digest}`) });
    expect(res.status).toBe(200);
    const reading = (async () => {
      for await (const chunk of res.body) {
        void chunk;
        await sleep(20);
      }
    })();
    await sleep(50);
    await http.close();
    await expect(reading).rejects.toMatchObject({ code: 'SLIPWAY_TRANSPORT_CLOSED' });
    await expect(http.send({ method: 'GET', url: new URL(`http://${repo.registry}/v2/`) })).rejects.toMatchObject({ code: 'SLIPWAY_TRANSPORT_CLOSED' });
  });

  it('lets the process exit at once, with a body half read and connections kept alive', async () => {
    const { repo, layer } = await pushBlob('transport/exit', 4 * 1024 * 1024);
    // Without close() this process would wait for the half-read body forever (its connection is paused).
    const script = `
      import { HttpTransport } from './src/registry/http.ts';
      const http = new HttpTransport();
      for (let i = 0; i < 3; i++) {
        const ping = await http.send({ method: 'GET', url: new URL('http://${repo.registry}/v2/') });
        ping.body.resume();
      }
      const res = await http.send({ method: 'GET', url: new URL('http://${repo.registry}/v2/${repo.repository}/blobs/${layer.digest}') });
      res.body.once('error', () => {});
      await new Promise((resolve) => res.body.once('readable', resolve));
      await http.close();
      globalThis.closedAt = performance.now();
      process.on('exit', () => console.log(Math.round(performance.now() - globalThis.closedAt)));`;
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), timeout: 20_000 });
    expect(Number(stdout.trim())).toBeLessThan(500);
  });
});
