#!/usr/bin/env bash
# The tracked benchmark suite (not a test). Builds Release into build-bench/, imports every bundled model
# (models/zoo/*, `ordinal import safetensors`) and stories260K (`ordinal import llama2c`, when
# $ORDINAL_SHARED/models has it), then writes ONE JSON file with:
#   models:  `ordinal bench` per model and thread count (1 and all cores), each in its own process so that
#            peak_rss_kib is the peak of that one session configuration: load time, time to first token,
#            decode tokens/s, weight bytes per token, session and KV cache bytes;
#   kernels: Google Benchmark (tests/bench/bench_kernels.cpp): RoPE f32 reference vs Q15 vs Q31, sinusoidal,
#            table dequantization per scheme (elements/s).
# Usage: tools/bench.sh [OUT.json]   (default build-bench/bench.json)
# Compare two runs: tools/bench-compare OLD.json NEW.json
# Environment: ORDINAL_BENCH_BUILD (build dir), ORDINAL_BENCH_STEPS (decode steps, default 128),
#              ORDINAL_BENCH_REPEAT (default 3), ORDINAL_BENCH_MIN_TIME (kernel seconds, default 0.2),
#              ORDINAL_BENCH_FILTER (kernel regex), ORDINAL_BENCH_MODELS (model name regex).
set -euo pipefail
shopt -s nullglob
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${ORDINAL_BENCH_BUILD:-build-bench}
out=${1:-$build/bench.json}
steps=${ORDINAL_BENCH_STEPS:-128}
repeat=${ORDINAL_BENCH_REPEAT:-3}
min_time=${ORDINAL_BENCH_MIN_TIME:-0.2}
filter=${ORDINAL_BENCH_FILTER:-.}
model_filter=${ORDINAL_BENCH_MODELS:-.}
if [[ -z "${ORDINAL_SHARED:-}" && -d "$root/../shared/models" ]]; then
  ORDINAL_SHARED=$(cd "$root/../shared" && pwd)
fi
command -v jq > /dev/null || { echo "bench: needs jq (apt-get install jq)" >&2; exit 1; }

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j "$(nproc)" --target ordinal ordinal_bench_kernels
cli="$build/tools/ordinal"
work="$build/bench-work"
mkdir -p "$work/models" "$work/runs"
rm -f "$work/runs"/*.json

# Import the models (cached: re-imported only when the source is newer).
models=()
for dir in models/zoo/*/; do
  name=$(basename "$dir")
  [[ -f "$dir/model.safetensors" && "$name" =~ $model_filter ]] || continue
  dst="$work/models/$name.ordinal"
  if [[ ! -f "$dst" || "$dir/model.safetensors" -nt "$dst" ]]; then
    "$cli" import safetensors "$dir" -o "$dst" > /dev/null
  fi
  models+=("$dst")
done
if [[ -n "${ORDINAL_SHARED:-}" && -f "$ORDINAL_SHARED/models/stories260K.bin" && "stories260K" =~ $model_filter ]]; then
  dst="$work/models/stories260K.ordinal"
  if [[ ! -f "$dst" ]]; then
    "$cli" import llama2c "$ORDINAL_SHARED/models/stories260K.bin" "$ORDINAL_SHARED/models/tok512.bin" -o "$dst" > /dev/null
  fi
  models+=("$dst")
fi

cores=$(nproc)
threads_list=(1)
[[ "$cores" -gt 1 ]] && threads_list+=("$cores")
for m in "${models[@]}"; do
  for t in "${threads_list[@]}"; do
    "$cli" bench "$m" --threads "$t" --steps "$steps" --repeat "$repeat" \
      --json "$work/runs/$(basename "$m" .ordinal)-t$t.json"
  done
done

"$build/tests/bench/ordinal_bench_kernels" --benchmark_filter="$filter" --benchmark_min_time="$min_time" \
  --benchmark_out="$work/kernels.json" --benchmark_out_format=json

mkdir -p "$(dirname "$out")"
jq -n --arg commit "$(git rev-parse --short HEAD 2> /dev/null || echo unknown)" \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg host "$(uname -srm)" --argjson cores "$cores" \
  --slurpfile kernels "$work/kernels.json" \
  '{schema: "ordinal-bench-suite-1", commit: $commit, date: $date, host: $host, cores: $cores,
    models: [inputs.runs[]],
    kernels: [$kernels[0].benchmarks[] | {name, items_per_second, cpu_time, real_time, time_unit}
              + (if .table_bytes then {table_bytes} else {} end)]}
   # Ratios within this run: each kernel against the f32 baseline of its family (throughput), each model
   # at all cores against 1 thread (decode tokens/s, time to first token).
   | .ratios = {
       kernels: (
         (.kernels | map({key: .name, value: .items_per_second}) | from_entries) as $k
         | [.kernels[] | (.name | split("/")) as $p
            | ({rope: "f32_reference", sinusoidal: "f32", table_dequant: "f32", runtime_row: "f32"}[$p[0]]) as $base
            | select($base != null and $p[1] != $base and $k["\($p[0])/\($base)"] != null)
            | {key: "\(.name) / \($p[0])/\($base)", value: (.items_per_second / $k["\($p[0])/\($base)"])}]
         | from_entries),
       threads: (
         ([.models[] | select(.threads == 1)] | map({key: "\(.model)|\(.weights)|\(.kv_cache)", value: .})
          | from_entries) as $one
         | [.models[] | select(.threads > 1) | . as $b | $one["\(.model)|\(.weights)|\(.kv_cache)"] as $a
            | select($a != null)
            | {key: "\(.model) t\(.threads) / t1",
               value: {decode_tokens_per_s: ($b.decode_tokens_per_s / $a.decode_tokens_per_s),
                       ttft_ms: ($b.ttft_ms / $a.ttft_ms)}}]
         | from_entries)}' \
  "$work"/runs/*.json > "$out"
echo "bench: wrote $out ($(jq '.models | length' "$out") model runs, $(jq '.kernels | length' "$out") kernels)"
