// `slipway login` / `logout` against the test registries with Basic and token auth: credentials are checked before
// they are stored, stored where docker (and skopeo, the independent reader here) look for them, in a credential
// helper when the auth file names one, and $REGISTRY_AUTH_FILE is honoured as podman and skopeo honour it.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { pushRandomImage, registries } from '../support/registries.js';

const run = promisify(execFile);
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'slipway-login-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function slipway(argv: string[], env: Record<string, string>, stdin?: string): Promise<{ code: number; out: string; stdout: string }> {
  let out = '';
  let stdout = '';
  const code = await runCli(argv, {
    io: { stdout: (t) => { out += t; stdout += t; }, stderr: (t) => { out += t; }, ...(stdin !== undefined ? { stdin: async () => stdin } : {}) },
    env: { PATH: process.env.PATH ?? '', HOME: work, ...env },
  });
  return { code, out, stdout };
}

describe('slipway login', () => {
  it('refuses wrong credentials without writing anything, and stores right ones where docker and skopeo read them', async () => {
    const { basic } = registries();
    const dir = join(work, 'docker-basic');
    const config = join(dir, 'config.json');
    const wrong = await slipway(['login', basic.host, '-u', basic.username, '--password-stdin', '--docker-config', dir], {}, 'not-the-password\n');
    expect(wrong.code).toBe(1);
    expect(wrong.out).toMatch(new RegExp(`^Error: login to ${basic.host.replace(/\./g, '\\.')}: .*401`, 'm'));
    expect(wrong.out).not.toContain('not-the-password');
    await expect(stat(config)).rejects.toThrow();

    const right = await slipway(['login', basic.host, '-u', basic.username, '--password-stdin', '--docker-config', dir], {}, `${basic.password}\n`);
    expect(right.code, right.out).toBe(0);
    expect(right.stdout).toBe('Login Succeeded\n');
    expect(right.out).not.toContain(basic.password);
    const written = JSON.parse(await readFile(config, 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(written.auths[basic.host]!.auth, 'base64').toString()).toBe(`${basic.username}:${basic.password}`);
    expect((await stat(config)).mode & 0o777).toBe(0o600);

    // skopeo reads the file: the credentials work for someone else, too.
    const pushed = await pushRandomImage(basic.host, 'login/check', 'v1', { layers: 1, layerSize: 100, creds: `${basic.username}:${basic.password}` });
    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', '--authfile', config, '--format', '{{.Digest}}', `docker://${basic.host}/login/check:v1`]);
    expect(stdout.trim()).toBe(pushed.manifestDigest);

    const out = await slipway(['logout', basic.host, '--docker-config', dir], {});
    expect(out.stdout).toBe(`Removing login credentials for ${basic.host}\n`);
    expect((JSON.parse(await readFile(config, 'utf8')) as { auths: Record<string, unknown> }).auths[basic.host]).toBeUndefined();
    expect((await slipway(['logout', basic.host, '--docker-config', dir], {})).stdout).toBe(`Not logged in to ${basic.host}\n`);
  });

  it('logs in to a token registry (the token server checks the credentials) and honours REGISTRY_AUTH_FILE', async () => {
    const { token } = registries();
    const authFile = join(work, 'containers', 'auth.json');
    // No --docker-config and no DOCKER_CONFIG (either names docker's file alone): REGISTRY_AUTH_FILE comes first.
    const env = { REGISTRY_AUTH_FILE: authFile };
    const wrong = await slipway(['login', token.host, '-u', token.username, '--password-stdin'], env, 'wrong');
    expect(wrong.code).toBe(1);
    const right = await slipway(['login', token.host, '-u', token.username, '--password-stdin'], env, token.password);
    expect(right.code, right.out).toBe(0);
    const written = JSON.parse(await readFile(authFile, 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Object.keys(written.auths)).toEqual([token.host]);
    await expect(stat(join(work, '.docker'))).rejects.toThrow();
    // Slipway itself reads REGISTRY_AUTH_FILE: a copy from the token registry now authenticates.
    await pushRandomImage(token.host, 'login/token', 'v1', { layers: 1, layerSize: 100, creds: `${token.username}:${token.password}` });
    const copied = await slipway(['copy', `${token.host}/login/token:v1`, `oci:${join(work, 'token-out')}:v1`], env);
    expect(copied.code, copied.out).toBe(0);
  });

  it('stores into the credential helper the auth file names, and erases from it', async () => {
    const { basic } = registries();
    const bin = join(work, 'bin');
    const store = join(work, 'helper-store.json');
    await mkdir(bin, { recursive: true });
    // A credential helper speaking docker's protocol: store (JSON on stdin), get (server URL), erase (server URL).
    await writeFile(join(bin, 'docker-credential-slipwaytest'), [
      '#!/bin/sh',
      `STORE='${store}'`,
      'case "$1" in',
      '  store) cat > "$STORE" ;;',
      '  get) if [ -f "$STORE" ]; then cat "$STORE"; else echo "credentials not found in native keychain"; exit 1; fi ;;',
      '  erase) if [ -f "$STORE" ]; then rm "$STORE"; else echo "credentials not found in native keychain"; exit 1; fi ;;',
      'esac',
      '',
    ].join('\n'));
    await chmod(join(bin, 'docker-credential-slipwaytest'), 0o755);
    const dir = join(work, 'docker-helper');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'config.json'), JSON.stringify({ credsStore: 'slipwaytest', auths: {} }));
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}` };
    const result = await slipway(['login', basic.host, '-u', basic.username, '--password-stdin', '--docker-config', dir], env, basic.password);
    expect(result.code, result.out).toBe(0);
    expect(JSON.parse(await readFile(store, 'utf8'))).toEqual({ ServerURL: basic.host, Username: basic.username, Secret: basic.password });
    // The file keeps no password of its own.
    expect(await readFile(join(dir, 'config.json'), 'utf8')).not.toContain(Buffer.from(basic.password).toString('base64'));
    expect((await slipway(['logout', basic.host, '--docker-config', dir], env)).stdout).toBe(`Removing login credentials for ${basic.host}\n`);
    await expect(stat(store)).rejects.toThrow();
  });
});
