"""Lesson 08's experiment: a task that needs memory longer than a LIF's leak.

Each sample is lesson 07's event digit, then a blank gap, then a question::

    steps 0 .. 7             the digit on a saccade (``events.saccade_events``, 8 steps),
                             2 x 34 x 34 pooled 2 x 2 to 2 x 17 x 17 = 578 inputs (an input is
                             1 where any of its 4 pixels sent an event)
    steps 8 .. 8+G-1         nothing: G blank steps (the gap)
    steps 8+G .. 8+G+3       the cue: one extra input channel (579th) is 1, the same for every
                             sample; it carries no information about the digit

The answer (which digit, 10 classes) is read ONLY from the hidden spikes during the cue:

    logits = R mean_{t in cue} S[t] + c

so whatever the network knows about the digit at the cue must sit in the hidden neurons'
state, kept across the G silent steps. One feed-forward hidden layer of 128 neurons
(``W``: 579 -> 128, no recurrence) and the linear readout; only the neuron differs:

- ``"lif"``: ``LIF`` with the course's fixed beta = 0.9 (membrane time constant about
  9.5 steps: after G steps an input is worth beta^G of itself, 0.9^50 = 0.5%).
- ``"lif_learned"``: ``LIF`` with one trainable beta per neuron (clamped to [0, 1]),
  initialised by ``random_betas`` with time constants spread over 2 - 50 steps.
- ``"synaptic"``: ``Synaptic`` with alpha = 0.8, beta = 0.9 (the current smooths the input
  but decays even faster than the membrane: it adds little memory).
- ``"alif"``: ``ALIF`` with beta = 0.9, theta0 = 1, rho = exp(-1/100), b = 1. rho gives the
  adaptation a time constant of 100 steps, as long as the longest gap, so the trace the digit's
  spikes leave is still about e^(-G/100) of itself at the cue; b = 1 makes one spike raise the
  threshold by a whole theta0, so at the cue (which drives all neurons alike) the neurons that
  fired for the digit are held back: the memory is a pattern of raised thresholds.

Chance is 10% (the cue is the same for every digit); the accuracy at G = 0 is the ceiling
of the task (no gap to bridge). Training: Adam, lr 2e-3, batches of 128, ``SETTINGS``'s
epochs over a class-balanced training subset; the same test recordings for every run.

``run(kinds, gaps, seeds)`` trains and tests; ``main`` writes ``RESULTS_FILE``, which
``load()`` reads back (``TRAIN = False`` in the lesson); ``table`` prints accuracy against G::

    python -m snnlab.course.experiments.lesson08    # about 5 CPU-minutes per seed, 1 thread

``run_betas`` asks the lesson's design question (which fixed beta does G = 50 need?), and
``pretrained_alif`` loads the one ALIF network whose thresholds the lesson draws::

    python -m snnlab.course.experiments.lesson08 --betas   # BETAS_FILE, 4 CPU-minutes
    python -m snnlab.course.experiments.lesson08 --alif    # ALIF_FILE, 30 CPU-seconds
"""

from __future__ import annotations

import datetime
import json
import math
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

from snnlab import checks, config, data, events
from snnlab.adaptive import ALIF
from snnlab.i18n import pad, pad_left, tr, width
from snnlab.neurons import LIF, random_betas
from snnlab.synaptic import Synaptic

__all__ = ["SETTINGS", "KINDS", "DIGIT_STEPS", "CUE_STEPS", "CHANCE", "RESULTS_FILE",
           "BETAS", "BETAS_GAP", "BETAS_FILE", "ALIF_FILE", "gap_data", "gap_inputs", "GapNet",
           "build", "train", "test", "train_and_test", "run", "summary", "names", "table", "load",
           "run_and_save", "run_betas", "betas_table", "load_betas", "pretrained_alif", "main"]

DIGIT_STEPS, CUE_STEPS = 8, 4
NUM_INPUTS = 2 * 17 * 17  # the pooled events; the cue channel is one more
CHANCE = 0.1
KINDS = ("lif", "lif_learned", "synaptic", "alif")

# What every run of the study uses.
SETTINGS: dict = {"train_size": 10_000, "test_size": 2_000, "epochs": 5, "batch_size": 128,
                  "lr": 2e-3, "num_hidden": 128, "beta": 0.9, "tau_range": [2.0, 50.0],
                  "alpha": 0.8, "rho": math.exp(-1 / 100), "b": 1.0,
                  "gaps": [0, 10, 25, 50, 100], "seeds": [0, 1, 2]}

CHECKPOINTS = Path(str(resources.files("snnlab.course") / "checkpoints"))
RESULTS_FILE = CHECKPOINTS / "lesson08_gap.json"
# The design question: a LIF with one fixed beta for all neurons, at G = 50, beta by beta
BETAS, BETAS_GAP = (0.9, 0.95, 0.98, 0.99, 1.0), 50
BETAS_FILE = CHECKPOINTS / "lesson08_betas.json"
# One trained ALIF network (seed 0, G = 50): its thresholds during a sample
ALIF_FILE = CHECKPOINTS / "lesson08_alif_g50.pt"


# ---------------------------------------------------------------- the data
def gap_data(train: bool, size: int, seed: int = 0, root: str | os.PathLike | None = None,
             chunk: int = 1000) -> tuple[Tensor, Tensor]:
    """The digits' events ``[8, size, 578]`` (0/1 bytes) and labels ``[size]``. Lesson 08.

    ``size`` class-balanced MNIST digits (``data.mnist(train, subset=size, seed=seed)``), each
    recorded on a saccade with the angles of ``seed`` (made ``chunk`` digits at a time: the
    same numbers as one call), pooled 2 x 2. The gap and the cue are added by ``gap_inputs``.
    """
    size = checks.positive_int("size", size)
    chunk = checks.positive_int("chunk", chunk)
    digits = data.mnist(checks.boolean("train", train), root=root, subset=size, seed=seed)
    base, index = events._mnist_and_indices(digits)
    images, labels = base.images[index], base.targets[index]
    angles = events.saccade_angles(len(images), seed)
    parts = []
    for start in range(0, len(images), chunk):
        recorded = events.saccade_events(images[start:start + chunk], DIGIT_STEPS,
                                         angle=angles[start:start + chunk])
        pooled = F.avg_pool2d(recorded.flatten(0, 1), 2).unflatten(0, recorded.shape[:2]) > 0
        parts.append(pooled.flatten(2).to(torch.uint8))
    return torch.cat(parts, 1), labels.long()


def _gap(gap: object) -> int:
    gap = checks.integer("gap", gap)
    if gap < 0:
        raise ValueError(f"gap must be >= 0 (blank steps), got {gap}")
    return gap


def gap_inputs(x: Tensor, gap: int) -> Tensor:
    """The whole sample ``[8 + gap + 4, B, 579]`` (float) from a digit's events ``[8, B, 578]``:
    the events, ``gap`` blank steps, then 4 steps where only the cue channel (the last) is 1.
    Lesson 08."""
    checks.tensor("x", x, floating=False)
    if x.dim() != 3 or len(x) != DIGIT_STEPS or x.shape[2] != NUM_INPUTS:
        raise ValueError(f"x must be [{DIGIT_STEPS}, batch, {NUM_INPUTS}] (gap_data's events), "
                         f"got shape {tuple(x.shape)}")
    gap = _gap(gap)
    sample = x.new_zeros((DIGIT_STEPS + gap + CUE_STEPS, x.shape[1], NUM_INPUTS + 1),
                         dtype=torch.float32)
    sample[:DIGIT_STEPS, :, :NUM_INPUTS] = x
    sample[DIGIT_STEPS + gap:, :, NUM_INPUTS] = 1.0
    return sample


# ---------------------------------------------------------------- the networks
class GapNet(nn.Module):
    """579 inputs -> 128 hidden neurons of one kind -> 10 outputs read during the cue. Lesson 08.

        I[t] = W x[t] + b,   S = neuron.sequence(I),   logits = R mean_{cue} S[t] + c

    ``forward(x, gap)``: ``x`` the digit's events ``[8, B, 578]``; returns ``(logits [B, 10],
    spikes [8 + gap + 4, B, 128])``.
    """

    def __init__(self, neuron: nn.Module, num_hidden: int = 128) -> None:
        super().__init__()
        self.fc = nn.Linear(NUM_INPUTS + 1, checks.positive_int("num_hidden", num_hidden))
        self.neuron = neuron
        self.readout = nn.Linear(num_hidden, 10)

    def forward(self, x: Tensor, gap: int) -> tuple[Tensor, Tensor]:
        spikes = self.neuron.sequence(self.fc(gap_inputs(x, gap)))[0]
        return self.readout(spikes[DIGIT_STEPS + gap:].mean(0)), spikes


def build(kind: str, settings: dict | None = None, seed: int = 0) -> GapNet:
    """The untrained network of ``kind`` (module docstring); ``seed`` draws lif_learned's
    initial betas. Lesson 08."""
    checks.choice("kind", kind, KINDS)
    s = {**SETTINGS, **(settings or {})}
    n = s["num_hidden"]
    if kind == "lif":
        neuron: nn.Module = LIF(beta=s["beta"])
    elif kind == "lif_learned":
        betas = random_betas(n, *s["tau_range"], generator=torch.Generator().manual_seed(seed))
        neuron = LIF(beta=betas, learn_beta=True)
    elif kind == "synaptic":
        neuron = Synaptic(alpha=s["alpha"], beta=s["beta"])
    else:
        neuron = ALIF(beta=s["beta"], rho=s["rho"], b=s["b"])
    return GapNet(neuron, n)


# ---------------------------------------------------------------- running
_CACHE: dict[tuple, tuple[Tensor, Tensor]] = {}


def _data(train: bool, seed: int, settings: dict, root: str | os.PathLike | None
          ) -> tuple[Tensor, Tensor]:
    """The training digits of ``seed``, or the test digits (always seed 0); the last of each
    kept for the next run."""
    size = settings["train_size" if train else "test_size"]
    key = (train, seed if train else 0, size, str(root))
    if key not in _CACHE:
        for old in [k for k in _CACHE if k[0] == train]:
            del _CACHE[old]
        _CACHE[key] = gap_data(train, size, key[1], root)
    return _CACHE[key]


def train(kind: str, gap: int, seed: int = 0, settings: dict | None = None,
          root: str | os.PathLike | None = None) -> GapNet:
    """Train a network of ``kind`` on the task with gap ``gap`` (``SETTINGS``, changed by
    ``settings``: for example ``{"beta": 0.99}``). Lesson 08."""
    checks.choice("kind", kind, KINDS)
    gap = _gap(gap)
    settings = {**SETTINGS, **(settings or {})}
    x_train, y_train = _data(True, seed, settings, root)
    config.seed_everything(seed)
    model = build(kind, settings, seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"])
    batch = settings["batch_size"]
    model.train()
    for epoch in range(settings["epochs"]):
        order = torch.randperm(len(y_train),
                               generator=torch.Generator().manual_seed(seed * 100 + epoch))
        for start in range(0, len(order), batch):
            index = order[start:start + batch]
            logits, _ = model(x_train[:, index], gap)
            loss = F.cross_entropy(logits, y_train[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def test(model: GapNet, gap: int, settings: dict | None = None,
         root: str | os.PathLike | None = None) -> dict:
    """``{"accuracy", "spikes_per_sample"}`` of ``model`` on the test digits with gap ``gap``
    (hidden spikes per sample over all steps). Lesson 08."""
    settings = {**SETTINGS, **(settings or {})}
    x_test, y_test = _data(False, 0, settings, root)
    right, spikes = 0, 0.0
    with torch.no_grad():
        for start in range(0, len(y_test), 500):
            logits, spk = model(x_test[:, start:start + 500], _gap(gap))
            right += int((logits.argmax(1) == y_test[start:start + 500]).sum())
            spikes += float(spk.sum())
    return {"accuracy": right / len(y_test), "spikes_per_sample": round(spikes / len(y_test), 1)}


def train_and_test(kind: str, gap: int, seed: int = 0, settings: dict | None = None,
                   root: str | os.PathLike | None = None) -> dict:
    """Train ``kind`` on the task with gap ``gap`` and test it. Lesson 08.

    Returns ``{"kind", "gap", "seed", "accuracy", "spikes_per_sample"`` (hidden spikes per test
    sample over all steps), ``"cpu_seconds", "seconds"`` (training and testing; CPU of this
    process, and wall), and for lif_learned ``"betas"`` (the 128 trained betas, clamped)}.
    """
    _data(True, seed, {**SETTINGS, **(settings or {})}, root)  # made before the clock starts
    _data(False, 0, {**SETTINGS, **(settings or {})}, root)
    cpu, wall = time.process_time(), time.perf_counter()
    model = train(kind, gap, seed, settings, root)
    result = {"kind": kind, "gap": gap, "seed": seed, **test(model, gap, settings, root),
              "cpu_seconds": round(time.process_time() - cpu, 1),
              "seconds": round(time.perf_counter() - wall, 1)}
    if kind == "lif_learned":
        result["betas"] = [round(b, 5) for b in model.neuron.beta.detach().clamp(0, 1).tolist()]
    return result


def run(kinds: Iterable[str] = KINDS, gaps: Iterable[int] = (0, 10, 25, 50, 100),
        seeds: Iterable[int] = (0, 1, 2), settings: dict | None = None,
        root: str | os.PathLike | None = None,
        done: Callable[[dict], None] | None = None) -> list[dict]:
    """Every kind at every gap with every seed (seed by seed: each seed's data made once);
    the list of ``train_and_test`` results. ``done`` is called after each run. Lesson 08."""
    kinds, gaps, seeds = list(kinds), list(gaps), list(seeds)
    for kind in kinds:
        checks.choice("kind", kind, KINDS)
    results = []
    for seed in seeds:
        for gap in gaps:
            for kind in kinds:
                result = train_and_test(kind, gap, seed, settings, root)
                results.append(result)
                if done is not None:
                    done(result)
    return results


# ---------------------------------------------------------------- reading the results
def summary(results: list[dict], kind: str, gap: int, key: str = "accuracy"
            ) -> dict[str, float] | None:
    """``{"mean", "min", "max", "n"}`` of ``key`` over the seeds of one kind and gap, None if
    there is no run. Lesson 08."""
    values = [r[key] for r in results if r["kind"] == kind and r["gap"] == gap]
    if not values:
        return None
    return {"mean": statistics.fmean(values), "min": min(values), "max": max(values),
            "n": len(values)}


def names() -> dict[str, str]:
    """``{kind: the neuron's name}`` in the course's language, for tables and legends."""
    return {"lif": tr("LIF, fixed beta"), "lif_learned": tr("LIF, learned beta per neuron"),
            "synaptic": tr("synaptic (alpha, beta)"), "alif": tr("adaptive threshold (ALIF)")}


def table(results: list[dict] | dict, key: str = "accuracy") -> str:
    """Test accuracy (or ``key="spikes_per_sample"``) against the gap G: per kind and G the
    mean over seeds and min-max, with the chance line. Lesson 08."""
    results = results["results"] if isinstance(results, dict) else results
    gaps = sorted({r["gap"] for r in results})
    kinds = [k for k in KINDS if any(r["kind"] == k for r in results)]
    percent = key == "accuracy"
    rows = [(tr("neuron"), *(f"G = {g}" for g in gaps))]
    named = names()
    for kind in kinds:
        cells = []
        for gap in gaps:
            s = summary(results, kind, gap, key)
            if s is None:
                cells.append("-")
            elif percent:
                cells.append(f"{s['mean']:.1%} ({s['min']:.1%}-{s['max']:.1%}, n={s['n']})")
            else:
                cells.append(f"{s['mean']:.0f} ({s['min']:.0f}-{s['max']:.0f}, n={s['n']})")
        rows.append((named[kind], *cells))
    if percent:
        rows.append((tr("chance"), *(f"{CHANCE:.1%}" for _ in gaps)))
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(pad(cell, w) if i == 0 else pad_left(cell, w) for i, (cell, w)
                               in enumerate(zip(row, widths, strict=True))).rstrip()
                     for row in rows)


def load(path: str | os.PathLike | None = None) -> dict:
    """The stored study (``RESULTS_FILE``): ``{"settings", "results": [run, ...], ...}``,
    checked: one run per kind, gap and seed of the settings. Lesson 08."""
    path = RESULTS_FILE if path is None else Path(path)
    stored = json.loads(Path(path).read_text())
    settings = stored["settings"]
    for kind in KINDS:
        for gap in settings["gaps"]:
            seeds = sorted(r["seed"] for r in stored["results"]
                           if r["kind"] == kind and r["gap"] == gap)
            if seeds != sorted(settings["seeds"]):
                raise ValueError(f"{path}: {kind} at G = {gap} must hold one run per seed "
                                 f"{settings['seeds']}, got seeds {seeds}")
    return stored


def run_betas(betas: Iterable[float] = BETAS, gap: int = BETAS_GAP,
              seeds: Iterable[int] = (0, 1, 2), settings: dict | None = None,
              root: str | os.PathLike | None = None) -> list[dict]:
    """``train_and_test("lif", gap, seed)`` with each fixed ``beta``; each result also holds its
    ``"beta"``. Lesson 08."""
    results = []
    for seed in seeds:
        for beta in betas:
            beta = checks.number("beta", beta, "in [0, 1]", lambda v: 0 <= v <= 1)
            result = train_and_test("lif", gap, seed, {**(settings or {}), "beta": beta}, root)
            results.append({**result, "beta": beta})
    return results


def betas_table(results: list[dict]) -> str:
    """Test accuracy of the fixed-beta LIF against its beta (and tau = -1/ln beta): the mean
    over seeds and min-max. Lesson 08."""
    rows = [(tr("beta"), tr("tau (steps)"), tr("kept after G"), tr("test accuracy"))]
    for beta in sorted({r["beta"] for r in results}):
        values = [r["accuracy"] for r in results if r["beta"] == beta]
        gap = next(r["gap"] for r in results if r["beta"] == beta)
        tau = "inf" if beta == 1 else f"{-1 / math.log(beta):.1f}"
        rows.append((f"{beta:g}", tau, f"{beta ** gap:.1%}",
                     f"{statistics.fmean(values):.1%} ({min(values):.1%}-{max(values):.1%}, "
                     f"n={len(values)})"))
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(pad_left(cell, w) for cell, w in zip(row, widths, strict=True))
                     for row in rows)


def load_betas(path: str | os.PathLike | None = None) -> dict:
    """The stored beta study (``BETAS_FILE``): ``{"settings", "results"}``. Lesson 08."""
    return json.loads(Path(BETAS_FILE if path is None else path).read_text())


def pretrained_alif(path: str | os.PathLike | None = None) -> GapNet:
    """The course's trained ALIF network (seed 0, G = 50; ``ALIF_FILE``). Lesson 08."""
    model = build("alif")
    model.load_state_dict(torch.load(ALIF_FILE if path is None else path, weights_only=True))
    return model.eval()


def _same_training(a: dict, b: dict) -> bool:
    """Whether two settings train every run alike (they may list other gaps or seeds)."""
    return ({k: v for k, v in a.items() if k not in ("gaps", "seeds")}
            == {k: v for k, v in b.items() if k not in ("gaps", "seeds")})


def run_and_save(path: str | os.PathLike, settings: dict | None = None,
                 root: str | os.PathLike | None = None) -> dict:
    """The whole study (``SETTINGS``, changed by ``settings``), written to ``path`` after every
    run, so that nothing is lost: a rerun makes only the runs the file does not hold (with
    settings that differ only in their gaps or seeds, it keeps the runs made). Returns the
    study, as ``load`` does. Lesson 08."""
    path = Path(path)
    settings = {**SETTINGS, **(settings or {})}
    stored = json.loads(path.read_text()) if path.exists() else None
    study = {"settings": settings, "results": []}
    if stored is not None and _same_training(stored["settings"], settings):
        study = {**stored, "settings": settings}  # more gaps or seeds: keep the runs made
    have = {(r["kind"], r["gap"], r["seed"]) for r in study["results"]}
    path.parent.mkdir(parents=True, exist_ok=True)

    def save(result: dict) -> None:
        study["results"].append(result)
        study["date"] = datetime.date.today().isoformat()
        study["made_by"] = (f"snnlab.course.experiments.lesson08 (torch threads: "
                            f"{torch.get_num_threads()})")
        path.write_text(json.dumps(study, indent=1) + "\n")
        print(f"{result['kind']:12s} G = {result['gap']:3d} seed {result['seed']}: accuracy "
              f"{result['accuracy']:.1%}, {result['spikes_per_sample']:.0f} spikes/sample "
              f"({result['cpu_seconds']:.0f} CPU s)", flush=True)

    for seed in settings["seeds"]:
        for gap in settings["gaps"]:
            for kind in KINDS:
                if (kind, gap, seed) not in have:
                    save(train_and_test(kind, gap, seed, settings, root))
    study["results"] = [r for r in study["results"]
                        if r["gap"] in settings["gaps"] and r["seed"] in settings["seeds"]]
    return study


def main(argv: list[str] | None = None) -> int:
    """Run the study and write it (after every run, so nothing is lost); a rerun makes only the
    runs the file does not hold (with settings that differ only in their gaps or seeds, it keeps
    the runs made). Arguments: an output file instead of ``RESULTS_FILE``."""
    torch.set_num_threads(1)
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--betas"]:  # the design question's study
        results = run_betas()
        BETAS_FILE.write_text(json.dumps({"settings": {**SETTINGS, "gap": BETAS_GAP},
                                          "results": results}, indent=1) + "\n")
        print(betas_table(results))
        return 0
    if argv[:1] == ["--alif"]:  # the network whose thresholds the lesson draws
        model = train("alif", BETAS_GAP, seed=0)
        torch.save(model.state_dict(), ALIF_FILE)
        print(test(model, BETAS_GAP))
        return 0
    run_and_save(Path(argv[0]) if argv else RESULTS_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
