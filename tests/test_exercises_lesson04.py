"""Lesson 04 checkers against a catalogue of wrong answers written the way students write them.

Every wrong answer must fail; each one a named mistake explains fails with exactly that
mistake's sentence (and no other's); the share of wrong answers that get a named message is
measured and must stay at 80% or more. Also: the edge cases, NaN, None, raising, slow answers,
and several different correct answers.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from snnlab.course.exercises import lesson04
from snnlab.course.exercises.lesson04 import check_accuracy, check_mse_rate, check_train_step

# ------------------------------------------------------------------ correct answers


def accuracy(spikes, targets):
    return (spikes.sum(0).argmax(-1) == targets).float().mean().item()


def accuracy_loop(spikes, targets):
    counts = spikes.sum(0).tolist()
    right = sum(row.index(max(row)) == t for row, t in zip(counts, targets.tolist(), strict=True))
    return right / len(counts)


def accuracy_rates(spikes, targets):
    return float((spikes.mean(0).max(-1).indices == targets).sum()) / targets.numel()


def mse_rate(spikes, targets):
    one_hot = F.one_hot(targets, spikes.shape[-1]).float()
    return F.mse_loss(spikes.mean(0), one_hot)


def mse_rate_by_hand(spikes, targets):
    rate = spikes.sum(0) / spikes.shape[0]
    one_hot = torch.zeros_like(rate)
    one_hot[torch.arange(len(targets)), targets] = 1.0
    return ((one_hot - rate) ** 2).sum() / rate.numel()


def train_step(model, images, labels, loss_fn, optimizer):
    spikes, membrane = model(images)
    loss = loss_fn(spikes, membrane, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def train_step_model_zero_grad(model, images, labels, loss_fn, optimizer):
    model.zero_grad(set_to_none=False)  # clearing the model's gradients is as good
    loss = loss_fn(*model(images), labels)
    loss.backward()
    optimizer.step()
    return float(loss)


CORRECT = [(check_accuracy, f) for f in (accuracy, accuracy_loop, accuracy_rates)]
CORRECT += [(check_mse_rate, f) for f in (mse_rate, mse_rate_by_hand)]
CORRECT += [(check_train_step, f) for f in (train_step, train_step_model_zero_grad)]


@pytest.mark.parametrize("check, answer", CORRECT, ids=lambda x: getattr(x, "__name__", ""))
def test_correct_answers_pass(check, answer, capsys):
    assert check(answer) is True
    assert capsys.readouterr().out.startswith(f"✓ {check.__name__}: passed ")


# ------------------------------------------------------------------ the catalogue


def _pred(counts, targets):
    return (counts.argmax(-1) == targets).float()


ACCURACY_WRONG = {
    # name: (answer, words of its message, or None where the generic message must do)
    "count, not fraction": (lambda s, t: _pred(s.sum(0), t).sum().item(),
                            "do not divide by the batch size"),
    "percentage": (lambda s, t: 100 * accuracy(s, t), "give a percentage"),
    "last step": (lambda s, t: _pred(s[-1], t).mean().item(), "only the last time step"),
    "first step": (lambda s, t: _pred(s[0], t).mean().item(), "only the first time step"),
    "max over time": (lambda s, t: _pred(s.max(0).values, t).mean().item(),
                      "maximum over time"),
    "max(0)[0]": (lambda s, t: _pred(s.max(dim=0)[0], t).mean().item(), "maximum over time"),
    "batch first": (lambda s, t: _pred(s.sum(1), t).mean().item(), "the error of spikes.sum(1)"),
    "argmax(0)": (lambda s, t: (s.sum(0).argmax(0) == t).float().mean().item(),
                  "argmax over the wrong dimension"),
    "ties to the last": (lambda s, t: ((s.shape[-1] - 1 - s.sum(0).flip(-1).argmax(-1)) == t)
                         .float().mean().item(), "ties to the last class"),
    "keepdim": (lambda s, t: (s.sum(0).argmax(-1, keepdim=True) == t).float().mean().item(),
                "keepdim=True"),
    "divided by steps": (lambda s, t: _pred(s.sum(0), t).sum().item() / len(s),
                         "by the number of time steps"),
    "no mean": (lambda s, t: _pred(s.sum(0), t), "never take the mean"),
    "tensor": (lambda s, t: _pred(s.sum(0), t).mean(), "instead of a Python float"),
    # no named mistake: the generic message must do
    "argmin": (lambda s, t: (s.sum(0).argmin(-1) == t).float().mean().item(), None),
    "error rate": (lambda s, t: 1 - accuracy(s, t), "the error rate"),
    "error count": (lambda s, t: 1.0 * (s.sum(0).argmax(-1) != t).sum().item(), None),
}


def _one_hot(t, c):
    return F.one_hot(t, c).float()


MSE_WRONG = {
    "counts": (lambda s, t: F.mse_loss(s.sum(0), _one_hot(t, s.shape[-1])),
               "use the spike counts"),
    "last step": (lambda s, t: F.mse_loss(s[-1], _one_hot(t, s.shape[-1])),
                  "the last step's spikes"),
    "batch mean too": (lambda s, t: ((s.mean((0, 1)) - _one_hot(t, s.shape[-1])) ** 2).mean(),
                       "average over the batch too"),
    "batch first": (lambda s, t: ((s.mean(1) - _one_hot(t, s.shape[-1])) ** 2).mean(),
                    "spikes.mean(1)"),
    "sum over classes": (lambda s, t: ((s.mean(0) - _one_hot(t, s.shape[-1])) ** 2).sum(1)
                         .mean(), "sum the squared errors over the classes"),
    "sum": (lambda s, t: F.mse_loss(s.mean(0), _one_hot(t, s.shape[-1]), reduction="sum"),
            "sum the squared errors instead"),
    "absolute": (lambda s, t: F.l1_loss(s.mean(0), _one_hot(t, s.shape[-1])),
                 "absolute error"),
    "RMSE": (lambda s, t: torch.sqrt(mse_rate(s, t)), "square root (RMSE)"),
    "item": (lambda s, t: mse_rate(s, t).item(), "return a Python number"),
    "ten classes": (lambda s, t: ((s.mean(0) - _one_hot(t, 10)) ** 2).mean(),
                    "one-hot labels with 10 classes"),
    "ten classes, mse_loss": (lambda s, t: F.mse_loss(s.mean(0), _one_hot(t, 10)),
                              "one-hot labels with 10 classes"),
    "one_hot without classes": (lambda s, t: ((F.one_hot(t).float() - s.mean(0)) ** 2).mean(),
                                "without num_classes"),
    "detached": (lambda s, t: torch.tensor(mse_rate(s, t).item()),
                 "gradients flow through"),
    # no named mistake
    "half the MSE": (lambda s, t: 0.5 * mse_rate(s, t), None),
    "cross-entropy": (lambda s, t: F.cross_entropy(s.mean(0), t), None),
}


def _step(model, images, labels, loss_fn, optimizer, *, zero=True, backwards=1, steps=1,
          returns="item", loss=None):
    spikes, membrane = model(images)
    value = (loss or loss_fn)(spikes, membrane, labels)
    if zero:
        optimizer.zero_grad()
    for _ in range(backwards):
        value.backward(retain_graph=True)
    for _ in range(steps):
        optimizer.step()
    if returns == "tensor":
        return value
    if returns == "none":
        return None
    if returns == "after":
        with torch.no_grad():
            return loss_fn(*model(images), labels).item()
    return value.item()


def _zero_too_late(model, images, labels, loss_fn, optimizer):
    loss = loss_fn(*model(images), labels)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()


def _no_grad_forward(model, images, labels, loss_fn, optimizer):
    with torch.no_grad():
        spikes, membrane = model(images)
    loss = loss_fn(spikes, membrane, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def _ce_rate(s, m, y):
    from snnlab import losses
    return losses.ce_rate(s, m, y)


TRAIN_WRONG = {
    "no zero_grad": (lambda *a: _step(*a, zero=False), "old gradients left in .grad"),
    "no backward": (lambda *a: _step(*a, backwards=0), "no gradient is left"),
    "no step": (lambda *a: _step(*a, steps=0), "although .grad holds gradients"),
    "zero_grad after backward": (_zero_too_late, "no gradient is left"),
    "two steps": (lambda *a: _step(*a, steps=2), "moved twice as far"),
    "two backward passes": (lambda *a: _step(*a, backwards=2), "moved twice as far"),
    "returns the tensor": (lambda *a: _step(*a, returns="tensor"), "you returned the tensor"),
    "returns nothing": (lambda *a: _step(*a, returns="none"), "nothing (None)"),
    "loss after the update": (lambda *a: _step(*a, returns="after"), "loss after the update"),
    "ce_rate hard-coded": (lambda *a: _step(*a, loss=_ce_rate),
                           "not of the loss_fn you were given"),
    # no named mistake
    "forward under no_grad": (_no_grad_forward, None),
    "learning rate doubled by hand": (lambda *a: _step(*a, loss=lambda s, m, y: 3 * a[3](s, m, y)),
                                      None),
}

CATALOGUE = [(check_accuracy, n, *e) for n, e in ACCURACY_WRONG.items()]
CATALOGUE += [(check_mse_rate, n, *e) for n, e in MSE_WRONG.items()]
CATALOGUE += [(check_train_step, n, *e) for n, e in TRAIN_WRONG.items()]
GENERIC = ("should be", "your function raised", "differs from one SGD step")


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("check, name, answer, words", CATALOGUE,
                         ids=[f"{c.__name__}-{n}" for c, n, _, _ in CATALOGUE])
def test_every_wrong_answer_fails_with_its_own_message(check, name, answer, words, capsys):
    assert check(answer) is False
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"✗ {check.__name__}: case ") and "\n" not in out, out
    mistakes = MISTAKES.get(check, [])
    said = [m.message for m in mistakes if m.message in out]
    if words is not None:
        assert words in out, out
        assert len(said) <= 1, out  # never two mistakes' sentences
    else:  # the fallback shows what was expected and what came back, and names nothing
        assert not said and any(g in out for g in GENERIC), out


MISTAKES = {check_accuracy: lesson04._accuracy_mistakes(),
            check_mse_rate: lesson04._mse_rate_mistakes()}


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("check, wrong", [(check_accuracy, ACCURACY_WRONG),
                                          (check_mse_rate, MSE_WRONG),
                                          (check_train_step, TRAIN_WRONG)])
def test_at_least_80_percent_of_the_catalogue_is_named(check, wrong, capsys):
    named = []
    for answer, _ in wrong.values():
        check(answer)
        out = capsys.readouterr().out
        named.append(not any(g in out for g in GENERIC) or
                     any(m.message in out for m in MISTAKES.get(check, [])))
    share = sum(named) / len(named)
    print(f"{check.__name__}: {sum(named)} of {len(named)} wrong answers named ({share:.0%})")
    assert share >= 0.8
    assert named == [words is not None for _, words in wrong.values()]


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("check, wrong", [(check_accuracy, ACCURACY_WRONG),
                                          (check_mse_rate, MSE_WRONG)])
def test_every_named_mistake_is_in_the_catalogue_and_has_its_own_sentence(check, wrong, capsys):
    mistakes = MISTAKES[check]
    used = {}
    for answer, words in wrong.values():
        if words is None:
            continue
        check(answer)
        out = capsys.readouterr().out
        found = [i for i, m in enumerate(mistakes) if m.message in out]
        if not any(words in m.message for m in mistakes):  # named by the case's own judge
            assert not found, out
            continue
        assert len(found) == 1, out
        used.setdefault(words, set()).add(found[0])
    assert all(len(v) == 1 for v in used.values())
    indices = sorted(next(iter(v)) for v in used.values())
    assert indices == list(range(len(mistakes)))  # each mistake: one sentence, one answer


# ------------------------------------------------------------------ edge cases


def test_the_accuracy_cases_hold_the_counts_they_name():
    spikes = lesson04._spikes_from_counts([[1, 5, 0], [2, 0, 6]], 7, 0)
    assert torch.equal(spikes.sum(0), torch.tensor([[1.0, 5, 0], [2, 0, 6]]))
    assert bool(((spikes == 0) | (spikes == 1)).all())


def test_the_mse_case_with_7_classes_has_no_target_of_the_last_class():
    """F.one_hot(targets) without num_classes would then guess the right number of classes."""
    assert F.one_hot(torch.tensor([5, 0, 4])).shape[-1] == 6


def test_a_training_step_that_clears_the_model_instead_of_the_optimizer_passes(capsys):
    assert check_train_step(train_step_model_zero_grad) is True


def test_train_step_check_leaves_the_global_random_stream_alone():
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    check_train_step(train_step)
    assert torch.equal(torch.rand(3), expected)


# ------------------------------------------------------------------ odd answers

CHECKS = [(check_accuracy, accuracy), (check_mse_rate, mse_rate), (check_train_step, train_step)]


@pytest.mark.parametrize("check, correct", CHECKS)
@pytest.mark.parametrize("value", [None, "loss", (1.0, 2.0)], ids=["None", "str", "tuple"])
def test_odd_return_values_fail_with_one_line(check, correct, value, capsys):
    assert check(lambda *a: value) is False
    out = capsys.readouterr().out.strip()
    assert out.startswith("✗") and "\n" not in out


@pytest.mark.parametrize("check, correct", CHECKS[:2])
def test_nan_never_passes(check, correct, capsys):
    def nan(*args):
        value = correct(*args)
        return value * math.nan

    assert check(nan) is False
    assert "NaN" in capsys.readouterr().out


def test_a_nan_loss_in_train_step_fails(capsys):
    def nan_step(model, images, labels, loss_fn, optimizer):
        train_step(model, images, labels, loss_fn, optimizer)
        return math.nan

    assert check_train_step(nan_step) is False
    assert "NaN" in capsys.readouterr().out

