"""Time one training step of each snnlab model against the same network built from snnTorch
(SpikingJelly for the single-layer model), and put the table in bench/results.md (its section
replaced).

One step = forward over all time steps, the recipe's loss, backward, Adam step, on one real
MNIST training batch of 128 (from ``snnlab.data``: set SNNLAB_DATA_DIR without internet);
FCSNN and CSNN at T=25, SingleLayerSNN at T=100, SpikingAutoencoder at T=5. The two
implementations of a model take turns, step by step, so that a busy machine slows both alike.
The reference networks are written the way those libraries' tutorials write them: a Python
loop over time steps that runs every layer at every step.

``--reuse-memory-ab`` measures something else: the same snnlab step with and without the
reused memory of ``snnlab.bptt`` (``REUSE_MEMORY`` True / False). Two copies of each model
(same initial weights, each with its own Adam) take turns step by step, the switch flipped
before each step, in the order ABBA so that neither side always goes first.

    python bench/train_speed.py [--steps 7] [--threads 2] [--no-write] [--reuse-memory-ab]
"""

from __future__ import annotations

import argparse
import copy
import datetime
import os
import platform
import statistics
import time

import snntorch as snn
import torch
import torch.nn.functional as F
from sections import replace_section  # bench/sections.py
from snntorch import surrogate as snn_surrogate
from snntorch import utils as snn_utils
from spikingjelly.activation_based import encoding as sj_encoding
from spikingjelly.activation_based import functional as sj_functional
from spikingjelly.activation_based import layer as sj_layer
from spikingjelly.activation_based import neuron as sj_neuron
from spikingjelly.activation_based import surrogate as sj_surrogate
from torch import nn

from snnlab import bptt, data, losses, models

BATCH = 128


# ------------------------------------------------------------------ reference networks


class SnnTorchFC(nn.Module):
    """snnTorch tutorial 5's network: every layer at every step."""

    def __init__(self, beta: float = 0.95, num_steps: int = 25) -> None:
        super().__init__()
        self.num_steps = num_steps
        self.fc1, self.lif1 = nn.Linear(784, 1000), snn.Leaky(beta=beta)
        self.fc2, self.lif2 = nn.Linear(1000, 10), snn.Leaky(beta=beta)

    def forward(self, x):
        x = x.flatten(1)
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        spikes, membranes = [], []
        for _ in range(self.num_steps):
            spk1, mem1 = self.lif1(self.fc1(x), mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            spikes.append(spk2)
            membranes.append(mem2)
        return torch.stack(spikes), torch.stack(membranes)


class SpikingJellySingle(nn.Module):
    """SpikingJelly's lif_fc_mnist example: Poisson encoder, Linear(784, 10), LIFNode."""

    def __init__(self, tau: float = 2.0, num_steps: int = 100) -> None:
        super().__init__()
        self.num_steps = num_steps
        self.encoder = sj_encoding.PoissonEncoder()
        self.layer = nn.Sequential(
            sj_layer.Flatten(), sj_layer.Linear(784, 10, bias=False),
            sj_neuron.LIFNode(tau=tau, surrogate_function=sj_surrogate.ATan()))

    def forward(self, x):
        sj_functional.reset_net(self)
        spikes = [self.layer(self.encoder(x)) for _ in range(self.num_steps)]
        spikes = torch.stack(spikes)
        return spikes, spikes  # the LIFNode keeps its membrane inside; the loss uses spikes


class SnnTorchCSNN(nn.Module):
    """snnTorch tutorial 6's network: 12C5-MP2-64C5-MP2-1024FC10, fast sigmoid(25)."""

    def __init__(self, beta: float = 0.5, num_steps: int = 25) -> None:
        super().__init__()
        self.num_steps = num_steps
        grad = snn_surrogate.fast_sigmoid(slope=25)
        self.conv1, self.lif1 = nn.Conv2d(1, 12, 5), snn.Leaky(beta=beta, spike_grad=grad)
        self.conv2, self.lif2 = nn.Conv2d(12, 64, 5), snn.Leaky(beta=beta, spike_grad=grad)
        self.fc, self.lif3 = nn.Linear(1024, 10), snn.Leaky(beta=beta, spike_grad=grad)

    def forward(self, x):
        mem1, mem2, mem3 = (lif.init_leaky() for lif in (self.lif1, self.lif2, self.lif3))
        spikes, membranes = [], []
        for _ in range(self.num_steps):
            spk1, mem1 = self.lif1(F.max_pool2d(self.conv1(x), 2), mem1)
            spk2, mem2 = self.lif2(F.max_pool2d(self.conv2(spk1), 2), mem2)
            spk3, mem3 = self.lif3(self.fc(spk2.flatten(1)), mem3)
            spikes.append(spk3)
            membranes.append(mem3)
        return torch.stack(spikes), torch.stack(membranes)


class SnnTorchAutoencoder(nn.Module):
    """snnTorch's spiking autoencoder tutorial layout (nn.Sequential, init_hidden=True)."""

    def __init__(self, latent_dim=32, beta=0.5, num_steps=5, threshold=1.0) -> None:
        super().__init__()
        self.num_steps = num_steps
        grad = snn_surrogate.atan()

        def lif(**kwargs):
            return snn.Leaky(beta=beta, threshold=threshold, spike_grad=grad, init_hidden=True,
                             **kwargs)

        def up(c_in, c_out):
            return nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)

        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), lif(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), lif(),
            nn.Conv2d(64, 128, 3, stride=2, padding=1), nn.BatchNorm2d(128), lif(),
            nn.Flatten(), nn.Linear(2048, latent_dim), lif(output=True))
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 2048), lif(), nn.Unflatten(1, (128, 4, 4)),
            up(128, 64), nn.BatchNorm2d(64), lif(),
            up(64, 32), nn.BatchNorm2d(32), lif(),
            up(32, 1), lif(output=True, reset_mechanism="none"))

    def forward(self, x):
        snn_utils.reset(self.encoder)
        snn_utils.reset(self.decoder)
        latents, membranes = [], []
        for _ in range(self.num_steps):
            latent, _ = self.encoder(x)
            _, membrane = self.decoder(latent)
            latents.append(latent)
            membranes.append(membrane)
        return torch.stack(latents), torch.stack(membranes)


# ------------------------------------------------------------------ timing

CASES = [
    # name, snnlab model, reference, reference library, loss, input size, T
    ("FCSNN", lambda: models.FCSNN(), lambda: SnnTorchFC(), "snnTorch",
     losses.ce_membrane, 28, 25),
    ("SingleLayerSNN", lambda: models.SingleLayerSNN(), lambda: SpikingJellySingle(),
     "SpikingJelly", losses.mse_rate, 28, 100),
    ("CSNN", lambda: models.CSNN(), lambda: SnnTorchCSNN(), "snnTorch",
     losses.ce_rate, 28, 25),
    ("SpikingAutoencoder", lambda: models.SpikingAutoencoder(), lambda: SnnTorchAutoencoder(),
     "snnTorch", losses.reconstruction, 32, 5),
]


def make_step(model: nn.Module, loss_fn, images, labels, targets_are_images: bool):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    targets = images if targets_are_images else labels
    model.train()

    def step() -> float:
        start = time.perf_counter()
        spikes, membrane = model(images)
        loss = loss_fn(spikes, membrane, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return time.perf_counter() - start

    return step


# The speed-up each model must keep against its reference (bench/results.md, README).
GUARD_RAILS = {"FCSNN": 4.0, "CSNN": 1.8, "SpikingAutoencoder": 1.3}


def _rail(name: str, speedup: float) -> str:
    if name not in GUARD_RAILS:
        return "-"
    return f">= {GUARD_RAILS[name]:g}x, {'met' if speedup >= GUARD_RAILS[name] else 'NOT met'}"


def spread(values: list[float]) -> str:
    return f"{1000 * min(values):.1f}-{1000 * max(values):.1f}"


def reuse_memory_ab(args) -> list[str]:
    """Each model's step with the reused memory (A) and without it (B), interleaved ABBA."""
    rows = []
    for name, build_ours, _, _, loss_fn, size, num_steps in CASES:
        images, labels = next(iter(data.loaders(BATCH, size=size)[0]))
        autoencoder = loss_fn is losses.reconstruction
        model = build_ours()
        steps = {True: make_step(model, loss_fn, images, labels, autoencoder),
                 False: make_step(copy.deepcopy(model), loss_fn, images, labels, autoencoder)}
        times = {True: [], False: []}
        for i in range(args.steps + 2):  # the first two of each side are warm-up
            for reuse in ((True, False) if i % 2 == 0 else (False, True)):
                bptt.REUSE_MEMORY = reuse
                elapsed = steps[reuse]()
                if i >= 2:
                    times[reuse].append(elapsed)
        bptt.REUSE_MEMORY = True
        ratios = [b / a for a, b in zip(times[True], times[False], strict=True)]
        ms_on, ms_off = (1000 * statistics.median(times[r]) for r in (True, False))
        gain = 1 - ms_on / ms_off
        rows.append(f"| {name} | {num_steps} | {ms_on:.1f} ({spread(times[True])}) | "
                    f"{ms_off:.1f} ({spread(times[False])}) | {100 * gain:+.1f}% | "
                    f"{statistics.median(ratios):.3f} ({min(ratios):.2f}-{max(ratios):.2f}) |")
        print(f"{name:20s} T={num_steps:<4d} reuse {ms_on:8.1f} ms   no reuse {ms_off:8.1f} ms"
              f"   saved {100 * gain:+5.1f}%", flush=True)
    return [
        f"## Reused memory on / off, training step ({datetime.date.today()}, "
        "`python bench/train_speed.py --reuse-memory-ab`)",
        "",
        f"One Adam step of snnlab's model on one MNIST batch of {BATCH}, with "
        f"`snnlab.bptt.REUSE_MEMORY` True and False, steps interleaved ABBA, median of "
        f"{args.steps} steps each (min-max in brackets), {torch.get_num_threads()} threads, "
        f"load average {os.getloadavg()[0]:.1f} at the end, torch {torch.__version__}. "
        "\"saved\" is 1 - on/off of the medians; \"off/on\" the median of the per-pair ratios.",
        "",
        "| model | T | reuse on ms | reuse off ms | saved | off/on per pair |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=7, help="timed steps per model (median)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--no-write", action="store_true", help="do not touch results.md")
    parser.add_argument("--reuse-memory-ab", action="store_true",
                        help="time snnlab with and without bptt.REUSE_MEMORY instead")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.reuse_memory_ab:
        table = reuse_memory_ab(args)
        if not args.no_write:
            replace_section("Reused memory on / off", "\n".join(table))
        return

    rows = []
    for name, build_ours, build_reference, library, loss_fn, size, num_steps in CASES:
        images, labels = next(iter(data.loaders(BATCH, size=size)[0]))
        autoencoder = loss_fn is losses.reconstruction
        ours = make_step(build_ours(), loss_fn, images, labels, autoencoder)
        reference = make_step(build_reference(), loss_fn, images, labels, autoencoder)
        ours(), reference()  # warm-up
        times_ours, times_reference = [], []
        for _ in range(args.steps):  # take turns
            times_ours.append(ours())
            times_reference.append(reference())
        ms_ours = 1000 * statistics.median(times_ours)
        ms_reference = 1000 * statistics.median(times_reference)
        rows.append((name, num_steps, library, ms_reference, ms_ours, ms_reference / ms_ours))
        print(f"{name:20s} T={num_steps:<4d} {library:13s} {ms_reference:8.1f} ms   "
              f"snnlab {ms_ours:8.1f} ms   speed-up {ms_reference / ms_ours:5.2f}x", flush=True)

    table = [
        f"## Training step against snnTorch and SpikingJelly ({datetime.date.today()}, "
        "`python bench/train_speed.py`)",
        "",
        f"One Adam step (forward, loss, backward, update) on one MNIST training batch of "
        f"{BATCH}, median of {args.steps} steps, {platform.machine()} with {os.cpu_count()} "
        f"CPUs ({torch.get_num_threads()} threads), load average "
        f"{os.getloadavg()[0]:.1f} at the end, torch {torch.__version__}.",
        "",
        "| model | T | reference | reference ms/step | snnlab ms/step | speed-up | guard rail |",
        "|---|---|---|---|---|---|---|",
        *(f"| {n} | {t} | {lib} | {ref:.1f} | {our:.1f} | {up:.2f}x | {_rail(n, up)} |"
          for n, t, lib, ref, our, up in rows),
        "",
        "SingleLayerSNN has no guard rail: SpikingJelly's own step time on this machine is "
        "bimodal (its random numbers), so a ratio to it moves by a third from run to run.",
        "",
    ]
    print("\n".join(table))
    if not args.no_write:
        replace_section("Training step against snnTorch and SpikingJelly", "\n".join(table))


if __name__ == "__main__":
    main()
