#!/usr/bin/env bash
# Configures and builds kiln into a build folder (default: build). Extra arguments go to cmake.
#   scripts/build.sh [BUILD_DIR] [-DOPTION=VALUE ...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build}"
shift || true
JOBS="${KILN_JOBS:-$(nproc)}"
# Build folders share ccache entries (sources are named by absolute path; only the debug
# info's compilation folder differs, which the cache may reuse).
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKILN_PYTHON="$PWD/.venv/bin/python" "$@"
cmake --build "$BUILD_DIR" -j "$JOBS"
