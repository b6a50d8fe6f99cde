// COPY and ADD: what an instruction selects (context files, heredocs, URLs, local archives,
// files of another stage or image), the checksum that enters its stage digest, and the layer
// it adds. The checksum never needs an image's layers: what `--from` and `--chown` names
// resolve to is fixed by digests already in the chain, so layers are read only to build.

import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BuildError } from '../errors.js';
import type { Descriptor } from '../oci/index.js';
import { HttpTransport, drain } from '../registry/http.js';
import type { ProxySettings } from '../registry/proxy.js';
import { redactUrl } from '../registry/redact.js';
import type { ImageStore } from '../store/image-store.js';
import { baseIdentity } from './base-image.js';
import type { InstructionEnvironment, PreparedLayer, StageState } from './build-state.js';
import { selectFiles } from './context.js';
import type { ExpandedInstruction } from './dockerfile/expand.js';
import type { PlannedStage } from './dockerfile/plan.js';
import { containerConfig } from './image-config.js';
import { createLayer } from './layer/create-layer.js';
import { extractTarEntries } from './layer/extract-tar.js';
import { readFilesFromImage, readImageFiles } from './layer/image-files.js';
import { chownNeedsLookup, parseGroup, parsePasswd, resolveChown } from './layer/passwd.js';
import { isTarHeader, sniffCompression } from './layer/tar-reader.js';
import { ancestors } from './layer/paths.js';
import type { LayerEntry } from './layer/types.js';

export class CopyInstruction {
  constructor(private readonly env: InstructionEnvironment) {}

  /**
   * Resolve what a COPY/ADD reads and its checksum for the digest, without reading any image:
   * what `--from` and `--chown` names resolve to is fixed by digests already in the chain
   * (the source's, the base's), so layers are read only when the stage must be built.
   */
  async prepare(stage: PlannedStage, state: StageState, instruction: ExpandedInstruction, where: string): Promise<PreparedLayer> {
    const dest = instruction.dest ?? '';
    const workdir = containerConfig(state.config).WorkingDir || '/';
    const chmod = typeof instruction.flags.chmod === 'string' && instruction.flags.chmod !== '' ? parseMode(instruction.flags.chmod, where) : undefined;
    const fromFlag = typeof instruction.flags.from === 'string' && instruction.flags.from !== '' ? instruction.flags.from : undefined;
    const chowned = typeof instruction.flags.chown === 'string' && instruction.flags.chown !== '';
    const sources = instruction.sources ?? [];
    const hash = createHash('sha256');
    const closers: (() => Promise<void>)[] = [];
    const dispose = async (): Promise<void> => { await Promise.all(closers.splice(0).map((close) => close())); };
    // Entries are made at build time, once the owner is known: `(owner) => entries`.
    const makers: ((owner: Owner, entries: LayerEntry[]) => Promise<void>)[] = [];
    // Entries written at the destination itself (one source, a destination without '/'): when the image
    // has a directory there (or a symlink to one), they go into it under this name, as in Docker.
    const intoDir = new Map<LayerEntry, string>();
    const destTarget = posix.resolve('/', workdir, dest).slice(1);
    const destNamesFile = !dest.endsWith('/') && !dest.endsWith('/.') && dest !== '.';
    const atDest = (entry: LayerEntry, name: string): LayerEntry => {
      if (destNamesFile && entry.path === destTarget && entry.type !== 'dir') intoDir.set(entry, name);
      return entry;
    };

    try {
      for (const doc of sources) {
        if (doc.kind !== 'heredoc') continue;
        const target = posix.resolve('/', workdir, dest.endsWith('/') ? posix.join(dest, doc.name) : dest).slice(1);
        const bytes = Buffer.from(doc.content);
        hash.update(`heredoc:${target}:${doc.content}\0`);
        makers.push(async (owner, entries) => {
          entries.push(atDest({ path: target, type: 'file', mode: chmod ?? 0o644, uid: owner.uid, gid: owner.gid, size: bytes.length, open: async () => createReadStreamOf(bytes) }, doc.name));
        });
      }
      const paths = sources.flatMap((s) => (s.kind === 'path' ? [s.path] : []));
      if (paths.length > 0 && fromFlag !== undefined) {
        hash.update(`${await this.copySourceIdentity(stage, fromFlag, where)}\0`);
        makers.push(async (owner, entries) => {
          closers.push(await this.fromImageEntries(stage, instruction, paths, dest, workdir, owner, chmod, where, entries, atDest));
        });
      } else if (paths.length > 0) {
        const urls = instruction.keyword === 'ADD' ? paths.filter(isUrl) : [];
        for (const url of urls) {
          const file = await this.download(url, instruction, where);
          closers.push(() => rm(file.path, { force: true }));
          const name = posix.basename(new URL(url).pathname) || 'index.html';
          const target = posix.resolve('/', workdir, dest.endsWith('/') || paths.length > 1 ? posix.join(dest, name) : dest).slice(1);
          const mode = chmod ?? 0o600; // Docker writes a downloaded file with mode 0600
          hash.update(`url:${target}:${mode.toString(8)}:${file.digest}\0`);
          makers.push(async (owner, entries) => {
            entries.push(atDest({ path: target, type: 'file', mode, uid: owner.uid, gid: owner.gid, size: file.size, open: async () => createReadStream(file.path) }, name));
          });
        }
        const local = paths.filter((p) => !urls.includes(p));
        const exclude = instruction.flags.exclude;
        const selected = local.length > 0
          ? selectFiles(this.env.context, local, urls.length > 0 ? posix.join(dest, '/') : dest, workdir, where, {
            exclude: Array.isArray(exclude) ? exclude : typeof exclude === 'string' && exclude !== '' ? [exclude] : [],
            parents: instruction.flags.parents === 'true',
          })
          : [];
        for (const file of selected) {
          const projectPath = posix.join(this.env.context.dir, file.source);
          if (instruction.keyword === 'ADD' && (await this.isArchive(projectPath))) {
            // ADD unpacks a local archive into the destination directory.
            const { digest } = await hashStream(() => this.env.services.files.openStream(projectPath, 'context'));
            const targetDir = posix.resolve('/', workdir, dest).slice(1);
            hash.update(`archive:${targetDir}:${digest}\0`);
            makers.push(async (owner, entries) => {
              closers.push(await this.addArchive(projectPath, targetDir, chowned ? owner : undefined, where, entries));
            });
            continue;
          }
          if (file.file.type === 'symlink') {
            const linkTarget = this.env.services.files.readLink(projectPath, 'context');
            hash.update(`link:${file.target}:${linkTarget}\0`);
            makers.push(async (owner, entries) => {
              entries.push(atDest({ path: file.target, type: 'symlink', mode: 0o777, uid: owner.uid, gid: owner.gid, linkTarget }, posix.basename(file.source)));
            });
          } else {
            const { digest, size } = await hashStream(() => this.env.services.files.openStream(projectPath, 'context'));
            const mode = chmod ?? (file.file.mode & 0o111 ? 0o755 : 0o644);
            hash.update(`file:${file.target}:${mode.toString(8)}:${digest}\0`);
            makers.push(async (owner, entries) => {
              entries.push(atDest({ path: file.target, type: 'file', mode, uid: owner.uid, gid: owner.gid, size, open: async () => this.env.services.files.openStream(projectPath, 'context') }, posix.basename(file.source)));
            });
          }
        }
      }
    } catch (error) {
      await dispose();
      throw error;
    }
    return {
      checksum: hash.digest('hex'),
      build: async () => {
        try {
          const owner = await this.owner(state, instruction, where);
          const entries: LayerEntry[] = [];
          for (const make of makers) await make(owner, entries);
          const placed = await this.place(state, entries, intoDir, chowned ? owner : { uid: 0, gid: 0 });
          return await createLayer(placed, { tmpDir: this.env.services.tmpDir, parentDirs: 'omit', duplicates: 'last-wins' });
        } finally {
          await dispose();
        }
      },
      dispose,
    };
  }

  /**
   * Where the entries land in the image, as BuildKit and buildah write them: every destination is
   * resolved through the image's symlinks (a COPY below merged-/usr's `/sbin -> usr/sbin` writes
   * `usr/sbin/...` and keeps the link), an entry written at the destination itself goes into the
   * directory the image has there, and the directories the copy creates are made explicitly, owned by
   * `dirOwner` (the --chown owner, else root) with mode 0755.
   */
  private async place(state: StageState, entries: LayerEntry[], intoDir: ReadonlyMap<LayerEntry, string>, dirOwner: { uid: number; gid: number }): Promise<LayerEntry[]> {
    const store = state.layerSource ?? this.env.services.storage.store;
    const files = state.layers.length > 0 ? await readImageFiles(store, state.layers, () => false, { tmpDir: this.env.services.tmpDir }) : undefined;
    try {
      const resolve = (path: string, followFinal: boolean): { path: string; type: string | undefined } =>
        files ? files.resolveWrite(path, followFinal) : { path, type: undefined };
      const parents = new Map<string, string>();
      const resolveParent = (dir: string): string => {
        let resolved = parents.get(dir);
        if (resolved === undefined) {
          resolved = dir === '' ? '' : resolve(dir, true).path;
          parents.set(dir, resolved);
        }
        return resolved;
      };
      const out: LayerEntry[] = [];
      const written = new Set<string>();
      for (const entry of entries) {
        let path: string;
        const name = intoDir.get(entry);
        const destination = name !== undefined ? resolve(entry.path, true) : undefined;
        if (destination?.type === 'dir') path = posix.join(destination.path, name!);
        else {
          const slash = entry.path.lastIndexOf('/');
          const parent = slash < 0 ? '' : resolveParent(entry.path.slice(0, slash));
          path = posix.join(parent, entry.path.slice(slash + 1));
        }
        const linkTarget = entry.type === 'hardlink' && entry.linkTarget !== undefined ? resolveParentOf(entry.linkTarget, resolveParent) : entry.linkTarget;
        out.push({ ...entry, path, ...(linkTarget !== undefined ? { linkTarget } : {}) });
        written.add(path);
      }
      // The directories the copy creates: every missing ancestor of what it writes.
      const created = new Map<string, LayerEntry>();
      for (const entry of out) {
        for (const dir of ancestors(entry.path)) {
          if (written.has(dir) || created.has(dir)) continue;
          if (resolve(dir, false).type !== undefined) continue;
          created.set(dir, { path: dir, type: 'dir', mode: 0o755, uid: dirOwner.uid, gid: dirOwner.gid });
        }
      }
      return [...created.values(), ...out];
    } finally {
      await files?.close();
    }
  }

  /** What a `--from` source contributes to the digest: the stage's digest, or the image's manifest digest. */
  private async copySourceIdentity(stage: PlannedStage, from: string, where: string): Promise<string> {
    const reference = stage.references.find((r) => r.via === 'copy' && r.value === from);
    if (reference?.source.kind === 'stage') return `from-stage:${this.env.stages.get(reference.source.index)!.digest}`;
    if (reference?.source.kind === 'scratch') throw new BuildError(`${where}: COPY --from=scratch has no files to copy`);
    const ref = reference?.source.kind === 'image' ? reference.source.ref : from;
    const image = await this.env.services.images.resolve(ref, this.env.platform, where);
    return `from-image:${baseIdentity(image.manifestDigest, image.config.parsed)}`;
  }

  private async isArchive(projectPath: string): Promise<boolean> {
    const stream = this.env.services.files.openStream(projectPath, 'context');
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= 512) break;
    }
    stream.destroy();
    const head = Buffer.concat(chunks);
    return sniffCompression(head) !== 'none' || isTarHeader(head);
  }

  /** ADD of a local tar (plain or gzip): its entries under `targetDir`, with the archive's owners unless --chown overrides them. */
  private async addArchive(projectPath: string, targetDir: string, owner: Owner | undefined, where: string, entries: LayerEntry[]): Promise<() => Promise<void>> {
    const archive = extractTarEntries(this.env.services.files.openStream(projectPath, 'context'), { tmpDir: this.env.services.tmpDir, what: `${where}: ADD ${projectPath}` });
    const reroot = (path: string): string => (targetDir === '' ? path : `${targetDir}/${path}`);
    try {
      for await (const entry of archive) {
        entries.push({
          ...entry, path: reroot(entry.path),
          ...(entry.type === 'hardlink' && entry.linkTarget ? { linkTarget: reroot(entry.linkTarget) } : {}),
          ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
        });
      }
    } catch (error) {
      await archive.close();
      throw error;
    }
    return () => archive.close();
  }

  /** ADD of a URL: downloaded to a temp file (its digest enters the stage digest), verified against --checksum when given. */
  private async download(url: string, instruction: ExpandedInstruction, where: string): Promise<{ path: string; digest: string; size: number }> {
    const expected = typeof instruction.flags.checksum === 'string' && instruction.flags.checksum !== '' ? instruction.flags.checksum : undefined;
    const file = await downloadTo(url, this.env.services.tmpDir, this.env.services.proxy, where);
    if (expected !== undefined && file.digest !== expected) {
      await rm(file.path, { force: true });
      throw new BuildError(`${where}: ADD ${redactUrl(url)}: checksum mismatch, expected ${expected} but the download hashes to ${file.digest}`);
    }
    return file;
  }

  /** Add the files COPY --from selects to `entries`; returns what releases their spooled contents. */
  private async fromImageEntries(
    stage: PlannedStage, instruction: ExpandedInstruction, paths: string[], dest: string, workdir: string,
    owner: Owner, chmod: number | undefined, where: string, entries: LayerEntry[],
    atDest: (entry: LayerEntry, name: string) => LayerEntry,
  ): Promise<() => Promise<void>> {
    const reference = stage.references.find((r) => r.via === 'copy' && r.value === instruction.flags.from);
    let store: ImageStore;
    let layers: Descriptor[];
    if (reference?.source.kind === 'stage') {
      const source = this.env.stages.get(reference.source.index)!;
      await this.env.ensureAdopted(source);
      store = this.env.services.storage.store;
      layers = source.layers;
    } else {
      const ref = reference?.source.kind === 'image' ? reference.source.ref : String(instruction.flags.from);
      const image = await this.env.services.images.resolve(ref, this.env.platform, where);
      store = image.store;
      layers = image.manifest.parsed.layers;
    }
    const absoluteSources = paths.map((p) => posix.resolve('/', p).slice(1));
    const wanted = (path: string): boolean => absoluteSources.some((s) => s === '' || path === s || path.startsWith(`${s}/`));
    // The entries are read when the layer is built: the caller closes the files afterwards.
    const files = await readImageFiles(store, layers, wanted, { tmpDir: this.env.services.tmpDir });
    try {
      const destIsDir = dest.endsWith('/') || paths.length > 1;
      const destRoot = posix.resolve('/', workdir, dest).slice(1);
      let matched = 0;
      for (const source of absoluteSources) {
        const top = files.lookup(source);
        if (!top) throw new BuildError(`${where}: "/${source}" not found in the image given by --from=${String(instruction.flags.from)}`);
        for (const entry of files.entries) {
          if (!(entry.path === top.path || entry.path.startsWith(`${top.path}/`) || top.path === '')) continue;
          const relative = top.type === 'dir' ? entry.path.slice(top.path.length).replace(/^\//, '') : posix.basename(entry.path);
          if (top.type === 'dir' && relative === '') continue;
          const target = top.type === 'dir' || destIsDir ? posix.join(destRoot, relative) : destRoot;
          const keepOwner = owner.keep === true;
          const copy: LayerEntry = {
            ...entry, path: target,
            uid: keepOwner ? entry.uid : owner.uid, gid: keepOwner ? entry.gid : owner.gid,
            mode: chmod !== undefined && entry.type !== 'symlink' ? chmod : entry.mode,
          };
          entries.push(atDest(copy, posix.basename(entry.path)));
          matched++;
        }
      }
      if (matched === 0) throw new BuildError(`${where}: nothing to copy from --from=${String(instruction.flags.from)}`);
    } catch (error) {
      await files.close();
      throw error;
    }
    return () => files.close();
  }

  /** `--chown`: numeric ids, or names looked up in the image's /etc/passwd and /etc/group. Default root. */
  private async owner(state: StageState, instruction: ExpandedInstruction, where: string): Promise<Owner> {
    const spec = typeof instruction.flags.chown === 'string' ? instruction.flags.chown : '';
    if (spec === '') {
      // COPY --from keeps the owners of the source files unless --chown says otherwise.
      return instruction.flags.from ? { uid: 0, gid: 0, keep: true } : { uid: 0, gid: 0 };
    }
    const needs = chownNeedsLookup(spec);
    let found = new Map<string, Buffer>();
    if (needs.passwd || needs.group) {
      const store = state.layerSource ?? this.env.services.storage.store;
      found = await readFilesFromImage(store, state.layers, ['etc/passwd', 'etc/group'], { tmpDir: this.env.services.tmpDir });
    }
    const passwd = found.get('etc/passwd');
    const group = found.get('etc/group');
    try {
      return resolveChown(spec, passwd && parsePasswd(passwd), group && parseGroup(group));
    } catch (error) {
      throw new BuildError(`${where}: ${(error as Error).message}`, { cause: error, ...((error as BuildError).hint ? { hint: (error as BuildError).hint! } : {}) });
    }
  }
}

function resolveParentOf(path: string, resolveParent: (dir: string) => string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : posix.join(resolveParent(path.slice(0, slash)), path.slice(slash + 1));
}

/** `keep`: COPY --from without --chown keeps the source files' owners. */
type Owner = { uid: number; gid: number; keep?: true };

function parseMode(text: string, where: string): number {
  if (!/^[0-7]{3,4}$/.test(text)) throw new BuildError(`${where}: --chmod=${text} is not an octal mode (symbolic modes are not supported)`);
  return parseInt(text, 8);
}

function isUrl(path: string): boolean {
  return /^https?:\/\//.test(path);
}

/** How long an ADD download may stay silent (connecting, awaiting the answer, mid-body): fetch()'s 300 s, as before. */
const DOWNLOAD_TIMEOUT_MS = 300_000;

/**
 * Download to a temp file, hashing on the way; the URL is not logged with credentials. Through the registry
 * client's transport (registry/http.ts): redirects followed (Authorization dropped across hosts), behind a proxy
 * as curl would be (http_proxy/https_proxy/no_proxy of the environment, registry/proxy.ts), and one HTTP stack
 * in the program.
 */
async function downloadTo(url: string, tmpDir: string, proxy: ProxySettings, where: string): Promise<{ path: string; digest: string; size: number }> {
  // The credentials of a URL with userinfo go in a Basic Authorization header, as Docker sends them, and never
  // into a message.
  const parsed = new URL(url);
  const headers: Record<string, string> = {};
  if (parsed.username !== '' || parsed.password !== '') {
    const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
  }
  const scrub = (text: string): string => text.split(url).join(redactUrl(url)).split(parsed.href).join(redactUrl(url));
  const http = new HttpTransport({ proxy, timeoutMs: DOWNLOAD_TIMEOUT_MS });
  try {
    const response = await http.send({ method: 'GET', url: parsed, headers }).catch((error: unknown) => {
      throw new BuildError(`${where}: ADD ${redactUrl(url)}: ${scrub(describeFailure(error))}`);
    });
    if (response.status < 200 || response.status > 299) {
      await drain(response.body);
      throw new BuildError(`${where}: ADD ${redactUrl(url)}: the server answered ${response.status}`);
    }
    await mkdir(tmpDir, { recursive: true });
    const path = join(tmpDir, `add-${randomUUID()}`);
    const hash = createHash('sha256');
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    await pipeline(response.body, counter, createWriteStream(path)).catch(async (error: unknown) => {
      await rm(path, { force: true });
      throw new BuildError(`${where}: ADD ${redactUrl(url)}: ${scrub(describeFailure(error))}`);
    });
    return { path, digest: `sha256:${hash.digest('hex')}`, size };
  } finally {
    await http.close();
  }
}

/** An error's message, with its code when the message does not say it (`connect ECONNREFUSED ...` does). */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}

async function hashStream(open: () => NodeJS.ReadableStream): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of open()) {
    const buf = chunk as Buffer;
    size += buf.length;
    hash.update(buf);
  }
  return { digest: hash.digest('hex'), size };
}

function createReadStreamOf(bytes: Uint8Array): Readable {
  return Readable.from([Buffer.from(bytes)]);
}
