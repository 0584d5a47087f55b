"""Lesson 00's environment check: one line per item, and no absolute machine paths stored."""

from __future__ import annotations

from pathlib import Path

from snnlab.course import environment


def test_short_path_is_relative_nearby_home_based_or_its_last_parts(tmp_path, monkeypatch):
    work = tmp_path / "a" / "b" / "c" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    assert environment.short_path(work / "data" / "MNIST") == str(Path("data", "MNIST"))
    assert environment.short_path(work.parent / "x") == str(Path("..", "x"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert environment.short_path(tmp_path / "home" / ".cache" / "snnlab") == str(
        Path("~", ".cache", "snnlab"))
    far = tmp_path / "opt" / "site-packages" / "binaries" / "ffmpeg"
    assert environment.short_path(far) == str(Path("...", "binaries", "ffmpeg"))


def test_check_prints_no_absolute_paths(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    environment.check()
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == len(environment.CHECKS) + 1
    for line in lines:
        assert not any(word.startswith(("/", "(/")) for word in line.split()), line
