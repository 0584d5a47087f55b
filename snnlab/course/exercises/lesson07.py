"""Checkers for the exercises of lesson 07: event cameras, recurrent spiking layers, synops.

Each checker knows the usual wrong answers: when yours matches one of them, it says which.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from snnlab.course.exercises.judge import Case, Mistake, compare_tensor, fmt, gives, run_cases


# ---------------------------------------------------------------- exercise 1: the camera
def _events(frames: Tensor, threshold: float, log: bool = True) -> Tensor:
    level = torch.log(frames + 0.1) if log else frames
    change = level[1:] - level[:-1]
    return torch.stack([change >= threshold, change <= -threshold], dim=1).to(frames.dtype)


_CAMERA_MISTAKES = [
    Mistake("your events come from differences of the intensity, not of its logarithm: take "
            "torch.log(frames + 0.1) first",
            gives(lambda frames, threshold: _events(frames, threshold, log=False))),
    Mistake("your ON and OFF channels are swapped: channel 0 is ON (brighter)",
            gives(lambda frames, threshold: _events(frames, threshold).flip(1))),
    Mistake("your OFF channel holds -1: both channels hold 0/1, and OFF is 1 where the change "
            "is <= -threshold",
            gives(lambda frames, threshold: _events(frames, threshold)
                  * torch.tensor([1.0, -1.0]).view(1, 2, 1, 1))),
    Mistake("yours are the changes of the log intensity themselves: compare them with the "
            "threshold",
            gives(lambda frames, threshold: torch.log(frames[1:] + 0.1)
                  - torch.log(frames[:-1] + 0.1))),
]


def check_camera_events(camera_events: Callable[[Tensor, float], Tensor]) -> bool:
    """Check ``camera_events(frames, threshold) -> events``.

    frames ``[T + 1, H, W]`` in [0, 1]; events ``[T, 2, H, W]`` of 0/1: with
    L = ln(frames + 0.1) and d[t] = L[t+1] - L[t], channel 0 (ON) is d >= threshold and
    channel 1 (OFF) is d <= -threshold.
    """
    generator = torch.Generator().manual_seed(7)
    cases = []
    for what, frames, threshold in [
        ("one pixel turning on, staying on, dimming, going off",
         torch.tensor([0.0, 1.0, 1.0, 0.3, 0.0]).view(5, 1, 1), 0.5),
        ("a dim pixel doubling its brightness (a small step in intensity, a big one in log)",
         torch.tensor([0.1, 0.25, 0.25, 0.1]).view(4, 1, 1), 0.5),
        ("random frames, 6 steps of 3 x 4 pixels",
         torch.rand(7, 3, 4, generator=generator), 0.4),
    ]:
        expected = _events(frames, threshold)

        def judge(got: Any, e: Tensor = expected, t: int = len(frames) - 1) -> str | None:
            if isinstance(got, Tensor) and got.dim() == 4 and len(got) == t + 1:
                return (f"events should have {t} steps, one per change between frames, but "
                        f"yours has {len(got)}: the first frame is the scene before any event")
            if isinstance(got, Tensor) and got.dim() == 4 and got.shape[0] == 2:
                return "events should be [T, 2, H, W], time first; yours has the channel first"
            return compare_tensor(got, e, "events")

        cases.append(Case(what, (frames, threshold), judge))
    return run_cases("check_camera_events", camera_events, cases, ("frames", "threshold"),
                     _CAMERA_MISTAKES)


# ---------------------------------------------------------------- exercise 2: the recurrent step
def _step(current: Tensor, spk_prev: Tensor, mem_prev: Tensor, weight: Tensor, beta: float,
          theta: float, mistake: str = "") -> tuple[Tensor, Tensor]:
    """The recurrent LIF step, or one of its usual mistakes."""
    reset = (mem_prev > theta).to(mem_prev.dtype)
    feedback = spk_prev @ (weight if mistake == "transposed" else weight.T)
    if mistake == "no feedback":
        feedback = torch.zeros_like(current)
    if mistake == "spikes of step t":  # the layer's spikes of this step fed back into itself
        mem = beta * mem_prev + current - reset * theta
        mem = mem + (mem > theta).to(mem.dtype) @ weight.T
        return (mem > theta).to(mem.dtype), mem
    if mistake in ("reset from the new membrane", "reset after the spike"):
        mem = beta * mem_prev + current + feedback
        spk = (mem > theta).to(mem.dtype)
        mem = mem - spk * theta
        return ((mem > theta).to(mem.dtype) if mistake == "reset after the spike" else spk), mem
    if mistake == "reset to zero":
        mem = beta * (1 - reset) * mem_prev + current + feedback
    elif mistake == "no reset":
        mem = beta * mem_prev + current + feedback
    else:
        mem = beta * mem_prev + current + feedback - reset * theta
    return (mem > theta).to(mem.dtype), mem


def _step_mistake(key: str, message: str) -> Mistake:
    return Mistake(message, gives(lambda *args: _step(*args, mistake=key)))


_STEP_MISTAKES = [
    _step_mistake("no feedback", "your mem leaves out the recurrent term V S[t-1]: add "
                                 "spk_prev @ V.T"),
    _step_mistake("transposed", "you used V untransposed, spk_prev @ V: V[i, j] is the weight "
                                "from neuron j to neuron i, so the feedback is spk_prev @ V.T, "
                                "as nn.Linear computes"),
    _step_mistake("spikes of step t", "you fed back the spikes of this step t instead of step "
                                      "t-1: a spike needs a step to come round, use spk_prev"),
    _step_mistake("reset from the new membrane", "your reset comes from the new membrane U[t]; "
                  "it comes from the previous step: H(mem_prev - theta)"),
    _step_mistake("reset after the spike", "you subtract theta from U[t] as soon as it crosses; "
                  "the reset is H(mem_prev - theta) * theta, a step later"),
    _step_mistake("reset to zero", "you reset to zero; this layer resets by subtracting theta"),
    _step_mistake("no reset", "you left out the reset: subtract H(mem_prev - theta) * theta"),
]


def check_recurrent_step(recurrent_step: Callable[..., tuple[Tensor, Tensor]]) -> bool:
    """Check ``recurrent_step(current, spk_prev, mem_prev, V, beta, theta) -> (spk, mem)``.

    current, spk_prev, mem_prev: ``[batch, n]``; V: ``[n, n]`` recurrent weights::

        reset = H(mem_prev - theta)
        mem   = beta * mem_prev + current + spk_prev @ V.T - reset * theta
        spk   = H(mem - theta)
    """
    generator = torch.Generator().manual_seed(3)
    ring = torch.tensor([[0.0, 0.0, 0.6], [1.2, 0.0, 0.0], [0.0, 0.9, 0.0]])
    cases = []
    for what, current, spk_prev, mem_prev, weight, beta, theta in [
        ("a neuron at rest that gets only input", torch.tensor([[0.4, 1.3, 0.0]]),
         torch.zeros(1, 3), torch.zeros(1, 3), ring, 0.8, 1.0),
        ("spikes of the previous step arrive through V (a ring: 0 -> 1 -> 2 -> 0)",
         torch.tensor([[0.1, 0.1, 0.1]]), torch.tensor([[1.0, 0.0, 1.0]]),
         torch.tensor([[1.1, 0.3, 1.4]]), ring, 0.5, 1.0),
        ("a neuron that spiked last step is reset by theta",
         torch.tensor([[0.3, 0.9, 0.2]]), torch.tensor([[0.0, 1.0, 0.0]]),
         torch.tensor([[0.2, 1.5, 0.6]]), ring, 0.9, 1.0),
        ("a batch of 4, five neurons, random weights, theta = 0.7",
         torch.rand(4, 5, generator=generator),
         (torch.rand(4, 5, generator=generator) > 0.5).float(),
         torch.rand(4, 5, generator=generator) * 1.5,
         torch.randn(5, 5, generator=generator), 0.7, 0.7),
    ]:
        args = (current, spk_prev, mem_prev, weight, beta, theta)

        def judge(got: Any, e: tuple[Tensor, Tensor] = _step(*args)) -> str | None:
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                return f"return the pair (spk, mem), but yours is {fmt(got)}"
            return compare_tensor(got[1], e[1], "mem") or compare_tensor(got[0], e[0], "spk")

        cases.append(Case(what, args, judge))
    return run_cases("check_recurrent_step", recurrent_step, cases,
                     ("current", "spk_prev", "mem_prev", "V", "beta", "theta"), _STEP_MISTAKES)


# ---------------------------------------------------------------- exercise 3: what a spike costs
def _answer_is(snn_acs: Callable[[Tensor, int], float],
               ann_macs: Callable[[Tensor, int], float]) -> Callable[..., bool]:
    """A matcher: the pair (snn_acs, ann_macs) equals these two functions of the case."""

    def matches(got: Any, spikes: Tensor, out_features: int) -> bool:
        return (isinstance(got, (tuple, list)) and len(got) == 2
                and abs(float(got[0]) - snn_acs(spikes, out_features)) < 1e-6
                and abs(float(got[1]) - ann_macs(spikes, out_features)) < 1e-6)

    return matches


def _acs(spikes: Tensor, out_features: int) -> float:
    """Each spike is added into every output once; summed over steps, averaged over the batch."""
    return float(spikes.sum()) * out_features / spikes.shape[1]


def _macs(spikes: Tensor, out_features: int) -> float:
    """One dense pass per sample: in_features * out_features."""
    return float(spikes.shape[2] * out_features)


def _acs_is(wrong: Callable[[Tensor, int], float]) -> Callable[..., bool]:
    """A matcher: snn_acs (the first of the pair) is wrong, and equals ``wrong`` of the case."""

    def matches(got: Any, spikes: Tensor, out_features: int) -> bool:
        return (isinstance(got, (tuple, list)) and len(got) == 2
                and abs(float(got[0]) - _acs(spikes, out_features)) > 1e-6
                and abs(float(got[0]) - wrong(spikes, out_features)) < 1e-6)

    return matches


_OPS_MISTAKES = [
    Mistake("your snn_acs counts over the whole batch: divide by the batch size",
            _acs_is(lambda spikes, out_features: float(spikes.sum()) * out_features)),
    Mistake("your snn_acs counts every input, spiking or not: only spikes cost an AC",
            _acs_is(lambda spikes, out_features: float(spikes[:, 0].numel() * out_features))),
    Mistake("your snn_acs multiplies by in_features: each spike reaches out_features outputs",
            _acs_is(lambda spikes, out_features: float(spikes.sum()) * spikes.shape[2]
                    / spikes.shape[1])),
    Mistake("your ann_macs counts once per step: an ANN sees each sample once, not once per step",
            _answer_is(_acs, lambda spikes, out_features: len(spikes) * _macs(spikes,
                                                                               out_features))),
]


def check_linear_ops(linear_ops: Callable[[Tensor, int], Any]) -> bool:
    """Check ``linear_ops(spikes, out_features) -> (snn_acs, ann_macs)``, per sample.

    spikes ``[T, batch, in_features]`` of 0/1 enter a linear layer with ``out_features``
    outputs. snn_acs: each spike is added into every output once, summed over the steps and
    averaged over the batch. ann_macs: the same layer in an ANN, one dense pass per sample,
    in_features * out_features.
    """
    generator = torch.Generator().manual_seed(5)
    cases = []
    for what, spikes, out_features in [
        ("one sample, one step, two spikes into 3 outputs",
         torch.tensor([[[1.0, 0.0, 1.0, 0.0]]]), 3),
        ("one sample over three steps", torch.tensor(
            [[[1.0, 0, 0, 0]], [[0.0, 0, 0, 0]], [[1.0, 1, 1, 0]]]), 5),
        ("a batch of 4 samples, 6 steps, 10 inputs, 7 outputs",
         (torch.rand(6, 4, 10, generator=generator) < 0.2).float(), 7),
    ]:
        expected = (_acs(spikes, out_features), _macs(spikes, out_features))

        def judge(got: Any, e: tuple[float, float] = expected) -> str | None:
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                return f"return the pair (snn_acs, ann_macs), but yours is {fmt(got)}"
            acs, macs = (float(g) for g in got)
            if abs(acs - e[0]) > 1e-6:
                return f"snn_acs should be {fmt(e[0])}, but yours is {fmt(acs)}"
            if abs(macs - e[1]) > 1e-6:
                return f"ann_macs should be {fmt(e[1])}, but yours is {fmt(macs)}"
            return None

        cases.append(Case(what, (spikes, out_features), judge))
    return run_cases("check_linear_ops", linear_ops, cases, ("spikes", "out_features"),
                     _OPS_MISTAKES)
