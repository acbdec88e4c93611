"""BPE-512 tokenizer in Ordinal's `llama2c-bpe` format (semantics of llama2.c run.c).

Vocabulary layout (512 pieces):
  0 "<unk>", 1 "<s>" (BOS), 2 "</s>" (EOS), 3..258 byte pieces "<0x00>".."<0xFF>" (id = byte + 3),
  then single characters (every char seen >= MIN_CHAR_COUNT times in the training split, incl. " "),
  then merged pieces in merge order. Scores: 0.0 for specials, bytes and single chars;
  the r-th merged piece (r = 1, 2, ...) has score -r (earlier merges score higher).

Encoding (= run.c `encode`, bos/eos optional):
  1. if text is non-empty, emit the id of the piece " " (dummy prefix);
  2. for each Unicode code point of text: emit the id of its UTF-8 string if it is a piece, otherwise
     one byte piece per UTF-8 byte (id = byte + 3);
  3. repeat: among all adjacent pairs (i, i+1) whose concatenated piece STRINGS form a piece, take the
     one with the highest score (ties: leftmost); replace the pair by that piece; until none.
Decoding: for each id t with previous id p (p = BOS before the first id): ids 0, 1, 2 emit nothing;
  piece = pieces[t]; if p == BOS and piece starts with " ", drop that one space; a piece "<0xHH>"
  emits the raw byte HH; the bytes are concatenated and read as UTF-8 (invalid sequences -> U+FFFD).

Training: classic BPE on word frequencies of the TinyStories training split (first 90% of the
paragraphs), pretokenized with PRETOKEN (a space sticks to the following run of letters/digits or
of punctuation). Because every merged piece lies inside one pretoken and is homogeneous, run.c's
whole-string merge loop never merges across pretoken boundaries, so `encode` below runs the loop per
pretoken (with a cache) and is identical to the literal algorithm `encode_runc` (checked in `selftest`).

    /usr/bin/python3 models/train/bpe.py --out /tmp/tok.json       # train + write tokenizer.json
    /usr/bin/python3 models/train/bpe.py --selftest --cases tests/data/bpe512_cases.json
"""
import argparse
import collections
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

VOCAB_SIZE = 512
MIN_CHAR_COUNT = 3
PRETOKEN = re.compile(r" ?[A-Za-z0-9]+| ?[^\sA-Za-z0-9]+|\s")
BYTE_PIECE = re.compile(r"^<0x([0-9A-F]{2})>$")


def load_paragraphs(path=None):
    """TinyStories head file -> list of paragraphs (split at blank lines; inner single newlines kept)."""
    path = path or os.path.join(common.shared_dir(), "corpus", "tinystories_val_head.txt")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return [p.strip("\n") for p in text.split("\n\n") if p.strip()]


def split_paragraphs(paras):
    """Training split = first 90% of the paragraphs, held-out = the last 10%."""
    n_train = int(len(paras) * 0.9)
    return paras[:n_train], paras[n_train:]


def train(paragraphs, vocab_size=VOCAB_SIZE, min_char_count=MIN_CHAR_COUNT):
    chars = collections.Counter()
    for p in paragraphs:
        chars.update(" " + p)
    base = sorted([c for c, n in chars.items() if n >= min_char_count], key=lambda c: (-chars[c], c))
    if " " not in base:
        base.insert(0, " ")
    pieces = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)] + base
    scores = [0.0] * len(pieces)
    in_vocab = set(pieces)
    words = collections.Counter()
    for p in paragraphs:
        words.update(PRETOKEN.findall(" " + p))
    words = [(list(w), n) for w, n in words.items()]
    rank = 0
    while len(pieces) < vocab_size:
        pairs = collections.Counter()
        for syms, n in words:
            for a, b in zip(syms, syms[1:]):
                if a in in_vocab and b in in_vocab:
                    pairs[(a, b)] += n
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], [-ord(c) for c in kv[0][0] + "\0" + kv[0][1]]))[0]
        new = best[0] + best[1]
        for w in words:
            syms = w[0]
            i, out = 0, []
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == best[0] and syms[i + 1] == best[1]:
                    out.append(new)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            w[0][:] = out
        if new not in in_vocab:
            rank += 1
            pieces.append(new)
            scores.append(-float(rank))
            in_vocab.add(new)
    return {"pieces": pieces, "scores": scores, "bos_id": 1, "eos_id": 2}


class Tokenizer:
    def __init__(self, tok):
        self.pieces = list(tok["pieces"])
        self.scores = list(tok["scores"])
        self.bos_id = tok.get("bos_id", 1)
        self.eos_id = tok.get("eos_id", 2)
        self.lookup = {p: i for i, p in enumerate(self.pieces)}
        assert len(self.lookup) == len(self.pieces), "duplicate pieces"
        self.cache = {}

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f))

    def _initial(self, text):
        ids = []
        for ch in text:
            i = self.lookup.get(ch)
            if i is not None:
                ids.append(i)
            else:
                ids.extend(b + 3 for b in ch.encode("utf-8"))
        return ids

    def _merge(self, ids):
        ids = list(ids)
        while True:
            best_score, best_id, best_idx = -1e10, -1, -1
            for i in range(len(ids) - 1):
                j = self.lookup.get(self.pieces[ids[i]] + self.pieces[ids[i + 1]])
                if j is not None and self.scores[j] > best_score:
                    best_score, best_id, best_idx = self.scores[j], j, i
            if best_idx == -1:
                return ids
            ids[best_idx:best_idx + 2] = [best_id]

    def encode_runc(self, text, bos=False, eos=False):
        """Literal run.c algorithm on the whole string (quadratic; reference)."""
        ids = [self.bos_id] if bos else []
        if text:
            ids.append(self.lookup[" "])
        ids += self._initial(text)
        ids = self._merge(ids)
        if eos:
            ids.append(self.eos_id)
        return ids

    def encode(self, text, bos=False, eos=False):
        ids = [self.bos_id] if bos else []
        if text:
            for w in PRETOKEN.findall(" " + text):
                r = self.cache.get(w)
                if r is None:
                    r = self._merge(self._initial(w))
                    self.cache[w] = r
                ids.extend(r)
        if eos:
            ids.append(self.eos_id)
        return ids

    def decode_bytes(self, ids):
        out = bytearray()
        prev = self.bos_id
        for t in ids:
            if t in (0, 1, 2):
                prev = t
                continue
            piece = self.pieces[t]
            if prev == self.bos_id and piece.startswith(" "):
                piece = piece[1:]
            m = BYTE_PIECE.match(piece)
            out += bytes([int(m.group(1), 16)]) if m else piece.encode("utf-8")
            prev = t
        return bytes(out)

    def decode(self, ids):
        return self.decode_bytes(ids).decode("utf-8", errors="replace")


def selftest(tok, paragraphs, cases_out=None):
    """encode == encode_runc on edge cases and paragraphs; decode(encode(x)) == x; optionally write
    C++ comparison cases."""
    edge = ["", " ", "a", "Once upon a time", "  two  spaces ", "tab\there", "line\nbreak\n", "\n",
            "naïve café – “quotes” 🙂 日本", "<0x41> <s> </s> <unk>", "x" * 50, "Lily's mom said, \"No!\"",
            "123 4567 89", "\u00e9\u0301", "end."]
    n_checked = 0
    for s in edge + paragraphs:
        a, b = tok.encode(s), tok.encode_runc(s)
        assert a == b, (s, a, b)
        assert tok.decode(a) == s, (s, tok.decode(a))
        n_checked += 1
    if cases_out:
        sample = edge + paragraphs[:8]
        with open(os.path.join(common.shared_dir(), "corpus", "tinyshakespeare.txt"), encoding="utf-8") as f:
            sample.append(f.read()[:300])
        for s in sample[-1:]:
            assert tok.encode(s) == tok.encode_runc(s)
        cases = [{"text": s, "ids": tok.encode(s), "ids_bos_eos": tok.encode(s, bos=True, eos=True)}
                 for s in sample]
        with open(cases_out, "w", encoding="utf-8") as f:
            json.dump({"note": "Ordinal BPE-512 (models/zoo/story-*/tokenizer.json): ids = encode(text) with the "
                               "run.c semantics (dummy-prefix ' ' when text is non-empty, byte fallback id = byte+3, "
                               "highest-score merge first, leftmost on ties); ids_bos_eos adds 1 ... 2; "
                               "decode(ids) == text for every case",
                       "cases": cases}, f, ensure_ascii=False, indent=0)
            f.write("\n")
    return n_checked


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", help="write tokenizer.json here")
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--cases", help="with --selftest: write C++ comparison cases (JSON) here")
    args = ap.parse_args()
    train_p, held = split_paragraphs(load_paragraphs())
    tok_d = train(train_p)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(common.tokenizer_json(tok_d))
    tok = Tokenizer(tok_d)
    if args.selftest:
        n = selftest(tok, held[:300], args.cases)
        print("selftest ok:", n, "strings")
    ids = [t for p in train_p for t in tok.encode(p)]
    print("vocab %d, train chars %d, train tokens %d (%.2f chars/token)" % (
        len(tok_d["pieces"]), sum(len(p) for p in train_p), len(ids), sum(len(p) for p in train_p) / len(ids)))


if __name__ == "__main__":
    main()
