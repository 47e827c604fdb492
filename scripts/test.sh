#!/usr/bin/env bash
# Quick start, command 2: the same set-up, then every test: the normal build's whole suite
# (C++ unit/ABI/conformance/CLI tests, the C program, the Python package against numpy), then
# the C++ suites again in an ASan+UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== build (build) =="
scripts/build.sh build
echo "== tests (build) =="
ctest --test-dir build --output-on-failure -j "$(nproc)"

if [ "${KILN_SKIP_SANITIZE:-0}" != "1" ]; then
  echo "== build (build-asan: ASan+UBSan) =="
  scripts/build.sh build-asan -DKILN_SANITIZE=ON -DKILN_BUILD_CUDA=OFF -DKILN_BUILD_ROCM=OFF
  echo "== tests (build-asan) =="
  # The Python suite and the install test (a user's Python, C and CMake programs against the
  # installed kiln) load libkiln into uninstrumented programs, which ASan cannot watch without
  # preloading its runtime; they run in the normal build above.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:intercept_tls_get_addr=0 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$(nproc)" -E '^(python_|install_)'
fi
echo "== all tests passed =="
