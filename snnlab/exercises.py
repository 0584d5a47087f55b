"""Checkers for the lesson exercises.

Each exercise in a notebook asks you to write one small function. The cell after it calls
``check_<name>(your_function)``, which runs your function on fresh cases and prints one of:

    ✓ check_lif_step: passed 6 cases
    ✗ check_lif_step: <which case failed>, <the input>, <what was expected>, <what you returned>
    … check_lif_step: not implemented yet ...

A checker never raises: it prints, and returns True (all cases pass) or False. The expected
values are computed here from the same equations the lesson shows.

The module has one section per lesson. To add exercises for a new lesson, add a section with
its ``check_<name>`` functions built on ``_run_cases`` and a ``Case`` list.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from snnlab.neurons import LIF, reset_states

# ---------------------------------------------------------------------------------------------
# Shared machinery
# ---------------------------------------------------------------------------------------------


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


def _fmt(value: Any) -> str:
    """A short, readable rendering of a number or tensor for messages (4 significant digits)."""
    if isinstance(value, Tensor) and value.dim() == 0:
        return _fmt(value.item())
    if isinstance(value, Tensor):
        flat = value.detach().cpu().reshape(-1)
        shown = ", ".join(_fmt(v) for v in flat[:8].tolist())
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


def _describe_args(names: tuple[str, ...], args: tuple) -> str:
    return ", ".join(f"{name}={_fmt(arg)}" for name, arg in zip(names, args, strict=True))


def _compare_tensor(received: Any, expected: Tensor, label: str, atol: float = 1e-5) -> str | None:
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
        return f"{label} should be {_fmt(expected)}, but yours is {_fmt(received)}"
    return None


def _judge_int(expected: int, label: str, why: str) -> Callable[[Any], str | None]:
    """A judge for an answer that must be the int ``expected`` (``why``: why an int)."""

    def judge(got: Any) -> str | None:
        if isinstance(got, int) and not isinstance(got, bool):
            return None if got == expected else f"{label} should be {expected}, but yours is {got}"
        if isinstance(got, float) and got != expected:
            return f"{label} should be {expected}, but yours is {_fmt(got)}"
        shown = (f"the float {got!r}" if isinstance(got, float) else f"the tensor {_fmt(got)}"
                 if isinstance(got, Tensor) else f"a {type(got).__name__}")
        return f"return an int ({why}), but yours is {shown}"

    return judge


def _run_cases(name: str, student_fn: Any, cases: list[Case], arg_names: tuple[str, ...]) -> bool:
    """Run ``student_fn`` on every case; print one line about the first failure, or success."""
    if not callable(student_fn):
        print(f"✗ {name}: pass your function itself (without calling it), "
              f"e.g. {name}(my_function); got a {type(student_fn).__name__}")
        return False
    for number, case in enumerate(cases, start=1):
        inputs = _describe_args(arg_names, case.args)
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


# ---------------------------------------------------------------------------------------------
# Lesson 01: spike encoding
# ---------------------------------------------------------------------------------------------


def _judge_rate_code(images: Tensor, num_steps: int, gain: float) -> Callable[[Any], str | None]:
    """Rate code: spikes[t, ...] ~ Bernoulli(gain * images), shape [num_steps, *images.shape]."""
    probability = gain * images
    want_shape = [num_steps, *images.shape]

    def judge(spikes: Any) -> str | None:
        if not isinstance(spikes, Tensor):
            return f"expected a torch.Tensor of spikes, but you returned a {type(spikes).__name__}"
        if list(spikes.shape) != want_shape:
            return (f"the spikes should have shape {want_shape} (time first), "
                    f"but yours have shape {list(spikes.shape)}")
        if not spikes.is_floating_point():
            return f"spikes should be a float tensor (0.0 and 1.0), but yours are {spikes.dtype}"
        if not bool(((spikes == 0) | (spikes == 1)).all()):  # e.g. probabilities, not samples
            return ("every entry should be a spike (1.0) or no spike (0.0), but yours include "
                    f"{_fmt(spikes[(spikes != 0) & (spikes != 1)][:4])}")
        rate = spikes.float().mean(dim=0)
        # Over >= 2000 steps a rate's standard error is <= 0.011, so allow 0.05. Over a few steps
        # only certain pixels (probability 0 or 1) have a known rate.
        if num_steps >= 2000:
            judged = torch.ones_like(rate, dtype=torch.bool)
            tolerance = 0.05
        else:
            judged = (probability == 0) | (probability == 1)
            tolerance = 0.0
        if not bool(((rate - probability).abs() <= tolerance)[judged].all()):
            return (f"the firing rate of each pixel (mean over time) should be about "
                    f"{_fmt(probability)}, but yours is {_fmt(rate)}")
        return None

    return judge


def check_rate_code(rate_code: Callable[[Tensor, int, float], Tensor]) -> bool:
    """Check ``rate_code(images, num_steps, gain) -> spikes``.

    Each pixel (in [0, 1]) fires independently at every step with probability p = gain * pixel,
    gain in [0, 1], as in ``snnlab.encoding.rate``; the result has shape
    [num_steps, *images.shape] and holds 0.0 / 1.0.
    """
    cases = []
    for what, images, num_steps, gain, hint in [
        ("time comes first in the shape", torch.full((2, 3), 0.5), 7, 1.0,
         "stack or repeat along a new first dimension of length num_steps"),
        ("black pixels never fire, white ones always do", torch.tensor([0.0, 1.0, 0.0]), 20, 1.0,
         "sample 0/1 spikes, e.g. with torch.bernoulli"),
        ("the firing rate equals the pixel value", torch.tensor([0.1, 0.5, 0.8]), 4000, 1.0,
         "draw a fresh random sample at every time step"),
        ("gain scales the firing rate", torch.tensor([0.2, 0.6, 1.0]), 4000, 0.5,
         "the spike probability is gain * pixel"),
        ("gain 0 silences every pixel", torch.tensor([0.3, 1.0]), 50, 0.0,
         "the spike probability is gain * pixel"),
    ]:
        judge = _judge_rate_code(images, num_steps, gain)
        cases.append(Case(what, (images, num_steps, gain), judge, hint))
    with torch.random.fork_rng(devices=[]):  # don't disturb the notebook's random stream
        torch.manual_seed(1234)
        return _run_cases("check_rate_code", rate_code, cases, ("images", "num_steps", "gain"))


def _expected_spike_time(current: Tensor, tau: float, threshold: float) -> Tensor:
    """RC membrane U(t) = I (1 - exp(-t / tau)) reaches threshold at t = tau ln(I / (I - thr));
    a current at or below threshold never gets there (t = inf)."""
    above = current > threshold
    safe = torch.where(above, current, torch.full_like(current, threshold + 1.0))
    time = tau * torch.log(safe / (safe - threshold))
    return torch.where(above, time, torch.full_like(current, math.inf))


def check_spike_time(spike_time: Callable[[Tensor, float, float], Tensor]) -> bool:
    """Check ``spike_time(current, tau, threshold) -> times``.

    A membrane charged by a constant current I from U = 0 follows U(t) = I (1 - exp(-t/tau)) and
    crosses the threshold at t = tau * ln(I / (I - threshold)). If I <= threshold it never does:
    return inf there.
    """
    cases = []
    formula = "t = tau * ln(current / (current - threshold))"
    for what, current, tau, threshold, hint in [
        ("a current of twice the threshold fires at tau * ln 2", torch.tensor([2.0]), 1.0, 1.0,
         formula),
        ("stronger currents fire earlier", torch.tensor([1.5, 3.0, 10.0]), 1.0, 1.0, formula),
        ("the time scales with tau", torch.tensor([1.5, 3.0, 10.0]), 5.0, 1.0, formula),
        ("another threshold", torch.tensor([0.5, 0.9, 2.0]), 2.0, 0.2, formula),
        ("currents at or below threshold never fire (inf)", torch.tensor([0.0, 0.1, 0.2, 0.4]),
         1.0, 0.2, "use torch.where to put inf where current <= threshold"),
    ]:
        expected = _expected_spike_time(current, tau, threshold)
        cases.append(Case(what, (current, tau, threshold),
                          lambda got, e=expected: _compare_tensor(got, e, "the spike times"), hint))
    return _run_cases("check_spike_time", spike_time, cases, ("current", "tau", "threshold"))


# ---------------------------------------------------------------------------------------------
# Lesson 02: the leaky integrate-and-fire neuron
# ---------------------------------------------------------------------------------------------


def check_beta(beta_from_tau: Callable[[Any, float], Any]) -> bool:
    """Check ``beta_from_tau(tau, dt) -> beta``: the exact decay per step, beta = exp(-dt / tau).

    It must work for a float tau and for a tensor of taus.
    """
    cases = []
    for what, tau, dt in [
        ("tau = 5 ms, dt = 1 ms", 5e-3, 1e-3),
        ("tau equal to dt gives 1/e", 2e-3, 2e-3),
        ("a slow membrane barely decays", 0.1, 1e-3),
        ("a tensor of taus", torch.tensor([1e-3, 1e-2, 1e-1]), 1e-3),
    ]:
        expected = torch.exp(-dt / torch.as_tensor(tau, dtype=torch.float64))

        def judge(got: Any, e: Tensor = expected) -> str | None:
            if isinstance(got, (int, float)) and e.dim() == 0:  # a float tau may give a float
                got = torch.tensor(float(got))
            return _compare_tensor(got, e, "beta", atol=1e-6)

        hint = "beta = exp(-dt / tau); 1 - dt / tau is only its first-order approximation"
        cases.append(Case(what, (tau, dt), judge, hint))
    return _run_cases("check_beta", beta_from_tau, cases, ("tau", "dt"))


def _expected_lif_step(
    input_: Tensor, mem: Tensor, beta: float, threshold: float
) -> tuple[Tensor, Tensor]:
    """One LIF step with reset by subtraction (as snnlab.neurons.LIF):
    reset = H(U[t-1] - thr); U[t] = beta U[t-1] + I[t] - reset thr; S[t] = H(U[t] - thr)."""
    reset = (mem - threshold > 0).to(mem.dtype)
    new_mem = beta * mem + input_ - reset * threshold
    spikes = (new_mem - threshold > 0).to(mem.dtype)
    return spikes, new_mem


def check_lif_step(
    lif_step: Callable[[Tensor, Tensor, float, float], tuple[Tensor, Tensor]],
) -> bool:
    """Check ``lif_step(input, mem, beta, threshold) -> (spikes, new_mem)``.

    reset = H(mem - threshold)           (did the neuron spike on the previous step?)
    new_mem = beta * mem + input - reset * threshold
    spikes = H(new_mem - threshold)      (H(x) = 1 if x > 0 else 0, as floats)
    """
    cases = []
    for what, input_, mem, beta, threshold, hint in [
        ("a neuron below threshold leaks and integrates",
         torch.tensor([0.2]), torch.tensor([0.5]), 0.9, 1.0, "new_mem = beta * mem + input"),
        ("crossing the threshold emits a spike",
         torch.tensor([0.2]), torch.tensor([0.95]), 0.9, 1.0,
         "the reset depends on the previous membrane (mem), the spike on the new one"),
        ("a neuron that was above threshold is reset by subtracting the threshold",
         torch.tensor([0.1]), torch.tensor([1.2]), 0.9, 1.0,
         "reset = H(mem - threshold) uses the membrane from the previous step"),
        ("exactly at threshold is not above it",
         torch.tensor([0.0]), torch.tensor([1.0]), 1.0, 1.0,
         "H(x) is 1 only for x > 0, strictly: use > rather than >="),
        ("a batch of neurons with another beta and threshold",
         torch.tensor([0.5, 1.0, 0.0, 2.5]), torch.tensor([0.0, 1.5, 2.5, 1.0]), 0.8, 2.0,
         "use the beta and threshold arguments rather than fixed numbers"),
    ]:
        want_spikes, want_mem = _expected_lif_step(input_, mem, beta, threshold)

        def judge(got: Any, s: Tensor = want_spikes, m: Tensor = want_mem) -> str | None:
            if not (isinstance(got, tuple) and len(got) == 2):
                return "return a tuple (spikes, new_mem)"
            return _compare_tensor(got[1], m, "new_mem") or _compare_tensor(got[0], s, "spikes")

        cases.append(Case(what, (input_, mem, beta, threshold), judge, hint))
    return _run_cases("check_lif_step", lif_step, cases, ("input", "mem", "beta", "threshold"))


# ---------------------------------------------------------------------------------------------
# Lesson 03: surrogate gradients
# ---------------------------------------------------------------------------------------------


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
                          lambda got, e=expected: _compare_tensor(got, e, "grad_input"), hint))
    return _run_cases("check_fast_sigmoid_backward", backward, cases, ("x", "grad_output", "slope"))


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
                          lambda got, e=expected: _compare_tensor(got, e, "the derivative"),
                          "d(x) = (alpha / 2) / (1 + (pi / 2 * alpha * x) ** 2)"))
    return _run_cases("check_atan_derivative", derivative, cases, ("x", "alpha"))


# ---------------------------------------------------------------------------------------------
# Lesson 04: a fully connected SNN on MNIST
# ---------------------------------------------------------------------------------------------


def _spikes_from_counts(counts: list[list[int]], num_steps: int) -> Tensor:
    """0/1 spikes [num_steps, batch, classes] with the given counts, each neuron's spikes at
    its last steps (so every active neuron fires at the last step: a last-step guess fails)."""
    counts_t = torch.tensor(counts)
    steps = torch.arange(num_steps).view(-1, 1, 1)
    return (steps >= num_steps - counts_t).float()


def _judge_number(expected: float, label: str,
                  batch: int | None = None) -> Callable[[Any], str | None]:
    """Judge one number (a float, or a tensor holding one value) against ``expected``."""

    def judge(got: Any) -> str | None:
        if isinstance(got, Tensor):
            if got.numel() != 1:
                return (f"{label} is one number, but you returned a tensor of shape "
                        f"{list(got.shape)}")
            got = got.item()
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return f"{label} should be a number, but you returned {type(got).__name__}"
        if abs(got - expected) > 1e-6:
            extra = (" (that is the number of correct samples; divide by the batch size)"
                     if batch is not None and abs(got - expected * batch) < 1e-6 and batch > 1
                     else "")
            return f"{label} should be {_fmt(float(expected))}, but yours is {_fmt(got)}{extra}"
        return None

    return judge


def check_accuracy(accuracy: Callable[[Tensor, Tensor], float]) -> bool:
    """Check ``accuracy(spikes, targets) -> float``.

    spikes ``[num_steps, batch, classes]``, targets ``[batch]``. Each sample's prediction is the
    output neuron with the most spikes over all steps (a tie goes to the lowest class, as
    ``argmax`` does); the result is the fraction of samples predicted correctly.
    """
    counts_hint = "count each neuron's spikes over time, spikes.sum(0), then argmax(-1)"
    cases = []
    for what, counts, num_steps, targets, hint in [
        ("one sample: the class with the most spikes wins", [[1, 3, 0]], 4, [1], counts_hint),
        ("a batch: the fraction of samples predicted correctly",
         [[4, 1, 0], [0, 2, 1], [1, 1, 3], [2, 0, 1]], 5, [0, 1, 2, 1],
         "compare the predictions with the targets and take the mean of the matches"),
        ("the counts over all steps decide, not the last step",
         [[1, 5, 0], [2, 0, 6]], 6, [1, 2], counts_hint),
        ("time is the first dimension (6 steps, 3 samples, 4 classes)",
         [[0, 5, 1, 0], [2, 0, 0, 3], [1, 1, 4, 0]], 6, [1, 3, 2],
         "sum over dim 0 (time): spikes.sum(0) has shape [batch, classes]"),
        ("a tie goes to the lowest class, like argmax", [[2, 2, 1], [0, 3, 3]], 4, [0, 2],
         "use argmax over the counts: it picks the first of equal values"),
        ("a silent output layer predicts class 0 for every sample",
         [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]], 5, [0, 1, 0, 2],
         "use argmax over the counts: with all counts 0 it picks class 0"),
    ]:
        spikes = _spikes_from_counts(counts, num_steps)
        targets_t = torch.tensor(targets)
        expected = (spikes.sum(0).argmax(-1) == targets_t).float().mean().item()
        what = f"{what}; spike counts per sample {counts}"
        cases.append(Case(what, (spikes, targets_t),
                          _judge_number(expected, "the accuracy", batch=len(targets)), hint))
    return _run_cases("check_accuracy", accuracy, cases, ("spikes", "targets"))


def _expected_mse_rate(spikes: Tensor, targets: Tensor) -> Tensor:
    """mean over batch and classes of (firing rate - one-hot label)^2."""
    rate = spikes.mean(0)
    one_hot = torch.nn.functional.one_hot(targets, rate.shape[-1]).to(rate.dtype)
    return ((rate - one_hot) ** 2).mean()


def check_mse_rate(mse_rate: Callable[[Tensor, Tensor], Tensor]) -> bool:
    """Check ``mse_rate(spikes, targets) -> loss``, SingleLayerSNN's loss.

    r = spikes.mean(0), the firing rate of each output neuron ``[batch, classes]``;
    loss = mean over batch and classes of (r - onehot(targets))^2, a 0-dim tensor that
    gradients flow through.
    """
    generator = torch.Generator().manual_seed(4)
    cases = []
    for what, spikes, targets, hint in [
        ("the correct neuron fires at every step, the others never: loss 0",
         torch.eye(10)[[3]].expand(5, 1, 10).clone(), torch.tensor([3]),
         "the firing rate is the mean over time, spikes.mean(0), not the count"),
        ("a silent output layer: loss 1 / 10", torch.zeros(6, 1, 10), torch.tensor([2]),
         "average over the batch and the classes (F.mse_loss does that)"),
        ("the number of classes comes from the spikes (7 classes)",
         (torch.rand(8, 3, 7, generator=generator) < 0.3).float(), torch.tensor([6, 0, 4]),
         "take the number of classes from spikes.shape[-1], not a fixed 10"),
        ("half the steps, a batch of two",
         _spikes_from_counts([[2, 0, 4], [1, 3, 0]], 4), torch.tensor([2, 0]),
         "compare the rates with the one-hot labels, F.one_hot(targets, classes)"),
    ]:
        expected = _expected_mse_rate(spikes, targets)
        cases.append(Case(what, (spikes, targets),
                          lambda got, e=expected: _compare_tensor(got, e, "the loss"), hint))

    # Gradients must flow: the loss of a differentiable spike tensor, then backward.
    spikes = torch.rand(5, 2, 3, generator=generator).requires_grad_()
    targets = torch.tensor([1, 2])
    reference = spikes.detach().clone().requires_grad_()
    _expected_mse_rate(reference, targets).backward()

    def judge_gradient(got: Any) -> str | None:
        if not isinstance(got, Tensor) or not got.requires_grad:
            return ("the loss must be a tensor that gradients flow through; build it from "
                    "spikes with torch operations (no .item(), .detach() or torch.tensor(...))")
        spikes.grad = None
        got.backward()
        return _compare_tensor(spikes.grad, reference.grad, "d loss / d spikes")

    cases.append(Case("gradients flow back to the spikes", (spikes, targets), judge_gradient,
                      "keep every step in torch: spikes.mean(0), F.one_hot(...).float(), ..."))
    return _run_cases("check_mse_rate", mse_rate, cases, ("spikes", "targets"))


class _SGD(torch.optim.SGD):
    """Plain SGD whose repr fits in a checker message."""

    def __repr__(self) -> str:
        return f"torch.optim.SGD(lr={self.defaults['lr']:g})"


@dataclass(frozen=True)
class _NamedLoss:
    """A loss function shown by its name in checker messages."""

    fn: Callable[[Tensor, Tensor, Tensor], Tensor]
    name: str

    def __call__(self, spikes: Tensor, membrane: Tensor, targets: Tensor) -> Tensor:
        return self.fn(spikes, membrane, targets)

    def __repr__(self) -> str:
        return self.name


def _tiny_fcsnn(seed: int) -> torch.nn.Module:
    """A small FCSNN (12-16-3, 6 steps) with seeded weights, shown briefly in messages."""
    from snnlab.models import FCSNN

    class TinyFCSNN(FCSNN):
        def __repr__(self) -> str:
            return "FCSNN(12 inputs, 16 hidden, 3 outputs, 6 steps)"

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return TinyFCSNN(num_inputs=12, num_hidden=16, num_outputs=3, beta=0.9, num_steps=6)


def _sgd_step(model: torch.nn.Module, images: Tensor, labels: Tensor, loss_fn: Callable,
              stale: dict[str, Tensor] | None, zero_grad: bool, lr: float) -> float:
    """The reference step (or, with zero_grad=False, the step that forgets to clear .grad)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for name, parameter in model.named_parameters():
        parameter.grad = None if stale is None else stale[name].clone()
    spikes, membrane = model(images)
    loss = loss_fn(spikes, membrane, labels)
    if zero_grad:
        optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def _weights_differ(model: torch.nn.Module, reference: torch.nn.Module) -> tuple[str, float]:
    """The parameter that differs most from the reference's, and by how much."""
    worst = ("", 0.0)
    for (name, got), want in zip(model.named_parameters(), reference.parameters(), strict=True):
        difference = (got.detach() - want.detach()).abs().max().item()
        if difference > worst[1]:
            worst = (name, difference)
    return worst


def check_train_step(train_step: Callable[..., float]) -> bool:
    """Check ``train_step(model, images, labels, loss_fn, optimizer) -> float``.

    One optimizer step: ``spikes, membrane = model(images)``, ``loss = loss_fn(spikes,
    membrane, labels)``, ``optimizer.zero_grad()``, ``loss.backward()``, ``optimizer.step()``;
    return ``loss.item()``, the loss before the update. The checker gives a small FCSNN and
    plain SGD, and compares the weights after your step with one correct SGD step.
    """
    from snnlab import training

    lr = 0.5
    generator = torch.Generator().manual_seed(5)
    cases = []
    for number, (what, loss_fn, stale_gradients, hint) in enumerate([
        ("one step with ce_rate; return the loss before the update",
         _NamedLoss(training.ce_rate, "training.ce_rate"), False,
         "forward, loss, optimizer.zero_grad(), loss.backward(), optimizer.step()"),
        ("old gradients of an earlier batch still sit in .grad",
         _NamedLoss(training.ce_rate, "training.ce_rate"), True,
         "loss.backward() adds to .grad; only zero_grad() empties it"),
        ("another loss function: use the loss_fn you are given",
         _NamedLoss(training.ce_membrane, "training.ce_membrane"), True,
         "loss = loss_fn(spikes, membrane, labels)"),
        ("another loss function, another batch",
         _NamedLoss(training.mse_rate, "training.mse_rate"), False,
         "loss = loss_fn(spikes, membrane, labels)"),
    ]):
        images = 1.5 * torch.rand(4, 12, generator=generator)
        labels = torch.randint(0, 3, (4,), generator=generator)
        model = _tiny_fcsnn(seed=number)
        stale = ({name: 0.5 * torch.randn(p.shape, generator=generator)
                  for name, p in model.named_parameters()} if stale_gradients else None)
        if stale is not None:
            for name, parameter in model.named_parameters():
                parameter.grad = stale[name].clone()
        initial = [p.detach().clone() for p in model.parameters()]
        reference = _tiny_fcsnn(seed=number)
        expected_loss = _sgd_step(reference, images, labels, loss_fn, stale, True, lr)
        forgetful = _tiny_fcsnn(seed=number)
        _sgd_step(forgetful, images, labels, loss_fn, stale, False, lr)
        with torch.no_grad():
            loss_after = loss_fn(*reference(images), labels).item()

        def judge(got: Any, model: torch.nn.Module = model, initial: list[Tensor] = initial,
                  reference: torch.nn.Module = reference,
                  forgetful: torch.nn.Module = forgetful, expected_loss: float = expected_loss,
                  loss_after: float = loss_after) -> str | None:
            if isinstance(got, Tensor):
                return ("return the loss as a Python float, loss.item(); you returned the "
                        "tensor (which keeps the graph of every time step in memory)")
            if isinstance(got, bool) or not isinstance(got, (int, float)):
                return ("return the loss as a Python float (loss.item()), but you returned "
                        + ("nothing (None)" if got is None else f"a {type(got).__name__}"))
            parameters = list(model.parameters())
            if all(torch.equal(p.detach(), p0) for p, p0 in zip(parameters, initial,
                                                                 strict=True)):
                if all(p.grad is None or not p.grad.any() for p in parameters):
                    return ("the weights did not change, and no gradient is left in .grad: "
                            "call loss.backward() after optimizer.zero_grad(), then "
                            "optimizer.step()")
                return ("the weights did not change, although .grad holds gradients: call "
                        "optimizer.step() after loss.backward()")
            name, difference = _weights_differ(model, reference)
            if difference > 1e-5:
                if _weights_differ(model, forgetful)[1] <= 1e-5:
                    return ("your step also used the old gradients left in .grad (they add "
                            "up): call optimizer.zero_grad() before loss.backward()")
                return (f"after your step, {name} differs from one SGD step on this batch's "
                        f"loss by up to {_fmt(difference)}")
            if abs(got - expected_loss) > 1e-5 * (1 + abs(expected_loss)):
                if abs(got - loss_after) <= 1e-5 * (1 + abs(loss_after)):
                    return (f"you returned the loss after the update ({_fmt(got)}); return the "
                            f"loss you called backward on, {_fmt(expected_loss)}")
                return (f"the returned loss should be {_fmt(expected_loss)}, "
                        f"but yours is {_fmt(got)}")
            return None

        cases.append(Case(what, (model, images, labels, loss_fn, _SGD(model.parameters(), lr=lr)),
                          judge, hint))
    return _run_cases("check_train_step", train_step, cases,
                      ("model", "images", "labels", "loss_fn", "optimizer"))


# ---------------------------------------------------------------------------------------------
# Lesson 05: a convolutional SNN
# ---------------------------------------------------------------------------------------------


def _flat_features_of_layers(image_size: int, kernel_sizes: list[int], pool: int,
                             channels: list[int]) -> int:
    """The answer, measured: run a zero image through real Conv2d + MaxPool2d layers."""
    x = torch.zeros(1, 1, image_size, image_size)
    with torch.no_grad(), torch.random.fork_rng(devices=[]):  # layers draw random weights
        for c_in, c_out, kernel in zip([1, *channels[:-1]], channels, kernel_sizes, strict=True):
            x = torch.nn.functional.max_pool2d(torch.nn.Conv2d(c_in, c_out, kernel)(x), pool)
    return x[0].numel()


def check_flat_features(flat_features: Callable[[int, list[int], int, list[int]], int]) -> bool:
    """Check ``flat_features(image_size, kernel_sizes, pool, channels) -> int``.

    Each layer is a ``kernel x kernel`` convolution (no padding, stride 1) then ``pool x pool``
    max pooling: side -> (side - kernel + 1) // pool. The answer is the number of values
    after the last layer, channels[-1] * side * side (64 * 4 * 4 = 1024 for the lesson's CSNN).
    """
    cases = []
    for what, args, hint in [
        ("the lesson's CSNN on 28x28 MNIST", (28, [5, 5], 2, [12, 64]),
         "a 5x5 convolution without padding shrinks the side by 4 (kernel - 1), a 2x2 pooling "
         "halves it: 28 -> 24 -> 12 -> 8 -> 4, and then 64 channels of 4x4"),
        ("one layer only", (28, [5], 2, [12]),
         "with one layer the side goes 28 -> 24 -> 12; loop over the layers you are given"),
        ("32x32 images", (32, [5, 5], 2, [12, 64]), "start from the image_size argument"),
        ("an odd side is rounded down by the pooling", (28, [3, 3], 2, [8, 16]),
         "28 -> 26 -> 13 -> 11 -> 5: max pooling drops a leftover row and column, so use // "
         "(floor division), not /"),
        ("three layers with other channels", (64, [5, 3, 3], 2, [4, 8, 16]),
         "multiply by the channels of the last layer only"),
    ]:
        expected = _flat_features_of_layers(*args)

        judge = _judge_int(expected, "the size", "nn.Linear needs one")
        cases.append(Case(what, args, judge, hint))
    return _run_cases("check_flat_features", flat_features, cases,
                      ("image_size", "kernel_sizes", "pool", "channels"))


class _SpikesOnly(torch.nn.Module):
    """A stateful LIF that passes on only its spikes, for nn.Sequential."""

    def __init__(self, beta: float) -> None:
        super().__init__()
        self.lif = LIF(beta, stateful=True)

    def forward(self, current: Tensor) -> Tensor:
        spk, _ = self.lif(current)
        return spk


class _StatefulNet(torch.nn.Sequential):
    """A small stateful SNN whose repr is one line, for the checker's messages."""

    def __repr__(self) -> str:
        layers = "-".join("LIF" if isinstance(m, _SpikesOnly) else type(m).__name__
                          for m in self if not isinstance(m, torch.nn.Flatten))
        return f"<nn.Sequential {layers}>"


def _stateful_net(conv: bool, seed: int) -> _StatefulNet:
    """A small stateful SNN with fixed, lively weights (the global random stream is untouched)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):  # building layers draws from the global stream
        net = _stateful_layers(conv)
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.copy_(torch.rand(parameter.shape, generator=generator) * 1.2 - 0.3)
    return net


def _stateful_layers(conv: bool) -> _StatefulNet:
    if conv:
        return _StatefulNet(torch.nn.Conv2d(1, 2, 3), _SpikesOnly(0.7), torch.nn.Flatten(),
                            torch.nn.Linear(2 * 4 * 4, 3), _SpikesOnly(0.7))
    return _StatefulNet(torch.nn.Linear(6, 5), _SpikesOnly(0.8), torch.nn.Linear(5, 3),
                        _SpikesOnly(0.8))


def check_run_stateful(run_stateful: Callable[[torch.nn.Module, Tensor, int], Tensor]) -> bool:
    """Check ``run_stateful(net, x, num_steps) -> outputs [num_steps, batch, ...]``.

    ``net`` is an ``nn.Sequential`` with stateful LIF neurons and ``x`` the same input at every
    step. First ``reset_states(net)`` (once: the membrane must carry over from step to step),
    then ``net(x)`` once per step, the outputs stacked time-first.
    """
    generator = torch.Generator().manual_seed(5)
    cases = []
    for what, conv, batch, earlier_batch, num_steps, hint in [
        ("a fresh network", False, 4, None, 8,
         "call net(x) once per step and stack the outputs time-first with torch.stack; reset "
         "once before the loop, not at every step, so the membrane carries over"),
        ("a network holding the membrane of an earlier batch of the same size", False, 4, 4, 8,
         "call snnlab.neurons.reset_states(net) before the first step: the leftover membrane "
         "of the earlier batch changes the spikes without any error"),
        ("a network holding the membrane of an earlier batch of another size", False, 2, 4, 5,
         "call snnlab.neurons.reset_states(net) before the first step"),
        ("a convolutional network holding an earlier batch's membrane", True, 3, 3, 6,
         "reset first, then one net(x) per step, stacked along a new first dimension"),
    ]:
        net = _stateful_net(conv, seed=len(cases))
        shape = (1, 6, 6) if conv else (6,)
        x = torch.rand(batch, *shape, generator=generator)
        reset_states(net)
        with torch.no_grad():
            expected = torch.stack([net(x) for _ in range(num_steps)])
        reset_states(net)
        if earlier_batch is not None:  # leave the membrane of another batch behind
            with torch.no_grad():
                for _ in range(3):
                    net(torch.rand(earlier_batch, *shape, generator=generator) + 0.5)

        cases.append(Case(what, (net, x, num_steps), _judge_time_first(expected), hint))
    return _run_cases("check_run_stateful", run_stateful, cases, ("net", "x", "num_steps"))


def _judge_time_first(expected: Tensor) -> Callable[[Any], str | None]:
    """Compare outputs [T, B, ...] step by step and name the first step that differs."""

    def judge(got: Any) -> str | None:
        problem = _compare_tensor(got, expected, "the outputs [num_steps, batch, outputs]")
        if problem is None or not isinstance(got, Tensor) or got.shape != expected.shape:
            return problem
        for t, (mine, right) in enumerate(zip(got.detach().cpu(), expected, strict=True)):
            if not torch.allclose(mine.to(right.dtype), right):
                where = f"outputs[0:{t}] are right; " if t else ""
                return f"{where}outputs[{t}] should be {_fmt(right)}, but yours is {_fmt(mine)}"
        return problem

    return judge


def _dead_and_saturated(spikes: Tensor) -> tuple[float, float]:
    """The definitions: over all T steps and all B images, a neuron never fires / always fires."""
    num_steps, batch = spikes.shape[:2]
    total = spikes.flatten(2).sum(dim=(0, 1))  # [N] spikes of each neuron
    return (total == 0).float().mean().item(), (total == num_steps * batch).float().mean().item()


def check_dead_and_saturated(dead_and_saturated: Callable[[Tensor], tuple[float, float]]) -> bool:
    """Check ``dead_and_saturated(spikes) -> (dead, saturated)`` for one layer's spikes.

    ``spikes``: ``[T, B, ...]`` (time, images, neurons: ``[N]`` or ``[C, H, W]``). ``dead``: the
    fraction of neurons that never fire, at no step of no image; ``saturated``: the fraction
    that fire at every step of every image.
    """
    generator = torch.Generator().manual_seed(3)
    small = torch.zeros(4, 2, 3)   # 4 steps, 2 images, 3 neurons
    small[:, :, 1] = 1             # neuron 1 fires at every step of both images
    small[1:3, 0, 2] = 1           # neuron 2 fires twice, on image 0 only
    one_image = torch.zeros(3, 2, 4)
    one_image[:, 0, 0] = 1         # neuron 0: at every step, but of image 0 only
    one_image[:, :, 1] = 1         # neuron 1: at every step of both images
    one_image[2, 1, 2] = 1         # neuron 2: once; neuron 3 never
    maps = (torch.rand(5, 3, 4, 6, 6, generator=generator) < 0.3).float()
    maps[:, :, 0] = 0              # map 0 is dead everywhere
    maps[:, :, 1, :3] = 1          # half of map 1 is saturated
    cases = []
    for what, spikes, hint in [
        ("3 neurons: one silent, one always on, one in between", small,
         "a neuron is dead when its spike total over all steps and all images is 0, and "
         "saturated when that total is T * B"),
        ("a neuron busy on one image only is neither dead nor saturated", one_image,
         "count each neuron over the steps AND the images (dims 0 and 1): saturated means "
         "T * B spikes, a spike at every step of every image"),
        ("feature maps [T, B, C, H, W]", maps,
         "every (channel, row, column) is its own neuron: flatten the dims after the batch "
         "and take the fraction over all of them"),
    ]:
        want_dead, want_saturated = _dead_and_saturated(spikes)

        def judge(got: Any, d: float = want_dead, s: float = want_saturated) -> str | None:
            if not (isinstance(got, tuple) and len(got) == 2):
                return f"return a tuple (dead, saturated), but yours is {_fmt(got)}"
            for value, want, label in ((got[0], d, "dead"), (got[1], s, "saturated")):
                if isinstance(value, Tensor) and value.numel() == 1:
                    value = value.item()
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    return f"{label} should be a number, but yours is {_fmt(value)}"
                if not math.isclose(value, want, abs_tol=1e-6):
                    return f"{label} should be {_fmt(want)}, but yours is {_fmt(float(value))}"
            return None

        cases.append(Case(what, (spikes,), judge, hint))
    return _run_cases("check_dead_and_saturated", dead_and_saturated, cases, ("spikes",))


# ---------------------------------------------------------------------------------------------
# Lesson 06: a spiking autoencoder
# ---------------------------------------------------------------------------------------------


def _transposed_size_measured(size: int, kernel_size: int, stride: int, padding: int,
                              output_padding: int) -> int:
    """The answer, measured: the side of a real ConvTranspose2d's output for a size x size input."""
    with torch.no_grad(), torch.random.fork_rng(devices=[]):  # the layer draws random weights
        layer = torch.nn.ConvTranspose2d(1, 1, kernel_size, stride=stride, padding=padding,
                                         output_padding=output_padding)
        return int(layer(torch.zeros(1, 1, size, size)).shape[-1])


def check_transposed_output_size(
    transposed_output_size: Callable[[int, int, int, int, int], int],
) -> bool:
    """Check ``transposed_output_size(size, kernel_size, stride, padding, output_padding) -> int``.

    A transposed convolution runs a convolution's size rule backwards (dilation 1):
    out = (size - 1) * stride - 2 * padding + kernel_size + output_padding.
    The expected values are measured with ``torch.nn.ConvTranspose2d``.
    """
    formula = "(size - 1) * stride - 2 * padding + kernel_size + output_padding"
    cases = []
    for what, args, hint in [
        ("the decoder's first layer: 4 -> 8", (4, 3, 2, 1, 1),
         f"stride 2 spreads the 4 inputs over 2 * (4 - 1) + 1 = 7 positions; the kernel, "
         f"padding and output_padding then add and remove rows: {formula}"),
        ("the decoder's last layer: 16 -> 32", (16, 3, 2, 1, 1), formula),
        ("without output_padding, stride 2 gives an odd size", (4, 3, 2, 1, 0),
         "output_padding adds its rows at the end: leave it out and 4 -> 7"),
        ("stride 1 and no padding grows the side by kernel_size - 1", (7, 5, 1, 0, 0),
         "with stride 1: size + kernel_size - 1 (the mirror of a convolution's size - "
         "kernel_size + 1)"),
        ("a 4x4 kernel with stride 2 and padding 1 doubles exactly", (5, 4, 2, 1, 0),
         "padding removes padding rows on each side: subtract 2 * padding"),
    ]:
        expected = _transposed_size_measured(*args)

        judge = _judge_int(expected, "the output side", "a number of pixels")
        cases.append(Case(what, args, judge, hint))
    return _run_cases("check_transposed_output_size", transposed_output_size, cases,
                      ("size", "kernel_size", "stride", "padding", "output_padding"))


def _leaky_readout_expected(currents: Tensor, beta: float) -> Tensor:
    """U[t] = beta U[t-1] + I[t] from U[-1] = 0, no threshold and no reset; returns U[T-1]."""
    membrane = torch.zeros_like(currents[0])
    for current in currents:
        membrane = beta * membrane + current
    return membrane


def check_leaky_readout(leaky_readout: Callable[[Tensor, float], Tensor]) -> bool:
    """Check ``leaky_readout(currents, beta) -> reconstruction``.

    ``currents``: ``[T, ...]``, the input of a non-spiking output layer at each step. Its membrane
    only leaks and integrates, U[t] = beta * U[t-1] + I[t] with U[-1] = 0 (no threshold, no
    reset); return the last step's membrane U[T-1], shape ``currents.shape[1:]``.
    """
    generator = torch.Generator().manual_seed(6)
    update = "U[t] = beta * U[t-1] + I[t], starting from U = 0"
    cases = []
    for what, currents, beta, hint in [
        ("one step: the membrane is the current", torch.tensor([[0.3, -0.2, 1.5]]), 0.5,
         "with a single step, U[0] = I[0]"),
        ("a constant current of 0.2 for 4 steps: 0.2 * (1 + 0.5 + 0.25 + 0.125)",
         torch.full((4, 1), 0.2), 0.5, f"let the old membrane decay at every step: {update}"),
        ("the last step counts most: I = [1, 0, 0] and I = [0, 0, 1] side by side",
         torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]), 0.5,
         "the current of step t is multiplied by beta once per step that follows it, "
         "beta ** (T - 1 - t); the last step's current counts in full"),
        ("no threshold and no reset: large currents keep adding up",
         torch.tensor([[3.0], [3.0], [3.0]]), 0.5,
         "the output layer never spikes and is never reset; only the leak acts"),
        ("images: currents [T, B, 1, H, W] = [5, 2, 1, 4, 4], beta 0.9",
         torch.randn(5, 2, 1, 4, 4, generator=generator), 0.9,
         "return only the last step's membrane, shape currents.shape[1:]"),
    ]:
        expected = _leaky_readout_expected(currents, beta)
        cases.append(Case(what, (currents, beta),
                          lambda got, e=expected: _compare_tensor(got, e, "the reconstruction"),
                          hint))
    return _run_cases("check_leaky_readout", leaky_readout, cases, ("currents", "beta"))


def _judge_loss(expected: Tensor, num_steps: int) -> Callable[[Any], str | None]:
    """A loss must be a 0-dim tensor equal to ``expected`` (a sum over T steps is named)."""

    def judge(got: Any) -> str | None:
        if not isinstance(got, Tensor):
            return (f"the loss should be a torch.Tensor (so that .backward() works), but you "
                    f"returned a {type(got).__name__}")
        if got.dim() != 0:
            return (f"the loss should be one number, a 0-dim tensor, but yours has shape "
                    f"{list(got.shape)}; average over every dimension")
        problem = _compare_tensor(got, expected, "the loss")
        if problem and num_steps > 1 and math.isclose(got.item(), num_steps * expected.item(),
                                                      rel_tol=1e-4):
            problem += f" ({num_steps} times too much: that is the sum over the {num_steps} steps)"
        return problem

    return judge


def check_mean_step_loss(mean_step_loss: Callable[[Tensor, Tensor, Tensor], Tensor]) -> bool:
    """Check ``mean_step_loss(spikes, membrane, images) -> loss``.

    ``membrane``: ``[T, B, 1, H, W]``, the output membrane (the reconstruction) at every step;
    ``images``: ``[B, 1, H, W]``; ``spikes`` (the latent spikes) is not used. The loss is the
    reconstruction MSE of every step, averaged over the steps:
    L = (1/T) sum_t mean_pixels (U[t] - x)^2, a 0-dim tensor that gradients flow through.
    """
    generator = torch.Generator().manual_seed(8)
    images = torch.rand(3, 1, 4, 4, generator=generator)
    latent = torch.zeros(5, 3, 8)  # the latent spikes: not part of this loss
    perfect_late = torch.stack([torch.zeros_like(images), images])  # right at the last step only
    cancelling = torch.stack([images + 0.5, images - 0.5])  # the errors cancel in the time mean
    noisy = images + 0.3 * torch.randn(5, *images.shape, generator=generator)
    cases = []
    for what, membrane, hint in [
        ("one step: the plain MSE", images[None] + 0.1,
         "the squared difference between membrane and images, averaged over every pixel"),
        ("two steps whose errors (+0.5 and -0.5) cancel in the mean over time", cancelling,
         "square the error at each step before you average over time: the mean of the "
         "per-step MSEs, not the MSE of the time-averaged membrane"),
        ("a reconstruction that is right at the last step only", perfect_late,
         "every step counts, not just the last one: average the error of all T steps"),
        ("5 steps of noisy reconstructions", noisy,
         "average over the steps (divide by T), don't sum them"),
    ]:
        expected = ((membrane - images) ** 2).mean()
        spikes = latent[: membrane.shape[0]]
        cases.append(Case(what, (spikes, membrane, images),
                          _judge_loss(expected, membrane.shape[0]), hint))

    def keeps_graph(got: Any) -> str | None:
        if not isinstance(got, Tensor) or not got.requires_grad:
            return ("the loss must stay connected to the membrane so that loss.backward() can "
                    "train the network, but yours has no gradient (requires_grad is False)")
        return None

    trainable = noisy.clone().requires_grad_(True)
    cases.append(Case("the loss keeps the graph for backpropagation",
                      (latent, trainable, images), keeps_graph,
                      "use torch operations on the tensors; no .item(), .detach() or numpy"))
    return _run_cases("check_mean_step_loss", mean_step_loss, cases,
                      ("spikes", "membrane", "images"))
