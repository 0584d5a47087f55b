"""Lesson 08's gap task: test accuracy against the gap G for LIF, learned-beta LIF, synaptic and
ALIF neurons, every point over the seeds of ``lesson08.SETTINGS`` (3), with spikes and times.

    python bench/gap.py                    # run the study (only the runs the file lacks), then
                                           # its section of bench/results.md (replaced)
    python bench/gap.py --table-only       # the tables of the stored runs, no training
    python bench/gap.py --out FILE         # another results file than the package's

The runs are ``snnlab.course.experiments.lesson08.train_and_test`` (one torch thread), stored
after each one in ``lesson08.RESULTS_FILE`` (what the lesson loads with ``TRAIN = False``).
A partial study gives partial tables: each cell says over how many seeds (n) it is.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import torch
from sections import replace_section  # bench/sections.py

from snnlab.course.experiments import lesson08 as study
from snnlab.neurons import taus_from_betas


def markdown(table: str) -> str:
    """``lesson08.table``'s aligned text as a markdown table."""
    rows = [line.split("  ") for line in table.splitlines()]
    rows = [[cell.strip() for cell in row if cell.strip()] for row in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def section(stored: dict) -> str:
    """The results.md section of a (possibly partial) stored study."""
    results, settings = stored["results"], stored["settings"]
    seeds = sorted({r["seed"] for r in results})
    times = [["kind", *(f"G = {g}" for g in settings["gaps"])]]
    for kind in study.KINDS:
        row = [kind]
        for gap in settings["gaps"]:
            s = study.summary(results, kind, gap, "cpu_seconds")
            row.append("-" if s is None else f"{s['mean']:.0f}")
        times.append(row)
    taus = []
    for gap in settings["gaps"]:
        for r in results:
            if r["kind"] == "lif_learned" and r["gap"] == gap:
                tau = taus_from_betas(torch.tensor(r["betas"]).clamp(min=1e-6))
                finite = tau[torch.isfinite(tau)]
                median = f"{finite.median():.1f}" if len(finite) else "-"  # all beta = 1
                taus.append(f"| {gap} | {r['seed']} | {statistics.fmean(r['betas']):.3f} | "
                            f"{median} | {int((tau > 50).sum())} | "
                            f"{int((~torch.isfinite(tau)).sum())} |")
    return "\n".join([
        f"## Lesson 08: gap task, test accuracy against G "
        f"(the study of {stored.get('date', '?')})", "",
        "Each sample: lesson 07's event digit (8 steps, pooled to 2 x 17 x 17), G blank steps, "
        "a cue of 4 steps (one input channel, the same for every sample); the digit is read "
        "only from the 128 hidden neurons' mean spikes during the cue "
        "(`snnlab.course.experiments.lesson08`). Feed-forward, same size for every neuron; "
        f"{settings['train_size']:,} training digits, {settings['epochs']} epochs, Adam lr "
        f"{settings['lr']}, batch {settings['batch_size']}; {settings['test_size']:,} test "
        f"digits (the same for every run). Seeds so far: {seeds}. Chance 10%; G = 0 is the "
        "ceiling (nothing to remember across a gap). Cells: mean over seeds (min-max, n "
        f"seeds). One torch thread; the times are the runs' own, stored with them.", "",
        "Test accuracy:", "", markdown(study.table(results)), "",
        "Hidden spikes per test sample (all steps, gap and cue included):", "",
        markdown(study.table(results, "spikes_per_sample")), "",
        "CPU seconds per run (training and testing, mean over seeds):", "",
        "\n".join("| " + " | ".join(row) + " |" if i != 1 else
                  "|" + "---|" * len(row) + "\n| " + " | ".join(row) + " |"
                  for i, row in enumerate(times)), "",
        "Learned betas (lif_learned, initialised with tau spread log-evenly over "
        f"{settings['tau_range'][0]:g}-{settings['tau_range'][1]:g} steps):", "",
        "| G | seed | mean beta | median tau, beta < 1 (steps) | neurons with tau > 50 "
        "| of them beta = 1 (no leak) |",
        "|---|---|---|---|---|---|", *taus, "",
        f"One fixed beta for every LIF neuron at G = {study.BETAS_GAP} (the lesson's design "
        "question; `python -m snnlab.course.experiments.lesson08 --betas`, stored in "
        "`lesson08_betas.json`; same training, 3 seeds):", "",
        markdown(study.betas_table(study.load_betas()["results"])), "", ""])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table-only", action="store_true", help="no training")
    parser.add_argument("--out", type=Path, default=study.RESULTS_FILE)
    parser.add_argument("--no-write", action="store_true", help="do not touch results.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not args.table_only:
        study.main([str(args.out)])
    stored = json.loads(args.out.read_text())
    text = section(stored)
    print(text)
    if not args.no_write:  # this section replaces the last one it wrote; the rest stays
        replace_section("Lesson 08", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
