import { describe, it, expect } from 'vitest';

import {
  formatScope,
  formatScopes,
  mergeScopes,
  parseScope,
  parseWwwAuthenticate,
} from '../../src/registry/auth/challenge.js';

describe('parseWwwAuthenticate', () => {
  it('parses a single bearer challenge as registries send it', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/alpine:pull',
        },
      },
    ]);
  });

  it('parses several challenges in one header', () => {
    expect(
      parseWwwAuthenticate('Bearer realm="https://a/token",service="reg",scope="repository:x:pull", Basic realm="r"'),
    ).toEqual([
      { scheme: 'bearer', params: { realm: 'https://a/token', service: 'reg', scope: 'repository:x:pull' } },
      { scheme: 'basic', params: { realm: 'r' } },
    ]);
  });

  it('accepts several header lines', () => {
    expect(parseWwwAuthenticate(['Basic realm="a"', 'Bearer realm="b"']).map((c) => c.scheme)).toEqual(['basic', 'bearer']);
  });

  it('keeps commas and escaped quotes inside quoted strings', () => {
    expect(parseWwwAuthenticate('Bearer scope="repository:a:pull,push", realm="say \\"hi\\", \\\\ ok"')).toEqual([
      { scheme: 'bearer', params: { scope: 'repository:a:pull,push', realm: 'say "hi", \\ ok' } },
    ]);
  });

  it('lowercases scheme and parameter names but not values', () => {
    expect(parseWwwAuthenticate('BEARER Realm="HTTPS://A/Token", SERVICE=Reg')).toEqual([
      { scheme: 'bearer', params: { realm: 'HTTPS://A/Token', service: 'Reg' } },
    ]);
  });

  it('accepts unquoted tokens and odd spacing', () => {
    expect(parseWwwAuthenticate('  Bearer   realm = "x" ,  service=y,,  error=invalid_token ,Basic  realm=z  ')).toEqual([
      { scheme: 'bearer', params: { realm: 'x', service: 'y', error: 'invalid_token' } },
      { scheme: 'basic', params: { realm: 'z' } },
    ]);
  });

  it('reads an unquoted URL as one value', () => {
    expect(parseWwwAuthenticate('Bearer realm=https://auth.example/token?x=1,service=s')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.example/token?x=1', service: 's' } },
    ]);
  });

  it('parses the token68 form', () => {
    expect(parseWwwAuthenticate('Negotiate abc+/def==, Basic realm="r"')).toEqual([
      { scheme: 'negotiate', params: {}, token68: 'abc+/def==' },
      { scheme: 'basic', params: { realm: 'r' } },
    ]);
    expect(parseWwwAuthenticate('NewAuth token')).toEqual([{ scheme: 'newauth', params: {}, token68: 'token' }]);
  });

  it('parses challenges without parameters', () => {
    expect(parseWwwAuthenticate('Basic, Bearer realm="x"')).toEqual([
      { scheme: 'basic', params: {} },
      { scheme: 'bearer', params: { realm: 'x' } },
    ]);
    expect(parseWwwAuthenticate('Basic')).toEqual([{ scheme: 'basic', params: {} }]);
  });

  it('keeps the first of duplicate parameters and treats __proto__ as a plain key', () => {
    const [challenge] = parseWwwAuthenticate('Bearer realm="a", realm="b", __proto__="p"');
    expect(challenge?.params.realm).toBe('a');
    expect(Object.getPrototypeOf(challenge?.params)).toBe(Object.prototype);
    expect(Object.keys(challenge?.params ?? {})).toContain('__proto__');
  });

  it('tolerates a missing comma between parameters', () => {
    expect(parseWwwAuthenticate('Bearer realm="a" service="b"')).toEqual([
      { scheme: 'bearer', params: { realm: 'a', service: 'b' } },
    ]);
  });

  it('never throws on garbage and keeps what it can parse', () => {
    const garbage = ['', ',,,', '"', '=', '===,==', 'Bearer realm="unterminated', '\u0000\u00ff', '@@@, Basic realm="r"', 'Bearer realm=', 'Bearer =x'];
    for (const header of garbage) expect(() => parseWwwAuthenticate(header)).not.toThrow();
    expect(parseWwwAuthenticate('')).toEqual([]);
    expect(parseWwwAuthenticate('Bearer realm="unterminated, service=x')).toEqual([
      { scheme: 'bearer', params: { realm: 'unterminated, service=x' } },
    ]);
    expect(parseWwwAuthenticate('@@@ "a,b", Basic realm="r"')).toEqual([{ scheme: 'basic', params: { realm: 'r' } }]);
    expect(parseWwwAuthenticate('Bearer realm=, service="s"')).toEqual([
      { scheme: 'bearer', params: { realm: '', service: 's' } },
    ]);
  });

  it('survives random input', () => {
    const alphabet = 'aB =,"\\\t/:;=x';
    let seed = 42;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648);
    for (let n = 0; n < 2000; n++) {
      let header = '';
      const length = next() % 40;
      for (let i = 0; i < length; i++) header += alphabet[next() % alphabet.length];
      expect(() => parseWwwAuthenticate(header)).not.toThrow();
    }
  });
});

describe('scopes', () => {
  it('parses type, name and actions', () => {
    expect(parseScope('repository:library/alpine:pull,push')).toEqual({
      type: 'repository',
      name: 'library/alpine',
      actions: ['pull', 'push'],
    });
    expect(parseScope('registry:catalog:*')).toEqual({ type: 'registry', name: 'catalog', actions: ['*'] });
    expect(parseScope('repository(plugin):vieux/sshfs:pull')).toEqual({
      type: 'repository(plugin)',
      name: 'vieux/sshfs',
      actions: ['pull'],
    });
    // The token spec allows a host:port prefix in a name.
    expect(parseScope('repository:localhost:5000/app:pull')?.name).toBe('localhost:5000/app');
  });

  it('rejects malformed scopes', () => {
    expect(parseScope('repository')).toBeUndefined();
    expect(parseScope('repository:name')).toBeUndefined();
    expect(parseScope(':name:pull')).toBeUndefined();
    expect(parseScope('repository::pull')).toBeUndefined();
  });

  it('formats with sorted, unique actions', () => {
    expect(formatScope({ type: 'repository', name: 'a', actions: ['push', 'pull', 'push'] })).toBe('repository:a:pull,push');
  });

  it('merges actions per resource and sorts deterministically', () => {
    const merged = mergeScopes([
      'repository:b/app:push',
      'repository:a/app:pull',
      'repository:b/app:pull',
      'registry:catalog:*',
      'repository:a/app:pull',
    ]);
    expect(merged).toEqual(['registry:catalog:*', 'repository:a/app:pull', 'repository:b/app:pull,push']);
    expect(mergeScopes(['repository:b/app:pull', 'repository:a/app:pull', 'repository:b/app:push'])).toEqual(
      mergeScopes(['repository:a/app:pull', 'repository:b/app:push,pull']),
    );
  });

  it('splits space-separated scopes and keeps unknown ones once', () => {
    expect(mergeScopes(['repository:a:pull repository:a:push', 'weird', 'weird', '  '])).toEqual([
      'repository:a:pull,push',
      'weird',
    ]);
  });

  it('merges structured scopes', () => {
    expect(
      formatScopes([
        { type: 'repository', name: 'x', actions: ['push'] },
        { type: 'repository', name: 'x', actions: ['pull'] },
        { type: 'repository(plugin)', name: 'x', actions: ['pull'] },
      ]),
    ).toEqual(['repository(plugin):x:pull', 'repository:x:pull,push']);
  });

  it('does not mutate its input', () => {
    const scope = { type: 'repository', name: 'x', actions: ['push'] };
    formatScopes([scope, { type: 'repository', name: 'x', actions: ['pull'] }]);
    expect(scope.actions).toEqual(['push']);
  });
});
