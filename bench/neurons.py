"""Benchmark: forward + backward through a LIF layer over time.

Contenders, all on the same input [num_steps, 128, 1000] (batch 128 x 1000 neurons):

- ``LIF.sequence``   snnlab's whole-sequence autograd Function (hand-written BPTT)
- ``LIF step loop``  snnlab's teaching API, ``lif(input, mem)`` in a Python loop
- ``snntorch Leaky`` snnTorch's ``Leaky`` in the same loop (skipped if snnTorch is missing)

Every repeat runs each contender once, in turn (interleaved, because the machine is
shared), after warm-up runs; the table reports medians. Run from the repo root:

    python bench/neurons.py [--repeats 15] [--threads 2] [--no-write]

It prints a markdown table and appends it to bench/results.md.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import time
from pathlib import Path

import torch

from snnlab.neurons import LIF

RESULTS = Path(__file__).with_name("results.md")
BATCH, NEURONS = 128, 1000


def run_sequence(lif, input_seq):
    return lif.sequence(input_seq)


def run_step_loop(lif, input_seq):
    mem, spikes, membranes = None, [], []
    for step_input in input_seq:
        spk, mem = lif(step_input, mem)
        spikes.append(spk)
        membranes.append(mem)
    return torch.stack(spikes), torch.stack(membranes)


def run_snntorch_loop(leaky, input_seq):
    mem, spikes, membranes = leaky.init_leaky(), [], []
    for step_input in input_seq:
        spk, mem = leaky(step_input, mem)
        spikes.append(spk)
        membranes.append(mem)
    return torch.stack(spikes), torch.stack(membranes)


def time_once(run, neuron, input_seq) -> float:
    """Seconds for one forward + backward, with the loss on both spikes and membranes."""
    input_seq.grad = None
    start = time.perf_counter()
    spk, mem = run(neuron, input_seq)
    (spk.sum() + 0.01 * mem.sum()).backward()
    return time.perf_counter() - start


def contenders() -> dict:
    found = {
        "LIF.sequence": (run_sequence, LIF(beta=0.9)),
        "LIF step loop": (run_step_loop, LIF(beta=0.9)),
    }
    try:
        import snntorch

        found["snntorch Leaky loop"] = (run_snntorch_loop, snntorch.Leaky(beta=0.9))
    except ImportError:
        print("snntorch not installed: skipping the snnTorch contender")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, nargs="+", default=[25, 100])
    parser.add_argument("--no-write", action="store_true", help="do not touch results.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    runs = contenders()
    rows = []
    for num_steps in args.steps:
        input_seq = (torch.randn(num_steps, BATCH, NEURONS) * 0.5 + 0.3).requires_grad_()
        for _ in range(args.warmup):
            for run, neuron in runs.values():
                time_once(run, neuron, input_seq)
        times = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, (run, neuron) in runs.items():
                times[name].append(time_once(run, neuron, input_seq))
        medians = {name: statistics.median(values) for name, values in times.items()}
        reference = medians.get("snntorch Leaky loop")
        for name, seconds in medians.items():
            speedup = f"{reference / seconds:.1f}x" if reference else "n/a"
            spread = f"{min(times[name]) * 1e3:.1f}-{max(times[name]) * 1e3:.1f}"
            rows.append((num_steps, name, seconds * 1e3, spread, speedup))

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## LIF forward + backward, batch {BATCH} x {NEURONS} neurons ({stamp})",
        "",
        f"torch {torch.__version__}, {args.threads} threads, {platform.processor() or 'cpu'}, "
        f"median of {args.repeats} interleaved repeats after {args.warmup} warm-up runs "
        "(shared machine).",
        "",
        "| T | contender | median ms | min-max ms | speed vs snnTorch loop |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {t} | {name} | {ms:.1f} | {spread} | {x} |" for t, name, ms, spread, x in rows]
    table = "\n".join(lines) + "\n"
    print(table)
    if not args.no_write:
        with RESULTS.open("a") as results:
            results.write("\n" + table)
        print(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
