// A CONNECT tunnel through an HTTP(S) proxy with TLS to the target inside it: how an https:// server is reached
// through a proxy, as curl and Docker do it. The proxy's answer to CONNECT is read by node:http itself (a CONNECT
// request's 'connect' event hands over the raw socket), so this module parses no HTTP of its own. An https://
// proxy URL means TLS to the proxy too, under the target's.

import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { closedError, timeoutError } from './network-errors.js';
import { proxyAuthorization } from './proxy.js';

export interface TunnelOptions {
  proxy: URL;
  /** The target's host name or IP address (an IPv6 one without brackets) and port. */
  host: string;
  port: number;
  /** The TLS server name of the target: its host name, '' for an IP address. */
  servername: string;
  /** Verify the certificates of the target and of an https:// proxy. */
  rejectUnauthorized: boolean;
  /** For the whole: connecting to the proxy, its answer to CONNECT, and the TLS handshake with the target. */
  timeoutMs: number;
  /** Of the TLS socket handed back (see connections.ts). */
  highWaterMark: number;
  /** Aborting ends the tunnel being opened (a transport being closed). */
  signal: AbortSignal;
}

/** Host and port the way CONNECT names them (authority-form: an IPv6 address in brackets). */
export function authority(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** A URL's host name as the socket APIs take it: an IPv6 address without its brackets. */
export function socketHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** The port a URL names, or its scheme's default. */
export function portOf(url: URL): number {
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
}

/** The server name for TLS to `host`: none for an IP address (RFC 6066). */
export function serverName(host: string): string {
  return isIP(host) === 0 ? host : '';
}

/** A TLS connection to the target through the proxy; it fails after `timeoutMs` with a connect timeout. */
export function openTunnel(options: TunnelOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const { proxy, signal } = options;
    const target = authority(options.host, options.port);
    const secureProxy = proxy.protocol === 'https:';
    const proxyHost = socketHost(proxy);
    const credentials = proxyAuthorization(proxy);
    const connect = (secureProxy ? https : http).request({
      host: proxyHost,
      port: portOf(proxy),
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...(credentials ? { 'proxy-authorization': credentials } : {}) },
      agent: false,
      ...(secureProxy ? { servername: serverName(proxyHost), rejectUnauthorized: options.rejectUnauthorized } : {}),
    });
    let socket: Duplex | undefined;
    let settled = false;
    const finish = (error: Error | undefined, secured?: tls.TLSSocket): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (error === undefined && secured !== undefined) return resolve(secured);
      connect.destroy();
      socket?.destroy();
      reject(error);
    };
    const onAbort = (): void => finish(closedError());
    const timer = setTimeout(() => finish(timeoutError('connect', options.timeoutMs)), options.timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    connect.on('error', (error) => finish(error));
    connect.once('connect', (answer: http.IncomingMessage, raw: Duplex, head: Buffer) => {
      socket = raw;
      if (answer.statusCode !== 200) {
        finish(Object.assign(new Error(`the proxy answered CONNECT ${target} with ${answer.statusCode} ${answer.statusMessage ?? ''}`.trimEnd()), {
          code: 'SLIPWAY_PROXY_REFUSED',
        }));
        return;
      }
      if (head.length > 0) raw.unshift(head);
      // Node's typings lack the high-water mark tls.connect() passes on to the socket it makes.
      const tlsOptions: tls.ConnectionOptions & { highWaterMark: number } = {
        socket: raw,
        servername: options.servername,
        rejectUnauthorized: options.rejectUnauthorized,
        highWaterMark: options.highWaterMark,
        ALPNProtocols: ['http/1.1'],
      };
      const secured = tls.connect(tlsOptions);
      socket = secured;
      secured.once('secureConnect', () => finish(undefined, secured));
      secured.on('error', (error) => finish(error));
    });
    if (signal.aborted) onAbort();
    else connect.end();
  });
}
