#!/usr/bin/env bash
# ctest driver for test_fidelity: runs gqla-eval on SmolLM2 and the real
# data (--limit 100, the tasks of the lm-eval fixture), then compares.
# Exit 77 (skipped) when the model or ../shared/datasets is absent.
# Usage: run_fidelity.sh GQLA_EVAL TEST_FIDELITY MODELS_DIR DATA_DIR OUT_DIR FIXTURE_TSV [TASKS]
# TASKS (comma list) defaults to every task of the fixture; ctest passes a
# subset that runs in a few minutes, scripts/check-fidelity.sh runs them all.
set -u
cli="$1" checker="$2" models="$3" data="$4" out="$5" fixture="$6" only="${7:-}"
model="$models/SmolLM2-135M-Instruct.Q4_1.gguf"
[ -f "$model" ] || { echo "skipped: $model not found (scripts/get-model.sh smollm2)"; exit 77; }
[ -d "$data" ] || { echo "skipped: $data not found"; exit 77; }
# The tasks lm-eval ran, in the fixture's order.
[ -f "$fixture" ] || { echo "fixture $fixture missing"; exit 1; }
tasks=$(grep -v '^#' "$fixture" | cut -f1 | awk '!seen[$0]++' | paste -sd, -)
[ -n "$only" ] && tasks="$only"
[ -n "$tasks" ] || { echo "no tasks in $fixture"; exit 1; }
rm -rf "$out"
"$cli" eval --model "$model" --tasks "$tasks" --limit 100 --data-dir "$data" --output-dir "$out" --quiet || exit 1
exec "$checker" "$out"
