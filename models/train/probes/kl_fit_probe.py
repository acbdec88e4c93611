"""Measurement behind issue 18's loss-aware fitting: hybrid-table tail factors fitted by gradient descent
on KL(reference || candidate) with the model frozen.

    LD_LIBRARY_PATH=$OPENBLAS_SERIAL /usr/bin/python3 models/train/probes/kl_fit_probe.py \
        models/zoo/story-gpt2 K RANK STEPS [LR]

Calibration: 4 random 256-token windows of the TRAINING split per step (first 90 % of the paragraphs).
Evaluation: top-1 agreement and KL per position bucket on HELD-OUT windows (last 10 %), every 50 steps.
Initialised from the tail's truncated SVD (f32 factors, exact head rows).
"""
import os
import sys
import numpy as np, torch, torch.nn.functional as F
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import probe_data
torch.set_num_threads(1); torch.manual_seed(0)
model, cfg, tr, he = probe_data.load(sys.argv[1])
for p in model.parameters(): p.requires_grad_(False)
CTX = cfg["n_positions"]; D = cfg["n_embd"]; K = int(sys.argv[2]); r = int(sys.argv[3]); steps = int(sys.argv[4])
wpe = model.transformer["wpe"].weight
T0 = wpe.detach().clone()
tail = T0[K:].double()
U, S, Vt = torch.linalg.svd(tail, full_matrices=False)
A = (U[:, :r] * S[:r]).float().clone().requires_grad_(True)
B = Vt[:r].float().clone().requires_grad_(True)
head = T0[:K].clone()
def table(): return torch.cat([head, A @ B], 0)
def fwd(x, T):
    t = model.transformer
    h = t["wte"](x) + T[:x.shape[1]]
    bias = model.attn_bias(x.shape[1])
    for blk in t["h"]: h = blk(h, bias)
    return t["ln_f"](h) @ t["wte"].weight.t()
hw = [he[i * CTX:(i + 1) * CTX] for i in range(min(16, (len(he) - 1) // CTX))]
with torch.no_grad(): ref = [F.log_softmax(fwd(torch.from_numpy(h[None]), T0)[0], -1) for h in hw]
def evaluate():
    with torch.no_grad():
        T = table(); agree = np.zeros(CTX); kl = np.zeros(CTX)
        for h, rr in zip(hw, ref):
            c = F.log_softmax(fwd(torch.from_numpy(h[None]), T)[0], -1)
            agree += (c.argmax(-1) == rr.argmax(-1)).numpy(); kl += (rr.exp() * (rr - c)).sum(-1).numpy()
    n = len(hw)
    bk = ((0, 64), (64, 256)) + (((256, CTX),) if CTX > 256 else ())
    return " ".join("[%d,%d) top1 %.4f kl %.2e" % (a, b, agree[a:b].mean() / n, kl[a:b].mean() / n) for a, b in bk)
print("svd init:", evaluate(), flush=True)
opt = torch.optim.Adam([A, B], lr=float(sys.argv[5]) if len(sys.argv) > 5 else 3e-3)
rng = np.random.RandomState(1)
for step in range(steps):
    st = rng.randint(0, len(tr) - CTX, size=4)
    x = torch.from_numpy(np.stack([tr[s:s + CTX] for s in st]))
    with torch.no_grad(): rl = F.log_softmax(fwd(x, T0), -1)
    cl = F.log_softmax(fwd(x, table()), -1)
    loss = (rl.exp() * (rl - cl)).sum(-1).mean()
    opt.zero_grad(); loss.backward(); opt.step()
    if (step + 1) % 50 == 0: print(step + 1, "train KL %.3e" % float(loss), evaluate(), flush=True)
