#!/usr/bin/env bash
# Scoring throughput of the GQLA decoding paths (gqa, absorb): prefill, then
# decode the continuation sq tokens at a time, on a random GQLA model.
#
#   scripts/bench-paths.sh ["THREAD COUNTS"]   CPU (default "1 2"): SmolLM2-135M's
#       shape, --sq 1 and 2, contexts 128 and 1024.
#   scripts/bench-paths.sh --device cuda [LAYERS]   the GPU: LLaMA-3-8B's attention
#       shape (conversion.md §2.4; LAYERS of its layers, default 4), --sq 1, 2, 4,
#       contexts 1024 and 4096, each decode rate beside the roofline prediction
#       for the GPU found (peak bf16 FLOP/s and HBM bytes/s from the table
#       below by nvidia-smi's name), and the device memory (weights, each
#       path's cache per token, activations) beside the same figures from the
#       shape.
# The random checkpoints are generated once under build/release/.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" --target bench_paths gqla-eval >/dev/null
if [ "${1:-}" = "--device" ]; then
  [ "${2:-}" = "cuda" ] || { echo "bench-paths: --device takes cuda (the CPU is the default)" >&2; exit 2; }
  layers=${3:-4}
  name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
  [ -n "$name" ] || { echo "bench-paths: no GPU (nvidia-smi lists none)" >&2; exit 2; }
  # Dense bf16 tensor-core peak and HBM bandwidth by product name (SXM parts).
  case "$name" in
    *H200*) peak=989e12 bw=4.8e12 ;;
    *H100*PCIe*) peak=756e12 bw=2.0e12 ;;
    *H100*|*H800*) peak=989e12 bw=3.35e12 ;;
    *H20*) peak=148e12 bw=4.0e12 ;;
    *A100*) peak=312e12 bw=2.0e12 ;;
    *L40S*) peak=362e12 bw=0.864e12 ;;
    *) echo "bench-paths: $name is not in the table; using H100's figures" >&2; peak=989e12 bw=3.35e12 ;;
  esac
  echo "GPU: $name (roofline with peak $peak FLOP/s, $bw B/s)"
  for ctx in 1024 4096; do
    ./build/release/tests/bench_paths build/release/bench-gqla-llama3-8b-l"$layers" 1 "$ctx" 32 3 \
      --shape llama3-8b --layers "$layers" --device cuda --sq 1,2,4 --peak "$peak" --bw "$bw"
  done
  exit 0
fi
threads="${1:-1 2}"
for th in $threads; do for ctx in 128 1024; do
  ./build/release/tests/bench_paths build/release/bench-gqla-smollm2 "$th" "$ctx" 32 2
done; done
