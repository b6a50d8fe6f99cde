// Typed access to the real registries that test/setup/global-setup.ts starts, plus
// skopeo-based helpers: skopeo is an independent implementation, so tests can use it
// both to prepare fixtures and to check what Slipway pushed.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { inject } from 'vitest';
import { tarHeader, writeLayerBlob, writeOciLayout } from './oci-layout.js';

export interface Registries {
  /** Plain HTTP, no auth, delete enabled. */
  plain: { host: string };
  /** A second plain HTTP registry, for registry-to-registry copies. */
  plain2: { host: string };
  /** Plain HTTP with htpasswd Basic auth. */
  basic: { host: string; username: string; password: string };
  /** HTTPS with a self-signed cert (SAN IP:127.0.0.1, DNS:localhost); `certDir/ca.crt` is `caFile`. */
  tls: { host: string; caFile: string; certDir: string };
  /** Plain HTTP with bearer-token auth issued by test/setup/token-server.ts. */
  token: {
    host: string;
    username: string;
    password: string;
    /** e.g. 'http://127.0.0.1:PORT' (endpoints /token, /token-access-form, /requests, /requests/reset) */
    tokenServerUrl: string;
    /** `${tokenServerUrl}/token`, as announced in the registry's challenge */
    realm: string;
    service: string;
    issuer: string;
  };
  /** Root temp dir of this test run (registry storage lives below it); removed at teardown. */
  workDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    registries: Registries;
  }
}

/** What global setup provided; throws if the globalSetup did not run. */
export function registries(): Registries {
  const value = inject('registries');
  if (!value) throw new Error('registries were not provided: is test/setup/global-setup.ts the globalSetup?');
  return value;
}

/** A port that was free a moment ago on 127.0.0.1 (the caller must still cope with a lost race). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------
// skopeo

const TRANSPORTS = ['docker://', 'oci:', 'oci-archive:', 'dir:', 'docker-archive:', 'docker-daemon:', 'containers-storage:'];

/** Adds `docker://` to a bare `host/repo:tag` reference. */
function withTransport(ref: string): string {
  return TRANSPORTS.some((t) => ref.startsWith(t)) ? ref : `docker://${ref}`;
}

/** Runs skopeo (with `--insecure-policy`, so no policy.json is needed) and returns stdout. */
export function skopeo(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('skopeo', ['--insecure-policy', ...args], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`skopeo ${args.join(' ')} failed: ${stderr.trim() || error.message}`, { cause: error }));
      } else {
        resolve(stdout);
      }
    });
  });
}

export interface SkopeoAccessOptions {
  /** 'user:password' */
  creds?: string;
  /** Directory with ca.crt; implies TLS verification unless `tls: false`. */
  certDir?: string;
  /** Verify TLS (https). Default: true when certDir is given, else false (plain HTTP allowed). */
  tls?: boolean;
}

function accessArgs(prefix: '' | 'src-' | 'dest-', opts: SkopeoAccessOptions): string[] {
  const tls = opts.tls ?? opts.certDir !== undefined;
  const args = [`--${prefix}tls-verify=${tls}`];
  if (opts.certDir) args.push(`--${prefix}cert-dir`, opts.certDir);
  if (opts.creds) args.push(`--${prefix}creds`, opts.creds);
  return args;
}

export interface SkopeoInspectOptions extends SkopeoAccessOptions {
  /** The manifest (or with `config`, the config blob) exactly as stored. */
  raw?: boolean;
  /** The image config instead of skopeo's summary. */
  config?: boolean;
}

/** `skopeo inspect`, parsed. `ref` is 'HOST/REPO:TAG' (docker:// implied) or any skopeo transport ref. */
export async function skopeoInspect(ref: string, opts: SkopeoInspectOptions = {}): Promise<unknown> {
  return JSON.parse(await skopeoInspectText(ref, opts));
}

/** Same as skopeoInspect but the unparsed output: with `raw`, the exact bytes whose digest is the manifest digest. */
export function skopeoInspectText(ref: string, opts: SkopeoInspectOptions = {}): Promise<string> {
  const args = ['inspect', ...accessArgs('', opts)];
  if (opts.raw) args.push('--raw');
  if (opts.config) args.push('--config');
  return skopeo([...args, withTransport(ref)]);
}

export interface SkopeoCopyOptions {
  src?: SkopeoAccessOptions;
  dest?: SkopeoAccessOptions;
  /** `--all`: copy every image of an index. */
  all?: boolean;
  /** `--preserve-digests`: fail rather than change any digest. */
  preserveDigests?: boolean;
  /** `--format`: 'oci' | 'v2s2' | 'v2s1'. */
  format?: 'oci' | 'v2s2' | 'v2s1';
  extraArgs?: string[];
}

/** `skopeo copy`; returns the digest of the manifest written at the destination. */
export async function skopeoCopy(src: string, dst: string, opts: SkopeoCopyOptions = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-skopeo-'));
  try {
    const digestFile = join(dir, 'digest');
    const args = ['copy', '--quiet', '--digestfile', digestFile];
    args.push(...accessArgs('src-', opts.src ?? {}), ...accessArgs('dest-', opts.dest ?? {}));
    if (opts.all) args.push('--all');
    if (opts.preserveDigests) args.push('--preserve-digests');
    if (opts.format) args.push('--format', opts.format);
    args.push(...(opts.extraArgs ?? []), withTransport(src), withTransport(dst));
    await skopeo(args);
    return (await readFile(digestFile, 'utf8')).trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// random images

/** The bytes of a tar holding one file of `size` random bytes, produced in 1 MiB chunks. */
async function* randomTar(name: string, size: number): AsyncGenerator<Buffer> {
  yield tarHeader(name, size);
  for (let left = size; left > 0; ) {
    const n = Math.min(left, 1024 * 1024);
    yield randomBytes(n);
    left -= n;
  }
  const pad = (512 - (size % 512)) % 512;
  yield Buffer.alloc(pad + 1024); // padding + two zero end-of-archive blocks
}

export interface PushRandomImageOptions extends SkopeoAccessOptions {
  layers: number;
  /** Bytes of random file content per layer (the tar around it adds ~2 KiB). */
  layerSize: number;
  /** 'gzip' (default, like real images) or 'none' (uncompressed tar layers, pushed with --preserve-digests). */
  compression?: 'gzip' | 'none';
}

export interface PushedImage {
  /** 'HOST/REPO:TAG' */
  ref: string;
  manifestDigest: string;
  configDigest: string;
  /** Blob digests in manifest order (compressed digests for gzip). */
  layerDigests: string[];
  /** Uncompressed digests (config rootfs.diff_ids). */
  diffIds: string[];
  layerSizes: number[];
  /** The exact manifest bytes pushed (OCI image manifest). */
  manifest: string;
}

/** Builds an OCI image of random layers in a temp OCI layout and pushes it with skopeo. */
export async function pushRandomImage(
  host: string,
  repo: string,
  tag: string,
  opts: PushRandomImageOptions,
): Promise<PushedImage> {
  const compression = opts.compression ?? 'gzip';
  const dir = await mkdtemp(join(tmpdir(), 'slipway-oci-'));
  try {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });

    const layerDigests: string[] = [];
    const diffIds: string[] = [];
    const layerSizes: number[] = [];
    for (let i = 0; i < opts.layers; i++) {
      const tar = Readable.from(randomTar(`random-${i}.bin`, opts.layerSize));
      const layer = await writeLayerBlob(dir, `layer-${i}.tmp`, tar, compression);
      layerDigests.push(layer.digest);
      diffIds.push(layer.diffId);
      layerSizes.push(layer.size);
    }

    const config = JSON.stringify({
      created: new Date().toISOString(),
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: diffIds },
    });
    const layerMediaType =
      compression === 'gzip' ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar';
    const { configDigest, manifestDigest, manifest } = await writeOciLayout(
      dir,
      tag,
      config,
      layerDigests.map((digest, i) => ({ mediaType: layerMediaType, digest, size: layerSizes[i]! })),
    );

    const ref = `${host}/${repo}:${tag}`;
    // --preserve-digests: skopeo would otherwise gzip uncompressed layers on the way
    // to a registry, and the digests we return would be wrong. A gzip image is left
    // as-is anyway; preserving makes any change an error instead of a silent surprise.
    const pushed = await skopeoCopy(`oci:${dir}:${tag}`, ref, { dest: opts, preserveDigests: true });
    if (pushed !== manifestDigest) {
      throw new Error(`pushRandomImage: skopeo pushed ${pushed}, expected ${manifestDigest}`);
    }
    return { ref, manifestDigest, configDigest, layerDigests, diffIds, layerSizes, manifest };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
