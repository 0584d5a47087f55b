"""Lesson 10: from an ANN to an SNN, and what its spikes cost."""

from __future__ import annotations

import statistics

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from snnlab import checks, conversion, plot
from snnlab.course.experiments import lesson10 as study_module
from snnlab.course.widgets.panels import new_figure, panel
from snnlab.i18n import tr


def if_rates(currents: Tensor, num_steps: int, threshold: float = 1.0,
             reset: str = "subtract") -> Tensor:
    """theta * N(T) / T of an IF neuron fed each constant current in ``currents`` ``[K]`` for
    ``num_steps`` steps: what its rate says the current is. ``reset="subtract"`` is
    ``conversion.IF``; ``"zero"`` sets V to 0 after a spike (the excess is lost). Lesson 10."""
    currents = checks.tensor("currents", currents)
    num_steps = checks.positive_int("num_steps", num_steps)
    threshold = checks.positive_number("threshold", threshold)
    checks.choice("reset", reset, ("subtract", "zero"))
    if reset == "subtract":
        spikes = conversion.IF(threshold).spikes(currents, num_steps)
    else:
        mem, rows = torch.zeros_like(currents), []
        for _ in range(num_steps):
            mem = mem + currents
            spk = (mem > threshold).to(currents.dtype)
            mem = mem * (1 - spk)          # V = 0 after a spike: what was above theta is lost
            rows.append(spk)
        spikes = torch.stack(rows)
    return threshold * spikes.mean(0)


def draw_if_rates(num_steps: int = 16) -> Figure:
    """Left: an IF neuron's theta * rate against a constant current after ``num_steps`` steps,
    beside clip(I, 0, theta). Right: the largest error over currents in [0, theta] against T,
    for reset by subtraction and reset to zero, with the bound theta / T. Lesson 10."""
    currents = torch.linspace(-0.5, 1.5, 401, dtype=torch.float64)
    fig = new_figure(9.0, 3.6)
    ax_rate, ax_error = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.88, wspace=0.3)
    ax_rate.plot(currents, currents.clamp(0, 1), color=plot.THRESHOLD, ls="--",
                 label=tr("clip(I, 0, theta)"))
    ax_rate.plot(currents, if_rates(currents, num_steps), color=plot.BAR,
                 label=tr("theta * rate, T = {T}").format(T=num_steps))
    ax_rate.set_xlabel(tr("constant input current I (theta = 1)"))
    ax_rate.set_ylabel(tr("what the rate says"))
    ax_rate.legend(fontsize="small")
    inside = torch.linspace(0, 1, 201, dtype=torch.float64)
    steps = conversion.powers_of_two(256)
    for reset, colour in (("subtract", plot.BAR), ("zero", plot.HIGHLIGHT)):
        errors = [(inside - if_rates(inside, t, reset=reset)).abs().max().item() for t in steps]
        ax_error.loglog(steps, errors, "o-", color=colour, markersize=3,
                        label=tr("reset by subtraction") if reset == "subtract"
                        else tr("reset to zero"))
    ax_error.loglog(steps, [1 / t for t in steps], color="#bbbbbb", lw=5, zorder=0,
                    label=tr("theta / T (the bound)"))
    ax_error.set_xlabel(tr("time steps T"))
    ax_error.set_ylabel(tr("largest error, I in [0, theta]"))
    ax_error.legend(fontsize="small")
    fig.suptitle(tr("an IF neuron's rate computes a ReLU, up to theta / T"), fontsize="medium")
    return fig


def curves(study: dict) -> dict[str, dict[str, np.ndarray]]:
    """From the stored study: per balancing, ``"steps"``, accuracy ``"mean", "min", "max"`` over
    the seeds, and ``"uJ"`` (energy per sample, Horowitz 2014, mean over seeds); and
    ``"ANN"`` with its mean accuracy and energy. Lesson 10."""
    results = study["results"]
    out: dict[str, dict[str, np.ndarray]] = {}
    for balancing in study_module.BALANCINGS:
        runs = [next(r for r in seed["snn"] if r["balancing"] == balancing) for seed in results]
        accuracy = np.array([r["accuracy"] for r in runs])            # [seeds, K]
        energy = np.array([[study_module.energy(r["ops"]["conv1_MAC"][k],
                                                r["ops"]["conv2_AC"][k] + r["ops"]["fc_AC"][k])
                            for k in range(len(r["steps"]))] for r in runs]) / 1e6
        out[balancing] = {"steps": np.array(runs[0]["steps"]), "mean": accuracy.mean(0),
                          "min": accuracy.min(0), "max": accuracy.max(0),
                          "uJ": energy.mean(0)}
    ann_macs = sum(results[0]["snn"][0]["ann_macs"].values())
    out["ANN"] = {"mean": np.array(statistics.fmean(r["ann_accuracy"] for r in results)),
                  "uJ": np.array(study_module.energy(ann_macs, 0.0) / 1e6)}
    return out


def draw_conversion(study: dict, num_steps: int = 32, balancing: str = "p99.9") -> Figure:
    """Test accuracy (left) and energy per sample (right) against T for both balancings, the
    ANN as a line, the chosen T and balancing marked. Lesson 10."""
    checks.choice("balancing", balancing, study_module.BALANCINGS)
    data = curves(study)
    steps = data[balancing]["steps"]
    if num_steps not in steps:
        raise ValueError(f"num_steps must be one of the stored T {steps.tolist()}, got "
                         f"{num_steps!r}")
    k = int(np.nonzero(steps == num_steps)[0][0])
    fig = new_figure(9.0, 3.8)
    ax_acc, ax_energy = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.86, wspace=0.28)
    colours = {"max": plot.BAR, "p99.9": plot.HIGHLIGHT}
    names = {"max": tr("max balancing"), "p99.9": tr("99.9th percentile balancing")}
    for b in study_module.BALANCINGS:  # the test error, 100% - accuracy, on a log scale
        d = data[b]
        error, low, high = ((1 - d[key]) * 100 for key in ("mean", "max", "min"))
        spread = np.clip([error - low, high - error], 0, None)
        ax_acc.errorbar(d["steps"], error, yerr=spread, marker="o", markersize=3,
                        capsize=2, color=colours[b], label=names[b])
        ax_energy.plot(d["steps"], d["uJ"], "o-", markersize=3, color=colours[b],
                       label=names[b])
    ax_acc.axhline((1 - data["ANN"]["mean"]) * 100, color=plot.INK, ls="--", lw=0.8,
                   label=tr("the ANN", context="conversion"))
    ax_energy.axhline(float(data["ANN"]["uJ"]), color=plot.INK, ls="--", lw=0.8,
                      label=tr("the ANN, one pass"))
    chosen = data[balancing]
    ax_acc.plot([num_steps], [(1 - chosen["mean"][k]) * 100], "s", color=plot.INK,
                markersize=8, fillstyle="none")
    ax_energy.plot([num_steps], [chosen["uJ"][k]], "s", color=plot.INK, markersize=8,
                   fillstyle="none")
    for ax in (ax_acc, ax_energy):
        ax.set_xscale("log", base=2)
        ax.set_xticks(steps, [str(t) for t in steps])
        ax.minorticks_off()
    ax_acc.set_yscale("log")
    ax_acc.set_xlabel(tr("time steps T"))
    ax_acc.set_ylabel(tr("test error (%), log scale"))
    ax_acc.legend(fontsize="small", loc="upper right")
    ax_energy.set_yscale("log")
    ax_energy.set_xlabel(tr("time steps T"))
    ax_energy.set_ylabel(tr("arithmetic energy per image (µJ)"))
    ax_energy.legend(fontsize="small", loc="upper left")
    fig.suptitle(tr("{name}, T = {T}: {accuracy:.2%} (ANN {ann:.2%}), {energy:.2f} µJ per "
                    "image ({ratio:.2f} x the ANN's)").format(
        name=names[balancing], T=num_steps, accuracy=chosen["mean"][k],
        ann=float(data["ANN"]["mean"]), energy=chosen["uJ"][k],
        ratio=chosen["uJ"][k] / float(data["ANN"]["uJ"])), fontsize="medium")
    return fig


def conversion_explorer(study: dict) -> widgets.interactive:
    """T and the balancing against accuracy and energy, from the stored study. Lesson 10."""
    steps = [int(t) for t in study["results"][0]["snn"][0]["steps"]]
    controls = {
        "num_steps": widgets.SelectionSlider(options=steps, value=32,
                                             description=tr("time steps T"),
                                             continuous_update=False,
                                             style={"description_width": "initial"}),
        "balancing": widgets.Dropdown(options=[(tr("max balancing"), "max"),
                                               (tr("99.9th percentile balancing"), "p99.9")],
                                      value="p99.9", description=tr("balancing")),
    }
    return panel(lambda num_steps, balancing: draw_conversion(study, num_steps, balancing),
                 controls)
