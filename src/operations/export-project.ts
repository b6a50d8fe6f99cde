// exportProject: build what is missing (or take a build report's images), then publish each final image to every
// destination its tag templates render, with the service labels and history comments removed and the caller's
// labels and annotations added (what `slipway export` does). Every input is checked before anything is built.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildImages } from '../builder/build-images.js';
import { preflightImages } from '../builder/preflight.js';
import type { BuildReport } from '../builder/build-report.js';
import { selectImages } from '../config/select-images.js';
import type { WerfImage } from '../config/werf-config.js';
import { ConfigError } from '../errors.js';
import { exportImages, type ExportedDestination, type ExportSource } from '../export/export-images.js';
import { withoutServiceComments } from '../export/history.js';
import { exportLabels } from '../export/labels.js';
import { CONTENT_BASED_TAG_STUB, renderDestination, requireTagTemplates, validateTagTemplates } from '../export/tag-template.js';
import { parseRepository } from '../oci/index.js';
import type { RegistryClient } from '../registry/client.js';
import { openLocation } from '../store/location.js';
import { SLIPWAY_VERSION } from '../version.js';
import { buildEvents, type BuildProjectOptions } from './build-project.js';
import { emitterOf, environmentOf, loadProjectOf, withProjectSession, withRegistryClient, type ProjectSession } from './project.js';

export interface ExportProjectOptions extends Omit<BuildProjectOptions, 'images'> {
  /** Final image name patterns (globs; `!pattern` excludes); all final images when empty. */
  images?: readonly string[];
  /** Tag templates (`registry.example.org/team/%image%:latest`, `oci:DIR:%image%`, ...); at least one. */
  tags: readonly string[];
  /** Labels to add (after Slipway's and werf's service labels are removed). */
  addLabels?: Readonly<Record<string, string>>;
  /** Annotations to set on every manifest (and on the index of a multi-platform image). */
  annotations?: Readonly<Record<string, string>>;
  /** Export exactly the images of this build report (`slipway build --save-build-report`), building nothing. */
  buildReport?: string;
}

export async function exportProject(options: ExportProjectOptions): Promise<ExportedDestination[]> {
  const emit = emitterOf(options);
  requireTagTemplates(options.tags);
  const project = loadProjectOf(options);
  const { images, warnings } = selectImages(project.config, options.images ?? [], { finalOnly: true });
  for (const message of warnings) emit({ type: 'warning', message });
  validateTagTemplates(options.tags, images.map((i) => i.name), options.repo ? { stagesRepo: parseRepository(options.repo) } : {});
  if (images.length === 0) {
    emit({ type: 'warning', message: 'no final image is selected: nothing to export' });
    return [];
  }
  // What the build would refuse is refused before anything is opened, built or pushed.
  if (options.buildReport === undefined) preflightImages(project.config, project.files, images);
  const addLabels = options.addLabels ?? {};
  const publish = (sources: ExportSource[], client: RegistryClient): Promise<ExportedDestination[]> => exportImages({
    sources,
    destinationsFor: (source) => options.tags.map((template) => renderDestination(template, source.name, source.tag)),
    edit: { labels: (labels) => exportLabels(labels, addLabels), annotations: options.annotations ?? {}, history: withoutServiceComments },
    client,
    parallelTasksLimit: options.parallelTasksLimit ?? 1,
    log: {
      blobStarted: (image, destination, d) => emit({ type: 'blob-started', image, destination, digest: d.digest, size: d.size }),
      ...(options.onEvent ? {
        blobProgress: (image: string, destination: string, d: { digest: string; size: number }, bytes: number) =>
          emit({ type: 'blob-progress', image, destination, digest: d.digest, size: d.size, bytes }),
      } : {}),
      blobWritten: (image, destination, d, result) => emit({ type: 'blob-done', image, destination, digest: d.digest, size: d.size, result }),
      imageExported: (image, destinations) => emit({ type: 'image-exported', image, destinations }),
    },
  });
  const destinations = destinationRegistries(options.tags, images);
  // A build report names where the images are: no stages storage is opened, nothing is built.
  if (options.buildReport !== undefined) {
    const report = options.buildReport;
    return withRegistryClient(options, destinations, async (client) => publish(await sourcesFromReport(report, images, client), client));
  }
  return withProjectSession(options, project, async (session) => publish(await builtSources(options, session, images), session.client), destinations);
}

/** The registries the tag templates export into (a template that does not render is reported later, by the export). */
function destinationRegistries(templates: readonly string[], images: readonly WerfImage[]): Set<string> {
  const registries = new Set<string>();
  for (const template of templates) {
    for (const image of images) {
      try {
        const destination = renderDestination(template, image.name, CONTENT_BASED_TAG_STUB);
        if (destination.kind === 'registry') registries.add(destination.reference.registry);
      } catch {
        // said when the export renders it with the real tag
      }
    }
  }
  return registries;
}

/** Build (or with requireBuilt only look up) the images in the stages storage, and export from there. */
async function builtSources(options: ExportProjectOptions, session: ProjectSession, images: readonly WerfImage[]): Promise<ExportSource[]> {
  const result = await buildImages({
    config: session.config, files: session.files, images, client: session.client, storage: session.storage,
    platforms: options.platforms ?? [], parallelTasksLimit: options.parallelTasksLimit ?? 1, log: buildEvents(session.emit),
    version: SLIPWAY_VERSION, requireBuilt: options.requireBuilt ?? false, env: environmentOf(options),
    ...(options.home ? { home: options.home } : {}),
    ...(options.ociRuntime ? { ociRuntime: options.ociRuntime } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.runTimeoutMs !== undefined ? { runTimeoutMs: options.runTimeoutMs } : {}),
  });
  return result.images.map((image) => ({ name: image.name, store: session.storage.store, tag: image.tag, digest: image.digest }));
}

/** The images a build report names, building nothing. */
async function sourcesFromReport(path: string, images: readonly WerfImage[], client: RegistryClient): Promise<ExportSource[]> {
  const file = resolve(path);
  let report: BuildReport;
  try {
    report = JSON.parse(await readFile(file, 'utf8')) as BuildReport;
  } catch (error) {
    throw new ConfigError(`cannot read the build report ${file}: ${(error as Error).message}`, {
      cause: error, hint: 'write one with slipway build --save-build-report',
    });
  }
  const sources: ExportSource[] = [];
  for (const image of images) {
    const record = report.Images?.[image.name];
    if (!record) throw new ConfigError(`the build report ${file} has no image "${image.name || '~'}"`, { hint: 'build it with --save-build-report, or leave it out of the patterns' });
    if (!record.Final) continue;
    const location = await openLocation(record.DockerImageName, { client });
    sources.push({ name: image.name, store: location.store, tag: record.DockerTag });
  }
  return sources;
}
