// /etc/passwd and /etc/group of an image, and `--chown=<user>[:<group>]` resolved through them.
//
// The rules are BuildKit's (the builder behind `docker build` since Docker 23; buildah
// agrees): the spec splits at the first ':'; a part that is a decimal number (up to
// 2^32-1) is an id and is never looked up; a user given alone sets the group too: a
// numeric user its own number (`--chown=55` is 55:55), a user name the user's primary
// group from /etc/passwd (not a group of the same name, as the pre-BuildKit builder did);
// an empty user part (`--chown=:grp`) is uid 0. Where BuildKit silently falls back to 0
// for a name it cannot find, Slipway fails and names it.

import { BuildError, InvalidInputError } from '../../errors.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 0xffffffff;

function parseId(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_ID ? n : undefined;
}

function lines(text: string | Uint8Array): string[][] {
  const s = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
  return s
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'));
}

/** Parse passwd(5) lines `name:password:uid:gid:gecos:home:shell`; lines without numeric ids are skipped. */
export function parsePasswd(text: string | Uint8Array): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of lines(text)) {
    const uid = parseId(f[2]);
    const gid = parseId(f[3]);
    if (f[0] === undefined || f[0] === '' || uid === undefined || gid === undefined) continue;
    out.push({ name: f[0], uid, gid, gecos: f[4] ?? '', home: f[5] ?? '', shell: f[6] ?? '' });
  }
  return out;
}

/** Parse group(5) lines `name:password:gid:member,member`; lines without a numeric gid are skipped. */
export function parseGroup(text: string | Uint8Array): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of lines(text)) {
    const gid = parseId(f[2]);
    if (f[0] === undefined || f[0] === '' || gid === undefined) continue;
    out.push({ name: f[0], gid, members: (f[3] ?? '').split(',').filter((m) => m !== '') });
  }
  return out;
}

/** True when the spec needs /etc/passwd or /etc/group to be resolved (it names a user or group). */
export function chownNeedsLookup(spec: string): { passwd: boolean; group: boolean } {
  const colon = spec.indexOf(':');
  const user = colon < 0 ? spec : spec.slice(0, colon);
  const group = colon < 0 ? undefined : spec.slice(colon + 1);
  return { passwd: user !== '' && parseId(user) === undefined, group: group !== undefined && parseId(group) === undefined };
}

/**
 * Resolve a `--chown` value to numeric ids through an image's passwd and group entries
 * (undefined when the image has no such file). See the file comment for the rules.
 */
export function resolveChown(spec: string, passwd: PasswdEntry[] | undefined, group: GroupEntry[] | undefined): { uid: number; gid: number } {
  const colon = spec.indexOf(':');
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? undefined : spec.slice(colon + 1);
  if (spec === '' || (userPart === '' && (groupPart === undefined || groupPart === ''))) {
    throw new InvalidInputError(`invalid --chown value "${spec}": expected <user>[:<group>] (names or numeric ids)`);
  }
  if (groupPart === '') {
    throw new InvalidInputError(`invalid --chown value "${spec}": the group after ":" is empty`);
  }

  let uid = 0;
  let gid = 0;
  if (userPart !== '') {
    const id = parseId(userPart);
    if (id !== undefined) {
      uid = id;
      gid = id;
    } else {
      if (passwd === undefined) {
        throw new BuildError(`--chown=${spec}: cannot resolve user "${userPart}": the image has no /etc/passwd`, { hint: 'use a numeric uid, or create the user in an earlier step' });
      }
      const user = passwd.find((u) => u.name === userPart);
      if (user === undefined) {
        throw new BuildError(`--chown=${spec}: no user "${userPart}" in the image's /etc/passwd`, { hint: 'use a numeric uid, or create the user in an earlier step' });
      }
      uid = user.uid;
      gid = user.gid;
    }
  }
  if (groupPart !== undefined) {
    const id = parseId(groupPart);
    if (id !== undefined) {
      gid = id;
    } else {
      if (group === undefined) {
        throw new BuildError(`--chown=${spec}: cannot resolve group "${groupPart}": the image has no /etc/group`, { hint: 'use a numeric gid, or create the group in an earlier step' });
      }
      const entry = group.find((g) => g.name === groupPart);
      if (entry === undefined) {
        throw new BuildError(`--chown=${spec}: no group "${groupPart}" in the image's /etc/group`, { hint: 'use a numeric gid, or create the group in an earlier step' });
      }
      gid = entry.gid;
    }
  }
  return { uid, gid };
}
