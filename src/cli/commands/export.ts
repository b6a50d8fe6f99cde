// `slipway export [IMAGE_PATTERN...] --tag TEMPLATE...`: build (reusing every stage), then
// publish each final image to every destination its templates render, with Slipway's and
// werf's service labels removed and the user's labels and annotations added.

import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { defineCommand } from '../command.js';
import { cliEvents } from '../events.js';
import { checkOutputFile, writeOutputFile } from '../output-file.js';
import { projectOptions } from '../project-options.js';
import { REGISTRY_OPTION_NAMES, registryClientFor } from '../registry-client.js';
import { DEFAULT_BUILD_REPORT_PATH } from './build.js';
import { CONFIG_OPTION_NAMES } from '../config-options.js';
import { WERF_BUILDING_NO_OPS, WERF_STORAGE_NO_OPS } from '../werf-no-ops.js';

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
    'finalOnly', ...WERF_STORAGE_NO_OPS, ...WERF_BUILDING_NO_OPS,
  ],
  async run({ options, args, log, io, env }) {
    const [{ parseAddLabels, parseAnnotations }, { requireTagTemplates }, { exportProject }] = await Promise.all([
      import('../../export/labels.js'), import('../../export/tag-template.js'), import('../../operations/index.js'),
    ]);
    // Every input is checked before anything is built or pushed (the templates again, against the images, once
    // werf.yaml is read).
    requireTagTemplates(options.tag);
    if (options.exportReportPath) await checkOutputFile(resolve(options.exportReportPath), '--export-report-path');
    const addLabels = parseAddLabels(options.addLabel, [], options.addLabelSeparator);
    const annotations = parseAnnotations(options.addAnnotation);
    if (options.useBuildReport && !options.buildReportPath) {
      throw new UsageError('build report path must be specified', { hint: `pass --build-report-path FILE with --use-build-report (slipway build writes ${DEFAULT_BUILD_REPORT_PATH})` });
    }
    const client = await registryClientFor(options, env, log);
    const events = cliEvents(log, io);
    try {
      const exported = await exportProject({
        ...projectOptions(options, env, client, events),
        images: args, tags: options.tag, addLabels, annotations, platforms: options.platform,
        parallelTasksLimit: options.parallel ? options.parallelTasksLimit : 1, requireBuilt: options.requireBuiltImages,
        ...(options.useBuildReport ? { buildReport: resolve(options.dir ?? '.', options.buildReportPath!) } : {}),
        ...(options.ociRuntime ? { ociRuntime: options.ociRuntime } : {}),
      });
      events.finish();
      for (const entry of exported) io.stdout(`${entry.destination}@${entry.digest}\n`);
      if (options.exportReportPath) {
        await writeOutputFile(resolve(options.exportReportPath), `${JSON.stringify(exported, null, 2)}\n`);
      }
    } finally {
      events.finish();
      await client.close();
    }
  },
});
