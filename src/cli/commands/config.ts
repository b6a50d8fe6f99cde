// `slipway config render [IMAGE_NAME...]` and `slipway config list`, as werf's `config render` / `config list`
// (cmd/werf/config/render, cmd/werf/config/list; pkg/config/parser.go RenderWerfConfig):
//   - render without arguments prints the rendered werf.yaml exactly; with IMAGE_NAME patterns it prints only
//     the documents of the selected images joined by `---` lines (no meta document, as werf), each document
//     once, in image-name order;
//   - list prints the image names one per line (the nameless image as `~`), sorted by name; with
//     --final-only (werf: --final-images-only) only final images.
// Both load and validate the whole configuration first, as werf does.

import type { Command } from 'commander';
import { loadProject, type LoadWerfConfigOptions } from '../../config/load-config.js';
import { selectImages } from '../../config/select-images.js';
import { imageLogName, type WerfConfig } from '../../config/werf-config.js';
import { defineCommand, type CliRuntime, type SlipwayCommand } from '../command.js';
import type { Env, ResolvedOptions } from '../options.js';

/** The options every command that reads werf.yaml takes. */
export const CONFIG_OPTION_NAMES = [
  'dir',
  'config',
  'configTemplatesDir',
  'env',
  'gitWorkTree',
  'dev',
  'devIgnore',
  'looseGiterminism',
  'giterminismConfig',
] as const;

export type ConfigOptionName = (typeof CONFIG_OPTION_NAMES)[number];

/** Resolved CLI options (and the process environment) to loader options. */
export function configLoadOptions(options: ResolvedOptions<ConfigOptionName>, env: Env): LoadWerfConfigOptions {
  return {
    ...(options.dir === undefined ? {} : { dir: options.dir }),
    ...(options.config === undefined ? {} : { config: options.config }),
    configTemplatesDir: options.configTemplatesDir,
    env: options.env ?? '',
    ...(options.gitWorkTree === undefined ? {} : { gitWorkTree: options.gitWorkTree }),
    dev: options.dev,
    devIgnore: options.devIgnore,
    looseGiterminism: options.looseGiterminism,
    giterminismConfig: options.giterminismConfig,
    environment: env,
  };
}

/** What `config render IMAGE_NAME...` prints: the documents of the selected images (werf's renderSpecificImages). */
export function renderSelectedImages(config: WerfConfig, patterns: readonly string[]): string {
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
  options: CONFIG_OPTION_NAMES,
  run({ options, args, io, env }) {
    const { config } = loadProject(configLoadOptions(options, env));
    io.stdout(args.length === 0 ? config.rendered : renderSelectedImages(config, args));
  },
});

const listCommand = defineCommand({
  name: 'list',
  summary: 'List the images of werf.yaml',
  description: 'Print the names of the images defined in werf.yaml, one per line, sorted; the nameless image is shown as ~.',
  options: [...CONFIG_OPTION_NAMES, 'finalOnly'],
  run({ options, io, env }) {
    const { config } = loadProject(configLoadOptions(options, env));
    const { images } = selectImages(config, [], { finalOnly: options.finalOnly });
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
