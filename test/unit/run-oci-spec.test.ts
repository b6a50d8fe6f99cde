// The runtime-spec bundle of a RUN and its seccomp profile: what the runtime is asked to enforce. That the
// runtime enforces it is shown by the escape probes (test/integration/run-escape.test.ts).
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CAPABILITIES } from '../../src/builder/run/capabilities.js';
import { findOciRuntime } from '../../src/builder/run/oci-runtime.js';
import { MASKED_PATHS, READONLY_PATHS, runtimeSpec, type SpecOptions } from '../../src/builder/run/oci-spec.js';
import { defaultSeccompProfile } from '../../src/builder/run/seccomp.js';

const base: SpecOptions = {
  rootfs: '/r', argv: ['/bin/sh', '-c', 'true'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0, groups: [0],
  network: 'inherit', rootless: false, hostNetwork: false, mounts: [], cgroupsPath: '/slipway/x',
};

describe('runtimeSpec', () => {
  it('gives root Docker\'s capabilities and a non-root user none but the bounding set', () => {
    const root = runtimeSpec(base).process.capabilities;
    expect(root.effective).toEqual([...DEFAULT_CAPABILITIES]);
    expect(root.effective).not.toContain('CAP_SYS_ADMIN');
    expect(root.inheritable).toEqual([]);
    expect(root.ambient).toEqual([]);
    const user = runtimeSpec({ ...base, uid: 1000, gid: 1000, groups: [1000, 50] });
    expect(user.process.capabilities.effective).toEqual([]);
    expect(user.process.capabilities.permitted).toEqual([]);
    expect(user.process.capabilities.bounding).toEqual([...DEFAULT_CAPABILITIES]);
    expect(user.process.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 50] });
  });

  it('has its own PID, IPC, UTS and mount namespaces, and a network namespace only when asked', () => {
    expect(runtimeSpec(base).linux.namespaces.map((n) => n.type).sort()).toEqual(['ipc', 'mount', 'pid', 'uts']);
    expect(runtimeSpec({ ...base, network: 'own' }).linux.namespaces.map((n) => n.type)).toContain('network');
  });

  it('masks Docker\'s /proc paths, mounts /sys read-only and limits processes and devices', () => {
    const spec = runtimeSpec(base);
    expect(spec.linux.maskedPaths).toEqual(MASKED_PATHS);
    expect(spec.linux.maskedPaths).toContain('/proc/kcore');
    expect(spec.linux.readonlyPaths).toEqual(READONLY_PATHS);
    expect(spec.linux.readonlyPaths).toContain('/proc/sysrq-trigger');
    const sys = spec.mounts.find((m) => m.destination === '/sys')!;
    expect([sys.type, sys.options.includes('ro')]).toEqual(['sysfs', true]);
    expect(spec.linux.resources?.pids?.limit).toBeGreaterThan(0);
    expect(spec.linux.resources?.devices).toEqual([{ allow: false, access: 'rwm' }]);
    expect(spec.linux.cgroupsPath).toBe('/slipway/x');
    expect(spec.process.noNewPrivileges).toBe(false);
  });

  it('rootless: no cgroups, no devpts gid, and /sys bound read-only on the host network', () => {
    const spec = runtimeSpec({ ...base, rootless: true, hostNetwork: true });
    expect(spec.linux.resources).toBeUndefined();
    expect(spec.linux.cgroupsPath).toBeUndefined();
    expect(spec.mounts.find((m) => m.destination === '/dev/pts')!.options.some((o) => o.startsWith('gid='))).toBe(false);
    const sys = spec.mounts.find((m) => m.destination === '/sys')!;
    expect(sys.options).toEqual(expect.arrayContaining(['rbind', 'ro']));
  });
});

describe('defaultSeccompProfile', () => {
  const allowed = (profile: ReturnType<typeof defaultSeccompProfile>): Set<string> =>
    new Set(profile.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && r.args === undefined).flatMap((r) => r.names));

  it('refuses by default and allows neither mounts, namespaces, keyrings nor modules without the capabilities', () => {
    const profile = defaultSeccompProfile(DEFAULT_CAPABILITIES, 'x64');
    expect(profile.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(profile.architectures).toContain('SCMP_ARCH_X86_64');
    const names = allowed(profile);
    for (const call of ['read', 'execve', 'chroot', 'ptrace', 'arch_prctl', 'setuid', 'mknod']) expect(names, call).toContain(call);
    for (const call of ['mount', 'umount2', 'unshare', 'setns', 'pivot_root', 'keyctl', 'add_key', 'bpf', 'init_module', 'open_by_handle_at', 'clock_settime', 'reboot', 'clone', 'clone3']) {
      expect(names, call).not.toContain(call);
    }
  });

  it('lets clone make threads and processes but not namespaces, and sends clone3 to clone (ENOSYS)', () => {
    const rules = defaultSeccompProfile(DEFAULT_CAPABILITIES, 'x64').syscalls;
    expect(rules.find((r) => r.names.includes('clone'))).toEqual({
      names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    });
    expect(rules.find((r) => r.names.includes('clone3'))).toEqual({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  });

  it('allows a capability\'s calls when the capability is given', () => {
    const names = allowed(defaultSeccompProfile([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], 'x64'));
    for (const call of ['mount', 'unshare', 'setns', 'clone', 'clone3']) expect(names, call).toContain(call);
  });
});

describe('findOciRuntime', () => {
  it('takes a named runtime from PATH or a path, and refuses one that does not exist, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-runtime-'));
    try {
      const fake = join(dir, 'myruntime');
      await writeFile(fake, '#!/bin/sh\n');
      await chmod(fake, 0o755);
      expect(findOciRuntime('myruntime', dir)).toEqual({ path: fake, name: 'myruntime' });
      expect(findOciRuntime(fake, '')).toEqual({ path: fake, name: 'myruntime' });
      expect(() => findOciRuntime('nosuchruntime', dir)).toThrow(/OCI runtime "nosuchruntime" .* is not an executable on PATH/);
      expect(() => findOciRuntime(join(dir, 'missing'), dir)).toThrow(/is not an executable file/);
      // No runtime at all: the error names what to install.
      let error: unknown;
      try {
        findOciRuntime(undefined, dir);
      } catch (e) {
        error = e;
      }
      expect(String(error)).toMatch(/RUN needs an OCI runtime \(runc or crun\), and none is installed/);
      expect((error as { hint?: string }).hint).toMatch(/apt-get install runc/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
