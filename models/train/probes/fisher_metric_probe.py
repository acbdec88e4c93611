"""Measurement behind issue 18's loss-aware fitting: the Fisher metric of a learned position table.

    LD_LIBRARY_PATH=$OPENBLAS_SERIAL /usr/bin/python3 models/train/probes/fisher_metric_probe.py \
        models/zoo/story-gpt2 [calibration windows]

Calibration: windows of the TRAINING split (first 90 % of the paragraphs); for each, next tokens are
sampled from the model and the gradient of their log-probability w.r.t. every table row is accumulated:
F_p = E[g_p g_p^T], the Fisher information of row p (KL(ref||cand) ~ 1/2 sum_p e_p^T F_p e_p). Prints the
spectrum of the mean metric, then fits hybrid tables (K exact rows, rank-r tail, f32) in the plain, the
Fisher and the Fisher+row-weight metric and evaluates top-1 agreement and KL against the original model on
HELD-OUT windows (last 10 %, disjoint from calibration).
"""
import os, sys, math
import numpy as np, torch, torch.nn.functional as F
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import probe_data
torch.set_num_threads(1)
model, cfg, tr, he = probe_data.load(sys.argv[1])
CTX = cfg["n_positions"]; D = cfg["n_embd"]
wpe = model.transformer["wpe"].weight
T0 = wpe.detach().clone()
NW = int(sys.argv[2]) if len(sys.argv) > 2 else 24
Fsum = torch.zeros(CTX, D, D, dtype=torch.float64)
for g in probe_data.table_gradients(model, tr, CTX, NW):
    Fsum += g[:, :, None] * g[:, None, :]
Fp = Fsum / (NW * 2)
Fbar = Fp.mean(0)
ev = torch.linalg.eigvalsh(Fbar).flip(0)
print("Fbar eig top/bottom", ev[:8].numpy(), ev[-4:].numpy(), "eff dim", float(ev.sum()**2 / (ev**2).sum()))
wp = torch.einsum("pii->p", Fp)
print("trace F_p by bucket", [float(wp[a:b].mean()) for a, b in ((0, 16), (16, 64), (64, 256), (256, CTX))])

hw = [he[i * CTX:(i + 1) * CTX] for i in range(min(16, (len(he) - 1) // CTX))]
with torch.no_grad():
    ref = [F.log_softmax(model(torch.from_numpy(h[None]))[0], -1) for h in hw]
def evaluate(T):
    with torch.no_grad():
        wpe.copy_(T)
        agree = np.zeros(CTX); kl = np.zeros(CTX)
        for h, r in zip(hw, ref):
            c = F.log_softmax(model(torch.from_numpy(h[None]))[0], -1)
            agree += (c.argmax(-1) == r.argmax(-1)).numpy()
            kl += (r.exp() * (r - c)).sum(-1).numpy()
        wpe.copy_(T0)
    n = len(hw)
    bk = ((0, 64), (64, 256)) + (((256, CTX),) if CTX > 256 else ())
    return " ".join("[%d,%d) top1 %.4f kl %.2e" % (a, b, agree[a:b].mean() / n, kl[a:b].mean() / n) for a, b in bk)

def hybrid(K, r, M=None, w=None):
    T = T0.double().numpy(); tail = T[K:]
    if M is None: M = np.eye(D)
    L = np.linalg.cholesky(M)
    X = tail @ L
    if w is not None: X = X * np.sqrt(w[K:, None])
    U, S, Vt = np.linalg.svd(X, full_matrices=False)
    B = Vt[:r] @ np.linalg.inv(L)
    G = B @ M @ B.T
    A = tail @ M @ B.T @ np.linalg.inv(G)
    out = T.copy(); out[K:] = A @ B
    return torch.from_numpy(out).float()
Fb = Fbar.numpy(); Fb = Fb / np.trace(Fb) + 1e-6 * np.eye(D)
print("int8-like noise ref: exact table ->", evaluate(T0))
for K, r in ((16, 4), (16, 8), (32, 8), (16, 16), (64, 16)):
    print("K%d r%d plain :" % (K, r), evaluate(hybrid(K, r)))
    print("K%d r%d fisher:" % (K, r), evaluate(hybrid(K, r, Fb)))
    print("K%d r%d fisher+w:" % (K, r), evaluate(hybrid(K, r, Fb, wp.numpy())))
