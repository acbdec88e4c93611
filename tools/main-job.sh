#!/usr/bin/env bash
# The main job: build, import the real model (stories260K from ../shared when present), inspect it,
# and generate text with it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)" --target ordinal
ordinal=build/tools/ordinal
mkdir -p out
shared=${ORDINAL_SHARED:-$root/../shared}
if [[ -f "$shared/models/stories260K.bin" ]]; then
  echo "== import stories260K (llama2.c checkpoint)"
  $ordinal import llama2c "$shared/models/stories260K.bin" "$shared/models/tok512.bin" -o out/stories260K.ordinal
  $ordinal inspect out/stories260K.ordinal --summary
  echo "== generate (greedy, 256 steps)"
  $ordinal run out/stories260K.ordinal -t 0 -n 256
  echo "== generate (temperature 0.8, top-p 0.9, prompt)"
  $ordinal run out/stories260K.ordinal -t 0.8 --top-p 0.9 --seed 7 -n 200 -p "One day, Lily found a"
else
  echo "main-job: $shared/models/stories260K.bin not found (set ORDINAL_SHARED)" >&2
  exit 1
fi
