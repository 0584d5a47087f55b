"""Turning numbers into spike trains: rate, latency and delta coding.

Every encoder returns a time-first tensor, ``[num_steps, *data.shape]``, of 0/1 spikes
(delta coding with ``off_spike=True`` also emits -1) in the dtype of ``data``.

- ``rate``:    brighter input, more spikes. Each step is a coin flip with P(spike) = gain * x.
- ``latency``: brighter input, earlier spike. One spike at most, at the time an RC circuit
               charged by the input would reach a threshold.
- ``delta``:   a spike whenever a time-varying signal changes by more than a threshold.

``latency`` and ``delta`` give exactly the spikes of snnTorch's ``spikegen.latency`` and
``spikegen.delta`` for the same arguments; ``rate`` matches ``spikegen.rate`` in distribution.
"""

from __future__ import annotations

import torch
from torch import Tensor

from snnlab import checks

__all__ = ["rate", "latency", "delta"]


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

    Inputs at or below the threshold never get there (t = infinity). As in snnTorch, x is
    first clamped to at least threshold + 1e-7, which gives them a very late finite time
    (about 11.5 * tau for threshold = 0.01); that spike is normally past the last step.

    The linear code instead uses t = tau * (1 - x), capped at tau * (1 - threshold).

    Then, in this order:

    - ``normalize``: linear code: tau = num_steps - 1, so x = 0 (or x <= threshold) spikes at
      the last step. Log code: all times are scaled by (num_steps - 1) / (latest time in
      ``data``). NOTE: this follows snnTorch, which stretches by the latest spike *in this
      tensor*, not the latest possible one. They agree whenever ``data`` holds a value at or
      below ``threshold`` (e.g. an image's background), otherwise the times depend on the batch.
    - times are rounded to the nearest step (``torch.round``: halves go to the even step),
      and a spike after step num_steps - 1 is dropped;
    - ``clip``: inputs below ``threshold`` do not spike at all.

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
        fires = fires & (data >= threshold)
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
