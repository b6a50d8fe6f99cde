// The one grammar of image locations (src/store/location.ts): copy's source and destination, export's destinations.
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { formatLocation, parseLocation, storeKeyOf, withTag } from '../../src/store/location.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseLocation', () => {
  it('reads registries (docker:// optional, normalised), OCI layouts and archives, with a tag or a digest', () => {
    expect(parseLocation('reg.io/a/b:v1')).toEqual({ kind: 'registry', reference: { registry: 'reg.io', repository: 'a/b', tag: 'v1' } });
    expect(parseLocation('docker://docker.io/app')).toEqual({ kind: 'registry', reference: { registry: 'index.docker.io', repository: 'library/app' } });
    expect(parseLocation(`reg.io/a@${D}`)).toEqual({ kind: 'registry', reference: { registry: 'reg.io', repository: 'a', digest: D } });
    expect(parseLocation('oci:/tmp/out:v1')).toEqual({ kind: 'oci', path: '/tmp/out', tag: 'v1' });
    expect(parseLocation('oci:out')).toEqual({ kind: 'oci', path: 'out' });
    expect(parseLocation(`oci-archive:img.tar@${D}`)).toEqual({ kind: 'oci-archive', path: 'img.tar', digest: D });
    // A ':' in a directory is the directory's when a '/' follows it.
    expect(parseLocation('oci:/data/v1:2/layout')).toEqual({ kind: 'oci', path: '/data/v1:2/layout' });
  });

  it('refuses what it cannot read, naming it', () => {
    expect(() => parseLocation('oci:')).toThrow(new InvalidInputError('invalid location "oci:": write oci:DIR[:TAG]'));
    expect(() => parseLocation('oci-archive::v1')).toThrow(/invalid location "oci-archive::v1": write oci-archive:FILE\[:TAG\]/);
    expect(() => parseLocation('oci:out:bad tag')).toThrow(/tag "bad tag" must match/);
    expect(() => parseLocation('reg.io/Upper:v1')).toThrow(/^invalid image reference "reg\.io\/Upper:v1": repository "Upper" must be lowercase/);
  });

  it('formats one canonical spelling, and keys stores by what they are, not by tag', () => {
    expect(formatLocation(parseLocation('docker.io/org/app:1'))).toBe('index.docker.io/org/app:1');
    expect(formatLocation(parseLocation('oci:out:v1'))).toBe('oci:out:v1');
    expect(formatLocation(withTag(parseLocation(`oci:out@${D}`), 'x'))).toBe('oci:out:x');
    expect(storeKeyOf(parseLocation('oci:out:a'))).toBe(storeKeyOf(parseLocation('oci:./out:b')));
    expect(storeKeyOf(parseLocation('reg.io/a:1'))).toBe(storeKeyOf(parseLocation('docker://reg.io/a:2')));
    expect(storeKeyOf(parseLocation('oci:out'))).not.toBe(storeKeyOf(parseLocation('oci-archive:out')));
  });
});

describe('leftovers of other processes (src/process-identity.ts)', () => {
  it('sweeps at once only what a gone process of this PID namespace made; other namespaces wait for staleness', async () => {
    const { isLeftover, pidNamespace } = await import('../../src/process-identity.js');
    const ns = pidNamespace();
    const gone = 2 ** 22 + 12345; // above pid_max: no such process
    expect(isLeftover(gone, ns, 0, 1000)).toBe(true);
    expect(isLeftover(process.pid, ns, 10_000, 1000)).toBe(false); // ours, however old
    expect(isLeftover(process.ppid, ns, 0, 1000)).toBe(false); // alive
    expect(isLeftover(gone, `${ns}9`, 0, 1000)).toBe(false); // another namespace's: its PIDs mean nothing here
    expect(isLeftover(gone, `${ns}9`, 2000, 1000)).toBe(true);
  });
});
