"""Lesson 09's study: Diehl & Cook's winner-take-all network learns MNIST without labels;
test accuracy over the seeds of ``lesson09.SETTINGS`` (3), the random-weights control and
the training times.

    python bench/stdp.py                   # run the study (every seed), then write its
                                           # section of bench/results.md (replaced)
    python bench/stdp.py --table-only      # the section of the stored study, no training
    python bench/stdp.py --out FOLDER      # results in another folder than the package's
    python bench/stdp.py --ablations       # seed 0 with one change at a time (ABLATIONS),
                                           # one JSON line each; nothing written

The ablations' results are in ``bench/stdp_feasibility.md`` (section "At full scale").

The runs are ``snnlab.course.experiments.lesson09.train_and_test`` (``SETTINGS["threads"]``
torch threads), stored after each seed in ``lesson09.RESULTS_FILE`` (and seed 0's network in
``lesson09.WEIGHTS_FILE``), which the lesson loads.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sections import replace_section  # bench/sections.py

from snnlab.course.experiments import lesson09 as study

TITLE = "## Lesson 09"

# One change at a time against lesson09.SETTINGS (seed 0): what each choice buys.
ABLATIONS = [("soft inhibition 12 mV (hard_wta=False)", {"network": {"hard_wta": False}}),
             ("update='step' (weights and theta change at every step)",
              {"network": {"update": "step"}}),
             ("10,000 training images instead of 60,000", {"train_size": 10_000}),
             ("soft bounds (A_plus * (w_max - w))", {"network": {"bounds": "soft"}}),
             ("threshold 6 instead of 13", {"network": {"threshold": 6.0}})]


def markdown(table: str) -> str:
    """``lesson09.table``'s aligned text as a markdown table."""
    rows = [line.split("  ") for line in table.splitlines()]
    rows = [[cell.strip() for cell in row if cell.strip()] for row in rows]
    width = len(rows[0])
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(row + [""] * (width - len(row))) + " |" for row in rows[1:]]
    return "\n".join(lines)


def section(stored: dict) -> str:
    """The results.md section of a stored study."""
    results, s = stored["results"], stored["settings"]
    net = s["network"]
    accuracy = study.summary(results)
    seconds = study.summary(results, "train_seconds")
    evals = study.summary(results, "eval_seconds")
    details = "\n".join(
        f"| {r['seed']} | {r['theta_mean']:.1f} / {r['theta_max']:.1f} | "
        f"{r['test_spikes_per_image']:.1f} | {r['silent_test_images']} | "
        f"{r['control_spikes_per_image']:.1f} | {r['classes_assigned']} |" for r in results)
    return "\n".join([
        f"{TITLE}: STDP winner-take-all on MNIST, no labels while learning "
        f"(the study of {stored.get('date', '?')})", "",
        f"`snnlab.course.experiments.lesson09` (stored by `{stored.get('made_by', '?')}`, "
        f"{stored.get('date', '?')}): {net['num_neurons']} excitatory neurons, one pass over "
        f"{s['train_size']:,} training images in a seeded order, {s['batch_size']} at a time; "
        f"{net['num_steps']} steps per image (Poisson gain {net['gain']}), hard "
        f"winner-take-all (`hard_wta={net['hard_wta']}`), threshold {net['threshold']} + "
        f"theta (theta_plus {net['theta_plus']}), STDP A_plus {net['A_plus']} per image, "
        f"A_minus {net['A_minus']}, weight_sum {net['weight_sum']}. The neurons are named "
        f"from their spike counts on {s['assign_size']:,} training images (the only labels "
        f"used); accuracy on the first {s['test_size']:,} MNIST test images, the same for "
        f"every seed. The control: each seed's random initial weights (theta 0), named and "
        f"read out the same way. Training time: wall clock of the learning pass only, "
        f"{s['threads']} torch thread{'s' if s['threads'] > 1 else ''}, on the 2-core "
        "machine (one "
        "thread because two made a training image 3 x slower, 3.0 against 0.9 ms at 50 "
        "steps, while another job held a core).", "",
        markdown(study.table(results)), "",
        f"Mean over {accuracy['n']} seeds: {accuracy['mean']:.2%} +- {accuracy['std']:.2%} "
        f"(standard deviation; min {accuracy['min']:.2%}, max {accuracy['max']:.2%}); "
        f"Diehl & Cook: {study.PAPER:.1%}. Training {seconds['mean']:.0f} s per seed "
        f"(max {seconds['max']:.0f} s); naming and testing (trained network) "
        f"{evals['mean']:.0f} s per seed.", "",
        "| seed | theta mean / max (mV) | test spikes per image | silent test images "
        "| control's spikes per image | classes assigned |",
        "|---|---|---|---|---|---|", details, "", ""])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table-only", action="store_true", help="no training")
    parser.add_argument("--out", type=Path, default=study.CHECKPOINTS)
    parser.add_argument("--no-write", action="store_true", help="do not touch results.md")
    parser.add_argument("--ablations", action="store_true", help="ABLATIONS, seed 0")
    args = parser.parse_args()
    if args.ablations:
        for name, change in ABLATIONS:
            result, _ = study.train_and_test(0, change)
            print(json.dumps({"change": name, **result}), flush=True)
        return 0
    if not args.table_only:
        study.main([str(args.out)])
    text = section(study.load(args.out / study.RESULTS_FILE.name))
    print(text)
    if not args.no_write:
        replace_section(TITLE[3:], text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
