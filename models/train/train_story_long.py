"""Train and export story-gpt2-1k: a GPT-2-style TinyStories model with 1024 learned positions, the
realistic long table that position-table compression (issue 18) is proven on.

    LD_LIBRARY_PATH=$OPENBLAS_SERIAL /usr/bin/python3 models/train/train_story_long.py \
        --out /path/outside/the/repo/story-gpt2-1k

Same data, split and tokenizer as train_story.py (first 90 % of the paragraphs of
$ORDINAL_SHARED/corpus/tinystories_val_head.txt train, the last 10 % are held out). TinyStories
paragraphs are short (~85 tokens), so training windows are 1024 consecutive tokens of the concatenated
paragraph stream (each paragraph starts with BOS) at random offsets: every position 0..1023 sees real
text, and late positions see long contexts across paragraph boundaries.

The exported model is ~4 MB (F16) and is kept out of the repository; this script regenerates it
deterministically (fixed seeds, one thread). The model card is written next to the weights and the
metrics to <out>/results.json.
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
from train_story import REF_TEXT, lr_at  # noqa: E402

CTX = 1024
CONFIG = {"model_type": "gpt2", "n_embd": 256, "n_layer": 2, "n_head": 4, "n_positions": CTX,
          "vocab_size": bpe.VOCAB_SIZE, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new",
          "tie_word_embeddings": True, "ordinal_positional": {"scheme": "learned"}}
DEFAULTS = {"steps": 600, "batch": 4, "lr": 2e-3, "warmup": 50, "weight_decay": 0.1, "seed": 1234}


def token_stream(tok, paragraphs):
    out = []
    for p in paragraphs:
        out += tok.encode(p, bos=True)
    return np.array(out, dtype=np.int64)


@torch.no_grad()
def heldout_by_bucket(model, held_stream, buckets=(0, 64, 128, 256, 512, 1024)):
    """Mean NLL per position bucket over consecutive non-overlapping 1024-token windows of the held-out
    stream (position = index inside the window)."""
    n_win = (len(held_stream) - 1) // CTX
    sums = np.zeros(CTX)
    for w in range(n_win):
        s = w * CTX
        x = torch.from_numpy(held_stream[s:s + CTX][None])
        y = torch.from_numpy(held_stream[s + 1:s + CTX + 1])
        lp = F.log_softmax(model(x)[0], dim=-1)
        sums += (-lp.gather(1, y[:, None])[:, 0]).numpy()
    res = {"windows": n_win, "buckets": []}
    for a, b in zip(buckets[:-1], buckets[1:]):
        nll = float(sums[a:b].sum() / (n_win * (b - a)))
        res["buckets"].append({"positions": [a, b], "nll": nll, "ppl": math.exp(nll)})
    tot = float(sums.sum() / (n_win * CTX))
    res["all"] = {"nll": tot, "ppl": math.exp(tot)}
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, help="output directory (outside the repository)")
    for k, v in DEFAULTS.items():
        ap.add_argument("--" + k.replace("_", "-"), dest=k, type=type(v), default=v)
    args = ap.parse_args()

    common.setup_torch(args.seed)
    train_p, held = bpe.split_paragraphs(bpe.load_paragraphs())
    tok_d = bpe.train(train_p)
    tok = bpe.Tokenizer(tok_d)
    stream = token_stream(tok, train_p)
    held_stream = token_stream(tok, held)
    print("story-gpt2-1k: %d train tokens, %d held-out tokens" % (len(stream), len(held_stream)), flush=True)

    model = common.build_model(dict(CONFIG))
    n_params = common.count_params(model)
    opt = common.adamw(model, args.lr, args.weight_decay, betas=(0.9, 0.95))
    rng = np.random.RandomState(args.seed)
    t0 = time.time()
    recent, log = [], []
    model.train()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        st = rng.randint(0, len(stream) - CTX - 1, size=args.batch)
        xb = np.stack([stream[s:s + CTX + 1] for s in st])
        x, y = torch.from_numpy(xb[:, :-1]), torch.from_numpy(xb[:, 1:])
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        recent.append(float(loss))
        if (step + 1) % 10 == 0 or step == args.steps - 1:
            avg = float(np.mean(recent[-50:]))
            print("step %d loss %.4f (avg50 %.4f) %.0fs" % (step + 1, float(loss), avg, time.time() - t0), flush=True)
            log.append({"step": step + 1, "avg_loss_last50": avg})
    train_time = time.time() - t0
    model.eval()

    exported = common.export_model(model, args.out, dict(CONFIG), tok_d, tok.encode(REF_TEXT, bos=True))
    res = {"name": "story-gpt2-1k", "params": n_params, "train_time_s": train_time,
           "train_tokens": int(len(stream)), "heldout_tokens": int(len(held_stream)),
           "tokens_seen": int(args.steps * args.batch * CTX), "final_train_loss_avg50": float(np.mean(recent[-50:])),
           "heldout_windows_1024": heldout_by_bucket(exported, held_stream),
           "hparams": {k: getattr(args, k) for k in DEFAULTS}, "log": log,
           "safetensors_bytes": common.file_size(os.path.join(args.out, "model.safetensors"))}
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps({k: v for k, v in res.items() if k != "log"}, indent=1), flush=True)


if __name__ == "__main__":
    main()
