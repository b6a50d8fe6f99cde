import { describe, expect, it } from 'vitest';

import { formatURL, hostname, parseURL } from '../../src/go/url.js';

// Expected values are Go's: net/url's url_test.go (go1.23) and sprig v3.2.3's url_test.go.

describe('url.Parse and URL.String', () => {
  it.each([
    ['http://www.google.com', { scheme: 'http', host: 'www.google.com', path: '' }],
    ['http://www.google.com/file%20one%26two', { scheme: 'http', host: 'www.google.com', path: '/file one&two', rawPath: '/file%20one%26two' }],
    ['ftp://webmaster@www.google.com/', { scheme: 'ftp', host: 'www.google.com', path: '/' }],
    ['http://www.google.com/?q=go+language#foo%26bar', { rawQuery: 'q=go+language', fragment: 'foo&bar', rawFragment: 'foo%26bar' }],
    ['mailto:webmaster@golang.org', { scheme: 'mailto', opaque: 'webmaster@golang.org' }],
    ['HTTP://www.google.com/', { scheme: 'http' }],
    ['http://[fe80::1%25en0]:8080/', { host: '[fe80::1%en0]:8080' }],
    ['file:///home/user', { scheme: 'file', host: '', path: '/home/user', omitHost: false }],
    ['a/b/c', { path: 'a/b/c' }],
  ])('%s', (raw, fields) => {
    expect(parseURL(raw)).toMatchObject(fields);
  });

  it.each([
    'http://www.google.com/file%20one%26two',
    'http://www.google.com/?q=go+language#foo%26bar',
    'mailto:webmaster@golang.org',
    'http://user:password@host/',
    'http://[fe80::1%25en0]:8080/',
    'file:///home/user',
    'a/b/c',
  ])('String() gives back %s', (raw) => {
    expect(formatURL(parseURL(raw))).toBe(raw);
  });

  it('Hostname drops the port and IPv6 brackets', () => {
    expect(hostname(parseURL('http://[::1]:80/'))).toBe('::1');
    expect(hostname(parseURL('proto://auth@host:80/path'))).toBe('host');
  });

  it.each([
    ['http://[::1]a', 'parse "http://[::1]a": invalid port "a" after host'],
    [':foo', 'parse ":foo": missing protocol scheme'],
    ['a:b/c:d', ''],
    ['/a:b%zz', 'parse "/a:b%zz": invalid URL escape "%zz"'],
    ['http://a b.com/', 'parse "http://a b.com/": invalid character " " in host name'],
    ['1http://foo', 'parse "1http://foo": first path segment in URL cannot contain colon'],
    ['http://\x7f', 'parse "http://\\x7f": net/url: invalid control character in URL'],
  ])('%s', (raw, message) => {
    if (message === '') expect(() => parseURL(raw)).not.toThrow();
    else expect(() => parseURL(raw)).toThrow(message);
  });
});
