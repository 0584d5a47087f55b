"""Course-wide settings: quick mode, seeding and the compute device.

Quick mode (``SNNLAB_QUICK=1``) makes every notebook run in seconds, for CI. It is the one
place that says how small "quick" is: ``QUICK_SIZES``.

The on/off environment variables (``SNNLAB_QUICK`` here, ``SNNLAB_REUSE_MEMORY`` in
``snnlab.bptt``) are read by one parser, :func:`env_flag`: it takes the usual spellings and
refuses anything else, rather than guess. A variable that names one of a few choices
(``SNNLAB_LANG`` in ``snnlab.i18n``) is read by :func:`env_choice`, which refuses the same way.
"""

from __future__ import annotations

import os
import random

import torch

# How an on/off environment variable may be written (any case, spaces around allowed).
ON_WORDS = ("1", "true", "yes", "on")
OFF_WORDS = ("0", "false", "no", "off")


def env_flag(name: str, default: bool) -> bool:
    """The on/off environment variable ``name``: True for 1, true, yes or on; False for 0,
    false, no or off (any case, spaces around allowed); ``default`` when it is unset or
    empty. Any other value is a ValueError naming the variable, its value and the spellings
    allowed (``SNNLAB_QUICK=flase`` must not silently run the full lessons). Lesson 00."""
    value = os.environ.get(name, "")
    word = value.strip().lower()
    if word == "":
        return default
    if word in ON_WORDS or word in OFF_WORDS:
        return word in ON_WORDS
    raise ValueError(f"the environment variable {name}={value!r} is neither on nor off: "
                     f"write {_either(ON_WORDS)} to switch it on, {_either(OFF_WORDS)} to "
                     f"switch it off (any case), or unset it (default: "
                     f"{'on' if default else 'off'})")


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    """The environment variable ``name``, one of ``choices`` (spaces around allowed);
    ``default`` when it is unset or empty. Any other value is a ValueError naming the variable,
    its value and the choices (``SNNLAB_LANG=zh`` must not silently mean English)."""
    value = os.environ.get(name, "")
    word = value.strip()
    if word == "":
        return default
    if word in choices:
        return word
    raise ValueError(f"the environment variable {name}={value!r} is not a choice it knows: "
                     f"write {_either(choices)}, or unset it (default: {default})")


def _either(words: tuple[str, ...]) -> str:
    return ", ".join(words[:-1]) + " or " + words[-1]


QUICK: bool = env_flag("SNNLAB_QUICK", default=False)

# What quick mode shrinks a lesson to: a small class-balanced subset and one short epoch.
QUICK_SIZES: dict[str, int] = {"train_images": 2000, "test_images": 500, "epochs": 1}


def seed_everything(seed: int = 0) -> None:
    """Seed Python's, PyTorch's (CPU and CUDA) random generators, for repeatable lessons."""
    random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:  # numpy is optional for snnlab itself
        pass


def device() -> torch.device:
    """The device to compute on: the first CUDA GPU when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
