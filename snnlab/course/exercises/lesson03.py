"""Checkers for the exercises of lesson 03: surrogate gradients.

``check_atan_derivative`` names: the missing chain-rule factor pi/2 * alpha, the missing 1/pi, the
missing pi/2 inside the arctan, 1/(1 - z^2) for the arctan's derivative, a sign error, the smooth
curve instead of its derivative.

``check_spike_function`` names: a smooth forward pass instead of the exact step, ``>=`` for
``>``, bool spikes, a forward that takes a parameter besides x, the wrong number of gradients
from backward, a gradient of the wrong shape, a backward without grad_output (the chain-rule
factor), a sign error, an all-zero derivative (the true step's), a NaN-producing derivative, and
a surrogate too narrow (or too small) to train the layer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from snnlab.course.exercises.judge import (
    Case,
    Mistake,
    Raised,
    compare_tensor,
    fmt,
    gives,
    has_nan,
    run_cases,
)

# ------------------------------------------------------------------------------ atan derivative


def _atan_mistakes() -> list[Mistake]:
    def z(x: Tensor, alpha: float) -> Tensor:
        return math.pi / 2 * alpha * x

    return [
        Mistake("the chain-rule factor is missing: d/dx arctan(z) = z'(x) / (1 + z^2), and "
                "z'(x) = pi/2 * alpha", gives(lambda x, a: 1 / (math.pi * (1 + z(x, a) ** 2)))),
        Mistake("the 1/pi in front of the arctan is missing",
                gives(lambda x, a: (math.pi / 2 * a) / (1 + z(x, a) ** 2))),
        Mistake("inside the arctan it is z = (pi/2) * alpha * x: the pi/2 is missing from z",
                gives(lambda x, a: (a / 2) / (1 + (a * x) ** 2))),
        Mistake("d/dz arctan(z) = 1 / (1 + z^2), with a plus", gives(
            lambda x, a: (a / 2) / (1 - z(x, a) ** 2))),
        Mistake("a sign error: the smooth curve rises, so its derivative is positive",
                gives(lambda x, a: -(a / 2) / (1 + z(x, a) ** 2))),
        Mistake("you returned the smooth curve itself, 1/2 + arctan(z)/pi: differentiate it",
                gives(lambda x, a: 0.5 + torch.atan(z(x, a)) / math.pi)),
    ]


def check_atan_derivative(derivative: Callable[[Tensor, float], Tensor]) -> bool:
    """Check ``atan_derivative(x, alpha) -> d``, the derivative of the arctan surrogate.

    smooth(x) = 1/2 + arctan(pi/2 * alpha * x) / pi; return its derivative at every entry of x.
    """
    x = torch.tensor([-2.0, -0.5, -0.1, 0.0, 0.1, 0.5, 2.0])
    cases = []
    for what, alpha in [
        ("alpha = 2", 2.0),
        ("a wider surrogate, alpha = 0.5", 0.5),
        ("a narrower surrogate, alpha = 10", 10.0),
    ]:
        expected = (alpha / 2) / (1 + (math.pi / 2 * alpha * x) ** 2)
        cases.append(Case(what, (x, alpha),
                          lambda got, e=expected: compare_tensor(got, e, "the derivative"),
                          "differentiate 1/2 + arctan(z)/pi with z = pi/2 * alpha * x; "
                          "at x = 0 it should be alpha / 2"))
    return run_cases("check_atan_derivative", derivative, cases, ("x", "alpha"), _atan_mistakes(),
                     copy_inputs=True)


# ------------------------------------------------------------------------------ a spike function

NUM_INPUTS, NUM_NEURONS, NUM_STEPS, BATCH = 100, 10, 25, 8
TRAINING_TIME_LIMIT = 60.0  # seconds per case: the 100 training steps take about 1 s


def count_task_layer(spike_fn: Callable[[Tensor], Tensor], weights: Tensor, inputs: Tensor,
                     beta: float = 0.9, threshold: float = 1.0) -> Tensor:
    """The LIF layer of lesson 03 (reset by subtraction, detached) with a given spike function:
    inputs [T, B, n_in] -> spikes [T, B, n_out]."""
    mem = torch.zeros(inputs.shape[1], weights.shape[1])
    spikes = []
    for x_t in inputs:
        reset = (mem > threshold).float()
        mem = beta * mem + x_t @ weights - reset * threshold
        spikes.append(spike_fn(mem - threshold))
    return torch.stack(spikes)


def train_count_task(spike_fn: Callable[[Tensor], Tensor], steps: int = 100) -> list[float]:
    """Teach 10 LIF neurons to fire 5 times in 25 steps (lesson 03's task) with Adam; the loss
    after each of ``steps`` updates. Seeded: the same spike function gives the same numbers."""
    generator = torch.Generator().manual_seed(3)
    inputs = (torch.rand(NUM_STEPS, BATCH, NUM_INPUTS, generator=generator) < 0.2).float()
    weights = (0.1 * torch.randn(NUM_INPUTS, NUM_NEURONS, generator=generator)).requires_grad_()
    optimizer = torch.optim.Adam([weights], lr=0.01)
    losses = []
    for _ in range(steps):
        loss = ((count_task_layer(spike_fn, weights, inputs).sum(0) - 5.0) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def _probe(spike_class: Any) -> Callable[[str, Tensor], Any]:
    """What each case measures of the student's class, as one function of (test, x)."""

    def probe(test: str, x: Tensor) -> Any:
        if test == "forward":
            return spike_class.apply(x)
        if test == "derivative":
            x = x.clone().requires_grad_()
            (grad,) = torch.autograd.grad(spike_class.apply(x), x, torch.ones_like(x))
            return grad
        if test == "chain rule":
            x = x.clone().requires_grad_()
            upstream = torch.linspace(-2.0, 2.0, x.numel()).reshape(x.shape)
            (grad,) = torch.autograd.grad(spike_class.apply(x), x, upstream)
            return grad
        losses = train_count_task(lambda v: spike_class.apply(v))
        return losses[0], losses[-1]

    return probe


def _spike_mistakes() -> list[Mistake]:
    def raised(*words: str) -> Callable[..., bool]:
        def matches(got: Any, test: str, x: Tensor) -> bool:
            return isinstance(got, Raised) and all(
                w in str(got.error) or w == type(got.error).__name__ for w in words)
        return matches

    def forward_smooth(got: Any, test: str, x: Tensor) -> bool:
        return (test == "forward" and isinstance(got, Tensor) and got.shape == x.shape
                and bool(((got > 0) & (got < 1)).any()))

    def forward_ge(got: Any, test: str, x: Tensor) -> bool:
        return test == "forward" and isinstance(got, Tensor) and torch.equal(
            got.float(), (x >= 0).float())

    def forward_bool(got: Any, test: str, x: Tensor) -> bool:
        return test == "forward" and isinstance(got, Tensor) and not got.is_floating_point()

    def no_chain_rule(got: Any, test: str, x: Tensor) -> bool:
        return (test == "chain rule" and isinstance(got, Tensor) and got.shape == x.shape
                and bool((got >= 0).all()) and bool((got > 0).any()))

    def negative(got: Any, test: str, x: Tensor) -> bool:
        return test == "derivative" and isinstance(got, Tensor) and bool((got < 0).any())

    def all_zero(got: Any, test: str, x: Tensor) -> bool:
        return test == "derivative" and isinstance(got, Tensor) and bool((got == 0).all())

    def not_finite(got: Any, test: str, x: Tensor) -> bool:
        return has_nan(got) or (isinstance(got, Tensor) and got.is_floating_point()
                                and not bool(torch.isfinite(got).all()))

    def does_not_learn(got: Any, test: str, x: Tensor) -> bool:
        return test == "training" and isinstance(got, tuple)

    return [
        Mistake("forward must take x only (apply(x)): keep your surrogate's parameter in the "
                "class, e.g. a class attribute SLOPE = 25.0",
                raised("forward()", "missing")),
        Mistake("backward must return exactly one gradient per input of forward: forward(ctx, x) "
                "has one input, so return one tensor", raised("incorrect number of gradients")),
        Mistake("backward returned a gradient of the wrong shape: it must have x's shape "
                "(grad_output times the surrogate derivative, elementwise)",
                raised("invalid gradient")),
        Mistake("your forward pass does not return spikes autograd can follow: return floats "
                "0.0 / 1.0 of x's dtype, (x > 0).to(x.dtype), and keep the gradient to backward",
                raised("does not require grad")),
        Mistake("forward must be the exact step H(x), 0.0 or 1.0: the smooth curve is only what "
                "backward pretends", forward_smooth),
        Mistake("x = 0 is not above the threshold: the step is x > 0, not x >= 0", forward_ge),
        Mistake("your spikes are bool or int: return floats of x's dtype, (x > 0).to(x.dtype)",
                forward_bool),
        Mistake("your gradient contains NaN or inf: your derivative divides by zero, or takes "
                "a log or square root of a negative number, somewhere (even in a torch.where "
                "branch that is not used, its NaN gradient leaks through)", not_finite),
        Mistake("your backward ignores grad_output: by the chain rule it must return "
                "grad_output * (your surrogate derivative)", no_chain_rule),
        Mistake("a sign error: your surrogate derivative is negative somewhere; the smooth "
                "curve rises through the threshold, so its derivative is >= 0", negative),
        Mistake("your backward returns zeros: that is the true derivative of the step, the "
                "dead-neuron problem; return a surrogate derivative that is large near x = 0",
                all_zero),
        Mistake("with your surrogate the layer does not learn: the loss must fall to less than "
                "half in 100 steps. Is your surrogate too narrow or too small near x = 0?",
                does_not_learn),
    ]


def check_spike_function(spike_class: Any) -> bool:
    """Check a ``torch.autograd.Function`` subclass used as ``spike_class.apply(x)``.

    forward(ctx, x): the exact step, (x > 0) as floats of x's dtype. backward(ctx, grad_output):
    grad_output * d(x), where d is a surrogate derivative of your choice: finite, >= 0, largest
    at x = 0, smaller far from it. Then the checker trains lesson 03's LIF layer (10 neurons, 25
    steps, target 5 spikes each) with it for 100 Adam steps: the loss must fall below half.
    """
    if not (isinstance(spike_class, type) and issubclass(spike_class, torch.autograd.Function)):
        print("✗ check_spike_function: pass your class itself (a subclass of torch.autograd."
              f"Function), e.g. check_spike_function(MySpike); got {fmt(spike_class)}")
        return False
    x = torch.tensor([-2.0, -1.0, -0.3, -0.05, 0.0, 0.05, 0.3, 1.0, 2.0])

    def judge_forward(got: Any) -> str | None:
        if isinstance(got, Tensor) and not got.is_floating_point():
            return f"the spikes should be floats, but yours are {got.dtype}"
        return compare_tensor(got, (x > 0).float(), "the spikes")

    def judge_derivative(got: Any) -> str | None:
        problem = compare_tensor(got, torch.zeros_like(x), "the gradient") if not isinstance(
            got, Tensor) or got.shape != x.shape else None
        if problem:
            return problem
        if not bool(torch.isfinite(got).all()) or bool((got < 0).any()):
            return f"the surrogate derivative should be finite and >= 0, but yours is {fmt(got)}"
        centre, edges = got[4], torch.stack([got[0], got[-1]])
        if not (centre > 0 and bool((got <= centre + 1e-6).all()) and bool((edges < centre).all())):
            return ("the surrogate derivative should be largest at x = 0 and smaller far from "
                    f"it, but yours at x = {fmt(x)} is {fmt(got)}")
        return None

    def judge_chain_rule(got: Any) -> str | None:
        reference = _probe(spike_class)("derivative", x)
        upstream = torch.linspace(-2.0, 2.0, x.numel())
        return compare_tensor(got, upstream * reference, "grad_output * derivative")

    def judge_training(got: Any) -> str | None:
        first, last = got
        if not (last < 0.5 * first):  # False for NaN
            return f"the loss went from {first:.3g} to {last:.3g} in 100 steps"
        return None

    cases = [
        Case("forward is the exact step", ("forward", x), judge_forward, "(x > 0).to(x.dtype)"),
        Case("backward: a surrogate derivative, largest at the threshold", ("derivative", x),
             judge_derivative, "return grad_output * d(x) with d a bump centred on x = 0"),
        Case("backward: the chain rule multiplies by grad_output", ("chain rule", x),
             judge_chain_rule, "return grad_output * d(x)"),
        Case("trains lesson 03's LIF layer for 100 steps", ("training", x), judge_training,
             "a surrogate with a peak of about 1 and a width of about 0.1 to 1 trains well"),
    ]
    with torch.random.fork_rng(devices=[]):
        return run_cases("check_spike_function", _probe(spike_class), cases, ("test", "x"),
                         _spike_mistakes(), time_limit=TRAINING_TIME_LIMIT)
