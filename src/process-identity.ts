// Which process made a file, as the names of Slipway's scratch directories record it: its PID and its PID
// namespace. A PID says whether a process is alive only inside its own namespace: two CI containers sharing a
// volume each see the other's PIDs as gone. So a leftover is swept at once only when it was made in this PID
// namespace by a process that is gone; others only when they are old.

import { readlinkSync } from 'node:fs';

let namespace: string | undefined;

/** This process's PID namespace, as a short token (`4026531836`), or `0` when /proc does not tell. */
export function pidNamespace(): string {
  if (namespace === undefined) {
    try {
      namespace = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '0';
    } catch {
      namespace = '0';
    }
  }
  return namespace;
}

/** Whether a process of this PID namespace is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A name part `<pid>-<namespace>` for this process. */
export function ownerTag(): string {
  return `${process.pid}-${pidNamespace()}`;
}

/**
 * Whether a leftover named with ownerTag() (`pid` and `ns` parsed from its name) may go: its process is gone from
 * this namespace, or (made elsewhere, or a PID now reused) it is older than `staleMs`.
 */
export function isLeftover(pid: number, ns: string, ageMs: number, staleMs: number): boolean {
  if (pid === process.pid && ns === pidNamespace()) return false;
  if (ns === pidNamespace() && !alive(pid)) return true;
  return ageMs > staleMs;
}
