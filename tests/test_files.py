"""Writing a file whole or not at all (snnlab.files), on a disk that fills up halfway."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from snnlab import files


def _full_after(limit: int):
    """A write() that stores ``limit`` bytes, then fails as a full disk does."""
    def write(file, data):
        file.write(data[:limit])
        file.flush()
        raise OSError(errno.ENOSPC, "No space left on device")
    return write


def test_a_write_that_succeeds_replaces_the_file_with_ordinary_permissions(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("old")
    files.write_text(target, "new text")
    assert target.read_text() == "new text"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("before", [None, "the old content"])
def test_a_full_disk_halfway_leaves_the_old_file_and_no_partial_one(tmp_path, before):
    target = tmp_path / "big.bin"
    if before is not None:
        target.write_text(before)
    with pytest.raises(OSError) as raised:
        with files.replacing(target) as temp, open(temp, "wb") as file:
            _full_after(100)(file, b"x" * 10_000)
    assert raised.value.errno == errno.ENOSPC
    message = str(raised.value)
    assert f"could not write {str(target)!r}" in message and "the disk is full" in message
    assert "No space left on device" in message and "free there" in message
    if before is None:
        assert list(tmp_path.iterdir()) == []
    else:
        assert target.read_text() == before and [p.name for p in tmp_path.iterdir()] == [
            "big.bin"]


def test_a_folder_that_refuses_the_file_stays_a_permission_error(tmp_path, monkeypatch):
    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path))

    monkeypatch.setattr(files.tempfile, "mkstemp", refused)
    with pytest.raises(PermissionError, match=r"could not write .*a\.txt.*Permission denied"):
        files.write_text(tmp_path / "a.txt", "text")
    assert list(tmp_path.iterdir()) == []


def test_other_errors_and_ctrl_c_pass_unchanged_and_leave_nothing(tmp_path):
    for error in (ValueError("not a write failure"), KeyboardInterrupt()):
        with pytest.raises(type(error)) as raised:
            with files.replacing(tmp_path / "a.txt") as temp:
                temp.write_text("half")
                raise error
        assert raised.value is error
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_not_a_file_to_write(tmp_path):
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        files.write_text(tmp_path, "text")
