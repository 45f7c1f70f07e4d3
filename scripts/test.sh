#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through ctest: unit tests,
# fuzz targets (a short run each), kernel tests and integration tests against real servers.
# Tests that need root are skipped (not failed) without it. Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
exec ctest --test-dir build --output-on-failure "$@"
