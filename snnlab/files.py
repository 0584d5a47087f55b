"""Writing a file whole or not at all (lesson 04).

Every file snnlab writes (checkpoints, training histories, metrics, handouts, videos) goes
through :func:`replacing`: the content goes into a temporary file in the target's own folder,
which is renamed over the target only once it is complete (a rename within one folder is
atomic on POSIX and Windows). So a full disk, a folder that turns read-only or a Ctrl-C
halfway leaves the target as it was (the old file, or none) and no temporary file behind,
and the error names the file and says why it could not be written::

    with files.replacing("runs/fc/fc.pt") as temp:
        torch.save(content, temp)
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["replacing", "write_text", "write_failed"]


@contextmanager
def replacing(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary file beside ``path`` to write into; it replaces ``path`` when the block ends.

    If the block raises (or the final rename fails), the temporary file is deleted and
    ``path`` is left as it was. A failed write (an ``OSError``: a full disk, a permission)
    is raised again as an ``OSError`` of the same kind, saying which file and why (see
    :func:`write_failed`); any other error is raised as it was. The file gets the usual
    permissions (``0o666`` less the umask), not the private ones of a temporary file.
    Lesson 04.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {str(path)!r}: it is a folder")
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise write_failed(path, error) from error
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except BaseException as error:  # Ctrl-C included: never leave the temporary file behind
        temp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise write_failed(path, error) from error
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (through :func:`replacing`). Lesson 04."""
    with replacing(path) as temp, open(temp, "w", newline="") as file:
        file.write(text)


def write_failed(path: Path, error: OSError) -> OSError:
    """The error for a write to ``path`` that failed with ``error``: the same kind of OSError
    (a PermissionError stays one), whose message names the file and says why (the disk is
    full, permission denied, ...), with the space left on that disk when it may be the cause.
    Lesson 04."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        why = f"the disk is full ({error.strerror}{_free_space(path)})"
    elif error.errno is not None:
        why = error.strerror or str(error)
    else:  # no error code: say how much room there is, in case that is the cause
        why = f"{error} ({_free_space(path).lstrip('; ')})"
    message = f"could not write {str(path)!r} (it was left as it was): {why}"
    return OSError(error.errno, message) if error.errno is not None else OSError(message)


def _free_space(path: Path) -> str:
    """'; 3.2 MB free there': the free space on the disk holding ``path`` ('' if unknown)."""
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return ""
    return f"; {free / 1e6:.1f} MB free there" if free >= 1e5 else f"; {free // 1000} kB free there"
