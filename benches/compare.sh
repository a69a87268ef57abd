#!/usr/bin/env bash
# Runs the span, normalize, scrub, allocation and throughput benchmarks in one go and prints one line per
# comparison (production pipelines included: botanu's queue vs tracing-opentelemetry's batch processor),
# from criterion's medians (<target>/criterion/<group>/<function>/new/estimates.json).
#
#   benches/compare.sh                  # 0.5 s warm-up, 2 s measurement per function
#   MEASURE=3 benches/compare.sh        # longer measurement
#   QUICK=1 benches/compare.sh          # criterion's --quick (2 samples: fast, noisy)
#   INSTRUCTIONS=1 benches/compare.sh   # also instructions per span under callgrind (needs valgrind):
#                                       # deterministic, so comparable on a loaded machine
#
# Ratios are medians of one run; run it 2-3 times to see the spread.
set -euo pipefail

cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-target}
criterion_dir="$target_dir/criterion"

if [[ ${QUICK:-0} == 1 ]]; then
    args=(--quick --noplot)
else
    args=(--warm-up-time "${WARMUP:-0.5}" --measurement-time "${MEASURE:-2}" --noplot)
fi

cargo bench --bench spans --bench normalize --bench scrub -- "${args[@]}" >&2
allocs_out=$(cargo bench --bench allocs)
printf '%s\n' "$allocs_out" >&2
allocs_summary=$(grep '^SUMMARY' <<<"$allocs_out")

# Median of one benchmark, in ns.
median() {
    local file="$criterion_dir/$1/new/estimates.json"
    if [[ ! -f $file ]]; then
        echo "missing $file" >&2
        exit 1
    fi
    sed -E 's/.*"median":\{"confidence_interval":\{[^}]*\},"point_estimate":([-0-9.eE+]+).*/\1/' "$file"
}

# awk arithmetic with a fixed number of decimals: calc <decimals> <expression> <values...>
calc() {
    local decimals=$1 expr=$2
    shift 2
    awk -v a="${1:-0}" -v b="${2:-0}" -v c="${3:-0}" "BEGIN { printf \"%.${decimals}f\", $expr }"
}

throughput_out=$(cargo bench --bench throughput)
printf '%s\n' "$throughput_out" >&2

floor=$(median llm_span/registry)
otel=$(median llm_span/tracing-opentelemetry)
botanu=$(median llm_span/botanu)
raw=$(median llm_span/raw_sdk)
botanu_nm=$(median llm_span/botanu_no_metrics)
otel_defaults=$(median llm_span/tracing-opentelemetry_defaults)
otel_metrics=$(median llm_span/tracing-opentelemetry_metrics)
unrec_registry=$(median unrecognized_span/registry)
unrec_layer=$(median unrecognized_span/registry_layer)
unrec_botanu=$(median unrecognized_span/botanu)
tree_otel=$(median run_tree/tracing-opentelemetry)
tree_botanu=$(median run_tree/botanu)
scrub_clean=$(median scrub/clean_prose_4k)
scrub_pii=$(median scrub/pii_dense_4k)
norm_known=$(median normalize/known_alias)
norm_canonical=$(median normalize/canonical)
norm_unknown=$(median normalize/unknown)

echo
echo "medians (ns): llm_span registry=$(calc 0 a "$floor") raw_sdk=$(calc 0 a "$raw")" \
    "tracing-opentelemetry=$(calc 0 a "$otel") botanu=$(calc 0 a "$botanu")" \
    "botanu_no_metrics=$(calc 0 a "$botanu_nm") tracing-opentelemetry_defaults=$(calc 0 a "$otel_defaults")" \
    "tracing-opentelemetry_metrics=$(calc 0 a "$otel_metrics");" \
    "unrecognized registry=$(calc 0 a "$unrec_registry") botanu=$(calc 0 a "$unrec_botanu");" \
    "run_tree tracing-opentelemetry=$(calc 0 a "$tree_otel") botanu=$(calc 0 a "$tree_botanu")"
echo "llm_span botanu/tracing-opentelemetry = $(calc 2 'a / b' "$botanu" "$otel")   (target <= 0.40)"
echo "llm_span botanu/(registry+raw sdk) = $(calc 2 'a / (b + c)' "$botanu" "$floor" "$raw")   (target <= 1.50)"
echo "llm_span botanu/(tracing-opentelemetry+same metrics by hand) = $(calc 2 'a / b' "$botanu" "$otel_metrics")   (reference)"
echo "unrecognized botanu/registry = $(calc 2 'a / b' "$unrec_botanu" "$unrec_registry")   (target <= 1.30)"
echo "unrecognized botanu/(registry + a no-op layer) = $(calc 2 'a / b' "$unrec_botanu" "$unrec_layer")   (the floor of a layered stack)"
echo "run_tree botanu/tracing-opentelemetry = $(calc 2 'a / b' "$tree_botanu" "$tree_otel")"
read -r _ _ allocs_botanu allocs_otel allocs_registry allocs_queue <<<"$allocs_summary"
pipe_llm_botanu=$(median pipeline/llm_span_botanu_queue)
pipe_llm_otel=$(median pipeline/llm_span_tracing-opentelemetry_batch)
pipe_tree_botanu=$(median pipeline/run_tree_botanu_queue)
pipe_tree_otel=$(median pipeline/run_tree_tracing-opentelemetry_batch)
echo "production pipeline medians (ns, application thread): llm_span botanu_queue=$(calc 0 a "$pipe_llm_botanu")" \
    "tracing-opentelemetry_batch=$(calc 0 a "$pipe_llm_otel"); run_tree botanu_queue=$(calc 0 a "$pipe_tree_botanu")" \
    "tracing-opentelemetry_batch=$(calc 0 a "$pipe_tree_otel")"
echo "pipeline llm_span botanu_queue/tracing-opentelemetry_batch = $(calc 2 'a / b' "$pipe_llm_botanu" "$pipe_llm_otel")   (target <= 0.40)"
echo "pipeline run_tree botanu_queue/tracing-opentelemetry_batch = $(calc 2 'a / b' "$pipe_tree_botanu" "$pipe_tree_otel")   (target <= 0.40)"
grep -E '^(THROUGHPUT|SCALING)' <<<"$throughput_out"
echo "allocs ${allocs_botanu} ${allocs_otel} ${allocs_registry} ${allocs_queue}   (target botanu_queue <= 3, application thread)"
# 4096 bytes per iteration: bytes/ns is GB/s.
echo "scrub clean=$(calc 2 '4096 / a' "$scrub_clean") GB/s pii=$(calc 0 '4096 / a * 1000' "$scrub_pii") MB/s" \
    "  (target >= 1 GB/s, >= 200 MB/s)"
echo "normalize known=$(calc 1 a "$norm_known") ns canonical=$(calc 1 a "$norm_canonical") ns" \
    "unknown=$(calc 1 a "$norm_unknown") ns"

if [[ ${INSTRUCTIONS:-0} == 1 ]]; then
    n=${ITERATIONS:-2000}
    bin=$(cargo bench --bench profile --no-run --message-format=json 2>/dev/null |
        sed -nE 's/.*"executable":"([^"]+profile[^"]*)".*/\1/p' | tail -n 1)
    out=$(mktemp -d)
    instructions() {
        valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured*' \
            --callgrind-out-file="$out/$1.out" "$bin" "$1" "$n" 2>&1 |
            sed -nE 's/.*Collected : ([0-9]+).*/\1/p'
    }
    declare -A ir
    for variant in registry raw_sdk tracing-opentelemetry tracing-opentelemetry_metrics botanu botanu_no_metrics \
        unrecognized_registry unrecognized_botanu run_tree_botanu run_tree_tracing-opentelemetry; do
        ir[$variant]=$(instructions "$variant")
    done
    per() { calc 0 "a / $n" "${ir[$1]}"; }
    echo "instructions/span (callgrind, $n iterations): registry=$(per registry) raw_sdk=$(per raw_sdk)" \
        "tracing-opentelemetry=$(per tracing-opentelemetry)" \
        "tracing-opentelemetry_metrics=$(per tracing-opentelemetry_metrics) botanu=$(per botanu)" \
        "botanu_no_metrics=$(per botanu_no_metrics);" \
        "unrecognized registry=$(per unrecognized_registry) botanu=$(per unrecognized_botanu);" \
        "run_tree tracing-opentelemetry=$(per run_tree_tracing-opentelemetry) botanu=$(per run_tree_botanu)"
    echo "instructions llm_span botanu/tracing-opentelemetry = $(calc 2 'a / b' "${ir[botanu]}" "${ir[tracing-opentelemetry]}")"
    echo "instructions llm_span botanu/(registry+raw sdk) = $(calc 2 'a / (b + c)' "${ir[botanu]}" "${ir[registry]}" "${ir[raw_sdk]}")"
    echo "instructions unrecognized botanu/registry = $(calc 2 'a / b' "${ir[unrecognized_botanu]}" "${ir[unrecognized_registry]}")"
    echo "instructions run_tree botanu/tracing-opentelemetry = $(calc 2 'a / b' "${ir[run_tree_botanu]}" "${ir[run_tree_tracing-opentelemetry]}")"
    # The production pipelines, application thread and all threads (see benches/instructions.sh).
    declare -A app all
    for variant in botanu_queue tracing-opentelemetry_batch run_tree_botanu_queue run_tree_tracing-opentelemetry_batch; do
        iterations=$n
        [[ $variant == run_tree_* ]] && iterations=$((n / 5))
        read -r _ a b <<<"$(benches/instructions.sh "$bin" "$variant" "$iterations")"
        app[$variant]=${a#app=}
        all[$variant]=${b#all=}
    done
    echo "pipeline instructions per LLM span: botanu_queue app=${app[botanu_queue]} all=${all[botanu_queue]};" \
        "tracing-opentelemetry_batch app=${app[tracing-opentelemetry_batch]} all=${all[tracing-opentelemetry_batch]}"
    echo "pipeline instructions llm_span botanu/tracing-opentelemetry: application thread" \
        "$(calc 2 'a / b' "${app[botanu_queue]}" "${app[tracing-opentelemetry_batch]}") (target <= 0.40)," \
        "all threads $(calc 2 'a / b' "${all[botanu_queue]}" "${all[tracing-opentelemetry_batch]}") (target <= 0.80)"
    echo "pipeline instructions run_tree botanu/tracing-opentelemetry: application thread" \
        "$(calc 2 'a / b' "${app[run_tree_botanu_queue]}" "${app[run_tree_tracing-opentelemetry_batch]}") (target <= 0.40)," \
        "all threads $(calc 2 'a / b' "${all[run_tree_botanu_queue]}" "${all[run_tree_tracing-opentelemetry_batch]}")"
    echo "callgrind profiles: $out (callgrind_annotate --inclusive=yes $out/botanu.out)"
fi
