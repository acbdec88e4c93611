"""Train, evaluate and export one task-* model (one per positional scheme).

    /usr/bin/python3 models/train/train_tasks.py --model task-learned
    /usr/bin/python3 models/train/train_tasks.py --all

Writes models/zoo/<name>/{config.json,model.safetensors,tokenizer.json,reference.json},
models/zoo/<name>.md (model card) and models/train/results/<name>.json (all metrics).
Deterministic on CPU (one thread, fixed seeds, numpy RandomState data stream).
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
import common  # noqa: E402
import tasks as T  # noqa: E402

GPT2_BASE = {"model_type": "gpt2", "n_embd": 64, "n_layer": 3, "n_head": 4, "n_positions": T.N_POSITIONS,
             "vocab_size": T.VOCAB, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new",
             "tie_word_embeddings": True}
LLAMA_BASE = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 176, "num_hidden_layers": 3,
              "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": T.N_POSITIONS,
              "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "vocab_size": T.VOCAB, "tie_word_embeddings": True,
              "hidden_act": "silu"}

MODELS = {
    "task-learned": (GPT2_BASE, {"scheme": "learned"}),
    "task-sinusoidal": (GPT2_BASE, {"scheme": "sinusoidal", "base": 10000}),
    "task-rope": (LLAMA_BASE, {"scheme": "rope", "layout": "split_half"}),
    "task-alibi": (GPT2_BASE, {"scheme": "alibi", "form": "causal"}),
    "task-relbias": (GPT2_BASE, {"scheme": "relative_bias", "num_buckets": 32, "max_distance": 128,
                                 "bidirectional": False}),
    "task-nopos": (GPT2_BASE, {"scheme": "none"}),
}

DEFAULTS = {"steps": 3000, "batch": 64, "lr": 3e-3, "warmup": 100, "weight_decay": 0.01, "seed": 1234,
            "eval_cases": 10000, "extrap_cases": 1000, "eval_seed": 777, "min_lr_frac": 0.1, "wte_std": 0.02}

# Per-model recipe overrides of DEFAULTS (issue #5: every positional scheme except the no-position baseline
# must reach >= 99 % in-distribution on all four tasks). `--model NAME` alone reproduces the shipped model;
# an explicit command-line flag wins over these. task-rope and task-nopos keep the original common recipe
# (3000 steps, cosine to 10 %); task-nopos is the deliberately weak baseline and stays as shipped.
# Training-only knobs; the exported format and the forward semantics (common.py) are the same for all.
RECIPES = {
    "task-learned": {"steps": 6000, "min_lr_frac": 0.0},
    "task-sinusoidal": {"steps": 8000, "min_lr_frac": 0.0, "wte_std": 0.5},
    "task-alibi": {"steps": 8000, "min_lr_frac": 0.0},
    "task-relbias": {"steps": 6000, "min_lr_frac": 0.0},
}


def make_config(name):
    base, pos = MODELS[name]
    cfg = dict(base)
    cfg["ordinal_positional"] = dict(pos)
    cfg["ordinal_task"] = T.task_spec()
    return cfg


def reference_candidates():
    """reference.json prompt candidates: full 24-token sequences <s> <task> x1..x10 > y1..y10 </s> (answer
    included), reverse first, then sort and copy_offset, RandomState(42 + k)."""
    out = []
    for k in range(4):
        for task in ("reverse", "sort", "copy_offset"):
            p, a = T.make_case(np.random.RandomState(42 + k), task, 10)
            out.append(p + a)
    return out


def lr_at(step, steps, lr, warmup, min_lr_frac=0.1):
    """Linear warmup, then cosine from lr down to min_lr_frac * lr at the last step."""
    if step < warmup:
        return lr * (step + 1) / warmup
    p = (step - warmup) / max(1, steps - warmup)
    return lr * (min_lr_frac + (1.0 - min_lr_frac) * 0.5 * (1.0 + math.cos(math.pi * p)))


def masked_ce(model, batch):
    x, y, m = (torch.from_numpy(a) for a in batch)
    logits = model(x)
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="none")
    return (ce * m.reshape(-1)).sum(), m.sum()


def train_batches(rng, batch):
    """One optimizer step = two padded sub-batches: the three short tasks together, passkey alone
    (avoids padding short sequences to passkey length). Same cases as a mixed batch."""
    per = batch // len(T.TASKS)
    short, pk = [], []
    for t in T.TASKS:
        lo, hi = T.length_range(t)
        for _ in range(per):
            (pk if t == "passkey" else short).append(T.make_case(rng, t, rng.randint(lo, hi + 1)))
    return [T.make_batch(rng, short), T.make_batch(rng, pk)]


@torch.no_grad()
def exact_match(model, cases, bs=500):
    """Teacher-forced exact match: the greedy decode after <sep> reproduces answer (incl. </s>)
    iff argmax == target at every answer position. Returns (n_correct, summed CE, n_answer_tokens)."""
    correct, ce_sum, ntok = 0, 0.0, 0
    for i in range(0, len(cases), bs):
        x, y, m = T.make_batch(None, cases[i:i + bs])
        logits = model(torch.from_numpy(x))
        yt, mt = torch.from_numpy(y), torch.from_numpy(m) > 0
        ok = (logits.argmax(-1) == yt) | ~mt
        correct += int(ok.all(dim=1).sum())
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), yt.reshape(-1), reduction="none")
        ce_sum += float((ce * mt.reshape(-1).float()).sum())
        ntok += int(mt.sum())
    return correct, ce_sum, ntok


@torch.no_grad()
def greedy_decode(model, prompt, max_new):
    seq = list(prompt)
    out = []
    for _ in range(max_new):
        t = int(model(torch.tensor([seq]))[0, -1].argmax())
        out.append(t)
        seq.append(t)
        if t == T.EOS:
            break
    return out


def gen_cases(seed, task, n_cases, n_fixed=None):
    rng = np.random.RandomState(seed)
    lo, hi = T.length_range(task)
    return [T.make_case(rng, task, n_fixed if n_fixed else rng.randint(lo, hi + 1)) for _ in range(n_cases)]


def evaluate(model, cfg, args):
    res = {"in_distribution": {}, "extrapolation": {}, "greedy_crosscheck": {}}
    for ti, task in enumerate(T.TASKS):
        cases = gen_cases(args.eval_seed + 100 * ti, task, args.eval_cases)
        c, ce, nt = exact_match(model, cases)
        res["in_distribution"][task] = {"cases": len(cases), "correct": c, "accuracy": c / len(cases),
                                        "answer_token_ce": ce / nt}
        # explicit autoregressive greedy decoding on a subset must agree with the teacher-forced test
        sub = cases[:40]
        agree = 0
        for p, a in sub:
            g = greedy_decode(model, p, len(a))
            tf_ok = exact_match(model, [(p, a)])[0] == 1
            agree += int((g == a) == tf_ok)
        res["greedy_crosscheck"][task] = {"cases": len(sub), "agree": agree}
        lo, hi = T.length_range(task)
        for factor in (1.5, 2.0):
            n = int(round(hi * factor))
            key = "%gx" % factor
            seq_len = 2 + n + 1 + (T.KEY_LEN if task == "passkey" else n) + 1
            ent = {"n": n, "seq_len": seq_len}
            if cfg["ordinal_positional"]["scheme"] == "learned" and seq_len - 1 > cfg["n_positions"]:
                ent["error"] = "longer than the learned table"
            else:
                cs = gen_cases(args.eval_seed + 100 * ti + int(factor * 10), task, args.extrap_cases, n)
                c, ce, nt = exact_match(model, cs)
                ent.update({"cases": len(cs), "correct": c, "accuracy": c / len(cs), "answer_token_ce": ce / nt})
            res["extrapolation"].setdefault(task, {})[key] = ent
    return res


def train_one(name, args):
    common.setup_torch(args.seed)
    cfg = make_config(name)
    model = common.build_model(cfg)
    if args.wte_std != DEFAULTS["wte_std"]:
        # Larger token-embedding init (training-only; the forward is unchanged). With an additive sinusoidal
        # PE of per-element RMS 1/sqrt(2), 0.02-std token embeddings are ~35x smaller than the position
        # signal at the first LayerNorm, so token identity is nearly invisible early in training.
        # (Vaswani et al. scale embeddings by sqrt(d) in the forward instead; that is not expressible with
        # the tied head of the exported format, so the scale is put into the init.) Drawn after the default
        # init, so runs with the default std consume the same random numbers as before.
        torch.nn.init.normal_(model.transformer["wte"].weight if cfg["model_type"] == "gpt2"
                              else model.model["embed_tokens"].weight, 0.0, args.wte_std)
    n_params = common.count_params(model)
    opt = common.adamw(model, args.lr, args.weight_decay, betas=(0.9, 0.98))
    rng = np.random.RandomState(args.seed)
    t0 = time.time()
    log = []
    recent = []
    model.train()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup, args.min_lr_frac)
        tot, cnt = 0.0, 0.0
        loss_sum = None
        for b in train_batches(rng, args.batch):
            s, c = masked_ce(model, b)
            loss_sum = s if loss_sum is None else loss_sum + s
            cnt += float(c)
        loss = loss_sum / cnt
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        recent.append(float(loss))
        if (step + 1) % 100 == 0 or step == args.steps - 1:
            msg = "%s step %d loss %.4f (avg100 %.4f) %.0fs" % (name, step + 1, float(loss),
                                                              np.mean(recent[-100:]), time.time() - t0)
            print(msg, flush=True)
            log.append({"step": step + 1, "avg_loss_last100": float(np.mean(recent[-100:]))})
    train_time = time.time() - t0
    model.eval()
    if args.dry_run:  # pilot: evaluate the in-memory f32 model, write nothing
        res = evaluate(model, cfg, args)
        print("%s dry run: train %.0f s, final avg100 loss %.4f" % (name, train_time, np.mean(recent[-100:])))
        print(json.dumps({t: round(100 * e["accuracy"], 2) for t, e in res["in_distribution"].items()}))
        print(json.dumps({t: {k: round(100 * e["accuracy"], 2) for k, e in v.items() if "accuracy" in e}
                          for t, v in res["extrapolation"].items()}))
        return res

    zdir = os.path.join(common.ZOO_DIR, name)
    exported = common.export_model(model, zdir, cfg, T.tokenizer(), reference_candidates())
    t1 = time.time()
    res = evaluate(exported, cfg, args)
    res["eval_time_s"] = time.time() - t1
    res.update({"name": name, "params": n_params, "train_time_s": train_time,
                "final_train_loss_avg100": float(np.mean(recent[-100:])), "log": log,
                "hparams": {k: getattr(args, k) for k in DEFAULTS},
                "safetensors_bytes": common.file_size(os.path.join(zdir, "model.safetensors")),
                "dir_bytes": sum(common.file_size(os.path.join(zdir, f)) for f in os.listdir(zdir))})
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__), "results", name + ".json"), "w") as f:
        json.dump(res, f, indent=1)
    write_card(name, cfg, res, args)
    print(json.dumps({k: res[k] for k in ("in_distribution", "extrapolation")}, indent=1))
    return res


def fmt_acc(e):
    if "error" in e:
        return "error (%s)" % e["error"]
    return "%.2f%%" % (100 * e["accuracy"])


def ref_text(zdir):
    with open(os.path.join(zdir, "reference.json")) as f:
        return " ".join(T.PIECES[i] for i in json.load(f)["tokens"])


def write_card(name, cfg, res, args):
    zdir = os.path.join(common.ZOO_DIR, name)
    pos = cfg["ordinal_positional"]
    if cfg["model_type"] == "gpt2":
        arch = "GPT-2 body: n_embd %d, n_layer %d, n_head %d, n_positions %d, GELU(tanh), LayerNorm eps 1e-5, tied head" % (
            cfg["n_embd"], cfg["n_layer"], cfg["n_head"], cfg["n_positions"])
    else:
        arch = ("Llama body: hidden %d, intermediate %d, %d layers, %d heads / %d kv heads (GQA), RMSNorm eps 1e-5, "
                "SwiGLU, RoPE theta %g split-half, max_position_embeddings %d, tied head") % (
            cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"],
            cfg["num_key_value_heads"], cfg["rope_theta"], cfg["max_position_embeddings"])
    cmd = "LD_LIBRARY_PATH=$OPENBLAS_SERIAL /usr/bin/python3 models/train/train_tasks.py --model %s" % name
    hp = {k: getattr(args, k, DEFAULTS[k]) for k in DEFAULTS}  # results of older runs lack newer keys
    nondef = ["--%s %s" % (k.replace("_", "-"), hp[k]) for k in DEFAULTS if hp[k] != DEFAULTS[k]]
    if nondef:
        cmd += " " + " ".join(nondef)
    lines = ["# %s" % name, "",
             "Tiny decoder trained on Ordinal's four synthetic tasks (reverse, sort, copy_offset, passkey; spec in "
             "`models/train/TASKS.md` and in `config.json` → `ordinal_task`).", "",
             "| | |", "|---|---|",
             "| positional scheme | `%s` |" % json.dumps(pos),
             "| architecture | %s |" % arch,
             "| parameters | %d |" % res["params"],
             "| model.safetensors | %d bytes (F16; norm weights/biases F32) |" % res["safetensors_bytes"],
             "| directory total | %d bytes |" % res["dir_bytes"],
             "| vocabulary | 35 tokens (tasks.py), no byte-fallback pieces |",
             "| training | %d steps × batch %d (16 per task), AdamW lr %g (warmup %d, cosine to %g%%), wd %g, "
             "grad clip 1.0, loss on answer tokens only; init N(0, 0.02) (token embedding N(0, %g)) |" % (
                 hp["steps"], hp["batch"], hp["lr"], hp["warmup"], 100 * hp["min_lr_frac"], hp["weight_decay"],
                 hp["wte_std"]),
             "| data | synthetic, generated on the fly by `numpy.random.RandomState(%d)` |" % args.seed,
             "| seed | %d (torch.manual_seed and data stream) |" % args.seed,
             "| command | `%s` |" % cmd,
             "| train wall time | %.0f s (1 CPU thread on a machine shared with concurrent C++ builds; not a compute measure) |" % res["train_time_s"],
             "| final train loss | %.4f (mean answer-token CE over the last 100 steps) |" % res["final_train_loss_avg100"],
             "", "## Exact-sequence accuracy (f32 math on the exported F16 weights, teacher-forced argmax ≡ greedy)", "",
             "Eval data: `RandomState(%d + 100·task_index)`, task_index = reverse 0, sort 1, copy_offset 2, passkey 3." %
             args.eval_seed, "",
             "| task | in-distribution (%d cases) | held-out answer CE | 1.5× length | 2× length |" % args.eval_cases,
             "|---|---|---|---|---|"]
    for task in T.TASKS:
        e = res["in_distribution"][task]
        x = res["extrapolation"][task]
        lines.append("| %s | %.2f%% | %.4f | %s (n=%d) | %s (n=%d) |" % (
            task, 100 * e["accuracy"], e["answer_token_ce"], fmt_acc(x["1.5x"]), x["1.5x"]["n"],
            fmt_acc(x["2x"]), x["2x"]["n"]))
    cpp = res.get("cpp_verify")
    if cpp:
        lines += ["", "## C++ runtime (task scoring of `ordinal verify`)", "",
                  "`%s` (float32 runtime on the imported file; its own PRNG, seed %s, same distributions, so it "
                  "agrees with the Python figures statistically, not case by case):" % (cpp["command"], cpp["seed"]), "",
                  "| task | regime | n | cases | C++ accuracy | Python accuracy |", "|---|---|---|---|---|---|"]
        for r in cpp["results"]:
            if r["regime"] == "in-distribution":
                py = res["in_distribution"].get(r["task"])
            else:
                py = res["extrapolation"].get(r["task"], {}).get(r["regime"].split()[0].replace("×", "x"))
            lines.append("| %s | %s | %s | %d | %s | %s |" % (
                r["task"], r["regime"], r.get("input_length") or "training range", r["cases"],
                "%.2f%%" % (100 * r["accuracy"]) if r.get("accuracy") is not None else "unsupported",
                fmt_acc(py) if py else "—"))
    lines += ["", "Training lengths: reverse/sort/copy_offset n ∈ [%d, %d]; passkey haystack n ∈ [%d, %d] with a %d-digit "
              "key. Extrapolation rows use exactly the given n (%d cases each)." % (
                  T.TRAIN_MIN, T.TRAIN_MAX, T.PK_MIN, T.PK_MAX, T.KEY_LEN, args.extrap_cases),
              "Greedy cross-check (explicit autoregressive decoding vs teacher-forced test, 40 cases per task): %s." %
              ", ".join("%s %d/%d agree" % (t, v["agree"], v["cases"]) for t, v in res["greedy_crosscheck"].items()),
              "", "`reference.json`: tokens = `%s` (24 tokens: a full task sequence incl. its answer), logits at every "
              "position (float64 math on the exported weights, rounded to float32)." % ref_text(zdir), ""]
    with open(os.path.join(common.ZOO_DIR, name + ".md"), "w") as f:
        f.write("\n".join(lines))


def record_cpp(name, verify_json, command):
    rpath = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", name + ".json")
    with open(rpath) as f:
        res = json.load(f)
    with open(verify_json) as f:
        v = json.load(f)
    rows = []
    for r in v["tasks"]["results"]:
        c = r["cand"]
        rows.append({"task": r["task"], "regime": r["regime"], "input_length": r.get("input_length"),
                     "cases": c["cases"], "correct": c["correct"],
                     "accuracy": c.get("accuracy") if c.get("supported") else None})
    res["cpp_verify"] = {"command": command, "seed": v.get("seed"), "results": rows}
    with open(rpath, "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(common.ZOO_DIR, name, "config.json")) as f:
        cfg = json.load(f)
    write_card(name, cfg, res, argparse.Namespace(**res["hparams"]))
    for r in rows:
        print(r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=sorted(MODELS))
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--dry-run", action="store_true", help="pilot: train and evaluate in memory, write nothing")
    ap.add_argument("--record-cpp", metavar="VERIFY_JSON",
                    help="no training: store the task results of `ordinal verify ... --json VERIFY_JSON` (C++ runtime) "
                         "in results/<model>.json and rewrite the card")
    ap.add_argument("--cpp-command", default="", help="with --record-cpp: the verify command line, for the card")
    for k, v in DEFAULTS.items():
        ap.add_argument("--" + k.replace("_", "-"), dest=k, type=type(v), default=None)
    cli = ap.parse_args()
    if cli.record_cpp:
        record_cpp(cli.model, cli.record_cpp, cli.cpp_command)
        return
    names = list(MODELS) if cli.all else [cli.model]
    for n in names:
        args = argparse.Namespace(dry_run=cli.dry_run)
        for k, v in DEFAULTS.items():  # command line > per-model recipe > common default
            c = getattr(cli, k)
            setattr(args, k, c if c is not None else RECIPES.get(n, {}).get(k, v))
        train_one(n, args)


if __name__ == "__main__":
    main()
