#!/usr/bin/env bash
# bench-ranks.sh — data-parallel wall time: the same evaluation as one
# process with T threads and under `mpirun -np R` (T/R threads a rank),
# alternating, RUNS times each, on SmolLM2-135M-Instruct (Q4_1 GGUF).
# Also one process with T/R threads, the unit the speed-ups are against.
# Prints wall seconds (median), speed-up, and peak RSS (one process; the
# sum of the ranks' peaks under mpirun).  Not part of CI; run it on a quiet
# machine (OpenMP spin barriers make a loaded machine's numbers useless).
# usage: scripts/bench-ranks.sh [LIMIT]   env: BUILD=build/release RUNS=2 RANKS=2 THREADS=2
#        TASKS=arc_easy,hellaswag,piqa,winogrande
set -euo pipefail
cd "$(dirname "$0")/.."
LIMIT=${1:-64}
BUILD=${BUILD:-build/release}
RUNS=${RUNS:-2}
RANKS=${RANKS:-2}
THREADS=${THREADS:-2}
TASKS=${TASKS:-arc_easy,hellaswag,piqa,winogrande}
GQ="$BUILD/gqla-eval"
MODEL=models/SmolLM2-135M-Instruct.Q4_1.gguf
[ -x "$GQ" ] || { echo "bench-ranks: $GQ not built" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench-ranks: GNU time (/usr/bin/time) is needed" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "bench-ranks: mpirun not found (scripts/install-deps.sh)" >&2; exit 2; }
"$GQ" --version | grep -q "mpi: yes" || { echo "bench-ranks: $GQ was built without MPI" >&2; exit 2; }
[ -f "$MODEL" ] || bash scripts/get-model.sh smollm2 models
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=PASSIVE
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
args=(--model "$MODEL" --tasks "$TASKS" --limit "$LIMIT" --data-dir ../shared/datasets --offline --quiet)
per_rank=$(( THREADS / RANKS > 0 ? THREADS / RANKS : 1 ))
for i in $(seq 1 "$RUNS"); do
  rm -rf "$out/one" "$out/ranks" "$out/one1"
  /usr/bin/time -f "%e %M" -o "$out/one1.$i" "$GQ" "${args[@]}" --threads "$per_rank" --output-dir "$out/one1" > /dev/null
  /usr/bin/time -f "%e %M" -o "$out/one.$i" "$GQ" "${args[@]}" --threads "$THREADS" --output-dir "$out/one" > /dev/null
  start=$(date +%s.%N)
  mpirun --oversubscribe -np "$RANKS" /usr/bin/time -f "%M" -a -o "$out/ranks.$i.rss" \
    "$GQ" "${args[@]}" --threads "$per_rank" --output-dir "$out/ranks" > /dev/null
  end=$(date +%s.%N)
  echo "$start $end" > "$out/ranks.$i"
  cmp -s <(python3 -c "import json,sys;print(json.dumps(json.load(open(sys.argv[1]))['results'],sort_keys=True))" "$out/one/results_original.json") \
         <(python3 -c "import json,sys;print(json.dumps(json.load(open(sys.argv[1]))['results'],sort_keys=True))" "$out/ranks/results_original.json") \
    || { echo "bench-ranks: results differ between one process and $RANKS ranks" >&2; exit 1; }
done
python3 - "$out" "$RUNS" "$RANKS" "$THREADS" "$per_rank" "$LIMIT" "$TASKS" <<'PY'
import statistics, sys
out, runs, ranks, threads, per, limit, tasks = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
def timed(name):
    rows = [open(f"{out}/{name}.{i}").read().split()[-2:] for i in range(1, runs + 1)]
    return statistics.median(float(w) for w, _ in rows), max(int(k) for _, k in rows) / 1024
one_wall, one_rss = timed("one")
one1_wall, one1_rss = timed("one1")
rk = [open(f"{out}/ranks.{i}").read().split() for i in range(1, runs + 1)]
rk_wall = statistics.median(float(b) - float(a) for a, b in rk)
rss = []
for i in range(1, runs + 1):
    rss.append(sum(int(l) for l in open(f"{out}/ranks.{i}.rss").read().split() if l.strip().isdigit()) / 1024)
print(f"SmolLM2 Q4_1, {tasks} --limit {limit}, median of {runs} alternating runs (results identical)")
print(f"| run | wall s | vs 1 process, {per} thread(s) | peak RSS MiB |")
print("|---|---:|---:|---:|")
print(f"| 1 process, {per} thread(s) | {one1_wall:.1f} | 1.00x | {one1_rss:.0f} |")
print(f"| 1 process, {threads} threads | {one_wall:.1f} | {one1_wall / one_wall:.2f}x | {one_rss:.0f} |")
print(f"| mpirun -np {ranks}, {per} thread(s) each | {rk_wall:.1f} | {one1_wall / rk_wall:.2f}x | {max(rss):.0f} (sum of ranks) |")
PY
