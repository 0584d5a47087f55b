import importlib
import os
import random
import subprocess
import sys

import pytest
import torch

from snnlab import config


@pytest.mark.parametrize("value, expected", [
    ("1", True), ("true", True), ("yes", True), ("on", True), (" TRUE ", True), ("On", True),
    ("0", False), ("", False), ("false", False), ("no", False), ("OFF", False), (" 0\n", False),
    ("  ", False)])
def test_quick_mode_read_from_environment(monkeypatch, value, expected):
    monkeypatch.setenv("SNNLAB_QUICK", value)
    assert importlib.reload(config).QUICK is expected
    monkeypatch.delenv("SNNLAB_QUICK")
    assert importlib.reload(config).QUICK is False
    monkeypatch.undo()  # put the real environment back, and with it the real QUICK
    importlib.reload(config)


@pytest.mark.parametrize("value", ["garbage", "2", "-1", "y", "flase", "enabled"])
def test_an_on_off_variable_refuses_a_spelling_it_does_not_know(monkeypatch, value):
    monkeypatch.setenv("SNNLAB_TEST_FLAG", value)
    with pytest.raises(ValueError) as error:
        config.env_flag("SNNLAB_TEST_FLAG", default=True)
    assert str(error.value) == (
        f"the environment variable SNNLAB_TEST_FLAG={value!r} is neither on nor off: write 1, "
        "true, yes or on to switch it on, 0, false, no or off to switch it off (any case), or "
        "unset it (default: on)")


@pytest.mark.parametrize("default", [True, False])
def test_an_unset_or_empty_on_off_variable_takes_its_default(monkeypatch, default):
    monkeypatch.delenv("SNNLAB_TEST_FLAG", raising=False)
    assert config.env_flag("SNNLAB_TEST_FLAG", default=default) is default
    monkeypatch.setenv("SNNLAB_TEST_FLAG", "")
    assert config.env_flag("SNNLAB_TEST_FLAG", default=default) is default


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


@pytest.mark.parametrize("value, expected", [("false", "False"), (" Off ", "False"),
                                             ("0", "False"), ("yes", "True"), ("", "True")])
def test_reuse_memory_reads_the_same_spellings(value, expected):
    """snnlab.bptt's switch (read when it is imported: a fresh process each)."""
    done = _python("import snnlab.bptt as b; print(b.REUSE_MEMORY)", SNNLAB_REUSE_MEMORY=value)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected + "\n"


def test_reuse_memory_refuses_garbage_by_name():
    done = _python("import snnlab.bptt", SNNLAB_REUSE_MEMORY="garbage")
    assert done.returncode != 0
    assert ("ValueError: the environment variable SNNLAB_REUSE_MEMORY='garbage' is neither on "
            "nor off") in done.stderr


def test_the_command_line_says_which_variable_is_wrong_in_one_line():
    done = subprocess.run([sys.executable, "-m", "snnlab", "train", "fc"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "SNNLAB_QUICK": "flase"})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("python -m snnlab: error: the environment variable "
                                  "SNNLAB_QUICK='flase' is neither on nor off: write 1, true")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


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
