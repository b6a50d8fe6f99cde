// `slipway login REGISTRY` and `slipway logout REGISTRY`, as docker's: the credentials are checked against the
// registry first, then stored where docker (and Slipway, skopeo, podman) read them: the credential helper the auth
// file names for the registry, else the file's `auths`. The file is $REGISTRY_AUTH_FILE when set (podman's and
// skopeo's), else docker's config.json (--docker-config, $DOCKER_CONFIG, ~/.docker).

import { UsageError } from '../../errors.js';
import { defineCommand, type CliIo } from '../command.js';

async function readAllStdin(io: CliIo): Promise<string> {
  if (io.stdin) return io.stdin();
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A registry host, as docker takes it: `registry.example.org[:port]`, an `https://` URL of it, or Docker Hub's names. */
function registryHost(argument: string): string {
  const host = argument.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (host === '' || /\s/.test(host)) throw new UsageError(`"${argument}" is not a registry host`, { hint: 'e.g. slipway login registry.example.org' });
  return host === 'docker.io' || host === 'registry-1.docker.io' ? 'index.docker.io' : host;
}

export const loginCommand = defineCommand({
  name: 'login',
  summary: 'Log in to a registry (docker login compatible)',
  description:
    'Check the credentials against the registry, then store them as docker login does: in the credential helper the ' +
    'auth file names for the registry, else in the file itself. The file is $REGISTRY_AUTH_FILE when set, else ' +
    'docker\'s config.json (--docker-config, $DOCKER_CONFIG, ~/.docker).',
  arguments: [{ syntax: '<registry>', help: 'the registry host (registry.example.org[:port]; docker.io for Docker Hub)' }],
  options: ['username', 'password', 'passwordStdin', 'dockerConfig', 'insecureRegistry', 'skipTlsVerifyRegistry', 'registryTimeout'],
  async run({ options, args, log, io, env }) {
    const host = registryHost(args[0]!);
    if (options.username === undefined || options.username === '') throw new UsageError('login needs --username', { hint: `slipway login -u NAME --password-stdin ${host} < token-file` });
    if (options.passwordStdin && options.password !== undefined) throw new UsageError('--password and --password-stdin are exclusive');
    let password = options.password;
    if (options.passwordStdin) password = (await readAllStdin(io)).replace(/\r?\n$/, '');
    if (password === undefined || password === '') throw new UsageError('login needs a password', { hint: 'pass it on standard input with --password-stdin' });
    if (options.password !== undefined) log.warn('--password puts the password in the process list and the shell history: use --password-stdin');

    const [{ saveCredentials, staticCredentials }, { RegistryClient }, { proxySettingsFromEnv }] = await Promise.all([
      import('../../registry/auth/credentials.js'), import('../../registry/client.js'), import('../../registry/proxy.js'),
    ]);
    const client = new RegistryClient({
      credentials: staticCredentials({ [host]: { username: options.username, password } }),
      insecure: options.insecureRegistry, skipTlsVerify: options.skipTlsVerifyRegistry,
      timeoutMs: options.registryTimeout * 1000, proxy: proxySettingsFromEnv(env), retries: 1,
    });
    try {
      await client.verifyCredentials(host);
    } finally {
      await client.close();
    }
    const where = await saveCredentials(host, { username: options.username, password }, { env, ...(options.dockerConfig ? { configDir: options.dockerConfig } : {}) });
    log.info(`Credentials for ${host} saved in ${where}`);
    io.stdout('Login Succeeded\n');
  },
});

export const logoutCommand = defineCommand({
  name: 'logout',
  summary: 'Log out of a registry: forget its stored credentials',
  arguments: [{ syntax: '<registry>', help: 'the registry host' }],
  options: ['dockerConfig'],
  async run({ options, args, io, env }) {
    const host = registryHost(args[0]!);
    const { removeCredentials } = await import('../../registry/auth/credentials.js');
    const removed = await removeCredentials(host, { env, ...(options.dockerConfig ? { configDir: options.dockerConfig } : {}) });
    io.stdout(removed ? `Removing login credentials for ${host}\n` : `Not logged in to ${host}\n`);
  },
});
