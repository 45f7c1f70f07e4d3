#!/usr/bin/env bash
# Installs what is missing, builds, and runs the collector on every interface with NDJSON on
# stdout. Arguments replace the default "--sink stdout": scripts/run.sh -o stdout:text -p 8080
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh >&2
[ $# -gt 0 ] || set -- --sink stdout
exec build/l7collect "$@"
