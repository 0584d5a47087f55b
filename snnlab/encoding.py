"""Turning numbers into spike trains: rate, latency and delta coding.

Every encoder returns a time-first tensor, ``[num_steps, *data.shape]``, of 0/1 spikes
(delta coding with ``off_spike=True`` also emits -1) in the dtype of ``data``.

- ``rate``:    brighter input, more spikes. Each step is a coin flip with P(spike) = gain * x.
- ``latency``: brighter input, earlier spike. One spike at most, at the time an RC circuit
               charged by the input would reach a threshold.
- ``delta``:   a spike whenever a time-varying signal changes by more than a threshold.

``latency`` and ``delta`` give exactly the spikes of snnTorch's ``spikegen.latency`` and
``spikegen.delta`` for the same arguments (one exception: ``latency(..., clip=True)`` also
silences an input exactly at the threshold, which never reaches it); ``rate`` matches
``spikegen.rate`` in distribution.

Lesson 01 also asks how well each code survives noise. ``decode_rate`` and ``decode_latency``
turn spikes back into values, ``jitter`` and ``delete`` damage spike trains, and
``rate_std`` / ``reconstruction_error`` run the lesson's two small experiments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from snnlab import checks

__all__ = ["rate", "latency", "delta", "decode_rate", "decode_latency", "jitter", "delete",
           "rate_std", "reconstruction_error"]


# ---------------------------------------------------------------- rate coding
def rate(data: Tensor, num_steps: int, gain: float = 1.0) -> Tensor:
    """Rate code: at every step each entry fires with probability p = ``gain * x``.

        spikes[t, i] = 1 if u[t, i] < p[i] else 0,   u ~ Uniform[0, 1) independently,

    so an entry fires on average ``p * num_steps`` times (a Bernoulli process). A coin is
    only tossed where the outcome is in doubt: an entry with p = 0 never fires and one with
    p = 1 fires at every step, which is what the coin would say anyway. On MNIST that
    leaves about one pixel in five to draw for. Lesson 01.

    Args:
        data: values in [0, 1], any shape (e.g. ``[batch, 1, 28, 28]`` images).
        num_steps: number of time steps, a positive int.
        gain: scales every probability, in [0, 1].

    Returns:
        ``[num_steps, *data.shape]`` tensor of 0/1 spikes, dtype and device of ``data``.
    """
    checks.unit_range("data", checks.tensor("data", data))
    num_steps = checks.positive_int("num_steps", num_steps)
    checks.sequence_size("data", data, num_steps)
    gain = checks.number("gain", gain, "in [0, 1] (so that gain * x is a probability)",
                         lambda g: 0 <= g <= 1)

    p = (gain * data).flatten()  # [N]
    spikes = (p >= 1).to(data.dtype).repeat(num_steps, 1)  # [T, N]: 1 where p = 1, else 0
    in_doubt = ((p > 0) & (p < 1)).nonzero().squeeze(1)  # [K] entries with 0 < p < 1
    u = torch.rand(num_steps, in_doubt.numel(), dtype=data.dtype, device=data.device)
    spikes.index_copy_(1, in_doubt, (u < p[in_doubt]).to(data.dtype))  # [T, K] coins
    return spikes.view(num_steps, *data.shape)


# ---------------------------------------------------------------- latency coding
def latency(
    data: Tensor,
    num_steps: int,
    tau: float = 5.0,
    threshold: float = 0.01,
    linear: bool = False,
    normalize: bool = False,
    clip: bool = False,
) -> Tensor:
    """Latency code: each entry spikes once, earlier for larger values. Lesson 01.

    Where the RC ("log") code comes from: treat x as a constant input that charges an RC
    circuit, tau * dU/dt = -U + x, from U(0) = 0. The membrane rises as

        U(t) = x * (1 - e^(-t/tau))

    and reaches the threshold when e^(-t/tau) = 1 - threshold/x, that is at

        t = tau * ln(x / (x - threshold)).

    Inputs at or below the threshold never get there: at x = threshold the membrane only
    reaches it as t -> infinity, below it levels off at x. As in snnTorch, x is first clamped
    to at least threshold + 1e-7, which gives them a very late but finite time, about
    tau * ln(threshold / 1e-7) (11.5 * tau for threshold = 0.01: step 58 for tau = 5, inside a
    100-step window). ``clip=True`` silences them, as the RC circuit would.

    The linear code instead uses t = tau * (1 - x), capped at tau * (1 - threshold).

    Then, in this order:

    - ``normalize``: linear code: tau = num_steps - 1, so x = 0 (or x <= threshold) spikes at
      the last step. Log code: all times are scaled by (num_steps - 1) / (latest time in
      ``data``). NOTE: this follows snnTorch, which stretches by the latest spike *in this
      tensor*, not the latest possible one. They agree whenever ``data`` holds a value at or
      below ``threshold`` (e.g. an image's background), otherwise the times depend on the batch.
    - times are rounded to the nearest step (``torch.round``: halves go to the even step),
      and a spike after step num_steps - 1 is dropped;
    - ``clip``: inputs at or below ``threshold`` (x <= threshold) do not spike at all.
      (snnTorch's ``clip`` silences only x < threshold; x == threshold fires late there.)

    Args:
        data: values in [0, 1], any shape.
        num_steps: number of time steps, a positive int.
        tau: RC time constant in steps, > 0.
        threshold: the firing threshold, strictly between 0 and 1.
        linear, normalize, clip: see above.

    Returns:
        ``[num_steps, *data.shape]`` tensor with at most one 1 along time per entry.
    """
    checks.unit_range("data", checks.tensor("data", data))
    num_steps = checks.positive_int("num_steps", num_steps)
    checks.sequence_size("data", data, num_steps)
    tau = checks.positive_number("tau", tau)
    threshold = checks.number("threshold", threshold, "strictly between 0 and 1",
                              lambda v: 0 < v < 1)
    for flag, value in (("linear", linear), ("normalize", normalize), ("clip", clip)):
        checks.boolean(flag, value)

    if linear:
        if normalize:
            tau = num_steps - 1
        spike_time = torch.clamp_max(tau * (1 - data), tau * (1 - threshold))
    else:
        charge = torch.clamp(data, min=threshold + 1e-7)
        spike_time = tau * torch.log(charge / (charge - threshold))
        if normalize and data.numel():
            spike_time = spike_time * (num_steps - 1) / spike_time.max()

    spike_step = torch.round(spike_time)
    fires = spike_step <= num_steps - 1
    if clip:
        fires = fires & (data > threshold)
    steps = torch.arange(num_steps, dtype=data.dtype, device=data.device)
    steps = steps.view(num_steps, *([1] * data.dim()))
    return ((steps == spike_step) & fires).to(data.dtype)


# ---------------------------------------------------------------- delta coding
def delta(data: Tensor, threshold: float = 0.1, off_spike: bool = False) -> Tensor:
    """Delta code of a time-first signal: spike where it changes by at least ``threshold``.

    Lesson 01 (and, per pixel of a moving image, the event camera of lesson 07).

        change[t] = data[t] - data[t-1],   with data[-1] = 0
        spikes[t] = +1 if change[t] >= threshold
                    -1 if change[t] <= -threshold and off_spike
                     0 otherwise

    Args:
        data: a time-first signal ``[num_steps, ...]``.
        threshold: the smallest change that fires, > 0.
        off_spike: also emit -1 spikes for drops.

    Returns:
        ``[num_steps, ...]`` tensor of spikes (0/1, or -1/0/1 with ``off_spike``).
    """
    checks.finite("data", checks.tensor("data", data))
    if data.dim() == 0:
        raise ValueError("data must be a time-first signal [num_steps, ...], got a 0-dim tensor")
    threshold = checks.positive_number("threshold", threshold)
    checks.boolean("off_spike", off_spike)

    previous = torch.cat([torch.zeros_like(data[:1]), data[:-1]])
    change = data - previous
    spikes = (change >= threshold).to(data.dtype)
    if off_spike:
        spikes = spikes - (change <= -threshold).to(data.dtype)
    return spikes


# ---------------------------------------------------------------- decoding and damage
def decode_rate(spikes: Tensor, gain: float = 1.0) -> Tensor:
    """Estimate each entry's value from a rate code: its spike count per step, over gain.

        x_hat = (sum_t spikes[t]) / (num_steps * gain)

    An unbiased estimate of x when every spike arrives; its standard deviation is
    sqrt(p (1 - p) / num_steps) / gain with p = gain * x. Lesson 01.

    Args:
        spikes: ``[num_steps, ...]`` spike counts per step (0/1, or more after ``jitter``).
        gain: the gain the spikes were made with, in (0, 1].

    Returns:
        ``[...]`` estimates, in the dtype of ``spikes``.
    """
    spikes = checks.finite("spikes", checks.tensor("spikes", spikes))
    if spikes.dim() == 0:
        raise ValueError("spikes must be time-first, [num_steps, ...], got a 0-dim tensor")
    gain = checks.number("gain", gain, "in (0, 1]", lambda g: 0 < g <= 1)
    return spikes.mean(0) / gain


def decode_latency(spikes: Tensor, tau: float, threshold: float = 0.01,
                   linear: bool = False) -> Tensor:
    """Estimate each entry's value from the step t of its first spike (a latency code).

    Inverts the code's time formula (see ``latency``):

        linear:  x_hat = 1 - t / tau                        (clamped to [0, 1])
        log:     x_hat = threshold / (1 - e^(-t / tau))     (t = 0 gives 1; clamped to <= 1)

    An entry with no spike reads as 0 (it was at or below the threshold). Pass the tau the
    times were made with: for ``latency(..., linear=True, normalize=True)`` that is
    ``num_steps - 1``. Lesson 01.

    Args:
        spikes: ``[num_steps, ...]`` spikes (counts > 1 allowed).
        tau: time constant in steps, > 0.
        threshold: the code's threshold, strictly between 0 and 1 (log code only).
        linear: the linear code instead of the log (RC) code.

    Returns:
        ``[...]`` estimates in [0, 1], in the dtype of ``spikes``.
    """
    spikes = checks.finite("spikes", checks.tensor("spikes", spikes))
    if spikes.dim() == 0:
        raise ValueError("spikes must be time-first, [num_steps, ...], got a 0-dim tensor")
    tau = checks.positive_number("tau", tau)
    threshold = checks.number("threshold", threshold, "strictly between 0 and 1",
                              lambda v: 0 < v < 1)
    checks.boolean("linear", linear)
    fired = (spikes > 0).any(0)                      # [...]
    first = (spikes > 0).to(torch.uint8).argmax(0).to(spikes.dtype)  # first spike step
    if linear:
        value = (1 - first / tau).clamp(0, 1)
    else:
        value = (threshold / -torch.expm1(-first / tau)).clamp(max=1)  # t = 0: inf -> 1
    return torch.where(fired, value, torch.zeros_like(value))


def jitter(spikes: Tensor, sigma: float, generator: torch.Generator | None = None) -> Tensor:
    """Move every spike in time by its own random amount, round(sigma * z), z ~ N(0, 1).

    A spike moved before step 0 or after the last step stays at that end, so no spike leaves
    the window; spikes that land on the same step of the same entry add up (the result counts
    spikes per step, and can hold a 2). ``sigma = 0`` returns a copy. Lesson 01.

    Args:
        spikes: ``[num_steps, ...]`` of 0/1 spikes (or non-negative integer counts).
        sigma: the jitter's standard deviation in steps, >= 0.
        generator: a torch.Generator for repeatable noise (default: the global one).

    Returns:
        ``[num_steps, ...]`` spike counts, same dtype and device.
    """
    spikes = _spike_counts(spikes)
    sigma = checks.number("sigma", sigma, ">= 0 and finite", lambda v: 0 <= v < math.inf)
    num_steps = spikes.shape[0]
    flat = spikes.reshape(num_steps, -1)
    step, entry = flat.nonzero(as_tuple=True)            # one row per step that holds spikes
    count = flat[step, entry]
    step = step.repeat_interleave(count.long())           # one row per spike
    entry = entry.repeat_interleave(count.long())
    shift = torch.randn(step.numel(), generator=generator, dtype=torch.float64) * sigma
    moved = (step + shift.round().long().to(step.device)).clamp(0, num_steps - 1)
    out = torch.zeros_like(flat)
    out.index_put_((moved, entry), torch.ones_like(moved, dtype=out.dtype), accumulate=True)
    return out.view_as(spikes)


def delete(spikes: Tensor, probability: float,
           generator: torch.Generator | None = None) -> Tensor:
    """Remove each spike independently with ``probability`` (a lossy channel). Lesson 01.

        kept[t, i] ~ Binomial(spikes[t, i], 1 - probability)

    Args:
        spikes: ``[num_steps, ...]`` of 0/1 spikes (or non-negative integer counts).
        probability: the chance that a spike is lost, in [0, 1].
        generator: a torch.Generator for repeatable noise (default: the global one).

    Returns:
        the surviving spikes, same shape, dtype and device.
    """
    spikes = _spike_counts(spikes)
    probability = checks.number("probability", probability, "in [0, 1]", lambda v: 0 <= v <= 1)
    if bool((spikes <= 1).all()):  # 0/1 spikes: one coin per spike
        lost = torch.rand(spikes.shape, generator=generator).to(spikes.device) < probability
        return spikes.masked_fill(lost, 0)
    keep = torch.full(spikes.shape, 1 - probability, dtype=torch.float64)
    kept = torch.binomial(spikes.double().cpu(), keep, generator=generator)
    return kept.to(spikes.dtype).to(spikes.device)


def _spike_counts(spikes: Tensor) -> Tensor:
    spikes = checks.finite("spikes", checks.tensor("spikes", spikes))
    if spikes.dim() == 0:
        raise ValueError("spikes must be time-first, [num_steps, ...], got a 0-dim tensor")
    if bool((spikes < 0).any()) or bool((spikes != spikes.round()).any()):
        raise ValueError("spikes must be 0/1 spikes or non-negative whole counts (no -1 "
                         "off spikes, no fractions)")
    return spikes


def rate_std(probabilities: Sequence[float], steps: Sequence[int], trials: int = 2000,
             seed: int = 0) -> Tensor:
    """Measured standard deviation of the decoded rate, ``rate(...).mean(0)``, over ``trials``
    independent spike trains, for each firing probability p and number of steps T.

    Theory (a Bernoulli count): std = sqrt(p (1 - p) / T). Seeded; leaves the global random
    stream alone. Lesson 01.

    Returns:
        ``[len(probabilities), len(steps)]`` float64 tensor of measured standard deviations.
    """
    trials = checks.positive_int("trials", trials)
    if trials < 2:
        raise ValueError(f"trials must be at least 2 to measure a spread, got {trials}")
    out = torch.zeros(len(probabilities), len(steps), dtype=torch.float64)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for i, p in enumerate(probabilities):
            data = torch.full((trials,), float(p), dtype=torch.float64)
            for j, num_steps in enumerate(steps):
                out[i, j] = rate(data, num_steps).mean(0).std()
    return out


def reconstruction_error(images: Tensor, num_steps: int, damage: str,
                         levels: Sequence[float], seeds: Sequence[int]) -> dict[str, Tensor]:
    """How well the rate and the linear latency code survive damaged spikes.

    For each seed: encode ``images`` with ``rate`` (gain 1) and with
    ``latency(linear=True, normalize=True, clip=True)``, damage the spikes with ``jitter``
    (level = sigma in steps) or ``delete`` (level = probability a spike is lost), decode them
    with ``decode_rate`` / ``decode_latency`` (tau = num_steps - 1), and measure the mean
    squared error per pixel against ``images``. Seeded; leaves the global random stream
    alone. Lesson 01.

    Returns:
        ``{"rate": errors, "latency (linear)": errors}``, each ``[len(seeds), len(levels)]``.
    """
    checks.unit_range("images", checks.tensor("images", images))
    num_steps = checks.positive_int("num_steps", num_steps)
    if num_steps < 2:
        raise ValueError(f"num_steps must be at least 2 for a latency code, got {num_steps}")
    damage = str(checks.choice("damage", damage, ("jitter", "delete")))
    harm = jitter if damage == "jitter" else delete
    errors = {"rate": torch.zeros(len(seeds), len(levels), dtype=torch.float64),
              "latency (linear)": torch.zeros(len(seeds), len(levels), dtype=torch.float64)}
    latency_spikes = latency(images, num_steps, linear=True, normalize=True, clip=True)
    with torch.random.fork_rng(devices=[]):
        for i, seed in enumerate(seeds):
            torch.manual_seed(seed)
            rate_spikes = rate(images, num_steps)
            generator = torch.Generator().manual_seed(seed)
            for j, level in enumerate(levels):
                decoded = {
                    "rate": decode_rate(harm(rate_spikes, level, generator)),
                    "latency (linear)": decode_latency(harm(latency_spikes, level, generator),
                                                       tau=num_steps - 1, linear=True),
                }
                for name, estimate in decoded.items():
                    errors[name][i, j] = ((estimate - images) ** 2).double().mean()
    return errors
