// vitest globalSetup: starts real registries (Debian's `docker-registry`, distribution
// 2.8.2) on loopback for the whole run and provides their coordinates to tests as
// `inject('registries')` (see test/support/registries.ts). Stops only what it started.
import { execFile, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import type { Registries } from '../support/registries.js';
import { removeOnExit, selfSignedCert, startRegistry, stopAllChildren } from './registry-process.js';
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
  // RUN's containers (test/integration/run-*.test.ts)
  runc: 'runc',
  slirp4netns: 'slirp4netns',
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

// ---------------------------------------------------------------------------

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensureTools();

  const workDir = await mkdtemp(join(tmpdir(), 'slipway-test-'));
  removeOnExit(workDir);
  // The tests' own $TMPDIR (the test workers inherit it): whatever a test or Slipway leaves there is found at the
  // end, and the run fails naming it. Nothing of a run is left in the machine's /tmp either way.
  const testTmp = join(workDir, 'tmp');
  await mkdir(testTmp);
  process.env.TMPDIR = testTmp;
  let tokenServer: TokenServer | undefined;

  const teardown = async (): Promise<void> => {
    await stopAllChildren();
    await tokenServer?.close();
    // tsx (which some tests start Slipway's sources with) keeps its compile cache in $TMPDIR/tsx-<uid>: a dev tool's.
    const left = (await readdir(testTmp).catch(() => [] as string[])).filter((name) => !/^tsx-\d+$/.test(name));
    await rm(workDir, { recursive: true, force: true });
    removeOnExit(undefined);
    if (left.length > 0) {
      // vitest reports an error thrown here but keeps exit code 0: set it, so that CI fails.
      process.exitCode = 1;
      throw new Error(`the tests left ${left.length} entries in their TMPDIR (tests and Slipway must remove what they make): ${left.sort().join(', ')}`);
    }
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
