// werf.yaml `addHost` (docker build --add-host, which werf passes on): `host:ip` or `host=ip`, the address
// optionally in brackets (IPv6). Docker's rule (ValidateExtraHost in docker/cli opts/hosts.go): split on the first
// `=`, else on the first `:`; the host is non-empty and holds no `:`; the address is an IP address. Docker's
// `host-gateway` names the host as seen from the container: Slipway's RUN network has no way to the host (slirp4netns
// runs with the host's loopback disabled), so it is refused with that reason. Pure.

import { isIP } from 'node:net';

export interface ExtraHost {
  host: string;
  ip: string;
}

/** The host and address of an `addHost` entry, or a message saying what is wrong with it. */
export function parseAddHost(value: string): ExtraHost | { error: string } {
  let at = value.indexOf('=');
  if (at < 0) at = value.indexOf(':');
  const host = at < 0 ? '' : value.slice(0, at);
  let ip = at < 0 ? '' : value.slice(at + 1);
  if (at < 0 || host === '' || host.includes(':')) return { error: `bad format for add-host: ${JSON.stringify(value)}: write HOST:IP (or HOST=IP)` };
  if (ip === 'host-gateway') {
    return { error: `add-host ${JSON.stringify(value)}: host-gateway is not supported: a RUN in Slipway has no network path to the host` };
  }
  if (ip.length > 2 && ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (isIP(ip) === 0) return { error: `invalid IP address in add-host: ${JSON.stringify(ip)}` };
  return { host, ip };
}

/** `/etc/hosts` lines for the entries, BuildKit's format (`IP<TAB>HOST`), in order. */
export function extraHostLines(hosts: readonly ExtraHost[]): string {
  return hosts.map((h) => `${h.ip}\t${h.host}\n`).join('');
}
