#!/usr/bin/env bash
# Installs the Debian packages the integration tests need, but only the ones whose
# binary is missing, so a prepared machine pays nothing. Needs root (or sudo).
set -euo pipefail

# binary -> Debian package that provides it
declare -A PROVIDER=(
  [docker-registry]=docker-registry
  [skopeo]=skopeo
  [htpasswd]=apache2-utils
  [openssl]=openssl
  [umoci]=umoci
  [busybox]=busybox-static
  [git]=git
  # the reference builder of test/integration/run-differential.test.ts and bench/build-run.ts. Nothing
  # else is needed: `bud --isolation chroot` runs no OCI runtime (it builds with --runtime set to a
  # missing file), root's overlay storage uses the kernel's overlayfs (not fuse-overlayfs), and the
  # package's Depends bring uidmap and containers-common.
  [buildah]=buildah
  # RUN's containers: the OCI runtime (runc runs on hybrid cgroup hosts, where crun refuses) and the
  # user-mode network of the default --network.
  [runc]=runc
  [slirp4netns]=slirp4netns
  # the HTTP proxy of test/integration/registry-network.test.ts
  [tinyproxy]=tinyproxy-bin
  # the static chroot-escape probe of test/integration/run-escape.test.ts (libc6-dev: see below)
  [gcc]=gcc
  # extended attributes (file capabilities) of RUN diffs and unpacked layers, and the tests that check them
  [getfattr]=attr
  [setfattr]=attr
  # stapel shell stages: the static bash Slipway bind-mounts read-only at /.werf/stapel/embedded/bin/bash
  [bash-static]=bash-static
  # the Debian bookworm base of the real-world corpus (test/support/debian-base.ts, test/corpus/)
  [debootstrap]=debootstrap
)

# The escape probes run Slipway rootless as this unprivileged user (the tests run as root).
PROBE_USER=slipway-probe
ensure_probe_user() {
  if ! id -u "$PROBE_USER" >/dev/null 2>&1; then
    echo "install-deps: creating the user $PROBE_USER (rootless escape probes)"
    "${SUDO[@]}" useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PROBE_USER"
  fi
  # Rootless RUN's default network: slirp4netns, started by that user, opens /dev/net/tun. Debian's udev
  # makes it 0666; machines without udev (minimal VMs) leave the kernel's 0600.
  if tun_closed; then
    echo "install-deps: chmod 0666 /dev/net/tun (as Debian's udev sets it)"
    "${SUDO[@]}" chmod 0666 /dev/net/tun
  fi
}

missing=()
for bin in "${!PROVIDER[@]}"; do
  if ! command -v "$bin" >/dev/null 2>&1; then
    missing+=("${PROVIDER[$bin]}")
  fi
done

# gcc -static links against libc.a, which only libc6-dev has.
if ! printf 'int main(void){return 0;}\n' | gcc -static -x c -o /dev/null - >/dev/null 2>&1; then
  missing+=(libc6-dev)
fi

tun_closed() { [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; }
needs_root=0
if [ "${#missing[@]}" -ne 0 ] || ! id -u "$PROBE_USER" >/dev/null 2>&1 || tun_closed; then needs_root=1; fi

SUDO=()
if [ "$(id -u)" -ne 0 ] && [ "$needs_root" -eq 1 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: not root and no sudo: install ${missing[*]:-nothing more} with apt-get, create the user $PROBE_USER, chmod 0666 /dev/net/tun" >&2
    exit 1
  fi
fi

if [ "${#missing[@]}" -eq 0 ]; then
  ensure_probe_user
  echo "install-deps: all test tools present"
  exit 0
fi

# The docker-registry package ships an init script; on a machine without a
# policy-rc.d it would start a registry on 0.0.0.0:5000. Forbid service starts
# for the duration of the install, and only remove the guard if we created it.
POLICY=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  created_policy=1
fi
cleanup() { if [ "$created_policy" -eq 1 ]; then "${SUDO[@]}" rm -f "$POLICY"; fi; }
trap cleanup EXIT

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y "${missing[@]}"

for bin in "${!PROVIDER[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || { echo "install-deps: $bin still missing after install" >&2; exit 1; }
done
ensure_probe_user
