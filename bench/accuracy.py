"""Score the course's pretrained networks (``snnlab/course/checkpoints/``) on the full test
set and write their table to bench/results.md.

Each network is loaded with ``recipes.pretrained`` (the float16 weights the lessons load with
``TRAIN = False``) and scored on all 10,000 test images with ``training.evaluate``. A network
with random input (the single layer's Poisson spikes) is scored with three seeds of that
input: the table gives their mean and range. How each was trained (the settings and the
wall time of its run) comes from its ``metrics.json``; how to make them again is in
``snnlab/course/checkpoints/README.md``.

    python bench/accuracy.py [--no-write]
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics

import torch
from sections import replace_section

from snnlab import config, data, training
from snnlab.course import recipes

TITLE = "Pretrained networks"
SEEDS = (0, 1, 2)

# name: (target: the number the course's earlier pretrained network scored, or the source's
# where that was below it; what it stands for)
TARGETS = {
    "fc": (0.9832, "lab handout 95.54%; snnTorch tutorial 5: 93.9% after 1 epoch"),
    "single": (0.925, "SpikingJelly example: 92.5% after 100 epochs"),
    "csnn": (0.9905, "snnTorch tutorial 6: 95.7% partway through epoch 1"),
    "sae": (0.0175, "snnTorch autoencoder tutorial: about 0.05 after 10 epochs"),
    "order": (None, "lesson 07: which of two event digits came first"),
    "order_collapsed": (None, "lesson 07's control: the same events without their order"),
    "ecsnn": (None, "lesson 07: event-camera digits"),
}
RANDOM_INPUT = {"single"}  # networks whose input is drawn at random: scored with SEEDS


def score(name: str, seed: int) -> float:
    recipe = recipes.RECIPES[name]
    model = recipes.pretrained(name)
    if recipe.loaders is None:
        _, test = data.loaders(1000, size=recipe.image_size)
    else:  # event recordings: their triangles are drawn per batch, so test in the recipe's
        _, test = recipe.loaders(recipe.batch_size, size=recipe.image_size)  # batches, as trained
    config.seed_everything(seed)
    with torch.no_grad():
        return training.evaluate(model, test, recipe.loss, metric=recipe.metric)[recipe.metric]


def row(name: str) -> str:
    recipe = recipes.RECIPES[name]
    metrics = json.loads((recipes.CHECKPOINT_DIR / f"{name}.metrics.json").read_text())
    seeds = SEEDS if name in RANDOM_INPUT else SEEDS[:1]
    values = [score(name, seed) for seed in seeds]
    show = ((lambda v: f"{100 * v:.2f}%") if recipe.metric == "accuracy"
            else (lambda v: f"{v:.4f}"))
    result = f"**{show(statistics.mean(values))}**"
    if len(values) > 1:
        result += f" (mean of {len(values)} input seeds, {show(min(values))}-{show(max(values))})"
    target, source = TARGETS[name]
    if target is None:
        wanted, met = "-", "-"
    else:
        # compared as shown (4 decimals): an accuracy on 10,000 images is a whole number of
        # hundredths of a percent, which float32 sums miss by 1e-8 (0.99049997 for 99.05%)
        shown = round(statistics.mean(values), 4)
        better = shown >= target if recipe.metric == "accuracy" else shown <= target
        wanted = (f">= {100 * target:g}%" if recipe.metric == "accuracy" else f"<= {target:g}")
        met = "yes" if better else "NO"
    epochs = f"{metrics['epochs']} epoch" + ("s" if metrics["epochs"] != 1 else "")
    trained = (f"{epochs}, batch {metrics['batch_size']}, peak lr "
               f"{metrics['lr']:g}, {metrics['wall_seconds'] / 60:.1f} min")
    return (f"| {name} ({metrics['model']}) | {trained} | test {recipe.metric} {result} | "
            f"{wanted} | {met} | {source} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true", help="do not touch results.md")
    args = parser.parse_args()
    rows = []
    for name in TARGETS:
        rows.append(row(name))
        print(rows[-1], flush=True)
    text = "\n".join([
        f"## {TITLE}: the networks `TRAIN = False` loads, on the full test set "
        f"({datetime.date.today()})", "",
        "`python bench/accuracy.py`: each network of `snnlab/course/checkpoints/` as the "
        "lessons load it (float16 weights), scored on all 10,000 test images. How it was "
        "trained, and how long its run took, is its `metrics.json`'s.", "",
        "| network | trained | result | target | met | what it stands for |",
        "|---|---|---|---|---|---|", *rows, ""])
    print(text)
    if not args.no_write:
        replace_section(TITLE, text)


if __name__ == "__main__":
    main()
