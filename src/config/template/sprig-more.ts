// The rest of sprig v3.2.3's TxtFuncMap, as werf links it: dates, durations, random strings, case conversion and
// wrapping, URLs, getHostByName, semver, crypto and hello. Each follows sprig's Go source (date.go, strings.go,
// url.go, network.go, semver.go, crypto.go, functions.go) and the libraries it calls.
//
// Known difference: the value model does not tell int from int64 (see index.ts). duration and durationRound
// take an integral number as Go's int64 (sprig v3.2.3 turns an int, such as a literal `61`, into 0s); date,
// dateInZone and ago take both as seconds, as sprig does.

import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

import { GoTime, SECOND, formatDuration, int64, loadLocation, local, parseTime, roundDuration, UTC } from '../../go/gotime.js';
import { SemverConstraints, SemverVersion } from '../../go/semver.js';
import { formatURL, hostname, parseURL, Userinfo, type GoURL } from '../../go/url.js';
import { parseDuration } from '../../go/time.js';
import type { FuncSpec, GoTypeParam, ParamKind } from './exec.js';
import { Certificate, bcrypt, buildCustomCert, decryptAES, derivePassword, encryptAES, genCA, genPrivateKey, genSelfSignedCert, genSignedCert, htpasswd, randBytes } from './sprig-crypto.js';
import { abbreviateFull, cryptoRandom, shuffle, toCamelCase, toKebabCase, toSnakeCase, wrapCustom } from './sprig-strings.js';
import { kindName, newMap, setKey, type Dict } from './values.js';

type Fn = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

function def(params: ParamKind[], fn: Fn): FuncSpec {
  return { params, fn };
}

const TIME: GoTypeParam = { goType: 'time.Time', accepts: (v) => v instanceof GoTime };
const CERTIFICATE: GoTypeParam = { goType: 'sprig.certificate', accepts: (v) => v instanceof Certificate };

/** An integer of the value model (int or int64), or null. */
function integer(v: unknown): number | null {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  return null;
}

// --- dates -----------------------------------------------------------------------------------

/** sprig's dateInZone: a time.Time, or Unix seconds; anything else is now. */
function dateInZone(layout: string, date: unknown, zone: string): string {
  let t: GoTime;
  if (date instanceof GoTime) t = date;
  else {
    const n = integer(date);
    t = n === null ? GoTime.now() : GoTime.unix(n);
  }
  const loc = loadLocation(zone) ?? UTC;
  return t.In(loc).Format(layout);
}

function durationRound(v: unknown): string {
  let d = 0n;
  if (typeof v === 'string') {
    try {
      d = parseDuration(v);
    } catch {
      d = 0n;
    }
  } else if (integer(v) !== null) d = BigInt(integer(v)!);
  else if (v instanceof GoTime) d = GoTime.now().Sub(v);
  let u = BigInt.asUintN(64, d);
  if (d < 0n) u = BigInt.asUintN(64, -u);
  const hour = 3600n * SECOND;
  const units: [bigint, string][] = [
    [hour * 24n * 365n, 'y'],
    [hour * 24n * 30n, 'mo'],
    [hour * 24n, 'd'],
    [hour, 'h'],
    [60n * SECOND, 'm'],
    [SECOND, 's'],
  ];
  for (const [size, name] of units) if (u > size) return `${u / size}${name}`;
  return '0s';
}

function duration(v: unknown): string {
  let n = 0n;
  if (typeof v === 'string') {
    n = /^[+-]?[0-9]+$/.test(v) && BigInt.asIntN(64, BigInt(v)) === BigInt(v) ? BigInt(v) : 0n;
  } else if (integer(v) !== null) n = BigInt(integer(v)!);
  return formatDuration(int64(n * SECOND));
}

// --- URLs ------------------------------------------------------------------------------------

function urlParse(v: string): Dict {
  let u: GoURL;
  try {
    u = parseURL(v);
  } catch (e) {
    throw new Error(`unable to parse url: ${(e as Error).message}`);
  }
  const d = newMap();
  setKey(d, 'scheme', u.scheme);
  setKey(d, 'host', u.host);
  setKey(d, 'hostname', hostname(u));
  setKey(d, 'path', u.path);
  setKey(d, 'query', u.rawQuery);
  setKey(d, 'opaque', u.opaque);
  setKey(d, 'fragment', u.fragment);
  setKey(d, 'userinfo', u.user ? u.user.String() : '');
  return d;
}

function urlJoin(d: Dict | null): string {
  const get = (key: string): string => {
    if (d === null || !Object.prototype.hasOwnProperty.call(d, key)) return '';
    const v = d[key];
    if (typeof v !== 'string') throw new Error(`unable to parse ${key} key, must be of type string, but ${kindName(v)} found`);
    return v;
  };
  const u: GoURL = {
    scheme: get('scheme'),
    host: get('host'),
    path: get('path'),
    rawQuery: get('query'),
    opaque: get('opaque'),
    fragment: get('fragment'),
    user: null,
    rawPath: '',
    rawFragment: '',
    omitHost: false,
    forceQuery: false,
  };
  const userinfo = get('userinfo');
  if (userinfo !== '') {
    let user: Userinfo | null;
    try {
      user = parseURL(`proto://${userinfo}@host`).user;
    } catch (e) {
      throw new Error(`unable to parse userinfo in dict: ${(e as Error).message}`);
    }
    u.user = user;
  }
  return formatURL(u);
}

// --- network ---------------------------------------------------------------------------------

const LOOKUP = `require('node:dns').lookup(process.argv[1], { all: true, verbatim: true }, (e, a) => process.stdout.write(JSON.stringify(e ? [] : a.map((x) => x.address))));`;

/** net.LookupHost, synchronously (templates are): the system resolver in a child Node process. */
function lookupHost(name: string): string[] {
  const r = spawnSync(process.execPath, ['-e', LOOKUP, name], { encoding: 'utf8', timeout: 30_000 });
  try {
    return JSON.parse(r.stdout) as string[];
  } catch {
    return [];
  }
}

function getHostByName(name: string): string {
  const addrs = lookupHost(name);
  // sprig v3.2.3 indexes a random element: with no address, rand.Intn(0) panics.
  if (addrs.length === 0) throw new Error('invalid argument to Intn');
  return addrs[randomInt(addrs.length)]!;
}

// --- the table -------------------------------------------------------------------------------

export function moreSprigFunctions(): Record<string, FuncSpec> {
  const fns: Record<string, FuncSpec> = {
    hello: def([], () => 'Hello!'),

    // Dates
    now: def([], () => GoTime.now()),
    date: def(['string', 'any'], (layout: string, d: unknown) => dateInZone(layout, d, 'Local')),
    dateInZone: def(['string', 'any', 'string'], dateInZone),
    htmlDate: def(['any'], (d: unknown) => dateInZone('2006-01-02', d, 'Local')),
    htmlDateInZone: def(['any', 'string'], (d: unknown, zone: string) => dateInZone('2006-01-02', d, zone)),
    dateModify: def(['string', TIME], (s: string, t: GoTime) => {
      try {
        return t.Add(parseDuration(s));
      } catch {
        return t;
      }
    }),
    mustDateModify: def(['string', TIME], (s: string, t: GoTime) => t.Add(parseDuration(s))),
    ago: def(['any'], (d: unknown) => {
      let t: GoTime;
      if (d instanceof GoTime) t = d;
      else {
        const n = integer(d);
        t = n === null ? GoTime.now() : GoTime.unix(n);
      }
      return formatDuration(roundDuration(GoTime.now().Sub(t), SECOND));
    }),
    duration: def(['any'], duration),
    durationRound: def(['any'], durationRound),
    toDate: def(['string', 'string'], (layout: string, s: string) => {
      try {
        return parseTime(layout, s, local());
      } catch {
        return GoTime.zero();
      }
    }),
    mustToDate: def(['string', 'string'], (layout: string, s: string) => parseTime(layout, s, local())),
    unixEpoch: def([TIME], (t: GoTime) => String(t.Unix())),

    // Strings
    abbrev: def(['int', 'string'], (width: number, s: string) => (width < 4 ? s : (abbreviateFull(s, 0, width) ?? ''))),
    abbrevboth: def(['int', 'int', 'string'], (left: number, right: number, s: string) =>
      right < 4 || (left > 0 && right < 7) ? s : (abbreviateFull(s, left, right) ?? ''),
    ),
    randAlphaNum: def(['int'], (n: number) => cryptoRandom(n, 'alphanum')),
    randAlpha: def(['int'], (n: number) => cryptoRandom(n, 'alpha')),
    randAscii: def(['int'], (n: number) => cryptoRandom(n, 'ascii')),
    randNumeric: def(['int'], (n: number) => cryptoRandom(n, 'numeric')),
    randInt: def(['int', 'int'], (min: number, max: number) => {
      if (max - min <= 0) throw new Error('invalid argument to Intn');
      return min + randomInt(max - min);
    }),
    shuffle: def(['string'], shuffle),
    snakecase: def(['string'], toSnakeCase),
    camelcase: def(['string'], toCamelCase),
    kebabcase: def(['string'], toKebabCase),
    wrap: def(['int', 'string'], (l: number, s: string) => wrapCustom(s, l, '', false)),
    wrapWith: def(['int', 'string', 'string'], (l: number, sep: string, s: string) => wrapCustom(s, l, sep, true)),

    // URLs and network
    urlParse: def(['string'], urlParse),
    urlJoin: def(['map'], urlJoin),
    getHostByName: def(['string'], getHostByName),

    // Semver
    semver: def(['string'], (v: string) => SemverVersion.parse(v)),
    semverCompare: def(['string', 'string'], (c: string, v: string) => SemverConstraints.parse(c).check(SemverVersion.parse(v))),

    // Crypto
    bcrypt: def(['string'], bcrypt),
    htpasswd: def(['string', 'string'], htpasswd),
    derivePassword: def(['int', 'string', 'string', 'string', 'string'], derivePassword),
    genPrivateKey: def(['string'], genPrivateKey),
    buildCustomCert: def(['string', 'string'], buildCustomCert),
    genCA: def(['string', 'int'], (cn: string, days: number) => genCA(cn, days)),
    genCAWithKey: def(['string', 'int', 'string'], genCA),
    genSelfSignedCert: def(['string', 'any', 'any', 'int'], (cn: string, ips: unknown, dns: unknown, days: number) => genSelfSignedCert(cn, ips, dns, days)),
    genSelfSignedCertWithKey: def(['string', 'any', 'any', 'int', 'string'], genSelfSignedCert),
    genSignedCert: def(['string', 'any', 'any', 'int', CERTIFICATE], (cn: string, ips: unknown, dns: unknown, days: number, ca: Certificate) =>
      genSignedCert(cn, ips, dns, days, ca),
    ),
    genSignedCertWithKey: def(['string', 'any', 'any', 'int', CERTIFICATE, 'string'], genSignedCert),
    encryptAES: def(['string', 'string'], encryptAES),
    decryptAES: def(['string', 'string'], decryptAES),
    randBytes: def(['int'], randBytes),
  };
  fns['date_in_zone'] = fns['dateInZone']!;
  fns['date_modify'] = fns['dateModify']!;
  fns['must_date_modify'] = fns['mustDateModify']!;
  return fns;
}
