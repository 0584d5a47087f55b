"""Lesson 07 checkers against a catalogue of wrong answers written the way students write them.

Every wrong answer must fail; each one a named mistake explains fails with exactly that
mistake's sentence (and no other's); the share of wrong answers that get a named message is
measured and must stay at 80% or more. Also: the edge cases (a membrane exactly at theta, spike
totals that do not divide evenly), NaN, None, raising, slow answers, and several different
correct answers (the library's own among them).
"""

from __future__ import annotations

import math

import pytest
import torch
from catalogue import assert_named, verdict

from snnlab import events
from snnlab.course.exercises import lesson07
from snnlab.course.exercises.lesson07 import (
    check_camera_events,
    check_linear_ops,
    check_recurrent_step,
)
from snnlab.recurrent import RecurrentLIF

# ------------------------------------------------------------------ correct answers


def camera(frames, threshold):
    level = torch.log(frames + 0.1)
    change = level[1:] - level[:-1]
    return torch.stack([change >= threshold, change <= -threshold], dim=1).float()


def camera_ratio(frames, threshold):
    change = torch.diff(torch.log(frames + 0.1), dim=0)
    on = torch.where(change >= threshold, 1.0, 0.0)
    off = torch.where(-change >= threshold, 1.0, 0.0)
    return torch.stack([on, off], 1)


def camera_library(frames, threshold):
    return events.camera_events(frames.unsqueeze(1), threshold)[:, 0]


def recurrent_step(current, spk_prev, mem_prev, V, beta, theta):
    reset = (mem_prev > theta).float()
    mem = beta * mem_prev + current + spk_prev @ V.T - reset * theta
    return (mem > theta).float(), mem


def recurrent_step_reset_from_spikes(current, spk_prev, mem_prev, V, beta, theta):
    # the library's docstring: reset[t] = H(U[t-1] - theta) = S[t-1]
    mem = beta * mem_prev + current + torch.nn.functional.linear(spk_prev, V) - spk_prev * theta
    return torch.heaviside(mem - theta, torch.tensor(0.0)), mem


def recurrent_step_library(current, spk_prev, mem_prev, V, beta, theta):
    layer = RecurrentLIF(V.shape[0], beta, theta)
    with torch.no_grad():
        layer.recurrent.weight.copy_(V)
        return layer(current, spk_prev, mem_prev)


def linear_ops(spikes, out_features):
    num_steps, batch, in_features = spikes.shape
    return spikes.sum().item() * out_features / batch, in_features * out_features


def linear_ops_per_sample(spikes, out_features):
    per_sample = spikes.sum(dim=(0, 2)) * out_features
    return per_sample.mean().item(), float(spikes.shape[-1] * out_features)


CORRECT = [(check_camera_events, f) for f in (camera, camera_ratio, camera_library)]
CORRECT += [(check_recurrent_step, f) for f in (recurrent_step, recurrent_step_reset_from_spikes,
                                                recurrent_step_library)]
CORRECT += [(check_linear_ops, f) for f in (linear_ops, linear_ops_per_sample)]


@pytest.mark.parametrize("check, answer", CORRECT, ids=lambda x: getattr(x, "__name__", ""))
def test_correct_answers_pass(check, answer, capsys):
    assert check(answer) is True
    assert capsys.readouterr().out.startswith(f"✓ {check.__name__}: passed ")


# ------------------------------------------------------------------ the catalogue


def _cam(level=lambda f: torch.log(f + 0.1), change=lambda L: L[1:] - L[:-1],
         on=lambda d, th: d >= th, off=lambda d, th: d <= -th, dim=1, dtype=torch.float32,
         sign=1.0):
    def answer(frames, threshold):
        d = change(level(frames))
        off_ = off(d, threshold).to(dtype)
        return torch.stack([on(d, threshold).to(dtype), off_ if sign == 1 else sign * off_],
                           dim=dim)
    return answer


CAMERA_WRONG = {
    "no log": (_cam(level=lambda f: f), "not of its logarithm"),
    "log without + 0.1": (_cam(level=torch.log), "without the + 0.1"),
    "log1p": (_cam(level=torch.log1p), None),
    "from the first frame": (_cam(change=lambda L: L[1:] - L[:1]), "with the first one"),
    "swapped": (_cam(on=lambda d, th: d <= -th, off=lambda d, th: d >= th), "swapped"),
    "backwards difference": (_cam(change=lambda L: L[:-1] - L[1:]), "swapped"),
    "OFF as -1": (_cam(sign=-1.0), "holds -1"),
    "bool events": (_cam(dtype=torch.bool), "should be float tensors"),
    "the changes themselves": (lambda f, th: torch.log(f[1:] + 0.1) - torch.log(f[:-1] + 0.1),
                               "the changes of the log intensity themselves"),
    "T + 1 steps": (lambda f, th: torch.cat([torch.zeros(1, 2, *f.shape[1:]), camera(f, th)]),
                    "one per change between frames"),
    "channel first": (_cam(dim=0), "yours has the channel first"),
    # no named mistake
    "abs change for both": (_cam(on=lambda d, th: d.abs() >= th, off=lambda d, th: d.abs() >= th),
                            None),
}


def _rs(*, reset="mem", spike=">", feedback="VT", leak="mem", order="spk,mem", dtype=True):
    def answer(current, spk_prev, mem_prev, V, beta, theta):
        r = {"mem": (mem_prev > theta).float(), ">=": (mem_prev >= theta).float(),
             "none": torch.zeros_like(mem_prev), "spk": spk_prev}[reset]
        fb = {"VT": spk_prev @ V.T, "V": spk_prev @ V, "none": 0.0}[feedback]
        if leak == "mem":
            mem = beta * mem_prev + current + fb - r * theta
        elif leak == "all":
            mem = beta * (mem_prev + current + fb) - r * theta
        elif leak == "zero":
            mem = beta * (1 - r) * mem_prev + current + fb
        elif leak == "unit":
            mem = beta * mem_prev + current + fb - r
        else:  # reset inside the leak
            mem = beta * (mem_prev - r * theta) + current + fb
        spk = (mem >= theta) if spike == ">=" else (mem > theta)
        spk = spk.float() if dtype else spk
        return (mem, spk) if order == "mem,spk" else (spk, mem)
    return answer


def _rs_new_reset(current, spk_prev, mem_prev, V, beta, theta):
    mem = beta * mem_prev + current + spk_prev @ V.T
    spk = (mem > theta).float()
    return spk, mem - spk * theta


def _rs_own_spikes(current, spk_prev, mem_prev, V, beta, theta):
    mem = beta * mem_prev + current - (mem_prev > theta).float() * theta
    mem = mem + (mem > theta).float() @ V.T
    return (mem > theta).float(), mem


STEP_WRONG = {
    "no feedback": (_rs(feedback="none"), "leaves out the recurrent term"),
    "V untransposed": (_rs(feedback="V"), "untransposed"),
    "this step's spikes": (_rs_own_spikes, "spikes of this step t"),
    "reset from the new membrane": (_rs_new_reset, "comes from the new membrane"),
    "reset to zero": (_rs(leak="zero"), "you reset to zero"),
    "no reset": (_rs(reset="none"), "left out the reset"),
    "reset without theta": (_rs(leak="unit"), "not H(mem_prev - theta) * theta"),
    "reset inside the leak": (_rs(leak="inside"), "before the leak"),
    "leak on the input": (_rs(leak="all"), "also scales this step's input"),
    ">= spike": (_rs(spike=">="), "spk = (mem > theta), not >="),
    ">= reset": (_rs(reset=">="), "reset = (mem_prev > theta), not >="),
    "swapped": (_rs(order="mem,spk"), "you returned (mem, spk)"),
    "bool spikes": (_rs(dtype=False), "should be a float tensor"),
    # no named mistake
    "sigmoid spikes": (lambda c, s, m, V, b, th: (torch.sigmoid(_rs()(c, s, m, V, b, th)[1]
                                                                - th), _rs()(c, s, m, V, b, th)[1]),
                       None),
}


def _ops(acs, macs=lambda s, o: s.shape[2] * o):
    return lambda spikes, out: (acs(spikes, out), macs(spikes, out))


def _acs(s, o):
    return s.sum().item() * o / s.shape[1]


OPS_WRONG = {
    "whole batch": (_ops(lambda s, o: s.sum().item() * o), "divide by the batch size"),
    "//": (_ops(lambda s, o: int(s.sum().item()) * o // s.shape[1]), "rounded down"),
    "int()": (_ops(lambda s, o: int(_acs(s, o))), "rounded down"),
    "every input": (_ops(lambda s, o: s[:, 0].numel() * o), "spiking or not"),
    "in_features": (_ops(lambda s, o: s.sum().item() * s.shape[2] / s.shape[1]),
                    "multiplies by in_features"),
    "no out_features": (_ops(lambda s, o: s.sum().item() / s.shape[1]), "leaves out out_features"),
    "per step": (_ops(lambda s, o: _acs(s, o) / s.shape[0]), "an average per step"),
    "MACs per step": (_ops(_acs, lambda s, o: len(s) * s.shape[2] * o), "once per step"),
    "MACs per batch": (_ops(_acs, lambda s, o: s.shape[1] * s.shape[2] * o),
                       "counts the whole batch"),
    "swapped": (lambda s, o: (s.shape[2] * o, _acs(s, o)), "return (snn_acs, ann_macs)"),
    # no named mistake
    "tensor spikes": (lambda s, o: (s.sum() * o / s.shape[0], s.shape[2] * o), None),
    "one number": (lambda s, o: _acs(s, o), None),
}

CATALOGUE = [(check_camera_events, n, *e) for n, e in CAMERA_WRONG.items()]
CATALOGUE += [(check_recurrent_step, n, *e) for n, e in STEP_WRONG.items()]
CATALOGUE += [(check_linear_ops, n, *e) for n, e in OPS_WRONG.items()]
MISTAKES = {check_camera_events: lesson07._camera_mistakes(),
            check_recurrent_step: lesson07._step_mistakes(),
            check_linear_ops: lesson07._ops_mistakes()}
GENERIC = ("should be", "your function raised", "should have shape", "return the pair")
TABLES = [(check_camera_events, CAMERA_WRONG), (check_recurrent_step, STEP_WRONG),
          (check_linear_ops, OPS_WRONG)]


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
    exercised = {next(iter(v)) for v in used.values()}
    # "reset after the spike" gives the spikes of the reset membrane: no student wrote it in
    # our catalogue, but the checker keeps it (it is never named where it is ambiguous)
    assert len(exercised) >= len(mistakes) - 1


# ------------------------------------------------------------------ edge cases


def _cases(check, answer):
    captured = {}
    original = lesson07.run_cases
    try:
        lesson07.run_cases = lambda name, fn, cases, *a, **k: captured.setdefault("c", cases)
        check(answer)
    finally:
        lesson07.run_cases = original
    return captured["c"]


def test_every_recurrent_case_holds_a_state_a_layer_can_be_in():
    """spk_prev = H(mem_prev - theta) in every case, so a reset from spk_prev is right."""
    for case in _cases(check_recurrent_step, recurrent_step):
        current, spk_prev, mem_prev, V, beta, theta = case.args
        assert torch.equal(spk_prev, (mem_prev > theta).float())
        assert beta != 0.5


def test_the_threshold_case_lands_exactly_on_theta_in_every_order():
    case = next(c for c in _cases(check_recurrent_step, recurrent_step) if "exactly" in c.what)
    current, spk_prev, mem_prev, V, beta, theta = case.args
    a = beta * mem_prev + current + spk_prev @ V.T
    b = current + (spk_prev @ V.T + mem_prev * beta)
    c = torch.addcmul(current, mem_prev, torch.full_like(mem_prev, beta))
    for mem in (a, b, c):
        assert mem[0, :2].tolist() == [theta, theta]
    assert mem_prev[0, 1] == theta


def test_a_linear_ops_case_does_not_divide_evenly():
    fractions = [_acs(*c.args) % 1 for c in _cases(check_linear_ops, linear_ops)]
    assert sum(f > 0 for f in fractions) >= 2


def test_lesson_07_checks_leave_the_global_random_stream_alone():
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    for check, answer in CHECKS:
        check(answer)
    assert torch.equal(torch.rand(3), expected)


# ------------------------------------------------------------------ odd answers

CHECKS = [(check_camera_events, camera), (check_recurrent_step, recurrent_step),
          (check_linear_ops, linear_ops)]


@pytest.mark.parametrize("check, correct", CHECKS)
@pytest.mark.parametrize("value", [None, "events", (1.0, 2.0, 3.0)], ids=["None", "str", "tuple"])
def test_odd_return_values_fail_with_one_line(check, correct, value, capsys):
    assert check(lambda *a: value) is False
    out = capsys.readouterr().out.strip()
    assert out.startswith("✗") and "\n" not in out


@pytest.mark.parametrize("check, nan", [
    (check_camera_events, lambda f, th: camera(f, th) * math.nan),
    (check_recurrent_step, lambda *a: (recurrent_step(*a)[0], recurrent_step(*a)[1] * math.nan)),
    (check_linear_ops, lambda s, o: (math.nan, linear_ops(s, o)[1]))])
def test_nan_never_passes(check, nan, capsys):
    assert check(nan) is False
    out = capsys.readouterr().out
    assert "NaN" in out or "nan" in out

