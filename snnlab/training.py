"""Training spiking networks: losses, accuracy, a BPTT training loop and checkpoints.

Every network in ``snnlab.models`` returns a time-first record ``(spikes, membrane)`` of
the output layer, shaped ``[num_steps, batch, ...]``. The losses here all take that record
plus the targets, so any loss works with any classifier::

    loss = loss_fn(spikes, membrane, targets)

Backpropagation through time (BPTT) needs nothing special: the forward pass unrolls the
network over ``num_steps`` steps, and ``loss.backward()`` sends the gradient back through
every step (the spike's gradient comes from its surrogate).

The loop itself is :func:`fit`; :func:`evaluate` measures a test set; :func:`save_checkpoint`,
:func:`load_checkpoint` and :func:`load_or_train` keep trained networks on disk.
"""

from __future__ import annotations

import copy
import csv
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

import snnlab
from snnlab import config

LossFn = Callable[[Tensor, Tensor, Tensor], Tensor]
METRICS = ("accuracy", "mse")

# --------------------------------------------------------------------------------------
# Losses. Shapes: spikes and membrane [T, B, C] (or [T, B, 1, H, W] for images),
# targets [B] class labels (or [B, 1, H, W] images for `reconstruction`).
# --------------------------------------------------------------------------------------


def ce_membrane(spikes: Tensor, membrane: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy on the output membrane at every step, summed over steps.

        L = sum_t CE(softmax(U[t]), y)

    The membrane is a smooth read-out, so the gradient never vanishes, even before the
    output neurons fire.
    """
    num_steps = membrane.shape[0]
    logits = membrane.flatten(0, 1)  # [T*B, C]
    return F.cross_entropy(logits, targets.repeat(num_steps), reduction="sum") / targets.numel()


def ce_rate(spikes: Tensor, membrane: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy with the spike counts as logits: L = CE(softmax(sum_t S[t]), y)."""
    spike_counts = spikes.sum(0)  # [B, C]
    return F.cross_entropy(spike_counts, targets)


def mse_rate(spikes: Tensor, membrane: Tensor, targets: Tensor) -> Tensor:
    """MSE between each output's firing rate and the one-hot label.

        r_i = (1/T) sum_t S_i[t],   L = mean_i (r_i - onehot(y)_i)^2

    The correct neuron should fire at every step, the others never.
    """
    firing_rate = spikes.mean(0)  # [B, C]
    one_hot = F.one_hot(targets, firing_rate.shape[-1]).to(firing_rate.dtype)
    return F.mse_loss(firing_rate, one_hot)


def mse_count(
    spikes: Tensor, membrane: Tensor, targets: Tensor,
    correct_rate: float = 0.8, incorrect_rate: float = 0.2,
) -> Tensor:
    """MSE between spike counts and target counts.

    The correct class should fire ``correct_rate * T`` times, the others
    ``incorrect_rate * T`` times. Letting the wrong classes fire a little keeps them
    alive (a silent neuron gets no useful gradient)::

        L = mean_i (sum_t S_i[t] - T * target_rate_i)^2
    """
    num_steps = spikes.shape[0]
    spike_counts = spikes.sum(0)  # [B, C]
    one_hot = F.one_hot(targets, spike_counts.shape[-1]).to(spike_counts.dtype)
    target_counts = num_steps * (incorrect_rate + (correct_rate - incorrect_rate) * one_hot)
    return F.mse_loss(spike_counts, target_counts)


def reconstruction(spikes: Tensor, membrane: Tensor, targets: Tensor) -> Tensor:
    """MSE between the reconstruction, the output membrane at the last step, and the images.

        L = mean_pixels (U[T-1] - x)^2
    """
    return F.mse_loss(membrane[-1], targets)


def accuracy(spikes: Tensor, targets: Tensor) -> float:
    """Fraction of samples whose correct output neuron fired most (spikes: [T, B, C]).

    A tie goes to the lowest class index, like ``argmax``.
    """
    if spikes.dim() != 3:
        raise ValueError(f"accuracy: spikes must be [num_steps, batch, classes], "
                         f"got shape {tuple(spikes.shape)}")
    spike_counts = spikes.sum(0)
    return (spike_counts.argmax(-1) == targets).float().mean().item()


# --------------------------------------------------------------------------------------
# The training loop
# --------------------------------------------------------------------------------------


@dataclass
class History:
    """What happened during :func:`fit`.

    ``steps`` has one entry per optimizer step ("loss" and the metric on that batch);
    ``epochs`` has one entry per finished epoch: "epoch", "train_loss", "train_<metric>",
    "test_loss", "test_<metric>" (NaN without a test set) and "seconds".
    ``stopped`` is None when every epoch ran, else the reason the run ended early.
    """

    metric: str
    steps: dict[str, list[float]] = field(default_factory=dict)
    epochs: dict[str, list[float]] = field(default_factory=dict)
    stopped: str | None = None

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"History: metric must be one of {METRICS}, got {self.metric!r}")
        self.steps = self.steps or {"loss": [], self.metric: []}
        self.epochs = self.epochs or {key: [] for key in (
            "epoch", "train_loss", f"train_{self.metric}",
            "test_loss", f"test_{self.metric}", "seconds")}

    def final(self) -> dict[str, float]:
        """The last epoch's numbers (empty if no epoch finished)."""
        if not self.epochs["epoch"]:
            return {}
        return {key: values[-1] for key, values in self.epochs.items()}

    def to_csv(self, path: str | os.PathLike, per: str = "epoch") -> None:
        """Write the per-epoch (``per="epoch"``) or per-step (``per="step"``) history as CSV."""
        if per not in ("epoch", "step"):
            raise ValueError(f"to_csv: per must be 'epoch' or 'step', got {per!r}")
        table = self.epochs if per == "epoch" else {"step": list(range(1, len(
            self.steps["loss"]) + 1)), **self.steps}
        with open(path, "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(table.keys())
            writer.writerows(zip(*table.values(), strict=True))

    @classmethod
    def from_csv(cls, epochs_path: str | os.PathLike,
                 steps_path: str | os.PathLike | None = None) -> History:
        """Read back a history written by :meth:`to_csv` (per epoch, and optionally per step).

        The metric ("accuracy" or "mse") is the one named in the epoch file's columns.
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
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    if not rows:
        raise ValueError(f"{str(path)!r} is empty; expected a header line and rows of numbers")
    header, body = rows[0], rows[1:]
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


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be 'accuracy' (classifiers) or 'mse' (autoencoders), "
                         f"got {metric!r}")


@torch.no_grad()
def evaluate(
    model: nn.Module, loader: Iterable, loss_fn: LossFn, *, metric: str = "accuracy",
    device: str | torch.device | None = None, progress: bool = False,
) -> dict[str, float]:
    """Mean loss and metric of ``model`` over ``loader``: ``{"loss": ..., metric: ...}``.

    The mean is weighted by batch size, so a smaller last batch counts for what it holds.
    """
    _check_metric(metric)
    device = torch.device(device) if device is not None else _model_device(model)
    model.eval()
    total_loss, total_metric, count = 0.0, 0.0, 0
    for images, labels in tqdm(loader, desc="test", leave=False, disable=not progress):
        images, labels = images.to(device), labels.to(device)
        targets = _targets_for(metric, images, labels)
        spikes, membrane = model(images)
        batch = images.shape[0]
        total_loss += loss_fn(spikes, membrane, targets).item() * batch
        total_metric += _batch_metric(metric, spikes, membrane, targets) * batch
        count += batch
    if count == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    return {"loss": total_loss / count, metric: total_metric / count}


def fit(
    model: nn.Module,
    train_loader: Iterable,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    test_loader: Iterable | None = None,
    *,
    metric: str = "accuracy",
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    device: str | torch.device | None = None,
    clip_grad: float | None = None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` with backpropagation through time; return the :class:`History`.

    Each step: forward over all time steps, ``loss_fn(spikes, membrane, targets)``,
    backward, (clip the gradient norm to ``clip_grad``), ``optimizer.step()``, then
    ``scheduler.step()`` (so give it a per-step schedule, e.g. OneCycleLR with
    ``total_steps=epochs * len(train_loader)``).

    ``metric`` is "accuracy" for classifiers (targets are the labels) or "mse" for
    autoencoders (targets are the images themselves).
    ``device``: where to train (default: ``snnlab.config.device()``); the model moves there.
    ``checkpoint``: a path to save the model to after every epoch (atomically).

    Two ways to stop early, both returning the history so far with ``stopped`` set:
    a NaN or infinite loss restores the weights of the last good step
    (``stopped="non-finite loss"``); Ctrl-C / KeyboardInterrupt stops at once
    (``stopped="interrupted"``) and leaves the last saved checkpoint intact.
    """
    _check_metric(metric)
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive integer, got {epochs!r}")
    device = torch.device(device) if device is not None else config.device()
    model.to(device)
    history = History(metric)
    last_good_weights = copy.deepcopy(model.state_dict())

    try:
        for epoch in range(1, epochs + 1):
            model.train()
            start = time.perf_counter()
            total_loss, total_metric, count = 0.0, 0.0, 0
            bar = tqdm(train_loader, desc=f"epoch {epoch}/{epochs}", disable=not progress)
            for images, labels in bar:
                images, labels = images.to(device), labels.to(device)
                targets = _targets_for(metric, images, labels)

                spikes, membrane = model(images)  # [T, B, ...] each
                loss = loss_fn(spikes, membrane, targets)
                if not torch.isfinite(loss):
                    model.load_state_dict(last_good_weights)
                    history.stopped = "non-finite loss"
                    bar.close()
                    print(f"fit: the loss became {loss.item()} at epoch {epoch}, step "
                          f"{len(history.steps['loss']) + 1}; stopped and restored the weights "
                          f"of the last good step. Try a lower learning rate or clip_grad.")
                    return history
                last_good_weights = copy.deepcopy(model.state_dict())

                optimizer.zero_grad()
                loss.backward()
                if clip_grad is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()

                batch = images.shape[0]
                batch_metric = _batch_metric(metric, spikes.detach(), membrane.detach(), targets)
                history.steps["loss"].append(loss.item())
                history.steps[metric].append(batch_metric)
                total_loss += loss.item() * batch
                total_metric += batch_metric * batch
                count += batch
                bar.set_postfix({"loss": f"{total_loss / count:.4f}",
                                 metric[:3]: f"{total_metric / count:.4f}"})

            test = {"loss": math.nan, metric: math.nan}
            if test_loader is not None:
                test = evaluate(model, test_loader, loss_fn, metric=metric, device=device,
                                progress=progress)
            for key, value in (("epoch", epoch), ("train_loss", total_loss / count),
                               (f"train_{metric}", total_metric / count),
                               ("test_loss", test["loss"]), (f"test_{metric}", test[metric]),
                               ("seconds", time.perf_counter() - start)):
                history.epochs[key].append(float(value))
            if progress and test_loader is not None:
                print(f"epoch {epoch}: test loss {test['loss']:.4f}, "
                      f"test {metric} {test[metric]:.4f}")
            if checkpoint is not None:
                save_checkpoint(checkpoint, model, optimizer, epoch=epoch, metric=metric,
                                metrics=history.final())
    except KeyboardInterrupt:
        history.stopped = "interrupted"
        print(f"fit: interrupted after {len(history.steps['loss'])} steps; returning the "
              "history so far" + (f" (the last checkpoint, {checkpoint}, is intact)"
                                  if checkpoint is not None else ""))
    return history


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


# --------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------

FORMAT = "snnlab-checkpoint-1"
_PLAIN_TYPES = (str, int, float, bool, type(None))


def _model_classes() -> dict[str, type[nn.Module]]:
    """The registry: every network a checkpoint can hold, by class name."""
    from snnlab import models

    return {cls.__name__: cls for cls in models.MODELS}


def _check_plain(value: object, name: str) -> None:
    """Metadata must be plain Python values so that ``weights_only=True`` can load it."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"checkpoint metadata {name}: keys must be str, got {key!r}")
            _check_plain(item, f"{name}[{key!r}]")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_plain(item, f"{name}[{index}]")
    elif not isinstance(value, _PLAIN_TYPES):
        raise TypeError(f"checkpoint metadata {name}: must be str, int, float, bool, None, "
                        f"or a list/dict of those; got {type(value).__name__}")


def save_checkpoint(
    path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
    *, dtype: torch.dtype = torch.float32, **metadata: object,
) -> Path:
    """Save ``model`` (and ``optimizer``) with its constructor arguments and ``metadata``.

    ``model`` must be one of the networks in ``snnlab.models`` (they record their
    constructor arguments in ``model.config``), so :func:`load_checkpoint` can rebuild it.
    ``dtype=torch.float16`` halves the file (floating-point weights only; loading converts
    them back to float32). ``metadata`` (epoch, metrics, ...) must be plain Python values.

    The write is atomic: a temporary file in the same folder, renamed over ``path`` at the
    end, so an interrupted save never leaves a half-written checkpoint behind.
    """
    classes = _model_classes()
    name = type(model).__name__
    if classes.get(name) is not type(model):
        raise TypeError(f"save_checkpoint: model must be one of the snnlab.models networks "
                        f"{sorted(classes)}, got {name}")
    _check_plain(metadata, "metadata")
    weights = {key: (value.detach().to("cpu", dtype) if value.is_floating_point()
                     else value.detach().cpu())
               for key, value in model.state_dict().items()}
    content = {
        "format": FORMAT,
        "snnlab_version": snnlab.__version__,
        "model_class": name,
        "model_config": dict(model.config),
        "state_dict": weights,
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "metadata": metadata,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(content, file)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_name, 0o666 & ~umask)  # mkstemp's file is private; a checkpoint is not
        os.replace(temp_name, path)  # atomic on POSIX and Windows
    except BaseException:  # including KeyboardInterrupt: never leave the temp file behind
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path


def _read_checkpoint(path: str | os.PathLike) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {str(path)!r}"
                                + (" (that is a folder)" if path.is_dir() else ""))
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"{str(path)!r} is not a readable checkpoint (truncated, corrupt, or "
                         f"not a PyTorch file): {type(error).__name__}") from error
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r} is a PyTorch file but not an snnlab checkpoint "
                         f"(save one with snnlab.training.save_checkpoint)")
    return content


def checkpoint_info(path: str | os.PathLike) -> dict:
    """What a checkpoint holds, without building the model: class, config, version, metadata."""
    content = _read_checkpoint(path)
    return {"model_class": content["model_class"], "model_config": content["model_config"],
            "snnlab_version": content["snnlab_version"], **content["metadata"]}


def load_checkpoint(
    path: str | os.PathLike, *, model_class: type[nn.Module] | str | None = None,
    optimizer: torch.optim.Optimizer | None = None, device: str | torch.device | None = None,
) -> nn.Module:
    """Rebuild the saved network, load its weights (as float32) and return it in eval mode.

    ``model_class``: the architecture you expect (class or name); a checkpoint of another
    one raises ValueError. ``optimizer``: also restore its state (when it was saved).
    ``device``: where to put the model (default: the CPU).
    """
    content = _read_checkpoint(path)
    classes = _model_classes()
    name = content["model_class"]
    expected = model_class if isinstance(model_class, str | type(None)) else model_class.__name__
    if expected is not None and expected != name:
        raise ValueError(f"{str(path)!r} holds a {name}, not a {expected}")
    if name not in classes:
        raise ValueError(f"{str(path)!r} holds a {name!r}, which snnlab.models does not have "
                         f"(known: {sorted(classes)})")
    model = classes[name](**content["model_config"])
    reference = model.state_dict()
    weights = {key: value.to(reference[key].dtype) if key in reference else value
               for key, value in content["state_dict"].items()}
    try:
        model.load_state_dict(weights)
    except RuntimeError as error:
        raise ValueError(f"{str(path)!r}: the weights do not fit {name}"
                         f"({content['model_config']}); was it saved by another version "
                         f"of the model? ({error})") from error
    if optimizer is not None:
        if content["optimizer"] is None:
            raise ValueError(f"{str(path)!r} holds no optimizer state")
        optimizer.load_state_dict(content["optimizer"])
    if device is not None:
        model.to(device)
    return model.eval()


def load_or_train(
    path: str | os.PathLike, model: nn.Module, train: Callable[[nn.Module], History],
    *, device: str | torch.device | None = None,
) -> tuple[nn.Module, History | None]:
    """Load ``path`` if it holds this very network, else train it and save it there.

    "This very network" means the same class and the same constructor arguments as
    ``model`` (a freshly built one). Otherwise ``train(model)`` runs (it should call
    :func:`fit` and return its History) and the result is saved to ``path``.
    Returns ``(model, history)``; the history is None when the checkpoint was loaded.
    """
    path = Path(path)
    if path.is_file():
        try:
            info = checkpoint_info(path)
        except ValueError as error:
            print(f"load_or_train: ignoring {error}")
        else:
            if (info["model_class"], info["model_config"]) == (type(model).__name__,
                                                                dict(model.config)):
                print(f"load_or_train: loading the trained network from {path}")
                return load_checkpoint(path, device=device), None
            print(f"load_or_train: {path} holds {info['model_class']}({info['model_config']}),"
                  f" not {type(model).__name__}({model.config}); training instead")
    history = train(model)
    save_checkpoint(path, model, metric=history.metric, metrics=history.final(),
                    stopped=history.stopped)
    if device is not None:
        model.to(device)
    return model.eval(), history
