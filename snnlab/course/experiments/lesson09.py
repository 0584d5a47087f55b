"""Lesson 09's experiment: a winner-take-all network learns MNIST digits without labels.

Diehl and Cook (2015) with ``snnlab.competitive.Competitive``: 784 Poisson inputs feed
``num_neurons`` excitatory neurons through plastic weights; a spike resets the whole layer
(a hard winner-take-all, ``hard_wta``); STDP moves the winner's weights towards the image;
an adaptive threshold theta shares the images out; every neuron's weights are normalised to
sum to ``weight_sum`` after each batch. No label is used while learning. Then:

    counts  = the network's spike counts on the first ``assign_size`` training images
    labels of the neurons = assign_labels(counts, their labels)     (the only use of labels)
    prediction of a test image = classify(its counts, labels of the neurons)

and the accuracy on the whole MNIST test set (10,000 images). The control: the same network
with its random initial weights (no learning, theta 0), named and read out the same way,
shows what STDP learned beyond what random projections and the vote already give.

Training is one pass over the 60,000 training images in a seeded order, ``batch_size``
images at a time. With ``update="end"`` every image of a batch meets the same weights and
theta, and the batch's STDP changes (``A_plus`` per image, summed over the batch) are added
once after it, like one step of mini-batch k-means. The seed picks the order, the initial
weights and the Poisson spikes; the test set is always the same.

Measured (``bench/results.md``, "Lesson 09"): 91.2% +- 0.4% over seeds 0, 1, 2 (Diehl and
Cook: 87.0% with 400 neurons), about 100 s of training per seed on one thread; the random
weights: 43.6%. What each choice buys: ``bench/stdp_feasibility.md``.

``run(seeds)`` trains and tests; ``main`` writes ``RESULTS_FILE`` (per-seed accuracy and
training seconds) and, for seed 0, ``WEIGHTS_FILE`` (the trained weights as float16, theta
and the neurons' labels), which ``load()`` and ``pretrained()`` read back; ``table`` prints
the study::

    python -m snnlab.course.experiments.lesson09     # about 2.5 minutes per seed, 1 thread

One torch thread: on the shared 2-core machine, two threads made a training batch 3 x SLOWER
(3.0 against 0.9 ms per image of 50 steps, measured while another job used a core): the
small products of each step wait for the second thread whenever the other job holds its core.
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
from torch import Tensor

from snnlab import checks, data
from snnlab.competitive import Competitive, assign_labels, classify
from snnlab.i18n import pad, pad_left, tr, width

__all__ = ["SETTINGS", "NETWORK", "RESULTS_FILE", "WEIGHTS_FILE", "PAPER", "mnist_tensors",
           "build", "train", "spike_counts", "evaluate", "train_and_test", "run", "summary",
           "table", "load", "pretrained", "run_and_save", "main"]

# The network (``Competitive``'s arguments). Time is compressed 3.5 x against the paper's
# 350 steps of 1 ms (100 steps, each 3.5 ms: gain, tau_mem and the traces scaled alike).
NETWORK: dict = {"num_neurons": 400, "num_steps": 100, "gain": 0.223, "tau_mem": 28.6,
                 "threshold": 13.0, "input_scale": 0.65, "hard_wta": True,
                 "theta_plus": 0.05, "tau_theta": 1e7, "A_plus": 0.002, "A_minus": 0.0,
                 "tau_plus": 5.7, "tau_minus": 5.7, "w_max": 1.0, "bounds": "hard",
                 "update": "end", "weight_sum": 78.0, "min_spikes": 0, "max_boosts": 0}

# What every run of the study uses.
SETTINGS: dict = {"network": NETWORK, "train_size": 60_000, "batch_size": 100,
                  "assign_size": 10_000, "test_size": 10_000, "eval_batch": 1000,
                  "seeds": [0, 1, 2], "threads": 1}

# Diehl and Cook's (2015) test accuracy with 400 excitatory neurons.
PAPER = 0.870

CHECKPOINTS = Path(str(resources.files("snnlab.course") / "checkpoints"))
RESULTS_FILE = CHECKPOINTS / "lesson09_stdp.json"
WEIGHTS_FILE = CHECKPOINTS / "lesson09_weights.pt"


# ---------------------------------------------------------------- the data
_CACHE: dict[bool, tuple[Tensor, Tensor]] = {}


def mnist_tensors(train: bool, root: str | os.PathLike | None = None) -> tuple[Tensor, Tensor]:
    """All MNIST training (``train``) or test images ``[N, 784]`` in [0, 1] and labels
    ``[N]``, held in memory (kept for the next call). Lesson 09."""
    checks.boolean("train", train)
    if train not in _CACHE:
        digits = data.mnist(train, root=root)
        _CACHE[train] = digits.images.flatten(1), digits.targets.long()
    return _CACHE[train]


def _settings(settings: dict | None) -> dict:
    """``SETTINGS`` changed by ``settings``; a ``"network"`` entry changes ``NETWORK``'s."""
    settings = settings or {}
    merged = {**SETTINGS, **settings}
    merged["network"] = {**NETWORK, **settings.get("network", {})}
    for name in ("train_size", "batch_size", "assign_size", "test_size", "eval_batch"):
        checks.positive_int(name, merged[name])
    if merged["train_size"] > data.TRAIN_SIZE or merged["assign_size"] > data.TRAIN_SIZE \
            or merged["test_size"] > data.TEST_SIZE:
        raise ValueError(f"train_size and assign_size must be at most {data.TRAIN_SIZE}, "
                         f"test_size at most {data.TEST_SIZE}")
    return merged


def _order(seed: int) -> Tensor:
    """The seed's order of the 60,000 training images."""
    return torch.randperm(data.TRAIN_SIZE, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------- running
def build(seed: int = 0, settings: dict | None = None) -> Competitive:
    """The untrained network: ``NETWORK``'s settings, random weights of ``seed``. Lesson 09."""
    return Competitive(**_settings(settings)["network"], seed=checks.integer("seed", seed))


def train(seed: int = 0, settings: dict | None = None, root: str | os.PathLike | None = None
          ) -> tuple[Competitive, float]:
    """Learn without labels: one pass over the first ``train_size`` images of the seed's order,
    ``batch_size`` at a time. Returns the network and the wall seconds it took. Lesson 09."""
    s = _settings(settings)
    images, _ = mnist_tensors(True, root)
    images = images[_order(seed)[:s["train_size"]]]
    net = build(seed, s)
    generator = torch.Generator().manual_seed(seed + 1)
    start = time.perf_counter()
    for i in range(0, len(images), s["batch_size"]):
        net.run(images[i:i + s["batch_size"]], learn=True, generator=generator)
    return net, time.perf_counter() - start


def spike_counts(net: Competitive, images: Tensor, batch: int = 1000,
                 generator: torch.Generator | None = None) -> Tensor:
    """The network's spike counts ``[N, num_neurons]`` on ``images`` [N, 784], without
    learning, ``batch`` images at a time. Lesson 09."""
    batch = checks.positive_int("batch", batch)
    return torch.cat([net.run(images[i:i + batch], learn=False, generator=generator)
                      for i in range(0, len(images), batch)])


def evaluate(net: Competitive, seed: int = 0, settings: dict | None = None,
             root: str | os.PathLike | None = None) -> dict:
    """Name the neurons from their counts on the first ``assign_size`` training images of the
    seed's order, then classify the first ``test_size`` test images by their votes. Lesson 09.

    Returns ``{"accuracy", "assignments"`` (the label of each neuron), ``"classes_assigned",
    "test_spikes_per_image", "silent_test_images", "seconds"}``.
    """
    s = _settings(settings)
    images, labels = mnist_tensors(True, root)
    index = _order(seed)[:s["assign_size"]]
    test_images, test_labels = (t[:s["test_size"]] for t in mnist_tensors(False, root))
    generator = torch.Generator().manual_seed(seed + 2)
    start = time.perf_counter()
    counts = spike_counts(net, images[index], s["eval_batch"], generator)
    assignments = assign_labels(counts, labels[index])
    test_counts = spike_counts(net, test_images, s["eval_batch"], generator)
    right = classify(test_counts, assignments) == test_labels
    return {"accuracy": right.double().mean().item(), "assignments": assignments,
            "classes_assigned": len(assignments.unique()),
            "test_spikes_per_image": round(test_counts.sum(1).mean().item(), 2),
            "silent_test_images": int((test_counts.sum(1) == 0).sum()),
            "seconds": round(time.perf_counter() - start, 1)}


def train_and_test(seed: int = 0, settings: dict | None = None,
                   root: str | os.PathLike | None = None) -> tuple[dict, Competitive]:
    """Train with ``seed``, test, and test the control (the same seed's random weights).
    Lesson 09.

    Returns ``(result, net)``: ``result`` = ``{"seed", "accuracy", "train_seconds",
    "eval_seconds", "control_accuracy", "theta_mean", "theta_max", ...}`` and the trained
    network (its ``assignments`` attribute set)."""
    s = _settings(settings)
    torch.set_num_threads(checks.positive_int("threads", s["threads"]))
    mnist_tensors(True, root), mnist_tensors(False, root)  # read before the clock starts
    net, seconds = train(seed, s, root)
    tested = evaluate(net, seed, s, root)
    control = evaluate(build(seed, s), seed, s, root)
    net.assignments = tested.pop("assignments")
    result = {"seed": seed, "accuracy": tested["accuracy"], "train_seconds": round(seconds, 1),
              "threads": s["threads"], "eval_seconds": tested["seconds"],
              "control_accuracy": control["accuracy"],
              "classes_assigned": tested["classes_assigned"],
              "test_spikes_per_image": tested["test_spikes_per_image"],
              "silent_test_images": tested["silent_test_images"],
              "control_spikes_per_image": control["test_spikes_per_image"],
              "theta_mean": round(net.theta.mean().item(), 2),
              "theta_max": round(net.theta.max().item(), 2)}
    return result, net


def run(seeds: Iterable[int] = (0, 1, 2), settings: dict | None = None,
        root: str | os.PathLike | None = None,
        done: Callable[[dict, Competitive], None] | None = None) -> list[dict]:
    """``train_and_test`` for every seed; ``done(result, net)`` is called after each. Lesson 09."""
    results = []
    for seed in seeds:
        result, net = train_and_test(checks.integer("seed", seed), settings, root)
        results.append(result)
        if done is not None:
            done(result, net)
    return results


# ---------------------------------------------------------------- reading the results
def summary(results: list[dict], key: str = "accuracy") -> dict[str, float]:
    """``{"mean", "std", "min", "max", "n"}`` of ``key`` over the runs (std 0 for one run).
    Lesson 09."""
    values = [r[key] for r in results]
    if not values:
        raise ValueError("results is empty")
    return {"mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values), "n": len(values)}


def table(results: list[dict] | dict) -> str:
    """Per seed: test accuracy after STDP, of the random-weights control, training seconds;
    then the mean +- standard deviation over the seeds and the paper's number. Lesson 09."""
    results = results["results"] if isinstance(results, dict) else results
    rows = [(tr("seed"), tr("STDP"), tr("random weights"), tr("training s"))]
    for r in results:
        rows.append((str(r["seed"]), f"{r['accuracy']:.1%}", f"{r['control_accuracy']:.1%}",
                     f"{r['train_seconds']:.0f}"))
    if results:
        a, c, t = (summary(results, k) for k in ("accuracy", "control_accuracy",
                                                  "train_seconds"))
        rows.append((tr("mean"), f"{a['mean']:.1%} +- {a['std']:.1%}",
                     f"{c['mean']:.1%} +- {c['std']:.1%}", f"{t['mean']:.0f}"))
    rows.append((tr("Diehl & Cook"), f"{PAPER:.1%}", "", ""))
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(pad(cell, w) if i == 0 else pad_left(cell, w) for i, (cell, w)
                               in enumerate(zip(row, widths, strict=True))).rstrip()
                     for row in rows)


def load(path: str | os.PathLike | None = None) -> dict:
    """The stored study (``RESULTS_FILE``): ``{"settings", "results": [run, ...], ...}``,
    checked: one run per seed of the settings. Lesson 09."""
    path = RESULTS_FILE if path is None else Path(path)
    stored = json.loads(Path(path).read_text())
    seeds = sorted(r["seed"] for r in stored["results"])
    if seeds != sorted(stored["settings"]["seeds"]):
        raise ValueError(f"{path} must hold one run per seed {stored['settings']['seeds']}, "
                         f"got seeds {seeds}")
    return stored


def save_network(net: Competitive, path: str | os.PathLike) -> None:
    """Store a trained network's weights (float16), theta and ``assignments``. Lesson 09."""
    torch.save({"weight": net.weight.half(), "theta": net.theta,
                "assignments": net.assignments.to(torch.uint8)}, path)


def pretrained(path: str | os.PathLike | None = None) -> Competitive:
    """The course's trained network (seed 0, ``WEIGHTS_FILE``), with its ``assignments``
    (the label of each neuron). Lesson 09."""
    stored = torch.load(WEIGHTS_FILE if path is None else path, weights_only=True)
    net = build(0, {"network": {"num_neurons": stored["weight"].shape[1]}})
    net.weight, net.theta = stored["weight"].float(), stored["theta"].float()
    net.assignments = stored["assignments"].long()
    return net


def run_and_save(folder: str | os.PathLike, settings: dict | None = None,
                 root: str | os.PathLike | None = None) -> dict:
    """The study (``SETTINGS``, changed by ``settings``), written to ``folder`` after every
    seed: ``RESULTS_FILE``'s name, and ``WEIGHTS_FILE``'s for seed 0, so that an interrupted
    study keeps the seeds it finished. Returns the study, as ``load`` does. Lesson 09."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    s = _settings(settings)
    study: dict = {"settings": s, "paper": PAPER, "results": []}

    def save(result: dict, net: Competitive) -> None:
        study["results"].append(result)
        study["date"] = datetime.date.today().isoformat()
        study["made_by"] = (f"snnlab.course.experiments.lesson09 (torch threads: "
                            f"{s['threads']})")
        (folder / RESULTS_FILE.name).write_text(json.dumps(study, indent=1) + "\n")
        if result["seed"] == 0:
            save_network(net, folder / WEIGHTS_FILE.name)
        print(f"seed {result['seed']}: accuracy {result['accuracy']:.1%} (random weights "
              f"{result['control_accuracy']:.1%}), training {result['train_seconds']:.0f} s",
              flush=True)

    run(s["seeds"], s, root, done=save)
    return study


def main(argv: list[str] | None = None) -> int:
    """Run the study with ``SETTINGS`` and write it (after every seed): ``RESULTS_FILE``, and
    ``WEIGHTS_FILE`` for seed 0. Arguments: an output folder instead of the checkpoints."""
    argv = sys.argv[1:] if argv is None else argv
    print(table(run_and_save(Path(argv[0]) if argv else CHECKPOINTS)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
