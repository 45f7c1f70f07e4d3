#!/usr/bin/env bash
# Configures and builds everything into build/: the BPF objects, the collector, the tests.
# clang builds the user side too, so the fuzz targets (libFuzzer) are part of the same build.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build build -j"$(nproc)"
