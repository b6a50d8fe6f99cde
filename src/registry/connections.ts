// Where a request goes and over which connection: node:http's keep-alive Agents, one connection pool per origin
// (at most `connectionsPerHost` connections each), direct or through the proxy proxy.ts picks, the way curl goes
// through one:
//   - an http:// target through a proxy: the request itself goes to the proxy, in absolute form
//     (`GET http://host/v2/...`), with Proxy-Authorization from the proxy URL's user:password; a connection to
//     the proxy is kept for the next request only when the proxy's answer says it keeps it (tinyproxy, for one,
//     closes after every answer without saying so: reusing its connection fails the next request);
//   - an https:// target through a proxy: a CONNECT tunnel, then TLS with the target inside it (tunnel.ts), pooled
//     per target like direct connections;
//   - an https:// proxy URL: TLS to the proxy itself, under either.
// node:http and not undici: the transport loads in ~20 ms instead of ~95 ms, and a request moves its bytes for
// 10-35% less CPU (bench/README.md, "node:http transport").

import http, { type IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { proxyAuthorization } from './proxy.js';
import { openTunnel, portOf, serverName, socketHost } from './tunnel.js';

export interface ConnectionOptions {
  connectionsPerHost: number;
  skipTlsVerify: boolean;
  /** Bounds opening a tunnel (connect, CONNECT, TLS); each request bounds its own connection (http.ts). */
  timeoutMs: number;
}

/** How one request is sent: through which pool, to which first hop, with which request target. */
export interface Route {
  /** node:http's or node:https's request(): how the first hop (the server, or a forwarding proxy) is spoken to. */
  request: typeof http.request;
  agent: http.Agent;
  /** The first hop. */
  host: string;
  port: number;
  /** The TLS server name of an https first hop, when it is not the target (a proxy). */
  servername?: string;
  /** Origin-form (`/v2/...`) for the server itself, absolute-form for a forwarding proxy. */
  path: string;
  /** Host, and Proxy-Authorization for a forwarding proxy. */
  headers: Record<string, string>;
  /** Whether the connection may serve another request after this response; by HTTP's rules when absent. */
  reusableAfter?: (response: IncomingMessage) => boolean;
}

/**
 * Socket buffers of 256 KiB instead of Node's 16 KiB: a socket read brings up to 64 KiB, and a body whose buffer
 * holds a few of them pauses and resumes its socket less often when its reader is briefly slower. A few MB at most
 * for all connections; a 131 MB copy measured the same CPU with 16 KiB and 256 KiB, so this is no hot spot either way.
 */
export const SOCKET_HIGH_WATER_MARK = 256 * 1024;

/** An https Agent whose connections are TLS inside a CONNECT tunnel through one proxy. */
class TunnelAgent extends https.Agent {
  private readonly aborter = new AbortController();

  constructor(private readonly proxy: URL, private readonly connection: ConnectionOptions, options: https.AgentOptions) {
    super(options);
  }

  // Node's Agent takes the socket from the callback when createConnection returns nothing. It counts a connection
  // against maxSockets only once it exists: requests arriving while tunnels are being opened may open more than
  // connectionsPerHost of them, a number the callers' own concurrency bounds.
  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const done = callback ?? ((): void => {});
    openTunnel({
      proxy: this.proxy,
      host: String(options.host),
      port: Number(options.port),
      servername: typeof options.servername === 'string' ? options.servername : serverName(String(options.host)),
      rejectUnauthorized: !this.connection.skipTlsVerify,
      timeoutMs: this.connection.timeoutMs,
      highWaterMark: SOCKET_HIGH_WATER_MARK,
      signal: this.aborter.signal,
    }).then((socket) => done(null, socket), (error: Error) => failed(done, error));
    return undefined;
  }

  override destroy(): void {
    this.aborter.abort();
    super.destroy();
  }
}

/** Node's callback takes no socket with an error; its type wants one. */
function failed(callback: (err: Error | null, stream: Duplex) => void, error: Error): void {
  (callback as (err: Error) => void)(error);
}

export class ConnectionPools {
  private readonly agents = new Map<string, http.Agent>();

  constructor(private readonly options: ConnectionOptions) {}

  /** How to send a request for `url`, directly when `proxy` is undefined. */
  route(url: URL, proxy: string | undefined): Route {
    const secure = url.protocol === 'https:';
    const target = { host: socketHost(url), port: portOf(url), headers: { host: url.host } };
    if (proxy === undefined) {
      return { request: secure ? https.request : http.request, agent: this.agent(secure ? 'https' : 'http', () => this.direct(secure)), ...target, path: pathOf(url) };
    }
    const proxyUrl = new URL(proxy);
    if (secure) {
      return { request: https.request, agent: this.agent(`tunnel ${proxy}`, () => new TunnelAgent(proxyUrl, this.options, this.agentOptions())), ...target, path: pathOf(url) };
    }
    // Forwarding: the proxy is the first hop; the target is named by the request line and Host.
    const secureProxy = proxyUrl.protocol === 'https:';
    const credentials = proxyAuthorization(proxyUrl);
    const proxyHost = socketHost(proxyUrl);
    return {
      request: secureProxy ? https.request : http.request,
      agent: this.agent(`forward ${proxy}`, () => this.direct(secureProxy)),
      host: proxyHost,
      port: portOf(proxyUrl),
      ...(secureProxy ? { servername: serverName(proxyHost) } : {}),
      path: absoluteForm(url),
      headers: { ...target.headers, ...(credentials ? { 'proxy-authorization': credentials } : {}) },
      reusableAfter: (response) => announcesKeepAlive(response.headers),
    };
  }

  /** End every connection, idle or busy, and every tunnel being opened: nothing is left to keep the process alive. */
  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private agent(key: string, create: () => http.Agent): http.Agent {
    let agent = this.agents.get(key);
    if (agent === undefined) {
      agent = create();
      this.agents.set(key, agent);
    }
    return agent;
  }

  private direct(secure: boolean): http.Agent {
    return secure ? new https.Agent(this.agentOptions()) : new http.Agent(this.agentOptions());
  }

  private agentOptions(): https.AgentOptions {
    // Node's default CA store, which includes NODE_EXTRA_CA_CERTS, verifies servers unless told not to. The
    // high-water mark reaches the sockets: an Agent passes its options on to the connections it creates.
    const options: https.AgentOptions & { highWaterMark: number } = {
      keepAlive: true,
      maxSockets: this.options.connectionsPerHost,
      rejectUnauthorized: !this.options.skipTlsVerify,
      highWaterMark: SOCKET_HIGH_WATER_MARK,
    };
    return options;
  }
}

/** Whether a proxy's answer says the connection stays open (`Connection: keep-alive`, or the older `Proxy-Connection`). */
export function announcesKeepAlive(headers: IncomingHttpHeaders): boolean {
  return [headers.connection, headers['proxy-connection']].some((value) => typeof value === 'string' && /(^|,)\s*keep-alive\s*(,|$)/i.test(value));
}

function pathOf(url: URL): string {
  return `${url.pathname}${url.search}`;
}

/** The URL as a forwarding proxy wants it on the request line: no credentials, no fragment. */
function absoluteForm(url: URL): string {
  return `${url.protocol}//${url.host}${pathOf(url)}`;
}
