"""Checkers for the exercises of lesson 07: event cameras, recurrent spiking layers, synops.

Each checker knows the usual wrong answers: when yours matches one of them, it says which.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from snnlab.course.exercises.judge import Case, compare_tensor, fmt, run_cases


def _same(got: Any, want: Any) -> bool:
    """True if ``got`` equals ``want`` (tensors, or tuples of them, within 1e-5)."""
    if isinstance(want, tuple):
        return (isinstance(got, (tuple, list)) and len(got) == len(want)
                and all(_same(g, w) for g, w in zip(got, want, strict=True)))
    if not isinstance(got, Tensor) or got.shape != want.shape:
        return False
    return bool(torch.allclose(got.detach().double(), want.double(), atol=1e-5))


def _diagnose(expected: Any, mistakes: dict[str, Any],
              judge: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    """A judge: ``judge``'s sentence, plus the name of a known mistake the answer matches."""

    def diagnosed(got: Any) -> str | None:
        if isinstance(got, tuple | list) and all(isinstance(g, Tensor) for g in got):
            got = tuple(g.to(expected[0].dtype) if g.dtype == torch.bool else g for g in got)
        elif isinstance(got, Tensor) and got.dtype == torch.bool:
            got = got.to(expected.dtype)
        if _same(got, expected):
            return None
        for mistake, wrong in mistakes.items():
            if _same(got, wrong):
                return f"{judge(got) or 'not quite'}. That is what {mistake} gives"
        return judge(got) or "not the expected result"

    return diagnosed


# ---------------------------------------------------------------- exercise 1: the camera
def _events(frames: Tensor, threshold: float, eps: float, log: bool = True) -> Tensor:
    level = torch.log(frames + eps) if log else frames
    change = level[1:] - level[:-1]
    return torch.stack([change >= threshold, change <= -threshold], dim=1).to(frames.dtype)


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
        expected = _events(frames, threshold, 0.1)
        mistakes = {
            "differences of the intensity instead of its logarithm (take torch.log(frames + 0.1) "
            "first)": _events(frames, threshold, 0.1, log=False),
            "ON and OFF swapped (channel 0 is ON: brighter)": expected.flip(1),
            "an OFF channel holding -1 (both channels hold 0/1; OFF is where the change is "
            "<= -threshold)": torch.stack([expected[:, 0], -expected[:, 1]], dim=1),
            "changes of the log intensity without the threshold (compare them with it)":
                (torch.log(frames[1:] + 0.1) - torch.log(frames[:-1] + 0.1)),
        }

        def judge(got: Any, e: Tensor = expected, t: int = len(frames) - 1) -> str | None:
            if isinstance(got, Tensor) and got.dim() == 4 and len(got) == t + 1:
                return (f"events should have {t} steps, one per change between frames, but "
                        f"yours has {len(got)}: the first frame is the scene before any event")
            if isinstance(got, Tensor) and got.dim() == 4 and got.shape[0] == 2:
                return "events should be [T, 2, H, W], time first; yours has the channel first"
            return compare_tensor(got, e, "events")

        cases.append(Case(what, (frames, threshold), _diagnose(expected, mistakes, judge)))
    return run_cases("check_camera_events", camera_events, cases, ("frames", "threshold"))


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


_STEP_MISTAKES = {
    "no feedback": "leaving out the recurrent term V S[t-1] (add spk_prev @ V.T)",
    "transposed": "using V untransposed, spk_prev @ V (V[i, j] is the weight from neuron j "
                  "to neuron i, so the feedback is spk_prev @ V.T, as nn.Linear computes)",
    "spikes of step t": "feeding back the spikes of this step t instead of step t-1 (a spike "
                        "needs a step to come round: use spk_prev)",
    "reset from the new membrane": "resetting from the new membrane U[t] (the reset comes "
                                   "from the previous step: H(mem_prev - theta))",
    "reset after the spike": "subtracting theta from U[t] as soon as it crosses (the reset "
                             "is H(mem_prev - theta) * theta, a step later)",
    "reset to zero": "resetting to zero (this layer resets by subtracting theta)",
    "no reset": "leaving out the reset (subtract H(mem_prev - theta) * theta)",
}


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
        expected = _step(*args)
        mistakes = {text: _step(*args, mistake=key) for key, text in _STEP_MISTAKES.items()}
        mistakes = {text: wrong for text, wrong in mistakes.items() if not _same(wrong, expected)}

        def judge(got: Any, e: tuple[Tensor, Tensor] = expected) -> str | None:
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                return f"return the pair (spk, mem), but yours is {fmt(got)}"
            return compare_tensor(got[1], e[1], "mem") or compare_tensor(got[0], e[0], "spk")

        cases.append(Case(what, args, _diagnose(expected, mistakes, judge)))
    return run_cases("check_recurrent_step", recurrent_step, cases,
                     ("current", "spk_prev", "mem_prev", "V", "beta", "theta"))


# ---------------------------------------------------------------- exercise 3: what a spike costs
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
        num_steps, batch, in_features = spikes.shape
        count = float(spikes.sum())
        expected = (count * out_features / batch, float(in_features * out_features))
        mistakes = {
            "counting over the whole batch (divide by the batch size)": count * out_features,
            "counting every input, spiking or not (only spikes cost an AC)":
                float(num_steps * in_features * out_features),
            "multiplying by in_features (each spike reaches out_features outputs)":
                count * in_features / batch,
        }

        def judge(got: Any, e: tuple[float, float] = expected, m: dict = mistakes,
                  steps: int = num_steps) -> str | None:
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                return f"return the pair (snn_acs, ann_macs), but yours is {fmt(got)}"
            acs, macs = (float(g) for g in got)
            if abs(acs - e[0]) > 1e-6:
                known = next((text for text, v in m.items() if abs(acs - v) < 1e-6), None)
                why = f". That is what {known} gives" if known else ""
                return f"snn_acs should be {fmt(e[0])}, but yours is {fmt(acs)}{why}"
            if abs(macs - e[1]) > 1e-6:
                why = (". An ANN sees each sample once, not once per step" if steps > 1 and
                       abs(macs - e[1] * steps) < 1e-6 else "")
                return f"ann_macs should be {fmt(e[1])}, but yours is {fmt(macs)}{why}"
            return None

        cases.append(Case(what, (spikes, out_features), judge))
    return run_cases("check_linear_ops", linear_ops, cases, ("spikes", "out_features"))
