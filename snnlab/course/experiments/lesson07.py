"""Lesson 07's experiments: every accuracy of the lesson over several seeds, with its controls.

Three tasks, all made from MNIST by ``snnlab.events`` (nothing else is downloaded):

- ``"digit"``: which digit is it? One digit on a saccade, 8 steps (the recipe ``ecsnn``'s data).
- ``"order"``: which digit came first? Two digits one after the other, 20 steps; the label is
  the first digit (the recipes ``order`` / ``order_collapsed``' data).
- ``"larger"``: is the second digit larger than the first? The same recordings as ``"order"``,
  label 1 if the second digit is the larger, else 0. Knowing the order is not enough here: the
  network must also keep *which* digit the first one was until the second arrives.

The networks ("conditions"), each trained the same way (``SETTINGS``: Adam with the recipes'
one-cycle schedule, one epoch of a class-balanced training subset, the same batches for every
condition of a seed) and tested on the same test recordings (made with seed 0, the lesson's):

- ``"recurrent"``: ``models.RecurrentSNN``, the lesson's network; output = the most spikes.
- ``"no_recurrence"``: the same network with V = 0, frozen, trained from scratch (not cut
  from a trained one): the membranes are its only memory.
- ``"first_spike"``: the V = 0 network again, read out as lesson 01's latency code: the output
  that fires *first* is the answer (ties: the one with more spikes). It is trained with a
  cross-entropy on minus the first-spike times (``first_spike_times``). "Which came first" needs
  no memory this way: the first digit's output can fire before the second digit appears.
- ``"collapsed"``: the same network fed the events averaged over time (``collapse_time=True``).
- ``"elman"``: an ordinary recurrent ANN (``ElmanRNN``) with the same weight shapes as the
  spiking network (W 2312 x 256, V 256 x 256, readout 256 x C), tanh units, read out at the
  last step: the baseline in accuracy and in operations.
- ``"ecsnn"`` (digit task): ``models.EventCSNN``, the lesson's convolutional SNN.
- ``"summed_mlp"`` (digit task): a ReLU network 2312-256-10 given only the events summed over
  time, per pixel and polarity: does the sum keep enough to read the digit?

``run(task, conditions, seeds)`` trains and tests them and returns per-seed numbers; ``main``
runs the whole study and writes ``snnlab/course/checkpoints/lesson07_experiments.json``, which
``load()`` reads back (the lesson uses that with ``TRAIN = False``)::

    python -m snnlab.course.experiments.lesson07            # about 25 CPU-minutes, 1 thread
"""

from __future__ import annotations

import datetime
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader

from snnlab import checks, config, data, events, losses, models, synops
from snnlab.i18n import pad, pad_left, tr, width

__all__ = ["SETTINGS", "TASKS", "names", "ElmanRNN", "SummedMLP", "first_spike_times",
           "first_spike_predictions", "build", "loaders", "one_digit_ceiling", "run", "elman_ops",
           "summary", "accuracies", "table", "load", "RESULTS_FILE", "main"]

# What every run of the study uses. ``subset``: training recordings (class-balanced),
# ``test_subset``: test recordings (None: all 10,000).
SETTINGS: dict = {"epochs": 1, "batch_size": 32, "lr": 2e-3, "subset": 20_000,
                  "test_subset": 5_000, "num_hidden": 256, "beta": 0.9, "seeds": [0, 1, 2]}

# task -> (conditions, number of outputs, time steps of a recording)
TASKS: dict[str, tuple[tuple[str, ...], int, int]] = {
    "digit": (("ecsnn", "summed_mlp"), 10, 8),
    "order": (("recurrent", "no_recurrence", "first_spike", "collapsed", "elman"), 10, 20),
    "larger": (("recurrent", "no_recurrence", "first_spike", "collapsed", "elman"), 2, 20),
}

RESULTS_FILE = Path(str(resources.files("snnlab.course") / "checkpoints"
                        / "lesson07_experiments.json"))


# ---------------------------------------------------------------- the networks
class ElmanRNN(nn.Module):
    """An ordinary recurrent network (Elman, tanh), read out as the spiking one is. Lesson 07.

        h[t] = tanh(W x[t] + V h[t-1] + b),   h[-1] = 0
        logits = (1/T) sum_t (R h[t] + c)

    The readout averages over all steps, as ``ce_rate`` sums the spiking network's output
    spikes over all steps (read at the last step only, the gradient to the first digit has to
    cross 12 tanh steps, and one epoch is not enough). Input: events ``[T, B, 2, H, W]``;
    returns the logits ``[B, num_outputs]``. With ``num_hidden=256`` its weights have the
    shapes of ``RecurrentSNN``'s (W, V, R).
    """

    def __init__(self, num_inputs: int = 2 * 34 * 34, num_hidden: int = 256,
                 num_outputs: int = 10) -> None:
        super().__init__()
        self.rnn = nn.RNN(checks.positive_int("num_inputs", num_inputs),
                          checks.positive_int("num_hidden", num_hidden), nonlinearity="tanh")
        self.readout = nn.Linear(num_hidden, checks.positive_int("num_outputs", num_outputs))

    def forward(self, x: Tensor) -> Tensor:
        hidden, _ = self.rnn(x.flatten(2))  # [T, B, num_hidden]
        return self.readout(hidden).mean(0)


class SummedMLP(nn.Module):
    """A ReLU network on the events summed over time: ``[T, B, 2, H, W]`` -> logits ``[B, C]``.

        n = sum_t x[t]  (events per pixel and polarity),   logits = R relu(W n + b) + c

    It sees how often each pixel sent each kind of event, never when. Lesson 07.
    """

    def __init__(self, num_inputs: int = 2 * 34 * 34, num_hidden: int = 256,
                 num_outputs: int = 10) -> None:
        super().__init__()
        self.hidden = nn.Linear(num_inputs, num_hidden)
        self.readout = nn.Linear(num_hidden, num_outputs)

    def forward(self, x: Tensor) -> Tensor:
        return self.readout(F.relu(self.hidden(x.sum(0).flatten(1))))


def first_spike_times(spikes: Tensor) -> Tensor:
    """When each output fires first: ``[T, B, C]`` of 0/1 -> ``[B, C]``, T if it never fires.

        first[t] = S[t] * prod_{t' < t} (1 - S[t'])        1 at the first spike only
        time     = sum_t t * first[t] + T * (1 - sum_t first[t])

    Differentiable through the spikes' surrogate gradients, so a loss on the times trains the
    network (lesson 01's latency code: the earlier, the stronger). Lesson 07.
    """
    checks.tensor("spikes", spikes)
    if spikes.dim() != 3:
        raise ValueError(f"spikes must be [T, B, C], got shape {tuple(spikes.shape)}")
    num_steps = len(spikes)
    silent_before = torch.cumprod(1 - spikes, 0)  # [T, B, C]: no spike up to and including t
    before = torch.cat([torch.ones_like(spikes[:1]), silent_before[:-1]])
    first = spikes * before
    steps = torch.arange(num_steps, dtype=spikes.dtype, device=spikes.device).view(-1, 1, 1)
    return (steps * first).sum(0) + num_steps * (1 - first.sum(0))


def first_spike_predictions(spikes: Tensor) -> Tensor:
    """The class whose output fired first ``[B]``; a tie goes to the one with more spikes
    (then the lowest index). ``spikes``: ``[T, B, C]``. Lesson 07."""
    times = first_spike_times(spikes)
    return (-times * (len(spikes) + 1) + spikes.sum(0)).argmax(-1)


def build(condition: str, num_outputs: int, num_hidden: int = 256, beta: float = 0.9
          ) -> nn.Module:
    """The network of ``condition`` (module docstring), untrained. Lesson 07."""
    if condition == "ecsnn":
        if num_outputs != 10:
            raise ValueError("ecsnn has 10 outputs")
        return models.EventCSNN(beta=beta)
    if condition == "summed_mlp":
        return SummedMLP(num_hidden=num_hidden, num_outputs=num_outputs)
    if condition == "elman":
        return ElmanRNN(num_hidden=num_hidden, num_outputs=num_outputs)
    if condition not in ("recurrent", "no_recurrence", "first_spike", "collapsed"):
        raise ValueError(f"unknown condition {condition!r}; choose one of "
                         f"{sorted({c for cs, _, _ in TASKS.values() for c in cs})}")
    net = models.RecurrentSNN(num_hidden=num_hidden, num_outputs=num_outputs, beta=beta,
                              collapse_time=condition == "collapsed")
    if condition in ("no_recurrence", "first_spike"):
        with torch.no_grad():
            net.rlif1.recurrent.weight.zero_()  # V = 0 ...
        net.rlif1.recurrent.weight.requires_grad_(False)  # ... and it stays 0
    return net


def _loss_and_predictions(condition: str, model: nn.Module, x: Tensor, y: Tensor
                          ) -> tuple[Tensor, Tensor]:
    """(training loss, predicted classes [B]) of ``model`` on one batch."""
    if condition in ("elman", "summed_mlp"):
        logits = model(x)
        return F.cross_entropy(logits, y), logits.argmax(-1)
    spikes, membrane = model(x)
    if condition == "first_spike":
        return F.cross_entropy(-first_spike_times(spikes), y), first_spike_predictions(spikes)
    return losses.ce_rate(spikes, membrane, y), spikes.sum(0).argmax(-1)


# ---------------------------------------------------------------- the data
def loaders(task: str, batch_size: int, subset: int | None, test_subset: int | None,
            seed: int, root: str | os.PathLike | None = None) -> tuple[DataLoader, DataLoader]:
    """Training loader (seeded by ``seed``) and test loader (always made with seed 0, as the
    lesson's, so every seed and condition is tested on the same recordings). Lesson 07."""
    checks.choice("task", task, tuple(TASKS))
    num_steps = TASKS[task][2]
    made = []
    for train, count, data_seed in ((True, subset, seed), (False, test_subset, 0)):
        digits = data.mnist(train, root=root, subset=count, seed=data_seed)
        dataset = events.EventDigits(digits, "saccade" if task == "digit" else "order",
                                     num_steps=num_steps,
                                     seed=data_seed + (0 if train else 1))
        collate = dataset.collate if task != "larger" else _larger_collate(dataset)
        made.append(DataLoader(dataset, batch_size=batch_size, shuffle=train, collate_fn=collate,
                               generator=torch.Generator().manual_seed(data_seed)
                               if train else None))
    return made[0], made[1]


def _larger_collate(dataset: events.EventDigits) -> Callable:
    """The order task's recordings with label 1 if the second digit is larger than the first."""
    def collate(items: list[tuple[int, int]]) -> tuple[Tensor, Tensor]:
        recordings, first = dataset.collate(items)
        index = torch.tensor([i for i, _ in items])
        second = dataset.labels[dataset.partner[index]]
        return recordings, (second > first).long()
    return collate


def one_digit_ceiling(loader: Iterable) -> float:
    """The best accuracy on ``"larger"`` of any answer that knows only the first digit.

    For first digit d it says "larger" when most partners of d in the data are larger: about
    78%, since after a 0 the second is always larger and after a 9 never. Lesson 07.
    """
    dataset = loader.dataset
    first, second = dataset.labels, dataset.labels[dataset.partner]
    right = 0
    for digit in range(10):
        larger = second[first == digit] > digit
        right += max(int(larger.sum()), int((~larger).sum()))
    return right / len(first)


# ---------------------------------------------------------------- running
# The recordings of one seed, made once and kept (as 0/1 bytes) while every condition of the
# order and larger tasks trains on them: they are the same recordings, with other labels.
_CACHE: dict[tuple, tuple[list, list]] = {}


def _batches(task: str, seed: int, settings: dict, root: str | os.PathLike | None
             ) -> tuple[list[tuple[Tensor, Tensor]], list[tuple[Tensor, Tensor]]]:
    """The training batches (in the loader's seeded order) and test batches of ``task``."""
    kind = "digit" if task == "digit" else "order"
    key = (kind, seed, settings["batch_size"], settings["subset"], settings["test_subset"],
           str(root))
    if key not in _CACHE:
        _CACHE.clear()  # one seed at a time
        made = []
        for loader in loaders("larger" if kind == "order" else "digit", settings["batch_size"],
                              settings["subset"], settings["test_subset"], seed, root):
            if kind == "order":  # keep both labels: the first digit, and "second is larger"
                dataset = loader.dataset
                batches = []
                for indices in loader.batch_sampler:
                    items = [dataset[i] for i in indices]
                    x, first = dataset.collate(items)
                    index = torch.tensor([i for i, _ in items])
                    larger = (dataset.labels[dataset.partner[index]] > first).long()
                    batches.append((x.to(torch.uint8), {"order": first, "larger": larger}))
            else:
                batches = [(x.to(torch.uint8), {"digit": y}) for x, y in loader]
            made.append(batches)
        _CACHE[key] = (made[0], made[1])
    train, test = _CACHE[key]
    return ([(x, y[task]) for x, y in train], [(x, y[task]) for x, y in test])


def _train_and_test(task: str, condition: str, seed: int, settings: dict,
                    root: str | os.PathLike | None) -> dict:
    """One run: train ``condition`` on ``task`` with ``seed``; its test accuracy and costs.

    CPU seconds count the training and testing, not the making of the recordings (shared by
    all conditions of a seed)."""
    train_batches, test_batches = _batches(task, seed, settings, root)
    config.seed_everything(seed)
    model = build(condition, TASKS[task][1], settings["num_hidden"], settings["beta"])
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(parameters, lr=settings["lr"])
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=settings["lr"], total_steps=settings["epochs"] * len(train_batches),
        pct_start=0.3)
    start = time.process_time()
    model.train()
    for _ in range(settings["epochs"]):
        for x, y in train_batches:
            loss, _ = _loss_and_predictions(condition, model, x.float(), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
    train_seconds = time.process_time() - start
    model.eval()
    right = total = 0
    ops = None
    with torch.no_grad():
        for x, y in test_batches:
            x = x.float()
            _, predicted = _loss_and_predictions(condition, model, x, y)
            right += int((predicted == y).sum())
            total += len(y)
            if ops is None:  # the first test batch: operations per sample
                ops = _operations(condition, model, x)
    return {"accuracy": right / total, "cpu_seconds": round(time.process_time() - start, 1),
            "train_cpu_seconds": round(train_seconds, 1), "ops": ops}


def elman_ops(model: ElmanRNN, x: Tensor) -> dict[str, float]:
    """Operations per sample of ``ElmanRNN`` on events ``x`` ``[T, B, 2, H, W]``. Lesson 07.

    ``dense_MAC``: as it runs, a MAC per weight per step, T (n_in n_h + n_h n_h + n_h C).
    ``sparse_input_AC`` / ``sparse_input_MAC``: the same network computing W x[t] only for the
    events (0/1: an addition each, like the SNN's first layer) and the rest densely.
    """
    num_steps = len(x)
    n_in, n_h = model.rnn.input_size, model.rnn.hidden_size
    readout = num_steps * n_h * model.readout.out_features  # read out at every step
    events_per_sample = float((x != 0).sum()) / x.shape[1]
    return {"dense_MAC": num_steps * (n_in * n_h + n_h * n_h) + readout,
            "sparse_input_AC": events_per_sample * n_h,
            "sparse_input_MAC": num_steps * n_h * n_h + readout}


def _operations(condition: str, model: nn.Module, x: Tensor) -> dict[str, float]:
    if condition == "elman":
        return elman_ops(model, x)
    if condition == "summed_mlp":
        return {"dense_MAC": sum(layer.in_features * layer.out_features
                                 for layer in (model.hidden, model.readout))}
    return {key: round(value, 1) for key, value in synops.totals(synops.count(model, x)).items()}


def run(task: str, conditions: Iterable[str] | None = None, seeds: Iterable[int] = (0, 1, 2),
        settings: dict | None = None, root: str | os.PathLike | None = None,
        done: Callable[[str, str, int, dict], None] | None = None) -> dict:
    """Train and test every condition of ``task`` with every seed; ``{condition: [run, ...]}``.

    Each run is ``{"seed", "accuracy", "cpu_seconds", "train_cpu_seconds", "ops"}`` (CPU
    seconds of this process, training and testing; ``ops`` per sample on the first test batch).
    ``settings`` overrides ``SETTINGS`` (e.g. ``{"subset": 200, "test_subset": 100}`` for a
    quick check); ``done`` is called after every run (to save as you go). Lesson 07.
    """
    checks.choice("task", task, tuple(TASKS))
    conditions = list(TASKS[task][0] if conditions is None else conditions)
    for condition in conditions:
        checks.choice("condition", condition, TASKS[task][0])
    settings = {**SETTINGS, **(settings or {})}
    results: dict[str, list[dict]] = {condition: [] for condition in conditions}
    for seed in seeds:  # seed by seed: each seed's recordings are made once for all conditions
        for condition in conditions:
            result = {"seed": seed, **_train_and_test(task, condition, seed, settings, root)}
            results[condition].append(result)
            if done is not None:
                done(task, condition, seed, result)
    return results


# ---------------------------------------------------------------- reading the results
def summary(runs: list[dict], key: str = "accuracy") -> dict[str, float]:
    """``{"mean", "std", "min", "max", "n"}`` of one condition's runs. Lesson 07."""
    values = [run[key] for run in runs]
    return {"mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values), "n": len(values)}


def names() -> dict[str, str]:
    """``{condition: the network's name}`` in the course's language, for tables and legends."""
    return {"recurrent": tr("recurrent SNN"), "no_recurrence": tr("same SNN, V = 0 (trained)"),
            "first_spike": tr("V = 0, first-spike readout"),
            "collapsed": tr("same SNN, time-collapsed"), "elman": tr("Elman RNN (tanh, ANN)"),
            "ecsnn": tr("event CSNN"), "summed_mlp": tr("ReLU net on summed events")}


def accuracies(stored: dict, task: str) -> dict[str, dict[str, float]]:
    """``{condition: summary(runs)}`` of one task of a study (``run`` / ``load``). Lesson 07."""
    results = stored["results"][task] if "results" in stored else stored
    return {condition: summary(runs) for condition, runs in results.items()}


def table(stored: dict, task: str) -> str:
    """One task's accuracies as a plain-text table: mean, standard deviation, min-max, and
    the per-seed values. Lesson 07."""
    results = stored["results"][task] if "results" in stored else stored
    rows = [(tr("network"), tr("mean"), tr("std"), tr("min - max"), tr("per seed"))]
    named = names()
    for condition, runs in results.items():
        s = summary(runs)
        rows.append((named.get(condition, condition), f"{s['mean']:.1%}", f"{s['std']:.1%}",
                     f"{s['min']:.1%} - {s['max']:.1%}",
                     "  ".join(f"{run['accuracy']:.1%}" for run in runs)))
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(pad(cell, w) if i == 0 else pad_left(cell, w) for i, (cell, w)
                               in enumerate(zip(row, widths, strict=True))).rstrip()
                     for row in rows)


def load(path: str | os.PathLike | None = None) -> dict:
    """The stored study (``RESULTS_FILE``): ``{"settings", "results": {task: {condition: runs}},
    "one_digit_ceiling", ...}``, checked: every task and condition present, each with one run
    per seed of the settings. Lesson 07."""
    path = RESULTS_FILE if path is None else Path(path)
    stored = json.loads(Path(path).read_text())
    seeds = stored["settings"]["seeds"]
    for task, (conditions, _, _) in TASKS.items():
        for condition in conditions:
            runs = stored["results"].get(task, {}).get(condition)
            if runs is None or [run["seed"] for run in runs] != seeds:
                raise ValueError(f"{path}: {task}/{condition} must hold one run per seed "
                                 f"{seeds}, got {None if runs is None else len(runs)} runs")
    return stored


def run_all(settings: dict | None = None, stored: dict | None = None,
            done: Callable[[str, str, int, dict], None] | None = None,
            root: str | os.PathLike | None = None, seeds: Iterable[int] | None = None) -> dict:
    """The whole study: every condition of every task, every seed; the layout ``load`` reads.

    ``stored``: a study already (partly) done with the same settings; only its missing runs
    are made. ``settings`` overrides ``SETTINGS`` (quick: ``{"subset": 200, "test_subset":
    100}``); ``seeds`` runs only those of the settings' seeds (to run seeds in parallel
    processes and merge their files). Lesson 07.
    """
    settings = {**SETTINGS, **(settings or {})}
    if stored is None or stored.get("settings") != settings:
        stored = {"settings": settings, "results": {}}
    _, test = loaders("larger", settings["batch_size"], settings["subset"],
                      settings["test_subset"], 0, root)
    stored["one_digit_ceiling"] = one_digit_ceiling(test)
    for seed in settings["seeds"] if seeds is None else seeds:
        for task in ("order", "larger", "digit"):
            for condition in TASKS[task][0]:
                runs = stored["results"].setdefault(task, {}).setdefault(condition, [])
                if any(r["seed"] == seed for r in runs):
                    continue
                new = run(task, [condition], [seed], settings, root, done)[condition]
                by_seed = {r["seed"]: r for r in runs + new}  # ``done`` may have stored it
                runs[:] = [by_seed[s] for s in sorted(by_seed)]
    return stored


def main(argv: list[str] | None = None) -> int:
    """Run the whole study and write ``RESULTS_FILE`` (after every run, so nothing is lost).

    Arguments: an output file instead of ``RESULTS_FILE``, then optionally the seeds to run
    (``0,1``); a rerun only makes the runs the file does not hold yet."""
    torch.set_num_threads(1)
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else RESULTS_FILE
    seeds = [int(s) for s in argv[1].split(",")] if len(argv) > 1 else None
    stored = json.loads(out.read_text()) if out.exists() else None

    def save(task: str, condition: str, seed: int, result: dict) -> None:
        runs = study["results"].setdefault(task, {}).setdefault(condition, [])
        runs[:] = sorted([r for r in runs if r["seed"] != seed] + [result],
                         key=lambda r: r["seed"])
        study["date"] = datetime.date.today().isoformat()
        study["made_by"] = "python -m snnlab.course.experiments.lesson07 (torch threads: 1)"
        study["cpu_minutes"] = round(sum(r["cpu_seconds"] for t in study["results"].values()
                                         for rs in t.values() for r in rs) / 60, 1)
        out.write_text(json.dumps(study, indent=1) + "\n")
        print(f"{task:7s} {condition:14s} seed {seed}: accuracy {result['accuracy']:.2%} "
              f"({result['cpu_seconds']:.0f} CPU s)", flush=True)

    study = stored if stored is not None and stored.get("settings") == SETTINGS else {
        "settings": SETTINGS, "results": {}}
    run_all(stored=study, done=save, seeds=seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
