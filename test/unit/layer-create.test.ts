import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntegrityError, InvalidInputError } from '../../src/errors.js';
import { createLayer, type LayerEntry } from '../../src/builder/layer/index.js';
import { MediaType } from '../../src/oci/index.js';
import { encodeTarHeader } from '../../src/builder/layer/tar-header.js';

const run = promisify(execFile);

let dir: string;
let tmp: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slipway-layer-create-'));
  tmp = join(dir, 'tmp');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function file(path: string, content: string | Buffer, extra: Partial<LayerEntry> = {}): LayerEntry {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
  // Several chunks, so the copy loop is exercised.
  const chunks = bytes.length > 3 ? [bytes.subarray(0, 3), bytes.subarray(3)] : [bytes];
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: bytes.length, open: async () => Readable.from(chunks), ...extra };
}

function sample(): LayerEntry[] {
  return [
    { path: 'etc', type: 'dir', mode: 0o755, uid: 0, gid: 0 },
    file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n'),
    file('usr/bin/tool', '#!/bin/sh\necho hi\n', { mode: 0o4755, uid: 1000, gid: 1001 }),
    { path: 'usr/bin/tool-link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkTarget: 'tool' },
    { path: 'usr/bin/abs-link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkTarget: '/etc/passwd' },
    { path: 'usr/bin/a-hardlink', type: 'hardlink', mode: 0o644, uid: 0, gid: 0, linkTarget: 'usr/bin/tool' },
    { path: 'tmp', type: 'dir', mode: 0o1777, uid: 0, gid: 0 },
    { path: 'var/lib/gone', type: 'whiteout', mode: 0, uid: 0, gid: 0 },
    { path: 'opt/app', type: 'opaque', mode: 0, uid: 0, gid: 0 },
    file('opt/app/empty', ''),
    file('home/user/.profile', 'export A=1\n', { mode: 0o600, uid: 1000, gid: 1000 }),
  ];
}

async function build(entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>, options: Partial<Parameters<typeof createLayer>[1]> = {}) {
  const layer = await createLayer(entries, { tmpDir: tmp, ...options });
  const blob = await readFile(layer.path);
  return { layer, blob };
}

interface Member {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  pax: Record<string, string>;
}

/** Python's tarfile as an independent reader. */
async function pythonList(tarPath: string): Promise<Member[]> {
  const script = `
import json, sys, tarfile
out = []
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        out.append(dict(name=m.name, type=m.type.decode(), mode=m.mode, uid=m.uid, gid=m.gid, size=m.size,
                        mtime=m.mtime, linkname=m.linkname, uname=m.uname, gname=m.gname, pax=m.pax_headers))
print(json.dumps(out))
`;
  const { stdout } = await run('python3', ['-c', script, tarPath], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as Member[];
}

describe('createLayer', () => {
  it('is byte-identical for the same entries, in any order', async () => {
    const a = await build(sample());
    const b = await build(sample());
    const shuffled = await build([...sample()].reverse());
    const interleaved = sample();
    interleaved.push(interleaved.shift()!, interleaved.shift()!);
    const c = await build(interleaved);
    expect(b.blob.equals(a.blob)).toBe(true);
    expect(shuffled.blob.equals(a.blob)).toBe(true);
    expect(c.blob.equals(a.blob)).toBe(true);
    expect(b.layer.digest).toBe(a.layer.digest);
    expect(b.layer.path).not.toBe(a.layer.path);
  });

  it('reports digest, size and diffId of what it wrote', async () => {
    const { layer, blob } = await build(sample());
    expect(layer.mediaType).toBe(MediaType.OciLayerGzip);
    expect(layer.digest).toBe(`sha256:${createHash('sha256').update(blob).digest('hex')}`);
    expect(layer.size).toBe(blob.length);
    expect(layer.diffId).toBe(`sha256:${createHash('sha256').update(gunzipSync(blob)).digest('hex')}`);
    expect((await stat(layer.path)).size).toBe(blob.length);
    // usr, usr/bin, var, var/lib, opt, opt/app, home, home/user are added as parents.
    expect(layer.entries).toBe(11 + 8);
  });

  it('writes a plain tar without compression', async () => {
    const gz = await build(sample());
    const { layer, blob } = await build(sample(), { compression: 'none' });
    expect(layer.mediaType).toBe(MediaType.OciLayer);
    expect(layer.digest).toBe(layer.diffId);
    expect(layer.diffId).toBe(gz.layer.diffId);
    expect(blob.equals(gunzipSync(gz.blob))).toBe(true);
  });

  it('writes sorted entries, parents first, with fixed mtime and numeric owners (python tarfile)', async () => {
    const { layer } = await build(sample());
    const members = await pythonList(layer.path);
    expect(members.map((m) => m.name)).toEqual([
      'etc',
      'etc/passwd',
      'home',
      'home/user',
      'home/user/.profile',
      'opt',
      'opt/app',
      'opt/app/.wh..wh..opq',
      'opt/app/empty',
      'tmp',
      'usr',
      'usr/bin',
      'usr/bin/a-hardlink',
      'usr/bin/abs-link',
      'usr/bin/tool',
      'usr/bin/tool-link',
      'var',
      'var/lib',
      'var/lib/.wh.gone',
    ]);
    const byName = new Map(members.map((m) => [m.name, m]));
    for (const m of members) {
      expect(m.mtime).toBe(0);
      expect(m.uname).toBe('');
      expect(m.gname).toBe('');
      expect(m.pax).toEqual({});
    }
    expect(byName.get('usr')).toMatchObject({ type: '5', mode: 0o755, uid: 0, gid: 0 });
    expect(byName.get('tmp')).toMatchObject({ type: '5', mode: 0o1777 });
    expect(byName.get('home/user/.profile')).toMatchObject({ type: '0', mode: 0o600, uid: 1000, gid: 1000, size: 11 });
    // The hard link sorts before its target, so it carries the content and the target links to it.
    expect(byName.get('usr/bin/a-hardlink')).toMatchObject({ type: '0', mode: 0o4755, uid: 1000, gid: 1001, size: 18 });
    expect(byName.get('usr/bin/tool')).toMatchObject({ type: '1', linkname: 'usr/bin/a-hardlink', size: 0, mode: 0o4755 });
    expect(byName.get('usr/bin/tool-link')).toMatchObject({ type: '2', linkname: 'tool' });
    expect(byName.get('var/lib/.wh.gone')).toMatchObject({ type: '0', mode: 0, uid: 0, gid: 0, size: 0 });
  });

  it('is listed by tar -tv and extracts with exact modes, owners, links and whiteout files', async () => {
    const { layer } = await build(sample());
    const { stdout } = await run('tar', ['--numeric-owner', '-tvzf', layer.path]);
    expect(stdout).toMatch(/^-rwsr-xr-x 1000\/1001\s+18 1970-01-01 00:00 usr\/bin\/a-hardlink$/m);
    expect(stdout).toMatch(/^hrwsr-xr-x 1000\/1001\s+0 1970-01-01 00:00 usr\/bin\/tool link to usr\/bin\/a-hardlink$/m);
    expect(stdout).toMatch(/^lrwxrwxrwx 0\/0\s+0 1970-01-01 00:00 usr\/bin\/abs-link -> \/etc\/passwd$/m);
    expect(stdout).toMatch(/^drwxrwxrwt 0\/0\s+0 1970-01-01 00:00 tmp\/$/m);

    const out = join(dir, 'out');
    await mkdir(out);
    await run('tar', ['--numeric-owner', '--same-owner', '-p', '-xzf', layer.path, '-C', out]);
    const tool = await stat(join(out, 'usr/bin/tool'));
    const hard = await stat(join(out, 'usr/bin/a-hardlink'));
    expect(tool.ino).toBe(hard.ino);
    expect(tool.mode & 0o7777).toBe(0o4755);
    expect([tool.uid, tool.gid]).toEqual([1000, 1001]);
    expect(await readFile(join(out, 'usr/bin/tool'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect(await readlink(join(out, 'usr/bin/abs-link'))).toBe('/etc/passwd');
    expect((await lstat(join(out, 'usr/bin/tool-link'))).isSymbolicLink()).toBe(true);
    expect((await stat(join(out, 'tmp'))).mode & 0o7777).toBe(0o1777);
    const profile = await stat(join(out, 'home/user/.profile'));
    expect([profile.mode & 0o7777, profile.uid, profile.gid]).toEqual([0o600, 1000, 1000]);
    expect((await stat(join(out, 'var/lib/.wh.gone'))).size).toBe(0);
    expect((await stat(join(out, 'opt/app/.wh..wh..opq'))).isFile()).toBe(true);
  });

  it('writes USTAR headers the way Go archive/tar does', async () => {
    const { blob } = await build([file('etc/hostname', 'box\n', { mode: 0o640, uid: 7, gid: 8 })], { compression: 'none', parentDirs: 'omit' });
    const h = blob.subarray(0, 512);
    const field = (start: number, end: number) => h.subarray(start, end).toString('latin1');
    expect(field(0, 100)).toBe('etc/hostname'.padEnd(100, '\0'));
    expect(field(100, 108)).toBe('0000640\0');
    expect(field(108, 116)).toBe('0000007\0');
    expect(field(116, 124)).toBe('0000010\0');
    expect(field(124, 136)).toBe('00000000004\0');
    expect(field(136, 148)).toBe('00000000000\0');
    expect(field(148, 156)).toMatch(/^[0-7]{6}\0 $/);
    expect(field(156, 157)).toBe('0');
    expect(field(157, 257)).toBe('\0'.repeat(100));
    expect(field(257, 265)).toBe('ustar\x0000');
    expect(field(265, 329)).toBe('\0'.repeat(64));
    expect(field(329, 345)).toBe('0000000\x000000000\0');
    expect(field(345, 512)).toBe('\0'.repeat(167));
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    expect(parseInt(field(148, 154), 8)).toBe(sum);
    expect(blob.subarray(512, 516).toString()).toBe('box\n');
    expect(blob.length).toBe(512 + 512 + 1024); // header, padded content, two zero blocks
    expect(blob.subarray(1024).equals(Buffer.alloc(1024))).toBe(true);
  });

  it('splits long ASCII names into prefix and name, and uses PAX only when it must', async () => {
    const longDir = `${'d'.repeat(60)}/${'e'.repeat(60)}`;
    const split = `${longDir}/file.txt`;
    const unsplittable = `x/${'y'.repeat(120)}`;
    const unicode = 'usr/share/doc/café/naïve.txt';
    const entries: LayerEntry[] = [
      file(split, 'a'),
      file(unsplittable, 'b'),
      file(unicode, 'c'),
      file('big-ids', 'd', { uid: 3_000_000, gid: 70_000 }),
      { path: 'long-link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkTarget: `/${'t'.repeat(150)}` },
    ];
    const { layer, blob } = await build(entries, { compression: 'none' });
    const members = await pythonList(layer.path);
    const byName = new Map(members.map((m) => [m.name, m]));
    expect(byName.get(split)?.pax).toEqual({});
    expect(blob.indexOf(Buffer.from(`${longDir}\0`))).toBeGreaterThan(0); // stored in the prefix field
    expect(byName.get(unsplittable)?.pax).toEqual({ path: unsplittable });
    expect(byName.get(unicode)?.pax).toEqual({ path: unicode });
    expect(byName.get('big-ids')).toMatchObject({ uid: 3_000_000, gid: 70_000, pax: { uid: '3000000' } });
    expect(byName.get('long-link')).toMatchObject({ linkname: `/${'t'.repeat(150)}`, pax: { linkpath: `/${'t'.repeat(150)}` } });
    // Go names the extended header <dir>/PaxHeaders.0/<base>.
    expect(blob.indexOf(Buffer.from('usr/share/doc/caf/PaxHeaders.0/nave.txt\0'))).toBeGreaterThanOrEqual(0);
    const { stdout } = await run('tar', ['--numeric-owner', '-tvf', layer.path]);
    expect(stdout).toContain(unicode);
    expect(stdout).toContain(unsplittable);
    expect(stdout).toMatch(/3000000\/70000/);
  });

  it('records a size of 8 GiB or more in PAX and zeroes the octal field, as Go does', () => {
    const size = 2 ** 33 + 5;
    const bytes = encodeTarHeader({ name: 'huge.img', typeflag: '0', mode: 0o644, uid: 0, gid: 0, size, linkname: '', mtime: 0 });
    expect(bytes.length).toBe(3 * 512);
    expect(bytes.subarray(0, 100).toString('latin1')).toBe('PaxHeaders.0/huge.img'.padEnd(100, '\0'));
    expect(bytes.subarray(156, 157).toString()).toBe('x');
    expect(bytes.subarray(512, 512 + 19).toString()).toBe('19 size=8589934597\n');
    const main = bytes.subarray(1024);
    expect(main.subarray(0, 8).toString()).toBe('huge.img');
    expect(main.subarray(124, 136).toString('latin1')).toBe('00000000000\0');
  });

  it('spans many gzip blocks and still decompresses to the exact tar', async () => {
    const big = randomBytes(300_000);
    const text = Buffer.from('slipway layer '.repeat(40_000));
    const { layer, blob } = await build([file('data/random.bin', big), file('data/text.txt', text)], { gzip: { blockSize: 65_536 } });
    const tarBytes = gunzipSync(blob);
    expect(layer.diffId).toBe(`sha256:${createHash('sha256').update(tarBytes).digest('hex')}`);
    await run('gzip', ['-t', layer.path]);
    const out = join(dir, 'out');
    await mkdir(out);
    await run('tar', ['-xzf', layer.path, '-C', out]);
    expect((await readFile(join(out, 'data/random.bin'))).equals(big)).toBe(true);
    expect((await readFile(join(out, 'data/text.txt'))).equals(text)).toBe(true);
  });

  it('writes an empty layer', async () => {
    const { layer, blob } = await build([]);
    expect(gunzipSync(blob).equals(Buffer.alloc(1024))).toBe(true);
    expect(layer.entries).toBe(0);
    await run('gzip', ['-t', layer.path]);
  });

  it('spools a source without a size to learn it', async () => {
    const content = randomBytes(70_000);
    const { layer } = await build([{ path: 'blob', type: 'file', mode: 0o644, uid: 0, gid: 0, open: async () => Readable.from([content.subarray(0, 1000), content.subarray(1000)]) }]);
    const members = await pythonList(layer.path);
    expect(members[0]).toMatchObject({ name: 'blob', size: 70_000 });
    expect(await readdir(tmp)).toEqual([layer.path.split('/').pop()]);
  });

  it('fails on a source with more or fewer bytes than declared and leaves no temp file', async () => {
    const longer = file('a', 'hello', { size: 4 });
    await expect(build([file('0', 'ok'), longer])).rejects.toThrow(IntegrityError);
    expect(await readdir(tmp)).toEqual([]);
    const shorter = file('a', 'hello', { size: 6 });
    await expect(build([shorter])).rejects.toThrow(/5 bytes, but 6 were declared/);
    expect(await readdir(tmp)).toEqual([]);
    const failing: LayerEntry = { ...file('a', 'x'), open: async () => Readable.from((async function* () {
      yield Buffer.from('x');
      throw new Error('disk on fire');
    })()) };
    await expect(build([failing], { compression: 'none' })).rejects.toThrow(/disk on fire/);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('adds missing parents as 0755 root:root, or leaves them out', async () => {
    const entries = [{ path: 'a', type: 'dir', mode: 0o700, uid: 5, gid: 5 } as LayerEntry, file('a/b/c/d', 'x')];
    const added = await pythonList((await build(entries)).layer.path);
    expect(added.map((m) => [m.name, m.mode, m.uid])).toEqual([
      ['a', 0o700, 5],
      ['a/b', 0o755, 0],
      ['a/b/c', 0o755, 0],
      ['a/b/c/d', 0o644, 0],
    ]);
    const omitted = await pythonList((await build(entries, { parentDirs: 'omit' })).layer.path);
    expect(omitted.map((m) => m.name)).toEqual(['a', 'a/b/c/d']);
  });

  it('rejects invalid entries with messages that name them', async () => {
    const dirEntry = (path: string): LayerEntry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0 });
    await expect(build([dirEntry('/abs')])).rejects.toThrow(InvalidInputError);
    await expect(build([dirEntry('a/../b')])).rejects.toThrow(/"a\/..\/b".*"\.\." component/);
    await expect(build([dirEntry('a/')])).rejects.toThrow(/ends with/);
    await expect(build([file('x/.wh.y', '')])).rejects.toThrow(/reserved for whiteouts/);
    await expect(build([{ ...dirEntry('m'), mode: 0o100755 }])).rejects.toThrow(/permission bits/);
    await expect(build([{ ...dirEntry('m'), uid: -1 }])).rejects.toThrow(/uid/);
    await expect(build([dirEntry('d'), dirEntry('d')])).rejects.toThrow(/given twice/);
    await expect(build([file('f', ''), file('f/g', '')])).rejects.toThrow(/parent "f" is a file/);
    await expect(build([file('w', ''), { ...dirEntry('w'), type: 'whiteout' }])).rejects.toThrow(/whited out/);
    await expect(build([{ ...dirEntry('s'), type: 'symlink' }])).rejects.toThrow(/linkTarget/);
    await expect(build([{ ...dirEntry('h'), type: 'hardlink', linkTarget: 'd' }, dirEntry('d')])).rejects.toThrow(/which is a dir/);
    await expect(
      build([
        { ...dirEntry('h1'), type: 'hardlink', linkTarget: 'h2' },
        { ...dirEntry('h2'), type: 'hardlink', linkTarget: 'h1' },
      ]),
    ).rejects.toThrow(/cycle/);
    expect(await readdir(tmp).catch(() => [])).toEqual([]);
  });

  it('keeps the later of two entries for a path with duplicates: last-wins', async () => {
    const { layer } = await build([file('f', 'old'), file('f', 'newer', { mode: 0o600 })], { duplicates: 'last-wins', compression: 'none' });
    const members = await pythonList(layer.path);
    expect(members).toHaveLength(1);
    expect(members[0]).toMatchObject({ name: 'f', size: 5, mode: 0o600 });
  });

  it('writes a hard link to a file of a lower layer as a link', async () => {
    const { layer } = await build([{ path: 'bin/sh', type: 'hardlink', mode: 0o755, uid: 0, gid: 0, linkTarget: 'bin/busybox' }], { parentDirs: 'omit' });
    expect(await pythonList(layer.path)).toMatchObject([{ name: 'bin/sh', type: '1', linkname: 'bin/busybox' }]);
  });

  it('accepts an async iterable of entries', async () => {
    async function* gen(): AsyncGenerator<LayerEntry> {
      for (const e of sample()) yield e;
    }
    const fromAsync = await build(gen());
    const fromArray = await build(sample());
    expect(fromAsync.blob.equals(fromArray.blob)).toBe(true);
  });
});
