// Which proxy a request goes through, by curl's rules, so that Slipway behaves like the other tools behind a
// corporate proxy:
//   - `http_proxy` for http:// URLs and `https_proxy` for https:// URLs, each in lower or upper case (lower case
//     wins when both are set), `all_proxy` for either when the specific one is unset;
//   - `no_proxy` (or `NO_PROXY`): a comma-separated list of host names, domains (`example.org` and `.example.org`
//     both match the domain and its subdomains), IP addresses, IPv4 CIDR ranges, or `*` for everything (and, as
//     Go also accepts, `host:port` for one port). Nothing else is special: loopback addresses go through the
//     proxy unless no_proxy names them, as in curl.
// How a request travels through the proxy once chosen is connections.ts's and tunnel.ts's business; this module
// only decides, and is free of node:http so that its importers stay cheap to load.

export interface ProxySettings {
  http?: string;
  https?: string;
  noProxy: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

function read(env: Env, name: string): string | undefined {
  const value = env[name.toLowerCase()] || env[name.toUpperCase()];
  return value === undefined || value === '' ? undefined : value;
}

/** The proxy settings of an environment (curl's variables). */
export function proxySettingsFromEnv(env: Env): ProxySettings {
  const all = read(env, 'all_proxy');
  const http = read(env, 'http_proxy') ?? all;
  const https = read(env, 'https_proxy') ?? all;
  const noProxy = (read(env, 'no_proxy') ?? '').split(',').map((e) => e.trim().toLowerCase()).filter((e) => e !== '');
  return { ...(http ? { http: withScheme(http) } : {}), ...(https ? { https: withScheme(https) } : {}), noProxy };
}

/** curl takes `host:port` as `http://host:port`. */
function withScheme(proxy: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

/** The proxy URL for a request to `url`, or undefined to connect directly. */
export function proxyFor(url: URL, settings: ProxySettings): string | undefined {
  const proxy = url.protocol === 'https:' ? settings.https : url.protocol === 'http:' ? settings.http : undefined;
  if (proxy === undefined) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return settings.noProxy.some((entry) => noProxyMatches(entry, host, port)) ? undefined : proxy;
}

function noProxyMatches(entry: string, host: string, port: number): boolean {
  if (entry === '*') return true;
  let name = entry;
  // `host:port` (not an IPv6 address, which has several colons unless bracketed).
  const portMatch = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
  if (portMatch) {
    if (Number(portMatch[2]) !== port) return false;
    name = portMatch[1]!;
  }
  name = name.replace(/^\[|\]$/g, '');
  if (name.includes('/')) return inCidr(host, name);
  if (name.startsWith('.')) name = name.slice(1);
  return host === name || host.endsWith(`.${name}`);
}

/** Whether an IPv4 `host` lies in an IPv4 `a.b.c.d/n` range (other ranges never match). */
function inCidr(host: string, cidr: string): boolean {
  const [base = '', bitsText = ''] = cidr.split('/');
  const bits = Number(bitsText);
  const a = ipv4(host);
  const b = ipv4(base);
  if (a === undefined || b === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** A proxy URL for messages: without its credentials. */
export function describeProxy(proxy: string): string {
  try {
    const url = new URL(proxy);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(an unparsable proxy URL)';
  }
}

/** The Proxy-Authorization header for the user:password of a proxy URL (Basic, as curl sends it), if it has any. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === '' && proxy.password === '') return undefined;
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}
