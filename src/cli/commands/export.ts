// `slipway export [IMAGE_PATTERN...] --tag TEMPLATE...`: build (reusing every stage), then
// publish each final image to every destination its templates render, with Slipway's and
// werf's service labels removed and the user's labels and annotations added.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildImages } from '../../builder/build-images.js';
import type { BuildReport } from '../../builder/build-report.js';
import { loadProject } from '../../config/load-config.js';
import { selectImages } from '../../config/select-images.js';
import type { WerfImage } from '../../config/werf-config.js';
import { ConfigError, UsageError } from '../../errors.js';
import { exportImages, type ExportSource } from '../../export/export-images.js';
import { withoutServiceComments } from '../../export/history.js';
import { exportLabels, parseAddLabels, parseAnnotations } from '../../export/labels.js';
import { destinationFor, requireTagTemplates, validateTagTemplates } from '../../export/tag-template.js';
import { parseRepository, type Repository } from '../../oci/index.js';
import type { RegistryClient } from '../../registry/client.js';
import { openStagesStorage } from '../../stages/index.js';
import { openLocation } from '../../store/open-store.js';
import { SLIPWAY_VERSION } from '../../version.js';
import { defineCommand, type CliIo } from '../command.js';
import { checkOutputFile, writeOutputFile } from '../output-file.js';
import type { Logger } from '../log.js';
import { REGISTRY_OPTION_NAMES, registryClientFor } from '../registry-client.js';
import { buildLog, DEFAULT_BUILD_REPORT_PATH } from './build.js';
import { CONFIG_OPTION_NAMES, configLoadOptions } from './config.js';

export const exportCommand = defineCommand({
  name: 'export',
  summary: 'Export images to user-chosen registries and tags',
  description:
    'Build the final images (reusing every stage in --repo) and publish each to every --tag template, with ' +
    'Slipway\'s and werf\'s service labels removed and --add-label labels added: from then on the images belong ' +
    'to the user. Templates may use %image%, %image_slug%, %image_safe_slug% and %image_content_based_tag%; a ' +
    'destination is a registry reference (with its registry host) or oci:DIR:TAG.',
  arguments: [{ syntax: '[image-pattern...]', help: 'image name patterns (globs; !pattern excludes); all final images by default' }],
  options: [
    ...CONFIG_OPTION_NAMES, ...REGISTRY_OPTION_NAMES, 'repo', 'tag', 'addLabel', 'addLabelSeparator', 'addAnnotation', 'platform',
    'requireBuiltImages', 'useBuildReport', 'buildReportPath', 'exportReportPath', 'parallel', 'parallelTasksLimit', 'homeDir', 'ociRuntime',
  ],
  async run({ options, args, log, io, env }) {
    // Every input is checked before anything is built or pushed.
    requireTagTemplates(options.tag);
    if (options.exportReportPath) await checkOutputFile(resolve(options.exportReportPath), '--export-report-path');
    const addLabels = parseAddLabels(options.addLabel, [], options.addLabelSeparator);
    const annotations = parseAnnotations(options.addAnnotation);
    const { config, files } = loadProject(configLoadOptions(options, env));
    const { images, warnings } = selectImages(config, args, { finalOnly: true });
    for (const warning of warnings) log.warn(warning);
    const stagesRepo: Repository | undefined = options.repo ? parseRepository(options.repo) : undefined;
    validateTagTemplates(options.tag, images.map((i) => i.name), stagesRepo ? { stagesRepo } : {});
    if (images.length === 0) {
      log.warn('no final image is selected: nothing to export');
      return;
    }

    const client = registryClientFor(options, env, log);
    const limit = options.parallel ? options.parallelTasksLimit : 1;
    const progress = progressLine(io, log);
    try {
      const sources = options.useBuildReport
        ? await sourcesFromReport(options.buildReportPath, options.dir, images, client)
        : await buildSources({ config, files, images, client, log, io, env, options: { ...options, limit } });
      const exported = await exportImages({
        sources,
        destinationsFor: (source) => options.tag.map((template) => destinationFor(template, source.name, source.tag)),
        edit: { labels: (labels) => exportLabels(labels, addLabels), annotations, history: withoutServiceComments },
        client,
        parallelTasksLimit: limit,
        log: {
          blobWritten: progress.blob,
          imageExported: (name, destinations) => {
            progress.clear();
            log.info([
              `Exporting image ${name || '~'}`,
              ...destinations.map((d) => `  tag ${d.destination}${d.skipped ? ' (up to date)' : ''}\n     digest: ${d.digest}`),
            ].join('\n'));
          },
        },
      });
      progress.clear();
      for (const entry of exported) io.stdout(`${entry.destination}@${entry.digest}\n`);
      if (options.exportReportPath) {
        await writeOutputFile(resolve(options.exportReportPath), `${JSON.stringify(exported, null, 2)}\n`);
      }
    } finally {
      await client.close();
    }
  },
});

/**
 * On a terminal, one line rewritten in place with the blobs and bytes moved so far; in CI
 * (stderr not a terminal) nothing: the per-image blocks are the plain record.
 */
function progressLine(io: { stderr(text: string): void }, log: Logger): { blob: (image: string, destination: string, bytes: number, result: string) => void; clear: () => void } {
  const live = process.stderr.isTTY === true && log.level !== 'quiet';
  let blobs = 0;
  let moved = 0;
  let shown = false;
  return {
    blob: (_image, _destination, bytes, result) => {
      blobs++;
      if (result === 'uploaded') moved += bytes;
      if (!live) return;
      io.stderr(`\r\x1b[2KExporting: ${blobs} blobs written, ${(moved / 1024 / 1024).toFixed(1)} MiB moved`);
      shown = true;
    },
    clear: () => {
      if (shown) io.stderr('\r\x1b[2K');
      shown = false;
    },
  };
}

interface BuildSourcesInput {
  config: Parameters<typeof buildImages>[0]['config'];
  files: Parameters<typeof buildImages>[0]['files'];
  images: readonly WerfImage[];
  client: RegistryClient;
  log: Logger;
  io: CliIo;
  env: NodeJS.ProcessEnv | Record<string, string | undefined>;
  options: { repo: string | undefined; platform: string[]; homeDir: string | undefined; ociRuntime: string | undefined; requireBuiltImages: boolean; limit: number };
}

/** Build (or with -Z only look up) the images, and export from the stages storage. */
async function buildSources(input: BuildSourcesInput): Promise<ExportSource[]> {
  const { options } = input;
  const storage = await openStagesStorage({
    ...(options.repo ? { repo: options.repo } : {}), client: input.client, project: input.config.project,
    ...(options.homeDir ? { home: options.homeDir } : {}), env: input.env,
  });
  input.log.info(`Stages storage: ${storage.describe()}`);
  const result = await buildImages({
    config: input.config, files: input.files, images: input.images, client: input.client, storage, platforms: options.platform,
    parallelTasksLimit: options.limit, log: buildLog(input.log, input.io), version: SLIPWAY_VERSION, requireBuilt: options.requireBuiltImages,
    ...(options.homeDir ? { home: options.homeDir } : {}), ...(options.ociRuntime ? { ociRuntime: options.ociRuntime } : {}), env: input.env,
  });
  return result.images.map((image) => ({ name: image.name, store: storage.store, tag: image.tag }));
}

/** `--use-build-report`: export exactly the images a report names, building nothing. */
async function sourcesFromReport(path: string | undefined, dir: string | undefined, images: readonly WerfImage[], client: RegistryClient): Promise<ExportSource[]> {
  if (!path) throw new UsageError('build report path must be specified', { hint: 'pass --build-report-path FILE with --use-build-report' });
  const file = resolve(dir ?? '.', path);
  let report: BuildReport;
  try {
    report = JSON.parse(await readFile(file, 'utf8')) as BuildReport;
  } catch (error) {
    throw new ConfigError(`cannot read the build report ${file}: ${(error as Error).message}`, { cause: error, hint: `write one with slipway build --save-build-report (default ${DEFAULT_BUILD_REPORT_PATH})` });
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
