// Turns a registry's challenge plus the user's credentials into an Authorization header:
// Basic directly, Bearer through the registry's token server. Tokens are cached per
// registry and scope set, and refreshed before they expire or when a request gets 401.

import { RegistryError } from '../../errors.js';
import { errorFromResponse, readBody, type HttpTransport } from '../http.js';
import { redactUrl } from '../redact.js';
import type { Challenge } from './challenge.js';
import { mergeScopes } from './challenge.js';
import type { CredentialStore, Credentials } from './credentials.js';

interface CachedToken {
  value: string;
  /** ms since epoch after which the token is not used again. */
  expiresAt: number;
}

/** Tokens without `expires_in` are valid for 60 s (distribution's token spec). */
const DEFAULT_TOKEN_LIFETIME_S = 60;
/** Refresh this long before expiry so a request never starts with a dying token. */
const EXPIRY_MARGIN_MS = 10_000;
const TOKEN_RESPONSE_LIMIT = 1024 * 1024;

export class Authenticator {
  private readonly tokens = new Map<string, Promise<CachedToken>>();

  constructor(
    private readonly http: HttpTransport,
    private readonly credentials: CredentialStore,
    private readonly clientId = 'slipway',
  ) {}

  /** The Authorization header for a request needing `scopes`, or undefined for anonymous access. */
  async authorization(registry: string, challenges: Challenge[], scopes: string[]): Promise<string | undefined> {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    const creds = await this.credentials.get(registry);
    if (bearer) {
      if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
      const token = await this.token(registry, bearer, scopes, creds);
      return `Bearer ${token}`;
    }
    if (basic && creds?.username !== undefined && creds.password !== undefined) {
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    return undefined;
  }

  /** Forget a registry's cached tokens after a 401, so the next request fetches fresh ones. */
  invalidate(registry: string): void {
    for (const key of this.tokens.keys()) if (key.startsWith(`${registry} `)) this.tokens.delete(key);
  }

  private async token(registry: string, challenge: Challenge, scopes: string[], creds: Credentials | undefined): Promise<string> {
    // A challenge may name a scope the operation did not ask for (e.g. a mount's source): include it.
    const wanted = mergeScopes([...scopes, ...(challenge.params.scope ? challenge.params.scope.split(' ') : [])]);
    const key = cacheKey(registry, wanted);
    const cached = this.tokens.get(key);
    if (cached) {
      const token = await cached.catch(() => undefined);
      if (token && token.expiresAt > Date.now()) return token.value;
      this.tokens.delete(key);
    }
    const pending = this.fetchToken(registry, challenge, wanted, creds);
    this.tokens.set(key, pending);
    try {
      return (await pending).value;
    } catch (error) {
      this.tokens.delete(key);
      throw error;
    }
  }

  private async fetchToken(registry: string, challenge: Challenge, scopes: string[], creds: Credentials | undefined): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (!realm) {
      throw new RegistryError(`${registry} asked for a bearer token but named no token realm`, { method: 'GET', url: registry });
    }
    const url = new URL(realm);
    const service = challenge.params.service;
    let res;
    if (creds?.identityToken) {
      // OAuth2 refresh-token grant, as `docker login` with an identity token does.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: this.clientId });
      if (service) form.set('service', service);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      res = await this.http.send({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
    } else {
      if (service) url.searchParams.set('service', service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      const headers: Record<string, string> = {};
      if (creds?.username !== undefined && creds.password !== undefined) {
        headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      }
      res = await this.http.send({ method: 'GET', url, headers });
    }
    if (res.status !== 200) {
      throw await errorFromResponse(res, creds?.identityToken ? 'POST' : 'GET', `token for ${registry} (${scopes.join(' ') || 'no scope'})`, registry);
    }
    const body = await readBody(res.body, TOKEN_RESPONSE_LIMIT, `token answer from ${redactUrl(url)}`);
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch {
      throw new RegistryError(`the token server ${redactUrl(url)} answered with something that is not JSON`, { method: 'GET', url: redactUrl(url), status: 200 });
    }
    const value = typeof parsed.token === 'string' && parsed.token !== '' ? parsed.token : parsed.access_token;
    if (typeof value !== 'string' || value === '') {
      throw new RegistryError(`the token server ${redactUrl(url)} answered without "token" or "access_token"`, { method: 'GET', url: redactUrl(url), status: 200 });
    }
    const lifetime = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_TOKEN_LIFETIME_S;
    const issued = typeof parsed.issued_at === 'string' ? Date.parse(parsed.issued_at) : NaN;
    // Trust the local clock over issued_at when they disagree: a skewed server must not make every token look expired.
    const start = Number.isNaN(issued) || issued > Date.now() ? Date.now() : Math.max(issued, Date.now() - lifetime * 1000);
    return { value, expiresAt: start + lifetime * 1000 - Math.min(EXPIRY_MARGIN_MS, (lifetime * 1000) / 2) };
  }
}

function cacheKey(registry: string, scopes: string[]): string {
  return `${registry} ${mergeScopes(scopes).join(' ')}`;
}
