"""Checkers for the exercises of lesson 02: the leaky integrate-and-fire neuron.

Every known mistake is named only when the answer equals what that mistake returns on the
case at hand (output comparison); anything else gets input / expected / received.

``check_beta`` names: Euler's 1 - dt/tau and the implicit Euler 1/(1 + dt/tau), a Taylor series
cut after x^2 or x^3, the ratio upside down (exp(-tau/dt), also what swapped arguments give), a sign
error, a missing dt, dt times tau, the complement 1 - beta, the exponent without exp, exp(-dt)
/ tau, a rounded e or the wrong base, a rounded answer, a tensor or a NumPy float32 where a
Python float was asked.

``check_lif_layer`` names: a reset from the current membrane instead of the previous one, a
reset that leaks with the membrane (beta * (U - theta)), ``>=`` for ``>``, a missing leak, a
leak that also shrinks the input, an input scaled by (1 - beta), reset to zero, no reset,
subtracting 1 instead of theta, a membrane or spikes one step behind, a fixed threshold of 1, a
fixed beta of 0.9, a membrane clipped at 0, a start from I[0] instead of rest, one step
missing, a membrane changed in place (every step the same tensor), the outputs in the wrong
order, time not first, Python lists, a bool / int dtype for the spikes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from snnlab.course.exercises.judge import Case, Mistake, compare_tensor, fmt, gives, run_cases
from snnlab.i18n import tr

# ------------------------------------------------------------------------------ exact beta

BETA_RTOL = 1e-6  # relative: float32 arithmetic (about 6e-8 per operation) stays well inside


def _number(got: Any) -> float | None:
    """``got`` as a float when it is a real Python or NumPy number (not a bool), else None."""
    numpy = type(got).__module__ == "numpy"
    if isinstance(got, bool) or not (isinstance(got, (int, float)) or numpy):
        return None
    try:
        value = float(got)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _close(got: Any, want: float) -> bool:
    value = _number(got)
    return (value is not None and math.isfinite(want)
            and math.isclose(value, want, rel_tol=BETA_RTOL, abs_tol=1e-12))


def _same_as(wrong: Callable[[float, float], float]) -> Callable[..., bool]:
    """A Mistake matcher: the answer equals ``wrong(tau, dt)`` to float32 precision."""

    def matches(got: Any, tau: float, dt: float) -> bool:
        try:
            want = wrong(tau, dt)
        except (ArithmeticError, ValueError):  # e.g. a power of a negative number
            return False
        return _close(got, want)

    return matches


def _rounded(got: Any, tau: float, dt: float) -> bool:
    exact = math.exp(-dt / tau)
    return not _close(got, exact) and any(_close(got, round(exact, digits))
                                          for digits in range(1, 7))


ROUNDED_E = (2.7, 2.72, 2.71, 2.718, 2.7183, 2.71828, 2.718282)


def _power_of(bases: tuple[float, ...]) -> Callable[..., bool]:
    """A Mistake matcher: the answer is b ** (-dt / tau) for one of ``bases``."""

    def matches(got: Any, tau: float, dt: float) -> bool:
        return any(_close(got, base ** (-dt / tau)) for base in bases)

    return matches


def _beta_mistakes() -> list[Mistake]:
    def is_tensor(got: Any, tau: float, dt: float) -> bool:
        return isinstance(got, Tensor)

    def float32(got: Any, tau: float, dt: float) -> bool:
        return type(got).__module__ == "numpy" and not isinstance(got, float)

    def series(got: Any, tau: float, dt: float) -> bool:
        terms = [(-dt / tau) ** k / math.factorial(k) for k in range(4)]
        return any(_close(got, sum(terms[:n])) for n in (3, 4))  # up to x^2, x^3

    return [
        Mistake(tr("you returned a tensor: beta here is one Python float (math.exp, or .item() on "
                "a one-element tensor)"), is_tensor),
        Mistake(tr("you returned a NumPy number that is not a Python float (e.g. np.float32): "
                "return float(...) of it, or use math.exp"), float32),
        Mistake(tr("that is Euler's beta, 1 - dt/tau, the first two terms of the Taylor series: "
                "the exact decay solves U(t) = U(0) e^(-t/tau) over one step"),
                _same_as(lambda tau, dt: 1 - dt / tau)),
        Mistake(tr("that is the implicit (backward) Euler step, 1 / (1 + dt/tau): still an "
                "approximation; the exact decay solves U(t) = U(0) e^(-t/tau) over one step"),
                _same_as(lambda tau, dt: 1 / (1 + dt / tau))),
        Mistake(tr("that is the Taylor series of e^(-x), x = dt/tau, cut after a few terms "
                "(1 - x + x^2/2 ...): close for small steps, but the exact decay is the whole "
                "exponential, math.exp"), series),
        Mistake(tr("the ratio is upside down: the exponent is -dt/tau (time over time constant), "
                "not -tau/dt. If your formula reads exp(-dt / tau), check the order of the "
                "arguments: beta_from_tau(tau, dt), tau first"),
                _same_as(lambda tau, dt: math.exp(-tau / dt))),
        Mistake(tr("a sign error: exp(+dt/tau) is larger than 1, so the membrane would grow; "
                "a leak shrinks it"), _same_as(lambda tau, dt: math.exp(dt / tau))),
        Mistake(tr("dt is missing: the decay over one step depends on how long the step is"),
                _same_as(lambda tau, dt: math.exp(-1 / tau))),
        Mistake(tr("you multiplied dt by tau: the exponent is -dt / tau, a time divided by a time "
                "constant (no units left)"), _same_as(lambda tau, dt: math.exp(-dt * tau))),
        Mistake(tr("that is 1 - beta, the fraction of the membrane that leaks away in one step; "
                "beta is the fraction that stays"),
                _same_as(lambda tau, dt: 1 - math.exp(-dt / tau))),
        Mistake(tr("you returned the exponent itself: beta is e to that power, "
                   "math.exp(-dt / tau)"),
                _same_as(lambda tau, dt: -dt / tau)),
        Mistake(tr("you returned the ratio dt / tau: beta is math.exp(-dt / tau)"),
                _same_as(lambda tau, dt: dt / tau)),
        Mistake(tr("only dt is in the exponent: exp(-dt) / tau divides after the exponential. "
                "Put the whole ratio inside, math.exp(-dt / tau)"),
                _same_as(lambda tau, dt: math.exp(-dt) / tau)),
        Mistake(tr("your e is rounded (a power of 2.718... with too few digits): use math.exp, "
                "which is exact to float precision"), _power_of(ROUNDED_E)),
        Mistake(tr("your power has base 2 or 10: the decay is e^(-dt/tau), math.exp(-dt / tau)"),
                _power_of((2.0, 10.0))),
        Mistake(tr("your answer is rounded: return the float itself, without round()"), _rounded),
    ]


def check_beta(beta_from_tau: Callable[[float, float], float]) -> bool:
    """Check ``beta_from_tau(tau, dt) -> beta``, a Python float: the exact decay per step of a
    membrane without input over one step of length dt, within a relative 1e-6 (float32
    arithmetic such as ``torch.exp(torch.tensor(-dt / tau)).item()`` passes)."""
    cases = []
    for what, tau, dt in [
        (tr("tau = 5 ms, dt = 1 ms"), 5e-3, 1e-3),
        (tr("a step as long as tau"), 2e-3, 2e-3),
        (tr("a slow membrane barely decays"), 0.1, 1e-3),
        (tr("a coarse step, dt = tau / 2"), 5.0, 2.5),
        (tr("a step three times tau (Euler's beta would be negative)"), 1.0, 3.0),
        (tr("whole numbers in, a float out"), 20, 1),
    ]:
        expected = math.exp(-dt / tau)

        def judge(got: Any, e: float = expected) -> str | None:
            if isinstance(got, bool) or not isinstance(got, (int, float)):
                return tr("return a Python float, but yours is {value} ({type})").format(
                    value=fmt(got), type=type(got).__name__)
            if not math.isclose(got, e, rel_tol=BETA_RTOL):  # False for NaN too
                off = abs(got - e) / e
                return tr("beta should be {expected}, but yours is {received} (off by {off} of "
                          "beta; allowed: {allowed})").format(
                              expected=repr(e), received=repr(float(got)), off=f"{off:.1e}",
                              allowed=f"{BETA_RTOL:g}")
            return None

        cases.append(Case(what, (tau, dt), judge,
                          tr("compare U(t + dt) with U(t) for U(t) = U(0) e^(-t/tau)")))
    return run_cases("check_beta", beta_from_tau, cases, ("tau", "dt"), _beta_mistakes())


# ------------------------------------------------------------------------------ a LIF layer


def _lif_variant(*, reset: str = "previous", strict: bool = True, leak: str = "membrane",
                 lag: str = "", threshold_is_one: bool = False, subtract_one: bool = False,
                 fixed_beta: float | None = None, clip: bool = False, start: str = "rest",
                 in_place: bool = False) -> Callable[..., tuple]:
    """A LIF layer over time, U[-1] = 0: the reference (all defaults) or one typical mistake.

    reset: "previous" (reference: reset[t] = H(U[t-1] - theta), subtracted at step t), "current"
    (subtracted in the same step the spike is seen), "decayed" (U[t] = beta (U[t-1] - S theta) +
    I), "zero", "none". leak: "membrane" (reference), "none", "input too" (beta (U + I)),
    "scaled input" (beta U + (1 - beta) I). lag: "membrane" or "spikes" recorded one step late.
    subtract_one: compare with theta, subtract 1. fixed_beta: ignore the beta argument. clip: U
    never below 0. start: "rest" or "input" (U[-1] = I[0]). in_place: every recorded membrane
    step is the last one (a tensor changed in place after it was appended).
    """

    def above(u: Tensor, theta: float) -> Tensor:
        return (u > theta if strict else u >= theta).to(u.dtype)

    def layer(currents: Tensor, beta: float, threshold: float) -> tuple[Tensor, Tensor]:
        theta = 1.0 if threshold_is_one else threshold
        removed = 1.0 if subtract_one else theta
        b = beta if fixed_beta is None else fixed_beta
        u = currents[0].clone() if start == "input" else torch.zeros_like(currents[0])
        spikes, membrane = [], []
        last_spikes = torch.zeros_like(u)
        for current in currents:
            was_above = above(u, theta)
            if leak == "input too":
                u, current = b * u, b * current
            elif leak == "scaled input":
                u, current = b * u, (1 - b) * current
            elif leak == "membrane":
                u = b * u
            if reset == "previous":
                u = u + current - was_above * removed
            elif reset == "zero":
                u = (1 - was_above) * u + current
            elif reset == "none":
                u = u + current
            elif reset == "decayed":
                u = u - b * last_spikes * removed + current
            elif reset == "current":
                u = u + current
                s = above(u, theta)
                u = u - s * removed  # reset in the same step, and recorded after it
            if clip:
                u = u.clamp(min=0)
            s = s if reset == "current" else above(u, theta)
            spikes.append(s)
            membrane.append(u)
            last_spikes = s
        s_all, u_all = torch.stack(spikes).float(), torch.stack(membrane).float()
        if lag == "membrane":
            u_all = torch.cat([torch.zeros_like(u_all[:1]), u_all[:-1]])
        if lag == "spikes":
            s_all = torch.cat([torch.zeros_like(s_all[:1]), s_all[:-1]])
        if in_place:
            u_all = u_all[-1:].expand_as(u_all)
        return s_all, u_all

    return layer


reference_lif_layer = _lif_variant()


def _lif_mistakes() -> list[Mistake]:
    def pair(got: Any) -> bool:
        return isinstance(got, tuple) and len(got) == 2

    def swapped(got: Any, currents: Tensor, beta: float, threshold: float) -> bool:
        return pair(got) and gives(reference_lif_layer)((got[1], got[0]), currents, beta,
                                                         threshold)

    def not_time_first(got: Any, currents: Tensor, beta: float, threshold: float) -> bool:
        if not (pair(got) and currents.dim() >= 2):
            return False
        want = reference_lif_layer(currents, beta, threshold)
        return all(isinstance(g, Tensor) and g.shape != w.shape
                   and g.movedim(1, 0).shape == w.shape for g, w in zip(got, want, strict=True))

    def lists(got: Any, currents: Tensor, beta: float, threshold: float) -> bool:
        return isinstance(got, tuple) and any(isinstance(g, list) for g in got)

    def bool_spikes(got: Any, currents: Tensor, beta: float, threshold: float) -> bool:
        return pair(got) and isinstance(got[0], Tensor) and not got[0].is_floating_point()

    def one_step_short(got: Any, currents: Tensor, beta: float, threshold: float) -> bool:
        shape = (len(currents) - 1, *currents.shape[1:])
        return pair(got) and all(isinstance(g, Tensor) and tuple(g.shape) == shape for g in got)

    return [
        Mistake(tr("you returned (membrane, spikes): return (spikes, membrane)"), swapped),
        Mistake(tr("time is not the first dimension of your outputs: stack the steps along dim 0, "
                "[num_steps, ...] like the currents"), not_time_first),
        Mistake(tr("you returned Python lists: torch.stack them into tensors [num_steps, ...]"),
                lists),
        Mistake(tr("your spikes are bool or int: return them as floats 0.0 / 1.0 (.float())"),
                bool_spikes),
        Mistake(tr("your outputs have one step fewer than the currents: run and record every step, "
                "t = 0 ... num_steps - 1, starting from U[-1] = 0"), one_step_short),
        Mistake(tr("your neuron is reset in the same step it spikes: the reset was computed from "
                "the current membrane. Use the previous step's, reset[t] = H(U[t-1] - theta), "
                "so U[t] stays above theta at the step of the spike"),
                gives(_lif_variant(reset="current"))),
        Mistake(tr("your reset is multiplied by beta (you subtracted theta before the leak): "
                "U[t] = beta U[t-1] + I[t] - reset[t] theta, the whole theta at once"),
                gives(_lif_variant(reset="decayed"))),
        Mistake(tr("a membrane exactly at the threshold spikes in yours: use > (strictly above), "
                "not >="), gives(_lif_variant(strict=False))),
        Mistake(tr("the leak is missing: multiply the previous membrane by beta"),
                gives(_lif_variant(leak="none"))),
        Mistake(tr("your leak shrinks the input too, beta (U[t-1] + I[t]): only the previous "
                "membrane decays, U[t] = beta U[t-1] + I[t]"),
                gives(_lif_variant(leak="input too"))),
        Mistake(tr("your input is scaled by (1 - beta): in this lesson's update the input is added "
                "as it is, U[t] = beta U[t-1] + I[t]"), gives(_lif_variant(leak="scaled input"))),
        Mistake(tr("that is reset to zero; this exercise asks for reset by subtraction "
                "(U[t] = beta U[t-1] + I[t] - reset[t] theta)"), gives(_lif_variant(reset="zero"))),
        Mistake(tr("your membrane is never reset: after a spike subtract theta at the next step"),
                gives(_lif_variant(reset="none"))),
        Mistake(tr("your reset subtracts 1: subtract the threshold theta (the argument)"),
                gives(_lif_variant(subtract_one=True))),
        Mistake(tr("your membrane is one step behind (off by one in time): record U[t] after "
                "this step's update, not before"), gives(_lif_variant(lag="membrane"))),
        Mistake(tr("your spikes are one step late (off by one in time): S[t] = H(U[t] - theta) "
                "comes from this step's membrane"), gives(_lif_variant(lag="spikes"))),
        Mistake(tr("your threshold is fixed at 1: use the threshold argument"),
                gives(_lif_variant(threshold_is_one=True))),
        Mistake(tr("your beta is fixed at 0.9: use the beta argument"),
                gives(_lif_variant(fixed_beta=0.9))),
        Mistake(tr("your membrane never goes below 0: nothing in the update clips it; a negative "
                "(inhibitory) input pushes U below rest"), gives(_lif_variant(clip=True))),
        Mistake(tr("your membrane does not start at rest: U[-1] = 0 "
                "(torch.zeros_like(currents[0])), so the first step gives U[0] = I[0]"),
                gives(_lif_variant(start="input"))),
        Mistake(tr("every step of your membrane holds the last step's values: you changed the "
                "membrane tensor in place (mem *= beta, mem += ...) after appending it. Write "
                "mem = beta * mem + ... (a new tensor each step), or append mem.clone()"),
                gives(_lif_variant(in_place=True))),
    ]


def _dyadic(values: list[float]) -> Tensor:
    """A one-neuron current [T, 1]; halves and quarters, so every order of the float
    operations lands exactly on the threshold where the case says so."""
    return torch.tensor(values).unsqueeze(1)


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
    for what, currents, beta, threshold in [
        (tr("below threshold the membrane leaks and integrates"), torch.full((6, 1), 0.2), 0.9,
         1.0),
        (tr("the first spike, then the reset"), torch.full((8, 1), 0.3), 0.9, 1.0),
        (tr("exactly at the threshold is not above it (twice: before and after a reset)"),
         torch.full((6, 1), 0.5), 1.0, 1.0),
        (tr("exactly at the threshold with a leak, beta = 0.5"),
         _dyadic([1.0, 0.5, 0.75, 0.5, 0.25, 0.0]), 0.5, 1.0),
        (tr("a strong input"), torch.full((6, 1), 2.5), 0.9, 1.0),
        (tr("inhibition: a negative input pushes the membrane below rest"),
         _dyadic([0.75, 0.5, -1.5, -0.5, 1.0, 1.0, 1.0]), 0.75, 1.0),
        (tr("a batch, time first [num_steps, batch, neurons]"),
         1.2 * torch.rand(12, 2, 3, generator=generator), 0.8, 1.5),
    ]:
        want_spikes, want_mem = reference_lif_layer(currents, beta, threshold)

        def judge(got: Any, s: Tensor = want_spikes, m: Tensor = want_mem) -> str | None:
            if not (isinstance(got, tuple) and len(got) == 2):
                return tr("return a tuple (spikes, membrane), but yours is {value}").format(
                    value=fmt(got))
            spikes, membrane = got
            if isinstance(spikes, Tensor) and not spikes.is_floating_point():
                return tr("spikes should be floats 0.0 / 1.0, but yours are {dtype}").format(
                    dtype=spikes.dtype)
            return (compare_tensor(membrane, m, tr("the membrane"), atol=1e-4)
                    or compare_tensor(spikes, s, tr("the spikes")))

        cases.append(Case(what, (currents, beta, threshold), judge,
                          tr("reset[t] = H(U[t-1] - theta), U[t] = beta U[t-1] + I[t] - reset[t] "
                             "theta, S[t] = H(U[t] - theta), from U[-1] = 0")))
    return run_cases("check_lif_layer", lif_layer, cases, ("currents", "beta", "threshold"),
                     _lif_mistakes(), copy_inputs=True)
