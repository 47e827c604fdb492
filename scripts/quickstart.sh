#!/usr/bin/env bash
# Quick start, command 1: installs what is missing, builds kiln, lists its plugins and runs the
# bundled MLP example on the best available device, printing the result.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
echo
echo "== kiln plugins =="
build/bin/kiln plugins
echo
echo "== kiln run build/examples/mlp.kiln --random-inputs --dim batch=2 =="
build/bin/kiln run build/examples/mlp.kiln --random-inputs --dim batch=2 --output-dir build/outputs
