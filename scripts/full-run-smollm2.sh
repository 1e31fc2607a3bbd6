#!/bin/sh
# full-run-smollm2.sh — issue 7's full run: SmolLM2-135M-Instruct against its
# GQLA conversion (r = 160: absorb cache 192 = 50 % of the GQA cache's 384,
# calibrated with `--calib arc_easy`, i.e. ARC-Easy *train* prompts, never a
# scored split) on every item of the six tasks in ../shared/datasets,
# the original on its native path and the conversion on both paths.
#
# Usage: scripts/full-run-smollm2.sh BUILD_DIR OUT_DIR [DATA_DIR]
# Takes hours on a 2-core machine (about 30k documents x 3 runs); it is
# resumable: run the same command again and it continues from
# OUT_DIR/full/journal.  Each invocation appends its wall time and peak
# memory (GNU time) to OUT_DIR/segments.log.
set -eu
BUILD=$1; OUT=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${3:-$ROOT/../shared/datasets}
CLI="$BUILD/gqla-eval"
MODEL="$ROOT/models/SmolLM2-135M-Instruct.Q4_1.gguf"
# OpenMP's default wait policy (spin, then sleep): on an otherwise idle
# machine it scores ~25 % faster than PASSIVE (HellaSwag, converted model).
mkdir -p "$OUT"
[ -d "$OUT/smol-r160-arc" ] || /usr/bin/time -a -o "$OUT/segments.log" -f "convert: %e s wall, peak RSS %M KiB" \
  "$CLI" convert --model "$MODEL" --output "$OUT/smol-r160-arc" --calib arc_easy --data-dir "$DATA" --offline \
  --calib-samples 32 --calib-seqlen 256 --seed 42 --rope-dim 32 --freqfold auto --kv-lora-rank 160 \
  --eval-ppl "$ROOT/tests/fixtures/convert/eval_text.txt" --threads 2
echo "segment start $(date -u +%FT%TZ)" >> "$OUT/segments.log"
rc=0
/usr/bin/time -a -o "$OUT/segments.log" -f "eval segment: %e s wall, peak RSS %M KiB" \
  "$CLI" --model "$MODEL" --converted "$OUT/smol-r160-arc" \
  --tasks mmlu,arc,piqa,hellaswag,openbookqa,winogrande --data-dir "$DATA" --offline \
  --output-dir "$OUT/full" --sq 0 --threads 2 --log-samples \
  --max-path-diff 1e-3 --junit "$OUT/full/junit.xml" || rc=$?
echo "segment end $(date -u +%FT%TZ), exit $rc" >> "$OUT/segments.log"
exit $rc
