// Opening a stages storage: the registry repository given by `--repo`, or, without one, the
// embedded default, an OCI image layout per project under $SLIPWAY_HOME/stages.

import { homedir } from 'node:os';
import { join, resolve as resolvePath, sep } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { parseRepository } from '../oci/index.js';
import type { RegistryClient } from '../registry/client.js';
import type { FileLockOptions } from '../store/file-lock.js';
import { OciLayoutStore } from '../store/oci-layout-store.js';
import { RegistryStore } from '../store/registry-store.js';
import { defaultLockDir, slipwayHome, type Env } from './home.js';
import { StagesStorage } from './stages-storage.js';

export { defaultLockDir, slipwayHome, type Env } from './home.js';

/** A project name that is safe as one directory name: no separators, no `.` or `..`. */
function checkProject(project: string): void {
  if (project === '' || project === '.' || project === '..' || /[/\\\0]/.test(project)) {
    throw new InvalidInputError(`invalid project name "${project}" for the local stages storage`, {
      hint: 'a werf project name is lowercase letters, digits and dashes, e.g. my-app',
    });
  }
}

/** The local stages directory of a project: `<home>/stages/<project>`. */
export function localStagesDir(home: string, project: string): string {
  checkProject(project);
  return join(resolvePath(home), 'stages', project);
}

/** `~/...` for paths under the user's home directory, for readable logs. */
function tildify(path: string, env: Env): string {
  const home = resolvePath(env['HOME'] || homedir());
  if (path === home) return '~';
  if (home === sep || !path.startsWith(home + sep)) return path;
  return `~${path.slice(home.length)}`;
}

export interface LocalStagesOptions {
  /** Lock files; default `<home>/locks`. */
  lockDir?: string;
  lock?: FileLockOptions;
  /** For `~` in describe(); default process.env. */
  env?: Env;
}

/**
 * The embedded default stages storage, used when no `--repo` is given: an OCI image layout at
 * `<home>/stages/<project>`, created on demand.
 */
export async function openLocalStagesStorage(home: string, project: string, options: LocalStagesOptions = {}): Promise<StagesStorage> {
  const dir = localStagesDir(home, project);
  const store = await OciLayoutStore.open(dir, { create: true });
  return new StagesStorage(store, {
    project,
    lockDir: options.lockDir ?? defaultLockDir(resolvePath(home)),
    ...(options.lock ? { lock: options.lock } : {}),
    description: `local (${tildify(dir, options.env ?? process.env)})`,
  });
}

export interface OpenStagesStorageOptions {
  /** `--repo`: a registry repository without tag, e.g. `127.0.0.1:5000/app`. Absent or empty: the local storage. */
  repo?: string;
  /** Shared; the storage never closes it. */
  client: RegistryClient;
  project: string;
  /** Slipway's home (`--home-dir`); default slipwayHome(env). Locks live under it for both kinds. */
  home?: string;
  lockDir?: string;
  lock?: FileLockOptions;
  env?: Env;
}

/** The stages storage of a run: RegistryStore over `--repo`, else the local OCI layout. */
export async function openStagesStorage(options: OpenStagesStorageOptions): Promise<StagesStorage> {
  const env = options.env ?? process.env;
  const home = options.home ?? slipwayHome(env);
  const lockDir = options.lockDir ?? defaultLockDir(resolvePath(home));
  const lock = options.lock ? { lock: options.lock } : {};
  if (options.repo === undefined || options.repo === '') {
    return openLocalStagesStorage(home, options.project, { lockDir, env, ...lock });
  }
  const store = new RegistryStore(options.client, parseRepository(options.repo));
  return new StagesStorage(store, { project: options.project, lockDir, ...lock });
}
