// buildProject: the images of a werf.yaml, built stage by stage into the stages storage, every stage that exists
// there reused (what `slipway build` does).

import { buildImages, type BuildResult } from '../builder/build-images.js';
import { preflightImages } from '../builder/preflight.js';
import type { BuildLog } from '../builder/build-image.js';
import { selectImages } from '../config/select-images.js';
import { SLIPWAY_VERSION } from '../version.js';
import type { ProjectEvent } from './events.js';
import { environmentOf, loadProjectOf, withProjectSession, type ProjectOptions } from './project.js';

export interface BuildProjectOptions extends ProjectOptions {
  /** Image name patterns (globs; `!pattern` excludes); all images when empty. Their dependencies are built too. */
  images?: readonly string[];
  /** Target platforms (`linux/amd64`, ...); default werf.yaml's, else this machine's. */
  platforms?: readonly string[];
  /** Images built at once; 0 or less: no limit. Default 1. */
  parallelTasksLimit?: number;
  /** Only the final images (and what they depend on): werf's `--final-images-only`. */
  finalOnly?: boolean;
  /** Build nothing: fail naming every image that would need building (`-Z`). */
  requireBuilt?: boolean;
  /** The OCI runtime RUN commands execute in (a name on PATH or a path); default crun, else runc. */
  ociRuntime?: string;
  /** Kill a RUN command that runs longer than this. */
  runTimeoutMs?: number;
}

/** The events of a build, as the builder reports them. */
export function buildEvents(emit: (event: ProjectEvent) => void): BuildLog {
  // werf prints some warnings once per run however many images meet them.
  const warned = new Set<string>();
  return {
    warn: (message) => {
      if (warned.has(message)) return;
      warned.add(message);
      emit({ type: 'warning', message });
    },
    stageReused: (image, stage, tag) => emit({ type: 'stage-reused', image, stage, tag }),
    stageBuilding: (image, stage) => emit({ type: 'stage-building', image, stage }),
    stageStored: (image, stage, tag, size) => emit({ type: 'stage-built', image, stage, tag, size }),
    stageDiscarded: (image, stage, tag) => emit({ type: 'stage-discarded', image, stage, tag }),
    note: (message) => emit({ type: 'note', message }),
    runOutput: (image, chunk) => emit({ type: 'run-output', image, chunk }),
    imageDone: (image, outcome) => emit({ type: 'image-built', image, ...outcome }),
  };
}

export async function buildProject(options: BuildProjectOptions = {}): Promise<BuildResult> {
  const project = loadProjectOf(options);
  const { images, warnings } = selectImages(project.config, options.images ?? [], { finalOnly: options.finalOnly ?? false });
  const emit = options.onEvent ?? (() => undefined);
  for (const message of warnings) emit({ type: 'warning', message });
  // What the build would refuse is refused before anything is opened, built or stored.
  preflightImages(project.config, project.files, images);
  return withProjectSession(options, project, ({ config, files, client, storage }) => buildImages({
    config, files, images, client, storage, platforms: options.platforms ?? [],
    parallelTasksLimit: options.parallelTasksLimit ?? 1, log: buildEvents(emit), version: SLIPWAY_VERSION,
    requireBuilt: options.requireBuilt ?? false, env: environmentOf(options),
    ...(options.home ? { home: options.home } : {}),
    ...(options.ociRuntime ? { ociRuntime: options.ociRuntime } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.runTimeoutMs !== undefined ? { runTimeoutMs: options.runTimeoutMs } : {}),
  }));
}
