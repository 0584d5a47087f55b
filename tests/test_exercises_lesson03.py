"""Lesson 03's checkers against catalogues of wrong answers written the way students write them:
every wrong answer fails, each named one with exactly its own message, and the share named is
measured; two different correct answers pass each checker; edge cases, NaN, exceptions, None
and slow answers are handled."""

from __future__ import annotations

import math

import pytest
import torch

from snnlab import surrogate
from snnlab.course.exercises import judge, lesson03
from snnlab.course.exercises.lesson03 import (
    bptt_grad_w,
    check_atan_derivative,
    check_bptt_grad,
    check_spike_function,
)

# ------------------------------------------------------------------ correct answers


def atan_derivative(x, alpha):
    return (alpha / 2) / (1 + (math.pi / 2 * alpha * x) ** 2)


def atan_derivative_by_autograd(x, alpha):
    x = x.detach().clone().requires_grad_()
    smooth = 0.5 + torch.atan(math.pi / 2 * alpha * x) / math.pi
    (grad,) = torch.autograd.grad(smooth.sum(), x)
    return grad


def spike_class(derivative=lambda x: torch.clamp(1 - x.abs() / 0.5, min=0), forward=None,
                backward=None, save=lambda x: x):
    """A Function: the exact step forward, grad * derivative(saved) backward, unless
    ``forward(x)`` / ``backward(saved, grad)`` replace them."""

    class Spike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(save(x))
            return forward(x) if forward else (x > 0).to(x.dtype)

        @staticmethod
        def backward(ctx, grad_output):
            (saved,) = ctx.saved_tensors
            return backward(saved, grad_output) if backward else grad_output * derivative(saved)

    return Spike


def bptt_by_loop(x, w, beta, theta, derivative):
    """The chain rule written as a backward loop (adjoints), not a forward recursion."""
    mems, spike, mem = [], 0.0, 0.0
    for x_t in x.tolist():
        mem = beta * mem + w * x_t - theta * spike
        spike = float(mem > theta)
        mems.append(mem)
    g = [float(derivative(torch.tensor(m - theta, dtype=torch.float64))) for m in mems]
    grad_w, grad_u_next = 0.0, 0.0  # dL/dU[t+1]
    for t in reversed(range(len(mems))):
        grad_u = g[t] + grad_u_next * (beta - theta * g[t]) if t < len(mems) - 1 else g[t]
        grad_w += grad_u * x[t].item()
        grad_u_next = grad_u
    return grad_w


def bptt_by_autograd(x, w, beta, theta, derivative):
    w = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    mem = spike = torch.zeros((), dtype=torch.float64)
    loss = 0.0
    for x_t in x:
        mem = beta * mem + w * x_t - theta * spike
        spike = surrogate.SpikeFunction.apply(mem - theta, derivative)
        loss = loss + spike
    loss.backward()
    return w.grad  # a 0-d tensor: accepted as a number


CORRECT = [
    (check_atan_derivative, atan_derivative),
    (check_atan_derivative, atan_derivative_by_autograd),
    (check_spike_function, spike_class()),
    (check_spike_function, spike_class(lambda d: torch.exp(-(d / 0.3) ** 2), save=torch.abs)),
    (check_spike_function, spike_class(lambda x: surrogate.fast_sigmoid(10.0).derivative(x))),
    (check_bptt_grad, bptt_grad_w),
    (check_bptt_grad, bptt_by_loop),
    (check_bptt_grad, bptt_by_autograd),
]


@pytest.mark.parametrize("check, answer", CORRECT)
def test_correct_answers_pass(check, answer, capsys):
    assert check(answer) is True
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"✓ {check.__name__}: passed ") and "\n" not in out


def test_the_bptt_reference_is_autograd_with_the_reset_not_detached():
    derivative = surrogate.atan(2.0).derivative
    for seed in range(5):
        gen = torch.Generator().manual_seed(seed)
        x = 0.5 + 1.5 * torch.rand(4, generator=gen, dtype=torch.float64)
        args = (x, 0.9, 0.8, 1.1, derivative)
        assert bptt_grad_w(*args) == pytest.approx(bptt_by_autograd(*args).item(), rel=1e-12)


# ------------------------------------------------------------------ catalogues of wrong answers
# (answer, the words of the message that must name it; None: it must fail, named or not)

Z = math.pi / 2


def _atan(f):
    return lambda x, a: f(x, a, Z * a * x)


ATAN_CATALOGUE = [
    (_atan(lambda x, a, z: 1 / (math.pi * (1 + z ** 2))), "chain-rule factor is missing"),
    (_atan(lambda x, a, z: (Z * a) / (1 + z ** 2)), "1/pi in front"),
    (_atan(lambda x, a, z: 1 / (1 + z ** 2)), "both factors in front"),
    (_atan(lambda x, a, z: (a / 2) / (1 + (a * x) ** 2)), "pi/2 is missing from z"),
    (_atan(lambda x, a, z: (a / 2) / (1 - z ** 2)), "with a plus"),
    (_atan(lambda x, a, z: -(a / 2) / (1 + z ** 2)), "sign error"),
    (_atan(lambda x, a, z: 0.5 + torch.atan(z) / math.pi), "the smooth curve itself"),
    (_atan(lambda x, a, z: (a / 2) / (1 + Z * a * x ** 2)), "only x is squared"),
    (_atan(lambda x, a, z: (a / 2) / (1 + z)), "z is not squared"),
    (_atan(lambda x, a, z: (a / 2) / (1 + z) ** 2), "over the whole denominator"),
    (_atan(lambda x, a, z: (a / 2) / (1 + x ** 2)), "uses x instead of z"),
    (_atan(lambda x, a, z: a / (1 + z ** 2)), "alpha, not alpha / 2"),
    (lambda x, a: atan_derivative(x, a).float(), "in another dtype"),
    (lambda x, a: atan_derivative(x, a).mean(), None),  # a number, not a tensor
    (lambda x, a: atan_derivative(x.flatten(), a), None),  # flattened
    (lambda x, a: (a / 2) / (1 + (math.pi * a * x) ** 2), None),  # pi for pi/2: unnamed
]


def _backward(formula):
    return spike_class(backward=formula)


class NonDifferentiable(torch.autograd.Function):
    """Marks its spikes as having no gradient: autograd then refuses to go back through them."""

    @staticmethod
    def forward(ctx, x):
        out = (x > 0).to(x.dtype)
        ctx.mark_non_differentiable(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class WithSlope(torch.autograd.Function):
    """A forward with a parameter besides x: apply(x) alone cannot call it."""

    @staticmethod
    def forward(ctx, x, slope):
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


SPIKE_CATALOGUE = [
    (WithSlope, "forward must take x only"),
    (NonDifferentiable, "does not return spikes autograd can follow"),
    (spike_class(forward=lambda x: torch.sigmoid(10 * x)), "exact step H(x)"),
    (spike_class(forward=lambda x: (x >= 0).to(x.dtype)), "not x >= 0"),
    (spike_class(forward=lambda x: torch.heaviside(x, torch.tensor(0.5, dtype=x.dtype))),
     "gives 0.5"),
    (spike_class(forward=lambda x: (x < 0).to(x.dtype)), "upside down"),
    (spike_class(forward=lambda x: (x > 1).to(x.dtype)), "not where x > 1"),
    (spike_class(forward=lambda x: (x > 0).int()), "bool or int"),
    (spike_class(forward=lambda x: (x > 0).float()), "another dtype than x"),
    (_backward(lambda x, g: torch.clamp(1 - x.abs() / 0.5, min=0)), "ignores grad_output"),
    (_backward(lambda x, g: -g * torch.clamp(1 - x.abs() / 0.5, min=0)), "sign error"),
    (_backward(lambda x, g: g * (1 - x.abs() / 0.5)), "goes negative far from x = 0"),
    (_backward(lambda x, g: g * torch.zeros_like(x)), "returns zeros"),
    (_backward(lambda x, g: g), "straight-through"),
    (_backward(lambda x, g: g * (x / x) / (10 * x.abs() + 1) ** 2), "contains NaN or inf"),
    (_backward(lambda x, g: g / x.abs().sqrt()), "contains NaN or inf"),
    (_backward(lambda x, g: g * 0.1 / x.abs()), "contains NaN or inf"),
    (_backward(lambda x, g: g.sum()), "wrong shape"),
    (_backward(lambda x, g: (g * torch.clamp(1 - x.abs(), min=0), g)), "one gradient per input"),
    (_backward(lambda x, g: g * (x > 0).to(x.dtype) / (10 * x.abs() + 1) ** 2),
     "0 wherever the neuron did not spike"),
    (spike_class(save=lambda x: (x > 0).to(x.dtype)), "computed from the spike"),
    (_backward(lambda x, g: g * torch.clamp(1 - x.abs() / 0.02, min=0)), "Make it wider"),
    (_backward(lambda x, g: g * (x.abs() < 1e-3).to(x.dtype)), "Make it wider"),
    (_backward(lambda x, g: g * torch.clamp(1 - (x - 0.2).abs(), min=0)), None),  # off-centre
]


def _bptt(**how):
    return lambda *args: bptt_grad_w(*args, **how)


BPTT_CATALOGUE = [
    (lambda *args: 0.0, "the answer is 0"),
    (_bptt(reset_path=False), "the reset path is missing"),
    (_bptt(beta_path=False), "the beta path is missing"),
    (_bptt(direct_only=True), "only the direct path"),
    (_bptt(reset_factor="current"), "a step off in time"),
    (_bptt(reset_sign=1.0), "the reset's sign"),
    (_bptt(theta_in_reset=False), "lacks theta"),
    (_bptt(surrogate_at="U"), "not derivative(U[t])"),
    (_bptt(last_only=True), "only the last step counts"),
    (_bptt(compare=">="), "use >, not >="),
    (_bptt(input_factor="w"), "dI[t]/dw = x[t], not w"),
    (lambda x, *rest: [bptt_grad_w(x[:t + 1], *rest) - bptt_grad_w(x[:t], *rest)
                       for t in range(len(x))], "one value per step"),
    (lambda *args: torch.tensor([bptt_grad_w(*args)] * 3), None),  # the answer three times
    (lambda *args: 2 * bptt_grad_w(*args), None),  # a stray factor 2
    (lambda *args: str(bptt_grad_w(*args)), None),  # a string
]

CATALOGUES = {check_atan_derivative: ATAN_CATALOGUE, check_spike_function: SPIKE_CATALOGUE,
              check_bptt_grad: BPTT_CATALOGUE}
CASES = [(check, answer, words) for check, catalogue in CATALOGUES.items()
         for answer, words in catalogue]


def _named_messages(check) -> set[str]:
    return {m.message for m in {
        check_atan_derivative: lesson03._atan_mistakes(),
        check_spike_function: lesson03._spike_mistakes(None),
        check_bptt_grad: lesson03._bptt_mistakes()}[check]}


@pytest.mark.parametrize("check, answer, words", CASES)
def test_every_wrong_answer_fails_and_known_ones_are_named(check, answer, words, capsys):
    assert check(answer) is False
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"✗ {check.__name__}: case ") and "\n" not in out, out
    if words is not None:
        assert words in out, out
        # exactly one known mistake's message, and no other
        assert sum(message in out for message in _named_messages(check)) == 1, out
    else:  # unknown: the fallback, no mistake named
        assert not any(message in out for message in _named_messages(check)), out


@pytest.mark.parametrize("check", list(CATALOGUES))
def test_at_least_80_percent_of_each_catalogue_is_named(check, capsys):
    named = 0
    catalogue = CATALOGUES[check]
    for answer, _ in catalogue:
        assert check(answer) is False
        out = capsys.readouterr().out
        named += any(message in out for message in _named_messages(check))
    share = named / len(catalogue)
    print(f"{check.__name__}: {named} of {len(catalogue)} wrong answers named ({share:.0%})")
    assert share >= 0.8


@pytest.mark.parametrize("check", list(CATALOGUES))
def test_every_known_mistake_is_in_the_catalogue(check, capsys):
    hit = set()
    for answer, _ in CATALOGUES[check]:
        check(answer)
        out = capsys.readouterr().out
        hit |= {message for message in _named_messages(check) if message in out}
    assert hit == _named_messages(check)


# ------------------------------------------------------------------ edge cases


def test_x_exactly_zero_is_no_spike_and_a_tiny_positive_x_is_one(capsys):
    # fires only from 1e-5 up: right at 0 and far away, wrong just above 0
    assert check_spike_function(spike_class(forward=lambda x: (x > 1e-5).to(x.dtype))) is False
    out = capsys.readouterr().out
    assert "fires just above 0" in out and "should be [0, 0, 0, 1, 1]" in out


def test_the_bptt_checker_has_a_membrane_exactly_at_the_threshold():
    x = torch.tensor([2.0, 1.5, 0.5], dtype=torch.float64)
    derivative = surrogate.fast_sigmoid(5.0).derivative
    assert 0.5 * 2.0 == 1.0  # U[0] = w x[0] = theta: no spike, so no reset at step 1
    assert bptt_grad_w(x, 0.5, 0.5, 1.0, derivative) != bptt_grad_w(
        x, 0.5, 0.5, 1.0, derivative, compare=">=")


# ------------------------------------------------------------------ anything a student writes


@pytest.mark.parametrize("check, answer", [
    (check_atan_derivative, lambda x, a: atan_derivative(x, a) * float("nan")),
    (check_bptt_grad, lambda *args: float("nan")),
    (check_bptt_grad, lambda *args: torch.tensor(float("nan"))),
])
def test_nan_never_passes(check, answer, capsys):
    assert check(answer) is False
    assert "NaN" in capsys.readouterr().out


@pytest.mark.parametrize("check", list(CATALOGUES))
def test_none_and_exceptions_fail_with_one_line(check, capsys):
    def none(*args):
        return None

    class NoneSpike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return None

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    def raises(*args):
        raise ZeroDivisionError("division by zero")

    class RaisingSpike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            raise ZeroDivisionError("division by zero")

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    is_class = check is check_spike_function
    for answer in ((NoneSpike, RaisingSpike) if is_class else (none, raises)):
        assert check(answer) is False
        out = capsys.readouterr().out
        assert out.startswith(f"✗ {check.__name__}: case 1 ") and out.count("\n") == 1, out
    assert "raised ZeroDivisionError" in out


def test_slow_answers_are_stopped(monkeypatch, capsys):
    monkeypatch.setattr(judge, "TIME_LIMIT_SECONDS", 0.3)
    monkeypatch.setattr(lesson03, "TRAINING_TIME_LIMIT", 0.3)

    def forever(*args):
        while True:
            pass

    class Forever(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            while True:
                pass

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    for check, answer in ((check_atan_derivative, forever), (check_bptt_grad, forever),
                          (check_spike_function, Forever)):
        assert check(answer) is False
        assert "time limit" in capsys.readouterr().out


def test_stub_reports_not_implemented(capsys):
    def stub(x, w, beta, theta, derivative):
        raise NotImplementedError

    assert check_bptt_grad(stub) is False
    assert capsys.readouterr().out.startswith("… check_bptt_grad: not implemented yet")
