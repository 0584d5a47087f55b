"""Lesson 07's checkers accept the solutions and name the typical mistakes."""

from __future__ import annotations

import torch

from snnlab import events
from snnlab.course.exercises.lesson07 import (
    check_camera_events,
    check_linear_ops,
    check_recurrent_step,
)
from snnlab.recurrent import RecurrentLIF


def camera(frames, threshold):
    level = torch.log(frames + 0.1)
    change = level[1:] - level[:-1]
    return torch.stack([change >= threshold, change <= -threshold], dim=1).float()


def recurrent_step(current, spk_prev, mem_prev, V, beta, theta):
    reset = (mem_prev > theta).float()
    mem = beta * mem_prev + current + spk_prev @ V.T - reset * theta
    return (mem > theta).float(), mem


def linear_ops(spikes, out_features):
    num_steps, batch, in_features = spikes.shape
    return spikes.sum().item() * out_features / batch, in_features * out_features


def verdict(capsys, check, fn):
    passed = check(fn)
    return passed, capsys.readouterr().out


def test_solutions_pass(capsys):
    for check, fn in ((check_camera_events, camera), (check_recurrent_step, recurrent_step),
                      (check_linear_ops, linear_ops)):
        passed, out = verdict(capsys, check, fn)
        assert passed and out.startswith("✓"), out


def test_the_library_passes_too(capsys):
    def library_camera(frames, threshold):
        return events.camera_events(frames.unsqueeze(1), threshold)[:, 0]

    def library_step(current, spk_prev, mem_prev, V, beta, theta):
        layer = RecurrentLIF(V.shape[0], beta, theta)
        with torch.no_grad():
            layer.recurrent.weight.copy_(V)
        return layer(current, spk_prev, mem_prev)

    assert verdict(capsys, check_camera_events, library_camera)[0]
    assert verdict(capsys, check_recurrent_step, library_step)[0]


def test_camera_mistakes_are_named(capsys):
    def no_log(frames, threshold):
        change = frames[1:] - frames[:-1]
        return torch.stack([change >= threshold, change <= -threshold], dim=1).float()

    def swapped(frames, threshold):
        return camera(frames, threshold).flip(1)

    def keeps_first(frames, threshold):
        level = torch.log(frames + 0.1)
        change = level - torch.cat([level[:1], level[:-1]])
        return torch.stack([change >= threshold, change <= -threshold], dim=1).float()

    def off_as_minus_one(frames, threshold):
        events = camera(frames, threshold)
        return torch.stack([events[:, 0], -events[:, 1]], dim=1)

    def no_threshold(frames, threshold):
        return torch.log(frames[1:] + 0.1) - torch.log(frames[:-1] + 0.1)

    for fn, words in ((no_log, "logarithm"), (swapped, "swapped"), (keeps_first, "first frame"),
                      (off_as_minus_one, "OFF channel holds -1"),
                      (no_threshold, "compare them with the threshold")):
        passed, out = verdict(capsys, check_camera_events, fn)
        assert not passed and words in out, out


def test_recurrent_step_mistakes_are_named(capsys):
    def no_feedback(current, spk_prev, mem_prev, V, beta, theta):
        reset = (mem_prev > theta).float()
        mem = beta * mem_prev + current - reset * theta
        return (mem > theta).float(), mem

    def transposed(current, spk_prev, mem_prev, V, beta, theta):
        reset = (mem_prev > theta).float()
        mem = beta * mem_prev + current + spk_prev @ V - reset * theta
        return (mem > theta).float(), mem

    def this_step(current, spk_prev, mem_prev, V, beta, theta):
        reset = (mem_prev > theta).float()
        mem = beta * mem_prev + current - reset * theta
        mem = mem + (mem > theta).float() @ V.T
        return (mem > theta).float(), mem

    def late_reset(current, spk_prev, mem_prev, V, beta, theta):
        mem = beta * mem_prev + current + spk_prev @ V.T
        spk = (mem > theta).float()
        return spk, mem - spk * theta

    def zero_reset(current, spk_prev, mem_prev, V, beta, theta):
        reset = (mem_prev > theta).float()
        mem = beta * (1 - reset) * mem_prev + current + spk_prev @ V.T
        return (mem > theta).float(), mem

    for fn, words in ((no_feedback, "recurrent term"), (transposed, "untransposed"),
                      (this_step, "step t instead of step t-1"),
                      (late_reset, "new membrane"), (zero_reset, "to zero")):
        passed, out = verdict(capsys, check_recurrent_step, fn)
        assert not passed and words in out, (fn.__name__, out)


def test_linear_ops_mistakes_are_named(capsys):
    def whole_batch(spikes, out_features):
        return spikes.sum().item() * out_features, spikes.shape[2] * out_features

    def dense(spikes, out_features):
        return spikes[:, 0].numel() * out_features, spikes.shape[2] * out_features

    def ann_per_step(spikes, out_features):
        return linear_ops(spikes, out_features)[0], spikes.shape[0] * spikes.shape[2] * out_features

    for fn, words in ((whole_batch, "batch size"), (dense, "spiking or not"),
                      (ann_per_step, "once, not once per step")):
        passed, out = verdict(capsys, check_linear_ops, fn)
        assert not passed and words in out, (fn.__name__, out)


def test_not_implemented_is_reported(capsys):
    def todo(*args):
        raise NotImplementedError

    passed, out = verdict(capsys, check_recurrent_step, todo)
    assert not passed and "not implemented" in out
