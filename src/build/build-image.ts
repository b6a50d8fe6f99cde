// Build one Dockerfile image for one platform, stage by stage. Every instruction that
// changes the image is a stage: its digest is computed from its inputs, looked up in
// the stages storage, and built and published only when no runner has published it.

import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import pLimit from 'p-limit';
import { pipeline } from 'node:stream/promises';
import { BuildError } from '../errors.js';
import {
  MediaType, encodeDocument, encodeManifest, formatPlatform, type Descriptor, type ImageConfig, type Platform,
} from '../oci/index.js';
import type { RegistryClient } from '../registry/client.js';
import { redactUrl } from '../registry/redact.js';
import type { ImageStore } from '../store/image-store.js';
import type { StageDescriptor, StagesStorage } from '../stages/index.js';
import { SERVICE_LABELS, stageDigest } from '../stages/index.js';
import type { ProjectFiles } from '../config/project-files.js';
import { resolveImage } from './base-image.js';
import { openBuildContext, selectFiles, type BuildContext } from './context.js';
import { canonicalInstruction } from './dockerfile/canonical.js';
import type { ExpandedInstruction } from './dockerfile/expand.js';
import { parseDockerfile, parseInstruction } from './dockerfile/parse.js';
import { createStageScope, planStages, type PlannedStage, type StagePlan } from './dockerfile/plan.js';
import type { ArgEnvScope } from './dockerfile/scope.js';
import type { Instruction } from './dockerfile/types.js';
import { BUILD_EPOCH, addHistory, applyMetadataInstruction, cloneConfig, containerConfig, type StageMetaState } from './image-config.js';
import { createLayer } from './layer/create-layer.js';
import { extractTarEntries } from './layer/extract-tar.js';
import { readFilesFromImage, readImageFiles } from './layer/image-files.js';
import { chownNeedsLookup, parseGroup, parsePasswd, resolveChown } from './layer/passwd.js';
import { isTarHeader, sniffCompression } from './layer/tar-reader.js';
import type { BuiltLayer, LayerEntry } from './layer/types.js';

/** Base layers moved into the stages storage at once. */
const BASE_LAYER_CONCURRENCY = 4;

/** Slipway's own cache version: bump it when stage contents change for the same inputs. */
export const SLIPWAY_CACHE_VERSION = '1';

/** `-Z`: a stage that would have to be built. */
export class StageNotBuiltError extends BuildError {
  constructor(readonly image: string, readonly stage: string) {
    super(`image ${image}: stage ${stage} is not in the stages storage`);
  }
}

export interface BuildServices {
  /** `--require-built-images`: fail instead of building a missing stage. */
  requireBuilt?: boolean;
  client: RegistryClient;
  storage: StagesStorage;
  files: ProjectFiles;
  project: string;
  version: string;
  tmpDir: string;
  log: BuildLog;
}

export interface BuildLog {
  stageReused(image: string, stage: string, tag: string): void;
  stageBuilding(image: string, stage: string): void;
  stageStored(image: string, stage: string, tag: string, size: number): void;
  stageDiscarded(image: string, stage: string, tag: string): void;
  /** An image is done (or failed): a logger that groups lines per image prints its block now. */
  imageDone?(image: string, outcome: { ok: boolean; tag?: string; built: number; reused: number; ms: number }): void;
}

export interface DockerfileBuildInput {
  /** The werf image name, for logs and messages. */
  name: string;
  dockerfile: string;
  context: string;
  target: string | undefined;
  buildArgs: Record<string, string>;
  cacheVersion: string | undefined;
  platform: Platform;
  buildPlatform: Platform;
}

export interface StageRecord {
  name: string;
  digest: string;
  tag: string;
  reused: boolean;
}

export interface PlatformImage {
  platform: Platform;
  /** The last stage: its tag is the image's content-based tag. */
  stage: StageDescriptor;
  manifestDigest: string;
  configDigest: string;
  size: number;
  stages: StageRecord[];
  built: number;
  reused: number;
}

/** The image being assembled in one Dockerfile stage. */
interface StageState {
  config: ImageConfig;
  layers: Descriptor[];
  /** Where layers that are not yet in the stages storage can be read (the base image's repository). */
  layerSource: ImageStore | undefined;
  /** The digest chain so far: every stage digest includes the previous one. */
  digest: string;
  /** The last stage published (or found) for this state; undefined while only the base is known. */
  published: StageDescriptor | undefined;
  /** The manifest and config digests of `published`. */
  manifestDigest: string | undefined;
  configDigest?: string;
  /**
   * A stage found in the storage whose manifest and config are not read yet: a run that reuses
   * every stage reads only the last one. Metadata is tracked locally meanwhile.
   */
  pending?: StageDescriptor;
  /** A Slipway stage this state starts from (FROM a dependency image): the first stage's parent, so cleanup keeps it. */
  baseStageTag?: string;
  scope: ArgEnvScope;
  meta: StageMetaState;
}

export async function buildDockerfileImage(services: BuildServices, input: DockerfileBuildInput): Promise<PlatformImage> {
  const { files } = services;
  const dockerfilePath = posix.join(input.context, input.dockerfile);
  const text = files.readFile(dockerfilePath, 'dockerfile').toString('utf8');
  const dockerfile = parseDockerfile(text, dockerfilePath);
  const plan = planStages(dockerfile, {
    ...(input.target !== undefined ? { target: input.target } : {}),
    buildArgs: input.buildArgs,
    targetPlatform: input.platform,
    buildPlatform: input.buildPlatform,
  });
  const context = openBuildContext(files, input.context, dockerfilePath);
  const builder = new ImageBuilder(services, input, plan, context);
  return builder.run();
}

class ImageBuilder {
  private readonly states = new Map<number, StageState>();
  private readonly records: StageRecord[] = [];
  private built = 0;
  private reused = 0;

  constructor(
    private readonly services: BuildServices,
    private readonly input: DockerfileBuildInput,
    private readonly plan: StagePlan,
    private readonly context: BuildContext,
  ) {}

  async run(): Promise<PlatformImage> {
    for (const stage of this.plan.stages) {
      const state = await this.buildStage(stage);
      this.states.set(stage.index, state);
    }
    const final = this.states.get(this.plan.target)!;
    await this.ensureAdopted(final);
    return {
      platform: this.input.platform,
      stage: final.published!,
      manifestDigest: final.manifestDigest!,
      configDigest: final.configDigest!,
      size: final.layers.reduce((sum, l) => sum + l.size, 0),
      stages: this.records,
      built: this.built,
      reused: this.reused,
    };
  }

  private where(line: number): string {
    return `${this.plan.file}:${line}`;
  }

  private async buildStage(stage: PlannedStage): Promise<StageState> {
    const state = await this.baseState(stage);
    const triggers = containerConfig(state.config).OnBuild ?? [];
    if (triggers.length > 0) {
      // ONBUILD triggers of the base run first, and are not inherited further.
      containerConfig(state.config).OnBuild = null;
      for (const trigger of triggers) {
        const instruction = parseInstruction(trigger, { file: this.plan.file, line: stage.line, escape: this.plan.escape });
        await this.step(stage, state, instruction);
      }
    }
    for (const instruction of stage.instructions) await this.step(stage, state, instruction);
    // A stage that changed nothing (e.g. only FROM) is still an image of its own.
    if (state.published === undefined) {
      const stageName = `${stage.name ?? stage.index}/from@${stage.line}`;
      const found = await this.services.storage.findStage(state.digest);
      if (found) await this.adopt(state, found);
      else if (this.services.requireBuilt) throw new StageNotBuiltError(this.input.name, stageName);
      else await this.publish(state, undefined, stageName);
    }
    return state;
  }

  private async baseState(stage: PlannedStage): Promise<StageState> {
    const versionParts = this.digestPrefix();
    const from = stage.from;
    if (from.kind === 'stage') {
      const base = this.states.get(from.index)!;
      await this.ensureAdopted(base);
      return {
        config: cloneConfig(base.config), layers: [...base.layers], layerSource: base.layerSource,
        digest: stageDigest([...versionParts, 'FROM-stage', base.digest]),
        published: base.published, manifestDigest: base.manifestDigest, ...(base.configDigest ? { configDigest: base.configDigest } : {}),
        scope: createStageScope(this.plan, containerConfig(base.config).Env ?? []), meta: { cmdSet: false },
      };
    }
    if (from.kind === 'scratch') {
      const config: ImageConfig = {
        architecture: stage.platform.architecture, os: stage.platform.os,
        ...(stage.platform.variant ? { variant: stage.platform.variant } : {}),
        created: BUILD_EPOCH, config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [],
      };
      return {
        config, layers: [], layerSource: undefined, digest: stageDigest([...versionParts, 'FROM', 'scratch']),
        published: undefined, manifestDigest: undefined, scope: createStageScope(this.plan, []), meta: { cmdSet: false },
      };
    }
    const base = await resolveImage(this.services.client, from.ref, from.platform ?? stage.platform, this.where(stage.line));
    const config = cloneConfig(base.config.parsed);
    const baseTag = /[:]([0-9a-f]{56}-[0-9]{13})$/.exec(from.ref)?.[1];
    const ownStage = containerConfig(config).Labels?.[SERVICE_LABELS.project] === this.services.project && baseTag !== undefined;
    return {
      ...(ownStage ? { baseStageTag: baseTag } : {}),
      config, layers: [...base.manifest.parsed.layers], layerSource: base.store,
      digest: stageDigest([...versionParts, 'FROM', baseIdentity(base.manifestDigest, config)]),
      published: undefined, manifestDigest: undefined,
      scope: createStageScope(this.plan, containerConfig(config).Env ?? []), meta: { cmdSet: false },
    };
  }

  /** werf leaves linux/amd64 out of digests; every other platform is part of them. */
  private digestPrefix(): string[] {
    const platform = formatPlatform(this.input.platform);
    return [...(platform === 'linux/amd64' ? [] : [platform]), SLIPWAY_CACHE_VERSION, this.input.cacheVersion ?? ''];
  }

  private async step(stage: PlannedStage, state: StageState, instruction: Instruction): Promise<void> {
    const where = this.where(instruction.line);
    if (instruction.keyword === 'RUN') {
      throw new BuildError(`${where}: RUN is not supported yet: Slipway's builder runs no commands until RUN support lands`, {
        hint: 'build this image without RUN instructions for now (COPY/ADD prepared files instead)',
      });
    }
    // The scope expands the instruction and applies ARG and ENV to itself.
    const expanded = state.scope.apply(instruction);
    if (instruction.keyword === 'ARG') {
      // An ARG changes no image, but its value (in the expanded form) reaches the digest chain.
      state.digest = stageDigest([state.digest, canonicalInstruction(instruction, expanded)]);
      return;
    }
    const inputs = [state.digest, canonicalInstruction(instruction, expanded)];
    let layerWork: PreparedCopy | undefined;
    if (instruction.keyword === 'COPY' || instruction.keyword === 'ADD') {
      layerWork = await this.prepareCopy(stage, state, expanded, where);
      inputs.push(layerWork.checksum);
    }
    const digest = stageDigest([...this.digestPrefix(), ...inputs]);
    state.digest = digest;
    const stageName = `${stage.name ?? stage.index}/${instruction.keyword.toLowerCase()}@${instruction.line}`;
    const found = await this.services.storage.findStage(digest);
    if (found) {
      await layerWork?.dispose();
      // Later instructions expand against this config (WORKDIR, CMD before ENTRYPOINT): keep it current
      // without reading the stage; its layers are read only if something needs them.
      if (layerWork === undefined) this.applyMetadata(state, instruction, expanded);
      state.published = found;
      state.pending = found;
      state.manifestDigest = undefined;
      state.configDigest = undefined;
      this.reused++;
      this.records.push({ name: stageName, digest, tag: found.tag, reused: true });
      this.services.log.stageReused(this.input.name, stageName, found.tag);
      return;
    }
    if (this.services.requireBuilt) {
      await layerWork?.dispose();
      throw new StageNotBuiltError(this.input.name, stageName);
    }
    this.services.log.stageBuilding(this.input.name, stageName);
    await this.ensureAdopted(state);
    if (layerWork === undefined) {
      this.applyMetadata(state, instruction, expanded);
      addHistory(state.config, canonicalInstruction(instruction, expanded), true);
      await this.publish(state, undefined, stageName);
    } else {
      const layer = await layerWork.build();
      try {
        addHistory(state.config, canonicalInstruction(instruction, expanded), false);
        await this.publish(state, layer, stageName);
      } finally {
        await rm(layer.path, { force: true });
      }
    }
  }

  private applyMetadata(state: StageState, instruction: Instruction, expanded: ExpandedInstruction): void {
    if (instruction.keyword === 'ENV') containerConfig(state.config).Env = state.scope.configEnv();
    else applyMetadataInstruction(state.config, instruction, expanded, state.meta);
  }

  private async ensureAdopted(state: StageState): Promise<void> {
    if (state.pending) await this.adopt(state, state.pending);
  }

  /** Continue from a stage found in the storage: its config and layers become the state. */
  private async adopt(state: StageState, stage: StageDescriptor): Promise<void> {
    const image = await this.services.storage.getStageImage(stage);
    if (image.manifest.kind !== 'image') throw new BuildError(`stage ${stage.tag} is not an image manifest`);
    state.config = cloneConfig(image.config.parsed);
    state.layers = [...image.manifest.parsed.layers];
    state.layerSource = undefined;
    state.published = stage;
    state.manifestDigest = image.manifest.digest;
    state.configDigest = image.config.digest;
    state.pending = undefined;
  }

  /** Write the state (plus an optional new layer) as a stage image: blobs first, the tag last. */
  private async publish(state: StageState, layer: BuiltLayer | undefined, stageName: string): Promise<void> {
    const { storage, project, version, files } = this.services;
    const store = storage.store;
    const config = cloneConfig(state.config);
    const labels = { ...(containerConfig(config).Labels ?? {}) };
    labels[SERVICE_LABELS.project] = project;
    labels[SERVICE_LABELS.version] = version;
    labels[SERVICE_LABELS.stageContentDigest] = stageDigest([state.digest, 'content']);
    const parent = state.published?.tag ?? state.baseStageTag;
    if (parent) labels[SERVICE_LABELS.parentStageId] = parent;
    else delete labels[SERVICE_LABELS.parentStageId];
    if (files.commit) labels[SERVICE_LABELS.projectRepoCommit] = files.commit.hash;
    containerConfig(config).Labels = labels;
    const layers = [...state.layers];
    if (layer) {
      layers.push({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size });
      config.rootfs = { type: 'layers', diff_ids: [...(config.rootfs?.diff_ids ?? []), layer.diffId] };
    }
    const configDoc = encodeDocument(config, MediaType.OciConfig);
    const configDescriptor: Descriptor = { mediaType: MediaType.OciConfig, digest: configDoc.digest, size: configDoc.bytes.length };
    const manifest = encodeManifest({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDescriptor, layers }, MediaType.OciManifest);

    const source = state.layerSource;
    const mountFrom = source?.repository && store.repository && source.repository.registry === store.repository.registry ? source.repository : undefined;
    const writeBlobs = async (): Promise<void> => {
      if (source) {
        // The base image's layers, copied (or mounted) into the stages storage once, largest first, a few at a time.
        const limit = pLimit(BASE_LAYER_CONCURRENCY);
        const largestFirst = [...state.layers].sort((a, b) => b.size - a.size);
        await Promise.all(largestFirst.map((descriptor) => limit(() => store.writeBlob({ descriptor, open: () => source.readBlob(descriptor), ...(mountFrom ? { mountFrom } : {}) }))));
      }
      if (layer) await store.writeBlob({ descriptor: layers[layers.length - 1]!, open: async () => createReadStream(layer.path) });
      await store.writeBlob({ descriptor: configDescriptor, open: async () => createReadStreamOf(configDoc.bytes) });
    };

    let pushed = false;
    // Blobs are written inside the per-digest critical section: runners that built the same stage
    // do not upload the same blobs at once (distribution's blob links race then), and only the
    // winner uploads at all.
    const published = await storage.publishStage(state.digest, async (tag) => {
      pushed = true;
      await writeBlobs();
      await store.putManifest(manifest, tag);
      return { manifestDigest: manifest.digest };
    }, state.published ? { minTimestamp: state.published.timestamp } : {});
    this.records.push({ name: stageName, digest: state.digest, tag: published.tag, reused: !pushed });
    if (pushed) {
      this.built++;
      state.config = config;
      state.layers = layers;
      state.layerSource = undefined;
      state.published = published;
      state.manifestDigest = manifest.digest;
      state.configDigest = configDoc.digest;
      this.services.log.stageStored(this.input.name, stageName, published.tag, layer?.size ?? 0);
    } else {
      // Another runner published this digest while we built: theirs wins, ours is dropped.
      this.reused++;
      this.services.log.stageDiscarded(this.input.name, stageName, published.tag);
      await this.adopt(state, published);
    }
  }

  /** Resolve what a COPY/ADD reads, its checksum for the digest, and how to build its layer. */
  /**
   * Resolve what a COPY/ADD reads and its checksum for the digest, without reading any image:
   * what `--from` and `--chown` names resolve to is fixed by digests already in the chain
   * (the source's, the base's), so layers are read only when the stage must be built.
   */
  private async prepareCopy(stage: PlannedStage, state: StageState, instruction: ExpandedInstruction, where: string): Promise<PreparedCopy> {
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

    try {
      for (const doc of sources) {
        if (doc.kind !== 'heredoc') continue;
        const target = posix.resolve('/', workdir, dest.endsWith('/') ? posix.join(dest, doc.name) : dest).slice(1);
        const bytes = Buffer.from(doc.content);
        hash.update(`heredoc:${target}:${doc.content}\0`);
        makers.push(async (owner, entries) => {
          entries.push({ path: target, type: 'file', mode: chmod ?? 0o644, uid: owner.uid, gid: owner.gid, size: bytes.length, open: async () => createReadStreamOf(bytes) });
        });
      }
      const paths = sources.flatMap((s) => (s.kind === 'path' ? [s.path] : []));
      if (paths.length > 0 && fromFlag !== undefined) {
        hash.update(`${await this.copySourceIdentity(stage, fromFlag, where)}\0`);
        makers.push(async (owner, entries) => {
          closers.push(await this.fromImageEntries(stage, instruction, paths, dest, workdir, owner, chmod, where, entries));
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
            entries.push({ path: target, type: 'file', mode, uid: owner.uid, gid: owner.gid, size: file.size, open: async () => createReadStream(file.path) });
          });
        }
        const local = paths.filter((p) => !urls.includes(p));
        const selected = local.length > 0 ? selectFiles(this.context, local, urls.length > 0 ? posix.join(dest, '/') : dest, workdir, where) : [];
        for (const file of selected) {
          const projectPath = posix.join(this.context.dir, file.source);
          if (instruction.keyword === 'ADD' && (await this.isArchive(projectPath))) {
            // ADD unpacks a local archive into the destination directory.
            const { digest } = await hashStream(() => this.services.files.openStream(projectPath, 'context'));
            const targetDir = posix.resolve('/', workdir, dest).slice(1);
            hash.update(`archive:${targetDir}:${digest}\0`);
            makers.push(async (owner, entries) => {
              closers.push(await this.addArchive(projectPath, targetDir, chowned ? owner : undefined, where, entries));
            });
            continue;
          }
          if (file.file.type === 'symlink') {
            const linkTarget = this.services.files.readLink(projectPath, 'context');
            hash.update(`link:${file.target}:${linkTarget}\0`);
            makers.push(async (owner, entries) => {
              entries.push({ path: file.target, type: 'symlink', mode: 0o777, uid: owner.uid, gid: owner.gid, linkTarget });
            });
          } else {
            const { digest, size } = await hashStream(() => this.services.files.openStream(projectPath, 'context'));
            const mode = chmod ?? (file.file.mode & 0o111 ? 0o755 : 0o644);
            hash.update(`file:${file.target}:${mode.toString(8)}:${digest}\0`);
            makers.push(async (owner, entries) => {
              entries.push({ path: file.target, type: 'file', mode, uid: owner.uid, gid: owner.gid, size, open: async () => this.services.files.openStream(projectPath, 'context') });
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
          return await createLayer(entries, { tmpDir: this.services.tmpDir, parentDirs: 'omit', duplicates: 'last-wins' });
        } finally {
          await dispose();
        }
      },
      dispose,
    };
  }

  /** What a `--from` source contributes to the digest: the stage's digest, or the image's manifest digest. */
  private async copySourceIdentity(stage: PlannedStage, from: string, where: string): Promise<string> {
    const reference = stage.references.find((r) => r.via === 'copy' && r.value === from);
    if (reference?.source.kind === 'stage') return `from-stage:${this.states.get(reference.source.index)!.digest}`;
    if (reference?.source.kind === 'scratch') throw new BuildError(`${where}: COPY --from=scratch has no files to copy`);
    const ref = reference?.source.kind === 'image' ? reference.source.ref : from;
    const image = await resolveImage(this.services.client, ref, this.input.platform, where);
    return `from-image:${baseIdentity(image.manifestDigest, image.config.parsed)}`;
  }

  private async isArchive(projectPath: string): Promise<boolean> {
    const stream = this.services.files.openStream(projectPath, 'context');
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
    const archive = extractTarEntries(this.services.files.openStream(projectPath, 'context'), { tmpDir: this.services.tmpDir, what: `${where}: ADD ${projectPath}` });
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
    const file = await downloadTo(url, this.services.tmpDir, where);
    if (expected !== undefined && file.digest !== expected) {
      await rm(file.path, { force: true });
      throw new BuildError(`${where}: ADD ${url}: checksum mismatch, expected ${expected} but the download hashes to ${file.digest}`);
    }
    return file;
  }

  /** Add the files COPY --from selects to `entries`; returns what releases their spooled contents. */
  private async fromImageEntries(
    stage: PlannedStage, instruction: ExpandedInstruction, paths: string[], dest: string, workdir: string,
    owner: Owner, chmod: number | undefined, where: string, entries: LayerEntry[],
  ): Promise<() => Promise<void>> {
    const reference = stage.references.find((r) => r.via === 'copy' && r.value === instruction.flags.from);
    let store: ImageStore;
    let layers: Descriptor[];
    if (reference?.source.kind === 'stage') {
      const source = this.states.get(reference.source.index)!;
      await this.ensureAdopted(source);
      store = this.services.storage.store;
      layers = source.layers;
    } else {
      const ref = reference?.source.kind === 'image' ? reference.source.ref : String(instruction.flags.from);
      const image = await resolveImage(this.services.client, ref, this.input.platform, where);
      store = image.store;
      layers = image.manifest.parsed.layers;
    }
    const absoluteSources = paths.map((p) => posix.resolve('/', p).slice(1));
    const wanted = (path: string): boolean => absoluteSources.some((s) => s === '' || path === s || path.startsWith(`${s}/`));
    // The entries are read when the layer is built: the caller closes the files afterwards.
    const files = await readImageFiles(store, layers, wanted, { tmpDir: this.services.tmpDir });
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
          entries.push(copy);
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
      const store = state.layerSource ?? this.services.storage.store;
      found = await readFilesFromImage(store, state.layers, ['etc/passwd', 'etc/group'], { tmpDir: this.services.tmpDir });
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

interface PreparedCopy {
  /** What the copied content contributes to the stage digest. */
  checksum: string;
  build(): Promise<BuiltLayer>;
  /** Release spooled files when the stage is found and nothing is built. */
  dispose(): Promise<void>;
}

/** `keep`: COPY --from without --chown keeps the source files' owners. */
type Owner = { uid: number; gid: number; keep?: true };

/**
 * What a FROM image contributes to the digest: its manifest digest, so a moved tag rebuilds.
 * A stage Slipway built is identified by its content digest instead: its manifest also
 * holds timestamps (the parent stage's tag), which differ between runners that built the
 * same content, and must not change the digests of the images built on it.
 */
function baseIdentity(manifestDigest: string, config: ImageConfig): string {
  const content = containerConfig(config).Labels?.[SERVICE_LABELS.stageContentDigest];
  return content ? `slipway-stage:${content}` : manifestDigest;
}

function parseMode(text: string, where: string): number {
  if (!/^[0-7]{3,4}$/.test(text)) throw new BuildError(`${where}: --chmod=${text} is not an octal mode (symbolic modes are not supported)`);
  return parseInt(text, 8);
}

function isUrl(path: string): boolean {
  return /^https?:\/\//.test(path);
}

/** Download to a temp file, hashing on the way; the URL is not logged with credentials. */
async function downloadTo(url: string, tmpDir: string, where: string): Promise<{ path: string; digest: string; size: number }> {
  const response = await fetch(url, { redirect: 'follow' }).catch((error: unknown) => {
    throw new BuildError(`${where}: ADD ${redactUrl(url)}: ${(error as Error).message}`, { cause: error });
  });
  if (!response.ok || response.body === null) {
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
  await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), counter, createWriteStream(path));
  return { path, digest: `sha256:${hash.digest('hex')}`, size };
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
