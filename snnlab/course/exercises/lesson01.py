"""Checkers for the exercises of lesson 01: spike encoding."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from snnlab.course.exercises.judge import Case, compare_tensor, fmt, run_cases


def _judge_rate_code(images: Tensor, num_steps: int, gain: float) -> Callable[[Any], str | None]:
    """Rate code: spikes[t, ...] ~ Bernoulli(gain * images), shape [num_steps, *images.shape]."""
    probability = gain * images
    want_shape = [num_steps, *images.shape]

    def judge(spikes: Any) -> str | None:
        if not isinstance(spikes, Tensor):
            return f"expected a torch.Tensor of spikes, but you returned a {type(spikes).__name__}"
        if list(spikes.shape) != want_shape:
            return (f"the spikes should have shape {want_shape} (time first), "
                    f"but yours have shape {list(spikes.shape)}")
        if not spikes.is_floating_point():
            return f"spikes should be a float tensor (0.0 and 1.0), but yours are {spikes.dtype}"
        if not bool(((spikes == 0) | (spikes == 1)).all()):  # e.g. probabilities, not samples
            return ("every entry should be a spike (1.0) or no spike (0.0), but yours include "
                    f"{fmt(spikes[(spikes != 0) & (spikes != 1)][:4])}")
        rate = spikes.float().mean(dim=0)
        # Over >= 2000 steps a rate's standard error is <= 0.011, so allow 0.05. Over a few steps
        # only certain pixels (probability 0 or 1) have a known rate.
        if num_steps >= 2000:
            judged = torch.ones_like(rate, dtype=torch.bool)
            tolerance = 0.05
        else:
            judged = (probability == 0) | (probability == 1)
            tolerance = 0.0
        if not bool(((rate - probability).abs() <= tolerance)[judged].all()):
            return (f"the firing rate of each pixel (mean over time) should be about "
                    f"{fmt(probability)}, but yours is {fmt(rate)}")
        return None

    return judge


def check_rate_code(rate_code: Callable[[Tensor, int, float], Tensor]) -> bool:
    """Check ``rate_code(images, num_steps, gain) -> spikes``.

    Each pixel (in [0, 1]) fires independently at every step with probability p = gain * pixel,
    gain in [0, 1], as in ``snnlab.encoding.rate``; the result has shape
    [num_steps, *images.shape] and holds 0.0 / 1.0.
    """
    cases = []
    for what, images, num_steps, gain, hint in [
        ("time comes first in the shape", torch.full((2, 3), 0.5), 7, 1.0,
         "stack or repeat along a new first dimension of length num_steps"),
        ("black pixels never fire, white ones always do", torch.tensor([0.0, 1.0, 0.0]), 20, 1.0,
         "sample 0/1 spikes, e.g. with torch.bernoulli"),
        ("the firing rate equals the pixel value", torch.tensor([0.1, 0.5, 0.8]), 4000, 1.0,
         "draw a fresh random sample at every time step"),
        ("gain scales the firing rate", torch.tensor([0.2, 0.6, 1.0]), 4000, 0.5,
         "the spike probability is gain * pixel"),
        ("gain 0 silences every pixel", torch.tensor([0.3, 1.0]), 50, 0.0,
         "the spike probability is gain * pixel"),
    ]:
        judge = _judge_rate_code(images, num_steps, gain)
        cases.append(Case(what, (images, num_steps, gain), judge, hint))
    with torch.random.fork_rng(devices=[]):  # don't disturb the notebook's random stream
        torch.manual_seed(1234)
        return run_cases("check_rate_code", rate_code, cases, ("images", "num_steps", "gain"))


def _expected_spike_time(current: Tensor, tau: float, threshold: float) -> Tensor:
    """RC membrane U(t) = I (1 - exp(-t / tau)) reaches threshold at t = tau ln(I / (I - thr));
    a current at or below threshold never gets there (t = inf)."""
    above = current > threshold
    safe = torch.where(above, current, torch.full_like(current, threshold + 1.0))
    time = tau * torch.log(safe / (safe - threshold))
    return torch.where(above, time, torch.full_like(current, math.inf))


def check_spike_time(spike_time: Callable[[Tensor, float, float], Tensor]) -> bool:
    """Check ``spike_time(current, tau, threshold) -> times``.

    A membrane charged by a constant current I from U = 0 follows U(t) = I (1 - exp(-t/tau)) and
    crosses the threshold at t = tau * ln(I / (I - threshold)). If I <= threshold it never does:
    return inf there.
    """
    cases = []
    formula = "t = tau * ln(current / (current - threshold))"
    for what, current, tau, threshold, hint in [
        ("a current of twice the threshold fires at tau * ln 2", torch.tensor([2.0]), 1.0, 1.0,
         formula),
        ("stronger currents fire earlier", torch.tensor([1.5, 3.0, 10.0]), 1.0, 1.0, formula),
        ("the time scales with tau", torch.tensor([1.5, 3.0, 10.0]), 5.0, 1.0, formula),
        ("another threshold", torch.tensor([0.5, 0.9, 2.0]), 2.0, 0.2, formula),
        ("currents at or below threshold never fire (inf)", torch.tensor([0.0, 0.1, 0.2, 0.4]),
         1.0, 0.2, "use torch.where to put inf where current <= threshold"),
    ]:
        expected = _expected_spike_time(current, tau, threshold)
        cases.append(Case(what, (current, tau, threshold),
                          lambda got, e=expected: compare_tensor(got, e, "the spike times"), hint))
    return run_cases("check_spike_time", spike_time, cases, ("current", "tau", "threshold"))
