"""Synthetic algorithmic tasks for the task-* models (spec in models/train/TASKS.md).

Vocabulary (35 tokens, llama2c-bpe format without byte-fallback pieces):
  0 <unk>  1 <s> (BOS)  2 </s> (EOS)  3 " " (dummy-prefix piece, never used by the tasks)
  4 R (reverse)  5 S (sort)  6 C (copy_offset)  7 P (passkey)  8 > (separator)
  9..24  symbols a..p      25..34 digits 0..9
Sequence: <s> <task> x1..xn > y1..ym </s>
"""
import numpy as np

PIECES = ["<unk>", "<s>", "</s>", " ", "R", "S", "C", "P", ">"] + [chr(ord("a") + i) for i in range(16)] \
    + [str(i) for i in range(10)]
UNK, BOS, EOS, SPACE = 0, 1, 2, 3
TASK_IDS = {"reverse": 4, "sort": 5, "copy_offset": 6, "passkey": 7}
SEP = 8
SYM0, NSYM = 9, 16
DIG0, NDIG = 25, 10
VOCAB = len(PIECES)
assert VOCAB == 35

TRAIN_MIN, TRAIN_MAX = 4, 16          # reverse / sort / copy_offset input length n
OFFSET = 3                            # copy_offset: y_i = x[(i + 3) mod n]
KEY_LEN = 5                           # passkey digits
PK_MIN, PK_MAX = 16, 56               # passkey haystack length (filler + key), training range
TASKS = ["reverse", "sort", "copy_offset", "passkey"]
N_POSITIONS = 128                     # covers 2x passkey: 2 + 112 + 1 + 5 + 1 = 121


def tokenizer():
    return {"pieces": PIECES, "scores": [0.0] * VOCAB, "bos_id": BOS, "eos_id": EOS}


def task_spec():
    return {
        "format": "<bos> <task> x1..xn <sep> y1..ym <eos>; loss/scoring only on y1..ym <eos>",
        "bos_id": BOS, "eos_id": EOS, "sep_id": SEP,
        "symbol_ids": [SYM0, SYM0 + NSYM - 1],
        "digit_ids": [DIG0, DIG0 + NDIG - 1],
        "train_min_len": TRAIN_MIN, "train_max_len": TRAIN_MAX,
        "tasks": [
            {"name": "reverse", "prefix_id": TASK_IDS["reverse"], "min_len": TRAIN_MIN, "max_len": TRAIN_MAX,
             "input": "n ~ U[min_len,max_len], x_i ~ U(symbol_ids) iid",
             "answer": "y_i = x_{n-1-i}, m = n"},
            {"name": "sort", "prefix_id": TASK_IDS["sort"], "min_len": TRAIN_MIN, "max_len": TRAIN_MAX,
             "input": "n ~ U[min_len,max_len], x_i ~ U(symbol_ids) iid (duplicates allowed)",
             "answer": "y = x sorted by ascending token id, duplicates kept, m = n"},
            {"name": "copy_offset", "prefix_id": TASK_IDS["copy_offset"], "offset": OFFSET,
             "min_len": TRAIN_MIN, "max_len": TRAIN_MAX,
             "input": "n ~ U[min_len,max_len], x_i ~ U(symbol_ids) iid",
             "answer": "y_i = x_{(i+offset) mod n} for i = 0..n-1 (x rotated left by offset positions), m = n"},
            {"name": "passkey", "prefix_id": TASK_IDS["passkey"], "key_len": KEY_LEN,
             "min_len": PK_MIN, "max_len": PK_MAX, "filler_ids": [SYM0, SYM0 + NSYM - 1],
             "key_ids": [DIG0, DIG0 + NDIG - 1],
             "input": "n ~ U[min_len,max_len] is the haystack length (filler + key); key k_1..k_key_len ~ "
                      "U(key_ids) iid; start s ~ U[0, n-key_len]; x_i = k_{i-s+1} for s <= i < s+key_len, "
                      "else filler ~ U(filler_ids) iid",
             "answer": "y = k_1..k_key_len, m = key_len"},
        ],
        "sampling": "training: task uniform over the four; lengths/symbols as in each task's input rule",
        "extrapolation": "1.5x and 2x of max_len (reverse/sort/copy_offset n = 24, 32; passkey n = 84, 112)",
    }


def make_case(rng, task, n):
    """Returns (prompt_ids, answer_ids) where prompt = <s> <task> x > and answer = y </s>."""
    if task == "passkey":
        key = rng.randint(0, NDIG, size=KEY_LEN) + DIG0
        s = rng.randint(0, n - KEY_LEN + 1)
        x = rng.randint(0, NSYM, size=n) + SYM0
        x[s:s + KEY_LEN] = key
        y = key
    else:
        x = rng.randint(0, NSYM, size=n) + SYM0
        if task == "reverse":
            y = x[::-1]
        elif task == "sort":
            y = np.sort(x)
        elif task == "copy_offset":
            y = np.roll(x, -OFFSET)  # y[i] = x[(i + OFFSET) % n]
        else:
            raise ValueError(task)
    prompt = [BOS, TASK_IDS[task]] + list(map(int, x)) + [SEP]
    answer = list(map(int, y)) + [EOS]
    return prompt, answer


def length_range(task):
    return (PK_MIN, PK_MAX) if task == "passkey" else (TRAIN_MIN, TRAIN_MAX)


def make_batch(rng, cases):
    """cases: list of (prompt, answer). Right-padded with EOS. Returns inputs [B,T-1], targets [B,T-1],
    mask [B,T-1] (1 where the target is an answer token)."""
    seqs = [p + a for p, a in cases]
    T = max(len(s) for s in seqs)
    B = len(seqs)
    arr = np.full((B, T), EOS, dtype=np.int64)
    mask = np.zeros((B, T - 1), dtype=np.float32)
    for b, (p, a) in enumerate(cases):
        s = p + a
        arr[b, :len(s)] = s
        mask[b, len(p) - 1: len(s) - 1] = 1.0
    return arr[:, :-1], arr[:, 1:], mask


def sample_train_batch(rng, batch_size):
    per = batch_size // len(TASKS)
    cases = []
    for t in TASKS:
        lo, hi = length_range(t)
        for _ in range(per):
            cases.append(make_case(rng, t, rng.randint(lo, hi + 1)))
    return make_batch(rng, cases)


def write_cases(path, per_task=5, seed=99):
    """Example cases for C++ tests of the task spec (answer derivation, format), incl. extrapolation lengths."""
    import json
    rng = np.random.RandomState(seed)
    out = []
    for t in TASKS:
        lo, hi = length_range(t)
        for n in [lo, hi, int(1.5 * hi), 2 * hi] + [rng.randint(lo, hi + 1) for _ in range(per_task - 4)]:
            p, a = make_case(rng, t, n)
            out.append({"task": t, "n": n, "prompt": p, "answer": a,
                        "text": "".join(PIECES[i] for i in p + a)})
    with open(path, "w") as f:
        json.dump({"note": "task-* cases from models/train/tasks.py (prompt = <s> <task> x <sep>, answer = y </s>); "
                           "spec in models/train/TASKS.md", "cases": out}, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    import sys
    write_cases(sys.argv[1] if len(sys.argv) > 1 else "tests/data/task_cases.json")
