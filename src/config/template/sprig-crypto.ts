// Sprig's crypto functions (crypto.go of sprig v3.2.3, the version werf links): bcrypt, htpasswd, derivePassword,
// genPrivateKey, genCA(WithKey), genSelfSignedCert(WithKey), genSignedCert(WithKey), buildCustomCert, encryptAES,
// decryptAES, randBytes.
//
// Keys, signatures, AES and scrypt are Node's crypto; bcrypt is bcryptjs ($2a$, cost 10: golang.org/x/crypto's
// DefaultCost). Certificates are written here as Go's x509.CreateCertificate writes them for sprig's template
// (a small DER writer; Node's crypto parses certificates but does not create them): version 3, a random 128-bit
// serial, CN-only subject, notBefore now and notAfter now + days×24h (UTCTime until 2049), the key usage,
// extended key usage (server and client auth) and basic constraints extensions, a SHA-1 subject key id for CAs,
// the signer's key id as authority key id, and the DNS names and IPs as subjectAltName. Keys are PEM blocks of
// the types Go writes: RSA PRIVATE KEY (PKCS#1), EC PRIVATE KEY (SEC 1), DSA PRIVATE KEY, PRIVATE KEY (PKCS#8).

import {
  X509Certificate,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  scryptSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import { isIP } from 'node:net';

import bcryptjs from 'bcryptjs';

import { GO_TYPE } from '../../go/gotime.js';
import { fmtValue } from './format.js';

// ---------------------------------------------------------------------------------------------
// DER

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const seq = (...c: Buffer[]): Buffer => tlv(0x30, ...c);

function derInt(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let b = Buffer.from(hex, 'hex');
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

function derOid(oid: string): Buffer {
  const parts = oid.split('.').map(Number);
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const bytes = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift((v & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return tlv(0x06, Buffer.from(out));
}

const bitString = (b: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.from([unused]), b);
const octetString = (b: Buffer): Buffer => tlv(0x04, b);

function derTime(ms: number): Buffer {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const p = (n: number): string => String(n).padStart(2, '0');
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(0x17, Buffer.from(p(y % 100) + rest, 'latin1'));
  return tlv(0x18, Buffer.from(String(y).padStart(4, '0') + rest, 'latin1'));
}

/** encoding/asn1's string choice: PrintableString (with * and &) when it can, else UTF8String. */
function derString(s: string): Buffer {
  if (/^[A-Za-z0-9 '()+,\-./:=?*&]*$/.test(s)) return tlv(0x13, Buffer.from(s, 'latin1'));
  return tlv(0x0c, Buffer.from(s, 'utf8'));
}

interface Node {
  tag: number;
  /** The whole element. */
  raw: Buffer;
  content: Buffer;
}

function readDer(buf: Buffer, at = 0): Node & { end: number } {
  if (at + 2 > buf.length) throw new Error('x509: malformed certificate');
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > buf.length) throw new Error('x509: malformed certificate');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > buf.length) throw new Error('x509: malformed certificate');
  return { tag, raw: buf.subarray(at, p + len), content: buf.subarray(p, p + len), end: p + len };
}

function children(node: Node): Node[] {
  const out: Node[] = [];
  for (let at = 0; at < node.content.length; ) {
    const n = readDer(node.content, at);
    out.push(n);
    at = n.end;
  }
  return out;
}

function oidString(content: Buffer): string {
  const parts = [Math.floor(content[0]! / 40), content[0]! % 40];
  let v = 0;
  for (const b of content.subarray(1)) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

function pem(type: string, der: Buffer): string {
  const b64 = der.toString('base64');
  let out = `-----BEGIN ${type}-----\n`;
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + '\n';
  return out + `-----END ${type}-----\n`;
}

/** encoding/pem.Decode of the first block. */
function pemDecode(text: string): { type: string; der: Buffer } | null {
  const m = /-----BEGIN ([^\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) return null;
  const body = m[2]!.split(/\r?\n/).filter((l) => !l.includes(':'));
  return { type: m[1]!, der: Buffer.from(body.join(''), 'base64') };
}

// ---------------------------------------------------------------------------------------------
// Keys

/** A private key as sprig holds it: Node's KeyObject, or DSA's numbers (Go's DSA keys sign nothing in x509). */
type PrivateKey = { kind: 'node'; key: KeyObject } | { kind: 'dsa'; der: Buffer };

function keyPem(priv: PrivateKey): string {
  if (priv.kind === 'dsa') return pem('DSA PRIVATE KEY', priv.der);
  const type = priv.key.asymmetricKeyType;
  if (type === 'rsa') return pem('RSA PRIVATE KEY', priv.key.export({ type: 'pkcs1', format: 'der' }));
  if (type === 'ec') return pem('EC PRIVATE KEY', priv.key.export({ type: 'sec1', format: 'der' }));
  return pem('PRIVATE KEY', priv.key.export({ type: 'pkcs8', format: 'der' }));
}

/** Go's DSAKeyFormat {Version 0, P, Q, G, Y, X} from Node's PKCS#8 and SPKI encodings. */
function dsaKey(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  const pkcs8 = readDer(privateKey.export({ type: 'pkcs8', format: 'der' }));
  const [, algo, keyOctet] = children(pkcs8) as [Node, Node, Node];
  const params = children(children(algo)[1]!);
  const x = readDer(keyOctet.content);
  const spki = readDer(publicKey.export({ type: 'spki', format: 'der' }));
  const y = readDer(children(spki)[1]!.content.subarray(1));
  return seq(tlv(0x02, Buffer.from([0])), ...params.map((n) => n.raw), y.raw, x.raw);
}

function generateKey(type: string): PrivateKey {
  switch (type) {
    case '':
    case 'rsa':
      return { kind: 'node', key: generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey };
    case 'dsa': {
      const { privateKey, publicKey } = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 });
      return { kind: 'dsa', der: dsaKey(privateKey, publicKey) };
    }
    case 'ecdsa':
      return { kind: 'node', key: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey };
    case 'ed25519':
      return { kind: 'node', key: generateKeyPairSync('ed25519').privateKey };
  }
  throw new Error(`Unknown type ${type}`);
}

function rsa2048(): PrivateKey {
  return { kind: 'node', key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey };
}

/** sprig's parsePrivateKeyPEM. */
function parsePrivateKeyPem(text: string): PrivateKey {
  const block = pemDecode(text);
  if (!block) throw new Error('no PEM data in input');
  const fail = (what: string, e: unknown): Error => new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  if (block.type === 'PRIVATE KEY') {
    try {
      return { kind: 'node', key: createPrivateKey({ key: block.der, format: 'der', type: 'pkcs8' }) };
    } catch (e) {
      throw fail('decoding PEM as PKCS#8', e);
    }
  }
  if (!block.type.endsWith(' PRIVATE KEY')) throw new Error(`no private key data in PEM block of type ${block.type}`);
  switch (block.type.slice(0, -12)) {
    case 'RSA':
      try {
        return { kind: 'node', key: createPrivateKey({ key: block.der, format: 'der', type: 'pkcs1' }) };
      } catch (e) {
        throw fail('parsing RSA private key from PEM', e);
      }
    case 'EC':
      try {
        return { kind: 'node', key: createPrivateKey({ key: block.der, format: 'der', type: 'sec1' }) };
      } catch (e) {
        throw fail('parsing EC private key from PEM', e);
      }
    case 'DSA':
      try {
        const fields = children(readDer(block.der));
        if (fields.length !== 6 || fields.some((f) => f.tag !== 0x02)) throw new Error('asn1: structure error');
      } catch (e) {
        throw fail('parsing DSA private key from PEM', e);
      }
      return { kind: 'dsa', der: block.der };
  }
  throw new Error(`invalid private key type ${block.type}`);
}

// ---------------------------------------------------------------------------------------------
// Certificates

/** sprig's certificate struct: `.Cert` and `.Key`, both PEM. */
export class Certificate {
  constructor(
    public Cert: string,
    public Key: string,
  ) {}
  get [GO_TYPE](): string {
    return 'sprig.certificate';
  }
}

interface Signer {
  subject: Buffer;
  subjectKeyId: Buffer | null;
  key: PrivateKey;
}

function spkiOf(priv: PrivateKey): Buffer {
  if (priv.kind === 'dsa') throw new Error('x509: unsupported public key type: *dsa.PublicKey');
  return createPublicKey(priv.key).export({ type: 'spki', format: 'der' });
}

function signatureAlgorithm(key: PrivateKey): { algo: Buffer; digest: string | null } {
  if (key.kind === 'dsa') throw new Error('x509: certificate private key does not implement crypto.Signer');
  switch (key.key.asymmetricKeyType) {
    case 'rsa':
      return { algo: seq(derOid('1.2.840.113549.1.1.11'), tlv(0x05)), digest: 'sha256' };
    case 'ec':
      return { algo: seq(derOid('1.2.840.10045.4.3.2')), digest: 'sha256' };
    case 'ed25519':
      return { algo: seq(derOid('1.3.101.112')), digest: null };
  }
  throw new Error('x509: only RSA, ECDSA and Ed25519 keys supported');
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return seq(derOid(oid), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), octetString(value));
}

function keyUsageBits(ku: number): Buffer {
  const reverse = (b: number): number => {
    let r = 0;
    for (let i = 0; i < 8; i++) if (b & (1 << i)) r |= 1 << (7 - i);
    return r;
  };
  const a = [reverse(ku & 0xff), reverse((ku >> 8) & 0xff)];
  const bytes = Buffer.from(a[1] !== 0 ? a : [a[0]!]);
  let bitLength = bytes.length * 8;
  for (let i = bytes.length - 1; i >= 0; i--) {
    const b = bytes[i]!;
    let done = false;
    for (let bit = 0; bit < 8; bit++) {
      if ((b >> bit) & 1) {
        done = true;
        break;
      }
      bitLength--;
    }
    if (done) break;
  }
  return bitString(bytes, (8 - (bitLength % 8)) % 8);
}

const KU_DIGITAL_SIGNATURE = 1;
const KU_KEY_ENCIPHERMENT = 4;
const KU_CERT_SIGN = 32;

/** Go's net.ParseIP, then To4() when it can. */
function ipBytes(ip: string): Buffer | null {
  const v = isIP(ip);
  if (v === 4) {
    if (!/^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$/.test(ip)) return null;
    return Buffer.from(ip.split('.').map(Number));
  }
  if (v !== 6 || ip.includes('%')) return null;
  // Expand with the URL parser's help: it normalises IPv6 literals.
  const host = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const [head, tail] = host.split('::') as [string, string | undefined];
  const parse = (s: string | undefined): number[] => {
    if (!s) return [];
    return s.split(':').flatMap((g) => {
      if (g.includes('.')) return [Number(g.split('.')[0]) * 256 + Number(g.split('.')[1]), Number(g.split('.')[2]) * 256 + Number(g.split('.')[3])];
      return [parseInt(g, 16)];
    });
  };
  const h = parse(head);
  const t = parse(tail);
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  const buf = Buffer.alloc(16);
  groups.forEach((g, i) => buf.writeUInt16BE(g, i * 2));
  if (buf.subarray(0, 10).every((b) => b === 0) && buf[10] === 0xff && buf[11] === 0xff) return buf.subarray(12);
  return buf;
}

function netIps(ips: unknown): Buffer[] {
  if (ips === null || ips === undefined) return [];
  return (ips as unknown[]).map((ip) => {
    if (typeof ip !== 'string') throw new Error(`error parsing ip: ${fmtValue(ip)} is not a string`);
    const b = ipBytes(ip);
    if (!b) throw new Error(`error parsing ip: ${ip}`);
    return b;
  });
}

function dnsNames(names: unknown): string[] {
  if (names === null || names === undefined) return [];
  return (names as unknown[]).map((n) => {
    if (typeof n !== 'string') throw new Error(`error processing alternate dns name: ${fmtValue(n)} is not a string`);
    return n;
  });
}

interface Template {
  cn: string;
  ips: Buffer[];
  dns: string[];
  days: number;
  isCA: boolean;
}

function listArg(v: unknown, what: string): unknown[] | null {
  if (v === null || v === undefined) return null;
  if (!Array.isArray(v)) throw new Error(`wrong type for value; expected []interface {}; got ${what}`);
  return v;
}

function baseTemplate(cn: string, ips: unknown, dns: unknown, days: number, isCA = false): Template {
  return { cn, ips: netIps(listArg(ips, typeof ips)), dns: dnsNames(listArg(dns, typeof dns)), days, isCA };
}

function createCertificate(t: Template, signee: PrivateKey, parent: Signer | 'self'): Certificate {
  const signer: Signer = parent === 'self' ? { subject: Buffer.alloc(0), subjectKeyId: null, key: signee } : parent;
  let sig: ReturnType<typeof signatureAlgorithm>;
  let spki: Buffer;
  try {
    sig = signatureAlgorithm(signer.key);
    spki = spkiOf(signee);
  } catch (e) {
    throw new Error(`error creating certificate: ${(e as Error).message}`);
  }
  const subject = seq(...(t.cn !== '' ? [tlv(0x31, seq(derOid('2.5.4.3'), derString(t.cn)))] : []));
  const issuer = parent === 'self' ? subject : signer.subject;
  const publicKeyBits = readDer(children(readDer(spki))[1]!.raw).content.subarray(1);
  const subjectKeyId = t.isCA ? createHash('sha1').update(publicKeyBits).digest() : null;
  const now = Date.now();
  const serial = BigInt('0x' + randomBytes(16).toString('hex'));
  const exts: Buffer[] = [
    extension('2.5.29.15', true, keyUsageBits(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | (t.isCA ? KU_CERT_SIGN : 0))),
    extension('2.5.29.37', false, seq(derOid('1.3.6.1.5.5.7.3.1'), derOid('1.3.6.1.5.5.7.3.2'))),
    extension('2.5.29.19', true, t.isCA ? seq(tlv(0x01, Buffer.from([0xff]))) : seq()),
  ];
  if (subjectKeyId) exts.push(extension('2.5.29.14', false, octetString(subjectKeyId)));
  if (!issuer.equals(subject) && signer.subjectKeyId) exts.push(extension('2.5.29.35', false, seq(tlv(0x80, signer.subjectKeyId))));
  if (t.dns.length > 0 || t.ips.length > 0) {
    const names = [...t.dns.map((d) => tlv(0x82, Buffer.from(d, 'utf8'))), ...t.ips.map((ip) => tlv(0x87, ip))];
    exts.push(extension('2.5.29.17', subject.length === 2, seq(...names)));
  }
  const tbs = seq(
    tlv(0xa0, derInt(2n)),
    derInt(serial),
    sig.algo,
    issuer,
    seq(derTime(now), derTime(now + t.days * 86_400_000)),
    subject,
    spki,
    tlv(0xa3, seq(...exts)),
  );
  const signature = sign(sig.digest, tbs, (signer.key as { key: KeyObject }).key);
  const der = seq(tbs, sig.algo, bitString(signature));
  return new Certificate(pem('CERTIFICATE', der), keyPem(signee));
}

function signerOf(ca: Certificate): Signer {
  const block = pemDecode(ca.Cert);
  if (!block) throw new Error('unable to decode certificate');
  let subject: Buffer;
  let subjectKeyId: Buffer | null = null;
  try {
    new X509Certificate(block.der);
    const tbs = children(readDer(block.der))[0]!;
    const fields = children(tbs);
    const i = fields[0]!.tag === 0xa0 ? 1 : 0;
    subject = fields[i + 4]!.raw;
    const extsField = fields.find((f) => f.tag === 0xa3);
    if (extsField) {
      for (const ext of children(children(extsField)[0]!)) {
        const parts = children(ext);
        if (oidString(parts[0]!.content) === '2.5.29.14') subjectKeyId = Buffer.from(readDer(parts[parts.length - 1]!.content).content);
      }
    }
  } catch (e) {
    throw new Error(`error parsing certificate: decodedSignerCert.Bytes: ${e instanceof Error && e.message.startsWith('x509') ? e.message : 'x509: malformed certificate'}`);
  }
  let key: PrivateKey;
  try {
    key = parsePrivateKeyPem(ca.Key);
  } catch (e) {
    throw new Error(`error parsing private key: ${(e as Error).message}`);
  }
  return { subject, subjectKeyId, key };
}

function withKey(pemText: string): PrivateKey {
  try {
    return parsePrivateKeyPem(pemText);
  } catch (e) {
    throw new Error(`parsing private key: ${(e as Error).message}`);
  }
}

export function genPrivateKey(type: string): string {
  try {
    return keyPem(generateKey(type));
  } catch (e) {
    return (e as Error).message;
  }
}

export function genCA(cn: string, days: number, keyPemText?: string): Certificate {
  const key = keyPemText === undefined ? rsa2048() : withKey(keyPemText);
  return createCertificate(baseTemplate(cn, null, null, days, true), key, 'self');
}

export function genSelfSignedCert(cn: string, ips: unknown, dns: unknown, days: number, keyPemText?: string): Certificate {
  const key = keyPemText === undefined ? rsa2048() : withKey(keyPemText);
  return createCertificate(baseTemplate(cn, ips, dns, days), key, 'self');
}

export function genSignedCert(cn: string, ips: unknown, dns: unknown, days: number, ca: Certificate, keyPemText?: string): Certificate {
  const key = keyPemText === undefined ? rsa2048() : withKey(keyPemText);
  const signer = signerOf(ca);
  return createCertificate(baseTemplate(cn, ips, dns, days), key, signer);
}

export function buildCustomCert(b64cert: string, b64key: string): Certificate {
  const decode = (s: string): Buffer | null => (/^[A-Za-z0-9+/]*={0,2}$/.test(s.replace(/[\r\n]/g, '')) && s.replace(/[\r\n]/g, '').length % 4 === 0 ? Buffer.from(s, 'base64') : null);
  const cert = decode(b64cert);
  if (!cert) throw new Error('unable to decode base64 certificate');
  const key = decode(b64key);
  if (!key) throw new Error('unable to decode base64 private key');
  const block = pemDecode(cert.toString('utf8'));
  if (!block) throw new Error('unable to decode certificate');
  try {
    new X509Certificate(block.der);
  } catch {
    throw new Error('error parsing certificate: decodedCert.Bytes: x509: malformed certificate');
  }
  try {
    parsePrivateKeyPem(key.toString('utf8'));
  } catch (e) {
    throw new Error(`error parsing private key: ${(e as Error).message}`);
  }
  return new Certificate(cert.toString('utf8'), key.toString('utf8'));
}

// ---------------------------------------------------------------------------------------------
// Passwords, AES, random bytes

export function bcrypt(input: string): string {
  // golang.org/x/crypto/bcrypt refuses passwords over 72 bytes (since v0.31); sprig prints the error.
  if (Buffer.byteLength(input, 'utf8') > 72) return 'failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes';
  // Go writes the $2a$ prefix; bcryptjs makes $2b$ salts, and hashes the same with $2a$.
  return bcryptjs.hashSync(input, bcryptjs.genSaltSync(10).replace(/^\$2b\$/, '$2a$'));
}

export function htpasswd(username: string, password: string): string {
  if (username.includes(':')) return `invalid username: ${username}`;
  return `${username}:${bcrypt(password)}`;
}

const SEED = 'com.lyndir.masterpassword';
const TEMPLATES: Record<string, string[]> = {
  maximum: ['anoxxxxxxxxxxxxxxxxx', 'axxxxxxxxxxxxxxxxxno'],
  long: [
    'CvcvnoCvcvCvcv', 'CvcvCvcvnoCvcv', 'CvcvCvcvCvcvno', 'CvccnoCvcvCvcv', 'CvccCvcvnoCvcv', 'CvccCvcvCvcvno', 'CvcvnoCvccCvcv',
    'CvcvCvccnoCvcv', 'CvcvCvccCvcvno', 'CvcvnoCvcvCvcc', 'CvcvCvcvnoCvcc', 'CvcvCvcvCvccno', 'CvccnoCvccCvcv', 'CvccCvccnoCvcv',
    'CvccCvccCvcvno', 'CvcvnoCvccCvcc', 'CvcvCvccnoCvcc', 'CvcvCvccCvccno', 'CvccnoCvcvCvcc', 'CvccCvcvnoCvcc', 'CvccCvcvCvccno',
  ],
  medium: ['CvcnoCvc', 'CvcCvcno'],
  short: ['Cvcn'],
  basic: ['aaanaaan', 'aannaaan', 'aaannaaa'],
  pin: ['nnnn'],
};
const CHARS: Record<string, string> = {
  V: 'AEIOU',
  C: 'BCDFGHJKLMNPQRSTVWXYZ',
  v: 'aeiou',
  c: 'bcdfghjklmnpqrstvwxyz',
  A: 'AEIOUBCDFGHJKLMNPQRSTVWXYZ',
  a: 'AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz',
  n: '0123456789',
  o: "@&%?,=[]_:-+*$#!'^~;()/.",
  x: 'AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()',
};

/** sprig's derivePassword (the Master Password algorithm). */
export function derivePassword(counter: number, passwordType: string, password: string, user: string, site: string): string {
  const templates = Object.prototype.hasOwnProperty.call(TEMPLATES, passwordType) ? TEMPLATES[passwordType]! : null;
  if (!templates) return `cannot find password template ${passwordType}`;
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    return b;
  };
  const userBytes = Buffer.from(user, 'utf8');
  const salt = Buffer.concat([Buffer.from(SEED), u32(userBytes.length), userBytes]);
  const key = scryptSync(Buffer.from(password, 'utf8'), salt, 64, { N: 32768, r: 8, p: 2, maxmem: 128 * 1024 * 1024 });
  const siteBytes = Buffer.from(site, 'utf8');
  const seed = createHmac('sha256', key)
    .update(Buffer.concat([Buffer.from(SEED), u32(siteBytes.length), siteBytes, u32(counter)]))
    .digest();
  const temp = templates[seed[0]! % templates.length]!;
  let out = '';
  for (let i = 0; i < temp.length; i++) {
    const chars = CHARS[temp[i]!]!;
    out += chars[seed[i + 1]! % chars.length];
  }
  return out;
}

function aesKey(password: string): Buffer {
  const key = Buffer.alloc(32);
  Buffer.from(password, 'utf8').copy(key, 0, 0, 32);
  return key;
}

export function encryptAES(password: string, plaintext: string): string {
  if (plaintext === '') return '';
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', aesKey(password), iv); // PKCS#7 padding, as sprig adds it
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

export function decryptAES(password: string, crypt64: string): string {
  if (crypt64 === '') return '';
  const clean = crypt64.replace(/[\r\n]/g, '');
  const bad = clean.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0 || clean.length % 4 !== 0) throw new Error(`illegal base64 data at input byte ${bad >= 0 ? bad : clean.length - (clean.length % 4)}`);
  const crypt = Buffer.from(clean, 'base64');
  // Go panics on these (CryptBlocks); text/template reports the panic as the call's error.
  if (crypt.length < 16) throw new Error(`runtime error: slice bounds out of range [:16] with capacity ${crypt.length}`);
  const body = crypt.subarray(16);
  if (body.length % 16 !== 0) throw new Error('crypto/cipher: input not full blocks');
  if (body.length === 0) throw new Error('runtime error: index out of range [-1]');
  const decipher = createDecipheriv('aes-256-cbc', aesKey(password), crypt.subarray(0, 16));
  decipher.setAutoPadding(false);
  const decrypted = Buffer.concat([decipher.update(body), decipher.final()]);
  const pad = decrypted[decrypted.length - 1]!;
  const end = decrypted.length - pad;
  if (end < 0) throw new Error(`runtime error: slice bounds out of range [:${end}]`);
  return decrypted.subarray(0, end).toString('utf8');
}

export function randBytes(count: number): string {
  if (count < 0) throw new Error('runtime error: makeslice: len out of range');
  return randomBytes(count).toString('base64');
}
