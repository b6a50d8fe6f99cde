import { describe, expect, it } from 'vitest';
import { formatReference, isLoopbackRegistry, parseReference, parseRepository } from '../../src/oci/reference.js';
import { InvalidInputError } from '../../src/errors.js';

describe('parseReference', () => {
  it.each([
    ['alpine', { registry: 'index.docker.io', repository: 'library/alpine' }],
    ['alpine:3.20', { registry: 'index.docker.io', repository: 'library/alpine', tag: '3.20' }],
    ['docker.io/alpine', { registry: 'index.docker.io', repository: 'library/alpine' }],
    ['docker.io/bitnami/redis:7', { registry: 'index.docker.io', repository: 'bitnami/redis', tag: '7' }],
    ['bitnami/redis', { registry: 'index.docker.io', repository: 'bitnami/redis' }],
    ['localhost/app', { registry: 'localhost', repository: 'app' }],
    ['localhost:5000/a/b:c', { registry: 'localhost:5000', repository: 'a/b', tag: 'c' }],
    ['127.0.0.1:5000/app@sha256:' + 'a'.repeat(64), { registry: '127.0.0.1:5000', repository: 'app', digest: 'sha256:' + 'a'.repeat(64) }],
    ['example.org/mycompany/myproject/backend:latest', { registry: 'example.org', repository: 'mycompany/myproject/backend', tag: 'latest' }],
    ['ghcr.io/o/r:t@sha256:' + 'b'.repeat(64), { registry: 'ghcr.io', repository: 'o/r', tag: 't', digest: 'sha256:' + 'b'.repeat(64) }],
    ['[::1]:5000/app', { registry: '[::1]:5000', repository: 'app' }],
    ['my_user/my-app__x.y', { registry: 'index.docker.io', repository: 'my_user/my-app__x.y' }],
  ])('%s', (input, expected) => {
    expect(parseReference(input)).toEqual(expected);
  });

  it.each([
    ['Example/App', 'must be lowercase (component "Example")'],
    ['example.org/Team/app', 'must be lowercase (component "Team")'],
    ['example.org/app:-bad', 'tag "-bad"'],
    ['example.org/app:' + 'x'.repeat(129), 'tag "'],
    ['example.org//app', 'empty path component'],
    ['example.org/app-', 'path component "app-"'],
    ['example.org/app@sha256', 'digest "sha256"'],
    ['exa_mple.org:5000/app', 'registry host'],
    ['example.org:port/app', 'registry port "port"'],
    ['', 'empty'],
  ])('rejects %s naming the offending part', (input, part) => {
    expect(() => parseReference(input)).toThrow(InvalidInputError);
    expect(() => parseReference(input)).toThrow(part);
  });

  it('formats back to the normalised form', () => {
    expect(formatReference(parseReference('docker.io/alpine:3'))).toBe('index.docker.io/library/alpine:3');
    expect(formatReference(parseReference('localhost:5000/a@sha256:' + 'c'.repeat(64)))).toBe('localhost:5000/a@sha256:' + 'c'.repeat(64));
  });

  it('parseRepository refuses a tag', () => {
    expect(parseRepository('example.org/a/b')).toEqual({ registry: 'example.org', repository: 'a/b' });
    expect(() => parseRepository('example.org/a/b:latest')).toThrow('without a tag or digest');
  });

  it('knows loopback registries', () => {
    expect(isLoopbackRegistry('127.0.0.1:5000')).toBe(true);
    expect(isLoopbackRegistry('localhost')).toBe(true);
    expect(isLoopbackRegistry('[::1]:5000')).toBe(true);
    expect(isLoopbackRegistry('example.org')).toBe(false);
    expect(isLoopbackRegistry('10.0.0.1:5000')).toBe(false);
  });
});
