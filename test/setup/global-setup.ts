// vitest globalSetup: starts real registries (Debian's `docker-registry`, distribution
// 2.8.2) on loopback for the whole run and provides their coordinates to tests as
// `inject('registries')` (see test/support/registries.ts). Stops only what it started.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import type { Registries } from '../support/registries.js';
import { startTokenServer, type TokenServer } from './token-server.js';

const execFileAsync = promisify(execFile);

const USERNAME = 'slipway';
const PASSWORD = 's3cret-pass';
const TOKEN_SERVICE = 'slipway-test-registry';
const TOKEN_ISSUER = 'slipway-test-issuer';

/** Binaries the setup needs, and the Debian package that provides each. */
const REQUIRED_TOOLS: Record<string, string> = {
  'docker-registry': 'docker-registry',
  skopeo: 'skopeo',
  htpasswd: 'apache2-utils',
  openssl: 'openssl',
};

function onPath(bin: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return true;
    } catch {
      // not in this dir
    }
  }
  return false;
}

function missingTools(): string[] {
  return Object.keys(REQUIRED_TOOLS).filter((bin) => !onPath(bin));
}

function ensureTools(): void {
  let missing = missingTools();
  if (missing.length > 0 && process.getuid?.() === 0) {
    const script = join(dirname(fileURLToPath(import.meta.url)), 'install-deps.sh');
    const result = spawnSync('bash', [script], { stdio: 'inherit' });
    if (result.status !== 0) console.error(`global-setup: ${script} exited with ${result.status}`);
    missing = missingTools();
  }
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((bin) => REQUIRED_TOOLS[bin]))];
    throw new Error(
      `integration tests need ${missing.join(', ')} on PATH: run \`apt-get install -y ${packages.join(' ')}\` ` +
        `(Debian packages) or test/setup/install-deps.sh as root`,
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** GET /v2/ once; resolves with the status, or undefined if nothing answers yet. */
function probe(port: number, ca: string | undefined): Promise<number | undefined> {
  return new Promise((resolve) => {
    const options = { host: '127.0.0.1', port, path: '/v2/', method: 'GET', timeout: 1000, agent: false as const };
    const req = ca ? httpsRequest({ ...options, ca }) : httpRequest(options);
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

// ---------------------------------------------------------------------------
// processes we started; killed by PID only

const children = new Set<ChildProcess>();
let workDirToRemove: string | undefined;

function killChildrenSync(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  if (workDirToRemove) rmSync(workDirToRemove, { recursive: true, force: true });
}
// Safety net: if vitest exits without running teardown (e.g. a signal handler calls
// process.exit), do not leave registries or their storage behind.
process.once('exit', killChildrenSync);

async function stopChild(child: ChildProcess): Promise<void> {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  }, 5000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------
// registries

interface RegistrySpec {
  name: string;
  /** Extra YAML (already indented for the top level) appended to the base config. */
  extraYaml?: string;
  /** Extra YAML lines nested under `http:` (indented by 2). */
  httpYaml?: string;
  /** CA PEM to probe over https. */
  ca?: string;
}

async function startRegistry(workDir: string, spec: RegistrySpec): Promise<{ host: string; child: ChildProcess }> {
  const dir = join(workDir, spec.name);
  const storage = join(dir, 'storage');
  await mkdir(storage, { recursive: true });
  const logFile = join(dir, 'registry.log');

  // A lost port race (someone grabbed the port between freePort and bind) is retried.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storage}`,
      '  delete:',
      '    enabled: true',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      `  secret: ${spec.name}-test-secret`,
      ...(spec.httpYaml ? [spec.httpYaml] : []),
      ...(spec.extraYaml ? [spec.extraYaml] : []),
      '',
    ].join('\n');
    const configFile = join(dir, 'config.yml');
    await writeFile(configFile, config);

    const fd = openSync(logFile, 'a');
    // Explicit env so REGISTRY_* variables from the caller's shell cannot override the file.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
    const child = spawn('docker-registry', ['serve', configFile], { stdio: ['ignore', fd, fd], env });
    closeSync(fd);
    children.add(child);
    let exitInfo: string | undefined;
    child.once('exit', (code, signal) => (exitInfo = `exited with ${code ?? signal}`));
    child.once('error', (err) => (exitInfo = `failed to start: ${err.message}`));

    const deadline = Date.now() + 15_000;
    while (exitInfo === undefined && Date.now() < deadline) {
      const status = await probe(port, spec.ca);
      if (status === 200 || status === 401) return { host: `127.0.0.1:${port}`, child };
      await new Promise((r) => setTimeout(r, 50));
    }
    await stopChild(child);
    const log = readFileSync(logFile, 'utf8');
    if (attempt < 4 && /address already in use/.test(log)) continue;
    throw new Error(
      `registry '${spec.name}' did not answer GET /v2/ on 127.0.0.1:${port} (${exitInfo ?? 'timed out'}); log:\n${log.slice(-2000)}`,
    );
  }
}

/** A self-signed RSA cert + key (SAN IP:127.0.0.1, DNS:localhost), written as files. */
async function selfSignedCert(dir: string, cn: string): Promise<{ certFile: string; keyFile: string }> {
  await mkdir(dir, { recursive: true });
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await execFileAsync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-keyout', keyFile, '-out', certFile,
    '-subj', `/CN=${cn}`,
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  return { certFile, keyFile };
}

// ---------------------------------------------------------------------------

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensureTools();

  const workDir = await mkdtemp(join(tmpdir(), 'slipway-test-'));
  workDirToRemove = workDir;
  let tokenServer: TokenServer | undefined;

  const teardown = async (): Promise<void> => {
    await Promise.all([...children].map(stopChild));
    await tokenServer?.close();
    await rm(workDir, { recursive: true, force: true });
    workDirToRemove = undefined;
  };

  try {
    // basic: bcrypt is the only htpasswd format distribution accepts (-B).
    const htpasswdFile = join(workDir, 'htpasswd');
    const { stdout: htpasswdLine } = await execFileAsync('htpasswd', ['-Bbn', USERNAME, PASSWORD]);
    await writeFile(htpasswdFile, htpasswdLine.trim() + '\n');

    // tls: the self-signed cert is its own CA; skopeo --cert-dir reads *.crt as CAs.
    const tlsDir = join(workDir, 'tls-cert');
    const tlsCert = await selfSignedCert(tlsDir, 'slipway-test-registry');
    const certDir = join(workDir, 'tls-certdir');
    await mkdir(certDir);
    const caFile = join(certDir, 'ca.crt');
    const caPem = await readFile(tlsCert.certFile, 'utf8');
    await writeFile(caFile, caPem);

    // token: the registry trusts the cert whose key signs the JWTs (rootcertbundle).
    const signing = await selfSignedCert(join(workDir, 'token-signing'), TOKEN_ISSUER);
    tokenServer = await startTokenServer({
      keyPem: await readFile(signing.keyFile, 'utf8'),
      certPem: await readFile(signing.certFile, 'utf8'),
      issuer: TOKEN_ISSUER,
      service: TOKEN_SERVICE,
      username: USERNAME,
      password: PASSWORD,
    });

    const [plain, plain2, basic, tls, token] = await Promise.all([
      startRegistry(workDir, { name: 'plain' }),
      startRegistry(workDir, { name: 'plain2' }),
      startRegistry(workDir, {
        name: 'basic',
        extraYaml: ['auth:', '  htpasswd:', '    realm: slipway-basic', `    path: ${htpasswdFile}`].join('\n'),
      }),
      startRegistry(workDir, {
        name: 'tls',
        httpYaml: ['  tls:', `    certificate: ${tlsCert.certFile}`, `    key: ${tlsCert.keyFile}`].join('\n'),
        ca: caPem,
      }),
      startRegistry(workDir, {
        name: 'token',
        extraYaml: [
          'auth:',
          '  token:',
          `    realm: ${tokenServer.realm}`,
          `    service: ${TOKEN_SERVICE}`,
          `    issuer: ${TOKEN_ISSUER}`,
          `    rootcertbundle: ${signing.certFile}`,
        ].join('\n'),
      }),
    ]);

    const provided: Registries = {
      plain: { host: plain.host },
      plain2: { host: plain2.host },
      basic: { host: basic.host, username: USERNAME, password: PASSWORD },
      tls: { host: tls.host, caFile, certDir },
      token: {
        host: token.host,
        username: USERNAME,
        password: PASSWORD,
        tokenServerUrl: tokenServer.url,
        realm: tokenServer.realm,
        service: TOKEN_SERVICE,
        issuer: TOKEN_ISSUER,
      },
      workDir,
    };
    project.provide('registries', provided);
  } catch (error) {
    await teardown();
    throw error;
  }

  return teardown;
}
