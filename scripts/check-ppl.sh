#!/usr/bin/env bash
# Compare `gqla-eval ppl` on SmolLM2 (GGUF) with transformers' perplexity on
# the same GGUF (tests/fixtures/forward/smollm2/ppl.txt, made by
# tests/reference/make_smollm2_reference.py).  The text is the three spec
# files of ../shared/spec joined by blank lines (~36k tokens); it is read at
# run time, never committed.  Takes ~2 minutes on 2 cores; passes within 0.5%.
# Usage: scripts/check-ppl.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
model=models/SmolLM2-135M-Instruct.Q4_1.gguf
spec=../shared/spec
ref=tests/fixtures/forward/smollm2/ppl.txt
[ -f "$model" ] || bash scripts/get-model.sh smollm2 models
[ -x "$build/gqla-eval" ] || { cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null; cmake --build "$build" -j >/dev/null; }
text=$(mktemp)
trap 'rm -f "$text"' EXIT
python3 - "$spec" "$text" <<'PY'
import sys
spec, out = sys.argv[1:3]
parts = [open(f"{spec}/{n}", encoding="utf-8").read() for n in ("design.md", "tasks.md", "conversion.md")]
open(out, "w", encoding="utf-8").write("\n\n".join(parts))
PY
want_sha=$(awk '/^text_sha256/ {print $2}' "$ref")
got_sha=$(sha256sum "$text" | cut -d' ' -f1)
if [ "$want_sha" != "$got_sha" ]; then
  echo "check-ppl: the spec text changed (sha256 $got_sha, fixture $want_sha); regenerate the fixture" >&2
  exit 2
fi
hf=$(awk '/^ppl/ {print $2}' "$ref")
ours=$("$build/gqla-eval" ppl "$model" --file "$text" --ctx 512 --quiet | awk '/^ppl:/ {print $2}')
python3 - "$ours" "$hf" <<'PY'
import sys
ours, hf = map(float, sys.argv[1:3])
rel = abs(ours - hf) / hf
print(f"gqla-eval ppl {ours:.6f}  transformers {hf:.6f}  difference {100 * rel:.3f}%")
sys.exit(0 if rel <= 0.005 else 1)
PY
