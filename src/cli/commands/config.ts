// `slipway config render [IMAGE_NAME...]` and `slipway config list`, as werf's `config render` / `config list`
// (cmd/werf/config/render, cmd/werf/config/list; pkg/config/parser.go RenderWerfConfig):
//   - render without arguments prints the rendered werf.yaml exactly; with IMAGE_NAME patterns it prints only
//     the documents of the selected images joined by `---` lines (no meta document, as werf), each document
//     once, in image-name order;
//   - list prints the image names one per line (the nameless image as `~`), sorted by name; with
//     --final-only (werf: --final-images-only) only final images.
// Both load and validate the whole configuration first, as werf does.

import type { Command } from 'commander';
import type { WerfConfig } from '../../config/werf-config.js';
import { defineCommand, type CliRuntime, type SlipwayCommand } from '../command.js';
import { CONFIG_OPTION_NAMES, configLoadOptions } from '../config-options.js';
import { WERF_CONFIG_NO_OPS } from '../werf-no-ops.js';

/** werf.yaml's machinery, loaded by the commands that read it (not at start-up). */
async function config() {
  const [{ loadProject }, { selectImages }, { imageLogName }] = await Promise.all([
    import('../../config/load-config.js'), import('../../config/select-images.js'), import('../../config/werf-config.js'),
  ]);
  return { loadProject, selectImages, imageLogName };
}

/** What `config render IMAGE_NAME...` prints: the documents of the selected images (werf's renderSpecificImages). */
export async function renderSelectedImages(config: WerfConfig, patterns: readonly string[]): Promise<string> {
  const { selectImages } = await import('../../config/select-images.js');
  const { images } = selectImages(config, patterns, { finalOnly: false });
  const printed = new Set<number>();
  const texts: string[] = [];
  for (const image of images) {
    if (printed.has(image.source.document)) continue;
    printed.add(image.source.document);
    const document = config.documents.find((doc) => doc.index === image.source.document);
    if (document !== undefined) texts.push(document.text);
  }
  return texts.join('---\n');
}

const renderCommand = defineCommand({
  name: 'render',
  summary: 'Print the rendered werf.yaml',
  description:
    'Render werf.yaml (a Go template, with the templates of --config-templates-dir) and print it. With IMAGE_NAME ' +
    'patterns (globs; a leading ! excludes), print only the documents of the images they select. The configuration ' +
    'is validated first.',
  arguments: [{ syntax: '[IMAGE_NAME...]', help: 'image name patterns (globs, !pattern to exclude)' }],
  options: [...CONFIG_OPTION_NAMES, 'homeDir', ...WERF_CONFIG_NO_OPS],
  async run({ options, args, io, env }) {
    const { loadProject } = await config();
    const { config: werfConfig } = loadProject(configLoadOptions(options, env));
    io.stdout(args.length === 0 ? werfConfig.rendered : await renderSelectedImages(werfConfig, args));
  },
});

const listCommand = defineCommand({
  name: 'list',
  summary: 'List the images of werf.yaml',
  description: 'Print the names of the images defined in werf.yaml, one per line, sorted; the nameless image is shown as ~.',
  options: [...CONFIG_OPTION_NAMES, 'finalOnly', 'homeDir', ...WERF_CONFIG_NO_OPS],
  async run({ options, io, env }) {
    const { loadProject, selectImages, imageLogName } = await config();
    const { config: werfConfig } = loadProject(configLoadOptions(options, env));
    const { images } = selectImages(werfConfig, [], { finalOnly: options.finalOnly });
    io.stdout(images.map((image) => `${imageLogName(image.name)}\n`).join(''));
  },
});

/** `slipway config <render|list>`. */
export const configCommand: SlipwayCommand = {
  name: 'config',
  register(program: Command, runtime: CliRuntime): Command {
    const command = program
      .command('config')
      .summary('Work with werf.yaml: render it, list its images')
      .description('Work with werf.yaml: render it, list its images');
    renderCommand.register(command, runtime);
    listCommand.register(command, runtime);
    return command;
  },
};
