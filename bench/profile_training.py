"""Where the training time goes: one step of each lesson network split into its parts, and one
epoch end to end (data included), written to bench/results.md.

One step is timed part by part, as ``training.fit`` runs it: fetching the batch, the forward
pass, the loss, the backward pass, fit's guard against NaN (the gradients checked and the
weights kept before the step, the weights checked after it), the optimizer step. Each part
is the median of ``--steps`` steps after two warm-up steps. Then ``torch.profiler`` names the
operators that take most of a step. Lessons 08-10 train with their own loops (no guard),
lesson 09 without gradients: one learning batch of its STDP network.

The epoch: ``training.fit`` over one epoch of the recipe (``--epoch-fraction`` of it for the
event networks, whose epochs take minutes), with the time spent fetching batches counted
apart, then the test pass over the full test set.

    python bench/profile_training.py [--steps 7] [--no-epochs] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from sections import replace_section
from torch.profiler import ProfilerActivity, profile

from snnlab import config, data, training
from snnlab.course import recipes
from snnlab.course.experiments import lesson08, lesson09, lesson10

TITLE = "Where the training time goes"
PARTS = ("data", "forward", "loss", "backward", "guard", "optimizer")
RECIPES = ("fc", "single", "csnn", "sae", "order", "ecsnn")


def _recipe_step(name: str) -> tuple[Callable[[], dict[str, float]], Callable[[], None]]:
    """One step of recipe ``name`` as ``training.fit`` takes it, timed by part; and the same
    step untimed (for the profiler)."""
    recipe = recipes.RECIPES[name]
    config.seed_everything(0)
    model = recipes.build_model(name)
    make = data.loaders if recipe.loaders is None else recipe.loaders
    loader, _ = make(recipe.batch_size, size=recipe.image_size, subset=2560)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    guard = training._StepGuard(model, optimizer)  # fit's own guard
    batches = iter(())
    model.train()

    def fetch() -> tuple[torch.Tensor, torch.Tensor]:
        nonlocal batches
        try:
            return next(batches)
        except StopIteration:
            batches = iter(loader)
            return next(batches)

    def step(clock: Callable[[str], None] = lambda part: None) -> None:
        images, labels = fetch()
        clock("data")
        spikes, membrane = model(images)
        clock("forward")
        loss = recipe.loss(spikes, membrane, labels if recipe.metric == "accuracy" else images)
        clock("loss")
        optimizer.zero_grad()
        loss.backward()
        clock("backward")
        guard.check_gradients(loss)
        clock("guard")
        optimizer.step()
        clock("optimizer")
        guard.check_step()
        clock("guard")

    return _timed(step), step


def _plain_step(forward: Callable[[], torch.Tensor], optimizer: torch.optim.Optimizer | None
                ) -> tuple[Callable[[], dict[str, float]], Callable[[], None]]:
    """A step of a lesson's own loop: ``forward`` returns the loss (None: no gradients)."""
    def step(clock: Callable[[str], None] = lambda part: None) -> None:
        loss = forward(clock)
        if optimizer is None:
            return
        optimizer.zero_grad()
        loss.backward()
        clock("backward")
        optimizer.step()
        clock("optimizer")
    return _timed(step), step


def _timed(step: Callable) -> Callable[[], dict[str, float]]:
    def run() -> dict[str, float]:
        parts = dict.fromkeys(PARTS, 0.0)
        last = time.perf_counter()

        def clock(part: str) -> None:
            nonlocal last
            now = time.perf_counter()
            parts[part] += now - last
            last = now
        step(clock)
        return parts
    return run


def _gap_step() -> tuple[Callable, Callable]:
    x, y = lesson08.gap_data(True, 1280)
    model = lesson08.build("alif")
    optimizer = torch.optim.Adam(model.parameters(), lr=lesson08.SETTINGS["lr"])
    index = torch.arange(lesson08.SETTINGS["batch_size"])

    def forward(clock: Callable[[str], None]) -> torch.Tensor:
        inputs, labels = x[:, index], y[index]
        clock("data")
        logits, _ = model(inputs, 100)
        clock("forward")
        loss = F.cross_entropy(logits, labels)
        clock("loss")
        return loss
    return _plain_step(forward, optimizer)


def _stdp_step() -> tuple[Callable, Callable]:
    images, _ = lesson09.mnist_tensors(True)
    net = lesson09.build(0)
    generator = torch.Generator().manual_seed(1)
    size = lesson09.SETTINGS["batch_size"]

    def forward(clock: Callable[[str], None]) -> None:
        batch = images[:size]
        clock("data")
        net.run(batch, learn=True, generator=generator)
        clock("forward")  # the whole learning step: run T steps, then the STDP update
    return _plain_step(forward, None)


def _ann_step() -> tuple[Callable, Callable]:
    images, labels = lesson10.mnist_tensors(True)
    config.seed_everything(0)
    model = lesson10.conversion.ConvNet().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lesson10.SETTINGS["lr"])
    index = torch.arange(lesson10.SETTINGS["batch_size"])

    def forward(clock: Callable[[str], None]) -> torch.Tensor:
        x, y = images[index], labels[index]
        clock("data")
        logits = model(x)
        clock("forward")
        loss = F.cross_entropy(logits, y)
        clock("loss")
        return loss
    return _plain_step(forward, optimizer)


NETWORKS: dict[str, Callable[[], tuple[Callable, Callable]]] = {
    **{name: (lambda n=name: _recipe_step(n)) for name in RECIPES},
    "gap (08, ALIF, G = 100)": _gap_step,
    "stdp (09, one batch of 100)": _stdp_step,
    "ann (10, ReLU ConvNet)": _ann_step,
}


def step_rows(steps: int) -> list[str]:
    rows = []
    for name, make in NETWORKS.items():
        timed, plain = make()
        for _ in range(2):
            timed()
        runs = [timed() for _ in range(steps)]
        parts = {part: statistics.median(run[part] for run in runs) for part in PARTS}
        total = statistics.median(sum(run.values()) for run in runs)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            plain()
        top = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
        spent = sum(e.self_cpu_time_total for e in top) or 1.0
        names = ", ".join(f"{e.key} {100 * e.self_cpu_time_total / spent:.0f}%"
                          for e in top[:4])
        cells = " | ".join(f"{1000 * parts[p]:.1f}" if parts[p] else "-" for p in PARTS)
        rows.append(f"| {name} | {1000 * total:.1f} | {cells} | {names} |")
        print(rows[-1], flush=True)
    return rows


class _Fetching:
    """The batches of ``loader``, up to ``limit`` of them, with the time spent fetching them."""

    def __init__(self, loader: object, limit: int) -> None:
        self.loader, self.limit, self.seconds = loader, limit, 0.0

    def __len__(self) -> int:
        return self.limit

    def __iter__(self) -> Iterator:
        batches = iter(self.loader)
        for _ in range(self.limit):
            start = time.perf_counter()
            batch = next(batches)
            self.seconds += time.perf_counter() - start
            yield batch


def epoch_rows(fraction: float) -> list[str]:
    rows = []
    for name in RECIPES:
        recipe = recipes.RECIPES[name]
        config.seed_everything(0)
        model = recipes.build_model(name)
        make = data.loaders if recipe.loaders is None else recipe.loaders
        loader, test_loader = make(recipe.batch_size, size=recipe.image_size)
        share = 1.0 if recipe.loaders is None else fraction
        batches = _Fetching(loader, max(1, round(share * len(loader))))
        optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
        start = time.perf_counter()
        training.fit(model, batches, recipe.loss, optimizer, 1, None, metric=recipe.metric,
                     progress=False)
        train = (time.perf_counter() - start) / share
        fetch = batches.seconds / share
        start = time.perf_counter()
        with torch.no_grad():
            training.evaluate(model, test_loader, recipe.loss, metric=recipe.metric)
        test = time.perf_counter() - start
        measured = "one epoch" if share == 1.0 else f"{batches.limit} batches, scaled"
        rows.append(f"| {name} | {len(loader)} x {recipe.batch_size} | {measured} | "
                    f"{train:.1f} | {fetch:.1f} ({100 * fetch / train:.0f}%) | "
                    f"{train - fetch:.1f} | {test:.1f} |")
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=7, help="timed steps per network")
    parser.add_argument("--epoch-fraction", type=float, default=0.1,
                        help="share of an epoch measured for the event networks (default 0.1)")
    parser.add_argument("--no-epochs", action="store_true", help="steps only")
    parser.add_argument("--no-write", action="store_true", help="do not touch results.md")
    args = parser.parse_args()
    started = datetime.datetime.now(datetime.UTC)
    steps = step_rows(args.steps)
    epochs = [] if args.no_epochs else epoch_rows(args.epoch_fraction)
    lines = [
        f"## {TITLE}: one step and one epoch of each lesson network "
        f"({started:%Y-%m-%d %H:%M} UTC)", "",
        f"`python bench/profile_training.py`: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}, load average "
        f"{os.getloadavg()[0]:.1f} at the end.", "",
        f"One training step in milliseconds, the median of {args.steps}, by part (`guard`: "
        "`training.fit`'s check for NaN and its copy of the last good weights), and the "
        "operators with the most of the step's CPU time (`torch.profiler`, self time):", "",
        "| network | step ms | " + " | ".join(PARTS) + " | where (profiler) |",
        "|---|---:|" + "---:|" * len(PARTS) + "---|", *steps, ""]
    if epochs:
        lines += [
            "One epoch of the recipe through `training.fit`, seconds (the event networks: a "
            "tenth of an epoch, scaled up), with the time spent fetching batches (for the "
            "event networks that is making their recordings), and the test pass over the "
            "whole test set:", "",
            "| recipe | batches | measured | epoch s | fetching data s | training s | "
            "test pass s |", "|---|---|---|---:|---:|---:|---:|", *epochs, ""]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        replace_section(TITLE, text)


if __name__ == "__main__":
    main()
