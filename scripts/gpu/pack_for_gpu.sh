#!/usr/bin/env bash
# Packs a build for the lent GPU machine into one small folder that a device call can carry
# (at most 64 MiB): stripped copies of the build's bin/ and lib/ (the install layout, so
# bin/kiln still finds lib/ and lib/kiln/plugins/), and the system libraries they need.
#
#   scripts/gpu/pack_for_gpu.sh BUILD_DIR [CARRY_DIR]     (CARRY_DIR default: .gpu-carry)
#
# Then, on the GPU machine from the repository root:
#   scripts/gpu/run_on_gpu.sh CARRY_DIR/build CARRY_DIR/runtime-libs
# or everything at once: scripts/gpu/gpu_session.sh CARRY_DIR.
#
# The folder is then packed into CARRY_DIR/carry.tar.xz (about a quarter of the size: oneDNN
# alone is ~38 MB unpacked, and the 64 MiB a call carries includes the working tree);
# gpu_session.sh unpacks it. KILN_GPU_PACK_XZ=0 keeps the plain folder instead.
#
# The lent machines are NVIDIA, so the ROCm plugin stays behind (its HIP runtime alone is ~17 MB)
# and any build folder will do; a Release one without ROCm is the leanest:
#   cmake -S . -B build-gpu-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DKILN_BUILD_ROCM=OFF
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 BUILD_DIR [CARRY_DIR]" >&2
  exit 2
fi
BUILD_DIR="$(realpath "$1")"
CARRY_DIR="${2:-.gpu-carry}"
LIMIT_MIB=64
here="$(cd "$(dirname "$0")" && pwd)"

rm -rf "$CARRY_DIR"
mkdir -p "$CARRY_DIR/build"
for part in bin lib; do
  if [ -d "$BUILD_DIR/$part" ]; then
    cp -a "$BUILD_DIR/$part" "$CARRY_DIR/build/"
  fi
done
# Strip what came along (symbols of shared objects stay: --strip-unneeded keeps dynamic ones).
while IFS= read -r -d '' file; do
  magic=""
  IFS= read -r -n 4 magic <"$file" 2>/dev/null || true
  if [ "$magic" = $'\x7fELF' ]; then
    strip --strip-unneeded "$file" 2>/dev/null || true
  fi
done < <(find "$CARRY_DIR/build" -type f -print0)
# Static archives are build inputs, not run time; the ROCm plugin cannot run on NVIDIA machines.
find "$CARRY_DIR/build" -name '*.a' -delete
rm -f "$CARRY_DIR/build/lib/kiln/plugins/libkiln_rocm.so"

"$here/collect_runtime_libs.sh" "$CARRY_DIR/build" "$CARRY_DIR/runtime-libs"

if [ "${KILN_GPU_PACK_XZ:-1}" != 0 ]; then
  tar -C "$CARRY_DIR" -cf - build runtime-libs | xz -T0 -6 >"$CARRY_DIR/carry.tar.xz"
  rm -rf "$CARRY_DIR/build" "$CARRY_DIR/runtime-libs"
  echo "packed $BUILD_DIR into $CARRY_DIR/carry.tar.xz: $(du -sh "$CARRY_DIR/carry.tar.xz" | cut -f1)"
  exit 0
fi
size_kib=$(du -sk "$CARRY_DIR" | cut -f1)
echo "packed $BUILD_DIR into $CARRY_DIR: $((size_kib / 1024)) MiB" \
  "(build $(du -sh "$CARRY_DIR/build" | cut -f1), runtime libs" \
  "$(du -sh "$CARRY_DIR/runtime-libs" | cut -f1))"
if [ "$size_kib" -gt $((LIMIT_MIB * 1024)) ]; then
  echo "error: over the ${LIMIT_MIB} MiB a device call carries; the largest files:" >&2
  find "$CARRY_DIR" -type f -printf '%s %p\n' | sort -rn | head -8 |
    awk '{ printf "  %6.1f MiB  %s\n", $1 / 1048576, $2 }' >&2
  exit 1
fi
