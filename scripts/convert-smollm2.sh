#!/bin/sh
# convert-smollm2.sh — the SmolLM2-135M conversions of issue 6 (GQA half):
# partial-RoPE reference and full rank (r = 352, d_r = 32), r = 160 (absorb
# cache 192 = 50 % of 384) and r = 96 (128 = 33 %), each with perplexity
# before/after on tests/fixtures/convert/eval_text.txt (--eval-ppl) and
# `gqla-eval score --path both` on the first 512 tokens of that text; the
# same two ranks with --freqfold auto (held-out search, §3.2.5).
#
# Usage: scripts/convert-smollm2.sh BUILD_DIR CALIB_TEXT OUT_DIR
#   CALIB_TEXT: plain text, one passage per line (not the evaluation text).
#   The numbers of issue 6 used the ARC-Easy *train* split (not evaluated),
#   one "question answer" line per row, made from ../shared/datasets with
#   python3 -c 'import json; [print(r["question"].strip(), r["choices"]["text"][
#     r["choices"]["label"].index(r["answerKey"])].strip()) for r in json.load(open(
#     "../shared/datasets/arc/ARC-Easy_hf-export/train.json"))]' > /tmp/calib.txt
# Calibration: 32 samples x 256 tokens, seed 42.  Needs python3 for the
# log-prob comparison only.
set -eu
BUILD=$1; CALIB=$2; OUT=$3
CLI="$BUILD/gqla-eval"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODEL="$ROOT/models/SmolLM2-135M-Instruct.Q4_1.gguf"
TEXT="$ROOT/tests/fixtures/convert/eval_text.txt"
export OMP_WAIT_POLICY=PASSIVE
mkdir -p "$OUT"
CAL="--calib $CALIB --calib-samples 32 --calib-seqlen 256 --seed 42 --rope-dim 32 --threads 2"
IDS=$("$CLI" tokenize "$MODEL" --text "$(cat "$TEXT")" | tr ' ' '\n' | head -512 | paste -sd, -)
run() { name=$1; shift; [ -d "$OUT/$name" ] || /usr/bin/time -f "$name: %e s" "$CLI" convert --model "$MODEL" --output "$OUT/$name" $CAL "$@"; }
run reference --reference partial-rope
run r352 --kv-lora-rank 352 --eval-ppl "$TEXT"
run r160 --kv-lora-rank 160 --eval-ppl "$TEXT"
run r96 --kv-lora-rank 96 --eval-ppl "$TEXT"
run r160-auto --kv-lora-rank 160 --freqfold auto --eval-ppl "$TEXT"
run r96-auto --kv-lora-rank 96 --freqfold auto --eval-ppl "$TEXT"
"$CLI" score "$MODEL" --ids "$IDS" --json > "$OUT/source.json"
for m in reference r352 r160 r96 r160-auto r96-auto; do
  "$CLI" score "$OUT/$m" --ids "$IDS" --path both --json > "$OUT/$m.json" || echo "$m: paths differ (exit $?)"
done
python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
def load(n):
    d = json.load(open(os.path.join(out, n + ".json")))
    return d, [t["logprob"] for t in d["tokens"]]
_, src = load("source")
ref_d, ref = load("reference")
for m in ["reference", "r352", "r160", "r96", "r160-auto", "r96-auto"]:
    d, lp = load(m)
    print(f"{m:9s}: paths max |dlogp| {d.get('max_path_diff')}; vs reference max {max(abs(a-b) for a,b in zip(lp,ref)):.3e}; "
          f"vs source mean {sum(abs(a-b) for a,b in zip(lp,src))/len(src):.4f}; mean logp {sum(lp)/len(lp):.4f} (source {sum(src)/len(src):.4f})")
    meta = json.load(open(os.path.join(out, m, "gqla_meta.json")))
    if "ppl" in meta: print(f"           ppl {meta['ppl']['ppl_orig']:.4f} -> {meta['ppl']['ppl_gqla']:.4f}; kv energy kept mean "
                            f"{sum(meta['transmla']['kv_energy_retained'])/30:.4f}; freqfold {meta['transmla']['freqfold']} "
                            f"(search {meta['transmla']['freqfold_search']}); cache {meta['kv_cache_elements_per_token_per_layer']}")
PY
