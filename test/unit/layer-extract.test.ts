import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, chown, link, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { createLayer, extractTarEntries, isTarHeader, sniffCompression, type LayerEntry } from '../../src/builder/layer/index.js';

const run = promisify(execFile);

let dir: string;
let tmp: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slipway-layer-extract-'));
  tmp = join(dir, 'tmp');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A small tree packed by GNU tar: files, a directory, a symlink, a hard link, owners and modes. */
async function makeArchive(flags: string, name: string): Promise<string> {
  const src = join(dir, 'src');
  await rm(src, { recursive: true, force: true });
  await mkdir(join(src, 'conf.d'), { recursive: true });
  await writeFile(join(src, 'app.sh'), '#!/bin/sh\necho app\n');
  await chmod(join(src, 'app.sh'), 0o750);
  await writeFile(join(src, 'conf.d/a.conf'), 'a=1\n');
  await chown(join(src, 'conf.d/a.conf'), 1234, 4321);
  await symlink('app.sh', join(src, 'run'));
  await link(join(src, 'app.sh'), join(src, 'app-again.sh'));
  const archive = join(dir, name);
  await run('tar', ['-C', src, flags, archive, '.']);
  return archive;
}

async function collect(stream: Readable) {
  const extracted = extractTarEntries(stream, { tmpDir: tmp, what: 'test archive' });
  const entries: LayerEntry[] = [];
  try {
    for await (const e of extracted) entries.push(e);
    const contents = new Map<string, string>();
    for (const e of entries) {
      if (e.type !== 'file') continue;
      const chunks: Buffer[] = [];
      for await (const c of await e.open!()) chunks.push(c as Buffer);
      contents.set(e.path, Buffer.concat(chunks).toString());
    }
    return { entries, contents, extracted };
  } catch (error) {
    await extracted.close();
    throw error;
  }
}

describe('extractTarEntries', () => {
  for (const [flags, name] of [
    ['-czf', 'a.tar.gz'],
    ['-cf', 'a.tar'],
  ] as const) {
    it(`yields the entries of a ${name}`, async () => {
      const archive = await makeArchive(flags, name);
      const { entries, contents, extracted } = await collect(createReadStream(archive));
      const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : 1));
      expect(sorted.map((e) => [e.path, e.type])).toEqual([
        ['app-again.sh', expect.stringMatching(/^(file|hardlink)$/)],
        ['app.sh', expect.stringMatching(/^(file|hardlink)$/)],
        ['conf.d', 'dir'],
        ['conf.d/a.conf', 'file'],
        ['run', 'symlink'],
      ]);
      const byPath = new Map(entries.map((e) => [e.path, e]));
      const hard = entries.find((e) => e.type === 'hardlink')!;
      expect(['app.sh', 'app-again.sh']).toContain(hard.linkTarget);
      expect(byPath.get('run')?.linkTarget).toBe('app.sh');
      expect(byPath.get('conf.d/a.conf')).toMatchObject({ uid: 1234, gid: 4321, mode: 0o644, size: 4 });
      expect(contents.get('conf.d/a.conf')).toBe('a=1\n');
      const fileEntry = entries.find((e) => e.type === 'file' && e.path.startsWith('app'))!;
      expect(fileEntry.mode).toBe(0o750);
      expect(contents.get(fileEntry.path)).toBe('#!/bin/sh\necho app\n');

      // Re-rooted under a destination, the entries make a layer (hard link targets re-rooted too).
      const reroot = (p: string) => `opt/dest/${p}`;
      const layer = await createLayer(
        entries.map((e) => ({ ...e, path: reroot(e.path), ...(e.type === 'hardlink' ? { linkTarget: reroot(e.linkTarget!) } : {}) })),
        { tmpDir: join(dir, 'layers') },
      );
      const out = join(dir, 'out');
      await mkdir(out);
      await run('tar', ['-xzf', layer.path, '-C', out]);
      expect(await readFile(join(out, 'opt/dest/app-again.sh'), 'utf8')).toBe('#!/bin/sh\necho app\n');
      await extracted.close();
      expect(await readdir(tmp)).toEqual([]);
    });
  }

  it('refuses bzip2, xz and zstd archives with a clear error', async () => {
    const src = join(dir, 'one');
    await writeFile(src, 'x');
    for (const [tool, ext, word] of [
      ['bzip2', 'bz2', 'bzip2'],
      ['xz', 'xz', 'xz'],
      ['zstd', 'zst', 'zstd'],
    ] as const) {
      await run('tar', ['-C', dir, '-cf', join(dir, `a.tar`), 'one']);
      await run('sh', ['-c', `${tool} -q -c '${join(dir, 'a.tar')}' > '${join(dir, `a.tar.${ext}`)}'`]);
      const extracted = extractTarEntries(createReadStream(join(dir, `a.tar.${ext}`)), { tmpDir: tmp, what: `a.tar.${ext}` });
      const attempt = (async () => {
        for await (const _ of extracted) void _;
      })();
      await expect(attempt).rejects.toThrow(InvalidInputError);
      await expect(
        (async () => {
          for await (const _ of extractTarEntries(createReadStream(join(dir, `a.tar.${ext}`)), { tmpDir: tmp, what: `a.tar.${ext}` })) void _;
        })(),
      ).rejects.toThrow(new RegExp(`a\\.tar\\.${ext} is ${word}-compressed, which Slipway cannot read`));
      await extracted.close();
    }
  });

  it('refuses entries that climb out of the root, and garbage', async () => {
    const header = Buffer.alloc(512);
    header.write('../../etc/evil', 0);
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write('00000000000\0', 124);
    header.write('00000000000\0', 136);
    header.write('0', 156);
    header.write('ustar\x0000', 257, 'latin1');
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    expect(isTarHeader(header)).toBe(true);
    await expect(collect(Readable.from([Buffer.concat([header, Buffer.alloc(1024)])]))).rejects.toThrow(/outside the archive root/);
    await expect(collect(Readable.from([Buffer.from('this is not a tar archive at all'.repeat(40))]))).rejects.toThrow(/not a readable tar archive/);
  });

  it('reads an empty stream as an empty archive', async () => {
    const { entries } = await collect(Readable.from([]));
    expect(entries).toEqual([]);
  });
});

describe('sniffCompression', () => {
  it('recognises magic bytes', () => {
    expect(sniffCompression(Buffer.from([0x1f, 0x8b, 8]))).toBe('gzip');
    expect(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(sniffCompression(Buffer.from('BZh91AY&SY'))).toBe('bzip2');
    expect(sniffCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]))).toBe('xz');
    expect(sniffCompression(Buffer.from('ustar'))).toBe('none');
    expect(sniffCompression(Buffer.alloc(0))).toBe('none');
  });
});
