"""Checkers for the exercises of lesson 07: event cameras, recurrent spiking layers, synops.

Each checker knows the usual wrong answers: when yours matches one of them, it says which.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from snnlab.course.exercises.judge import Case, Mistake, compare_tensor, fmt, run_cases, same_as
from snnlab.course.exercises.lesson04 import tell_apart
from snnlab.i18n import tr


# ---------------------------------------------------------------- exercise 1: the camera
def _events(frames: Tensor, threshold: float, log: bool = True, offset: float = 0.1,
            from_first: bool = False) -> Tensor:
    level = torch.log(frames + offset) if log else frames
    change = level[1:] - (level[:1] if from_first else level[:-1])
    return torch.stack([change >= threshold, change <= -threshold], dim=1).to(frames.dtype)


def _camera_mistakes() -> list[Mistake]:
    """Built when the checker runs, so that the messages are in the current language."""
    return [
        same_as(tr("your events come from differences of the intensity, not of its logarithm: "
                   "take torch.log(frames + 0.1) first"),
                lambda frames, threshold: _events(frames, threshold, log=False)),
        same_as(tr("your events come from torch.log(frames), without the + 0.1: a dark pixel's "
                   "tiny changes then look huge; take torch.log(frames + 0.1)"),
                lambda frames, threshold: _events(frames, threshold, offset=0.0)),
        same_as(tr("your events compare every frame with the first one; an event compares each "
                   "frame with the one before it: d[t] = ℓ[t+1] - ℓ[t]"),
                lambda frames, threshold: _events(frames, threshold, from_first=True)),
        same_as(tr("your ON and OFF channels are swapped: channel 0 is ON (brighter), from d[t] "
                   "= ℓ[t+1] - ℓ[t]"),
                lambda frames, threshold: _events(frames, threshold).flip(1)),
        same_as(tr("your OFF channel holds -1: both channels hold 0/1, and OFF is 1 where the "
                   "change is <= -threshold"),
                lambda frames, threshold: _events(frames, threshold)
                * torch.tensor([1.0, -1.0]).view(1, 2, 1, 1)),
        same_as(tr("yours are the changes of the log intensity themselves: compare them with "
                   "the threshold"),
                lambda frames, threshold: torch.log(frames[1:] + 0.1)
                - torch.log(frames[:-1] + 0.1)),
    ]


def check_camera_events(camera_events: Callable[[Tensor, float], Tensor]) -> bool:
    """Check ``camera_events(frames, threshold) -> events``.

    frames ``[T + 1, H, W]`` of pixel values P in [0, 1]; events ``[T, 2, H, W]`` of 0/1:
    with the log intensity ℓ = ln(P + 0.1) and d[t] = ℓ[t+1] - ℓ[t], channel 0 (ON) is
    d >= κ and channel 1 (OFF) is d <= -κ, κ = ``threshold`` (the camera's contrast
    threshold, not a neuron's θ).
    """
    generator = torch.Generator().manual_seed(7)
    cases = []
    for what, frames, threshold in [
        (tr("one pixel turning on, staying on, dimming, going off"),
         torch.tensor([0.0, 1.0, 1.0, 0.3, 0.0]).view(5, 1, 1), 0.5),
        (tr("a dim pixel doubling its brightness (a small step in intensity, a big one in log)"),
         torch.tensor([0.1, 0.25, 0.25, 0.1]).view(4, 1, 1), 0.5),
        (tr("a very dark pixel: 0.02 -> 0.04 -> 0.06 is a small change of ln(I + 0.1)"),
         torch.tensor([0.02, 0.04, 0.06, 0.5]).view(4, 1, 1), 0.5),
        (tr("random frames, 6 steps of 3 x 4 pixels"),
         torch.rand(7, 3, 4, generator=generator), 0.4),
    ]:
        expected = _events(frames, threshold)

        def judge(got: Any, e: Tensor = expected, t: int = len(frames) - 1) -> str | None:
            if isinstance(got, Tensor) and got.dim() == 4 and len(got) == t + 1:
                return tr("events should have {t} steps, one per change between frames, but "
                          "yours has {got}: the first frame is the scene before any "
                          "event").format(t=t, got=len(got))
            if isinstance(got, Tensor) and got.dim() == 4 and got.shape[0] == 2:
                return tr("events should be [T, 2, H, W], time first; yours has the channel "
                          "first")
            if (isinstance(got, Tensor) and got.shape == e.shape and not got.is_floating_point()
                    and not got.is_complex()):
                return tr("events should be float tensors (0.0 / 1.0), like the frames, but "
                          "yours are {dtype}; add .float() or .to(frames.dtype)").format(
                              dtype=got.dtype)
            return compare_tensor(got, e, tr("events"))

        cases.append(Case(what, (frames, threshold), judge))
    return run_cases("check_camera_events", camera_events, tell_apart(cases, _camera_mistakes()),
                     ("frames", "threshold"))


# ---------------------------------------------------------------- exercise 2: the recurrent step
def _step(current: Tensor, spk_prev: Tensor, mem_prev: Tensor, weight: Tensor, beta: float,
          theta: float, mistake: str = "") -> tuple[Tensor, Tensor]:
    """The recurrent LIF step, or one of its usual mistakes."""
    reset = ((mem_prev >= theta) if mistake == ">= reset" else (mem_prev > theta)).to(
        mem_prev.dtype)
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
    elif mistake == "reset without theta":
        mem = beta * mem_prev + current + feedback - reset
    elif mistake == "reset inside the leak":
        mem = beta * (mem_prev - reset * theta) + current + feedback
    elif mistake == "leak on the input":
        mem = beta * (mem_prev + current + feedback) - reset * theta
    else:
        mem = beta * mem_prev + current + feedback - reset * theta
    spk = (mem >= theta) if mistake == ">= spike" else (mem > theta)
    if mistake == "swapped":
        return mem, spk.to(mem.dtype)
    return spk.to(mem.dtype), mem


def _step_mistake(key: str, message: str) -> Mistake:
    return same_as(message, lambda *args: _step(*args, mistake=key))


def _step_mistakes() -> list[Mistake]:
    """Built when the checker runs, so that the messages are in the current language."""
    return [
        _step_mistake("no feedback",
                      tr("your mem leaves out the recurrent term V S[t-1]: add spk_prev @ V.T")),
        _step_mistake("transposed",
                      tr("you used V untransposed, spk_prev @ V: V[i, j] is the weight from "
                         "neuron j to neuron i, so the feedback is spk_prev @ V.T, as nn.Linear "
                         "computes")),
        _step_mistake("spikes of step t",
                      tr("you fed back the spikes of this step t instead of step t-1: a spike "
                         "needs a step to come round, use spk_prev")),
        _step_mistake("reset from the new membrane",
                      tr("your reset comes from the new membrane U[t]; it comes from the "
                         "previous step: H(mem_prev - theta)")),
        _step_mistake("reset after the spike",
                      tr("you subtract theta from U[t] as soon as it crosses; the reset is "
                         "H(mem_prev - theta) * theta, a step later")),
        _step_mistake("reset to zero",
                      tr("you reset to zero; this layer resets by subtracting theta")),
        _step_mistake("no reset",
                      tr("you left out the reset: subtract H(mem_prev - theta) * theta")),
        _step_mistake("reset without theta",
                      tr("you subtract H(mem_prev - theta), not H(mem_prev - theta) * theta: the "
                         "reset removes theta")),
        _step_mistake("reset inside the leak",
                      tr("you subtract the reset before the leak, beta * (mem_prev - reset * "
                         "theta); the reset comes after it: beta * mem_prev + ... - reset * "
                         "theta")),
        _step_mistake("leak on the input",
                      tr("your leak also scales this step's input, beta * (mem_prev + current + "
                         "feedback); only the old membrane leaks")),
        _step_mistake(">= spike",
                      tr("a membrane exactly at theta spiked in yours: H(0) = 0, so spk = (mem > "
                         "theta), not >=")),
        _step_mistake(">= reset",
                      tr("a membrane exactly at theta last step was reset in yours: H(0) = 0, so "
                         "reset = (mem_prev > theta), not >=")),
        _step_mistake("swapped",
                      tr("you returned (mem, spk); return (spk, mem)")),
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
    # Every case's state is one a layer can be in: spk_prev = H(mem_prev - theta), so a reset
    # taken from spk_prev is as right as one taken from mem_prev.
    random_mem = torch.rand(4, 5, generator=generator) * 1.5
    for what, current, mem_prev, weight, beta, theta in [
        (tr("a neuron at rest that gets only input"), torch.tensor([[0.4, 1.3, 0.0]]),
         torch.zeros(1, 3), ring, 0.8, 1.0),
        (tr("spikes of the previous step arrive through V (a ring: 0 -> 1 -> 2 -> 0)"),
         torch.tensor([[0.1, 0.1, 0.1]]), torch.tensor([[1.1, 0.3, 1.4]]), ring, 0.6, 1.0),
        (tr("a neuron that spiked last step is reset by theta"),
         torch.tensor([[0.3, 0.9, 0.2]]), torch.tensor([[0.2, 1.5, 0.6]]), ring, 0.9, 1.0),
        # powers of two: every order of the float operations gives exactly theta
        (tr("exactly at theta: neuron 0 reaches U = theta now, neuron 1 was at theta last step; "
            "H(0) = 0, so neither spikes nor is reset"),
         torch.tensor([[0.625, 0.25, 0.0]]), torch.tensor([[0.5, 1.0, 0.0]]),
         torch.zeros(3, 3), 0.75, 1.0),
        (tr("a batch of 4, five neurons, random weights, theta = 0.7"),
         torch.rand(4, 5, generator=generator), random_mem,
         torch.randn(5, 5, generator=generator), 0.8, 0.7),
    ]:
        spk_prev = (mem_prev > theta).float()
        args = (current, spk_prev, mem_prev, weight, beta, theta)

        def judge(got: Any, e: tuple[Tensor, Tensor] = _step(*args)) -> str | None:
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                return tr("return the pair (spk, mem), but yours is {value}").format(
                    value=fmt(got))
            for value, label in ((got[0], "spk"), (got[1], "mem")):
                if isinstance(value, Tensor) and not value.is_floating_point():
                    return tr("{label} should be a float tensor, but yours is {dtype}; add "
                              ".float()").format(label=label, dtype=value.dtype)
            return compare_tensor(got[1], e[1], "mem") or compare_tensor(got[0], e[0], "spk")

        cases.append(Case(what, args, judge))
    return run_cases("check_recurrent_step", recurrent_step, tell_apart(cases, _step_mistakes()),
                     ("current", "spk_prev", "mem_prev", "V", "beta", "theta"))


# ---------------------------------------------------------------- exercise 3: what a spike costs
def _acs(spikes: Tensor, out_features: int) -> float:
    """Each spike is added into every output once; summed over steps, averaged over the batch."""
    return float(spikes.sum()) * out_features / spikes.shape[1]


def _macs(spikes: Tensor, out_features: int) -> float:
    """One dense pass per sample: in_features * out_features."""
    return float(spikes.shape[2] * out_features)


def _ops_mistake(message: str, snn_acs: Callable[[Tensor, int], Any],
                 ann_macs: Callable[[Tensor, int], Any] = _macs) -> Mistake:
    """A mistake named when the answer's pair equals (snn_acs, ann_macs) of the case."""
    return same_as(message, lambda spikes, out_features: (snn_acs(spikes, out_features),
                                                         ann_macs(spikes, out_features)))


def _ops_mistakes() -> list[Mistake]:
    """Built when the checker runs, so that the messages are in the current language."""
    return [
        _ops_mistake(tr("your snn_acs counts over the whole batch: divide by the batch size"),
                     lambda spikes, out_features: float(spikes.sum()) * out_features),
        _ops_mistake(tr("your snn_acs is rounded down (// or int()): the average over the batch "
                        "is a fraction when the spikes do not divide evenly; use /"),
                     lambda spikes, out_features: float(int(spikes.sum()) * out_features
                                                        // spikes.shape[1])),
        _ops_mistake(tr("your snn_acs counts every input, spiking or not: only spikes cost an AC"),
                     lambda spikes, out_features: float(spikes[:, 0].numel() * out_features)),
        _ops_mistake(tr("your snn_acs multiplies by in_features: each spike reaches out_features "
                        "outputs"),
                     lambda spikes, out_features: float(spikes.sum()) * spikes.shape[2]
                     / spikes.shape[1]),
        _ops_mistake(tr("your snn_acs leaves out out_features: each spike is added into every "
                        "one of the out_features outputs"),
                     lambda spikes, out_features: float(spikes.sum())
                     / spikes.shape[1]),
        _ops_mistake(tr("your snn_acs is an average per step: sum over all the steps, then "
                        "average over the batch only"),
                     lambda spikes, out_features: _acs(spikes, out_features)
                     / spikes.shape[0]),
        _ops_mistake(tr("your ann_macs counts once per step: an ANN sees each sample once, not "
                        "once per step"),
                     _acs,
                     lambda spikes, out_features: len(spikes) * _macs(spikes, out_features)),
        _ops_mistake(tr("your ann_macs counts the whole batch: it is per sample, in_features * "
                        "out_features"),
                     _acs,
                     lambda spikes, out_features: spikes.shape[1] * _macs(spikes, out_features)),
        _ops_mistake(tr("you returned (ann_macs, snn_acs): return (snn_acs, ann_macs)"),
                     _macs,
                     _acs),
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
    uneven = (torch.rand(6, 4, 10, generator=generator) < 0.2).float()
    if int(uneven.sum()) * 7 % 4 == 0:  # make (spikes * 7) / 4 a fraction
        uneven[0, 0, 0] = 1 - uneven[0, 0, 0]
    for what, spikes, out_features in [
        (tr("one sample, one step, two spikes into 3 outputs"),
         torch.tensor([[[1.0, 0.0, 1.0, 0.0]]]), 3),
        (tr("one sample over three steps"), torch.tensor(
            [[[1.0, 0, 0, 0]], [[0.0, 0, 0, 0]], [[1.0, 1, 1, 0]]]), 5),
        (tr("a batch of 3 with 5 spikes in all: 5 * 2 / 3 ACs per sample, not a whole number"),
         torch.tensor([[[1.0, 0, 1], [0, 0, 0], [1, 0, 0]], [[0, 1, 0], [0, 0, 1], [0, 0, 0]]]),
         2),
        (tr("a batch of 4 samples, 6 steps, 10 inputs, 7 outputs"), uneven, 7),
    ]:
        expected = (_acs(spikes, out_features), _macs(spikes, out_features))

        def judge(got: Any, e: tuple[float, float] = expected) -> str | None:
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                return tr("return the pair (snn_acs, ann_macs), but yours is {value}").format(
                    value=fmt(got))
            acs, macs = (float(g) for g in got)
            if abs(acs - e[0]) > 1e-6:
                return tr("{label} should be {expected}, but yours is {received}").format(
                    label="snn_acs", expected=fmt(e[0]), received=fmt(acs))
            if abs(macs - e[1]) > 1e-6:
                return tr("{label} should be {expected}, but yours is {received}").format(
                    label="ann_macs", expected=fmt(e[1]), received=fmt(macs))
            return None

        cases.append(Case(what, (spikes, out_features), judge))
    return run_cases("check_linear_ops", linear_ops, tell_apart(cases, _ops_mistakes()),
                     ("spikes", "out_features"))
