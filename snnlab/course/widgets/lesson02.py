"""Lesson 02: the leaky integrate-and-fire neuron."""

from __future__ import annotations

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch import Tensor

from snnlab import checks, plot
from snnlab.course.widgets.panels import new_figure, panel, slider
from snnlab.i18n import tr
from snnlab.neurons import LIF

RESETS = ("subtract", "zero")


def lif_response(beta: float, threshold: float, current: float, reset: str,
                 num_steps: int = 100, start: int = 10) -> tuple[Tensor, Tensor, Tensor]:
    """One LIF neuron fed a step current that switches on at ``start``.

    Returns ``(current [T], membrane [T], spikes [T])`` from ``snnlab.neurons.LIF``.
    """
    checks.number("current", current, "in [-100, 100]", lambda v: -100 <= v <= 100)
    checks.positive_int("num_steps", num_steps)
    if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start < num_steps:
        raise ValueError(f"start must be an int from 0 to num_steps - 1 = {num_steps - 1}, "
                         f"got {start!r}")
    current_seq = torch.zeros(num_steps, 1)
    current_seq[start:] = current
    neuron = LIF(beta=beta, threshold=threshold, reset=reset)
    with torch.no_grad():
        spikes, membrane = neuron.sequence(current_seq)
    return current_seq[:, 0], membrane[:, 0], spikes[:, 0]


def draw_lif(beta: float = 0.9, threshold: float = 1.0, current: float = 0.15,
             reset: str = "subtract") -> Figure:
    """Current, membrane and spike traces of one LIF neuron under a step current."""
    current_seq, membrane, spikes = lif_response(beta, threshold, current, reset)
    fig = new_figure(7.5, 4.6)
    axes = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [1, 2, 1]})
    fig.subplots_adjust(left=0.12, right=0.88, bottom=0.1, top=0.91, hspace=0.35)
    plot.traces(current_seq, membrane, spikes, threshold=threshold, ax=axes)
    # A steady input I settles at U = I / (1 - beta) without spiking; show where that is.
    settle = current / (1 - beta) if beta < 1 else float("inf")
    fig.suptitle(tr("{count} spikes;  without a threshold U would level off at "
                    r"I / (1 - $\beta$) = {settle}").format(count=int(spikes.sum()),
                                                           settle=f"{settle:.2f}"),
                 fontsize="medium")
    return fig


def lif_explorer() -> widgets.interactive:
    """Sliders for beta, threshold and input current, and the reset mode; live traces."""
    controls = {
        "beta": slider(tr("beta"), 0.9, 0.5, 0.99, 0.01),
        "threshold": slider(tr("threshold theta"), 1.0, 0.2, 2.0, 0.05),
        "current": slider(tr("input current I"), 0.15, 0.0, 1.0, 0.01),
        "reset": widgets.Dropdown(
            options=[(tr("subtract", context="reset"), "subtract"),
                     (tr("zero", context="reset"), "zero")],
            value="subtract", description=tr("reset")),
    }
    return panel(draw_lif, controls)
