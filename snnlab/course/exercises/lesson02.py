"""Checkers for the exercises of lesson 02: the leaky integrate-and-fire neuron.

``check_beta`` names: Euler's 1 - dt/tau, the ratio upside down (exp(-tau/dt)), a sign error
(exp(+dt/tau)), a missing dt, a tensor where a float was asked.

``check_lif_layer`` names: a reset from the current membrane instead of the previous one, a
reset that leaks with the membrane (beta * (U - theta)), ``>=`` for ``>``, a missing leak, reset to
zero, no reset, a membrane or spikes one step behind, a fixed threshold of 1, the outputs in the
wrong order, time not first, Python lists, a bool / int dtype for the spikes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from snnlab.course.exercises.judge import Case, Mistake, compare_tensor, fmt, gives, run_cases

# ------------------------------------------------------------------------------ exact beta


def _beta_mistakes() -> list[Mistake]:
    def is_tensor(got: Any, tau: float, dt: float) -> bool:
        return isinstance(got, Tensor)

    return [
        Mistake("you returned a tensor: beta here is one Python float (math.exp, or .item() on "
                "a one-element tensor)", is_tensor),
        Mistake("that is Euler's beta, 1 - dt/tau, the first two terms of the Taylor series: "
                "the exact decay solves U(t) = U(0) e^(-t/tau) over one step",
                gives(lambda tau, dt: 1 - dt / tau, atol=1e-9)),
        Mistake("the ratio is upside down: the exponent is -dt/tau (time over time constant), "
                "not -tau/dt", gives(lambda tau, dt: math.exp(-tau / dt), atol=1e-9)),
        Mistake("a sign error: exp(+dt/tau) is larger than 1, so the membrane would grow; "
                "a leak shrinks it", gives(lambda tau, dt: math.exp(dt / tau), atol=1e-9)),
        Mistake("dt is missing: the decay over one step depends on how long the step is",
                gives(lambda tau, dt: math.exp(-1 / tau), atol=1e-9)),
    ]


def check_beta(beta_from_tau: Callable[[float, float], float]) -> bool:
    """Check ``beta_from_tau(tau, dt) -> beta``, a Python float: the exact decay per step of a
    membrane without input over one step of length dt."""
    cases = []
    for what, tau, dt in [
        ("tau = 5 ms, dt = 1 ms", 5e-3, 1e-3),
        ("tau equal to dt", 2e-3, 2e-3),
        ("a slow membrane barely decays", 0.1, 1e-3),
        ("a coarse step, dt = tau / 2", 5.0, 2.5),
    ]:
        expected = math.exp(-dt / tau)

        def judge(got: Any, e: float = expected) -> str | None:
            if isinstance(got, bool) or not isinstance(got, (int, float)):
                return f"return a Python float, but yours is {fmt(got)} ({type(got).__name__})"
            if not abs(got - e) <= 1e-9:  # False for NaN too
                return f"beta should be {e:.6g}, but yours is {got:.6g}"
            return None

        cases.append(Case(what, (tau, dt), judge, "solve tau dU/dt = -U over one step"))
    return run_cases("check_beta", beta_from_tau, cases, ("tau", "dt"), _beta_mistakes())


# ------------------------------------------------------------------------------ a LIF layer


def _lif_variant(*, reset: str = "previous", strict: bool = True, leak: bool = True,
                 lag: str = "", threshold_is_one: bool = False) -> Callable[..., tuple]:
    """A LIF layer over time, U[-1] = 0: the reference (all defaults) or one typical mistake.

    reset: "previous" (reference: reset[t] = H(U[t-1] - theta), subtracted at step t), "current"
    (subtracted in the same step the spike is seen), "decayed" (U[t] = beta (U[t-1] - S theta) +
    I), "zero", "none". lag: "membrane" or "spikes" recorded one step late.
    """

    def above(u: Tensor, theta: float) -> Tensor:
        return (u > theta if strict else u >= theta).to(u.dtype)

    def layer(currents: Tensor, beta: float, threshold: float) -> tuple[Tensor, Tensor]:
        theta = 1.0 if threshold_is_one else threshold
        b = beta if leak else 1.0
        u = torch.zeros_like(currents[0])
        spikes, membrane = [], []
        last_spikes = torch.zeros_like(u)
        for current in currents:
            was_above = above(u, theta)
            if reset == "previous":
                u = b * u + current - was_above * theta
            elif reset == "zero":
                u = b * (1 - was_above) * u + current
            elif reset == "none":
                u = b * u + current
            elif reset == "decayed":
                u = b * (u - last_spikes * theta) + current
            s = above(u, theta)
            spikes.append(s)
            membrane.append(u)
            last_spikes = s
        s_all, u_all = torch.stack(spikes).float(), torch.stack(membrane).float()
        if lag == "membrane":
            u_all = torch.cat([torch.zeros_like(u_all[:1]), u_all[:-1]])
        if lag == "spikes":
            s_all = torch.cat([torch.zeros_like(s_all[:1]), s_all[:-1]])
        return s_all, u_all

    def same_step_reset(currents: Tensor, beta: float, threshold: float) -> tuple[Tensor, Tensor]:
        u = torch.zeros_like(currents[0])
        spikes, membrane = [], []
        for current in currents:
            u = beta * u + current
            s = (u > threshold).to(u.dtype)
            u = u - s * threshold  # reset in the same step, and recorded after it
            spikes.append(s)
            membrane.append(u)
        return torch.stack(spikes).float(), torch.stack(membrane).float()

    return same_step_reset if reset == "current" else layer


reference_lif_layer = _lif_variant()


def _lif_mistakes() -> list[Mistake]:
    def swapped(got: Any, currents: Tensor, beta: float, threshold: float) -> bool:
        return (isinstance(got, tuple) and len(got) == 2
                and gives(reference_lif_layer)((got[1], got[0]), currents, beta, threshold))

    def not_time_first(got: Any, currents: Tensor, beta: float, threshold: float) -> bool:
        if not (isinstance(got, tuple) and len(got) == 2 and currents.dim() >= 2):
            return False
        want = reference_lif_layer(currents, beta, threshold)
        return all(isinstance(g, Tensor) and g.shape != w.shape
                   and g.movedim(1, 0).shape == w.shape for g, w in zip(got, want, strict=True))

    def lists(got: Any, currents: Tensor, beta: float, threshold: float) -> bool:
        return isinstance(got, tuple) and any(isinstance(g, list) for g in got)

    def bool_spikes(got: Any, currents: Tensor, beta: float, threshold: float) -> bool:
        return (isinstance(got, tuple) and len(got) == 2 and isinstance(got[0], Tensor)
                and not got[0].is_floating_point())

    return [
        Mistake("you returned (membrane, spikes): return (spikes, membrane)", swapped),
        Mistake("time is not the first dimension of your outputs: stack the steps along dim 0, "
                "[num_steps, ...] like the currents", not_time_first),
        Mistake("you returned Python lists: torch.stack them into tensors [num_steps, ...]",
                lists),
        Mistake("your spikes are bool or int: return them as floats 0.0 / 1.0 (.float())",
                bool_spikes),
        Mistake("your neuron is reset in the same step it spikes: the reset was computed from "
                "the current membrane. Use the previous step's, reset[t] = H(U[t-1] - theta), "
                "so U[t] stays above theta at the step of the spike",
                gives(_lif_variant(reset="current"))),
        Mistake("your reset is multiplied by beta (you subtracted theta before the leak): "
                "U[t] = beta U[t-1] + I[t] - reset[t] theta, the whole theta at once",
                gives(_lif_variant(reset="decayed"))),
        Mistake("a membrane exactly at the threshold spikes in yours: use > (strictly above), "
                "not >=", gives(_lif_variant(strict=False))),
        Mistake("the leak is missing: multiply the previous membrane by beta",
                gives(_lif_variant(leak=False))),
        Mistake("that is reset to zero; this exercise asks for reset by subtraction "
                "(U[t] = beta U[t-1] + I[t] - reset[t] theta)", gives(_lif_variant(reset="zero"))),
        Mistake("your membrane is never reset: after a spike subtract theta at the next step",
                gives(_lif_variant(reset="none"))),
        Mistake("your membrane is one step behind (off by one in time): record U[t] after "
                "this step's update, not before", gives(_lif_variant(lag="membrane"))),
        Mistake("your spikes are one step late (off by one in time): S[t] = H(U[t] - theta) "
                "comes from this step's membrane", gives(_lif_variant(lag="spikes"))),
        Mistake("your threshold is fixed at 1: use the threshold argument",
                gives(_lif_variant(threshold_is_one=True))),
    ]


def check_lif_layer(lif_layer: Callable[[Tensor, float, float], tuple[Tensor, Tensor]]) -> bool:
    """Check ``lif_layer(currents, beta, threshold) -> (spikes, membrane)``.

    currents ``[num_steps, ...]``; U[-1] = 0; for each step t, with H(x) = 1 if x > 0 else 0:

        reset[t] = H(U[t-1] - threshold)
        U[t]     = beta * U[t-1] + I[t] - reset[t] * threshold
        S[t]     = H(U[t] - threshold)

    Both outputs have the shape of ``currents``; spikes are floats 0.0 / 1.0.
    """
    generator = torch.Generator().manual_seed(2)
    cases = []
    for what, currents, beta, threshold, hint in [
        ("below threshold the membrane leaks and integrates", torch.full((6, 1), 0.2), 0.9, 1.0,
         "U[t] = beta U[t-1] + I[t], starting from U[-1] = 0"),
        ("the first spike, then the reset one step later", torch.full((8, 1), 0.3), 0.9, 1.0,
         "the reset at step t comes from U[t-1]"),
        ("exactly at the threshold is not above it", torch.full((6, 1), 0.5), 1.0, 1.0,
         "H(x) is 1 only for x > 0"),
        ("a strong input", torch.full((6, 1), 2.5), 0.9, 1.0,
         "subtract the threshold once per spike, at the step after it"),
        ("a batch, time first [num_steps, batch, neurons]",
         1.2 * torch.rand(12, 2, 3, generator=generator), 0.8, 1.5,
         "loop over the first dimension; keep the batch and neuron dimensions as they are"),
    ]:
        want_spikes, want_mem = reference_lif_layer(currents, beta, threshold)

        def judge(got: Any, s: Tensor = want_spikes, m: Tensor = want_mem) -> str | None:
            if not (isinstance(got, tuple) and len(got) == 2):
                return f"return a tuple (spikes, membrane), but yours is {fmt(got)}"
            spikes, membrane = got
            if isinstance(spikes, Tensor) and not spikes.is_floating_point():
                return f"spikes should be floats 0.0 / 1.0, but yours are {spikes.dtype}"
            return (compare_tensor(membrane, m, "the membrane", atol=1e-4)
                    or compare_tensor(spikes, s, "the spikes"))

        cases.append(Case(what, (currents, beta, threshold), judge, hint))
    return run_cases("check_lif_layer", lif_layer, cases, ("currents", "beta", "threshold"),
                     _lif_mistakes(), copy_inputs=True)
