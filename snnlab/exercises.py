"""Checkers for the lesson exercises.

Each exercise in a notebook asks you to write one small function. The cell after it calls
``check_<name>(your_function)``, which runs your function on fresh cases and prints one of:

    ✓ check_lif_step: passed 6 cases
    ✗ check_lif_step: <which case failed>, <the input>, <what was expected>, <what you returned>
    … check_lif_step: not implemented yet ...

A checker never raises: it prints, and returns True (all cases pass) or False. The expected
values are computed here from the same equations the lesson shows.

The module has one section per lesson. To add exercises for a new lesson, add a section with
its ``check_<name>`` functions built on ``_run_cases`` and a ``Case`` list.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

# ---------------------------------------------------------------------------------------------
# Shared machinery
# ---------------------------------------------------------------------------------------------


@dataclass
class Case:
    """One test case: the arguments, a description for messages, and how to judge the result.

    ``judge(received)`` returns None when the result is right, else a sentence saying what is
    wrong (expected versus received).
    """

    what: str  # what the case checks, e.g. "a neuron below threshold just leaks"
    args: tuple
    judge: Callable[[Any], str | None]
    hint: str = ""  # printed after a failure of this case: the usual cause


def _fmt(value: Any) -> str:
    """A short, readable rendering of a number or tensor for messages (4 significant digits)."""
    if isinstance(value, Tensor) and value.dim() == 0:
        return _fmt(value.item())
    if isinstance(value, Tensor):
        flat = value.detach().cpu().reshape(-1)
        shown = ", ".join(_fmt(v) for v in flat[:8].tolist())
        more = ", ..." if flat.numel() > 8 else ""
        shape = f" (shape {list(value.shape)})" if value.dim() != 1 or flat.numel() > 8 else ""
        return f"[{shown}{more}]{shape}"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value) or math.isnan(value):
            return str(value)
        return f"{value:.4g}"
    return repr(value)


def _describe_args(names: tuple[str, ...], args: tuple) -> str:
    return ", ".join(f"{name}={_fmt(arg)}" for name, arg in zip(names, args, strict=True))


def _compare_tensor(received: Any, expected: Tensor, label: str, atol: float = 1e-5) -> str | None:
    """None if ``received`` is a tensor equal to ``expected`` (same shape, values within atol,
    inf/nan in the same places); else a sentence saying what differs."""
    if not isinstance(received, Tensor):
        return f"{label} should be a torch.Tensor, but you returned a {type(received).__name__}"
    if tuple(received.shape) != tuple(expected.shape):
        return (f"{label} should have shape {list(expected.shape)}, "
                f"but yours has shape {list(received.shape)}")
    got = received.detach().cpu().to(torch.float64)
    want = expected.detach().cpu().to(torch.float64)
    same = torch.isclose(got, want, rtol=1e-4, atol=atol, equal_nan=True)
    if not bool(same.all()):
        return f"{label} should be {_fmt(expected)}, but yours is {_fmt(received)}"
    return None


def _run_cases(name: str, student_fn: Any, cases: list[Case], arg_names: tuple[str, ...]) -> bool:
    """Run ``student_fn`` on every case; print one line about the first failure, or success."""
    if not callable(student_fn):
        print(f"✗ {name}: pass your function itself (without calling it), "
              f"e.g. {name}(my_function); got a {type(student_fn).__name__}")
        return False
    for number, case in enumerate(cases, start=1):
        inputs = _describe_args(arg_names, case.args)
        try:
            received = student_fn(*case.args)
        except NotImplementedError:
            print(f"… {name}: not implemented yet. Replace `raise NotImplementedError` with your "
                  "code, run that cell, then run this check again.")
            return False
        except Exception as error:  # report the student's error, never a traceback
            message = str(error).split("  (")[0].splitlines()[0][:200] if str(error) else ""
            problem = f"your function raised {type(error).__name__}: {message}"
        else:
            problem = case.judge(received)
        if problem is not None:
            hint = f" Hint: {case.hint}" if case.hint else ""
            print(f"✗ {name}: case {number} ({case.what}) with {inputs}: {problem}.{hint}")
            return False
    print(f"✓ {name}: passed {len(cases)} cases")
    return True


# ---------------------------------------------------------------------------------------------
# Lesson 01: spike encoding
# ---------------------------------------------------------------------------------------------


def _judge_rate_code(images: Tensor, num_steps: int, gain: float) -> Callable[[Any], str | None]:
    """Rate code: spikes[t, ...] ~ Bernoulli(gain * images), shape [num_steps, *images.shape]."""
    probability = gain * images
    want_shape = [num_steps, *images.shape]

    def judge(spikes: Any) -> str | None:
        if not isinstance(spikes, Tensor):
            return f"expected a torch.Tensor of spikes, but you returned a {type(spikes).__name__}"
        if list(spikes.shape) != want_shape:
            return (f"the spikes should have shape {want_shape} (time first), "
                    f"but yours have shape {list(spikes.shape)}")
        if not spikes.is_floating_point():
            return f"spikes should be a float tensor (0.0 and 1.0), but yours are {spikes.dtype}"
        if not bool(((spikes == 0) | (spikes == 1)).all()):  # e.g. probabilities, not samples
            return ("every entry should be a spike (1.0) or no spike (0.0), but yours include "
                    f"{_fmt(spikes[(spikes != 0) & (spikes != 1)][:4])}")
        rate = spikes.float().mean(dim=0)
        # Over >= 2000 steps a rate's standard error is <= 0.011, so allow 0.05. Over a few steps
        # only certain pixels (probability 0 or 1) have a known rate.
        if num_steps >= 2000:
            judged = torch.ones_like(rate, dtype=torch.bool)
            tolerance = 0.05
        else:
            judged = (probability == 0) | (probability == 1)
            tolerance = 0.0
        if not bool(((rate - probability).abs() <= tolerance)[judged].all()):
            return (f"the firing rate of each pixel (mean over time) should be about "
                    f"{_fmt(probability)}, but yours is {_fmt(rate)}")
        return None

    return judge


def check_rate_code(rate_code: Callable[[Tensor, int, float], Tensor]) -> bool:
    """Check ``rate_code(images, num_steps, gain) -> spikes``.

    Each pixel (in [0, 1]) fires independently at every step with probability p = gain * pixel,
    gain in [0, 1], as in ``snnlab.encoding.rate``; the result has shape
    [num_steps, *images.shape] and holds 0.0 / 1.0.
    """
    cases = []
    for what, images, num_steps, gain, hint in [
        ("time comes first in the shape", torch.full((2, 3), 0.5), 7, 1.0,
         "stack or repeat along a new first dimension of length num_steps"),
        ("black pixels never fire, white ones always do", torch.tensor([0.0, 1.0, 0.0]), 20, 1.0,
         "sample 0/1 spikes, e.g. with torch.bernoulli"),
        ("the firing rate equals the pixel value", torch.tensor([0.1, 0.5, 0.8]), 4000, 1.0,
         "draw a fresh random sample at every time step"),
        ("gain scales the firing rate", torch.tensor([0.2, 0.6, 1.0]), 4000, 0.5,
         "the spike probability is gain * pixel"),
        ("gain 0 silences every pixel", torch.tensor([0.3, 1.0]), 50, 0.0,
         "the spike probability is gain * pixel"),
    ]:
        judge = _judge_rate_code(images, num_steps, gain)
        cases.append(Case(what, (images, num_steps, gain), judge, hint))
    with torch.random.fork_rng(devices=[]):  # don't disturb the notebook's random stream
        torch.manual_seed(1234)
        return _run_cases("check_rate_code", rate_code, cases, ("images", "num_steps", "gain"))


def _expected_spike_time(current: Tensor, tau: float, threshold: float) -> Tensor:
    """RC membrane U(t) = I (1 - exp(-t / tau)) reaches threshold at t = tau ln(I / (I - thr));
    a current at or below threshold never gets there (t = inf)."""
    above = current > threshold
    safe = torch.where(above, current, torch.full_like(current, threshold + 1.0))
    time = tau * torch.log(safe / (safe - threshold))
    return torch.where(above, time, torch.full_like(current, math.inf))


def check_spike_time(spike_time: Callable[[Tensor, float, float], Tensor]) -> bool:
    """Check ``spike_time(current, tau, threshold) -> times``.

    A membrane charged by a constant current I from U = 0 follows U(t) = I (1 - exp(-t/tau)) and
    crosses the threshold at t = tau * ln(I / (I - threshold)). If I <= threshold it never does:
    return inf there.
    """
    cases = []
    formula = "t = tau * ln(current / (current - threshold))"
    for what, current, tau, threshold, hint in [
        ("a current of twice the threshold fires at tau * ln 2", torch.tensor([2.0]), 1.0, 1.0,
         formula),
        ("stronger currents fire earlier", torch.tensor([1.5, 3.0, 10.0]), 1.0, 1.0, formula),
        ("the time scales with tau", torch.tensor([1.5, 3.0, 10.0]), 5.0, 1.0, formula),
        ("another threshold", torch.tensor([0.5, 0.9, 2.0]), 2.0, 0.2, formula),
        ("currents at or below threshold never fire (inf)", torch.tensor([0.0, 0.1, 0.2, 0.4]),
         1.0, 0.2, "use torch.where to put inf where current <= threshold"),
    ]:
        expected = _expected_spike_time(current, tau, threshold)
        cases.append(Case(what, (current, tau, threshold),
                          lambda got, e=expected: _compare_tensor(got, e, "the spike times"), hint))
    return _run_cases("check_spike_time", spike_time, cases, ("current", "tau", "threshold"))


# ---------------------------------------------------------------------------------------------
# Lesson 02: the leaky integrate-and-fire neuron
# ---------------------------------------------------------------------------------------------


def check_beta(beta_from_tau: Callable[[Any, float], Any]) -> bool:
    """Check ``beta_from_tau(tau, dt) -> beta``: the exact decay per step, beta = exp(-dt / tau).

    It must work for a float tau and for a tensor of taus.
    """
    cases = []
    for what, tau, dt in [
        ("tau = 5 ms, dt = 1 ms", 5e-3, 1e-3),
        ("tau equal to dt gives 1/e", 2e-3, 2e-3),
        ("a slow membrane barely decays", 0.1, 1e-3),
        ("a tensor of taus", torch.tensor([1e-3, 1e-2, 1e-1]), 1e-3),
    ]:
        expected = torch.exp(-dt / torch.as_tensor(tau, dtype=torch.float64))

        def judge(got: Any, e: Tensor = expected) -> str | None:
            if isinstance(got, (int, float)) and e.dim() == 0:  # a float tau may give a float
                got = torch.tensor(float(got))
            return _compare_tensor(got, e, "beta", atol=1e-6)

        hint = "beta = exp(-dt / tau); 1 - dt / tau is only its first-order approximation"
        cases.append(Case(what, (tau, dt), judge, hint))
    return _run_cases("check_beta", beta_from_tau, cases, ("tau", "dt"))


def _expected_lif_step(
    input_: Tensor, mem: Tensor, beta: float, threshold: float
) -> tuple[Tensor, Tensor]:
    """One LIF step with reset by subtraction (as snnlab.neurons.LIF):
    reset = H(U[t-1] - thr); U[t] = beta U[t-1] + I[t] - reset thr; S[t] = H(U[t] - thr)."""
    reset = (mem - threshold > 0).to(mem.dtype)
    new_mem = beta * mem + input_ - reset * threshold
    spikes = (new_mem - threshold > 0).to(mem.dtype)
    return spikes, new_mem


def check_lif_step(
    lif_step: Callable[[Tensor, Tensor, float, float], tuple[Tensor, Tensor]],
) -> bool:
    """Check ``lif_step(input, mem, beta, threshold) -> (spikes, new_mem)``.

    reset = H(mem - threshold)           (did the neuron spike on the previous step?)
    new_mem = beta * mem + input - reset * threshold
    spikes = H(new_mem - threshold)      (H(x) = 1 if x > 0 else 0, as floats)
    """
    cases = []
    for what, input_, mem, beta, threshold, hint in [
        ("a neuron below threshold leaks and integrates",
         torch.tensor([0.2]), torch.tensor([0.5]), 0.9, 1.0, "new_mem = beta * mem + input"),
        ("crossing the threshold emits a spike",
         torch.tensor([0.2]), torch.tensor([0.95]), 0.9, 1.0,
         "the reset depends on the previous membrane (mem), the spike on the new one"),
        ("a neuron that was above threshold is reset by subtracting the threshold",
         torch.tensor([0.1]), torch.tensor([1.2]), 0.9, 1.0,
         "reset = H(mem - threshold) uses the membrane from the previous step"),
        ("exactly at threshold is not above it",
         torch.tensor([0.0]), torch.tensor([1.0]), 1.0, 1.0,
         "H(x) is 1 only for x > 0, strictly: use > rather than >="),
        ("a batch of neurons with another beta and threshold",
         torch.tensor([0.5, 1.0, 0.0, 2.5]), torch.tensor([0.0, 1.5, 2.5, 1.0]), 0.8, 2.0,
         "use the beta and threshold arguments rather than fixed numbers"),
    ]:
        want_spikes, want_mem = _expected_lif_step(input_, mem, beta, threshold)

        def judge(got: Any, s: Tensor = want_spikes, m: Tensor = want_mem) -> str | None:
            if not (isinstance(got, tuple) and len(got) == 2):
                return "return a tuple (spikes, new_mem)"
            return _compare_tensor(got[1], m, "new_mem") or _compare_tensor(got[0], s, "spikes")

        cases.append(Case(what, (input_, mem, beta, threshold), judge, hint))
    return _run_cases("check_lif_step", lif_step, cases, ("input", "mem", "beta", "threshold"))


# ---------------------------------------------------------------------------------------------
# Lesson 03: surrogate gradients
# ---------------------------------------------------------------------------------------------


def check_fast_sigmoid_backward(backward: Callable[[Tensor, Tensor, float], Tensor]) -> bool:
    """Check ``fast_sigmoid_backward(x, grad_output, slope) -> grad_input``.

    grad_input = grad_output / (slope * |x| + 1)^2   (the chain rule times the surrogate derivative)
    """
    x = torch.tensor([-1.0, -0.1, -0.02, 0.0, 0.02, 0.1, 1.0])
    cases = []
    for what, grad_output, slope, hint in [
        ("the derivative itself (grad_output = 1)", torch.ones(7), 25.0,
         "the derivative is 1 / (slope * |x| + 1) ** 2"),
        ("the chain rule multiplies by grad_output",
         torch.tensor([-2.0, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0]), 25.0,
         "return grad_output times the derivative"),
        ("another slope", torch.full((7,), 0.5), 5.0, "use the slope argument"),
    ]:
        expected = grad_output / (slope * x.abs() + 1.0) ** 2
        cases.append(Case(what, (x, grad_output, slope),
                          lambda got, e=expected: _compare_tensor(got, e, "grad_input"), hint))
    return _run_cases("check_fast_sigmoid_backward", backward, cases, ("x", "grad_output", "slope"))


def check_atan_derivative(derivative: Callable[[Tensor, float], Tensor]) -> bool:
    """Check ``atan_derivative(x, alpha) -> d``, the derivative of the arctan surrogate.

    smooth(x) = arctan(pi/2 * alpha * x) / pi + 1/2,
    d(x) = (alpha / 2) / (1 + (pi/2 * alpha * x)^2)
    """
    x = torch.tensor([-2.0, -0.5, -0.1, 0.0, 0.1, 0.5, 2.0])
    cases = []
    for what, alpha in [
        ("alpha = 2 (peak value 1 at x = 0)", 2.0),
        ("a wider surrogate, alpha = 0.5", 0.5),
        ("a narrower surrogate, alpha = 10", 10.0),
    ]:
        expected = (alpha / 2) / (1 + (math.pi / 2 * alpha * x) ** 2)
        cases.append(Case(what, (x, alpha),
                          lambda got, e=expected: _compare_tensor(got, e, "the derivative"),
                          "d(x) = (alpha / 2) / (1 + (pi / 2 * alpha * x) ** 2)"))
    return _run_cases("check_atan_derivative", derivative, cases, ("x", "alpha"))
