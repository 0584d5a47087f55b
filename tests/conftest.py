"""Shared test fixtures: where the real MNIST is, and a private cache folder per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from snnlab.data import MNIST_FILES


def _find_mnist_root() -> Path | None:
    """SNNLAB_DATA_DIR if it holds MNIST/raw/*.gz, else the workplace's ../shared/data."""
    candidates = [os.environ.get("SNNLAB_DATA_DIR"),
                  Path(__file__).resolve().parents[1].parent / "shared" / "data"]
    for candidate in candidates:
        if candidate and all((Path(candidate) / "MNIST" / "raw" / n).exists() for n in MNIST_FILES):
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """A folder holding the four original MNIST .gz files; skips the test when there is none."""
    root = _find_mnist_root()
    if root is None:
        pytest.skip("real MNIST not found: set SNNLAB_DATA_DIR to a folder with MNIST/raw/*.gz")
    return root


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Each test session extracts MNIST into its own cache, never into the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
