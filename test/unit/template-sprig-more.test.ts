import { execFileSync } from 'node:child_process';
import { X509Certificate, createDecipheriv } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { render, renderErrorMessage } from '../support/template.js';

// sprig v3.2.3's functions as werf links them. Expected outputs are Go's, from sprig's own tests (date_test.go,
// strings_test.go, crypto_test.go, semver_test.go, url_test.go, numeric_test.go), xstrings v1.4.0's convert_test.go
// and goutils v1.1.1's tests; random and key outputs are checked by shape and by independent tools (openssl,
// htpasswd), as sprig's tests check them.

const savedTZ = process.env['TZ'];
afterEach(() => {
  if (savedTZ === undefined) delete process.env['TZ'];
  else process.env['TZ'] = savedTZ;
});

const dir = mkdtempSync(join(tmpdir(), 'slipway-sprig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dates', () => {
  it('date, dateInZone, date_in_zone, htmlDate, htmlDateInZone', () => {
    process.env['TZ'] = 'UTC';
    expect(render('{{toDate "2006-01-02" "2017-12-31" | date "02/01/2006"}}')).toBe('31/12/2017');
    expect(render('{{ date_in_zone "02 Jan 06 15:04 -0700" .T "UTC" }}', { T: 1560458379 })).toBe('13 Jun 19 20:39 +0000');
    expect(render('{{ dateInZone "02 Jan 06 15:04 -0700" .T "UTC" }}', { T: 1560458379n })).toBe('13 Jun 19 20:39 +0000');
    // An unknown zone is UTC.
    expect(render('{{ date_in_zone "02 Jan 06 15:04 -0700" 1560458379 "foobar" }}')).toBe('13 Jun 19 20:39 +0000');
    expect(render('{{ dateInZone "Mon Jan _2 15:04:05 MST 2006" 1560458379 "America/New_York" }}')).toBe('Thu Jun 13 16:39:39 EDT 2019');
    expect(render('{{ htmlDate 0 }} {{ htmlDateInZone 0 "Asia/Tokyo" }}')).toBe('1970-01-01 1970-01-01');
    process.env['TZ'] = 'America/Los_Angeles';
    expect(render('{{ htmlDate 0 }} {{ date "15:04 MST" 0 }}')).toBe('1969-12-31 16:00 PST');
    // Anything but a time or an integer is now.
    expect(render('{{ date "2006" "x" }}')).toBe(String(new Date().getFullYear()));
  });

  it('now, toDate, mustToDate and time.Time printing and methods', () => {
    process.env['TZ'] = 'UTC';
    expect(render('{{ now }}')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC m=\+\d+\.\d{9}$/);
    expect(render('{{ typeOf now }} {{ kindOf now }}')).toBe('time.Time struct');
    expect(render('{{ toDate "2006-01-02" "2017-12-31" }}')).toBe('2017-12-31 00:00:00 +0000 UTC');
    expect(render('{{ toDate "2006-01-02" "nope" }}')).toBe('0001-01-01 00:00:00 +0000 UTC');
    expect(renderErrorMessage('{{ mustToDate "2006-01-02" "nope" }}')).toBe(
      'werf.yaml:1:1: error calling mustToDate: parsing time "nope" as "2006-01-02": cannot parse "nope" as "2006"',
    );
    expect(render('{{ $t := toDate "2006-01-02" "2017-12-31" }}{{ $t.Year }} {{ $t.Month }} {{ $t.Day }} {{ $t.Weekday }} {{ $t.Format "Jan 2" }}')).toBe(
      '2017 December 31 Sunday Dec 31',
    );
    expect(render('{{ toDate "2006-01-02" "2017-12-31" | toJson }}')).toBe('"2017-12-31T00:00:00Z"');
  });

  it('unixEpoch (sprig: 13 Jun 19 20:39:39 GMT is 1560458379)', () => {
    expect(render('{{ unixEpoch (toDate "02 Jan 06 15:04:05 MST" "13 Jun 19 20:39:39 GMT") }}')).toBe('1560458379');
    expect(renderErrorMessage('{{ unixEpoch 5 }}')).toBe('werf.yaml:1:1: wrong type for value; expected time.Time; got int');
  });

  it('dateModify, date_modify, mustDateModify, must_date_modify', () => {
    const t = '(toDate "2006-01-02" "2017-12-31")';
    expect(render(`{{ ${t} | dateModify "1.5h" | date "2006-01-02 15:04" }}`)).toBe('2017-12-31 01:30');
    expect(render(`{{ ${t} | date_modify "-24h" | date "2006-01-02" }}`)).toBe('2017-12-30');
    expect(render(`{{ ${t} | dateModify "1d" | date "2006-01-02" }}`)).toBe('2017-12-31');
    expect(renderErrorMessage(`{{ ${t} | mustDateModify "1d" }}`)).toBe('werf.yaml:1:1: error calling mustDateModify: time: unknown unit "d" in duration "1d"');
    expect(render(`{{ ${t} | must_date_modify "90m" | date "15:04" }}`)).toBe('01:30');
  });

  it('ago (sprig: 2m5s, 2h34m17s, -5s)', () => {
    expect(render('{{ ago (now | dateModify "-125s") }}')).toBe('2m5s');
    expect(render('{{ ago (now | dateModify "-9257s") }}')).toBe('2h34m17s');
    expect(render('{{ ago (now | dateModify "5s") }}')).toBe('-5s');
    expect(render('{{ ago 0 }}')).toMatch(/^\d+h\d+m\d+s$/);
  });

  it('duration (sprig: 1m1s, 1h0m0s, 26h3m4s) and durationRound (2h, 1d, 3mo)', () => {
    expect(render('{{ duration "61" }} {{ duration "3600" }} {{ duration "93784" }} {{ duration "x" }}')).toBe('1m1s 1h0m0s 26h3m4s 0s');
    expect(render('{{ duration (int64 90) }}')).toBe('1m30s');
    expect(render('{{ durationRound "2h5s" }} {{ durationRound "24h5s" }} {{ durationRound "2400h5s" }} {{ durationRound "x" }}')).toBe('2h 1d 3mo 0s');
    expect(render('{{ durationRound "-9000h" }} {{ durationRound (int64 1500000000) }}')).toBe('1y 1s');
  });
});

describe('strings', () => {
  it('abbrev and abbrevboth (sprig and goutils)', () => {
    expect(render('{{ abbrev 5 "hello world" }} {{ abbrevboth 5 10 "1234 5678 9123" }}')).toBe('he... ...5678...');
    const full: [number, string][] = [
      [-1, 'abcdefg...'],
      [0, 'abcdefg...'],
      [1, 'abcdefg...'],
      [4, 'abcdefg...'],
      [5, '...fghi...'],
      [6, '...ghij...'],
      [8, '...ijklmno'],
      [10, '...ijklmno'],
      [12, '...ijklmno'],
    ];
    for (const [offset, want] of full) expect(render(`{{ abbrevboth ${offset} 10 "abcdefghijklmno" }}`)).toBe(want);
    expect(render('{{ abbrev 6 "abcdefg" }} {{ abbrev 7 "abcdefg" }} {{ abbrev 4 "abcdefg" }} {{ abbrev 3 "abcdefg" }}')).toBe('abc... abcdefg a... abcdefg');
    expect(render('{{ abbrevboth 5 6 "abcdefghij" }}')).toBe('abcdefghij');
  });

  it('wrap and wrapWith (sprig and goutils)', () => {
    expect(render('{{ wrap 5 "Hello World" }}')).toBe('Hello\nWorld');
    expect(render('{{ wrapWith 5 "\\t" "Hello World" }}')).toBe('Hello\tWorld');
    expect(render('{{ wrap 10 "Bob Manuel Bob Manuel" }}')).toBe('Bob Manuel\nBob Manuel');
    expect(render('{{ wrap 20 "Here is one line of text that is going to be wrapped after 20 columns." }}')).toBe(
      'Here is one line of\ntext that is going\nto be wrapped after\n20 columns.',
    );
    expect(render('{{ wrap 20 "Click here, http://commons.apache.org, to jump to the commons website" }}')).toBe(
      'Click here,\nhttp://commons.apache.org,\nto jump to the\ncommons website',
    );
    expect(render('{{ wrapWith 10 "<br\\\\>" "BobManuelBob Bob" }}')).toBe('BobManuelB<br\\>ob Bob');
    expect(render('{{ wrapWith 11 "\\n" "123456789_123456789_123456789_123456789_1234567890" }}')).toBe(
      '123456789_1\n23456789_12\n3456789_123\n456789_1234\n567890',
    );
  });

  const snake: [string, string][] = [
    ['HTTPServer', 'http_server'],
    ['_camelCase', '_camel_case'],
    ['NoHTTPS', 'no_https'],
    ['Wi_thF', 'wi_th_f'],
    ['_AnotherTES_TCaseP', '_another_tes_t_case_p'],
    ['ALL', 'all'],
    ['_HELLO_WORLD_', '_hello_world_'],
    ['HELLO_WORLD', 'hello_world'],
    ['HELLO____WORLD', 'hello____world'],
    ['TW', 'tw'],
    ['_C', '_c'],
    ['http2xx', 'http_2xx'],
    ['HTTP2XX', 'http2_xx'],
    ['HTTP20xOK', 'http_20x_ok'],
    ['HTTP20xStatus', 'http_20x_status'],
    ['HTTP-20xStatus', 'http_20x_status'],
    ['a', 'a'],
    ['Duration2m3s', 'duration_2m3s'],
    ['Bld4Floor3rd', 'bld4_floor_3rd'],
    [' _-_ ', '_____'],
    ['a1b2c3d', 'a_1b2c3d'],
    ['A//B%%2c', 'a//b%%2c'],
    ['HTTP状态码404/502Error', 'http_状态码404/502_error'],
    ['中文(字符)', '中文(字符)'],
    ['混合ABCWords与123数字456', '混合_abc_words_与123_数字456'],
    ['  sentence case  ', '__sentence_case__'],
    [' Mixed-hyphen case _and SENTENCE_case and UPPER-case', '_mixed_hyphen_case__and_sentence_case_and_upper_case'],
    ['FROM CamelCase to snake/kebab-case', 'from_camel_case_to_snake/kebab_case'],
    ['', ''],
    ['Abc\uFFFDE\uFFFDf\uFFFDd\uFFFD2\uFFFD00z\uFFFDZZ\uFFFDZZ', 'abc_\uFFFDe\uFFFDf\uFFFDd_\uFFFD2\uFFFD00z_\uFFFDzz\uFFFDzz'],
    ['\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD', '\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD'],
    ['abc_123_def', 'abc_123_def'],
  ];
  it.each(snake)('snakecase and kebabcase %j (xstrings v1.4.0)', (input, want) => {
    expect(render('{{ snakecase .s }}', { s: input })).toBe(want);
    expect(render('{{ kebabcase .s }}', { s: input })).toBe(want.replace(/_/g, '-'));
  });

  it.each([
    ['http_server', 'HttpServer'],
    ['_camel_case', '_CamelCase'],
    ['no_https', 'NoHttps'],
    ['_complex__case_', '_Complex_Case_'],
    [' complex -case ', ' Complex Case '],
    ['all', 'All'],
    ['GOLANG_IS_GREAT', 'GOLANGISGREAT'],
    ['GOLANG', 'GOLANG'],
    ['a', 'A'],
    ['好', '好'],
    ['FROM CamelCase to snake/kebab-case', 'FROMCamelCaseToSnake/kebabCase'],
    ['', ''],
  ])('camelcase %j (xstrings v1.4.0)', (input, want) => {
    expect(render('{{ camelcase .s }}', { s: input })).toBe(want);
  });

  it('shuffle keeps the runes', () => {
    const out = render('{{ shuffle "Hello World" }}');
    expect(Array.from(out).sort()).toEqual(Array.from('Hello World').sort());
  });

  it('randAlphaNum, randAlpha, randNumeric, randAscii, randInt, randBytes', () => {
    expect(render('{{ randAlphaNum 50 }}')).toMatch(/^[A-Za-z0-9]{50}$/);
    expect(render('{{ randAlpha 50 }}')).toMatch(/^[A-Za-z]{50}$/);
    expect(render('{{ randNumeric 50 }}')).toMatch(/^[0-9]{50}$/);
    expect(render('{{ randAscii 50 }}')).toMatch(/^[\x20-\x7e]{50}$/);
    expect(render('{{ randAlpha 0 }}|{{ randAlpha -1 }}')).toBe('|');
    for (const [min, max] of [[10, 11], [10, 13], [0, 1], [5, 50]] as const) {
      const r = Number(render(`{{ randInt ${min} ${max} }}`));
      expect(r >= min && r < max).toBe(true);
    }
    expect(renderErrorMessage('{{ randInt 5 5 }}')).toBe('werf.yaml:1:1: error calling randInt: invalid argument to Intn');
    expect(Buffer.from(render('{{ randBytes 12 }}'), 'base64')).toHaveLength(12);
  });

  it('hello', () => {
    expect(render('{{ hello }}')).toBe('Hello!');
  });
});

describe('URLs and network', () => {
  const urlTests: Record<string, Record<string, string>> = {
    'proto://auth@host:80/path?query#fragment': { fragment: 'fragment', host: 'host:80', hostname: 'host', opaque: '', path: '/path', query: 'query', scheme: 'proto', userinfo: 'auth' },
    'proto://host:80/path': { fragment: '', host: 'host:80', hostname: 'host', opaque: '', path: '/path', query: '', scheme: 'proto', userinfo: '' },
    something: { fragment: '', host: '', hostname: '', opaque: '', path: 'something', query: '', scheme: '', userinfo: '' },
    'proto://user:passwor%20d@host:80/path': { fragment: '', host: 'host:80', hostname: 'host', opaque: '', path: '/path', query: '', scheme: 'proto', userinfo: 'user:passwor%20d' },
    'proto://host:80/pa%20th?key=val%20ue': { fragment: '', host: 'host:80', hostname: 'host', opaque: '', path: '/pa th', query: 'key=val%20ue', scheme: 'proto', userinfo: '' },
  };
  it.each(Object.entries(urlTests))('urlParse %s (sprig)', (url, want) => {
    expect(JSON.parse(render('{{ urlParse .u | toJson }}', { u: url }))).toEqual(want);
  });

  it('urlParse failures and urlJoin (sprig)', () => {
    expect(render('{{ index ( urlParse "proto://auth@host:80/path?query#fragment" ) "host" }}')).toBe('host:80');
    expect(renderErrorMessage('{{ urlParse ":x" }}')).toBe('werf.yaml:1:1: error calling urlParse: unable to parse url: parse ":x": missing protocol scheme');
    expect(render('{{ urlJoin (dict "fragment" "fragment" "host" "host:80" "path" "/path" "query" "query" "scheme" "proto") }}')).toBe(
      'proto://host:80/path?query#fragment',
    );
    expect(render('{{ urlJoin (dict "fragment" "fragment" "host" "host:80" "path" "/path" "scheme" "proto" "userinfo" "ASDJKJSD") }}')).toBe(
      'proto://ASDJKJSD@host:80/path#fragment',
    );
    expect(render('{{ urlJoin (dict "scheme" "https" "host" "h" "path" "/a b" "userinfo" "u:p%20w") }}')).toBe('https://u:p%20w@h/a%20b');
    expect(renderErrorMessage('{{ urlJoin (dict "host" 5) }}')).toBe('werf.yaml:1:1: error calling urlJoin: unable to parse host key, must be of type string, but int found');
  });

  it('getHostByName resolves through the system resolver (localhost: /etc/hosts, no traffic off loopback)', () => {
    expect(['127.0.0.1', '::1']).toContain(render('{{ getHostByName "localhost" }}'));
  });
});

describe('semver (sprig)', () => {
  it('semverCompare', () => {
    expect(render('{{ semverCompare "1.2.3" "1.2.3" }} {{ semverCompare "^1.2.0" "1.2.3" }} {{ semverCompare "^1.2.0" "2.2.3" }}')).toBe('true true false');
    expect(renderErrorMessage('{{ semverCompare "> bar" "1.2.3" }}')).toBe('werf.yaml:1:1: error calling semverCompare: improper constraint: > bar');
  });

  it('semver and its methods', () => {
    expect(render('{{ $s := semver "1.2.3-beta.1+c0ff33" }}{{ $s.Prerelease }}')).toBe('beta.1');
    expect(render('{{ $s := semver "1.2.3-beta.1+c0ff33" }}{{ $s.Major}}')).toBe('1');
    expect(render('{{ semver "1.2.3" | (semver "1.2.3").Compare }}')).toBe('0');
    expect(render('{{ semver "1.2.3" | (semver "1.3.3").Compare }}')).toBe('1');
    expect(render('{{ semver "1.4.3" | (semver "1.2.3").Compare }}')).toBe('-1');
    expect(render('{{ semver "v1.2.3" }} {{ typeOf (semver "1.0.0") }} {{ (semver "1.2.3").IncMinor }}')).toBe('1.2.3 *semver.Version 1.3.0');
    expect(renderErrorMessage('{{ semver "1.x" }}')).toBe('werf.yaml:1:1: error calling semver: Invalid Semantic Version');
  });
});

describe('crypto', () => {
  const htpasswdCheck = (hash: string, user: string, password: string): boolean => {
    const file = join(dir, 'htpasswd');
    writeFileSync(file, `${user}:${hash}\n`);
    try {
      execFileSync('htpasswd', ['-vb', file, user, password], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };

  it('bcrypt and htpasswd (checked by Apache htpasswd)', () => {
    const hash = render('{{ "abc" | bcrypt }}');
    expect(hash).toMatch(/^\$2a\$10\$[./A-Za-z0-9]{53}$/);
    expect(htpasswdCheck(hash, 'u', 'abc')).toBe(true);
    expect(htpasswdCheck(hash, 'u', 'abd')).toBe(false);
    for (const [user, password] of [['myUser', 'myPassword'], ["special'o79Cv_*qFe,)<user", 'special<j7+3p#6-.Jx2U:m8G;kGypassword']]) {
      const out = render('{{ htpasswd .u .p }}', { u: user, p: password });
      const i = out.indexOf(':');
      expect(out.slice(0, i)).toBe(user);
      expect(htpasswdCheck(out.slice(i + 1), 'x', password!)).toBe(true);
    }
    expect(render('{{ htpasswd "wrongus:er" "x" }}')).toBe('invalid username: wrongus:er');
    expect(render('{{ bcrypt .p }}', { p: 'x'.repeat(73) })).toBe('failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes');
  });

  it('derivePassword (sprig)', () => {
    const want: Record<string, string> = {
      '{{derivePassword 1 "long" "password" "user" "example.com"}}': 'ZedaFaxcZaso9*',
      '{{derivePassword 2 "long" "password" "user" "example.com"}}': 'Fovi2@JifpTupx',
      '{{derivePassword 1 "maximum" "password" "user" "example.com"}}': 'pf4zS1LjCg&LjhsZ7T2~',
      '{{derivePassword 1 "medium" "password" "user" "example.com"}}': 'ZedJuz8$',
      '{{derivePassword 1 "basic" "password" "user" "example.com"}}': 'pIS54PLs',
      '{{derivePassword 1 "short" "password" "user" "example.com"}}': 'Zed5',
      '{{derivePassword 1 "pin" "password" "user" "example.com"}}': '6685',
      '{{derivePassword 1 "nope" "password" "user" "example.com"}}': 'cannot find password template nope',
    };
    for (const [tpl, out] of Object.entries(want)) expect(render(tpl)).toBe(out);
  });

  it('encryptAES and decryptAES (AES-256-CBC with a zero-padded key, as openssl decrypts it)', () => {
    expect(render('{{ encryptAES "secretkey" "plaintext" | decryptAES "secretkey" }}')).toBe('plaintext');
    expect(render('{{ encryptAES "secretkey" "" }}|{{ decryptAES "secretkey" "" }}')).toBe('|');
    const enc = Buffer.from(render('{{ encryptAES "secretkey" "some text that is longer than a block" }}'), 'base64');
    const key = Buffer.alloc(32);
    Buffer.from('secretkey').copy(key);
    const out = execFileSync('openssl', ['enc', '-d', '-aes-256-cbc', '-K', key.toString('hex'), '-iv', enc.subarray(0, 16).toString('hex')], { input: enc.subarray(16) });
    expect(out.toString()).toBe('some text that is longer than a block');
    // Sprig's own decrypt of a block made elsewhere.
    const d = createDecipheriv('aes-256-cbc', key, enc.subarray(0, 16));
    expect(Buffer.concat([d.update(enc.subarray(16)), d.final()]).toString()).toBe('some text that is longer than a block');
    expect(renderErrorMessage('{{ decryptAES "k" "!!!!" }}')).toBe('werf.yaml:1:1: error calling decryptAES: illegal base64 data at input byte 0');
  });

  it('genPrivateKey: the PEM types Go writes', () => {
    expect(render('{{ genPrivateKey "ecdsa" }}')).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n[\s\S]+\n-----END EC PRIVATE KEY-----\n$/);
    expect(render('{{ genPrivateKey "ed25519" }}')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(render('{{ genPrivateKey "foo" }}')).toBe('Unknown type foo');
    const rsa = render('{{ genPrivateKey "" }}');
    expect(rsa).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    const file = join(dir, 'rsa.pem');
    writeFileSync(file, rsa);
    expect(execFileSync('openssl', ['rsa', '-in', file, '-noout', '-text']).toString()).toMatch(/Private-Key: \(4096 bit/);
  }, 60_000);

  it('genPrivateKey "dsa": Go DSAKeyFormat (L2048N256), which openssl reads', () => {
    const dsa = render('{{ genPrivateKey "dsa" }}');
    expect(dsa).toMatch(/^-----BEGIN DSA PRIVATE KEY-----\n/);
    const file = join(dir, 'dsa.pem');
    writeFileSync(file, dsa);
    expect(execFileSync('openssl', ['dsa', '-in', file, '-noout', '-text'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString()).toMatch(/Private-Key: \(2048 bit/);
    // DSA keys sign no certificate in Go's x509.
    expect(renderErrorMessage('{{ genCAWithKey "x" 1 .k }}', { k: dsa })).toBe(
      'werf.yaml:1:1: error calling genCAWithKey: error creating certificate: x509: certificate private key does not implement crypto.Signer',
    );
  }, 120_000);

  const verify = (ca: string, cert: string): string => {
    writeFileSync(join(dir, 'ca.pem'), ca);
    writeFileSync(join(dir, 'cert.pem'), cert);
    return execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'cert.pem')]).toString().trim();
  };

  it('genCA, genSignedCert: a chain openssl verifies, with the fields Go writes', () => {
    const out = render(
      '{{ $ca := genCA "foo-ca" 365 }}{{ $cert := genSignedCert "foo.com" (list "10.0.0.1" "::1") (list "a.com" "b.com") 365 $ca }}' +
        '{{ $ca.Cert }}|{{ $ca.Key }}|{{ $cert.Cert }}|{{ $cert.Key }}',
    );
    const [caCert, caKey, cert, key] = out.split('|') as [string, string, string, string];
    expect(caKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(verify(caCert, cert)).toMatch(/: OK$/);
    const ca = new X509Certificate(caCert);
    expect(ca.subject).toBe('CN=foo-ca');
    expect(ca.ca).toBe(true);
    const days = (Date.parse(ca.validTo) - Date.parse(ca.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(365);
    const leaf = new X509Certificate(cert);
    expect(leaf.issuer).toBe('CN=foo-ca');
    expect(leaf.subject).toBe('CN=foo.com');
    expect(leaf.ca).toBe(false);
    expect(leaf.subjectAltName).toBe('DNS:a.com, DNS:b.com, IP Address:10.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(leaf.checkIssued(ca)).toBe(true);
    const text = execFileSync('openssl', ['x509', '-in', join(dir, 'cert.pem'), '-noout', '-text']).toString();
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:FALSE/);
    expect(text).toMatch(/X509v3 Authority Key Identifier:/);
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
  }, 60_000);

  it('genSelfSignedCert(WithKey), genCAWithKey, genSignedCertWithKey with ecdsa and ed25519 keys', () => {
    for (const type of ['ecdsa', 'ed25519']) {
      const out = render(
        `{{ $k := genPrivateKey "${type}" }}{{ $ca := genCAWithKey "ca" 10 $k }}{{ $c := genSignedCertWithKey "x" nil nil 10 $ca (genPrivateKey "${type}") }}` +
          '{{ $s := genSelfSignedCertWithKey "self" nil (list "s.com") 10 $k }}{{ $ca.Cert }}|{{ $c.Cert }}|{{ $s.Cert }}|{{ eq $ca.Key $k }}',
      );
      const [caCert, cert, self, same] = out.split('|') as [string, string, string, string];
      expect(same).toBe('true');
      expect(verify(caCert, cert)).toMatch(/: OK$/);
      expect(new X509Certificate(self).subjectAltName).toBe('DNS:s.com');
    }
    const self = render('{{ (genSelfSignedCert "foo.com" (list "10.0.0.1") nil 3).Cert }}');
    expect(new X509Certificate(self).subjectAltName).toBe('IP Address:10.0.0.1');
    expect(renderErrorMessage('{{ genSelfSignedCert "x" (list "nope") nil 3 }}')).toBe('werf.yaml:1:1: error calling genSelfSignedCert: error parsing ip: nope');
    expect(renderErrorMessage('{{ genSignedCert "x" nil nil 3 (dict) }}')).toBe('werf.yaml:1:1: wrong type for value; expected sprig.certificate; got map[string]interface {}');
    expect(renderErrorMessage('{{ genCAWithKey "x" 3 "junk" }}')).toBe('werf.yaml:1:1: error calling genCAWithKey: parsing private key: no PEM data in input');
  }, 60_000);

  it('buildCustomCert', () => {
    const out = render('{{ $ca := genCAWithKey "ca" 10 (genPrivateKey "ecdsa") }}{{ $c := buildCustomCert ($ca.Cert | b64enc) ($ca.Key | b64enc) }}{{ eq $c.Cert $ca.Cert }} {{ eq $c.Key $ca.Key }}');
    expect(out).toBe('true true');
    expect(renderErrorMessage('{{ buildCustomCert "!!" "" }}')).toBe('werf.yaml:1:1: error calling buildCustomCert: unable to decode base64 certificate');
    expect(renderErrorMessage('{{ buildCustomCert ("x" | b64enc) "" }}')).toBe('werf.yaml:1:1: error calling buildCustomCert: unable to decode certificate');
  });
});
