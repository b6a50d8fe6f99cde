// `oci-archive:FILE.tar`: an OCI image layout packed in one tar file, for air-gapped
// delivery (skopeo and podman read it). Work happens in a temporary layout directory;
// close() packs it into the file atomically (temp file, then rename).

import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extract, pack } from 'tar-stream';
import { InvalidInputError } from '../errors.js';
import type { Descriptor, ManifestDocument } from '../oci/index.js';
import type { BlobSource, BlobWriteResult, ImageStore } from './image-store.js';
import { OciLayoutStore } from './oci-layout-store.js';

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
    const workDir = await mkdtemp(join(tmpdir(), 'slipway-oci-archive-'));
    try {
      const exists = await stat(file).then((s) => s.isFile(), () => false);
      if (exists) await unpack(file, workDir);
      else if (!options.create) throw new InvalidInputError(`oci-archive:${file}: no such file`, { hint: 'check the path of the archive' });
      const layout = await OciLayoutStore.open(workDir, { create: !exists });
      return new OciArchiveStore(file, workDir, layout);
    } catch (error) {
      await rm(workDir, { recursive: true, force: true });
      throw error;
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

  /** Pack the layout into the archive (only when a manifest was written), then drop the work directory. */
  async close(): Promise<void> {
    try {
      if (this.modified) {
        await mkdir(dirname(this.file), { recursive: true });
        const temp = `${this.file}.tmp-${process.pid}`;
        await packDirectory(this.workDir, temp);
        await rename(temp, this.file);
      }
    } finally {
      await rm(this.workDir, { recursive: true, force: true });
    }
  }
}

async function unpack(file: string, dir: string): Promise<void> {
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

/** Files sorted by path, fixed times and owners: the same layout packs to the same bytes. */
async function packDirectory(dir: string, file: string): Promise<void> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile() && !d.name.endsWith('.lock'))
    .map((d) => relative(dir, join(d.parentPath ?? d.path, d.name)))
    .sort();
  const packer = pack();
  const written = pipeline(packer, createWriteStream(file));
  for (const name of files) {
    const { size } = await stat(join(dir, name));
    const entry = packer.entry({ name, size, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 });
    await pipeline(createReadStream(join(dir, name)), entry);
  }
  packer.finalize();
  await written;
}
