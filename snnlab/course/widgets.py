"""Interactive panels for the lessons: turn a knob, watch the spikes change.

Every panel works the same way:

1. a ``draw(**settings) -> Figure`` function makes the picture for one setting of the knobs;
2. the picture for the default settings is shown once as a plain PNG, so a handout or a page
   without a running kernel still shows it; in a live notebook, as soon as the front end has
   drawn the panel, that copy is emptied (the panel shows the same picture, and updates it);
3. an ``ipywidgets.interactive`` panel with the sliders follows; each change re-draws the figure
   and shows it as a PNG inside the panel's Output area (``panel.out``).

Each panel function displays both and returns the panel (end the notebook line with ``;`` so
Jupyter does not show it twice). Nothing waits for input, so notebooks run top to bottom, also
in quick mode (``SNNLAB_QUICK=1``).

One section per lesson; a new lesson adds its ``draw_*`` function and panel function below.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import matplotlib
import numpy as np
import torch
from IPython.display import Image, display
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.transforms import offset_copy
from torch import Tensor

from snnlab import animate, checks, encoding, plot, surrogate
from snnlab.models import SpikingAutoencoder
from snnlab.neurons import LIF

__all__ = ["encoding_explorer", "lif_explorer", "surrogate_explorer", "output_explorer",
           "csnn_explorer", "autoencoder_explorer", "draw_encoding", "draw_lif",
           "draw_surrogate", "draw_output_layer", "draw_csnn_layer", "draw_autoencoder",
           "vote_video", "event_explorer", "draw_events", "event_video"]

DPI = 90  # panel figures: sharp enough, and small enough to re-draw in well under 0.5 s


# ---------------------------------------------------------------------------------------------
# Shared machinery
# ---------------------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    """A figure drawn by Agg alone: pyplot never sees it, so it is never shown twice.

    Panels place their axes by hand (fixed margins): an automatic layout would double the
    time of every re-draw.
    """
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    with matplotlib.rc_context({"savefig.dpi": DPI}):
        fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _png_output(png: bytes) -> dict[str, Any]:
    """An Output-widget entry holding one PNG (the same form Jupyter stores a displayed image)."""
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(png).decode("ascii"),
                     "text/plain": "<snnlab panel figure>"}}


def panel(draw: Callable[..., Figure], controls: dict[str, widgets.Widget],
          extra: Callable[..., list[dict[str, Any]]] | None = None) -> widgets.interactive:
    """Show ``draw(**defaults)`` as a static PNG, then an interactive panel; return the panel.

    ``controls`` maps each keyword argument of ``draw`` to its widget. On every change the
    panel sets ``panel.out.outputs`` to the new PNG (set directly rather than printed into the
    Output, so it also works, and can be tested, without a running kernel), followed by the
    outputs ``extra(**settings)`` returns, if given (lesson 07 adds a video).

    The static PNG is for pages without a kernel (a notebook executed by nbconvert, GitHub,
    the handouts). A live front end counts the views it draws of a widget whose
    ``_view_count`` is a number (ipywidgets' view counter); the first one means the panel is
    on screen, and the static copy is replaced by an empty output, so the figure shows once.
    """
    defaults = {name: control.value for name, control in controls.items()}
    static = display(Image(data=to_png(draw(**defaults))), display_id=True)

    latest: list[dict[str, Any]] = []  # the newest figure, as one Output entry
    panels: list[widgets.interactive] = []

    def update(**settings: Any) -> None:
        latest[:] = [_png_output(to_png(draw(**settings)))] + (
            extra(**settings) if extra is not None else [])
        for ui in panels:  # empty during the first call, made while the panel is being built
            ui.out.outputs = tuple(latest)

    ui = widgets.interactive(update, {"manual": False}, clear_output=False, **controls)
    ui.out.outputs = tuple(latest)
    panels.append(ui)

    def empty_static_copy(change: dict[str, Any]) -> None:
        if change["new"] and static is not None:  # drawn by a live front end
            static.update({"text/plain": ""}, raw=True)
            ui.unobserve(empty_static_copy, "_view_count")

    ui._view_count = 0  # a number: front ends now report each view they draw
    ui.observe(empty_static_copy, "_view_count")
    display(ui)
    return ui


def _image(name: str, value: object, side: int) -> Tensor:
    """One image of side x side pixels in [0, 1] (``[1, side, side]``, ``[side, side]`` or
    ``[side * side]``)."""
    checks.tensor(name, value)
    if value.numel() != side * side:
        raise ValueError(f"{name} must be one {side}x{side} image, {side * side} pixels "
                         f"([1, {side}, {side}], [{side}, {side}] or [{side * side}]), got shape "
                         f"{tuple(value.shape)}" + ("; pick one image first, e.g. images[0]"
                                                    if value.numel() % (side * side) == 0 else ""))
    return checks.unit_range(name, value.detach())


def _images(value: object, side: int) -> Tensor:
    """A batch of K >= 1 images in [0, 1]: ``[K, 1, side, side]`` or ``[K, side, side]``."""
    checks.tensor("images", value)
    if value.dim() not in (3, 4) or len(value) == 0 or tuple(value.shape[-2:]) != (side, side) \
            or value[0].numel() != side * side:
        raise ValueError(f"images must be a tensor [K, 1, {side}, {side}] or [K, {side}, {side}] "
                         f"with K >= 1, got shape {tuple(value.shape)}"
                         + (f" (load MNIST with size={side})" if value.dim() == 4 else ""))
    return checks.unit_range("images", value.detach())


def _labels(labels: Any, count: int) -> None:
    """None, or one integer class label per image."""
    if labels is None:
        return
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__len__"):
        raise TypeError(f"labels must be None or a list or tensor of {count} int labels, got "
                        f"{type(labels).__name__}")
    if len(labels) != count:
        raise ValueError(f"labels must have one entry per image ({count}), got {len(labels)}")
    for label in labels:
        if isinstance(label, Tensor):
            label = label.item() if label.numel() == 1 and not label.is_floating_point() else None
        if isinstance(label, bool) or not isinstance(label, int):
            raise TypeError(f"labels must hold int class labels, got {label!r}")


def _label(label: object, num_classes: int) -> None:
    if label is not None and (isinstance(label, bool) or not isinstance(label, int)
                              or not 0 <= label < num_classes):
        raise ValueError(f"label must be None or a class from 0 to {num_classes - 1}, "
                         f"got {label!r}")


def _slider(description: str, value: float, low: float, high: float, step: float,
            integer: bool = False) -> widgets.Widget:
    kind = widgets.IntSlider if integer else widgets.FloatSlider
    return kind(value=value, min=low, max=high, step=step, description=description,
                continuous_update=False, style={"description_width": "initial"})


# ---------------------------------------------------------------------------------------------
# Lesson 01: spike encoding
# ---------------------------------------------------------------------------------------------

CODES = ("rate", "latency (log)", "latency (linear)")


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
    image = _image("image", image, 28).cpu().reshape(28, 28)
    spikes = encode(image, code, num_steps, gain, tau, threshold)  # [T, 28, 28]
    fig = _figure(10.0, 3.3)
    grid = fig.add_gridspec(1, 3, width_ratios=[1, 2.6, 1.2], left=0.01, right=0.97,
                            bottom=0.15, top=0.86, wspace=0.25)
    ax_image, ax_raster, ax_code = (fig.add_subplot(cell) for cell in grid)

    ax_image.imshow(image.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax_image.set_title(f"input {label}".strip(), fontsize="medium")
    ax_image.set_axis_off()

    plot.raster(spikes.reshape(num_steps, -1), ax=ax_raster, ylabel="input neuron (pixel)")
    total = int(spikes.sum())
    ax_raster.set_title(f"{code}: {total} spikes in {num_steps} steps", fontsize="medium")

    if code == "rate":
        counts = spikes.sum(0)
        # Scaled to the busiest pixel, not to num_steps: at low gain the picture gets noisier,
        # not just darker.
        shown = ax_code.imshow(counts.numpy(), cmap="gray", interpolation="nearest",
                               vmin=0, vmax=max(1.0, float(counts.max())))
        title = "spike count per pixel\n(white: the busiest pixel)"
    else:
        fired = spikes.sum(0) > 0
        when = torch.where(fired, spikes.argmax(0).to(image.dtype), torch.tensor(float("nan")))
        colours = matplotlib.colormaps["viridis_r"].with_extremes(bad="#d9d9d9")
        shown = ax_code.imshow(when.numpy(), cmap=colours, interpolation="nearest",
                               vmin=0, vmax=num_steps - 1)
        title = "spike time (step)\ngrey: no spike"
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
    images = _images(images, 28)
    _labels(labels, len(images))
    names = [str(int(label)) for label in labels] if labels is not None else None

    def draw(digit: int, code: str, num_steps: int, gain: float, tau: float,
             threshold: float) -> Figure:
        label = f"(digit {names[digit]})" if names else f"#{digit}"
        return draw_encoding(images[digit], code, num_steps, gain, tau, threshold, label)

    controls = {
        "digit": _slider("digit (index)", 0, 0, len(images) - 1, 1, integer=True),
        "code": widgets.Dropdown(options=CODES, value="rate", description="code"),
        "num_steps": _slider("num_steps", 50, 10, 200, 10, integer=True),
        "gain": _slider("gain", 0.5, 0.05, 1.0, 0.05),
        "tau": _slider("tau", 5.0, 0.5, 20.0, 0.5),
        "threshold": _slider("threshold theta", 0.01, 0.01, 0.5, 0.01),
    }
    # Grey out the knobs the chosen code does not use: gain is the rate code's, tau and
    # threshold the latency codes'.
    _enable_with(controls["code"], {"gain": ["rate"], "tau": CODES[1:], "threshold": CODES[1:]},
                 controls)
    return panel(draw, controls)


def _enable_with(chooser: widgets.Dropdown, used_by: dict[str, Any],
                 controls: dict[str, widgets.Widget]) -> None:
    """Enable each control in ``used_by`` only while ``chooser`` shows an option that uses it."""

    def update(*_: Any) -> None:
        for name, options in used_by.items():
            controls[name].disabled = chooser.value not in options

    chooser.observe(update, names="value")
    update()


# ---------------------------------------------------------------------------------------------
# Lesson 02: the leaky integrate-and-fire neuron
# ---------------------------------------------------------------------------------------------

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
    fig = _figure(7.5, 4.6)
    axes = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [1, 2, 1]})
    fig.subplots_adjust(left=0.12, right=0.88, bottom=0.1, top=0.91, hspace=0.35)
    plot.traces(current_seq, membrane, spikes, threshold=threshold, ax=axes)
    # A steady input I settles at U = I / (1 - beta) without spiking; show where that is.
    settle = current / (1 - beta) if beta < 1 else float("inf")
    fig.suptitle(f"{int(spikes.sum())} spikes;  without a threshold U would level off at "
                 rf"I / (1 - $\beta$) = {settle:.2f}", fontsize="medium")
    return fig


def lif_explorer() -> widgets.interactive:
    """Sliders for beta, threshold and input current, and the reset mode; live traces."""
    controls = {
        "beta": _slider("beta", 0.9, 0.5, 0.99, 0.01),
        "threshold": _slider("threshold theta", 1.0, 0.2, 2.0, 0.05),
        "current": _slider("input current I", 0.15, 0.0, 1.0, 0.01),
        "reset": widgets.Dropdown(options=RESETS, value="subtract", description="reset"),
    }
    return panel(draw_lif, controls)


# ---------------------------------------------------------------------------------------------
# Lesson 03: surrogate gradients
# ---------------------------------------------------------------------------------------------

SURROGATES = ("fast_sigmoid", "atan", "sigmoid", "straight_through")


def make_surrogate(name: str, slope: float = 25.0, alpha: float = 2.0) -> surrogate.Surrogate:
    """The surrogate called ``name``: fast_sigmoid and sigmoid use ``slope``, atan ``alpha``."""
    if name in ("fast_sigmoid", "sigmoid"):
        return getattr(surrogate, name)(slope)
    if name == "atan":
        return surrogate.atan(alpha)
    if name == "straight_through":
        return surrogate.straight_through()
    raise ValueError(f"name must be one of {SURROGATES}, got {name!r}")


def draw_surrogate(name: str = "fast_sigmoid", slope: float = 25.0, alpha: float = 2.0) -> Figure:
    """The step with the surrogate's smooth curve (left) and its derivative (right)."""
    fn = make_surrogate(name, slope, alpha)
    fig = _figure(7.5, 3.0)
    plot.surrogate(fn, ax=fig.subplots(1, 2))
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.17, top=0.8, wspace=0.3)
    knob = {"fast_sigmoid": f"slope = {slope:g}", "sigmoid": f"slope = {slope:g}",
            "atan": f"alpha = {alpha:g}", "straight_through": "no parameter"}[name]
    fig.suptitle(f"{name} ({knob})", fontsize="medium")
    return fig


def surrogate_explorer() -> widgets.interactive:
    """Pick a surrogate and its slope (fast_sigmoid, sigmoid) or alpha (atan)."""
    controls = {
        "name": widgets.Dropdown(options=SURROGATES, value="fast_sigmoid",
                                 description="surrogate"),
        # Logarithmic: the slopes of lesson 03's experiment, 0.3 to 1000, are all in reach.
        "slope": widgets.FloatLogSlider(value=25.0, base=10, min=-1, max=3, step=0.05,
                                        description="slope", continuous_update=False,
                                        style={"description_width": "initial"}),
        "alpha": widgets.FloatLogSlider(value=2.0, base=10, min=-1, max=2, step=0.05,
                                        description="alpha", continuous_update=False,
                                        style={"description_width": "initial"}),
    }
    _enable_with(controls["name"], {"slope": ["fast_sigmoid", "sigmoid"], "alpha": ["atan"]},
                 controls)
    return panel(draw_surrogate, controls)


# ---------------------------------------------------------------------------------------------
# Lesson 04: a fully connected SNN on MNIST
# ---------------------------------------------------------------------------------------------

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
    image = _image("image", image, 28)
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
    drawn in vermillion, the predicted one in blue when it differs, the others in grey.
    """
    spikes = checks.tensor("spikes", spikes, floating=False).detach().cpu().float()
    membrane = checks.finite("membrane", checks.tensor("membrane", membrane)).detach().cpu().float()
    if spikes.dim() != 2 or membrane.shape != spikes.shape or 0 in spikes.shape:
        raise ValueError(f"spikes and membrane must both be [num_steps, classes], got "
                         f"{tuple(spikes.shape)} and {tuple(membrane.shape)}")
    _image("image", image, 28)
    _label(label, spikes.shape[1])
    checks.positive_number("threshold", threshold)
    num_steps, num_classes = spikes.shape
    counts = spikes.sum(0)
    prediction = int(counts.argmax())

    fig = _figure(10.0, 4.4)
    grid = fig.add_gridspec(2, 3, width_ratios=[1.0, 2.9, 2.0], height_ratios=[1.25, 1.0],
                            left=0.015, right=0.985, bottom=0.12, top=0.83, wspace=0.3,
                            hspace=0.12)
    ax_image = fig.add_subplot(grid[:, 0])
    ax_mem = fig.add_subplot(grid[0, 1])
    ax_raster = fig.add_subplot(grid[1, 1], sharex=ax_mem)
    ax_counts = fig.add_subplot(grid[:, 2])

    ax_image.imshow(image.detach().cpu().reshape(28, 28).numpy(), cmap="gray", vmin=0, vmax=1,
                    interpolation="nearest")
    ax_image.set_title("input" if label is None else f"input (label {label})", fontsize="medium")
    ax_image.set_axis_off()

    def colour(c: int, grey: str = "#888888") -> str:
        return plot.HIGHLIGHT if c == label else plot.BAR if c == prediction else grey

    t = torch.arange(num_steps).numpy()
    others = [c for c in range(num_classes) if c not in (label, prediction)]
    for c in others:  # first, so the two coloured traces lie on top
        ax_mem.plot(t, membrane[:, c].numpy(), color="#BBBBBB", lw=0.8)
    for c in dict.fromkeys([label, prediction]):
        if c is not None:
            ax_mem.plot(t, membrane[:, c].numpy(), color=colour(c), lw=1.8,
                        label=f"class {c} " + ("(label, predicted)" if c == label == prediction
                                               else "(label)" if c == label else "(prediction)"))
    ax_mem.plot([], [], color="#BBBBBB", lw=0.8, label="other classes")
    ax_mem.axhline(threshold, color=plot.THRESHOLD, ls="--", lw=1)
    ax_mem.text(1.005, threshold, r"threshold $\theta$", transform=ax_mem.get_yaxis_transform(),
                va="center", ha="left", color=plot.THRESHOLD, fontsize="x-small")
    low = max(float(membrane.min()), MEMBRANE_FLOOR * threshold)
    high = max(float(membrane.max()), threshold)
    margin = 0.08 * (high - low)
    ax_mem.set_ylim(low - margin, high + margin)
    ax_mem.set_ylabel("membrane U")
    ax_mem.tick_params(labelbottom=False)
    ax_mem.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=3, frameon=False,
                  fontsize="small", borderaxespad=0.2, handlelength=1.5)
    ax_mem.spines[["top", "right"]].set_visible(False)

    plot.raster(spikes, ax=ax_raster, ylabel="class",
                color=[colour(c) for c in range(num_classes)])
    ax_raster.tick_params(axis="y", labelsize="small")

    plot.spike_counts(spikes, ax=ax_counts)
    for c, bar in enumerate(ax_counts.patches):  # the same colours as the traces
        bar.set_color(colour(c, grey="#AAAAAA"))
    ax_counts.set_ylabel(f"spikes in {num_steps} steps")
    ax_counts.set_xlabel("class")
    if counts.max() == 0:
        verdict = "no output spikes: argmax picks class 0"
    else:
        verdict = f"prediction {prediction}"
        if label is not None:
            verdict += " ✓" if prediction == label else f" ✗ (label {label})"
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
    images = _images(images, 28)
    _labels(labels, len(images))
    names = list(networks)

    def draw(digit: int, num_steps: int, network: str) -> Figure:
        model = networks[network]
        spikes, membrane = run_network(model, images[digit], num_steps)
        label = int(labels[digit]) if labels is not None else None
        return draw_output_layer(spikes, membrane, images[digit], label,
                                 _output_threshold(model), title=f"{network}, test digit #{digit}")

    controls = {
        "digit": _slider("digit (index)", 0, 0, len(images) - 1, 1, integer=True),
        "num_steps": _slider("num_steps", int(networks[names[0]].num_steps), 5, 200, 5,
                             integer=True),
        "network": widgets.Dropdown(options=names, value=names[0], description="network"),
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
    ax_image.set_title(f"input, label {label}", fontsize="medium")
    ax_image.set_axis_off()
    grey = "#AAAAAA"
    bars = ax.bar(range(num_classes), counts[0].tolist(), color=grey, width=0.7)
    numbers = [ax.text(c, 0, "", ha="center", va="bottom", fontsize="small")
               for c in range(num_classes)]
    ax.set_xticks(range(num_classes))
    ax.set_xlim(-0.6, num_classes - 0.4)
    ax.set_ylim(0, max(1, int(counts[-1].max())) * 1.2)
    ax.set_xlabel("class (output neuron)")
    ax.set_ylabel("spike count so far")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(handles=[Patch(color=plot.HIGHLIGHT, label=f"the label, {label}"),
                      Patch(color=plot.BAR, label="another class leading or tied"),
                      Patch(color=grey, label="other classes")],
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
        lead = ("no spikes yet" if not leaders else f"class {leaders[0]} leads" if
                len(leaders) == 1 else "tie: " + ", ".join(map(str, leaders)))
        title.set_text(f"time step {t + 1} / {num_steps}: {lead}")
        return [*bars, *numbers, title]

    return animate.FigureVideo(fig, draw, num_steps, fps)


# ---------------------------------------------------------------------------------------------
# Lesson 05: a convolutional SNN (feature maps over time, firing statistics)
# ---------------------------------------------------------------------------------------------

MAP_GAP = "#9a9a9a"  # the grey between the maps of a mosaic


def _one_sample_record(record: Any, name: str) -> Tensor:
    """One sample's layer record as a CPU float tensor ``[T, C, H, W]`` or ``[T, N]``."""
    if not isinstance(record, Tensor) or record.dim() not in (2, 4) or record.shape[0] == 0:
        raise ValueError(f"{name} must be one sample's spikes, [T, C, H, W] (feature maps) or "
                         f"[T, N] (neurons), got {type(record).__name__} of shape "
                         f"{tuple(getattr(record, 'shape', ()))}; pick a sample first, "
                         "e.g. layers['lif1'][:, 0]")
    return record.detach().cpu().float()


def describe_layer(record: Tensor) -> str:
    """What one sample's layer record holds: "12 maps of 12x12" or "10 neurons"."""
    record = _one_sample_record(record, "record")
    if record.dim() == 4:
        _, channels, height, width = record.shape
        return f"{channels} maps of {height}x{width}"
    return f"{record.shape[1]} neurons"


def mosaic(maps: Tensor, ncol: int | None = None) -> Tensor:
    """Feature maps side by side: ``[C, H, W]`` -> one 2-D image, a NaN line around each map.

    The maps fill a grid row by row, ``ncol`` maps per row (default ``ceil(sqrt(C))``); draw
    the NaN lines in grey with ``cmap.with_extremes(bad=...)``, so that a white spike at the
    edge of a map stays visible. ``[N]`` (single neurons) becomes a column of N cells: neuron
    n sits in row ``2 n + 1``.
    """
    if not isinstance(maps, Tensor) or maps.dim() not in (1, 3) or maps.numel() == 0:
        raise ValueError("maps must be a tensor [C, H, W] (feature maps) or [N] (neurons), got "
                         f"{type(maps).__name__} of shape {tuple(getattr(maps, 'shape', ()))}")
    if maps.dim() == 1:
        maps, ncol = maps.reshape(-1, 1, 1), 1
    channels, height, width = maps.shape
    ncol = math.ceil(math.sqrt(channels)) if ncol is None else ncol
    if isinstance(ncol, bool) or not isinstance(ncol, int) or ncol < 1:
        raise ValueError(f"ncol must be a positive int, got {ncol!r}")
    ncol = min(ncol, channels)
    nrow = math.ceil(channels / ncol)
    out = torch.full((nrow * (height + 1) + 1, ncol * (width + 1) + 1), float("nan"))
    for c in range(channels):
        top, left = 1 + (c // ncol) * (height + 1), 1 + (c % ncol) * (width + 1)
        out[top:top + height, left:left + width] = maps[c]
    return out


def firing_statistics(spikes: Tensor) -> dict[str, float]:
    """How busy one layer is, from its spikes ``[T, B, ...]`` on a batch of B images.

    A neuron is one entry of ``spikes[t, b]`` (in a convolutional layer: one channel at one
    position). With ``count[b, n]`` the spikes of neuron n on image b over the T steps:

    - ``rate``: spikes per neuron per step, averaged over everything;
    - ``dead``: the fraction of neurons that never fire, on any image (count = 0 for all b);
    - ``saturated``: the fraction that fire at every step of every image (count = T for all b);
    - ``silent per image``, ``saturated per image``: the same two fractions for each image on
      its own (count = 0, count = T), averaged over the images.
    """
    if not isinstance(spikes, Tensor) or spikes.dim() < 3 or 0 in spikes.shape:
        raise ValueError("spikes must be one layer's spikes [T, B, ...] (time, batch, neurons), "
                         f"got {type(spikes).__name__} of shape "
                         f"{tuple(getattr(spikes, 'shape', ()))}")
    spikes = spikes.detach().float()
    num_steps = spikes.shape[0]
    counts = spikes.flatten(2).sum(0)  # [B, N]
    per_image_silent = (counts == 0).float()
    per_image_saturated = (counts == num_steps).float()
    return {
        "neurons": counts.shape[1],
        "rate": spikes.mean().item(),
        "dead": per_image_silent.min(0).values.mean().item(),
        "saturated": per_image_saturated.min(0).values.mean().item(),
        "silent per image": per_image_silent.mean().item(),
        "saturated per image": per_image_saturated.mean().item(),
    }


def firing_table(layers: dict[str, Tensor]) -> str:
    """:func:`firing_statistics` of every layer as a plain-text table (percentages)."""
    if not isinstance(layers, dict) or not layers:
        raise TypeError(f"layers must be a non-empty dict {{name: spikes [T, B, ...]}}, got "
                        f"{type(layers).__name__}")
    lines = [f"{'layer':8}{'neurons':>9}{'rate':>8}{'dead':>8}{'saturated':>11}"
             f"{'silent/img':>12}{'sat./img':>10}"]
    for name, spikes in layers.items():
        s = firing_statistics(spikes)
        lines.append(f"{name:8}{s['neurons']:>9}{s['rate']:>8.3f}{s['dead']:>8.1%}"
                     f"{s['saturated']:>11.1%}{s['silent per image']:>12.1%}"
                     f"{s['saturated per image']:>10.1%}")
    return "\n".join(lines)


def draw_firing_rates(layers: dict[str, Tensor], titles: dict[str, str] | None = None) -> Figure:
    """One histogram per layer of its neurons' firing rates, dead neurons in their own colour.

    ``layers``: ``{name: spikes [T, B, ...]}`` (e.g. ``CSNN.layer_spikes(images)``). A neuron's
    rate is its spikes per step, averaged over the T steps and the B images. Dead neurons
    (rate exactly 0) are stacked in vermillion at the bottom of the first bar, saturated ones
    (rate exactly 1) in green on the last; ``titles`` renames the layers.
    """
    if not isinstance(layers, dict) or not layers:
        raise ValueError(f"layers must be a non-empty dict {{name: spikes [T, B, ...]}}, got "
                         f"{type(layers).__name__}")
    if titles is not None and not isinstance(titles, dict):
        raise TypeError(f"titles must be None or a dict {{layer name: title}}, got "
                        f"{type(titles).__name__}")
    for spikes in layers.values():
        firing_statistics(spikes)  # checks each layer's shape before anything is drawn
    fig = _figure(3.3 * len(layers), 3.0)
    axes = fig.subplots(1, len(layers), squeeze=False)[0]
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.17, top=0.8, wspace=0.32)
    for ax, (name, spikes) in zip(axes, layers.items(), strict=True):
        stats = firing_statistics(spikes)
        rates = spikes.detach().float().flatten(2).mean(dim=(0, 1)).cpu()  # [N]
        top = max(0.1, math.ceil(float(rates.max()) * 10) / 10)  # the x axis ends near the max
        bins = torch.linspace(0, top, 21)
        groups = [(rates[rates == 0], plot.HIGHLIGHT, "dead (rate 0)"),
                  (rates[(rates > 0) & (rates < 1)], plot.BAR, "firing"),
                  (rates[rates == 1], plot.OKABE_ITO[2], "saturated (rate 1)")]
        groups = [group for group in groups if group[0].numel()]
        ax.hist([g[0].numpy() for g in groups], bins=bins.numpy(), stacked=True,
                color=[g[1] for g in groups], label=[g[2] for g in groups])
        ax.legend(frameon=False, fontsize="small")
        ax.set_xlim(-0.02 * top, 1.02 * top)
        ax.locator_params(axis="y", integer=True)  # whole numbers of neurons
        ax.set_xlabel("firing rate (spikes / step)")
        heading = (titles or {}).get(name, name)
        ax.set_title(f"{heading}\n{stats['neurons']} neurons, {stats['dead']:.0%} dead, "
                     f"{stats['saturated']:.0%} saturated", fontsize="medium")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylabel("neurons")
    return fig


def draw_csnn_layer(image: Tensor, record: Tensor, step: int, label: int | None = None,
                    title: str = "") -> Figure:
    """One layer of one digit at one time step: the input, its spikes now, its spikes so far.

    ``image``: the digit (784 pixels); ``record``: that digit's spikes in one layer,
    ``[T, C, H, W]`` (feature maps) or ``[T, N]`` (neurons); ``step``: 1..T. Middle: the maps
    at this step, spikes in white. Right: each neuron's spike count over steps 1..step (for
    single neurons, a bar per neuron with the leader highlighted).
    """
    record = _one_sample_record(record, "record")
    _image("image", image, 28)
    num_steps = record.shape[0]
    if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= num_steps:
        raise ValueError(f"step must be an int from 1 to {num_steps}, got {step!r}")
    now, so_far = record[step - 1], record[:step].sum(0)
    neurons = record.dim() == 2

    fig = _figure(10.0, 3.4)
    grid = fig.add_gridspec(1, 3, width_ratios=[1.0, 1.35, 1.6], left=0.02, right=0.97,
                            bottom=0.14, top=0.84, wspace=0.2)
    ax_image, ax_now, ax_count = (fig.add_subplot(cell) for cell in grid)
    ax_image.imshow(image.detach().cpu().reshape(28, 28).numpy(), cmap="gray", vmin=0, vmax=1,
                    interpolation="nearest")
    ax_image.set_title("input" if label is None else f"input (label {label})",
                       fontsize="medium")
    ax_image.set_axis_off()

    if neurons:  # a raster of steps 1..step, and the spike count of each neuron so far
        plot.raster(record[:step], ax=ax_now, ylabel="output neuron (class)")
        ax_now.set_xlim(-0.5, num_steps - 0.5)
        ax_now.xaxis.set_major_formatter(lambda value, _: f"{value + 1:g}")  # steps 1..T
        ax_now.axvline(step - 1, color=plot.HIGHLIGHT, lw=1, alpha=0.6)
        ax_now.set_title(f"spikes up to step {step}", fontsize="medium")
        best = so_far.max()
        colours = [plot.HIGHLIGHT if c == best and c > 0 else plot.BAR for c in so_far.tolist()]
        bars = ax_count.bar(range(now.numel()), so_far.numpy(), color=colours, width=0.7)
        ax_count.bar_label(bars, labels=[f"{c:g}" for c in so_far.tolist()], fontsize="small",
                           padding=2)
        ax_count.set_xticks(range(now.numel()))
        ax_count.set_ylim(0, num_steps * 1.12)
        ax_count.set_xlabel("output neuron (class)")
        ax_count.set_ylabel("spikes so far")
        ax_count.spines[["top", "right"]].set_visible(False)
        leader = "no spikes yet" if best == 0 else f"most spikes: class {int(so_far.argmax())}"
        steps = "step 1" if step == 1 else f"steps 1-{step}"
        ax_count.set_title(f"{steps}: {leader}", fontsize="medium")
    else:  # the maps at this step, and each neuron's spike count so far
        spike_colours = matplotlib.colormaps["gray"].with_extremes(bad=MAP_GAP)
        ax_now.imshow(mosaic(now).numpy(), cmap=spike_colours, vmin=0, vmax=1,
                      interpolation="nearest")
        ax_now.set_title(f"spikes at step {step}: {int(now.sum())} of {now.numel()} neurons",
                         fontsize="medium")
        ax_now.set_axis_off()
        count_colours = matplotlib.colormaps[plot.HEATMAP].with_extremes(bad=MAP_GAP)
        most = max(1.0, float(record.sum(0).max()))  # the busiest neuron's total: a fixed scale
        shown = ax_count.imshow(mosaic(so_far).numpy(), cmap=count_colours, vmin=0, vmax=most,
                                interpolation="nearest")
        fig.colorbar(shown, ax=ax_count, shrink=0.9, label="spikes so far")
        steps = "step 1" if step == 1 else f"steps 1-{step}"
        ax_count.set_title(f"spike count, {steps}", fontsize="medium")
        ax_count.set_axis_off()
    fig.suptitle(f"{title}{describe_layer(record)}, time step {step} / {num_steps}",
                 fontsize="medium")
    return fig


def _layer_titles(records: dict[str, Tensor]) -> dict[str, str]:
    """{key: "layer 1: 12 maps of 12x12", ..., last key: "output: 10 neurons"}, from one
    sample's records ``{key: [T, ...]}`` in the order of the network."""
    last = len(records)
    return {name: f"{'output' if i == last else f'layer {i}'}: {describe_layer(record)}"
            for i, (name, record) in enumerate(records.items(), start=1)}


def csnn_explorer(model: torch.nn.Module, images: Tensor,
                  labels: Any = None) -> widgets.interactive:
    """Pick a test digit and a layer of a CSNN, then step through time.

    ``model``: a network with ``layer_spikes(images)`` (:class:`snnlab.models.CSNN`);
    ``images``: ``[K, 1, 28, 28]`` digits; ``labels``: their K labels (optional). The spikes
    of all K digits are computed once, so moving a slider only re-draws.
    """
    if not callable(getattr(model, "layer_spikes", None)):
        raise TypeError("model must have a layer_spikes(images) method, like "
                        f"snnlab.models.CSNN; got {type(model).__name__}")
    images = _images(images, 28)
    if images.dim() != 4:
        raise ValueError(f"images must be a tensor [K, 1, 28, 28], got shape "
                         f"{tuple(images.shape)}; add the channel axis, images.unsqueeze(1)")
    _labels(labels, len(images))
    device = next(model.parameters()).device
    with torch.no_grad():
        layers = {name: s.cpu() for name, s in model.layer_spikes(images.to(device)).items()}
    titles = _layer_titles({name: s[:, 0] for name, s in layers.items()})
    options = [(text, name) for name, text in titles.items()]
    num_steps = next(iter(layers.values())).shape[0]

    def draw(digit: int, layer: str, step: int) -> Figure:
        label = int(labels[digit]) if labels is not None else None
        return draw_csnn_layer(images[digit], layers[layer][:, digit], step, label,
                               title=f"digit #{digit}: ")

    controls = {
        "digit": _slider("digit (index)", 0, 0, len(images) - 1, 1, integer=True),
        "layer": widgets.Dropdown(options=options, value=options[0][1], description="layer"),
        "step": _slider("time step", num_steps, 1, num_steps, 1, integer=True),
    }
    return panel(draw, controls)


def feature_map_video(image: Tensor, layers: dict[str, Tensor], label: int | None = None,
                      fps: float = 4) -> animate.Video:
    """A video of one digit going through a CSNN: every layer's spikes, one frame per step.

    ``image``: the digit (784 pixels); ``layers``: ``{name: [T, ...]}``, that digit's spikes in
    each layer (``[T, C, H, W]`` feature maps or ``[T, N]`` neurons), e.g.
    ``{k: s[:, i] for k, s in model.layer_spikes(images).items()}``. Feature maps are tiled
    in a grid (grey lines between maps); the output layer is a column of cells, one per class,
    with its spike count so far beside it.
    """
    if not isinstance(layers, dict) or not layers:
        raise ValueError(f"layers must be a non-empty dict {{name: spikes [T, ...]}}, got "
                         f"{type(layers).__name__}")
    _image("image", image, 28)
    fps = checks.positive_number("fps", fps)
    records = {name: _one_sample_record(r, f"layers[{name!r}]") for name, r in layers.items()}
    num_steps = {r.shape[0] for r in records.values()}
    if len(num_steps) != 1:
        raise ValueError(f"every layer needs the same number of steps, got "
                         f"{ {name: r.shape[0] for name, r in records.items()} }")
    (num_steps,) = num_steps
    animate._check_length("layers", num_steps)
    titles = _layer_titles(records)

    fig = Figure(figsize=(2.2 + 2.6 * len(records), 3.4), dpi=100)
    FigureCanvasAgg(fig)
    ratios = [1.0] + [0.45 if r.dim() == 2 else 1.25 for r in records.values()]
    grid = fig.add_gridspec(1, len(ratios), width_ratios=ratios, left=0.02, right=0.97,
                            bottom=0.1, top=0.8, wspace=0.25)
    axes = [fig.add_subplot(cell) for cell in grid]
    axes[0].imshow(image.detach().cpu().reshape(28, 28).numpy(), cmap="gray", vmin=0, vmax=1,
                   interpolation="nearest")
    axes[0].set_title("input" if label is None else f"input (label {label})",
                      fontsize="medium")
    axes[0].set_axis_off()
    colours = matplotlib.colormaps["gray"].with_extremes(bad=MAP_GAP)
    pictures, counters = [], []
    class_counts, output = [], None  # the text beside each output neuron; its record
    for ax, (name, record) in zip(axes[1:], records.items(), strict=True):
        pictures.append(ax.imshow(mosaic(record[0]).numpy(), cmap=colours, vmin=0, vmax=1,
                                  interpolation="nearest"))
        ax.set_title(titles[name].replace(": ", ":\n"), fontsize="medium")
        counters.append(ax.text(0.5, -0.03, " ", transform=ax.transAxes, ha="center",
                                va="top", fontsize="small"))
        if record.dim() == 2:  # single neurons: name each cell, count its spikes beside it
            size = record.shape[1]
            ax.set_xticks([])
            ax.set_yticks(range(1, 2 * size + 1, 2), [str(n) for n in range(size)],
                          fontsize="small")
            ax.tick_params(length=0)
            for side in ax.spines.values():
                side.set_visible(False)
            beside = offset_copy(ax.get_yaxis_transform(), fig=fig, x=4, units="points")
            class_counts = [ax.text(1.0, 2 * n + 1, " ", ha="left", va="center",
                                    fontsize="small", transform=beside)
                            for n in range(size)]
            output = record
        else:
            ax.set_axis_off()
    clock = fig.text(0.02, 0.97, " ", ha="left", va="top", fontsize="large")
    frames = [mosaic(r[t]).numpy() for r in records.values() for t in range(num_steps)]

    def draw(t: int) -> list:
        for k, (picture, counter, record) in enumerate(
                zip(pictures, counters, records.values(), strict=True)):
            picture.set_data(frames[k * num_steps + t])
            count = int(record[t].sum())
            counter.set_text(f"{count} spike" + ("" if count == 1 else "s"))
        if output is not None:
            so_far = output[:t + 1].sum(0)
            for n, text in enumerate(class_counts):
                text.set_text(f" {int(so_far[n])}")
                text.set_color(plot.HIGHLIGHT if so_far[n] == so_far.max() > 0 else plot.INK)
        clock.set_text(f"time step {t} (of 0-{num_steps - 1})")
        return [*pictures, *counters, *class_counts, clock]

    return animate.FigureVideo(fig, draw, num_steps, fps)


# ---------------------------------------------------------------------------------------------
# Lesson 06: a spiking autoencoder
# ---------------------------------------------------------------------------------------------


def add_noise(image: Tensor, noise: float, seed: int = 0) -> Tensor:
    """``image`` plus Gaussian noise of standard deviation ``noise``, clipped to [0, 1].

    The noise is drawn from its own generator seeded with ``seed``: the same settings always
    give the same noisy image, and the global random stream is left alone.
    """
    checks.tensor("image", image)
    checks.number("noise", noise, ">= 0 and finite (a standard deviation)",
                  lambda v: 0 <= v < math.inf)
    checks.integer("seed", seed)
    generator = torch.Generator().manual_seed(seed)
    grain = torch.randn(image.shape, generator=generator).to(image.device, image.dtype)
    return (image + noise * grain).clamp(0.0, 1.0)


def run_autoencoder(model: torch.nn.Module, image: Tensor) -> tuple[Tensor, Tensor]:
    """One image through a trained SpikingAutoencoder, in eval mode and without gradients.

    ``image``: 1024 pixels (``[1, 32, 32]``, ``[32, 32]`` or ``[1024]``). Returns the latent
    spike train ``[T, latent_dim]`` and the reconstruction at every step, the output membrane
    ``[T, 32, 32]`` (``[-1]`` is the reconstruction the loss sees). The model's train/eval
    mode is restored afterwards.
    """
    image = _image("image", image, 32)
    if not isinstance(model, SpikingAutoencoder):
        raise TypeError("model must be an snnlab.models.SpikingAutoencoder, "
                        f"got {type(model).__name__}")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()  # BatchNorm uses its running statistics, not this one image's
    try:
        with torch.no_grad():
            latent, membrane = model(image.detach().reshape(1, 1, 32, 32).to(device))
    finally:
        model.train(was_training)
    return latent[:, 0].cpu(), membrane[:, 0, 0].cpu()


def draw_spike_matrix(spikes: Tensor, ax: Any, ylabel: str = "latent neuron") -> Any:
    """Few steps, many neurons: spikes ``[T, N]`` as a grid of cells, black = spike.

    A raster's thin marks get lost when there are only a handful of steps; here each
    (step, neuron) is one cell. Steps are numbered 1..T. Returns ``ax``.
    """
    spikes = checks.tensor("spikes", spikes, floating=False).detach().cpu().float()
    if spikes.dim() != 2 or 0 in spikes.shape:
        raise ValueError(f"spikes must be [T, N] with T, N >= 1, got {tuple(spikes.shape)}")
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    num_steps, num_neurons = spikes.shape
    ax.imshow(spikes.T.numpy(), cmap="Greys", vmin=0, vmax=1, aspect="auto",
              interpolation="nearest", origin="lower")
    ax.set_xticks(range(num_steps), [str(t + 1) for t in range(num_steps)])
    ax.set_xticks([t + 0.5 for t in range(num_steps - 1)], minor=True)
    ax.set_yticks([n + 0.5 for n in range(num_neurons - 1)], minor=True)
    ax.grid(which="minor", color="#DDDDDD", lw=0.5)
    ax.tick_params(which="minor", length=0)
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("time step")
    ax.set_ylabel(ylabel)
    return ax


def draw_autoencoder(image: Tensor, latent_spikes: Tensor, reconstructions: Tensor,
                     target: Tensor | None = None, title: str = "") -> Figure:
    """The input, its latent spike raster, and the reconstruction after every time step.

    ``image``: the network's input (1024 pixels); ``latent_spikes``: ``[T, latent_dim]``;
    ``reconstructions``: the output membrane ``[T, 32, 32]`` (see :func:`run_autoencoder`).
    Each reconstruction is titled with its MSE against ``target`` (default: the input), and
    drawn on the input's grey scale, [0, 1]: membrane values outside it show as black or white.
    """
    latent_spikes = checks.tensor("latent_spikes", latent_spikes, floating=False)
    reconstructions = checks.finite("reconstructions",
                                    checks.tensor("reconstructions", reconstructions))
    latent_spikes = latent_spikes.detach().cpu().float()
    reconstructions = reconstructions.detach().cpu().float()
    if latent_spikes.dim() != 2 or reconstructions.dim() != 3 \
            or reconstructions.shape[0] != latent_spikes.shape[0]:
        raise ValueError("latent_spikes must be [T, latent_dim] and reconstructions [T, H, W] "
                         f"with the same T, got {tuple(latent_spikes.shape)} and "
                         f"{tuple(reconstructions.shape)}")
    side = reconstructions.shape[-1]
    _image("image", image, side)
    if target is not None:
        _image("target", target, side)
    num_steps, latent_dim = latent_spikes.shape
    image = image.detach().cpu().float().reshape(reconstructions.shape[1:])
    target = image if target is None else target.detach().cpu().float().reshape(image.shape)

    width = 3.3 + 1.2 * num_steps  # inches: input and raster, then one square per step
    fig = _figure(width, 3.2)
    split = 3.3 / width  # the input and the raster (with its labels) left of this, steps right
    left = fig.add_gridspec(1, 2, width_ratios=[1.0, 0.9], left=0.01, right=split - 0.015,
                            bottom=0.17, top=0.74, wspace=0.55)
    right = fig.add_gridspec(1, num_steps, left=split + 0.01, right=0.995, bottom=0.17,
                             top=0.74, wspace=0.1)
    ax_image, ax_latent = fig.add_subplot(left[0]), fig.add_subplot(left[1])
    ax_image.imshow(image.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax_image.set_title("input", fontsize="medium")
    ax_image.set_axis_off()

    draw_spike_matrix(latent_spikes, ax_latent)
    ax_latent.set_title(f"latent spikes\n{int(latent_spikes.sum())} of "
                        f"{num_steps * latent_dim}", fontsize="medium")

    for t in range(num_steps):
        ax = fig.add_subplot(right[t])
        ax.imshow(reconstructions[t].numpy(), cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")
        error = torch.mean((reconstructions[t] - target) ** 2).item()
        ax.set_title(f"step {t + 1}\nMSE {error:.3f}", fontsize="medium")
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize="medium", x=0.01, ha="left")
    return fig


def autoencoder_explorer(model: torch.nn.Module, images: Tensor,
                         labels: Any = None) -> widgets.interactive:
    """Pick a test digit (and add noise): its latent spikes and its reconstruction at each step.

    ``model``: a trained :class:`snnlab.models.SpikingAutoencoder`; ``images``:
    ``[K, 1, 32, 32]`` digits in [0, 1]; ``labels``: their K labels (optional, for the title).
    The noise is Gaussian, seeded, clipped to [0, 1]; each step's MSE is measured against the
    clean digit, so it shows how well the network removes the noise.
    """
    if not isinstance(model, SpikingAutoencoder):
        raise TypeError("model must be an snnlab.models.SpikingAutoencoder, "
                        f"got {type(model).__name__}")
    images = _images(images, 32)
    _labels(labels, len(images))

    def draw(digit: int, noise: float) -> Figure:
        clean = images[digit]
        noisy = add_noise(clean, noise)
        latent, reconstructions = run_autoencoder(model, noisy)
        name = f"test digit #{digit}" + (f" (a {int(labels[digit])})" if labels is not None
                                         else "")
        title = f"{name}, noise {noise:g}: reconstruction (output membrane) after each step"
        return draw_autoencoder(noisy, latent, reconstructions, target=clean, title=title)

    controls = {
        "digit": _slider("digit (index)", 0, 0, len(images) - 1, 1, integer=True),
        "noise": _slider("noise", 0.0, 0.0, 0.6, 0.05),
    }
    return panel(draw, controls)


# ---------------------------------------------------------------------------------------------
# Lesson 07: an event camera, and digits that move
# ---------------------------------------------------------------------------------------------

ON_COLOUR = (230, 159, 0)  # orange: brighter
OFF_COLOUR = (86, 180, 233)  # sky blue: darker


def event_rgb(events: Tensor) -> np.ndarray:
    """ON/OFF events ``[..., 2, H, W]`` as RGB pixels ``[..., H, W, 3]`` (uint8).

    ON events are orange, OFF events blue, both at once white, no event black. Lesson 07.
    """
    on = events[..., 0, :, :].detach().cpu().numpy() > 0
    off = events[..., 1, :, :].detach().cpu().numpy() > 0
    rgb = np.zeros((*on.shape, 3), dtype=np.uint8)
    rgb[on] = ON_COLOUR
    rgb[off] = OFF_COLOUR
    rgb[on & off] = 255
    return rgb


def event_video(events: Tensor, fps: float = 4, scale: int = 8) -> animate.Video:
    """The events of one recording, ``[T, 2, H, W]``, as a video: one frame per step.

    Each pixel becomes a ``scale x scale`` square: orange for ON, blue for OFF. Lesson 07.
    """
    if not isinstance(events, Tensor) or events.dim() != 4 or events.shape[1] != 2:
        raise ValueError("events must be one recording [T, 2, H, W] (pick a sample first, "
                         f"e.g. events[:, 0]), got {tuple(getattr(events, 'shape', ()))}")
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive int, got {scale!r}")
    rgb = event_rgb(events).repeat(scale, axis=1).repeat(scale, axis=2)
    _, height, width, _ = rgb.shape  # H.264 needs even sides
    rgb = np.pad(rgb, ((0, 0), (0, height % 2), (0, width % 2), (0, 0)))
    return animate.ArrayVideo(np.ascontiguousarray(rgb), checks.positive_number("fps", fps))


def event_counts(events: Tensor) -> dict[str, int]:
    """``{"ON", "OFF", "events", "pixel values"}`` of one recording ``[T, 2, H, W]``: the
    events, and the numbers a frame camera would send for the same steps (T * H * W)."""
    num_steps, _, height, width = events.shape
    on, off = int(events[:, 0].sum()), int(events[:, 1].sum())
    return {"ON": on, "OFF": off, "events": on + off, "pixel values": num_steps * height * width}


def draw_events(events: Tensor, image: Tensor | None = None, title: str = "",
                max_frames: int = 12) -> Figure:
    """One recording ``[T, 2, H, W]``: the digit, an ON/OFF raster, counts, and its frames.

    Top: the still digit (if given); the raster (each event a dot at its step and pixel
    index, ON orange, OFF blue); ON and OFF events per step. Bottom: the first
    ``max_frames`` steps as pictures, a film strip of the video. Lesson 07.
    """
    events = events.detach().cpu()
    num_steps, _, height, width = events.shape
    counts = event_counts(events)
    shown = min(num_steps, max_frames)
    fig = _figure(10.0, 4.6)
    top = fig.add_gridspec(1, 3, width_ratios=[1, 2.6, 1.6], left=0.02, right=0.98,
                           bottom=0.42, top=0.86, wspace=0.3)
    strip = fig.add_gridspec(1, shown, left=0.02, right=0.98, bottom=0.03, top=0.3,
                             wspace=0.06)
    ax_image, ax_raster, ax_counts = (fig.add_subplot(cell) for cell in top)
    if image is not None:
        ax_image.imshow(image.detach().cpu().reshape(image.shape[-2:]).numpy(), cmap="gray",
                        vmin=0, vmax=1, interpolation="nearest")
        ax_image.set_title("the digit (28 x 28)", fontsize="medium")
    ax_image.set_axis_off()

    steps = np.arange(num_steps, dtype=np.float32)
    for channel, colour, name in ((0, ON_COLOUR, "ON"), (1, OFF_COLOUR, "OFF")):
        t, pixel = events[:, channel].reshape(num_steps, -1).nonzero(as_tuple=True)
        ax_raster.scatter(steps[t.numpy()] + (0.15 if channel else -0.15), pixel.numpy(), s=3,
                          marker="|",
                          color=np.array(colour) / 255, label=name, linewidths=0.8)
    ax_raster.set_xlim(-0.7, num_steps - 0.3)
    ax_raster.set_ylim(height * width, 0)
    ax_raster.set_xlabel("time step t")
    ax_raster.set_ylabel(f"pixel (row-major, {height} x {width})")
    ax_raster.legend(loc="upper right", fontsize="small", markerscale=4, handletextpad=0.2)
    ax_raster.set_title(f"{counts['ON']} ON + {counts['OFF']} OFF = {counts['events']} events",
                        fontsize="medium")

    per_step = events.sum((2, 3)).numpy()  # [T, 2]
    ax_counts.bar(steps - 0.2, per_step[:, 0], width=0.4, color=np.array(ON_COLOUR) / 255,
                  label="ON")
    ax_counts.bar(steps + 0.2, per_step[:, 1], width=0.4, color=np.array(OFF_COLOUR) / 255,
                  label="OFF")
    ax_counts.set_xlabel("time step t")
    ax_counts.set_ylabel("events per step")
    ax_counts.spines[["top", "right"]].set_visible(False)
    ax_counts.set_title(f"a frame camera: {counts['pixel values']:,} values\n"
                        f"events: {counts['events'] / counts['pixel values']:.1%} of that",
                        fontsize="medium")

    rgb = event_rgb(events)
    for t in range(shown):
        ax = fig.add_subplot(strip[0, t])
        ax.imshow(rgb[t], interpolation="nearest")
        ax.set_title(f"t = {t}", fontsize="small")
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize="medium", x=0.01, ha="left")
    return fig


def event_explorer(images: Tensor, labels: Any = None, num_steps: int = 12) -> widgets.interactive:
    """Pick a digit, set the camera's threshold and the speed of the motion; see the events.

    ``images``: ``[K, 1, 28, 28]`` digits in [0, 1]; ``labels``: their K labels (optional).
    Each setting shows ``draw_events`` and the recording as a video (``event_video``): a
    higher threshold keeps only the strongest changes, a faster motion makes more of them,
    and at speed 0 the camera sees nothing at all. Lesson 07.
    """
    from snnlab import events as camera

    if not isinstance(images, Tensor) or images.dim() != 4 or len(images) == 0 \
            or tuple(images.shape[1:]) != (1, 28, 28):
        raise ValueError("images must be a tensor [K, 1, 28, 28] with K >= 1, got "
                         f"{type(images).__name__} of shape "
                         f"{tuple(getattr(images, 'shape', ()))}")

    def record(digit: int, threshold: float, speed: float) -> Tensor:
        return camera.saccade_events(images[digit:digit + 1], num_steps, speed, threshold,
                                     angle=0.0)[:, 0]

    def draw(digit: int, threshold: float, speed: float) -> Figure:
        name = f"digit #{digit}" + (f" (a {int(labels[digit])})" if labels is not None else "")
        return draw_events(record(digit, threshold, speed), images[digit],
                           f"{name}: threshold {threshold:g}, speed {speed:g} pixels per step")

    def video(digit: int, threshold: float, speed: float) -> list[dict[str, Any]]:
        clip = event_video(record(digit, threshold, speed))
        return [{"output_type": "display_data", "metadata": {},
                 "data": {"text/html": clip.to_html(), "text/plain": repr(clip)}}]

    return panel(draw, {
        "digit": _slider("digit (index)", 0, 0, len(images) - 1, 1, integer=True),
        "threshold": _slider("threshold theta", 0.5, 0.1, 2.0, 0.1),
        "speed": _slider("speed (pixels/step)", 1.0, 0.0, 3.0, 0.25),
    }, extra=video)
