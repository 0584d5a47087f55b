"""Time to the number: seconds of training until each lesson network reaches the number of
the material it replaces, on this CPU, and the curve on the way (bench/results.md).

The networks of lessons 04-06 train exactly as the lessons train them with ``TRAIN = True``
(and ``python -m snnlab train <recipe>``): the recipe of ``snnlab.course.recipes``, through
``training.fit``, all of it. Along the way the whole MNIST test set is scored at ``--points``
moments, with the clock stopped, so the curve costs no training time; the time to the number
is the first scored moment at or past it (an upper bound), and the time at the end is what
the lesson's ``TRAIN = True`` waits for that network (without its test passes).

Lessons 07-10's networks train with their lesson's own function on one thread, as their
studies ran, and are scored once, at the end; their number is the lesson's headline, the mean
of its stored three-seed study, and a run counts when it reaches the study's lowest seed.

Each network runs with seeds 0, 1 and 2, one after another; the table gives the median and
the range. Run it on a quiet machine:

    python bench/time_to_number.py                   # everything, about 40 minutes
    python bench/time_to_number.py fc csnn           # only these
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from sections import replace_section
from torch.utils.data import DataLoader

from snnlab import config, data, training
from snnlab.course import recipes
from snnlab.course.experiments import lesson07, lesson08, lesson09, lesson10

TITLE = "Time to the number"


@dataclass(frozen=True)
class Run:
    """A recipe of ``snnlab.course.recipes``, the number it should reach, and whose it is."""

    target: float
    source: str


RUNS = {
    "fc": Run(0.9554, "lab handout, 3 epochs"),
    "csnn": Run(0.957, "snnTorch tutorial 6, within epoch 1"),
    "sae": Run(0.05, "snnTorch autoencoder tutorial, 10 epochs"),
    "single": Run(0.925, "SpikingJelly, 100 epochs"),
}
LESSONS = ("order", "events", "gap", "stdp", "conversion")
# The other networks the lessons train with TRAIN = True, timed once (seed 0) as they run there:
# recipes.train with these settings. name: (recipe, settings, lesson)
ONCE = {
    "handout": ("fc", dict(num_hidden=512, num_steps=200, batch_size=512, loss="ce_membrane",
                           lr=5e-4, schedule="constant", epochs=3), "04"),
    "order": ("order", {}, "07"),
    "order_collapsed": ("order_collapsed", {}, "07"),
    "ecsnn": ("ecsnn", {}, "07"),
}
SEEDS = (0, 1, 2)


# ------------------------------------------------------------------ lessons 04-06: curves


class _Scored:
    """The training batches, scoring the model on the test set before batch ``k`` for each k
    of ``marks`` (and once more at the end), with the training clock stopped meanwhile."""

    def __init__(self, loader: DataLoader, test: Callable[[], float], marks: set[int]) -> None:
        self.loader, self.test, self.marks = loader, test, marks
        self.step, self.paused, self.start = 0, 0.0, time.perf_counter()
        self.curve: list[tuple[int, float, float]] = []  # (steps, seconds, number)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator:
        for batch in self.loader:
            if self.step in self.marks:
                self.score()
            yield batch
            self.step += 1

    def score(self) -> None:
        stopped = time.perf_counter()
        number = self.test()
        self.curve.append((self.step, stopped - self.start - self.paused, number))
        self.paused += time.perf_counter() - stopped


def curve(name: str, seed: int, points: int) -> list[tuple[int, float, float]]:
    """Train recipe ``name`` with ``seed`` as ``recipes.train`` does; the test number at
    ``points`` moments."""
    recipe = recipes.RECIPES[name]
    config.seed_everything(seed)
    model = recipes.build_model(name)
    train_loader, test_loader = data.loaders(recipe.batch_size, size=recipe.image_size,
                                             seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    total = recipe.epochs * len(train_loader)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=recipe.lr,
                                                    total_steps=total, pct_start=0.3)

    def test() -> float:
        with torch.no_grad():
            result = training.evaluate(model, test_loader, recipe.loss, metric=recipe.metric)
        model.train()
        return result[recipe.metric]

    marks = {round(total * k / points) for k in range(1, points)}
    scored = _Scored(train_loader, test, marks)
    history = training.fit(model, scored, recipe.loss, optimizer, recipe.epochs, None,
                           metric=recipe.metric, scheduler=scheduler, progress=False)
    if history.stopped is not None:
        raise RuntimeError(f"{name} seed {seed} stopped: {history.stopped_because}")
    scored.score()
    return scored.curve


def reached(name: str, points: list[tuple[int, float, float]]) -> float | None:
    """Seconds of training at the first scored moment at or past the target, or None."""
    run, metric = RUNS[name], recipes.RECIPES[name].metric
    for _, seconds, number in points:
        if (number >= run.target) if metric == "accuracy" else (number <= run.target):
            return seconds
    return None


# ------------------------------------------------------------------ lessons 07-10: one score


def once_row(name: str) -> str:
    """``ONCE[name]`` trained with seed 0 through ``recipes.train``: its wall time, test
    passes included, and its test number."""
    recipe, settings, lesson = ONCE[name]
    start = time.perf_counter()
    _, history = recipes.train(recipe, seed=0, progress=False, **settings)
    seconds = time.perf_counter() - start
    metric = recipes.RECIPES[recipe].metric
    changed = ", ".join(f"{k}={v}" for k, v in settings.items()) or "the recipe's settings"
    return (f"| {name} ({lesson}) | {recipe}: {changed} | {seconds / 60:.1f} min | "
            f"{_number(metric, history.final()[f'test_{metric}'])} |")


def lesson_run(name: str, seed: int) -> tuple[str, float, float]:
    """Train lesson ``name``'s headline network with ``seed`` with its lesson's own function;
    ``(what, seconds of training, test accuracy)``."""
    if name in ("order", "events"):
        task, condition = ("order", "recurrent") if name == "order" else ("digit", "ecsnn")
        lesson07._batches(task, seed, lesson07.SETTINGS, None)  # the recordings, made first
        start = time.perf_counter()
        result = lesson07.run(task, [condition], seeds=[seed])[condition][0]
        return (f"lesson 07: {condition} on the {task} task (training and its test)",
                time.perf_counter() - start, result["accuracy"])
    if name == "gap":
        result = lesson08.train_and_test("alif", 100, seed)
        return "lesson 08: ALIF, gap G = 100", result["seconds"], result["accuracy"]
    if name == "stdp":
        result, _ = lesson09.train_and_test(seed)
        return "lesson 09: STDP, 400 neurons", result["train_seconds"], result["accuracy"]
    x_train, y_train = lesson10.mnist_tensors(True)
    x_test, y_test = lesson10.mnist_tensors(False)
    start = time.perf_counter()
    ann = lesson10.train(x_train, y_train, seed)
    seconds = time.perf_counter() - start
    balance = lesson10._balance_images(x_train, seed, lesson10.SETTINGS)  # the study's choice
    snn = lesson10.convert_and_run(ann, "p99.9", balance, x_test, y_test,
                                   {"largest_steps": 32})
    return "lesson 10: converted CSNN, p99.9, T = 32", seconds, snn["accuracy"][-1]


def lesson_target(name: str) -> tuple[float, float, str]:
    """The lesson's headline (its stored study's mean), the study's lowest seed, and where it
    comes from."""
    if name in ("order", "events"):
        task, condition = ("order", "recurrent") if name == "order" else ("digit", "ecsnn")
        values = [r["accuracy"] for r in lesson07.load()["results"][task][condition]]
        source = "lesson 07's study"
    elif name == "gap":
        values = [r["accuracy"] for r in lesson08.load()["results"]
                  if r["kind"] == "alif" and r["gap"] == 100]
        source = "lesson 08's study"
    elif name == "stdp":
        values = [r["accuracy"] for r in lesson09.load()["results"]]
        source = "lesson 09's study"
    else:
        values = []
        for r in lesson10.load()["results"]:
            snn = next(s for s in r["snn"] if s["balancing"] == "p99.9")
            values.append(snn["accuracy"][snn["steps"].index(32)])
        source = "lesson 10's study"
    return statistics.mean(values), min(values), source


# ------------------------------------------------------------------ the table


def _number(metric: str, value: float) -> str:
    return f"{100 * value:.2f}%" if metric == "accuracy" else f"{value:.4f}"


def _spread(values: list[float], show: Callable[[float], str]) -> str:
    return (f"**{show(statistics.median(values))}** "
            f"({show(min(values))}-{show(max(values))})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    names = [*RUNS, *LESSONS, *(f"once:{n}" for n in ONCE)]
    parser.add_argument("names", nargs="*", help=f"which, of {names} (default: all)")
    parser.add_argument("--points", type=int, default=12,
                        help="moments scored along each curve (default: 12)")
    parser.add_argument("--no-write", action="store_true", help="do not touch results.md")
    args = parser.parse_args()
    chosen = args.names or names
    if unknown := set(chosen) - set(names):
        parser.error(f"unknown {sorted(unknown)}; choose from {names}")
    started = datetime.datetime.now(datetime.UTC)

    rows, curves = [], []
    for name in [n for n in chosen if n in RUNS]:
        run, recipe = RUNS[name], recipes.RECIPES[name]
        metric = recipe.metric
        runs = [curve(name, seed, args.points) for seed in SEEDS]
        times = [reached(name, points) for points in runs]
        finals = [points[-1][2] for points in runs]
        total = [points[-1][1] for points in runs]
        met = [t for t in times if t is not None]
        show_time = f"{statistics.median(met):.0f} s ({min(met):.0f}-{max(met):.0f})" if len(
            met) == len(times) else f"reached in {len(met)} of {len(times)} seeds"
        ok = len(met) == len(times) and statistics.median(met) <= 60
        sense = ">=" if metric == "accuracy" else "<="
        settings = f"{recipe.epochs} x 60,000 images, peak lr {recipe.lr:g}"
        rows.append(f"| {name} | {settings} | {sense} "
                    f"{_number(metric, run.target)} ({run.source}) | {show_time} | "
                    f"{_spread(finals, lambda v, m=metric: _number(m, v))} after "
                    f"{statistics.median(total):.0f} s | {'yes' if ok else 'NO'} |")
        print(rows[-1], flush=True)
        curves.append((name, metric, runs))
    threads = torch.get_num_threads()
    for name in [n for n in chosen if n in LESSONS]:
        torch.set_num_threads(1)  # as each lesson's study ran, so its numbers reproduce
        results = [lesson_run(name, seed) for seed in SEEDS]
        torch.set_num_threads(threads)
        mean, lowest, source = lesson_target(name)
        seconds, numbers = [r[1] for r in results], [r[2] for r in results]
        ok = statistics.median(numbers) >= lowest and statistics.median(seconds) <= 60
        rows.append(f"| {name} | {results[0][0]} | {_number('accuracy', mean)} ({source}; its "
                    f"lowest seed {_number('accuracy', lowest)}) | "
                    f"{statistics.median(seconds):.0f} s ({min(seconds):.0f}-"
                    f"{max(seconds):.0f}), to the end | "
                    f"{_spread(numbers, lambda v: _number('accuracy', v))} | "
                    f"{'yes' if ok else 'NO'} |")
        print(rows[-1], flush=True)

    once = []
    for name in [n for n in chosen if n.startswith("once:")]:
        once.append(once_row(name.removeprefix("once:")))
        print(once[-1], flush=True)

    load = os.getloadavg()[0]
    lines = [
        f"## {TITLE}: seconds of training to the source's number "
        f"({started:%Y-%m-%d %H:%M} UTC)", "",
        f"`python bench/time_to_number.py`: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{torch.get_num_threads()} threads (lessons 07-10: 1, as their studies ran), "
        f"torch {torch.__version__}, load average "
        f"{load:.1f} at the end; seeds {', '.join(map(str, SEEDS))} one after another; the "
        "full MNIST test set (10,000 images) scored with the training clock stopped. Median "
        "(min-max) over the seeds; the target is met when the median reaches the number "
        "within 60 s.", "",
        "| network | settings | number | time to it | at the end | met |",
        "|---|---|---|---|---|---|", *rows, ""]
    if once:
        lines += ["The lessons' other `TRAIN = True` networks, trained once (seed 0) through "
                  "`recipes.train` as the lessons train them; wall time with the test pass "
                  "after each epoch:", "",
                  "| network (lesson) | settings | wall time | test number |", "|---|---|---|---|",
                  *once, ""]
    for name, metric, runs in curves:
        lines += [f"`{name}` on the way (seconds of training: test {metric}):", "",
                  "| seed | curve |", "|---|---|"]
        lines += [f"| {seed} | " + ", ".join(f"{s:.0f} s {_number(metric, v)}"
                                              for _, s, v in points) + " |"
                  for seed, points in zip(SEEDS, runs, strict=True)]
        lines.append("")
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        replace_section(TITLE, text)


if __name__ == "__main__":
    main()
