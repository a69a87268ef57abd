#!/usr/bin/env bash
# Instructions per iteration of one `benches/profile.rs` variant under callgrind, two ways:
# - app: the application thread only: collection is toggled on inside `measured` (callgrind's toggle is
#   per thread, so the finisher's and the exporters' threads count nothing). With botanu's queue the
#   application thread finishes a span itself when the finisher is behind, which depends on how valgrind
#   schedules the threads: runs use `--fair-sched=yes` and the median of `REPEAT` (default 3) is printed;
# - all: every thread of the process: two whole runs of n and 2n iterations, the difference divided by n
#   (setup, warm-up and the final flush cancel out; the background threads' work on the extra n
#   iterations is in).
#
#   benches/instructions.sh <profile binary> <variant> [iterations]
set -euo pipefail
bin=$1
variant=$2
n=${3:-2000}
repeat=${REPEAT:-3}
collected() { sed -nE 's/.*Collected : ([0-9]+).*/\1/p'; }
grind() { valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file=/dev/null "$@" 2>&1 | collected; }
apps=()
for _ in $(seq "$repeat"); do
    apps+=("$(grind --collect-atstart=no --toggle-collect='*measured*' "$bin" "$variant" "$n")")
done
app=$(printf '%s\n' "${apps[@]}" | sort -n | sed -n "$(((repeat + 1) / 2))p")
t1=$(grind "$bin" "$variant" "$n")
t2=$(grind "$bin" "$variant" $((2 * n)))
echo "$variant app=$((app / n)) all=$(((t2 - t1) / n))"
