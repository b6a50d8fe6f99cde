// A Debian bookworm base image for the real-world corpus (test/corpus/): `debootstrap --variant=minbase`
// from the mirror apt is configured with on this machine (/etc/apt/sources.list.d/debian.sources, else
// /etc/apt/sources.list), packed with umoci (independent of Slipway's code) as an OCI layout, and pushed with
// skopeo to the plain test registry once per process.
//
// debootstrap takes about a minute, so the layout is cached between runs under
// `$SLIPWAY_TEST_CACHE` (default ~/.cache/slipway-test)/debian-bookworm/<date>-<mirror>: a new one each day
// (the mirror moves on), older ones are removed. It is built in a temp dir beside the cache and renamed into
// place, so that two test processes never see half a layout.
//
// The rootfs is what debootstrap makes, less what belongs to the machine that made it or to no image:
// /etc/hostname and /etc/resolv.conf (copied from the host; a container gets its own), apt's lists and
// downloaded .debs (Docker's debian images ship without them too).
//
// Needs debootstrap, umoci and skopeo (test/setup/install-deps.sh installs them) and root.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findOnPath } from './busybox-base.js';
import { uniqueRepo } from './images.js';
import { registries, skopeo } from './registries.js';

const execFileAsync = promisify(execFile);

export const DEBIAN_SUITE = 'bookworm';
export const DEBIAN_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function requireTool(bin: string, pkg: string): void {
  const found = findOnPath(bin) ?? ['/usr/sbin', '/sbin'].map((d) => join(d, bin)).find((p) => existsSync(p));
  if (!found) throw new Error(`the Debian base image needs ${bin}: install ${pkg} (apt-get install -y ${pkg}, or test/setup/install-deps.sh)`);
}

/**
 * The Debian mirror apt uses here for `suite` (deb822 `URIs:` of the stanza whose `Suites:` name it, or the
 * one-line `deb URL suite` form), e.g. `http://deb.debian.org/debian`.
 */
export function aptMirror(suite = DEBIAN_SUITE, files = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']): string {
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (name: string): string[] => {
        const m = new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza);
        return m ? m[1]!.trim().split(/\s+/) : [];
      };
      if (field('Types').includes('deb') && field('Suites').includes(suite) && field('URIs').length > 0) return field('URIs')[0]!.replace(/\/$/, '');
    }
    for (const line of text.split('\n')) {
      const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (m && m[2] === suite) return m[1]!.replace(/\/$/, '');
    }
  }
  throw new Error(`no apt source for Debian ${suite} in ${files.join(' or ')}: the corpus base image is debootstrapped from apt's mirror`);
}

export function cacheRoot(): string {
  return join(process.env.SLIPWAY_TEST_CACHE || join(homedir(), '.cache', 'slipway-test'), `debian-${DEBIAN_SUITE}`);
}

async function run(cmd: string, args: string[]): Promise<void> {
  try {
    await execFileAsync(cmd, args, { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string };
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().slice(-3000);
    throw new Error(`${cmd} ${args.join(' ')} failed: ${output || (error as Error).message}`, { cause: error });
  }
}

/**
 * The OCI layout (tag `latest`) of today's base for apt's mirror, built if the cache has none; returns the
 * layout's directory.
 */
export async function debianBaseLayout(): Promise<string> {
  if (process.getuid?.() !== 0) throw new Error('the Debian base image is made with debootstrap and umoci as root');
  const mirror = aptMirror();
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  const key = `${day}-${createHash('sha256').update(mirror).digest('hex').slice(0, 12)}`;
  const root = cacheRoot();
  const layout = join(root, key);
  if (existsSync(join(layout, 'index.json'))) return layout;

  requireTool('debootstrap', 'debootstrap');
  requireTool('umoci', 'umoci');
  await mkdir(root, { recursive: true });
  const work = await mkdtemp(join(root, '.build-'));
  try {
    const oci = join(work, 'oci');
    const bundle = join(work, 'bundle');
    await run('umoci', ['init', '--layout', oci]);
    await run('umoci', ['new', '--image', `${oci}:latest`]);
    await run('umoci', ['unpack', '--image', `${oci}:latest`, bundle]);
    const rootfs = join(bundle, 'rootfs');
    await rm(rootfs, { recursive: true, force: true });
    await run('debootstrap', ['--variant=minbase', DEBIAN_SUITE, rootfs, mirror]);
    for (const path of ['etc/hostname', 'etc/resolv.conf', 'var/cache/apt/pkgcache.bin', 'var/cache/apt/srcpkgcache.bin']) {
      await rm(join(rootfs, path), { force: true });
    }
    for (const dir of ['var/lib/apt/lists', 'var/cache/apt/archives']) {
      for (const name of await readdir(join(rootfs, dir))) {
        if (name !== 'partial' && name !== 'lock') await rm(join(rootfs, dir, name), { recursive: true, force: true });
      }
    }
    await run('umoci', ['repack', '--image', `${oci}:latest`, bundle]);
    await run('umoci', ['config', '--image', `${oci}:latest`, '--config.env', DEBIAN_PATH_ENV, '--config.cmd', 'bash']);
    await run('umoci', ['gc', '--layout', oci]);
    try {
      await rename(oci, layout);
    } catch (error) {
      // Another process made it meanwhile: use theirs.
      if (!existsSync(join(layout, 'index.json'))) throw error;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  // Older days' layouts are not used again.
  for (const name of await readdir(root)) {
    if (name !== key && !name.startsWith('.')) await rm(join(root, name), { recursive: true, force: true });
  }
  return layout;
}

let memo: Promise<string> | undefined;

/**
 * `127.0.0.1:PORT/<repo>:latest`: the Debian base in the plain test registry, pushed on the first call in
 * this process (a failed attempt is not memoised).
 */
export function debianBase(): Promise<string> {
  if (!memo) {
    memo = (async () => {
      const layout = await debianBaseLayout();
      const ref = `${registries().plain.host}/${uniqueRepo('corpus/debian-bookworm')}:latest`;
      await skopeo(['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:latest`, `docker://${ref}`]);
      return ref;
    })();
    memo.catch(() => { memo = undefined; });
  }
  return memo;
}
