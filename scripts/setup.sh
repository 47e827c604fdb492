#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test kiln: Debian packages and a
# Python virtual environment (.venv) with the test oracles from PyPI. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

# ocl-icd-opencl-dev: Debian's dnnl-config.cmake requires OpenCL even for the CPU engine.
DEBIAN_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libdnnl-dev libboost-dev libboost-filesystem-dev libyaml-cpp-dev libspdlog-dev
  libprotobuf-dev protobuf-compiler libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev ocl-icd-opencl-dev
  hipcc libamdhip64-dev rocm-device-libs
  clang libclang-rt-14-dev
  python3-venv
)
PYTHON_PACKAGES=(numpy pytest ml_dtypes onnxruntime gguf)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[setup] installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "[setup] Debian packages: all present"
fi

# The Python on PATH (pyenv's 3.11 here); Debian's python3-* packages would not reach it.
PYTHON="${KILN_SETUP_PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c "import numpy, pytest, ml_dtypes, onnxruntime, gguf" 2>/dev/null; then
  echo "[setup] installing Python packages: ${PYTHON_PACKAGES[*]}"
  .venv/bin/pip install -q "${PYTHON_PACKAGES[@]}"
fi
echo "[setup] done"
