#!/usr/bin/env bash
# Instructions per iteration of one `benches/profile.rs` variant under callgrind, two ways:
# - app: the application thread only: collection is toggled on inside `measured` (callgrind's toggle is
#   per thread, so the finisher's and the exporters' threads count nothing);
# - all: every thread of the process: two whole runs of n and 2n iterations, the difference divided by n
#   (setup, warm-up and the final flush cancel out; the background threads' work on the extra n
#   iterations is in).
#
#   benches/instructions.sh <profile binary> <variant> [iterations]
set -euo pipefail
bin=$1
variant=$2
n=${3:-2000}
collected() { sed -nE 's/.*Collected : ([0-9]+).*/\1/p'; }
app=$(valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured*' \
    --callgrind-out-file=/dev/null "$bin" "$variant" "$n" 2>&1 | collected)
t1=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$variant" "$n" 2>&1 | collected)
t2=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$variant" $((2 * n)) 2>&1 | collected)
echo "$variant app=$((app / n)) all=$(((t2 - t1) / n))"
