"""Checkers for the exercises of lesson 03: surrogate gradients."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from snnlab.course.exercises.judge import Case, compare_tensor, run_cases


def check_fast_sigmoid_backward(backward: Callable[[Tensor, Tensor, float], Tensor]) -> bool:
    """Check ``fast_sigmoid_backward(x, grad_output, slope) -> grad_input``.

    grad_input = grad_output / (slope * |x| + 1)^2   (the chain rule times the surrogate derivative)
    """
    x = torch.tensor([-1.0, -0.1, -0.02, 0.0, 0.02, 0.1, 1.0])
    cases = []
    for what, grad_output, slope, hint in [
        ("the derivative itself (grad_output = 1)", torch.ones(7), 25.0,
         "the derivative is 1 / (slope * |x| + 1) ** 2"),
        ("the chain rule multiplies by grad_output",
         torch.tensor([-2.0, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0]), 25.0,
         "return grad_output times the derivative"),
        ("another slope", torch.full((7,), 0.5), 5.0, "use the slope argument"),
    ]:
        expected = grad_output / (slope * x.abs() + 1.0) ** 2
        cases.append(Case(what, (x, grad_output, slope),
                          lambda got, e=expected: compare_tensor(got, e, "grad_input"), hint))
    return run_cases("check_fast_sigmoid_backward", backward, cases, ("x", "grad_output", "slope"))


def check_atan_derivative(derivative: Callable[[Tensor, float], Tensor]) -> bool:
    """Check ``atan_derivative(x, alpha) -> d``, the derivative of the arctan surrogate.

    smooth(x) = arctan(pi/2 * alpha * x) / pi + 1/2,
    d(x) = (alpha / 2) / (1 + (pi/2 * alpha * x)^2)
    """
    x = torch.tensor([-2.0, -0.5, -0.1, 0.0, 0.1, 0.5, 2.0])
    cases = []
    for what, alpha in [
        ("alpha = 2 (peak value 1 at x = 0)", 2.0),
        ("a wider surrogate, alpha = 0.5", 0.5),
        ("a narrower surrogate, alpha = 10", 10.0),
    ]:
        expected = (alpha / 2) / (1 + (math.pi / 2 * alpha * x) ** 2)
        cases.append(Case(what, (x, alpha),
                          lambda got, e=expected: compare_tensor(got, e, "the derivative"),
                          "d(x) = (alpha / 2) / (1 + (pi / 2 * alpha * x) ** 2)"))
    return run_cases("check_atan_derivative", derivative, cases, ("x", "alpha"))
