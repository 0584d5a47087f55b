"""Lesson 10's numbers: a ReLU network converted to integrate-and-fire neurons, accuracy against
the number of steps T for max and 99.9th-percentile threshold balancing (3 seeds), the ANN's
accuracy, training times, and the energy arithmetic beside lesson 05's surrogate-trained CSNN.

    python bench/conversion.py                # run the study (only the seeds the file lacks),
                                              # then its section of bench/results.md (replaced)
    python bench/conversion.py --table-only   # the tables of the stored study, no training
    python bench/conversion.py --out FILE     # another results file than the package's

The runs are ``snnlab.course.experiments.lesson10`` (one torch thread), stored after each seed
in ``lesson10.RESULTS_FILE`` (what the lesson loads). The section "## Lesson 10" of
bench/results.md is replaced, never added twice.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import torch
from sections import replace_section  # bench/sections.py

from snnlab.course.experiments import lesson10 as study

HEADING = "## Lesson 10"


def _cell(values: list[float]) -> str:
    return (f"{statistics.fmean(values):.2%} ({min(values):.2%}-{max(values):.2%}, "
            f"n={len(values)})")


def _gap(values: list[float]) -> str:
    """Points (percentage points) of accuracy, mean and min-max over seeds."""
    points = [100 * v for v in values]
    return f"{statistics.fmean(points):+.2f} ({min(points):+.2f} to {max(points):+.2f})"


def section(stored: dict) -> str:
    """The results.md section of the stored study."""
    s, results = stored["settings"], stored["results"]
    seeds = [r["seed"] for r in results]
    ann = [r["ann_accuracy"] for r in results]
    runs = {b: [next(x for x in r["snn"] if x["balancing"] == b) for r in results]
            for b in study.BALANCINGS}
    steps = runs[study.BALANCINGS[0]][0]["steps"]
    lines = [
        f"{HEADING}: ANN-to-SNN conversion, accuracy against T, and what a spike costs "
        f"(the study of {stored.get('date', '?')})",
        "",
        "`snnlab.course.experiments.lesson10` (library: `snnlab.conversion`). The ANN is lesson "
        "05's shape with average pooling and no biases, 12C5-AP2-64C5-AP2-1024FC10, ReLU; "
        f"trained {s['epochs']} epochs on all 60,000 training images (Adam, one-cycle "
        f"learning rate peaking at {s['lr']}, batch {s['batch_size']}). Converted to IF "
        "neurons (beta = 1, reset by subtraction, threshold 1) with weights balanced by "
        f"lambda_l from {s['balance_size']:,} training images (seeded choice): the maximum of "
        f"each layer (`max`) or its {s['percentile']}th percentile, zeros included (`p99.9`). "
        "Input: the image as an analog current, the same at every step (no Poisson noise to "
        "average out; conv1 runs once). Output: a non-spiking integrator, class = argmax of "
        f"its membrane at T. Every number on all {s['test_size']:,} test images; seeds "
        f"{seeds}; one run to T = {steps[-1]} read at every power of 2. Cells: mean over seeds "
        f"(min-max, n). One torch thread; the times are the runs' own, stored with them.",
        "",
        f"ANN test accuracy: {_cell(ann)}. Training time per seed ({s['epochs']} epochs): "
        f"{statistics.fmean(r['train_seconds'] for r in results):.0f} s wall "
        f"({min(r['train_seconds'] for r in results):.0f}-"
        f"{max(r['train_seconds'] for r in results):.0f}), "
        f"{statistics.fmean(r['train_cpu_seconds'] for r in results):.0f} CPU s; conversion "
        f"and the run to T = {steps[-1]} on {s['test_size']:,} images: "
        + ", ".join(f"{b} {statistics.fmean(r['seconds'] for r in runs[b]):.0f} s"
                    for b in study.BALANCINGS) + " (wall, per seed).",
        "",
        "Test accuracy against T (and the gap to the same seed's ANN, in points):",
        "",
        "| T | " + " | ".join(f"{b} | {b} - ANN" for b in study.BALANCINGS) + " |",
        "|---|" + "---|---|" * len(study.BALANCINGS),
    ]
    for k, t in enumerate(steps):
        cells = []
        for b in study.BALANCINGS:
            acc = [r["accuracy"][k] for r in runs[b]]
            cells += [_cell(acc), _gap([a - x for a, x in zip(acc, ann, strict=True)])]
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    lines.append(f"| ANN | {_cell(ann)} | | | |")
    if 32 in steps:
        k = steps.index(32)
        verdicts = []
        for b in study.BALANCINGS:
            gaps = [100 * (r["accuracy"][k] - x) for r, x in zip(runs[b], ann, strict=True)]
            ok = all(g >= -0.2 for g in gaps)
            verdicts.append(f"{b}: {statistics.fmean(gaps):+.2f} points "
                            f"(worst seed {min(gaps):+.2f}), "
                            + ("within" if ok else "NOT within") + " 0.2 points on every seed")
        lines += ["", "Gap at T = 32: " + "; ".join(verdicts) + ". (For scale, not measured "
                  "here: SpikingJelly's MNIST conversion example reports ReLU 98.70% -> SNN "
                  "98.35% with robust normalisation and 98.53% with layer-wise balancing at 32 "
                  "steps.)"]
    lines += ["", "Spikes per test sample up to T (layer 1: 12 x 12 x 12 = 1,728 neurons; "
              "layer 2: 64 x 4 x 4 = 1,024), mean over seeds:", "",
              "| T | " + " | ".join(f"{b} layer 1 | {b} layer 2" for b in study.BALANCINGS)
              + " |", "|---|" + "---|---|" * len(study.BALANCINGS)]
    for k, t in enumerate(steps):
        cells = []
        for b in study.BALANCINGS:
            cells += [f"{statistics.fmean(r['spikes'][n][k] for r in runs[b]):,.0f}"
                      for n in ("if1", "if2")]
        lines.append(f"| {t} | " + " | ".join(cells) + " |")

    rows = study.energy_rows(stored)
    ann_pj = rows[0][3]
    conv1_dense = results[0]["snn"][0]["ann_macs"]["conv1"]
    lines += [
        "", "Operations and energy per test sample (mean over seeds). Energy is arithmetic "
        "only: Horowitz (2014), \"Computing's energy problem (and what we can do about it)\", "
        "ISSCC, 45 nm, 32-bit float: a multiply-accumulate (MAC) 4.6 pJ (3.7 multiply + 0.9 "
        "add), an accumulate (AC) 0.9 pJ. Counted as `snnlab.synops` counts (lesson 07): the "
        "ANN, one dense pass (every input, zeros too); the SNN, each spike times its fan-out "
        "(ACs), and conv1 on the analog image as MACs for the pixels that are not 0, once "
        "(its current is the same at every step). The last column charges conv1 at every "
        "step instead, T x its MACs, as a chip that streams the image each step would. Left "
        "out, as in `synops`: memory traffic (on real chips it costs more than the "
        "arithmetic), the neuron updates (an IF neuron adds its current every step, spiking "
        "or not), pooling and the output integrator.", "",
        "| network, T | MACs | ACs | pJ | / ANN | pJ, conv1 every step |",
        "|---|---|---|---|---|---|"]
    conv1_macs = {}
    for b in study.BALANCINGS:
        conv1_macs[b] = statistics.fmean(r["ops"]["conv1_MAC"][0] for r in runs[b])
    first_above: dict[str, int] = {}
    for what, macs, acs, pj in rows:
        every = ""
        if " T = " in what:  # an SNN: its conv1 MACs again at every one of its T steps
            t = int(what.rsplit(" ", 1)[1])
            every = f"{study.energy(t * macs, acs):,.0f}"
            if pj > ann_pj and what.startswith("SNN"):
                first_above.setdefault(what.split(",")[0], t)
        lines.append(f"| {what} | {macs:,.0f} | {acs:,.0f} | {pj:,.0f} | {pj / ann_pj:.3f} | "
                     f"{every} |")
    macs1 = statistics.fmean(conv1_macs.values())
    even = (ann_pj - study.energy(macs1, 0)) / study.PJ_AC
    lines += ["", f"The ANN costs {ann_pj / 1e6:.2f} uJ per image ({rows[0][1]:,.0f} MACs; "
              f"conv1 alone {conv1_dense:,.0f} of them densely, {macs1:,.0f} for the pixels that "
              f"are not 0). The SNN breaks even at (ANN pJ - conv1 pJ) / 0.9 = {even:,.0f} ACs "
              "per image: with more ACs than that it costs more than the ANN's whole pass. "
              + ("It does here from " + ", ".join(f"T = {t} on ({what})" for what, t
                                                  in first_above.items())
                 + " (`/ ANN` above 1): many steps of dense firing. " if first_above else
                 "No measured T passes it here. ")
              + "An ANN accelerator that skips zero activations (ReLU leaves many) would also "
              "spend less than the dense count above: in that respect the comparison favours "
              "the SNN."]
    lines += _per_channel(results)
    csnn = stored.get("csnn")
    if csnn:
        spikes = csnn["spikes"]
        lines += ["", f"Lesson 05's surrogate-trained CSNN (`recipes.pretrained(\"csnn\")`: "
                  f"LIF beta 0.5, max pooling, biases, {csnn['num_steps']} steps, same test set): "
                  f"accuracy {csnn['accuracy']:.2%}; spikes per sample "
                  + ", ".join(f"{k} {v:,.0f}" for k, v in spikes.items())
                  + "; operations per sample (`synops.count`) "
                  + ", ".join(f"{k} {v:,.0f}" for k, v in csnn["ops"].items()) + "."]
    return "\n".join(lines) + "\n"


def _per_channel(results: list[dict], path: Path = study.PER_CHANNEL_FILE) -> list[str]:
    """Lines on seed 0's ANN balanced per channel (``--per-channel``), if that file exists,
    beside the same ANN's layer-wise results."""
    if not path.exists():
        return []
    found = json.loads(path.read_text())
    seed = next((r for r in results if r["seed"] == found["seed"]), None)
    if seed is None:
        return []
    runs = seed["snn"] + found["snn"]
    names = [r["balancing"] for r in runs]
    lines = ["", f"One lambda per channel instead of per layer (seed {found['seed']}'s ANN only, "
             f"n = 1, test accuracy {found['ann_accuracy']:.2%}; `python -m "
             "snnlab.course.experiments.lesson10 --per-channel`, stored in "
             "`lesson10_per_channel.json`). Test accuracy, and ACs per sample in brackets:", "",
             "| T | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for k, t in enumerate(runs[0]["steps"]):
        cells = [f"{r['accuracy'][k]:.2%} ({r['ops']['conv2_AC'][k] + r['ops']['fc_AC'][k]:,.0f})"
                 for r in runs]
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table-only", action="store_true", help="no training")
    parser.add_argument("--out", type=Path, default=study.RESULTS_FILE)
    parser.add_argument("--no-write", action="store_true", help="do not touch results.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not args.table_only:
        study.main([] if args.out == study.RESULTS_FILE else [str(args.out)])
    stored = study.load(args.out)
    text = section(stored)
    print(text)
    if not args.no_write:
        replace_section(HEADING[3:], text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
