#!/usr/bin/env bash
# Runs a carried kiln build on the GPU machine (from the repository root) and prints a short table
# last: the GPUs (nvidia-smi), `kiln plugins`, the plugin probe (device API and the add kernel
# through the plugin ABI, no libkiln needed), every GoogleTest binary of the build (run directly:
# the GPU machine may have no ctest), the add kernel against the CPU plugin through kiln.h, every
# GPU kernel against the CPU plugin (kiln_gpu_ops_check, own GEMM vs cuBLASLt included) and the
# GPU benchmarks (matmul TFLOP/s, a 256 MB add against a 256 MB device copy), whose table is last.
#
#   scripts/gpu/run_on_gpu.sh BUILD_DIR [LIB_DIR]
#
# BUILD_DIR has the install layout (bin/, lib/, lib/kiln/plugins/); LIB_DIR holds the system
# libraries collected by collect_runtime_libs.sh (pack_for_gpu.sh makes both).
# Logs go to $OUT/kiln-gpu-logs when $OUT is set (the device machine's return folder), else /tmp.
# Environment: KILN_GPU_SUITE_TIMEOUT (seconds per test binary, default 120),
# KILN_GPU_TIME_BUDGET (seconds for all test binaries together, default 360), GTEST_FILTER.
set -uo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 BUILD_DIR [LIB_DIR]" >&2
  exit 2
fi
BUILD_DIR="$(realpath "$1")"
LIB_DIR="${2:+$(realpath "$2")}"
SUITE_TIMEOUT="${KILN_GPU_SUITE_TIMEOUT:-120}"
TIME_BUDGET="${KILN_GPU_TIME_BUDGET:-360}"
LOG_DIR="${OUT:-${TMPDIR:-/tmp}}/kiln-gpu-logs"
mkdir -p "$LOG_DIR"

export LD_LIBRARY_PATH="${LIB_DIR:+$LIB_DIR:}$BUILD_DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export KILN_TEST_BUILD_DIR="$BUILD_DIR"

ROWS=()
FAILED=0
row() {  # check, result, detail
  ROWS+=("$1"$'\t'"$2"$'\t'"$3")
  case "$2" in FAIL | TIMEOUT) FAILED=1 ;; esac
}
section() { printf '\n== %s\n' "$*"; }
is_elf() {
  local magic=""
  IFS= read -r -n 4 magic <"$1" 2>/dev/null || true
  [ "$magic" = $'\x7fELF' ]
}

# ---- The machine ---------------------------------------------------------------------------
section "machine"
# shellcheck source=/dev/null
echo "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), $(uname -r), $(nproc) cores"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
NVIDIA_GPUS=0
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,driver_version,memory.total,compute_cap --format=csv
  NVIDIA_GPUS=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ')
  row "nvidia-smi" "ok" "$NVIDIA_GPUS GPU(s): $(nvidia-smi --query-gpu=name,driver_version \
    --format=csv,noheader 2>/dev/null | head -1)"
else
  row "nvidia-smi" "n/a" "not installed"
fi
AMD_GPUS=0
[ -e /dev/kfd ] && AMD_GPUS=1
[ -x /usr/local/cuda/bin/nvcc ] && /usr/local/cuda/bin/nvcc --version | tail -1

# ---- kiln plugins --------------------------------------------------------------------------
section "kiln plugins"
if [ -x "$BUILD_DIR/bin/kiln" ]; then
  timeout 120 "$BUILD_DIR/bin/kiln" plugins 2>&1 | tee "$LOG_DIR/kiln_plugins.log"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 0 ]; then row "kiln plugins" "ok" "see above"; else row "kiln plugins" "FAIL" "exit $rc"; fi
else
  row "kiln plugins" "not run" "no $BUILD_DIR/bin/kiln"
fi

# ---- Plugin probe (plugin ABI only) ----------------------------------------------------------
section "plugin probe"
for plugin in "$BUILD_DIR"/lib/kiln/plugins/libkiln_cuda.so "$BUILD_DIR"/lib/kiln/plugins/libkiln_rocm.so; do
  [ -f "$plugin" ] || continue
  name="$(basename "$plugin" .so)"
  expect=()
  case "$name" in
    libkiln_cuda) [ "$NVIDIA_GPUS" -gt 0 ] && expect=(--expect-devices) ;;
    libkiln_rocm) [ "$AMD_GPUS" -gt 0 ] && expect=(--expect-devices) ;;
  esac
  if [ ! -x "$BUILD_DIR/bin/kiln_gpu_probe" ]; then
    row "probe $name" "not run" "no bin/kiln_gpu_probe"
    continue
  fi
  timeout 300 "$BUILD_DIR/bin/kiln_gpu_probe" "${expect[@]}" "$plugin" 2>&1 | tee "$LOG_DIR/probe_$name.log"
  rc=${PIPESTATUS[0]}
  devices="$(grep -m1 '^  device API' "$LOG_DIR/probe_$name.log" | sed 's/^ *//')"
  checks="$(grep -c '^  ok ' "$LOG_DIR/probe_$name.log") ok, $(grep -c '^  FAIL ' "$LOG_DIR/probe_$name.log") failed"
  case "$rc" in
    0) row "probe $name" "PASS" "$checks; $devices" ;;
    124) row "probe $name" "TIMEOUT" "after 300 s" ;;
    *) row "probe $name" "FAIL" "exit $rc, $checks; $devices" ;;
  esac
done

# ---- GoogleTest binaries -----------------------------------------------------------------------
section "test suites (GoogleTest binaries in $BUILD_DIR/bin, run directly)"
start=$SECONDS
for exe in "$BUILD_DIR"/bin/*; do
  if ! { [ -f "$exe" ] && [ -x "$exe" ] && is_elf "$exe"; }; then continue; fi
  # A GoogleTest binary: gtest linked statically (its help text) or dynamically.
  if ! grep -qa 'gtest_list_tests' "$exe" && ! ldd "$exe" 2>/dev/null | grep -q libgtest; then
    continue
  fi
  name="$(basename "$exe")"
  if [ $((SECONDS - start)) -ge "$TIME_BUDGET" ]; then
    row "$name" "not run" "time budget of ${TIME_BUDGET} s spent"
    continue
  fi
  log="$LOG_DIR/$name.log"
  t0=$SECONDS
  timeout "$SUITE_TIMEOUT" "$exe" --gtest_color=no >"$log" 2>&1
  rc=$?
  passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  failed=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  skipped=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  detail="${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped, $((SECONDS - t0)) s"
  echo "$name: exit $rc; $detail"
  if [ "$rc" -eq 124 ]; then
    row "$name" "TIMEOUT" "after $SUITE_TIMEOUT s; $detail"
    tail -5 "$log"
  elif [ "$rc" -eq 0 ]; then
    row "$name" "PASS" "$detail"
  else
    row "$name" "FAIL" "exit $rc; $detail"
    grep -E '^\[  FAILED  \] [A-Za-z_][^ ]*$' "$log" | sort -u | head -10
    [ -n "${failed:-}" ] || tail -15 "$log"  # crashed before gtest's summary
  fi
done

# ---- add on the GPU against the CPU plugin, through kiln.h ----------------------------------
section "add f32: gpu:0 against cpu (kiln.h)"
if [ -x "$BUILD_DIR/bin/kiln_gpu_add_check" ]; then
  timeout 300 "$BUILD_DIR/bin/kiln_gpu_add_check" 2>&1 | tee "$LOG_DIR/add_check.log"
  rc=${PIPESTATUS[0]}
  last="$(tail -1 "$LOG_DIR/add_check.log")"
  case "$rc" in
    0) row "add gpu vs cpu" "PASS" "$last" ;;
    77) row "add gpu vs cpu" "SKIP" "$last" ;;
    124) row "add gpu vs cpu" "TIMEOUT" "after 300 s" ;;
    *) row "add gpu vs cpu" "FAIL" "exit $rc: $last" ;;
  esac
else
  row "add gpu vs cpu" "not run" "no bin/kiln_gpu_add_check (built when libkiln and a GPU plugin are)"
fi

# ---- Every GPU kernel against the CPU plugin, own GEMM vs cuBLASLt, then the benchmarks ----------
section "GPU kernels against cpu, own GEMM vs cuBLASLt, benchmarks (kiln.h)"
if [ -x "$BUILD_DIR/bin/kiln_gpu_ops_check" ]; then
  timeout 420 "$BUILD_DIR/bin/kiln_gpu_ops_check" --bench 2>&1 | tee "$LOG_DIR/ops_check.log"
  rc=${PIPESTATUS[0]}
  last="$(grep -E '^(PASS|FAIL|SKIP)' "$LOG_DIR/ops_check.log" | tail -1)"
  case "$rc" in
    0) row "gpu ops vs cpu" "PASS" "$last" ;;
    77) row "gpu ops vs cpu" "SKIP" "$last" ;;
    124) row "gpu ops vs cpu" "TIMEOUT" "after 420 s" ;;
    *) row "gpu ops vs cpu" "FAIL" "exit $rc: $last" ;;
  esac
else
  row "gpu ops vs cpu" "not run" "no bin/kiln_gpu_ops_check"
fi

# ---- Summary ---------------------------------------------------------------------------------
section "summary (logs in $LOG_DIR)"
printf '%s\n' "${ROWS[@]}" | awk -F'\t' '
  { check[NR] = $1; result[NR] = $2; detail[NR] = $3; if (length($1) > w) w = length($1) }
  END {
    printf "%-" w "s  %-7s  %s\n", "check", "result", "detail"
    for (i = 1; i <= NR; i++) printf "%-" w "s  %-7s  %s\n", check[i], result[i], detail[i]
  }'
if [ -f "$LOG_DIR/ops_check.log" ] && grep -q '^BENCH ' "$LOG_DIR/ops_check.log"; then
  section "benchmarks ($(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1))"
  sed -n 's/^BENCH //p' "$LOG_DIR/ops_check.log"
fi
exit "$FAILED"
