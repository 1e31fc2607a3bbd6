#!/usr/bin/env bash
# Every task of the lm-eval fixture (tests/fixtures/lmeval/, --limit 100,
# all 57 MMLU subjects): gqla-eval on SmolLM2 and ../shared/datasets vs
# lm-evaluation-harness + transformers, request by request.  Long (tens of
# minutes on 2 cores); ctest runs a subset.  Usage: scripts/check-fidelity.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
[ -f models/SmolLM2-135M-Instruct.Q4_1.gguf ] || bash scripts/get-model.sh smollm2 models
[ -x "$build/gqla-eval" ] || { cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null; cmake --build "$build" -j >/dev/null; }
exec tests/run_fidelity.sh "$build/gqla-eval" "$build/tests/test_fidelity" models ../shared/datasets \
  "$build/fidelity-all" tests/fixtures/lmeval/smollm2_limit100.tsv
