"""Course-wide settings: quick mode, seeding and the compute device.

Quick mode (``SNNLAB_QUICK=1``) makes every notebook run in seconds, for CI. It is the one
place that says how small "quick" is: ``QUICK_SIZES``.
"""

from __future__ import annotations

import os
import random

import torch


def _env_flag(name: str) -> bool:
    """True when the environment variable is set to anything but '', '0', 'false' or 'no'."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


QUICK: bool = _env_flag("SNNLAB_QUICK")

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
