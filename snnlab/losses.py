"""Losses and accuracy for spiking networks (lesson 04; ``reconstruction`` in lesson 06).

Every network in ``snnlab.models`` returns a time-first record ``(spikes, membrane)`` of its
output layer, each ``[num_steps, batch, classes]`` (``[num_steps, batch, 1, H, W]`` for the
autoencoder). Every loss takes that record plus the targets, so any loss works with any
classifier::

    loss = loss_fn(spikes, membrane, targets)          # targets: [batch] class labels

Backpropagation through time needs nothing special: the forward pass unrolled the network
over the steps, and ``loss.backward()`` sends the gradient back through every one of them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from snnlab import checks

__all__ = ["LossFn", "ce_membrane", "ce_rate", "mse_rate", "mse_count", "reconstruction",
           "accuracy"]

LossFn = Callable[[Tensor, Tensor, Tensor], Tensor]


def _check_record(name: str, record: object, targets: object, record_name: str = "spikes",
                  ) -> tuple[Tensor, Tensor]:
    """A classifier's output record [T, B, C] and labels [B] with values in [0, C)."""
    record = checks.tensor(record_name, record)
    targets = checks.tensor("targets", targets, floating=False)
    if record.dim() != 3 or 0 in record.shape:
        raise ValueError(f"{name}: {record_name} must be time-first [num_steps, batch, classes],"
                         f" none of them 0, got shape {tuple(record.shape)}")
    if targets.is_floating_point() or targets.dtype == torch.bool or targets.dim() != 1:
        raise TypeError(f"{name}: targets must be class labels, a 1-D integer tensor [batch], "
                        f"got dtype {targets.dtype} and shape {tuple(targets.shape)}")
    num_steps, batch, num_classes = record.shape
    if batch != len(targets):
        hint = (f"; did you pass [batch, num_steps, ...]? snnlab is time-first, use "
                f"{record_name}.transpose(0, 1)" if num_steps == len(targets) else "")
        raise ValueError(f"{name}: {record_name} holds a batch of {batch} (shape "
                         f"{tuple(record.shape)}, [num_steps, batch, classes]) but there are "
                         f"{len(targets)} targets{hint}")
    if targets.device != record.device:
        raise ValueError(f"{name}: targets are on {targets.device} but {record_name} on "
                         f"{record.device}; pass targets.to({str(record.device)!r})")
    if targets.min() < 0 or targets.max() >= num_classes:
        raise ValueError(f"{name}: targets must be class labels in [0, {num_classes}), found "
                         f"labels from {targets.min().item()} to {targets.max().item()}")
    checks.finite(f"{name}: {record_name}", record)
    return record, targets.long()


def ce_membrane(spikes: Tensor, membrane: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy on the output membrane at every step, summed over steps.

        L = sum_t CE(softmax(U[t]), y)      (averaged over the batch)

    The membrane is a smooth read-out, so the gradient never vanishes, even before the
    output neurons fire. Lesson 04.
    """
    membrane, targets = _check_record("ce_membrane", membrane, targets, "membrane")
    num_steps = membrane.shape[0]
    logits = membrane.flatten(0, 1)  # [T*B, C]
    return F.cross_entropy(logits, targets.repeat(num_steps), reduction="sum") / targets.numel()


def ce_rate(spikes: Tensor, membrane: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy with the spike counts as logits, averaged over the batch. Lessons 03, 04.

        n_c = sum_t S_c[t],      L = -log(exp(n_y) / sum_c exp(n_c))      (y: the label)
    """
    spikes, targets = _check_record("ce_rate", spikes, targets)
    spike_counts = spikes.sum(0)  # [B, C]
    return F.cross_entropy(spike_counts, targets)


def mse_rate(spikes: Tensor, membrane: Tensor, targets: Tensor) -> Tensor:
    """MSE between each output's firing rate and the one-hot label.

        r_i = (1/T) sum_t S_i[t],   L = mean_i (r_i - onehot(y)_i)^2

    The correct neuron should fire at every step, the others never. Lesson 04.
    """
    spikes, targets = _check_record("mse_rate", spikes, targets)
    firing_rate = spikes.mean(0)  # [B, C]
    one_hot = F.one_hot(targets, firing_rate.shape[-1]).to(firing_rate.dtype)
    return F.mse_loss(firing_rate, one_hot)


def mse_count(spikes: Tensor, membrane: Tensor, targets: Tensor, correct_rate: float = 0.8,
              incorrect_rate: float = 0.2) -> Tensor:
    """MSE between spike counts and target counts.

    The correct class should fire ``correct_rate * T`` times, the others
    ``incorrect_rate * T`` times. Letting the wrong classes fire a little keeps them
    alive (a silent neuron gets no useful gradient)::

        L = mean_i (sum_t S_i[t] - T * target_rate_i)^2

    Lesson 04.
    """
    spikes, targets = _check_record("mse_count", spikes, targets)
    for name, value in (("correct_rate", correct_rate), ("incorrect_rate", incorrect_rate)):
        checks.number(name, value, "in [0, 1]", lambda r: 0 <= r <= 1)
    num_steps = spikes.shape[0]
    spike_counts = spikes.sum(0)  # [B, C]
    one_hot = F.one_hot(targets, spike_counts.shape[-1]).to(spike_counts.dtype)
    target_counts = num_steps * (incorrect_rate + (correct_rate - incorrect_rate) * one_hot)
    return F.mse_loss(spike_counts, target_counts)


def reconstruction(spikes: Tensor, membrane: Tensor, targets: Tensor) -> Tensor:
    """MSE between the reconstruction, the output membrane at the last step, and the images.

        L = mean_pixels (U[T-1] - x)^2          (lesson 06)
    """
    membrane = checks.finite("membrane", checks.tensor("membrane", membrane))
    targets = checks.unit_range("targets", checks.tensor("targets", targets))
    if membrane.dim() < 2 or len(membrane) == 0 or membrane.shape[1:] != targets.shape:
        raise ValueError(f"reconstruction: membrane must be time-first [num_steps, *images."
                         f"shape] = [T, {', '.join(map(str, targets.shape))}], got "
                         f"{tuple(membrane.shape)} for images {tuple(targets.shape)}")
    return F.mse_loss(membrane[-1], targets)


def accuracy(spikes: Tensor, targets: Tensor) -> float:
    """Fraction of samples whose correct output neuron fired most (spikes: [T, B, C]).

    A tie goes to the lowest class index, like ``argmax``. Lesson 04.
    """
    spikes, targets = _check_record("accuracy", spikes, targets)
    spike_counts = spikes.sum(0)
    return (spike_counts.argmax(-1) == targets).float().mean().item()
