// The options every command that reads werf.yaml takes, and how they become the loader's options. Light on
// purpose: commands import it at start-up, the loader itself only when they run.

import type { LoadWerfConfigOptions } from '../config/load-config.js';
import type { Env, ResolvedOptions } from './options.js';

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

