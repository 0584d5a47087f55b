"""Training a spiking network: the BPTT loop ``fit``, ``evaluate`` and ``History`` (lesson 04).

``fit`` is the loop lesson 04 has you write by hand, its ``train_step`` for every batch::

    spikes, membrane = model(images)             # forward over all T steps: [T, B, ...] each
    loss = loss_fn(spikes, membrane, targets)    # one number for the batch
    optimizer.zero_grad()
    loss.backward()                              # backpropagation through time
    optimizer.step()                             # e.g. SGD: W <- W - lr * dL/dW

plus what an hour-long run needs: a learning-rate schedule, a test pass, the checkpoint and
the history on disk after each epoch, and an early stop that loses nothing. ``fit``'s loop is
those five lines, with the guarding in small named helpers beside them. ``_StepGuard`` never
lets a broken network be kept: a NaN or inf in the loss, a gradient, a weight or the
optimizer's state (Adam's running averages, which would freeze a weight for good) stops the
run at once with the last good weights and optimizer state restored,
``history.stopped = "non-finite"``. ``_Run`` keeps the rest: where the run is, the running
means, the summary lines, the checkpoint and how the run ends.
"""

from __future__ import annotations

import csv
import io
import math
import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from snnlab import checkpoints, checks, config, files
from snnlab.i18n import tr
from snnlab.losses import LossFn, accuracy

__all__ = ["History", "fit", "evaluate", "chance_warning", "METRICS", "CHANCE_MARGIN"]

METRICS = ("accuracy", "mse")
# A classifier is "at chance" when its accuracy is below 1/C + CHANCE_MARGIN (C classes):
# 0.15 for MNIST's 10 digits, where guessing (or one class for every image) scores 0.10.
CHANCE_MARGIN = 0.05


@dataclass
class History:
    """What happened during :func:`fit`. Lesson 04.

    ``steps`` has one entry per optimizer step ("loss" and the metric on that batch);
    ``epochs`` has one entry per finished epoch: "epoch", "train_loss", "train_<metric>",
    "test_loss", "test_<metric>" (NaN without a test set) and "seconds".
    ``stopped`` is None when every epoch ran, else why the run ended early: "interrupted"
    (Ctrl-C), "non-finite" (a NaN or inf loss, gradient or weight) or "save failed" (the
    checkpoint could not be written: a full disk, a folder turned read-only);
    ``stopped_at`` is then ``(epoch, batch)``, both counted from 1, and ``stopped_because``
    the cause in words, as :func:`fit` printed it.
    """

    metric: str
    steps: dict[str, list[float]] = field(default_factory=dict)
    epochs: dict[str, list[float]] = field(default_factory=dict)
    stopped: str | None = None
    stopped_at: tuple[int, int] | None = None
    stopped_because: str | None = None

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"History: metric must be one of {METRICS}, got {self.metric!r}")
        self.steps = self.steps or {"loss": [], self.metric: []}
        self.epochs = self.epochs or {key: [] for key in (
            "epoch", "train_loss", f"train_{self.metric}",
            "test_loss", f"test_{self.metric}", "seconds")}

    def final(self) -> dict[str, float]:
        """The last epoch's numbers (empty if no epoch finished). Lesson 04."""
        if not self.epochs["epoch"]:
            return {}
        return {key: values[-1] for key, values in self.epochs.items()}

    def truncate(self, epochs: int, steps_per_epoch: int) -> None:
        """Keep only the first ``epochs`` epochs (and their steps): to resume from a checkpoint
        saved after that epoch. Lesson 04."""
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"truncate: epochs must be an int >= 0, got {epochs!r}")
        checks.positive_int("truncate: steps_per_epoch", steps_per_epoch)
        for values in self.epochs.values():
            del values[epochs:]
        for values in self.steps.values():
            del values[epochs * steps_per_epoch:]

    def to_csv(self, path: str | os.PathLike, per: str = "epoch") -> None:
        """Write the per-epoch (``per="epoch"``) or per-step (``per="step"``) history as CSV.

        The write is atomic (a temporary file renamed over ``path``), so a full disk or a
        Ctrl-C never leaves half a history where the last one was. Lesson 04.
        """
        if per not in ("epoch", "step"):
            raise ValueError(f"to_csv: per must be 'epoch' or 'step', got {per!r}")
        table = self.epochs if per == "epoch" else {"step": list(range(1, len(
            self.steps["loss"]) + 1)), **self.steps}
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow(table.keys())
        writer.writerows(zip(*table.values(), strict=True))
        files.write_text(path, text.getvalue())

    @classmethod
    def from_csv(cls, epochs_path: str | os.PathLike,
                 steps_path: str | os.PathLike | None = None) -> History:
        """Read back a history written by :meth:`to_csv` (per epoch, and optionally per step).

        The metric ("accuracy" or "mse") is the one named in the epoch file's columns.
        Lesson 04.
        """
        epochs = _read_csv_columns(epochs_path)
        metric = next((m for m in METRICS if f"test_{m}" in epochs), None)
        if metric is None:
            raise ValueError(f"{str(epochs_path)!r} is not a per-epoch history: it has no "
                             f"test_accuracy or test_mse column (columns: {sorted(epochs)})")
        steps = _read_csv_columns(steps_path) if steps_path is not None else {}
        steps.pop("step", None)
        return cls(metric, steps=steps, epochs=epochs)


def _read_csv_columns(path: str | os.PathLike) -> dict[str, list[float]]:
    """A CSV file of numbers as {column: values}."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no history file at {str(path)!r}"
                                + (" (that is a folder)" if path.is_dir() else ""))
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    if not rows:
        raise ValueError(f"{str(path)!r} is empty; expected a header line and rows of numbers")
    header, body = rows[0], rows[1:]
    ragged = next((number for number, row in enumerate(body, start=2)
                   if len(row) != len(header)), None)
    if ragged is not None:
        raise ValueError(f"{str(path)!r}: line {ragged} has {len(body[ragged - 2])} values but "
                         f"the header names {len(header)} columns (a damaged file?)")
    try:
        columns = [[float(value) for value in column] for column in zip(*body, strict=True)]
    except ValueError as error:
        raise ValueError(f"{str(path)!r}: every value must be a number ({error})") from error
    return dict(zip(header, columns or [[] for _ in header], strict=True))


def _batch_metric(metric: str, spikes: Tensor, membrane: Tensor, targets: Tensor) -> float:
    if metric == "accuracy":
        return accuracy(spikes, targets)
    return F.mse_loss(membrane[-1], targets).item()


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _batches(loader: Iterable, name: str, *, reusable: bool = False) -> Iterable:
    """The loader, checked: iterable (again for every epoch when ``reusable``), and not empty
    when it can tell its length."""
    if isinstance(loader, Tensor | str | bytes | dict) or not isinstance(loader, Iterable):
        raise TypeError(f"{name} must be an iterable of (images, labels) batches such as a "
                        f"DataLoader or a list of pairs, got {type(loader).__name__}")
    if reusable and isinstance(loader, Iterator):  # (iter(loader) would draw from its RNG)
        raise TypeError(f"{name} is a one-shot iterator ({type(loader).__name__}): it would be "
                        "empty from the second epoch on. Pass a DataLoader or a list of "
                        "(images, labels) pairs")
    if hasattr(loader, "__len__") and len(loader) == 0:
        raise ValueError(f"{name} holds no batches (is its dataset empty, or smaller than the "
                         "batch size with drop_last=True?)")
    return loader


def _unpack(batch: object, name: str, metric: str) -> tuple[Tensor, Tensor]:
    """One batch from ``name``, checked: ``(images, labels)``, two tensors, floating images,
    and for a classifier one integer label per image."""
    if not isinstance(batch, tuple | list) or len(batch) != 2:
        what = (f"a {type(batch).__name__} of {len(batch)} items"
                if isinstance(batch, tuple | list) else f"a {type(batch).__name__}")
        raise TypeError(f"{name} must yield (images, labels) pairs, got {what}; a DataLoader "
                        "of snnlab.data.mnist does (for images alone, pair each batch with "
                        "dummy labels)")
    images, labels = batch
    checks.tensor(f"{name}'s images", images)
    if metric == "accuracy":
        checks.tensor(f"{name}'s labels", labels, floating=False)
        if labels.is_floating_point() or labels.dtype == torch.bool or labels.dim() != 1:
            raise TypeError(f"{name}'s labels must be class labels, a 1-D integer tensor "
                            f"[batch], got dtype {labels.dtype} and shape {tuple(labels.shape)}"
                            " (float labels? use labels.long())")
        batch_sizes = images.shape[:1] if images.dim() < 5 else images.shape[:2]  # [T, B, ...]
        if images.dim() == 0 or len(labels) not in batch_sizes:  # events are time-first
            raise ValueError(f"{name} yielded {len(labels)} labels for images of shape "
                             f"{tuple(images.shape)}; give one label per image")
    return images, labels


def _forward(model: nn.Module, images: Tensor, metric: str) -> tuple[Tensor, Tensor]:
    """The model's record ``(spikes, membrane)``, checked: a pair of tensors, of the shapes
    ``metric`` can score (see :func:`_check_metric_fits`)."""
    record = model(images)
    if (not isinstance(record, tuple | list) or len(record) != 2
            or not all(isinstance(part, Tensor) for part in record)):
        raise TypeError(f"the model must return a pair (spikes, membrane) of tensors, as the "
                        f"snnlab.models networks do; {type(model).__name__} returned a "
                        f"{type(record).__name__}")
    spikes, membrane = record
    _check_metric_fits(metric, spikes, membrane, images, model)
    return spikes, membrane


def _check_metric_fits(metric: str, spikes: Tensor, membrane: Tensor, images: Tensor,
                       model: nn.Module) -> None:
    """``metric`` must fit what the model outputs. "accuracy" scores a classifier: the record
    of its output layer, spikes and membrane both ``[T, B, classes]`` (its answer: the neuron
    that fired most). "mse" scores an autoencoder: its last membrane ``U[T-1]`` is compared
    with the images, so the membrane is ``[T, *images.shape]``."""
    shapes = f"spikes {tuple(spikes.shape)} and membrane {tuple(membrane.shape)}"
    classifies = spikes.dim() == 3 and membrane.shape == spikes.shape
    reconstructs = membrane.shape[1:] == images.shape
    if metric == "accuracy" and not classifies:
        hint = (" Its membrane has the images' shape: it is an autoencoder, use metric='mse'."
                if reconstructs else "")
        raise ValueError(f"metric='accuracy' is for classifiers, whose output layer's spikes "
                         f"and membrane are both [num_steps, batch, classes]; "
                         f"{type(model).__name__} returned {shapes} for images of shape "
                         f"{tuple(images.shape)}.{hint}")
    if metric == "mse" and not reconstructs:
        hint = " That is a classifier's output: use metric='accuracy'." if classifies else ""
        raise ValueError(f"metric='mse' is for autoencoders, whose membrane at the last step "
                         f"has the images' shape {tuple(images.shape)} (it is compared with "
                         f"them); {type(model).__name__} returned {shapes}.{hint}")


def _loss(loss_fn: LossFn, spikes: Tensor, membrane: Tensor, targets: Tensor,
          training: bool) -> Tensor:
    """``loss_fn``'s value, checked: one number, and (to train) one that depends on the weights."""
    loss = loss_fn(spikes, membrane, targets)
    if not isinstance(loss, Tensor) or loss.numel() != 1:
        got = (f"a tensor of shape {tuple(loss.shape)}" if isinstance(loss, Tensor)
               else f"a {type(loss).__name__}")
        raise TypeError(f"loss_fn must return the loss as a one-number tensor (average over the "
                        f"batch, e.g. with .mean()), got {got}")
    if training and not loss.requires_grad:
        raise ValueError("loss_fn returned a tensor that does not depend on the model's "
                         "weights (no gradient flows back): compute it from spikes and "
                         "membrane with torch operations, without .item(), .detach() or "
                         "torch.tensor(...)")
    return loss


def _check_callable(name: str, value: object) -> None:
    if not callable(value):
        raise TypeError(f"{name} must be a function loss_fn(spikes, membrane, targets) -> loss "
                        f"such as snnlab.losses.ce_rate, got {type(value).__name__} {value!r}")


@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable, loss_fn: LossFn, *, metric: str = "accuracy",
             device: str | torch.device | None = None, progress: bool = False
             ) -> dict[str, float]:
    """Mean loss and metric of ``model`` over ``loader``: ``{"loss": ..., metric: ...}``.

    The mean is weighted by batch size, so a smaller last batch counts for what it holds.
    Lesson 04.
    """
    checks.choice("metric", metric, METRICS)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_callable("loss_fn", loss_fn)
    checks.boolean("progress", progress)
    device = checks.device(device, _model_device(model))
    model.eval()
    total_loss, total_metric, count = 0.0, 0.0, 0
    for batch_data in tqdm(_batches(loader, "loader"), desc=tr("test"), leave=False,
                           disable=not progress):
        images, labels = _unpack(batch_data, "loader", metric)
        images, labels = images.to(device), labels.to(device)
        targets = labels if metric == "accuracy" else images  # an autoencoder: its input
        spikes, membrane = _forward(model, images, metric)
        batch = len(labels)  # images may be time-first events [T, B, ...]
        total_loss += _loss(loss_fn, spikes, membrane, targets, training=False).item() * batch
        total_metric += _batch_metric(metric, spikes, membrane, targets) * batch
        count += batch
    if count == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    return {"loss": total_loss / count, metric: total_metric / count}


def fit(model: nn.Module, train_loader: Iterable, loss_fn: LossFn,
        optimizer: torch.optim.Optimizer, epochs: int, test_loader: Iterable | None = None, *,
        metric: str = "accuracy", scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
        device: str | torch.device | None = None, clip_grad: float | None = None,
        checkpoint: str | os.PathLike | None = None, history: History | None = None,
        progress: bool = True) -> History:
    """Train ``model`` with backpropagation through time; return the :class:`History`.

    For every batch ``(images, labels)`` of every epoch, lesson 04's ``train_step``::

        spikes, membrane = model(images)             # [T, B, ...] each, all T steps
        loss = loss_fn(spikes, membrane, targets)    # targets: the labels (or the images)
        optimizer.zero_grad()
        loss.backward()                              # dL/dW through every time step
        optimizer.step()

    then (with ``clip_grad``) the gradient's norm clipped to at most ``clip_grad`` before the
    step, and ``scheduler.step()`` after it (so give it a per-step schedule, e.g. OneCycleLR
    with ``total_steps=epochs * len(train_loader)``).

    ``metric`` is "accuracy" for classifiers (targets are the labels; the output layer's
    spikes and membrane are ``[T, B, classes]``) or "mse" for autoencoders (targets are the
    images themselves, compared with the last step's membrane ``U[T-1]``).
    ``device``: where to train (default: ``snnlab.config.device()``); the model moves there.
    ``checkpoint``: a path to save the model to after every epoch (atomically), with the
    history beside it (``<name>.history.csv`` per epoch, ``<name>.steps.csv`` per step).
    ``history``: the history of an earlier, unfinished run of this model to continue (its
    finished epochs count towards ``epochs``).
    ``progress``: report while training. A run someone watches (a terminal, a live notebook)
    gets a progress bar per epoch and the test result after it; any other run (output to a
    file, a notebook executed by nbconvert or nbval) one summary line per epoch.

    After each epoch of a classifier, an accuracy at chance level (the test accuracy, or the
    train accuracy without a test set; see :func:`chance_warning`) adds a warning line under
    the epoch's summary (with ``progress``).

    Stops early, returning the history so far with ``stopped``, ``stopped_at`` and
    ``stopped_because`` set, on: a NaN or inf loss, gradient, weight or optimizer state (the
    weights and the optimizer's state of the last good step are restored, "non-finite");
    Ctrl-C ("interrupted"); a checkpoint that cannot be written, say on a full disk ("save
    failed"). The last checkpoint on disk stays intact, and the history files hold every step
    taken. Every argument is checked before any work starts, and the model's output against
    ``metric`` at the first batch, before any step. Lesson 04.
    """
    epochs, history, checkpoint = _check_arguments(
        model, train_loader, loss_fn, optimizer, epochs, test_loader, metric, scheduler,
        clip_grad, checkpoint, history, progress)
    device = checks.device(device, config.device())
    model.to(device)
    run = _Run(history, epochs, checkpoint, progress)
    guard = _StepGuard(model, optimizer)
    try:
        for epoch in range(run.first_epoch, epochs + 1):
            model.train()
            for images, labels in run.batches(train_loader, epoch, device):
                targets = labels if metric == "accuracy" else images  # an autoencoder: its input
                with _stop_if_non_finite():  # a NaN pixel, or an overflow inside
                    spikes, membrane = _forward(model, images, metric)  # model(images), checked
                    loss = _loss(loss_fn, spikes, membrane, targets, training=True)  # checked
                optimizer.zero_grad()
                loss.backward()
                if clip_grad is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
                guard.check_gradients(loss)  # a NaN or inf: stop, the weights as they were
                optimizer.step()
                guard.check_step()  # a NaN or inf: the last good weights back, and stop
                if scheduler is not None:
                    scheduler.step()
                run.record_step(loss, spikes, membrane, targets, batch_size=len(labels))
            run.end_epoch(None if test_loader is None else evaluate(
                model, test_loader, loss_fn, metric=metric, device=device, progress=run.bars))
            run.save(model, optimizer, scheduler)
    except _Stop as stop:
        return run.stop(stop.reason, str(stop))
    except KeyboardInterrupt:
        return run.stop("interrupted", tr("interrupted (Ctrl-C)"))
    return history


def stop_reason(reason: str) -> str:
    """``History.stopped`` (``"non-finite"``, ``"interrupted"``, ``"save failed"``) as a
    student reads it: the key itself in English, translated in Chinese. Lesson 04."""
    return {"non-finite": tr("non-finite", context="stop reason"),
            "interrupted": tr("interrupted", context="stop reason"),
            "save failed": tr("save failed", context="stop reason")}.get(reason, reason)


class _Stop(Exception):
    """Ends a run of :func:`fit` early; ``reason`` is what ``History.stopped`` will say."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@contextmanager
def _stop_if_non_finite() -> Iterator[None]:
    """A NaN or inf in the forward pass or the loss (which check their inputs and records)
    stops the run."""
    try:
        yield
    except checks.NonFiniteError as error:
        raise _Stop("non-finite", str(error)) from None


class _StepGuard:
    """Keeps a NaN or inf out of the network: the loss and the gradients are checked before
    ``optimizer.step()``, the weights and the optimizer's state after it, and a step that broke
    them is undone. Either way the run stops ("non-finite") with the last good network.

    The last good weights and optimizer state are copied into the same tensors at every step,
    so keeping them costs no new memory."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.model, self.optimizer = model, optimizer
        self.weights: dict[str, Tensor] = {}
        self.state: dict = {}

    def check_gradients(self, loss: Tensor) -> None:
        """Before the step: stop if the loss or a gradient is NaN or inf (the weights are still
        the last good ones); else keep a copy of the weights and the optimizer's state."""
        gradients = {name: p.grad for name, p in self.model.named_parameters()
                     if p.grad is not None}
        bad = tr("the loss") if not torch.isfinite(loss) else checks.first_non_finite(gradients)
        if bad is not None:
            raise _Stop("non-finite", tr("{what} became NaN or inf (try a lower learning rate "
                                         "or clip_grad)").format(what=bad))
        self.weights = _copied_into(self.weights, self.model.state_dict())
        self.state = {param: _copied_into(self.state.get(param, {}), state)
                      for param, state in self.optimizer.state.items()}

    def check_step(self) -> None:
        """After the step: if a weight or the optimizer's state became NaN or inf (say Adam's
        exp_avg_sq, a gradient squared past 3.4e38), put the last good ones back and stop."""
        bad = checks.first_non_finite(self.model.state_dict())
        bad = (tr("the weight {name}").format(name=bad) if bad
               else checks.first_non_finite_state(self.optimizer, self.model))
        if bad is None:
            return
        self.model.load_state_dict(self.weights)
        self.optimizer.state.clear()  # (a parameter's first step creates its state)
        for param, state in self.state.items():
            self.optimizer.state[param] = {key: value.clone() if torch.is_tensor(value) else value
                                           for key, value in state.items()}
        raise _Stop("non-finite", tr("{what} became NaN or inf after the optimizer step "
                                     "(weights and optimizer state restored; try a lower "
                                     "learning rate or clip_grad)").format(what=bad))


def _copied_into(copies: dict, values: dict) -> dict:
    """``values`` copied, tensors into the tensors of ``copies`` where they fit."""
    result = {}
    for key, value in values.items():
        old = copies.get(key)
        if not torch.is_tensor(value):
            result[key] = value
        elif (torch.is_tensor(old) and old.shape == value.shape and old.dtype == value.dtype
              and old.device == value.device):
            result[key] = old.copy_(value)
        else:
            result[key] = value.detach().clone()
    return result


class _Run:
    """The bookkeeping of one :func:`fit` run: where it is (to say where it stopped), the
    epoch's running means, the history and the summary lines, the checkpoint on disk."""

    def __init__(self, history: History, epochs: int, checkpoint: Path | None,
                 progress: bool) -> None:
        self.history, self.epochs, self.checkpoint = history, epochs, checkpoint
        self.progress = progress
        self.bars = progress and _watched()  # else one line per epoch: see _watched
        self.bar: tqdm | None = None
        self.first_epoch = len(history.epochs["epoch"]) + 1
        self.epoch = self.batch = 0  # the batch being fetched or trained on, counted from 1
        self.saved_epoch = _epoch_on_disk(checkpoint, self.first_epoch - 1)
        self.loss_sum = self.metric_sum = 0.0
        self.count = self.num_classes = 0
        self.start = time.perf_counter()
        history.stopped = history.stopped_at = history.stopped_because = None

    def batches(self, loader: Iterable, epoch: int,
                device: torch.device) -> Iterator[tuple[Tensor, Tensor]]:
        """Epoch ``epoch``'s ``(images, labels)``, checked and on ``device``, under a bar."""
        self.epoch, self.batch, self.start = epoch, 1, time.perf_counter()
        self.loss_sum = self.metric_sum = 0.0
        self.count = 0
        desc = tr("epoch {epoch}/{epochs}").format(epoch=epoch, epochs=self.epochs)
        self.bar = tqdm(loader, desc=desc, disable=not self.bars)
        for batch in self.bar:
            images, labels = _unpack(batch, "train_loader", self.history.metric)
            yield images.to(device), labels.to(device)
            self.batch += 1  # an interrupt from here on hits the next batch
        if self.count == 0:
            raise ValueError(f"train_loader yielded no batches in epoch {epoch}")
        self.batch -= 1  # the epoch's last batch

    def record_step(self, loss: Tensor, spikes: Tensor, membrane: Tensor, targets: Tensor,
                    batch_size: int) -> None:
        """The step's loss and metric, into the history and the epoch's running means.
        (``batch_size``: the labels'; images may be time-first events ``[T, B, ...]``.)"""
        metric = self.history.metric
        value = _batch_metric(metric, spikes.detach(), membrane.detach(), targets)
        self.history.steps["loss"].append(loss.item())
        self.history.steps[metric].append(value)
        self.loss_sum += loss.item() * batch_size
        self.metric_sum += value * batch_size
        self.count += batch_size
        self.num_classes = spikes.shape[-1]
        short = tr("acc", context="progress bar") if metric == "accuracy" else metric[:3]
        self.bar.set_postfix({tr("loss"): f"{self.loss_sum / self.count:.4f}",
                              short: f"{self.metric_sum / self.count:.4f}"})

    def end_epoch(self, test: dict[str, float] | None) -> None:
        """The finished epoch's numbers (``test``: the test pass's, None without a test set)
        into the history, and (with progress) its summary line and a warning if a classifier
        is at chance."""
        metric, history = self.history.metric, self.history
        which = "train" if test is None else "test"  # the accuracy a chance warning looks at
        test = test or {"loss": math.nan, metric: math.nan}
        for key, value in (("epoch", self.epoch), ("train_loss", self.loss_sum / self.count),
                           (f"train_{metric}", self.metric_sum / self.count),
                           ("test_loss", test["loss"]), (f"test_{metric}", test[metric]),
                           ("seconds", time.perf_counter() - self.start)):
            history.epochs[key].append(float(value))
        if not self.progress:
            return
        print(_epoch_line(history, self.epochs, self.bars))
        if metric == "accuracy":  # under the epoch's summary line
            warning = chance_warning(history.final()[f"{which}_accuracy"], self.num_classes,
                                     which, self.epoch)
            if warning is not None:
                print(warning)

    def save(self, model: nn.Module, optimizer: torch.optim.Optimizer,
             scheduler: torch.optim.lr_scheduler.LRScheduler | None) -> None:
        """The checkpoint, then the history beside it (with a checkpoint path). A checkpoint
        that cannot be written stops the run ("save failed"); the last one stays intact."""
        if self.checkpoint is None:
            return
        try:
            checkpoints.save_checkpoint(self.checkpoint, model, optimizer, scheduler,
                                        epoch=self.epoch, metric=self.history.metric,
                                        metrics=self.history.final())
        except OSError as error:  # (save_checkpoint reports every failed write as one)
            raise _Stop("save failed", tr("the checkpoint could not be written: {error}").format(
                error=error.strerror or error)) from None
        self.saved_epoch = self.epoch
        _save_history(self.history, self.checkpoint)

    def stop(self, reason: str, message: str) -> History:
        """End the run early: say why, where and what is on disk; keep the history."""
        if self.bar is not None:
            self.bar.close()
        history = self.history
        history.stopped, history.stopped_at = reason, (self.epoch, self.batch)
        history.stopped_because = message
        if self.checkpoint is None:
            saved = ""
        elif self.saved_epoch is not None:
            saved = tr("The last checkpoint, {path} (epoch {epoch}), is intact.").format(
                path=self.checkpoint, epoch=self.saved_epoch)
        elif reason == "save failed":
            saved = tr("No checkpoint of this run is on disk.")
        else:
            saved = tr("No epoch finished, so no checkpoint was written.")
        line = tr("fit: {message} at epoch {epoch}, batch {batch}; stopped.").format(
            message=message, epoch=self.epoch, batch=self.batch)
        # (Chinese puts no space after a full stop)
        print(tr("{sentence} {next}").format(sentence=line, next=saved) if saved else line)
        if self.checkpoint is not None:
            _save_history(history, self.checkpoint)
        return history


def _epoch_on_disk(checkpoint: Path | None, epoch: int) -> int | None:
    """``epoch`` if ``checkpoint`` holds it (a resumed run's checkpoint), else None."""
    if checkpoint is None or epoch < 1 or not checkpoint.is_file():
        return None
    try:
        return epoch if checkpoints.checkpoint_info(checkpoint).get("epoch") == epoch else None
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _save_history(history: History, checkpoint: Path) -> None:
    """The history beside its checkpoint; a failure here is reported, never fatal."""
    try:
        history.to_csv(checkpoint.with_suffix(".history.csv"))
        history.to_csv(checkpoint.with_suffix(".steps.csv"), per="step")
    except OSError as error:
        print(tr("fit: could not write the history beside {checkpoint} ({error})").format(
            checkpoint=checkpoint, error=error))


def _check_arguments(model: object, train_loader: object, loss_fn: object, optimizer: object,
                     epochs: object, test_loader: object, metric: object, scheduler: object,
                     clip_grad: object, checkpoint: object, history: object, progress: object
                     ) -> tuple[int, History, Path | None]:
    """Every argument of :func:`fit`, checked before any work: returns ``epochs`` as an int,
    the history to write into and the checkpoint path."""
    checks.choice("metric", metric, METRICS)
    epochs = checks.positive_int("epochs", epochs)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_callable("loss_fn", loss_fn)
    _check_optimizer(optimizer, model)
    checkpoints._check_scheduler("fit", scheduler, optimizer)
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        raise TypeError("fit steps the scheduler after every batch without a metric, so "
                        "ReduceLROnPlateau cannot be used; give a per-step schedule such as "
                        "OneCycleLR")
    _batches(train_loader, "train_loader", reusable=epochs > 1)
    if test_loader is not None:
        _batches(test_loader, "test_loader", reusable=epochs > 1)
    if clip_grad is not None:
        checks.positive_number("clip_grad", clip_grad)
    checks.boolean("progress", progress)
    history = _check_history(history, metric, epochs)
    if checkpoint is not None:
        checkpoint = checkpoints.check_writable(checkpoint, model)
    bad = checks.first_non_finite(model.state_dict())
    if bad is not None:
        raise ValueError(f"fit: the model's weight {bad!r} already holds NaN or inf; start from "
                         "a freshly built network or a good checkpoint")
    bad = checks.first_non_finite_state(optimizer, model)
    if bad is not None:
        raise ValueError(f"fit: the optimizer's {bad} already holds NaN or inf, so it would "
                         "never move that weight again; build a new optimizer")
    return epochs, history, checkpoint


def _check_optimizer(optimizer: object, model: nn.Module) -> None:
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer such as "
                        f"torch.optim.Adam(model.parameters()), got {type(optimizer).__name__}")
    largest = torch.finfo(torch.float32).max  # torch's optimizers cast lr to a float32
    for group in optimizer.param_groups:
        checks.number("the optimizer's lr", group["lr"], f"> 0 and at most {largest:.3g}",
                      lambda lr: 0 < lr <= largest)
    mine = {id(p) for p in model.parameters()}
    if not all(id(p) in mine for group in optimizer.param_groups for p in group["params"]):
        raise ValueError("optimizer holds parameters that are not the model's (was it built "
                         "for another model?); build it with torch.optim.Adam("
                         "model.parameters(), ...) for this model")


def _check_history(history: object, metric: str, epochs: int) -> History:
    """A fresh History, or an earlier run's to continue: same metric, at most ``epochs``."""
    if history is None:
        return History(metric)
    if not isinstance(history, History):
        raise TypeError(f"history must be a snnlab.training.History (of an earlier, unfinished "
                        f"run) or None, got {type(history).__name__}")
    if history.metric != metric:
        raise ValueError(f"history is of a run with metric {history.metric!r}, but this one "
                         f"uses metric {metric!r}")
    done = len(history.epochs["epoch"])
    if done > epochs:
        raise ValueError(f"history already holds {done} epochs, more than epochs={epochs}; "
                         f"epochs counts the run's whole length, the finished epochs included")
    return history


def _watched() -> bool:
    """Whether someone watches this run live, so that progress bars make sense.

    Yes in a terminal, and in a notebook kernel that a Jupyter server started (JupyterLab,
    Jupyter Notebook: they set ``JPY_SESSION_NAME``), Colab or VS Code. No when the output
    goes to a file, or when nbconvert, nbclient, papermill or nbval run a notebook: a stored
    notebook would keep one widget per bar, which reads "0/469" wherever no kernel runs it
    (GitHub, HTML). Those runs print one line per epoch instead.
    """
    shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    if shell is not None and getattr(shell, "kernel", None) is not None:  # a notebook kernel
        return ("JPY_SESSION_NAME" in os.environ or "google.colab" in sys.modules
                or "VSCODE_PID" in os.environ)
    return sys.stderr.isatty()


def _epoch_line(history: History, epochs: int, bars: bool) -> str:
    """The summary of the epoch just finished. Under a progress bar (which showed the training
    numbers) the test result; otherwise everything, the training numbers named as what they
    are: means over the epoch's batches, taken while the weights changed."""
    last, metric = history.final(), history.metric
    name = {"accuracy": tr("accuracy"), "mse": tr("mse")}[metric]
    epoch = tr("epoch {epoch}/{epochs}").format(epoch=int(last["epoch"]), epochs=epochs)
    test = (tr("test loss {loss}, test {metric} {value}").format(
                loss=f"{last['test_loss']:.4f}", metric=name, value=f"{last[f'test_{metric}']:.4f}")
            if not math.isnan(last["test_loss"]) else tr("no test set"))
    if bars:
        return tr("{epoch}: {test}").format(epoch=epoch, test=test)
    return tr("{epoch}: train loss {loss}, train {metric} {value} (means over the epoch's "
              "batches) | {test} | {seconds} s").format(
        epoch=epoch, loss=f"{last['train_loss']:.4f}", metric=name,
        value=f"{last[f'train_{metric}']:.4f}", test=test, seconds=f"{last['seconds']:.0f}")


def chance_warning(accuracy: float, num_classes: int, which: str = "test",
                   epoch: int | None = None) -> str | None:
    """A one-line warning if ``accuracy`` is at chance level, else None. Lesson 04.

    At chance: ``accuracy < 1/num_classes + CHANCE_MARGIN`` (below 0.15 for 10 classes), what a
    network scores that answers one class for every image or guesses. ``which`` names the
    accuracy ("test", or "train" for a run without a test set)."""
    limit = round(1 / num_classes + CHANCE_MARGIN, 12)  # (0.1 + 0.05 is 0.15000000000000002)
    if math.isnan(accuracy) or accuracy >= limit:
        return None
    numbers = {"which": {"test": tr("test"), "train": tr("train")}.get(which, which),
               "epoch": epoch, "accuracy": f"{accuracy:.4f}", "classes": num_classes,
               "margin": f"{CHANCE_MARGIN:g}", "limit": f"{limit:.2f}"}
    if epoch is None:
        warning = tr("warning: the {which} accuracy, {accuracy}, is at chance level (below "
                     "1/{classes} + {margin} = {limit}): the network has not learned.")
    else:
        warning = tr("warning: the {which} accuracy after epoch {epoch}, {accuracy}, is at chance "
                     "level (below 1/{classes} + {margin} = {limit}): the network has not learned.")
    return warning.format(**numbers) + " " + tr(
        "Likely causes: a learning rate too high (or too low), beta = 0 (the neurons keep "
        "nothing from one step to the next) or a threshold that keeps them silent, too few "
        "time steps, images or epochs.")
