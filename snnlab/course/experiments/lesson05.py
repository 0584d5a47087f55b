"""Lesson 05's experiments: a firing-rate regulariser against dead maps, and the CSNN's ANN twin.

Three ways to train the lesson's architecture (12C5-MP2-64C5-MP2-1024FC10), all trained the
same way: the same class-balanced training subset, batches in the same order, the same number
of epochs, Adam with the course's one-cycle schedule, the same seed for the initial weights.

- ``"CSNN"``: the lesson's network, cross-entropy on the output spike counts (``losses.ce_rate``);
- ``"CSNN + regulariser"``: the same, with :func:`rate_regulariser` of the hidden layers' spikes
  added to the loss;
- ``"ANN (ReLU)"``: :class:`ConvANN`, the same layers with ReLU in place of every LIF layer,
  one pass instead of 25 time steps, cross-entropy on the output values (logits).

:func:`run` trains every condition once per seed and returns per-seed numbers: test accuracy,
the hidden layers' dead maps, dead and saturated neurons, and the CPU time of the training.
The lesson loads the course's stored run (:func:`load`, ``lesson05_regulariser.json`` beside
the pretrained checkpoints) instead of training, unless ``TRAIN = True``.

    from snnlab.course.experiments import lesson05
    results = lesson05.run(seeds=(0, 1, 2))      # about 4 CPU-minutes, one thread
    print(lesson05.table(results))
"""

from __future__ import annotations

import datetime
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from snnlab import checks, data, losses, models
from snnlab.config import seed_everything
from snnlab.i18n import pad, pad_left, tr, width

__all__ = ["SETTINGS", "SEEDS", "CONDITIONS", "RESULTS_FILE", "map_rates", "rate_regulariser",
           "ConvANN", "firing_summary", "train_once", "run", "save", "load", "summarise",
           "table"]

# The short runs the lesson compares (a CPU affords 3 seeds x 3 conditions of these): 10,000
# training images, one epoch of 79 batches; the recipe's batch size, peak learning rate and
# network. Accuracy on the whole test set; firing statistics on the lesson's 500 test digits.
SETTINGS: dict[str, Any] = {
    "train_images": 10_000, "test_images": 10_000, "probe_images": 500, "epochs": 1,
    "batch_size": 128, "lr": 5e-3, "num_steps": 25, "beta": 0.5,
    "floor": 0.2, "strength": 100.0,
}
SEEDS: tuple[int, ...] = (0, 1, 2)
CONDITIONS: tuple[str, ...] = ("CSNN", "CSNN + regulariser", "ANN (ReLU)")
RESULTS_FILE = Path(__file__).resolve().parent.parent / "checkpoints" / "lesson05_regulariser.json"
HIDDEN = ("lif1", "lif2")  # the hidden LIF layers, whose maps can die


def map_rates(spikes: Tensor) -> Tensor:
    """Each feature map's firing rate: spikes ``[T, B, C, H, W]`` -> ``[C]``.

        r_c = mean over t, b, y, x of S[t, b, c, y, x]

    the share of (step, image, position) slots in which the map's neurons fire.
    """
    if not isinstance(spikes, Tensor) or spikes.dim() != 5:
        raise ValueError(f"spikes must be one convolutional layer's spikes [T, B, C, H, W], got "
                         f"{type(spikes).__name__} of shape "
                         f"{tuple(getattr(spikes, 'shape', ()))}")
    return spikes.mean(dim=(0, 1, 3, 4))


def rate_regulariser(layers: dict[str, Tensor], floor: float = 0.2,
                     strength: float = 100.0) -> Tensor:
    """A loss term that wakes up dead feature maps: zero while every map fires a little.

    For each hidden layer with map rates r_c (:func:`map_rates`) and mean rate
    rbar = mean_c r_c (a constant for the gradient, ``detach``), a map is short of spikes by
    max(0, floor * rbar - r_c); the penalty is the mean over the maps of that shortfall squared,
    summed over the layers, times ``strength``:

        R = strength * sum_layers mean_c max(0, floor * rbar - r_c)^2

    A dead map (r_c = 0) gets a gradient that asks for more spikes, through the surrogate of its
    neurons; a map firing at least ``floor`` times its layer's mean rate adds nothing. Tied to
    rbar, the floor is zero while the whole layer is silent (the untrained network of section
    3), so the term does not fight the first steps of training; squared, its gradient shrinks as
    a map nears the floor. The scale: layer rates are a few hundredths, so a dead map's
    shortfall is about 0.01 and its square 1e-4; ``strength`` 100 keeps the whole term at a
    few hundredths, next to a cross-entropy between 2.3 and 0.1 (10,000 wrecked the accuracy
    in a trial run, seed 0: 31%).

    ``layers``: ``{"lif1": [T, B, 12, 12, 12], "lif2": [T, B, 64, 4, 4], ...}``
    (``CSNN.layer_spikes``); layers that are not feature maps (``"lif3"``) are left out.
    Returns a one-number tensor.
    """
    checks.positive_number("floor", floor)
    checks.positive_number("strength", strength)
    maps = [spikes for spikes in layers.values() if spikes.dim() == 5]
    if not maps:
        raise ValueError("layers must hold at least one convolutional layer's spikes "
                         "[T, B, C, H, W], e.g. CSNN.layer_spikes(images)")
    penalty = maps[0].new_zeros(())
    for spikes in maps:
        rates = map_rates(spikes)
        short = F.relu(floor * rates.mean().detach() - rates)
        penalty = penalty + short.pow(2).mean()
    return strength * penalty


class ConvANN(nn.Module):
    """The CSNN's layers with ReLU instead of LIF: 12C5-MP2-64C5-MP2-1024FC10, one pass.

        h1 = relu(maxpool2(conv5x5(x)))        [B, 12, 12, 12]
        h2 = relu(maxpool2(conv5x5(h1)))       [B, 64, 4, 4]
        y  = linear(flatten(h2))               [B, 10]   (logits)

    The same 29,826 weights and biases as ``models.CSNN``; no time steps. Lesson 05.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 12, 5)
        self.conv2 = nn.Conv2d(12, 64, 5)
        self.fc = nn.Linear(64 * 4 * 4, 10)

    def hidden(self, images: Tensor) -> dict[str, Tensor]:
        """The two hidden layers' activations, ``{"relu1": [B, 12, 12, 12], "relu2": ...}``."""
        h1 = F.relu(F.max_pool2d(self.conv1(images), 2))
        h2 = F.relu(F.max_pool2d(self.conv2(h1), 2))
        return {"relu1": h1, "relu2": h2}

    def forward(self, images: Tensor) -> Tensor:
        return self.fc(self.hidden(images)["relu2"].flatten(1))


def firing_summary(model: nn.Module, images: Tensor) -> dict[str, float]:
    """How the hidden layers of a trained network use their maps, on ``images`` ``[B, 1, 28, 28]``.

    For each hidden layer (``1``, ``2``): ``dead maps`` (maps none of whose neurons ever fires
    or, for the ANN, is ever above 0, on any image), ``dead neurons`` (the same per neuron) and,
    for the CSNN, ``saturated neurons`` (firing at every step of every image). Fractions.
    """
    with torch.no_grad():
        if isinstance(model, ConvANN):
            active = {name: h[None] > 0 for name, h in model.hidden(images).items()}
            num_slots = None  # no steps: a ReLU cannot saturate
        else:
            layers = model.layer_spikes(images, output=False)
            active = {name: layers[name] > 0 for name in HIDDEN}
            num_slots = images.shape[0] * model.num_steps
    summary = {}
    for layer, slots in enumerate(active.values(), start=1):
        counts = slots.sum(dim=(0, 1))  # [C, H, W]: each neuron's spikes (or active images)
        summary[f"dead maps {layer}"] = (counts.flatten(1).sum(1) == 0).float().mean().item()
        summary[f"dead neurons {layer}"] = (counts == 0).float().mean().item()
        if num_slots is not None:
            summary[f"saturated neurons {layer}"] = (counts == num_slots).float().mean().item()
    return summary


def _check_condition(condition: str) -> None:
    if condition not in CONDITIONS:
        raise ValueError(f"condition must be one of {CONDITIONS}, got {condition!r}")


def _loss(condition: str, model: nn.Module, images: Tensor, labels: Tensor,
          settings: dict[str, Any]) -> Tensor:
    """The training loss of one batch under ``condition``."""
    if condition == "ANN (ReLU)":
        return F.cross_entropy(model(images), labels)
    layers = model.layer_spikes(images, output=False)
    spikes, membrane = model.lif3.sequence(model.fc(layers["lif2"].flatten(2)))
    loss = losses.ce_rate(spikes, membrane, labels)
    if condition == "CSNN + regulariser":
        loss = loss + rate_regulariser(layers, settings["floor"], settings["strength"])
    return loss


@torch.no_grad()
def _accuracy(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 500) -> float:
    """Share of ``images`` classified right: the most output spikes (CSNN), the largest logit
    (ANN); ties go to the lower class, as ``argmax`` decides."""
    model.eval()
    right = 0
    for start in range(0, len(images), batch_size):
        out = model(images[start:start + batch_size])
        scores = out if isinstance(out, Tensor) else out[0].sum(0)
        right += int((scores.argmax(1) == labels[start:start + batch_size]).sum())
    return right / len(images)


def _stack(dataset: Any) -> tuple[Tensor, Tensor]:
    images = torch.stack([image for image, _ in dataset])
    return images, torch.tensor([label for _, label in dataset])


def train_once(condition: str, seed: int, settings: dict[str, Any] | None = None,
               data_dir: str | os.PathLike | None = None) -> dict[str, float]:
    """Train one condition with one seed; return its numbers.

    The seed fixes the training subset, the batch order and the initial weights, so every
    condition sees the same data in the same order. Returns ``{"accuracy", "cpu_seconds"
    (training only), "dead maps 1", ...}`` (:func:`firing_summary`).
    """
    _check_condition(condition)
    settings = {**SETTINGS, **(settings or {})}
    train_loader, _ = data.loaders(batch_size=settings["batch_size"],
                                   subset=settings["train_images"], test_subset=10,
                                   root=data_dir, seed=seed)
    seed_everything(seed)
    model = (ConvANN() if condition == "ANN (ReLU)"
             else models.CSNN(beta=settings["beta"], num_steps=settings["num_steps"]))
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"])
    total = settings["epochs"] * len(train_loader)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=settings["lr"],
                                                    total_steps=total)
    model.train()
    start = time.process_time()
    for _ in range(settings["epochs"]):
        for images, labels in train_loader:
            loss = _loss(condition, model, images, labels, settings)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
    cpu_seconds = time.process_time() - start
    model.eval()
    test_images, test_labels = _stack(data.mnist(False, root=data_dir,
                                                 subset=settings["test_images"]
                                                 if settings["test_images"] < 10_000 else None))
    probe, _ = _stack(data.mnist(False, root=data_dir, subset=settings["probe_images"]))
    return {"accuracy": _accuracy(model, test_images, test_labels),
            "cpu_seconds": round(cpu_seconds, 1), **firing_summary(model, probe)}


def run(seeds: Sequence[int] = SEEDS, conditions: Sequence[str] = CONDITIONS,
        data_dir: str | os.PathLike | None = None, **settings: Any) -> dict[str, Any]:
    """Train every condition once per seed (:func:`train_once`); the numbers, JSON-ready.

    ``settings`` override :data:`SETTINGS` (``train_images=500`` for a quick check). Returns
    ``{"settings", "seeds", "results": {condition: [one dict per seed]}, "cpu_minutes",
    "threads", "date"}``, the layout of the stored file (:func:`load`).
    """
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise TypeError(f"unknown setting {', '.join(unknown)}; the settings are "
                        f"{', '.join(SETTINGS)}")
    seeds = list(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be one or more ints >= 0, got {seeds!r}")
    for condition in conditions:
        _check_condition(condition)
    merged = {**SETTINGS, **settings}
    start = time.process_time()
    results = {condition: [train_once(condition, seed, merged, data_dir) for seed in seeds]
               for condition in conditions}
    return {"settings": merged, "seeds": list(seeds), "results": results,
            "cpu_minutes": round((time.process_time() - start) / 60, 2),
            "threads": torch.get_num_threads(),
            "date": datetime.date.today().isoformat()}


def save(results: dict[str, Any], path: str | os.PathLike = RESULTS_FILE) -> Path:
    """Write :func:`run`'s results as JSON (the stored file the lesson loads)."""
    path = Path(path)
    path.write_text(json.dumps(results, indent=1) + "\n")
    return path


def load(path: str | os.PathLike = RESULTS_FILE) -> dict[str, Any]:
    """The stored results of :func:`run` (by default the course's, made with :data:`SETTINGS`
    and :data:`SEEDS`), checked to hold every condition for every seed."""
    results = json.loads(Path(path).read_text())
    missing = [key for key in ("settings", "seeds", "results") if key not in results]
    if missing:
        raise ValueError(f"{path} is not a lesson 05 results file: it has no {missing}")
    for condition, per_seed in results["results"].items():
        if len(per_seed) != len(results["seeds"]):
            raise ValueError(f"{path}: {condition!r} has {len(per_seed)} runs for "
                             f"{len(results['seeds'])} seeds")
    return results


def summarise(results: dict[str, Any]) -> dict[str, dict[str, tuple[float, float, float]]]:
    """``{condition: {number: (mean, min, max)}}`` over the seeds."""
    summary = {}
    for condition, per_seed in results["results"].items():
        keys = per_seed[0].keys()
        summary[condition] = {key: (sum(run[key] for run in per_seed) / len(per_seed),
                                    min(run[key] for run in per_seed),
                                    max(run[key] for run in per_seed)) for key in keys}
    return summary


def _cell(values: tuple[float, float, float] | None, percent: bool) -> str:
    if values is None:
        return "-"
    scale = 100 if percent else 1
    mean, low, high = (scale * v for v in values)
    return f"{mean:.1f} ({low:.1f}-{high:.1f})" if percent else f"{mean:.0f} ({low:.0f}-{high:.0f})"


def _column_names() -> dict[str, str]:
    """The table's column heads in the course's language: fractions in percent."""
    return {"accuracy": tr("accuracy %"), "cpu_seconds": tr("training CPU s"),
            "dead maps 1": tr("dead maps 1 %"), "dead maps 2": tr("dead maps 2 %"),
            "dead neurons 1": tr("dead neurons 1 %"), "dead neurons 2": tr("dead neurons 2 %"),
            "saturated neurons 1": tr("saturated neurons 1 %"),
            "saturated neurons 2": tr("saturated neurons 2 %")}


def _condition_names() -> dict[str, str]:
    """The conditions' names in the course's language."""
    return {"CSNN": "CSNN", "CSNN + regulariser": tr("CSNN + regulariser"),
            "ANN (ReLU)": tr("ANN (ReLU)")}


def table(results: dict[str, Any],
          columns: Sequence[str] = ("accuracy", "dead maps 1", "dead maps 2", "dead neurons 1",
                                    "dead neurons 2"),
          conditions: Sequence[str] | None = None) -> str:
    """A plain-text table, one row per condition (default: all), each number as
    ``mean (min-max)`` over the seeds: fractions in percent, ``cpu_seconds`` in seconds. A
    number a condition does not have (an ANN's saturated neurons) is a dash. Heads and names
    in the course's language (``snnlab.i18n``)."""
    summary = summarise(results)
    conditions = list(summary) if conditions is None else list(conditions)
    unknown = [c for c in conditions if c not in summary]
    if unknown:
        raise ValueError(f"no results for {unknown}; the results hold {list(summary)}")
    heads = _column_names()
    rows = [("", *[heads.get(c, f"{c} %") for c in columns])]
    named = _condition_names()
    for condition in conditions:
        numbers = summary[condition]
        rows.append((named.get(condition, condition),
                     *[_cell(numbers.get(c), c != "cpu_seconds") for c in columns]))
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(pad(cell, w) if i == 0 else pad_left(cell, w)
                               for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
                     for row in rows)


if __name__ == "__main__":  # python -m snnlab.course.experiments.lesson05 [out.json]
    import sys

    torch.set_num_threads(1)
    out = run()
    print(table(out, columns=("accuracy", "dead maps 1", "dead maps 2", "dead neurons 1",
                              "dead neurons 2", "saturated neurons 1", "saturated neurons 2",
                              "cpu_seconds")))
    print(f"saved to {save(out, sys.argv[1] if len(sys.argv) > 1 else RESULTS_FILE)}")
    print(f"{out['cpu_minutes']} CPU minutes, seeds {out['seeds']}")
