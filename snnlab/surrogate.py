"""The spike function and its surrogate gradients.

A neuron spikes when its membrane potential U crosses the threshold theta:

    S = H(U - theta),    H(x) = 1 if x > 0 else 0       (strict: x = 0 does not fire)

The step H has derivative 0 everywhere (and no derivative at 0), so backpropagation
through it would teach nothing. A *surrogate gradient* keeps the exact step in the
forward pass and swaps in the derivative of a smooth curve in the backward pass:

    forward:   S = H(x)
    backward:  dL/dx = dL/dS * derivative(x)

Each factory below returns a :class:`Surrogate`. Call it on ``mem - threshold``:

    spike_fn = atan()
    spk = spike_fn(mem - threshold)          # 0/1 tensor, with a surrogate gradient
    spike_fn.derivative(torch.linspace(-1, 1, 101))   # the curve, for a plot

==================  ==========================================  ==============================
factory             derivative(x)                               smooth(x)
==================  ==========================================  ==============================
fast_sigmoid(k=25)  1 / (k|x| + 1)^2                            1/k + x / (1 + k|x|)
atan(a=2)           (a/2) / (1 + (pi/2 * a * x)^2)              1/2 + arctan(pi/2 * a * x) / pi
sigmoid(k=25)       k s(kx) s(-kx)                              s(kx) = 1 / (1 + e^(-kx))
straight_through()  1                                           1/2 + x
==================  ==========================================  ==============================

``smooth`` is the curve the backward pass pretends the step is: its derivative is exactly
``derivative``, and it is chosen to pass halfway up its rise at x = 0. Note that the
fast-sigmoid derivative has area 2/k, not 1, so its smooth curve only rises from 0 to 2/k.
The derivatives are the same formulas as snnTorch's ``surrogate`` module.

Each ``derivative`` below is the formula of its row, written as it reads. Lesson 03 teaches
this module; lesson 02 uses the spike function.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from snnlab import checks

__all__ = ["Surrogate", "SpikeFunction", "fast_sigmoid", "atan", "sigmoid", "straight_through"]


class SpikeFunction(torch.autograd.Function):
    """Heaviside step forward, ``grad * derivative(x)`` backward. Lesson 03."""

    @staticmethod
    def forward(ctx, x: Tensor, derivative: Callable[[Tensor], Tensor]) -> Tensor:
        ctx.save_for_backward(x)
        ctx.derivative = derivative
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_spike: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        return grad_spike * ctx.derivative(x), None


class Surrogate:
    """A spike function with a surrogate gradient: ``spk = surrogate(mem - threshold)``.

    Args:
        name: short name, e.g. ``"atan"``.
        derivative: the surrogate dS/dx as a plain function of x (used in the backward pass).
        smooth: a smooth curve whose derivative is ``derivative`` (only used for plots).
        params: the shape parameters, e.g. ``{"alpha": 2.0}``, shown in the repr.

    Lesson 03.
    """

    def __init__(
        self,
        name: str,
        derivative: Callable[[Tensor], Tensor],
        smooth: Callable[[Tensor], Tensor],
        params: dict[str, float] | None = None,
    ) -> None:
        self.name = name
        self.derivative = derivative
        self.smooth = smooth
        self.params = dict(params or {})

    def __call__(self, x: Tensor) -> Tensor:
        """Spikes ``(x > 0)`` in x's dtype; the backward pass uses ``derivative(x)``."""
        return SpikeFunction.apply(checks.tensor("x", x), self.derivative)

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value:g}" for key, value in self.params.items())
        return f"{self.name}({args})"


def fast_sigmoid(slope: float = 25.0) -> Surrogate:
    """Fast sigmoid (SuperSpike, Zenke & Ganguli 2018): dS/dx = 1 / (slope*|x| + 1)^2. Lesson 03."""
    k = checks.positive_number("slope", slope)

    def derivative(x: Tensor) -> Tensor:
        return 1 / (k * x.abs() + 1) ** 2

    def smooth(x: Tensor) -> Tensor:
        return 1.0 / k + x / (1.0 + k * x.abs())

    return Surrogate("fast_sigmoid", derivative, smooth, {"slope": k})


def atan(alpha: float = 2.0) -> Surrogate:
    """Arctangent (Fang et al. 2021): dS/dx = (alpha/2) / (1 + (pi/2 * alpha * x)^2). Lesson 03."""
    a = checks.positive_number("alpha", alpha)

    def derivative(x: Tensor) -> Tensor:
        return (a / 2) / (1 + (math.pi / 2 * a * x) ** 2)

    def smooth(x: Tensor) -> Tensor:
        return 0.5 + torch.atan(math.pi / 2 * a * x) / math.pi

    return Surrogate("atan", derivative, smooth, {"alpha": a})


def sigmoid(slope: float = 25.0) -> Surrogate:
    """Logistic sigmoid: dS/dx = slope * s(slope x) * s(-slope x), s(z) = 1 / (1 + e^(-z)).

    The textbook forms are the same number but lose it in float32. slope e^(-kx) /
    (1 + e^(-kx))^2 overflows to inf/inf = nan for very negative x (snnTorch's does, below
    about x = -3.5). k s (1 - s) cancels for positive x: s rounds to 1, so 1 - s is 0 from
    about x = 0.7 at slope 25, where the true value is 6e-7 (3.5e-10 at x = 1). Since
    1 - s(z) = s(-z), the form used here has no subtraction and is symmetric in x. Lesson 03.
    """
    k = checks.positive_number("slope", slope)

    def derivative(x: Tensor) -> Tensor:
        return k * torch.sigmoid(k * x) * torch.sigmoid(-k * x)

    def smooth(x: Tensor) -> Tensor:
        return torch.sigmoid(k * x)

    return Surrogate("sigmoid", derivative, smooth, {"slope": k})


def straight_through() -> Surrogate:
    """Straight-through estimator: dS/dx = 1, the gradient passes through unchanged. Lesson 03."""

    def derivative(x: Tensor) -> Tensor:
        return torch.ones_like(x)

    def smooth(x: Tensor) -> Tensor:
        return 0.5 + x

    return Surrogate("straight_through", derivative, smooth)
