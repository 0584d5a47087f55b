"""Each checker accepts the reference solution and rejects typical mistakes with a clear message."""

from __future__ import annotations

import math

import pytest
import torch

from snnlab.course.exercises.lesson01 import check_rate_code, check_spike_time
from snnlab.course.exercises.lesson02 import check_beta, check_lif_step
from snnlab.course.exercises.lesson03 import check_atan_derivative, check_fast_sigmoid_backward
from snnlab.surrogate import atan, fast_sigmoid

# ------------------------------------------------------------------ reference solutions


def rate_code(images, num_steps, gain=1.0):
    return torch.bernoulli((gain * images).expand(num_steps, *images.shape).contiguous())


def spike_time(current, tau, threshold):
    safe = torch.where(current > threshold, current, torch.full_like(current, 2 * threshold + 1))
    time = tau * torch.log(safe / (safe - threshold))
    return torch.where(current > threshold, time, torch.full_like(current, math.inf))


def beta_from_tau(tau, dt):
    return torch.exp(-dt / torch.as_tensor(tau))


def lif_step(input, mem, beta, threshold):
    reset = (mem > threshold).float()
    mem = beta * mem + input - reset * threshold
    return (mem > threshold).float(), mem


def fast_sigmoid_backward(x, grad_output, slope):
    return grad_output / (slope * x.abs() + 1) ** 2


def atan_derivative(x, alpha):
    return (alpha / 2) / (1 + (math.pi / 2 * alpha * x) ** 2)


SOLUTIONS = [
    (check_rate_code, rate_code),
    (check_spike_time, spike_time),
    (check_beta, beta_from_tau),
    (check_lif_step, lif_step),
    (check_fast_sigmoid_backward, fast_sigmoid_backward),
    (check_atan_derivative, atan_derivative),
]


@pytest.mark.parametrize("check, solution", SOLUTIONS, ids=lambda x: getattr(x, "__name__", ""))
def test_reference_solution_passes(check, solution, capsys):
    assert check(solution) is True
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"✓ {check.__name__}: passed ") and out.endswith(" cases")
    assert "\n" not in out


def test_reference_solutions_agree_with_snnlab():
    x = torch.linspace(-1, 1, 41)
    assert torch.allclose(atan_derivative(x, 3.0), atan(3.0).derivative(x))
    assert torch.allclose(fast_sigmoid_backward(x, torch.ones_like(x), 10.0),
                          fast_sigmoid(10.0).derivative(x))


def test_rate_check_leaves_the_global_random_stream_alone():
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    check_rate_code(rate_code)
    assert torch.equal(torch.rand(3), expected)


# ------------------------------------------------------------------ typical mistakes
# (checker, wrong function, words the message must contain)

MISTAKES = [
    (check_rate_code,
     lambda images, num_steps, gain=1.0: torch.bernoulli(images.expand(num_steps, *images.shape)),
     ["gain scales the firing rate", "should be about [0.1, 0.3, 0.5]", "Hint"]),
    (check_rate_code,
     lambda images, num_steps, gain=1.0: torch.bernoulli(
         (gain * images).unsqueeze(-1).expand(*images.shape, num_steps)),
     ["shape [7, 2, 3] (time first)", "[2, 3, 7]"]),
    (check_rate_code,
     lambda images, num_steps, gain=1.0: (gain * images).expand(num_steps, *images.shape),
     ["spike (1.0) or no spike (0.0)", "0.5"]),
    (check_rate_code,  # one sample repeated over time: every rate is 0 or 1
     lambda images, num_steps, gain=1.0: torch.bernoulli(gain * images).expand(
         num_steps, *images.shape),
     ["firing rate"]),
    (check_spike_time,
     lambda current, tau, threshold: tau * torch.log(current / (current - threshold)),
     ["never fire (inf)", "nan", "torch.where"]),
    (check_spike_time,
     lambda current, tau, threshold: torch.log(current / (current - threshold)),
     ["the time scales with tau", "should be [5.493, 2.027, 0.5268]"]),
    (check_beta, lambda tau, dt: 1 - dt / torch.as_tensor(tau),
     ["should be 0.8187", "yours is 0.8", "first-order approximation"]),
    (check_beta, lambda tau, dt: torch.exp(-torch.as_tensor(tau) / dt),
     ["should be 0.8187", "0.006738"]),
    (check_lif_step,  # reset from the new membrane, not the previous one
     lambda input, mem, beta, threshold: (
         lambda m: ((m > threshold).float(), m - (m > threshold).float() * threshold))(
         beta * mem + input),
     ["case 2", "new_mem should be [1.055]", "yours is [0.055]", "previous membrane"]),
    (check_lif_step,  # >= instead of >
     lambda input, mem, beta, threshold: (
         lambda m: ((m >= threshold).float(), m))(
         beta * mem + input - (mem >= threshold).float() * threshold),
     ["exactly at threshold", "strictly"]),
    (check_lif_step,  # forgot the leak
     lambda input, mem, beta, threshold: (
         lambda m: ((m > threshold).float(), m))(
         mem + input - (mem > threshold).float() * threshold),
     ["case 1", "new_mem should be [0.65]", "[0.7]"]),
    (check_fast_sigmoid_backward,
     lambda x, grad_output, slope: grad_output / (slope * x.abs() + 1),
     ["case 1", "grad_input should be"]),
    (check_fast_sigmoid_backward,
     lambda x, grad_output, slope: 1 / (slope * x.abs() + 1) ** 2,
     ["chain rule", "grad_output"]),
    (check_atan_derivative,
     lambda x, alpha: (alpha / 2) / (1 + (alpha * x) ** 2),
     ["case 1", "the derivative should be", "pi / 2"]),
    (check_atan_derivative,
     lambda x, alpha: alpha / (1 + (math.pi / 2 * alpha * x) ** 2),
     ["peak value 1", "yours is"]),
]


@pytest.mark.parametrize("check, wrong, words", MISTAKES)
def test_typical_mistake_is_rejected_with_a_precise_message(check, wrong, words, capsys):
    assert check(wrong) is False
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"✗ {check.__name__}: case ")
    for word in words:
        assert word in out, f"{word!r} missing from: {out}"


@pytest.mark.parametrize("check", [check for check, _ in SOLUTIONS])
def test_stub_reports_not_implemented_without_a_traceback(check, capsys):
    def stub(*args):
        """Signature + docstring, as in the student handout."""
        # YOUR CODE HERE
        raise NotImplementedError

    assert check(stub) is False
    out = capsys.readouterr().out
    assert out.startswith(f"… {check.__name__}: not implemented yet")
    assert "Traceback" not in out


def test_other_exceptions_are_reported_by_type_and_message(capsys):
    def broken(input, mem, beta, threshold):
        return torch.ones(3, 3) @ input

    assert check_lif_step(broken) is False
    out = capsys.readouterr().out
    assert "your function raised RuntimeError" in out and "case 1" in out


def test_passing_a_result_instead_of_the_function_is_explained(capsys):
    assert check_beta(0.5) is False
    assert "pass your function itself" in capsys.readouterr().out
