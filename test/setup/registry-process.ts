// Real registries (Debian's `docker-registry`, distribution 2.8.2) as child processes on
// loopback: start one on a free port, wait until GET /v2/ answers, stop it by PID.
// Shared by the vitest globalSetup (test/setup/global-setup.ts) and the benchmarks
// (bench/). Only processes started here are ever signalled, and only by their PID.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export function freePort(): Promise<number> {
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
export function probe(port: number, ca: string | undefined): Promise<number | undefined> {
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
let dirToRemoveOnExit: string | undefined;

/** A directory removed by the exit safety net below (undefined: none). */
export function removeOnExit(dir: string | undefined): void {
  dirToRemoveOnExit = dir;
}

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
  if (dirToRemoveOnExit) rmSync(dirToRemoveOnExit, { recursive: true, force: true });
}
// Safety net: if the process exits without running teardown (e.g. a signal handler calls
// process.exit), do not leave registries or their storage behind.
process.once('exit', killChildrenSync);

export async function stopChild(child: ChildProcess): Promise<void> {
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

/** Stop every process started here that still runs. */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map(stopChild));
}

// ---------------------------------------------------------------------------
// registries

export interface RegistrySpec {
  name: string;
  /** Extra YAML (already indented for the top level) appended to the base config. */
  extraYaml?: string;
  /** Extra YAML lines nested under `http:` (indented by 2). */
  httpYaml?: string;
  /** CA PEM to probe over https. */
  ca?: string;
  /** Write the access log (one line per request) to `registry.log`; off by default. */
  accessLog?: boolean;
}

export interface StartedRegistry {
  /** '127.0.0.1:PORT' */
  host: string;
  child: ChildProcess;
  /** `<workDir>/<name>/storage` */
  storage: string;
  /** `<workDir>/<name>/registry.log`: the registry's stdout and stderr. */
  logFile: string;
}

/** Start a registry with its storage and log under `<workDir>/<spec.name>/`; resolves once GET /v2/ answers. */
export async function startRegistry(workDir: string, spec: RegistrySpec): Promise<StartedRegistry> {
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
      `    disabled: ${spec.accessLog ? 'false' : 'true'}`,
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
      if (status === 200 || status === 401) return { host: `127.0.0.1:${port}`, child, storage, logFile };
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
export async function selfSignedCert(dir: string, cn: string): Promise<{ certFile: string; keyFile: string }> {
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
