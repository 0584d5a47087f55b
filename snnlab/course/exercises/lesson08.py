"""Checkers for the exercises of lesson 08: one step of the adaptive-threshold neuron, and the
time constant a gap needs.

Each checker knows the usual wrong answers: when yours matches one of them, it says which.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from snnlab.course.exercises.judge import Case, compare_tensor, fmt, run_cases, same_as
from snnlab.course.exercises.lesson04 import _judge_float, named, tell_apart
from snnlab.i18n import tr


# ---------------------------------------------------------------- exercise 1: the ALIF step
def _step(current: Tensor, mem_prev: Tensor, a_prev: Tensor, beta: float, theta0: float,
          rho: float, b: float, mistake: str = "") -> tuple[Tensor, Tensor, Tensor]:
    """One ALIF step (``snnlab.adaptive.ALIF`` with reset by subtraction), or a usual mistake."""
    theta_prev = theta0 + (a_prev if mistake == "no b" else b * a_prev)
    spk_prev = (mem_prev > (theta0 if mistake == "previous spike at theta0" else theta_prev)
                ).to(mem_prev.dtype)
    if mistake == "no decay":
        a = a_prev + spk_prev
    elif mistake == "decay after the spike":
        a = rho * (a_prev + spk_prev)
    else:
        a = rho * a_prev + spk_prev
    theta = theta0 + (a if mistake == "no b" else b * a)
    leak = 1.0 if mistake == "no leak" else beta
    reset = theta0 if mistake == "reset by theta0" else theta_prev
    mem = leak * mem_prev + current - spk_prev * reset
    if mistake == "this step's spike":  # threshold of a[t-1], then a fed by the new spike
        spk = (mem > theta_prev).to(mem.dtype)
        return spk, mem, rho * a_prev + spk
    if mistake == "old threshold":
        theta = theta_prev
    spk = (mem > theta).to(mem.dtype)
    return spk, mem, a


def _step_mistake(key: str, message: str) -> Any:
    return same_as(message, lambda *args: _step(*args, mistake=key))


def _alif_mistakes() -> list[Any]:
    """Built when the checker runs, so that the messages are in the current language."""
    return [
        _step_mistake("this step's spike",
                      tr("your adaptation is fed by the spike of this step, S[t], and your spike "
                         "is judged against the old threshold: the trace takes the previous "
                         "spike, a[t] = rho * a[t-1] + S[t-1], and S[t] is judged against the "
                         "new threshold theta[t]")),
        _step_mistake("no decay",
                      tr("your adaptation never decays, a[t] = a[t-1] + S[t-1]: the threshold "
                         "climbs with every spike and never comes back, without bound; multiply "
                         "the old trace by rho")),
        _step_mistake("decay after the spike",
                      tr("you decay the new spike too, rho * (a[t-1] + S[t-1]); a spike adds a "
                         "whole 1: a[t] = rho * a[t-1] + S[t-1]")),
        _step_mistake("no b",
                      tr("your threshold is theta0 + a, without b: one spike raises it by b, "
                         "theta = theta0 + b * a")),
        _step_mistake("no leak",
                      tr("your membrane does not leak: U[t] = beta * U[t-1] + I[t] - ..., the "
                         "old membrane times beta")),
        _step_mistake("reset by theta0",
                      tr("your reset subtracts theta0; the neuron crossed theta[t-1] = theta0 + "
                         "b * a[t-1], so the reset subtracts that")),
        _step_mistake("previous spike at theta0",
                      tr("you took the previous spike as H(U[t-1] - theta0); the neuron spiked "
                         "last step only if U[t-1] passed its adapted threshold theta[t-1] = "
                         "theta0 + b * a[t-1]")),
        _step_mistake("old threshold",
                      tr("your spike compares U[t] with the previous step's threshold theta[t-1]; "
                         "compare it with the new one, theta[t] = theta0 + b * a[t]")),
    ]


def check_alif_step(alif_step: Callable[..., tuple[Tensor, Tensor, Tensor]]) -> bool:
    """Check ``alif_step(current, mem_prev, a_prev, beta, theta0, rho, b) -> (spk, mem, a)``.

    All tensors ``[batch, n]``; the previous spike is recomputed from the state, as
    ``snnlab.adaptive.ALIF`` does::

        theta_prev = theta0 + b * a_prev                   # theta[t-1]
        spk_prev   = H(mem_prev - theta_prev)              # S[t-1]
        a     = rho * a_prev + spk_prev
        theta = theta0 + b * a
        mem   = beta * mem_prev + current - spk_prev * theta_prev
        spk   = H(mem - theta)
    """
    generator = torch.Generator().manual_seed(8)
    cases = []
    for what, current, mem_prev, a_prev, beta, theta0, rho, b in [
        (tr("a neuron at rest that gets only input"), torch.tensor([[0.5, 1.5, 0.0]]),
         torch.zeros(1, 3), torch.zeros(1, 3), 0.9, 1.0, 0.9, 0.5),
        (tr("a neuron that spiked last step (U[t-1] above its threshold): it is reset, and its "
            "adaptation grows"),
         torch.tensor([[0.2, 0.2, 0.2]]), torch.tensor([[1.4, 0.6, 2.5]]),
         torch.tensor([[0.0, 0.0, 1.0]]), 0.8, 1.0, 0.5, 0.5),
        (tr("an adapted neuron that did not spike: its threshold decays back towards theta0"),
         torch.tensor([[0.3, 1.0, 0.0]]), torch.tensor([[1.2, 0.5, 0.1]]),
         torch.tensor([[1.0, 2.0, 0.5]]), 0.9, 1.0, 0.8, 0.4),
        (tr("a membrane above theta0 but below its adapted threshold: no spike last step"),
         torch.tensor([[0.6, 0.1]]), torch.tensor([[1.3, 1.1]]),
         torch.tensor([[2.0, 1.0]]), 0.7, 1.0, 0.9, 0.3),
        (tr("a batch of 4, five neurons, random states, theta0 = 0.6"),
         torch.rand(4, 5, generator=generator), torch.rand(4, 5, generator=generator) * 1.5,
         torch.rand(4, 5, generator=generator) * 2, 0.85, 0.6, 0.95, 0.25),
    ]:
        args = (current, mem_prev, a_prev, beta, theta0, rho, b)

        def judge(got: Any, e: tuple[Tensor, Tensor, Tensor] = _step(*args)) -> str | None:
            if not isinstance(got, (tuple, list)) or len(got) != 3:
                return tr("return the three (spk, mem, a), but yours is {value}").format(
                    value=fmt(got))
            for value, label in zip(got, ("spk", "mem", "a"), strict=True):
                if isinstance(value, Tensor) and not value.is_floating_point():
                    return tr("{label} should be a float tensor, but yours is {dtype}; add "
                              ".float()").format(label=label, dtype=value.dtype)
            return (compare_tensor(got[2], e[2], "a") or compare_tensor(got[1], e[1], "mem")
                    or compare_tensor(got[0], e[0], "spk"))

        cases.append(Case(what, args, judge))
    return run_cases("check_alif_step", alif_step, tell_apart(cases, _alif_mistakes()),
                     ("current", "mem_prev", "a_prev", "beta", "theta0", "rho", "b"))


# ---------------------------------------------------------------- exercise 2: a gap's beta
def _beta_mistakes() -> list[Any]:
    """Built when the checker runs, so that the messages are in the current language."""
    return [
        named(tr("take beta = 1 - 1/G, the first-order (Euler) step of lesson 02"),
              tr("that is a little short of the time constant; solve beta ** G = 1/e exactly: "
                 "beta = exp(-1/G)"), lambda gap: 1 - 1 / gap),
        named(tr("take beta = exp(-G)"),
              tr("beta is the decay of ONE step: beta ** G = exp(-1) gives beta = exp(-1/G)"),
              lambda gap: math.exp(-gap)),
        named(tr("ask for half of the input to be left (beta = 0.5 ** (1/G))"),
              tr("the time constant is where 1/e (36.8%) is left: beta = exp(-1/G)"),
              lambda gap: 0.5 ** (1 / gap)),
        named(tr("take beta = 1/G"),
              tr("a decay factor near 1 keeps an input long: beta = exp(-1/G)"),
              lambda gap: 1 / gap),
    ]


def check_beta_for_gap(beta_for_gap: Callable[[int], float]) -> bool:
    """Check ``beta_for_gap(gap) -> beta``: the beta whose membrane time constant is ``gap``
    steps, so that after ``gap`` blank steps 1/e (36.8%) of an input is left::

        beta ** gap = exp(-1)   =>   beta = exp(-1 / gap)
    """
    cases = [Case(tr("a gap of {gap} steps").format(gap=gap), (gap,),
                  _judge_float(math.exp(-1 / gap), "beta"))
             for gap in (4, 10, 50, 100)]
    return run_cases("check_beta_for_gap", beta_for_gap, tell_apart(cases, _beta_mistakes()),
                     ("gap",))
