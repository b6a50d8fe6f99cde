// A Docker-registry token server (the Docker Hub / GHCR bearer flow) for tests,
// built on node:http and node:crypto only. The registry trusts the certificate
// passed here (its `rootcertbundle`); tokens carry that cert in the JWT `x5c`
// header and are signed RS256 with its key.
//
// Endpoints (all bound to 127.0.0.1):
//   GET  /token?service=S&scope=repository:NAME:pull,push&scope=...  -> {token, expires_in, issued_at}
//   GET  /token-access-form?...   same rules, answers {access_token, expires_in, issued_at} only
//   GET  /requests                JSON array of every token request since the last reset
//        ?all=1                   ... since the server started (ignores resets)
//        ?repository=NAME         ... only records whose scopes name that repository
//   POST /requests/reset          empties the default log
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createPrivateKey, randomUUID, sign, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export const TOKEN_LIFETIME_SECONDS = 300;

export interface TokenServerOptions {
  /** PEM private key (RSA) whose certificate the registry trusts. */
  keyPem: string;
  /** PEM certificate matching keyPem; its DER goes into the JWT `x5c` header. */
  certPem: string;
  issuer: string;
  /** Default audience when the request has no `service` parameter. */
  service: string;
  username: string;
  password: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

export interface TokenRequestRecord {
  /** Request path without the query: '/token' or '/token-access-form'. */
  path: string;
  /** Scopes exactly as requested (one entry per scope, space-separated params split). */
  scopes: string[];
  /** True only when valid Basic credentials were presented. */
  authenticated: boolean;
  /** HTTP status the server answered. */
  status: number;
  /** ISO timestamp. */
  at: string;
}

export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenServer {
  /** e.g. 'http://127.0.0.1:41234' */
  url: string;
  /** e.g. 'http://127.0.0.1:41234/token', the registry's `realm`. */
  realm: string;
  port: number;
  requests: TokenRequestRecord[];
  close(): Promise<void>;
}

/** Parses `type:name:actions`; the name may itself contain ':' (split on first and last). */
export function parseScope(scope: string): AccessEntry | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const actions = scope
    .slice(last + 1)
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions };
}

/**
 * The grant policy: valid credentials get what they ask for; anonymous callers get
 * `pull` on repositories under `public/` and nothing else.
 */
export function grant(requested: AccessEntry[], authenticated: boolean): AccessEntry[] {
  const granted: AccessEntry[] = [];
  for (const entry of requested) {
    const actions = authenticated
      ? entry.actions
      : entry.type === 'repository' && entry.name.startsWith('public/')
        ? entry.actions.filter((a) => a === 'pull')
        : [];
    if (actions.length > 0) granted.push({ ...entry, actions: [...new Set(actions)] });
  }
  return granted;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** The base64 (standard, not url) DER of the first certificate in a PEM. */
function pemToDerBase64(pem: string): string {
  const match = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!match?.[1]) throw new Error('token-server: certPem holds no certificate');
  return match[1].replace(/\s+/g, '');
}

export function signJwt(
  claims: Record<string, unknown>,
  key: KeyObject,
  x5cDerBase64: string,
): string {
  const header = { typ: 'JWT', alg: 'RS256', x5c: [x5cDerBase64] };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(signingInput), key); // RSASSA-PKCS1-v1_5
  return `${signingInput}.${base64url(signature)}`;
}

type Credentials = 'none' | 'valid' | 'invalid';

function checkBasic(header: string | undefined, username: string, password: string): Credentials {
  if (!header) return 'none';
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (!match?.[1]) return 'invalid';
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'invalid';
  const ok = (a: string, b: string): boolean => {
    const ab = Buffer.from(a);
    const bb = Buffer.from(b);
    return ab.length === bb.length && timingSafeEqual(ab, bb);
  };
  // Evaluate both comparisons so timing does not reveal which half was wrong.
  const userOk = ok(decoded.slice(0, colon), username);
  const passOk = ok(decoded.slice(colon + 1), password);
  return userOk && passOk ? 'valid' : 'invalid';
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const key = createPrivateKey(options.keyPem);
  const x5c = pemToDerBase64(options.certPem);
  const requests: TokenRequestRecord[] = []; // since the last POST /requests/reset
  const history: TokenRequestRecord[] = []; // since start

  const handleToken = (req: IncomingMessage, res: ServerResponse, url: URL): void => {
    // Both `scope=a&scope=b` and `scope=a b` are in the wild; accept both.
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter((s) => s.length > 0);
    const creds = checkBasic(req.headers.authorization, options.username, options.password);
    const record: TokenRequestRecord = {
      path: url.pathname,
      scopes,
      authenticated: creds === 'valid',
      status: 200,
      at: new Date().toISOString(),
    };
    requests.push(record);
    history.push(record);

    if (creds === 'invalid') {
      record.status = 401;
      sendJson(
        res,
        401,
        { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] },
        { 'www-authenticate': 'Basic realm="slipway-token-server"' },
      );
      return;
    }

    const requested = scopes.map(parseScope).filter((s): s is AccessEntry => s !== undefined);
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: options.issuer,
      sub: creds === 'valid' ? options.username : '',
      aud: url.searchParams.get('service') ?? options.service,
      exp: now + TOKEN_LIFETIME_SECONDS,
      nbf: now - 1, // tolerate a clock tick between us and the registry
      iat: now,
      jti: randomUUID(),
      access: grant(requested, creds === 'valid'),
    };
    const token = signJwt(claims, key, x5c);
    const common = { expires_in: TOKEN_LIFETIME_SECONDS, issued_at: new Date(now * 1000).toISOString() };
    sendJson(res, 200, url.pathname === '/token-access-form' ? { access_token: token, ...common } : { token, ...common });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    req.resume(); // no endpoint reads a body; drain it so keep-alive works
    if (req.method === 'GET' && (url.pathname === '/token' || url.pathname === '/token-access-form')) {
      handleToken(req, res, url);
    } else if (req.method === 'GET' && url.pathname === '/requests') {
      // Test files run in parallel and share this server, so a reset by one file can
      // race another: `?all=1` ignores resets, `?repository=NAME` keeps one repo's records.
      let records = url.searchParams.has('all') ? history : requests;
      const repo = url.searchParams.get('repository');
      if (repo !== null) {
        const namesRepo = (scope: string): boolean => {
          const entry = parseScope(scope);
          return entry?.type === 'repository' && entry.name === repo;
        };
        records = records.filter((r) => r.scopes.some(namesRepo));
      }
      sendJson(res, 200, records);
    } else if (req.method === 'POST' && url.pathname === '/requests/reset') {
      requests.length = 0;
      sendJson(res, 200, { ok: true });
    } else if (url.pathname === '/token' || url.pathname === '/token-access-form') {
      // The OAuth2 POST form is not offered; clients must fall back to GET (405 is the signal).
      sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
    } else {
      sendJson(res, 404, { error: 'not found' });
    }
  });
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    realm: `${url}/token`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
