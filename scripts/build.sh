#!/usr/bin/env bash
# build.sh DIR [cmake options...]: configure once, then build incrementally with -j2.
set -euo pipefail
dir=$1; shift
cd "$(dirname "$0")/.."
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "$@"
fi
cmake --build "$dir" -j2
