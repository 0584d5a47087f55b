"""Checkers of lessons 04-06: each accepts its reference solution, rejects the typical mistakes
with a message naming the mistake and its fix, and reports a stub as not implemented."""

from __future__ import annotations

import pytest
import torch

from snnlab import losses
from snnlab.course.exercises import lesson05
from snnlab.course.exercises.lesson04 import check_accuracy, check_mse_rate, check_train_step
from snnlab.course.exercises.lesson05 import (
    check_dead_and_saturated,
    check_flat_features,
    check_run_stateful,
)
from snnlab.course.exercises.lesson06 import (
    check_leaky_readout,
    check_mean_step_loss,
    check_transposed_output_size,
)

# ------------------------------------------------------------------ Lesson 04: FC SNN on MNIST


def accuracy(spikes, targets):
    return (spikes.sum(0).argmax(-1) == targets).float().mean().item()


def mse_rate(spikes, targets):
    one_hot = torch.nn.functional.one_hot(targets, spikes.shape[-1]).float()
    return torch.nn.functional.mse_loss(spikes.mean(0), one_hot)


def train_step(model, images, labels, loss_fn, optimizer):
    spikes, membrane = model(images)
    loss = loss_fn(spikes, membrane, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def _step_without(skip):
    """train_step with one of its calls left out (or returning the tensor)."""

    def step(model, images, labels, loss_fn, optimizer):
        spikes, membrane = model(images)
        loss = loss_fn(spikes, membrane, labels)
        if skip != "zero_grad":
            optimizer.zero_grad()
        if skip != "backward":
            loss.backward()
        if skip != "step":
            optimizer.step()
        return loss if skip == "item" else loss.item()

    return step


def _train_step_zeroing_too_late(model, images, labels, loss_fn, optimizer):
    spikes, membrane = model(images)
    loss = loss_fn(spikes, membrane, labels)
    loss.backward()
    optimizer.zero_grad()  # wipes the gradients it just computed
    optimizer.step()
    return loss.item()


def _train_step_returning_loss_after(model, images, labels, loss_fn, optimizer):
    train_step(model, images, labels, loss_fn, optimizer)
    with torch.no_grad():
        return loss_fn(*model(images), labels).item()


LESSON_04_SOLUTIONS = [
    (check_accuracy, accuracy),
    (check_mse_rate, mse_rate),
    (check_train_step, train_step),
]

LESSON_04_MISTAKES = [
    (check_accuracy,  # the last step instead of the counts
     lambda spikes, targets: (spikes[-1].argmax(-1) == targets).float().mean().item(),
     ["case 1", "read only the last time step",
      "spikes.sum(0)"]),
    (check_accuracy,  # number correct instead of the fraction
     lambda spikes, targets: (spikes.sum(0).argmax(-1) == targets).sum().item(),
     ["case 2", "count the correct samples",
      "take the mean of the matches"]),
    (check_accuracy,  # summed over the batch instead of time
     lambda spikes, targets: (spikes.sum(1).argmax(-1) == targets).float().mean().item(),
     ["case 1", "as if the batch came first", "spikes.sum(0)"]),
    (check_accuracy,  # no mean: one match per sample
     lambda spikes, targets: (spikes.sum(0).argmax(-1) == targets).float(),
     ["case 1", "never take the mean",
      "average the matches"]),
    (check_accuracy,  # a 0-dim tensor where a float is asked
     lambda spikes, targets: (spikes.sum(0).argmax(-1) == targets).float().mean(),
     ["case 1", "instead of a Python float",
      ".item()"]),
    (check_accuracy,  # a percentage
     lambda spikes, targets: 100 * accuracy(spikes, targets),
     ["case 1", "give a percentage", "fraction"]),
    (check_mse_rate,  # counts instead of rates
     lambda spikes, targets: mse_rate(spikes * spikes.shape[0], targets),
     ["case 1", "use the spike counts", "spikes.mean(0)"]),
    (check_mse_rate,  # averaged over the batch as well as time: not the shape[-1] hint
     lambda spikes, targets: mse_rate(spikes.mean(1, keepdim=True).expand_as(spikes), targets),
     ["case 3", "average over the batch too", "each sample is compared with its own label"]),
    (check_mse_rate,  # batch-first: the mean over dim 1
     lambda spikes, targets: mse_rate(spikes.transpose(0, 1), targets),
     ["case 3", "raised RuntimeError", "time comes first", "spikes.mean(0)"]),
    (check_mse_rate,  # no square
     lambda spikes, targets: (spikes.mean(0) - torch.nn.functional.one_hot(
         targets, spikes.shape[-1]).float()).abs().mean(),
     ["case 3", "absolute error", "square the difference"]),
    (check_mse_rate,  # summed over the classes
     lambda spikes, targets: mse_rate(spikes, targets) * spikes.shape[-1],
     ["silent output layer", "sum the squared errors over the "
      "classes", "average over the batch AND the classes"]),
    pytest.param(  # ten classes hard-coded (torch warns about the broadcast, then fails)
        check_mse_rate,
        lambda spikes, targets: torch.nn.functional.mse_loss(
            spikes.mean(0), torch.nn.functional.one_hot(targets, 10).float()),
        ["case 3", "7 classes", "raised RuntimeError", "spikes.shape[-1]"],
        marks=pytest.mark.filterwarnings("ignore:Using a target size")),
    (check_mse_rate,  # a number, not a tensor that gradients flow through
     lambda spikes, targets: torch.tensor(mse_rate(spikes, targets).item()),
     ["gradients flow back", "no .item()"]),
    (check_train_step, _step_without("zero_grad"),
     ["case 2", "old gradients", "optimizer.zero_grad() before loss.backward()"]),
    (check_train_step, _step_without("step"),
     ["case 1", "weights did not change", "call optimizer.step()"]),
    (check_train_step, _step_without("backward"),
     ["case 1", "no gradient", "call loss.backward()"]),
    (check_train_step, _train_step_zeroing_too_late,
     ["case 1", "no gradient", "after optimizer.zero_grad()"]),
    (check_train_step, _step_without("item"),
     ["case 1", "Python float", "loss.item()"]),
    (check_train_step, _train_step_returning_loss_after,
     ["case 1", "loss after the update", "return the loss you called backward on"]),
    (check_train_step,  # ignores the loss_fn argument
     lambda model, images, labels, loss_fn, optimizer: train_step(
         model, images, labels, lambda s, m, y: torch.nn.functional.cross_entropy(s.sum(0), y),
         optimizer),
     ["case 3", "losses.ce_membrane", "differs from one SGD step", "loss_fn"]),
]


def test_lesson_04_reference_solutions_agree_with_snnlab():

    generator = torch.Generator().manual_seed(0)
    spikes = (torch.rand(9, 5, 10, generator=generator) < 0.3).float()
    targets = torch.randint(0, 10, (5,), generator=generator)
    assert accuracy(spikes, targets) == losses.accuracy(spikes, targets)
    assert torch.allclose(mse_rate(spikes, targets), losses.mse_rate(spikes, None, targets))


def test_train_step_check_leaves_the_global_random_stream_alone():
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    check_train_step(train_step)
    assert torch.equal(torch.rand(3), expected)


# ------------------------------------------------------------------ Lesson 05: a convolutional SNN


def flat_features(image_size, kernel_sizes, pool, channels):
    side = image_size
    for kernel in kernel_sizes:
        side = (side - kernel + 1) // pool
    return channels[-1] * side * side


def run_stateful(net, x, num_steps):
    from snnlab.neurons import reset_states

    reset_states(net)
    return torch.stack([net(x) for _ in range(num_steps)])


def dead_and_saturated(spikes):
    num_steps, batch = spikes.shape[:2]
    total = spikes.flatten(2).sum(dim=(0, 1))
    return (total == 0).float().mean().item(), (total == num_steps * batch).float().mean().item()


def _run_without_reset(net, x, num_steps):
    return torch.stack([net(x) for _ in range(num_steps)])


def _reset_at_every_step(net, x, num_steps):
    from snnlab.neurons import reset_states

    outputs = []
    for _ in range(num_steps):
        reset_states(net)
        outputs.append(net(x))
    return torch.stack(outputs)


def _shrink_by_kernel(image_size, kernel_sizes, pool, channels):  # not by kernel - 1
    side = image_size
    for kernel in kernel_sizes:
        side = (side - kernel) // pool
    return channels[-1] * side * side


def _true_division(image_size, kernel_sizes, pool, channels):  # / instead of //
    side = image_size
    for kernel in kernel_sizes:
        side = (side - kernel + 1) / pool
    return int(channels[-1] * side * side)


def _per_image(spikes):  # fractions per image, averaged: not "never on any image"
    counts = spikes.sum(0)
    return (counts == 0).float().mean().item(), (counts == spikes.shape[0]).float().mean().item()


LESSON_05_SOLUTIONS = [
    (check_flat_features, flat_features),
    (check_run_stateful, run_stateful),
    (check_dead_and_saturated, dead_and_saturated),
]

LESSON_05_MISTAKES = [
    (check_flat_features, _shrink_by_kernel,
     ["case 1", "by the kernel size instead of "
      "kernel - 1", "s - k + 1"]),
    (check_flat_features, _true_division,
     ["case 4", "round only at the end", "floor division"]),
    (check_flat_features,  # the side squared, no channels
     lambda s, ks, p, c: flat_features(s, ks, p, c) // c[-1],
     ["case 1", "forget the channels", "channels[-1]"]),
    (check_flat_features,  # the first layer's channels
     lambda s, ks, p, c: flat_features(s, ks, p, c) // c[-1] * c[0],
     ["case 1", "first layer's channels"]),
    (check_flat_features, lambda s, ks, p, c: 1024,
     ["case 2 (one layer only)", "should be 1728", "yours is 1024"]),
    (check_flat_features, lambda s, ks, p, c: float(flat_features(s, ks, p, c)),
     ["return an int", "the float 1024.0"]),
    (check_run_stateful, _run_without_reset,
     ["case 2", "earlier batch of the same size", "outputs[0] should be", "reset_states(net)"]),
    (check_run_stateful, _reset_at_every_step,
     ["case 1",
      "reset the state at every step", "reset once, before the loop"]),
    (check_run_stateful,  # the outputs summed over time
     lambda net, x, n: run_stateful(net, x, n).sum(0),
     ["case 1", "add up the outputs", "torch.stack"]),
    (check_run_stateful,  # batch first
     lambda net, x, n: run_stateful(net, x, n).transpose(0, 1),
     ["stack the outputs batch-first",
      "time-first"]),
    (check_dead_and_saturated, _per_image,
     ["case 1", "each image on its own",
      "over the steps AND the images"]),
    (check_dead_and_saturated,  # tensors where floats are asked
     lambda s: tuple(torch.tensor(v) for v in dead_and_saturated(s)),
     ["case 1", "tensors instead of Python floats",
      ".item()"]),
    (check_dead_and_saturated,  # swapped
     lambda s: dead_and_saturated(s)[::-1],
     ["case 3", "the wrong order", "return (dead, saturated)"]),
    (check_dead_and_saturated,  # saturated = a spike at every step, on one image
     lambda s: (dead_and_saturated(s)[0],
                (s.sum(dim=(0, 1)).flatten() >= s.shape[0]).float().mean().item()),
     ["case 2", "fires T times in total",
      "T * B"]),
    (check_dead_and_saturated,  # counts instead of fractions
     lambda s: tuple(int(v * s[0, 0].numel()) for v in dead_and_saturated(s)),
     ["count the neurons instead of taking fractions"]),
]


def test_lesson_05_reference_solutions_agree_with_snnlab():
    from snnlab import models
    from snnlab.course import widgets

    assert flat_features(28, [5, 5], 2, [12, 64]) == models.CSNN().fc.in_features
    generator = torch.Generator().manual_seed(1)
    spikes = (torch.rand(6, 4, 3, 5, 5, generator=generator) < 0.2).float()
    spikes[:, :, 0, 0, 0] = 1  # one saturated neuron
    stats = widgets.firing_statistics(spikes)
    assert dead_and_saturated(spikes) == (stats["dead"], stats["saturated"])
    assert stats["saturated"] == pytest.approx(1 / 75)


def test_lesson_05_stale_state_really_changes_the_outputs():
    """Without this the same-size case could not tell a missing reset from a correct one."""
    net = lesson05._stateful_net(conv=False, seed=0)
    x = torch.rand(4, 6, generator=torch.Generator().manual_seed(0))
    fresh = run_stateful(net, x, 8)
    for _ in range(3):
        net(x + 0.5)
    assert fresh.sum() > 0 and not torch.equal(_run_without_reset(net, x, 8), fresh)


def test_lesson_05_checks_leave_the_global_random_stream_alone():
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    check_run_stateful(run_stateful)
    check_dead_and_saturated(dead_and_saturated)
    check_flat_features(flat_features)
    assert torch.equal(torch.rand(3), expected)


# ------------------------------------------------------------------ Lesson 06: spiking autoencoder


def transposed_output_size(size, kernel_size, stride, padding, output_padding):
    return (size - 1) * stride - 2 * padding + kernel_size + output_padding


def leaky_readout(currents, beta):
    membrane = torch.zeros_like(currents[0])
    for current in currents:
        membrane = beta * membrane + current
    return membrane


def mean_step_loss(spikes, membrane, images):
    return ((membrane - images) ** 2).mean()


def _readout_with_reset(currents, beta):  # an ordinary LIF: it spikes and resets at 1
    from snnlab.neurons import LIF

    return LIF(beta).sequence(currents)[1][-1]


LESSON_06_SOLUTIONS = [
    (check_transposed_output_size, transposed_output_size),
    (check_leaky_readout, leaky_readout),
    (check_mean_step_loss, mean_step_loss),
]

LESSON_06_MISTAKES = [
    (check_transposed_output_size,  # size * stride: forgot the "- 1"
     lambda size, k, s, p, op: size * s - 2 * p + k + op,
     ["case 1", "forgetting the - 1", "(size - 1) * stride"]),
    (check_transposed_output_size,  # a convolution's rule
     lambda size, k, s, p, op: (size + 2 * p - k) // s + 1,
     ["case 1", "a convolution's rule", "backwards"]),
    (check_transposed_output_size,  # output_padding left out
     lambda size, k, s, p, op: (size - 1) * s - 2 * p + k,
     ["case 1", "leave out output_padding"]),
    (check_transposed_output_size,  # "it doubles": right for the lesson's layers only
     lambda size, k, s, p, op: size * s,
     ["case 3", "doubles the side", "all five settings"]),
    (check_transposed_output_size,  # padding taken off once, not on both sides
     lambda size, k, s, p, op: (size - 1) * s - p + k + op,
     ["one side only", "2 * padding"]),
    (check_transposed_output_size,
     lambda *args: float(transposed_output_size(*args)),
     ["return an int", "the float 8.0"]),
    (check_leaky_readout, lambda currents, beta: currents.sum(0),
     ["case 2", "without the leak", "decay"]),
    (check_leaky_readout,  # the leak after adding: beta * (U + I)
     lambda currents, beta: beta * leaky_readout(currents, beta),
     ["case 1", "after adding the current", "leak first"]),
    (check_leaky_readout,  # weights beta ** t: the first step counts most
     lambda currents, beta: sum(beta ** t * currents[t] for t in range(len(currents))),
     ["case 3", "first step counts most",
      "beta ** (T - 1 - t)"]),
    (check_leaky_readout, _readout_with_reset,
     ["case 4", "no reset", "like an ordinary LIF", "never reset"]),
    (check_leaky_readout,  # every step's membrane, not the last one
     lambda currents, beta: torch.stack([leaky_readout(currents[: t + 1], beta)
                                         for t in range(len(currents))]),
     ["case 1", "membrane of every step", "U[T-1]"]),
    (check_mean_step_loss,
     lambda spikes, membrane, images: ((membrane[-1] - images) ** 2).mean(),
     ["case 3", "right at the last step only",
      "last step only", "every step counts"]),
    (check_mean_step_loss,  # the MSE of the time-averaged membrane
     lambda spikes, membrane, images: ((membrane.mean(0) - images) ** 2).mean(),
     ["case 2", "average the membrane over time first",
      "before you average over time"]),
    (check_mean_step_loss,  # summed over the steps
     lambda spikes, membrane, images: ((membrane - images) ** 2).mean(dim=(1, 2, 3, 4)).sum(),
     ["case 2", "add up the per-step errors", "divide by T"]),
    (check_mean_step_loss,  # summed over the pixels
     lambda spikes, membrane, images: ((membrane - images) ** 2).flatten(2).sum(-1).mean(),
     ["case 1", "sum over the pixels", "average over every pixel"]),
    (check_mean_step_loss,
     lambda spikes, membrane, images: ((membrane - images) ** 2).mean().item(),
     ["case 1", "torch.Tensor", "returned a float"]),
    (check_mean_step_loss,
     lambda spikes, membrane, images: ((membrane - images) ** 2).mean().detach(),
     ["case 5", "requires_grad is False"]),
]


def test_lesson_06_reference_solutions_agree_with_snnlab():
    from snnlab import models

    model = models.SpikingAutoencoder(latent_dim=4, num_steps=3)
    side = 4  # the decoder's transposed convolutions: 4 -> 8 -> 16 -> 32
    for layer in (model.deconv1, model.deconv2, model.deconv3):
        side = transposed_output_size(side, layer.kernel_size[0], layer.stride[0],
                                      layer.padding[0], layer.output_padding[0])
    assert side == 32
    # the readout is what the model's non-spiking output layer computes at its last step
    currents = 3 * torch.randn(5, 2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    _, membrane = model.lif_out.sequence(currents)
    assert torch.allclose(leaky_readout(currents, 0.5), membrane[-1], atol=1e-6)
    # one step: the mean-over-steps loss is the course's reconstruction loss
    images = torch.rand(3, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    one_step = torch.rand(1, 3, 1, 32, 32, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(mean_step_loss(None, one_step, images),
                          losses.reconstruction(None, one_step, images))


def test_lesson_06_checks_leave_the_global_random_stream_alone():
    torch.manual_seed(6)
    expected = torch.rand(3)
    torch.manual_seed(6)
    check_transposed_output_size(transposed_output_size)
    check_leaky_readout(leaky_readout)
    check_mean_step_loss(mean_step_loss)
    assert torch.equal(torch.rand(3), expected)


# ----- Lessons 05 and 06: every checker accepts its reference solution, rejects the typical
# mistakes with the words that explain them, and calls a stub "not implemented yet".

# ------------------------------------------------------------ every checker of lessons 04-06

SOLUTIONS = LESSON_04_SOLUTIONS + LESSON_05_SOLUTIONS + LESSON_06_SOLUTIONS


@pytest.mark.parametrize("check, solution", SOLUTIONS, ids=lambda x: getattr(x, "__name__", ""))
def test_reference_solution_passes(check, solution, capsys):
    assert check(solution) is True
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"✓ {check.__name__}: passed ") and "\n" not in out


@pytest.mark.parametrize("check, wrong, words",
                         LESSON_04_MISTAKES + LESSON_05_MISTAKES + LESSON_06_MISTAKES)
def test_typical_mistake_is_rejected(check, wrong, words, capsys):
    assert check(wrong) is False
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"✗ {check.__name__}: case ")
    for word in words:
        assert word in out, f"{word!r} missing from: {out}"


@pytest.mark.parametrize("check", [check for check, _ in SOLUTIONS])
def test_stub_reports_not_implemented(check, capsys):
    def stub(*args):
        """Signature + docstring, as in the student handout."""
        # YOUR CODE HERE
        raise NotImplementedError

    assert check(stub) is False
    out = capsys.readouterr().out
    assert out.startswith(f"… {check.__name__}: not implemented yet") and "Traceback" not in out
