#!/usr/bin/env bash
# SHA-256 throughput of base/sha256.c (whatever it is in this checkout) on a
# ~500 MB file, checked against sha256sum.  Usage:
#   scripts/bench-sha256.sh [FILE]     (default: a 500 MB random file in $TMPDIR)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=${TMPDIR:-/tmp}
file=${1:-$tmp/gqla-bench-sha256.bin}
if [ ! -f "$file" ]; then
  head -c 500000000 /dev/urandom > "$file"
fi
bin=$tmp/gqla-bench-sha256
cc -std=c11 -O2 -I "$here/base" "$here/scripts/bench_sha256.c" "$here/base/sha256.c" \
   $(pkg-config --cflags --libs libcrypto) -o "$bin"
cat "$file" > /dev/null   # warm the page cache
for i in 1 2 3; do "$bin" "$file"; done
echo "sha256sum: $(sha256sum "$file" | cut -d' ' -f1)"
