// The machine's cache of unpacked layers, the root filesystems RUN executes in.
//
// Every layer is unpacked once, into a directory in overlayfs's own format (deletions as 0/0 character
// devices), keyed by its chain ID (the layer and every layer below it), so an image's root filesystem is the
// stack of its layers' directories mounted as overlay lower layers: a base image is unpacked once per machine
// and shared by every build on it. A RUN's overlay upper directory is already in that format: it joins the
// cache as the directory of the layer it produced, so the next RUN of the same stage unpacks nothing.

import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, createWriteStream, lchownSync, linkSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync, type Stats } from 'node:fs';
import { lstat, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BuildError } from '../../errors.js';
import type { Descriptor } from '../../oci/index.js';
import type { ImageStore } from '../../store/image-store.js';
import { readTar } from '../layer/tar-reader.js';
import { writeXattrs } from '../layer/xattrs.js';
import { makeScratchDir } from '../scratch-dirs.js';
import { removeTree, rootless, runPrivileged } from './privileges.js';
import { OPAQUE_MARKER, WHITEOUT_META_PREFIX, WHITEOUT_PREFIX, ancestors, basename, dirname, joinPath } from '../layer/paths.js';

/** What the cache keeps beside a layer directory: what the kernel or the layer made opaque. */
interface LayerMeta {
  chainId: string;
  diffId: string;
  /** Directories whose lower content this layer hides as a whole (overlay's opaque xattr, which Node cannot read). */
  opaque: string[];
}

/** One layer directory, as a mount option names it (relative to the cache root) and as a path. */
export interface LayerDir {
  name: string;
  path: string;
  opaque: ReadonlySet<string>;
}

/** The chain IDs of a layer stack (OCI image spec): chain(0) = diff(0), chain(n) = sha256(chain(n-1) + ' ' + diff(n)). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const previous = out[out.length - 1];
    out.push(previous === undefined ? diffId : `sha256:${createHash('sha256').update(`${previous} ${diffId}`).digest('hex')}`);
  }
  return out;
}

/** A directory name for a chain: short enough that ~150 layers fit in one overlay mount option. */
function dirName(chainId: string): string {
  return chainId.replace(/^sha256:/, '').slice(0, 24);
}

export interface LayerDirsOptions {
  /** The cache directory (e.g. `$SLIPWAY_HOME/run/layers`). */
  root: string;
  /** Told about entries that cannot be unpacked (device nodes, fifos). */
  note?: (message: string) => void;
}

export class LayerDirs {
  readonly root: string;
  private readonly note: (message: string) => void;
  private readonly pending = new Map<string, Promise<LayerDir>>();

  constructor(options: LayerDirsOptions) {
    this.root = options.root;
    this.note = options.note ?? (() => undefined);
  }

  /** An empty directory every overlay mount puts at the bottom (overlay needs two lower layers without an upper one). */
  async emptyDir(): Promise<string> {
    const path = join(this.root, 'empty');
    await mkdir(path, { recursive: true });
    return 'empty';
  }

  /**
   * The directories of `layers` (described by `diffIds`, bottom first), unpacking the missing ones from `store`.
   * Returns them top first, the order overlay's lowerdir wants.
   */
  async stack(store: () => Promise<ImageStore>, layers: readonly Descriptor[], diffIds: readonly string[]): Promise<LayerDir[]> {
    if (layers.length !== diffIds.length) throw new BuildError(`the image has ${layers.length} layers but its config lists ${diffIds.length} diff IDs`);
    const chains = chainIds(diffIds);
    const dirs: LayerDir[] = [];
    for (let i = 0; i < chains.length; i++) {
      dirs.unshift(await this.layer(chains[i]!, diffIds[i]!, [...dirs], () => store().then((s) => s.readBlob(layers[i]!))));
    }
    return dirs;
  }

  /** The cached directory of a chain, or undefined. */
  async find(chainId: string): Promise<LayerDir | undefined> {
    const name = dirName(chainId);
    try {
      const meta = JSON.parse(await readFile(join(this.root, name, 'meta.json'), 'utf8')) as LayerMeta;
      if (meta.chainId !== chainId) return undefined;
      return { name: `${name}/fs`, path: join(this.root, name, 'fs'), opaque: new Set(meta.opaque) };
    } catch {
      return undefined;
    }
  }

  /** A new private directory under the cache root (same filesystem as the layers, so it can be renamed in). */
  scratch(prefix: string): Promise<string> {
    return makeScratchDir(this.root, `.${prefix}`);
  }

  /** Make `fs` (a RUN's upper directory) the cached directory of `chainId`; another process's copy wins a race. */
  async adopt(chainId: string, diffId: string, fs: string, opaque: readonly string[]): Promise<LayerDir> {
    const dir = await this.scratch('adopt');
    await rename(fs, join(dir, 'fs'));
    return this.commit(dir, { chainId, diffId, opaque: [...opaque] });
  }

  private layer(chainId: string, diffId: string, below: LayerDir[], open: () => Promise<Readable>): Promise<LayerDir> {
    const running = this.pending.get(chainId);
    if (running) return running;
    const work = (async () => {
      const found = await this.find(chainId);
      if (found) return found;
      const dir = await this.scratch('unpack');
      try {
        await unpackLayer(await open(), join(dir, 'fs'), below, this.note);
        // Opaque markers were turned into whiteouts: the kernel needs no xattr from us.
        return await this.commit(dir, { chainId, diffId, opaque: [] });
      } catch (error) {
        await removeTree(dir);
        throw error;
      }
    })();
    this.pending.set(chainId, work);
    work.catch(() => this.pending.delete(chainId));
    return work;
  }

  private async commit(dir: string, meta: LayerMeta): Promise<LayerDir> {
    await writeFile(join(dir, 'meta.json'), JSON.stringify(meta));
    const name = dirName(meta.chainId);
    try {
      await rename(dir, join(this.root, name));
    } catch (error) {
      // Another build unpacked the same chain first: keep theirs.
      if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
      await rm(dir, { recursive: true, force: true });
    }
    const found = await this.find(meta.chainId);
    if (!found) throw new BuildError(`layer cache ${join(this.root, name)} holds another chain than ${meta.chainId}`, { hint: `delete ${this.root}` });
    return found;
  }
}

/**
 * What one layer directory says about `path`: its entry; `absent` (look further down); or `hidden` (the
 * layer deletes it or one of its parents, or has a non-directory on its way: nothing below shows). Parents
 * are checked one by one, so a symlink of a layer is never followed on the host.
 */
function lookupInLayer(layer: LayerDir, path: string): Stats | 'absent' | 'hidden' {
  for (const parent of ancestors(path)) {
    const st = lstatSync(join(layer.path, parent), { throwIfNoEntry: false });
    if (st === undefined) return 'absent';
    if (!st.isDirectory()) return 'hidden';
  }
  const st = lstatSync(join(layer.path, path), { throwIfNoEntry: false });
  if (st === undefined) return ancestors(path).some((a) => layer.opaque.has(a)) ? 'hidden' : 'absent';
  return isWhiteout(st) ? 'hidden' : st;
}

/** The stat of `path` as the stack shows it (top first), and where it lies; undefined when absent or deleted. */
function visibleEntry(stack: readonly LayerDir[], path: string): { st: Stats; full: string } | undefined {
  for (const layer of stack) {
    const found = lookupInLayer(layer, path);
    if (found === 'hidden') return undefined;
    if (found !== 'absent') return { st: found, full: join(layer.path, path) };
  }
  return undefined;
}

/** The target of the symlink at `path` as the stack shows it, or undefined when `path` is no symlink. */
export function visibleLink(stack: readonly LayerDir[], path: string): string | undefined {
  const entry = visibleEntry(stack, path);
  return entry?.st.isSymbolicLink() ? readlinkSync(entry.full) : undefined;
}

/** The stat of `path` as the stack shows it (top first), or undefined when it is absent or deleted. */
export async function visibleStat(stack: readonly LayerDir[], path: string): Promise<Stats | undefined> {
  return visibleEntry(stack, path)?.st;
}

/** The host path of `path`'s content in the stack (the topmost layer that has it), for reading files. */
export async function visiblePath(stack: readonly LayerDir[], path: string): Promise<string | undefined> {
  return visibleEntry(stack, path)?.full;
}

/** The names a directory holds in the merged view of the stack. */
export async function visibleChildren(stack: readonly LayerDir[], dir: string): Promise<Set<string>> {
  const names = new Set<string>();
  const hidden = new Set<string>();
  for (const layer of stack) {
    const found = dir === '' ? lstatSync(layer.path) : lookupInLayer(layer, dir);
    if (found === 'hidden' || (found !== 'absent' && !found.isDirectory())) break;
    if (found !== 'absent') {
      const full = join(layer.path, dir);
      for (const name of await readdir(full)) {
        if (hidden.has(name) || names.has(name)) continue;
        if (isWhiteout(lstatSync(join(full, name)))) hidden.add(name);
        else names.add(name);
      }
      if (layer.opaque.has(dir)) break;
    }
    if (ancestors(dir).some((a) => layer.opaque.has(a))) break;
  }
  return names;
}

/** overlayfs marks a deletion with a character device 0/0. */
export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** Files up to this size are unpacked with one synchronous write (the thread pool's round trips dominate small files). */
const WRITE_WHOLE_MAX = 4 * 1024 * 1024;

/** Set owner and mode (chown first: it clears setuid bits). Owners are kept only as root. */
function setOwnerAndModeSync(path: string, uid: number, gid: number, mode: number): void {
  if (!rootless) lchownSync(path, uid, gid);
  chmodSync(path, mode);
}

/**
 * Unpack one layer tar into `fs` in overlay format, on top of `below` (top first). Whiteouts become 0/0
 * character devices; an opaque marker becomes a whiteout for every name the layers below show in that
 * directory. Nothing is written outside `fs`: paths are canonical (tar-reader refuses `..` escapes) and an
 * entry under a symlink of the same layer is refused rather than followed.
 */
async function unpackLayer(stream: Readable, fs: string, below: readonly LayerDir[], note: (message: string) => void): Promise<void> {
  mkdirSync(fs, { recursive: true });
  const dirs = new Set<string>(['']);
  const whiteouts = new Set<string>();
  const opaque = new Set<string>();
  const dirModes: { path: string; uid: number; gid: number; mode: number }[] = [];
  const fifos: { path: string; uid: number; gid: number; mode: number }[] = [];
  const attributes: { path: string; xattrs: Record<string, Buffer> }[] = [];

  const ensureParents = async (path: string): Promise<void> => {
    for (const dir of ancestors(path)) {
      if (dirs.has(dir)) continue;
      const full = join(fs, dir);
      const st = lstatSync(full, { throwIfNoEntry: false });
      if (st?.isDirectory()) {
        dirs.add(dir);
        continue;
      }
      if (st !== undefined) throw new BuildError(`layer entry "${path}" lies under "${dir}", which the same layer made a ${st.isSymbolicLink() ? 'symlink' : 'file'}`);
      // A directory this layer does not list keeps the mode and owner the layers below give it.
      const lower = await visibleStat(below, dir);
      mkdirSync(full);
      setOwnerAndModeSync(full, lower?.uid ?? 0, lower?.gid ?? 0, lower?.isDirectory() ? lower.mode & 0o7777 : 0o755);
      dirs.add(dir);
    }
  };
  const clear = (path: string): void => {
    const full = join(fs, path);
    const st = lstatSync(full, { throwIfNoEntry: false });
    if (st === undefined) return;
    rmSync(full, { recursive: st.isDirectory(), force: true });
    if (st.isDirectory()) for (const d of [...dirs]) if (d === path || d.startsWith(`${path}/`)) dirs.delete(d);
  };

  for await (const record of readTar(stream, `layer`)) {
    if (record.path === '') continue;
    const name = basename(record.path);
    if (name.startsWith(WHITEOUT_PREFIX)) {
      record.body.resume();
      if (name === OPAQUE_MARKER) opaque.add(dirname(record.path));
      else if (!name.startsWith(WHITEOUT_META_PREFIX)) whiteouts.add(joinPath(dirname(record.path), name.slice(WHITEOUT_PREFIX.length)));
      continue;
    }
    await ensureParents(record.path);
    const full = join(fs, record.path);
    if (record.xattrs && record.type !== 'hardlink') attributes.push({ path: full, xattrs: record.xattrs });
    switch (record.type) {
      case 'dir': {
        const st = lstatSync(full, { throwIfNoEntry: false });
        if (st !== undefined && !st.isDirectory()) clear(record.path);
        if (st === undefined || !st.isDirectory()) mkdirSync(full);
        dirs.add(record.path);
        // Modes last: a read-only directory must still take its children (and root may write anyway).
        dirModes.push({ path: full, uid: record.uid, gid: record.gid, mode: record.mode });
        break;
      }
      case 'file':
        clear(record.path);
        if (record.size <= WRITE_WHOLE_MAX) {
          const chunks: Buffer[] = [];
          for await (const chunk of record.body) chunks.push(chunk);
          writeFileSync(full, Buffer.concat(chunks), { flag: 'wx', mode: 0o600 });
        } else {
          await pipeline(record.body, createWriteStream(full, { flags: 'wx', mode: 0o600 }));
        }
        setOwnerAndModeSync(full, record.uid, record.gid, record.mode);
        break;
      case 'symlink':
        clear(record.path);
        symlinkSync(record.linkTarget ?? '', full);
        if (!rootless) lchownSync(full, record.uid, record.gid);
        break;
      case 'hardlink': {
        clear(record.path);
        const target = record.linkTarget!;
        const inLayer = join(fs, target);
        // The target's parents must be real directories of this layer: link() would follow a symlink to the host.
        for (const parent of ancestors(target)) {
          const pst = lstatSync(join(fs, parent), { throwIfNoEntry: false });
          if (pst !== undefined && !pst.isDirectory()) throw new BuildError(`layer hard link "${record.path}" points through "${parent}", which is not a directory`);
        }
        const st = lstatSync(inLayer, { throwIfNoEntry: false });
        if (st === undefined) {
          // A link to a file of a lower layer: copy it up, as overlay would, then link.
          const lower = await visiblePath(below, target);
          if (lower === undefined || !lstatSync(lower).isFile()) throw new BuildError(`layer hard link "${record.path}" points to "${target}", which is not a file of the layers below`);
          await ensureParents(target);
          copyFileSync(lower, inLayer);
          const lst = lstatSync(lower);
          setOwnerAndModeSync(inLayer, lst.uid, lst.gid, lst.mode & 0o7777);
        }
        linkSync(inLayer, full);
        break;
      }
      default:
        record.body.resume();
        clear(record.path);
        if (record.rawType === 'fifo') fifos.push({ path: full, uid: record.uid, gid: record.gid, mode: record.mode });
        else note(`skipped "${record.path}": a ${record.rawType} cannot be unpacked for RUN (device nodes come from the sandbox's /dev)`);
    }
  }
  // Named pipes: Node cannot make them, coreutils can.
  for (let i = 0; i < fifos.length; i += 500) {
    await runPrivileged(['mkfifo', ...fifos.slice(i, i + 500).map((f) => f.path)], 'could not create named pipes', 'check that coreutils is installed');
  }
  for (const fifo of fifos) setOwnerAndModeSync(fifo.path, fifo.uid, fifo.gid, fifo.mode);
  for (const entry of dirModes.reverse()) setOwnerAndModeSync(entry.path, entry.uid, entry.gid, entry.mode);
  // Capabilities last: chown clears security.capability. One setfattr for the layer.
  await writeXattrs(attributes, join(fs, '..', 'xattrs.restore'));

  // Deletions: explicit whiteouts, and for opaque directories every name the layers below show.
  const deletions: string[] = [];
  for (const path of whiteouts) deletions.push(path);
  for (const dir of opaque) {
    for (const name of await visibleChildren(below, dir)) deletions.push(joinPath(dir, name));
  }
  const toMark: string[] = [];
  for (const path of deletions) {
    if (await lstat(join(fs, path)).catch(() => undefined)) continue; // the layer put something new there
    if ((await visibleStat(below, path)) === undefined) continue; // nothing below to hide
    await ensureParents(path);
    toMark.push(join(fs, path));
  }
  await makeWhiteouts(toMark);
}

/** Create overlay whiteouts (0/0 character devices); Node has no mknod, coreutils does. */
export async function makeWhiteouts(paths: readonly string[]): Promise<void> {
  for (let i = 0; i < paths.length; i += 500) {
    await runPrivileged(['/bin/sh', '-c', 'for p do mknod "$p" c 0 0 || exit 1; done', 'sh', ...paths.slice(i, i + 500)],
      'could not create overlay whiteouts', 'RUN needs root, or user namespaces, to unpack layers that delete files');
  }
}
