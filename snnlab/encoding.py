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

import math

import torch
from torch import Tensor

__all__ = ["rate", "latency", "delta"]


# ---------------------------------------------------------------- argument checks
def _check_data(data: object, name: str = "data") -> Tensor:
    if not isinstance(data, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(data).__name__}")
    if not data.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor, got dtype {data.dtype} "
            "(for 8-bit images use data.float() / 255)"
        )
    return data


def _check_unit_range(data: Tensor) -> None:
    if data.numel() and not ((data >= 0) & (data <= 1)).all():
        low, high = data.min().item(), data.max().item()
        raise ValueError(f"data must lie in [0, 1], found values in [{low:g}, {high:g}]")


def _check_num_steps(num_steps: object) -> int:
    if isinstance(num_steps, bool) or not isinstance(num_steps, int):
        raise TypeError(f"num_steps must be a positive int, got {type(num_steps).__name__}")
    if num_steps < 1:
        raise ValueError(f"num_steps must be a positive int (>= 1), got {num_steps}")
    return num_steps


def _check_number(name: str, value: object, low: float, high: float, allowed: str) -> float:
    """A real number strictly between low and high (``allowed`` says so in words)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number {allowed}, got {type(value).__name__}")
    if not (low < value < high):
        raise ValueError(f"{name} must be {allowed}, got {value}")
    return float(value)


# ---------------------------------------------------------------- rate coding
def rate(data: Tensor, num_steps: int, gain: float = 1.0) -> Tensor:
    """Rate code: at every step each entry fires with probability ``gain * x``.

    spikes[t, i] = 1 if u[t, i] < gain * data[i] else 0,   u ~ Uniform[0, 1) independently,

    so an entry fires on average ``gain * x * num_steps`` times (a Bernoulli process).

    Args:
        data: values in [0, 1], any shape (e.g. ``[batch, 1, 28, 28]`` images).
        num_steps: number of time steps, a positive int.
        gain: scales every probability, in [0, 1].

    Returns:
        ``[num_steps, *data.shape]`` tensor of 0/1 spikes, dtype and device of ``data``.
    """
    _check_data(data)
    _check_unit_range(data)
    num_steps = _check_num_steps(num_steps)
    if isinstance(gain, bool) or not isinstance(gain, (int, float)):
        raise TypeError(f"gain must be a number in [0, 1], got {type(gain).__name__}")
    if not 0 <= gain <= 1:
        raise ValueError(f"gain must lie in [0, 1] so that gain * x is a probability, got {gain}")

    probability = gain * data
    uniform = torch.rand((num_steps, *data.shape), dtype=data.dtype, device=data.device)
    return (uniform < probability).to(data.dtype)


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
    """Latency code: each entry spikes once, earlier for larger values.

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
    _check_data(data)
    _check_unit_range(data)
    num_steps = _check_num_steps(num_steps)
    tau = _check_number("tau", tau, 0, math.inf, "> 0 (and finite)")
    threshold = _check_number("threshold", threshold, 0, 1, "strictly between 0 and 1")

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
    _check_data(data)
    if data.dim() == 0:
        raise ValueError("data must be a time-first signal [num_steps, ...], got a 0-dim tensor")
    threshold = _check_number("threshold", threshold, 0, math.inf, "> 0 (and finite)")

    previous = torch.cat([torch.zeros_like(data[:1]), data[:-1]])
    change = data - previous
    spikes = (change >= threshold).to(data.dtype)
    if off_spike:
        spikes = spikes - (change <= -threshold).to(data.dtype)
    return spikes
