// A full disk, for every kind of destination and for the local store: a small tmpfs, mounted in a private mount
// namespace around one `slipway` process. What must hold: a clear `Error:` line naming what could not be written
// and saying why (never a Node trace), exit code 1, no `dest@digest` success line, and nothing of Slipway's left
// on the disk (temporary files, work directories).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticCredentials } from '../../src/registry/auth/credentials.js';
import { RegistryClient } from '../../src/registry/client.js';
import { uniqueRepo, uploadBytes } from '../support/images.js';
import { registries } from '../support/registries.js';

const run = promisify(execFile);
const cli = join(process.cwd(), 'dist', 'slipway.cjs');
let work: string;
let image: string;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the full-disk tests mount a tmpfs: run them as root (CI does)');
  if (!existsSync(cli)) throw new Error('dist/slipway.cjs is missing: run npm run build (npm test does)');
  work = await mkdtemp(join(tmpdir(), 'slipway-full-disk-'));
  // 2 MiB of random bytes: more than the disk below holds, and no compression helps.
  const client = new RegistryClient({ credentials: staticCredentials({}) });
  const repo = { registry: registries().plain.host, repository: uniqueRepo('disk/big') };
  const manifest = await uploadBytes(client, repo, [randomBytes(2 * 1024 * 1024)]);
  await client.putManifest(repo, 'v1', manifest);
  await client.close();
  image = `${repo.registry}/${repo.repository}:v1`;
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface DiskRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Everything on the small disk afterwards (relative paths). */
  left: string[];
}

/** Run `slipway <argv>` with a tmpfs of `sizeKiB` mounted at `disk`, seen by that process alone. */
async function onSmallDisk(disk: string, sizeKiB: number, argv: string[], env: Record<string, string> = {}): Promise<DiskRun> {
  await mkdir(disk, { recursive: true });
  const script = [
    'mount -t tmpfs -o size="$2"k tmpfs "$1" || exit 99',
    'disk="$1"; shift 2',
    '"$@" >"$disk.out" 2>"$disk.err"; code=$?',
    'echo "$code"',
    'cd "$disk" && find . -mindepth 1 | sort',
  ].join('\n');
  const { stdout } = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', disk, String(sizeKiB), process.execPath, cli, ...argv], {
    env: { PATH: process.env.PATH ?? '', HOME: work, ...env },
  });
  const [code = '', ...left] = stdout.trim().split('\n');
  const { readFile } = await import('node:fs/promises');
  return {
    code: Number(code), stdout: await readFile(`${disk}.out`, 'utf8'), stderr: await readFile(`${disk}.err`, 'utf8'),
    left: left.map((l) => l.replace(/^\.\//, '')),
  };
}

function expectCleanFailure(result: DiskRun, what: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr).toMatch(/^Error: /m);
  expect(result.stderr).toMatch(what);
  expect(result.stderr).toMatch(/no space left on device/i);
  expect(result.stderr).toMatch(/the disk is full: free some space/);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(result.stdout).not.toMatch(/@sha256:/); // no success line
}

describe('a full disk', () => {
  it('oci: destination: a clear error, and no temporary files left', async () => {
    const disk = join(work, 'oci');
    const result = await onSmallDisk(disk, 256, ['copy', image, `oci:${disk}/layout:v1`]);
    expectCleanFailure(result, /cannot write/);
    expect(result.left.filter((p) => p.endsWith('.tmp'))).toEqual([]);
  });

  it('oci-archive: destination: a clear error naming the archive, no partial archive, no work directory', async () => {
    const disk = join(work, 'archive');
    const result = await onSmallDisk(disk, 256, ['copy', image, `oci-archive:${disk}/image.tar:v1`]);
    expectCleanFailure(result, /oci-archive:.*image\.tar/);
    expect(result.left).toEqual([]);
  });

  it('oci-archive: destination that fills up while packing: the error comes before any success line', async () => {
    // Enough for the work layout (2 MiB and some), not for the archive beside it as well.
    const disk = join(work, 'archive-pack');
    const result = await onSmallDisk(disk, 3 * 1024, ['copy', image, `oci-archive:${disk}/image.tar:v1`]);
    expectCleanFailure(result, /cannot write oci-archive:.*image\.tar/);
    expect(result.left).toEqual([]);
  });

  it('the local store: a build whose layer does not fit fails clearly and leaves no temporary files', async () => {
    const project = join(work, 'project');
    await mkdir(project, { recursive: true });
    await writeFile(join(project, 'werf.yaml'), 'project: disk\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n');
    await writeFile(join(project, 'Dockerfile'), 'FROM scratch\nCOPY big /big\n');
    await writeFile(join(project, 'big'), randomBytes(2 * 1024 * 1024));
    await run('git', ['init', '-q'], { cwd: project });
    await run('git', ['-c', 'user.email=t@example.org', '-c', 'user.name=t', 'add', '-A'], { cwd: project });
    await run('git', ['-c', 'user.email=t@example.org', '-c', 'user.name=t', 'commit', '-qm', 'fixture'], { cwd: project });
    const disk = join(work, 'home');
    const result = await onSmallDisk(disk, 512, ['build', '--dir', project], { SLIPWAY_HOME: disk });
    expectCleanFailure(result, /cannot write|no space/);
    expect(result.left.filter((p) => /\.tmp$|slipway-\d+-|build-\d+-/.test(p))).toEqual([]);
  });

  it('an archive on a read-only medium is read (its work directory goes to TMPDIR) and nothing is left anywhere', async () => {
    const medium = join(work, 'medium');
    await mkdir(medium, { recursive: true });
    const made = await run(process.execPath, [cli, 'copy', image, `oci-archive:${medium}/image.tar:v1`], { env: { PATH: process.env.PATH ?? '', HOME: work } });
    expect(made.stdout).toMatch(/@sha256:/);
    const tmp = join(work, 'tmp-ro');
    await mkdir(tmp, { recursive: true });
    const out = join(work, 'from-ro');
    const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && "$@"';
    const { stdout } = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', medium, process.execPath, cli, 'copy', `oci-archive:${medium}/image.tar:v1`, `oci:${out}:v1`], {
      env: { PATH: process.env.PATH ?? '', HOME: work, TMPDIR: tmp },
    });
    expect(stdout).toMatch(new RegExp(`^oci:${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:v1@sha256:`));
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(medium)).toEqual(['image.tar']);
    expect(await readdir(tmp)).toEqual([]);
  });
});

