"""What every exercise checker shares: a ``Case``, ``run_cases`` and readable messages.

Each exercise in a notebook asks you to write one small function. The cell after it calls
``check_<name>(your_function)`` from the lesson's module (``lesson01.py`` ... here), which runs
your function on fresh cases and prints one of:

    ✓ check_lif_step: passed 6 cases
    ✗ check_lif_step: <which case failed>, <the input>, <what was expected>, <what you returned>
    … check_lif_step: not implemented yet ...

A checker never raises: it prints, and returns True (all cases pass) or False. The expected
values are computed from the same equations the lesson shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor


@dataclass
class Case:
    """One test case: the arguments, a description for messages, and how to judge the result.

    ``judge(received)`` returns None when the result is right, else a sentence saying what is
    wrong (expected versus received).
    """

    what: str  # what the case checks, e.g. "a neuron below threshold just leaks"
    args: tuple
    judge: Callable[[Any], str | None]
    hint: str = ""  # printed after a failure of this case: the usual cause


def fmt(value: Any) -> str:
    """A short, readable rendering of a number or tensor for messages (4 significant digits)."""
    if isinstance(value, Tensor) and value.dim() == 0:
        return fmt(value.item())
    if isinstance(value, Tensor):
        flat = value.detach().cpu().reshape(-1)
        shown = ", ".join(fmt(v) for v in flat[:8].tolist())
        more = ", ..." if flat.numel() > 8 else ""
        shape = f" (shape {list(value.shape)})" if value.dim() != 1 or flat.numel() > 8 else ""
        return f"[{shown}{more}]{shape}"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value) or math.isnan(value):
            return str(value)
        return f"{value:.4g}"
    return repr(value)


def describe_args(names: tuple[str, ...], args: tuple) -> str:
    return ", ".join(f"{name}={fmt(arg)}" for name, arg in zip(names, args, strict=True))


def compare_tensor(received: Any, expected: Tensor, label: str, atol: float = 1e-5) -> str | None:
    """None if ``received`` is a tensor equal to ``expected`` (same shape, values within atol,
    inf/nan in the same places); else a sentence saying what differs."""
    if not isinstance(received, Tensor):
        return f"{label} should be a torch.Tensor, but you returned a {type(received).__name__}"
    if tuple(received.shape) != tuple(expected.shape):
        return (f"{label} should have shape {list(expected.shape)}, "
                f"but yours has shape {list(received.shape)}")
    got = received.detach().cpu().to(torch.float64)
    want = expected.detach().cpu().to(torch.float64)
    same = torch.isclose(got, want, rtol=1e-4, atol=atol, equal_nan=True)
    if not bool(same.all()):
        return f"{label} should be {fmt(expected)}, but yours is {fmt(received)}"
    return None


def judge_int(expected: int, label: str, why: str) -> Callable[[Any], str | None]:
    """A judge for an answer that must be the int ``expected`` (``why``: why an int)."""

    def judge(got: Any) -> str | None:
        if isinstance(got, int) and not isinstance(got, bool):
            return None if got == expected else f"{label} should be {expected}, but yours is {got}"
        if isinstance(got, float) and got != expected:
            return f"{label} should be {expected}, but yours is {fmt(got)}"
        shown = (f"the float {got!r}" if isinstance(got, float) else f"the tensor {fmt(got)}"
                 if isinstance(got, Tensor) else f"a {type(got).__name__}")
        return f"return an int ({why}), but yours is {shown}"

    return judge


def run_cases(name: str, student_fn: Any, cases: list[Case], arg_names: tuple[str, ...]) -> bool:
    """Run ``student_fn`` on every case; print one line about the first failure, or success."""
    if not callable(student_fn):
        print(f"✗ {name}: pass your function itself (without calling it), "
              f"e.g. {name}(my_function); got a {type(student_fn).__name__}")
        return False
    for number, case in enumerate(cases, start=1):
        inputs = describe_args(arg_names, case.args)
        try:
            received = student_fn(*case.args)
        except NotImplementedError:
            print(f"… {name}: not implemented yet. Replace `raise NotImplementedError` with your "
                  "code, run that cell, then run this check again.")
            return False
        except Exception as error:  # report the student's error, never a traceback
            message = str(error).split("  (")[0].splitlines()[0][:200] if str(error) else ""
            problem = f"your function raised {type(error).__name__}: {message}"
        else:
            problem = case.judge(received)
        if problem is not None:
            hint = f" Hint: {case.hint}" if case.hint else ""
            print(f"✗ {name}: case {number} ({case.what}) with {inputs}: {problem}.{hint}")
            return False
    print(f"✓ {name}: passed {len(cases)} cases")
    return True
