// Which OCI runtime executes RUN commands: the one the user names (`--oci-runtime`, SLIPWAY_OCI_RUNTIME; a
// name on PATH or a path), else the first of crun and runc that works on this host. crun starts faster but
// refuses "hybrid" cgroup hosts (cgroup v1 controllers with a cgroup2 hierarchy that also has controllers),
// which runc runs on.

import { accessSync, constants, readFileSync, statfsSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import { BuildError } from '../../errors.js';

export interface OciRuntime {
  /** Absolute path of the binary. */
  path: string;
  /** `runc` or `crun` (or the base name of another runtime): their command lines agree on what Slipway uses. */
  name: string;
}

const INSTALL_HINT = 'install one: apt-get install runc (or crun), or name one with --oci-runtime / SLIPWAY_OCI_RUNTIME';
const TMPFS_MAGIC = 0x01021994;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, pathEnv: string): string | undefined {
  return pathEnv.split(delimiter).filter((d) => d !== '').map((d) => join(d, name)).find(executable);
}

/** A cgroup v1 host whose cgroup2 hierarchy (/sys/fs/cgroup/unified) has controllers too: crun refuses it. */
function hybridCgroups(): boolean {
  try {
    if (Number(statfsSync('/sys/fs/cgroup').type) !== TMPFS_MAGIC) return false;
    return readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

/** PATH, and the sbin directories where Debian puts runc (a non-root PATH often lacks them). */
function defaultSearchPath(): string {
  return [process.env['PATH'] ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin'].join(delimiter);
}

/** The runtime to use; `wanted` is the user's choice (a name or a path), else the default order. */
export function findOciRuntime(wanted: string | undefined, searchPath: string = defaultSearchPath()): OciRuntime {
  if (wanted !== undefined && wanted !== '') {
    const path = wanted.includes('/') ? (executable(wanted) ? wanted : undefined) : onPath(wanted, searchPath);
    if (path === undefined) throw new BuildError(`OCI runtime "${wanted}" (--oci-runtime / SLIPWAY_OCI_RUNTIME) is not an executable ${wanted.includes('/') ? 'file' : 'on PATH'}`, { hint: INSTALL_HINT });
    return { path, name: basename(path) };
  }
  const candidates = hybridCgroups() ? ['runc'] : ['crun', 'runc'];
  for (const name of candidates) {
    const path = onPath(name, searchPath);
    if (path !== undefined) return { path, name };
  }
  const crunOnly = candidates.length === 1 && onPath('crun', searchPath) !== undefined;
  throw new BuildError(`RUN needs an OCI runtime (runc or crun), and ${crunOnly ? 'only crun is installed, which refuses this host\'s hybrid cgroups' : 'none is installed'}`, { hint: INSTALL_HINT });
}
