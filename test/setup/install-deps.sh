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
)

missing=()
for bin in "${!PROVIDER[@]}"; do
  if ! command -v "$bin" >/dev/null 2>&1; then
    missing+=("${PROVIDER[$bin]}")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all test tools present"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: missing packages ${missing[*]} and not root (no sudo); install them with apt-get" >&2
    exit 1
  fi
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
