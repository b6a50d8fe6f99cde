import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, SlipwayError } from '../../src/errors.js';
import {
  dockerConfigCredentials,
  dockerConfigPath,
  parseDockerConfig,
  redact,
  registryHostKey,
  staticCredentials,
  type CredentialStore,
} from '../../src/registry/auth/credentials.js';

const PASSWORD = 'pa:ss:w0rd-SECRET';
const HELPER_SECRET = 'helper-SECRET-value';
const LEAK = 'LEAKED-SECRET-TEXT';

// A credential helper speaking the docker-credential-helpers protocol. It logs every stdin it gets.
const FAKE_HELPER = `#!/bin/sh
[ "$1" = get ] || { echo "unsupported action"; exit 1; }
input=$(cat)
printf '%s\\n' "$input" >> "$FAKE_HELPER_LOG"
case "$input" in
  helper.example|https://index.docker.io/v1/)
    printf '{"ServerURL":"%s","Username":"alice","Secret":"${HELPER_SECRET}"}' "$input" ;;
  token.example)
    printf '{"ServerURL":"%s","Username":"<token>","Secret":"identity-${HELPER_SECRET}"}' "$input" ;;
  broken.example)
    echo "boom ${LEAK}"; echo "stderr ${LEAK}" >&2; exit 3 ;;
  garbage.example)
    echo "not json ${LEAK}" ;;
  slow.example)
    exec sleep 5 ;;
  *)
    echo "credentials not found in native keychain"; exit 1 ;;
esac
`;

let root: string;
let binDir: string;
let logFile: string;
let counter = 0;

function basic(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`).toString('base64');
}

async function configDir(config: unknown): Promise<string> {
  const dir = join(root, `config-${counter++}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: join(root, 'no-home'), FAKE_HELPER_LOG: logFile, ...extra };
}

async function store(config: unknown): Promise<CredentialStore> {
  return dockerConfigCredentials({ configDir: await configDir(config), env: env() });
}

async function helperCalls(): Promise<string[]> {
  try {
    return (await readFile(logFile, 'utf8')).split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}

async function failure(promise: Promise<unknown>): Promise<SlipwayError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SlipwayError);
  return error as SlipwayError;
}

/** Everything a user could see about an error. */
function visible(error: SlipwayError): string {
  return [error.message, error.hint ?? '', String(error.cause ?? '')].join('\n');
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'slipway-credentials-'));
  binDir = join(root, 'bin');
  logFile = join(root, 'helper.log');
  await mkdir(binDir);
  await writeFile(join(binDir, 'docker-credential-fake'), FAKE_HELPER);
  await chmod(join(binDir, 'docker-credential-fake'), 0o755);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('config location', () => {
  it('prefers configDir, then DOCKER_CONFIG, then ~/.docker', () => {
    expect(dockerConfigPath({ configDir: '/a', env: { DOCKER_CONFIG: '/b', HOME: '/h' } })).toBe('/a/config.json');
    expect(dockerConfigPath({ env: { DOCKER_CONFIG: '/b', HOME: '/h' } })).toBe('/b/config.json');
    expect(dockerConfigPath({ env: { HOME: '/h' } })).toBe('/h/.docker/config.json');
  });

  it('reads DOCKER_CONFIG and HOME from the env option', async () => {
    const dir = await configDir({ auths: { 'env.example': { auth: basic('u', 'p') } } });
    const viaEnv = dockerConfigCredentials({ env: env({ DOCKER_CONFIG: dir }) });
    expect(await viaEnv.get('env.example')).toEqual({ username: 'u', password: 'p' });

    const home = join(root, 'home');
    await mkdir(join(home, '.docker'), { recursive: true });
    await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'home.example': { auth: basic('h', 'q') } } }));
    expect(await dockerConfigCredentials({ env: env({ HOME: home }) }).get('home.example')).toEqual({ username: 'h', password: 'q' });
  });

  it('treats a missing file as no credentials', async () => {
    const creds = dockerConfigCredentials({ configDir: join(root, 'does-not-exist'), env: env() });
    expect(await creds.get('any.example')).toBeUndefined();
  });

  it('treats an empty file as no credentials', async () => {
    expect(await (await store('')).get('any.example')).toBeUndefined();
  });

  it('reports invalid JSON as a ConfigError naming the file, without its content', async () => {
    const dir = await configDir(`{"auths": {"x.example": {"password": "${PASSWORD}"}`);
    const error = await failure(dockerConfigCredentials({ configDir: dir, env: env() }).get('x.example'));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(join(dir, 'config.json'));
    expect(visible(error)).not.toContain(PASSWORD);
  });

  it('reports a field of the wrong type', () => {
    expect(() => parseDockerConfig('{"auths": []}', '/c.json')).toThrow(ConfigError);
    expect(() => parseDockerConfig('{"credHelpers": {"a": 1}}', '/c.json')).toThrow(/credHelpers\.a/);
    expect(() => parseDockerConfig('[]', '/c.json')).toThrow(/\/c\.json/);
  });
});

describe('auths entries', () => {
  const keyForms = [
    'reg.example:5000',
    'https://reg.example:5000',
    'http://reg.example:5000',
    'https://reg.example:5000/v1/',
    'reg.example:5000/v2/',
    'HTTPS://Reg.Example:5000/v2/',
  ];
  for (const key of keyForms) {
    it(`matches the key form ${key}`, async () => {
      const creds = await store({ auths: { [key]: { auth: basic('user', 'pw') } } });
      expect(await creds.get('reg.example:5000')).toEqual({ username: 'user', password: 'pw' });
      expect(await creds.get('reg.example')).toBeUndefined();
    });
  }

  it('prefers the exact key over other forms of the same host', async () => {
    const creds = await store({
      auths: { 'https://reg.example/v1/': { auth: basic('url', 'a') }, 'reg.example': { auth: basic('exact', 'b') } },
    });
    expect(await creds.get('reg.example')).toEqual({ username: 'exact', password: 'b' });
  });

  it('skips empty entries left behind by credsStore logins', async () => {
    const creds = await store({ auths: { 'reg.example': {}, 'https://reg.example': { auth: basic('u', 'p') } } });
    expect(await creds.get('reg.example')).toEqual({ username: 'u', password: 'p' });
    expect(await (await store({ auths: { 'reg.example': {} } })).get('reg.example')).toBeUndefined();
  });

  it('finds Docker Hub under its historical key for every alias', async () => {
    const creds = await store({ auths: { 'https://index.docker.io/v1/': { auth: basic('hub', 'hubpw') } } });
    for (const name of ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/']) {
      expect(await creds.get(name)).toEqual({ username: 'hub', password: 'hubpw' });
    }
  });

  it('finds Docker Hub under a docker.io key too', async () => {
    const creds = await store({ auths: { 'docker.io': { auth: basic('hub', 'x') } } });
    expect(await creds.get('index.docker.io')).toEqual({ username: 'hub', password: 'x' });
  });

  it('keeps colons in the password of an auth value', async () => {
    const creds = await store({ auths: { 'reg.example': { auth: basic('bob', PASSWORD) } } });
    expect(await creds.get('reg.example')).toEqual({ username: 'bob', password: PASSWORD });
  });

  it('reads username and password fields, and lets auth win over them', async () => {
    const fields = await store({ auths: { 'reg.example': { username: 'f', password: 'g' } } });
    expect(await fields.get('reg.example')).toEqual({ username: 'f', password: 'g' });
    const both = await store({ auths: { 'reg.example': { username: 'f', password: 'g', auth: basic('a', 'b') } } });
    expect(await both.get('reg.example')).toEqual({ username: 'a', password: 'b' });
  });

  it('reads identity and registry tokens, with field names in any case', async () => {
    const creds = await store({
      auths: {
        'id.example': { auth: basic('u', 'p'), identitytoken: 'refresh' },
        'rt.example': { RegistryToken: 'bearer-token' },
      },
    });
    expect(await creds.get('id.example')).toEqual({ username: 'u', password: 'p', identityToken: 'refresh' });
    expect(await creds.get('rt.example')).toEqual({ registryToken: 'bearer-token' });
  });

  it('rejects an auth value that is not base64 of user:password, without echoing it', async () => {
    for (const auth of ['%%%not-base64', Buffer.from(`no-colon-SECRET`).toString('base64'), basic('', PASSWORD)]) {
      const dir = await configDir({ auths: { 'reg.example': { auth } } });
      const error = await failure(dockerConfigCredentials({ configDir: dir, env: env() }).get('reg.example'));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain(join(dir, 'config.json'));
      expect(visible(error)).not.toContain(PASSWORD);
      expect(visible(error)).not.toContain(auth);
    }
  });

  it('ignores a broken entry for another registry', async () => {
    const creds = await store({ auths: { 'other.example': { auth: '%%%' }, 'reg.example': { auth: basic('u', 'p') } } });
    expect(await creds.get('reg.example')).toEqual({ username: 'u', password: 'p' });
  });
});

describe('credential helpers', () => {
  it('asks the credHelpers entry with the server URL on stdin', async () => {
    const before = (await helperCalls()).length;
    const creds = await store({ credHelpers: { 'helper.example': 'fake' } });
    expect(await creds.get('helper.example')).toEqual({ username: 'alice', password: HELPER_SECRET });
    expect((await helperCalls()).slice(before)).toEqual(['helper.example']);
  });

  it('sends the historical URL for Docker Hub', async () => {
    const before = (await helperCalls()).length;
    const creds = await store({ credHelpers: { 'https://index.docker.io/v1/': 'fake' } });
    expect(await creds.get('docker.io')).toEqual({ username: 'alice', password: HELPER_SECRET });
    expect((await helperCalls()).slice(before)).toEqual(['https://index.docker.io/v1/']);
  });

  it('maps the <token> username to an identity token', async () => {
    const creds = await store({ credHelpers: { 'token.example': 'fake' } });
    expect(await creds.get('token.example')).toEqual({ identityToken: `identity-${HELPER_SECRET}` });
  });

  it('treats "credentials not found" as anonymous, and a credHelpers answer as final', async () => {
    const creds = await store({
      credHelpers: { 'unknown.example': 'fake' },
      auths: { 'unknown.example': { auth: basic('file', 'pw') } },
    });
    expect(await creds.get('unknown.example')).toBeUndefined();
  });

  it('uses credsStore before auths, and falls back to auths when it has nothing', async () => {
    const creds = await store({
      credsStore: 'fake',
      auths: { 'helper.example': { auth: basic('file', 'pw') }, 'unknown.example': { auth: basic('file', 'pw2') } },
    });
    expect(await creds.get('helper.example')).toEqual({ username: 'alice', password: HELPER_SECRET });
    expect(await creds.get('unknown.example')).toEqual({ username: 'file', password: 'pw2' });
    expect(await creds.get('nothing.example')).toBeUndefined();
  });

  it('prefers credHelpers over credsStore, and an empty credHelpers value means the file', async () => {
    const creds = await store({
      credsStore: 'missing-store',
      credHelpers: { 'helper.example': 'fake', 'file.example': '' },
      auths: { 'file.example': { auth: basic('file', 'pw') } },
    });
    expect(await creds.get('helper.example')).toEqual({ username: 'alice', password: HELPER_SECRET });
    expect(await creds.get('file.example')).toEqual({ username: 'file', password: 'pw' });
  });

  it('caches answers per registry for the life of the store', async () => {
    const creds = await store({ credHelpers: { 'helper.example': 'fake' } });
    const before = (await helperCalls()).length;
    const answers = await Promise.all([creds.get('helper.example'), creds.get('helper.example')]);
    expect(await creds.get('HELPER.example')).toEqual(answers[0]);
    expect(answers[1]).toEqual(answers[0]);
    expect((await helperCalls()).length - before).toBe(1);
  });

  it('returns copies, so a caller cannot change the cache', async () => {
    const creds = await store({ credHelpers: { 'helper.example': 'fake' } });
    const first = await creds.get('helper.example');
    if (first) first.password = 'changed';
    expect((await creds.get('helper.example'))?.password).toBe(HELPER_SECRET);
  });

  it('reports a helper missing from PATH as a ConfigError with a hint', async () => {
    const dir = await configDir({ credHelpers: { 'reg.example': 'nothere' } });
    const error = await failure(dockerConfigCredentials({ configDir: dir, env: env() }).get('reg.example'));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('docker-credential-nothere');
    expect(error.message).toContain('PATH');
    expect(error.hint).toContain(join(dir, 'config.json'));
  });

  it('rejects a helper name holding a path', async () => {
    const error = await failure((await store({ credsStore: '../bin/fake' })).get('reg.example'));
    expect(error).toBeInstanceOf(ConfigError);
  });

  it('does not echo what a failing helper printed', async () => {
    const error = await failure((await store({ credHelpers: { 'broken.example': 'fake' } })).get('broken.example'));
    expect(error.message).toContain('docker-credential-fake');
    expect(error.message).toContain('exit status 3');
    expect(visible(error)).not.toContain(LEAK);
  });

  it('does not echo a non-JSON answer', async () => {
    const error = await failure((await store({ credHelpers: { 'garbage.example': 'fake' } })).get('garbage.example'));
    expect(error.message).toContain('JSON');
    expect(visible(error)).not.toContain(LEAK);
  });

  it('gives up on a helper that does not answer in time', async () => {
    const dir = await configDir({ credHelpers: { 'slow.example': 'fake' } });
    const creds = dockerConfigCredentials({ configDir: dir, env: env(), helperTimeoutMs: 200 });
    const error = await failure(creds.get('slow.example'));
    expect(error.message).toContain('200 ms');
  });

  it('does not cache failures', async () => {
    const dir = await configDir({ credHelpers: { 'broken.example': 'fake' } });
    const creds = dockerConfigCredentials({ configDir: dir, env: env() });
    const before = (await helperCalls()).length;
    await failure(creds.get('broken.example'));
    await failure(creds.get('broken.example'));
    expect((await helperCalls()).length - before).toBe(2);
  });

  it('never puts a credential into an error', async () => {
    const dir = await configDir({
      credHelpers: { 'broken.example': 'fake', 'gone.example': 'nothere' },
      auths: { 'broken.example': { auth: basic('u', PASSWORD) }, 'bad.example': { auth: `x${PASSWORD}` } },
    });
    const creds = dockerConfigCredentials({ configDir: dir, env: env() });
    for (const host of ['broken.example', 'gone.example', 'bad.example']) {
      const error = await failure(creds.get(host));
      for (const secret of [PASSWORD, HELPER_SECRET, LEAK, basic('u', PASSWORD)]) expect(visible(error)).not.toContain(secret);
    }
  });
});

describe('helpers', () => {
  it('reduces keys and URLs to hosts', () => {
    expect(registryHostKey('https://Reg.Example:5000/v2/')).toBe('reg.example:5000');
    expect(registryHostKey('reg.example/v1/')).toBe('reg.example');
    expect(registryHostKey('docker.io')).toBe('index.docker.io');
    expect(registryHostKey('https://index.docker.io/v1/')).toBe('index.docker.io');
  });

  it('serves static credentials by host', async () => {
    const creds = staticCredentials({ 'https://reg.example/': { username: 'u', password: 'p' }, 'docker.io': { registryToken: 't' } });
    expect(await creds.get('reg.example')).toEqual({ username: 'u', password: 'p' });
    expect(await creds.get('registry-1.docker.io')).toEqual({ registryToken: 't' });
    expect(await creds.get('other.example')).toBeUndefined();
  });

  it('redacts every occurrence of every secret, longest first', () => {
    expect(redact('user bob pw s3cret and s3cret-long', ['s3cret', 's3cret-long', ''])).toBe('user bob pw *** and ***');
    expect(redact('nothing here', [])).toBe('nothing here');
  });
});
