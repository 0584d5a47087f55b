"""Benchmark: forward + backward through a LIF layer over time.

Contenders, all on the same input [num_steps, 128, 1000] (batch 128 x 1000 neurons):

- ``LIF.sequence``   snnlab's whole-sequence autograd Function (hand-written BPTT)
- ``LIF step loop``  snnlab's teaching API, ``lif(input, mem)`` in a Python loop
- ``snntorch Leaky`` snnTorch's ``Leaky`` in the same loop (skipped if snnTorch is missing)

Every repeat runs each contender once, in turn (interleaved, because the machine is
shared), after warm-up runs; the table reports medians.

A second table puts ``LIF.sequence`` next to its memory-bandwidth floor. Whatever the code,
each time step must move, between the CPU and main memory, at least these step tensors of
128 x 1000 float32 (512 kB each; a whole sequence does not fit in the caches):

- forward, 3: read I[t]; write U[t] and S[t] (the outputs). U[t-1] and S[t-1] were
  written one step before and are still in the cache.
- backward, 4: read U[t] (the surrogate needs U[t] - theta), dL/dS[t] and dL/dU[t]; write
  dL/dI[t]. lam[t+1] is still in the cache; for ``reset="subtract"`` with fixed beta and
  theta nothing else is needed.

That is 7 x 512 kB = 3.5 MB per step. The floor is ``torch.Tensor.copy_`` between two
reused tensors of 3.5 step tensors each per step (a copy reads and writes its size, so it
moves the same 7 x 512 kB), timed interleaved with ``LIF.sequence`` forward + backward
under dense random gradients for both outputs (a real loss's gradients are dense; the first
table's ``spk.sum()`` gives constant ones that take no memory). The ratio LIF time / copy
time says how far the LIF is from the speed of memory itself. Run from the repo root:

    python bench/neurons.py [--repeats 15] [--threads 2] [--no-write]

A third table (lesson 08) times the neurons with more state, forward + backward on
[T, 128, 1000] as above: ``sequence`` against the step API in a loop (``neurons.unroll``),
and snnTorch's ``Synaptic`` loop. ``Synaptic.sequence`` ("subtract") runs its current with
``bptt.decay_sequence`` and its membrane with ``bptt.lif_sequence``; ``ALIF.sequence`` is
``bptt.alif_sequence``; ``Alpha.sequence`` with its default reset="zero" is the step loop
itself, so its two rows measure the same code.

It prints the markdown tables and replaces their sections of bench/results.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time

import torch
from sections import replace_section  # bench/sections.py

from snnlab.adaptive import ALIF
from snnlab.neurons import LIF, unroll
from snnlab.synaptic import Alpha, Synaptic

BATCH, NEURONS = 128, 1000
STEP_TENSORS = 3 + 4  # step tensors each step moves: forward 3, backward 4 (docstring)


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


# The speed-up LIF.sequence must keep against the snnTorch loop, by T (README).
GUARD_RAILS = {25: 2.5, 100: 3.0}


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


def run_unrolled(neuron, input_seq):
    spk, state = unroll(neuron, input_seq)
    return spk, state.mem


def run_state_sequence(neuron, input_seq):
    spk, state = neuron.sequence(input_seq)
    return spk, state.mem


def run_snntorch_synaptic(neuron, input_seq):
    syn, mem = neuron.reset_mem()  # else its first call starts from the last run's state
    spikes, membranes = [], []
    for step_input in input_seq:
        spk, syn, mem = neuron(step_input, syn, mem)
        spikes.append(spk)
        membranes.append(mem)
    return torch.stack(spikes), torch.stack(membranes)


def lesson08_rows(num_steps: int, repeats: int, warmup: int) -> list[tuple]:
    """``(T, neuron, contender, median ms, min-max ms)`` for the lesson 08 neurons."""
    runs = {}
    for name, neuron in (("Synaptic", Synaptic(alpha=0.8, beta=0.9)),
                         ("Alpha", Alpha(alpha=0.9, beta=0.8)),
                         ("ALIF", ALIF(beta=0.9, rho=0.95, b=0.2))):
        runs[(name, "sequence")] = (run_state_sequence, neuron)
        runs[(name, "step loop")] = (run_unrolled, neuron)
    try:
        import snntorch

        runs[("Synaptic", "snntorch loop")] = (run_snntorch_synaptic,
                                               snntorch.Synaptic(alpha=0.8, beta=0.9))
    except ImportError:
        pass
    generator = torch.Generator().manual_seed(2)
    input_seq = (torch.randn(num_steps, BATCH, NEURONS, generator=generator) * 0.5
                 + 0.3).requires_grad_()
    for _ in range(warmup):
        for run, neuron in runs.values():
            time_once(run, neuron, input_seq)
    times = {key: [] for key in runs}
    for _ in range(repeats):
        for key, (run, neuron) in runs.items():
            times[key].append(time_once(run, neuron, input_seq))
    return [(num_steps, name, contender, statistics.median(values) * 1e3,
             f"{min(values) * 1e3:.1f}-{max(values) * 1e3:.1f}")
            for (name, contender), values in times.items()]


def floor_rows(num_steps: int, repeats: int, warmup: int) -> tuple:
    """``(T, LIF ms, copy ms, ratio, MB moved, copy GB/s)``, medians of interleaved runs."""
    generator = torch.Generator().manual_seed(1)
    shape = (num_steps, BATCH, NEURONS)
    input_seq = (torch.randn(shape, generator=generator) * 0.5 + 0.3).requires_grad_()
    grads = (torch.randn(shape, generator=generator), torch.randn(shape, generator=generator))
    lif = LIF(beta=0.9)
    source = torch.randn(STEP_TENSORS * num_steps * BATCH * NEURONS // 2, generator=generator)
    target = torch.empty_like(source)

    def time_lif() -> float:
        input_seq.grad = None
        start = time.perf_counter()
        torch.autograd.backward(lif.sequence(input_seq), grads)
        return time.perf_counter() - start

    def time_copy() -> float:
        start = time.perf_counter()
        target.copy_(source)
        return time.perf_counter() - start

    for _ in range(warmup):
        time_lif(), time_copy()
    pairs = [(time_lif(), time_copy()) for _ in range(repeats)]
    lif_s = statistics.median(p[0] for p in pairs)
    copy_s = statistics.median(p[1] for p in pairs)
    ratios = [a / b for a, b in pairs]
    moved = 2 * source.numel() * source.element_size()
    return (num_steps, lif_s * 1e3, copy_s * 1e3, statistics.median(ratios), min(ratios),
            max(ratios), moved / 1e6, moved / copy_s / 1e9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, nargs="+", default=[25, 100])
    parser.add_argument("--no-write", action="store_true", help="do not touch results.md")
    parser.add_argument("--only-lesson08", action="store_true",
                        help="only the table of the lesson 08 neurons")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [] if args.only_lesson08 else lif_tables(args, stamp)
    lesson08 = [row for num_steps in args.steps
                for row in lesson08_rows(num_steps, args.repeats, args.warmup)]
    lesson08_lines = [
        f"## Lesson 08 neurons, forward + backward, batch {BATCH} x {NEURONS} ({stamp})",
        "",
        f"torch {torch.__version__}, {args.threads} threads, median of {args.repeats} "
        f"interleaved repeats after {args.warmup} warm-up runs, load average "
        f"{os.getloadavg()[0]:.1f} at the end.",
        "",
        "| T | neuron | contender | median ms | min-max ms |",
        "|---|---|---|---|---|",
    ]
    lesson08_lines += [f"| {t} | {name} | {contender} | {ms:.1f} | {spread} |"
                       for t, name, contender, ms, spread in lesson08]
    print("\n".join(lines + [""] + lesson08_lines))
    if not args.no_write:
        if lines:
            replace_section("LIF forward + backward", "\n".join(lines) + "\n")
        replace_section("Lesson 08 neurons", "\n".join(lesson08_lines) + "\n")


def lif_tables(args: argparse.Namespace, stamp: str) -> list[str]:
    """The LIF tables: contenders, then the memory-bandwidth floor."""
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

    lines = [
        f"## LIF forward + backward, batch {BATCH} x {NEURONS} neurons ({stamp})",
        "",
        f"torch {torch.__version__}, {args.threads} threads, {platform.processor() or 'cpu'}, "
        f"median of {args.repeats} interleaved repeats after {args.warmup} warm-up runs "
        f"(load average {os.getloadavg()[0]:.1f}).",
        "",
        "| T | contender | median ms | min-max ms | speed vs snnTorch loop |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {t} | {name} | {ms:.1f} | {spread} | {x} |" for t, name, ms, spread, x in rows]
    rails = [f"T={t}: {float(x[:-1]):.1f}x, target {GUARD_RAILS[t]:g}x, "
             f"{'met' if float(x[:-1]) >= GUARD_RAILS[t] else 'NOT met'}"
             for t, name, _, _, x in rows if name == "LIF.sequence" and t in GUARD_RAILS
             and x != "n/a"]
    if rails:
        lines += ["", "Guard rails (`LIF.sequence` against the snnTorch loop): "
                  + "; ".join(rails) + "."]
    floors = [floor_rows(num_steps, args.repeats, args.warmup) for num_steps in args.steps]
    lines += [
        "",
        f"Memory-bandwidth floor: `LIF.sequence` forward + backward (dense gradients) against "
        f"`copy_` of the same bytes, {STEP_TENSORS} step tensors of {BATCH} x {NEURONS} float32 "
        f"per step (see the docstring of `bench/neurons.py`); medians of {args.repeats} "
        f"interleaved pairs, load average {os.getloadavg()[0]:.1f} at the end.",
        "",
        "| T | bytes moved | LIF ms | copy_ ms (GB/s) | LIF / copy_ (min-max per pair) |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {t} | {mb:.0f} MB | {lif_ms:.1f} | {copy_ms:.1f} ({gbs:.1f}) | "
              f"{ratio:.1f}x ({low:.1f}-{high:.1f}) |"
              for t, lif_ms, copy_ms, ratio, low, high, mb, gbs in floors]
    return lines


if __name__ == "__main__":
    main()
