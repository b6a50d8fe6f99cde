import { describe, expect, it } from 'vitest';
import { BuildError, InvalidInputError } from '../../src/errors.js';
import { chownNeedsLookup, parseGroup, parsePasswd, resolveChown } from '../../src/builder/layer/index.js';

const PASSWD = `# comment
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin

app:x:1000:1001:App User,,,:/home/app:/bin/sh
  spaced:x:1002:1002::/home/spaced:/bin/sh
broken:x:abc:0::/:/bin/sh
nogid:x:5
app:x:2000:2000:duplicate, first wins::
`;

const GROUP = `root:x:0:
daemon:x:1:
app:x:1001:
staff:x:50:app,daemon
weird:x:notanumber:
`;

describe('parsePasswd / parseGroup', () => {
  it('parses entries and skips comments, blank and malformed lines', () => {
    const users = parsePasswd(PASSWD);
    expect(users.map((u) => u.name)).toEqual(['root', 'daemon', 'app', 'spaced', 'app']);
    expect(users[2]).toEqual({ name: 'app', uid: 1000, gid: 1001, gecos: 'App User,,,', home: '/home/app', shell: '/bin/sh' });
    const groups = parseGroup(Buffer.from(GROUP));
    expect(groups.map((g) => [g.name, g.gid])).toEqual([
      ['root', 0],
      ['daemon', 1],
      ['app', 1001],
      ['staff', 50],
    ]);
    expect(groups[3]!.members).toEqual(['app', 'daemon']);
  });
});

describe('resolveChown', () => {
  const passwd = parsePasswd(PASSWD);
  const group = parseGroup(GROUP);

  it('passes numeric ids through; a lone uid is also the gid', () => {
    expect(resolveChown('55', undefined, undefined)).toEqual({ uid: 55, gid: 55 });
    expect(resolveChown('55:66', undefined, undefined)).toEqual({ uid: 55, gid: 66 });
    expect(resolveChown('0055:0', undefined, undefined)).toEqual({ uid: 55, gid: 0 });
    expect(resolveChown('4294967295', undefined, undefined)).toEqual({ uid: 4294967295, gid: 4294967295 });
  });

  it("gives a lone user name the user's primary group (BuildKit's rule)", () => {
    expect(resolveChown('app', passwd, group)).toEqual({ uid: 1000, gid: 1001 });
    expect(resolveChown('daemon', passwd, undefined)).toEqual({ uid: 1, gid: 1 });
  });

  it('mixes names and ids, and takes the first of duplicate names', () => {
    expect(resolveChown('app:staff', passwd, group)).toEqual({ uid: 1000, gid: 50 });
    expect(resolveChown('app:7', passwd, undefined)).toEqual({ uid: 1000, gid: 7 });
    expect(resolveChown('7:staff', undefined, group)).toEqual({ uid: 7, gid: 50 });
    expect(resolveChown(':staff', undefined, group)).toEqual({ uid: 0, gid: 50 });
  });

  it('fails naming what it cannot find', () => {
    expect(() => resolveChown('ghost', passwd, group)).toThrow(BuildError);
    expect(() => resolveChown('ghost', passwd, group)).toThrow(/no user "ghost" in the image's \/etc\/passwd/);
    expect(() => resolveChown('app:ghosts', passwd, group)).toThrow(/no group "ghosts" in the image's \/etc\/group/);
    expect(() => resolveChown('app', undefined, group)).toThrow(/the image has no \/etc\/passwd/);
    expect(() => resolveChown('1:staff', passwd, undefined)).toThrow(/the image has no \/etc\/group/);
    expect(() => resolveChown('4294967296', passwd, group)).toThrow(/no user "4294967296"/);
  });

  it('rejects malformed specs', () => {
    expect(() => resolveChown('', passwd, group)).toThrow(InvalidInputError);
    expect(() => resolveChown(':', passwd, group)).toThrow(InvalidInputError);
    expect(() => resolveChown('app:', passwd, group)).toThrow(/group after ":" is empty/);
  });

  it('tells whether the image files are needed', () => {
    expect(chownNeedsLookup('55:66')).toEqual({ passwd: false, group: false });
    expect(chownNeedsLookup('app')).toEqual({ passwd: true, group: false });
    expect(chownNeedsLookup('55:staff')).toEqual({ passwd: false, group: true });
    expect(chownNeedsLookup(':staff')).toEqual({ passwd: false, group: true });
  });
});
