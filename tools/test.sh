#!/usr/bin/env bash
# Runs every test: installs missing dependencies, builds (Release and ASan+UBSan), runs the doctest
# suites through CTest. Golden tests on third-party models run when ../shared (or $ORDINAL_SHARED) exists.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/setup.sh

if [[ -z "${ORDINAL_SHARED:-}" && -d "$root/../shared/models" ]]; then
  export ORDINAL_SHARED=$(cd "$root/../shared" && pwd)
fi
jobs=$(nproc)

echo "== release build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$jobs"
echo "== tests (release)"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== ASan + UBSan build: loader, session, C API"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORDINAL_SANITIZE=ON > /dev/null
cmake --build build-asan -j "$jobs" --target test_loader test_session test_tokenizer test_c_api make_test_model
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -R '^(test_loader|test_session|test_tokenizer|make_test_model|test_c_api)$'
