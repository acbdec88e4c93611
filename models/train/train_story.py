"""Train, evaluate and export the story models (TinyStories, BPE-512, context 256).

    /usr/bin/python3 models/train/train_story.py --model story-gpt2
    /usr/bin/python3 models/train/train_story.py --model story-llama

Data: $ORDINAL_SHARED/corpus/tinystories_val_head.txt (default ../shared relative to the repo root),
paragraphs split at blank lines; the first 90% train (and the tokenizer), the last 10% are held out.
Writes models/zoo/<name>/{config.json,model.safetensors,tokenizer.json,reference.json},
models/zoo/<name>.md and models/train/results/<name>.json.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import common  # noqa: E402

CTX = 256
MODELS = {
    "story-gpt2": {"model_type": "gpt2", "n_embd": 128, "n_layer": 4, "n_head": 4, "n_positions": CTX,
                   "vocab_size": bpe.VOCAB_SIZE, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new",
                   "tie_word_embeddings": True, "ordinal_positional": {"scheme": "learned"}},
    "story-llama": {"model_type": "llama", "hidden_size": 128, "intermediate_size": 344, "num_hidden_layers": 4,
                    "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": CTX,
                    "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "vocab_size": bpe.VOCAB_SIZE,
                    "tie_word_embeddings": False, "hidden_act": "silu",
                    "ordinal_positional": {"scheme": "rope", "layout": "split_half"}},
}
DEFAULTS = {"steps": 700, "batch": 16, "lr": 2e-3, "warmup": 50, "weight_decay": 0.1, "seed": 1234,
            "shuffle_seed": 4242}
REF_TEXT = "Once upon a time, there was a little girl named Lily. She loved to play"


def lr_at(step, steps, lr, warmup):
    if step < warmup:
        return lr * (step + 1) / warmup
    p = (step - warmup) / max(1, steps - warmup)
    return lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * p)))


@torch.no_grad()
def seq_nll(model, ids, stride=CTX // 2):
    """Summed NLL of ids[1:] given the prefix (ids[0] = BOS), windows of CTX tokens; a sequence longer
    than CTX is scored with a sliding window (stride 128: every later token sees >= 128 tokens)."""
    total, n = 0.0, 0
    scored = 1  # ids[0] is never predicted
    start = 0
    while scored < len(ids):
        end = min(len(ids), start + CTX + 1)
        x = torch.tensor([ids[start:end - 1]])
        y = torch.tensor(ids[start + 1:end])
        lp = F.log_softmax(model(x)[0], dim=-1)
        nll = -lp.gather(1, y[:, None])[:, 0]
        first = scored - (start + 1)  # skip already-scored targets
        total += float(nll[first:].sum())
        n += len(nll) - first
        scored = end
        start = end - 1 - stride if end < len(ids) else end
    return total, n


def eval_texts(model, tok, texts):
    tot, n = 0.0, 0
    for t in texts:
        s, k = seq_nll(model, tok.encode(t, bos=True))
        tot += s
        n += k
    return tot, n


def evaluate(model, tok, held, args):
    rng = np.random.RandomState(args.shuffle_seed)
    norm, shuf = [], []
    for p in held:
        w = p.split()
        norm.append(" ".join(w))
        perm = rng.permutation(len(w))
        shuf.append(" ".join(w[i] for i in perm))
    n_words = sum(len(p.split()) for p in held)
    out = {}
    for key, texts in (("heldout", held), ("heldout_ws_normalized", norm), ("heldout_shuffled", shuf)):
        s, n = eval_texts(model, tok, texts)
        out[key] = {"tokens": n, "nll_per_token": s / n, "ppl_per_token": math.exp(s / n),
                    "nll_per_word": s / n_words, "ppl_per_word": math.exp(s / n_words)}
    out["shuffle_gap"] = {
        "ppl_ratio_shuffled_over_unshuffled": out["heldout_shuffled"]["ppl_per_token"]
        / out["heldout_ws_normalized"]["ppl_per_token"],
        "nll_per_token_diff": out["heldout_shuffled"]["nll_per_token"] - out["heldout_ws_normalized"]["nll_per_token"],
        "ppl_per_word_ratio": out["heldout_shuffled"]["ppl_per_word"] / out["heldout_ws_normalized"]["ppl_per_word"],
    }
    with open(os.path.join(common.shared_dir(), "corpus", "tinyshakespeare.txt"), encoding="utf-8") as f:
        shk = f.read()[:50000]
    ids = tok.encode(shk, bos=True)
    s, n = seq_nll(model, ids)
    out["tinyshakespeare_first50k_chars"] = {"tokens": n, "nll_per_token": s / n, "ppl_per_token": math.exp(s / n)}
    return out


def train_one(name, args):
    common.setup_torch(args.seed)
    train_p, held = bpe.split_paragraphs(bpe.load_paragraphs())
    tok_d = bpe.train(train_p)
    tok = bpe.Tokenizer(tok_d)
    stream, starts = [], []
    for p in train_p:
        starts.append(len(stream))
        stream += tok.encode(p, bos=True)
    stream = np.array(stream, dtype=np.int64)
    starts = np.array([s for s in starts if s + CTX + 1 <= len(stream)])
    print("%s: %d train tokens, %d held-out paragraphs" % (name, len(stream), len(held)), flush=True)

    cfg = dict(MODELS[name])
    model = common.build_model(cfg)
    n_params = common.count_params(model)
    opt = common.adamw(model, args.lr, args.weight_decay, betas=(0.9, 0.95))
    rng = np.random.RandomState(args.seed)
    t0 = time.time()
    recent, log = [], []
    model.train()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        st = starts[rng.randint(0, len(starts), size=args.batch)]
        xb = np.stack([stream[s:s + CTX + 1] for s in st])
        x, y = torch.from_numpy(xb[:, :-1]), torch.from_numpy(xb[:, 1:])
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        recent.append(float(loss))
        if (step + 1) % 50 == 0 or step == args.steps - 1:
            avg = float(np.mean(recent[-50:]))
            print("%s step %d loss %.4f (avg50 %.4f) %.0fs" % (name, step + 1, float(loss), avg, time.time() - t0),
                  flush=True)
            log.append({"step": step + 1, "avg_loss_last50": avg})
    train_time = time.time() - t0
    model.eval()

    zdir = os.path.join(common.ZOO_DIR, name)
    ref = tok.encode(REF_TEXT, bos=True)
    exported = common.export_model(model, zdir, cfg, tok_d, ref)
    t1 = time.time()
    res = evaluate(exported, tok, held, args)
    # final train loss of the exported weights on a fixed sample of training windows
    erng = np.random.RandomState(args.seed + 1)
    st = starts[erng.randint(0, len(starts), size=64)]
    with torch.no_grad():
        tl = []
        for i in range(0, 64, 16):
            xb = torch.from_numpy(np.stack([stream[s:s + CTX + 1] for s in st[i:i + 16]]))
            lg = exported(xb[:, :-1])
            tl.append(float(F.cross_entropy(lg.reshape(-1, lg.shape[-1]), xb[:, 1:].reshape(-1))))
    res.update({"name": name, "params": n_params, "train_time_s": train_time, "eval_time_s": time.time() - t1,
                "train_tokens": int(len(stream)), "tokens_seen": int(args.steps * args.batch * CTX),
                "final_train_loss_avg50": float(np.mean(recent[-50:])),
                "train_loss_exported_64_windows": float(np.mean(tl)),
                "hparams": {k: getattr(args, k) for k in DEFAULTS}, "log": log,
                "reference_text": REF_TEXT, "reference_tokens": len(ref),
                "safetensors_bytes": common.file_size(os.path.join(zdir, "model.safetensors")),
                "dir_bytes": sum(common.file_size(os.path.join(zdir, f)) for f in os.listdir(zdir))})
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__), "results", name + ".json"), "w") as f:
        json.dump(res, f, indent=1)
    write_card(name, cfg, res, args)
    print(json.dumps({k: v for k, v in res.items() if k != "log"}, indent=1))


def write_card(name, cfg, res, args):
    if cfg["model_type"] == "gpt2":
        arch = ("GPT-2 body: n_embd %d, n_layer %d, n_head %d, learned `wpe` [%d, %d], GELU(tanh), LayerNorm eps 1e-5, "
                "tied head") % (cfg["n_embd"], cfg["n_layer"], cfg["n_head"], cfg["n_positions"], cfg["n_embd"])
    else:
        arch = ("Llama body: hidden %d, intermediate %d (SwiGLU), %d layers, %d heads / %d kv heads (GQA), RMSNorm eps "
                "1e-5, RoPE theta %g split-half (rotate_half), context %d, untied `lm_head`") % (
            cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"],
            cfg["num_key_value_heads"], cfg["rope_theta"], cfg["max_position_embeddings"])
    cmd = "LD_LIBRARY_PATH=$OPENBLAS_SERIAL /usr/bin/python3 models/train/train_story.py --model %s" % name
    nondef = ["--%s %s" % (k.replace("_", "-"), getattr(args, k)) for k in DEFAULTS if getattr(args, k) != DEFAULTS[k]]
    if nondef:
        cmd += " " + " ".join(nondef)
    h, n, s, g = res["heldout"], res["heldout_ws_normalized"], res["heldout_shuffled"], res["shuffle_gap"]
    lines = [
        "# %s" % name, "",
        "Small TinyStories model for Ordinal's importer, perplexity and word-order tests.", "",
        "| | |", "|---|---|",
        "| positional scheme | `%s` |" % json.dumps(cfg["ordinal_positional"]),
        "| architecture | %s |" % arch,
        "| parameters | %d |" % res["params"],
        "| model.safetensors | %d bytes (F16; norm weights/biases F32) |" % res["safetensors_bytes"],
        "| directory total | %d bytes |" % res["dir_bytes"],
        "| tokenizer | BPE-512, `llama2c-bpe` format (`models/train/bpe.py`), trained on the training split |",
        "| data | `tinystories_val_head.txt`: paragraphs (blank-line separated), first 90%% train (%d tokens incl. one "
        "BOS per paragraph), last 10%% (%d paragraphs) held out |" % (res["train_tokens"], 430),
        "| training | %d steps × %d windows × %d tokens (%.1f M tokens, ≈%.1f epochs), windows start at a paragraph's "
        "BOS; AdamW lr %g (warmup %d, cosine to 10%%), betas (0.9, 0.95), wd %g on matrices, grad clip 1.0, no dropout |"
        % (args.steps, args.batch, CTX, res["tokens_seen"] / 1e6, res["tokens_seen"] / res["train_tokens"], args.lr,
           args.warmup, args.weight_decay),
        "| seed | %d (torch.manual_seed, window sampling); word-shuffle seed %d |" % (args.seed, args.shuffle_seed),
        "| command | `%s` |" % cmd,
        "| train wall time | %.0f s (1 CPU thread on a machine shared with concurrent C++ builds; not a compute measure) |" % res["train_time_s"],
        "| final train loss | %.4f (mean of last 50 steps); %.4f (exported weights, 64 fixed training windows) |" % (
            res["final_train_loss_avg50"], res["train_loss_exported_64_windows"]),
        "", "## Held-out evaluation (exported F16 weights in f32 math)", "",
        "Each held-out paragraph is scored on its own: `<s>` + encode(paragraph), every token after `<s>` predicted "
        "(sliding window of 256 with stride 128 for longer paragraphs).", "",
        "| text | tokens | loss/token | perplexity/token | perplexity/word |", "|---|---|---|---|---|",
        "| held-out (original) | %d | %.4f | %.3f | %.2f |" % (h["tokens"], h["nll_per_token"], h["ppl_per_token"],
                                                             h["ppl_per_word"]),
        "| held-out, whitespace-normalized (`' '.join(p.split())`) | %d | %.4f | %.3f | %.2f |" % (
            n["tokens"], n["nll_per_token"], n["ppl_per_token"], n["ppl_per_word"]),
        "| held-out, words shuffled within each paragraph | %d | %.4f | %.3f | %.2f |" % (
            s["tokens"], s["nll_per_token"], s["ppl_per_token"], s["ppl_per_word"]),
        "| tinyshakespeare, first 50,000 chars (out of domain) | %d | %.4f | %.3f | |" % (
            res["tinyshakespeare_first50k_chars"]["tokens"], res["tinyshakespeare_first50k_chars"]["nll_per_token"],
            res["tinyshakespeare_first50k_chars"]["ppl_per_token"]),
        "",
        "**Shuffled-order gap**: perplexity/token shuffled ÷ unshuffled (both whitespace-normalized) = **%.3f×** "
        "(+%.4f nats/token; per-word ratio %.3f×). Shuffle: `numpy.random.RandomState(%d)`, one `permutation` of "
        "`p.split()` per held-out paragraph in file order, joined with single spaces." % (
            g["ppl_ratio_shuffled_over_unshuffled"], g["nll_per_token_diff"], g["ppl_per_word_ratio"], args.shuffle_seed),
        "", "`reference.json`: tokens = `<s>` + encode(%s) (%d tokens), logits at every position (float64 math on the "
        "exported weights, rounded to float32)." % (
            json.dumps(REF_TEXT), res["reference_tokens"]), ""]
    with open(os.path.join(common.ZOO_DIR, name + ".md"), "w") as f:
        f.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=sorted(MODELS), required=True)
    for k, v in DEFAULTS.items():
        ap.add_argument("--" + k.replace("_", "-"), dest=k, type=type(v), default=v)
    args = ap.parse_args()
    train_one(args.model, args)


if __name__ == "__main__":
    main()
