// A small distro-like base image for tests that run commands (Dockerfile RUN): Debian's static
// busybox and its applet links in /bin, the directories a distribution has, and an /etc/passwd and
// /etc/group with root, nobody and a user `app` (uid/gid 1000, also in the supplementary group
// `staff` 50). Built at test time with umoci (independent of Slipway's code) and pushed with
// skopeo to the plain test registry, once per process (one push per test file).
//
// Needs umoci, busybox-static and skopeo (test/setup/install-deps.sh installs them) and root:
// umoci keeps the files' owners only when it runs as root.
import { execFile } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { uniqueRepo } from './images.js';
import { registries, skopeo } from './registries.js';

const execFileAsync = promisify(execFile);

export const BASE_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const BASE_PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  'app:x:1000:1000:app:/home/app:/bin/sh',
  '',
].join('\n');

export const BASE_GROUP = [
  'root:x:0:',
  'staff:x:50:app',
  'nogroup:x:65534:',
  'app:x:1000:',
  '',
].join('\n');

/** The absolute path of `bin` on PATH, or undefined. */
export function findOnPath(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return join(dir, bin);
    } catch {
      // not in this dir
    }
  }
  return undefined;
}

function requireTool(bin: string, pkg: string): string {
  const path = findOnPath(bin);
  if (!path) throw new Error(`the busybox base image needs ${bin}: install ${pkg} (apt-get install -y ${pkg}, or test/setup/install-deps.sh)`);
  return path;
}

async function umoci(args: string[]): Promise<void> {
  try {
    await execFileAsync('umoci', args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`umoci ${args.join(' ')} failed: ${stderr.trim() || (error as Error).message}`, { cause: error });
  }
}

/**
 * Builds the busybox image as an OCI layout in a new temp dir (tag `latest`) and returns the
 * layout's directory; the caller removes it.
 */
export async function writeBusyboxLayout(): Promise<string> {
  if (process.getuid?.() !== 0) throw new Error('the busybox base image is built with umoci as root (it keeps owners only then)');
  requireTool('umoci', 'umoci');
  const busybox = realpathSync(requireTool('busybox', 'busybox-static'));
  const work = await mkdtemp(join(tmpdir(), 'slipway-busybox-'));
  const layout = join(work, 'oci');
  const bundle = join(work, 'bundle');
  await umoci(['init', '--layout', layout]);
  await umoci(['new', '--image', `${layout}:latest`]);
  await umoci(['unpack', '--image', `${layout}:latest`, bundle]);
  const rootfs = join(bundle, 'rootfs');
  for (const dir of ['bin', 'etc', 'tmp', 'root', 'home', 'var', 'usr/bin', 'proc', 'dev', 'sys']) {
    await mkdir(join(rootfs, dir), { recursive: true, mode: 0o755 });
  }
  await chmod(join(rootfs, 'tmp'), 0o1777);
  await chmod(join(rootfs, 'root'), 0o700);
  await copyFile(busybox, join(rootfs, 'bin', 'busybox'));
  await chmod(join(rootfs, 'bin', 'busybox'), 0o755);
  const { stdout } = await execFileAsync(busybox, ['--list']);
  const applets = stdout.split('\n').map((s) => s.trim()).filter((s) => s && s !== 'busybox' && !s.includes('/'));
  if (!applets.includes('sh')) throw new Error(`${busybox} --list has no sh applet`);
  for (const applet of applets) await symlink('busybox', join(rootfs, 'bin', applet));
  await writeFile(join(rootfs, 'etc', 'passwd'), BASE_PASSWD, { mode: 0o644 });
  await writeFile(join(rootfs, 'etc', 'group'), BASE_GROUP, { mode: 0o644 });
  await umoci(['repack', '--image', `${layout}:latest`, bundle]);
  await umoci(['config', '--image', `${layout}:latest`, '--config.env', BASE_PATH_ENV, '--config.cmd', 'sh']);
  await rm(bundle, { recursive: true, force: true });
  return work;
}

/** Builds the image and pushes it to `host/repo:latest` (plain HTTP); returns the reference. */
export async function pushBusyboxBase(host: string, repo: string): Promise<string> {
  const work = await writeBusyboxLayout();
  try {
    const ref = `${host}/${repo}:latest`;
    await skopeo(['copy', '--quiet', '--dest-tls-verify=false', `oci:${join(work, 'oci')}:latest`, `docker://${ref}`]);
    return ref;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

let memo: Promise<string> | undefined;

/**
 * `127.0.0.1:PORT/<repo>:latest`: the busybox base image in the plain test registry, built and
 * pushed on the first call in this process (a failed attempt is not memoised).
 */
export function busyboxBase(): Promise<string> {
  if (!memo) {
    memo = pushBusyboxBase(registries().plain.host, uniqueRepo('run/busybox-base'));
    memo.catch(() => { memo = undefined; });
  }
  return memo;
}
