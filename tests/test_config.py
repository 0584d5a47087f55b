import importlib
import random

import pytest
import torch

from snnlab import config


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("yes", True),
                                             ("0", False), ("", False), ("false", False)])
def test_quick_mode_read_from_environment(monkeypatch, value, expected):
    monkeypatch.setenv("SNNLAB_QUICK", value)
    assert importlib.reload(config).QUICK is expected
    monkeypatch.delenv("SNNLAB_QUICK")
    assert importlib.reload(config).QUICK is False
    monkeypatch.undo()  # put the real environment back, and with it the real QUICK
    importlib.reload(config)


def test_quick_sizes_are_small():
    assert config.QUICK_SIZES["train_images"] <= 5000
    assert config.QUICK_SIZES["test_images"] <= 1000
    assert config.QUICK_SIZES["epochs"] == 1


def test_seed_everything_repeats_random_draws():
    config.seed_everything(7)
    first = (random.random(), torch.rand(3))
    config.seed_everything(7)
    again = (random.random(), torch.rand(3))
    assert first[0] == again[0] and torch.equal(first[1], again[1])


def test_device_is_cuda_only_when_available():
    assert config.device().type == ("cuda" if torch.cuda.is_available() else "cpu")
