"""Measurement behind issue 18's 25x target: how many bytes does a learned position table need for the
model to keep its own decisions (top-1 >= 0.99 in every position bucket), if it is coded by the best
transform coder for its own Fisher metric?

    LD_LIBRARY_PATH=$OPENBLAS_SERIAL /usr/bin/python3 models/train/probes/rate_probe.py \
        models/zoo/story-gpt2 [calibration windows]

1. Fisher metric: calibration windows of the TRAINING split (first 90 % of the paragraphs); next tokens
   sampled from the model; F = mean over positions of E[g_p g_p^T], g_p the gradient of the sampled
   token's log-probability w.r.t. table row p (KL(ref || cand) ~ 1/2 sum_p e_p^T F_p e_p).
2. The coder: rows whitened by F (F = L L^T, Y = T L, so the Fisher error is the plain squared error of
   Y), a KLT (PCA over positions) of Y, and per component the Gaussian rate-distortion test channel with
   reverse water-filling at level theta: component i with variance s_i^2 > theta is kept as
   a_i c_i + sqrt(a_i theta) n (a_i = 1 - theta / s_i^2, n standard normal), others are dropped. Rate:
   sum_i max(0, 1/2 log2(s_i^2 / theta)) bits per position. This is the rate a Gaussian source with the
   table's covariance needs at that Fisher distortion, at the rate-distortion limit; no side information
   (mean, basis: 128x128 numbers for story-gpt2, themselves more than 25x allows) and no runtime cost are
   counted, so it is the optimistic end for transform coders - the families the runtime has (low-rank,
   hybrid) are special cases of it with worse allocation. It is not a bound for every coder: a table far
   from Gaussian could need fewer bits than the Gaussian rate.
3. Each reconstruction is evaluated on HELD-OUT windows (last 10 %, disjoint from calibration): top-1
   agreement with the unmodified model, KL and relative perplexity change per position bucket, mean over
   two noise draws; int8-row (the shipped 3.9x setting) is the reference point.
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
Fbar = torch.zeros(D, D, dtype=torch.float64)
for g in probe_data.table_gradients(model, tr, CTX, NW):
    Fbar += g.T @ g
Fbar /= NW * 2 * CTX

NH = min(16, (len(he) - 1) // CTX)
hw = [he[i * CTX:(i + 1) * CTX + 1] for i in range(NH)]
with torch.no_grad():
    ref = [F.log_softmax(model(torch.from_numpy(h[None, :CTX]))[0], -1) for h in hw]
BUCKETS = ((0, 64), (64, 256)) + (((256, 512), (512, CTX)) if CTX > 256 else ())


def evaluate(T):
    """Per bucket: top-1 agreement, KL(ref || cand), relative perplexity change (held-out next tokens)."""
    with torch.no_grad():
        wpe.copy_(T)
        agree = np.zeros(CTX); kl = np.zeros(CTX); nll_r = np.zeros(CTX); nll_c = np.zeros(CTX)
        for h, r in zip(hw, ref):
            c = F.log_softmax(model(torch.from_numpy(h[None, :CTX]))[0], -1)
            nxt = torch.from_numpy(h[1:CTX + 1])
            agree += (c.argmax(-1) == r.argmax(-1)).numpy()
            kl += (r.exp() * (r - c)).sum(-1).numpy()
            nll_r -= r.gather(1, nxt[:, None])[:, 0].numpy()
            nll_c -= c.gather(1, nxt[:, None])[:, 0].numpy()
        wpe.copy_(T0)
    n = len(hw)
    out = []
    for a, b in BUCKETS:
        dppl = math.exp((nll_c[a:b].sum() - nll_r[a:b].sum()) / (n * (b - a))) - 1
        out.append((agree[a:b].mean() / n, kl[a:b].mean() / n, dppl))
    return out


def fmt(res):
    return " | ".join("[%d,%d) top1 %.4f kl %.1e dppl %+.3f%%" % (a, b, t, k, 100 * p)
                      for (a, b), (t, k, p) in zip(BUCKETS, res))


T = T0.double().numpy()
f32_bytes = T.size * 4
# int8-row: symmetric, scale max|row| / 127 (f16 scale), round half to even - the shipped setting.
sc = np.abs(T).max(1, keepdims=True) / 127
T8 = np.round(T / sc) * sc
e8 = T8 - T
D8 = float(np.einsum("pi,ij,pj->p", e8, Fbar.numpy(), e8).mean())
print("table %dx%d, f32 %d B; 25x = %d B" % (CTX, D, f32_bytes, f32_bytes // 25))
ev = np.linalg.eigvalsh(Fbar.numpy())[::-1]
print("mean Fisher eigenvalues: top", np.round(ev[:4], 3), "median %.3g" % np.median(ev), "bottom %.3g" % ev[-1])
print("int8-row  %6d B %5.1fx Fisher distortion/position %.3e :: %s" %
      (CTX * (D + 2), f32_bytes / (CTX * (D + 2)), D8, fmt(evaluate(torch.from_numpy(T8).float()))))

Fn = Fbar.numpy() + 1e-9 * np.trace(Fbar.numpy()) / D * np.eye(D)
L = np.linalg.cholesky(Fn)
Y = T @ L
mu = Y.mean(0)
U, S, Vt = np.linalg.svd(Y - mu, full_matrices=False)
var = S ** 2 / CTX
coef = (Y - mu) @ Vt.T
Linv = np.linalg.inv(L)
print("whitened KLT variances: top", np.round(var[:4], 4), "median %.3g" % np.median(var), "bottom %.3g" % var[-1])
for mult in (0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256):
    target = mult * D8
    # water level theta with sum_i min(theta, var_i) = target
    lo, hi = 0.0, float(var.max())
    for _ in range(100):
        th = (lo + hi) / 2
        if np.minimum(th, var).sum() < target: lo = th
        else: hi = th
    th = (lo + hi) / 2
    keep = var > th
    bits = 0.5 * np.log2(var[keep] / th).sum() * CTX
    byts = bits / 8
    res = []
    for seed in (1, 2):
        g = np.random.RandomState(seed)
        a = np.where(keep, 1 - th / np.maximum(var, 1e-300), 0.0)
        ch = a * coef + np.sqrt(np.maximum(a * th, 0)) * g.standard_normal(coef.shape)
        That = (ch @ Vt + mu) @ Linv
        res.append(evaluate(torch.from_numpy(That).float()))
    mean = [tuple(np.mean([r[b][k] for r in res]) for k in range(3)) for b in range(len(BUCKETS))]
    print("ideal coder %8.0f B %6.1fx D/D8 %5.1f kept %3d/%d :: %s" %
          (byts, f32_bytes / max(byts, 1), mult, keep.sum(), D, fmt(mean)), flush=True)
