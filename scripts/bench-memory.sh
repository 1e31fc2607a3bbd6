#!/usr/bin/env bash
# bench-memory.sh — peak RSS against what a model must hold, now that weights stay in their stored
# encoding (engine/wmat.h).  Not part of CI.
#   1. SmolLM2-135M-Instruct Q4_1 GGUF: `eval --tasks hellaswag --limit N` (default 100), peak RSS
#      beside 1.5 x the file plus the KV cache the scorer allocates (its rows x layers x 2 Hkv Dh x 4 B).
#   2. A generated bf16 checkpoint of LLaMA-3.2-1B's shape (2.47 GB, scripts/gen-llama-shape.py,
#      written once under $WORK): `score --ids` of 128 tokens, peak RSS beside 1.2 x the file.
# env: BUILD=build/release  WORK=${XDG_CACHE_HOME:-$HOME/.cache}/gqla-eval/bench-memory  THREADS=2
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100}
BUILD=${BUILD:-build/release}
GQ="$BUILD/gqla-eval"
WORK=${WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/gqla-eval/bench-memory}
THREADS=${THREADS:-2}
MODEL=models/SmolLM2-135M-Instruct.Q4_1.gguf
[ -x "$GQ" ] || { echo "bench-memory: $GQ not built" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench-memory: GNU time (/usr/bin/time) is needed" >&2; exit 2; }
[ -f "$MODEL" ] || bash scripts/get-model.sh smollm2 models
mkdir -p "$WORK"
[ -f "$WORK/llama-3.2-1b/model.safetensors" ] || python3 scripts/gen-llama-shape.py "$WORK/llama-3.2-1b" llama-3.2-1b
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

/usr/bin/time -f "%e %M" -o "$out/smol.time" "$GQ" eval --model "$MODEL" --tasks hellaswag --limit "$N" \
  --data-dir ../shared/datasets --offline --sq 0 --threads "$THREADS" --quiet --output-dir "$out/smol" > /dev/null
ids=$(python3 -c "print(','.join(str(i * 37 % 128256) for i in range(1, 129)))")
/usr/bin/time -f "%e %M" -o "$out/l1b.time" "$GQ" score "$WORK/llama-3.2-1b" --ids "$ids" --threads "$THREADS" > /dev/null

python3 - "$out" "$MODEL" "$WORK/llama-3.2-1b/model.safetensors" "$N" <<'PY'
import os, sys
out, smol, l1b, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def t(name):
    wall, kb = open(f"{out}/{name}.time").read().split()[-2:]
    return float(wall), int(kb) * 1024
# SmolLM2: 30 layers, 3 KV heads of 64; the scorer's cache holds 2 x 512 rows (engine/scorer.c)
kv = 1024 * 30 * 2 * 3 * 64 * 4
sw, sr = t("smol"); fs = os.path.getsize(smol)
lw, lr = t("l1b"); fl = os.path.getsize(l1b)
print("| model | run | wall s | peak RSS MB | file MB | bound MB | RSS / bound |")
print("|---|---|---:|---:|---:|---:|---:|")
print(f"| SmolLM2-135M Q4_1 | eval hellaswag --limit {n} | {sw:.1f} | {sr/1e6:.0f} | {fs/1e6:.0f} | "
      f"1.5 x file + KV {kv/1e6:.0f} = {(1.5*fs+kv)/1e6:.0f} | {sr/(1.5*fs+kv):.2f} |")
print(f"| LLaMA-3.2-1B shape, bf16 | score 128 ids | {lw:.1f} | {lr/1e6:.0f} | {fl/1e6:.0f} | "
      f"1.2 x file = {1.2*fl/1e6:.0f} | {lr/(1.2*fl):.2f} |")
PY
