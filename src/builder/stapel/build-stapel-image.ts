// Build one stapel image for one platform with werf's stage list: from, beforeInstall, dependenciesBeforeInstall,
// gitArchive, install, dependenciesAfterInstall, beforeSetup, dependenciesBeforeSetup, setup,
// dependenciesAfterSetup, gitCache, gitLatestPatch, dockerInstructions. Empty stages are skipped. A stage's digest
// is SHA3-224 over the platform and cache versions, the stage name, its dependencies, the previous non-empty
// stage's digest and what that stage hands on (the git commit it holds, for git stages): werf's
// calculateDigest. Stages are looked up, reused or built and published as Dockerfile stages are
// (build-image.ts). docs/stapel.md tells what enters each stage's dependencies.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { BuildError, SlipwayError } from '../../errors.js';
import {
  formatPlatform, platformsEqual, type Descriptor, type ImageConfig, type Platform,
} from '../../oci/index.js';
import { commitExists, compilePathMatcher, fetchRemoteRepository } from '../../project/index.js';
import type { Import, Mount, StapelImage, UserStage } from '../../config/werf-config.js';
import { imageLogName } from '../../config/werf-config.js';
import { stageDigest, type StageDescriptor } from '../../stages/index.js';
import type { ImageStore } from '../../store/image-store.js';
import { baseIdentity } from '../base-image.js';
import type { BuildServices } from '../build-state.js';
import { DEFAULT_PATH_ENV, SLIPWAY_CACHE_VERSION, StageNotBuiltError, type PlatformImage, type StageRecord } from '../build-image.js';
import { parseInstruction } from '../dockerfile/parse.js';
import { healthcheckConfig } from '../dockerfile/instructions.js';
import { BUILD_EPOCH, addHistory, cloneConfig, containerConfig } from '../image-config.js';
import { createLayer } from '../layer/create-layer.js';
import { readFilesFromImage, readImageFiles } from '../layer/image-files.js';
import { parseGroup, parsePasswd, resolveChown } from '../layer/passwd.js';
import type { BuiltLayer, LayerEntry } from '../layer/types.js';
import type { NetworkMode, SandboxMount } from '../run/sandbox.js';
import { MappingView, ProjectRepository, type Owner } from './git-mappings.js';
import { hostStaticBash, runShellStage } from './shell.js';
import { adoptStage, publishStage, writeBaseLayers } from '../stage-image.js';

/** werf's patchSizeStep: gitCache holds patches from 1 MiB on, and its digest changes every MiB. */
export const GIT_CACHE_STEP = 1024 * 1024;

export const STAPEL_STAGES = [
  'from', 'beforeInstall', 'dependenciesBeforeInstall', 'gitArchive', 'install', 'dependenciesAfterInstall',
  'beforeSetup', 'dependenciesBeforeSetup', 'setup', 'dependenciesAfterSetup', 'gitCache', 'gitLatestPatch',
  'dockerInstructions',
] as const;
export type StapelStageName = (typeof STAPEL_STAGES)[number];

type ShellStage = 'beforeInstall' | 'install' | 'beforeSetup' | 'setup';
type ImportStage = 'dependenciesBeforeInstall' | 'dependenciesAfterInstall' | 'dependenciesBeforeSetup' | 'dependenciesAfterSetup';

/** A werf image built earlier in this build (build-images.ts's BuiltImage has this shape). */
export interface DependencyImage {
  name: string;
  repository: string;
  tag: string;
  digest: string;
  configDigest: string | undefined;
  platforms: readonly PlatformImage[];
}

export interface StapelBuildInput {
  image: StapelImage;
  cacheVersion: string | undefined;
  platform: Platform;
  /** Every werf image this one needs (base, imports, dependencies), built. */
  dependencies: ReadonlyMap<string, DependencyImage>;
  /** `$SLIPWAY_HOME/run`: build_dir mounts live under it. */
  runHome: string;
  env: Readonly<Record<string, string | undefined>>;
}

interface State {
  config: ImageConfig;
  layers: Descriptor[];
  layerSource: ImageStore | undefined;
  published: StageDescriptor | undefined;
  manifestDigest: string | undefined;
  configDigest: string | undefined;
  baseStageTag: string | undefined;
  /** The previous non-empty stage's digest and what it hands on to the next one. */
  digest: string | undefined;
  nextDependencies: string;
  /**
   * A stage found in the storage but not read yet: its manifest and config are read only when something needs
   * them (a stage built on it, the image's result). Only stages that change no commit label wait like this.
   */
  pending?: StageDescriptor | undefined;
}

/** What a stage adds when it is built. */
interface StageWork {
  layers: (() => Promise<BuiltLayer | undefined>)[];
  /** Edits of the config, applied before the layers are made (labels, env, docker instructions). */
  editConfig?: (config: ImageConfig) => void;
  /** Git stages: the commit their files are at, put in the labels. */
  commit?: boolean;
  dispose?: () => Promise<void>;
}

interface PlannedStage {
  name: StapelStageName;
  dependencies: string;
  /** Git stages hand the commit of their files on to the next stage. */
  git: boolean;
  work: () => Promise<StageWork>;
}

const sha256 = (parts: readonly string[]): string => createHash('sha256').update(parts.join('\0')).digest('hex');

export async function buildStapelImage(services: BuildServices, input: StapelBuildInput): Promise<PlatformImage> {
  return new StapelBuilder(services, input).run();
}

class StapelBuilder {
  private readonly records: StageRecord[] = [];
  private built = 0;
  private reused = 0;
  private readonly name: string;
  private readonly repo: ProjectRepository | undefined;
  private readonly mappings: MappingView[];
  private bash: string | undefined;
  private tmpMountDir: string | undefined;

  constructor(private readonly services: BuildServices, private readonly input: StapelBuildInput) {
    this.name = imageLogName(input.image.name);
    const image = input.image;
    const auth = image.git.find((g) => g.basicAuth !== undefined);
    if (auth) throw new BuildError(`image ${this.name}: git "basicAuth" is not supported yet (url: ${auth.url ?? ''})`, { hint: 'put the credentials in git\'s own configuration (a credential helper) and drop basicAuth' });
    const lfs = image.git.find((g) => g.lfs);
    if (lfs) throw new BuildError(`image ${this.name}: git "lfs: true" is not supported yet`);
    const unplaced = image.import.find((imp) => imp.before === undefined && imp.after === undefined);
    if (unplaced) {
      throw new BuildError(`image ${this.name}: import from "${unplaced.image}" (add: ${unplaced.add}) names no stage to import at`, {
        hint: 'add "before: install", "after: install", "before: setup" or "after: setup"',
      });
    }
    const files = services.files;
    if (image.git.some((g) => g.url === undefined)) {
      if (files.workTree === undefined || files.commit === undefined) {
        throw new BuildError(`image ${this.name}: git mappings need the project to be a git work tree with a commit`);
      }
      if (files.dev) {
        throw new BuildError(`image ${this.name}: git mappings of stapel images are built from the commit; --dev is not supported for them yet`, {
          hint: 'commit the changes and build without --dev',
        });
      }
      this.repo = new ProjectRepository(files.workTree, files.commit.hash);
    }
    const remotes = new Map<string, ProjectRepository>();
    this.mappings = image.git.map((g) => {
      if (g.url === undefined) return new MappingView(g, this.repo!);
      const key = `${g.url}#${g.branch ?? ''}#${g.tag ?? ''}#${g.commit ?? ''}`;
      let repo = remotes.get(key);
      if (repo === undefined) {
        const fetched = fetchRemoteRepository(remoteUrl(g.url, files.projectDir), join(input.runHome, 'git-repos'), {
          ...(g.branch ? { branch: g.branch } : {}), ...(g.tag ? { tag: g.tag } : {}), ...(g.commit ? { commit: g.commit } : {}),
        });
        repo = new ProjectRepository(fetched.dir, fetched.commit);
        remotes.set(key, repo);
      }
      return new MappingView(g, repo);
    });
  }

  async run(): Promise<PlatformImage> {
    const state = await this.fromState();
    try {
      for (const stage of this.plan(state)) await this.step(state, stage);
      await this.ensureAdopted(state);
    } finally {
      if (this.tmpMountDir) await rm(this.tmpMountDir, { recursive: true, force: true });
    }
    return {
      platform: this.input.platform,
      stage: state.published!,
      manifestDigest: state.manifestDigest!,
      configDigest: state.configDigest!,
      size: state.layers.reduce((sum, l) => sum + l.size, 0),
      stages: this.records,
      built: this.built,
      reused: this.reused,
    };
  }

  /** werf leaves linux/amd64 out of digests; every other platform is part of them. */
  private digestPrefix(): string[] {
    const platform = formatPlatform(this.input.platform);
    return [...(platform === 'linux/amd64' ? [] : [platform]), SLIPWAY_CACHE_VERSION, this.input.cacheVersion ?? '', 'stapel'];
  }

  // -------------------------------------------------------------------------------------------------------
  // The base

  private baseImageName(): string | undefined {
    const image = this.input.image;
    return image.dependsOn.from ?? image.fromImage ?? image.fromArtifact;
  }

  private dependency(name: string): DependencyImage {
    const built = this.input.dependencies.get(name);
    if (!built) throw new BuildError(`image ${this.name}: image "${imageLogName(name)}" was not built`);
    return built;
  }

  private platformImage(name: string): PlatformImage {
    const built = this.dependency(name);
    const found = built.platforms.find((p) => platformsEqual(p.platform, this.input.platform));
    if (!found) throw new BuildError(`image ${this.name}: image "${imageLogName(name)}" was not built for ${formatPlatform(this.input.platform)}`);
    return found;
  }

  /** The state the from stage starts from: the base image, not yet published. */
  private async fromState(): Promise<State> {
    const image = this.input.image;
    const empty = { published: undefined, manifestDigest: undefined, configDigest: undefined, digest: undefined, nextDependencies: '' };
    const werfBase = this.baseImageName();
    if (werfBase !== undefined) {
      const base = this.platformImage(werfBase);
      const stored = await this.services.storage.getStageImage(base.stage);
      if (stored.manifest.kind !== 'image') throw new BuildError(`stage ${base.stage.tag} is not an image manifest`);
      return {
        ...empty, config: cloneConfig(stored.config.parsed), layers: [...stored.manifest.parsed.layers], layerSource: undefined,
        baseStageTag: base.stage.tag,
      };
    }
    const from = image.from ?? 'scratch';
    if (from === 'scratch') {
      const p = this.input.platform;
      const config: ImageConfig = {
        architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}),
        created: BUILD_EPOCH, config: { Env: [DEFAULT_PATH_ENV] }, rootfs: { type: 'layers', diff_ids: [] }, history: [],
      };
      return { ...empty, config, layers: [], layerSource: undefined, baseStageTag: undefined };
    }
    const base = await this.services.images.resolve(from, this.input.platform, `image ${this.name}: from`);
    this.baseIdentity = baseIdentity(base.manifestDigest, base.config.parsed);
    return {
      ...empty, config: cloneConfig(base.config.parsed), layers: [...base.manifest.parsed.layers], layerSource: base.store,
      baseStageTag: undefined,
    };
  }

  private baseIdentity: string | undefined;

  /** werf's from stage dependencies: the base's name (its digest with fromLatest), fromCacheVersion, the mounts. */
  private fromDependencies(): string {
    const image = this.input.image;
    const args: string[] = [];
    if (image.fromCacheVersion !== undefined && image.fromCacheVersion !== '') args.push(image.fromCacheVersion);
    const werfBase = this.baseImageName();
    if (werfBase !== undefined) args.push(this.platformImage(werfBase).stage.tag);
    else {
      args.push(image.from ?? 'scratch');
      if (image.fromLatest && this.baseIdentity !== undefined) args.push(this.baseIdentity);
    }
    for (const mount of image.mount) args.push('from' in mount ? mount.from : mount.fromPath, mount.to);
    return sha256(args);
  }

  // -------------------------------------------------------------------------------------------------------
  // The plan: the non-empty stages, in werf's order

  private plan(state: State): Iterable<PlannedStage> {
    const self = this;
    return (function* (): Generator<PlannedStage> {
      yield { name: 'from', dependencies: self.fromDependencies(), git: false, work: async () => ({ layers: [] }) };
      yield* self.shellStage('beforeInstall', state);
      yield* self.importStage('dependenciesBeforeInstall', 'before', 'install');
      if (self.mappings.length > 0) {
        for (const m of self.mappings) m.checkNotEmpty(m.head);
        yield {
          name: 'gitArchive', dependencies: sha256([...self.mappings.map((m) => m.paramsHash)].sort()), git: true,
          work: async () => ({ commit: true, layers: [() => self.gitLayer(state, undefined)] }),
        };
      }
      yield* self.shellStage('install', state);
      yield* self.importStage('dependenciesAfterInstall', 'after', 'install');
      yield* self.shellStage('beforeSetup', state);
      yield* self.importStage('dependenciesBeforeSetup', 'before', 'setup');
      yield* self.shellStage('setup', state);
      yield* self.importStage('dependenciesAfterSetup', 'after', 'setup');
      if (self.mappings.length > 0 && !self.input.image.disableGitAfterPatch) {
        // Both patch stages start from the commit the previous stage holds, known only once it is reused or built.
        const size = self.patchSize(state);
        if (size >= GIT_CACHE_STEP) {
          yield {
            name: 'gitCache', dependencies: sha256([String(Math.floor(size / GIT_CACHE_STEP))]), git: true,
            work: async () => ({ commit: true, layers: [() => self.gitLayer(state, self.commitsOf(state))] }),
          };
        }
        const patches = self.mappings.map((m) => ({ m, from: self.commitsOf(state).get(m.commitLabel) ?? m.head }));
        const checksums = patches.map(({ m, from }) => MappingView.patchChecksum(m.patch(from, m.head)));
        if (patches.some(({ m, from }) => { const p = m.patch(from, m.head); return p.changed.length + p.deleted.length > 0; })) {
          yield {
            name: 'gitLatestPatch', dependencies: sha256(checksums), git: true,
            work: async () => ({ commit: true, layers: [() => self.gitLayer(state, self.commitsOf(state))] }),
          };
        }
      }
      const docker = self.dockerStage();
      if (docker) yield docker;
    })();
  }

  private shellCommands(stage: ShellStage): string[] {
    return this.input.image.shell?.[stage] ?? [];
  }

  private *shellStage(stage: ShellStage, state: State): Generator<PlannedStage> {
    const commands = this.shellCommands(stage);
    if (commands.length === 0) return;
    const shell = this.input.image.shell!;
    const versions = [shell.cacheVersion ?? '', shell[`${stage}CacheVersion`] ?? ''].filter((v) => v !== '');
    const args = [sha256([...commands, ...versions])];
    // After gitArchive, a user stage brings the git files up to date first, and hands their commit on.
    const git = stage !== 'beforeInstall' && this.mappings.length > 0;
    if (git) {
      for (const m of this.mappings) args.push(m.stageDependenciesChecksum(stage, m.head));
    }
    const self = this;
    yield {
      name: stage, dependencies: sha256(args), git,
      work: async () => ({
        commit: git,
        layers: [
          ...(git ? [() => self.gitLayer(state, self.commitsOf(state))] : []),
          () => self.shellLayer(stage, state),
        ],
      }),
    };
  }

  private currentState: State | undefined;

  // -------------------------------------------------------------------------------------------------------
  // The loop

  private async step(state: State, stage: PlannedStage): Promise<void> {
    this.currentState = state;
    const digest = stageDigest([...this.digestPrefix(), stage.name, stage.dependencies, state.digest ?? '', state.nextDependencies]);
    const found = await this.services.storage.findStage(digest);
    state.digest = digest;
    if (found) {
      // A git stage's commit labels decide the next digests: read it now. Any other stage hands on the labels it
      // was given, so reading it can wait until a stage is built on it, or for the image's result.
      if (stage.git) await this.adopt(state, found);
      else state.pending = found;
      this.reused++;
      this.records.push({ name: stage.name, digest, tag: found.tag, reused: true });
      this.services.log.stageReused(this.name, stage.name, found.tag);
    } else {
      if (this.services.requireBuilt) throw new StageNotBuiltError(this.name, stage.name);
      this.services.log.stageBuilding(this.name, stage.name);
      await this.build(state, stage);
    }
    state.nextDependencies = stage.git ? this.commitDependencies(state) : '';
  }

  /** werf's getNextStageGitDependencies: the commits the stage's files are at. */
  private commitDependencies(state: State): string {
    const commits = this.commitsOf(state);
    return sha256(this.mappings.map((m) => commits.get(m.commitLabel) ?? ''));
  }

  /** The commit label of every mapping in the state's config. */
  private commitsOf(state: State): Map<string, string> {
    const labels = containerConfig(state.config).Labels ?? {};
    const out = new Map<string, string>();
    for (const m of this.mappings) {
      const commit = labels[m.commitLabel];
      if (commit === undefined) continue;
      if (!commitExists(m.repo.workTree, commit)) {
        throw new BuildError(`image ${this.name}: ${m.describe()}: commit ${commit} of the previous stage is not in the repository`, {
          hint: 'the stage was built from a commit this clone lacks: fetch it, or change the image\'s cacheVersion to rebuild',
        });
      }
      out.set(m.commitLabel, commit);
    }
    return out;
  }

  private patchSize(state: State): number {
    const commits = this.commitsOf(state);
    let size = 0;
    for (const m of this.mappings) {
      const from = commits.get(m.commitLabel);
      if (from === undefined) return 0;
      size += m.patch(from, m.head).size;
    }
    return size;
  }

  private async build(state: State, stage: PlannedStage): Promise<void> {
    await this.ensureAdopted(state);
    const work = await stage.work();
    const built: BuiltLayer[] = [];
    try {
      work.editConfig?.(state.config);
      for (const make of work.layers) {
        const layer = await make();
        if (layer === undefined) continue;
        built.push(layer);
        // The next layer of the stage (a shell script after the git patch) runs over this one: its blob must
        // be readable from the stages storage.
        await this.services.storage.store.writeBlob({ descriptor: descriptorOf(layer), open: async () => createReadStream(layer.path) });
        await writeBaseLayers(this.services.storage.store, state);
        state.layers = [...state.layers, descriptorOf(layer)];
        state.config.rootfs = { type: 'layers', diff_ids: [...(state.config.rootfs?.diff_ids ?? []), layer.diffId] };
        state.layerSource = undefined;
      }
      if (work.commit) {
        const labels = { ...(containerConfig(state.config).Labels ?? {}) };
        for (const m of this.mappings) labels[m.commitLabel] = m.head;
        containerConfig(state.config).Labels = labels;
      }
      addHistory(state.config, `stapel ${stage.name}`, built.length === 0);
      await this.publish(state, stage.name, built);
    } catch (error) {
      if (error instanceof SlipwayError && !error.message.startsWith(`image ${this.name}`)) {
        error.message = `image ${this.name}: stage ${stage.name}: ${error.message}`;
      }
      throw error;
    } finally {
      for (const layer of built) await rm(layer.path, { force: true });
      await work.dispose?.();
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Layers

  private async gitLayer(state: State, base: Map<string, string> | undefined): Promise<BuiltLayer | undefined> {
    const entries: LayerEntry[] = [];
    for (const m of this.mappings) {
      const owner = await this.owner(state, m.mapping.owner, m.mapping.group);
      const from = base?.get(m.commitLabel);
      if (base === undefined) entries.push(...m.entries(m.select(m.head).values(), owner));
      else if (from === undefined) {
        throw new BuildError(`${m.describe()}: the commit of the previous stage is not in the repository`, {
          hint: 'the stage was built from a commit this clone lacks: fetch it, or change the image\'s cacheVersion to rebuild',
        });
      } else entries.push(...m.patchEntries(m.patch(from, m.head), owner));
    }
    if (entries.length === 0) return undefined;
    return createLayer(entries, { tmpDir: this.services.tmpDir, parentDirs: 'omit', duplicates: 'last-wins' });
  }

  private async shellLayer(stage: ShellStage, state: State): Promise<BuiltLayer> {
    this.bash ??= hostStaticBash(this.input.env);
    return runShellStage({
      services: this.services, bash: this.bash, stage, commands: this.shellCommands(stage),
      config: state.config, layers: state.layers, layerSource: state.layerSource,
      network: networkOf(this.input.image.network), mounts: await this.sandboxMounts(),
      output: (chunk) => this.services.log.runOutput?.(this.name, chunk),
    });
  }

  /** The image's `mount`s: tmp_dir (new for each build), build_dir (kept between builds), fromPath (a host directory). */
  private async sandboxMounts(): Promise<SandboxMount[]> {
    const out: SandboxMount[] = [];
    for (const mount of this.input.image.mount) out.push({ kind: 'bind', source: await this.mountSource(mount), target: mount.to, readonly: false });
    return out;
  }

  private async mountSource(mount: Mount): Promise<string> {
    if ('fromPath' in mount) {
      const path = mount.fromPath.startsWith('~/') ? join(homedir(), mount.fromPath.slice(2)) : resolve(this.services.files.projectDir, mount.fromPath);
      await mkdir(path, { recursive: true });
      return path;
    }
    if (mount.from === 'tmp_dir') {
      await mkdir(this.services.tmpDir, { recursive: true });
      this.tmpMountDir ??= await mkdtemp(join(this.services.tmpDir, 'stapel-tmp-dir-'));
      const dir = join(this.tmpMountDir, sha256([mount.to]).slice(0, 16));
      await mkdir(dir, { recursive: true });
      return dir;
    }
    const dir = join(this.input.runHome, 'build-dir', this.services.project, sha256([this.input.image.name, mount.to]).slice(0, 32));
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** `owner` and `group` (names or ids) through the image's /etc/passwd and /etc/group; root when neither is set. */
  private async owner(state: State, owner: string | undefined, group: string | undefined): Promise<Owner> {
    if ((owner === undefined || owner === '') && (group === undefined || group === '')) return { uid: 0, gid: 0 };
    const store = state.layerSource ?? this.services.storage.store;
    const files = await readFilesFromImage(store, state.layers, ['etc/passwd', 'etc/group'], { tmpDir: this.services.tmpDir });
    const passwd = files.has('etc/passwd') ? parsePasswd(files.get('etc/passwd')!) : undefined;
    const groups = files.has('etc/group') ? parseGroup(files.get('etc/group')!) : undefined;
    const spec = `${owner ?? ''}${group ? `:${group}` : ''}`;
    const ids = resolveChown(spec, passwd, groups);
    // werf: a group alone keeps root as the owner.
    return owner ? ids : { uid: 0, gid: ids.gid };
  }

  // -------------------------------------------------------------------------------------------------------
  // Imports

  private importsAt(when: 'before' | 'after', stage: UserStage): Import[] {
    return this.input.image.import.filter((imp) => imp[when] === stage);
  }

  private *importStage(name: ImportStage, when: 'before' | 'after', stage: UserStage): Generator<PlannedStage> {
    const imports = this.importsAt(when, stage);
    const dependencies = this.input.image.dependencies.filter((d) => d[when] === stage && d.imports.some((i) => i.targetEnv));
    if (imports.length === 0 && dependencies.length === 0) return;
    const args: string[] = [];
    for (const imp of imports) {
      args.push(this.importSourceId(imp), imp.add, imp.to, ...imp.includePaths, '--', ...imp.excludePaths, imp.owner ?? '', imp.group ?? '');
    }
    const env = this.dependencyEnv(dependencies.flatMap((d) => d.imports.map((i) => ({ image: d.image, ...i }))));
    for (const [k, v] of env) args.push(`${k}=${v}`);
    const self = this;
    yield {
      name, dependencies: sha256(args), git: false,
      work: async () => ({
        editConfig: (config) => setEnv(config, env),
        layers: imports.length === 0 ? [] : [() => self.importLayer(self.currentState!, imports)],
      }),
    };
  }

  private dependencyEnv(imports: { image: string; type: string; targetEnv: string | undefined }[]): [string, string][] {
    const out: [string, string][] = [];
    for (const imp of imports) {
      if (!imp.targetEnv) continue;
      const built = this.dependency(imp.image);
      const value = imp.type === 'ImageName' ? `${built.repository}:${built.tag}`
        : imp.type === 'ImageTag' ? built.tag
          : imp.type === 'ImageRepo' ? built.repository
            : imp.type === 'ImageID' ? built.configDigest ?? built.digest
              : built.digest;
      out.push([imp.targetEnv, value]);
    }
    return out;
  }

  /** The stage an import reads: the source image's last stage, or the legacy `stage:` of an artifact. */
  private importSource(imp: Import): StageDescriptor {
    const platform = this.platformImage(imp.image);
    if (imp.stage === undefined || imp.stage === '') return platform.stage;
    const record = [...platform.stages].reverse().find((r) => r.name === imp.stage);
    if (!record) throw new BuildError(`image ${this.name}: import from "${imp.image}" stage "${imp.stage}": the image has no such (non-empty) stage`);
    const parsed = /-(\d{13})$/.exec(record.tag);
    return { digest: record.digest, timestamp: Number(parsed?.[1] ?? 0), tag: record.tag };
  }

  private importSourceId(imp: Import): string {
    if (imp.external) throw new BuildError(`image ${this.name}: import from the external image "${imp.image}" is not supported yet`);
    return this.importSource(imp).tag;
  }

  private async importLayer(state: State, imports: Import[]): Promise<BuiltLayer | undefined> {
    const entries: LayerEntry[] = [];
    const closers: (() => Promise<void>)[] = [];
    try {
      for (const imp of imports) {
        const source = await this.services.storage.getStageImage(this.importSource(imp));
        if (source.manifest.kind !== 'image') throw new BuildError(`import from ${imp.image}: not an image`);
        const add = imp.add.replace(/^\/+|\/+$/g, '');
        const to = imp.to.replace(/^\/+|\/+$/g, '');
        const include = imp.includePaths.length > 0 ? compilePathMatcher(imp.includePaths) : undefined;
        const exclude = imp.excludePaths.length > 0 ? compilePathMatcher(imp.excludePaths) : undefined;
        const relOf = (path: string): string | undefined => (add === '' ? path : path === add ? '' : path.startsWith(`${add}/`) ? path.slice(add.length + 1) : undefined);
        const wanted = (path: string): boolean => {
          const rel = relOf(path);
          if (rel === undefined) return false;
          if (rel === '') return true;
          if (include && !include(rel)) return false;
          return !(exclude && exclude(rel));
        };
        const files = await readImageFiles(this.services.storage.store, source.manifest.parsed.layers, wanted, { tmpDir: this.services.tmpDir });
        closers.push(() => files.close());
        if (files.entries.length === 0) throw new BuildError(`import from "${imp.image}": "add: ${imp.add}" selects nothing in the image`);
        const owner = await this.owner(state, imp.owner, imp.group);
        const chown = imp.owner || imp.group;
        for (const entry of files.entries) {
          if (entry.type !== 'file' && entry.type !== 'dir' && entry.type !== 'symlink') continue;
          const rel = relOf(entry.path)!;
          const path = rel === '' ? to : to === '' ? rel : `${to}/${rel}`;
          if (path === '') continue;
          entries.push({ ...entry, path, ...(chown ? owner : {}) });
        }
      }
      if (entries.length === 0) return undefined;
      return await createLayer(entries, { tmpDir: this.services.tmpDir, parentDirs: 'omit', duplicates: 'last-wins' });
    } finally {
      for (const close of closers) await close();
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // docker instructions

  private dockerStage(): PlannedStage | undefined {
    const docker = this.input.image.docker;
    const env = this.dependencyEnv(this.input.image.dependencies.filter((d) => d.before === undefined && d.after === undefined)
      .flatMap((d) => d.imports.map((i) => ({ image: d.image, ...i }))));
    const hasDocker = docker !== undefined && (docker.volume.length > 0 || docker.expose.length > 0 || Object.keys(docker.env).length > 0
      || Object.keys(docker.label).length > 0 || docker.entrypoint !== undefined || docker.cmd !== undefined
      || docker.workdir !== undefined || docker.user !== undefined || docker.healthcheck !== undefined);
    if (!hasDocker && env.length === 0) return undefined;
    const canonical = JSON.stringify({
      ...(docker ? {
        volume: docker.volume, expose: docker.expose, env: sortedEntries(docker.env), label: sortedEntries(docker.label),
        entrypoint: docker.entrypoint ?? null, cmd: docker.cmd ?? null, workdir: docker.workdir ?? null, user: docker.user ?? null,
        healthcheck: docker.healthcheck ?? null,
      } : {}),
      dependencies: env,
    });
    const healthcheck = docker?.healthcheck !== undefined
      ? healthcheckConfig(parseInstruction(`HEALTHCHECK ${docker.healthcheck}`, { file: 'werf.yaml', line: this.input.image.source.line }), 'werf.yaml')
      : undefined;
    return {
      name: 'dockerInstructions', dependencies: sha256([canonical]), git: false,
      work: async () => ({
        layers: [],
        editConfig: (config) => {
          setEnv(config, env);
          if (!docker) return;
          const c = containerConfig(config);
          if (docker.volume.length > 0) c.Volumes = { ...(c.Volumes ?? {}), ...Object.fromEntries(docker.volume.map((v) => [v, {}])) };
          if (docker.expose.length > 0) {
            c.ExposedPorts = { ...(c.ExposedPorts ?? {}), ...Object.fromEntries(docker.expose.map((p) => [p.includes('/') ? p.toLowerCase() : `${p}/tcp`, {}])) };
          }
          setEnv(config, Object.entries(docker.env));
          if (Object.keys(docker.label).length > 0) c.Labels = { ...(c.Labels ?? {}), ...docker.label };
          if (docker.entrypoint !== undefined) c.Entrypoint = commandOf(docker.entrypoint);
          if (docker.cmd !== undefined) c.Cmd = commandOf(docker.cmd);
          if (docker.workdir !== undefined) c.WorkingDir = docker.workdir;
          if (docker.user !== undefined) c.User = docker.user;
          if (healthcheck) c.Healthcheck = { ...healthcheck };
        },
      }),
    };
  }

  // -------------------------------------------------------------------------------------------------------
  // Storage

  private async adopt(state: State, stage: StageDescriptor): Promise<void> {
    await adoptStage(this.services, state, stage);
    state.pending = undefined;
  }

  private async ensureAdopted(state: State): Promise<void> {
    if (state.pending) await this.adopt(state, state.pending);
  }

  /** Publish the state (its new layers' blobs are written already) as the stage of `state.digest`. */
  private async publish(state: State, stageName: string, layers: BuiltLayer[]): Promise<void> {
    const { pushed, published } = await publishStage(this.services, state, { digest: state.digest! });
    this.records.push({ name: stageName, digest: state.digest!, tag: published.tag, reused: !pushed });
    if (pushed) {
      this.built++;
      this.services.log.stageStored(this.name, stageName, published.tag, layers.reduce((n, l) => n + l.size, 0));
    } else {
      this.reused++;
      this.services.log.stageDiscarded(this.name, stageName, published.tag);
    }
  }
}

/** A `git.url`: a URL as written; a local path relative to the project directory made absolute. */
function remoteUrl(url: string, projectDir: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/]+@[^/]+:/.test(url)) return url;
  return resolve(projectDir, url);
}

function descriptorOf(layer: BuiltLayer): Descriptor {
  return { mediaType: layer.mediaType, digest: layer.digest, size: layer.size };
}

function sortedEntries(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A string is the shell form (as `docker commit --change` reads it), a list the exec form. */
function commandOf(value: string | string[]): string[] {
  return typeof value === 'string' ? ['/bin/sh', '-c', value] : [...value];
}

function setEnv(config: ImageConfig, entries: readonly (readonly [string, string])[]): void {
  if (entries.length === 0) return;
  const c = containerConfig(config);
  const env = [...(c.Env ?? [])];
  for (const [key, value] of entries) {
    const at = env.findIndex((e) => e === key || e.startsWith(`${key}=`));
    if (at >= 0) env[at] = `${key}=${value}`;
    else env.push(`${key}=${value}`);
  }
  c.Env = env;
}

function networkOf(network: string | undefined): NetworkMode {
  const value = network ?? 'default';
  if (value === 'default' || value === 'none' || value === 'host') return value;
  throw new BuildError(`network "${value}" is not supported`, { hint: 'use default, none or host' });
}
