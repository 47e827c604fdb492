#!/usr/bin/env bash
# Configures and builds kiln into a build folder (default: build). Extra arguments go to cmake.
#   scripts/build.sh [BUILD_DIR] [-DOPTION=VALUE ...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build}"
shift || true
JOBS="${KILN_JOBS:-$(nproc)}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKILN_PYTHON="$PWD/.venv/bin/python" "$@"
cmake --build "$BUILD_DIR" -j "$JOBS"
