"""Lesson 09's checker against a catalogue of wrong answers written the way students write them:
every wrong answer fails, each named one with exactly its own sentence, every named mistake is
reached; several correct answers pass, the library's own ``stdp.stdp_step`` among them."""

from __future__ import annotations

import math

import pytest
import torch
from catalogue import assert_every_mistake_reached, assert_named, verdict

from snnlab import stdp
from snnlab.course.exercises import lesson09
from snnlab.course.exercises.lesson09 import check_stdp_step


def stdp_step(weight, pre_spk, post_spk, x_pre, x_post, A_plus, A_minus, tau_plus, tau_minus,
              w_max):
    x_pre = math.exp(-1 / tau_plus) * x_pre + pre_spk
    y = math.exp(-1 / tau_minus) * x_post
    weight = weight + A_plus * x_pre.T @ post_spk - A_minus * pre_spk.T @ y
    return weight.clamp(0, w_max), x_pre, y + post_spk


def stdp_step_einsum(weight, pre_spk, post_spk, x_pre, x_post, A_plus, A_minus, tau_plus,
                     tau_minus, w_max):
    x_pre = x_pre * torch.exp(torch.tensor(-1 / tau_plus)) + pre_spk
    x_post_new = x_post * torch.exp(torch.tensor(-1 / tau_minus)) + post_spk
    grow = torch.einsum("bi,bj->ij", x_pre, post_spk)
    shrink = torch.einsum("bi,bj->ij", pre_spk, x_post_new - post_spk)
    weight = torch.clamp(weight + A_plus * grow - A_minus * shrink, min=0, max=w_max)
    return weight, x_pre, x_post_new


def stdp_step_library(weight, pre_spk, post_spk, x_pre, x_post, *rule):
    weight, state = stdp.stdp_step(weight, pre_spk, post_spk, stdp.STDPState(x_pre, x_post),
                                   *rule)
    return weight, state.pre, state.post


@pytest.mark.parametrize("answer", [stdp_step, stdp_step_einsum, stdp_step_library])
def test_correct_answers_pass(answer, capsys):
    assert check_stdp_step(answer) is True
    assert capsys.readouterr().out.startswith("✓ check_stdp_step: passed ")


def _wrong(*, decay="exp", signs=1, traces="right", depression_trace="before",
           potentiation_trace="after", clamp=True, order=("w", "pre", "post")):
    def answer(weight, pre_spk, post_spk, x_pre, x_post, A_plus, A_minus, tau_plus, tau_minus,
               w_max):
        d_plus, d_minus = {"exp": (math.exp(-1 / tau_plus), math.exp(-1 / tau_minus)),
                           "none": (1.0, 1.0),
                           "euler": (1 - 1 / tau_plus, 1 - 1 / tau_minus)}[decay]
        old_pre = d_plus * x_pre
        x_pre = old_pre + pre_spk
        new_post = d_minus * x_post + post_spk
        y = d_minus * x_post if depression_trace == "before" else new_post
        pre_for_growth = x_pre if potentiation_trace == "after" else old_pre
        if traces == "right":
            grow, shrink = pre_for_growth.T @ post_spk, pre_spk.T @ y
        else:
            grow, shrink = pre_spk.T @ new_post, x_pre.T @ post_spk
        weight = weight + signs * (A_plus * grow - A_minus * shrink)
        weight = weight.clamp(0, w_max) if clamp else weight
        values = {"w": weight, "pre": x_pre, "post": new_post}
        return tuple(values[k] for k in order)
    return answer


WRONG = {
    "signs swapped": (_wrong(signs=-1), "signs are swapped"),
    "no decay": (_wrong(decay="none"), "never decay"),
    "Euler decay": (_wrong(decay="euler"), "the Euler step"),
    "traces swapped": (_wrong(traces="swapped"), "on the wrong traces"),
    "post spike in depression": (_wrong(depression_trace="after"), "count twice"),
    "pre spike out of potentiation": (_wrong(potentiation_trace="before"), "not paired"),
    "unbounded": (_wrong(clamp=False), "leave [0, w_max]"),
    "two values": (lambda *args: stdp_step(*args)[:2], "return the three"),
    # no named mistake
    "traces first": (_wrong(order=("pre", "post", "w")), None),
    "mean over the batch": (lambda w, pre, post, *rest: (
        stdp_step(w, pre, post, *rest)[0] if len(pre) == 1 else
        (w + (stdp_step(w, pre, post, *rest)[0] - w) / len(pre)),
        *stdp_step(w, pre, post, *rest)[1:]), None),
}
GENERIC = ("should be", "your function raised", "should have shape", "return the three")


@pytest.mark.parametrize("name", WRONG)
def test_every_wrong_answer_fails_with_its_own_message(name, capsys):
    answer, words = WRONG[name]
    assert_named(verdict(check_stdp_step, answer, capsys), words, lesson09._stdp_mistakes(),
                 GENERIC)


def test_every_named_mistake_is_reached(capsys):
    assert_every_mistake_reached(check_stdp_step, WRONG, lesson09._stdp_mistakes(), capsys)


CHECKS = [(check_stdp_step, stdp_step)]
