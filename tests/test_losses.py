"""Losses and accuracy: real values, and a clear error for every careless input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from snnlab import checks, losses

T, B, C = 5, 4, 10
SPIKES = (torch.arange(T * B * C).reshape(T, B, C) % 3 == 0).float()
MEMBRANE = torch.linspace(-1, 1, T * B * C).reshape(T, B, C)
TARGETS = torch.tensor([0, 3, 9, 5])
CLASSIFIER_LOSSES = [losses.ce_membrane, losses.ce_rate, losses.mse_rate, losses.mse_count]


def test_losses_give_the_textbook_values():
    expected = sum(F.cross_entropy(MEMBRANE[t], TARGETS, reduction="sum") for t in range(T)) / B
    assert torch.allclose(losses.ce_membrane(SPIKES, MEMBRANE, TARGETS), expected)
    assert torch.allclose(losses.ce_rate(SPIKES, MEMBRANE, TARGETS),
                          F.cross_entropy(SPIKES.sum(0), TARGETS))
    counts = SPIKES.sum(0)
    assert losses.accuracy(SPIKES, TARGETS) == (counts.argmax(1) == TARGETS).float().mean().item()


@pytest.mark.parametrize("dtype", [torch.int32, torch.uint8, torch.int16])
@pytest.mark.parametrize("loss", CLASSIFIER_LOSSES)
def test_any_integer_label_dtype_gives_the_same_loss(loss, dtype):
    assert torch.equal(loss(SPIKES, MEMBRANE, TARGETS.to(dtype)), loss(SPIKES, MEMBRANE, TARGETS))


def _swap(x):
    return x.transpose(0, 1)


BAD = [
    # (arguments spikes, membrane, targets, error, words in the message)
    ((_swap(SPIKES), _swap(MEMBRANE), TARGETS), ValueError, r"did you pass \[batch, num_steps"),
    ((SPIKES[:, :3], MEMBRANE[:, :3], TARGETS), ValueError, "batch of 3.*4 targets"),
    ((SPIKES, MEMBRANE, torch.tensor([0, 1, 2, 10])), ValueError, r"targets .* \[0, 10\)"),
    ((SPIKES, MEMBRANE, torch.tensor([0, -1, 2, 3])), ValueError, r"targets .* \[0, 10\)"),
    ((SPIKES, MEMBRANE, TARGETS.float()), TypeError, "targets must be class labels"),
    ((SPIKES, MEMBRANE, F.one_hot(TARGETS, C)), TypeError, "targets must be class labels"),
    ((SPIKES, MEMBRANE, TARGETS > 3), TypeError, "targets must be class labels"),
    ((SPIKES, MEMBRANE, TARGETS.tolist()), TypeError, "targets must be a torch.Tensor"),
    ((SPIKES, MEMBRANE, TARGETS.numpy()), TypeError, r"targets .* torch.from_numpy\(targets\)$"),
    ((SPIKES, MEMBRANE, torch.tensor(3)), TypeError, "targets must be class labels"),
    ((SPIKES[0], MEMBRANE[0], TARGETS), ValueError, "time-first"),
    ((SPIKES[..., None], MEMBRANE[..., None], TARGETS), ValueError, "time-first"),
    ((SPIKES[:, :0], MEMBRANE[:, :0], TARGETS[:0]), ValueError, "none of them 0"),
    ((SPIKES[:0], MEMBRANE[:0], TARGETS), ValueError, "none of them 0"),
    ((SPIKES.long(), MEMBRANE.long(), TARGETS), TypeError, "floating-point"),
    ((None, None, TARGETS), TypeError, "must be a torch.Tensor, got NoneType"),
    ((SPIKES * np.nan, MEMBRANE * np.nan, TARGETS), checks.NonFiniteError, "holds NaN"),
    ((SPIKES, MEMBRANE, TARGETS.to("meta")), ValueError, "targets are on meta"),
]


@pytest.mark.parametrize("loss", CLASSIFIER_LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("args, error, words", BAD)
def test_careless_records_and_targets_are_named(loss, args, error, words):
    with pytest.raises(error, match=words):
        loss(*args)


@pytest.mark.parametrize("args, error, words", [
    ((_swap(SPIKES), TARGETS), ValueError, "did you pass"),
    ((SPIKES[:, :0], TARGETS[:0]), ValueError, "none of them 0"),
    ((SPIKES, torch.tensor([0, 1, 2, 10])), ValueError, "targets"),
    ((SPIKES * np.nan, TARGETS), checks.NonFiniteError, "spikes holds NaN"),
    ((SPIKES.numpy(), TARGETS), TypeError, r"spikes .* numpy"),
    ((TARGETS, SPIKES), TypeError, "spikes must be a floating-point"),
])
def test_accuracy_checks_like_the_losses(args, error, words):
    with pytest.raises(error, match=words):
        losses.accuracy(*args)


@pytest.mark.parametrize("name", ["correct_rate", "incorrect_rate"])
@pytest.mark.parametrize("value, error", [(1.5, ValueError), (-0.1, ValueError),
                                          (float("nan"), ValueError), ("0.8", TypeError)])
def test_mse_count_rates_are_checked(name, value, error):
    with pytest.raises(error, match=name):
        losses.mse_count(SPIKES, MEMBRANE, TARGETS, **{name: value})


IMAGES = torch.rand(B, 1, 8, 8)
RECORD = torch.rand(T, B, 1, 8, 8)


def test_reconstruction_is_the_last_step_mse():
    assert torch.allclose(losses.reconstruction(None, RECORD, IMAGES),
                          ((RECORD[-1] - IMAGES) ** 2).mean())


@pytest.mark.parametrize("membrane, images, error, words", [
    (_swap(RECORD), IMAGES, ValueError, "membrane must be time-first"),
    (RECORD[0], IMAGES, ValueError, "membrane must be time-first"),
    (RECORD[:0], IMAGES, ValueError, "membrane must be time-first"),
    (RECORD, torch.rand(B, 1, 6, 6), ValueError, "membrane must be time-first"),
    (RECORD * np.nan, IMAGES, checks.NonFiniteError, "membrane holds NaN"),
    (RECORD, IMAGES * np.inf, checks.NonFiniteError, "targets holds"),
    (RECORD, IMAGES * 255, ValueError, r"targets must lie in \[0, 1\]"),
    (RECORD, (IMAGES * 255).to(torch.uint8), TypeError, r"targets.float\(\) / 255"),
    (RECORD, TARGETS, TypeError, "targets must be a floating-point"),
])
def test_reconstruction_rejects_careless_input(membrane, images, error, words):
    with pytest.raises(error, match=words):
        losses.reconstruction(None, membrane, images)
