"""Shared test fixtures: where the real MNIST is, a private cache folder per test, and what the
widget panels display; and a test run that leaves anything new in the checkout fails
(``checkout.py``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from checkout import leftovers

from snnlab.data import MNIST_FILES

REPO = Path(__file__).resolve().parents[1]
_found: dict[str, set[str] | None] = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    _found["before"] = leftovers(REPO)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before, after = _found.get("before"), leftovers(REPO)
    _found["new"] = set() if before is None or after is None else after - before
    if _found["new"] and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    if _found.get("new"):
        terminalreporter.section("left in the checkout", sep="=", red=True, bold=True)
        terminalreporter.write_line("This test run left new files in the checkout (tests must "
                                    "write into tmp_path); the run fails:")
        for path in sorted(_found["new"]):
            terminalreporter.write_line(f"  {path}")


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


@pytest.fixture
def shown(monkeypatch) -> list:
    """What the widget panels display, in order, instead of displaying it (a test module may
    define its own ``shown`` that also hands back display handles: ``test_widgets.py``)."""
    from snnlab.course.widgets import panels

    items: list = []
    monkeypatch.setattr(panels, "display", lambda obj, **kwargs: items.append(obj))
    return items
