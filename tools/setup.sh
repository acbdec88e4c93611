#!/usr/bin/env bash
# Installs Ordinal's build and test dependencies from Debian's packages (idempotent; needs root only
# when something is missing). Debian 12 (bookworm) or Raspberry Pi OS.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ clang clang-format   # toolchain (clang for the fuzzer; clang-format: style test)
  libclang-rt-dev                      # clang's libFuzzer/ASan/UBSan runtimes: only a Recommends of clang,
                                       # which --no-install-recommends below leaves out
  libcpuinfo-dev                                     # CPU detection (ISA paths, thread count)
  libflatbuffers-dev flatbuffers-compiler            # model format + flatc
  doctest-dev                                        # tests
  nlohmann-json3-dev                                 # JSON for the host tools (safetensors, task specs, verify --json)
  libbenchmark-dev jq                                # benchmarks (tests/bench, tools/bench.sh, tools/bench-compare)
  openjdk-17-jdk-headless                            # the Java binding (bindings/java) and its tests
  pkg-config                                         # tools/install-test.sh builds the examples with it
)
if [[ "${ORDINAL_CROSS:-0}" == 1 ]]; then
  PACKAGES+=(crossbuild-essential-arm64 crossbuild-essential-armhf qemu-user)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
