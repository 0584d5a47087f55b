"""Lesson 02's checkers against a catalogue of wrong answers, written the way students write
them: every one fails; those the checker knows fail with exactly their own message (chosen by
comparing outputs), the others with input / expected / received and no named mistake; correct
answers written in different ways pass, float32 included; the edge cases are real edges."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from snnlab.course.exercises import judge, lesson02
from snnlab.course.exercises.lesson02 import check_beta, check_lif_layer
from snnlab.neurons import LIF

BETA_MESSAGES = [m.message for m in lesson02._beta_mistakes()]
LIF_MESSAGES = [m.message for m in lesson02._lif_mistakes()]


def message(words: str, messages: list[str]) -> str:
    """The one known-mistake message that contains ``words``."""
    found = [m for m in messages if words in m]
    assert len(found) == 1, (words, found)
    return found[0]


def verdict(check, answer, capsys) -> tuple[bool, str]:
    passed = check(answer)
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out  # always exactly one line
    return passed, out


# ------------------------------------------------------------------ exact beta: right answers

def beta_math(tau, dt):
    return math.exp(-dt / tau)


BETA_SOLUTIONS = [
    beta_math,
    lambda tau, dt: torch.exp(torch.tensor(-dt / tau)).item(),               # float32 inside
    lambda tau, dt: float(np.exp(np.float32(-dt) / np.float32(tau))),         # float32 again
    lambda tau, dt: math.e ** (-dt / tau),
    lambda tau, dt: 1 / math.exp(dt / tau),
    lambda tau, dt: np.exp(-dt / tau),                               # np.float64 is a float
    lambda tau, dt: math.exp(-dt) ** (1 / tau),
]


@pytest.mark.parametrize("solution", BETA_SOLUTIONS)
def test_correct_betas_pass_float32_included(solution, capsys):
    passed, out = verdict(check_beta, solution, capsys)
    assert passed and out.startswith("✓ check_beta: passed 6 cases"), out


# ------------------------------------------------------------------ exact beta: the catalogue
# (answer, the words of the one message it must get; None: no known mistake, a generic line)

BETA_CATALOGUE = [
    (lambda tau, dt: 1 - dt / tau, "Euler's beta"),
    (lambda tau, dt: float(1 - torch.tensor(dt / tau)), "Euler's beta"),       # float32 Euler
    (lambda tau, dt: 1 / (1 + dt / tau), "implicit (backward) Euler"),
    (lambda tau, dt: 1 - dt / tau + (dt / tau) ** 2 / 2, "cut after a few terms"),
    (lambda tau, dt: math.exp(-tau / dt), "upside down"),
    (lambda dt, tau: math.exp(-dt / tau), "check the order of the arguments"),  # swapped args
    (lambda tau, dt: math.exp(dt / tau), "sign error"),
    (lambda tau, dt: math.exp(-1 / tau), "dt is missing"),
    (lambda tau, dt: math.exp(-dt * tau), "multiplied dt by tau"),
    (lambda tau, dt: 1 - math.exp(-dt / tau), "leaks away in one step"),
    (lambda tau, dt: -dt / tau, "the exponent itself"),
    (lambda tau, dt: dt / tau, "the ratio dt / tau"),
    (lambda tau, dt: math.exp(-dt) / tau, "exp(-dt) / tau divides"),
    (lambda tau, dt: 2.718 ** (-dt / tau), "your e is rounded"),
    (lambda tau, dt: 2.72 ** (-dt / tau), "your e is rounded"),
    (lambda tau, dt: 10 ** (-dt / tau), "base 2 or 10"),
    (lambda tau, dt: round(math.exp(-dt / tau), 3), "your answer is rounded"),
    (lambda tau, dt: torch.exp(torch.tensor(-dt / tau)), "you returned a tensor"),
    (lambda tau, dt: np.exp(np.float32(-dt / tau)), "NumPy number"),
    (lambda tau, dt: 1 - dt / tau + (dt / tau) ** 2 / 2 - (dt / tau) ** 3 / 6,
     "cut after a few terms"),
    (lambda tau, dt: 0.9, None),
    (lambda tau, dt: math.exp(-2 * dt / tau), None),
    (lambda tau, dt: None, None),
    (lambda tau, dt: str(math.exp(-dt / tau)), None),
]


@pytest.mark.parametrize("answer, words", BETA_CATALOGUE)
def test_every_wrong_beta_fails_and_a_named_one_gets_its_own_message(answer, words, capsys):
    passed, out = verdict(check_beta, answer, capsys)
    assert not passed and out.startswith("✗ check_beta: case "), out
    shown = [m for m in BETA_MESSAGES if m in out]
    if words is None:  # nothing known: no hint about a mistake the student did not make
        assert shown == [], out
    else:
        assert shown == [message(words, BETA_MESSAGES)], out


def test_at_least_80_percent_of_the_beta_catalogue_is_named():
    named = sum(words is not None for _, words in BETA_CATALOGUE)
    assert len(BETA_CATALOGUE) >= 10 and named / len(BETA_CATALOGUE) >= 0.8


def test_every_beta_message_is_reachable_by_some_answer():
    used = {message(words, BETA_MESSAGES) for _, words in BETA_CATALOGUE if words}
    assert used == set(BETA_MESSAGES)


def test_a_close_but_wrong_beta_shows_the_digits_that_differ(capsys):
    passed, out = verdict(check_beta, lambda tau, dt: math.exp(-dt / tau) * (1 + 3e-6), capsys)
    assert not passed
    assert "beta should be 0.8187307530779818, but yours is 0.81873320927" in out, out
    assert "off by 3.0e-06 of beta; allowed: 1e-06" in out, out


def test_beta_edges_euler_is_negative_and_whole_numbers_work(capsys):
    # Euler's beta only where it goes negative (dt = 3 tau): caught there, and named
    passed, out = verdict(check_beta, lambda tau, dt: beta_math(tau, dt) if dt <= tau
                          else 1 - dt / tau, capsys)
    assert not passed and "case 5 (a step three times tau" in out and "Euler's beta" in out
    # a step as long as tau: Euler's beta is 0 there
    passed, out = verdict(check_beta, lambda tau, dt: beta_math(tau, dt) if dt != tau
                          else 1 - dt / tau, capsys)
    assert not passed and "case 2 (a step as long as tau)" in out and "Euler's beta" in out
    # whole numbers in: the case really passes ints, and a float comes out of a correct answer
    seen = []
    assert check_beta(lambda tau, dt: seen.append((tau, dt)) or beta_math(tau, dt))
    assert any(type(tau) is int and type(dt) is int for tau, dt in seen)
    capsys.readouterr()


@pytest.mark.parametrize("answer, words", [
    (lambda tau, dt: float("nan"), "contains NaN"),
    (lambda tau, dt: torch.tensor(float("nan")), "you returned a tensor"),
    (lambda tau, dt: None, "return a Python float, but yours is None"),
    (lambda tau, dt: 1 / 0, "raised ZeroDivisionError"),
    (lambda tau, dt: True, "return a Python float"),
])
def test_beta_odd_answers(answer, words, capsys):
    passed, out = verdict(check_beta, answer, capsys)
    assert not passed and words in out, out


def test_a_slow_beta_is_stopped(monkeypatch, capsys):
    monkeypatch.setattr(judge, "TIME_LIMIT_SECONDS", 0.3)

    def slow(tau, dt):
        while True:
            pass

    passed, out = verdict(check_beta, slow, capsys)
    assert not passed and "0.3 s time limit" in out


# ------------------------------------------------------------------ LIF layer: right answers

def lif_loop(currents, beta, threshold):
    mem, spikes, membrane = torch.zeros_like(currents[0]), [], []
    for current in currents:
        reset = (mem > threshold).float()
        mem = beta * mem + current - reset * threshold
        spikes.append((mem > threshold).float())
        membrane.append(mem)
    return torch.stack(spikes), torch.stack(membrane)


def lif_with_previous_spikes(currents, beta, threshold):
    """Another order of operations: the previous step's spike tensor is the reset."""
    spikes = torch.zeros_like(currents)
    membrane = torch.zeros_like(currents)
    mem = spk = torch.zeros_like(currents[0])
    for t in range(currents.shape[0]):
        mem = mem * beta - spk * threshold + currents[t]
        spk = torch.where(mem > threshold, 1.0, 0.0)
        spikes[t], membrane[t] = spk, mem
    return spikes, membrane


def lif_float64(currents, beta, threshold):
    spikes, membrane = lif_loop(currents.double(), beta, threshold)
    return spikes, membrane


LIF_SOLUTIONS = [lif_loop, lif_with_previous_spikes, lif_float64,
                 lambda c, b, th: LIF(beta=b, threshold=th).sequence(c)]


@pytest.mark.parametrize("solution", LIF_SOLUTIONS)
def test_correct_lif_layers_pass(solution, capsys):
    passed, out = verdict(check_lif_layer, solution, capsys)
    assert passed and out.startswith("✓ check_lif_layer: passed 7 cases"), out


# ------------------------------------------------------------------ LIF layer: the catalogue

def lif(**mistake):
    """A student's loop with one mistake (see lesson02._lif_variant for the options)."""
    return lesson02._lif_variant(**mistake)


def lif_in_place(currents, beta, threshold):
    mem, spikes, membrane = torch.zeros_like(currents[0]), [], []
    for current in currents:
        reset = (mem > threshold).float()
        mem *= beta
        mem += current - reset * threshold
        spikes.append((mem > threshold).float())
        membrane.append(mem)
    return torch.stack(spikes), torch.stack(membrane)


def lif_heaviside(currents, beta, threshold):
    mem, spikes, membrane = torch.zeros_like(currents[0]), [], []
    for current in currents:
        mem = beta * mem + current - torch.heaviside(mem - threshold, torch.tensor(1.0)) * threshold
        spikes.append(torch.heaviside(mem - threshold, torch.tensor(1.0)))
        membrane.append(mem)
    return torch.stack(spikes), torch.stack(membrane)


def lif_skips_first_step(currents, beta, threshold):
    spikes, membrane = lif_loop(currents[1:], beta, threshold)
    return spikes, membrane


def lif_sigmoid(currents, beta, threshold):
    mem, spikes, membrane = torch.zeros_like(currents[0]), [], []
    for current in currents:
        mem = beta * mem + current - (mem > threshold).float() * threshold
        spikes.append(torch.sigmoid(10 * (mem - threshold)))
        membrane.append(mem)
    return torch.stack(spikes), torch.stack(membrane)


def lif_double_reset(currents, beta, threshold):
    mem, spikes, membrane = torch.zeros_like(currents[0]), [], []
    for current in currents:
        mem = beta * mem + current - 2 * (mem > threshold).float() * threshold
        spikes.append((mem > threshold).float())
        membrane.append(mem)
    return torch.stack(spikes), torch.stack(membrane)


LIF_CATALOGUE = [
    (lif(reset="current"), "reset was computed from the current membrane"),
    (lif(reset="decayed"), "multiplied by beta"),
    (lif(strict=False), "not >="),
    (lif_heaviside, "not >="),                          # heaviside(0, 1) = 1: the same mistake
    (lif(leak="none"), "leak is missing"),
    (lif(leak="input too"), "shrinks the input too"),
    (lif(leak="scaled input"), "scaled by (1 - beta)"),
    (lif(reset="zero"), "reset to zero"),
    (lif(reset="none"), "never reset"),
    (lif(subtract_one=True), "reset subtracts 1"),
    (lif(lag="membrane"), "membrane is one step behind"),
    (lif(lag="spikes"), "spikes are one step late"),
    (lif(threshold_is_one=True), "threshold is fixed at 1"),
    (lif(fixed_beta=0.9), "beta is fixed at 0.9"),
    (lif(clip=True), "never goes below 0"),
    (lif(start="input"), "does not start at rest"),
    (lif_in_place, "changed the membrane tensor in place"),
    (lif(in_place=True), "changed the membrane tensor in place"),
    (lif_skips_first_step, "one step fewer"),
    (lambda *a: lif_loop(*a)[::-1], "return (spikes, membrane)"),
    (lambda *a: tuple(x.movedim(0, 1) for x in lif_loop(*a)), "time is not the first"),
    (lambda *a: tuple(list(x) for x in lif_loop(*a)), "Python lists"),
    (lambda *a: (lif_loop(*a)[0].bool(), lif_loop(*a)[1]), "bool or int"),
    (lambda *a: (lif_loop(*a)[0].int(), lif_loop(*a)[1]), "bool or int"),
    (lif_sigmoid, None),
    (lif_double_reset, None),
    (lif(threshold_is_one=False, fixed_beta=0.5), None),
    (lambda *a: lif_loop(*a)[0], None),                 # spikes only
]


@pytest.mark.parametrize("answer, words", LIF_CATALOGUE)
def test_every_wrong_lif_layer_fails_and_a_named_one_gets_its_own_message(answer, words, capsys):
    passed, out = verdict(check_lif_layer, answer, capsys)
    assert not passed and out.startswith("✗ check_lif_layer: case "), out
    shown = [m for m in LIF_MESSAGES if m in out]
    if words is None:
        assert shown == [], out
    else:
        assert shown == [message(words, LIF_MESSAGES)], out


def test_at_least_80_percent_of_the_lif_catalogue_is_named():
    named = sum(words is not None for _, words in LIF_CATALOGUE)
    assert len(LIF_CATALOGUE) >= 10 and named / len(LIF_CATALOGUE) >= 0.8


def test_every_lif_message_is_reachable_by_some_answer():
    used = {message(words, LIF_MESSAGES) for _, words in LIF_CATALOGUE if words}
    assert used == set(LIF_MESSAGES)


def test_an_unknown_lif_mistake_shows_input_expected_received_and_no_named_hint(capsys):
    passed, out = verdict(check_lif_layer, lif_double_reset, capsys)
    assert not passed
    assert "with currents=" in out and "should be [" in out and "but yours is [" in out
    assert "Hint: reset[t] = H(U[t-1] - theta)" in out  # the update itself, no guessed mistake


# ------------------------------------------------------------------ LIF layer: the edge cases

def cases():
    """The checker's cases, as (what, currents, beta, threshold): read from a recording
    answer, so this test follows the checker."""
    seen = []

    def record(currents, beta, threshold):
        seen.append((currents.clone(), beta, threshold))
        return lif_loop(currents, beta, threshold)

    assert check_lif_layer(record)
    return seen


def test_the_at_threshold_cases_land_exactly_on_the_threshold(capsys):
    hits = 0
    for currents, beta, threshold in cases():
        _, membrane = lesson02.reference_lif_layer(currents, beta, threshold)
        hits += int((membrane == threshold).sum())
        # every legitimate order of float operations gives the same spikes: the membrane is
        # either exactly on the threshold (dyadic numbers) or clearly away from it
        gap = (membrane - threshold).abs()
        assert bool(((gap == 0) | (gap > 1e-4)).all())
        assert torch.equal(LIF(beta=beta, threshold=threshold).sequence(currents)[0],
                           lesson02.reference_lif_layer(currents, beta, threshold)[0])
    assert hits >= 4  # before and after a reset, with and without a leak
    capsys.readouterr()


def test_the_cases_cover_inhibition_a_batch_and_a_threshold_other_than_1(capsys):
    seen = cases()
    capsys.readouterr()
    assert any(bool((lesson02.reference_lif_layer(c, b, th)[1] < 0).any()) for c, b, th in seen)
    assert any(c.dim() == 3 for c, _, _ in seen)
    assert any(th != 1.0 for _, _, th in seen) and any(b not in (0.9, 1.0) for _, b, _ in seen)


@pytest.mark.parametrize("answer, words", [
    (lambda c, b, th: (lif_loop(c, b, th)[0], lif_loop(c, b, th)[1] * float("nan")),
     "contains NaN"),
    (lambda c, b, th: None, "return a tuple (spikes, membrane), but yours is None"),
    (lambda c, b, th: (None, None), "should be a torch.Tensor"),
    (lambda c, b, th: c[99], "raised IndexError"),
])
def test_lif_odd_answers(answer, words, capsys):
    passed, out = verdict(check_lif_layer, answer, capsys)
    assert not passed and words in out, out


def test_a_slow_lif_layer_is_stopped(monkeypatch, capsys):
    monkeypatch.setattr(judge, "TIME_LIMIT_SECONDS", 0.3)

    def slow(currents, beta, threshold):
        while True:
            pass

    passed, out = verdict(check_lif_layer, slow, capsys)
    assert not passed and "0.3 s time limit" in out
