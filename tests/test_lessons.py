"""What every lesson promises its reader, read from the instructor edition (the one source):
lesson 00's course map lists every lesson and the exercises it asks for, every lesson opens
with its learning objectives, and every question a lesson asks is answered for the
instructor (a ``solution-explanation`` cell, which the student edition drops)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

SOLUTIONS = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"
LESSONS = sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
# Lessons whose "Why?" and "Things to try" are answered; 04-07 follow in the next step.
ANSWERED = ("00", "01", "02", "03")
QUESTION = re.compile(r"\bWhy\?|Things to try")


def _cells(lesson: Path) -> list[dict]:
    return json.loads(lesson.read_text(encoding="utf-8"))["cells"]


def _text(cell: dict) -> str:
    return "".join(cell["source"])


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _exercises(lesson: Path) -> list[str]:
    return [name for cell in _cells(lesson) if "solution" in _tags(cell)
            for name in re.findall(r"^(?:def|class)\s+(\w+)", _text(cell), re.MULTILINE)]


def test_there_are_lessons():
    assert [p.name[:2] for p in LESSONS[:4]] == ["00", "01", "02", "03"]


@pytest.mark.parametrize("lesson", LESSONS[1:], ids=lambda p: p.stem)
def test_the_course_map_of_lesson_00_lists_every_lesson_and_its_exercises(lesson):
    course_map = next(_text(c) for c in _cells(LESSONS[0]) if "The course at a glance" in _text(c))
    number = lesson.name[:2]
    rows = [line for line in course_map.splitlines() if line.startswith(f"| **{number} ")]
    assert len(rows) == 1, f"lesson 00's course map has no row of its own for lesson {number}"
    named = re.findall(r"`(\w+)`", rows[0].split("|")[-2])  # the last column: what you build
    assert sorted(named) == sorted(_exercises(lesson)), rows[0]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_opens_with_its_learning_objectives(lesson):
    first = _text(next(c for c in _cells(lesson) if c["cell_type"] == "markdown"))
    assert first.startswith(f"# {lesson.name[:2]} ")
    assert "**Learning objectives.**" in first
    objectives = first.split("**Learning objectives.**", 1)[1].split("\n\n", 2)[1]
    bullets = [line for line in objectives.splitlines() if line.startswith("- ")]
    assert len(bullets) >= 3, objectives


@pytest.mark.parametrize("lesson", [p for p in LESSONS if p.name[:2] in ANSWERED],
                         ids=lambda p: p.stem)
def test_every_question_is_answered_in_the_instructor_edition(lesson):
    cells = _cells(lesson)
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown" or "solution-explanation" in _tags(cell):
            continue
        if QUESTION.search(_text(cell)):
            # the answer follows the question, after at most the cell or two that let the
            # student try (a widget, a figure)
            following = cells[index + 1:index + 4]
            assert any("solution-explanation" in _tags(c) for c in following), (
                f"cell {index} asks {QUESTION.search(_text(cell)).group(0)!r} and no "
                "solution-explanation cell answers it")
