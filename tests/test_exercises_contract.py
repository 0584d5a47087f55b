"""What every checker of lessons 04-07 promises, whatever a student writes: a function that
raises is reported by its error's type and message, one that runs too long is stopped at the
time limit, and the student edition's stub is "not implemented yet". Each lesson's own file
(``test_exercises_lessonNN.py``) holds its reference solutions (``CHECKS``) and its catalogue
of wrong answers; this file runs the shared promises over all of them."""

from __future__ import annotations

import time

import pytest
import test_exercises_lesson04
import test_exercises_lesson05
import test_exercises_lesson06
import test_exercises_lesson07

from snnlab.course.exercises import judge

CHECKS = [*test_exercises_lesson04.CHECKS, *test_exercises_lesson05.CHECKS,
          *test_exercises_lesson06.CHECKS, *test_exercises_lesson07.CHECKS]
NAMES = [check.__name__ for check, _ in CHECKS]


def test_every_checker_of_lessons_04_07_is_here():
    assert len(set(NAMES)) == len(NAMES) == 12


@pytest.mark.parametrize("check, correct", CHECKS, ids=NAMES)
def test_a_raising_answer_is_reported_by_type_and_message(check, correct, capsys):
    def broken(*args):
        raise IndexError("index 7 is out of bounds")

    assert check(broken) is False
    assert "your function raised IndexError: index 7 is out of bounds" in capsys.readouterr().out


@pytest.mark.parametrize("check, correct", CHECKS, ids=NAMES)
def test_a_slow_answer_is_stopped_at_the_time_limit(check, correct, monkeypatch, capsys):
    monkeypatch.setattr(judge, "TIME_LIMIT_SECONDS", 0.3)

    def slow(*args):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            pass
        return correct(*args)

    start = time.monotonic()
    assert check(slow) is False
    assert time.monotonic() - start < 3
    assert "ran longer than the 0.3 s time limit" in capsys.readouterr().out


@pytest.mark.parametrize("check, correct", CHECKS, ids=NAMES)
def test_stub_reports_not_implemented(check, correct, capsys):
    def stub(*args):
        raise NotImplementedError

    assert check(stub) is False
    assert "not implemented yet" in capsys.readouterr().out
