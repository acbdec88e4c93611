#!/usr/bin/env bash
# Fuzzes the model loader and the host tools' input paths with libFuzzer (clang, ASan+UBSan) for SECONDS in
# all (default 120) and fails on any crash, hang (-timeout) or runaway allocation (-rss_limit_mb). Half the
# budget goes to the loader, the rest is split evenly across the safetensors, llama2.c and GGUF importers,
# the task-spec path and the tokenizer.
# Loader seeds: small valid models of every scheme and storage format (tests/fuzz/make_seed_corpus, from
# $ORDINAL_FUZZ_SEEDS or written with the Release build in build/) plus tests/fuzz/regressions/; other
# targets: tests/fuzz/seeds/TARGET/ plus tests/fuzz/regressions-tools/TARGET/. A crashing input is written to
# the target's regressions directory (test_loader replays the loader's in every build: commit it with the
# fix) and printed as base64 so it can be recovered from a CI log. ORDINAL_FUZZ_BUILD: build dir.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-120}
build=${ORDINAL_FUZZ_BUILD:-build-fuzz}
tool_targets=(safetensors llama2c gguf task_spec tokenizer)
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORDINAL_FUZZ=ON \
  -DORDINAL_BUILD_TOOLS=OFF > /dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_loader "${tool_targets[@]/#/fuzz_}"

seeds=${ORDINAL_FUZZ_SEEDS:-}
if [[ -z "$seeds" ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build build -j "$(nproc)" --target make_seed_corpus
  seeds=$build/seeds
  rm -rf "$seeds"
  build/tests/fuzz/make_seed_corpus "$seeds"
fi

loader_seconds=$(( (seconds + 1) / 2 ))
tool_seconds=$(( (seconds - loader_seconds) / ${#tool_targets[@]} ))
(( tool_seconds >= 1 )) || tool_seconds=1
failed=0

# fuzz NAME SECONDS MAX_LEN ARTIFACTS CORPUS
fuzz() {
  local name=$1 secs=$2 max_len=$3 artifacts=$4 corpus=$5
  local log=$build/fuzz-$name.log status=0
  mkdir -p "$artifacts"
  UBSAN_OPTIONS=print_stacktrace=1 "$build/tests/fuzz/fuzz_$name" -max_total_time="$secs" -max_len="$max_len" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" \
    > "$log" 2>&1 || status=$?
  grep -E '^(INFO: Seed|#[0-9]+ +(INITED|DONE))|^stat::|^Done ' "$log" || true
  if [[ $status -ne 0 ]]; then
    tail -n 60 "$log"
    for f in $(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log"); do
      echo "fuzz $name: crashing input $f ($(stat -c %s "$f") bytes), base64:"
      base64 -w 0 "$f"
      echo
    done
    echo "fuzz $name: FAILED (exit $status); full log: $log" >&2
    failed=1
    return
  fi
  local runs
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "fuzz $name: ${runs:-?} executions in ${secs} s, no crash ($(ls "$corpus" | wc -l) inputs in $corpus)"
}

corpus=$build/corpus
mkdir -p "$corpus" tests/fuzz/regressions
cp "$seeds"/* tests/fuzz/regressions/* "$corpus/"
fuzz loader "$loader_seconds" 65536 tests/fuzz/regressions "$corpus"

for t in "${tool_targets[@]}"; do
  corpus=$build/corpus-$t
  regress=tests/fuzz/regressions-tools/$t
  mkdir -p "$corpus" "$regress"
  cp tests/fuzz/seeds/$t/* "$corpus/"
  find "$regress" -maxdepth 1 -type f -exec cp {} "$corpus/" \;
  max_len=16384
  [[ $t == gguf ]] && max_len=65536  # its seeds are whole tiny models
  fuzz "$t" "$tool_seconds" "$max_len" "$regress" "$corpus"
done
# Empty regression directories are not committed.
find tests/fuzz/regressions-tools -type d -empty -delete 2>/dev/null || true
exit $failed
