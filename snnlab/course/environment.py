"""The environment check of lesson 00: is everything the course needs here?

``environment.check()`` prints one line per item, ``OK`` or what is wrong and the exact fix, and
returns True when nothing essential is missing. Its lines are in the course's language
(``snnlab.i18n``): English, or Chinese in the Chinese edition.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from snnlab import config
from snnlab.i18n import pad, tr


def short_path(path: str | Path) -> str:
    """``path`` as a student can read it and a notebook can store without machine details:
    relative to the working folder when it is close by (``../data``), else from the home folder
    (``~/...``), else its last two parts (``.../binaries/ffmpeg``)."""
    path = Path(path).expanduser().absolute()
    try:
        relative = Path(os.path.relpath(path))
        if relative.parts[:3] != ("..",) * 3:  # at most two folders up
            return str(relative)
    except ValueError:  # another drive (Windows)
        pass
    home = Path.home()
    if path.is_relative_to(home) and path != home:
        return str(Path("~") / path.relative_to(home))
    return str(Path("...", *path.parts[-2:])) if len(path.parts) > 3 else str(path)


def _python() -> tuple[bool, str]:
    version, new_enough = sys.version.split()[0], sys.version_info >= (3, 10)
    return new_enough, (f"Python {version}" if new_enough else
                        tr("Python {version}. Fix: use Python 3.10 or newer").format(
                            version=version))


def _torch() -> tuple[bool, str]:
    import torch

    return True, f"torch {torch.__version__}"


def _device() -> tuple[bool, str]:
    dev = config.device()
    if dev.type == "cuda":
        import torch

        return True, tr("device: GPU ({name})").format(name=torch.cuda.get_device_name(0))
    return True, tr("device: CPU (fine: every lesson is sized for a CPU; "
                    "in Colab, Runtime > Change runtime type > GPU makes training faster)")


def _widgets() -> tuple[bool, str]:
    try:
        widgets = importlib.import_module("ipywidgets")
    except ImportError:
        return False, tr("ipywidgets missing. Fix: pip install ipywidgets, then restart the "
                         "kernel")
    return True, f"ipywidgets {widgets.__version__}"


def _ffmpeg() -> tuple[bool, str]:
    from snnlab import animate

    path = animate.ffmpeg_exe()
    if path is None:
        return False, tr("ffmpeg not found, so videos fall back to GIFs. "
                         "Fix: pip install imageio-ffmpeg, then restart the kernel")
    return True, tr("ffmpeg found ({path})").format(path=short_path(path))


def _mnist() -> tuple[bool, str]:
    from snnlab import data

    root = data.data_root()
    try:
        test_set = data.mnist(train=False, download=False)
    except data.MNISTNotFoundError:
        return False, tr("MNIST not found in {path}. Fix: set the environment variable "
                         "SNNLAB_DATA_DIR to a folder that holds MNIST/raw/ (the four .gz "
                         "files), or run snnlab.data.mnist(train=False) once with internet "
                         "access to download it (about 12 MB)"
                         ).format(path=short_path(root / "MNIST" / "raw"))
    if Path(test_set.root) == data.cache_dir() != root:  # an earlier download, not in root
        return True, tr("MNIST found ({count} test images, downloaded earlier into {cache}; "
                        "{root} has none)").format(count=len(test_set),
                                                   cache=short_path(data.cache_dir()),
                                                   root=short_path(root))
    return True, tr("MNIST found ({count} test images under {root})").format(
        count=len(test_set), root=short_path(root))


def _quick() -> tuple[bool, str]:
    if config.QUICK:
        return True, tr("quick mode ON (SNNLAB_QUICK is on): small data, short runs, for tests. "
                        "Unset SNNLAB_QUICK and restart the kernel for the full lessons")
    return True, tr("quick mode off: full lessons (set SNNLAB_QUICK=1 for a fast test run)")


CHECKS = {"Python": _python, "torch": _torch, "device": _device, "ipywidgets": _widgets,
          "ffmpeg": _ffmpeg, "MNIST": _mnist, "quick mode": _quick}


def _shown(name: str) -> str:
    """An item's name as the check shows it: the names that are words, translated."""
    return {"device": tr("device"), "quick mode": tr("quick mode")}.get(name, name)


def check() -> bool:
    """Print one line per check: ``OK`` or ``PROBLEM`` with the fix; True if all are OK."""
    all_ok = True
    for name, check in CHECKS.items():
        try:
            ok, message = check()
        except Exception as error:  # a broken install should be reported, not crash the check
            ok, message = False, f"{type(error).__name__}: {error}"
        all_ok &= ok
        status = tr("OK") if ok else tr("PROBLEM")
        print(f"{pad(status, 7)}  {pad(_shown(name), 11)} {message}")
    print(tr("All set: start with lesson 01.") if all_ok
          else tr("Fix the PROBLEM lines above, restart the kernel, and run this cell again."))
    return all_ok
