"""Checkers for the exercises of lesson 02: the leaky integrate-and-fire neuron."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from snnlab.course.exercises.judge import Case, compare_tensor, run_cases


def check_beta(beta_from_tau: Callable[[Any, float], Any]) -> bool:
    """Check ``beta_from_tau(tau, dt) -> beta``: the exact decay per step, beta = exp(-dt / tau).

    It must work for a float tau and for a tensor of taus.
    """
    cases = []
    for what, tau, dt in [
        ("tau = 5 ms, dt = 1 ms", 5e-3, 1e-3),
        ("tau equal to dt gives 1/e", 2e-3, 2e-3),
        ("a slow membrane barely decays", 0.1, 1e-3),
        ("a tensor of taus", torch.tensor([1e-3, 1e-2, 1e-1]), 1e-3),
    ]:
        expected = torch.exp(-dt / torch.as_tensor(tau, dtype=torch.float64))

        def judge(got: Any, e: Tensor = expected) -> str | None:
            if isinstance(got, (int, float)) and e.dim() == 0:  # a float tau may give a float
                got = torch.tensor(float(got))
            return compare_tensor(got, e, "beta", atol=1e-6)

        hint = "beta = exp(-dt / tau); 1 - dt / tau is only its first-order approximation"
        cases.append(Case(what, (tau, dt), judge, hint))
    return run_cases("check_beta", beta_from_tau, cases, ("tau", "dt"))


def _expected_lif_step(
    input_: Tensor, mem: Tensor, beta: float, threshold: float
) -> tuple[Tensor, Tensor]:
    """One LIF step with reset by subtraction (as snnlab.neurons.LIF):
    reset = H(U[t-1] - thr); U[t] = beta U[t-1] + I[t] - reset thr; S[t] = H(U[t] - thr)."""
    reset = (mem - threshold > 0).to(mem.dtype)
    new_mem = beta * mem + input_ - reset * threshold
    spikes = (new_mem - threshold > 0).to(mem.dtype)
    return spikes, new_mem


def check_lif_step(
    lif_step: Callable[[Tensor, Tensor, float, float], tuple[Tensor, Tensor]],
) -> bool:
    """Check ``lif_step(input, mem, beta, threshold) -> (spikes, new_mem)``.

    reset = H(mem - threshold)           (did the neuron spike on the previous step?)
    new_mem = beta * mem + input - reset * threshold
    spikes = H(new_mem - threshold)      (H(x) = 1 if x > 0 else 0, as floats)
    """
    cases = []
    for what, input_, mem, beta, threshold, hint in [
        ("a neuron below threshold leaks and integrates",
         torch.tensor([0.2]), torch.tensor([0.5]), 0.9, 1.0, "new_mem = beta * mem + input"),
        ("crossing the threshold emits a spike",
         torch.tensor([0.2]), torch.tensor([0.95]), 0.9, 1.0,
         "the reset depends on the previous membrane (mem), the spike on the new one"),
        ("a neuron that was above threshold is reset by subtracting the threshold",
         torch.tensor([0.1]), torch.tensor([1.2]), 0.9, 1.0,
         "reset = H(mem - threshold) uses the membrane from the previous step"),
        ("exactly at threshold is not above it",
         torch.tensor([0.0]), torch.tensor([1.0]), 1.0, 1.0,
         "H(x) is 1 only for x > 0, strictly: use > rather than >="),
        ("a batch of neurons with another beta and threshold",
         torch.tensor([0.5, 1.0, 0.0, 2.5]), torch.tensor([0.0, 1.5, 2.5, 1.0]), 0.8, 2.0,
         "use the beta and threshold arguments rather than fixed numbers"),
    ]:
        want_spikes, want_mem = _expected_lif_step(input_, mem, beta, threshold)

        def judge(got: Any, s: Tensor = want_spikes, m: Tensor = want_mem) -> str | None:
            if not (isinstance(got, tuple) and len(got) == 2):
                return "return a tuple (spikes, new_mem)"
            return compare_tensor(got[1], m, "new_mem") or compare_tensor(got[0], s, "spikes")

        cases.append(Case(what, (input_, mem, beta, threshold), judge, hint))
    return run_cases("check_lif_step", lif_step, cases, ("input", "mem", "beta", "threshold"))
