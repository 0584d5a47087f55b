"""Checkers for the exercises of lesson 03: surrogate gradients.

Every known mistake is named only when the answer's output is that mistake's output.

``check_atan_derivative`` names: the missing chain-rule factor pi/2 * alpha, the missing 1/pi,
both missing, alpha for alpha/2, the missing pi/2 inside the arctan, x instead of z in the
denominator, only x squared, z not squared, (1 + z)^2, 1/(1 - z^2), a sign error, the smooth
curve instead of its derivative, another dtype than x.

``check_spike_function`` names: a smooth forward pass, ``>=`` for ``>``, 0.5 at x = 0, an
upside-down step, a step at x = 1, bool / int spikes, spikes of another dtype than x, a forward
that takes a parameter besides x, the wrong number of gradients, a gradient of the wrong shape,
a backward without grad_output (the chain-rule factor), a sign error, a derivative that goes
negative far from 0, a derivative computed from the spike instead of x, one that is 0 below the
threshold, a constant one (straight-through), an all-zero one (the true step's), NaN or inf
from the formula, and a surrogate too narrow to train the layer.

``check_bptt_grad`` (dL/dw over three steps by hand) names: 0 (the step's derivative), the
reset path or the beta path or both left out, the reset's derivative taken a step late, its
sign, its missing theta, the surrogate at U instead of U - theta, only the last step counted,
``>=`` for ``>`` in the forward pass, w for dI/dw, one value per step instead of their sum.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from snnlab import surrogate
from snnlab.course.exercises.judge import (
    Case,
    Mistake,
    Raised,
    compare_tensor,
    fmt,
    gives,
    has_nan,
    run_cases,
    should_be,
)
from snnlab.i18n import tr

# ------------------------------------------------------------------------------ atan derivative


def _same_dtype(got: Any, expected: Tensor) -> str | None:
    """A sentence when ``got`` is a tensor of the right shape but another dtype, else None."""
    if (isinstance(got, Tensor) and got.shape == expected.shape
            and got.dtype != expected.dtype):
        return tr("the result should have x's dtype, {expected}, but yours is {received}").format(
            expected=expected.dtype, received=got.dtype)
    return None


def _atan_mistakes() -> list[Mistake]:
    def z(x: Tensor, alpha: float) -> Tensor:
        return math.pi / 2 * alpha * x

    return [
        Mistake(tr("the chain-rule factor is missing: d/dx arctan(z) = z'(x) / (1 + z^2), and "
                "z'(x) = pi/2 * alpha"), gives(lambda x, a: 1 / (math.pi * (1 + z(x, a) ** 2)))),
        Mistake(tr("the 1/pi in front of the arctan is missing"),
                gives(lambda x, a: (math.pi / 2 * a) / (1 + z(x, a) ** 2))),
        Mistake(tr("inside the arctan it is z = (pi/2) * alpha * x: the pi/2 is missing from z"),
                gives(lambda x, a: (a / 2) / (1 + (a * x) ** 2))),
        Mistake(tr("d/dz arctan(z) = 1 / (1 + z^2), with a plus"), gives(
            lambda x, a: (a / 2) / (1 - z(x, a) ** 2))),
        Mistake(tr("a sign error: the smooth curve rises, so its derivative is positive"),
                gives(lambda x, a: -(a / 2) / (1 + z(x, a) ** 2))),
        Mistake(tr("you returned the smooth curve itself, 1/2 + arctan(z)/pi: differentiate it"),
                gives(lambda x, a: 0.5 + torch.atan(z(x, a)) / math.pi)),
        Mistake(tr("both factors in front are missing: d/dx [arctan(z) / pi] = (1/pi) * z'(x) / "
                "(1 + z^2), with z'(x) = pi/2 * alpha"),
                gives(lambda x, a: 1 / (1 + z(x, a) ** 2))),
        Mistake(tr("only x is squared in the denominator: it is 1 + z^2 with z = (pi/2 * alpha * "
                "x), the whole product squared"), gives(
                    lambda x, a: (a / 2) / (1 + math.pi / 2 * a * x ** 2))),
        Mistake(tr("z is not squared: d/dz arctan(z) = 1 / (1 + z^2)"),
                gives(lambda x, a: (a / 2) / (1 + z(x, a)))),
        Mistake(tr("the square is over the whole denominator: d/dz arctan(z) = 1 / (1 + z^2), not "
                "1 / (1 + z)^2"), gives(lambda x, a: (a / 2) / (1 + z(x, a)) ** 2)),
        Mistake(tr("the denominator uses x instead of z = pi/2 * alpha * x: the chain rule keeps z "
                "inside 1 / (1 + z^2)"), gives(lambda x, a: (a / 2) / (1 + x ** 2))),
        Mistake(tr("the factor in front is alpha, not alpha / 2: (1/pi) * (pi/2 * alpha) = alpha "
                   "/ 2"),
                gives(lambda x, a: a / (1 + z(x, a) ** 2))),
        Mistake(tr("the right values in another dtype: keep x's dtype (float64 here), computing "
                "from x with tensor operations, without converting"), lambda got, x, a: (
                    isinstance(got, Tensor) and got.dtype != x.dtype
                    and gives(lambda x, a: (a / 2) / (1 + z(x, a) ** 2))(got, x, a))),
    ]


def check_atan_derivative(derivative: Callable[[Tensor, float], Tensor]) -> bool:
    """Check ``atan_derivative(x, alpha) -> d``, the derivative of the arctan surrogate.

    smooth(x) = 1/2 + arctan(pi/2 * alpha * x) / pi; return its derivative at every entry of x.
    """
    points = torch.tensor([-2.0, -0.5, -0.1, 0.0, 0.1, 0.5, 2.0])
    grid = torch.linspace(-1.0, 1.0, 6, dtype=torch.float64).reshape(2, 3)
    cases = []
    for what, x, alpha in [
        (tr("alpha = 2"), points, 2.0),
        (tr("a wider surrogate, alpha = 0.5"), points, 0.5),
        (tr("a narrower surrogate, alpha = 10"), points, 10.0),
        (tr("x of shape [2, 3] in float64, alpha = 1"), grid, 1.0),
    ]:
        expected = (alpha / 2) / (1 + (math.pi / 2 * alpha * x) ** 2)
        cases.append(Case(what, (x, alpha),
                          lambda got, e=expected: _same_dtype(got, e) or compare_tensor(
                              got, e, tr("the derivative")),
                          tr("differentiate 1/2 + arctan(z)/pi with z = pi/2 * alpha * x; "
                             "at x = 0 it should be alpha / 2")))
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


X = torch.tensor([-2.0, -1.0, -0.3, -0.05, 0.0, 0.05, 0.3, 1.0, 2.0])  # x[4] = 0: no spike
CENTRE = 4


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


def _is_step(got: Any, x: Tensor, step: Callable[[Tensor], Tensor]) -> bool:
    return isinstance(got, Tensor) and got.shape == x.shape and torch.equal(
        got.detach().double(), step(x).double())


def _spike_mistakes(spike_class: Any) -> list[Mistake]:
    """The typical wrong answers, each recognised by what it returns (or raises). Derivative
    mistakes are recognised against the student's own derivative where they depend on it."""

    def raised(*words: str) -> Callable[..., bool]:
        def matches(got: Any, test: str, x: Tensor) -> bool:
            return isinstance(got, Raised) and all(
                w in str(got.error) or w == type(got.error).__name__ for w in words)
        return matches

    def forward(step: Callable[[Tensor], Tensor]) -> Callable[..., bool]:
        return lambda got, test, x: test == "forward" and _is_step(got, x, step)

    def forward_smooth(got: Any, test: str, x: Tensor) -> bool:
        between = (got > 0) & (got < 1) & (x != 0)  # a value between 0 and 1 away from x = 0
        return test == "forward" and got.shape == x.shape and bool(between.any())

    def forward_bool(got: Any, test: str, x: Tensor) -> bool:
        return (test == "forward" and isinstance(got, Tensor) and not got.is_floating_point()
                and _is_step(got, x, lambda v: v > 0))

    def forward_other_dtype(got: Any, test: str, x: Tensor) -> bool:
        return (test == "forward" and isinstance(got, Tensor) and got.is_floating_point()
                and got.dtype != x.dtype and _is_step(got, x, lambda v: v > 0))

    def own_derivative() -> Tensor | None:
        try:
            with torch.random.fork_rng(devices=[]):
                got = _probe(spike_class)("derivative", X)
            return got if isinstance(got, Tensor) and got.shape == X.shape else None
        except Exception:  # noqa: BLE001 - a class whose backward raises has no derivative
            return None

    def no_chain_rule(got: Any, test: str, x: Tensor) -> bool:
        own = own_derivative() if test == "chain rule" else None
        return own is not None and bool((own != 0).any()) and _equal_values(got, own)

    def derivative(condition: Callable[[Tensor, Tensor], bool]) -> Callable[..., bool]:
        def matches(got: Any, test: str, x: Tensor) -> bool:
            return (test == "derivative" and isinstance(got, Tensor) and got.shape == x.shape
                    and bool(torch.isfinite(got).all()) and condition(got.detach(), x))
        return matches

    def flipped(d: Tensor, x: Tensor) -> bool:  # the negative of a bump centred on x = 0
        return bool((d <= 0).all()) and d[CENTRE] < 0 and bool((d >= d[CENTRE]).all())

    def negative_far(d: Tensor, x: Tensor) -> bool:  # a bump that goes below 0 far from 0
        return d[CENTRE] > 0 and bool((d < 0).any()) and bool((d[x.abs() < 0.1] >= 0).all())

    def from_the_spike(d: Tensor, x: Tensor) -> bool:  # one value below x = 0, one above
        below, above = d[x <= 0], d[x > 0]
        return bool((below == below[0]).all() and (above == above[0]).all()
                    and below[0] != above[0])

    def only_where_spiking(d: Tensor, x: Tensor) -> bool:
        return bool((d[x <= 0] == 0).all()) and bool((d[x > 0] > 0).any())

    def constant(d: Tensor, x: Tensor) -> bool:
        return bool((d == d[0]).all()) and d[0] > 0

    def zero(d: Tensor, x: Tensor) -> bool:
        return bool((d == 0).all())

    def not_finite(got: Any, test: str, x: Tensor) -> bool:
        return test != "forward" and (has_nan(got) or (
            isinstance(got, Tensor) and got.is_floating_point()
            and not bool(torch.isfinite(got).all())))

    def narrow(got: Any, test: str, x: Tensor) -> bool:
        # the student's derivative is exactly 0 at |x| >= 0.05: too narrow to reach the membranes
        own = own_derivative() if test == "training" else None
        return own is not None and bool((own[X.abs() >= 0.05] == 0).all())

    return [
        Mistake(tr("forward must take x only (apply(x)): keep your surrogate's parameter in the "
                "class, e.g. a class attribute WIDTH = 0.5"), raised("forward()", "missing")),
        Mistake(tr("backward must return exactly one gradient per input of forward: forward(ctx, "
                "x) has one input, so return one tensor"), raised("incorrect number of gradients")),
        Mistake(tr("backward returned a gradient of the wrong shape: it must have x's shape "
                "(grad_output times the surrogate derivative, elementwise)"),
                raised("invalid gradient")),
        Mistake(tr("your forward pass does not return spikes autograd can follow: return floats "
                "0.0 / 1.0 of x's dtype, (x > 0).to(x.dtype), and keep the gradient to backward"),
                raised("does not require grad")),
        Mistake(tr("x = 0 is not above the threshold: the step is x > 0, not x >= 0"),
                forward(lambda v: v >= 0)),
        Mistake(tr("at x = 0 exactly your step gives 0.5 (torch.heaviside's second argument?): x "
                "= 0 is no spike, use (x > 0)"), forward(lambda v: (v > 0) + 0.5 * (v == 0))),
        Mistake(tr("your step is upside down: a spike is x > 0 (the membrane above the threshold)"),
                forward(lambda v: v < 0)),
        Mistake(tr("x is already U - theta: spike where x > 0, not where x > 1"),
                forward(lambda v: v > 1)),
        Mistake(tr("forward must be the exact step H(x), 0.0 or 1.0: the smooth curve is only what "
                "backward pretends"), forward_smooth),
        Mistake(tr("your spikes are bool or int: return floats of x's dtype, (x > 0).to(x.dtype)"),
                forward_bool),
        Mistake(tr("your spikes have another dtype than x (x is float64 here): return "
                "(x > 0).to(x.dtype), not .float()"), forward_other_dtype),
        Mistake(tr("your gradient contains NaN or inf: the formula in your backward produces it "
                "for some x, e.g. a division by x or |x| (inf at x = 0, and 0/0 = NaN), inf * 0, "
                "or the log or square root of a negative number; write the derivative with "
                "operations that are finite for every x"), not_finite),
        Mistake(tr("your backward ignores grad_output: by the chain rule it must return "
                "grad_output * (your surrogate derivative)"), no_chain_rule),
        Mistake(tr("a sign error: your surrogate derivative is negative; the smooth curve rises "
                "through the threshold, so its derivative is >= 0"), derivative(flipped)),
        Mistake(tr("your derivative goes negative far from x = 0 (a triangle 1 - |x|/WIDTH needs "
                "clamping at 0 beyond its width): a surrogate derivative is never negative"),
                derivative(negative_far)),
        Mistake(tr("your derivative is computed from the spike, not from x: it takes one value for "
                "every x <= 0 and another for every x > 0. Save x (or |x|) in forward and "
                "compute the derivative from it"), derivative(from_the_spike)),
        Mistake(tr("your derivative is 0 wherever the neuron did not spike (x <= 0): a neuron "
                "below its threshold must get a gradient too, or it can never learn to spike"),
                derivative(only_where_spiking)),
        Mistake(tr("your backward returns grad_output unchanged: that is the straight-through "
                "estimator; this exercise asks for a bump, largest at x = 0"),
                derivative(constant)),
        Mistake(tr("your backward returns zeros: that is the true derivative of the step, the "
                "dead-neuron problem; return a surrogate derivative that is large near x = 0"),
                derivative(zero)),
        Mistake(tr("with your surrogate the layer does not learn: your derivative is exactly 0 for "
                "every |x| >= 0.05, so almost no membrane is close enough to the threshold to "
                "get a gradient. Make it wider"), narrow),
    ]


def _equal_values(got: Any, expected: Tensor) -> bool:
    return isinstance(got, Tensor) and got.shape == expected.shape and bool(torch.allclose(
        got.detach().double(), expected.double(), rtol=1e-4, atol=1e-6))


def check_spike_function(spike_class: Any) -> bool:
    """Check a ``torch.autograd.Function`` subclass used as ``spike_class.apply(x)``.

    forward(ctx, x): the exact step, (x > 0) as floats of x's dtype. backward(ctx, grad_output):
    grad_output * d(x), where d is a surrogate derivative of your choice: finite, >= 0, largest
    at x = 0, smaller far from it. Then the checker trains lesson 03's LIF layer (10 neurons, 25
    steps, target 5 spikes each) with it for 100 Adam steps: the loss must fall below half.
    """
    if not (isinstance(spike_class, type) and issubclass(spike_class, torch.autograd.Function)):
        print(tr("✗ check_spike_function: pass your class itself (a subclass of "
                 "torch.autograd.Function), e.g. check_spike_function(MySpike); got "
                 "{value}").format(value=fmt(spike_class)))
        return False
    x = X

    def judge_forward(x: Tensor) -> Callable[[Any], str | None]:
        def judge(got: Any) -> str | None:
            if isinstance(got, Tensor) and got.dtype != x.dtype:
                return tr("the spikes should be {expected} like x, but yours are "
                          "{received}").format(expected=x.dtype, received=got.dtype)
            return compare_tensor(got, (x > 0).to(x.dtype), tr("the spikes"))
        return judge

    def judge_derivative(got: Any) -> str | None:
        problem = compare_tensor(got, torch.zeros_like(x), tr("the gradient")) if not isinstance(
            got, Tensor) or got.shape != x.shape else None
        if problem:
            return problem
        if not bool(torch.isfinite(got).all()) or bool((got < 0).any()):
            return tr("the surrogate derivative should be finite and >= 0, but yours is "
                      "{value}").format(value=fmt(got))
        centre, edges = got[CENTRE], torch.stack([got[0], got[-1]])
        if not (centre > 0 and bool((got <= centre + 1e-6).all()) and bool((edges < centre).all())):
            return tr("the surrogate derivative should be largest at x = 0 and smaller far from "
                      "it, but yours at x = {x} is {value}").format(x=fmt(x), value=fmt(got))
        return None

    def judge_chain_rule(got: Any) -> str | None:
        reference = _probe(spike_class)("derivative", x)
        upstream = torch.linspace(-2.0, 2.0, x.numel())
        return compare_tensor(got, upstream * reference, tr("grad_output * derivative"))

    def judge_training(got: Any) -> str | None:
        first, last = got
        if not (last < 0.5 * first):  # False for NaN
            return tr("the loss went from {first} to {last} in 100 steps").format(
                first=f"{first:.3g}", last=f"{last:.3g}")
        return None

    x64 = torch.tensor([-1.0, -1e-6, 0.0, 1e-6, 1.0], dtype=torch.float64)
    cases = [
        Case(tr("forward is the exact step (x = 0 is no spike)"), ("forward", x), judge_forward(x)),
        Case(tr("forward keeps x's dtype (float64) and fires just above 0"), ("forward", x64),
             judge_forward(x64)),
        Case(tr("backward: a surrogate derivative, largest at the threshold"), ("derivative", x),
             judge_derivative),
        Case(tr("backward: the chain rule multiplies by grad_output"), ("chain rule", x),
             judge_chain_rule),
        Case(tr("trains lesson 03's LIF layer for 100 steps"), ("training", x), judge_training,
             tr("plot your derivative over x in [-1, 1]: which membranes get a gradient?")),
    ]
    with torch.random.fork_rng(devices=[]):
        return run_cases("check_spike_function", _probe(spike_class), cases, ("test", "x"),
                         _spike_mistakes(spike_class), time_limit=TRAINING_TIME_LIMIT)


# ------------------------------------------------------------------------------ BPTT by hand


def bptt_grad_w(x: Tensor, w: float, beta: float, theta: float,
                derivative: Callable[[Tensor], Tensor], *, reset_path: bool = True,
                beta_path: bool = True, reset_factor: str = "previous", surrogate_at: str = "x",
                direct_only: bool = False, last_only: bool = False, compare: str = ">",
                reset_sign: float = -1.0, input_factor: str = "x", theta_in_reset: bool = True,
                ) -> float:
    """dL/dw for one LIF neuron over len(x) steps, L = sum_t S[t], the reset carrying its
    surrogate gradient: the reference of lesson 03's BPTT exercise, by the chain rule.

        U[t] = beta U[t-1] + w x[t] - theta S[t-1],   S[t] = H(U[t] - theta),  U[-1] = S[-1] = 0
        g[t] = derivative(U[t] - theta)                       (the surrogate dS[t]/dU[t])
        a[t] = dU[t]/dw = x[t] + (beta - theta g[t-1]) a[t-1]
        dL/dw = sum_t g[t] a[t]

    The keyword arguments build the typical mistakes (a path left out, a step off by one, ...);
    with their defaults it is the right answer.
    """
    x = x.to(torch.float64)
    mem, spike, spikes, mems = 0.0, 0.0, [], []
    for x_t in x.tolist():
        mem = beta * mem + w * x_t - theta * spike
        spike = float(mem >= theta) if compare == ">=" else float(mem > theta)
        mems.append(mem)
        spikes.append(spike)
    g = [float(derivative(torch.tensor((m - theta) if surrogate_at == "x" else m,
                                       dtype=torch.float64))) for m in mems]
    total, a = 0.0, 0.0
    for t, x_t in enumerate(x.tolist()):
        direct = x_t if input_factor == "x" else w
        if t == 0 or direct_only:
            a = direct
        else:
            g_reset = g[t - 1] if reset_factor == "previous" else g[t]
            through = (beta if beta_path else 0.0) + (
                reset_sign * (theta if theta_in_reset else 1.0) * g_reset if reset_path else 0.0)
            a = direct + through * a
        if not last_only or t == len(mems) - 1:
            total += g[t] * a
    return total


def _bptt_mistakes() -> list[Mistake]:
    def number(expected: Callable[..., float]) -> Callable[..., bool]:
        def matches(got: Any, *args: Any) -> bool:
            if isinstance(got, Tensor) and got.numel() == 1 and got.is_floating_point():
                got = got.item()
            return gives(expected)(got, *args)
        return matches

    def per_step(got: Any, x: Tensor, *rest: Any) -> bool:
        values = torch.as_tensor(got, dtype=torch.float64) if isinstance(got, (list, tuple)) \
            else got
        return (isinstance(values, Tensor) and values.numel() == len(x) > 1
                and gives(bptt_grad_w)(values.sum().item(), x, *rest))

    def wrong(**how: Any) -> Callable[..., bool]:
        return number(lambda x, w, beta, theta, derivative: bptt_grad_w(
            x, w, beta, theta, derivative, **how))

    return [
        Mistake(tr("the answer is 0: that is the step's true derivative, H'(x) = 0 almost "
                "everywhere; use the surrogate derivative, g[t] = derivative(U[t] - theta)"),
                number(lambda *args: 0.0)),
        Mistake(tr("the reset path is missing: U[t] contains -theta * S[t-1], and S[t-1] depends "
                "on U[t-1] through the surrogate, so dU[t]/dU[t-1] = beta - theta * g[t-1]"),
                wrong(reset_path=False)),
        Mistake(tr("the beta path is missing: U[t] = beta * U[t-1] + ..., so dU[t]/dU[t-1] "
                "contains beta (plus the reset's -theta * g[t-1])"), wrong(beta_path=False)),
        Mistake(tr("only the direct path is there: U[t] depends on w also through U[t-1] (beta and "
                "the reset), so dU[t]/dw = x[t] + (beta - theta * g[t-1]) * dU[t-1]/dw"),
                wrong(direct_only=True)),
        Mistake(tr("a step off in time: the reset subtracted at step t comes from the spike of "
                "step t-1, so its derivative is g[t-1], not g[t]"), wrong(reset_factor="current")),
        Mistake(tr("the reset's sign: U[t] contains MINUS theta * S[t-1], so its path gives "
                "-theta * g[t-1]"), wrong(reset_sign=1.0)),
        Mistake(tr("the reset path lacks theta: d(-theta * S[t-1])/dU[t-1] = -theta * g[t-1]"),
                wrong(theta_in_reset=False)),
        Mistake(tr("the surrogate is a function of x = U - theta: g[t] = derivative(U[t] - theta), "
                "not derivative(U[t])"), wrong(surrogate_at="U")),
        Mistake(tr("only the last step counts in your answer: L = S[0] + S[1] + S[2], so dL/dw "
                "sums g[t] * dU[t]/dw over every step"), wrong(last_only=True)),
        Mistake(tr("U[t] = theta exactly is no spike (S = H(U - theta) with H(0) = 0): use >, "
                "not >=, in the forward pass"), wrong(compare=">=")),
        Mistake(tr("the input's derivative: I[t] = w * x[t], so dI[t]/dw = x[t], not w"),
                wrong(input_factor="w")),
        Mistake(tr("you returned one value per step: dL/dw is one number, their sum"),
                per_step),
    ]


class _Derivative:
    """A surrogate's derivative that prints as its name in a checker's message."""

    def __init__(self, spike_fn: Any) -> None:
        self.fn, self.name = spike_fn.derivative, f"{spike_fn!r}.derivative"

    def __call__(self, x: Tensor) -> Tensor:
        return self.fn(x)

    def __repr__(self) -> str:
        return self.name


def check_bptt_grad(grad_w: Callable[..., Any]) -> bool:
    """Check ``grad_w(x, w, beta, theta, derivative) -> dL/dw`` (a float) for one LIF neuron over
    the steps of x (three here), L = S[0] + S[1] + S[2], the reset carrying its gradient:

        U[t] = beta U[t-1] + w x[t] - theta S[t-1],   S[t] = H(U[t] - theta),  U[-1] = S[-1] = 0

    with ``derivative(U - theta)`` the surrogate dS/dU. Cases: fresh inputs, weights, decays,
    thresholds and surrogates, one membrane exactly at the threshold (no spike).
    """
    generator = torch.Generator().manual_seed(2026)

    def fresh(slope: float) -> tuple:
        x = (0.5 + 1.5 * torch.rand(3, generator=generator, dtype=torch.float64)).round(
            decimals=2)
        w = round(0.6 + 0.4 * torch.rand((), generator=generator).item(), 2)
        beta = round(0.5 + 0.4 * torch.rand((), generator=generator).item(), 2)
        theta = round(0.8 + 0.6 * torch.rand((), generator=generator).item(), 2)
        return x, w, beta, theta, _Derivative(surrogate.fast_sigmoid(slope))

    exact = (torch.tensor([2.0, 1.5, 0.5], dtype=torch.float64), 0.5, 0.5, 1.0,
             _Derivative(surrogate.fast_sigmoid(5.0)))  # U[0] = 1.0 = theta exactly: no spike
    spiky = (torch.tensor([1.5, 0.4, 1.2], dtype=torch.float64), 1.0, 0.8, 1.2,
             _Derivative(surrogate.atan(2.0)))  # U[0] = 1.5 > 1.2: a spike, then a reset
    cases = []
    for what, args in [
        (tr("a spike at step 0, then a reset, atan surrogate"), spiky),
        (tr("fresh numbers, fast sigmoid (slope 2)"), fresh(2.0)),
        (tr("fresh numbers, fast sigmoid (slope 5)"), fresh(5.0)),
        (tr("U[0] exactly at the threshold (no spike)"), exact),
        (tr("fresh numbers, fast sigmoid (slope 1)"), fresh(1.0)),
    ]:
        expected = bptt_grad_w(*args)
        cases.append(Case(what, args, lambda got, e=expected: _judge_float(
            got, e, tr("dL/dw", context="the value of dL/dw"))))
    return run_cases("check_bptt_grad", grad_w, cases, ("x", "w", "beta", "theta", "derivative"),
                     _bptt_mistakes(), copy_inputs=True)


def _judge_float(got: Any, expected: float, label: str) -> str | None:
    """None when ``got`` is a number (or a one-element tensor) within 1e-6 (relative) of
    ``expected``; else what differs."""
    if isinstance(got, Tensor) and got.numel() == 1 and got.is_floating_point():
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return tr("{label} should be a number (a float), but you returned {value}").format(
            label=label, value=fmt(got))
    if not abs(got - expected) <= 1e-6 * (1 + abs(expected)):  # False for NaN
        return should_be(label, f"{expected:.6g}", f"{got:.6g}")
    return None
