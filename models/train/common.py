"""Shared code for Ordinal's training/export scripts.

* model definitions: a GPT-2 body (positional scheme: learned / sinusoidal / alibi /
  relative_bias / none) and a Llama body (RoPE, split-half layout, optional GQA);
  parameter names are the Hugging Face names, so export is a rename-free dump
  (GPT-2 Conv1D weights are transposed to [in, out] on export);
* a dependency-free safetensors writer/reader (numpy + struct);
* the exporter: config.json, model.safetensors (F16, norms F32), tokenizer.json and
  reference.json (float32 logits computed from the exported F16 weights upcast to f32).

All math is the plain float32 reference the C++ importer must reproduce (see
models/train/README.md, section "Exact semantics").
Runs on CPU with torch 1.13, one thread.
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ZOO_DIR = os.path.join(REPO_ROOT, "models", "zoo")


def shared_dir():
    """Shared data folder: $ORDINAL_SHARED, default ../shared relative to the repo root."""
    return os.path.abspath(os.environ.get("ORDINAL_SHARED", os.path.join(REPO_ROOT, "..", "shared")))


def setup_torch(seed):
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True)


# ----------------------------------------------------------------------------------------------
# positional helpers (exact formulas the C++ runtime reimplements)

def sinusoidal_table(n_pos, d, base=10000.0):
    """Vaswani PE: PE[p,2i]=sin(p*w_i), PE[p,2i+1]=cos(p*w_i), w_i=base^(-2i/d). Computed in
    float64, rounded to float32."""
    pos = np.arange(n_pos, dtype=np.float64)[:, None]
    i = np.arange(d // 2, dtype=np.float64)[None, :]
    w = base ** (-2.0 * i / d)
    pe = np.zeros((n_pos, d), dtype=np.float64)
    pe[:, 0::2] = np.sin(pos * w)
    pe[:, 1::2] = np.cos(pos * w)
    return torch.from_numpy(pe.astype(np.float32))


def alibi_slopes_list(n_head):
    """ALiBi paper / BLOOM `get_slopes`, incl. non-power-of-2 head counts (python floats)."""
    def pow2(n):
        start = 2.0 ** (-(2.0 ** -(math.log2(n) - 3)))
        return [start * start ** i for i in range(n)]
    if math.log2(n_head).is_integer():
        return pow2(n_head)
    c = 2 ** math.floor(math.log2(n_head))
    return pow2(c) + alibi_slopes_list(2 * c)[0::2][: n_head - c]


def alibi_slopes(n_head):
    """Slopes computed in float64, rounded to float32."""
    return torch.tensor(alibi_slopes_list(n_head), dtype=torch.float32)


def relative_position_bucket(n_back, num_buckets=32, max_distance=128):
    """HF T5 _relative_position_bucket for bidirectional=False, expressed with
    n_back = query_pos - key_pos >= 0 (T5's relative_position = key - query = -n_back).
    Computed in float64 here; tests/check that float32 gives identical buckets."""
    n = np.asarray(n_back, dtype=np.int64)
    max_exact = num_buckets // 2
    is_small = n < max_exact
    with np.errstate(divide="ignore"):
        large = max_exact + (np.log(np.maximum(n, 1).astype(np.float64) / max_exact)
                             / math.log(max_distance / max_exact) * (num_buckets - max_exact)).astype(np.int64)
    large = np.minimum(large, num_buckets - 1)
    return np.where(is_small, n, large)


def relative_position_bucket_torch_f32(n_back, num_buckets=32, max_distance=128):
    """Literal HF T5 code path (float32 torch), used to cross-check the float64 version."""
    rp = -torch.as_tensor(n_back, dtype=torch.long)  # key - query
    rp = -torch.min(rp, torch.zeros_like(rp))
    max_exact = num_buckets // 2
    is_small = rp < max_exact
    large = max_exact + (torch.log(rp.float() / max_exact) / math.log(max_distance / max_exact)
                         * (num_buckets - max_exact)).to(torch.long)
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return torch.where(is_small, rp, large)


def rope_cos_sin(n_pos, head_dim, theta=10000.0):
    """HF Llama split-half RoPE tables: inv_freq[i] = theta^(-2i/hd), i < hd/2; angle = p*inv_freq;
    cos/sin of cat(angle, angle). Computed in float64, rounded to float32."""
    inv = theta ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    ang = np.arange(n_pos, dtype=np.float64)[:, None] * inv[None, :]
    ang = np.concatenate([ang, ang], axis=1)
    return (torch.from_numpy(np.cos(ang).astype(np.float32)),
            torch.from_numpy(np.sin(ang).astype(np.float32)))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Softmax(torch.autograd.Function):
    """softmax over the last dim with a lean backward (same forward values as torch.softmax)."""

    @staticmethod
    def forward(ctx, a):
        y = torch.softmax(a, dim=-1)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return torch._softmax_backward_data(g, y, -1, y.dtype)


_MASKS = {}


def causal_mask(T):
    """[T,T] additive mask: 0 where key j <= query i, -inf above the diagonal."""
    m = _MASKS.get(T)
    if m is None:
        m = torch.zeros(T, T).masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
        _MASKS[T] = m
    return m


# ----------------------------------------------------------------------------------------------
# GPT-2 body

class GPT2Attention(nn.Module):
    def __init__(self, d, n_head):
        super().__init__()
        self.n_head = n_head
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)

    def forward(self, x, bias):
        B, T, d = x.shape
        H = self.n_head
        hd = d // H
        q, k, v = self.c_attn(x).split(d, dim=2)
        q = q.view(B, T, H, hd).transpose(1, 2)
        k = k.view(B, T, H, hd).transpose(1, 2)
        v = v.view(B, T, H, hd).transpose(1, 2)
        att = (q * (1.0 / math.sqrt(hd))) @ k.transpose(-1, -2)
        # bias: [T,T] or [H,T,T] = positional bias (added after the 1/sqrt(hd) scaling) + causal mask (-inf)
        att = Softmax.apply(att + bias)
        y = (att @ v).transpose(1, 2).reshape(B, T, d)
        return self.c_proj(y)


class GPT2MLP(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.c_fc = nn.Linear(d, 4 * d)
        self.c_proj = nn.Linear(4 * d, d)

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, d, n_head, eps):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.attn = GPT2Attention(d, n_head)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = GPT2MLP(d)

    def forward(self, x, bias):
        x = x + self.attn(self.ln_1(x), bias)
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT2(nn.Module):
    """config: HF-style GPT-2 dict incl. ordinal_positional."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        d, L, H = config["n_embd"], config["n_layer"], config["n_head"]
        V, P = config["vocab_size"], config["n_positions"]
        eps = config.get("layer_norm_epsilon", 1e-5)
        pos = config["ordinal_positional"]
        self.scheme = pos["scheme"]
        assert self.scheme in ("learned", "sinusoidal", "alibi", "relative_bias", "none")
        t = nn.ModuleDict()
        t["wte"] = nn.Embedding(V, d)
        if self.scheme == "learned":
            t["wpe"] = nn.Embedding(P, d)
        if self.scheme == "relative_bias":
            assert pos.get("bidirectional", False) is False
            self.num_buckets = pos["num_buckets"]
            self.max_distance = pos["max_distance"]
            t["relative_attention_bias"] = nn.Embedding(self.num_buckets, H)
        t["h"] = nn.ModuleList([GPT2Block(d, H, eps) for _ in range(L)])
        t["ln_f"] = nn.LayerNorm(d, eps=eps)
        self.transformer = t
        if self.scheme == "sinusoidal":
            self.register_buffer("pe", sinusoidal_table(P, d, pos.get("base", 10000.0)), persistent=False)
        if self.scheme == "alibi":
            self.register_buffer("slopes", alibi_slopes(H), persistent=False)
        self._init(L)

    def _init(self, L):
        for name, p in self.named_parameters():
            if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name.endswith("ln_f.weight"):
                nn.init.ones_(p)
            elif name.endswith(".bias"):
                nn.init.zeros_(p)
            elif name.endswith("relative_attention_bias.weight"):
                nn.init.zeros_(p)
            elif name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * L))
            else:
                nn.init.normal_(p, 0.0, 0.02)

    def attn_bias(self, T):
        """Additive attention bias [T,T] or [H,T,T]: positional bias + causal mask."""
        mask = causal_mask(T)
        if self.scheme == "alibi":
            i = torch.arange(T)
            dist = (i[:, None] - i[None, :]).clamp(min=0).float()  # i - j for j <= i
            return -self.slopes[:, None, None] * dist[None] + mask  # [H,T,T]
        if self.scheme == "relative_bias":
            i = np.arange(T)
            nb = relative_position_bucket(np.maximum(i[:, None] - i[None, :], 0), self.num_buckets,
                                          self.max_distance)
            tab = self.transformer["relative_attention_bias"].weight  # [buckets, H]
            return tab[torch.from_numpy(nb)].permute(2, 0, 1) + mask  # [H,T,T]
        return mask

    def forward(self, idx):
        B, T = idx.shape
        t = self.transformer
        x = t["wte"](idx)
        if self.scheme == "learned":
            if T > self.config["n_positions"]:
                raise ValueError("sequence longer than the learned position table")
            x = x + t["wpe"].weight[:T]
        elif self.scheme == "sinusoidal":
            if T > self.pe.shape[0]:
                self.pe = sinusoidal_table(T, self.config["n_embd"],
                                           self.config["ordinal_positional"].get("base", 10000.0))
            x = x + self.pe[:T]
        bias = self.attn_bias(T)
        for blk in t["h"]:
            x = blk(x, bias)
        x = t["ln_f"](x)
        return x @ t["wte"].weight.t()


# ----------------------------------------------------------------------------------------------
# Llama body

class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class LlamaAttention(nn.Module):
    def __init__(self, d, H, KV):
        super().__init__()
        self.H, self.KV, self.hd = H, KV, d // H
        self.q_proj = nn.Linear(d, H * self.hd, bias=False)
        self.k_proj = nn.Linear(d, KV * self.hd, bias=False)
        self.v_proj = nn.Linear(d, KV * self.hd, bias=False)
        self.o_proj = nn.Linear(H * self.hd, d, bias=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        H, KV, hd = self.H, self.KV, self.hd
        q = self.q_proj(x).view(B, T, H, hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, KV, hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, KV, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if KV != H:  # query head h uses kv head h // (H/KV)
            k = k.repeat_interleave(H // KV, dim=1)
            v = v.repeat_interleave(H // KV, dim=1)
        att = (q * (1.0 / math.sqrt(hd))) @ k.transpose(-1, -2)
        att = Softmax.apply(att + causal_mask(T))
        y = (att @ v).transpose(1, 2).reshape(B, T, H * hd)
        return self.o_proj(y)


class LlamaMLP(nn.Module):
    def __init__(self, d, inter):
        super().__init__()
        self.gate_proj = nn.Linear(d, inter, bias=False)
        self.up_proj = nn.Linear(d, inter, bias=False)
        self.down_proj = nn.Linear(inter, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaLayer(nn.Module):
    def __init__(self, d, inter, H, KV, eps):
        super().__init__()
        self.input_layernorm = RMSNorm(d, eps)
        self.self_attn = LlamaAttention(d, H, KV)
        self.post_attention_layernorm = RMSNorm(d, eps)
        self.mlp = LlamaMLP(d, inter)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x


class Llama(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        d, L = config["hidden_size"], config["num_hidden_layers"]
        H, KV = config["num_attention_heads"], config["num_key_value_heads"]
        V, inter = config["vocab_size"], config["intermediate_size"]
        eps = config.get("rms_norm_eps", 1e-5)
        self.hd = d // H
        self.theta = config.get("rope_theta", 10000.0)
        m = nn.ModuleDict()
        m["embed_tokens"] = nn.Embedding(V, d)
        m["layers"] = nn.ModuleList([LlamaLayer(d, inter, H, KV, eps) for _ in range(L)])
        m["norm"] = RMSNorm(d, eps)
        self.model = m
        self.tied = config.get("tie_word_embeddings", False)
        if not self.tied:
            self.lm_head = nn.Linear(d, V, bias=False)
        cos, sin = rope_cos_sin(config["max_position_embeddings"], self.hd, self.theta)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        for name, p in self.named_parameters():
            if name.endswith("norm.weight") or name.endswith("layernorm.weight"):
                nn.init.ones_(p)
            elif name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * L))
            else:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, idx):
        B, T = idx.shape
        if T > self.cos.shape[0]:
            self.cos, self.sin = rope_cos_sin(T, self.hd, self.theta)
        cos, sin = self.cos[:T], self.sin[:T]
        x = self.model["embed_tokens"](idx)
        for layer in self.model["layers"]:
            x = layer(x, cos, sin)
        x = self.model["norm"](x)
        w = self.model["embed_tokens"].weight if self.tied else self.lm_head.weight
        return x @ w.t()


def build_model(config):
    if config["model_type"] == "gpt2":
        return GPT2(config)
    if config["model_type"] == "llama":
        return Llama(config)
    raise ValueError(config["model_type"])


def adamw(model, lr, weight_decay, betas):
    """AdamW with weight decay on the matrices (dim >= 2) only: biases, norms and gains are not decayed."""
    decay = [p for _, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for _, p in model.named_parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=betas)


def count_params(model):
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------------------------
# safetensors (writer/reader without the safetensors package)

_DT = {"F16": np.float16, "F32": np.float32, "BF16": None, "I64": np.int64, "I32": np.int32}


def write_safetensors(path, tensors, metadata=None):
    """tensors: dict name -> numpy array (float16 or float32). F32 tensors are stored first so
    every tensor's data offset is a multiple of its element size; the header is padded with
    spaces so the data section starts at an 8-byte aligned file offset."""
    names = sorted(tensors, key=lambda n: (0 if tensors[n].dtype == np.float32 else 1, n))
    header, off, blobs = {}, 0, []
    for n in names:
        a = np.ascontiguousarray(tensors[n])
        dt = {np.dtype(np.float16): "F16", np.dtype(np.float32): "F32"}[a.dtype]
        b = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[n] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = metadata
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((8 - (8 + len(hj)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        out[k] = np.frombuffer(data[base + s: base + e], dtype=np.dtype(_DT[v["dtype"]]).newbyteorder("<")) \
            .reshape(v["shape"]).copy()
    return out


# ----------------------------------------------------------------------------------------------
# export

_CONV1D_SUFFIXES = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def _is_norm(name):
    return any(s in name for s in ("ln_1.", "ln_2.", "ln_f.", "input_layernorm.", "post_attention_layernorm.",
                                   "model.norm."))


def state_to_hf(model):
    """name -> numpy array in the exported dtype (F16, norms F32) and HF layout."""
    out = {}
    gpt2 = model.config["model_type"] == "gpt2"
    for name, p in model.state_dict().items():
        a = p.detach().cpu().float().numpy()
        if gpt2 and name.endswith(_CONV1D_SUFFIXES):
            a = a.T  # nn.Linear [out,in] -> HF Conv1D [in,out]
        out[name] = np.ascontiguousarray(a.astype(np.float32 if _is_norm(name) else np.float16))
    return out


def hf_to_state(model, tensors):
    """Load exported tensors (upcast to f32) into model."""
    gpt2 = model.config["model_type"] == "gpt2"
    sd = {}
    for name, a in tensors.items():
        a = a.astype(np.float32)
        if gpt2 and name.endswith(_CONV1D_SUFFIXES):
            a = a.T
        sd[name] = torch.from_numpy(np.ascontiguousarray(a))
    model.load_state_dict(sd, strict=True)
    return model


def load_exported(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    m = build_model(config)
    hf_to_state(m, read_safetensors(os.path.join(model_dir, "model.safetensors")))
    m.eval()
    return m, config


def fmt_f32(x):
    """Shortest decimal that round-trips the float32 value."""
    x = np.float32(x)
    for p in range(6, 10):
        s = "%.*g" % (p, x)
        if np.float32(s) == x:
            return s
    return "%.9g" % x


def export_model(model, model_dir, config, tokenizer, ref_candidates):
    """Write config.json, model.safetensors, tokenizer.json, reference.json.
    ref_candidates: list of token lists (or one token list); see write_reference.
    Returns the model rebuilt from the exported (F16-rounded) weights, in eval mode."""
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(model_dir, "model.safetensors"), state_to_hf(model), {"format": "pt"})
    with open(os.path.join(model_dir, "tokenizer.json"), "w") as f:
        f.write(tokenizer_json(tokenizer))
    write_reference(model_dir, ref_candidates)
    m, _ = load_exported(model_dir)
    return m


REF_F32_NOISE_MAX = 3e-5


def write_reference(model_dir, candidates):
    """reference.json: logits at every position of a prompt, computed in float64 from the exported F16
    weights (the exact-math value, rounded to float32), so an f32 implementation differs from it only by
    its own rounding. The prompt is the first candidate for which an independent float32 forward
    (check_export.py, numpy) stays within REF_F32_NOISE_MAX of the float64 logits: prompts where the
    model is ill-conditioned (near-ties amplifying rounding noise) are skipped so the C++ round-trip test
    keeps a wide margin to its 1e-4 tolerance. Returns (tokens, f32 noise)."""
    import check_export  # numpy reference implementation (no torch)
    if candidates and isinstance(candidates[0], int):
        candidates = [candidates]
    m, config = load_exported(model_dir)
    m = m.double()
    fwd = check_export.gpt2_forward if config["model_type"] == "gpt2" else check_export.llama_forward
    W = check_export.load_st(os.path.join(model_dir, "model.safetensors"))[0]
    best = None
    for toks in candidates:
        with torch.no_grad():
            l64 = m(torch.tensor([toks], dtype=torch.long))[0].numpy()
        noise = float(np.abs(fwd(config, W, np.array(toks)) - l64).max())
        if best is None or noise < best[2]:
            best = (toks, l64, noise)
        if noise <= REF_F32_NOISE_MAX:
            break
    toks, l64, noise = best
    rows = ["[" + ",".join(fmt_f32(v) for v in row.astype(np.float32).tolist()) + "]" for row in l64]
    with open(os.path.join(model_dir, "reference.json"), "w") as f:
        f.write('{"note":"logits of the exported weights (F16 upcast) at every position of tokens, eval mode, computed '
                'in float64 and rounded to float32; logits[i] predicts the token after tokens[i]; an independent '
                'float32 forward differs by at most %.1e",\n"tokens":%s,\n"logits":[\n%s\n]}\n'
                % (noise, json.dumps(list(map(int, toks))), ",\n".join(rows)))
    return toks, noise


def tokenizer_json(tok):
    """tok: dict with pieces, scores, bos_id, eos_id. Written in Ordinal's llama2c-bpe format."""
    pieces = tok["pieces"]
    assert len(set(pieces)) == len(pieces), "duplicate pieces"
    mtl = max(len(p.encode("utf-8")) for p in pieces)
    d = {"kind": "llama2c-bpe", "pieces": pieces, "scores": [float(s) for s in tok["scores"]],
         "bos_id": tok["bos_id"], "eos_id": tok["eos_id"], "max_token_length": mtl}
    return json.dumps(d, ensure_ascii=False) + "\n"


def file_size(path):
    return os.path.getsize(path)
