#!/usr/bin/env bash
# Install everything gqla-eval needs to build and test, with apt-get.
# Idempotent: packages already present are not fetched again, and when all
# are present nothing touches the network.  Run as root (or with sudo).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcjson-dev libpcre2-dev libutf8proc-dev zlib1g-dev libcurl4-openssl-dev libssl-dev
  libopenblas-openmp-dev liblapacke-dev
  python3 python3-pip unzip ca-certificates
  chromium    # headless, for tests/test_report_html.c (report.html rendered)
  clang libclang-rt-dev libomp-dev   # scripts/fuzz.sh: libFuzzer, ASan/UBSan runtimes, OpenMP for clang
  libopenmpi-dev openmpi-bin         # data-parallel and tensor-parallel runs (mpirun), tests/mpi.cmake
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-deps: need root to install: ${missing[*]}" >&2; exit 2
  fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
