// Registries that stop answering or refuse connections, and registries behind an HTTP proxy, through the CLI:
// a frozen registry process (SIGSTOP), a registry that stalls in the middle of a blob, a port nothing listens
// on, and tinyproxy (Debian's tinyproxy-bin) as the proxy. The proxy rules themselves are unit-tested in
// test/unit/registry-proxy.test.ts.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticCredentials } from '../../src/registry/auth/credentials.js';
import { RegistryClient } from '../../src/registry/client.js';
import { freePort, startRegistry, stopChild, type StartedRegistry } from '../setup/registry-process.js';
import { runSlipway } from '../support/cli.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { uniqueRepo, uploadBytes } from '../support/images.js';
import { registries, skopeoInspectText } from '../support/registries.js';
import { digestOf } from '../../src/oci/index.js';
import { findOnPath } from '../support/busybox-base.js';

let work: string;
const exec = promisify(execFile);

async function commitAll(dir: string): Promise<void> {
  await exec('git', ['init', '-q'], { cwd: dir });
  await exec('git', ['-c', 'user.email=t@example.org', '-c', 'user.name=t', 'add', '-A'], { cwd: dir });
  await exec('git', ['-c', 'user.email=t@example.org', '-c', 'user.name=t', 'commit', '-qm', 'fixture'], { cwd: dir });
}
const client = new RegistryClient({ credentials: staticCredentials({}) });

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'slipway-network-'));
});
afterAll(async () => {
  await client.close();
  await rm(work, { recursive: true, force: true });
});

/** `host/repo:tag` as a Repository. */
function parseRef(ref: string): { registry: string; repository: string } {
  const [registry = '', ...rest] = ref.split('/');
  return { registry, repository: rest.join('/').replace(/:[^:]*$/, '') };
}

/** Push a small image to `host` and return its reference. */
async function pushImage(host: string, name: string, layerBytes = 4096): Promise<string> {
  const repo = { registry: host, repository: uniqueRepo(name) };
  const manifest = await uploadBytes(client, repo, [Buffer.alloc(layerBytes, 7)]);
  await client.putManifest(repo, 'v1', manifest);
  return `${host}/${repo.repository}:v1`;
}

describe('a registry that stops answering', () => {
  let frozen: StartedRegistry;
  beforeAll(async () => {
    frozen = await startRegistry(work, { name: 'frozen' });
  });
  afterAll(async () => {
    frozen.child.kill('SIGCONT');
    await stopChild(frozen.child);
  });

  it('fails after the timeout (one retry), naming the registry and what was being done, and writes nothing', async () => {
    const ref = await pushImage(frozen.host, 'net/frozen');
    frozen.child.kill('SIGSTOP');
    try {
      const dest = join(work, 'frozen-out');
      const result = await runSlipway(['copy', ref, `oci:${dest}:v1`, '--registry-timeout', '1', '--log-debug']);
      expect(result.code, result.out).toBe(1);
      expect(result.out).toMatch(new RegExp(`Error: .*${frozen.host.replace(/\./g, '\\.')} did not answer within 1 s`));
      expect(result.out).toMatch(/raise --registry-timeout/);
      // One retry after a timeout, and no second scheme: the https attempt timed out, http would too.
      expect(result.out.match(/retry \d of/g) ?? []).toHaveLength(1);
      expect(existsSync(dest)).toBe(false);
    } finally {
      frozen.child.kill('SIGCONT');
    }
  }, 60_000);
});

describe('a registry that stalls in the middle of a blob', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy({ target: `http://${registries().plain.host}` });
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('fails after the idle timeout, resuming once, with a message naming the registry', async () => {
    const ref = await pushImage(proxy.host, 'net/stall', 256 * 1024);
    proxy.addFault({ method: 'GET', path: /\/blobs\/sha256:/, times: Infinity, action: { kind: 'stall-mid-body', afterBytes: 1000 } });
    const dest = join(work, 'stall-out');
    const result = await runSlipway(['copy', ref, `oci:${dest}:v1`, '--registry-timeout', '1']);
    expect(result.code, result.out).toBe(1);
    expect(result.out).toMatch(new RegExp(`Error: .*${proxy.host.replace(/\./g, '\\.')} did not answer within 1 s`));
    // The config blob and the layer stall; each GET is tried twice at most (the stalled read, one resume).
    expect(proxy.requests.filter((r) => r.fault === 'stall-mid-body').length).toBeLessThanOrEqual(4);
  }, 60_000);
});

describe('a port nothing listens on', () => {
  it('fails at once: a refused connection is not retried', async () => {
    const port = await freePort();
    const result = await runSlipway(['copy', `127.0.0.1:${port}/net/none:v1`, `oci:${join(work, 'refused-out')}:v1`, '--log-debug']);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(new RegExp(`Error: cannot reach registry 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(result.out).toMatch(/is a registry listening at/);
    expect(result.out).not.toMatch(/retry \d of/);
    expect(existsSync(join(work, 'refused-out'))).toBe(false);
  });
});

/** tinyproxy on a free port with its log in `work`, plus `extra` configuration lines; resolves once it listens. */
async function startTinyproxy(name: string, extra: string[] = []): Promise<{ port: number; log: string; child: ChildProcess }> {
  if (findOnPath('tinyproxy') === undefined) throw new Error('install tinyproxy (apt-get install tinyproxy-bin), as test/setup/install-deps.sh does');
  const port = await freePort();
  const log = join(work, `${name}.log`);
  const conf = join(work, `${name}.conf`);
  // No ConnectPort line: CONNECT to any port (the test registries' ports are random).
  await writeFile(conf, [`Port ${port}`, 'Listen 127.0.0.1', 'Timeout 60', `LogFile "${log}"`, 'LogLevel Info', 'MaxClients 50', 'Allow 127.0.0.1', ...extra, ''].join('\n'));
  const child = spawn('tinyproxy', ['-d', '-c', conf], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(await readFile(log, 'utf8').catch(() => '')).includes('listening'); i++) await new Promise((r) => setTimeout(r, 50));
  return { port, log, child };
}

describe('an HTTP proxy (tinyproxy)', () => {
  let proxyPort: number;
  let proxyLog: string;
  let tinyproxy: ChildProcess;
  beforeAll(async () => {
    ({ port: proxyPort, log: proxyLog, child: tinyproxy } = await startTinyproxy('tinyproxy'));
  });
  afterAll(async () => {
    await stopChild(tinyproxy);
  });

  const proxied = async (): Promise<string> => readFile(proxyLog, 'utf8');

  it('carries registry traffic when http_proxy/HTTPS_PROXY name it, and not for hosts no_proxy names', async () => {
    const { plain } = registries();
    const ref = await pushImage(plain.host, 'net/proxy');
    const before = (await proxied()).length;
    const through = await runSlipway(['copy', ref, `oci:${join(work, 'proxy-out')}:v1`], {
      http_proxy: `http://127.0.0.1:${proxyPort}`, HTTPS_PROXY: `127.0.0.1:${proxyPort}`,
    });
    expect(through.code, through.out).toBe(0);
    const seen = (await proxied()).slice(before);
    expect(seen).toContain(plain.host);

    // no_proxy decides: the same copy goes direct, and the proxy sees nothing.
    const mark = (await proxied()).length;
    const direct = await runSlipway(['copy', ref, `oci:${join(work, 'direct-out')}:v1`], {
      http_proxy: `http://127.0.0.1:${proxyPort}`, HTTPS_PROXY: `127.0.0.1:${proxyPort}`, NO_PROXY: '127.0.0.1',
    });
    expect(direct.code, direct.out).toBe(0);
    expect((await proxied()).slice(mark)).not.toContain(plain.host);
  }, 60_000);

  it('carries the downloads of ADD <url> too', async () => {
    const server = createServer((_req, res) => res.end('through the proxy\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.txt`;
    try {
      const project = await mkdtemp(join(work, 'add-project-'));
      await writeFile(join(project, 'werf.yaml'), 'project: proxied\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n');
      await writeFile(join(project, 'Dockerfile'), `FROM scratch\nADD ${url} /file.txt\n`);
      await commitAll(project);
      const mark = (await proxied()).length;
      const result = await runSlipway(['build', '--dir', project, '--repo', `${registries().plain.host}/${uniqueRepo('net/add-proxy')}`], {
        http_proxy: `http://127.0.0.1:${proxyPort}`, SLIPWAY_HOME: join(project, '.home'),
      });
      expect(result.code, result.out).toBe(0);
      expect((await proxied()).slice(mark)).toContain(`127.0.0.1:${(server.address() as AddressInfo).port}`);
    } finally {
      server.close();
    }
  }, 60_000);

  it('names the proxy when it cannot be reached', async () => {
    const { plain } = registries();
    const deadPort = await freePort();
    const result = await runSlipway(['copy', `${plain.host}/net/any:v1`, `oci:${join(work, 'dead-proxy-out')}:v1`], {
      https_proxy: `http://user:secret@127.0.0.1:${deadPort}`, http_proxy: `http://user:secret@127.0.0.1:${deadPort}`,
    });
    expect(result.code).toBe(1);
    expect(result.out).toMatch(new RegExp(`through the proxy http://127\\.0\\.0\\.1:${deadPort} failed: .*ECONNREFUSED`));
    expect(result.out).not.toContain('secret');
  });
});

describe('a proxy that wants credentials (tinyproxy with BasicAuth)', () => {
  const PASSWORD = 'pr0xy-s3cret';
  let proxy: { port: number; log: string; child: ChildProcess };
  beforeAll(async () => {
    proxy = await startTinyproxy('tinyproxy-auth', [`BasicAuth alice ${PASSWORD}`]);
  });
  afterAll(async () => {
    await stopChild(proxy.child);
  });

  it('reaches an https registry through a CONNECT tunnel and an http one in absolute form, with Proxy-Authorization', async () => {
    const { plain, tls } = registries();
    const ref = await pushImage(plain.host, 'net/auth-proxy');
    const dest = `${tls.host}/${uniqueRepo('net/tunnel')}:v1`;
    const proxyUrl = `http://alice:${PASSWORD}@127.0.0.1:${proxy.port}`;
    const mark = (await readFile(proxy.log, 'utf8')).length;
    // A process of its own: the registry's CA comes from NODE_EXTRA_CA_CERTS, read at start-up, so TLS inside the
    // tunnel is verified for real.
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'copy', ref, dest], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? '', HOME: work, NODE_EXTRA_CA_CERTS: tls.caFile, http_proxy: proxyUrl, https_proxy: proxyUrl },
    });
    const seen = (await readFile(proxy.log, 'utf8')).slice(mark);
    expect(seen).toContain(`CONNECT ${tls.host} `);
    expect(seen).toContain(`GET http://${plain.host}/v2/`);
    expect(`${stdout}${stderr}`).not.toContain(PASSWORD);
    const copied = await skopeoInspectText(dest, { raw: true, certDir: tls.certDir });
    expect(digestOf(Buffer.from(copied))).toBe((await client.headManifest(parseRef(ref), 'v1'))?.digest);
  }, 60_000);

  it('fails on a refused tunnel, naming the proxy without its credentials', async () => {
    const { tls } = registries();
    const result = await runSlipway(['copy', `${tls.host}/net/any:v1`, `oci:${join(work, 'refused-tunnel-out')}:v1`], {
      https_proxy: `http://alice:wrong-${PASSWORD}@127.0.0.1:${proxy.port}`,
    });
    expect(result.code).toBe(1);
    expect(result.out).toMatch(new RegExp(`through the proxy http://127\\.0\\.0\\.1:${proxy.port} failed: the proxy answered CONNECT ${tls.host.replace(/\./g, '\\.')} with 40[17]`));
    expect(result.out).not.toContain(PASSWORD);
  });
});
