"""Lesson 10's checker against a catalogue of wrong answers written the way students write them:
every wrong answer fails, each named one with exactly its own sentence, every named mistake is
reached; several correct answers pass, ``snnlab.conversion``'s own balancing among them."""

from __future__ import annotations

import math

import pytest
import torch
from catalogue import assert_every_mistake_reached, assert_named, verdict

from snnlab import conversion
from snnlab.course.exercises import lesson10
from snnlab.course.exercises.lesson10 import check_balance, check_cheapest_steps


def balance(weight, lambda_in, train_activations, test_activations, percentile):
    values = train_activations.flatten()
    k = math.ceil(percentile / 100 * len(values))
    lambda_out = values.sort().values[k - 1]
    return weight * lambda_in / lambda_out, lambda_out


def balance_quantile(weight, lambda_in, train_activations, test_activations, percentile):
    lambda_out = torch.quantile(train_activations.flatten(), percentile / 100).item()
    return weight * (lambda_in / lambda_out), lambda_out


def balance_like_the_library(weight, lambda_in, train_activations, test_activations,
                             percentile):
    # activation_scales's own choice of the k-th value, on the given activations
    ann = conversion.ConvNet()
    ann.activations = lambda x: {"layer1": train_activations, "layer2": train_activations}
    scales = conversion.activation_scales(ann, torch.zeros(1, 1, 28, 28), percentile)
    return weight * lambda_in / scales["layer1"], scales["layer1"]


@pytest.mark.parametrize("answer", [balance, balance_quantile, balance_like_the_library])
def test_correct_answers_pass(answer, capsys):
    assert check_balance(answer) is True
    assert capsys.readouterr().out.startswith("✓ check_balance: passed ")


def _with(lambda_out, weight_rule=lambda w, li, lo: w * li / lo):
    def answer(weight, lambda_in, train, test, percentile):
        value = lambda_out(train, test, percentile)
        return weight_rule(weight, lambda_in, value), value
    return answer


def _kth(values, percentile):
    flat = values.flatten()
    return flat.sort().values[math.ceil(percentile / 100 * len(flat)) - 1]


WRONG = {
    "test data": (_with(lambda tr, te, p: _kth(te, p)), "balanced on the test activations"),
    "wrong way": (_with(lambda tr, te, p: _kth(tr, p), lambda w, li, lo: w * lo / li),
                  "the wrong way"),
    "no lambda_in": (_with(lambda tr, te, p: _kth(tr, p), lambda w, li, lo: w / lo),
                     "forgot lambda_in"),
    "per-sample maximum": (_with(lambda tr, te, p: tr.flatten(1).max(1).values.mean()),
                           "maximum of each sample"),
    "nonzero only": (_with(lambda tr, te, p: _kth(tr[tr > 0], p)), "above 0 only"),
    "per channel": (_with(lambda tr, te, p: tr.amax(dim=(0, 2, 3))), "over the wrong dimension"),
    "per position": (_with(lambda tr, te, p: tr.max(0).values), "over the wrong dimension"),
    "weight only": (lambda w, li, tr, te, p: w * li / _kth(tr, p), "return the pair"),
    # no named mistake
    "the mean": (_with(lambda tr, te, p: tr.mean()), None),
}
GENERIC = ("should be", "your function raised", "should have shape", "return the pair")


@pytest.mark.parametrize("name", WRONG)
def test_every_wrong_answer_fails_with_its_own_message(name, capsys):
    answer, words = WRONG[name]
    assert_named(verdict(check_balance, answer, capsys), words, lesson10._balance_mistakes(),
                 GENERIC)


def test_every_named_mistake_is_reached(capsys):
    assert_every_mistake_reached(check_balance, WRONG, lesson10._balance_mistakes(), capsys)


def cheapest_steps(steps, accuracy, energy, target):
    reaching = [(e, t) for t, a, e in zip(steps, accuracy, energy, strict=True) if a >= target]
    return min(reaching)[1] if reaching else None


def cheapest_steps_loop(steps, accuracy, energy, target):
    best, best_energy = None, float("inf")
    for t, a, e in zip(steps, accuracy, energy, strict=True):
        if a >= target and e < best_energy:
            best, best_energy = t, e
    return best


@pytest.mark.parametrize("answer", [cheapest_steps, cheapest_steps_loop])
def test_cheapest_correct_answers_pass(answer, capsys):
    assert check_cheapest_steps(answer) is True


CHEAPEST_WRONG = {
    "most accurate": (lambda s, a, e, t: s[a.index(max(a))], "the most accurate T"),
    "first reaching": (lambda s, a, e, t: next((x for x, y in zip(s, a, strict=True)
                                                if y >= t), None), "the first T that reaches"),
    "no target": (lambda s, a, e, t: s[e.index(min(e))], "without looking at the target"),
    # no named mistake
    "strictly above": (lambda s, a, e, t: cheapest_steps(s, a, e, t + 1e-9), None),
    "a float": (lambda s, a, e, t: float(cheapest_steps(s, a, e, t) or 0), None),
    "its energy": (lambda s, a, e, t: min((en for x, y, en in zip(s, a, e, strict=True) if y >= t),
                                          default=None), None),
}


@pytest.mark.parametrize("name", CHEAPEST_WRONG)
def test_cheapest_wrong_answers(name, capsys):
    answer, words = CHEAPEST_WRONG[name]
    assert_named(verdict(check_cheapest_steps, answer, capsys), words,
                 lesson10._cheapest_mistakes(), ("the answer is", "return a T"))


CHECKS = [(check_balance, balance), (check_cheapest_steps, cheapest_steps)]
