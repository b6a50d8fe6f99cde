import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BuildError, IntegrityError, InvalidInputError } from '../../src/errors.js';
import {
  createLayer,
  parseGroup,
  parsePasswd,
  readFileFromImage,
  readFilesFromImage,
  readImageFiles,
  resolveChown,
  type LayerEntry,
} from '../../src/builder/layer/index.js';
import { MediaType, digestOf, type Descriptor } from '../../src/oci/index.js';
import { OciLayoutStore } from '../../src/store/oci-layout-store.js';

const run = promisify(execFile);

let dir: string;
let tmp: string;
let store: OciLayoutStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slipway-layer-read-'));
  tmp = join(dir, 'tmp');
  await mkdir(tmp);
  store = await OciLayoutStore.open(join(dir, 'layout'), { create: true });
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function file(path: string, content: string, extra: Partial<LayerEntry> = {}): LayerEntry {
  const bytes = Buffer.from(content);
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: bytes.length, open: async () => Readable.from([bytes]), ...extra };
}
const dirEntry = (path: string, mode = 0o755): LayerEntry => ({ path, type: 'dir', mode, uid: 0, gid: 0 });
const whiteout = (path: string): LayerEntry => ({ path, type: 'whiteout', mode: 0, uid: 0, gid: 0 });
const opaque = (path: string): LayerEntry => ({ path, type: 'opaque', mode: 0, uid: 0, gid: 0 });

async function pushBytes(bytes: Buffer, mediaType: string): Promise<Descriptor> {
  const descriptor = { mediaType, digest: digestOf(bytes), size: bytes.length };
  await store.writeBlob({ descriptor, open: async () => Readable.from([bytes]) });
  return descriptor;
}

async function pushLayer(entries: LayerEntry[], compression: 'gzip' | 'none' = 'gzip'): Promise<Descriptor> {
  const layer = await createLayer(entries, { tmpDir: tmp, compression });
  const descriptor = { mediaType: layer.mediaType, digest: layer.digest, size: layer.size };
  await store.writeBlob({ descriptor, open: async () => createReadStream(layer.path) });
  await rm(layer.path);
  return descriptor;
}

const PASSWD0 = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n';
const PASSWD1 = `${PASSWD0}svc:x:999:50::/srv:/sbin/nologin\n`;
const GROUP0 = 'root:x:0:\napp:x:1000:\nstaff:x:50:app,svc\n';

/** Three layers exercising whiteouts, opaque directories, replacements and hard links. */
async function threeLayers(compression: 'gzip' | 'none' = 'gzip'): Promise<Descriptor[]> {
  const base = await pushLayer(
    [
      dirEntry('etc'),
      file('etc/passwd', PASSWD0),
      file('etc/group', GROUP0),
      file('usr/bin/busybox', 'BUSYBOX', { mode: 0o755 }),
      { path: 'usr/bin/sh', type: 'hardlink', mode: 0o755, uid: 0, gid: 0, linkTarget: 'usr/bin/busybox' },
      { path: 'bin', type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkTarget: 'usr/bin' },
      file('data/keep.txt', 'keep'),
      file('data/drop.txt', 'drop'),
      file('data/sub/x', 'x', { uid: 7, gid: 8 }),
      file('cache/a', 'a'),
      file('cache/b', 'b'),
      dirEntry('cache/nested'),
      file('cache/nested/deep', 'deep'),
      file('opt/old/file', 'old'),
      file('srv/inner', 'inner'),
    ],
    compression,
  );
  const middle = await pushLayer(
    [
      whiteout('data/drop.txt'),
      opaque('cache'),
      file('cache/c', 'c'),
      whiteout('opt/old'),
      file('srv', 'now a file'),
      file('etc/passwd', PASSWD1),
      { path: 'data/link-to-busybox', type: 'hardlink', mode: 0o644, uid: 0, gid: 0, linkTarget: 'usr/bin/busybox' },
    ],
    compression,
  );
  const top = await pushLayer([dirEntry('data/sub', 0o700), whiteout('usr/bin/busybox')], compression);
  return [base, middle, top];
}

async function contentOf(entry: LayerEntry | undefined): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await entry!.open!()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('readImageFiles', () => {
  for (const compression of ['gzip', 'none'] as const) {
    it(`applies whiteouts, opaque directories and replacements across ${compression} layers`, async () => {
      const layers = await threeLayers(compression);
      const files = await readImageFiles(store, layers, () => true, { tmpDir: tmp });
      try {
        const listing = files.entries.map((e) => `${e.type} ${e.path}${e.linkTarget ? ` -> ${e.linkTarget}` : ''}`);
        expect(listing).toEqual([
          'symlink bin -> usr/bin',
          'dir cache',
          'file cache/c',
          'dir data',
          'file data/keep.txt',
          'file data/link-to-busybox',
          'dir data/sub',
          'file data/sub/x',
          'dir etc',
          'file etc/group',
          'file etc/passwd',
          'dir opt',
          'file srv',
          'dir usr',
          'dir usr/bin',
          'file usr/bin/sh',
        ]);
        const byPath = new Map(files.entries.map((e) => [e.path, e]));
        expect(await contentOf(byPath.get('etc/passwd'))).toBe(PASSWD1);
        expect(await contentOf(byPath.get('srv'))).toBe('now a file');
        // The hard links outlive the whiteout of the file they were linked to.
        expect(byPath.get('usr/bin/sh')).toMatchObject({ type: 'file', mode: 0o755, size: 7 });
        expect(await contentOf(byPath.get('usr/bin/sh'))).toBe('BUSYBOX');
        expect(await contentOf(byPath.get('data/link-to-busybox'))).toBe('BUSYBOX');
        // A directory over a directory keeps its children and takes the new metadata.
        expect(byPath.get('data/sub')).toMatchObject({ mode: 0o700 });
        expect(byPath.get('data/sub/x')).toMatchObject({ uid: 7, gid: 8, size: 1 });
      } finally {
        await files.close();
      }
      expect(await readdir(tmp)).toEqual([]);
    });
  }

  it('returns only wanted paths and fetches a hard link target that was not wanted', async () => {
    const layers = await threeLayers();
    const asked: string[] = [];
    const files = await readImageFiles(
      store,
      layers,
      (p) => {
        asked.push(p);
        return p === 'data' || p.startsWith('data/');
      },
      { tmpDir: tmp },
    );
    try {
      expect(files.entries.map((e) => e.path)).toEqual(['data', 'data/keep.txt', 'data/link-to-busybox', 'data/sub', 'data/sub/x']);
      expect(await contentOf(files.entries[2])).toBe('BUSYBOX');
      expect(asked).toContain('usr/bin/busybox');
      // Any path can be looked up; symlinks are followed, absolute ones from the image root.
      const sh = files.lookup('bin/sh');
      expect(sh).toMatchObject({ path: 'usr/bin/sh', type: 'file' });
      expect(await contentOf(sh)).toBe('BUSYBOX');
      expect(files.lookup('bin', { followSymlinks: false })).toMatchObject({ type: 'symlink', linkTarget: 'usr/bin' });
      // '..' after a symlink climbs from where the link led, as the kernel does.
      expect(files.lookup('bin/../bin/sh')?.path).toBe('usr/bin/sh');
      expect(files.lookup('bin/../etc/group')).toBeUndefined();
      expect(files.lookup('/usr/../../../etc/group')?.path).toBe('etc/group');
      expect(files.lookup('data/drop.txt')).toBeUndefined();
      expect(files.lookup('opt/old/file')).toBeUndefined();
      expect(files.lookup('cache/a')).toBeUndefined();
      expect(files.lookup('cache/nested/deep')).toBeUndefined();
    } finally {
      await files.close();
    }
  });

  it('writes through a symlinked parent directory, as extraction on a filesystem does', async () => {
    const base = await pushLayer([dirEntry('usr/bin'), { path: 'bin', type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkTarget: '/usr/bin' }, file('usr/bin/old', 'old')]);
    const upper = await createLayer([file('bin/new', 'new'), whiteout('bin/old')], { tmpDir: tmp, parentDirs: 'omit', compression: 'none' });
    const upperDescriptor = await pushBytes(await readFile(upper.path), upper.mediaType);
    const files = await readImageFiles(store, [base, upperDescriptor], () => true, { tmpDir: tmp });
    try {
      expect(files.entries.map((e) => `${e.type} ${e.path}`)).toEqual(['symlink bin', 'dir usr', 'dir usr/bin', 'file usr/bin/new']);
    } finally {
      await files.close();
    }
  });

  it('reads layers written by GNU tar, and refuses to copy a fifo', async () => {
    const src = join(dir, 'src');
    await mkdir(join(src, 'app'), { recursive: true });
    await writeFile(join(src, 'app/hello'), 'hello\n');
    await run('mkfifo', [join(src, 'app/pipe')]);
    await run('tar', ['-C', src, '-czf', join(dir, 'gnu.tgz'), '.']);
    const layer = await pushBytes(await readFile(join(dir, 'gnu.tgz')), MediaType.DockerLayerGzip);
    const files = await readImageFiles(store, [layer], (p) => p !== 'app/pipe', { tmpDir: tmp });
    try {
      expect(files.entries.map((e) => e.path)).toEqual(['app', 'app/hello']);
      expect(await contentOf(files.entries[1])).toBe('hello\n');
      expect(() => files.lookup('app/pipe')).toThrow(/fifo/);
    } finally {
      await files.close();
    }
    await expect(readImageFiles(store, [layer], () => true, { tmpDir: tmp })).rejects.toThrow(BuildError);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('refuses zstd layers, by media type and by content', async () => {
    const layers = await threeLayers();
    await expect(readImageFiles(store, [{ ...layers[0]!, mediaType: MediaType.OciLayerZstd }], () => true, { tmpDir: tmp })).rejects.toThrow(/zstd/);
    await run('sh', ['-c', `printf 'not really a tar' > '${dir}/x' && zstd -q '${dir}/x' -o '${dir}/x.zst'`]);
    const zst = await pushBytes(await readFile(join(dir, 'x.zst')), MediaType.OciLayerGzip);
    await expect(readImageFiles(store, [zst], () => true, { tmpDir: tmp })).rejects.toThrow(InvalidInputError);
    await expect(readImageFiles(store, [zst], () => true, { tmpDir: tmp })).rejects.toThrow(/zstd-compressed/);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('fails on a layer whose content does not match its digest', async () => {
    // A plain tar with one content byte changed: still a well-formed archive, so only the digest tells.
    const [base] = await threeLayers('none');
    const path = join(dir, 'layout', 'blobs', 'sha256', base!.digest.slice('sha256:'.length));
    const bytes = await readFile(path);
    const at = bytes.indexOf('BUSYBOX');
    expect(at).toBeGreaterThan(0);
    bytes.write('Z', at);
    await writeFile(path, bytes);
    await expect(readImageFiles(store, [base!], () => true, { tmpDir: tmp })).rejects.toThrow(IntegrityError);
    await expect(readImageFiles(store, [base!], () => true, { tmpDir: tmp })).rejects.toThrow(/digest mismatch/);
    expect(await readdir(tmp)).toEqual([]);
  });
});

describe('readFileFromImage', () => {
  it('reads small files of the final image, following symlinks', async () => {
    const layers = await threeLayers();
    expect((await readFileFromImage(store, layers, '/etc/passwd', { tmpDir: tmp }))?.toString()).toBe(PASSWD1);
    expect((await readFileFromImage(store, layers, 'bin/sh', { tmpDir: tmp }))?.toString()).toBe('BUSYBOX');
    expect(await readFileFromImage(store, layers, '/data/drop.txt', { tmpDir: tmp })).toBeUndefined();
    expect(await readFileFromImage(store, layers, '/etc', { tmpDir: tmp })).toBeUndefined();
    expect(await readFileFromImage(store, [], '/etc/passwd', { tmpDir: tmp })).toBeUndefined();
    await expect(readFileFromImage(store, layers, '/etc/passwd', { tmpDir: tmp, maxBytes: 10 })).rejects.toThrow(/more than the 10/);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('resolves --chown names through the image passwd and group files', async () => {
    const layers = await threeLayers();
    const found = await readFilesFromImage(store, layers, ['/etc/passwd', '/etc/group'], { tmpDir: tmp });
    const passwd = parsePasswd(found.get('/etc/passwd')!);
    const group = parseGroup(found.get('/etc/group')!);
    expect(resolveChown('svc', passwd, group)).toEqual({ uid: 999, gid: 50 });
    expect(resolveChown('app:staff', passwd, group)).toEqual({ uid: 1000, gid: 50 });
    expect(() => resolveChown('nobody', passwd, group)).toThrow(/no user "nobody"/);
  });
});
