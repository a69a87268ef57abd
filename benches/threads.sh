#!/usr/bin/env bash
# Instructions per span on each thread of a multi-threaded `benches/profile.rs` variant
# (`botanu_queue_threads`, `run_tree_botanu_queue_threads`) under callgrind --separate-threads=yes.
# Two whole runs of n and 2n iterations; each thread's difference (threads matched by creation order,
# which is the same in both runs) divided by n is what that thread spends per span of the whole run
# (setup, warm-up and the final flush cancel out). Threads are named by what they run: application
# (the `measured` loop), finisher (a finisher worker), exporter (the export queue's worker), other.
#
#   THREADS=4 WORKERS=2 benches/threads.sh <profile binary> <variant> [iterations]
#
# Under valgrind the threads run one at a time, so how many spans the application threads finish
# themselves (past the finisher's high-water mark) varies between runs; the sum over threads does not.
set -euo pipefail
bin=$1
variant=$2
n=${3:-2000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run() {
    valgrind --tool=callgrind --separate-threads=yes --compress-strings=no --fair-sched=yes \
        --callgrind-out-file="$dir/$1" "$bin" "$variant" "$2" >/dev/null 2>&1
}
run a "$n"
run b $((2 * n))
classify() {
    if grep -q 'finisher::run_worker' "$1"; then echo finisher
    elif grep -q 'queue::next_round' "$1"; then echo exporter
    elif grep -q 'profile::measured' "$1"; then echo application
    else echo other; fi
}
total() { sed -nE 's/^totals: ([0-9]+).*/\1/p' "$1"; }
declare -A sum count
line="THREADS variant=$variant threads=${THREADS:-4} workers=${WORKERS:-per_core}"
for fb in $(ls "$dir"/b-* | sort); do
    t=${fb##*-}
    fa="$dir/a-$t"
    [ -f "$fa" ] || continue
    class=$(classify "$fb")
    per=$((($(total "$fb") - $(total "$fa")) / n))
    [ "$class" = other ] && continue
    echo "THREAD $t $class per_span=$per"
    sum[$class]=$((${sum[$class]:-0} + per))
    count[$class]=$((${count[$class]:-0} + 1))
done
for class in application finisher exporter; do
    line="$line $class=${sum[$class]:-0}/${count[$class]:-0}"
done
echo "$line (per span: sum over the class's threads / threads)"
