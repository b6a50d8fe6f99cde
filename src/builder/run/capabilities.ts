// The capabilities a RUN gets: Docker's default set. Enough for what Dockerfiles do (package managers chown,
// setuid to drop privileges, bind low ports, make device nodes the device cgroup still refuses to open), and
// none of what reaches beyond the container: no CAP_SYS_ADMIN (mount, namespaces), CAP_NET_ADMIN, CAP_SYS_PTRACE
// (other processes), CAP_SYS_MODULE or CAP_DAC_READ_SEARCH (open_by_handle_at, the "shocker" escape).

export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
