#!/usr/bin/env python3
"""Float64 reference for the two RoPE variants real checkpoints use, written as small JSON test data.

  python3 models/train/rope_variants_reference.py tests/data/rope_variants_reference.json

* Llama-3.1 frequency scaling ("rope_type": "llama3"): HF transformers' _compute_llama3_parameters,
  transcribed in numpy float64 (inv_freq per pair).
* Partial rotary (HF partial_rotary_factor / GPT-NeoX rotary_pct): only the first rotary_dims of a head
  rotate (split-half: pairs (j, j + rotary_dims/2) as HF rotate_half on the rotary slice; interleaved:
  pairs (2j, 2j+1)); the remaining dims pass through unchanged. Rotations are computed in float64 from
  angle = pos * inv_freq, so they are independent of the runtime's uint64 phases and integer sin/cos.

The C++ tests (tests/unit/test_rope_variants.cpp) read the JSON; they never run Python.
"""
import json
import math
import sys

import numpy as np


def default_inv_freq(rotary_dims, base):
    return 1.0 / (base ** (np.arange(0, rotary_dims, 2, dtype=np.float64) / rotary_dims))


def llama3_inv_freq(rotary_dims, base, factor, low_freq_factor, high_freq_factor, original):
    """HF transformers modeling_rope_utils._compute_llama3_parameters in float64."""
    inv_freq = default_inv_freq(rotary_dims, base)
    low_freq_wavelen = original / low_freq_factor
    high_freq_wavelen = original / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = np.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth_factor = (original / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
    return np.where(is_medium, smoothed, inv_freq_llama)


def rotate(x, head_dim, rotary_dims, layout, inv_freq, pos):
    """Rotates every head of x (n_heads * head_dim values) to position pos; dims >= rotary_dims untouched."""
    out = np.array(x, dtype=np.float64).reshape(-1, head_dim).copy()
    half = rotary_dims // 2
    angle = float(pos) * inv_freq
    c, s = np.cos(angle), np.sin(angle)
    if layout == "split_half":
        a, b = out[:, :half].copy(), out[:, half:rotary_dims].copy()
        out[:, :half] = a * c - b * s
        out[:, half:rotary_dims] = a * s + b * c
    else:
        a, b = out[:, 0:rotary_dims:2].copy(), out[:, 1:rotary_dims:2].copy()
        out[:, 0:rotary_dims:2] = a * c - b * s
        out[:, 1:rotary_dims:2] = a * s + b * c
    return out.reshape(-1)


def main(path):
    rng = np.random.default_rng(20261129)
    scalings = [
        # Llama 3.1 8B's settings on a small head, and a second band placement.
        {"name": "llama3.1", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original": 8192},
        {"name": "llama3-short", "factor": 4.0, "low_freq_factor": 2.0, "high_freq_factor": 8.0, "original": 64},
    ]
    freq_cases = []
    for sc in scalings:
        for rotary_dims, base in [(128, 500000.0), (64, 10000.0), (16, 10000.0)]:
            inv = llama3_inv_freq(rotary_dims, base, sc["factor"], sc["low_freq_factor"], sc["high_freq_factor"],
                                  sc["original"])
            freq_cases.append({"scaling": sc, "rotary_dims": rotary_dims, "base": base,
                               "inv_freq": [float(v) for v in inv]})

    positions = [0, 1, 7, 100, 4095, 65537, 1000003]
    rotation_cases = []
    for layout in ["split_half", "interleaved"]:
        for head_dim, rotary_dims, base, sc in [(16, 8, 10000.0, None), (16, 8, 10000.0, scalings[1]),
                                                (32, 16, 500000.0, scalings[0]), (16, 16, 10000.0, scalings[1])]:
            if sc is None:
                inv = default_inv_freq(rotary_dims, base)
            else:
                inv = llama3_inv_freq(rotary_dims, base, sc["factor"], sc["low_freq_factor"],
                                      sc["high_freq_factor"], sc["original"])
            n_heads = 2
            x = rng.uniform(-1.0, 1.0, n_heads * head_dim).astype(np.float32).astype(np.float64)
            rotation_cases.append({
                "layout": layout, "head_dim": head_dim, "rotary_dims": rotary_dims, "base": base,
                "scaling": sc, "n_heads": n_heads, "input": [float(v) for v in x],
                "positions": positions,
                "expected": [[float(v) for v in rotate(x, head_dim, rotary_dims, layout, inv, p)] for p in positions],
            })
    with open(path, "w") as f:
        json.dump({"generator": "models/train/rope_variants_reference.py (numpy float64)",
                   "frequencies": freq_cases, "rotations": rotation_cases}, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/rope_variants_reference.json")
