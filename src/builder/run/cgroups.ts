// The cgroups RUN containers leave behind. The runtime removes a container's cgroup when the container ends,
// but not when it is killed with the sandbox (Ctrl-C, a timeout, a SIGKILL of Slipway): those empty cgroups
// are removed here, the ones of this process right after the kill, the ones of dead processes at the next start.

import { readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { alive } from '../../process-identity.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The cgroup (below each hierarchy's root) the containers of RUN commands are made in. */
export const CGROUP_PARENT = 'slipway';

/** A container ID that names the Slipway process that made it. */
export function containerId(suffix: string): string {
  return `slipway-${process.pid}-${suffix}`;
}

/** Where a container's cgroups are, in every hierarchy (cgroup v2: one; v1: one per controller). */
function parents(): string[] {
  const hierarchies = [CGROUP_ROOT, ...list(CGROUP_ROOT).map((name) => join(CGROUP_ROOT, name))];
  return hierarchies.map((h) => join(h, CGROUP_PARENT)).filter((p) => list(p).length > 0);
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}


/** Remove the (empty) cgroups of `id`; false while a process still holds one. */
export function removeContainerCgroups(id: string): boolean {
  let done = true;
  for (const parent of parents()) {
    try {
      rmdirSync(join(parent, id));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') done = false;
    }
  }
  return done;
}

/** After a kill: the kernel frees a cgroup once its last process is reaped, which takes a moment. */
export async function removeKilledContainerCgroups(id: string): Promise<void> {
  for (let attempt = 0; attempt < 20 && !removeContainerCgroups(id); attempt++) await new Promise((r) => setTimeout(r, 50));
}

let swept = false;

/** Once per process: the cgroups of containers whose Slipway process is gone. */
export function sweepStaleCgroups(): void {
  if (swept) return;
  swept = true;
  for (const parent of parents()) {
    for (const name of list(parent)) {
      const match = /^slipway-(\d+)-[0-9a-f]+$/.exec(name);
      if (match && !alive(Number(match[1]))) {
        try {
          rmdirSync(join(parent, name));
        } catch {
          // still busy (a process outlived its sandbox?) or not ours to remove: leave it
        }
      }
    }
  }
}
