#!/usr/bin/env bash
# Fuzzes the model loader with libFuzzer (clang, ASan+UBSan) for SECONDS (default 120) and fails on any
# crash. Seeds: small valid models of every scheme and storage format (tests/fuzz/make_seed_corpus, from
# $ORDINAL_FUZZ_SEEDS or written with the Release build in build/) plus tests/fuzz/regressions/. A crashing
# input is written to tests/fuzz/regressions/ (test_loader replays that directory in every build: commit it
# with the fix) and printed as base64 so it can be recovered from a CI log. ORDINAL_FUZZ_BUILD: build dir.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-120}
build=${ORDINAL_FUZZ_BUILD:-build-fuzz}
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORDINAL_FUZZ=ON \
  -DORDINAL_BUILD_TOOLS=OFF > /dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_loader

seeds=${ORDINAL_FUZZ_SEEDS:-}
if [[ -z "$seeds" ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build build -j "$(nproc)" --target make_seed_corpus
  seeds=$build/seeds
  rm -rf "$seeds"
  build/tests/fuzz/make_seed_corpus "$seeds"
fi
corpus=$build/corpus
mkdir -p "$corpus" tests/fuzz/regressions
cp "$seeds"/* tests/fuzz/regressions/* "$corpus/"

log=$build/fuzz.log
status=0
UBSAN_OPTIONS=print_stacktrace=1 "$build/tests/fuzz/fuzz_loader" -max_total_time="$seconds" -max_len=65536 \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=tests/fuzz/regressions/ "$corpus" \
  > "$log" 2>&1 || status=$?
grep -E '^(INFO: Seed|#[0-9]+ +(INITED|DONE))|^stat::|^Done ' "$log" || true
if [[ $status -ne 0 ]]; then
  tail -n 60 "$log"
  for f in $(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log"); do
    echo "fuzz: crashing input $f ($(stat -c %s "$f") bytes), base64:"
    base64 -w 0 "$f"
    echo
  done
  echo "fuzz: FAILED (exit $status); full log: $log" >&2
  exit 1
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
echo "fuzz: ${runs:-?} executions in ${seconds} s, no crash ($(ls "$corpus" | wc -l) inputs in $corpus)"
