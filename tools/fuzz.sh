#!/usr/bin/env bash
# Fuzzes the model loader with libFuzzer (clang, ASan+UBSan) for SECONDS (default 120), seeded with our
# own small models. Crashing inputs are written to tests/fuzz/regressions/ for the normal tests to replay.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-120}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORDINAL_FUZZ=ON > /dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_loader make_test_model
corpus=build-fuzz/corpus
mkdir -p "$corpus" tests/fuzz/regressions
build-fuzz/tests/make_test_model "$corpus/seed-llama.ordinal"
cp tests/fuzz/regressions/* "$corpus/" 2>/dev/null || true
build-fuzz/tests/fuzz/fuzz_loader -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
  -artifact_prefix=tests/fuzz/regressions/ "$corpus"
