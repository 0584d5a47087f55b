"""What every checker of lessons 04-10 promises, whatever a student writes: a function that
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
import test_exercises_lesson08
import test_exercises_lesson09
import test_exercises_lesson10

from snnlab.course.exercises import judge

CHECKS = [*test_exercises_lesson04.CHECKS, *test_exercises_lesson05.CHECKS,
          *test_exercises_lesson06.CHECKS, *test_exercises_lesson07.CHECKS,
          *test_exercises_lesson08.CHECKS, *test_exercises_lesson09.CHECKS,
          *test_exercises_lesson10.CHECKS]
NAMES = [check.__name__ for check, _ in CHECKS]


def test_every_checker_of_lessons_04_10_is_here():
    assert len(set(NAMES)) == len(NAMES) == 16


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


def test_the_checkers_shared_lines_speak_chinese(capsys):
    from snnlab import i18n

    check, correct = CHECKS[0]
    name = check.__name__

    def broken(*args):
        raise IndexError("index 7 is out of bounds")

    def stub(*args):
        raise NotImplementedError

    i18n.set_language("zh_CN")
    try:
        results = [check(correct), check(stub), check(broken), check(42)]
    finally:
        i18n.set_language("en")
    lines = capsys.readouterr().out.splitlines()
    assert results == [True, False, False, False]
    assert lines[0].startswith(f"✓ {name}：通过了全部 ") and lines[0].endswith(" 个测试用例")
    assert lines[1].startswith(f"… {name}：还没有实现。把 `raise NotImplementedError` 换成你的代码")
    assert lines[2].startswith(f"✗ {name}：第 1 个测试用例（")
    # the frame in Chinese (no space after 。); the case's own words and hint are the lesson's
    assert "：你的函数抛出了 IndexError：index 7 is out of bounds。提示：" in lines[2]
    assert lines[3] == (f"✗ {name}：请传入函数本身（不要调用它），例如 {name}(my_function)；"
                        "你传入的是 int")
    check(correct)  # English again, word for word
    assert capsys.readouterr().out.startswith(f"✓ {name}: passed ")
