#!/usr/bin/env bash
# bench-peer.sh [N] — gqla-eval against llama.cpp's llama-perplexity, side by side, on the first N
# items (default 400) of HellaSwag, WinoGrande and ARC-Easy, same GGUF, same threads.  Not part of CI.
#
#   bash scripts/bench-peer.sh [N]
#   env: BUILD=build/release  MODEL=models/SmolLM2-135M-Instruct.Q4_1.gguf  DATA=../shared/datasets
#        THREADS=2  RUNS=3  TASKS="hellaswag winogrande arc_easy"
#        PEER_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/gqla-eval/peer   (llama.cpp is built there, once)
#        PEER_BIN=/path/to/llama-perplexity                         (use an existing build instead)
#
# The peer: llama.cpp as vendored in the PyPI sdist llama-cpp-python==0.3.36 (pinned), built outside
# the tree (CPU, Release, native) into PEER_DIR and cached; only its llama-perplexity target.
# Commands, per task, run in turn A B C D A B C D ... (RUNS rounds), each timed by GNU time:
#   gqla       gqla-eval eval --tasks T --limit N --sq 0 --threads THREADS
#   lcpp       llama-perplexity, default context (512), f16 KV cache
#   lcpp-c2048 llama-perplexity -c 2048 (its default context is 512; -c 0 is refused), f16 KV
#   lcpp-f32   llama-perplexity, context 512, f32 KV cache (-ctk f32 -ctv f32)
# Printed per task and command: min / median docs/s, peak RSS, the score, and the ratio of gqla's
# median docs/s to the best llama.cpp f16 median.
#
# Where the scoring rules differ (so the scores are close, not equal):
#   HellaSwag: both score acc_norm on llama.cpp's preprocessed file, but llama.cpp normalises each
#     ending's log-likelihood by its token count, lm-eval (gqla-eval) by its length in bytes.
#   WinoGrande: llama.cpp scores the tokens after the blank, in one sequence per option, and skips
#     the last token when the suffix is short; lm-eval (gqla-eval) scores the suffix given the
#     option-filled prefix (partial evaluation): acc.
#   ARC-Easy: llama.cpp's --multiple-choice on "Question: Q\nAnswer:" + " " + choice, normalised by
#     token count; gqla-eval: lm-eval's arc_easy (acc, and acc_norm by bytes).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-400}
BUILD=${BUILD:-build/release}
MODEL=${MODEL:-models/SmolLM2-135M-Instruct.Q4_1.gguf}
DATA=${DATA:-../shared/datasets}
THREADS=${THREADS:-2}
RUNS=${RUNS:-3}
TASKS=${TASKS:-"hellaswag winogrande arc_easy"}
PEER_VERSION=0.3.36
PEER_DIR=${PEER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gqla-eval/peer}
GQ="$BUILD/gqla-eval"

die() { echo "bench-peer: $*" >&2; exit 2; }
[ -x "$GQ" ] || die "$GQ not built (cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=Release && cmake --build $BUILD)"
[ -f "$MODEL" ] || die "$MODEL missing (bash scripts/get-model.sh smollm2 models)"
[ -d "$DATA" ] || die "data folder $DATA missing"
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is needed: apt-get install time"

# ---- the peer, built once
if [ -z "${PEER_BIN:-}" ]; then
  PEER_BIN="$PEER_DIR/build/bin/llama-perplexity"
  if [ ! -x "$PEER_BIN" ]; then
    mkdir -p "$PEER_DIR"
    if [ ! -d "$PEER_DIR/llama_cpp_python-$PEER_VERSION" ]; then
      echo "bench-peer: downloading llama-cpp-python==$PEER_VERSION (sdist) from PyPI ..."
      python3 -m pip download --quiet --no-deps --no-binary :all: -d "$PEER_DIR" "llama-cpp-python==$PEER_VERSION"
      tar xzf "$PEER_DIR/llama_cpp_python-$PEER_VERSION.tar.gz" -C "$PEER_DIR"
    fi
    echo "bench-peer: building llama-perplexity into $PEER_DIR/build (once) ..."
    cmake -S "$PEER_DIR/llama_cpp_python-$PEER_VERSION/vendor/llama.cpp" -B "$PEER_DIR/build" \
      -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
      -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=ON > "$PEER_DIR/cmake.log"
    cmake --build "$PEER_DIR/build" --target llama-perplexity -j "$(nproc)" > "$PEER_DIR/build.log"
  fi
fi
[ -x "$PEER_BIN" ] || die "no llama-perplexity at $PEER_BIN"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# ---- the same N items in llama.cpp's input formats
python3 - "$DATA" "$N" "$WORK" <<'PY'
import json, struct, sys
data, n, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
# HellaSwag: llama.cpp's own preprocessed file, 6 lines an item
with open(f"{data}/hellaswag/hellaswag_val_full.txt", encoding="utf-8") as f:
    lines = f.read().split("\n")
open(f"{work}/hellaswag.txt", "w", encoding="utf-8").write("\n".join(lines[:6 * n]) + "\n")
# WinoGrande: index,sentence,option1,option2,answer (the sentence quoted; options hold no comma)
rows = [json.loads(l) for l in open(f"{data}/winogrande/winogrande_1.1/dev.jsonl", encoding="utf-8")][:n]
with open(f"{work}/winogrande.csv", "w", encoding="utf-8") as f:
    for i, r in enumerate(rows):
        assert "," not in r["option1"] + r["option2"] and '"' not in r["sentence"], r
        f.write(f'{i},"{r["sentence"]}",{r["option1"]},{r["option2"]},{r["answer"]}\n')
# ARC-Easy test: llama.cpp's --multiple-choice binary (u32 count, u32 offsets, then per task the
# question and two answer sets, strings as u32 length + bytes, labels as i32)
def s(x):
    b = x.encode("utf-8")
    return struct.pack("<I", len(b)) + b
arc = json.load(open(f"{data}/arc/ARC-Easy_hf-export/test.json", encoding="utf-8"))[:n]
blobs = []
for r in arc:
    texts, labels = r["choices"]["text"], r["choices"]["label"]
    gold = labels.index(r["answerKey"])
    b = s(f"Question: {r['question']}\nAnswer:") + struct.pack("<I", len(texts))
    b += b"".join(s(t) for t in texts) + b"".join(struct.pack("<i", int(i == gold)) for i in range(len(texts)))
    b += struct.pack("<I", 0)  # mc2: none
    blobs.append(b)
head = 4 + 4 * len(blobs)
offs, pos = [], head
for b in blobs:
    offs.append(pos)
    pos += len(b)
with open(f"{work}/arc_easy.bin", "wb") as f:
    f.write(struct.pack("<I", len(blobs)) + b"".join(struct.pack("<I", o) for o in offs) + b"".join(blobs))
PY

peer_args() { # task -> llama-perplexity's task options
  case "$1" in
    hellaswag) echo "--hellaswag --hellaswag-tasks $N -f $WORK/hellaswag.txt" ;;
    winogrande) echo "--winogrande --winogrande-tasks $N -f $WORK/winogrande.csv" ;;
    arc_easy) echo "--multiple-choice --multiple-choice-tasks $N -bf $WORK/arc_easy.bin" ;;
  esac
}

# run NAME TASK ROUND CMD...: time one command, keep its output
run() {
  local name=$1 task=$2 round=$3; shift 3
  local log="$WORK/$task.$name.$round.log"
  /usr/bin/time -f "GQTIME %e %M" -o "$log.time" "$@" > "$log" 2>&1 || { echo "bench-peer: $name failed on $task:"; tail -5 "$log"; exit 1; }
}

echo "bench-peer: $N items, $THREADS threads, $RUNS rounds; $(basename "$MODEL"); gqla-eval $("$GQ" --version 2>/dev/null | head -1); llama.cpp of llama-cpp-python $PEER_VERSION"
for task in $TASKS; do
  for round in $(seq 1 "$RUNS"); do
    run gqla "$task" "$round" "$GQ" eval --model "$MODEL" --tasks "$task" --limit "$N" --data-dir "$DATA" --offline \
      --sq 0 --threads "$THREADS" --quiet --output-dir "$WORK/out-$task-$round"
    # shellcheck disable=SC2046
    run lcpp "$task" "$round" "$PEER_BIN" -m "$MODEL" -t "$THREADS" $(peer_args "$task")
    # shellcheck disable=SC2046
    run lcpp-c2048 "$task" "$round" "$PEER_BIN" -m "$MODEL" -t "$THREADS" -c 2048 $(peer_args "$task")
    # shellcheck disable=SC2046
    run lcpp-f32 "$task" "$round" "$PEER_BIN" -m "$MODEL" -t "$THREADS" -ctk f32 -ctv f32 $(peer_args "$task")
  done
done

python3 - "$WORK" "$N" "$RUNS" "$TASKS" <<'PY'
import glob, json, re, statistics, sys
work, n, runs, tasks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split()
def score(task, name, log):
    text = open(log, encoding="utf-8", errors="replace").read()
    if name == "gqla":
        res = json.load(open(glob.glob(f"{work}/out-{task}-1/results.json")[0]))["results"][task]
        keys = ["acc,none"] + (["acc_norm,none"] if "acc_norm,none" in res else [])
        return " ".join(f"{k.split(',')[0]} {100 * res[k]:.2f}" for k in keys)
    if task in ("hellaswag", "winogrande"):  # the last running-accuracy row: "i<TAB>acc[%]<TAB>..."
        rows = re.findall(r"^(\d+)\t([\d.]+)%?\t", text, re.M)
        what = "acc_norm" if task == "hellaswag" else "acc"
        return f"{what} {float(rows[-1][1]):.2f}" + (" (by tokens)" if task == "hellaswag" else "") if rows else "?"
    m = re.search(r"Final (?:Winogrande score\(\d+ tasks\)|result): ([\d.]+)", text)
    return (f"acc {float(m.group(1)):.2f}" + (" (by tokens)" if task != "winogrande" else "")) if m else "?"
print()
print("| task | command | docs/s min | docs/s median | peak RSS MiB | score |")
print("|---|---|---:|---:|---:|---|")
summary = []
for task in tasks:
    med = {}
    for name in ("gqla", "lcpp", "lcpp-c2048", "lcpp-f32"):
        walls, rss = [], []
        for r in range(1, runs + 1):
            t = open(f"{work}/{task}.{name}.{r}.log.time").read()
            w, m = re.search(r"GQTIME ([\d.]+) (\d+)", t).groups()
            walls.append(float(w)); rss.append(int(m) / 1024)
        dps = sorted(n / w for w in walls)
        med[name] = statistics.median(dps)
        print(f"| {task} | {name} | {dps[0]:.2f} | {med[name]:.2f} | {max(rss):.0f} | "
              f"{score(task, name, f'{work}/{task}.{name}.1.log')} |")
    best = max(med["lcpp"], med["lcpp-c2048"])
    summary.append(f"{task}: gqla-eval / llama.cpp (best f16) = {med['gqla'] / best:.2f}x")
print()
print("\n".join(summary))
PY
