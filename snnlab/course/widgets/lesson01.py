"""Lesson 01: spike encoding."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import matplotlib
import torch
from matplotlib.figure import Figure
from torch import Tensor

from snnlab import encoding, plot
from snnlab.course.widgets.panels import (
    check_labels,
    enable_with,
    image_batch,
    new_figure,
    one_image,
    panel,
    slider,
)
from snnlab.i18n import tr

CODES = ("rate", "latency (log)", "latency (linear)")


def code_name(code: str) -> str:
    """How a panel names one of ``CODES`` (the code itself in English, translated in Chinese)."""
    return {"rate": tr("rate", context="encoding"), "latency (log)": tr("latency (log)"),
            "latency (linear)": tr("latency (linear)")}.get(code, code)


def encode(image: Tensor, code: str, num_steps: int, gain: float = 1.0, tau: float = 5.0,
           threshold: float = 0.01) -> Tensor:
    """Spikes ``[num_steps, *image.shape]`` of ``image`` in one of ``CODES``.

    The rate code is seeded (seed 0), so the same settings always give the same picture.
    Latency codes use ``normalize=True`` and ``clip=True`` so every spike fits in the window.
    """
    if code == "rate":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return encoding.rate(image, num_steps, gain=gain)
    if code in ("latency (log)", "latency (linear)"):
        return encoding.latency(image, num_steps, tau=tau, threshold=threshold,
                                linear=code == "latency (linear)", normalize=True, clip=True)
    raise ValueError(f"code must be one of {CODES}, got {code!r}")


def draw_encoding(image: Tensor, code: str = "rate", num_steps: int = 50, gain: float = 0.5,
                  tau: float = 5.0, threshold: float = 0.01, label: str = "") -> Figure:
    """The digit, the raster of its 784 input neurons, and the picture the spikes make.

    ``image``: ``[28, 28]`` (or ``[1, 28, 28]``) in [0, 1]. The right panel shows the spike
    count per pixel for the rate code, and the spike time for the latency codes.
    """
    image = one_image("image", image, 28).cpu().reshape(28, 28)
    spikes = encode(image, code, num_steps, gain, tau, threshold)  # [T, 28, 28]
    fig = new_figure(10.0, 3.3)
    grid = fig.add_gridspec(1, 3, width_ratios=[1, 2.6, 1.2], left=0.01, right=0.97,
                            bottom=0.15, top=0.86, wspace=0.25)
    ax_image, ax_raster, ax_code = (fig.add_subplot(cell) for cell in grid)

    ax_image.imshow(image.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax_image.set_title(tr("input {label}").format(label=label) if label else tr("input"),
                       fontsize="medium")
    ax_image.set_axis_off()

    plot.raster(spikes.reshape(num_steps, -1), ax=ax_raster, ylabel=tr("input neuron (pixel)"))
    total = int(spikes.sum())
    ax_raster.set_title(tr("{code}: {count} spikes in {steps} steps").format(
        code=code_name(code), count=total, steps=num_steps), fontsize="medium")

    if code == "rate":
        counts = spikes.sum(0)
        # Scaled to the busiest pixel, not to num_steps: at low gain the picture gets noisier,
        # not just darker.
        shown = ax_code.imshow(counts.numpy(), cmap="gray", interpolation="nearest",
                               vmin=0, vmax=max(1.0, float(counts.max())))
        title = tr("spike count per pixel\n(white: the busiest pixel)")
    else:
        fired = spikes.sum(0) > 0
        when = torch.where(fired, spikes.argmax(0).to(image.dtype), torch.tensor(float("nan")))
        colours = matplotlib.colormaps["viridis_r"].with_extremes(bad="#d9d9d9")
        shown = ax_code.imshow(when.numpy(), cmap=colours, interpolation="nearest",
                               vmin=0, vmax=num_steps - 1)
        title = tr("spike time (step)\ngrey: no spike")
    ax_code.set_title(title, fontsize="medium")
    ax_code.set_axis_off()
    fig.colorbar(shown, ax=ax_code, shrink=0.8)
    return fig


def encoding_explorer(images: Tensor, labels: Any = None) -> widgets.interactive:
    """Pick a digit and a code, set gain / tau / threshold / num_steps; see the raster update.

    ``images``: ``[K, 1, 28, 28]`` or ``[K, 28, 28]`` digits in [0, 1]; ``labels``: their K
    labels (optional, shown in the title). Gain acts on the rate code, tau and threshold on
    the latency codes.
    """
    images = image_batch(images, 28)
    check_labels(labels, len(images))
    names = [str(int(label)) for label in labels] if labels is not None else None

    def draw(digit: int, code: str, num_steps: int, gain: float, tau: float,
             threshold: float) -> Figure:
        label = tr("(digit {name})").format(name=names[digit]) if names else f"#{digit}"
        return draw_encoding(images[digit], code, num_steps, gain, tau, threshold, label)

    controls = {
        "digit": slider(tr("digit (index)"), 0, 0, len(images) - 1, 1, integer=True),
        "code": widgets.Dropdown(options=[(code_name(code), code) for code in CODES],
                                 value="rate", description=tr("code")),
        "num_steps": slider(tr("num_steps"), 50, 10, 200, 10, integer=True),
        "gain": slider(tr("gain"), 0.5, 0.05, 1.0, 0.05),
        "tau": slider(tr("tau"), 5.0, 0.5, 20.0, 0.5),
        "threshold": slider(tr("threshold theta"), 0.01, 0.01, 0.5, 0.01),
    }
    # Grey out the knobs the chosen code does not use: gain is the rate code's, tau and
    # threshold the latency codes'.
    enable_with(controls["code"], {"gain": ["rate"], "tau": CODES[1:], "threshold": CODES[1:]},
                 controls)
    return panel(draw, controls)
