"""Lesson 04's experiments, with seeds and a non-spiking baseline. Lesson 04.

Each number in the lesson's tables was made by one of these functions; with ``TRAIN = False``
the lesson reads the stored results (``snnlab/course/checkpoints/lesson04_*.json``) instead of
running them. To remake a stored file (``python -m snnlab.course.experiments.lesson04 --help``)::

    python -m snnlab.course.experiments.lesson04 losses --seeds 0 1 2 3 4   # 0.5 CPU-minutes
    python -m snnlab.course.experiments.lesson04 recipes                    # about 15 CPU-minutes

**losses**: which loss trains the 784-1000-10 ``FCSNN`` better in one epoch on 10,000
training images, ``ce_rate`` or ``ce_membrane``? Every seed trains both, the same way (the
same fresh weights, the same batches in the same order; only the loss differs), and each is
tested on 2,000 test images: accuracy, and the output spikes per test digit.

**recipes**: three ways to train a 784-hidden-10 network on all 60,000 images, each with the
same seeds, tested on all 10,000 test images:

- ``fc``: the course's recipe (1000 hidden LIF neurons, 25 steps, ``ce_rate``, Adam with a
  one-cycle schedule peaking at 0.002, batches of 128, 6 epochs);
- ``handout``: the lab handout's recipe (512 hidden LIF neurons, 200 steps, ``ce_membrane``,
  Adam at a constant 0.0005, batches of 512, 3 epochs), the one-line ``train`` command;
- ``ann``: the course recipe's network without spikes, 784-1000-10 with ReLU
  (:class:`ReLUNetwork`), trained exactly as ``fc`` is: the same loop (``training.fit``),
  loss (``ce_rate`` of its scores), optimizer, schedule, epochs, batches and seeds.

Every run's training time is measured on one CPU thread (``torch.set_num_threads(1)``), as
wall-clock seconds and as the CPU seconds the process used (the latter is steadier when other
programs share the CPU).
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import torch
from torch import Tensor, nn

from snnlab import config, data, losses, training
from snnlab.course import recipes

# Where the stored results live (package data, beside the pretrained networks).
STORED = Path(str(resources.files("snnlab.course") / "checkpoints"))
LOSSES_FILE = STORED / "lesson04_losses.json"
RECIPES_FILE = STORED / "lesson04_recipes.json"

# The lab handout's recipe, as keyword arguments of recipes.train("fc", ...).
HANDOUT = dict(num_hidden=512, num_steps=200, batch_size=512, loss="ce_membrane", lr=5e-4,
               schedule="constant", epochs=3)
SEEDS = (0, 1, 2)
LOSS_NAMES = ("ce_rate", "ce_membrane")
CONDITIONS = ("fc", "handout", "ann")


class ReLUNetwork(nn.Module):
    """The course's 784-1000-10 network without spikes: ReLU units, no time steps.

        h = ReLU(W1 x + b1),      z = W2 h + b2

    Input ``[B, 1, 28, 28]`` or ``[B, 784]``. To train in the same loop as the spiking
    networks, it returns a record of one time step, ``(z[None], z[None])``, each ``[1, B, 10]``:
    the "spike count" ``ce_rate`` and ``losses.accuracy`` read is then the score ``z`` itself,
    so ``ce_rate`` is the ordinary cross-entropy of ``z`` and the accuracy its argmax.
    """

    def __init__(self, num_inputs: int = 784, num_hidden: int = 1000,
                 num_outputs: int = 10) -> None:
        super().__init__()
        self.fc1 = nn.Linear(num_inputs, num_hidden)
        self.fc2 = nn.Linear(num_hidden, num_outputs)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if not isinstance(x, Tensor) or x.dim() < 2 or x[0].numel() != self.fc1.in_features:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"ReLUNetwork takes images [B, 1, 28, 28] or [B, "
                             f"{self.fc1.in_features}], got {shape}")
        scores = self.fc2(torch.relu(self.fc1(x.flatten(1))))   # [B, 10]
        return scores[None], scores[None]                       # [1, B, 10] each


def _timed(train) -> tuple[object, float, float]:
    """Run ``train()``; return its result, wall seconds and process CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = train()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def output_spikes(model: nn.Module, loader) -> tuple[float, float]:
    """Mean output spikes per test digit over ``loader``: (the label's neuron, all neurons)."""
    correct, total, count = 0.0, 0.0, 0
    model.eval()
    with torch.no_grad():
        for images, labels in loader:
            spikes, _ = model(images)
            counts = spikes.sum(0)                                       # [B, classes]
            correct += counts[torch.arange(len(labels)), labels].sum().item()
            total += counts.sum().item()
            count += len(labels)
    return correct / count, total / count


def loss_run(loss_name: str, seed: int, num_images: int = 10_000,
             data_dir: str | None = None) -> dict:
    """One epoch of a fresh ``FCSNN`` with ``loss_name`` on ``num_images`` training images,
    the lesson's section 6: Adam, one-cycle schedule peaking at 0.002, batches of 128.
    ``seed`` sets the weights and the order of the batches (the same for both losses).
    Returns the test accuracy on ``num_images // 5`` test images and the output spikes per
    test digit."""
    if loss_name not in LOSS_NAMES:
        raise ValueError(f"loss_name must be one of {LOSS_NAMES}, got {loss_name!r}")
    train_loader, test_loader = data.loaders(128, subset=num_images,
                                             test_subset=max(10, num_images // 5),
                                             root=data_dir, seed=seed)
    config.seed_everything(seed)
    model = recipes.build_model("fc")
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, pct_start=0.3,
                                                   total_steps=len(train_loader))
    history = training.fit(model, train_loader, getattr(losses, loss_name), optimizer,
                           epochs=1, test_loader=test_loader, scheduler=schedule,
                           progress=False)
    correct, total = output_spikes(model, test_loader)
    return {"test_accuracy": history.final()["test_accuracy"],
            "label_spikes": correct, "all_spikes": total}


def compare_losses(seeds: Sequence[int] = SEEDS, num_images: int = 10_000,
                   data_dir: str | None = None) -> dict:
    """``loss_run`` for both losses and every seed: ``{loss: {"test_accuracy": [...], ...}}``,
    one entry per seed in the order of ``seeds``."""
    seeds = _checked_seeds(seeds)
    results: dict = {name: {"test_accuracy": [], "label_spikes": [], "all_spikes": []}
                     for name in LOSS_NAMES}
    for seed in seeds:
        for name in LOSS_NAMES:
            run = loss_run(name, seed, num_images, data_dir)
            for key, value in run.items():
                results[name][key].append(value)
    return results


def ann_run(seed: int, epochs: int = 6, subset: int | None = None,
            test_subset: int | None = None, data_dir: str | None = None) -> dict:
    """:class:`ReLUNetwork` trained exactly as recipe ``fc`` trains ``FCSNN``: the same
    loaders and seed, ``ce_rate``, Adam with a one-cycle schedule peaking at 0.002, batches of
    128, ``epochs`` epochs. Returns the test accuracy and the training time."""
    recipe = recipes.RECIPES["fc"]
    config.seed_everything(seed)
    model = ReLUNetwork(num_hidden=recipe.model_kwargs["num_hidden"])
    train_loader, test_loader = data.loaders(recipe.batch_size, subset=subset,
                                             test_subset=test_subset, root=data_dir, seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=recipe.lr, total_steps=epochs * len(train_loader), pct_start=0.3)
    history, wall, cpu = _timed(lambda: training.fit(
        model, train_loader, recipe.loss, optimizer, epochs, test_loader, scheduler=schedule,
        progress=False))
    return {"test_accuracy": history.final()["test_accuracy"], "wall_seconds": wall,
            "cpu_seconds": cpu}


def recipe_run(condition: str, seed: int, epochs: int | None = None,
               subset: int | None = None, test_subset: int | None = None,
               data_dir: str | None = None) -> dict:
    """One run of ``condition`` ("fc", "handout" or "ann") with ``seed``; ``epochs`` and the
    subsets shrink it for a quick check (None: the recipe's epochs, all images)."""
    if condition not in CONDITIONS:
        raise ValueError(f"condition must be one of {CONDITIONS}, got {condition!r}")
    if condition == "ann":
        return ann_run(seed, epochs or recipes.RECIPES["fc"].epochs, subset, test_subset,
                       data_dir)
    settings = dict(HANDOUT) if condition == "handout" else {}
    if epochs is not None:
        settings["epochs"] = epochs
    (_, history), wall, cpu = _timed(lambda: recipes.train(
        "fc", seed=seed, subset=subset, test_subset=test_subset, data_dir=data_dir,
        progress=False, **settings))
    return {"test_accuracy": history.final()["test_accuracy"], "wall_seconds": wall,
            "cpu_seconds": cpu}


def compare_recipes(seeds: Sequence[int] = SEEDS, conditions: Sequence[str] = CONDITIONS,
                    epochs: int | None = None, subset: int | None = None,
                    test_subset: int | None = None, data_dir: str | None = None,
                    after_each=None) -> dict:
    """``recipe_run`` for every condition and seed:
    ``{condition: {"test_accuracy": [...], "wall_seconds": [...], "cpu_seconds": [...]}}``.
    ``after_each(results)``, if given, is called after every run (to save partial results)."""
    seeds = _checked_seeds(seeds)
    results: dict = {}
    for condition in conditions:
        results[condition] = {"test_accuracy": [], "wall_seconds": [], "cpu_seconds": []}
        for seed in seeds:
            run = recipe_run(condition, seed, epochs, subset, test_subset, data_dir)
            for key, value in run.items():
                results[condition][key].append(value)
            if after_each is not None:
                after_each(results)
    return results


def _checked_seeds(seeds: object) -> list[int]:
    if (isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence) or not seeds
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                       for s in seeds)):
        raise ValueError(f"seeds must be a non-empty sequence of ints >= 0, got {seeds!r}")
    return list(seeds)


def spread(values: Sequence[float]) -> dict[str, float]:
    """Mean, smallest and largest of per-seed values, and the sample standard deviation
    (0 for one value)."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("spread needs at least one value")
    return {"mean": statistics.fmean(values), "min": min(values), "max": max(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0}


def summary_table(results: dict, key: str = "test_accuracy", percent: bool = True) -> str:
    """One line per condition: mean, min-max and std of ``key`` over the seeds."""
    lines = []
    for name, values in results.items():
        s = spread(values[key])
        scale, unit = (100, "%") if percent else (1, "")
        lines.append(f"{name:12} {scale * s['mean']:7.2f}{unit} (min {scale * s['min']:.2f}, "
                     f"max {scale * s['max']:.2f}, std {scale * s['std']:.2f}) over "
                     f"{len(values[key])} seeds")
    return "\n".join(lines)


def _load(path: Path, experiment: str) -> dict:
    stored = json.loads(Path(path).read_text())
    if stored.get("experiment") != experiment or "results" not in stored:
        raise ValueError(f"{path} holds no stored {experiment!r} experiment")
    return stored


def load_losses(path: str | Path = LOSSES_FILE) -> dict:
    """The stored ``compare_losses`` run: ``{"settings", "results", "cpu_seconds", ...}``."""
    return _load(Path(path), "losses")


def load_recipes(path: str | Path = RECIPES_FILE) -> dict:
    """The stored ``compare_recipes`` run: ``{"settings", "results", "cpu_seconds", ...}``."""
    return _load(Path(path), "recipes")


def save(experiment: str, settings: dict, results: dict, wall: float, cpu: float,
         path: str | Path, command: str = "") -> Path:
    """Write a run's settings, per-seed results, times and machine to ``path`` (JSON)."""
    path = Path(path)
    path.write_text(json.dumps({
        "experiment": experiment, "settings": settings, "results": results,
        "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "date": datetime.date.today().isoformat(),
        "command": command or f"python -m snnlab.course.experiments.lesson04 {experiment}",
    }, indent=2) + "\n")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Run one experiment on one CPU thread and store its results."""
    parser = argparse.ArgumentParser(prog="python -m snnlab.course.experiments.lesson04",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("experiment", choices=("losses", "recipes"))
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--conditions", nargs="+", choices=CONDITIONS, default=list(CONDITIONS))
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=None, help="the JSON file (default: the stored one)")
    args = parser.parse_args(argv)
    command = (f"python -m snnlab.course.experiments.lesson04 {args.experiment} --seeds "
               + " ".join(map(str, args.seeds))
               + ("" if args.experiment == "losses"
                  else " --conditions " + " ".join(args.conditions)))
    torch.set_num_threads(1)
    if args.experiment == "losses":
        settings = {"seeds": args.seeds, "num_images": 10_000, "test_images": 2_000,
                    "epochs": 1, "batch_size": 128, "schedule": "one-cycle", "peak_lr": 2e-3}
        results, wall, cpu = _timed(lambda: compare_losses(args.seeds, data_dir=args.data_dir))
        path = save("losses", settings, results, wall, cpu, args.out or LOSSES_FILE, command)
    else:
        settings = {"seeds": args.seeds, "conditions": args.conditions,
                    "fc": {"recipe": "fc"}, "handout": {"recipe": "fc", **HANDOUT},
                    "ann": {"model": "ReLUNetwork 784-1000-10", "trained_as": "fc"}}
        partial = Path(str(args.out or RECIPES_FILE) + ".partial")
        started = time.perf_counter(), time.process_time()

        def save_partial(results: dict) -> None:
            save("recipes", settings, results, time.perf_counter() - started[0],
                 time.process_time() - started[1], partial, command)

        results, wall, cpu = _timed(lambda: compare_recipes(
            args.seeds, args.conditions, data_dir=args.data_dir, after_each=save_partial))
        partial.unlink(missing_ok=True)
        path = save("recipes", settings, results, wall, cpu, args.out or RECIPES_FILE, command)
    print(summary_table(results))
    print(f"stored in {path} ({cpu / 60:.1f} CPU-minutes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
