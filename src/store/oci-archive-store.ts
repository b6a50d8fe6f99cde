// `oci-archive:FILE.tar`: an OCI image layout packed in one tar file, for air-gapped delivery (skopeo and podman
// read it). Work happens in a layout directory beside the archive (same filesystem; $TMPDIR only for an archive
// that is read from a directory nothing may be written to); close() packs
// it into a temporary file there, fsyncs it and renames it over the archive, so the archive is either the old one
// or the whole new one. The work directory and the temporary file carry the PID of the process that made them:
// the ones a killed run left are removed when the next one opens an archive in that directory.

import { constants, createReadStream, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { access, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack } from 'tar-stream';
import { InvalidInputError } from '../errors.js';
import type { Descriptor, ManifestDocument } from '../oci/index.js';
import type { BlobSource, BlobWriteResult, ImageStore } from './image-store.js';
import { isLeftover, ownerTag } from '../process-identity.js';
import { OciLayoutStore, wrapError } from './oci-layout-store.js';

export class OciArchiveStore implements ImageStore {
  readonly name: string;
  readonly repository = undefined;
  private modified = false;

  private constructor(
    private readonly file: string,
    private readonly workDir: string,
    private readonly layout: OciLayoutStore,
  ) {
    this.name = `oci-archive:${file}`;
  }

  /** Open `file` (unpacking it when it exists, so new tags are added to it), or start an empty archive. */
  static async open(file: string, options: { create?: boolean } = {}): Promise<OciArchiveStore> {
    const name = `oci-archive:${file}`;
    const exists = await stat(file).then((s) => s.isFile(), () => false);
    if (!exists && !options.create) throw new InvalidInputError(`${name}: no such file`, { hint: 'check the path of the archive' });
    const dir = dirname(file);
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw wrapError(`cannot create the directory of ${name}`, error);
    }
    // An archive that is only read may sit where nothing can be written (a read-only medium): its work
    // directory then goes to $TMPDIR, named and swept the same way.
    const workParent = exists && !options.create && !(await writable(dir)) ? tmpdir() : dir;
    await sweepLeftovers(workParent, basename(file));
    const workDir = scratchName(join(workParent, basename(file)), 'd');
    try {
      if (exists) await unpack(file, workDir);
      const layout = await OciLayoutStore.open(workDir, { create: !exists, name });
      return new OciArchiveStore(file, workDir, layout);
    } catch (error) {
      await rm(workDir, { recursive: true, force: true });
      throw error instanceof InvalidInputError ? error : wrapError(`cannot open ${name}`, error);
    }
  }

  resolve(target: string): Promise<Descriptor | undefined> { return this.layout.resolve(target); }
  getManifest(target: string): Promise<ManifestDocument> { return this.layout.getManifest(target); }
  listTags(): Promise<string[]> { return this.layout.listTags(); }
  hasBlob(digest: string): Promise<boolean> { return this.layout.hasBlob(digest); }
  readBlob(descriptor: Descriptor) { return this.layout.readBlob(descriptor); }
  readBlobBytes(descriptor: Descriptor): Promise<Uint8Array> { return this.layout.readBlobBytes(descriptor); }

  async putManifest(manifest: ManifestDocument, tag?: string): Promise<void> {
    this.modified = true;
    await this.layout.putManifest(manifest, tag);
  }

  async deleteManifest(digest: string): Promise<void> {
    this.modified = true;
    await this.layout.deleteManifest(digest);
  }

  writeBlob(source: BlobSource): Promise<BlobWriteResult> {
    return this.layout.writeBlob(source);
  }

  /** Drop the work directory; the archive stays as it was. */
  async discard(): Promise<void> {
    await rm(this.workDir, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Pack the layout into the archive (only when a manifest was written), then drop the work directory. */
  async close(): Promise<void> {
    const temp = scratchName(this.file, 'tmp');
    try {
      if (this.modified) {
        await packDirectory(this.workDir, temp);
        await rename(temp, this.file);
        await syncDirectory(dirname(this.file));
      }
    } catch (error) {
      throw wrapError(`cannot write ${this.name}`, error);
    } finally {
      await rm(temp, { force: true }).catch(() => undefined);
      await rm(this.workDir, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/** `.FILE.slipway-<pid>-<ns>-<random>.<suffix>` beside the archive. */
function scratchName(file: string, suffix: string): string {
  return join(dirname(file), `.${basename(file)}.slipway-${ownerTag()}-${randomBytes(6).toString('hex')}.${suffix}`);
}

/** Leftovers of other namespaces (a shared volume) or of reused PIDs go only after a day. */
const STALE_MS = 24 * 3600 * 1000;

/** Work directories and temporary archives of processes that are gone. */
async function sweepLeftovers(dir: string, archive: string): Promise<void> {
  const prefix = `.${archive}.slipway-`;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(\d+)-(\d+)-/.exec(name.slice(prefix.length));
    if (match === null) continue;
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (st === undefined || !isLeftover(Number(match[1]), match[2]!, Date.now() - st.mtimeMs, STALE_MS)) continue;
    await rm(join(dir, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

async function writable(dir: string): Promise<boolean> {
  return access(dir, constants.W_OK).then(() => true, () => false);
}


async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  await handle?.sync().catch(() => undefined);
  await handle?.close();
}

async function unpack(file: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const extractor = extract();
  const done = pipeline(createReadStream(file), extractor);
  for await (const entry of extractor) {
    const path = join(dir, entry.header.name);
    if (relative(dir, path).startsWith('..')) throw new InvalidInputError(`oci-archive:${file}: entry "${entry.header.name}" leaves the archive`);
    if (entry.header.type === 'directory') {
      await mkdir(path, { recursive: true });
      entry.resume();
    } else if (entry.header.type === 'file') {
      await mkdir(dirname(path), { recursive: true });
      await pipeline(entry, createWriteStream(path));
    } else entry.resume();
  }
  await done;
}

/** Files sorted by path, fixed times and owners: the same layout packs to the same bytes. Fsynced before it is renamed in. */
async function packDirectory(dir: string, file: string): Promise<void> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile() && !d.name.endsWith('.lock'))
    .map((d) => relative(dir, join(d.parentPath ?? d.path, d.name)))
    .sort();
  const handle = await open(file, 'wx', 0o644);
  try {
    const packer = pack();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        handle.write(chunk).then(() => callback(), callback);
      },
    });
    const written = pipeline(packer, sink);
    // A write that fails (a full disk) rejects `written` while entries are still being added: observe it now,
    // and let the entry loop stop on the destroyed packer.
    written.catch(() => undefined);
    try {
      for (const name of files) {
        const { size } = await stat(join(dir, name));
        const entry = packer.entry({ name, size, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 });
        await pipeline(createReadStream(join(dir, name)), entry);
      }
      packer.finalize();
    } catch (error) {
      await written.catch((writeError: unknown) => { throw writeError; });
      throw error;
    }
    await written;
    await handle.sync();
  } finally {
    await handle.close();
  }
}
