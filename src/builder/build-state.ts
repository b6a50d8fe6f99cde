// What the parts of the builder share: the services a build runs with, and the state of
// the image being assembled in one Dockerfile stage.

import type { ProjectFiles } from '../project/index.js';
import type { Descriptor, ImageConfig, Platform } from '../oci/index.js';
import type { RegistryClient } from '../registry/client.js';
import type { StageDescriptor, StagesStorage } from '../stages/index.js';
import type { ImageStore } from '../store/image-store.js';
import type { ArgEnvScope } from './dockerfile/scope.js';
import type { BuildContext } from './context.js';
import type { StageMetaState } from './image-config.js';
import type { BuiltLayer } from './layer/types.js';
import type { LayerDirs } from './run/layer-dirs.js';
import type { OciRuntime } from './run/oci-runtime.js';
import type { ProxySettings } from '../registry/proxy.js';
import type { ImageResolver } from './base-image.js';

export interface BuildServices {
  /** `--require-built-images`: fail instead of building a missing stage. */
  requireBuilt?: boolean;
  client: RegistryClient;
  /** FROM and COPY --from images, each looked up once per build. */
  images: ImageResolver;
  storage: StagesStorage;
  files: ProjectFiles;
  project: string;
  version: string;
  tmpDir: string;
  log: BuildLog;
  /** The proxies ADD downloads go through (the command's environment, curl's rules). */
  proxy: ProxySettings;
  /** What RUN needs on this machine: the layer cache, cache-mount storage, where `env` secrets are read. */
  run: {
    layers: LayerDirs;
    cacheMountDir: string;
    secretEnv: Readonly<Record<string, string | undefined>>;
    /** The OCI runtime RUN commands execute in, found on first use. */
    runtime: () => OciRuntime;
    timeoutMs?: number;
    signal?: AbortSignal;
  };
}

export interface BuildLog {
  stageReused(image: string, stage: string, tag: string): void;
  stageBuilding(image: string, stage: string): void;
  stageStored(image: string, stage: string, tag: string, size: number): void;
  stageDiscarded(image: string, stage: string, tag: string): void;
  /** A warning werf prints once per run (werf's global warnings); the logger prints each text once. */
  warn?(message: string): void;
  /** Something worth knowing that is not a failure (e.g. a layer entry RUN's root filesystem skipped). */
  note?(message: string): void;
  /** Output of a RUN command, as it comes. */
  runOutput?(image: string, chunk: Buffer): void;
  /** An image is done (or failed): a logger that groups lines per image prints its block now. */
  imageDone?(image: string, outcome: { ok: boolean; tag?: string; built: number; reused: number; ms: number }): void;
}

/** The image being assembled in one Dockerfile stage. */
export interface StageState {
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

/** What an instruction that makes a layer (COPY/ADD, RUN) works with. */
export interface InstructionEnvironment {
  services: BuildServices;
  context: BuildContext;
  platform: Platform;
  /** The states of the Dockerfile stages built so far, by index (`COPY --from=<stage>`, `RUN --mount=from=`). */
  stages: ReadonlyMap<number, StageState>;
  /** Read a lazily adopted stage's manifest and config before its layers are used. */
  ensureAdopted(state: StageState): Promise<void>;
}

/** A layer instruction resolved for the stage digest; the layer is made only if the stage must be built. */
export interface PreparedLayer {
  /** What the instruction's inputs beyond its text (files copied or mounted) contribute to the stage digest. */
  checksum: string;
  build(): Promise<BuiltLayer>;
  /** Release what was prepared when the stage is found and nothing is built. */
  dispose(): Promise<void>;
}
