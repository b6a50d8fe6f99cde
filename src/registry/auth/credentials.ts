// Registry credentials from the docker config file and credential helpers, looked up the way
// docker/cli's configfile and go-containerregistry's DefaultKeychain do:
//   1. credHelpers[registry]  -> that helper's answer is final ("not found" means anonymous);
//   2. else credsStore        -> that helper; when it has nothing, the `auths` entry of the file
//                                (docker itself stops at the helper here; we fall back because an
//                                entry written into `auths` by hand is clearly meant to be used);
//   3. else the `auths` entries of the file.
// Nothing read here is ever put into an error message: not the helper's input or output, not file content.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

import { ConfigError, SlipwayError } from '../../errors.js';

export interface Credentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token, exchanged at the token endpoint (docker's `identitytoken`). */
  identityToken?: string;
  /** Bearer token sent to the registry as is (docker's `registrytoken`). */
  registryToken?: string;
}

export interface CredentialStore {
  /** Credentials for a registry host (`host[:port]`; a URL is reduced to its host); undefined means anonymous. */
  get(registry: string): Promise<Credentials | undefined>;
}

export interface DockerConfigCredentialsOptions {
  /** Directory holding config.json (`--docker-config`); default `$DOCKER_CONFIG`, then `~/.docker`. */
  configDir?: string;
  /** Environment for DOCKER_CONFIG, HOME and the PATH used to find helpers; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** How long a credential helper may run; default 60 s. */
  helperTimeoutMs?: number;
}

export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_HOST = 'index.docker.io';
const DOCKER_HUB_ALIASES = new Set(['index.docker.io', 'docker.io', 'registry-1.docker.io']);
const HELPER_PREFIX = 'docker-credential-';
const TOKEN_USERNAME = '<token>';
const DEFAULT_HELPER_TIMEOUT_MS = 60_000;
const MAX_HELPER_OUTPUT = 1 << 20;

/** Replaces every occurrence of each non-empty secret with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  // Longest first, so a secret containing another is replaced whole.
  const sorted = [...new Set(secrets.filter((s) => s !== ''))].sort((a, b) => b.length - a.length);
  return sorted.reduce((out, secret) => out.split(secret).join('***'), text);
}

/**
 * The host a config key or registry name refers to, as docker's ConvertToHostname does
 * (`https://host/v1/` and `host/v2/` become `host`), lowercased, with Docker Hub's aliases folded.
 */
export function registryHostKey(keyOrUrl: string): string {
  let rest = keyOrUrl.trim();
  const scheme = rest.indexOf('://');
  if (scheme >= 0) rest = rest.slice(scheme + 3);
  const slash = rest.indexOf('/');
  const host = (slash >= 0 ? rest.slice(0, slash) : rest).toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB_HOST : host;
}

/** The server address docker uses for a host: the historical v1 URL for Docker Hub, else the host. */
export function serverAddressFor(host: string): string {
  return host === DOCKER_HUB_HOST ? DOCKER_HUB_AUTH_KEY : host;
}

function hasAny(c: Credentials): boolean {
  return Boolean(c.username || c.password || c.identityToken || c.registryToken);
}

export function staticCredentials(map: Record<string, Credentials>): CredentialStore {
  const byHost = new Map<string, Credentials>();
  for (const [key, value] of Object.entries(map)) byHost.set(registryHostKey(key), { ...value });
  return {
    get(registry) {
      const found = byHost.get(registryHostKey(registry));
      return Promise.resolve(found && hasAny(found) ? { ...found } : undefined);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The config file

/** One `auths` entry; field names as docker writes them. */
export interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export interface DockerConfigFile {
  path: string;
  /** Keys as written in the file, in file order. */
  auths: Array<[key: string, entry: DockerAuthEntry]>;
  credHelpers: Array<[key: string, helper: string]>;
  credsStore?: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function badField(path: string, field: string, expected: string): ConfigError {
  return new ConfigError(`docker config ${path}: "${field}" must be ${expected}`, {
    hint: 'fix or remove that field (docker login rewrites it)',
  });
}

// Go's encoding/json matches field names case-insensitively; so do we.
function parseDockerAuthEntry(path: string, key: string, value: unknown): DockerAuthEntry {
  if (!isObject(value)) throw badField(path, `auths.${key}`, 'an object');
  const entry: DockerAuthEntry = {};
  for (const [field, v] of Object.entries(value)) {
    const name = field.toLowerCase();
    if (name !== 'auth' && name !== 'username' && name !== 'password' && name !== 'identitytoken' && name !== 'registrytoken') {
      continue;
    }
    if (v === null || v === undefined) continue;
    if (typeof v !== 'string') throw badField(path, `auths.${key}.${field}`, 'a string');
    entry[name] = v;
  }
  return entry;
}

/** Parses config.json text; errors name the file and the field, never a value. */
export function parseDockerConfig(text: string, path: string): DockerConfigFile {
  const config: DockerConfigFile = { path, auths: [], credHelpers: [] };
  if (text.trim() === '') return config; // docker accepts an empty file
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message can quote file content (a secret), so it is neither quoted nor kept as cause.
    throw new ConfigError(`docker config ${path} is not valid JSON`, {
      hint: 'fix the file, or point --docker-config / DOCKER_CONFIG at another directory',
    });
  }
  if (!isObject(json)) throw new ConfigError(`docker config ${path} must hold a JSON object`);
  const { auths, credHelpers, credsStore } = json;
  if (auths !== undefined && auths !== null) {
    if (!isObject(auths)) throw badField(path, 'auths', 'an object');
    for (const [key, value] of Object.entries(auths)) config.auths.push([key, parseDockerAuthEntry(path, key, value)]);
  }
  if (credHelpers !== undefined && credHelpers !== null) {
    if (!isObject(credHelpers)) throw badField(path, 'credHelpers', 'an object');
    for (const [key, value] of Object.entries(credHelpers)) {
      if (typeof value !== 'string') throw badField(path, `credHelpers.${key}`, 'a string');
      config.credHelpers.push([key, value]);
    }
  }
  if (credsStore !== undefined && credsStore !== null) {
    if (typeof credsStore !== 'string') throw badField(path, 'credsStore', 'a string');
    if (credsStore !== '') config.credsStore = credsStore;
  }
  return config;
}

/** Exact key first (what docker looks up), then any key that reduces to the same host, in file order. */
function findByHost<T>(entries: ReadonlyArray<[string, T]>, host: string): Array<[string, T]> {
  const address = serverAddressFor(host);
  const exact = entries.filter(([key]) => key === address);
  const others = entries.filter(([key]) => key !== address && registryHostKey(key) === host);
  return [...exact, ...others];
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeAuth(path: string, key: string, auth: string): { username: string; password: string } {
  const compact = auth.replace(/\s+/g, '');
  const decoded = BASE64.test(compact) ? Buffer.from(compact, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon <= 0) {
    throw new ConfigError(`docker config ${path}: "auths.${key}.auth" is not base64 of "username:password"`, {
      hint: `run docker login ${key} again, or remove the entry`,
    });
  }
  // The password is everything after the first colon; docker also trims NUL padding.
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/^\0+|\0+$/g, '') };
}

function entryCredentials(path: string, key: string, entry: DockerAuthEntry): Credentials {
  const creds: Credentials = {};
  if (entry.username) creds.username = entry.username;
  if (entry.password) creds.password = entry.password;
  if (entry.auth) Object.assign(creds, decodeAuth(path, key, entry.auth)); // `auth` wins, as in docker
  if (entry.identitytoken) creds.identityToken = entry.identitytoken;
  if (entry.registrytoken) creds.registryToken = entry.registrytoken;
  return creds;
}

/** Credentials from `auths`: the first matching entry that holds any (empty `{}` entries are left by credsStore logins). */
export function authsCredentials(config: DockerConfigFile, host: string): Credentials | undefined {
  for (const [key, entry] of findByHost(config.auths, host)) {
    const creds = entryCredentials(config.path, key, entry);
    if (hasAny(creds)) return creds;
  }
  return undefined;
}

/** The helper configured for a host: credHelpers entry, else credsStore. An empty credHelpers value means "use the file". */
export function helperFor(config: DockerConfigFile, host: string): { helper: string; perRegistry: boolean } | undefined {
  const [match] = findByHost(config.credHelpers, host);
  if (match) return match[1] === '' ? undefined : { helper: match[1], perRegistry: true };
  return config.credsStore ? { helper: config.credsStore, perRegistry: false } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Credential helpers (docker-credential-helpers protocol: `get`, server URL on stdin, JSON on stdout)

interface HelperRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface HelperContext {
  program: string;
  host: string;
  configPath: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}

function helperHint(ctx: HelperContext): string {
  return `try \`printf %s ${serverAddressFor(ctx.host)} | ${ctx.program} get\` to see its message`;
}

function runHelper(ctx: HelperContext, input: string, action: 'get' | 'store' | 'erase' = 'get'): Promise<HelperRun> {
  return new Promise((resolve, reject) => {
    let child: ChildProcessWithoutNullStreams;
    try {
      // No shell: the helper name comes from a file and must not be interpreted.
      child = spawn(ctx.program, [action], { env: ctx.env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    } catch (cause) {
      reject(new SlipwayError(`credential helper ${ctx.program} for ${ctx.host} could not be started`, { cause }));
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (action: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      action();
    };
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_HELPER_OUTPUT) {
        child.kill('SIGKILL');
        finish(() => reject(new SlipwayError(`credential helper ${ctx.program} for ${ctx.host} wrote too much output`)));
        return;
      }
      into.push(chunk);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() =>
        reject(
          new SlipwayError(`credential helper ${ctx.program} for ${ctx.host} did not answer within ${ctx.timeoutMs} ms`, {
            hint: 'a helper may be waiting for a keychain unlock or a login; run it by hand once',
          }),
        ),
      );
    }, ctx.timeoutMs);
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.stdin.on('error', () => {
      // The helper may exit without reading stdin (EPIPE); its exit status tells the story.
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish(() => reject(spawnError(ctx, error)));
    });
    child.on('close', (code, signal) => {
      finish(() =>
        resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
      );
    });
    child.stdin.end(input); // docker sends the bare server URL, no newline
  });
}

function spawnError(ctx: HelperContext, error: NodeJS.ErrnoException): SlipwayError {
  if (error.code === 'ENOENT') {
    return new ConfigError(`credential helper ${ctx.program} for ${ctx.host} was not found on PATH`, {
      cause: error,
      hint: `install ${ctx.program}, or remove it from credHelpers/credsStore in ${ctx.configPath}`,
    });
  }
  if (error.code === 'EACCES') {
    return new ConfigError(`credential helper ${ctx.program} for ${ctx.host} is not executable`, {
      cause: error,
      hint: `check the permissions of ${ctx.program} on PATH`,
    });
  }
  return new SlipwayError(`credential helper ${ctx.program} for ${ctx.host} could not be run (${error.code ?? 'error'})`, {
    cause: error,
  });
}

// docker-credential-helpers prints this (on stdout) and exits 1 when it has nothing for the URL;
// macOS' keychain has its own wording.
const NOT_FOUND = /credentials not found|could not be found in the keychain/i;

/** Interprets a helper's answer. Output is only matched, never quoted. */
function helperAnswer(run: HelperRun, ctx: Pick<HelperContext, 'program' | 'host'> & { hint?: string }): Credentials | undefined {
  if (run.code !== 0) {
    if (NOT_FOUND.test(run.stdout) || NOT_FOUND.test(run.stderr)) return undefined;
    const status = run.code === null ? `signal ${run.signal ?? 'unknown'}` : `exit status ${run.code}`;
    return failWith(`credential helper ${ctx.program} failed for ${ctx.host} (${status})`, ctx.hint);
  }
  let json: unknown;
  try {
    json = JSON.parse(run.stdout);
  } catch {
    return failWith(`credential helper ${ctx.program} answered for ${ctx.host} with something other than JSON`, ctx.hint);
  }
  if (!isObject(json)) return failWith(`credential helper ${ctx.program} answered for ${ctx.host} with a non-object`, ctx.hint);
  const { Username: username, Secret: secret } = json;
  if ((username !== undefined && typeof username !== 'string') || (secret !== undefined && typeof secret !== 'string')) {
    return failWith(`credential helper ${ctx.program} answered for ${ctx.host} with non-string fields`, ctx.hint);
  }
  if (!secret) return username ? { username } : undefined;
  if (username === TOKEN_USERNAME) return { identityToken: secret };
  return username ? { username, password: secret } : { password: secret };
}

function failWith(message: string, hint: string | undefined): never {
  throw new SlipwayError(message, hint === undefined ? {} : { hint });
}

async function helperCredentials(ctx: HelperContext): Promise<Credentials | undefined> {
  const run = await runHelper(ctx, serverAddressFor(ctx.host));
  return helperAnswer(run, { program: ctx.program, host: ctx.host, hint: helperHint(ctx) });
}

// ---------------------------------------------------------------------------------------------
// The store

export function dockerConfigPath(options: Pick<DockerConfigCredentialsOptions, 'configDir' | 'env'> = {}): string {
  const env = options.env ?? process.env;
  const dir = options.configDir || env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
  return join(dir, 'config.json');
}

/**
 * The auth files credentials are looked up in, in order: `--docker-config`'s config.json alone when given; else
 * `$REGISTRY_AUTH_FILE` first (podman's and skopeo's file, the same `auths` format), then docker's config.json.
 * `slipway login` writes to the first.
 */
export function authFilePaths(options: Pick<DockerConfigCredentialsOptions, 'configDir' | 'env'> = {}): string[] {
  const env = options.env ?? process.env;
  if (options.configDir) return [dockerConfigPath(options)];
  return [...(env.REGISTRY_AUTH_FILE ? [env.REGISTRY_AUTH_FILE] : []), dockerConfigPath(options)];
}

async function loadDockerConfig(path: string): Promise<DockerConfigFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // no file, no credentials
    throw new ConfigError(`docker config ${path} could not be read`, { cause: error });
  }
  return parseDockerConfig(text, path);
}

export function dockerConfigCredentials(options: DockerConfigCredentialsOptions = {}): CredentialStore {
  const env = options.env ?? process.env;
  const paths = authFilePaths(options);
  const timeoutMs = options.helperTimeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS;
  const configs = new Map<string, Promise<DockerConfigFile | undefined>>();
  // Promises are cached so concurrent lookups share one helper run; failures are not cached.
  const cache = new Map<string, Promise<Credentials | undefined>>();

  const loadConfig = (path: string): Promise<DockerConfigFile | undefined> => {
    let config = configs.get(path);
    if (config === undefined) {
      config = loadDockerConfig(path);
      configs.set(path, config);
      config.catch(() => configs.delete(path));
    }
    return config;
  };

  const lookupIn = async (path: string, host: string): Promise<Credentials | undefined> => {
    const file = await loadConfig(path);
    if (!file) return undefined;
    const helper = helperFor(file, host);
    if (helper) {
      if (/[/\\]/.test(helper.helper)) {
        throw new ConfigError(`docker config ${path}: credential helper name "${helper.helper}" must not contain a path`);
      }
      const program = HELPER_PREFIX + helper.helper;
      const found = await helperCredentials({ program, host, configPath: path, env, timeoutMs });
      if (found || helper.perRegistry) return found;
    }
    return authsCredentials(file, host);
  };

  const lookup = async (host: string): Promise<Credentials | undefined> => {
    for (const path of paths) {
      const found = await lookupIn(path, host);
      if (found) return found;
    }
    return undefined;
  };

  return {
    get(registry) {
      const host = registryHostKey(registry);
      let result = cache.get(host);
      if (!result) {
        result = lookup(host);
        cache.set(host, result);
        result.catch(() => cache.delete(host));
      }
      return result.then((c) => (c ? { ...c } : undefined));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Writing (`slipway login` / `logout`), as docker does: into the credential helper the file names for the
// registry (credHelpers, else credsStore), else into the file's `auths` as base64 `user:password`. The file is
// rewritten whole (temp file, rename), mode 0600, every other key kept as it was.

export interface CredentialsWriteOptions extends Pick<DockerConfigCredentialsOptions, 'configDir' | 'env' | 'helperTimeoutMs'> {}

/** Where `login` writes: the first auth file (see authFilePaths), and the helper it names for `host`, if any. */
async function writeTarget(host: string, options: CredentialsWriteOptions): Promise<{ path: string; json: Record<string, unknown>; helper?: HelperContext }> {
  const path = authFilePaths(options)[0]!;
  let json: Record<string, unknown> = {};
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new ConfigError(`auth file ${path} could not be read`, { cause: error });
  });
  if (text !== undefined && text.trim() !== '') {
    const config = parseDockerConfig(text, path); // validates, naming the file and field on errors
    json = JSON.parse(text) as Record<string, unknown>;
    const helper = helperFor(config, host);
    if (helper) {
      const env = options.env ?? process.env;
      return { path, json, helper: { program: HELPER_PREFIX + helper.helper, host, configPath: path, env, timeoutMs: options.helperTimeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS } };
    }
  }
  return { path, json };
}

async function writeAuthFile(link: string, json: Record<string, unknown>): Promise<void> {
  // A config.json that is a symlink (dotfiles) is written where it points, as docker does, not replaced.
  const path = await realpath(link).catch(() => link);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(json, null, '\t')}\n`, { mode: 0o600 });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw new SlipwayError(`cannot write the auth file ${path}: ${(error as Error).message}`, { cause: error });
  }
}

function helperFailed(run: HelperRun, ctx: HelperContext, action: string): SlipwayError {
  const status = run.code === null ? `signal ${run.signal ?? 'unknown'}` : `exit status ${run.code}`;
  // A helper's own words may echo what it was given: never print them beyond its status.
  return new SlipwayError(`credential helper ${ctx.program} could not ${action} the credentials for ${ctx.host} (${status})`, { hint: helperHint(ctx) });
}

/** Save a registry's credentials; returns where they went (a helper's name or the file's path). */
export async function saveCredentials(registry: string, credentials: { username: string; password: string }, options: CredentialsWriteOptions = {}): Promise<string> {
  const host = registryHostKey(registry);
  const target = await writeTarget(host, options);
  if (target.helper) {
    const input = JSON.stringify({ ServerURL: serverAddressFor(host), Username: credentials.username, Secret: credentials.password });
    const run = await runHelper(target.helper, input, 'store');
    if (run.code !== 0) throw helperFailed(run, target.helper, 'store');
    return target.helper.program;
  }
  const auths = (typeof target.json.auths === 'object' && target.json.auths !== null ? target.json.auths : {}) as Record<string, unknown>;
  // One entry per registry: an older spelling of the same host (https://host/v2/) is replaced.
  for (const key of Object.keys(auths)) if (registryHostKey(key) === host) delete auths[key];
  auths[serverAddressFor(host)] = { auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64') };
  await writeAuthFile(target.path, { ...target.json, auths });
  return target.path;
}

/** Forget a registry's credentials; false when there were none. */
export async function removeCredentials(registry: string, options: CredentialsWriteOptions = {}): Promise<boolean> {
  const host = registryHostKey(registry);
  const target = await writeTarget(host, options);
  if (target.helper) {
    const run = await runHelper(target.helper, serverAddressFor(host), 'erase');
    if (run.code === 0) return true;
    if (NOT_FOUND.test(run.stdout) || NOT_FOUND.test(run.stderr)) return false;
    throw helperFailed(run, target.helper, 'erase');
  }
  const auths = (typeof target.json.auths === 'object' && target.json.auths !== null ? target.json.auths : {}) as Record<string, unknown>;
  const keys = Object.keys(auths).filter((key) => registryHostKey(key) === host);
  if (keys.length === 0) return false;
  for (const key of keys) delete auths[key];
  await writeAuthFile(target.path, { ...target.json, auths });
  return true;
}
