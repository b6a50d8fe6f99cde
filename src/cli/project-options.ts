// The command line's options that name a project and its stages storage, as the options of an operation
// (src/operations): the one place commands turn flags into them.

import type { ProjectOptions } from '../operations/project.js';
import type { RegistryClient } from '../registry/client.js';
import { configLoadOptions, type ConfigOptionName } from './config-options.js';
import type { CliEvents } from './events.js';
import type { Env, ResolvedOptions } from './options.js';

export function projectOptions(
  options: ResolvedOptions<ConfigOptionName> & { repo?: string | undefined; homeDir?: string | undefined },
  env: Env, client: RegistryClient, events: CliEvents,
): ProjectOptions {
  const { environment: _environment, ...project } = configLoadOptions(options, env);
  return {
    project, env, registry: client, onEvent: events.listener,
    ...(options.repo ? { repo: options.repo } : {}),
    ...(options.homeDir ? { home: options.homeDir } : {}),
  };
}
