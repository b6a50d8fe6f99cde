// The runtime-spec bundle configuration (config.json) of a RUN: what runc or crun makes of it is the whole
// confinement, so every choice here follows `docker run`'s defaults unless a build needs otherwise.
//
// - Namespaces: mount, PID, IPC and UTS of its own; network of its own for `--network=none` (the runtime
//   brings up its loopback), or the one the sandbox made for slirp4netns, or the host's for `host`.
// - The runtime pivots into the root filesystem, so no outer root is reachable, and it resolves every mount
//   destination inside the rootfs. Mount *sources* are host paths the runtime follows as they are: the sandbox
//   only passes sources it resolved itself (see sandbox.ts).
// - Docker's masked and read-only /proc paths, read-only /sys, a tmpfs /dev with the runtime's standard
//   device nodes, a device cgroup that denies the rest (the runtime adds the standard nodes' rules to it).
// - Docker's capabilities and seccomp profile; no_new_privs stays off, as in Docker, so setuid programs
//   (sudo, su) keep working within those capabilities.

import { DEFAULT_CAPABILITIES } from './capabilities.js';
import { defaultSeccompProfile, type SeccompProfile } from './seccomp.js';

export interface SpecMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface RuntimeSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>;
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: SpecMount[];
  linux: {
    namespaces: { type: string }[];
    maskedPaths: string[];
    readonlyPaths: string[];
    seccomp: SeccompProfile;
    rootfsPropagation: string;
    cgroupsPath?: string;
    resources?: { devices: { allow: boolean; access: string }[]; pids?: { limit: number } };
  };
}

export interface SpecOptions {
  rootfs: string;
  argv: readonly string[];
  env: readonly string[];
  cwd: string;
  uid: number;
  gid: number;
  groups: readonly number[];
  /** `own`: a new, empty network namespace; `inherit`: the namespace the runtime starts in (the sandbox's or the host's). */
  network: 'own' | 'inherit';
  /** The sandbox runs in a user namespace of the invoking user: no cgroups, no device nodes to make, no sysfs of its own without a network namespace. */
  rootless: boolean;
  /** Whether the namespace the runtime starts in is the host's network (sysfs then cannot be mounted rootless). */
  hostNetwork: boolean;
  mounts: readonly SpecMount[];
  /** Relative to the cgroup root (rootful only). */
  cgroupsPath?: string;
  pidsLimit?: number;
}

/** Docker's masked /proc and /sys paths: kernel internals a container has no business reading. */
export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

/** Docker's read-only /proc paths: writing them would change the host's kernel. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The default number of processes a RUN may have at once (a fork bomb stops there). */
export const DEFAULT_PIDS_LIMIT = 32768;

export function runtimeSpec(options: SpecOptions): RuntimeSpec {
  const root = options.uid === 0;
  // A non-root user gets no effective capabilities (as after setuid in Docker); setuid programs get at most the bounding set.
  const caps = [...DEFAULT_CAPABILITIES];
  const sys: SpecMount = options.rootless && options.hostNetwork
    ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
    : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] };
  const mounts: SpecMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(options.rootless ? [] : ['gid=5'])] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    sys,
    ...options.mounts,
  ];
  const namespaces = ['pid', 'ipc', 'uts', 'mount', ...(options.network === 'own' ? ['network'] : [])];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: options.uid, gid: options.gid, ...(options.groups.length > 0 ? { additionalGids: [...options.groups] } : {}) },
      args: [...options.argv],
      env: [...options.env],
      cwd: options.cwd,
      capabilities: { bounding: caps, effective: root ? caps : [], permitted: root ? caps : [], inheritable: [], ambient: [] },
      noNewPrivileges: false,
    },
    root: { path: options.rootfs, readonly: false },
    hostname: 'slipway',
    mounts,
    linux: {
      namespaces: namespaces.map((type) => ({ type })),
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
      seccomp: defaultSeccompProfile(caps),
      rootfsPropagation: 'rprivate',
      ...(options.rootless ? {} : {
        ...(options.cgroupsPath !== undefined ? { cgroupsPath: options.cgroupsPath } : {}),
        resources: { devices: [{ allow: false, access: 'rwm' }], pids: { limit: options.pidsLimit ?? DEFAULT_PIDS_LIMIT } },
      }),
    },
  };
}
