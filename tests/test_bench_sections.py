"""bench/sections.py: a benchmark's rerun replaces its own section of bench/results.md."""

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "bench_sections", Path(__file__).resolve().parent.parent / "bench" / "sections.py")
sections = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(sections)

START = ("# Benchmarks\n\nintro\n\n## Lesson 08 neurons: old\n\nA\n\n## Lesson 08: old\n\nB\n\n"
         "## Last (2026-01-01)\n\nC\n")


def test_a_rerun_replaces_its_section_where_it_stands(tmp_path):
    path = tmp_path / "results.md"
    path.write_text(START)
    sections.replace_section("Lesson 08", "## Lesson 08: new\n\nB2\n", path)
    text = path.read_text()
    # the section of that title, not the longer "Lesson 08 neurons" that starts alike
    assert text == START.replace("## Lesson 08: old\n\nB", "## Lesson 08: new\n\nB2")
    sections.replace_section("Last", "## Last (2026-12-06)\n\nC2\n", path)
    assert path.read_text().endswith("## Lesson 08: new\n\nB2\n\n## Last (2026-12-06)\n\nC2\n")
    assert path.read_text().count("## ") == 3


def test_a_new_section_goes_at_the_end(tmp_path):
    path = tmp_path / "results.md"
    path.write_text(START)
    sections.replace_section("New", "## New: first run\n\nD\n", path)
    assert path.read_text() == START + "\n## New: first run\n\nD\n"


def test_a_section_must_start_with_its_title(tmp_path):
    path = tmp_path / "results.md"
    path.write_text(START)
    with pytest.raises(ValueError, match="must start with '## Lesson 08'"):
        sections.replace_section("Lesson 08", "## Lesson 08 neurons: x\n", path)
    assert path.read_text() == START
