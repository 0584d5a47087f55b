"""Lesson 08 checkers against a catalogue of wrong answers written the way students write them.

Every wrong answer must fail; each one a named mistake explains fails with exactly that
mistake's sentence (and no other's); at least 70% of the catalogue is named, and every
named mistake is reached. Several different
correct answers pass, the library's own ``ALIF`` among them.
"""

from __future__ import annotations

import math

import pytest
import torch
from catalogue import assert_every_mistake_reached, assert_named, verdict

from snnlab.adaptive import ALIF, ALIFState
from snnlab.course.exercises import lesson08
from snnlab.course.exercises.lesson08 import check_alif_step, check_beta_for_gap

# ------------------------------------------------------------------ correct answers


def alif_step(current, mem_prev, a_prev, beta, theta0, rho, b):
    theta_prev = theta0 + b * a_prev
    spk_prev = (mem_prev > theta_prev).float()
    a = rho * a_prev + spk_prev
    mem = beta * mem_prev + current - spk_prev * theta_prev
    return (mem > theta0 + b * a).float(), mem, a


def alif_step_heaviside(current, mem_prev, a_prev, beta, theta0, rho, b):
    zero = torch.tensor(0.0)
    spk_prev = torch.heaviside(mem_prev - theta0 - b * a_prev, zero)
    a = a_prev * rho + spk_prev
    mem = mem_prev * beta + current - spk_prev * (theta0 + b * a_prev)
    return torch.heaviside(mem - (theta0 + b * a), zero), mem, a


def alif_step_library(current, mem_prev, a_prev, beta, theta0, rho, b):
    neuron = ALIF(beta=beta, threshold=theta0, rho=rho, b=b)
    with torch.no_grad():
        spk, state = neuron(current, ALIFState(mem_prev, a_prev))
    return spk, state.mem, state.a


def beta_for_gap(gap):
    return math.exp(-1 / gap)


def beta_for_gap_solved(gap):
    return (1 / math.e) ** (1 / gap)   # beta ** gap = 1/e, solved the other way


CORRECT = [(check_alif_step, f) for f in (alif_step, alif_step_heaviside, alif_step_library)]
CORRECT += [(check_beta_for_gap, f) for f in (beta_for_gap, beta_for_gap_solved)]


@pytest.mark.parametrize("check, answer", CORRECT, ids=lambda x: getattr(x, "__name__", ""))
def test_correct_answers_pass(check, answer, capsys):
    assert check(answer) is True
    assert capsys.readouterr().out.startswith(f"✓ {check.__name__}: passed ")


# ------------------------------------------------------------------ the catalogue


def _alif(*, adapt="prev", decay=True, b_on=True, leak=True, reset="prev", spike="new",
          prev="adapted", dtype=True, order=("spk", "mem", "a")):
    def answer(current, mem_prev, a_prev, beta, theta0, rho, b):
        gain = b if b_on else 1.0
        theta_prev = theta0 + gain * a_prev
        spk_prev = (mem_prev > (theta_prev if prev == "adapted" else theta0)).float()
        mem = (beta if leak else 1.0) * mem_prev + current - spk_prev * (
            theta_prev if reset == "prev" else theta0)
        if adapt == "now":   # this step's spike, judged against the old threshold
            spk = (mem > theta_prev).float()
            a = rho * a_prev + spk
        else:
            a = (rho * a_prev if decay else a_prev) + spk_prev
            if adapt == "decay both":
                a = rho * (a_prev + spk_prev)
            spk = (mem > (theta0 + gain * a if spike == "new" else theta_prev)).float()
        spk = spk if dtype else spk.bool()
        values = {"spk": spk, "mem": mem, "a": a}
        return tuple(values[k] for k in order)
    return answer


ALIF_WRONG = {
    "this step's spike": (_alif(adapt="now"), "fed by the spike of this step"),
    "no decay": (_alif(decay=False), "never decays"),
    "decay of the new spike": (_alif(adapt="decay both"), "you decay the new spike too"),
    "no b": (_alif(b_on=False), "without b"),
    "no leak": (_alif(leak=False), "does not leak"),
    "reset by theta0": (_alif(reset="theta0"), "your reset subtracts theta0"),
    "previous spike at theta0": (_alif(prev="theta0"), "H(U[t-1] - theta0)"),
    "old threshold": (_alif(spike="old"), "the previous step's threshold"),
    "bool spikes": (_alif(dtype=False), "should be a float tensor"),
    "two values": (lambda *args: alif_step(*args)[:2], "return the three"),
    # no named mistake
    "order mem, spk, a": (_alif(order=("mem", "spk", "a")), None),
    "sigmoid spikes": (lambda *args: (torch.sigmoid(alif_step(*args)[1]), *alif_step(*args)[1:]),
                       None),
}

BETA_WRONG = {
    "Euler": (lambda gap: 1 - 1 / gap, "1 - 1/G"),
    "exp(-G)": (lambda gap: math.exp(-gap), "exp(-G)"),
    "half-life": (lambda gap: 0.5 ** (1 / gap), "ask for half"),
    "1/G": (lambda gap: 1 / gap, "beta = 1/G"),
    "a tensor": (lambda gap: torch.tensor(math.exp(-1 / gap)), "0-dim tensor"),
    # no named mistake
    "a guess": (lambda gap: 0.99, None),
    "tau as beta": (lambda gap: float(gap), None),
}

CATALOGUE = [(check_alif_step, n, *e) for n, e in ALIF_WRONG.items()]
CATALOGUE += [(check_beta_for_gap, n, *e) for n, e in BETA_WRONG.items()]
MISTAKES = {check_alif_step: lesson08._alif_mistakes(),
            check_beta_for_gap: lesson08._beta_mistakes()}
GENERIC = ("should be", "your function raised", "should have shape", "return the three")
TABLES = [(check_alif_step, ALIF_WRONG), (check_beta_for_gap, BETA_WRONG)]


@pytest.mark.parametrize("check, name, answer, words", CATALOGUE,
                         ids=[f"{c.__name__}-{n}" for c, n, _, _ in CATALOGUE])
def test_every_wrong_answer_fails_with_its_own_message(check, name, answer, words, capsys):
    assert_named(verdict(check, answer, capsys), words, MISTAKES[check], GENERIC)


@pytest.mark.parametrize("check, wrong", TABLES)
def test_at_least_70_percent_of_the_catalogue_is_named(check, wrong, capsys):
    named = [words is not None and words in verdict(check, answer, capsys)
             for answer, words in wrong.values()]
    assert sum(named) / len(named) >= 0.7
    assert named == [words is not None for _, words in wrong.values()]


@pytest.mark.parametrize("check, wrong", TABLES)
def test_every_named_mistake_is_reached_by_the_catalogue(check, wrong, capsys):
    assert_every_mistake_reached(check, wrong, MISTAKES[check], capsys)


def test_the_checker_s_step_is_the_library_s_alif():
    generator = torch.Generator().manual_seed(0)
    for _ in range(5):
        args = (torch.rand(3, 4, generator=generator), torch.rand(3, 4, generator=generator) * 2,
                torch.rand(3, 4, generator=generator) * 3, 0.8, 0.7, 0.9, 0.4)
        for mine, library in zip(lesson08._step(*args), alif_step_library(*args), strict=True):
            assert torch.allclose(mine, library)


def test_every_case_has_a_neuron_that_spiked_and_one_that_did_not_or_is_at_rest():
    # the state must be one an ALIF layer can reach: a_prev >= 0, and the cases together
    # cover a previous spike (reset, adaptation grows) and an adapted neuron that stayed quiet
    spiked, quiet_adapted = False, False
    original = lesson08.run_cases
    seen = []
    try:
        lesson08.run_cases = lambda name, fn, cases, names: seen.extend(cases) or True
        check_alif_step(alif_step)
    finally:
        lesson08.run_cases = original
    for case in seen:
        current, mem_prev, a_prev, beta, theta0, rho, b = case.args
        assert (a_prev >= 0).all()
        previous = mem_prev > theta0 + b * a_prev
        spiked |= bool(previous.any())
        quiet_adapted |= bool(((a_prev > 0) & ~previous & (mem_prev > theta0)).any())
    assert spiked and quiet_adapted


CHECKS = [(check_alif_step, alif_step), (check_beta_for_gap, beta_for_gap)]
