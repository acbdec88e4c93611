#!/usr/bin/env bash
# Cross-builds Ordinal for a Raspberry Pi OS / Debian ARM target and runs its doctest suites under
# qemu-user, with the target's own Debian libraries (toolchains/make-sysroot.sh).
#
#   toolchains/cross-test.sh aarch64   # runtime, CLI and every doctest file (golden tests included)
#   toolchains/cross-test.sh armhf     # the runtime alone (no host tools) and its runtime/numerics tests
#
# Build trees: build-aarch64/, build-armhf/ (sysroot inside). ORDINAL_SHARED (default ../shared when it
# exists) reaches the tests, so the stories260K golden test runs the cross-built CLI under qemu.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

target=${1:-}
case "$target" in
  aarch64) triple=aarch64-linux-gnu debarch=arm64 ;;
  armhf) triple=arm-linux-gnueabihf debarch=armhf ;;
  *) echo "usage: $0 aarch64|armhf" >&2; exit 2 ;;
esac
ORDINAL_CROSS=1 tools/setup.sh  # cross compilers and qemu-user, when missing

if [[ -z "${ORDINAL_SHARED:-}" && -d "$root/../shared/models" ]]; then
  export ORDINAL_SHARED=$(cd "$root/../shared" && pwd)
fi
jobs=$(nproc)
build="build-$target"
toolchains/make-sysroot.sh "$debarch" "$build/sysroot"

# Test cases that run host-side search/verification loops over real models (hundreds of forward passes of
# kernels the other cases already cover; 7-9 s natively, 6-9 min each under qemu): every doctest file
# still runs under qemu, these cases run natively only (tools/test.sh's release stage).
ARGS=()
if [[ "$target" == aarch64 ]]; then
  ARGS+=("-DORDINAL_TEST_ARGS_test_quantize_search=--test-case-exclude=story-gpt2*"
         "-DORDINAL_TEST_ARGS_test_quantized_cli=--test-case-exclude=stories260K: int8 weights verify*"
         "-DORDINAL_TEST_ARGS_test_quantize_group=--test-case-exclude=stories260K: int8-g32 and int4*")
fi

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE="toolchains/$triple.cmake" \
  -DORDINAL_SYSROOT="$root/$build/sysroot" "${ARGS[@]}" \
  $([[ "$target" == armhf ]] && echo -DORDINAL_BUILD_TOOLS=OFF) > "$build/configure.log" ||
  { cat "$build/configure.log" >&2; exit 1; }

if [[ "$target" == aarch64 ]]; then
  cmake --build "$build" -j "$jobs"
  ctest --test-dir "$build" --output-on-failure -j "$jobs"
else
  # Runtime and numerics suites: what runs on the device without the host tools.
  tests=(test_fixed_point test_half test_trig_fixed test_rope_fixed test_sinusoidal test_alibi
         test_relative_bias test_table_dequant test_simd_kernels test_sampler test_dense_gemm test_thread_pool
         test_hostile_numerics test_group_gemm)
  cmake --build "$build" -j "$jobs" --target ordinal_runtime "${tests[@]}"
  regex="^($(IFS='|'; echo "${tests[*]}")|runtime_symbols)\$"
  ctest --test-dir "$build" --output-on-failure -j "$jobs" -R "$regex"
fi
