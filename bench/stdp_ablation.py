"""Lesson 09 ablations: Diehl & Cook's network written out flat, one variant at a time.

The same equations as ``snnlab.competitive.Competitive`` with ``update="end"`` and
``A_minus = 0`` (the STDP changes of a batch summed and added once after it, then each
neuron's weights normalised to ``--wsum``; theta raised by ``--theta_plus`` per spike after
the batch), with switches for the variants tried after ``bench/stdp_feasibility.md``:

    --wta step|hard        inhibition of ``--inh`` mV from the others, or a spike resets all
    --theta paper|min|mean|decay   theta as the paper (grows), minus its minimum, minus its
                           mean, or decaying with ``--tau_theta`` images
    --trace add|set        the input trace adds 1 at a spike, or is set to 1 (the paper)
    --xtar X               potentiation by (x_pre - X) instead of x_pre

One JSON line per run: the settings, the accuracy (votes of the neurons named on the first
``--assign`` training images; ``--test`` test images, a balanced subset of seed 0 below
10,000) and the seconds. One torch thread unless ``--threads``. The runs and what they say:
``bench/stdp_feasibility.md``, section "After the feasibility study".

    python bench/stdp_ablation.py --train 10000 --assign 5000 --test 2000 --wta hard
"""
import argparse
import json
import math
import time

import torch

from snnlab.data import mnist

p = argparse.ArgumentParser()
p.add_argument("--train", type=int, default=10000)
p.add_argument("--assign", type=int, default=5000)
p.add_argument("--test", type=int, default=2000)
p.add_argument("--n", type=int, default=100)
p.add_argument("--batch", type=int, default=100)
p.add_argument("--steps", type=int, default=100)
p.add_argument("--gain", type=float, default=0.223)
p.add_argument("--tau_mem", type=float, default=28.6)
p.add_argument("--tau_pre", type=float, default=5.7)
p.add_argument("--thr", type=float, default=13.0)
p.add_argument("--scale", type=float, default=0.65)
p.add_argument("--inh", type=float, default=12.0)
p.add_argument("--eta", type=float, default=0.001)   # per image
p.add_argument("--xtar", type=float, default=0.0)
p.add_argument("--mu", type=float, default=0.0)
p.add_argument("--wsum", type=float, default=78.0)
p.add_argument("--trace", default="add", choices=["add", "set"])
p.add_argument("--theta", default="paper", choices=["paper", "min", "mean", "decay"])
p.add_argument("--tau_theta", type=float, default=5000)
p.add_argument("--theta_plus", type=float, default=0.05)
p.add_argument("--wta", default="step", choices=["step", "hard"])
p.add_argument("--seed", type=int, default=0)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--epochs", type=float, default=1)
p.add_argument("--init", default="rand")
a = p.parse_args()
torch.set_num_threads(a.threads)

def tens(ds):
    base, idx = ((ds.dataset, torch.as_tensor(ds.indices)) if hasattr(ds, "indices")
                 else (ds, torch.arange(len(ds))))
    return base.images[idx].flatten(1), base.targets[idx]

t0 = time.perf_counter()
if a.train == 60000:
    X, Y = tens(mnist(True))
else:
    X, Y = tens(mnist(True, subset=a.train, seed=a.seed))
Xt, Yt = tens(mnist(False, subset=a.test, seed=0)) if a.test < 10000 else tens(mnist(False))
g = torch.Generator().manual_seed(a.seed)
order = torch.randperm(len(X), generator=g)
X, Y = X[order], Y[order]
W = 0.3 * torch.rand(784, a.n, generator=g)
if a.init == "rand":
    W = W * a.wsum / W.sum(0, keepdim=True)
theta = torch.zeros(a.n)
beta, dpre = math.exp(-1 / a.tau_mem), math.exp(-1 / a.tau_pre)
torch.manual_seed(a.seed + 1)

def present(imgs, W, theta, learn):
    B = len(imgs)
    prob = imgs * a.gain
    v, spk, counts = torch.zeros(B, a.n), torch.zeros(B, a.n), torch.zeros(B, a.n)
    xpre = torch.zeros(B, 784)
    dW = torch.zeros_like(W) if learn else None
    thr = a.thr + theta
    for _ in range(a.steps):
        s = (torch.rand(B, 784) < prob).float()
        current = a.scale * (s @ W)
        if a.wta == "hard":
            fired = spk.sum(1, keepdim=True)
            v = beta * v * (1 - fired) + current
        else:
            others = spk.sum(-1, keepdim=True) - spk
            v = beta * (1 - spk) * v + current - a.inh * others
        over = v - thr
        best, win = over.max(-1, keepdim=True)
        spk = torch.zeros_like(v).scatter_(-1, win, (best > 0).float())
        counts += spk
        if learn:
            if a.trace == "set":
                xpre = torch.where(s > 0, 1.0, xpre * dpre)
            else:
                xpre = xpre * dpre + s
            if a.xtar:
                dW += (xpre - a.xtar).T @ spk
            else:
                dW += xpre.T @ spk
    return counts, dW

def run(X, W, theta, learn, bs):
    out = []
    for i in range(0, len(X), bs):
        imgs = X[i:i + bs]
        c, dW = present(imgs, W, theta, learn)
        if learn:
            upd = a.eta * dW
            if a.mu:
                upd = upd * (1 - W).clamp(min=0) ** a.mu
            W = (W + upd).clamp(0, 1)
            W = W * a.wsum / W.sum(0, keepdim=True).clamp(min=1e-9)
            if a.theta == "paper":
                theta = theta + a.theta_plus * c.sum(0)
            elif a.theta == "mean":
                theta = theta + a.theta_plus * c.sum(0)
                theta = theta - theta.mean()
            elif a.theta == "min":
                theta = theta + a.theta_plus * c.sum(0)
                theta = theta - theta.min()
            elif a.theta == "decay":
                theta = (theta + a.theta_plus * c.sum(0)) * math.exp(-len(imgs) / a.tau_theta)
        out.append(c)
    return torch.cat(out), W, theta

ts = time.perf_counter()
ntr = int(a.epochs * len(X))
idx = torch.arange(ntr) % len(X)
_, W, theta = run(X[idx], W, theta, True, a.batch)
train_s = time.perf_counter() - ts
te = time.perf_counter()
ca, _, _ = run(X[:a.assign], W, theta, False, 1000)
rates = torch.stack([ca[Y[:a.assign] == c].mean(0) for c in range(10)])  # [10, n]
assign = rates.argmax(0)
ct, _, _ = run(Xt, W, theta, False, 1000)
oh = torch.nn.functional.one_hot(assign, 10).float()
votes = (ct @ oh) / oh.sum(0).clamp(min=1)
acc = (votes.argmax(1) == Yt).float().mean().item()
# also: max-neuron readout
acc_max = (assign[ct.argmax(1)] == Yt).float().mean().item()
print(json.dumps({**vars(a), "acc": round(acc, 4), "acc_top1": round(acc_max, 4),
                  "train_s": round(train_s, 1), "eval_s": round(time.perf_counter() - te, 1),
                  "theta_mean": round(theta.mean().item(), 2),
                  "theta_max": round(theta.max().item(), 2),
                  "spk_per_img": round(ct.sum(1).mean().item(), 2),
                  "silent": int((ct.sum(1) == 0).sum()), "classes": len(assign.unique()),
                  "winners_used": int((ca.sum(0) > 0).sum())}))
