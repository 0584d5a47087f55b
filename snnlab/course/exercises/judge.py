"""What every exercise checker shares: cases, known mistakes, a safe runner, readable messages.

Each exercise in a notebook asks you to write one function (or class). The cell after it calls
``check_<name>(your_function)`` from the lesson's module (``lesson01.py`` ... here), which runs
your function on fresh cases and prints exactly one line:

    ✓ check_lif_layer: passed 6 cases
    ✗ check_lif_layer: case 2 (...): your spikes are those of a reset computed from the current
      membrane: use the previous step's ...
    ✗ check_lif_layer: case 3 (...) with <the input>: <what was expected>, <what you returned>
    … check_lif_layer: not implemented yet ...

How a failure is explained: a checker lists the typical wrong answers to its exercise as
:class:`Mistake` objects (an off-by-one in time, ``>=`` for ``>``, a missing factor, ...). When a
case fails, the student's result is compared with what each mistake would have returned on the
same input; the first one that matches is named. Only when none matches does the line fall
back to input / expected / received.

In the course's language: every sentence (a case's description, a mistake, a hint, a judge's
verdict) goes through :func:`snnlab.i18n.tr` when the checker runs, because each ``check_<name>``
builds its cases and mistakes inside itself; after ``set_language("zh_CN")`` the line is Chinese.

Safe on anything a student writes. A checker never raises and never hangs:

- the function runs on copies of the inputs (when the checker asks for it), in a helper thread;
- an exception (even one raised by ``backward()`` called in the wrong place) is reported by type
  and message; a wrong type, shape or dtype is reported by what it should have been;
- a NaN anywhere in the answer is never "passed";
- **time limit**: each case may run for ``TIME_LIMIT_SECONDS`` (10 s; every reference solution
  needs well under 0.1 s). After that the checker stops the function by raising ``TimeLimit``
  inside its thread, which ends any loop written in Python (``while True: ...``). A single
  torch operation that runs longer cannot be interrupted from Python: the checker then says so
  and returns anyway, leaving that thread to finish in the background. This works the same in a
  Jupyter kernel, a script and pytest, on every operating system (no signals are used).
"""

from __future__ import annotations

import ctypes
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from snnlab.i18n import tr

TIME_LIMIT_SECONDS = 10.0


class TimeLimit(BaseException):  # noqa: N818 - it reads as "the time limit (was reached)"
    """Raised inside a student's function when its case ran past the time limit (a
    BaseException, so an ``except Exception`` in the student's loop cannot swallow it)."""


@dataclass
class Raised:
    """What a call produced when it raised instead of returning (given to mistake matchers)."""

    error: BaseException


@dataclass
class Mistake:
    """A typical wrong answer: how to recognise it, and the sentence that names it.

    ``matches(received, *args)`` is True when ``received`` (the student's result, or a
    :class:`Raised`) is what this mistake produces for the case's ``args``. Build it with
    :func:`gives` (same output as a wrong implementation) or write a predicate.
    """

    message: str
    matches: Callable[..., bool]


@dataclass
class Case:
    """One test case: the arguments, a description for messages, and how to judge the result.

    ``judge(received)`` returns None when the result is right, else a sentence saying what is
    wrong (expected versus received). ``mistakes`` are tried (before the checker's shared list)
    when the case fails.
    """

    what: str  # what the case checks, e.g. "a neuron below threshold just leaks"
    args: tuple
    judge: Callable[[Any], str | None]
    hint: str = ""  # printed after a failure no known mistake explains
    mistakes: Sequence[Mistake] = field(default_factory=tuple)


# --------------------------------------------------------------------------------- messages

def fmt(value: Any) -> str:
    """A short, readable rendering of a number or tensor for messages (4 significant digits)."""
    try:
        if isinstance(value, Tensor) and value.dim() == 0:
            return fmt(value.item())
        if isinstance(value, Tensor):
            flat = value.detach().cpu().reshape(-1)
            shown = ", ".join(fmt(v) for v in flat[:8].tolist())
            more = ", ..." if flat.numel() > 8 else ""
            values = f"[{shown}{more}]"
            if value.dim() != 1 or flat.numel() > 8:
                return tr("{values} (shape {shape})").format(values=values,
                                                              shape=list(value.shape))
            return values
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, float):
            if math.isinf(value) or math.isnan(value):
                return str(value)
            return f"{value:.4g}"
        if isinstance(value, (tuple, list)) and len(value) <= 4:
            inner = ", ".join(fmt(v) for v in value)
            return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
        text = repr(value)
    except Exception:  # a strange object whose repr fails
        text = f"<a {type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def sentences(*parts: str) -> str:
    """The non-empty ``parts`` in a row: a space after an English sentence, none after a
    Chinese one (Chinese puts no space after 。)."""
    text = ""
    for part in filter(None, parts):
        text += (" " if text and text[-1].isascii() else "") + part
    return text


def describe_args(names: tuple[str, ...], args: tuple) -> str:
    return ", ".join(f"{name}={fmt(arg)}" for name, arg in zip(names, args, strict=False))


def _first_line(error: BaseException) -> str:
    text = str(error)
    return text.split("  (")[0].splitlines()[0][:200] if text.strip() else ""


# --------------------------------------------------------------------------------- comparisons

def has_nan(value: Any) -> bool:
    """True when ``value`` (a number, a tensor, or a tuple / list of them) holds a NaN."""
    if isinstance(value, Tensor):
        return bool(value.is_floating_point() or value.is_complex()) and bool(
            torch.isnan(value.detach()).any())
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, (tuple, list)):
        return any(has_nan(v) for v in value[:16])
    return False


def same_tensor(received: Any, expected: Tensor, atol: float = 1e-5) -> bool:
    """True if ``received`` is a tensor with ``expected``'s shape and values (NaN never equal)."""
    if not isinstance(received, Tensor) or tuple(received.shape) != tuple(expected.shape):
        return False
    if received.is_complex():
        return False
    got = received.detach().cpu().to(torch.float64)
    want = expected.detach().cpu().to(torch.float64)
    return bool(torch.isclose(got, want, rtol=1e-4, atol=atol).all())


def compare_tensor(received: Any, expected: Tensor, label: str, atol: float = 1e-5) -> str | None:
    """None if ``received`` is a tensor equal to ``expected`` (same shape, values within atol,
    infinities in the same places; a NaN is never equal); else a sentence saying what differs."""
    if not isinstance(received, Tensor):
        return tr("{label} should be a torch.Tensor, but you returned a {type}").format(
            label=label, type=type(received).__name__)
    if tuple(received.shape) != tuple(expected.shape):
        return tr("{label} should have shape {expected}, but yours has shape {received}").format(
            label=label, expected=list(expected.shape), received=list(received.shape))
    if not same_tensor(received, expected, atol):
        return should_be(label, fmt(expected), fmt(received))
    return None


def should_be(label: str, expected: str, received: str) -> str:
    """The sentence "<label> should be <expected>, but yours is <received>" (values as text)."""
    return tr("{label} should be {expected}, but yours is {received}").format(
        label=label, expected=expected, received=received)


def judge_int(expected: int, label: str, why: str) -> Callable[[Any], str | None]:
    """A judge for an answer that must be the int ``expected`` (``why``: why an int)."""

    def judge(got: Any) -> str | None:
        if isinstance(got, int) and not isinstance(got, bool):
            return None if got == expected else should_be(label, str(expected), str(got))
        if isinstance(got, float) and got != expected:
            return should_be(label, str(expected), fmt(got))
        if isinstance(got, float):
            shown = tr("the float {value}").format(value=repr(got))
        elif isinstance(got, Tensor):
            shown = tr("the tensor {value}").format(value=fmt(got))
        else:
            shown = tr("a {type}", context="an object of this type").format(
                type=type(got).__name__)
        return tr("return an int ({why}), but yours is {shown}").format(why=why, shown=shown)

    return judge


def gives(wrong: Callable[..., Any], atol: float = 1e-5) -> Callable[..., bool]:
    """A matcher for :class:`Mistake`: True when the student's result equals ``wrong(*args)``.

    Tensors are compared by shape and value, tuples entry by entry, numbers within ``atol``.
    """

    def matches(received: Any, *args: Any) -> bool:
        return _equal(received, wrong(*args), atol)

    return matches


def same_as(message: str, wrong: Callable[..., Any]) -> Mistake:
    """A mistake named when the answer equals what ``wrong`` computes from the case's
    arguments, float tensors where it has float tensors (a bool answer of the right values is
    told so by the case). ``mistake.wrong`` is kept for ``lesson04.tell_apart``."""
    same_values = gives(wrong)

    def matches(received: Any, *args: Any) -> bool:
        return _floats_alike(received, wrong(*args)) and same_values(received, *args)

    mistake = Mistake(message, matches)
    mistake.wrong = wrong  # type: ignore[attr-defined]
    return mistake


def _floats_alike(received: Any, expected: Any) -> bool:
    if isinstance(expected, Tensor):
        return isinstance(received, Tensor) and (received.is_floating_point()
                                                 == expected.is_floating_point())
    if isinstance(expected, tuple) and isinstance(received, (tuple, list)):
        return all(_floats_alike(r, e) for r, e in zip(received, expected, strict=False))
    return True


def _equal(received: Any, expected: Any, atol: float) -> bool:
    if isinstance(expected, Tensor):
        return same_tensor(received, expected, atol)
    if isinstance(expected, tuple):
        return (isinstance(received, tuple) and len(received) == len(expected)
                and all(_equal(r, e, atol) for r, e in zip(received, expected, strict=True)))
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        if isinstance(received, bool) or not isinstance(received, (int, float)):
            return False
        return abs(received - expected) <= atol * (1 + abs(expected))  # False for NaN
    return False


# --------------------------------------------------------------------------------- running

def _copy(value: Any) -> Any:
    """A fresh copy of tensor arguments (with their requires_grad), so a function that changes
    its inputs in place cannot change the case."""
    if isinstance(value, Tensor):
        copy = value.detach().clone()
        return copy.requires_grad_() if value.requires_grad else copy
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    return value


def call_with_time_limit(fn: Callable[..., Any], args: tuple,
                         seconds: float) -> tuple[str, Any]:
    """Run ``fn(*args)`` in a helper thread for at most ``seconds``.

    Returns ``("returned", value)``, ``("raised", exception)``, ``("stopped", seconds)`` (it ran
    too long and was stopped) or ``("running", seconds)`` (too long, and stuck inside one
    operation that Python cannot interrupt; it goes on in the background).
    """
    outcome: dict[str, Any] = {}

    threads = torch.get_num_threads()

    def target() -> None:
        try:
            torch.set_num_threads(threads)  # OpenMP's thread count is set per calling thread
            outcome["returned"] = fn(*args)
        except BaseException as error:  # noqa: BLE001 - everything is reported, nothing raised
            outcome["raised"] = error

    worker = threading.Thread(target=target, name="snnlab-checker", daemon=True)
    worker.start()
    try:
        worker.join(seconds)
    except BaseException:  # e.g. the student pressed "interrupt kernel": stop the worker too
        _raise_in(worker)
        raise
    if worker.is_alive():
        _raise_in(worker)
        worker.join(1.0)
        if worker.is_alive():
            return "running", seconds
        return "stopped", seconds
    if "raised" in outcome:
        if isinstance(outcome["raised"], TimeLimit):
            return "stopped", seconds
        return "raised", outcome["raised"]
    return "returned", outcome.get("returned")


def _raise_in(thread: threading.Thread) -> None:
    """Raise TimeLimit inside ``thread`` at its next Python instruction."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                                   ctypes.py_object(TimeLimit))


def _matching_mistake(mistakes: Sequence[Mistake], received: Any, args: tuple) -> Mistake | None:
    for mistake in mistakes:
        try:
            if mistake.matches(received, *args):
                return mistake
        except Exception:  # a matcher that cannot handle this answer does not match it
            continue
    return None


def run_cases(name: str, student_fn: Any, cases: list[Case], arg_names: tuple[str, ...],
              mistakes: Sequence[Mistake] = (), *, copy_inputs: bool = False,
              time_limit: float | None = None) -> bool:
    """Run ``student_fn`` on every case; print one line about the first failure, or success.

    ``mistakes``: known wrong answers shared by all cases (each case may add its own).
    ``copy_inputs``: give the function copies of tensor arguments. ``time_limit``: seconds per
    case (default ``TIME_LIMIT_SECONDS``). Never raises, whatever ``student_fn`` does.
    """
    limit = TIME_LIMIT_SECONDS if time_limit is None else time_limit
    if not callable(student_fn):
        print(tr("✗ {name}: pass your function itself (without calling it), "
                 "e.g. {name}(my_function); got a {type}").format(
                     name=name, type=type(student_fn).__name__))
        return False
    # The cases are tiny: one thread runs them fastest, and on a busy machine several threads
    # per tiny operation can be 50 times slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(name, student_fn, cases, arg_names, mistakes, copy_inputs, limit)
    finally:
        torch.set_num_threads(threads)


def _run(name: str, student_fn: Callable[..., Any], cases: list[Case],
         arg_names: tuple[str, ...], mistakes: Sequence[Mistake], copy_inputs: bool,
         limit: float) -> bool:
    for number, case in enumerate(cases, start=1):
        inputs = describe_args(arg_names, case.args)
        where = tr("case {number} ({what})").format(number=number, what=case.what)
        args = _copy(case.args) if copy_inputs else case.args
        status, received = call_with_time_limit(student_fn, args, limit)
        if status == "raised" and isinstance(received, NotImplementedError):
            print(tr("… {name}: not implemented yet. Replace `raise NotImplementedError` with "
                     "your code, run that cell, then run this check again.").format(name=name))
            return False
        if status in ("stopped", "running"):
            still = (tr("It is stuck inside one long torch operation and keeps running "
                        "in the background.") if status == "running" else "")
            print(sentences(tr("✗ {name}: {where} with {inputs}: your function ran longer than the "
                     "{limit} s time limit (the reference takes well under a second), so it was "
                     "stopped. Look for a loop that never ends, or a loop over every element "
                     "where a tensor operation would do.").format(
                         name=name, where=where, inputs=inputs, limit=f"{limit:g}"), still))
            return False
        known = [*case.mistakes, *mistakes]
        try:
            if status == "raised":
                mistake = _matching_mistake(known, Raised(received), case.args)
                problem = (mistake.message if mistake else
                           tr("your function raised {type}: {message}").format(
                               type=type(received).__name__, message=_first_line(received)))
                named = mistake is not None
            else:
                # NaN first: it is never right, whatever a judge's comparison would say
                problem = (tr("your answer contains NaN: {value}").format(value=fmt(received))
                           if has_nan(received)
                           else case.judge(received))
                named = False
                if problem is not None:
                    mistake = _matching_mistake(known, received, case.args)
                    if mistake is not None:
                        problem, named = mistake.message, True
        except Exception as error:  # the answer broke the judge itself: say so, never raise
            problem = tr("your answer could not be checked ({type}: {message}); return what "
                         "the exercise asks for, of the type and shape it names").format(
                             type=type(error).__name__, message=_first_line(error))
            named = False
        if problem is not None:
            if named:  # the mistake's message is a whole sentence
                print(tr("✗ {name}: {where} with {inputs}: {problem}").format(
                    name=name, where=where, inputs=inputs, problem=problem))
            else:
                hint = tr("Hint: {hint}").format(hint=case.hint) if case.hint else ""
                print(sentences(tr("✗ {name}: {where} with {inputs}: {problem}.").format(
                    name=name, where=where, inputs=inputs, problem=problem), hint))
            return False
    print(tr("✓ {name}: passed {count} cases").format(name=name, count=len(cases)))
    return True
