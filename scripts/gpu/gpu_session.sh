#!/usr/bin/env bash
# Everything kiln runs on the lent GPU machine, in one call, from the repository root there:
#
#   scripts/gpu/gpu_session.sh CARRY_DIR [STAGE...]
#
# CARRY_DIR is what scripts/gpu/pack_for_gpu.sh made (CARRY_DIR/build, CARRY_DIR/runtime-libs).
# Stages (default: all, in this order):
#   tests    scripts/gpu/run_on_gpu.sh: the plugin probe, the GoogleTest binaries, every GPU kernel
#            against the CPU plugin (kiln_gpu_ops_check --bench)
#   python   the Python op suite with KILN_TEST_DEVICE=gpu:0 (numpy as the oracle; nodes without a
#            GPU kernel fall back to the CPU, and the placement summary says which)
#   bench    benchmarks/bench_gpu.py (matmul, 256 MB bandwidth ops, dispatch; against PyTorch)
#   models   benchmarks/bench_models.py on the GPU (against PyTorch CUDA) and on the CPU (against
#            ONNX Runtime when importable and PyTorch, 2 and 16 threads)
# The machine's python3 (with PyTorch and numpy) runs the Python parts; pytest is installed from
# wheels in .whl when it is missing there (see docs/backends.md). Logs and JSON go to $OUT.
set -uo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 CARRY_DIR [tests|python|bench|models ...]" >&2
  exit 2
fi
CARRY="$(realpath "$1")"
shift
if [ -f "$CARRY/carry.tar.xz" ]; then  # pack_for_gpu.sh's compressed form
  mkdir -p /tmp/kiln-carry && tar -C /tmp/kiln-carry -xJf "$CARRY/carry.tar.xz" || exit 1
  CARRY=/tmp/kiln-carry
fi
STAGES=("$@")
[ ${#STAGES[@]} -gt 0 ] || STAGES=(tests python bench models)
BUILD="$CARRY/build"
LIBS="$CARRY/runtime-libs"
LOGS="${OUT:-/tmp}"
PY="${KILN_GPU_PYTHON:-python3}"
export LD_LIBRARY_PATH="$LIBS:$BUILD/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export KILN_BUILD_DIR="$BUILD" PYTHONPATH="$PWD/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
SUMMARY=()
note() { SUMMARY+=("$1"); }

if ! "$PY" -c "import pytest" 2>/dev/null && ls .whl/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site \
    .whl/*.whl && export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi

for stage in "${STAGES[@]}"; do
  echo
  echo "######## $stage"
  t0=$SECONDS
  case "$stage" in
    tests)
      KILN_GPU_TIME_BUDGET="${KILN_GPU_TIME_BUDGET:-120}" scripts/gpu/run_on_gpu.sh "$BUILD" "$LIBS"
      note "tests: exit $? ($((SECONDS - t0)) s)"
      ;;
    python)
      KILN_TEST_DEVICE=gpu:0 KILN_TEST_PLACEMENT_REPORT="$LOGS/placement.json" \
        timeout "${KILN_GPU_PYTEST_TIMEOUT:-420}" "$PY" -m pytest -q -p no:cacheprovider \
        -o addopts="" tests/python/test_ops_conformance.py tests/python/test_ops_elementwise.py \
        tests/python/test_ops_reduction.py tests/python/test_ops_nn.py \
        tests/python/test_ops_shape.py tests/python/test_ops_indexing.py \
        tests/python/test_ops_quant.py tests/python/test_ops_signal.py 2>&1 |
        tee "$LOGS/pytest_gpu.log" | grep -v '^\.*\s*\[' | tail -150
      note "python on gpu:0: $(grep -E '(passed|failed)' "$LOGS/pytest_gpu.log" | tail -1) ($((SECONDS - t0)) s)"
      ;;
    bench)
      timeout 300 "$PY" benchmarks/bench_gpu.py 2>&1 | tee "$LOGS/bench_gpu.json"
      note "bench_gpu: exit ${PIPESTATUS[0]} ($((SECONDS - t0)) s)"
      ;;
    models)
      timeout 200 "$PY" benchmarks/bench_models.py --device gpu 2>&1 | tee "$LOGS/models_gpu.json"
      for threads in 2 16; do
        timeout 200 "$PY" benchmarks/bench_models.py --threads "$threads" 2>&1 |
          tee "$LOGS/models_cpu_$threads.json"
      done
      note "models: ($((SECONDS - t0)) s)"
      ;;
    *)
      echo "unknown stage $stage" >&2
      ;;
  esac
done
echo
echo "######## summary"
printf '%s\n' "${SUMMARY[@]}"
