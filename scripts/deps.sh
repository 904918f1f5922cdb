#!/usr/bin/env bash
# Installs the Debian 12 packages corral needs, only if one is missing (fast when all are there).
set -euo pipefail
packages=(g++ cmake ninja-build pkg-config git
          liburing-dev libasio-dev nlohmann-json3-dev libfmt-dev
          libgtest-dev libgmock-dev libbenchmark-dev
          libseccomp-dev libcap-dev busybox-static
          # corral-bench's peers: the runtimes it compares with, and Podman's per-container monitor;
          # tests/engines: real engines driving corral
          runc crun conmon podman containerd)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
