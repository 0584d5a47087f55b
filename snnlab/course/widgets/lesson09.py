"""Lesson 09: spike-timing-dependent plasticity (STDP)."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from snnlab import checks, plot, stdp
from snnlab.course.widgets.panels import new_figure, panel, slider
from snnlab.i18n import tr

WINDOW = 60          # the window is drawn for dt from -WINDOW to WINDOW steps
PAIRS, PERIOD = 10, 40   # the pairing experiment: PAIRS pre/post pairs, one every PERIOD steps


def pairing(dt: int, num_pairs: int = PAIRS, period: int = PERIOD) -> tuple[Tensor, Tensor]:
    """Spike trains ``[T, 1, 1]`` of one input (pre) and one output (post) neuron: ``num_pairs``
    pairs, one every ``period`` steps, the post spike ``dt`` steps after the pre spike (before
    it if ``dt < 0``). Lesson 09."""
    dt = checks.integer("dt", dt)
    num_pairs = checks.positive_int("num_pairs", num_pairs)
    period = checks.positive_int("period", period)
    if abs(dt) >= period // 2:
        raise ValueError(f"dt must lie within +-{period // 2 - 1} steps, so that each pair is "
                         f"closer than the next (period {period}), got {dt}")
    start = period // 2
    num_steps = start + num_pairs * period
    pre, post = torch.zeros(num_steps, 1, 1), torch.zeros(num_steps, 1, 1)
    for k in range(num_pairs):
        pre[start + k * period] = 1.0
        post[start + k * period + dt] = 1.0
    return pre, post


def pairing_run(dt: int, A_plus: float, A_minus: float, tau_plus: float, tau_minus: float,
                weight: float = 0.5) -> dict[str, Tensor]:
    """One synapse through ``pairing(dt)`` with hard bounds [0, 1], step by step with
    ``stdp.stdp_step``: ``{"pre", "post", "x_pre", "x_post", "weight"}``, each ``[T]`` (the
    weight after each step). Lesson 09."""
    pre, post = pairing(dt)
    w = torch.full((1, 1), checks.number("weight", weight, "in [0, 1]", lambda v: 0 <= v <= 1))
    state, rows = None, {"x_pre": [], "x_post": [], "weight": []}
    for pre_t, post_t in zip(pre, post, strict=True):
        w, state = stdp.stdp_step(w, pre_t, post_t, state, A_plus, A_minus, tau_plus, tau_minus)
        rows["x_pre"].append(state.pre[0, 0])
        rows["x_post"].append(state.post[0, 0])
        rows["weight"].append(w[0, 0])
    return {"pre": pre[:, 0, 0], "post": post[:, 0, 0],
            **{name: torch.stack(values) for name, values in rows.items()}}


def draw_stdp(dt: int = 5, A_plus: float = 0.01, A_minus: float = 0.0105, tau_plus: float = 20.0,
              tau_minus: float = 20.0) -> Figure:
    """Left: the STDP window W(dt), with the chosen dt marked. Right: ten pre/post pairs dt
    steps apart, the two traces, and the weight they move. Lesson 09."""
    dts = torch.arange(-WINDOW, WINDOW + 1, dtype=torch.float32)
    window = stdp.stdp_window(dts, A_plus, A_minus, tau_plus, tau_minus)
    run = pairing_run(dt, A_plus, A_minus, tau_plus, tau_minus)
    fig = new_figure(9.0, 4.4)
    left = fig.add_gridspec(1, 1, left=0.12, right=0.39, bottom=0.13, top=0.86)
    right = fig.add_gridspec(3, 1, left=0.47, right=0.98, bottom=0.13, top=0.86, hspace=0.15)
    ax = fig.add_subplot(left[0])
    ax.axhline(0, color=plot.THRESHOLD, lw=0.6)
    ax.axvline(0, color=plot.THRESHOLD, lw=0.6)
    positive = dts >= 0
    ax.plot(dts[positive], window[positive], color=plot.HIGHLIGHT, lw=1.5)
    ax.plot(dts[~positive], window[~positive], color=plot.BAR, lw=1.5)
    ax.plot([dt], [float(stdp.stdp_window(float(dt), A_plus, A_minus, tau_plus, tau_minus))],
            "o", color=plot.INK)
    ax.set_xlabel(tr("dt = t_post - t_pre (steps)"))
    ax.set_ylabel(tr("weight change W(dt)"))
    ax.set_title(tr("the STDP window"), fontsize="medium")
    t = np.arange(len(run["pre"]))
    ax_pre, ax_post, ax_w = (fig.add_subplot(right[i]) for i in range(3))
    for axis, spikes, trace_, name, colour in (
            (ax_pre, run["pre"], run["x_pre"], tr("input trace x_pre"), plot.BAR),
            (ax_post, run["post"], run["x_post"], tr("output trace x_post"), plot.HIGHLIGHT)):
        axis.plot(t, trace_, color=colour, lw=1.0)
        axis.vlines(t[spikes.numpy() > 0], 0, 1, color=plot.INK, lw=1.0)  # the spikes
        axis.set_ylabel(name, fontsize="small")
        axis.set_xticklabels([])
    ax_w.plot(t, run["weight"], color=plot.INK, lw=1.3)
    ax_w.set_ylabel(tr("weight w"), fontsize="small")
    ax_w.set_xlabel(tr("time step t"))
    change = float(run["weight"][-1] - run["weight"][0])
    ax_pre.set_title(tr("{pairs} pairs at dt = {dt}: weight {start:.2f} -> {end:.2f} "
                        "({change:+.3f})").format(
        pairs=PAIRS, dt=dt, start=0.5, end=float(run["weight"][-1]), change=change),
        fontsize="medium")
    return fig


def stdp_explorer() -> widgets.interactive:
    """The STDP window's four parameters and the timing of a pre/post pair; the window and the
    weight the pairs move, live. Lesson 09."""
    controls = {
        "dt": slider(tr("dt = t_post - t_pre"), 5, -19, 19, 1, integer=True),
        "A_plus": slider("A+", 0.01, 0.0, 0.03, 0.001),
        "A_minus": slider("A-", 0.0105, 0.0, 0.03, 0.001),
        "tau_plus": slider("tau+", 20.0, 2.0, 50.0, 1.0),
        "tau_minus": slider("tau-", 20.0, 2.0, 50.0, 1.0),
    }
    for name in ("A_plus", "A_minus"):
        controls[name].readout_format = ".4f"
    return panel(draw_stdp, controls)


def receptive_fields(weight: Tensor, labels: Tensor | None = None, columns: int = 20,
                     title: str = "") -> Figure:
    """Each neuron's incoming weights ``weight[:, j]`` (``[784, n]``) as a 28 x 28 image, in a
    grid of ``columns``; with ``labels`` (``[n]``, the digit each neuron was assigned), the
    digit in the corner of its image. Lesson 09."""
    weight = checks.tensor("weight", weight).detach().float().cpu()
    if weight.dim() != 2 or weight.shape[0] != 784:
        raise ValueError(f"weight must be [784, num_neurons] (a neuron's weights are a 28 x 28 "
                         f"image), got shape {tuple(weight.shape)}")
    columns = checks.positive_int("columns", columns)
    count = weight.shape[1]
    if labels is not None and (not isinstance(labels, Tensor) or labels.shape != (count,)):
        raise ValueError(f"labels must be a tensor [{count}], one digit per neuron")
    rows = -(-count // columns)
    grid = np.ones((rows * 29 + 1, columns * 29 + 1))
    for j in range(count):
        r, c = divmod(j, columns)
        image = weight[:, j].reshape(28, 28).numpy()
        grid[1 + r * 29:1 + r * 29 + 28, 1 + c * 29:1 + c * 29 + 28] = image / max(image.max(),
                                                                                   1e-12)
    cell = 0.42 if columns > 10 else 0.6
    fig = new_figure(columns * cell, rows * cell + (0.35 if title else 0.05))
    ax = fig.add_axes((0, 0, 1, 1 - (0.35 / (rows * cell + 0.35) if title else 0)))
    ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    if labels is not None:
        for j, label in enumerate(labels.tolist()):
            r, c = divmod(j, columns)
            ax.text(c * 29 + 3, r * 29 + 8, str(label), color=plot.HIGHLIGHT,
                    fontsize=6 if columns > 10 else 8)
    ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize="medium", y=1 - 0.05 / (rows * cell + 0.35))
    return fig
