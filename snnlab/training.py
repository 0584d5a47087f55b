"""Training a spiking network: the BPTT loop ``fit``, ``evaluate`` and ``History`` (lesson 04).

``fit`` is the loop lesson 04 has you write by hand (forward over all steps, loss, backward,
optimizer step), plus what an hour-long run needs: a test pass after each epoch, a
checkpoint and the history on disk after each epoch, and an early stop that loses nothing.
It never keeps a broken network: a NaN or inf in the loss, a gradient, a weight or the
optimizer's state (Adam's running averages, which would freeze a weight for good) stops the
run at once with the last good weights and optimizer state restored,
``history.stopped = "non-finite"``.
"""

from __future__ import annotations

import csv
import io
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from snnlab import checkpoints, checks, config
from snnlab.checks import first_non_finite, first_non_finite_state
from snnlab.losses import LossFn, accuracy

__all__ = ["History", "fit", "evaluate", "write_atomically", "chance_warning", "METRICS",
           "CHANCE_MARGIN"]

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
    (Ctrl-C), "non-finite" (a NaN or inf loss, gradient or weight) or "save failed";
    ``stopped_at`` is then ``(epoch, batch)``, both counted from 1.
    """

    metric: str
    steps: dict[str, list[float]] = field(default_factory=dict)
    epochs: dict[str, list[float]] = field(default_factory=dict)
    stopped: str | None = None
    stopped_at: tuple[int, int] | None = None

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
        write_atomically(path, text.getvalue())

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


def write_atomically(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed over it at the end, so the
    file is either the old one or the new one, never half of either. Lesson 04."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {str(path)!r}: it is a folder")
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", newline="") as file:
            file.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_name, 0o666 & ~umask)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


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


def _targets_for(metric: str, images: Tensor, labels: Tensor) -> Tensor:
    """A classifier learns the labels; an autoencoder (metric "mse") learns its input."""
    return labels if metric == "accuracy" else images


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


def _forward(model: nn.Module, images: Tensor) -> tuple[Tensor, Tensor]:
    """The model's record ``(spikes, membrane)``, checked to be a pair of tensors."""
    record = model(images)
    if (not isinstance(record, tuple | list) or len(record) != 2
            or not all(isinstance(part, Tensor) for part in record)):
        raise TypeError(f"the model must return a pair (spikes, membrane) of tensors, as the "
                        f"snnlab.models networks do; {type(model).__name__} returned a "
                        f"{type(record).__name__}")
    return record[0], record[1]


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
    for batch_data in tqdm(_batches(loader, "loader"), desc="test", leave=False,
                           disable=not progress):
        images, labels = _unpack(batch_data, "loader", metric)
        images, labels = images.to(device), labels.to(device)
        targets = _targets_for(metric, images, labels)
        spikes, membrane = _forward(model, images)
        batch = len(labels)  # images may be time-first events [T, B, ...]
        total_loss += _loss(loss_fn, spikes, membrane, targets, training=False).item() * batch
        total_metric += _batch_metric(metric, spikes, membrane, targets) * batch
        count += batch
    if count == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    return {"loss": total_loss / count, metric: total_metric / count}


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
    epoch = f"epoch {int(last['epoch'])}/{epochs}"
    test = (f"test loss {last['test_loss']:.4f}, test {metric} {last[f'test_{metric}']:.4f}"
            if not math.isnan(last["test_loss"]) else "no test set")
    if bars:
        return f"{epoch}: {test}"
    return (f"{epoch}: train loss {last['train_loss']:.4f}, train {metric} "
            f"{last[f'train_{metric}']:.4f} (means over the epoch's batches) | {test} | "
            f"{last['seconds']:.0f} s")


def chance_warning(accuracy: float, num_classes: int, which: str = "test",
                   epoch: int | None = None) -> str | None:
    """A one-line warning if ``accuracy`` is at chance level, else None. Lesson 04.

    At chance: ``accuracy < 1/num_classes + CHANCE_MARGIN`` (below 0.15 for 10 classes), what a
    network scores that answers one class for every image or guesses. ``which`` names the
    accuracy ("test", or "train" for a run without a test set)."""
    limit = round(1 / num_classes + CHANCE_MARGIN, 12)  # (0.1 + 0.05 is 0.15000000000000002)
    if math.isnan(accuracy) or accuracy >= limit:
        return None
    after = f" after epoch {epoch}" if epoch is not None else ""
    return (f"warning: the {which} accuracy{after}, {accuracy:.4f}, is at chance level (below "
            f"1/{num_classes} + {CHANCE_MARGIN:g} = {limit:.2f}): the network has not learned. "
            "Likely causes: a learning rate too high (or too low), beta = 0 (the neurons keep "
            "nothing from one step to the next) or a threshold that keeps them silent, too few "
            "time steps, images or epochs.")


class _LastGood:
    """The weights and the optimizer's state before a step, to put back if the step breaks
    them. Copied into the same tensors at every step, so keeping them costs no new memory."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.model, self.optimizer = model, optimizer
        self.weights: dict[str, Tensor] = {}
        self.state: dict = {}

    def save(self) -> None:
        self.weights = _copied_into(self.weights, self.model.state_dict())
        self.state = {param: _copied_into(self.state.get(param, {}), state)
                      for param, state in self.optimizer.state.items()}

    def restore(self) -> None:
        self.model.load_state_dict(self.weights)
        self.optimizer.state.clear()  # (a parameter's first step creates its state)
        for param, state in self.state.items():
            self.optimizer.state[param] = {key: value.clone() if torch.is_tensor(value) else value
                                           for key, value in state.items()}


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


def fit(model: nn.Module, train_loader: Iterable, loss_fn: LossFn,
        optimizer: torch.optim.Optimizer, epochs: int, test_loader: Iterable | None = None, *,
        metric: str = "accuracy", scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
        device: str | torch.device | None = None, clip_grad: float | None = None,
        checkpoint: str | os.PathLike | None = None, history: History | None = None,
        progress: bool = True) -> History:
    """Train ``model`` with backpropagation through time; return the :class:`History`.

    Each step: forward over all time steps, ``loss_fn(spikes, membrane, targets)``,
    backward, (clip the gradient norm to ``clip_grad``), ``optimizer.step()``, then
    ``scheduler.step()`` (so give it a per-step schedule, e.g. OneCycleLR with
    ``total_steps=epochs * len(train_loader)``).

    ``metric`` is "accuracy" for classifiers (targets are the labels) or "mse" for
    autoencoders (targets are the images themselves).
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

    Stops early, returning the history so far with ``stopped`` and ``stopped_at`` set, on:
    a NaN or inf loss, gradient, weight or optimizer state (the weights and the optimizer's
    state of the last good step are restored, "non-finite"); Ctrl-C ("interrupted"); a
    checkpoint that cannot be written ("save failed"). The last checkpoint on disk stays
    intact, and the history files hold every step taken. Every argument is checked before
    any work starts. Lesson 04.
    """
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
    bad = first_non_finite(model.state_dict())
    if bad is not None:
        raise ValueError(f"fit: the model's weight {bad!r} already holds NaN or inf; start from "
                         "a freshly built network or a good checkpoint")
    bad = first_non_finite_state(optimizer, model)
    if bad is not None:
        raise ValueError(f"fit: the optimizer's {bad} already holds NaN or inf, so it would "
                         "never move that weight again; build a new optimizer")
    device = checks.device(device, config.device())
    model.to(device)
    first_epoch = len(history.epochs["epoch"]) + 1
    history.stopped = history.stopped_at = None
    # The epoch of the checkpoint this run can count on: a resumed run's, if the file holds it.
    saved_epoch = None
    if checkpoint is not None and first_epoch > 1 and checkpoint.is_file():
        try:
            if checkpoints.checkpoint_info(checkpoint).get("epoch") == first_epoch - 1:
                saved_epoch = first_epoch - 1
        except (OSError, ValueError, TypeError, KeyError):
            pass

    def stop(reason: str, epoch: int, batch: int, message: str) -> History:
        history.stopped, history.stopped_at = reason, (epoch, batch)
        if checkpoint is None:
            saved = ""
        elif saved_epoch is not None:
            saved = f" The last checkpoint, {checkpoint} (epoch {saved_epoch}), is intact."
        elif reason == "save failed":
            saved = " No checkpoint of this run is on disk."
        else:
            saved = " No epoch finished, so no checkpoint was written."
        print(f"fit: {message} at epoch {epoch}, batch {batch}; stopped.{saved}")
        if checkpoint is not None:
            _save_history(history, checkpoint)
        return history

    bars = progress and _watched()  # else one line per epoch: see _watched
    last_good = _LastGood(model, optimizer)
    epoch = batch_number = 0  # the batch being fetched or trained on, counted from 1
    try:
        for epoch in range(first_epoch, epochs + 1):
            model.train()
            start = time.perf_counter()
            total_loss, total_metric, count = 0.0, 0.0, 0
            bar = tqdm(train_loader, desc=f"epoch {epoch}/{epochs}", disable=not bars)
            batch_number = 1
            for batch_number, batch_data in enumerate(bar, start=1):
                images, labels = _unpack(batch_data, "train_loader", metric)
                images, labels = images.to(device), labels.to(device)
                targets = _targets_for(metric, images, labels)

                try:
                    spikes, membrane = _forward(model, images)  # [T, B, ...] each
                    loss = _loss(loss_fn, spikes, membrane, targets, training=True)
                except checks.NonFiniteError as error:  # a NaN pixel, or an overflow inside
                    bar.close()
                    return stop("non-finite", epoch, batch_number, str(error))
                optimizer.zero_grad()
                loss.backward()
                if clip_grad is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
                grads = {name: p.grad for name, p in model.named_parameters()
                         if p.grad is not None}
                bad = "the loss" if not torch.isfinite(loss) else first_non_finite(grads)
                if bad is not None:  # the weights are still the last good ones
                    bar.close()
                    return stop("non-finite", epoch, batch_number, f"{bad} became NaN or inf "
                                "(try a lower learning rate or clip_grad)")
                last_good.save()
                optimizer.step()
                bad = first_non_finite(model.state_dict())
                bad = f"the weight {bad}" if bad else first_non_finite_state(optimizer, model)
                if bad is not None:  # e.g. Adam's exp_avg_sq: a gradient squared past 3.4e38
                    last_good.restore()
                    bar.close()
                    return stop("non-finite", epoch, batch_number, f"{bad} became NaN or inf "
                                "after the optimizer step (weights and optimizer state "
                                "restored; try a lower learning rate or clip_grad)")
                if scheduler is not None:
                    scheduler.step()

                batch = len(labels)  # images may be time-first events [T, B, ...]
                batch_metric = _batch_metric(metric, spikes.detach(), membrane.detach(), targets)
                history.steps["loss"].append(loss.item())
                history.steps[metric].append(batch_metric)
                total_loss += loss.item() * batch
                total_metric += batch_metric * batch
                count += batch
                bar.set_postfix({"loss": f"{total_loss / count:.4f}",
                                 metric[:3]: f"{total_metric / count:.4f}"})
                batch_number += 1  # an interrupt from here on hits the next batch

            if count == 0:
                raise ValueError(f"train_loader yielded no batches in epoch {epoch}")
            batch_number -= 1  # the epoch's last batch
            test = {"loss": math.nan, metric: math.nan}
            if test_loader is not None:
                test = evaluate(model, test_loader, loss_fn, metric=metric, device=device,
                                progress=bars)
            for key, value in (("epoch", epoch), ("train_loss", total_loss / count),
                               (f"train_{metric}", total_metric / count),
                               ("test_loss", test["loss"]), (f"test_{metric}", test[metric]),
                               ("seconds", time.perf_counter() - start)):
                history.epochs[key].append(float(value))
            if progress:
                print(_epoch_line(history, epochs, bars))
            if progress and metric == "accuracy":  # under the epoch's summary line
                which = "test" if test_loader is not None else "train"
                warning = chance_warning(history.final()[f"{which}_accuracy"],
                                         spikes.shape[-1], which, epoch)
                if warning is not None:
                    print(warning)
            if checkpoint is not None:
                try:
                    checkpoints.save_checkpoint(checkpoint, model, optimizer, scheduler,
                                                epoch=epoch, metric=metric,
                                                metrics=history.final())
                except OSError as error:
                    return stop("save failed", epoch, batch_number,
                                f"the checkpoint could not be written ({error})")
                saved_epoch = epoch
                _save_history(history, checkpoint)
    except KeyboardInterrupt:
        return stop("interrupted", epoch, batch_number, "interrupted (Ctrl-C)")
    return history


def _save_history(history: History, checkpoint: Path) -> None:
    """The history beside its checkpoint; a failure here is reported, never fatal."""
    try:
        history.to_csv(checkpoint.with_suffix(".history.csv"))
        history.to_csv(checkpoint.with_suffix(".steps.csv"), per="step")
    except OSError as error:
        print(f"fit: could not write the history beside {checkpoint} ({error})")
