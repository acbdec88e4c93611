"""Independent check of an exported model directory (what the C++ importer must do).

Reads config.json + model.safetensors + tokenizer.json + reference.json with numpy only (no torch, no
code shared with common.py), runs the float32 forward pass from the HF-named tensors, and compares with
reference.json. Also validates the safetensors layout and the tokenizer file.

    /usr/bin/python3 models/train/check_export.py models/zoo/task-learned [more dirs...]
"""
import json
import math
import os
import struct
import sys

import numpy as np

f32 = np.float32


def load_st(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    assert (8 + n) % 8 == 0, "data section not 8-aligned"
    hdr = json.loads(data[8:8 + n])
    base, out, end = 8 + n, {}, 0
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        dt = {"F16": "<f2", "F32": "<f4"}[v["dtype"]]
        s, e = v["data_offsets"]
        assert (e - s) == np.dtype(dt).itemsize * int(np.prod(v["shape"], dtype=np.int64))
        assert s % np.dtype(dt).itemsize == 0
        out[k] = np.frombuffer(data[base + s:base + e], dtype=dt).reshape(v["shape"]).astype(f32)
        end = max(end, e)
    assert base + end == len(data), "trailing bytes"
    return out, hdr


def layernorm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True, dtype=f32)
    var = ((x - mu) ** 2).mean(-1, keepdims=True, dtype=f32)
    return ((x - mu) / np.sqrt(var + f32(eps))) * w + b


def rmsnorm(x, w, eps):
    return w * (x / np.sqrt((x * x).mean(-1, keepdims=True, dtype=f32) + f32(eps)))


def softmax(a):
    a = a - a.max(-1, keepdims=True)
    e = np.exp(a)
    return e / e.sum(-1, keepdims=True)


def gelu_tanh(x):
    return f32(0.5) * x * (f32(1) + np.tanh(f32(math.sqrt(2 / math.pi)) * (x + f32(0.044715) * x ** 3)))


def slopes(n):
    def p2(n):
        s = 2.0 ** (-(2.0 ** -(math.log2(n) - 3)))
        return [s ** (i + 1) for i in range(n)]
    if math.log2(n).is_integer():
        return p2(n)
    c = 2 ** int(math.floor(math.log2(n)))
    return p2(c) + slopes(2 * c)[0::2][:n - c]


def t5_bucket(nback, nb, maxd):
    me = nb // 2
    if nback < me:
        return nback
    return min(nb - 1, me + int(math.log(nback / me) / math.log(maxd / me) * (nb - me)))


def attention(q, k, v, bias):
    # q [H,T,hd], k/v [H,T,hd]; bias [H,T,T] additive (incl. causal -inf)
    hd = q.shape[-1]
    att = np.einsum("htd,hsd->hts", q, k) / f32(math.sqrt(hd)) + bias
    return np.einsum("hts,hsd->htd", softmax(att), v)


def gpt2_forward(cfg, W, toks):
    d, L, H = cfg["n_embd"], cfg["n_layer"], cfg["n_head"]
    eps = cfg["layer_norm_epsilon"]
    pos = cfg["ordinal_positional"]
    T, hd = len(toks), d // H
    x = W["transformer.wte.weight"][toks]
    if pos["scheme"] == "learned":
        x = x + W["transformer.wpe.weight"][:T]
    else:
        assert "transformer.wpe.weight" not in W
    if pos["scheme"] == "sinusoidal":
        pe = np.zeros((T, d))
        for p in range(T):
            for i in range(d // 2):
                w = pos.get("base", 10000) ** (-2.0 * i / d)
                pe[p, 2 * i], pe[p, 2 * i + 1] = math.sin(p * w), math.cos(p * w)
        x = x + pe.astype(f32)
    bias = np.zeros((H, T, T), f32)
    for i in range(T):
        for j in range(T):
            if j > i:
                bias[:, i, j] = -np.inf
            elif pos["scheme"] == "alibi":
                bias[:, i, j] = -np.array(slopes(H), f32) * f32(i - j)
            elif pos["scheme"] == "relative_bias":
                bias[:, i, j] = W["transformer.relative_attention_bias.weight"][
                    t5_bucket(i - j, pos["num_buckets"], pos["max_distance"])]
    for l in range(L):
        p = "transformer.h.%d." % l
        h = layernorm(x, W[p + "ln_1.weight"], W[p + "ln_1.bias"], eps)
        qkv = h @ W[p + "attn.c_attn.weight"] + W[p + "attn.c_attn.bias"]  # Conv1D [in, out]
        q, k, v = (qkv[:, i * d:(i + 1) * d].reshape(T, H, hd).transpose(1, 0, 2) for i in range(3))
        y = attention(q, k, v, bias).transpose(1, 0, 2).reshape(T, d)
        x = x + y @ W[p + "attn.c_proj.weight"] + W[p + "attn.c_proj.bias"]
        h = layernorm(x, W[p + "ln_2.weight"], W[p + "ln_2.bias"], eps)
        h = gelu_tanh(h @ W[p + "mlp.c_fc.weight"] + W[p + "mlp.c_fc.bias"])
        x = x + h @ W[p + "mlp.c_proj.weight"] + W[p + "mlp.c_proj.bias"]
    x = layernorm(x, W["transformer.ln_f.weight"], W["transformer.ln_f.bias"], eps)
    return x @ W["transformer.wte.weight"].T


def llama_forward(cfg, W, toks):
    d, L = cfg["hidden_size"], cfg["num_hidden_layers"]
    H, KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    eps, theta = cfg["rms_norm_eps"], cfg["rope_theta"]
    T, hd = len(toks), d // H
    inv = np.array([theta ** (-2.0 * i / hd) for i in range(hd // 2)])
    ang = np.arange(T)[:, None] * inv[None]
    cos = np.cos(np.concatenate([ang, ang], 1)).astype(f32)
    sin = np.sin(np.concatenate([ang, ang], 1)).astype(f32)

    def rope(z):  # [n,T,hd], split-half: pairs (i, i + hd/2)
        rh = np.concatenate([-z[..., hd // 2:], z[..., :hd // 2]], -1)
        return z * cos + rh * sin

    bias = np.where(np.tril(np.ones((T, T), bool)), f32(0), f32(-np.inf)).astype(f32)[None]
    x = W["model.embed_tokens.weight"][toks]
    for l in range(L):
        p = "model.layers.%d." % l
        h = rmsnorm(x, W[p + "input_layernorm.weight"], eps)
        q = (h @ W[p + "self_attn.q_proj.weight"].T).reshape(T, H, hd).transpose(1, 0, 2)  # Linear [out, in]
        k = (h @ W[p + "self_attn.k_proj.weight"].T).reshape(T, KV, hd).transpose(1, 0, 2)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).reshape(T, KV, hd).transpose(1, 0, 2)
        q, k = rope(q), rope(k)
        rep = H // KV  # query head h uses kv head h // rep
        y = attention(q, np.repeat(k, rep, 0), np.repeat(v, rep, 0), bias).transpose(1, 0, 2).reshape(T, d)
        x = x + y @ W[p + "self_attn.o_proj.weight"].T
        h = rmsnorm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = h @ W[p + "mlp.gate_proj.weight"].T
        u = h @ W[p + "mlp.up_proj.weight"].T
        x = x + ((g / (f32(1) + np.exp(-g))) * u) @ W[p + "mlp.down_proj.weight"].T
    x = rmsnorm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    assert ("lm_head.weight" in W) == (not cfg["tie_word_embeddings"])
    return x @ head.T


def check(d):
    cfg = json.load(open(os.path.join(d, "config.json")))
    W, hdr = load_st(os.path.join(d, "model.safetensors"))
    tok = json.load(open(os.path.join(d, "tokenizer.json"), encoding="utf-8"))
    assert tok["kind"] == "llama2c-bpe" and len(tok["pieces"]) == len(tok["scores"]) == cfg["vocab_size"]
    assert tok["pieces"][:3] == ["<unk>", "<s>", "</s>"] and tok["bos_id"] == 1 and tok["eos_id"] == 2
    assert tok["max_token_length"] == max(len(p.encode()) for p in tok["pieces"])
    ref = json.load(open(os.path.join(d, "reference.json")))
    fwd = gpt2_forward if cfg["model_type"] == "gpt2" else llama_forward
    logits = fwd(cfg, W, np.array(ref["tokens"]))
    err = float(np.abs(logits - np.array(ref["logits"], f32)).max())
    dts = sorted(set(v["dtype"] for k, v in hdr.items() if k != "__metadata__"))
    print("%-28s %-6s %-14s params %8d  %s  max|Δlogit| = %.2e" % (
        os.path.basename(d.rstrip("/")), cfg["model_type"], cfg["ordinal_positional"]["scheme"],
        sum(v.size for v in W.values()), "/".join(dts), err))
    assert err <= 1e-4, err
    return err


if __name__ == "__main__":
    for d in sys.argv[1:]:
        check(d)
