"""Lesson 06 checkers against a catalogue of wrong answers written the way students write them.

Every wrong answer must fail; each one a named mistake explains fails with exactly that
mistake's sentence (and no other's); the share of wrong answers that get a named message is
measured and must stay at 80% or more. Also: the edge cases, NaN, None, raising, slow answers,
and several different correct answers.
"""

from __future__ import annotations

import math

import pytest
import torch
from catalogue import assert_named, verdict

from snnlab.course.exercises import lesson06
from snnlab.course.exercises.lesson06 import (
    check_leaky_readout,
    check_mean_step_loss,
    check_transposed_output_size,
)

# ------------------------------------------------------------------ correct answers


def transposed(n, k, s, p, op):
    return (n - 1) * s - 2 * p + k + op


def transposed_dilation_form(n, k, s, p, op):
    return (n - 1) * s - 2 * p + 1 * (k - 1) + op + 1  # PyTorch's formula, dilation 1


def transposed_measured(n, k, s, p, op):
    layer = torch.nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op)
    return layer(torch.zeros(1, 1, n, n)).shape[-1]


def leaky_readout(currents, beta):
    mem = torch.zeros_like(currents[0])
    for current in currents:
        mem = beta * mem + current
    return mem


def leaky_readout_weighted(currents, beta):
    steps = len(currents)
    weights = beta ** torch.arange(steps - 1, -1, -1, dtype=currents.dtype)
    return (weights.view(-1, *[1] * (currents.dim() - 1)) * currents).sum(0)


def leaky_readout_from_first(currents, beta):
    mem = currents[0].clone()
    for current in currents[1:]:
        mem = mem * beta + current
    return mem


def mean_step_loss(spikes, membrane, images):
    return ((membrane - images.unsqueeze(0)) ** 2).mean()


def mean_step_loss_per_step(spikes, membrane, images):
    per_step = [torch.nn.functional.mse_loss(m, images) for m in membrane]
    return torch.stack(per_step).mean()


CORRECT = [(check_transposed_output_size, f) for f in (transposed, transposed_dilation_form,
                                                        transposed_measured)]
CORRECT += [(check_leaky_readout, f) for f in (leaky_readout, leaky_readout_weighted,
                                               leaky_readout_from_first)]
CORRECT += [(check_mean_step_loss, f) for f in (mean_step_loss, mean_step_loss_per_step)]


@pytest.mark.parametrize("check, answer", CORRECT, ids=lambda x: getattr(x, "__name__", ""))
def test_correct_answers_pass(check, answer, capsys):
    assert check(answer) is True
    assert capsys.readouterr().out.startswith(f"✓ {check.__name__}: passed ")


# ------------------------------------------------------------------ the catalogue

TRANSPOSED_WRONG = {
    "convolution's rule": (lambda n, k, s, p, op: (n + 2 * p - k) // s + 1,
                           "a convolution's rule"),
    "no - 1": (lambda n, k, s, p, op: n * s - 2 * p + k + op, "forgetting the - 1"),
    "no output_padding": (lambda n, k, s, p, op: (n - 1) * s - 2 * p + k,
                          "leave out output_padding"),
    "doubling": (lambda n, k, s, p, op: n * s, "doubles the side"),
    "doubling by 2": (lambda n, k, s, p, op: 2 * n, None),
    "one-sided padding": (lambda n, k, s, p, op: (n - 1) * s - p + k + op, "one side only"),
    "2 x output_padding": (lambda n, k, s, p, op: (n - 1) * s - 2 * p + k + 2 * op,
                           "output_padding twice"),
    "+ padding": (lambda n, k, s, p, op: (n - 1) * s + 2 * p + k + op, "instead of subtracting"),
    "no padding": (lambda n, k, s, p, op: (n - 1) * s + k + op, "leave out the padding"),
    "kernel - 1": (lambda n, k, s, p, op: (n - 1) * s - 2 * p + k - 1 + op, "kernel_size - 1"),
    "a float": (lambda n, k, s, p, op: float(transposed(n, k, s, p, op)), "return an int"),
    # no named mistake
    "stride squared": (lambda n, k, s, p, op: (n - 1) * s * s - 2 * p + k + op, None),
}


def _leak(currents, beta, gain=1.0, start=None, steps=None):
    mem = torch.zeros_like(currents[0]) if start is None else start
    for current in currents[:steps]:
        mem = beta * mem + gain * current
    return mem


def _with_reset_to_zero(currents, beta):
    mem = torch.zeros_like(currents[0])
    for current in currents:
        mem = beta * mem + current
        mem = torch.where(mem > 1, torch.zeros_like(mem), mem)
    return mem


def _with_reset(currents, beta):
    mem, spk = torch.zeros_like(currents[0]), torch.zeros_like(currents[0])
    for current in currents:
        mem = beta * mem + current - spk
        spk = (mem > 1).float()
    return mem


READOUT_WRONG = {
    "no leak": (lambda c, b: c.sum(0), "without the leak"),
    "mean": (lambda c, b: c.mean(0), "average the currents"),
    "beta ** t": (lambda c, b: sum(b ** t * c[t] for t in range(len(c))), "beta ** t"),
    "leak after": (lambda c, b: _leak(c, b, gain=b), "leak once too often"),
    "beta ** (T - t)": (lambda c, b: sum(b ** (len(c) - t) * c[t] for t in range(len(c))),
                        "leak once too often"),
    "(1 - beta) I": (lambda c, b: _leak(c, b, gain=1 - b), "(1 - beta)"),
    "I[0] twice": (lambda c, b: _leak(c, b, start=c[0].clone()), "add I[0] again"),
    "last step missing": (lambda c, b: _leak(c, b, steps=-1), "last step's current"),
    "subtractive reset": (_with_reset, "like an ordinary LIF"),
    "every step": (lambda c, b: torch.stack([_leak(c[: t + 1], b) for t in range(len(c))]),
                   "membrane of every step"),
    "first step": (lambda c, b: c[0], "first step's membrane"),
    # no named mistake
    "reset to zero": (_with_reset_to_zero, None),
    "beta squared": (lambda c, b: _leak(c, b * b), None),
}


def _mse(m, x):
    return (m - x) ** 2


LOSS_WRONG = {
    "last step": (lambda s, m, x: torch.nn.functional.mse_loss(m[-1], x), "last step only"),
    "time mean first": (lambda s, m, x: _mse(m.mean(0), x).mean(), "average the membrane"),
    "sum over steps": (lambda s, m, x: _mse(m, x).flatten(1).mean(1).sum(),
                       "add up the per-step errors"),
    "sum over pixels": (lambda s, m, x: _mse(m, x).flatten(2).sum(-1).mean(),
                        "sum over the pixels"),
    "absolute": (lambda s, m, x: (m - x).abs().mean(), "absolute error"),
    "RMSE": (lambda s, m, x: _mse(m, x).mean().sqrt(), "take the square root"),
    "per-step RMSE": (lambda s, m, x: _mse(m, x).flatten(1).mean(1).sqrt().mean(),
                      "per-step RMSEs"),
    "per-step vector": (lambda s, m, x: _mse(m, x).flatten(1).mean(1), "without averaging"),
    "item": (lambda s, m, x: _mse(m, x).mean().item(), "should be a torch.Tensor"),
    "detached": (lambda s, m, x: _mse(m, x).mean().detach(), "no gradient"),
    # no named mistake
    "half": (lambda s, m, x: 0.5 * _mse(m, x).mean(), None),
    "spikes used": (lambda s, m, x: _mse(m, x).mean() + s.float().mean(), None),
}

CATALOGUE = [(check_transposed_output_size, n, *e) for n, e in TRANSPOSED_WRONG.items()]
CATALOGUE += [(check_leaky_readout, n, *e) for n, e in READOUT_WRONG.items()]
CATALOGUE += [(check_mean_step_loss, n, *e) for n, e in LOSS_WRONG.items()]
MISTAKES = {check_transposed_output_size: lesson06._transposed_size_mistakes(),
            check_leaky_readout: lesson06._leaky_readout_mistakes(),
            check_mean_step_loss: lesson06._mean_step_loss_mistakes()}
GENERIC = ("should be", "your function raised", "should have shape")
TABLES = [(check_transposed_output_size, TRANSPOSED_WRONG), (check_leaky_readout, READOUT_WRONG),
          (check_mean_step_loss, LOSS_WRONG)]


@pytest.mark.parametrize("check, name, answer, words", CATALOGUE,
                         ids=[f"{c.__name__}-{n}" for c, n, _, _ in CATALOGUE])
def test_every_wrong_answer_fails_with_its_own_message(check, name, answer, words, capsys):
    assert_named(verdict(check, answer, capsys), words, MISTAKES[check], GENERIC)


@pytest.mark.parametrize("check, wrong", TABLES)
def test_at_least_80_percent_of_the_catalogue_is_named(check, wrong, capsys):
    named = [words is not None and words in verdict(check, answer, capsys)
             for answer, words in wrong.values()]
    share = sum(named) / len(named)
    print(f"{check.__name__}: {sum(named)} of {len(named)} wrong answers named ({share:.0%})")
    assert share >= 0.8
    assert named == [words is not None for _, words in wrong.values()]


@pytest.mark.parametrize("check, wrong", TABLES)
def test_every_named_mistake_is_in_the_catalogue_and_has_its_own_sentence(check, wrong, capsys):
    mistakes = MISTAKES[check]
    used = {}
    for answer, words in wrong.values():
        if words is None:
            continue
        out = verdict(check, answer, capsys)
        found = [i for i, m in enumerate(mistakes) if m.message in out]
        if not any(words in m.message for m in mistakes):  # named by the case itself
            assert not found, out
            continue
        assert len(found) == 1, out
        used.setdefault(words, set()).add(found[0])
    assert all(len(v) == 1 for v in used.values())
    assert sorted({next(iter(v)) for v in used.values()}) == list(range(len(mistakes)))


# ------------------------------------------------------------------ edge cases


def _cases(check, answer):
    captured = {}
    module = lesson06
    original = module.run_cases
    try:
        module.run_cases = lambda name, fn, cases, *a, **k: captured.setdefault("c", cases)
        check(answer)
    finally:
        module.run_cases = original
    return captured["c"]


def test_no_readout_case_uses_beta_one_half():
    """With beta = 0.5, beta * I and (1 - beta) * I are the same: no case may hide that."""
    assert all(case.args[1] != 0.5 for case in _cases(check_leaky_readout, leaky_readout))


def test_the_first_transposed_case_has_padding_and_output_padding_apart():
    """2 * output_padding and one-sided padding agree whenever padding == output_padding."""
    first = _cases(check_transposed_output_size, transposed)[0].args
    assert first[3] != first[4]
    assert any(c.args[3] != c.args[4] and c.args[4] > 0
               for c in _cases(check_transposed_output_size, transposed))


def test_the_one_step_loss_case_has_errors_of_different_sizes():
    """With one error size everywhere, RMSE would equal the mean absolute error."""
    spikes, membrane, images = _cases(check_mean_step_loss, mean_step_loss)[0].args
    error = membrane - images
    assert not torch.isclose(_mse(membrane, images).mean().sqrt(), error.abs().mean())


def test_lesson_06_checks_leave_the_global_random_stream_alone():
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    for check, answer in CHECKS:
        check(answer)
    assert torch.equal(torch.rand(3), expected)


# ------------------------------------------------------------------ odd answers

CHECKS = [(check_transposed_output_size, transposed), (check_leaky_readout, leaky_readout),
          (check_mean_step_loss, mean_step_loss)]


@pytest.mark.parametrize("check, correct", CHECKS)
@pytest.mark.parametrize("value", [None, "size", (1.0, 2.0, 3.0)], ids=["None", "str", "tuple"])
def test_odd_return_values_fail_with_one_line(check, correct, value, capsys):
    assert check(lambda *a: value) is False
    out = capsys.readouterr().out.strip()
    assert out.startswith("✗") and "\n" not in out


@pytest.mark.parametrize("check, nan", [
    (check_transposed_output_size, lambda *a: math.nan),
    (check_leaky_readout, lambda c, b: leaky_readout(c, b) * math.nan),
    (check_mean_step_loss, lambda s, m, x: mean_step_loss(s, m, x) * math.nan)])
def test_nan_never_passes(check, nan, capsys):
    assert check(nan) is False
    out = capsys.readouterr().out
    assert "NaN" in out or "nan" in out

