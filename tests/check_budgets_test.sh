#!/usr/bin/env bash
# scripts/check-budgets fails on a tree over its budgets and names each file with its count, and
# passes one that is at them exactly (500 lines, core/ 3,000).
set -euo pipefail
check=$1
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/core/kernels" "$tree/tests"
seq 500 > "$tree/core/ops.cpp"; seq 500 > "$tree/core/tensor.cpp"; seq 500 > "$tree/core/kernels/loops.h"
for i in 1 2 3 4; do seq 500 > "$tree/core/op$i.cpp"; done
"$check" "$tree" > /dev/null || { echo "refused a tree within its budgets" >&2; exit 1; }
echo 1 >> "$tree/core/ops.cpp"
seq 501 > "$tree/tests/test_big.cpp"
if out=$("$check" "$tree" 2>&1); then echo "accepted a tree over its budgets" >&2; exit 1; fi
grep -q "core/: 3001 lines" <<< "$out" || { echo "core/'s count not named: $out" >&2; exit 1; }
grep -q "core/ops.cpp: 501 lines" <<< "$out" || { echo "core/ops.cpp not named: $out" >&2; exit 1; }
grep -q "tests/test_big.cpp: 501 lines" <<< "$out" || { echo "tests/test_big.cpp not named: $out" >&2; exit 1; }
echo "check-budgets names every file over its budget"
