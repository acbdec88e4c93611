"""Write models/zoo/README.md (index of the shipped models) from models/train/results/*.json.

    /usr/bin/python3 models/train/summarize.py
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

TASK_ORDER = ["task-learned", "task-sinusoidal", "task-rope", "task-alibi", "task-relbias", "task-nopos"]
STORY_ORDER = ["story-gpt2", "story-llama"]


def pct(e):
    if e is None:
        return "—"
    if "error" in e:
        return "error"
    return "%.2f" % (100 * e["accuracy"])


def main():
    rdir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    res = {}
    for f in os.listdir(rdir):
        if f.endswith(".json"):
            with open(os.path.join(rdir, f)) as fh:
                res[f[:-5]] = json.load(fh)
    lines = ["# Ordinal model zoo", "",
             "Small models trained by this project (scripts and exact commands: `models/train/README.md`; task spec: "
             "`models/train/TASKS.md`). Every directory holds `config.json`, `model.safetensors` (F16, norms F32), "
             "`tokenizer.json` (Ordinal `llama2c-bpe`) and `reference.json` (float32 logits for the importer "
             "round-trip test). One card per model: `<name>.md`.", "",
             "## Task models (exact-sequence accuracy %, f32 math on the exported weights)", "",
             "In-distribution: 10,000 cases per task (n ∈ [4,16], passkey haystack ∈ [16,56]). "
             "Extrapolation: 1,000 cases at 1.5× / 2× the longest training length.", "",
             "| model | scheme | params | bytes | reverse | sort | copy_offset | passkey | reverse 1.5× / 2× | sort 1.5× / 2× "
             "| copy 1.5× / 2× | passkey 1.5× / 2× |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in TASK_ORDER:
        r = res.get(n)
        if not r:
            lines.append("| %s | (not trained) | | | | | | | | | | |" % n)
            continue
        cfg = json.load(open(os.path.join(common.ZOO_DIR, n, "config.json")))
        ind, ex = r["in_distribution"], r["extrapolation"]
        row = [n, cfg["ordinal_positional"]["scheme"], str(r["params"]), str(r["safetensors_bytes"])]
        row += [pct(ind[t]) for t in ("reverse", "sort", "copy_offset", "passkey")]
        row += ["%s / %s" % (pct(ex[t]["1.5x"]), pct(ex[t]["2x"])) for t in ("reverse", "sort", "copy_offset", "passkey")]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "## Story models (TinyStories, BPE-512, context 256)", "",
              "| model | scheme | params | bytes | train loss | held-out loss/token | held-out ppl/token | shuffled ppl/token "
              "| shuffle gap (ppl ratio) | tinyshakespeare ppl/token |", "|---|---|---|---|---|---|---|---|---|---|"]
    for n in STORY_ORDER:
        r = res.get(n)
        if not r:
            lines.append("| %s | (not trained) | | | | | | | | |" % n)
            continue
        cfg = json.load(open(os.path.join(common.ZOO_DIR, n, "config.json")))
        lines.append("| %s | %s | %d | %d | %.4f | %.4f | %.3f | %.3f | %.3f× | %.2f |" % (
            n, cfg["ordinal_positional"]["scheme"], r["params"], r["safetensors_bytes"], r["final_train_loss_avg50"],
            r["heldout"]["nll_per_token"], r["heldout"]["ppl_per_token"], r["heldout_shuffled"]["ppl_per_token"],
            r["shuffle_gap"]["ppl_ratio_shuffled_over_unshuffled"], r["tinyshakespeare_first50k_chars"]["ppl_per_token"]))
    lines += ["", "Shuffle gap = perplexity of the held-out paragraphs with words shuffled (seeded) ÷ perplexity of the "
              "same paragraphs whitespace-normalized but in order.", "",
              "## Notes", "",
              "* All task models share one recipe (3000 steps × 64 sequences, same seed and data stream), so the "
              "columns compare positional schemes at equal (small) compute, not converged models. Targets (≥ 99 % "
              "in-distribution) were met by task-rope on all four tasks, by task-relbias on reverse/sort/passkey "
              "(copy_offset 97.3 %), by task-learned on reverse/copy_offset only (sort 97.2 %, passkey 96.3 %).",
              "* task-sinusoidal is clearly under-trained in this budget (answer loss still falling steeply at the end: "
              "0.57); its numbers reflect slow convergence of an absolute sinusoidal PE added to 0.02-std embeddings in "
              "a d=64 model, not an export problem (its reference round-trip passes like the others).",
              "* task-alibi retrieves the passkey at every length tried (100 % at 1.5×, 99.9 % at 2×) but its "
              "fixed recency bias (slopes 1/4..1/256) makes the long-range position-exact tasks harder (reverse 86.6 %).",
              "* task-nopos shows the expected failure on order-dependent copying (reverse 24 %, copy_offset 0.7 %) "
              "while position-free tasks work (sort 98.8 %, passkey 98.7 %).",
              "* Nothing extrapolates on reverse/copy_offset at 1.5×/2×; learned tables give 0 % everywhere beyond "
              "the training lengths (the table has 128 rows, so 2× inputs run but rows > 65 are untrained).",
              "* story-llama overfits more than story-gpt2 (train 1.61 vs held-out 2.25 nats/token) but is still "
              "clearly better held-out and is far more sensitive to word order (gap 8.7× vs 4.0×).", ""]
    with open(os.path.join(common.ZOO_DIR, "README.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
