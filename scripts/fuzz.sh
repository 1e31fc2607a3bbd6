#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] [TARGET...] — build the libFuzzer targets of
# tests/fuzz/ (clang, ASan+UBSan, a build folder of its own: build/fuzz) and
# fuzz each for SECONDS (default 60), niced, one after the other (FUZZ_JOBS=N
# runs N at once).  Targets: safetensors gguf config tokenizer dataset
# hub_page journal run_clock compare report shard (default: all).
#
# Each target starts from its committed seeds (tests/fuzz/corpus/<t>/) and
# committed crash inputs (tests/fuzz/regressions/<t>/) and grows a working
# corpus in build/fuzz/corpus/<t>/ that persists between runs, so repeated
# runs add up to one campaign.  A crash, leak, UB report, timeout (> 10 s
# for one input) or allocation beyond 1 GiB lands in build/fuzz/crashes/<t>/;
# fix it, copy the input into tests/fuzz/regressions/<t>/ (the ctest
# fuzz_replay.<t> replays it in the normal builds), and rerun.
# Prints one line per target: seconds, executions, edges (cov), features,
# corpus size; exits 1 when any target found something.
#
# FUZZ_CPU_MIN=M makes it a campaign measured in CPU time: each target is
# fuzzed again (SECONDS wall at most per round) until its campaign total in
# build/fuzz/logs/<t>.history reaches M CPU-minutes.  On a shared 2-core
# machine a niced fuzzer gets less CPU than wall time, so wall is no measure.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
all=(safetensors gguf config tokenizer dataset hub_page journal run_clock compare report shard)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
jobs=${FUZZ_JOBS:-1}
build=build/fuzz

if ! command -v clang >/dev/null 2>&1; then
  echo "fuzz: clang not found (scripts/install-deps.sh installs it)" >&2
  exit 2
fi
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DGQLA_FUZZ=ON -DGQLA_CUDA=OFF -DGQLA_WERROR=ON >/dev/null
nice -n 19 cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target fuzz_all >/dev/null

max_len() {
  case "$1" in
    tokenizer) echo 65536 ;;
    gguf) echo 32768 ;;
    safetensors) echo 16384 ;;
    *) echo 8192 ;;
  esac
}

run_round() {
  local t=$1 secs=$2
  local corpus=$build/corpus/$t crashes=$build/crashes/$t log=$build/logs/$t.log
  mkdir -p "$corpus" "$crashes" "$build/logs" "$build/tmp"
  # Scratch files on tmpfs when there is one: the journal and every atomic
  # write fsync, which on a disk caps a target at a few hundred runs a second.
  local scratch=$PWD/$build/tmp
  [ -d /dev/shm ] && [ -w /dev/shm ] && scratch=/dev/shm
  local seeds=(tests/fuzz/corpus/"$t")
  [ -d tests/fuzz/regressions/"$t" ] && seeds+=(tests/fuzz/regressions/"$t")
  # -timeout: a pathological regex or merge list must not stall an input;
  # -rss_limit_mb/-malloc_limit_mb: a file must not make us allocate its claims.
  local TIMEFORMAT='%U %S'
  { time TMPDIR=$scratch HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1 \
    nice -n 19 "$build/tests/fuzz_$t" -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=10 \
    -rss_limit_mb=1024 -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$crashes/" \
    "$corpus" "${seeds[@]}" >"$log" 2>&1 || true; } 2>"$build/logs/$t.cpu"
  # The campaign so far: one line per run (CPU seconds, executions).
  local execs
  execs=$( (grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk "{print \$2}") || true)
  awk -v e="${execs:-0}" '{printf "%.1f %s\n", $1 + $2, e}' "$build/logs/$t.cpu" >>"$build/logs/$t.history"
  # Keep every round's log: the campaign's figures come from all of them.
  cat "$log" >>"$build/logs/$t.all.log"
}

campaign_cpu_s() {
  [ -f "$build/logs/$1.history" ] || { echo 0; return; }
  awk '{c += $1} END {printf "%d", c}' "$build/logs/$1.history"
}

run_one() {
  local t=$1
  if [ -z "${FUZZ_CPU_MIN:-}" ]; then run_round "$t" "$secs"; return; fi
  local goal=$((FUZZ_CPU_MIN * 60)) done_s left
  while :; do
    done_s=$(campaign_cpu_s "$t")
    [ "$done_s" -ge "$goal" ] && break
    # CPU time never exceeds wall time for this one-thread fuzzer, so the
    # CPU still missing is the shortest round that can reach the goal.
    left=$((goal - done_s + 5))
    [ "$left" -gt "$secs" ] && left=$secs
    run_round "$t" "$left"
    [ "$(find "$build/crashes/$t" -type f | wc -l)" -gt 0 ] && break
  done
}

running=0
for t in "${targets[@]}"; do
  if [ ! -x "$build/tests/fuzz_$t" ]; then echo "fuzz: no target '$t' (have: ${all[*]})" >&2; exit 2; fi
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait

found=0
echo "this run: SECONDS wall each; campaign: CPU minutes and executions over every run of build/fuzz"
printf '%-12s %8s %12s %8s %8s %8s %9s %13s  %s\n' target seconds execs edges ft corpus cpu_min campaign_execs findings
for t in "${targets[@]}"; do
  log=$build/logs/$t.log
  execs=$( (grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk "{print \$2}") || true)
  last=$( (grep -E "^#[0-9]+" "$log" | tail -1) || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  n_corpus=$(find "$build/corpus/$t" -type f | wc -l)
  n_found=$(find "$build/crashes/$t" -type f | wc -l)
  [ "$n_found" -gt 0 ] && found=1
  camp=$(awk '{c += $1; e += $2} END {printf "%.1f %d", c / 60, e}' "$build/logs/$t.history")
  printf '%-12s %8s %12s %8s %8s %8s %9s %13s  %s\n' "$t" "$secs" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$n_corpus" \
    ${camp} \
    "$([ "$n_found" -gt 0 ] && echo "$n_found in $build/crashes/$t (log: $log)" || echo none)"
done
exit $found
