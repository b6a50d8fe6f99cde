// What every project-level operation shares: the options that name a project and its stages storage, and the
// session that opens them (the werf.yaml, the registry client, the stages storage) and closes them again.

import { loadProject, type LoadedProject, type LoadWerfConfigOptions } from '../config/load-config.js';
import { parseRepository } from '../oci/index.js';
import { RegistryClient, type RegistryClientOptions } from '../registry/client.js';
import { dockerConfigCredentials } from '../registry/auth/credentials.js';
import { proxySettingsFromEnv } from '../registry/proxy.js';
import { openStagesStorage, type StagesStorage } from '../stages/index.js';
import type { ProjectEvent, ProjectEventListener } from './events.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ProjectOptions {
  /** The project directory and how werf.yaml is read (`--dir`, `--config`, `--dev`, ...); default: the current directory. */
  project?: Omit<LoadWerfConfigOptions, 'environment'>;
  /** The stages storage (`--repo`, e.g. `registry.example.org/team/app`); without it, the local store. */
  repo?: string;
  /** Slipway's home (local store, RUN's layer cache); default `$SLIPWAY_HOME`, else `~/.slipway`. */
  home?: string;
  /**
   * Registry access: a client of the caller's (which the caller closes), or options for one the operation makes
   * and closes. By default: the docker config's credentials and the environment's proxies.
   */
  registry?: RegistryClient | RegistryClientOptions;
  /** The environment werf.yaml templates, secrets and proxies read; default process.env. */
  env?: Env;
  /** Stops the operation: RUN commands are killed, nothing more starts. */
  signal?: AbortSignal;
  /** Told what happens as it happens. */
  onEvent?: ProjectEventListener;
}

/** An opened project: its configuration and files, a registry client, and its stages storage. */
export interface ProjectSession extends LoadedProject {
  client: RegistryClient;
  storage: StagesStorage;
  emit: (event: ProjectEvent) => void;
}

export function environmentOf(options: ProjectOptions): Env {
  return options.env ?? process.env;
}

/** werf.yaml and the project's files, as the options name them. */
export function loadProjectOf(options: ProjectOptions): LoadedProject {
  return loadProject({ ...options.project, environment: environmentOf(options) });
}

export function emitterOf(options: ProjectOptions): (event: ProjectEvent) => void {
  return options.onEvent ?? (() => undefined);
}

/**
 * Run `work` with the options' registry client (or one made for it and closed afterwards); `registries` (where the
 * work will read and write) are contacted at once, side by side.
 */
export async function withRegistryClient<T>(options: ProjectOptions, registries: Iterable<string>, work: (client: RegistryClient) => Promise<T>): Promise<T> {
  if (options.registry instanceof RegistryClient) {
    options.registry.prepare(registries);
    return work(options.registry);
  }
  const env = environmentOf(options);
  const client = new RegistryClient({ credentials: dockerConfigCredentials({ env }), proxy: proxySettingsFromEnv(env), ...options.registry });
  client.prepare(registries);
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

/**
 * Open the registry client and the stages storage of a loaded project, run `work`, and close both again. The
 * stages registry and `registries` (where the work will write) are contacted at once, side by side.
 */
export async function withProjectSession<T>(
  options: ProjectOptions, project: LoadedProject, work: (session: ProjectSession) => Promise<T>, registries: Iterable<string> = [],
): Promise<T> {
  const env = environmentOf(options);
  const emit = emitterOf(options);
  return withRegistryClient(options, [...stagesRegistry(options.repo), ...registries], async (client) => {
    const storage = await openStagesStorage({
      ...(options.repo ? { repo: options.repo } : {}), client, project: project.config.project,
      ...(options.home ? { home: options.home } : {}), env,
    });
    emit({ type: 'info', message: `Stages storage: ${storage.describe()}` });
    try {
      return await work({ ...project, client, storage, emit });
    } finally {
      await storage.close();
    }
  });
}

/** The registry of `--repo`, when it names a registry repository. */
function stagesRegistry(repo: string | undefined): string[] {
  if (!repo) return [];
  try {
    return [parseRepository(repo).registry];
  } catch {
    return []; // not a registry repository: openStagesStorage says what is wrong with it
  }
}
