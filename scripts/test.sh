#!/usr/bin/env bash
# Builds and runs every test. With CI=true: warnings are errors, and the whole suite runs a
# second time under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
werror=OFF
[ "${CI:-}" = true ] && werror=ON
bash scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCORRAL_WERROR=$werror
(cd build && ctest --output-on-failure -j2)
if [ "${CI:-}" = true ] || [ "${CORRAL_SANITIZE:-}" = 1 ]; then
  bash scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DCORRAL_SANITIZE=ON \
    -DCORRAL_WERROR=$werror -DCORRAL_BUILD_BENCH=OFF
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j2)
fi
