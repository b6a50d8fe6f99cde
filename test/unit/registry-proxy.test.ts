// Which proxy a request takes (curl's variables and no_proxy rules; src/registry/proxy.ts), and how it goes through it.
import { describe, expect, it } from 'vitest';
import { announcesKeepAlive } from '../../src/registry/connections.js';
import { describeProxy, proxyAuthorization, proxyFor, proxySettingsFromEnv } from '../../src/registry/proxy.js';
import { authority, serverName, socketHost } from '../../src/registry/tunnel.js';
import { isRetryableNetworkError, isTimeoutError } from '../../src/registry/http.js';

const at = (url: string, env: Record<string, string>): string | undefined => proxyFor(new URL(url), proxySettingsFromEnv(env));

describe('proxy settings', () => {
  it('takes http_proxy for http and https_proxy for https, lower case first, all_proxy as the fallback', () => {
    const env = { http_proxy: 'http://h:1', HTTP_PROXY: 'http://upper:1', HTTPS_PROXY: 's:2' };
    expect(at('http://r.example/v2/', env)).toBe('http://h:1');
    expect(at('https://r.example/v2/', env)).toBe('http://s:2');
    expect(at('https://r.example/v2/', { HTTP_PROXY: 'http://h:1' })).toBeUndefined();
    expect(at('https://r.example/v2/', { ALL_PROXY: 'http://a:3' })).toBe('http://a:3');
    expect(at('https://r.example/v2/', {})).toBeUndefined();
  });

  it('lets no_proxy decide: names, domains, addresses, CIDR, ports and *, and nothing special about loopback', () => {
    const base = { https_proxy: 'http://p:1', http_proxy: 'http://p:1' };
    expect(at('http://127.0.0.1:5000/v2/', base)).toBe('http://p:1');
    expect(at('http://localhost:5000/v2/', base)).toBe('http://p:1');
    expect(at('http://127.0.0.1:5000/v2/', { ...base, no_proxy: '127.0.0.1' })).toBeUndefined();
    expect(at('https://a.example.org/v2/', { ...base, NO_PROXY: 'example.org' })).toBeUndefined();
    expect(at('https://a.example.org/v2/', { ...base, NO_PROXY: '.example.org' })).toBeUndefined();
    expect(at('https://example.org/v2/', { ...base, NO_PROXY: '.example.org' })).toBeUndefined();
    expect(at('https://badexample.org/v2/', { ...base, NO_PROXY: 'example.org' })).toBe('http://p:1');
    expect(at('http://10.1.2.3/v2/', { ...base, no_proxy: '10.0.0.0/8' })).toBeUndefined();
    expect(at('http://11.1.2.3/v2/', { ...base, no_proxy: '10.0.0.0/8' })).toBe('http://p:1');
    expect(at('http://r.example:5000/v2/', { ...base, no_proxy: 'r.example:5000' })).toBeUndefined();
    expect(at('http://r.example:5001/v2/', { ...base, no_proxy: 'r.example:5000' })).toBe('http://p:1');
    expect(at('http://[::1]:5000/v2/', { ...base, no_proxy: '::1' })).toBeUndefined();
    expect(at('https://anything/v2/', { ...base, no_proxy: ' x.org , * ' })).toBeUndefined();
  });

  it('describes a proxy without its credentials', () => {
    expect(describeProxy('http://user:secret@proxy.example:3128')).toBe('http://proxy.example:3128');
  });
});

describe('retry decisions', () => {
  const withCode = (code: string): Error => Object.assign(new Error(code), { code });
  it('retries broken connections and timeouts, not refusals or names that do not resolve', () => {
    for (const code of ['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'SLIPWAY_HEADERS_TIMEOUT', 'SLIPWAY_BODY_TIMEOUT', 'SLIPWAY_CONNECT_TIMEOUT']) {
      expect(isRetryableNetworkError(new Error('wrapped', { cause: withCode(code) })), code).toBe(true);
    }
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'CERT_HAS_EXPIRED']) expect(isRetryableNetworkError(withCode(code)), code).toBe(false);
    expect(isTimeoutError(withCode('SLIPWAY_HEADERS_TIMEOUT'))).toBe(true);
    expect(isTimeoutError(withCode('ECONNRESET'))).toBe(false);
  });
});

describe('how a request goes through a proxy', () => {
  it('sends the proxy URL\'s user:password as Basic Proxy-Authorization, percent-decoded', () => {
    expect(proxyAuthorization(new URL('http://proxy.example:3128'))).toBeUndefined();
    expect(proxyAuthorization(new URL('http://al%40ice:p%3Ass@proxy.example:3128'))).toBe(`Basic ${Buffer.from('al@ice:p:ss').toString('base64')}`);
  });

  it('names the target of a CONNECT in authority form, an IPv6 address in brackets', () => {
    expect(authority('registry.example', 443)).toBe('registry.example:443');
    expect(authority('::1', 5000)).toBe('[::1]:5000');
    expect(socketHost(new URL('https://[::1]:5000/v2/'))).toBe('::1');
    expect(serverName('127.0.0.1')).toBe('');
    expect(serverName('registry.example')).toBe('registry.example');
  });

  it('reuses a forwarding proxy\'s connection only when its answer says it stays open', () => {
    expect(announcesKeepAlive({})).toBe(false);
    expect(announcesKeepAlive({ connection: 'close' })).toBe(false);
    expect(announcesKeepAlive({ connection: 'Keep-Alive' })).toBe(true);
    expect(announcesKeepAlive({ 'proxy-connection': 'keep-alive' })).toBe(true);
    expect(announcesKeepAlive({ connection: 'upgrade, keep-alive' })).toBe(true);
  });
});
