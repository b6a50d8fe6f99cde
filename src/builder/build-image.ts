// Build one Dockerfile image for one platform, stage by stage. Every instruction that
// changes the image is a stage: its digest is computed from its inputs, looked up in
// the stages storage, and built and published only when no runner has published it.

import { rm } from 'node:fs/promises';
import { posix } from 'node:path';
import { BuildError, SlipwayError, systemErrorHint } from '../errors.js';
import {
  formatPlatform, type ImageConfig, type Platform,
} from '../oci/index.js';
import type { StageDescriptor } from '../stages/index.js';
import { SERVICE_LABELS, stageDigest } from '../stages/index.js';
import { baseIdentity } from './base-image.js';
import type { BuildServices, PreparedLayer, StageState } from './build-state.js';
import { openBuildContext, type BuildContext } from './context.js';
import { CopyInstruction } from './copy-instruction.js';
import { canonicalInstruction } from './dockerfile/canonical.js';
import type { ExpandedInstruction } from './dockerfile/expand.js';
import { parseDockerfile, parseInstruction } from './dockerfile/parse.js';
import { createStageScope, planStages, type PlannedStage, type StagePlan } from './dockerfile/plan.js';
import type { Instruction } from './dockerfile/types.js';
import { BUILD_EPOCH, addHistory, applyMetadataInstruction, cloneConfig, containerConfig } from './image-config.js';
import { ESSENTIAL_LABELS_WARNING, IMAGE_SPEC_STAGE, applyImageSpec, imageSpecDependencies } from './image-spec.js';
import type { BuiltLayer } from './layer/types.js';
import { RunInstruction } from './run/run-instruction.js';
import type { ImageSpec, Secret } from '../config/werf-config.js';
import type { ExtraHost } from '../config/add-host.js';
import { adoptStage, publishStage } from './stage-image.js';

export type { BuildLog, BuildServices } from './build-state.js';

/** Base layers moved into the stages storage at once. */

/** Slipway's own cache version: bump it when stage contents change for the same inputs. */
export const SLIPWAY_CACHE_VERSION = '2';

/** The PATH Docker (BuildKit's emptyImage) puts in the config of a FROM scratch image on Linux. */
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** `-Z`: a stage that would have to be built. */
export class StageNotBuiltError extends BuildError {
  constructor(readonly image: string, readonly stage: string) {
    super(`image ${image}: stage ${stage} is not in the stages storage`);
  }
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
  /** werf.yaml `secrets` (for RUN --mount=type=secret) and `network` (RUN's default network). */
  secrets: readonly Secret[];
  network: string | undefined;
  /** werf.yaml `addHost`, parsed: every RUN's /etc/hosts has them. */
  extraHosts?: readonly ExtraHost[];
  /**
   * The image's `imageSpec` (with `build.imageSpec` merged in): werf's imageSpec stage after the last
   * instruction. `werfName` is the image's name in werf.yaml, for `%image%` labels.
   */
  imageSpec?: { spec: ImageSpec; werfName: string };
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

export async function buildDockerfileImage(services: BuildServices, input: DockerfileBuildInput): Promise<PlatformImage> {
  const { files } = services;
  const dockerfilePath = posix.join(input.context, input.dockerfile);
  const text = files.readFile(dockerfilePath, 'dockerfile').toString('utf8');
  const dockerfile = parseDockerfile(text, dockerfilePath);
  const syntax = dockerfile.directives['syntax'];
  if (syntax !== undefined) {
    services.log.note?.(`${dockerfilePath}:${dockerfile.directiveLines['syntax']}: # syntax=${syntax}: Docker's Dockerfile frontend; Slipway parses the Dockerfile itself (the directive is ignored)`);
  }
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
  private readonly copies: CopyInstruction;
  private readonly runs: RunInstruction;
  private readonly records: StageRecord[] = [];
  private built = 0;
  private reused = 0;

  constructor(
    private readonly services: BuildServices,
    private readonly input: DockerfileBuildInput,
    private readonly plan: StagePlan,
    context: BuildContext,
  ) {
    this.copies = new CopyInstruction({
      services, context, platform: input.platform, stages: this.states, ensureAdopted: (state) => this.ensureAdopted(state),
    });
    this.runs = new RunInstruction({
      services, context, platform: input.platform, stages: this.states, ensureAdopted: (state) => this.ensureAdopted(state),
      settings: {
        ...services.run, secrets: input.secrets, network: input.network, ...(input.extraHosts ? { extraHosts: input.extraHosts } : {}),
        output: (chunk) => services.log.runOutput?.(input.name, chunk),
        note: (message) => services.log.note?.(message),
      },
    });
  }

  async run(): Promise<PlatformImage> {
    for (const stage of this.plan.stages) {
      const state = await this.buildStage(stage);
      this.states.set(stage.index, state);
    }
    const final = this.states.get(this.plan.target)!;
    if (this.input.imageSpec !== undefined) await this.imageSpecStage(final, this.input.imageSpec.spec, this.input.imageSpec.werfName);
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
        created: BUILD_EPOCH, config: { Env: [DEFAULT_PATH_ENV] }, rootfs: { type: 'layers', diff_ids: [] }, history: [],
      };
      return {
        config, layers: [], layerSource: undefined, digest: stageDigest([...versionParts, 'FROM', 'scratch']),
        published: undefined, manifestDigest: undefined, scope: createStageScope(this.plan, [DEFAULT_PATH_ENV]), meta: { cmdSet: false },
      };
    }
    const base = await this.services.images.resolve(from.ref, from.platform ?? stage.platform, this.where(stage.line));
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
    try {
      await this.stepAt(stage, state, instruction, where);
    } catch (error) {
      throw locateError(error, this.plan.file, where);
    }
  }

  private async stepAt(stage: PlannedStage, state: StageState, instruction: Instruction, where: string): Promise<void> {
    // The scope expands the instruction and applies ARG and ENV to itself.
    const expanded = state.scope.apply(instruction);
    if (instruction.keyword === 'ARG') {
      // An ARG changes no image, but its value (in the expanded form) reaches the digest chain.
      state.digest = stageDigest([state.digest, canonicalInstruction(instruction, expanded)]);
      return;
    }
    validateInstruction(expanded, where);
    const inputs = [state.digest, canonicalInstruction(instruction, expanded)];
    let layerWork: PreparedLayer | undefined;
    if (instruction.keyword === 'COPY' || instruction.keyword === 'ADD') {
      layerWork = await this.copies.prepare(stage, state, expanded, where);
      inputs.push(layerWork.checksum);
    } else if (instruction.keyword === 'RUN') {
      layerWork = await this.runs.prepare(stage, state, expanded, where);
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

  /** werf's imageSpec stage: the config edited, no layer, no history entry; its own digest over werf's dependencies. */
  private async imageSpecStage(state: StageState, spec: ImageSpec, werfName: string): Promise<void> {
    const context = { project: this.services.project, image: werfName };
    const digest = stageDigest([...this.digestPrefix(), state.digest, IMAGE_SPEC_STAGE, ...imageSpecDependencies(spec, context)]);
    state.digest = digest;
    const found = await this.services.storage.findStage(digest);
    if (found) {
      state.published = found;
      state.pending = found;
      state.manifestDigest = undefined;
      state.configDigest = undefined;
      this.reused++;
      this.records.push({ name: IMAGE_SPEC_STAGE, digest, tag: found.tag, reused: true });
      this.services.log.stageReused(this.input.name, IMAGE_SPEC_STAGE, found.tag);
      return;
    }
    if (this.services.requireBuilt) throw new StageNotBuiltError(this.input.name, IMAGE_SPEC_STAGE);
    this.services.log.stageBuilding(this.input.name, IMAGE_SPEC_STAGE);
    await this.ensureAdopted(state);
    await this.publish(state, undefined, IMAGE_SPEC_STAGE, (config) => {
      if (applyImageSpec(config, spec, context).essentialLabelsWarning) this.services.log.warn?.(ESSENTIAL_LABELS_WARNING);
    });
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
    await adoptStage(this.services, state, stage);
    state.pending = undefined;
  }

  /** Write the state (plus an optional new layer) as a stage image: blobs first, the tag last. */
  private async publish(state: StageState, layer: BuiltLayer | undefined, stageName: string, edit?: (config: ImageConfig) => void): Promise<void> {
    const { pushed, published } = await publishStage(this.services, state, { digest: state.digest, ...(layer ? { layer } : {}), ...(edit ? { edit } : {}) });
    this.records.push({ name: stageName, digest: state.digest, tag: published.tag, reused: !pushed });
    if (pushed) {
      this.built++;
      this.services.log.stageStored(this.input.name, stageName, published.tag, layer?.size ?? 0);
    } else {
      this.reused++;
      this.services.log.stageDiscarded(this.input.name, stageName, published.tag);
      state.pending = undefined;
    }
  }
}


/**
 * Every build error names the instruction's `Dockerfile:LINE`: an error of a lower module (a layer, a
 * registry, the runtime) gets the prefix; one that already names a line of the Dockerfile keeps its own.
 */
function locateError(error: unknown, file: string, where: string): unknown {
  if (error instanceof StageNotBuiltError) return error;
  if (error instanceof SlipwayError) {
    if (!error.message.startsWith(`${file}:`)) error.message = `${where}: ${error.message}`;
    return error;
  }
  const hint = systemErrorHint(error);
  return new BuildError(`${where}: ${error instanceof Error ? error.message : String(error)}`, { cause: error, ...(hint ? { hint } : {}) });
}

/** Checks Docker makes on the expanded instruction, with Docker's messages. */
function validateInstruction(instruction: ExpandedInstruction, where: string): void {
  if (instruction.keyword === 'EXPOSE') {
    // go-connections' nat.ParsePortSpecs, which BuildKit's EXPOSE calls.
    for (const spec of instruction.args) {
      // `[ip:][hostPort:]containerPort[/proto]`: Docker accepts (and BuildKit warns about) the host parts.
      const [mapping = '', proto] = spec.split('/', 2);
      const port = mapping.slice(mapping.lastIndexOf(':') + 1);
      const range = /^(\d+)(?:-(\d+))?$/.exec(port);
      const valid = range !== null && Number(range[1]) <= 65535 && (range[2] === undefined || (Number(range[2]) <= 65535 && Number(range[2]) >= Number(range[1])));
      if (!valid) throw new BuildError(`${where}: invalid containerPort: ${port}`);
      if (proto !== undefined && !['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw new BuildError(`${where}: invalid proto: ${proto}`);
    }
  }
  if ((instruction.keyword === 'COPY' || instruction.keyword === 'ADD') && (instruction.sources?.length ?? 0) > 1) {
    const dest = instruction.dest ?? '';
    if (!dest.endsWith('/') && dest !== '.' && !dest.endsWith('/.')) {
      throw new BuildError(`${where}: When using ${instruction.keyword} with more than one source file, the destination must be a directory and end with a /`);
    }
  }
}
