"""Checkers for the exercises of lesson 10: threshold balancing of one layer.

The checker knows the usual wrong answers: when yours matches one of them, it says which.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from snnlab.course.exercises.judge import Case, Mistake, compare_tensor, fmt, run_cases, same_as
from snnlab.course.exercises.lesson04 import tell_apart
from snnlab.i18n import tr


def _percentile(values: Tensor, percentile: float) -> Tensor:
    """The value that ``percentile``% of ``values`` do not exceed: the k-th smallest, k =
    ceil(p/100 * n) (``snnlab.conversion.activation_scales``)."""
    flat = values.flatten()
    k = min(len(flat), max(1, math.ceil(percentile / 100 * len(flat))))
    return flat.kthvalue(k).values


def _balance(weight: Tensor, lambda_in: float, train_activations: Tensor,
             test_activations: Tensor, percentile: float,
             mistake: str = "") -> tuple[Tensor, Tensor]:
    """The balanced weight and lambda_out of one layer, or one of the usual mistakes."""
    source = test_activations if mistake == "test data" else train_activations
    if mistake == "per-sample maximum":
        lambda_out = source.flatten(1).max(1).values.mean()
    elif mistake == "nonzero only":
        lambda_out = _percentile(source[source > 0], percentile)
    else:
        lambda_out = _percentile(source, percentile)
    if mistake == "wrong way":
        return weight * lambda_out / lambda_in, lambda_out
    if mistake == "no lambda_in":
        return weight / lambda_out, lambda_out
    return weight * lambda_in / lambda_out, lambda_out


def _balance_mistake(key: str, message: str) -> Any:
    return same_as(message, lambda *args: _balance(*args, mistake=key))


def _balance_mistakes() -> list[Any]:
    """Built when the checker runs, so that the messages are in the current language."""
    return [
        _balance_mistake("test data",
                         tr("you balanced on the test activations: the scale is part of the "
                            "network, so it is chosen on TRAINING data; the test set only "
                            "measures the result")),
        _balance_mistake("wrong way",
                         tr("you scaled the weights the wrong way, W * lambda_out / lambda_in; "
                            "a layer's rate stands for a / lambda_out and its inputs' for "
                            "a_in / lambda_in, so W' = W * lambda_in / lambda_out")),
        _balance_mistake("no lambda_in",
                         tr("you divided by lambda_out but forgot lambda_in: a spike of the "
                            "layer below stands for lambda_in units of activation, so W' = W * "
                            "lambda_in / lambda_out")),
        _balance_mistake("per-sample maximum",
                         tr("you took the maximum of each sample and averaged them: the maximum "
                            "over the wrong dimension; lambda is the largest activation (or the "
                            "percentile) over ALL the layer's values, every sample, channel and "
                            "position at once")),
        _balance_mistake("nonzero only",
                         tr("you took the percentile of the activations above 0 only; take it "
                            "over all of them, zeros included, as snnlab.conversion does")),
    ]


def check_balance(balance: Callable[..., tuple[Tensor, Any]]) -> bool:
    """Check ``balance(weight, lambda_in, train_activations, test_activations, percentile) ->
    (weight, lambda_out)``: one layer's threshold balancing.

    ``train_activations`` / ``test_activations``: the layer's ReLU outputs ``[N, C, H, W]`` on
    training and on test images. ``lambda_out`` is the ``percentile`` of ALL the training
    activations (100: the maximum; otherwise the value that ``percentile``% of them do not
    exceed), one number; the balanced weight is ``weight * lambda_in / lambda_out``.
    """
    generator = torch.Generator().manual_seed(10)

    def relu_values(*shape: int, scale: float = 1.0) -> Tensor:
        return (torch.randn(*shape, generator=generator) * scale).clamp(min=0)

    cases = []
    for what, weight, lambda_in, train, test, percentile in [
        (tr("percentile 100, the maximum, of a small layer; lambda_in = 1 (the pixels)"),
         torch.tensor([[0.5, -1.0], [2.0, 0.25]]), 1.0,
         torch.tensor([[[[0.0, 3.0]]], [[[1.0, 0.5]]]]),
         torch.tensor([[[[4.0, 0.0]]], [[[0.2, 0.1]]]]), 100.0),
        (tr("the maximum again, with lambda_in = 2.5 (the layer below was balanced)"),
         torch.randn(3, 2, generator=generator), 2.5, relu_values(4, 2, 3, 3, scale=2.0),
         relu_values(4, 2, 3, 3, scale=3.0), 100.0),
        (tr("the median (percentile 50) of 5 activations, two of them 0"),
         torch.tensor([[1.0, 2.0]]), 0.5,
         torch.tensor([[[[0.0, 0.8, 0.0, 1.6, 0.4]]]]),
         torch.tensor([[[[0.0, 0.0, 0.3, 2.0, 0.9]]]]), 50.0),
        (tr("the 99.9th percentile of 1001 activations, about half of them 0"),
         torch.randn(4, 3, generator=generator), 1.7,
         relu_values(7, 11, 13), relu_values(7, 11, 13, scale=2.0), 99.9),
    ]:
        args = (weight, lambda_in, train, test, percentile)

        def judge(got: Any, e: tuple[Tensor, Tensor] = _balance(*args)) -> str | None:
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                return tr("return the pair (weight, lambda_out), but yours is {value}").format(
                    value=fmt(got))
            scale = got[1]
            if isinstance(scale, Tensor) and scale.numel() != 1:
                return tr("lambda_out is one number for the whole layer, but yours has shape "
                          "{shape}: the maximum (or percentile) over the wrong dimension; take "
                          "it over all the values at once").format(shape=list(scale.shape))
            if isinstance(scale, (int, float)) and not isinstance(scale, bool):
                scale = torch.tensor(float(scale))
            return (compare_tensor(scale.reshape(()) if isinstance(scale, Tensor) else scale,
                                   e[1], "lambda_out", atol=1e-5)
                    or compare_tensor(got[0], e[0], "weight"))

        cases.append(Case(what, args, judge))
    return run_cases("check_balance", balance, tell_apart(cases, _balance_mistakes()),
                     ("weight", "lambda_in", "train_activations", "test_activations",
                      "percentile"))


# ---------------------------------------------------------------- exercise 2: the cheapest T
def _cheapest(steps: list[int], accuracy: list[float], energy: list[float], target: float,
              mistake: str = "") -> int | None:
    """The T of least energy among those whose accuracy reaches ``target`` (None if none does),
    or one of the usual mistakes."""
    if mistake == "most accurate":
        return steps[max(range(len(steps)), key=lambda k: accuracy[k])]
    if mistake == "first reaching":
        return next((t for t, a in zip(steps, accuracy, strict=True) if a >= target), None)
    if mistake == "no target":
        return steps[min(range(len(steps)), key=lambda k: energy[k])]
    reaching = [k for k in range(len(steps)) if accuracy[k] >= target]
    if not reaching:
        return None
    return steps[min(reaching, key=lambda k: energy[k])]


def _cheap_mistake(message: str, key: str) -> Mistake:
    """A mistake named only for an answer of its type and value (8.0 for 8 is told apart)."""
    def wrong(*args: Any) -> int | None:
        return _cheapest(*args, mistake=key)

    mistake = Mistake(message, lambda got, *args: type(got) is type(wrong(*args))
                      and got == wrong(*args))
    mistake.wrong = wrong  # type: ignore[attr-defined]  # for tell_apart
    return mistake


def _cheapest_mistakes() -> list[Mistake]:
    """Built when the checker runs, so that the messages are in the current language."""
    return [
        _cheap_mistake(tr("you returned the most accurate T; the question is the CHEAPEST T "
                          "among those that reach the target"), "most accurate"),
        _cheap_mistake(tr("you returned the first T that reaches the target; that is the "
                          "cheapest only if energy grows with T, and here it need not: compare "
                          "the energies"), "first reaching"),
        _cheap_mistake(tr("you returned the T of least energy without looking at the target: "
                          "keep only the T whose accuracy reaches it"), "no target"),
    ]


def check_cheapest_steps(cheapest_steps: Callable[..., Any]) -> bool:
    """Check ``cheapest_steps(steps, accuracy, energy, target) -> T``: among the ``steps`` whose
    ``accuracy`` reaches ``target`` (>=), the one whose ``energy`` is least; None if no T
    reaches it. ``steps``, ``accuracy`` and ``energy`` are lists of the same length."""
    cases = []
    for what, args in [
        (tr("energy grows with T, accuracy too: the first T that reaches the target"),
         ([1, 2, 4, 8, 16], [0.1, 0.5, 0.9, 0.97, 0.99], [1.0, 2.0, 4.0, 8.0, 16.0], 0.95)),
        (tr("a T with less energy than a shorter one (fewer spikes), both above the target"),
         ([4, 8, 16, 32], [0.96, 0.98, 0.985, 0.99], [5.0, 4.0, 6.0, 9.0], 0.95)),
        (tr("the most accurate T is not the cheapest one that reaches the target"),
         ([8, 16, 32, 64], [0.97, 0.981, 0.985, 0.99], [2.0, 3.0, 5.0, 9.0], 0.98)),
        (tr("no T reaches the target: the answer is None"),
         ([1, 2, 4], [0.2, 0.5, 0.7], [1.0, 2.0, 3.0], 0.9)),
        (tr("a target reached exactly (>=)"),
         ([2, 4, 8, 16], [0.5, 0.98, 0.985, 0.99], [1.0, 2.0, 4.0, 8.0], 0.98)),
    ]:
        expected = _cheapest(*args)

        def judge(got: Any, e: int | None = expected) -> str | None:
            if got == e and type(got) is type(e):
                return None
            if isinstance(got, bool) or not (got is None or isinstance(got, int)):
                return tr("return a T from steps (an int), or None, but yours is {value}").format(
                    value=fmt(got))
            return tr("the answer is {expected}, but yours is {got}").format(
                expected=fmt(e), got=fmt(got))

        cases.append(Case(what, args, judge))
    return run_cases("check_cheapest_steps", cheapest_steps,
                     tell_apart(cases, _cheapest_mistakes()),
                     ("steps", "accuracy", "energy", "target"))
