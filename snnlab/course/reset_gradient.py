"""Should the reset carry a gradient? Lesson 03's experiment, written out step by step.

A LIF neuron resets by subtracting the threshold after a spike (snnTorch's ``Leaky``, snnlab's
``LIF``):

    U[t] = beta U[t-1] + I[t] - theta S[t-1],        S[t] = H(U[t] - theta)

``LIF`` treats S[t-1] in the reset as a constant (detached), so the backward pass sees
dU[t]/dU[t-1] = beta. Not detached, S[t-1] passes its surrogate gradient g[t-1] back too, and
dU[t]/dU[t-1] = beta - theta g[t-1]. ``lif_loop`` runs either; ``ResetNet`` is lesson 03's
784-100-10 network built on it, and ``compare_reset_gradient`` trains it both ways from the same
initial weights, with several seeds.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from snnlab import checks, data, losses, surrogate, training
from snnlab.config import seed_everything

__all__ = ["lif_loop", "ResetNet", "compare_reset_gradient"]


def lif_loop(current: Tensor, beta: float, threshold: float, spike_fn: surrogate.Surrogate,
             detach_reset: bool = True) -> tuple[Tensor, Tensor]:
    """LIF neurons, reset by subtraction, one step at a time: current ``[T, B, n]`` ->
    ``(spikes, membrane)``, each ``[T, B, n]``, from U[-1] = S[-1] = 0.

        U[t] = beta U[t-1] + I[t] - theta S[t-1]     (S[t-1] detached if detach_reset)
        S[t] = spike_fn(U[t] - theta)

    With ``detach_reset=True`` the values and gradients are those of ``snnlab.neurons.LIF``.
    Lesson 03.
    """
    checks.tensor("current", current)
    checks.boolean("detach_reset", detach_reset)
    if current.dim() < 2:
        raise ValueError(f"current must be time-first [num_steps, batch, ...], got shape "
                         f"{tuple(current.shape)}")
    mem = torch.zeros_like(current[0])
    spk = torch.zeros_like(current[0])
    spikes, membrane = [], []
    for current_t in current:
        reset = spk.detach() if detach_reset else spk
        mem = beta * mem + current_t - threshold * reset
        spk = spike_fn(mem - threshold)
        spikes.append(spk)
        membrane.append(mem)
    return torch.stack(spikes), torch.stack(membrane)


class ResetNet(nn.Module):
    """784-hidden-10, two LIF layers run by ``lif_loop``: the reset detached or not. Lesson 03.

    Input images ``[B, 1, 28, 28]`` or ``[B, 784]``, the same current at each of ``num_steps``
    steps; returns the output layer's ``(spikes, membrane)``, each ``[num_steps, B, 10]``.
    """

    def __init__(self, detach_reset: bool, num_hidden: int = 100, num_steps: int = 10,
                 beta: float = 0.95, spike_fn: surrogate.Surrogate | None = None) -> None:
        super().__init__()
        self.detach_reset = checks.boolean("detach_reset", detach_reset)
        self.num_steps = checks.positive_int("num_steps", num_steps)
        self.beta = beta
        self.spike_fn = surrogate.atan() if spike_fn is None else spike_fn
        self.fc1 = nn.Linear(784, checks.positive_int("num_hidden", num_hidden))
        self.fc2 = nn.Linear(num_hidden, 10)

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        current = self.fc1(images.flatten(1)).expand(self.num_steps, -1, -1)
        hidden, _ = lif_loop(current, self.beta, 1.0, self.spike_fn, self.detach_reset)
        return lif_loop(self.fc2(hidden), self.beta, 1.0, self.spike_fn, self.detach_reset)


def compare_reset_gradient(seeds: Sequence[int], epochs: int, num_train: int, num_test: int,
                           lr: float = 2e-3, batch_size: int = 100,
                           ) -> dict[str, list[training.History]]:
    """Train ``ResetNet`` with the reset detached and not, once per seed: the same initial
    weights and data order for both (they depend on the seed only), Adam, ``losses.ce_rate``.
    Returns ``{"detached": [history per seed], "not detached": [...]}``. Lesson 03.
    """
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    histories: dict[str, list[training.History]] = {"detached": [], "not detached": []}
    for seed in seeds:
        train_loader, test_loader = data.loaders(batch_size=batch_size, subset=num_train,
                                                 test_subset=num_test, seed=seed)
        for name, detach in (("detached", True), ("not detached", False)):
            seed_everything(seed)
            model = ResetNet(detach_reset=detach)
            optimizer = torch.optim.Adam(model.parameters(), lr=lr)
            histories[name].append(training.fit(model, train_loader, losses.ce_rate, optimizer,
                                                epochs, test_loader, device="cpu",
                                                progress=False))
    return histories
