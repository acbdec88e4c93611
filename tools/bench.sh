#!/usr/bin/env bash
# The tracked benchmark suite (not a test; CI never runs it). Builds Release into build-bench/, then writes ONE
# JSON file with, all measured in this one run:
#   bandwidth: the machine's read bandwidth (tools/bandwidth, 1 thread and all cores): the ceiling of
#            weight-streaming decode;
#   models:  `ordinal bench` per model, weight format and thread count (1 and all cores), each in its own
#            process so that peak_rss_kib is that configuration's: load time, session-create time, time to
#            first token and prefill tokens/s, decode tokens/s (wall and per CPU second), weight bytes per
#            token, achieved weight GB/s and its fraction of the read bandwidth, session and KV cache bytes.
#            Models: every bundled zoo model (models/zoo/*), stories260K (when $ORDINAL_SHARED/models has
#            it), and synthetic random-weight checkpoints of realistic shapes written in this run by
#            ordinal-benchmodel (stories15M/42M/110M as llama2.c files, gpt2-small as safetensors; imported
#            with `ordinal import`, then `ordinal quantize --weights` for each weight format);
#   peers:   when $ORDINAL_PEERS names a folder built per ../shared/peers/README.md (run, llama.cpp/build/bin):
#            llama2.c run.c on stories260K and the synthetic llama2.c models, llama.cpp's llama-bench on the
#            same synthetic weights converted by its own tools (F32, Q8_0, Q4_0), with ratios against Ordinal;
#   kernels: Google Benchmark (tests/bench/bench_kernels.cpp).
# Usage: tools/bench.sh [OUT.json]   (default build-bench/bench.json)
# Compare two runs: tools/bench-compare OLD.json NEW.json
# Environment: ORDINAL_BENCH_BUILD (build dir), ORDINAL_BENCH_STEPS (decode steps, default 128),
#              ORDINAL_BENCH_REPEAT (default 3), ORDINAL_BENCH_MIN_TIME (kernel seconds, default 0.2),
#              ORDINAL_BENCH_FILTER (kernel regex), ORDINAL_BENCH_MODELS (model name regex),
#              ORDINAL_BENCH_SYNTH (synthetic shapes, default stories15M,stories42M,stories110M,gpt2-small;
#              "none" skips them), ORDINAL_BENCH_WEIGHTS (their weight formats, default f32,int8 plus
#              int8-g32,int4 when `ordinal quantize` has them), ORDINAL_BENCH_SYNTH_STEPS (default 64),
#              ORDINAL_BENCH_PROMPT (prompt tokens for prefill, default 64), ORDINAL_PEERS (peer builds),
#              ORDINAL_BENCH_BANDWIDTH_MIB (default 512).
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
synth_list=${ORDINAL_BENCH_SYNTH:-stories15M,stories42M,stories110M,gpt2-small}
synth_steps=${ORDINAL_BENCH_SYNTH_STEPS:-64}
prompt_tokens=${ORDINAL_BENCH_PROMPT:-64}
bandwidth_mib=${ORDINAL_BENCH_BANDWIDTH_MIB:-512}
peers=${ORDINAL_PEERS:-}
if [[ -z "${ORDINAL_SHARED:-}" && -d "$root/../shared/models" ]]; then
  ORDINAL_SHARED=$(cd "$root/../shared" && pwd)
fi
command -v jq > /dev/null || { echo "bench: needs jq (apt-get install jq)" >&2; exit 1; }

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j "$(nproc)" --target ordinal ordinal_bench_kernels ordinal-benchmodel ordinal-bandwidth
cli="$build/tools/ordinal"
work="$build/bench-work"
mkdir -p "$work/models" "$work/runs" "$work/synthetic" "$work/peers"
rm -f "$work/runs"/*.json "$work/peers"/*.json

cores=$(nproc)
threads_list=(1)
[[ "$cores" -gt 1 ]] && threads_list+=("$cores")
"$build/tools/ordinal-bandwidth" --mib "$bandwidth_mib" --threads "$(IFS=,; echo "${threads_list[*]}")" \
  --json "$work/bandwidth.json"

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

for m in "${models[@]}"; do
  for t in "${threads_list[@]}"; do
    "$cli" bench "$m" --threads "$t" --steps "$steps" --repeat "$repeat" \
      --json "$work/runs/$(basename "$m" .ordinal)-t$t.json"
  done
done

# Synthetic checkpoints of realistic shapes, written in this run (deterministic: regenerated only when the
# generator is newer), imported, and quantized to each weight format.
if [[ "$synth_list" != none ]]; then
  if [[ -z "${ORDINAL_BENCH_WEIGHTS:-}" ]]; then
    weights_list=f32,int8
    "$cli" quantize --help 2>&1 | grep -q -- "--weights .*int4" && weights_list=f32,int8,int8-g32,int4
  else
    weights_list=$ORDINAL_BENCH_WEIGHTS
  fi
  gen="$build/tools/ordinal-benchmodel"
  syn="$work/synthetic"
  IFS=, read -r -a shapes <<< "$synth_list"
  IFS=, read -r -a weight_formats <<< "$weights_list"
  for shape in "${shapes[@]}"; do
    [[ "$shape" =~ $model_filter ]] || continue
    if [[ "$shape" == gpt2* ]]; then
      src="$syn/$shape/model.safetensors"
      [[ -f "$src" && "$src" -nt "$gen" ]] || "$gen" "$shape" "$syn"
      base="$syn/$shape-f32.ordinal"
      [[ -f "$base" && "$base" -nt "$src" ]] || "$cli" import safetensors "$syn/$shape" -o "$base" > /dev/null
    else
      src="$syn/$shape.bin"
      [[ -f "$src" && "$src" -nt "$gen" ]] || "$gen" "$shape" "$syn"
      base="$syn/$shape-f32.ordinal"
      [[ -f "$base" && "$base" -nt "$src" ]] ||
        "$cli" import llama2c "$src" "$syn/$shape.tokenizer.bin" -o "$base" > /dev/null
    fi
    for w in "${weight_formats[@]}"; do
      m="$syn/$shape-$w.ordinal"
      if [[ "$w" != f32 && ! ( -f "$m" && "$m" -nt "$base" ) ]]; then
        "$cli" quantize "$base" "$m" --weights "$w" > /dev/null
      fi
      for t in "${threads_list[@]}"; do
        "$cli" bench "$m" --threads "$t" --steps "$synth_steps" --prompt-tokens "$prompt_tokens" \
          --repeat "$repeat" --json "$work/runs/$shape-$w-t$t.json"
      done
    done
  done
fi

# Peers on the same weights, in the same run (see ../shared/peers/README.md for building them).
if [[ -n "$peers" ]]; then
  run_c="$peers/run"
  llama_bin="$peers/llama.cpp/build/bin"
  # Optional CPU-clock builds of the peers (the same source with its timer reading the process CPU clock,
  # as `ordinal bench` reports tok/cpu-s): on a loaded machine the wall clock counts other processes' time.
  run_c_cpu="$peers/run_cpu"
  peer_json() {  # peer model precision threads decode prefill [decode_cpu prefill_cpu] (tokens/s)
    jq -n --arg peer "$1" --arg model "$2" --arg precision "$3" --argjson threads "$4" \
      --argjson decode "$5" --argjson prefill "${6:-null}" --argjson decode_cpu "${7:-null}" \
      --argjson prefill_cpu "${8:-null}" \
      '{peer: $peer, model: $model, precision: $precision, threads: $threads,
        decode_tokens_per_s: $decode, prefill_tokens_per_s: $prefill,
        decode_tokens_per_cpu_s: $decode_cpu, prefill_tokens_per_cpu_s: $prefill_cpu}'
  }
  run_c_tps() {  # binary model tokenizer -> run.c's "achieved tok/s" (greedy from BOS, 256 positions), best of $repeat
    local best=0 v
    [[ -x "$1" ]] || { echo null; return; }
    for _ in $(seq "$repeat"); do
      v=$("$1" "$2" -z "$3" -t 0 -n 256 -i "" 2>&1 > /dev/null | sed -n 's/^achieved tok\/s: //p')
      best=$(jq -n --argjson a "${v:-0}" --argjson b "$best" '[$a, $b] | max')
    done
    echo "$best"
  }
  # run.c's workload for Ordinal too: greedy decode of 255 tokens after one prompt token, one thread; the
  # run is recorded as model "NAME@run.c" so that it does not mix with the suite's own settings.
  ordinal_runc_workload() {  # name model.ordinal
    "$cli" bench "$2" --threads 1 --steps 255 --prompt-tokens 1 --repeat "$repeat" --json "$work/runc.tmp.json" \
      > /dev/null
    jq --arg name "$1@run.c" '.runs[] |= (.model = $name)' "$work/runc.tmp.json" > "$work/runs/$1-runc.json"
  }
  if [[ -x "$run_c" ]]; then
    if [[ -n "${ORDINAL_SHARED:-}" && -f "$ORDINAL_SHARED/models/stories260K.bin" && -f "$work/models/stories260K.ordinal" ]]; then
      ordinal_runc_workload stories260K "$work/models/stories260K.ordinal"
      m260=("$ORDINAL_SHARED/models/stories260K.bin" "$ORDINAL_SHARED/models/tok512.bin")
      peer_json run.c stories260K@run.c f32 1 "$(run_c_tps "$run_c" "${m260[@]}")" null \
        "$(run_c_tps "$run_c_cpu" "${m260[@]}")" > "$work/peers/run.c-stories260K.json"
    fi
    for shape in "${shapes[@]:-}"; do
      [[ -n "$shape" && "$shape" != gpt2* && "$shape" =~ $model_filter ]] || continue
      ordinal_runc_workload "$shape" "$syn/$shape-f32.ordinal"
      peer_json run.c "$shape@run.c" f32 1 "$(run_c_tps "$run_c" "$syn/$shape.bin" "$syn/$shape.tokenizer.bin")" \
        null "$(run_c_tps "$run_c_cpu" "$syn/$shape.bin" "$syn/$shape.tokenizer.bin")" > "$work/peers/run.c-$shape.json"
    done
  fi
  if [[ -x "$llama_bin/llama-bench" ]]; then
    for shape in "${shapes[@]:-}"; do
      [[ -n "$shape" && "$shape" != gpt2* && "$shape" =~ $model_filter ]] || continue
      g="$work/peers/$shape.gguf"
      [[ -f "$g" && "$g" -nt "$syn/$shape.bin" ]] ||
        "$llama_bin/llama-convert-llama2c-to-ggml" --copy-vocab-from-model "$syn/$shape.tokenizer.bin" \
          --llama2c-model "$syn/$shape.bin" --llama2c-output-model "$g" > "$work/peers/convert-$shape.log" 2>&1
      for q in F32 Q8_0 Q4_0; do
        gq="$work/peers/$shape-$q.gguf"
        if [[ "$q" == F32 ]]; then
          gq=$g
        elif [[ ! ( -f "$gq" && "$gq" -nt "$g" ) ]]; then
          "$llama_bin/llama-quantize" "$g" "$gq" "$q" > "$work/peers/quantize-$shape-$q.log" 2>&1
        fi
        for t in "${threads_list[@]}"; do
          raw="$work/peers/llama-$shape-$q-t$t"
          "$llama_bin/llama-bench" -m "$gq" -p "$prompt_tokens" -n "$synth_steps" -t "$t" -r "$repeat" -o json \
            2> /dev/null > "$raw.raw"
          printf '[]' > "$raw.cpu.raw"
          if [[ -x "$llama_bin/llama-bench-cpu" ]]; then
            "$llama_bin/llama-bench-cpu" -m "$gq" -p "$prompt_tokens" -n "$synth_steps" -t "$t" -r "$repeat" \
              -o json 2> /dev/null > "$raw.cpu.raw"
          fi
          pick() { jq "[.[] | select(.$2 > 0) | .avg_ts] | first // null" "$1"; }
          peer_json llama.cpp "$shape" "$q" "$t" "$(pick "$raw.raw" n_gen)" "$(pick "$raw.raw" n_prompt)" \
            "$(pick "$raw.cpu.raw" n_gen)" "$(pick "$raw.cpu.raw" n_prompt)" > "$raw.json"
        done
      done
    done
  fi
fi
printf '[]' > "$work/peers/none.json"

"$build/tests/bench/ordinal_bench_kernels" --benchmark_filter="$filter" --benchmark_min_time="$min_time" \
  --benchmark_out="$work/kernels.json" --benchmark_out_format=json

mkdir -p "$(dirname "$out")"
jq -n --arg commit "$(git rev-parse --short HEAD 2> /dev/null || echo unknown)" \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg host "$(uname -srm)" --argjson cores "$cores" \
  --slurpfile kernels "$work/kernels.json" --slurpfile bandwidth "$work/bandwidth.json" \
  --slurpfile peers <(jq -s '[.[] | if type == "array" then .[] else . end]' "$work"/peers/*.json) \
  '{schema: "ordinal-bench-suite-1", commit: $commit, date: $date, host: $host, cores: $cores,
    bandwidth: $bandwidth[0].runs,
    peers: $peers[0],
    models: [inputs.runs[]],
    kernels: [$kernels[0].benchmarks[] | {name, items_per_second, cpu_time, real_time, time_unit}
              + (if .table_bytes then {table_bytes} else {} end)]}
   # Ratios within this run: each kernel against the f32 baseline of its family (throughput), each model
   # at all cores against 1 thread (decode tokens/s, time to first token).
   # Achieved weight bandwidth of each decode as a fraction of the read bandwidth at its thread count.
   | (.bandwidth | map({key: "\(.threads)", value: .read_gb_per_s}) | from_entries) as $bw
   # The same per CPU second: decode tokens per CPU-second x weight bytes over the read loop bytes per
   # CPU-second (robust to other processes on a loaded machine; the 1-thread figure is the reliable one).
   | (.bandwidth | map({key: "\(.threads)", value: .read_gb_per_cpu_s}) | from_entries) as $bwc
   | .models |= map(. + {bandwidth_fraction:
       (if $bw["\(.threads)"] and .decode_weight_gb_per_s then .decode_weight_gb_per_s / $bw["\(.threads)"]
        else null end),
       bandwidth_fraction_cpu:
       (if $bwc["\(.threads)"] and .decode_tokens_per_cpu_s then
          1e-9 * .decode_tokens_per_cpu_s * .weight_bytes_per_token / $bwc["\(.threads)"] else null end)})
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
         | from_entries),
       # Ordinal / peer on the same weights: run.c against f32, llama.cpp F32/Q8_0/Q4_0 against Ordinal
       # f32 / int8 (per-row and groups of 32) / int4.
       peers: (
         (.models | map({key: "\(.model | sub("\\.ordinal$"; ""))|\(.threads)", value: .}) | from_entries) as $om
         | [.peers[] | . as $p
            | ({"f32": ["f32"], "F32": ["f32"], "Q8_0": ["int8", "int8-g32"], "Q4_0": ["int4"]}[.precision]
               // [])[] as $fmt
            | ($om["\($p.model)-\($fmt)|\($p.threads)"] // (if $fmt == "f32" then $om["\($p.model)|\($p.threads)"]
                                                         else null end)) as $o
            | select($o != null and $p.decode_tokens_per_s > 0)
            | {key: "\($p.model) t\($p.threads) ordinal \($fmt) / \($p.peer) \($p.precision)",
               value: {decode: ($o.decode_tokens_per_s / $p.decode_tokens_per_s),
                       prefill: (if ($p.prefill_tokens_per_s // 0) > 0 then
                                   $o.prefill_tokens_per_s / $p.prefill_tokens_per_s else null end)}}]
         | from_entries)}' \
  "$work"/runs/*.json > "$out"

# The summary: per synthetic model, Ordinal beside the peers, decode (prefill) tokens per CPU second and per
# wall second, and f32 decode as a fraction of the read bandwidth on the same clock.
jq -r '
  def f: if . == null then "-" else (. * 10 | round) / 10 | tostring end;
  def pct: if . == null then "-" else "\((. * 1000 | round) / 10)%" end;
  (.models | map({key: "\(.model | sub("\\.ordinal$"; ""))|\(.threads)", value: .}) | from_entries) as $om
  | (.peers | map({key: "\(.peer)|\(.model)|\(.precision)|\(.threads)", value: .}) | from_entries) as $pm
  | ([.models[] | .model | sub("\\.ordinal$"; "") | select(test("-(f32|int8|int8-g32|int4)$"))
      | sub("-(f32|int8|int8-g32|int4)$"; "")] | unique) as $shapes
  | (.bandwidth | map(.threads)) as $threads
  | (["cpu", "decode_tokens_per_cpu_s", "prefill_tokens_per_cpu_s", "bandwidth_fraction_cpu"],
     ["wall", "decode_tokens_per_s", "prefill_tokens_per_s", "bandwidth_fraction"]) as [$clock, $dk, $pk, $fk]
  | "decode tokens/s (prefill tokens/s), \($clock) clock, same run:",
    "model | threads | ordinal f32 | llama.cpp F32 | ordinal int8 | ordinal int8-g32 | llama.cpp Q8_0 | ordinal int4 | llama.cpp Q4_0 | f32 / int8-g32 / int4 bandwidth fraction",
    ($shapes[] as $s | $threads[] as $t
     | def cell: if . == null then "-" else "\(.[$dk] | f) (\(.[$pk] | f))" end;
       "\($s) | \($t) | \($om["\($s)-f32|\($t)"] | cell) | \($pm["llama.cpp|\($s)|F32|\($t)"] | cell) | \($om["\($s)-int8|\($t)"] | cell) | \($om["\($s)-int8-g32|\($t)"] | cell) | \($pm["llama.cpp|\($s)|Q8_0|\($t)"] | cell) | \($om["\($s)-int4|\($t)"] | cell) | \($pm["llama.cpp|\($s)|Q4_0|\($t)"] | cell) | \($om["\($s)-f32|\($t)"][$fk] | pct) / \($om["\($s)-int8-g32|\($t)"][$fk] | pct) / \($om["\($s)-int4|\($t)"][$fk] | pct)"),
    (.peers[] | select(.peer == "run.c") | $om["\(.model)|1"] as $o
     | select($o != null and .[$dk] != null)
     | "\(.model | sub("@run.c"; "")) (run.c workload: greedy, 255 tokens, 1 thread): ordinal f32 \($o[$dk] | f) vs llama2.c run.c \(.[$dk] | f) tok/s (x\(($o[$dk] / .[$dk] * 100 | round) / 100))"),
    ""
' "$out"
jq -r '.bandwidth[] | "read bandwidth, \(.threads) thread(s): \((.read_gb_per_s * 10 | round) / 10) GB/s wall, \((.read_gb_per_cpu_s * 10 | round) / 10) GB per CPU-second"' "$out"
echo "bench: wrote $out ($(jq '.models | length' "$out") model runs, $(jq '.kernels | length' "$out") kernels)"
