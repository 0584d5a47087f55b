"""Checkers of lessons 04-06: each accepts its reference solution, agrees with snnlab, and
reports a stub as not implemented. Wrong answers: tests/test_exercises_lesson04.py ... 06.py."""

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


LESSON_04_SOLUTIONS = [
    (check_accuracy, accuracy),
    (check_mse_rate, mse_rate),
    (check_train_step, train_step),
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


LESSON_05_SOLUTIONS = [
    (check_flat_features, flat_features),
    (check_run_stateful, run_stateful),
    (check_dead_and_saturated, dead_and_saturated),
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


LESSON_06_SOLUTIONS = [
    (check_transposed_output_size, transposed_output_size),
    (check_leaky_readout, leaky_readout),
    (check_mean_step_loss, mean_step_loss),
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


# ----- Every checker accepts its reference solution and calls a stub "not implemented yet".
# The catalogues of wrong answers live in tests/test_exercises_lesson04.py ... lesson07.py.

# ------------------------------------------------------------ every checker of lessons 04-06

SOLUTIONS = LESSON_04_SOLUTIONS + LESSON_05_SOLUTIONS + LESSON_06_SOLUTIONS


@pytest.mark.parametrize("check, solution", SOLUTIONS, ids=lambda x: getattr(x, "__name__", ""))
def test_reference_solution_passes(check, solution, capsys):
    assert check(solution) is True
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"✓ {check.__name__}: passed ") and "\n" not in out


@pytest.mark.parametrize("check", [check for check, _ in SOLUTIONS])
def test_stub_reports_not_implemented(check, capsys):
    def stub(*args):
        """Signature + docstring, as in the student handout."""
        # YOUR CODE HERE
        raise NotImplementedError

    assert check(stub) is False
    out = capsys.readouterr().out
    assert out.startswith(f"… {check.__name__}: not implemented yet") and "Traceback" not in out
