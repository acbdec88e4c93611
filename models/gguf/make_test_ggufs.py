#!/usr/bin/env python3
"""Writes the small GGUF test files in tests/data/gguf/ with llama.cpp's own writer (gguf-py), so the
C++ importer is tested against an independent implementation of the format. Run by hand, never by the
build (the tests only read the committed outputs):

    git --git-dir=LLAMA_CPP_GIT archive HEAD gguf-py | tar -x -C /tmp/llama-gguf
    apt-get install python3-numpy python3-regex
    /usr/bin/python3 models/gguf/make_test_ggufs.py --gguf-py /tmp/llama-gguf/gguf-py --shared ../shared

Files (tensor layouts as llama.cpp's convert_hf_to_gguf.py writes them):
  task-learned.{f16,q8_0,q4_0}.gguf   models/zoo/task-learned, gpt2 architecture (fused attn_qkv, learned
                                      position_embd, output.weight copied from token_embd as the converter does)
  task-rope.f16.gguf                  models/zoo/task-rope, llama architecture, HF split-half Q/K rows permuted
                                      into llama.cpp's adjacent-pair order (the converter's permute())
  stories260K.{q8_0,q4_0}.gguf        ../shared/models/stories260K.gguf requantized (rows whose length is not a
                                      multiple of 32 stay F16, as llama.cpp's quantizer falls back)
  tests/fuzz/seeds/gguf/tiny-*.gguf   tiny random llama (F32, Q8_0, Q4_0, Q4_1, BF16) and gpt2 (F16, Q8_0) models:
                                      the GGUF fuzzer's seeds and the Q4_1/BF16 end-to-end files
  tiny-gpt2-bpe.gguf, gpt2_bpe_cases.json
                                      a byte-level BPE trained here (400 merges) in a tiny gpt2 model
                                      (tokenizer.ggml.model "gpt2"), and ids for test strings from OpenAI's
                                      reference bpe() algorithm with GPT-2's pattern (Debian python3-regex)
  dequant_vectors.json                random blocks of Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, BF16 and
                                      gguf-py's dequantization of them (f32 bit patterns)
Task models carry their task spec under Ordinal's key `ordinal.task_spec` (JSON text) so `ordinal verify`
can score them; llama.cpp ignores unknown keys. Matrices are quantized; norms, biases stay F32 (as llama.cpp does). Tokenizers: tokenizer.ggml.model "llama"
(SentencePiece-style: '▁' for space, scores, token types, byte pieces).
"""
import argparse
import json
import os
import struct
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "data", "gguf")


def load_gguf_py(path):
    # gguf-py's vocab module imports sentencepiece at import time; nothing here uses it.
    sys.modules.setdefault("sentencepiece", types.SimpleNamespace(SentencePieceProcessor=object))
    sys.path.insert(0, path)
    import gguf  # noqa: E402
    return gguf


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack_from("<Q", raw, 0)[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = {"F32": np.float32, "F16": np.float16}[info["dtype"]]
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=dt).reshape(info["shape"]).astype(np.float32)
    return out


def add_llama_vocab(gguf, w, tok):
    pieces = tok["pieces"]
    toks, types_ = [], []
    for i, p in enumerate(pieces):
        if i == 0:
            toks.append(p)
            types_.append(gguf.TokenType.UNKNOWN)
        elif i in (1, 2):
            toks.append(p)
            types_.append(gguf.TokenType.CONTROL)
        elif len(p) == 6 and p.startswith("<0x") and p.endswith(">"):
            toks.append(p)
            types_.append(gguf.TokenType.BYTE)
        else:
            toks.append(p.replace(" ", "\u2581"))
            types_.append(gguf.TokenType.NORMAL)
    w.add_tokenizer_model("llama")
    w.add_token_list(toks)
    w.add_token_scores([float(s) for s in tok["scores"]])
    w.add_token_types(types_)
    w.add_bos_token_id(int(tok.get("bos_id", 1)))
    w.add_eos_token_id(int(tok.get("eos_id", 2)))
    w.add_unk_token_id(0)
    w.add_add_space_prefix(True)


def add_matrix(gguf, w, name, a, qtype):
    """a: [rows, cols] float32 (row-major, cols contiguous)."""
    Q = gguf.GGMLQuantizationType
    if qtype == Q.F32:
        w.add_tensor(name, a.astype(np.float32))
    elif qtype == Q.BF16:
        w.add_tensor(name, gguf.quants.quantize(a.astype(np.float32), qtype), raw_dtype=qtype)
    elif qtype == Q.F16 or a.shape[-1] % 32 != 0:
        w.add_tensor(name, a.astype(np.float16))
    else:
        q = gguf.quants.quantize(a.astype(np.float32), qtype)
        w.add_tensor(name, q, raw_dtype=qtype)


def write(w, path):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {path}: {os.path.getsize(path)} bytes")


def zoo(name):
    d = os.path.join(ROOT, "models", "zoo", name)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(d, "tokenizer.json")) as f:
        tok = json.load(f)
    # Task tokenizers carry no ids; the task spec does.
    if "bos_id" not in tok and "ordinal_task" in cfg:
        tok["bos_id"] = cfg["ordinal_task"]["bos_id"]
        tok["eos_id"] = cfg["ordinal_task"]["eos_id"]
    return cfg, tok, read_safetensors(os.path.join(d, "model.safetensors"))


def gpt2_file(gguf, name, qtype, suffix):
    cfg, tok, t = zoo(name)
    path = os.path.join(OUT, f"{name}.{suffix}.gguf")
    w = gguf.GGUFWriter(path, "gpt2")
    d = cfg["n_embd"]
    w.add_name(name)
    w.add_block_count(cfg["n_layer"])
    w.add_context_length(cfg["n_positions"])
    w.add_embedding_length(d)
    hidden = t["transformer.h.0.mlp.c_fc.weight"].shape[1]
    w.add_feed_forward_length(hidden)
    w.add_head_count(cfg["n_head"])
    w.add_layer_norm_eps(cfg["layer_norm_epsilon"])
    add_llama_vocab(gguf, w, tok)
    if "ordinal_task" in cfg:  # Ordinal's key: the task spec `ordinal verify` scores task models with
        w.add_string("ordinal.task_spec", json.dumps(cfg["ordinal_task"]))
    Q = gguf.GGMLQuantizationType
    add_matrix(gguf, w, "token_embd.weight", t["transformer.wte.weight"], qtype)
    add_matrix(gguf, w, "position_embd.weight", t["transformer.wpe.weight"], qtype)
    add_matrix(gguf, w, "output.weight", t["transformer.wte.weight"], qtype)  # the converter's tied copy
    w.add_tensor("output_norm.weight", t["transformer.ln_f.weight"])
    w.add_tensor("output_norm.bias", t["transformer.ln_f.bias"])
    for l in range(cfg["n_layer"]):
        p, b = f"transformer.h.{l}.", f"blk.{l}."
        w.add_tensor(b + "attn_norm.weight", t[p + "ln_1.weight"])
        w.add_tensor(b + "attn_norm.bias", t[p + "ln_1.bias"])
        # HF Conv1D stores [in, out]; the converter transposes to [out, in].
        add_matrix(gguf, w, b + "attn_qkv.weight", t[p + "attn.c_attn.weight"].T.copy(), qtype)
        w.add_tensor(b + "attn_qkv.bias", t[p + "attn.c_attn.bias"])
        add_matrix(gguf, w, b + "attn_output.weight", t[p + "attn.c_proj.weight"].T.copy(), qtype)
        w.add_tensor(b + "attn_output.bias", t[p + "attn.c_proj.bias"])
        w.add_tensor(b + "ffn_norm.weight", t[p + "ln_2.weight"])
        w.add_tensor(b + "ffn_norm.bias", t[p + "ln_2.bias"])
        add_matrix(gguf, w, b + "ffn_up.weight", t[p + "mlp.c_fc.weight"].T.copy(), qtype)
        w.add_tensor(b + "ffn_up.bias", t[p + "mlp.c_fc.bias"])
        add_matrix(gguf, w, b + "ffn_down.weight", t[p + "mlp.c_proj.weight"].T.copy(), qtype)
        w.add_tensor(b + "ffn_down.bias", t[p + "mlp.c_proj.bias"])
    del Q
    write(w, path)


def permute(w, n_head):
    # llama.cpp convert_hf_to_gguf.py LlamaModel.permute: HF split-half rows -> adjacent pairs.
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def llama_file(gguf, name, qtype, suffix):
    cfg, tok, t = zoo(name)
    path = os.path.join(OUT, f"{name}.{suffix}.gguf")
    w = gguf.GGUFWriter(path, "llama")
    d, H = cfg["hidden_size"], cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads", H)
    w.add_name(name)
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(d)
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(H)
    w.add_head_count_kv(KV)
    w.add_rope_dimension_count(d // H)
    w.add_rope_freq_base(cfg.get("rope_theta", 10000.0))
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_vocab_size(cfg["vocab_size"])
    add_llama_vocab(gguf, w, tok)
    if "ordinal_task" in cfg:
        w.add_string("ordinal.task_spec", json.dumps(cfg["ordinal_task"]))
    add_matrix(gguf, w, "token_embd.weight", t["model.embed_tokens.weight"], qtype)
    w.add_tensor("output_norm.weight", t["model.norm.weight"])
    if not cfg.get("tie_word_embeddings", False):
        add_matrix(gguf, w, "output.weight", t["lm_head.weight"], qtype)
    for l in range(cfg["num_hidden_layers"]):
        p, b = f"model.layers.{l}.", f"blk.{l}."
        w.add_tensor(b + "attn_norm.weight", t[p + "input_layernorm.weight"])
        add_matrix(gguf, w, b + "attn_q.weight", permute(t[p + "self_attn.q_proj.weight"], H), qtype)
        add_matrix(gguf, w, b + "attn_k.weight", permute(t[p + "self_attn.k_proj.weight"], KV), qtype)
        add_matrix(gguf, w, b + "attn_v.weight", t[p + "self_attn.v_proj.weight"], qtype)
        add_matrix(gguf, w, b + "attn_output.weight", t[p + "self_attn.o_proj.weight"], qtype)
        w.add_tensor(b + "ffn_norm.weight", t[p + "post_attention_layernorm.weight"])
        add_matrix(gguf, w, b + "ffn_gate.weight", t[p + "mlp.gate_proj.weight"], qtype)
        add_matrix(gguf, w, b + "ffn_up.weight", t[p + "mlp.up_proj.weight"], qtype)
        add_matrix(gguf, w, b + "ffn_down.weight", t[p + "mlp.down_proj.weight"], qtype)
    write(w, path)


def requantize_stories(gguf, shared, qtype, suffix):
    src = os.path.join(shared, "models", "stories260K.gguf")
    r = gguf.GGUFReader(src)
    path = os.path.join(OUT, f"stories260K.{suffix}.gguf")
    w = gguf.GGUFWriter(path, "llama")
    for key, field in r.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        vt = field.types[0]
        if vt == gguf.GGUFValueType.ARRAY:
            et = field.types[-1]
            if et == gguf.GGUFValueType.STRING:
                vals = [bytes(field.parts[i]).decode("utf-8") for i in field.data]
            else:
                vals = [field.parts[i].tolist()[0] for i in field.data]
            w.add_key_value(key, vals, vt)  # element type follows the Python values (float: f32, int: i32)
        elif vt == gguf.GGUFValueType.STRING:
            w.add_key_value(key, bytes(field.parts[field.data[0]]).decode("utf-8"), vt)
        else:
            w.add_key_value(key, field.parts[field.data[0]].tolist()[0], vt)
    for t in r.tensors:
        a = np.array(t.data, dtype=np.float32)
        if a.ndim == 2:
            add_matrix(gguf, w, t.name, a, qtype)
        else:
            w.add_tensor(t.name, a)
    write(w, path)


def dequant_vectors(gguf):
    rng = np.random.default_rng(20261129)
    Q = gguf.GGMLQuantizationType
    out = {}
    for qt in (Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0, Q.Q4_K, Q.Q5_K, Q.Q6_K, Q.BF16):
        block, size = gguf.GGML_QUANT_SIZES[qt]
        nblocks = 3
        raw = rng.integers(0, 256, size=(nblocks, size), dtype=np.uint8)

        def f16(v):
            return np.frombuffer(np.float16(v).tobytes(), dtype=np.uint8)

        for i in range(nblocks):
            # Finite scales of both signs; the rest of each block is random bits.
            d = float(rng.uniform(0.001, 0.1)) * (1 if i % 2 == 0 else -1)
            m = float(rng.uniform(-0.1, 0.1))
            if qt in (Q.Q4_0, Q.Q5_0, Q.Q8_0):
                raw[i, 0:2] = f16(d)
            elif qt in (Q.Q4_1, Q.Q5_1, Q.Q4_K, Q.Q5_K):
                raw[i, 0:2] = f16(d)
                raw[i, 2:4] = f16(m)
            elif qt == Q.Q6_K:
                raw[i, 208:210] = f16(d)
            elif qt == Q.BF16:
                vals = rng.normal(0, 1, size=block * 1).astype(np.float32)
                raw[i] = np.frombuffer((vals.view(np.uint32) >> 16).astype(np.uint16).tobytes(), dtype=np.uint8)
        values = gguf.quants.dequantize(raw.reshape(-1), qt).astype(np.float32).reshape(-1)
        out[qt.name] = {
            "type": int(qt),
            "blocks": raw.reshape(-1).tobytes().hex(),
            "elements": int(values.size),
            "f32_bits": [int(x) for x in values.view(np.uint32)],
        }
    path = os.path.join(OUT, "dequant_vectors.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {path}: {os.path.getsize(path)} bytes")


def tiny_files(gguf):
    """Tiny random models for the GGUF fuzzer's seed corpus (tests/fuzz/seeds/gguf): a few KB each, every
    storage type the importer handles that gguf-py can write."""
    rng = np.random.default_rng(5)
    Q = gguf.GGMLQuantizationType
    seeds = os.path.join(ROOT, "tests", "fuzz", "seeds", "gguf")
    os.makedirs(seeds, exist_ok=True)
    V, D, F = 40, 32, 64
    pieces = ["<unk>", "<s>", "</s>"] + [chr(ord("a") + i % 26) * (1 + i // 26) for i in range(V - 3)]
    tok = {"pieces": [" " + p if i > 10 else p for i, p in enumerate(pieces)], "scores": [-float(i) for i in range(V)],
           "bos_id": 1, "eos_id": 2}

    def r(*shape):
        return rng.normal(0, 0.3, size=shape).astype(np.float32)

    for qt, suffix in ((Q.F32, "f32"), (Q.Q8_0, "q8_0"), (Q.Q4_0, "q4_0"), (Q.Q4_1, "q4_1"), (Q.BF16, "bf16")):
        path = os.path.join(seeds, f"tiny-llama.{suffix}.gguf")
        w = gguf.GGUFWriter(path, "llama")
        w.add_block_count(1)
        w.add_context_length(32)
        w.add_embedding_length(D)
        w.add_feed_forward_length(F)
        w.add_head_count(4)
        w.add_head_count_kv(2)
        w.add_rope_dimension_count(D // 4)
        w.add_layer_norm_rms_eps(1e-5)
        add_llama_vocab(gguf, w, tok)
        add_matrix(gguf, w, "token_embd.weight", r(V, D), qt)
        w.add_tensor("output_norm.weight", 1 + r(D))
        for name, shape in (("attn_q", (D, D)), ("attn_k", (D // 2, D)), ("attn_v", (D // 2, D)),
                            ("attn_output", (D, D)), ("ffn_gate", (F, D)), ("ffn_up", (F, D)), ("ffn_down", (D, F))):
            add_matrix(gguf, w, f"blk.0.{name}.weight", r(*shape), qt)
        w.add_tensor("blk.0.attn_norm.weight", 1 + r(D))
        w.add_tensor("blk.0.ffn_norm.weight", 1 + r(D))
        write(w, path)
    for qt, suffix in ((Q.F16, "f16"), (Q.Q8_0, "q8_0")):
        path = os.path.join(seeds, f"tiny-gpt2.{suffix}.gguf")
        w = gguf.GGUFWriter(path, "gpt2")
        w.add_block_count(1)
        w.add_context_length(16)
        w.add_embedding_length(D)
        w.add_feed_forward_length(F)
        w.add_head_count(2)
        w.add_layer_norm_eps(1e-5)
        add_llama_vocab(gguf, w, tok)
        add_matrix(gguf, w, "token_embd.weight", r(V, D), qt)
        add_matrix(gguf, w, "position_embd.weight", r(16, D), qt)
        w.add_tensor("output_norm.weight", 1 + r(D))
        w.add_tensor("output_norm.bias", r(D))
        for name, shape in (("attn_qkv", (3 * D, D)), ("attn_output", (D, D)), ("ffn_up", (F, D)), ("ffn_down", (D, F))):
            add_matrix(gguf, w, f"blk.0.{name}.weight", r(*shape), qt)
            w.add_tensor(f"blk.0.{name}.bias", r(shape[0]))
        for name in ("attn_norm", "ffn_norm"):
            w.add_tensor(f"blk.0.{name}.weight", 1 + r(D))
            w.add_tensor(f"blk.0.{name}.bias", r(D))
        write(w, path)


GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def bytes_to_unicode():
    # OpenAI gpt-2 encoder.py: printable bytes map to themselves, the rest to U+0100.. in byte order.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) + \
        list(range(ord("\u00ae"), ord("\u00ff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def gpt2_bpe_reference(word, ranks):
    """OpenAI encoder.py's bpe(): merge the lowest-ranked pair, every occurrence left to right, until none."""
    word = tuple(word)
    while len(word) > 1:
        pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
        bigram = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if bigram not in ranks:
            break
        first, second = bigram
        new, i = [], 0
        while i < len(word):
            if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                new.append(first + second)
                i += 2
            else:
                new.append(word[i])
                i += 1
        word = tuple(new)
    return word


def gpt2_bpe_files(gguf, shared):
    """A byte-level BPE trained here (400 merges) on the shared corpus plus multilingual text, written as a
    tiny gpt2-architecture GGUF (tokenizer.ggml.model "gpt2"), and expected ids for test strings computed with
    OpenAI's reference algorithm (tests/data/gguf/gpt2_bpe_cases.json)."""
    import regex
    b2u = bytes_to_unicode()
    pat = regex.compile(GPT2_PATTERN)
    with open(os.path.join(shared, "corpus", "tinystories_val_head.txt"), encoding="utf-8") as f:
        text = f.read()[:150000]
    with open(os.path.join(shared, "corpus", "tinyshakespeare.txt"), encoding="utf-8") as f:
        text += f.read()[:50000]
    text += " café naïve résumé Zürich Ελληνικά κείμενα 日本語のテキスト 123 4567 don't we'll I've 🙂🙂" * 40
    counts = {}
    for w in pat.findall(text):
        key = tuple(b2u[b] for b in w.encode("utf-8"))
        counts[key] = counts.get(key, 0) + 1
    words = dict(counts)
    merges = []
    for _ in range(400):
        pairs = {}
        for w, c in words.items():
            for i in range(len(w) - 1):
                pairs[(w[i], w[i + 1])] = pairs.get((w[i], w[i + 1]), 0) + c
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        new_words = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i < len(w) - 1 and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + c
        words = new_words
    tokens = [b2u[b] for b in range(256)]
    for a, b in merges:
        if a + b not in tokens:
            tokens.append(a + b)
    tokens.append("<|endoftext|>")
    ids = {t: i for i, t in enumerate(tokens)}
    ranks = {m: r for r, m in enumerate(merges)}

    def encode(s):
        out = []
        for w in pat.findall(s):
            out += [ids[t] for t in gpt2_bpe_reference([b2u[b] for b in w.encode("utf-8")], ranks)]
        return out

    cases = [
        "Once upon a time, there was a little girl named Lily.",
        "  leading spaces, trailing spaces   ",
        "tabs\tand\nnewlines\n\n  indented\r\n",
        "don't won't I'll we've they're she'd he's 'tis O'Neil ''quoted''",
        "Numbers: 3.14159, 2026-11-29, 1000000 and ①②③ ٣٤٥",
        "café naïve résumé Zürich — «quotes» “curly” ‘single’",
        "Ελληνικά κείμενα και русский текст",
        "日本語のテキストと中文文本",
        "emoji 🙂🙂 and 👍🏽 mixed with text!!!",
        "punctuation...?!;:,()[]{}<>@#$%^&*_+=|\\/~`",
        "mixedCASE wordsWith123numbers and_under_scores",
        "a  b   c    d     e",
        "\u00a0non-breaking\u2003em space\u3000ideographic",
        "",
        " ",
        "<|endoftext|> is plain text here",
    ]
    expected = [encode(c) for c in cases]
    with open(os.path.join(OUT, "gpt2_bpe_cases.json"), "w", encoding="utf-8") as f:
        json.dump({"vocab_size": len(tokens), "merges": len(merges), "cases": [
            {"text": c, "ids": e} for c, e in zip(cases, expected)]}, f, ensure_ascii=False, indent=0)
    print(f"wrote gpt2_bpe_cases.json: {len(tokens)} tokens, {len(merges)} merges")

    rng = np.random.default_rng(11)
    V, D, F, P = len(tokens), 32, 64, 32
    path = os.path.join(OUT, "tiny-gpt2-bpe.gguf")
    w = gguf.GGUFWriter(path, "gpt2")
    w.add_name("tiny-gpt2-bpe")
    w.add_block_count(1)
    w.add_context_length(P)
    w.add_embedding_length(D)
    w.add_feed_forward_length(F)
    w.add_head_count(2)
    w.add_layer_norm_eps(1e-5)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types([gguf.TokenType.NORMAL] * (V - 1) + [gguf.TokenType.CONTROL])
    w.add_token_merges([f"{a} {b}" for a, b in merges])
    w.add_bos_token_id(V - 1)
    w.add_eos_token_id(V - 1)

    def r(*shape):
        return rng.normal(0, 0.3, size=shape).astype(np.float16)

    w.add_tensor("token_embd.weight", r(V, D))
    w.add_tensor("position_embd.weight", r(P, D))
    w.add_tensor("output_norm.weight", (1 + r(D)).astype(np.float32))
    w.add_tensor("output_norm.bias", r(D).astype(np.float32))
    for name, shape in (("attn_qkv", (3 * D, D)), ("attn_output", (D, D)), ("ffn_up", (F, D)), ("ffn_down", (D, F))):
        w.add_tensor(f"blk.0.{name}.weight", r(*shape))
        w.add_tensor(f"blk.0.{name}.bias", r(shape[0]).astype(np.float32))
    for name in ("attn_norm", "ffn_norm"):
        w.add_tensor(f"blk.0.{name}.weight", (1 + r(D)).astype(np.float32))
        w.add_tensor(f"blk.0.{name}.bias", r(D).astype(np.float32))
    write(w, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf-py", required=True, help="llama.cpp's gguf-py directory")
    ap.add_argument("--shared", required=True, help="the shared data folder (models/stories260K.gguf)")
    args = ap.parse_args()
    gguf = load_gguf_py(args.gguf_py)
    os.makedirs(OUT, exist_ok=True)
    Q = gguf.GGMLQuantizationType
    for qt, suffix in ((Q.F16, "f16"), (Q.Q8_0, "q8_0"), (Q.Q4_0, "q4_0")):
        gpt2_file(gguf, "task-learned", qt, suffix)
    llama_file(gguf, "task-rope", Q.F16, "f16")
    for qt, suffix in ((Q.Q8_0, "q8_0"), (Q.Q4_0, "q4_0")):
        requantize_stories(gguf, args.shared, qt, suffix)
    dequant_vectors(gguf)
    tiny_files(gguf)
    gpt2_bpe_files(gguf, args.shared)


if __name__ == "__main__":
    main()
