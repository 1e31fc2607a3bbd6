#!/usr/bin/env bash
# Scoring throughput of the GQLA decoding paths (gqa, absorb) on a random
# GQLA model of SmolLM2-135M's shape, decoding the continuation with --sq 1
# and 2 after a prefill, at two context lengths.  The random checkpoint is
# generated once (build/release/bench-gqla-smollm2, ~270 MB bf16).
# Usage: scripts/bench-paths.sh ["THREAD COUNTS"]   (default "1 2")
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-1 2}"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j2 --target bench_paths >/dev/null
for th in $threads; do for ctx in 128 1024; do
  ./build/release/tests/bench_paths build/release/bench-gqla-smollm2 "$th" "$ctx" 32 2
done; done
