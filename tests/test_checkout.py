"""A test run leaves nothing new in the checkout (tests/checkout.py, tests/conftest.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from checkout import leftovers

TESTS = Path(__file__).resolve().parent

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git_checkout(root: Path, *tracked: str) -> Path:
    """A git checkout at ``root`` with a .gitignore like the course's and ``tracked`` files
    committed."""
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=60)
    (root / ".gitignore").write_text("runs/\n__pycache__/\n.pytest_cache/\n")
    for name in tracked:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("tracked\n")
    subprocess.run(["git", "-C", str(root), "add", "."], check=True, timeout=60)
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-q", "-m", "a course"], check=True, timeout=60)
    return root


def test_leftovers_lists_untracked_and_ignored_paths_but_not_caches(tmp_path):
    root = _git_checkout(tmp_path / "course", "notebooks/01.ipynb", "snnlab/x.py")
    assert leftovers(root) == set()
    (root / "notebooks" / "runs" / "fc").mkdir(parents=True)
    (root / "notebooks" / "runs" / "fc" / "fc.pt").write_bytes(b"weights")
    (root / "notes.txt").write_text("mine")
    (root / "snnlab" / "__pycache__").mkdir(parents=True)
    (root / "snnlab" / "__pycache__" / "x.pyc").write_bytes(b"")
    (root / ".pytest_cache").mkdir()
    (root / ".pytest_cache" / "README.md").write_text("")
    assert leftovers(root) == {"notebooks/runs/", "notes.txt"}
    assert leftovers(tmp_path) is None  # not a checkout: nothing to say


def test_a_test_run_that_leaves_a_file_in_the_checkout_fails_and_names_it(tmp_path):
    """The real conftest, in a scratch checkout, with one test that writes runs/ beside it."""
    root = _git_checkout(tmp_path / "course", "tests/test_messy.py")
    for name in ("conftest.py", "checkout.py"):
        shutil.copy(TESTS / name, root / "tests" / name)
    (root / "tests" / "test_messy.py").write_text(
        "from pathlib import Path\n\n\ndef test_writes_beside_itself():\n"
        "    (Path(__file__).parents[1] / 'runs').mkdir()\n"
        "    (Path(__file__).parents[1] / 'runs' / 'fc.pt').write_bytes(b'weights')\n")
    subprocess.run(["git", "-C", str(root), "add", "tests"], check=True, timeout=60)
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-q", "-m", "its tests"], check=True, timeout=60)

    def pytest_run(*names: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               *names], cwd=root, capture_output=True, text=True, timeout=300)

    messy = pytest_run("tests/test_messy.py")
    assert messy.returncode == 1, messy.stdout + messy.stderr
    assert "1 passed" in messy.stdout
    assert "This test run left new files in the checkout" in messy.stdout
    assert "  runs/\n" in messy.stdout
