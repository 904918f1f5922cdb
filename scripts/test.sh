#!/usr/bin/env bash
# Builds and runs every test. With CI=true: warnings are errors, and the whole suite runs a
# second time under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
werror=OFF
[ "${CI:-}" = true ] && werror=ON
# Both builds start from scratch in CI (2 cores, no ccache), so they are unity builds (each batch
# of a target's sources is one compiler run: the JSON, GoogleTest and Asio headers are parsed
# once per batch, not once per file) with line-table debug info only (-g1: backtraces and
# sanitizer reports keep their file:line, the compiler skips variable locations). These apply
# when a build dir is first configured; an existing one keeps its settings.
bash scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCORRAL_WERROR=$werror \
  -DCMAKE_UNITY_BUILD=ON "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
(cd build && ctest --output-on-failure -j2)
if [ "${CI:-}" = true ] || [ "${CORRAL_SANITIZE:-}" = 1 ]; then
  bash scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DCORRAL_SANITIZE=ON \
    -DCORRAL_WERROR=$werror -DCORRAL_BUILD_BENCH=OFF -DCMAKE_UNITY_BUILD=ON -DCMAKE_CXX_FLAGS_DEBUG=-g1
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j2)
fi
