// Dockerfile RUN, differential: each Dockerfile is built by Slipway (`slipway build --repo`, in
// process) and by buildah twice (`buildah bud --isolation chroot`, and `--isolation oci` with runc, the
// runtime Slipway's RUN containers use here; test/support/buildah.ts), all FROM the
// same busybox base image (test/support/busybox-base.ts); both results are unpacked independently
// of Slipway's code (skopeo + umoci, test/support/image-fs.ts) and must have the same filesystem
// (paths, types, modes with setuid/setgid/sticky, owners, link targets, hard links, contents) and
// the same Env, User, WorkingDir, Cmd and Entrypoint. Labels, history and dates are not compared.
// Each case also checks buildah's (and so Slipway's) result for what the Dockerfile is meant to do,
// so that two builders agreeing on a wrong result, or on nothing, does not pass.
//
// buildah 1.28 builds with --layers (one layer per instruction, like BuildKit and Slipway) on the
// overlay storage driver (each RUN's layer is overlay's upper directory, like BuildKit's and
// Slipway's). It has no heredocs: that case gives it the same commands in exec form.
//
// Where the builders legitimately differ, the comparison skips exactly those paths, listed with
// their reasons (BUILDAH_STUBS, and per case), and only while they look as documented; config
// fields are normalised only where the two formats say the same thing (comparableConfig).
import { execFile } from 'node:child_process';
import { chmod, chown, link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { buildahBuild } from '../support/buildah.js';
import { BASE_GROUP, BASE_PASSWD, busyboxBase } from '../support/busybox-base.js';
import { uniqueRepo } from '../support/images.js';
import {
  diffSnapshots, imageConfig, runConfig, snapshotDir, snapshotImage,
  type FsEntry, type FsSnapshot, type IgnoreRule, type ImageConfig, type RunConfig,
} from '../support/image-fs.js';
import { registries } from '../support/registries.js';
import { commitAsync, gitAsync } from '../support/git-repo.js';

const run = promisify(execFile);

const CASE_TIMEOUT = 240_000;

let base: string;
let baseFs: FsSnapshot;
beforeAll(async () => {
  base = await busyboxBase();
  baseFs = await snapshotImage(base);
}, 120_000);

const temps: string[] = [];
afterAll(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// documented differences

const isEmptyFile = (e: FsEntry): boolean => e.type === 'file' && e.size === 0;
const isDir = (e: FsEntry): boolean => e.type === 'dir';

/**
 * buildah 1.28 with chroot isolation bind-mounts its own /etc/hosts, /etc/hostname and
 * /etc/resolv.conf over files it creates empty (mode 0755) when the base has none, and a /run
 * directory (its secrets mount point), and commits those stubs into the image. BuildKit removes
 * the stubs it creates for mounts, and Slipway need not create them at all. Skipped only while
 * they are such stubs: an /etc/hosts with content on either side is still compared.
 */
const BUILDAH_STUBS: IgnoreRule[] = [
  { path: '/etc/hosts', reason: 'buildah mount-point stub', when: isEmptyFile },
  { path: '/etc/hostname', reason: 'buildah mount-point stub', when: isEmptyFile },
  { path: '/etc/resolv.conf', reason: 'buildah mount-point stub', when: isEmptyFile },
  { path: '/run', reason: 'buildah mount-point stub (an empty directory: anything below /run is still compared)', when: isDir },
];

// ---------------------------------------------------------------------------
// projects and builds

const WERF_YAML = 'project: x\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n';

/** A committed git project: werf.yaml (one image `app` from `Dockerfile`) plus `files`. */
async function project(files: Record<string, string>, werfYaml = WERF_YAML): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-run-diff-'));
  temps.push(dir);
  for (const [path, content] of Object.entries({ 'werf.yaml': werfYaml, ...files })) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await commitAsync(dir, 'fixture', { init: true });
  return dir;
}

interface SlipwayResult { code: number; out: string }

async function slipwayBuild(dir: string, repo: string): Promise<SlipwayResult> {
  let out = '';
  const code = await runCli(['build', '--dir', dir, '--repo', repo], {
    io: { stdout: (t) => { out += t; }, stderr: (t) => { out += t; } },
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), SLIPWAY_HOME: join(dir, '.slipway-home') },
  });
  return { code, out };
}

/** The tag `image app: HOST/REPO:TAG` names in Slipway's output. */
function appTag(out: string): string {
  const match = /^image app: \S+?:([0-9a-f]{56}-\d{13})$/m.exec(out);
  if (!match) throw new Error(`no 'image app:' line in Slipway's output:\n${out}`);
  return match[1]!;
}

function stageLines(out: string): { built: string[]; reused: string[] } {
  return {
    built: [...out.matchAll(/^Store stage (\S+)/gm)].map((m) => m[1]!),
    reused: [...out.matchAll(/^Use previously built image for (\S+)/gm)].map((m) => m[1]!),
  };
}

interface Side { ref: string; fs: FsSnapshot; config: ImageConfig }
interface Compared { buildah: Side; slipway: Side; dir: string; slipwayOut: string }

interface Case {
  /** The Dockerfile; `@BASE@` stands for the busybox base image. */
  dockerfile: string;
  /**
   * What buildah builds instead, for syntax buildah 1.28 lacks (heredocs): the same commands
   * written as buildah understands them. Default: `dockerfile`.
   */
  buildahDockerfile?: string;
  /** More context files. */
  files?: Record<string, string>;
  /** Build args: werf.yaml `args:` for Slipway, `--build-arg` for buildah. */
  args?: Record<string, string>;
  /** buildah's `--format` (docker: for SHELL, which buildah ignores in OCI images). */
  buildahFormat?: 'oci' | 'docker';
  /** Paths where this case's builders may legitimately differ, with the reason. */
  ignore?: IgnoreRule[];
  /** Checks of what the Dockerfile is meant to do, run on each side's snapshot (buildah's first). */
  check: (fs: FsSnapshot, side: 'buildah' | 'slipway') => void;
}

/**
 * The parts of the config compared. Env as a sorted list: buildah 1.28 moves a variable that ENV
 * sets again (PATH) to the end, Docker keeps its place. An empty Entrypoint is no entrypoint (the
 * container runs Cmd alone either way): buildah --format docker writes [] where the base had none.
 */
function comparableConfig(config: ImageConfig): RunConfig {
  const c = runConfig(config);
  return { ...c, Env: c.Env ? [...c.Env].sort() : null, Entrypoint: c.Entrypoint?.length ? c.Entrypoint : null };
}

/**
 * Builds `c` with buildah and checks its result, then with Slipway and checks that too, then
 * compares the two filesystems and configs.
 */
async function differential(name: string, c: Case): Promise<Compared> {
  const { plain } = registries();
  const withBase = (text: string): string => text.replaceAll('@BASE@', base);
  const files: Record<string, string> = { Dockerfile: withBase(c.dockerfile), ...(c.files ?? {}) };
  if (c.buildahDockerfile) files['buildah.Dockerfile'] = withBase(c.buildahDockerfile);
  const args = Object.entries(c.args ?? {});
  const werfYaml = args.length === 0 ? WERF_YAML : `${WERF_YAML}args:\n${args.map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n')}\n`;
  const dir = await project(files, werfYaml);

  const buildahRef = `${plain.host}/${uniqueRepo(`run-diff/${name}-buildah`)}:latest`;
  // --layers: one layer per instruction, as BuildKit and Slipway make them (without it buildah
  // commits all RUNs as one layer, and what crosses a layer boundary, such as hard links, is not tested).
  await buildahBuild({
    context: dir, dockerfile: c.buildahDockerfile ? 'buildah.Dockerfile' : 'Dockerfile', buildArgs: c.args,
    format: c.buildahFormat, layers: true, destination: buildahRef,
  });
  const buildah: Side = { ref: buildahRef, fs: await snapshotImage(buildahRef), config: await imageConfig(buildahRef) };
  c.check(buildah.fs, 'buildah');
  // The second reference: buildah running each RUN in a runc container, as Slipway does.
  const ociRef = `${plain.host}/${uniqueRepo(`run-diff/${name}-buildah-oci`)}:latest`;
  await buildahBuild({
    context: dir, dockerfile: c.buildahDockerfile ? 'buildah.Dockerfile' : 'Dockerfile', buildArgs: c.args,
    format: c.buildahFormat, layers: true, destination: ociRef, isolation: 'oci',
  });
  const buildahOci: Side = { ref: ociRef, fs: await snapshotImage(ociRef), config: await imageConfig(ociRef) };
  c.check(buildahOci.fs, 'buildah');

  const repo = `${plain.host}/${uniqueRepo(`run-diff/${name}-slipway`)}`;
  const built = await slipwayBuild(dir, repo);
  expect(built.code, built.out).toBe(0);
  const slipwayRef = `${repo}:${appTag(built.out)}`;
  const slipway: Side = { ref: slipwayRef, fs: await snapshotImage(slipwayRef), config: await imageConfig(slipwayRef) };

  for (const [label, reference] of [['buildah', buildah], ['buildah --isolation oci', buildahOci]] as const) {
    const diff = diffSnapshots(slipway.fs, reference.fs, { labels: ['slipway', label], ignore: [...BUILDAH_STUBS, ...(c.ignore ?? [])] });
    expect(diff, `filesystem differences from ${label} (${name}):\n${diff.join('\n')}`).toEqual([]);
    expect(comparableConfig(slipway.config), `config (${name}, ${label})`).toEqual(comparableConfig(reference.config));
  }
  c.check(slipway.fs, 'slipway');
  return { buildah, slipway, dir, slipwayOut: built.out };
}

/** The entry at `path`, or a failed expectation naming the side. */
function at(fs: FsSnapshot, path: string, side: string): FsEntry {
  const entry = fs.get(path);
  expect(entry, `${side}: ${path} missing`).toBeDefined();
  return entry!;
}

function text(fs: FsSnapshot, path: string, side: string): string {
  const entry = at(fs, path, side);
  expect(entry.type, `${side}: ${path}`).toBe('file');
  expect(entry.text, `${side}: ${path} is larger than the snapshot keeps as text`).toBeDefined();
  return entry.text!;
}

function expectEntry(fs: FsSnapshot, path: string, side: string, expected: Partial<FsEntry>): void {
  expect(at(fs, path, side), `${side}: ${path}`).toMatchObject(expected);
}

// ---------------------------------------------------------------------------

describe('the snapshot comparison', () => {
  it('reports every kind of difference, and skips an ignored path only while it matches its rule', async () => {
    const root = await mkdtemp(join(tmpdir(), 'slipway-fs-diff-'));
    temps.push(root);
    const make = async (side: string, variant: boolean): Promise<FsSnapshot> => {
      const r = join(root, side);
      await mkdir(join(r, 'd'), { recursive: true });
      await writeFile(join(r, 'content'), variant ? 'bbbb' : 'aaaa'); // same size, other bytes
      await writeFile(join(r, 'mode'), 'm');
      await chmod(join(r, 'mode'), variant ? 0o4755 : 0o755);
      await writeFile(join(r, 'owner'), 'o');
      await chown(join(r, 'owner'), variant ? 1000 : 0, variant ? 50 : 0);
      await symlink(variant ? '/d' : 'd', join(r, 'link'));
      await writeFile(join(r, 'h1'), 'h');
      if (variant) await link(join(r, 'h1'), join(r, 'h2'));
      else await writeFile(join(r, 'h2'), 'h');
      if (variant) await mkdir(join(r, 'kind'));
      else await writeFile(join(r, 'kind'), '');
      await writeFile(join(r, variant ? 'only-b' : 'only-a'), '');
      await writeFile(join(r, 'stub'), variant ? 'not empty' : '');
      await writeFile(join(r, 'stub2'), '');
      await chmod(join(r, 'd'), variant ? 0o1777 : 0o755);
      await writeFile(join(r, 'attrs'), 'x');
      if (variant) await run('setfattr', ['-n', 'user.origin', '-v', '0x6869', join(r, 'attrs')]);
      await writeFile(join(r, 'log'), variant ? 'at 12:01' : 'at 12:00');
      return snapshotDir(r);
    };
    const a = await make('a', false);
    const b = await make('b', true);
    const ignore: IgnoreRule[] = [
      { path: '/stub', reason: 'test', when: isEmptyFile }, // b's is not empty: still compared
      { path: '/stub2', reason: 'test', when: isEmptyFile }, // both empty: skipped
      { path: '/log', reason: 'test', fields: ['content'] }, // only its content is not compared
      { path: '/owner', reason: 'test', fields: ['content'] }, // its owner still is
    ];
    expect(diffSnapshots(a, b, { labels: ['A', 'B'], ignore })).toEqual([
      '/attrs: xattrs A none, B user.origin=6869',
      '/content: content A 4 B "aaaa", B 4 B "bbbb"',
      '/d: mode A 0755, B 1777',
      '/h1: hard links A [none], B [/h2]',
      '/h2: hard links A [none], B [/h1]',
      '/kind: type A file 0644 0:0 0 B sha256:e3b0c44298fc "", B dir 0755 0:0',
      '/link: link A d, B /d',
      '/mode: mode A 0755, B 4755',
      '/only-a: only in A: file 0644 0:0 0 B sha256:e3b0c44298fc ""',
      '/only-b: only in B: file 0644 0:0 0 B sha256:e3b0c44298fc ""',
      '/owner: owner A 0:0, B 1000:50',
      '/stub: content A 0 B "", B 9 B "not empty"',
    ]);
    expect(diffSnapshots(a, a)).toEqual([]);
  });
});

describe('RUN, Slipway against buildah', () => {
  it('package-manager style file work: directories, files, users and groups, chown -R, setuid and sticky modes', async () => {
    await differential('pkg', {
      dockerfile: [
        'FROM @BASE@',
        // Debian's busybox has no adduser/addgroup applets: these functions do what they do to the files.
        'RUN addgroup() { echo "$1:x:$2:" >> /etc/group; } \\',
        ' && adduser() { echo "$1:x:$2:$3:$1:/home/$1:/bin/sh" >> /etc/passwd; mkdir -p "/home/$1"; chown "$1:$3" "/home/$1"; chmod 750 "/home/$1"; } \\',
        ' && addgroup svc 1001 && adduser svc 1001 1001 \\',
        ' && sed -i "s/^staff:x:50:app$/staff:x:50:app,svc/" /etc/group \\',
        ' && mkdir -p /opt/pkg/bin /opt/pkg/share/doc/pkg /opt/pkg/lib /var/lib/pkg/state /var/log/pkg \\',
        ' && echo "pkg 1.0" > /opt/pkg/share/doc/pkg/README \\',
        ' && printf "#!/bin/sh\\necho tool\\n" > /opt/pkg/bin/tool && chmod 755 /opt/pkg/bin/tool \\',
        ' && cp /bin/busybox /opt/pkg/bin/suid-tool && chmod 4755 /opt/pkg/bin/suid-tool \\',
        ' && echo lib > /opt/pkg/lib/libpkg.so.1 && ln -s libpkg.so.1 /opt/pkg/lib/libpkg.so \\',
        ' && echo state > /var/lib/pkg/state/db && chown -R svc:svc /var/lib/pkg \\',
        ' && chown -R svc:staff /var/log/pkg && chmod 2775 /var/log/pkg \\',
        ' && mkdir -p /var/spool/drop && chmod 1777 /var/spool/drop \\',
        ' && echo secret > /etc/pkg.key && chmod 0600 /etc/pkg.key && chown app /etc/pkg.key',
        'RUN echo "installed" >> /var/lib/pkg/state/db && chmod 0640 /var/lib/pkg/state/db && touch /var/log/pkg/install.log \\',
        ' && mkdir -m 0700 /var/lib/pkg/empty',
      ].join('\n'),
      check: (fs, side) => {
        expect(text(fs, '/etc/passwd', side)).toBe(`${BASE_PASSWD}svc:x:1001:1001:svc:/home/svc:/bin/sh\n`);
        expect(text(fs, '/etc/group', side)).toBe(`${BASE_GROUP.replace('staff:x:50:app', 'staff:x:50:app,svc')}svc:x:1001:\n`);
        expectEntry(fs, '/home/svc', side, { type: 'dir', mode: 0o750, uid: 1001, gid: 1001 });
        expectEntry(fs, '/opt/pkg/bin/suid-tool', side, { type: 'file', mode: 0o4755, uid: 0, gid: 0 });
        expectEntry(fs, '/var/lib/pkg/state/db', side, { mode: 0o640, uid: 1001, gid: 1001, text: 'state\ninstalled\n' });
        expectEntry(fs, '/var/log/pkg', side, { type: 'dir', mode: 0o2775, uid: 1001, gid: 50 });
        expectEntry(fs, '/var/log/pkg/install.log', side, { type: 'file', uid: 0, gid: 50 }); // setgid dir: the group is inherited
        expectEntry(fs, '/var/spool/drop', side, { type: 'dir', mode: 0o1777 });
        expectEntry(fs, '/etc/pkg.key', side, { mode: 0o600, uid: 1000, gid: 0 });
        expectEntry(fs, '/opt/pkg/lib/libpkg.so', side, { type: 'symlink', linkTarget: 'libpkg.so.1' });
        expectEntry(fs, '/var/lib/pkg/empty', side, { type: 'dir', mode: 0o700 });
      },
    });
  }, CASE_TIMEOUT);

  it('symlinks: relative, absolute, dangling, to directories, replacing base files and base links', async () => {
    await differential('symlinks', {
      dockerfile: [
        'FROM @BASE@',
        'RUN mkdir -p /opt/links/dir && echo target > /opt/links/dir/file \\',
        ' && ln -s dir/file /opt/links/rel \\',
        ' && ln -s /opt/links/dir/file /opt/links/abs \\',
        ' && ln -s /nonexistent/target /opt/links/dangling \\',
        ' && ln -s ../missing /opt/links/dangling-rel \\',
        ' && ln -s dir /opt/links/dirlink && echo via > /opt/links/dirlink/via \\',
        ' && ln -s ../links /opt/links/dir/up \\',
        ' && ln -s /bin/busybox /usr/bin/bb',
        // a base symlink becomes a file, a base link gets another target, a base file becomes a link
        'RUN rm /bin/yes && echo "not a link" > /bin/yes \\',
        ' && ln -sf /bin/busybox /bin/true \\',
        ' && mv /etc/group /etc/group.real && ln -s group.real /etc/group',
        'RUN ln -sfn /opt/links/dir /opt/links/dirlink2 && rm /opt/links/rel && ln -s dir/via /opt/links/rel \\',
        ' && ln -s dir/file /opt/links/owned && chown -h app:staff /opt/links/owned',
      ].join('\n'),
      check: (fs, side) => {
        expectEntry(fs, '/opt/links/rel', side, { type: 'symlink', linkTarget: 'dir/via' });
        expectEntry(fs, '/opt/links/abs', side, { type: 'symlink', linkTarget: '/opt/links/dir/file' });
        expectEntry(fs, '/opt/links/dangling', side, { type: 'symlink', linkTarget: '/nonexistent/target' });
        expectEntry(fs, '/opt/links/dangling-rel', side, { type: 'symlink', linkTarget: '../missing' });
        expectEntry(fs, '/opt/links/dir/via', side, { type: 'file', text: 'via\n' });
        expectEntry(fs, '/opt/links/dir/up', side, { type: 'symlink', linkTarget: '../links' });
        expectEntry(fs, '/opt/links/dirlink2', side, { type: 'symlink', linkTarget: '/opt/links/dir' });
        expectEntry(fs, '/bin/yes', side, { type: 'file', text: 'not a link\n' });
        expectEntry(fs, '/bin/true', side, { type: 'symlink', linkTarget: '/bin/busybox' });
        expectEntry(fs, '/etc/group', side, { type: 'symlink', linkTarget: 'group.real' });
        expectEntry(fs, '/etc/group.real', side, { type: 'file', text: BASE_GROUP });
        expectEntry(fs, '/opt/links/owned', side, { type: 'symlink', uid: 1000, gid: 50 }); // lchown: the link's own owner
        expectEntry(fs, '/opt/links/dir/file', side, { type: 'file', uid: 0, gid: 0 });
      },
    });
  }, CASE_TIMEOUT);

  it('deletes base files and whole base directories, and re-creates deleted directories (opaque directories)', async () => {
    await differential('delete', {
      dockerfile: [
        'FROM @BASE@',
        'RUN mkdir -p /opt/tree/a/b /opt/tree/c /opt/keep /opt/dir2link && echo 1 > /opt/tree/a/b/f1 && echo 2 > /opt/tree/c/f2 \\',
        ' && echo x > /opt/dir2link/f \\',
        ' && echo 3 > /opt/tree/f3 && echo 4 > /opt/tree/c/f4 && echo k > /opt/keep/k && mkdir /var/cache && echo c > /var/cache/c',
        // base files and a whole base directory (/var, with what the previous RUN put in it)
        'RUN rm /bin/vi /bin/yes /bin/xz && rm -rf /var /usr \\',
        // a directory of an earlier RUN, deleted in part and in whole
        ' && rm -rf /opt/tree/a && rm /opt/tree/c/f4 \\',
        // rm -rf + mkdir: the directory exists again, without any of its old entries
        ' && rm -rf /opt/tree/c && mkdir /opt/tree/c && echo new > /opt/tree/c/g \\',
        ' && rm -rf /home && mkdir -m 0750 /home && echo recreated > /home/marker \\',
        // a file becomes a directory and a directory a file
        ' && rm /bin/zcat && mkdir /bin/zcat && rm -rf /opt/keep && echo "was a dir" > /opt/keep \\',
        ' && rm -rf /opt/dir2link && ln -s /tmp /opt/dir2link',
        // a directory deleted in an earlier RUN layer is created again, empty, then filled
        'RUN mkdir /var && echo again > /var/only && rm -rf /opt/tree && mkdir -p /opt/tree/c && echo third > /opt/tree/c/h',
      ].join('\n'),
      check: (fs, side) => {
        for (const gone of ['/bin/vi', '/bin/yes', '/bin/xz', '/usr', '/usr/bin', '/var/cache', '/var/cache/c', '/opt/tree/a', '/opt/tree/f3', '/opt/tree/c/f2', '/opt/tree/c/f4', '/opt/tree/c/g', '/opt/keep/k']) {
          expect(fs.has(gone), `${side}: ${gone} should be gone`).toBe(false);
        }
        expect([...fs.keys()].filter((p) => p.startsWith('/var/'))).toEqual(['/var/only']);
        expect([...fs.keys()].filter((p) => p.startsWith('/opt/tree/'))).toEqual(['/opt/tree/c', '/opt/tree/c/h']);
        expect([...fs.keys()].filter((p) => p.startsWith('/home/'))).toEqual(['/home/marker']);
        expectEntry(fs, '/home', side, { type: 'dir', mode: 0o750 });
        expectEntry(fs, '/bin/zcat', side, { type: 'dir' });
        expectEntry(fs, '/opt/keep', side, { type: 'file', text: 'was a dir\n' });
        expectEntry(fs, '/opt/dir2link', side, { type: 'symlink', linkTarget: '/tmp' });
        expect(fs.has('/opt/dir2link/f')).toBe(false);
        expect(fs.has('/bin/busybox') && fs.has('/bin/sh'), `${side}: the rest of /bin stays`).toBe(true);
      },
    });
  }, CASE_TIMEOUT);

  it('sees a same-size rewrite within the same second, and changes of mode or owner alone', async () => {
    await differential('same-size', {
      dockerfile: [
        'FROM @BASE@',
        'RUN echo aaaa > /data.txt && echo keep > /meta-mode && echo keep > /meta-owner && touch -d "2020-01-01 00:00:00" /data.txt /meta-mode /meta-owner',
        // same size, same mtime (set back), only the bytes differ
        'RUN echo bbbb > /data.txt && touch -d "2020-01-01 00:00:00" /data.txt && chmod 600 /meta-mode && chown 1000:1000 /meta-owner',
        // a base file edited in place to the same size, its mtime restored
        'RUN touch -r /etc/passwd /tmp/ref && sed -i "s/nobody:x/nobodY:x/" /etc/passwd && touch -r /tmp/ref /etc/passwd && rm /tmp/ref',
        // two rewrites in quick succession, the last one wins
        'RUN echo 1111 > /quick && echo 2222 > /quick',
        'RUN echo 3333 > /quick',
        // directories of the base whose mode or owner alone changes
        'RUN chmod 0711 /var && chown 0:50 /home',
      ].join('\n'),
      check: (fs, side) => {
        expectEntry(fs, '/data.txt', side, { text: 'bbbb\n', mode: 0o644 });
        expectEntry(fs, '/meta-mode', side, { text: 'keep\n', mode: 0o600 });
        expectEntry(fs, '/meta-owner', side, { text: 'keep\n', uid: 1000, gid: 1000 });
        expect(text(fs, '/etc/passwd', side)).toBe(BASE_PASSWD.replace('nobody:x', 'nobodY:x'));
        expectEntry(fs, '/quick', side, { text: '3333\n' });
        expectEntry(fs, '/var', side, { type: 'dir', mode: 0o711, uid: 0, gid: 0 });
        expectEntry(fs, '/home', side, { type: 'dir', mode: 0o755, uid: 0, gid: 50 });
        expect(fs.has('/tmp/ref')).toBe(false);
      },
    });
  }, CASE_TIMEOUT);

  it('keeps hard links, within a RUN, to base files, and across RUNs', async () => {
    await differential('hardlinks', {
      dockerfile: [
        'FROM @BASE@',
        'RUN mkdir -p /opt/hl/sub /opt/hl2 && echo shared > /opt/hl/a && ln /opt/hl/a /opt/hl/b && ln /opt/hl/a /opt/hl/sub/c \\',
        ' && echo other > /opt/hl2/x && ln /opt/hl2/x /opt/hl2/y',
        'RUN ln /bin/busybox /usr/bin/busybox-hard',
        'RUN ln /opt/hl/a /opt/hl/d && echo single > /opt/hl/e',
        'RUN rm /opt/hl/b',
      ].join('\n'),
      check: (fs, side) => {
        expectEntry(fs, '/opt/hl2/x', side, { text: 'other\n', hardlinks: ['/opt/hl2/y'] });
        // `ln a d` in a later RUN copies `a` up into that RUN's layer and links `d` to the copy: `sub/c`
        // stays the earlier layer's file (overlayfs copy-up, as in BuildKit and buildah --layers).
        expectEntry(fs, '/opt/hl/a', side, { text: 'shared\n', hardlinks: ['/opt/hl/d'] });
        expectEntry(fs, '/opt/hl/d', side, { hardlinks: ['/opt/hl/a'] });
        expect(at(fs, '/opt/hl/sub/c', side)).toMatchObject({ text: 'shared\n' });
        expect(at(fs, '/opt/hl/sub/c', side).hardlinks).toBeUndefined();
        expectEntry(fs, '/usr/bin/busybox-hard', side, { type: 'file', hardlinks: ['/bin/busybox'], sha256: at(baseFs, '/bin/busybox', 'base').sha256 });
        expect(fs.has('/opt/hl/b')).toBe(false);
        expect(at(fs, '/opt/hl/e', side).hardlinks).toBeUndefined();
      },
    });
  }, CASE_TIMEOUT);

  it('copies RUN output of one stage into another with COPY --from', async () => {
    await differential('multistage', {
      dockerfile: [
        'FROM @BASE@ AS builder',
        'RUN mkdir -p /out/bin /out/etc /out/empty && echo built > /out/etc/conf && cp /bin/busybox /out/bin/tool \\',
        ' && chmod 4750 /out/bin/tool && chown app:staff /out/etc/conf && ln -s tool /out/bin/alias && chmod 700 /out/empty',
        'FROM @BASE@',
        'COPY --from=builder /out/ /opt/app/',
        'COPY --from=builder --chown=app:app /out/etc/conf /etc/app.conf',
        'RUN stat -c "%n %a %u %g %F" /opt/app/bin/tool /opt/app/bin/alias /opt/app/etc/conf /opt/app/empty /etc/app.conf > /opt/stat',
      ].join('\n'),
      check: (fs, side) => {
        expectEntry(fs, '/opt/app/bin/tool', side, { type: 'file', mode: 0o4750 });
        expectEntry(fs, '/opt/app/bin/alias', side, { type: 'symlink', linkTarget: 'tool' });
        expectEntry(fs, '/opt/app/etc/conf', side, { text: 'built\n' });
        expectEntry(fs, '/etc/app.conf', side, { text: 'built\n', uid: 1000, gid: 1000 });
        expect(fs.has('/out')).toBe(false);
        expect(text(fs, '/opt/stat', side)).toMatch(/^\/opt\/app\/bin\/tool 4750 /);
      },
    });
  }, CASE_TIMEOUT);

  it('keeps a named pipe (FIFO) that a RUN makes, as a tar fifo entry', async () => {
    await differential('fifo', {
      dockerfile: [
        'FROM @BASE@',
        'RUN mkdir -p /var/lib/pkg && mkfifo -m 0640 /var/lib/pkg/fifo && chown app:staff /var/lib/pkg/fifo',
      ].join('\n'),
      check: (fs, side) => {
        expectEntry(fs, '/var/lib/pkg/fifo', side, { type: 'fifo', mode: 0o640, uid: 1000, gid: 50 });
      },
    });
  }, CASE_TIMEOUT);

  it('file names: long paths, long names, spaces, UTF-8, leading dashes and odd characters', async () => {
    const long = `/opt/names/${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(60)}`; // > 100 characters: beyond a plain tar header
    await differential('names', {
      dockerfile: [
        'FROM @BASE@',
        `RUN mkdir -p ${long} && echo long > ${long}/${'n'.repeat(200)}.txt \\`,
        ` && ln -s ${long}/${'n'.repeat(200)}.txt /opt/names/long-link && ln -s /opt/names/${'t'.repeat(150)} /opt/names/long-target \\`,
        ' && echo space > "/opt/names/with space" && echo utf > "/opt/names/grüße-日本" && echo dash > /opt/names/-dash \\',
        " && echo odd > '/opt/names/a\\b' && echo quote > \"/opt/names/it's\" && echo colon > /opt/names/a:b=c,d",
        `RUN ln ${long}/${'n'.repeat(200)}.txt /opt/names/long-hardlink && rm "/opt/names/with space"`,
      ].join('\n'),
      check: (fs, side) => {
        expectEntry(fs, `${long}/${'n'.repeat(200)}.txt`, side, { type: 'file', text: 'long\n', hardlinks: ['/opt/names/long-hardlink'] });
        expectEntry(fs, '/opt/names/long-target', side, { type: 'symlink', linkTarget: `/opt/names/${'t'.repeat(150)}` });
        expectEntry(fs, '/opt/names/grüße-日本', side, { text: 'utf\n' });
        expectEntry(fs, '/opt/names/-dash', side, { text: 'dash\n' });
        expectEntry(fs, '/opt/names/a\\b', side, { text: 'odd\n' });
        expectEntry(fs, "/opt/names/it's", side, { text: 'quote\n' });
        expectEntry(fs, '/opt/names/a:b=c,d', side, { text: 'colon\n' });
        expect(fs.has('/opt/names/with space')).toBe(false);
      },
    });
  }, CASE_TIMEOUT);

  it('RUN --mount=type=cache: the second RUN sees the first one\'s files; the cache is not in the image', async () => {
    await differential('cache-mount', {
      dockerfile: [
        'FROM @BASE@',
        'RUN --mount=type=cache,target=/cache mkdir -p /cache/sub && echo first > /cache/sub/f && echo ok > /step1',
        'RUN --mount=type=cache,target=/cache cat /cache/sub/f > /seen && ls /cache > /listing && echo second > /cache/g',
        'RUN --mount=type=cache,target=/var/cache/pkg ls /var/cache/pkg > /other-target-listing',
      ].join('\n'),
      ignore: [
        // buildah removes a mount target it created (/var/cache/pkg) but keeps the parents it created
        // for it (/var/cache); BuildKit removes both (mount stubs are removed recursively). Only while
        // it is a directory: anything in it is still compared.
        { path: '/var/cache', reason: 'buildah keeps the parent it created for a mount target', when: isDir },
      ],
      check: (fs, side) => {
        expectEntry(fs, '/seen', side, { text: 'first\n' });
        expectEntry(fs, '/listing', side, { text: 'sub\n' });
        expectEntry(fs, '/other-target-listing', side, { text: '' }); // another target is another cache
        expect([...fs.keys()].filter((p) => p.startsWith('/cache/') || p.startsWith('/var/cache/'))).toEqual([]);
      },
    });
  }, CASE_TIMEOUT);

  it('heredocs: a script, a #!/bin/sh script, cat <<EOF > file, quoted and tab-stripping delimiters', async () => {
    // buildah 1.28 has no heredocs: it builds the same commands in exec form, as BuildKit runs them
    // (a heredoc that is the whole command runs as `sh -c <content>`; one with a shebang runs as a
    // script file, so its interpreter line counts; any other heredoc is handed to the shell with the command).
    const script = 'mkdir -p /opt/here\necho "$GREETING from heredoc" > /opt/here/plain\ncd /opt/here\npwd > cwd\n';
    await differential('heredoc', {
      dockerfile: [
        'FROM @BASE@',
        'ENV GREETING=hello',
        'RUN <<EOF',
        script + 'EOF',
        'RUN <<EOF',
        '#!/bin/sh',
        'echo "shebang $GREETING" > /opt/here/shebang',
        'EOF',
        'RUN <<EOF',
        '#!/bin/sh -f',
        'echo /bin/s* > /opt/here/noglob',
        'EOF',
        'RUN cat <<EOF > /opt/here/conf',
        'name=$GREETING',
        'home=$HOME',
        'EOF',
        "RUN cat <<'EOF' > /opt/here/literal",
        '$GREETING stays',
        'EOF',
        'RUN <<-EOF',
        '\techo tabs > /opt/here/tabs',
        '\tEOF',
        'RUN sh -e <<EOF',
        'echo stdin-script > /opt/here/stdin',
        'EOF',
      ].join('\n'),
      buildahDockerfile: [
        'FROM @BASE@',
        'ENV GREETING=hello',
        `RUN ${JSON.stringify(['/bin/sh', '-c', script])}`,
        `RUN ${JSON.stringify(['/bin/sh', '-c', '#!/bin/sh\necho "shebang $GREETING" > /opt/here/shebang\n'])}`,
        `RUN ${JSON.stringify(['/bin/sh', '-f', '-c', 'echo /bin/s* > /opt/here/noglob\n'])}`,
        `RUN ${JSON.stringify(['/bin/sh', '-c', 'cat <<EOF > /opt/here/conf\nname=$GREETING\nhome=$HOME\nEOF'])}`,
        `RUN ${JSON.stringify(['/bin/sh', '-c', "cat <<'EOF' > /opt/here/literal\n$GREETING stays\nEOF"])}`,
        `RUN ${JSON.stringify(['/bin/sh', '-c', 'echo tabs > /opt/here/tabs\n'])}`,
        `RUN ${JSON.stringify(['/bin/sh', '-c', 'sh -e <<EOF\necho stdin-script > /opt/here/stdin\nEOF'])}`,
      ].join('\n'),
      check: (fs, side) => {
        expectEntry(fs, '/opt/here/plain', side, { text: 'hello from heredoc\n' });
        expectEntry(fs, '/opt/here/cwd', side, { text: '/opt/here\n' });
        expectEntry(fs, '/opt/here/shebang', side, { text: 'shebang hello\n' });
        expectEntry(fs, '/opt/here/noglob', side, { text: '/bin/s*\n' }); // `-f` of the shebang line: no globbing
        expectEntry(fs, '/opt/here/conf', side, { text: 'name=hello\nhome=/root\n' });
        expectEntry(fs, '/opt/here/literal', side, { text: '$GREETING stays\n' });
        expectEntry(fs, '/opt/here/tabs', side, { text: 'tabs\n' });
        expectEntry(fs, '/opt/here/stdin', side, { text: 'stdin-script\n' });
      },
    });
  }, CASE_TIMEOUT);

  it('USER, WORKDIR, ENV and ARG are what RUN sees', async () => {
    const VARS = ['APP_HOME', 'BUILD_ARG', 'HOME', 'OVERRIDDEN', 'PATH'];
    const selected = (env: string): string[] => env.split('\n').filter((l) => VARS.includes(l.slice(0, l.indexOf('='))));
    const { buildah, slipway } = await differential('user-env', {
      dockerfile: [
        'FROM @BASE@',
        'ARG BUILD_ARG=default-value',
        'ARG OVERRIDDEN=from-dockerfile',
        'ENV APP_HOME=/srv/app PATH=/opt/tools/bin:$PATH',
        'RUN mkdir -p /out /srv/app && chown app:app /srv/app && chmod 777 /out',
        'WORKDIR /srv/app',
        'USER app',
        'RUN id > /out/id; pwd > /out/pwd; env | sort > /out/env; echo "$BUILD_ARG $OVERRIDDEN" > /out/args; umask > /out/umask; touch owned-by-app',
        'USER app:staff',
        'RUN id > /out/id2 && touch /srv/app/owned-by-app-staff',
        'USER root',
        'WORKDIR sub',
        'RUN pwd > /out/pwd2 && id -u > /out/uid && echo "$HOME" > /out/home-root',
        'USER 1000:50',
        'RUN id > /out/id3 && mkdir /out/x && echo "$HOME" > /out/home-numeric',
        'ENV LATE=1',
      ].join('\n'),
      args: { OVERRIDDEN: 'from-werf-yaml' },
      ignore: [
        // `env | sort` lists what each builder's process environment has besides the image's
        // (HOSTNAME, and whatever else the runtime adds): compared below on selected variables.
        { path: '/out/env', reason: 'runtime-specific variables (HOSTNAME, ...)' },
      ],
      check: (fs, side) => {
        expect(text(fs, '/out/id', side)).toBe('uid=1000(app) gid=1000(app) groups=50(staff),1000(app)\n');
        expect(text(fs, '/out/pwd', side)).toBe('/srv/app\n');
        expect(text(fs, '/out/args', side)).toBe('default-value from-werf-yaml\n');
        expect(text(fs, '/out/umask', side)).toBe('0022\n');
        expect(text(fs, '/out/pwd2', side)).toBe('/srv/app/sub\n');
        expect(text(fs, '/out/uid', side)).toBe('0\n');
        expect(text(fs, '/out/home-root', side)).toBe('/root\n');
        expectEntry(fs, '/srv/app/owned-by-app', side, { uid: 1000, gid: 1000 });
        expectEntry(fs, '/srv/app/owned-by-app-staff', side, { uid: 1000, gid: 50 });
        expectEntry(fs, '/out/x', side, { type: 'dir', uid: 1000, gid: 50 });
        expect(selected(text(fs, '/out/env', side))).toEqual([
          'APP_HOME=/srv/app', 'BUILD_ARG=default-value', 'HOME=/home/app', 'OVERRIDDEN=from-werf-yaml',
          'PATH=/opt/tools/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        ]);
      },
    });
    expect(selected(text(slipway.fs, '/out/env', 'slipway'))).toEqual(selected(text(buildah.fs, '/out/env', 'buildah')));
    expect(text(slipway.fs, '/out/id2', 'slipway')).toBe(text(buildah.fs, '/out/id2', 'buildah'));
    expect(runConfig(slipway.config)).toMatchObject({ User: '1000:50', WorkingDir: '/srv/app/sub' });
    expect(runConfig(slipway.config).Env).toEqual(expect.arrayContaining(['APP_HOME=/srv/app', 'LATE=1']));
    expect(runConfig(slipway.config).Env?.some((e) => e.startsWith('BUILD_ARG='))).toBe(false); // ARGs are not kept in the image
  }, CASE_TIMEOUT);

  it('ARG scoping: a global ARG is visible to RUN only when declared again after FROM; automatic platform ARGs', async () => {
    await differential('arg-scope', {
      dockerfile: [
        'ARG GLOBAL=global-default',
        'ARG UNUSED=u',
        'FROM @BASE@',
        'RUN echo "[$GLOBAL]" > /before-redeclare',
        'ARG GLOBAL',
        'ARG EMPTY',
        'ARG TARGETARCH',
        'ARG TARGETOS',
        'RUN echo "[$GLOBAL] [$EMPTY] [$UNUSED] [$TARGETOS/$TARGETARCH]" > /after-redeclare',
        'ARG GLOBAL=stage-default',
        'RUN echo "[$GLOBAL]" > /after-new-default',
        'ENV GLOBAL=from-env',
        'RUN echo "[$GLOBAL]" > /env-wins',
      ].join('\n'),
      args: { GLOBAL: 'from-werf-yaml' },
      check: (fs, side) => {
        expectEntry(fs, '/before-redeclare', side, { text: '[]\n' });
        expectEntry(fs, '/after-redeclare', side, { text: '[from-werf-yaml] [] [] [linux/amd64]\n' });
        expectEntry(fs, '/after-new-default', side, { text: '[from-werf-yaml]\n' }); // a build arg beats the default
        expectEntry(fs, '/env-wins', side, { text: '[from-env]\n' });
      },
    });
  }, CASE_TIMEOUT);

  it('WORKDIR creates missing directories for the current USER, so that its RUNs can write there', async () => {
    await differential('workdir-user', {
      dockerfile: [
        'FROM @BASE@',
        'USER app',
        'WORKDIR /work/new', // BuildKit: mkdir -p as the USER (parents included); buildah does the same
        'RUN touch here && id > /work/id',
        'USER 1000:50',
        'WORKDIR /work/new/deeper/still',
        'RUN touch here',
        'USER root',
        'WORKDIR /srv', // created as root (buildah 1.28 creates a WORKDIR only when something uses it: hence the RUN)
        'RUN touch here',
        'WORKDIR /tmp', // an existing directory keeps its owner and mode
        'RUN touch here',
      ].join('\n'),
      check: (fs, side) => {
        expectEntry(fs, '/work', side, { type: 'dir', mode: 0o755, uid: 1000, gid: 1000 });
        expectEntry(fs, '/work/new', side, { type: 'dir', mode: 0o755, uid: 1000, gid: 1000 });
        expectEntry(fs, '/work/new/here', side, { type: 'file', uid: 1000, gid: 1000 });
        expectEntry(fs, '/work/new/deeper', side, { type: 'dir', uid: 1000, gid: 50 });
        expectEntry(fs, '/work/new/deeper/still/here', side, { type: 'file', uid: 1000, gid: 50 });
        expectEntry(fs, '/srv', side, { type: 'dir', mode: 0o755, uid: 0, gid: 0 });
        expectEntry(fs, '/srv/here', side, { type: 'file', uid: 0, gid: 0 });
        expectEntry(fs, '/tmp', side, { type: 'dir', mode: 0o1777, uid: 0, gid: 0 });
      },
    });
  }, CASE_TIMEOUT);

  // issue 12, defect 1: merged-/usr style links (`/sbin -> usr/sbin`) must survive a COPY below them.
  it('COPY, ADD and WORKDIR destinations resolve through the image\'s symlinks and keep them', async () => {
    await differential('dest-symlinks', {
      dockerfile: [
        'FROM @BASE@',
        'RUN mkdir -p /usr/lsbin /data/real && echo base > /usr/lsbin/ldconfig && ln -s usr/lsbin /lsbin \\',
        ' && ln -s /data/real /data/link && ln -s ../../data/real /usr/uplink',
        'COPY tool /lsbin/tool',
        'COPY tool /lsbin/new/deep/tool2',
        'ADD tool /usr/uplink/sub/',
        'COPY tool /data/link',
        'WORKDIR /lsbin/wd',
        'COPY tool ./',
        'RUN ls /lsbin/ > /listing',
      ].join('\n'),
      files: { tool: 'tool\n' },
      check: (fs, side) => {
        expectEntry(fs, '/lsbin', side, { type: 'symlink', linkTarget: 'usr/lsbin' });
        expectEntry(fs, '/usr/lsbin/ldconfig', side, { type: 'file', text: 'base\n' });
        expectEntry(fs, '/usr/lsbin/tool', side, { type: 'file', text: 'tool\n' });
        expectEntry(fs, '/usr/lsbin/new/deep/tool2', side, { type: 'file', text: 'tool\n' });
        expectEntry(fs, '/data/real/sub/tool', side, { type: 'file', text: 'tool\n' });
        expectEntry(fs, '/data/link', side, { type: 'symlink', linkTarget: '/data/real' });
        expectEntry(fs, '/data/real/tool', side, { type: 'file', text: 'tool\n' }); // into the directory the final link names
        expectEntry(fs, '/usr/lsbin/wd/tool', side, { type: 'file', text: 'tool\n' });
        expect(text(fs, '/listing', side)).toBe('ldconfig\nnew\ntool\nwd\n');
      },
    });
  }, CASE_TIMEOUT);

  // issue 12, defect 3: the `USER node` / `COPY --chown=node:node` pattern.
  it('COPY --chown owns the directories it creates, so that the USER can write in its WORKDIR', async () => {
    await differential('copy-chown-dirs', {
      dockerfile: [
        'FROM @BASE@',
        'USER app',
        'WORKDIR /home/app/app',
        'COPY --chown=app:app f ./',
        'RUN touch x && id -u > /home/app/app/who',
        'COPY --chown=1000:50 f /opt/new/dir/',
        'USER root',
        'COPY f /srv/rootdir/',
      ].join('\n'),
      files: { f: 'f\n' },
      check: (fs, side) => {
        expectEntry(fs, '/home/app/app', side, { type: 'dir', uid: 1000, gid: 1000 });
        expectEntry(fs, '/home/app/app/f', side, { type: 'file', uid: 1000, gid: 1000 });
        expectEntry(fs, '/home/app/app/x', side, { type: 'file', uid: 1000, gid: 1000 });
        expectEntry(fs, '/opt/new/dir/f', side, { type: 'file', uid: 1000, gid: 50 });
        expectEntry(fs, '/srv/rootdir', side, { type: 'dir', uid: 0, gid: 0 });
      },
    });
  }, CASE_TIMEOUT);

  // issue 12, defect 2: `setcap cap_net_raw+ep` in a RUN must reach the pushed layer (PAX SCHILY.xattr.*),
  // the layer cache (the next RUN sees it) and COPY --from. busybox has no setcap: a static helper sets it.
  it('file capabilities and user.* xattrs a RUN sets reach the layer, the next RUN and COPY --from', async () => {
    const helper = await mkdtemp(join(tmpdir(), 'slipway-xattr-'));
    temps.push(helper);
    await writeFile(join(helper, 'x.c'), [
      '#include <stdio.h>', '#include <stdlib.h>', '#include <string.h>', '#include <sys/xattr.h>',
      'int main(int c, char **v) {',
      '  unsigned char b[256]; int n;',
      '  if (c == 5 && !strcmp(v[1], "set")) { n = strlen(v[4]) / 2; for (int i = 0; i < n; i++) sscanf(v[4] + 2 * i, "%2hhx", &b[i]);',
      '    return setxattr(v[2], v[3], b, n, 0) ? (perror("setxattr"), 1) : 0; }',
      '  n = getxattr(v[2], v[3], b, sizeof b); if (n < 0) { perror("getxattr"); return 1; }',
      '  for (int i = 0; i < n; i++) printf("%02x", b[i]); printf("\\n"); return 0; }',
    ].join('\n'));
    await run('gcc', ['-static', '-O2', '-o', join(helper, 'xattr'), join(helper, 'x.c')]);
    const { readFile } = await import('node:fs/promises');
    // cap_net_raw+ep (VFS_CAP_REVISION_2 | effective), and cap_setuid+p: a byte >= 0x80 in the value.
    const netRaw = '0100000200200000000000000000000000000000';
    const setuid = '0000000280000000000000000000000000000000';
    const dir = await project({
      Dockerfile: [
        `FROM ${base} AS caps`,
        'COPY xattr /xattr',
        'RUN chmod 755 /xattr && cp /bin/busybox /ping && /xattr set /ping security.capability ' + netRaw + ' \\',
        ' && cp /bin/busybox /su2 && /xattr set /su2 security.capability ' + setuid + ' \\',
        ' && echo d > /data && /xattr set /data user.origin 6869',
        'RUN /xattr get /ping security.capability > /seen-ping && /xattr get /data user.origin > /seen-data',
        `FROM ${base}`,
        'COPY --from=caps /ping /su2 /data /xattr /seen-ping /seen-data /out/',
        'RUN /out/xattr get /out/ping security.capability > /out/seen-copied && (/out/xattr get /out/su2 security.capability || true) > /out/seen-su2',
      ].join('\n'),
      xattr: '',
    });
    await writeFile(join(dir, 'xattr'), await readFile(join(helper, 'xattr')));
    await commitAsync(dir, 'helper');
    const { plain } = registries();
    const repo = `${plain.host}/${uniqueRepo('run-diff/xattrs-slipway')}`;
    const built = await slipwayBuild(dir, repo);
    expect(built.code, built.out).toBe(0);
    const fs = await snapshotImage(`${repo}:${appTag(built.out)}`);
    expect(text(fs, '/out/seen-ping', 'slipway')).toBe(`${netRaw}\n`); // the layer cache kept it for the next RUN
    expect(text(fs, '/out/seen-data', 'slipway')).toBe('6869\n');
    expect(text(fs, '/out/seen-copied', 'slipway')).toBe(`${netRaw}\n`); // COPY --from carried it
    // Known limit: tar-stream decodes PAX values as UTF-8, so a capability byte >= 0x80 (cap_setuid) read back
    // from a layer (COPY --from, the layer cache) is dropped, not corrupted; the RUN that set it writes it exactly.
    expect(text(fs, '/out/seen-su2', 'slipway')).toBe('');
    // The pushed layers, read without Slipway: the PAX records as Go's archive/tar writes them.
    const layout = join(helper, 'layout');
    await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${plain.host}/${repo.slice(plain.host.length + 1)}:${appTag(built.out)}`, `dir:${layout}`]);
    const { readdir } = await import('node:fs/promises');
    const { gunzipSync } = await import('node:zlib');
    let tars = Buffer.alloc(0);
    for (const name of await readdir(layout)) {
      const blob = await readFile(join(layout, name));
      if (blob[0] === 0x1f && blob[1] === 0x8b) tars = Buffer.concat([tars, gunzipSync(blob)]);
    }
    const record = (key: string, hex: string): Buffer => {
      const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(hex, 'hex'), Buffer.from('\n')]);
      const size = body.length + String(body.length + 2).length;
      return Buffer.concat([Buffer.from(String(size)), body]);
    };
    expect(tars.includes(record('SCHILY.xattr.security.capability', netRaw)), 'the ping capability as a PAX record').toBe(true);
    expect(tars.includes(record('SCHILY.xattr.user.origin', '6869')), 'the user.origin xattr as a PAX record').toBe(true);
    expect(tars.includes(Buffer.from('overlay')), 'no overlay xattrs in the layers').toBe(false);
  }, CASE_TIMEOUT);

  it('exec-form RUN runs without a shell and without variable expansion', async () => {
    await differential('exec-form', {
      dockerfile: [
        'FROM @BASE@',
        'ENV NAME=value',
        'RUN ["/bin/sh", "-c", "echo exec-form > /exec1 && echo $NAME > /exec-env"]',
        'RUN ["/bin/busybox", "mkdir", "-p", "/literal/$NAME", "/literal/${NAME}"]',
        'RUN ["touch", "/found-on-path"]',
        'RUN [ "/bin/sh", "-c", "echo \\"quoted \\\\\\"inner\\\\\\"\\" > /quoted" ]',
      ].join('\n'),
      check: (fs, side) => {
        expectEntry(fs, '/exec1', side, { text: 'exec-form\n' });
        expectEntry(fs, '/exec-env', side, { text: 'value\n' });
        expectEntry(fs, '/literal/$NAME', side, { type: 'dir' });
        expectEntry(fs, '/literal/${NAME}', side, { type: 'dir' });
        expectEntry(fs, '/found-on-path', side, { type: 'file', size: 0 });
        expectEntry(fs, '/quoted', side, { text: 'quoted "inner"\n' });
      },
    });
  }, CASE_TIMEOUT);

  it('SHELL changes the shell of later shell-form RUNs', async () => {
    await differential('shell', {
      buildahFormat: 'docker', // in OCI format buildah 1.28 ignores SHELL ("SHELL is not supported for OCI image format")
      dockerfile: [
        'FROM @BASE@',
        'RUN echo /bin/s[h] > /glob-default',
        'SHELL ["/bin/sh", "-f", "-c"]',
        'RUN echo /bin/s[h] > /glob-noglob',
        'SHELL ["/bin/busybox", "env", "FROM_SHELL=yes", "/bin/sh", "-c"]',
        'RUN echo "$FROM_SHELL" > /from-shell',
        'RUN ["/bin/sh", "-c", "echo exec:$FROM_SHELL > /exec-ignores-shell"]',
      ].join('\n'),
      check: (fs, side) => {
        expectEntry(fs, '/glob-default', side, { text: '/bin/sh\n' });
        expectEntry(fs, '/glob-noglob', side, { text: '/bin/s[h]\n' });
        expectEntry(fs, '/from-shell', side, { text: 'yes\n' });
        expectEntry(fs, '/exec-ignores-shell', side, { text: 'exec:\n' });
      },
    });
  }, CASE_TIMEOUT);

  it('fails the build on a failing RUN, with its exit code and the Dockerfile line', async () => {
    const { plain } = registries();
    const dockerfile = `FROM ${base}\nRUN echo before > /before\n\nRUN echo going to fail && exit 3\nRUN echo never > /never\n`;
    const dir = await project({ Dockerfile: dockerfile });
    const reference = await buildahBuild({ context: dir, destination: `${plain.host}/${uniqueRepo('run-diff/fail-buildah')}:latest`, check: false });
    expect(reference.code).not.toBe(0);
    expect(reference.output).toMatch(/exit status 3/);
    const result = await slipwayBuild(dir, `${plain.host}/${uniqueRepo('run-diff/fail-slipway')}`);
    expect(result.code).not.toBe(0);
    expect(result.out).toMatch(/Dockerfile:4\b/);
    expect(result.out).toMatch(/exit(?:ed with)? (?:code|status) 3\b|code 3\b/);
    expect(result.out).not.toMatch(/^image app:/m);
  }, CASE_TIMEOUT);

  it('reuses the RUN stages before a COPY whose file changed, and rebuilds only the COPY and what follows', async () => {
    const { plain } = registries();
    const repo = `${plain.host}/${uniqueRepo('run-diff/reuse')}`;
    const dockerfile = [
      `FROM ${base}`,
      'RUN mkdir -p /opt/pre && for i in $(seq 1 50); do echo "file $i" > /opt/pre/f$i; done',
      'RUN tar -cf /opt/pre.tar -C /opt pre && rm -rf /opt/pre',
      'ENV STAGE=pre',
      'RUN mkdir /app && echo "$STAGE" > /app/stage',
      'COPY app.txt /app/',
      'RUN cat /app/app.txt > /app/copy',
      'RUN echo done > /app/done',
      '',
    ].join('\n');
    const dir = await project({ Dockerfile: dockerfile, 'app.txt': 'version 1\n' });
    const first = await slipwayBuild(dir, repo);
    expect(first.code, first.out).toBe(0);
    const firstStages = stageLines(first.out);
    expect(firstStages.reused).toEqual([]);
    const copyAt = firstStages.built.findIndex((s) => /\/copy@\d+$/.test(s));
    expect(copyAt, first.out).toBeGreaterThan(0);
    expect(firstStages.built.slice(copyAt)).toHaveLength(3); // COPY and the two RUNs after it
    expect(firstStages.built.slice(0, copyAt)).toHaveLength(4); // three RUNs and the ENV before it

    await writeFile(join(dir, 'app.txt'), 'version 2\n');
    await gitAsync(dir, 'commit', '-qam', 'change app.txt');
    const second = await slipwayBuild(dir, repo);
    expect(second.code, second.out).toBe(0);
    const secondStages = stageLines(second.out);
    expect(secondStages.reused).toEqual(firstStages.built.slice(0, copyAt));
    expect(secondStages.built).toEqual(firstStages.built.slice(copyAt));
    expect(appTag(second.out)).not.toBe(appTag(first.out));

    const fs = await snapshotImage(`${repo}:${appTag(second.out)}`);
    expectEntry(fs, '/app/copy', 'slipway', { text: 'version 2\n' });
    expectEntry(fs, '/app/stage', 'slipway', { text: 'pre\n' });
    expectEntry(fs, '/app/done', 'slipway', { text: 'done\n' });
    expect(fs.has('/opt/pre')).toBe(false);
    expectEntry(fs, '/opt/pre.tar', 'slipway', { type: 'file' });

    const third = await slipwayBuild(dir, repo);
    expect(third.code, third.out).toBe(0);
    expect(stageLines(third.out).built).toEqual([]);
    expect(appTag(third.out)).toBe(appTag(second.out));
  }, CASE_TIMEOUT);
});
