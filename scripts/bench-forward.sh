#!/usr/bin/env bash
# Prefill tokens/s and peak memory of the CPU forward pass on SmolLM2 at
# sequence lengths 128 and 512 with 1 and 2 threads, beside the machine's
# sgemm GFLOP/s on the same shapes.  Usage: scripts/bench-forward.sh [MODEL]
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-models/SmolLM2-135M-Instruct.Q4_1.gguf}"
[ -f "$model" ] || bash scripts/get-model.sh smollm2 models
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j --target bench_forward >/dev/null
for T in 128 512; do
  for th in 1 2; do
    ./build/release/tests/bench_forward "$model" "$T" "$th" 3
  done
done
