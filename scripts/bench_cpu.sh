#!/usr/bin/env bash
# Runs kiln's CPU benchmarks and prints a table of medians (docs/performance.md: method).
#   scripts/bench_cpu.sh [BUILD_DIR] [REPETITIONS]
# Needs the build's kiln_bench_cpu (KILN_BUILD_BENCHMARKS=ON, the default) and the CPU plugin;
# the model benchmarks also need .venv (numpy; onnxruntime for the comparison); KILN_PYTHON=.venv-bench/bin/python
# adds PyTorch (docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="$(realpath "${1:-build}")"
REPS="${2:-5}"
BENCH="$BUILD_DIR/bin/kiln_bench_cpu"
[[ -x "$BENCH" ]] || { echo "bench_cpu.sh: $BENCH is not built (ninja -C $BUILD_DIR kiln_bench_cpu)" >&2; exit 1; }
PY="${KILN_PYTHON:-.venv/bin/python}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
KILN_PLUGIN_PATH="$BUILD_DIR/lib/kiln/plugins/libkiln_cpu.so" "$BENCH" \
  --benchmark_repetitions="$REPS" --benchmark_report_aggregates_only=true \
  --benchmark_format=json --benchmark_out="$OUT/micro.json" --benchmark_out_format=json >/dev/null

"$PY" - "$OUT/micro.json" <<'PYEOF'
import json, re, sys
rows = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    rows[b["run_name"]] = b
def get(name):
    return rows.get(name)
print("\nmatmul float32 (median ms; GFLOP/s)")
print(f"{'n':>6} {'threads':>7} {'kiln ms':>9} {'kiln GF/s':>10} {'sgemm ms':>9} {'sgemm GF/s':>10} {'kiln/sgemm':>10}")
for n in (256, 512, 1024, 2048):
    for t in (1, 2):
        k = get(f"BM_KilnMatmul/n:{n}/threads:{t}/real_time")
        d = get(f"BM_DnnlSgemm/n:{n}/threads:{t}/real_time")
        if not k or not d:
            continue
        print(f"{n:>6} {t:>7} {k['real_time']:>9.3f} {k['GFLOP/s']/1e9:>10.1f} "
              f"{d['real_time']:>9.3f} {d['GFLOP/s']/1e9:>10.1f} {k['real_time']/d['real_time']:>10.2f}")
m = get("BM_Memcpy16MiB/real_time")
copy_bw = m["bytes_per_second"] / 1e9 if m else float("nan")
print(f"\nbandwidth-bound ops on 16 MiB float32 [2048, 2048] (memcpy: {copy_bw:.1f} GB/s read+write)")
print(f"{'op':>12} {'threads':>7} {'ms':>8} {'GB/s':>7} {'of memcpy':>9}")
for op in ("Add", "Softmax", "LayerNorm"):
    for t in (1, 2):
        b = get(f"BM_Kiln{op}16MiB/threads:{t}/real_time")
        if b:
            bw = b["bytes_per_second"] / 1e9
            print(f"{op.lower():>12} {t:>7} {b['real_time']:>8.3f} {bw:>7.1f} {bw/copy_bw:>9.2f}")
d = get("BM_KilnDispatch1000Ops/real_time")
if d:
    print(f"\ndispatch: 1,000 ops on float32[16]: {d['real_time']:.1f} us per execution, "
          f"{d['real_time']*1e3/1000:.0f} ns per op")
PYEOF

if [[ -x "$PY" ]]; then
  echo
  echo "models (median ms over 20 runs, 2 threads; ONNX Runtime and PyTorch, where importable, in the same process)"
  KILN_BUILD_DIR="$BUILD_DIR" PYTHONPATH="$PWD/bindings/python" "$PY" benchmarks/bench_models.py \
    --threads 2 --runs 20
fi
