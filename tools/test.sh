#!/usr/bin/env bash
# Runs every test: installs missing dependencies, builds Release and runs the doctest suites through
# CTest, then the hostile-input stages (docs/trust-boundary.md): the whole suite again under ASan+UBSan,
# the concurrency test under ThreadSanitizer, and the model-loader fuzzer for a bounded time. Golden tests
# on third-party models run when ../shared (or $ORDINAL_SHARED) exists. Prints each stage's time at the end.
# ORDINAL_FUZZ_SECONDS (default 90) bounds the fuzzing stage; 0 skips it. ORDINAL_BUILD_DIR (default build)
# names the build directories: $ORDINAL_BUILD_DIR, -asan, -tsan, -fuzz.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# `stage NAME` starts a stage (and ends the previous one); the summary prints on exit, pass or fail.
stage_names=()
stage_secs=()
stage_name=""
stage_t0=$SECONDS
stage_end() {
  if [[ -n "$stage_name" ]]; then
    stage_names+=("$stage_name")
    stage_secs+=($((SECONDS - stage_t0)))
  fi
  stage_name=""
}
stage() {
  stage_end
  stage_name=$1
  stage_t0=$SECONDS
  echo "== $1"
}
stage_summary() {
  local rc=$?
  stage_end
  echo "== stage timings (s)"
  for i in "${!stage_names[@]}"; do printf '%6d  %s\n' "${stage_secs[$i]}" "${stage_names[$i]}"; done
  printf '%6d  total%s\n' "$SECONDS" "$([[ $rc -eq 0 ]] || echo " (failed, exit $rc)")"
}
trap stage_summary EXIT

stage "setup"
tools/setup.sh

if [[ -z "${ORDINAL_SHARED:-}" && -d "$root/../shared/models" ]]; then
  export ORDINAL_SHARED=$(cd "$root/../shared" && pwd)
fi
jobs=$(nproc)
b=${ORDINAL_BUILD_DIR:-build}

stage "release build"
cmake -S . -B "$b" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$b" -j "$jobs"
stage "tests (release)"
ctest --test-dir "$b" --output-on-failure -j "$jobs"
# An app's view: runtime-only builds installed into prefixes (static, shared), the examples built against
# them with find_package(Ordinal) and pkg-config (C only, C++, Java), each printing the golden text.
if [[ -n "${ORDINAL_SHARED:-}" ]]; then
  stage "install + examples (static, shared; CMake package, pkg-config, Java)"
  tools/install-test.sh "$b"
fi
# Small valid models of every scheme and storage format: the fuzzer's seeds; with story-llama in f32 and
# int8 (wide enough that sessions use their thread pools), the TSan test's models.
rm -rf "$b/fuzz-seeds" "$b/tsan-models"
"$b/tests/fuzz/make_seed_corpus" "$b/fuzz-seeds"
mkdir -p "$b/tsan-models"
cp "$b/fuzz-seeds"/* "$b/tsan-models/"
"$b/tools/ordinal" import safetensors models/zoo/story-llama -o "$b/tsan-models/story-llama.ordinal" > /dev/null
"$b/tools/ordinal" quantize "$b/tsan-models/story-llama.ordinal" "$b/tsan-models/story-llama-int8.ordinal" \
  --weights int8 > /dev/null

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer. -O1 -g1: quicker to build than
# RelWithDebInfo's -O2 -g, still line numbers in reports; the test sources themselves at -O0 (about a
# third of the instrumented compile time of -O1; the code under test stays at -O1).
stage "ASan + UBSan build (whole suite)"
cmake -S . -B "$b-asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DORDINAL_SANITIZE=ON -DORDINAL_TEST_CODE_FLAGS=-O0 > /dev/null
cmake --build "$b-asan" -j "$jobs"
stage "tests (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$b-asan" --output-on-failure -j "$jobs"

# ThreadSanitizer: the runtime, the concurrency tests (on the models above), the thread pool's own test,
# every batch bit-identity and masking test (test_batch builds its models with the host libraries, so
# this build has them; the CLI cases need the `ordinal` binary and run in the Release and ASan stages).
stage "TSan build (runtime + concurrency, batch and observer tests)"
cmake -S . -B "$b-tsan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DORDINAL_TSAN=ON > /dev/null
cmake --build "$b-tsan" -j "$jobs" --target test_concurrency test_thread_pool test_batch_threads test_batch \
  test_attention_profile
stage "test_concurrency, test_thread_pool, test_batch_threads, test_batch, test_attention_profile (TSan)"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
ORDINAL_TEST_MODELS="$root/$b/tsan-models" "$b-tsan/tests/test_concurrency"
ORDINAL_TEST_MODELS="$root/$b/tsan-models" "$b-tsan/tests/test_batch_threads"
"$b-tsan/tests/test_thread_pool"
"$b-tsan/tests/test_batch"
"$b-tsan/tests/test_attention_profile" --test-case-exclude="ordinal profile: CLI*"
unset TSAN_OPTIONS

fuzz_seconds=${ORDINAL_FUZZ_SECONDS:-90}
if [[ "$fuzz_seconds" -gt 0 ]]; then
  stage "fuzz build + loader fuzzing (${fuzz_seconds} s)"
  ORDINAL_FUZZ_BUILD="$b-fuzz" ORDINAL_FUZZ_SEEDS="$root/$b/fuzz-seeds" tools/fuzz.sh "$fuzz_seconds"
fi
# Stages added below: start each with `stage NAME` so that it is timed.

# Cross stage (toolchains/README.md): Debian's arm64/armhf packages as sysroots, tests under qemu-user.
# aarch64 builds everything and runs every doctest file (the stories260K golden output and the golden
# hashes as on x86-64); armhf builds the runtime alone and runs its runtime and numerics suites.
stage "cross: aarch64 (qemu)"
toolchains/cross-test.sh aarch64
stage "cross: armhf (qemu)"
toolchains/cross-test.sh armhf
