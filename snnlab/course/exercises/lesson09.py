"""Checkers for the exercises of lesson 09: one step of STDP with traces.

The checker knows the usual wrong answers: when yours matches one of them, it says which.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from snnlab.course.exercises.judge import Case, compare_tensor, fmt, run_cases, same_as
from snnlab.course.exercises.lesson04 import tell_apart
from snnlab.i18n import tr


def _step(weight: Tensor, pre_spk: Tensor, post_spk: Tensor, x_pre: Tensor, x_post: Tensor,
          A_plus: float, A_minus: float, tau_plus: float, tau_minus: float, w_max: float,
          mistake: str = "") -> tuple[Tensor, Tensor, Tensor]:
    """One STDP step (``snnlab.stdp.stdp_step`` with hard bounds), or one of its usual
    mistakes."""
    d_plus, d_minus = math.exp(-1 / tau_plus), math.exp(-1 / tau_minus)
    if mistake == "euler decay":
        d_plus, d_minus = 1 - 1 / tau_plus, 1 - 1 / tau_minus
    if mistake == "no decay":
        d_plus = d_minus = 1.0
    x_pre = d_plus * x_pre + pre_spk
    y = d_minus * x_post
    x_post = y + post_spk
    if mistake == "post spike in depression":  # this step's post spike counted twice at dt = 0
        y = x_post
    potentiation = ((x_pre - pre_spk) if mistake == "pre spike out of potentiation"
                    else x_pre).T @ post_spk
    depression = pre_spk.T @ y
    if mistake == "traces swapped":  # potentiation at a pre spike, depression at a post spike
        potentiation, depression = pre_spk.T @ x_post, x_pre.T @ post_spk
    if mistake == "signs swapped":
        change = -A_plus * potentiation + A_minus * depression
    else:
        change = A_plus * potentiation - A_minus * depression
    weight = weight + change
    if mistake != "unbounded":
        weight = weight.clamp(0, w_max)
    return weight, x_pre, x_post


def _stdp_mistake(key: str, message: str) -> Any:
    return same_as(message, lambda *args: _step(*args, mistake=key))


def _stdp_mistakes() -> list[Any]:
    """Built when the checker runs, so that the messages are in the current language."""
    return [
        _stdp_mistake("signs swapped",
                      tr("your signs are swapped: a post spike that follows a pre spike "
                         "STRENGTHENS the synapse, + A_plus * outer(x_pre, S_post), and a pre "
                         "spike that follows a post spike weakens it, - A_minus * outer(S_pre, "
                         "y)")),
        _stdp_mistake("no decay",
                      tr("your traces never decay: x_pre = x_pre + S_pre adds up every spike "
                         "ever seen; multiply the old trace by exp(-1/tau_plus) first (the "
                         "post trace by exp(-1/tau_minus))")),
        _stdp_mistake("euler decay",
                      tr("your traces decay by 1 - 1/tau per step, the Euler step; the rule "
                         "uses the exact decay exp(-1/tau)")),
        _stdp_mistake("traces swapped",
                      tr("potentiation and depression are on the wrong traces: at a post spike "
                         "the synapse grows by the PRE trace, outer(x_pre, S_post); at a pre "
                         "spike it shrinks by the POST trace, outer(S_pre, y)")),
        _stdp_mistake("post spike in depression",
                      tr("your depression uses the post trace with this step's post spike in "
                         "it, so a pre and a post spike in the same step count twice; y = "
                         "exp(-1/tau_minus) * x_post is the trace before this step's spike")),
        _stdp_mistake("pre spike out of potentiation",
                      tr("your potentiation uses the pre trace before this step's pre spike, so "
                         "a pre and a post spike in the same step are not paired; use x_pre "
                         "after adding S_pre")),
        _stdp_mistake("unbounded",
                      tr("your weights leave [0, w_max]: clamp them after the change, "
                         "weight.clamp(0, w_max)")),
    ]


def check_stdp_step(stdp_step: Callable[..., tuple[Tensor, Tensor, Tensor]]) -> bool:
    """Check ``stdp_step(weight, pre_spk, post_spk, x_pre, x_post, A_plus, A_minus, tau_plus,
    tau_minus, w_max) -> (weight, x_pre, x_post)``.

    weight ``[n_pre, n_post]``; spikes and traces ``[batch, n]``; updates summed over the
    batch::

        x_pre  = exp(-1/tau_plus) * x_pre + pre_spk               # this step's pre spike in
        y      = exp(-1/tau_minus) * x_post                        # this step's post spike not
        weight = clamp(weight + A_plus * x_pre.T @ post_spk - A_minus * pre_spk.T @ y,
                       0, w_max)
        x_post = y + post_spk
    """
    generator = torch.Generator().manual_seed(9)
    cases = []
    rule = (0.1, 0.12, 20.0, 10.0, 1.0)
    for what, weight, pre, post, x_pre, x_post in [
        (tr("a post spike after an old pre spike: the synapse grows by A_plus times the pre "
            "trace"), torch.full((2, 1), 0.5), torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0]]),
         torch.tensor([[0.6, 0.0]]), torch.tensor([[0.0]])),
        (tr("a pre spike after an old post spike: the synapse shrinks by A_minus times the post "
            "trace"), torch.full((2, 1), 0.5), torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0]]),
         torch.tensor([[0.0, 0.3]]), torch.tensor([[0.8]])),
        (tr("a pre and a post spike in the same step, with old traces on both sides"),
         torch.full((2, 2), 0.5), torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0]]),
         torch.tensor([[0.4, 0.2]]), torch.tensor([[0.5, 0.9]])),
        (tr("weights near the bounds: 0.97 may not pass w_max = 1, 0.02 may not go below 0"),
         torch.tensor([[0.97, 0.02]]), torch.tensor([[1.0]]), torch.tensor([[1.0, 0.0]]),
         torch.tensor([[0.9]]), torch.tensor([[0.0, 1.0]])),
        (tr("a batch of 3 samples, 4 inputs, 3 outputs, random traces and spikes"),
         torch.rand(4, 3, generator=generator),
         (torch.rand(3, 4, generator=generator) < 0.4).float(),
         (torch.rand(3, 3, generator=generator) < 0.4).float(),
         torch.rand(3, 4, generator=generator) * 2, torch.rand(3, 3, generator=generator) * 2),
    ]:
        args = (weight, pre, post, x_pre, x_post, *rule)

        def judge(got: Any, e: tuple[Tensor, Tensor, Tensor] = _step(*args)) -> str | None:
            if not isinstance(got, (tuple, list)) or len(got) != 3:
                return tr("return the three (weight, x_pre, x_post), but yours is {value}").format(
                    value=fmt(got))
            return (compare_tensor(got[1], e[1], "x_pre") or compare_tensor(got[2], e[2], "x_post")
                    or compare_tensor(got[0], e[0], "weight"))

        cases.append(Case(what, args, judge))
    return run_cases("check_stdp_step", stdp_step, tell_apart(cases, _stdp_mistakes()),
                     ("weight", "pre_spk", "post_spk", "x_pre", "x_post", "A_plus", "A_minus",
                      "tau_plus", "tau_minus", "w_max"))
