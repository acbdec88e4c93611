"""Recompute reference.json (and refresh the model cards) of already-exported models without retraining.

    /usr/bin/python3 models/train/rewrite_references.py [names...]   # default: all shipped models

Uses the same prompt candidates and float64 reference math as the training scripts (common.write_reference).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import common  # noqa: E402
import train_story  # noqa: E402
import train_tasks  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def main():
    names = sys.argv[1:] or list(train_tasks.MODELS) + list(train_story.MODELS)
    common.setup_torch(0)
    for name in names:
        zdir = os.path.join(common.ZOO_DIR, name)
        with open(os.path.join(RESULTS, name + ".json")) as f:
            res = json.load(f)
        args = argparse.Namespace(**res["hparams"])
        with open(os.path.join(zdir, "config.json")) as f:
            cfg = json.load(f)
        if name in train_tasks.MODELS:
            toks, noise = common.write_reference(zdir, train_tasks.reference_candidates())
            train_tasks.write_card(name, cfg, res, args)
        else:
            tok = bpe.Tokenizer.load(os.path.join(zdir, "tokenizer.json"))
            toks, noise = common.write_reference(zdir, tok.encode(train_story.REF_TEXT, bos=True))
            train_story.write_card(name, cfg, res, args)
        print("%-16s reference %d tokens, independent f32 forward within %.2e" % (name, len(toks), noise))


if __name__ == "__main__":
    main()
