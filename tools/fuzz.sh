#!/usr/bin/env bash
# Fuzzes the model loader and the GGUF importer with libFuzzer (clang, ASan+UBSan) for SECONDS (default 120;
# two thirds to the loader, the rest to GGUF) and fails on any crash. GGUF seeds: tests/fuzz/seeds/gguf
# (tiny models written by llama.cpp's gguf-py); its crashing inputs go to tests/fuzz/regressions-tools/gguf/,
# which test_gguf_reader replays. Seeds: small valid models of every scheme and storage format (tests/fuzz/make_seed_corpus, from
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
cmake --build "$build" -j "$(nproc)" --target fuzz_loader fuzz_gguf

seeds=${ORDINAL_FUZZ_SEEDS:-}
if [[ -z "$seeds" ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build build -j "$(nproc)" --target make_seed_corpus
  seeds=$build/seeds
  rm -rf "$seeds"
  build/tests/fuzz/make_seed_corpus "$seeds"
fi
# run_target NAME SECONDS ARTIFACT_DIR SEED_DIR...: fuzzes one target, prints its stats, fails on a crash.
run_target() {
  local name=$1 secs=$2 artifacts=$3
  shift 3
  local corpus=$build/corpus-$name log=$build/fuzz-$name.log status=0
  mkdir -p "$corpus" "$artifacts"
  for dir in "$@" "$artifacts"; do
    if compgen -G "$dir/*" > /dev/null; then cp "$dir"/* "$corpus/"; fi
  done
  UBSAN_OPTIONS=print_stacktrace=1 "$build/tests/fuzz/$name" -max_total_time="$secs" -max_len=65536 \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" \
    > "$log" 2>&1 || status=$?
  grep -E '^(INFO: Seed|#[0-9]+ +(INITED|DONE))|^stat::|^Done ' "$log" || true
  if [[ $status -ne 0 ]]; then
    tail -n 60 "$log"
    for f in $(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log"); do
      echo "fuzz: crashing input $f ($(stat -c %s "$f") bytes), base64:"
      base64 -w 0 "$f"
      echo
    done
    echo "fuzz: $name FAILED (exit $status); full log: $log" >&2
    exit 1
  fi
  local runs
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "fuzz: $name: ${runs:-?} executions in ${secs} s, no crash ($(ls "$corpus" | wc -l) inputs in $corpus)"
}

loader_seconds=$((seconds * 2 / 3))
run_target fuzz_loader "$loader_seconds" tests/fuzz/regressions "$seeds"
run_target fuzz_gguf "$((seconds - loader_seconds))" tests/fuzz/regressions-tools/gguf tests/fuzz/seeds/gguf
