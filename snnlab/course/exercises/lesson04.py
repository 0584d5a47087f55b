"""Checkers for the exercises of lesson 04: a fully connected SNN on MNIST.

Besides saying *that* an answer is wrong, a checker names *which* mistake it looks like: each
exercise lists the typical wrong versions of its function (:func:`named`, a
:class:`~snnlab.course.exercises.judge.Mistake`), and when a student's answer equals what one of
them computes on the failing case, the message says what was done and how to fix it
(:func:`raises_like` does the same for a mistake that raises). :func:`tell_apart` names a
mistake only where no other mistake that reaches the same case gives the same answer, so a
student never reads the sentence of a mistake they did not make. Lessons 05-07 use the same
helpers.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from snnlab.course.exercises.judge import (
    Case,
    Mistake,
    Raised,
    _copy,
    compare_tensor,
    fmt,
    gives,
    has_nan,
    run_cases,
)
from snnlab.i18n import tr


def named(what: str, fix: str, wrong: Callable[..., Any]) -> Mistake:
    """A known mistake: ``wrong`` computes it from a case's arguments (as the student's function
    would); the message says what the student did (``what``) and how to fix it (``fix``).

    Where the mistake gives an int, only an int matches it: a float of the right size is
    another mistake, which the case's own message names ("return an int")."""

    def matches(received: Any, *args: Any) -> bool:
        answer = wrong(*args)
        if isinstance(answer, int) and not isinstance(received, int):
            return False
        return gives(lambda *_: answer)(received)

    mistake = Mistake(tr("your answer is what you get when you {what}; {fix}").format(
        what=what, fix=fix), matches)
    mistake.wrong = wrong  # type: ignore[attr-defined]  # for tell_apart
    return mistake


def tell_apart(cases: list[Case], mistakes: Sequence[Mistake]) -> list[Case]:
    """The cases, each knowing the mistakes to try, named only where the answer tells them apart.

    The checker stops at an answer's first failing case, so at case k the only mistakes an answer
    can have made are those that pass cases 1 .. k-1 (found by running each mistake's own
    function, ``mistake.wrong``, on the cases). Where two of those give the same answer at case
    k, the answer cannot say which was made: neither is named there, and the student reads the
    plain expected / received line instead of a guess. A mistake without a function (a
    predicate) is taken to reach every case."""
    reach = [_first_failing(getattr(m, "wrong", None), cases) for m in mistakes]
    told: list[Case] = []
    for k, case in enumerate(cases):
        rivals = [m for m, first in zip(mistakes, reach, strict=True) if first in (k, -1)]
        told.append(Case(case.what, case.args, case.judge, case.hint,
                         [*case.mistakes, *(_alone(m, rivals) for m in mistakes)]))
    return told


def _first_failing(wrong: Callable[..., Any] | None, cases: list[Case]) -> int | None:
    """The index of the first case the mistake's function fails (-1: unknown; None: none)."""
    if wrong is None:
        return -1
    for k, case in enumerate(cases):
        try:
            with torch.random.fork_rng(devices=[]):
                got = wrong(*_deep_copy(case.args))
            if has_nan(got) or case.judge(got) is not None:
                return k
        except Exception:  # noqa: BLE001 - a mistake that raises fails that case
            return k
    return None


def _deep_copy(args: tuple) -> tuple:
    """A copy of a case's arguments that a mistake's function may change freely (a network's
    state included)."""
    try:
        return copy.deepcopy(args)
    except Exception:  # noqa: BLE001 - e.g. a tensor in the middle of a graph: copy tensors only
        return _copy(args)


def _alone(mistake: Mistake, rivals: list[Mistake]) -> Mistake:
    def matches(received: Any, *args: Any) -> bool:
        if not mistake.matches(received, *args):
            return False
        for other in rivals:
            try:
                if other is not mistake and other.matches(received, *args):
                    return False
            except Exception:  # a matcher that cannot handle this answer does not match
                continue
        return True

    return Mistake(mistake.message, matches)


def _spikes_from_counts(counts: list[list[int]], num_steps: int, seed: int = 0) -> Tensor:
    """0/1 spikes [num_steps, batch, classes] with the given counts, each neuron's spikes at
    seeded random steps. The seeds are chosen so that the first step, the last step and "fired
    at all" (max over time) do not all predict alike where they predict wrongly: each of those
    mistakes can be told from the others by its answer."""
    generator = torch.Generator().manual_seed(seed)
    spikes = torch.zeros(num_steps, len(counts), len(counts[0]))
    for b, row in enumerate(counts):
        for c, count in enumerate(row):
            spikes[torch.randperm(num_steps, generator=generator)[:count], b, c] = 1.0
    return spikes


def _judge_float(expected: float, label: str) -> Callable[[Any], str | None]:
    """Judge an answer that must be a Python float (an int is accepted) equal to ``expected``."""

    def judge(got: Any) -> str | None:
        if isinstance(got, Tensor):
            if got.dim() > 0:
                return tr("{label} is one number, but you returned a tensor of shape "
                          "{shape}").format(label=label, shape=list(got.shape))
            return tr("{label} should be a Python float, but you returned a 0-dim tensor, "
                      "{value}").format(label=label, value=fmt(got))
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return tr("{label} should be a Python float, but you returned a {type}").format(
                label=label, type=type(got).__name__)
        if abs(got - expected) > 1e-6:
            return tr("{label} should be {expected}, but yours is {received}").format(
                label=label, expected=fmt(float(expected)), received=fmt(got))
        return None

    return judge


def raises_like(what: str, fix: str, wrong: Callable[..., Any]) -> Mistake:
    """A known mistake that raises: the student's function raised the same exception (type and
    message) as ``wrong`` raises on the case's arguments."""

    def matches(received: Any, *args: Any) -> bool:
        if not isinstance(received, Raised):
            return False
        try:
            wrong(*args)
        except Exception as error:  # noqa: BLE001 - the mistake's own error, to compare
            return (type(error) is type(received.error)
                    and _sizes(str(error)) == _sizes(str(received.error)))
        return False

    mistake = Mistake(tr("your function raised {what}; {fix}").format(what=what, fix=fix),
                      matches)
    mistake.wrong = wrong  # type: ignore[attr-defined]  # for tell_apart
    return mistake


def _sizes(message: str) -> set[str]:
    """The numbers in an error message's parentheses, e.g. the two sizes of a shape error (in
    either order: a - b and b - a raise with the sizes swapped)."""
    return set(re.findall(r"\((\d+)\)", message)) or {message}


def _predicted(counts: Tensor, targets: Tensor) -> Tensor:
    return (counts.argmax(-1) == targets).float()


def _accuracy_mistakes() -> list[Mistake]:
    """Built when the checker runs, so that the messages are in the current language."""
    return [
        named(tr("count the correct samples but do not divide by the batch size"),
              tr("take the mean of the matches, (predictions == targets).float().mean()"),
              lambda s, t: _predicted(s.sum(0), t).sum().item()),
        named(tr("give a percentage"),
              tr("return a fraction between 0 and 1, not a percentage"),
              lambda s, t: 100 * _predicted(s.sum(0), t).mean().item()),
        named(tr("read only the last time step, spikes[-1]"),
              tr("count the spikes over all steps first, spikes.sum(0), then argmax(-1)"),
              lambda s, t: _predicted(s[-1], t).mean().item()),
        named(tr("read only the first time step, spikes[0]"),
              tr("count the spikes over all steps first, spikes.sum(0), then argmax(-1)"),
              lambda s, t: _predicted(s[0], t).mean().item()),
        named(tr("take the maximum over time (did the neuron fire at all?), spikes.max(0)"),
              tr("the prediction is the neuron with the MOST spikes: spikes.sum(0), then "
                 "argmax(-1)"),
              lambda s, t: _predicted(s.max(0).values, t).mean().item()),
        raises_like(tr("the error of spikes.sum(1), a sum over the batch as if the batch came "
                       "first"),
                    tr("time is the first dimension: spikes.sum(0) has shape [batch, classes]"),
                    lambda s, t: _predicted(s.sum(1), t).mean().item()),
        raises_like(tr("the error of argmax(0), an argmax over the wrong dimension (the samples)"),
                    tr("argmax(-1) picks the class with the most spikes for each sample"),
                    lambda s, t: (s.sum(0).argmax(0) == t).float().mean().item()),
        named(tr("give ties to the last class of equal counts"),
              tr("argmax(-1) gives a tie to the lowest class, as the exercise asks"),
              lambda s, t: ((s.shape[-1] - 1 - s.sum(0).flip(-1).argmax(-1)) == t)
              .float().mean().item()),
        named(tr("compare predictions of shape [batch, 1] (keepdim=True) with targets [batch]: "
                 "that broadcasts to a [batch, batch] table of every prediction against every "
                 "target"),
              tr("compare two [batch] tensors: spikes.sum(0).argmax(-1) == targets"),
              lambda s, t: (s.sum(0).argmax(-1, keepdim=True) == t).float().mean().item()),
        named(tr("give the error rate, the fraction of samples predicted wrongly"),
              tr("return the fraction predicted correctly: (predictions == targets) matches"),
              lambda s, t: 1 - _predicted(s.sum(0), t).mean().item()),
        named(tr("divide the number of correct samples by the number of time steps"),
              tr("divide by the batch size, or take .float().mean() of the matches"),
              lambda s, t: _predicted(s.sum(0), t).sum().item() / s.shape[0]),
        named(tr("compare each sample but never take the mean (one match per sample)"),
              tr("average the matches over the batch, then .item()"),
              lambda s, t: _predicted(s.sum(0), t)),
        named(tr("return the tensor instead of a Python float"),
              tr("end with .item(): the accuracy is one Python float"),
              lambda s, t: _predicted(s.sum(0), t).mean()),
    ]


def check_accuracy(accuracy: Callable[[Tensor, Tensor], float]) -> bool:
    """Check ``accuracy(spikes, targets) -> float``.

    spikes ``[num_steps, batch, classes]``, targets ``[batch]``. Each sample's prediction is the
    output neuron with the most spikes over all steps (a tie goes to the lowest class, as
    ``argmax`` does); the result is the fraction of samples predicted correctly, a Python float.
    """
    hint = tr("the prediction is spikes.sum(0).argmax(-1) (the most spikes over all steps); "
              "the accuracy is the fraction of predictions equal to the targets")
    cases = []
    for what, counts, num_steps, targets, seed in [
        (tr("a batch of 4: the class with the most spikes wins"),
         [[1, 3, 0], [2, 0, 1], [0, 1, 3], [3, 1, 0]], 5, [1, 0, 1, 0], 11),
        (tr("a batch of 3: the fraction of samples predicted correctly"),
         [[4, 1, 0], [0, 2, 1], [1, 1, 3]], 5, [0, 1, 1], 1),
        (tr("the counts over all steps decide, not the first or last step"),
         [[1, 5, 0], [2, 0, 6]], 7, [1, 2], 0),
        (tr("time is the first dimension (6 steps, 3 samples, 4 classes)"),
         [[0, 5, 1, 0], [2, 0, 0, 3], [1, 1, 4, 0]], 6, [1, 3, 2], 7),
        (tr("a tie goes to the lowest class, like argmax"), [[2, 2, 1], [0, 3, 3]], 4, [0, 1], 1),
        (tr("a silent output layer predicts class 0 for every sample"),
         [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]], 5, [0, 1, 0, 2], 0),
    ]:
        spikes = _spikes_from_counts(counts, num_steps, seed)
        targets_t = torch.tensor(targets)
        expected = (spikes.sum(0).argmax(-1) == targets_t).float().mean().item()
        what = tr("{what}; spike counts per sample {counts}").format(what=what, counts=counts)
        cases.append(Case(what, (spikes, targets_t),
                          _judge_float(expected, tr("the accuracy")), hint))
    return run_cases("check_accuracy", accuracy, tell_apart(cases, _accuracy_mistakes()),
                     ("spikes", "targets"))


def _expected_mse_rate(spikes: Tensor, targets: Tensor) -> Tensor:
    """mean over batch and classes of (firing rate - one-hot label)^2."""
    rate = spikes.mean(0)
    one_hot = torch.nn.functional.one_hot(targets, rate.shape[-1]).to(rate.dtype)
    return ((rate - one_hot) ** 2).mean()


def _one_hot(targets: Tensor, classes: int) -> Tensor:
    return torch.nn.functional.one_hot(targets, classes).float()


def _mse_rate_mistakes() -> list[Mistake]:
    """Built when the checker runs, so that the messages are in the current language."""
    return [
        named(tr("use the spike counts, spikes.sum(0), instead of the firing rates"),
              tr("the firing rate is the mean over time, spikes.mean(0): a neuron that fires at "
                 "every step has rate 1, like its one-hot target"),
              lambda s, t: ((s.sum(0) - _one_hot(t, s.shape[-1])) ** 2).mean()),
        named(tr("use the last step's spikes, spikes[-1], instead of the firing rates"),
              tr("the firing rate is the mean over all steps, spikes.mean(0)"),
              lambda s, t: ((s[-1] - _one_hot(t, s.shape[-1])) ** 2).mean()),
        named(tr("average over the batch too, spikes.mean((0, 1)), before comparing with the "
                 "labels"),
              tr("average the spikes over time only, spikes.mean(0) (shape [batch, classes]): "
                 "each sample is compared with its own label; the batch mean comes last, in the "
                 "loss"),
              lambda s, t: ((s.mean((0, 1)) - _one_hot(t, s.shape[-1])) ** 2).mean()),
        raises_like(tr("the error of spikes.mean(1), an average along dim 1 as if the batch came "
                       "first"),
                    tr("time is the first dimension: spikes.mean(0)"),
                    lambda s, t: ((s.mean(1) - _one_hot(t, s.shape[-1])) ** 2).mean()),
        named(tr("sum the squared errors over the classes instead of averaging"),
              tr("average over the batch AND the classes: .mean() of the [batch, classes] errors "
                 "(F.mse_loss does that)"),
              lambda s, t: ((s.mean(0) - _one_hot(t, s.shape[-1])) ** 2).sum(-1).mean()),
        named(tr("sum the squared errors instead of averaging them"),
              tr("average over the batch and the classes with .mean(), not .sum()"),
              lambda s, t: ((s.mean(0) - _one_hot(t, s.shape[-1])) ** 2).sum()),
        named(tr("take the absolute error instead of the squared one"),
              tr("square the difference: (rate - one_hot) ** 2"),
              lambda s, t: (s.mean(0) - _one_hot(t, s.shape[-1])).abs().mean()),
        named(tr("take the square root (RMSE)"),
              tr("the loss is the mean squared error, no square root"),
              lambda s, t: ((s.mean(0) - _one_hot(t, s.shape[-1])) ** 2).mean().sqrt()),
        named(tr("return a Python number (.item())"),
              tr("return the 0-dim tensor itself: loss.backward() needs it"),
              lambda s, t: _expected_mse_rate(s, t).item()),
        raises_like(tr("the error of one-hot labels with 10 classes against rates of another "
                       "number of classes"),
                    tr("take the number of classes from the spikes, spikes.shape[-1]"),
                    lambda s, t: ((s.mean(0) - _one_hot(t, 10)) ** 2).mean()),
        raises_like(tr("the error of F.one_hot(targets) without num_classes: it makes only "
                       "max(targets) + 1 classes"),
                    tr("give it the number of classes, F.one_hot(targets, spikes.shape[-1])"),
                    lambda s, t: ((s.mean(0) - torch.nn.functional.one_hot(t).float()) ** 2)
                    .mean()),
    ]


def check_mse_rate(mse_rate: Callable[[Tensor, Tensor], Tensor]) -> bool:
    """Check ``mse_rate(spikes, targets) -> loss``, SingleLayerSNN's loss.

    r = spikes.mean(0), the firing rate of each output neuron ``[batch, classes]``;
    loss = mean over batch and classes of (r - onehot(targets))^2, a 0-dim tensor that
    gradients flow through.
    """
    generator = torch.Generator().manual_seed(4)
    hint = tr("r = spikes.mean(0) [batch, classes]; the loss is the mean over the batch and "
              "the classes of (r - one_hot(targets, classes))^2")
    cases = []
    for what, spikes, targets in [
        (tr("the correct neuron fires at every step, the others never: loss 0"),
         torch.eye(10)[[3]].expand(5, 1, 10).clone(), torch.tensor([3])),
        (tr("a silent output layer: loss 1 / 10"), torch.zeros(6, 2, 10), torch.tensor([2, 7])),
        (tr("the number of classes comes from the spikes (7 classes)"),
         (torch.rand(8, 3, 7, generator=generator) < 0.3).float(), torch.tensor([5, 0, 4])),
        (tr("a batch of two, 4 steps"),
         _spikes_from_counts([[2, 0, 4], [1, 3, 0]], 4, 1), torch.tensor([2, 0])),
    ]:
        expected = _expected_mse_rate(spikes, targets)
        cases.append(Case(what, (spikes, targets),
                          lambda got, e=expected: compare_tensor(got, e, tr("the loss")),
                          hint))

    # Gradients must flow: the loss of a differentiable spike tensor, then backward.
    spikes = torch.rand(5, 2, 3, generator=generator).requires_grad_()
    targets = torch.tensor([1, 2])
    reference = spikes.detach().clone().requires_grad_()
    _expected_mse_rate(reference, targets).backward()

    def judge_gradient(got: Any) -> str | None:
        if not isinstance(got, Tensor) or not got.requires_grad:
            return tr("the loss must be a tensor that gradients flow through; build it from "
                      "spikes with torch operations (no .item(), .detach() or "
                      "torch.tensor(...))")
        spikes.grad = None
        got.backward()
        return compare_tensor(spikes.grad, reference.grad, "d loss / d spikes")

    cases.append(Case(tr("gradients flow back to the spikes"), (spikes, targets),
                      judge_gradient, hint))
    return run_cases("check_mse_rate", mse_rate, tell_apart(cases, _mse_rate_mistakes()),
                     ("spikes", "targets"))


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
              stale: dict[str, Tensor] | None, zero_grad: bool, lr: float,
              steps: int = 1, backwards: int = 1) -> float:
    """The reference step; or one of its mistakes: zero_grad=False forgets to clear .grad,
    steps=2 calls optimizer.step() twice, backwards=2 calls loss.backward() twice."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for name, parameter in model.named_parameters():
        parameter.grad = None if stale is None else stale[name].clone()
    spikes, membrane = model(images)
    loss = loss_fn(spikes, membrane, labels)
    if zero_grad:
        optimizer.zero_grad()
    for _ in range(backwards):
        loss.backward(retain_graph=True)
    for _ in range(steps):
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
    plain SGD, and compares the weights after your step with one correct SGD step; when they
    differ, with the step each usual mistake makes (old gradients kept, two steps, two
    backward passes, another loss than ``loss_fn``).
    """
    from snnlab import losses

    lr = 0.5
    generator = torch.Generator().manual_seed(5)
    named_losses = [_NamedLoss(losses.ce_rate, "losses.ce_rate"),
                    _NamedLoss(losses.ce_membrane, "losses.ce_membrane"),
                    _NamedLoss(losses.mse_rate, "losses.mse_rate")]
    hint = tr("forward, loss = loss_fn(spikes, membrane, labels), optimizer.zero_grad(), "
              "loss.backward(), optimizer.step(), return loss.item()")
    cases = []
    for number, (what, loss_fn, stale_gradients) in enumerate([
        (tr("one step with ce_rate; return the loss before the update"), named_losses[0],
         False),
        (tr("old gradients of an earlier batch still sit in .grad"), named_losses[0], True),
        (tr("another loss function: use the loss_fn you are given"), named_losses[1], True),
        (tr("another loss function, another batch"), named_losses[2], False),
    ]):
        images = torch.rand(4, 12, generator=generator)
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
        with torch.no_grad():
            loss_after = loss_fn(*reference(images), labels).item()
        # (what the weights look like after a usual mistake, its message)
        wrong_steps: list[tuple[torch.nn.Module, str]] = []

        def wrong_step(message: str, *settings: Any, loss: Callable = loss_fn,
                       stale: dict[str, Tensor] | None = stale, number: int = number,
                       images: Tensor = images, labels: Tensor = labels,
                       into: list[tuple[torch.nn.Module, str]] = wrong_steps) -> None:
            wrong = _tiny_fcsnn(seed=number)
            _sgd_step(wrong, images, labels, loss, stale, *settings)
            into.append((wrong, message))

        if stale is not None:
            wrong_step(tr("your step also used the old gradients left in .grad (they add "
                          "up): call optimizer.zero_grad() before loss.backward()"), False, lr)
        wrong_step(tr("your weights moved twice as far as one SGD step: optimizer.step() (or "
                      "loss.backward()) ran twice; call each once per training step"),
                   True, lr, 2)
        for other in named_losses:
            if other is not loss_fn:
                wrong_step(tr("your step followed the gradient of {other}, not of the loss_fn "
                              "you were given ({given}): loss = loss_fn(spikes, membrane, "
                              "labels)").format(other=repr(other), given=repr(loss_fn)),
                           True, lr, 1, 1, loss=other)

        def judge(got: Any, model: torch.nn.Module = model, initial: list[Tensor] = initial,
                  reference: torch.nn.Module = reference,
                  wrong_steps: list[tuple[torch.nn.Module, str]] = wrong_steps,
                  expected_loss: float = expected_loss,
                  loss_after: float = loss_after) -> str | None:
            parameters = list(model.parameters())
            if all(torch.equal(p.detach(), p0) for p, p0 in zip(parameters, initial,
                                                                 strict=True)):
                if all(p.grad is None or not p.grad.any() for p in parameters):
                    return tr("the weights did not change, and no gradient is left in .grad: "
                              "call loss.backward() after optimizer.zero_grad(), then "
                              "optimizer.step()")
                return tr("the weights did not change, although .grad holds gradients: call "
                          "optimizer.step() after loss.backward()")
            name, difference = _weights_differ(model, reference)
            if difference > 1e-5:
                for wrong, message in wrong_steps:
                    if _weights_differ(model, wrong)[1] <= 1e-5:
                        return message
                return tr("after your step, {name} differs from one SGD step on this "
                          "batch's loss by up to {difference}").format(
                              name=name, difference=fmt(difference))
            if isinstance(got, Tensor):
                return tr("return the loss as a Python float, loss.item(); you returned the "
                          "tensor (which keeps the graph of every time step in memory)")
            if got is None:
                return tr("return the loss as a Python float (loss.item()), but you "
                          "returned nothing (None)")
            if isinstance(got, bool) or not isinstance(got, (int, float)):
                return tr("return the loss as a Python float (loss.item()), but you "
                          "returned a {type}").format(type=type(got).__name__)
            if abs(got - expected_loss) > 1e-5 * (1 + abs(expected_loss)):
                if abs(got - loss_after) <= 1e-5 * (1 + abs(loss_after)):
                    return tr("you returned the loss after the update ({received}); return "
                              "the loss you called backward on, {expected}").format(
                                  received=fmt(got), expected=fmt(expected_loss))
                return tr("the returned loss should be {expected}, but yours is "
                          "{received}").format(expected=fmt(expected_loss), received=fmt(got))
            return None

        cases.append(Case(what, (model, images, labels, loss_fn, _SGD(model.parameters(), lr=lr)),
                          judge, hint))
    return run_cases("check_train_step", train_step, cases,
                      ("model", "images", "labels", "loss_fn", "optimizer"))
