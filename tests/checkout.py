"""What a test run leaves in the checkout: nothing but Python's and pytest's own caches.

``tests/conftest.py`` lists the checkout's untracked paths (ignored ones too) when a test
session starts and again when it ends; any new one fails the run and is named. Tests write
into pytest's temporary folders (``tmp_path``), nbval runs notebooks that write nothing, and
the browser test's screenshots go to a temporary folder too, so that no ``runs/``,
``test-artifacts/`` or ``build/`` appears beside the lessons a student opens.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

CACHES = ("__pycache__", ".pytest_cache")  # what running Python and pytest always leave


def leftovers(root: Path) -> set[str] | None:
    """The paths git does not track in the checkout ``root``, ignored ones included (a new
    folder counts once, as ``runs/``), caches aside; None where ``root`` is not the top of a
    git checkout or git cannot be run."""
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--ignored",
                               "-z"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    paths = {entry[3:] for entry in done.stdout.split("\0") if entry[:3] in ("?? ", "!! ")}
    return {path for path in paths if not set(Path(path).parts) & set(CACHES)}
