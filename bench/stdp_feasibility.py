"""Lesson 09 feasibility: accuracy and time of ``snnlab.competitive.Competitive`` on MNIST.

Trains one pass (no labels) over ``--train`` training images in batches of ``--batch``,
names the neurons from their spike counts on ``--assign`` training images (the first ones
of the same balanced subset), and classifies ``--test`` test images by their votes. One
torch thread unless ``--threads``. Prints one JSON line with the settings, the accuracy and
the seconds of each phase (wall clock and process CPU time).

    SNNLAB_DATA_DIR=/work/shared/data python bench/stdp_feasibility.py --train 5000 --batch 50
    python bench/stdp_feasibility.py --train 1000 --test 1000 --steps 150 --gain 0.15

Diehl and Cook (2015) report 82.9% test accuracy for 100 neurons and 87.0% for 400, trained
on the 60,000 MNIST training images (check the paper for the number of passes). The runs
measured with this script, and what they say, are in ``bench/stdp_feasibility.md``.

Fewer steps with the same dynamics in compressed time (3.5 x fewer steps, each 3.5 x longer):

    --steps 100 --gain 0.223 --set tau_mem=28.6 tau_plus=5.7 tau_minus=5.7 boost=0.112
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

from snnlab.competitive import Competitive, assign_labels, classify
from snnlab.data import mnist


def tensors(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """All images [N, 784] and labels [N] of an ``snnlab.data.mnist`` (subset)."""
    base, index = (dataset.dataset, torch.as_tensor(dataset.indices)) \
        if hasattr(dataset, "indices") else (dataset, torch.arange(len(dataset)))
    return base.images[index].flatten(1), base.targets[index]


def counts_of(net: Competitive, images: torch.Tensor, batch: int,
              generator: torch.Generator) -> torch.Tensor:
    return torch.cat([net.run(images[i:i + batch], learn=False, generator=generator)
                      for i in range(0, len(images), batch)])


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(start: tuple[float, float]) -> dict[str, float]:
    wall, cpu = clock()
    return {"wall_s": round(wall - start[0], 1), "cpu_s": round(cpu - start[1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=5000)
    parser.add_argument("--assign", type=int, default=None, help="default: --train")
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--neurons", type=int, default=100)
    parser.add_argument("--batch", type=int, default=50, help="images learned at once")
    parser.add_argument("--eval-batch", type=int, default=500)
    parser.add_argument("--steps", type=int, default=350)
    parser.add_argument("--gain", type=float, default=0.06375)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                        help="other Competitive settings, e.g. A_plus=0.005 inhibition=20")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("SNNLAB_DATA_DIR", "/work/shared/data")

    settings = {name: float(value) for name, value in (s.split("=") for s in args.set)}
    for name in ("min_spikes", "max_boosts"):
        if name in settings:
            settings[name] = int(settings[name])
    net = Competitive(num_neurons=args.neurons, num_steps=args.steps, gain=args.gain,
                      seed=args.seed, **settings)
    train_images, train_labels = tensors(mnist(train=True, subset=args.train, seed=args.seed))
    test_images, test_labels = tensors(mnist(train=False, subset=args.test, seed=args.seed))
    order = torch.randperm(args.train, generator=torch.Generator().manual_seed(args.seed))
    train_images, train_labels = train_images[order], train_labels[order]
    generator = torch.Generator().manual_seed(args.seed + 1)

    start = clock()
    for i in range(0, args.train, args.batch):
        net.run(train_images[i:i + args.batch], learn=True, generator=generator)
    train_time = since(start)

    start = clock()
    num_assign = args.assign or args.train
    assign_counts = counts_of(net, train_images[:num_assign], args.eval_batch, generator)
    assignments = assign_labels(assign_counts, train_labels[:num_assign])
    test_counts = counts_of(net, test_images, args.eval_batch, generator)
    accuracy = (classify(test_counts, assignments) == test_labels).float().mean().item()
    eval_time = since(start)

    print(json.dumps({
        "neurons": args.neurons, "train": args.train, "batch": args.batch, "steps": args.steps,
        "gain": args.gain, "assign": num_assign, "test": args.test, "threads": args.threads,
        "settings": settings, "accuracy": round(accuracy, 4), "train_time": train_time,
        "eval_time": eval_time, "classes_assigned": len(assignments.unique()),
        "theta_mean": round(net.theta.mean().item(), 3),
        "test_spikes_per_image": round(test_counts.sum(1).mean().item(), 2),
        "silent_test_images": int((test_counts.sum(1) == 0).sum())}))


if __name__ == "__main__":
    main()
