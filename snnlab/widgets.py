"""Interactive panels for the lessons: turn a knob, watch the spikes change.

Every panel works the same way:

1. a ``draw(**settings) -> Figure`` function makes the picture for one setting of the knobs;
2. the picture for the default settings is shown once as a plain PNG, so a handout or a page
   without a running kernel still shows it;
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
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import matplotlib
import torch
from IPython.display import Image, display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import Tensor

from snnlab import encoding, plot, surrogate
from snnlab.neurons import LIF

__all__ = ["encoding_explorer", "lif_explorer", "surrogate_explorer",
           "draw_encoding", "draw_lif", "draw_surrogate"]

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


def panel(draw: Callable[..., Figure], controls: dict[str, widgets.Widget]) -> widgets.interactive:
    """Show ``draw(**defaults)`` as a static PNG, then an interactive panel; return the panel.

    ``controls`` maps each keyword argument of ``draw`` to its widget. On every change the
    panel sets ``panel.out.outputs`` to the new PNG (set directly rather than printed into the
    Output, so it also works, and can be tested, without a running kernel).
    """
    defaults = {name: control.value for name, control in controls.items()}
    display(Image(data=to_png(draw(**defaults))))

    latest: list[dict[str, Any]] = []  # the newest figure, as one Output entry
    panels: list[widgets.interactive] = []

    def update(**settings: Any) -> None:
        latest[:] = [_png_output(to_png(draw(**settings)))]
        for ui in panels:  # empty during the first call, made while the panel is being built
            ui.out.outputs = tuple(latest)

    ui = widgets.interactive(update, {"manual": False}, clear_output=False, **controls)
    ui.out.outputs = tuple(latest)
    panels.append(ui)
    display(ui)
    return ui


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
    image = image.detach().cpu().reshape(image.shape[-2], image.shape[-1])
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
        shown = ax_code.imshow(spikes.sum(0).numpy(), cmap="gray", interpolation="nearest",
                               vmin=0, vmax=max(1, num_steps))
        title = "spike count per pixel"
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
    if not isinstance(images, Tensor) or images.dim() not in (3, 4) or len(images) == 0:
        raise ValueError("images must be a tensor [K, 1, 28, 28] or [K, 28, 28] with K >= 1, got "
                         f"{type(images).__name__} of shape {getattr(images, 'shape', None)}")
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
        "threshold": _slider("threshold", 0.01, 0.01, 0.5, 0.01),
    }
    return panel(draw, controls)


# ---------------------------------------------------------------------------------------------
# Lesson 02: the leaky integrate-and-fire neuron
# ---------------------------------------------------------------------------------------------

RESETS = ("subtract", "zero")


def lif_response(beta: float, threshold: float, current: float, reset: str,
                 num_steps: int = 100, start: int = 10) -> tuple[Tensor, Tensor, Tensor]:
    """One LIF neuron fed a step current that switches on at ``start``.

    Returns ``(current [T], membrane [T], spikes [T])`` from ``snnlab.neurons.LIF``.
    """
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
                 f"I / (1 - beta) = {settle:.2f}", fontsize="medium")
    return fig


def lif_explorer() -> widgets.interactive:
    """Sliders for beta, threshold and input current, and the reset mode; live traces."""
    controls = {
        "beta": _slider("beta", 0.9, 0.5, 0.99, 0.01),
        "threshold": _slider("threshold", 1.0, 0.2, 2.0, 0.05),
        "current": _slider("input current", 0.15, 0.0, 1.0, 0.01),
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
        "slope": _slider("slope", 25.0, 1.0, 100.0, 1.0),
        "alpha": _slider("alpha", 2.0, 0.5, 20.0, 0.5),
    }
    return panel(draw_surrogate, controls)
