// werf.yaml `addHost`: Docker's --add-host rule (docker/cli opts/hosts.go ValidateExtraHost), checked when werf.yaml
// is loaded, before anything is built.
import { describe, expect, it } from 'vitest';
import { extraHostLines, parseAddHost } from '../../src/config/add-host.js';
import { ConfigValidationError, formatIssue, parseWerfConfig } from '../../src/config/schema/index.js';

function problems(text: string): string[] {
  try {
    parseWerfConfig(text);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.issues.map(formatIssue);
    throw error;
  }
  return [];
}

describe('parseAddHost', () => {
  it('reads host:ip and host=ip, IPv6 on the first separator or in brackets', () => {
    expect(parseAddHost('registry.local:10.0.0.1')).toEqual({ host: 'registry.local', ip: '10.0.0.1' });
    expect(parseAddHost('a=10.0.0.1')).toEqual({ host: 'a', ip: '10.0.0.1' });
    expect(parseAddHost('v6:::1')).toEqual({ host: 'v6', ip: '::1' });
    expect(parseAddHost('v6=[2001:db8::1]')).toEqual({ host: 'v6', ip: '2001:db8::1' });
    expect(parseAddHost('v4:[10.0.0.1]')).toEqual({ host: 'v4', ip: '10.0.0.1' });
  });

  it('refuses what Docker refuses, and host-gateway with the reason', () => {
    expect(parseAddHost('nohost')).toEqual({ error: 'bad format for add-host: "nohost": write HOST:IP (or HOST=IP)' });
    expect(parseAddHost(':10.0.0.1')).toHaveProperty('error', 'bad format for add-host: ":10.0.0.1": write HOST:IP (or HOST=IP)');
    expect(parseAddHost('a:b=10.0.0.1')).toHaveProperty('error', 'bad format for add-host: "a:b=10.0.0.1": write HOST:IP (or HOST=IP)');
    expect(parseAddHost('a:10.0.0.300')).toEqual({ error: 'invalid IP address in add-host: "10.0.0.300"' });
    expect(parseAddHost('a:host-gateway')).toHaveProperty('error', expect.stringMatching(/host-gateway is not supported: a RUN in Slipway has no network path to the host/));
  });

  it('writes BuildKit\'s /etc/hosts lines, in order', () => {
    expect(extraHostLines([{ host: 'b', ip: '10.0.0.2' }, { host: 'a', ip: '::1' }])).toBe('10.0.0.2\tb\n::1\ta\n');
  });
});

describe('addHost in werf.yaml', () => {
  const META = 'project: app\nconfigVersion: 1\n---\n';
  it('is checked when werf.yaml is loaded, naming the entry', () => {
    expect(problems(`${META}image: a\ndockerfile: Dockerfile\naddHost:\n- ok:10.0.0.1\n- bad\n`)).toEqual([
      'werf.yaml:8: document 2 (image "a"): addHost[1]: bad format for add-host: "bad": write HOST:IP (or HOST=IP)',
    ]);
    expect(problems(`${META}image: a\ndockerfile: Dockerfile\naddHost: x:1.2.3\n`)).toEqual([
      'werf.yaml:6: document 2 (image "a"): addHost: invalid IP address in add-host: "1.2.3"',
    ]);
  });
});
