"""Lesson 04: a fully connected SNN on MNIST."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from torch import Tensor

from snnlab import animate, checks, plot
from snnlab.course.widgets.panels import (
    check_label,
    check_labels,
    image_batch,
    new_figure,
    one_image,
    panel,
    slider,
)
from snnlab.i18n import tr
from snnlab.neurons import LIF

MEMBRANE_FLOOR = -4.0  # the membrane panel stops here: wrong classes sink far below it


def _output_threshold(model: torch.nn.Module) -> float:
    """The firing threshold of the model's last LIF layer (its output neurons)."""
    neurons = [module for module in model.modules() if isinstance(module, LIF)]
    if not neurons:
        raise TypeError(f"model must contain LIF neurons, got {type(model).__name__} without any")
    return float(neurons[-1].threshold.reshape(-1)[0])


def run_network(model: torch.nn.Module, image: Tensor, num_steps: int | None = None,
                seed: int = 0) -> tuple[Tensor, Tensor]:
    """One image through a classifier: its output ``(spikes, membrane)``, each ``[num_steps, C]``.

    ``model``: a network with a ``num_steps`` attribute (FCSNN, SingleLayerSNN, CSNN);
    ``num_steps`` replaces it for this run only. ``image``: 784 pixels in [0, 1]
    (``[1, 28, 28]``, ``[28, 28]`` or ``[784]``). Random input spikes (SingleLayerSNN's Poisson
    input) are drawn with ``seed``, so the same settings give the same picture; the global
    random stream is left as it was.
    """
    image = one_image("image", image, 28)
    checks.integer("seed", seed)
    default_steps = getattr(model, "num_steps", None)
    if not isinstance(model, torch.nn.Module) or default_steps is None:
        raise TypeError("model must be an snnlab classifier with a num_steps attribute "
                        f"(FCSNN, SingleLayerSNN, CSNN), got {type(model).__name__}")
    num_steps = default_steps if num_steps is None else num_steps
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps must be a positive int, got {num_steps!r}")
    device = next(model.parameters()).device
    x = image.detach().reshape(1, 1, 28, 28).to(device)
    model.num_steps = num_steps
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            spikes, membrane = model(x)
    finally:
        model.num_steps = default_steps
    return spikes[:, 0].cpu(), membrane[:, 0].cpu()


def draw_output_layer(spikes: Tensor, membrane: Tensor, image: Tensor, label: int | None = None,
                      threshold: float = 1.0, title: str = "") -> Figure:
    """A digit and the output layer's answer: membrane traces, spike raster and spike counts.

    ``spikes``, ``membrane``: ``[num_steps, C]`` output record of one digit (see
    :func:`run_network`); ``image``: the digit's 784 pixels. The prediction is the class with
    the most spikes (a tie goes to the lowest class, like ``argmax``). The label's neuron is
    drawn in vermillion, the predicted one in blue when it differs, the others in grey. When
    several classes share the highest count, every one of them is blue (as in
    :func:`vote_video`) and the title names the tie and the class ``argmax`` picks.
    """
    spikes = checks.tensor("spikes", spikes, floating=False).detach().cpu().float()
    membrane = checks.finite("membrane", checks.tensor("membrane", membrane)).detach().cpu().float()
    if spikes.dim() != 2 or membrane.shape != spikes.shape or 0 in spikes.shape:
        raise ValueError(f"spikes and membrane must both be [num_steps, classes], got "
                         f"{tuple(spikes.shape)} and {tuple(membrane.shape)}")
    one_image("image", image, 28)
    check_label(label, spikes.shape[1])
    checks.positive_number("threshold", threshold)
    num_steps, num_classes = spikes.shape
    counts = spikes.sum(0)
    prediction = int(counts.argmax())
    best = float(counts.max())
    leaders = [c for c in range(num_classes) if best > 0 and float(counts[c]) == best]

    fig = new_figure(10.0, 4.4)
    grid = fig.add_gridspec(2, 3, width_ratios=[1.0, 2.9, 2.0], height_ratios=[1.25, 1.0],
                            left=0.015, right=0.985, bottom=0.12, top=0.83, wspace=0.3,
                            hspace=0.12)
    ax_image = fig.add_subplot(grid[:, 0])
    ax_mem = fig.add_subplot(grid[0, 1])
    ax_raster = fig.add_subplot(grid[1, 1], sharex=ax_mem)
    ax_counts = fig.add_subplot(grid[:, 2])

    ax_image.imshow(image.detach().cpu().reshape(28, 28).numpy(), cmap="gray", vmin=0, vmax=1,
                    interpolation="nearest")
    ax_image.set_title(tr("input") if label is None else tr("input (label {label})").format(
        label=label), fontsize="medium")
    ax_image.set_axis_off()

    def colour(c: int, grey: str = "#888888") -> str:
        return (plot.HIGHLIGHT if c == label else plot.BAR if c == prediction or c in leaders
                else grey)

    t = torch.arange(num_steps).numpy()
    others = [c for c in range(num_classes) if c not in (label, prediction)]
    for c in others:  # first, so the two coloured traces lie on top
        ax_mem.plot(t, membrane[:, c].numpy(), color="#BBBBBB", lw=0.8)
    for c in dict.fromkeys([label, prediction]):
        if c is not None:
            role = (tr("class {c} (label, predicted)") if c == label == prediction
                    else tr("class {c} (label)") if c == label else tr("class {c} (prediction)"))
            ax_mem.plot(t, membrane[:, c].numpy(), color=colour(c), lw=1.8,
                        label=role.format(c=c))
    ax_mem.plot([], [], color="#BBBBBB", lw=0.8, label=tr("other classes"))
    ax_mem.axhline(threshold, color=plot.THRESHOLD, ls="--", lw=1)
    ax_mem.text(1.005, threshold, tr(r"threshold $\theta$"), transform=ax_mem.get_yaxis_transform(),
                va="center", ha="left", color=plot.THRESHOLD, fontsize="x-small")
    low = max(float(membrane.min()), MEMBRANE_FLOOR * threshold)
    high = max(float(membrane.max()), threshold)
    margin = 0.08 * (high - low)
    ax_mem.set_ylim(low - margin, high + margin)
    ax_mem.set_ylabel(tr("membrane U"))
    ax_mem.tick_params(labelbottom=False)
    ax_mem.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=3, frameon=False,
                  fontsize="small", borderaxespad=0.2, handlelength=1.5)
    ax_mem.spines[["top", "right"]].set_visible(False)

    plot.raster(spikes, ax=ax_raster, ylabel=tr("class"),
                color=[colour(c) for c in range(num_classes)])
    ax_raster.tick_params(axis="y", labelsize="small")

    plot.spike_counts(spikes, ax=ax_counts)
    for c, bar in enumerate(ax_counts.patches):  # the same colours as the traces
        bar.set_color(colour(c, grey="#AAAAAA"))
    ax_counts.set_ylabel(tr("spikes in {steps} steps").format(steps=num_steps))
    ax_counts.set_xlabel(tr("class"))
    if counts.max() == 0:
        verdict = tr("no output spikes: argmax picks class 0")
    else:
        verdict = tr("prediction {c}").format(c=prediction)
        if len(leaders) > 1:  # short: the panel is narrow (the label is over the image)
            verdict = tr("tie {classes}: argmax picks {c}").format(
                classes=", ".join(map(str, leaders)), c=prediction)
        if label is not None:
            wrong = " ✗" if len(leaders) > 1 else " " + tr("✗ (label {label})").format(
                label=label)
            verdict += " ✓" if prediction == label else wrong
    ax_counts.set_title(verdict, fontsize="medium")
    if title:
        fig.suptitle(title, fontsize="medium", x=0.015, ha="left")
    return fig


def output_explorer(networks: torch.nn.Module | dict[str, torch.nn.Module], images: Tensor,
                    labels: Any = None) -> widgets.interactive:
    """Browse test digits: a trained classifier's output spikes, membranes and prediction.

    ``networks``: one model, or ``{name: model}`` to switch between several (a dropdown).
    ``images``: ``[K, 1, 28, 28]`` digits in [0, 1]; ``labels``: their K labels (optional).
    ``num_steps`` sets how many steps each digit is shown for (for SingleLayerSNN: how many
    Poisson input steps are drawn).
    """
    if isinstance(networks, torch.nn.Module):
        networks = {type(networks).__name__: networks}
    if not isinstance(networks, dict) or not networks:
        raise TypeError("networks must be a model or a non-empty dict {name: model}, got "
                        f"{type(networks).__name__}")
    for name, model in networks.items():
        if not isinstance(model, torch.nn.Module) or not hasattr(model, "num_steps"):
            raise TypeError(f"networks[{name!r}] must be an snnlab classifier with num_steps "
                            f"(FCSNN, SingleLayerSNN, CSNN), got {type(model).__name__}")
    images = image_batch(images, 28)
    check_labels(labels, len(images))
    names = list(networks)

    def draw(digit: int, num_steps: int, network: str) -> Figure:
        model = networks[network]
        spikes, membrane = run_network(model, images[digit], num_steps)
        label = int(labels[digit]) if labels is not None else None
        name = (tr("digit #{index}") if label is None
                else tr("digit #{index} (label {label})")).format(index=digit, label=label)
        return draw_output_layer(spikes, membrane, images[digit], label,
                                 _output_threshold(model),
                                 title=tr("{network}, {digit}").format(network=network,
                                                                        digit=name))

    controls = {
        "digit": slider(tr("digit (index)"), 0, 0, len(images) - 1, 1, integer=True),
        "num_steps": slider(tr("num_steps"), int(networks[names[0]].num_steps), 5, 200, 5,
                             integer=True),
        "network": widgets.Dropdown(options=names, value=names[0], description=tr("network")),
    }
    return panel(draw, controls)


def vote_video(spikes: Tensor, image: Tensor, label: int, fps: float = 5) -> animate.Video:
    """The output layer's vote for one digit, growing step by step, as a video. Lesson 04.

    ``spikes``: ``[num_steps, C]`` output spikes of one digit; ``image``: its 784 pixels;
    ``label``: its class. Left: the digit and its label. Right: each class's spike count so far,
    in the colours of :func:`draw_output_layer`: the label's bar in vermillion, another class
    that leads (or ties for the lead) in blue, the rest in grey; a legend says so. The title
    names the leading class at each step.
    """
    spikes = spikes.detach().cpu().float()
    if spikes.dim() != 2:
        raise ValueError(f"spikes must be [num_steps, classes] for one digit, got shape "
                         f"{tuple(spikes.shape)}")
    counts = spikes.cumsum(0).int()  # [T, C]: spikes so far
    num_steps, num_classes = counts.shape
    fig = Figure(figsize=(8.0, 3.2), dpi=animate.DPI)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(1, 2, width_ratios=[1.0, 3.0], left=0.02, right=0.98, bottom=0.16,
                            top=0.8, wspace=0.3)
    ax_image, ax = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    ax_image.imshow(image.detach().cpu().reshape(28, 28).numpy(), cmap="gray", vmin=0, vmax=1,
                    interpolation="nearest")
    ax_image.set_title(tr("input, label {label}").format(label=label), fontsize="medium")
    ax_image.set_axis_off()
    grey = "#AAAAAA"
    bars = ax.bar(range(num_classes), counts[0].tolist(), color=grey, width=0.7)
    numbers = [ax.text(c, 0, "", ha="center", va="bottom", fontsize="small")
               for c in range(num_classes)]
    ax.set_xticks(range(num_classes))
    ax.set_xlim(-0.6, num_classes - 0.4)
    ax.set_ylim(0, max(1, int(counts[-1].max())) * 1.2)
    ax.set_xlabel(tr("class (output neuron)"))
    ax.set_ylabel(tr("spike count so far"))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(handles=[Patch(color=plot.HIGHLIGHT,
                             label=tr("the label, {label}").format(label=label)),
                       Patch(color=plot.BAR, label=tr("another class leading or tied")),
                       Patch(color=grey, label=tr("other classes"))],
              loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=3, frameon=False,
              fontsize="small", borderaxespad=0.3)
    title = fig.text(0.02, 0.95, " ", fontsize="medium")

    def draw(t: int) -> list:
        best = int(counts[t].max())
        leaders = [c for c in range(num_classes) if best > 0 and counts[t, c] == best]
        for c, (bar, number) in enumerate(zip(bars, numbers, strict=True)):
            count = int(counts[t, c])
            bar.set_height(count)
            bar.set_color(plot.HIGHLIGHT if c == label else plot.BAR if c in leaders else grey)
            number.set_position((c, count))
            number.set_text(str(count))
        lead = (tr("no spikes yet") if not leaders
                else tr("class {name} leads").format(name=leaders[0]) if len(leaders) == 1
                else tr("tie: {classes}").format(classes=", ".join(map(str, leaders))))
        # time steps from 0, as the rasters and snnlab.animate count them
        title.set_text(tr("time step {t} (of 0-{last}): {standing}").format(
            t=t, last=num_steps - 1, standing=lead))
        return [*bars, *numbers, title]

    return animate.FigureVideo(fig, draw, num_steps, fps)
