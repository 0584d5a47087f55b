"""Lesson 10's experiment: convert a trained ReLU network to spikes, and count what it costs.

For each seed:

1. train ``conversion.ConvNet`` (lesson 05's shape with average pooling and no biases) as an
   ordinary ANN: Adam with a one-cycle schedule peaking at lr 3e-3, batches of 128,
   ``SETTINGS["epochs"]`` (5) epochs over the 60,000 training images (seeded order and
   initialisation); test it on all 10,000 test images;
2. balance the thresholds from the activations of ``balance_size`` TRAINING images (a seeded
   random choice), two ways (``BALANCINGS``): the maximum of each layer, and its 99.9th
   percentile (per layer, zeros included);
3. convert, and run every test image once to T = 256 steps, reading the accuracy, the spikes
   and the synaptic operations at T = 1, 2, 4, ..., 256 (``conversion.run``). The image is an
   analog current, the same at every step (no Poisson noise to average out; conv1 runs once,
   on pixels, so its operations are MACs).

Beside it, lesson 05's surrogate-trained CSNN (``recipes.pretrained("csnn")``, 25 steps,
LIF beta = 0.5, max pooling, biases) on the same test set: accuracy, spikes and synaptic
operations per sample (``snnlab.synops.count``).

Energy, as arithmetic only (``energy``): Horowitz (2014), "Computing's energy problem (and what
we can do about it)", ISSCC, 45 nm, 32-bit float: a multiply 3.7 pJ and an add 0.9 pJ, so a
MAC 4.6 pJ and an AC 0.9 pJ. It leaves out memory traffic (which dominates on real chips),
the neuron updates, and the pooling additions.

    python -m snnlab.course.experiments.lesson10   # about 5 CPU-minutes per seed, 1 thread
    python -m snnlab.course.experiments.lesson10 --per-channel   # PER_CHANNEL_FILE: seed 0's
                                                   # ANN balanced per channel, 5 CPU-minutes

writes ``RESULTS_FILE`` after every seed (a rerun makes only the seeds it lacks) and seed 0's
trained ANN as ``ANN_FILE`` (``pretrained_ann()`` loads it).
"""

from __future__ import annotations

import datetime
import json
import os
import statistics
import sys
import time
from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from snnlab import checks, config, conversion, data, synops
from snnlab.i18n import pad, pad_left, tr, width

__all__ = ["SETTINGS", "BALANCINGS", "PER_CHANNEL", "PJ_MAC", "PJ_AC", "RESULTS_FILE",
           "ANN_FILE", "PER_CHANNEL_FILE", "run_per_channel",
           "mnist_tensors", "train", "test_ann", "convert_and_run", "run_seed", "measure_csnn",
           "energy", "summary", "table", "energy_rows", "energy_table", "load", "run_and_save",
           "pretrained_ann", "main"]

SETTINGS: dict = {"epochs": 5, "batch_size": 128, "lr": 3e-3, "balance_size": 10_000,
                  "percentile": 99.9, "largest_steps": 256, "test_size": 10_000,
                  "seeds": [0, 1, 2]}
BALANCINGS = ("max", "p99.9")  # percentile 100 (the maximum) and SETTINGS["percentile"]
PER_CHANNEL = ("max/channel", "p99.9/channel")  # the same, one lambda per channel (seed 0)
PJ_MAC, PJ_AC = 4.6, 0.9  # Horowitz 2014, 45 nm, 32-bit float: 3.7 + 0.9 pJ, and 0.9 pJ

CHECKPOINTS = Path(str(resources.files("snnlab.course") / "checkpoints"))
RESULTS_FILE = CHECKPOINTS / "lesson10_conversion.json"
ANN_FILE = CHECKPOINTS / "lesson10_ann.pt"
PER_CHANNEL_FILE = CHECKPOINTS / "lesson10_per_channel.json"


# ---------------------------------------------------------------- data
_CACHE: dict[tuple, tuple[Tensor, Tensor]] = {}


def mnist_tensors(train: bool, root: str | os.PathLike | None = None) -> tuple[Tensor, Tensor]:
    """All of MNIST's training or test set as two tensors in memory: images ``[N, 1, 28,
    28]`` in [0, 1] and labels ``[N]``. Lesson 10."""
    key = (checks.boolean("train", train), str(root))
    if key not in _CACHE:
        dataset = data.mnist(train, root=root)
        _CACHE[key] = (dataset.images, dataset.targets.long())
    return _CACHE[key]


# ---------------------------------------------------------------- the ANN
def train(images: Tensor, labels: Tensor, seed: int = 0, settings: dict | None = None
          ) -> conversion.ConvNet:
    """Train a ``ConvNet`` on ``images``/``labels`` with ``SETTINGS`` (changed by
    ``settings``): Adam with a one-cycle learning rate (``OneCycleLR``, peak ``lr``),
    cross-entropy, seeded initialisation and order. Lesson 10."""
    s = {**SETTINGS, **(settings or {})}
    config.seed_everything(checks.integer("seed", seed))
    model = conversion.ConvNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=s["lr"])
    batches = -(-len(labels) // s["batch_size"])  # per epoch
    # one cycle: the learning rate warms up to lr, then anneals to almost 0
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=s["lr"],
                                                   total_steps=s["epochs"] * batches)
    model.train()
    for epoch in range(s["epochs"]):
        order = torch.randperm(len(labels),
                               generator=torch.Generator().manual_seed(seed * 100 + epoch))
        for start in range(0, len(order), s["batch_size"]):
            index = order[start:start + s["batch_size"]]
            loss = F.cross_entropy(model(images[index]), labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    return model.eval()


def test_ann(model: conversion.ConvNet, images: Tensor, labels: Tensor) -> float:
    """The ANN's test accuracy. Lesson 10."""
    right = 0
    with torch.no_grad():
        for start in range(0, len(labels), 1000):
            right += int((model(images[start:start + 1000]).argmax(1)
                          == labels[start:start + 1000]).sum())
    return right / len(labels)


# ---------------------------------------------------------------- conversion
def convert_and_run(ann: conversion.ConvNet, balancing: str, balance_images: Tensor,
                    images: Tensor, labels: Tensor, settings: dict | None = None) -> dict:
    """Balance ``ann`` by ``balancing`` on ``balance_images``, convert, run ``images`` to T =
    largest_steps. Returns ``{"balancing", "scales", "steps", "accuracy": [per T],
    "spikes": {"if1", "if2"}: [per T], "ops": {"conv1_MAC", "conv2_AC", "fc_AC"}: [per T],
    "ann_macs", "seconds"}``, all per sample. Lesson 10."""
    s = {**SETTINGS, **(settings or {})}
    checks.choice("balancing", balancing, BALANCINGS + PER_CHANNEL)
    start = time.perf_counter()
    percentile = 100.0 if balancing.startswith("max") else s["percentile"]
    per_channel = balancing.endswith("/channel")
    scales = conversion.activation_scales(ann, balance_images, percentile, per_channel)
    snn = conversion.convert(ann, scales)
    result = conversion.run(snn, images, conversion.powers_of_two(s["largest_steps"]))
    return {"balancing": balancing, "percentile": percentile,
            "scales": {k: v.tolist() for k, v in scales.items()},
            "steps": result.steps, "accuracy": conversion.accuracy(result, labels),
            "spikes": {k: [round(float(v), 2) for v in t] for k, t in result.spikes.items()},
            "ops": {k: [round(float(v), 1) for v in t] for k, t in result.ops.items()},
            "ann_macs": result.ann_macs, "seconds": round(time.perf_counter() - start, 1)}


def run_seed(seed: int, settings: dict | None = None, root: str | os.PathLike | None = None,
             keep: Path | None = None) -> dict:
    """Train, test and convert (both balancings) for one seed; ``keep``: save the trained
    ANN there. Lesson 10."""
    s = {**SETTINGS, **(settings or {})}
    x_train, y_train = mnist_tensors(True, root)
    x_test, y_test = mnist_tensors(False, root)
    x_test, y_test = x_test[:s["test_size"]], y_test[:s["test_size"]]
    cpu, wall = time.process_time(), time.perf_counter()
    ann = train(x_train, y_train, seed, s)
    train_cpu, train_wall = time.process_time() - cpu, time.perf_counter() - wall
    if keep is not None:
        torch.save(ann.state_dict(), keep)
    balance = _balance_images(x_train, seed, s)
    result = {"seed": seed, "ann_accuracy": test_ann(ann, x_test, y_test),
              "train_cpu_seconds": round(train_cpu, 1), "train_seconds": round(train_wall, 1),
              "snn": [convert_and_run(ann, b, balance, x_test, y_test, s) for b in BALANCINGS]}
    return result


def _balance_images(x_train: Tensor, seed: int, settings: dict) -> Tensor:
    """The ``balance_size`` training images that ``seed`` balances on (a seeded choice)."""
    chosen = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(seed))
    return x_train[chosen[:settings["balance_size"]]]


def run_per_channel(ann: conversion.ConvNet, seed: int = 0, settings: dict | None = None,
                    root: str | os.PathLike | None = None) -> dict:
    """``PER_CHANNEL`` balancings (one lambda per channel) of a trained ANN (seed 0's:
    ``pretrained_ann()``), on the images ``run_seed`` balances that seed on; the layer-wise
    results of the same ANN are in ``RESULTS_FILE``. Lesson 10."""
    s = {**SETTINGS, **(settings or {})}
    x_train, _ = mnist_tensors(True, root)
    x_test, y_test = mnist_tensors(False, root)
    x_test, y_test = x_test[:s["test_size"]], y_test[:s["test_size"]]
    balance = _balance_images(x_train, seed, s)
    return {"settings": s, "seed": seed, "ann_accuracy": test_ann(ann, x_test, y_test),
            "snn": [convert_and_run(ann, b, balance, x_test, y_test, s) for b in PER_CHANNEL],
            "date": datetime.date.today().isoformat(),
            "made_by": f"snnlab.course.experiments.lesson10 --per-channel (torch threads: "
                       f"{torch.get_num_threads()})"}


def measure_csnn(root: str | os.PathLike | None = None, test_size: int = 10_000,
                 batch_size: int = 500) -> dict:
    """Lesson 05's pretrained CSNN on the test set: accuracy (spike counts), steps, spikes
    per sample by layer, and ``synops.count``'s operations per sample. Lesson 10."""
    from snnlab.course import recipes
    model = recipes.pretrained("csnn").eval()
    x_test, y_test = mnist_tensors(False, root)
    x_test, y_test = x_test[:test_size], y_test[:test_size]
    right, spikes, ops, ann_macs = 0, {}, {}, {}
    with torch.no_grad():
        for start in range(0, len(y_test), batch_size):
            x, y = x_test[start:start + batch_size], y_test[start:start + batch_size]
            layers = model.layer_spikes(x)
            right += int((layers["lif3"].sum(0).argmax(-1) == y).sum())
            for name, s in layers.items():
                spikes[name] = spikes.get(name, 0.0) + float(s.sum())
            for layer in synops.count(model, x):
                key = f"{layer.name}_{layer.kind}"
                ops[key] = ops.get(key, 0.0) + layer.ops * len(y)
                ann_macs[layer.name] = layer.ann_macs
    n = len(y_test)
    return {"accuracy": right / n, "num_steps": model.num_steps,
            "spikes": {k: round(v / n, 1) for k, v in spikes.items()},
            "ops": {k: round(v / n, 1) for k, v in ops.items()}, "ann_macs": ann_macs}


# ---------------------------------------------------------------- energy (arithmetic only)
def energy(macs: float, acs: float) -> float:
    """Picojoules for ``macs`` multiply-accumulates and ``acs`` accumulates at 4.6 and 0.9 pJ
    (Horowitz 2014, 45 nm, 32-bit float). Arithmetic only. Lesson 10."""
    return PJ_MAC * macs + PJ_AC * acs


# ---------------------------------------------------------------- reading the results
def summary(values: list[float]) -> dict[str, float]:
    """``{"mean", "min", "max", "n"}``."""
    return {"mean": statistics.fmean(values), "min": min(values), "max": max(values),
            "n": len(values)}


def _by(results: list[dict], balancing: str) -> list[dict]:
    return [next(r for r in seed["snn"] if r["balancing"] == balancing) for seed in results]


def table(study: dict) -> str:
    """Test accuracy against T for each balancing (mean over seeds, min-max), and the ANN's,
    as a plain-text table. Lesson 10."""
    results = study["results"]
    steps = results[0]["snn"][0]["steps"]
    # the header is symbols and the balancings' names, the same in every language
    rows = [("T", *BALANCINGS, "ANN")]
    ann = summary([r["ann_accuracy"] for r in results])
    for k, t in enumerate(steps):
        cells = []
        for b in BALANCINGS:
            s = summary([r["accuracy"][k] for r in _by(results, b)])
            cells.append(f"{s['mean']:.2%} ({s['min']:.2%}-{s['max']:.2%})")
        rows.append((str(t), *cells, f"{ann['mean']:.2%}"))
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(pad(c, w) if i == 0 else pad_left(c, w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True)))
                     for row in rows)


def energy_rows(study: dict) -> list[tuple[str, float, float, float]]:
    """``(what, MACs, ACs, pJ)`` per sample, mean over seeds: the ANN, each balancing at each
    T, lesson 05's CSNN. Lesson 10."""
    results = study["results"]
    ann_macs = sum(results[0]["snn"][0]["ann_macs"].values())
    rows = [(tr("ANN (one pass)"), ann_macs, 0.0, energy(ann_macs, 0.0))]
    for b in BALANCINGS:
        runs = _by(results, b)
        for k, t in enumerate(runs[0]["steps"]):
            macs = statistics.fmean(r["ops"]["conv1_MAC"][k] for r in runs)
            acs = statistics.fmean(r["ops"]["conv2_AC"][k] + r["ops"]["fc_AC"][k] for r in runs)
            rows.append((tr("SNN {name}, T = {T}").format(name=b, T=t), macs, acs,
                         energy(macs, acs)))
    csnn = study.get("csnn")
    if csnn:
        macs = sum(v for k, v in csnn["ops"].items() if k.endswith("_MAC"))
        acs = sum(v for k, v in csnn["ops"].items() if k.endswith("_AC"))
        rows.append((tr("CSNN (lesson 05), T = {T}").format(T=csnn["num_steps"]), macs, acs,
                     energy(macs, acs)))
    return rows


def energy_table(study: dict) -> str:
    """``energy_rows`` as plain text, with the ratio to the ANN. Lesson 10."""
    rows = energy_rows(study)
    ann = rows[0][3]
    lines = [("", tr("MACs"), tr("ACs"), "pJ", tr("/ ANN"))]
    for what, macs, acs, pj in rows:
        lines.append((what, f"{macs:,.0f}", f"{acs:,.0f}", f"{pj:,.0f}", f"{pj / ann:.2f}"))
    widths = [max(width(row[i]) for row in lines) for i in range(5)]
    return "\n".join("  ".join(pad(c, w) if i == 0 else pad_left(c, w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True)))
                     for row in lines)


def load(path: str | os.PathLike | None = None) -> dict:
    """The stored study (``RESULTS_FILE``), checked: one result per seed of the settings,
    each with both balancings. Lesson 10."""
    path = RESULTS_FILE if path is None else Path(path)
    stored = json.loads(Path(path).read_text())
    seeds = sorted(r["seed"] for r in stored["results"])
    if seeds != sorted(stored["settings"]["seeds"]):
        raise ValueError(f"{path}: must hold one result per seed {stored['settings']['seeds']}, "
                         f"got {seeds}")
    for result in stored["results"]:
        if sorted(r["balancing"] for r in result["snn"]) != sorted(BALANCINGS):
            raise ValueError(f"{path}: seed {result['seed']} lacks a balancing")
    return stored


def pretrained_ann(path: str | os.PathLike | None = None) -> conversion.ConvNet:
    """The course's trained ANN (seed 0; ``ANN_FILE``). Lesson 10."""
    model = conversion.ConvNet()
    model.load_state_dict(torch.load(ANN_FILE if path is None else path, weights_only=True))
    return model.eval()


def run_and_save(path: str | os.PathLike, settings: dict | None = None,
                 root: str | os.PathLike | None = None, ann_file: Path | None = None,
                 csnn: bool = True) -> dict:
    """The whole study, written to ``path`` after every seed (a rerun with the same settings
    makes only the seeds the file lacks); seed 0's ANN saved to ``ann_file``. Lesson 10."""
    path = Path(path)
    s = {**SETTINGS, **(settings or {})}
    stored = json.loads(path.read_text()) if path.exists() else None
    same = stored is not None and {k: v for k, v in stored["settings"].items() if k != "seeds"} \
        == {k: v for k, v in s.items() if k != "seeds"}
    study = {**stored, "settings": s} if same else {"settings": s, "results": []}
    path.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        study["date"] = datetime.date.today().isoformat()
        study["made_by"] = (f"snnlab.course.experiments.lesson10 (torch threads: "
                            f"{torch.get_num_threads()})")
        path.write_text(json.dumps(study, indent=1) + "\n")

    if csnn and "csnn" not in study:
        study["csnn"] = measure_csnn(root, s["test_size"])
        save()
        print(f"CSNN: accuracy {study['csnn']['accuracy']:.2%}", flush=True)
    have = {r["seed"] for r in study["results"]}
    for seed in s["seeds"]:
        if seed in have:
            continue
        result = run_seed(seed, s, root, keep=ann_file if seed == 0 else None)
        study["results"].append(result)
        save()
        k = next((k for k, t in enumerate(result["snn"][0]["steps"]) if t >= 32), -1)
        print(f"seed {seed}: ANN {result['ann_accuracy']:.2%} ({result['train_seconds']:.0f} s); "
              + ", ".join(f"{r['balancing']} T={r['steps'][k]}: {r['accuracy'][k]:.2%}"
                          for r in result["snn"]), flush=True)
    study["results"] = [r for r in study["results"] if r["seed"] in s["seeds"]]
    return study


def main(argv: list[str] | None = None) -> int:
    """Run the study and write it (``RESULTS_FILE``, ``ANN_FILE``); an argument names another
    results file (the ANN then goes beside it)."""
    torch.set_num_threads(1)
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--per-channel"]:  # one lambda per channel, seed 0's ANN (ANN_FILE)
        study = run_per_channel(pretrained_ann())
        PER_CHANNEL_FILE.write_text(json.dumps(study, indent=1) + "\n")
        for r in study["snn"]:
            print(r["balancing"], [f"{a:.2%}" for a in r["accuracy"]])
        return 0
    path = Path(argv[0]) if argv else RESULTS_FILE
    ann_file = ANN_FILE if not argv else path.with_name(path.stem + "_ann.pt")
    study = run_and_save(path, ann_file=ann_file)
    print(table(study))
    print(energy_table(study))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
