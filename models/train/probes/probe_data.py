"""What the issue-18 probes share: the exported model, the training / held-out token streams of the corpus
split (first 90 % of the paragraphs / last 10 %, BPE trained on the training split), and the gradients of
sampled next tokens w.r.t. the position table that the Fisher metric averages."""
import numpy as np, torch, torch.nn.functional as F
import bpe, common


def load(model_dir):
    """(model in eval mode, its config, training token stream, held-out token stream)."""
    model, cfg = common.load_exported(model_dir)
    model.eval()
    train_p, held = bpe.split_paragraphs(bpe.load_paragraphs())
    tok = bpe.Tokenizer(bpe.train(train_p))

    def stream(ps):
        out = []
        for p in ps: out += tok.encode(p, bos=True)
        return np.array(out)

    return model, cfg, stream(train_p), stream(held)


def table_gradients(model, tr, ctx, windows, seed=0):
    """For `windows` random windows of the training stream (numpy RandomState(seed)), two next tokens sampled
    from the model at every position: yields the gradient of their log-probability w.r.t. each row of the
    position table, [ctx, dim] float64 (F_p = E[g_p g_p^T] is the Fisher metric of row p). The tokens are
    drawn from torch's global generator, which the probes leave unseeded as they always did: the estimate
    varies between runs (story-gpt2, 4 windows: top eigenvalue of the mean metric 1035-1176)."""
    wpe = model.transformer["wpe"].weight
    rng = np.random.RandomState(seed)
    for _ in range(windows):
        s = rng.randint(0, len(tr) - ctx)
        x = torch.from_numpy(tr[s:s + ctx][None])
        for _ in range(2):
            model.zero_grad()
            lp = F.log_softmax(model(x)[0], -1)
            y = torch.multinomial(lp.exp().detach(), 1)[:, 0]
            lp.gather(1, y[:, None]).sum().backward()
            yield wpe.grad.detach().double()
