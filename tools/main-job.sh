#!/usr/bin/env bash
# The main job: build; import the shipped GPT-2-style story model (models/zoo/story-gpt2, learned position
# table) and the real llama-family model (stories260K, ../shared/models); quantize their positional parts;
# verify on order-sensitive tests that nothing about order was lost; generate text with the quantized models.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)" --target ordinal
ordinal=build/tools/ordinal
mkdir -p out
shared=${ORDINAL_SHARED:-$root/../shared}
text="$shared/corpus/tinystories_val_head.txt"

echo "== import the shipped GPT-2-style story model (learned position table)"
$ordinal import safetensors models/zoo/story-gpt2 -o out/story-gpt2.ordinal
echo "== quantize its position table: int8 per row"
$ordinal quantize out/story-gpt2.ordinal out/story-gpt2-int8row.ordinal --pos int8-row
# story-gpt2 was trained on the first 90% of the paragraphs; evaluate it on the held-out last 10%.
# Without ../shared, verify evaluates on sequences the reference model samples itself.
eval_input=()
if [[ -f "$text" ]]; then
  awk 'BEGIN { RS = ""; ORS = "\n\n" } { p[NR] = $0 } END { for (i = int(NR * 0.9) + 1; i <= NR; i++) print p[i] }' \
    "$text" > out/tinystories-heldout.txt
  eval_input=(--text out/tinystories-heldout.txt)
fi
echo "== verify story-gpt2 -> int8-row position table"
$ordinal verify out/story-gpt2.ordinal out/story-gpt2-int8row.ordinal "${eval_input[@]}" --max-positions 8192 \
  --max-ppl-delta 0.002 --min-gap-ratio 0.98 --json out/verify-story-gpt2-int8row.json \
  --report out/verify-story-gpt2-int8row.html

if [[ -f "$shared/models/stories260K.bin" ]]; then
  echo "== import stories260K (llama2.c checkpoint, RoPE)"
  $ordinal import llama2c "$shared/models/stories260K.bin" "$shared/models/tok512.bin" -o out/stories260K.ordinal
  echo "== quantize: RoPE in Q15 fixed point (exact phase at every position)"
  $ordinal quantize out/stories260K.ordinal out/stories260K-q15.ordinal --pos rope-q15
  echo "== verify stories260K f32 -> rope-q15 on TinyStories text"
  $ordinal verify out/stories260K.ordinal out/stories260K-q15.ordinal --text "$text" --max-positions 8192 \
    --min-top1 0.999 --max-ppl-delta 0.001 --json out/verify-stories260K-q15.json --report out/verify-stories260K-q15.html
  echo "== generate with the quantized stories260K (greedy, 256 steps)"
  $ordinal run out/stories260K-q15.ordinal -t 0 -n 256
else
  echo "main-job: $shared/models/stories260K.bin not found (set ORDINAL_SHARED); skipping the llama2.c model" >&2
fi
echo "== generate with the quantized story-gpt2 (temperature 0.8, top-p 0.9)"
$ordinal run out/story-gpt2-int8row.ordinal -t 0.8 --top-p 0.9 --seed 7 -n 200 -p "One day, Lily found a"
