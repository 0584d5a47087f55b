"""Checkers for the exercises of lesson 06: a spiking autoencoder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from snnlab.course.exercises.judge import Case, Mistake, compare_tensor, judge_int, run_cases
from snnlab.course.exercises.lesson04 import named, tell_apart
from snnlab.i18n import tr


def _transposed_size_measured(size: int, kernel_size: int, stride: int, padding: int,
                              output_padding: int) -> int:
    """The answer, measured: the side of a real ConvTranspose2d's output for a size x size input."""
    with torch.no_grad(), torch.random.fork_rng(devices=[]):  # the layer draws random weights
        layer = torch.nn.ConvTranspose2d(1, 1, kernel_size, stride=stride, padding=padding,
                                         output_padding=output_padding)
        return int(layer(torch.zeros(1, 1, size, size)).shape[-1])


def _transposed_size_mistakes() -> list[Mistake]:
    """Built when the checker runs, so that the messages are in the current language."""
    return [
        named(tr("use a convolution's rule, (size + 2 * padding - kernel_size) // stride + 1"),
              tr("a transposed convolution runs that rule backwards: (size - 1) * stride - 2 * "
                 "padding + kernel_size + output_padding"),
              lambda n, k, s, p, op: (n + 2 * p - k) // s + 1),
        named(tr("multiply size by stride, forgetting the - 1"),
              tr("n inputs stride pixels apart span (size - 1) * stride pixels, first to last"),
              lambda n, k, s, p, op: n * s - 2 * p + k + op),
        named(tr("leave out output_padding"),
              tr("add output_padding at the end"),
              lambda n, k, s, p, op: (n - 1) * s - 2 * p + k),
        named(tr("assume the layer doubles the side, size * stride"),
              tr("work it out from all five settings; doubling is right only for the decoder's"),
              lambda n, k, s, p, op: n * s),
        named(tr("take the padding off one side only"),
              tr("padding trims padding pixels from each side: subtract 2 * padding"),
              lambda n, k, s, p, op: (n - 1) * s - p + k + op),
        named(tr("add output_padding twice"),
              tr("output_padding adds its pixels on one side only: + output_padding, once"),
              lambda n, k, s, p, op: (n - 1) * s - 2 * p + k + 2 * op),
        named(tr("add the padding instead of subtracting it"),
              tr("a transposed convolution trims its padding: - 2 * padding"),
              lambda n, k, s, p, op: (n - 1) * s + 2 * p + k + op),
        named(tr("leave out the padding"),
              tr("subtract 2 * padding"),
              lambda n, k, s, p, op: (n - 1) * s + k + op),
        named(tr("add kernel_size - 1 instead of kernel_size"),
              tr("the last input's patch reaches kernel_size pixels: + kernel_size"),
              lambda n, k, s, p, op: (n - 1) * s - 2 * p + k - 1 + op),
    ]


def check_transposed_output_size(
    transposed_output_size: Callable[[int, int, int, int, int], int],
) -> bool:
    """Check ``transposed_output_size(size, kernel_size, stride, padding, output_padding) -> int``.

    A transposed convolution runs a convolution's size rule backwards (dilation 1):
    out = (size - 1) * stride - 2 * padding + kernel_size + output_padding.
    The expected values are measured with ``torch.nn.ConvTranspose2d``.
    """
    hint = "out = (size - 1) * stride - 2 * padding + kernel_size + output_padding"
    cases = []
    for what, args in [
        (tr("stride 3, padding 2, a 6x6 kernel: 9 -> 26"), (9, 6, 3, 2, 0)),
        (tr("the decoder's first layer: 4 -> 8"), (4, 3, 2, 1, 1)),
        (tr("the decoder's last layer: 16 -> 32"), (16, 3, 2, 1, 1)),
        (tr("without output_padding, stride 2 gives an odd size"), (4, 3, 2, 1, 0)),
        (tr("stride 1 and no padding grows the side by kernel_size - 1"), (7, 5, 1, 0, 0)),
        (tr("a 4x4 kernel with stride 2 and padding 1 doubles exactly"), (5, 4, 2, 1, 0)),
        (tr("stride 3, output_padding 2, padding 1"), (5, 3, 3, 1, 2)),
    ]:
        expected = _transposed_size_measured(*args)

        judge = judge_int(expected, tr("the output side"), tr("a number of pixels"))
        cases.append(Case(what, args, judge, hint))
    return run_cases("check_transposed_output_size", transposed_output_size,
                     tell_apart(cases, _transposed_size_mistakes()),
                     ("size", "kernel_size", "stride", "padding", "output_padding"))


def _leaky_readout_expected(currents: Tensor, beta: float) -> Tensor:
    """U[t] = beta U[t-1] + I[t] from U[-1] = 0, no threshold and no reset; returns U[T-1]."""
    membrane = torch.zeros_like(currents[0])
    for current in currents:
        membrane = beta * membrane + current
    return membrane


def _with_reset(currents: Tensor, beta: float) -> Tensor:
    """An ordinary LIF at threshold 1 with reset by subtraction: its last membrane."""
    membrane, spiked = torch.zeros_like(currents[0]), torch.zeros_like(currents[0])
    for current in currents:
        membrane = beta * membrane + current - spiked
        spiked = (membrane > 1).to(membrane.dtype)
    return membrane


def _leak(currents: Tensor, beta: float, gain: float = 1.0, start: Tensor | None = None) -> Tensor:
    membrane = torch.zeros_like(currents[0]) if start is None else start
    for current in currents:
        membrane = beta * membrane + gain * current
    return membrane


def _leaky_readout_mistakes() -> list[Mistake]:
    """Built when the checker runs, so that the messages are in the current language."""
    return [
        named(tr("add up the currents without the leak"),
              tr("let the old membrane decay at every step: U[t] = beta * U[t-1] + I[t]"),
              lambda c, b: c.sum(0)),
        named(tr("average the currents over time"),
              tr("U[t] = beta * U[t-1] + I[t], from U = 0"),
              lambda c, b: c.mean(0)),
        named(tr("weight step t by beta ** t, so the first step counts most"),
              tr("the current of step t decays once per step that follows it: beta ** (T - 1 - t)"),
              lambda c, b: sum(b ** t * c[t] for t in range(len(c)))),
        named(tr("leak once too often (U[t] = beta * (U[t-1] + I[t]), or beta ** (T - t))"),
              tr("leak first, then add this step's current in full: beta * U[t-1] + I[t]; the "
                 "last current counts with weight 1"),
              lambda c, b: b * _leaky_readout_expected(c, b)),
        named(tr("scale the current by (1 - beta), U[t] = beta * U[t-1] + (1 - beta) * I[t]"),
              tr("this layer adds the current in full: U[t] = beta * U[t-1] + I[t]"),
              lambda c, b: _leak(c, b, gain=1 - b)),
        named(tr("start from U = I[0] and then add I[0] again"),
              tr("start from U = 0 (U[-1] = 0), or from I[0] and loop over the remaining steps"),
              lambda c, b: _leak(c, b, start=c[0].clone())),
        named(tr("leave out the last step's current"),
              tr("loop over every step, currents[0] ... currents[T-1]"),
              lambda c, b: _leak(c[:-1], b, start=torch.zeros_like(c[0]))),
        named(tr("spike and reset at the threshold like an ordinary LIF"),
              tr("the output layer never spikes and is never reset; only the leak acts"),
              _with_reset),
        named(tr("return the membrane of every step"),
              tr("return only the last step's membrane, U[T-1], shape currents.shape[1:]"),
              lambda c, b: torch.stack([_leaky_readout_expected(c[: t + 1], b)
                                        for t in range(len(c))])),
        named(tr("return the first step's membrane"),
              tr("return the last step's, U[T-1]"),
              lambda c, b: c[0]),
    ]


def check_leaky_readout(leaky_readout: Callable[[Tensor, float], Tensor]) -> bool:
    """Check ``leaky_readout(currents, beta) -> reconstruction``.

    ``currents``: ``[T, ...]``, the input of a non-spiking output layer at each step. Its membrane
    only leaks and integrates, U[t] = beta * U[t-1] + I[t] with U[-1] = 0 (no threshold, no
    reset); return the last step's membrane U[T-1], shape ``currents.shape[1:]``.
    """
    generator = torch.Generator().manual_seed(6)
    hint = tr("U[t] = beta * U[t-1] + I[t] from U[-1] = 0, no threshold, no reset; return "
              "U[T-1]")
    cases = []
    for what, currents, beta in [
        (tr("one step: the membrane is the current"), torch.tensor([[0.3, -0.2, 1.5]]), 0.8),
        (tr("4 steps: 0.2 * 0.7 ** 3 + 0.4 * 0.7 ** 2 + 0.1 * 0.7 + 0.3"),
         torch.tensor([[0.2], [0.4], [0.1], [0.3]]), 0.7),
        (tr("the last step counts most: I = [1, 0, 0] and I = [0, 0, 1] side by side"),
         torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]), 0.6),
        (tr("no threshold and no reset: large currents keep adding up"),
         torch.tensor([[3.0], [3.0], [3.0]]), 0.8),
        (tr("images: currents [T, B, 1, H, W] = [5, 2, 1, 4, 4], beta 0.9"),
         torch.randn(5, 2, 1, 4, 4, generator=generator), 0.9),
    ]:
        expected = _leaky_readout_expected(currents, beta)
        cases.append(Case(what, (currents, beta),
                          lambda got, e=expected: compare_tensor(got, e,
                                                                 tr("the reconstruction")),
                          hint))
    return run_cases("check_leaky_readout", leaky_readout,
                     tell_apart(cases, _leaky_readout_mistakes()), ("currents", "beta"))


def _judge_loss(expected: Tensor) -> Callable[[Any], str | None]:
    """A loss must be a 0-dim tensor equal to ``expected``."""

    def judge(got: Any) -> str | None:
        if not isinstance(got, Tensor):
            return tr("the loss should be a torch.Tensor (so that .backward() works), but you "
                      "returned a {type}").format(type=type(got).__name__)
        if got.dim() != 0:
            return tr("the loss should be one number, a 0-dim tensor, but yours has shape "
                      "{shape}; average over every dimension").format(shape=list(got.shape))
        return compare_tensor(got, expected, tr("the loss"))

    return judge


def _mean_step_loss_mistakes() -> list[Mistake]:
    """Built when the checker runs, so that the messages are in the current language."""
    return [
        named(tr("score the last step only, like the recipe's loss"),
              tr("every step counts: average the error of all T steps"),
              lambda s, m, x: ((m[-1] - x) ** 2).mean()),
        named(tr("average the membrane over time first, then take one MSE"),
              tr("square each step's error before you average over time: the mean of the "
                 "per-step MSEs, not the MSE of the time-averaged membrane"),
              lambda s, m, x: ((m.mean(0) - x) ** 2).mean()),
        named(tr("add up the per-step errors instead of averaging them"),
              tr("divide by T: the mean over the steps, not their sum"),
              lambda s, m, x: ((m - x) ** 2).mean(dim=tuple(range(1, m.dim()))).sum()),
        named(tr("sum over the pixels instead of averaging"),
              tr("average over every pixel and image too: .mean() over all dimensions"),
              lambda s, m, x: ((m - x) ** 2).flatten(2).sum(-1).mean()),
        named(tr("take the absolute error instead of the squared one"),
              tr("square the difference: (membrane - images) ** 2"),
              lambda s, m, x: (m - x).abs().mean()),
        named(tr("take the square root (an RMSE)"),
              tr("the loss is the mean squared error, no root"),
              lambda s, m, x: ((m - x) ** 2).mean().sqrt()),
        named(tr("average the per-step RMSEs (a square root at every step)"),
              tr("the loss is the mean squared error, no root"),
              lambda s, m, x: ((m - x) ** 2).flatten(1).mean(1).sqrt().mean()),
        named(tr("return the per-step errors without averaging over the steps"),
              tr("average them too: a 0-dim tensor, the mean over every dimension"),
              lambda s, m, x: ((m - x) ** 2).flatten(1).mean(1)),
    ]


def check_mean_step_loss(mean_step_loss: Callable[[Tensor, Tensor, Tensor], Tensor]) -> bool:
    """Check ``mean_step_loss(spikes, membrane, images) -> loss``.

    ``membrane``: ``[T, B, 1, H, W]``, the output membrane (the reconstruction) at every step;
    ``images``: ``[B, 1, H, W]``; ``spikes`` (the latent spikes) is not used. The loss is the
    reconstruction MSE of every step, averaged over the steps:
    L = (1/T) sum_t mean_pixels (U[t] - x)^2, a 0-dim tensor that gradients flow through.
    """
    generator = torch.Generator().manual_seed(8)
    images = torch.rand(3, 1, 4, 4, generator=generator)
    latent = (torch.rand(5, 3, 8, generator=generator) < 0.3).float()  # not part of this loss
    perfect_late = torch.stack([torch.zeros_like(images), images])  # right at the last step only
    cancelling = torch.stack([images + 0.5, images - 0.5])  # the errors cancel in the time mean
    noisy = images + 0.3 * torch.randn(5, *images.shape, generator=generator)
    uneven = images + 0.1 * torch.randn(2, *images.shape, generator=generator)
    uneven[1] += 0.2
    hint = tr("L = the mean over steps, images and pixels of (membrane - images) ** 2")
    cases = []
    for what, membrane in [
        (tr("two steps, errors of every size"), uneven),
        (tr("two steps whose errors (+0.5 and -0.5) cancel in the mean over time"), cancelling),
        (tr("a reconstruction that is right at the last step only"), perfect_late),
        (tr("5 steps of noisy reconstructions"), noisy),
        (tr("one step: the plain MSE"), uneven[:1]),
    ]:
        expected = ((membrane - images) ** 2).mean()
        spikes = latent[: membrane.shape[0]]
        cases.append(Case(what, (spikes, membrane, images), _judge_loss(expected), hint))

    def keeps_graph(got: Any) -> str | None:
        if not isinstance(got, Tensor) or not got.requires_grad:
            return tr("the loss must stay connected to the membrane so that loss.backward() "
                      "can train the network, but yours has no gradient (requires_grad is "
                      "False)")
        return None

    trainable = noisy.clone().requires_grad_(True)
    cases.append(Case(tr("the loss keeps the graph for backpropagation"),
                      (latent, trainable, images), keeps_graph,
                      tr("use torch operations on the tensors; no .item(), .detach() or "
                         "numpy")))
    return run_cases("check_mean_step_loss", mean_step_loss,
                     tell_apart(cases, _mean_step_loss_mistakes()),
                     ("spikes", "membrane", "images"))
