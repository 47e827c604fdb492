#!/usr/bin/env bash
# Copies the system shared libraries that a build's programs and plugins load (per ldd) into one
# folder, so the build runs on the GPU machine (Ubuntu 24.04, CUDA 13 at /usr/local/cuda, none of
# our -dev packages) with LD_LIBRARY_PATH pointing there.
#
#   scripts/gpu/collect_runtime_libs.sh BUILD_DIR OUT_DIR
#
# Left out, because the GPU machine has its own and ours would clash: glibc's libraries (libc,
# libm, libpthread, libdl, librt, ...), the loader, libstdc++ and libgcc_s (Ubuntu 24.04's are
# newer, and a newer libstdc++ serves programs built against an older one), and every CUDA
# driver/toolkit library (libcuda, libcudart, libcublas*, libnvrtc, ...). Libraries that live in
# BUILD_DIR travel with the build itself. Copies are stripped (--strip-unneeded).
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR OUT_DIR" >&2
  exit 2
fi
BUILD_DIR="$(realpath "$1")"
OUT_DIR="$2"
[ -d "$BUILD_DIR" ] || { echo "error: $BUILD_DIR is not a folder" >&2; exit 2; }
mkdir -p "$OUT_DIR"

# Sonames the target machine provides itself.
EXCLUDE_RE='^(linux-vdso|linux-gate|ld-linux[^/]*|libc|libm|libmvec|libpthread|libdl|librt|libutil|libresolv|libanl|libnsl|libBrokenLocale|libthread_db|libnss_[a-z]+|libstdc\+\+|libgcc_s|libcuda|libcudart|libcublas|libcublasLt|libnvrtc[^.]*|libnvJitLink|libnvidia-[^.]+|libcufft[a-z]*|libcurand|libcusparse|libcusolver[A-Za-z]*|libcudnn[a-z_]*|libnccl|libnvToolsExt|libcupti|libnvperf_[a-z]+)\.so'

is_elf() {
  local magic
  IFS= read -r -n 4 magic <"$1" 2>/dev/null || true
  [ "$magic" = $'\x7fELF' ]
}

# Programs and shared objects of the build (not object files, not CMake's scratch).
mapfile -t BINARIES < <(find "$BUILD_DIR" -path '*/CMakeFiles' -prune -o -type f \
  \( -name '*.so' -o -name '*.so.*' -o -perm -u+x \) -print | sort)

declare -A WANTED=()   # soname -> resolved path
declare -A MISSING=()  # soname -> first binary that needs it
scanned=0
for binary in "${BINARIES[@]}"; do
  is_elf "$binary" || continue
  output="$(ldd "$binary" 2>/dev/null)" || continue  # static or not a dynamic object
  scanned=$((scanned + 1))
  while read -r name arrow path _; do
    [ "$arrow" = "=>" ] || continue
    if [ "$path" = "not" ]; then
      [[ "$name" =~ $EXCLUDE_RE ]] || MISSING["$name"]="${MISSING[$name]:-$binary}"
      continue
    fi
    [[ "$name" =~ $EXCLUDE_RE ]] && continue
    case "$(realpath "$path")" in "$BUILD_DIR"/*) continue ;; esac
    WANTED["$name"]="$path"
  done <<<"$output"
done

for name in $(printf '%s\n' "${!WANTED[@]}" | sort); do
  cp -L "${WANTED[$name]}" "$OUT_DIR/$name"
  chmod u+w "$OUT_DIR/$name"
  strip --strip-unneeded "$OUT_DIR/$name" 2>/dev/null || true
  printf '  %-36s %6s KiB  from %s\n' "$name" "$(( $(stat -c %s "$OUT_DIR/$name") / 1024 ))" \
    "${WANTED[$name]}"
done

echo "collected ${#WANTED[@]} libraries for $scanned binaries of $BUILD_DIR into $OUT_DIR" \
  "($(du -sh "$OUT_DIR" | cut -f1))"
if [ ${#MISSING[@]} -gt 0 ]; then
  for name in "${!MISSING[@]}"; do
    echo "warning: $name is not found here (needed by ${MISSING[$name]})" >&2
  done
fi
