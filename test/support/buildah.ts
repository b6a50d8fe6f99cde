// buildah as the reference builder for Dockerfiles with RUN: `buildah bud --isolation chroot`
// (the only isolation that works on these machines, see shared/spec/environment-facts.md) with
// its own storage and temp dir per build, then `buildah push` of the result to a registry (plain
// HTTP) or an OCI layout. Needs root and the Debian package buildah: a missing buildah is an
// error, never a skip.
//
// The storage driver is overlay by default: like BuildKit, buildah then takes each RUN's layer
// from overlay's upper directory. With vfs, buildah 1.28 finds a layer's changes by comparing
// size and mtime only: a base file rewritten to the same size with its mtime restored is left out
// of the layer, and a hard link to a file of an earlier layer becomes a second copy.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath } from './busybox-base.js';

export const BUILDAH_MISSING = 'buildah is not on PATH: install buildah (apt-get install buildah), as test/setup/install-deps.sh does';

export interface BuildahResult {
  /** Exit code of `buildah bud` (0 on success; the push ran only then). */
  code: number;
  /** stdout + stderr of bud (and push). */
  output: string;
  /** Where the image was pushed (the `destination` given), when bud succeeded. */
  ref?: string;
  /** Manifest digest buildah pushed (`--digestfile`), when bud succeeded. */
  digest?: string;
}

export interface BuildahBuildOptions {
  /** The build context; the Dockerfile is `dockerfile` inside it. */
  context: string;
  /** Path relative to `context` (default `Dockerfile`). */
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  /** `--layers` (cache intermediate images in this build's storage). Default false. */
  layers?: boolean;
  /** `--target` */
  target?: string;
  /**
   * Where to push: `HOST/REPO:TAG` or `docker://HOST/REPO:TAG` (plain HTTP, `--tls-verify=false`),
   * or `oci:DIR:TAG`.
   */
  destination: string;
  /** Reuse this storage dir (e.g. for a cached rebuild); by default a new one is made and removed afterwards. */
  storageDir?: string;
  /** Throw when bud fails (default true); with false the result carries the code and output. */
  check?: boolean;
  /** `--format`: buildah's default, 'oci', ignores SHELL (with a warning); 'docker' honours it. */
  format?: 'oci' | 'docker';
  /** containers/storage driver (default 'overlay', see above). */
  storageDriver?: 'overlay' | 'vfs';
  /**
   * `chroot` (default): buildah's own namespaces and chroot. `oci`: a container made by runc, as Slipway's are
   * (buildah's default runtime, crun, refuses this machine's hybrid cgroups, so runc is named).
   */
  isolation?: 'chroot' | 'oci';
}

interface Exec { code: number; output: string }

function exec(args: string[], env: NodeJS.ProcessEnv): Promise<Exec> {
  return new Promise((resolve, reject) => {
    execFile('buildah', args, { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (!error) return resolve({ code: 0, output });
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number') resolve({ code, output });
      else reject(new Error(`buildah ${args.join(' ')}: ${error.message}`, { cause: error }));
    });
  });
}

/** The global options that give buildah a storage of its own under `dir`. */
export function buildahStorageArgs(dir: string, driver: 'overlay' | 'vfs' = 'overlay'): string[] {
  return ['--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), '--storage-driver', driver];
}

/** runc's path (Debian puts it in /usr/sbin, which a non-root PATH may lack). */
export function requireRunc(): string {
  const path = findOnPath('runc') ?? ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p));
  if (path === undefined) throw new Error('runc is not installed: apt-get install runc (test/setup/install-deps.sh does)');
  return path;
}

export function requireBuildah(): void {
  if (!findOnPath('buildah')) throw new Error(BUILDAH_MISSING);
  if (process.getuid?.() !== 0) throw new Error('buildah builds here run as root (vfs storage, chroot isolation)');
}

/** `buildah bud --isolation chroot` (or `oci`) of `options.context`, then `buildah push` to `options.destination`. */
export async function buildahBuild(options: BuildahBuildOptions): Promise<BuildahResult> {
  requireBuildah();
  const own = options.storageDir === undefined;
  const storage = options.storageDir ?? (await mkdtemp(join(tmpdir(), 'slipway-buildah-')));
  // buildah keeps RUN --mount=type=cache directories under $TMPDIR/buildah-cache-<uid>: one per
  // storage, so that no build sees another's cache (and the host's /var/tmp is not touched).
  const tmp = join(storage, 'tmp');
  await mkdir(tmp, { recursive: true });
  const env = { ...process.env, TMPDIR: tmp };
  const global = buildahStorageArgs(storage, options.storageDriver);
  const name = `localhost/slipway-test-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`;
  try {
    const isolation = options.isolation === 'oci' ? ['--isolation', 'oci', '--runtime', requireRunc()] : ['--isolation', 'chroot'];
    const bud = [...global, 'bud', ...isolation, '--tls-verify=false', `--layers=${options.layers ?? false}`,
      '-f', join(options.context, options.dockerfile ?? 'Dockerfile'), '-t', name];
    for (const [key, value] of Object.entries(options.buildArgs ?? {})) bud.push('--build-arg', `${key}=${value}`);
    if (options.target) bud.push('--target', options.target);
    if (options.format) bud.push('--format', options.format);
    bud.push(options.context);
    const built = await exec(bud, env);
    if (built.code !== 0) {
      if (options.check ?? true) throw new Error(`buildah bud exited with ${built.code}:\n${built.output.slice(-4000)}`);
      return built;
    }
    const destination = options.destination.startsWith('oci:') || options.destination.startsWith('docker://')
      ? options.destination
      : `docker://${options.destination}`;
    const digestFile = join(storage, 'digest');
    const pushed = await exec([...global, 'push', '--tls-verify=false', '--digestfile', digestFile, name, destination], env);
    if (pushed.code !== 0) throw new Error(`buildah push ${destination} exited with ${pushed.code}:\n${pushed.output.slice(-4000)}`);
    return {
      code: 0,
      output: built.output + pushed.output,
      ref: options.destination,
      digest: (await readFile(digestFile, 'utf8')).trim(),
    };
  } finally {
    if (own) await rm(storage, { recursive: true, force: true });
  }
}
