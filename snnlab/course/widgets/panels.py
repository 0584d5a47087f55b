"""Shared machinery."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import matplotlib
from IPython.display import Image, display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import Tensor

from snnlab import checks

DPI = 90  # panel figures: sharp enough, and small enough to re-draw in well under 0.5 s


def new_figure(width: float, height: float) -> Figure:
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


def show(fig: Figure) -> None:
    """Display a panel's figure in a notebook, as the PNG a panel shows. (Jupyter's own display
    of a figure that pyplot never saw works only once pyplot has drawn a figure.) Lesson 08."""
    display(Image(data=to_png(fig)))


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


def one_image(name: str, value: object, side: int) -> Tensor:
    """One image of side x side pixels in [0, 1] (``[1, side, side]``, ``[side, side]`` or
    ``[side * side]``)."""
    checks.tensor(name, value)
    if value.numel() != side * side:
        raise ValueError(f"{name} must be one {side}x{side} image, {side * side} pixels "
                         f"([1, {side}, {side}], [{side}, {side}] or [{side * side}]), got shape "
                         f"{tuple(value.shape)}" + ("; pick one image first, e.g. images[0]"
                                                    if value.numel() % (side * side) == 0 else ""))
    return checks.unit_range(name, value.detach())


def image_batch(value: object, side: int) -> Tensor:
    """A batch of K >= 1 images in [0, 1]: ``[K, 1, side, side]`` or ``[K, side, side]``."""
    checks.tensor("images", value)
    if value.dim() not in (3, 4) or len(value) == 0 or tuple(value.shape[-2:]) != (side, side) \
            or value[0].numel() != side * side:
        raise ValueError(f"images must be a tensor [K, 1, {side}, {side}] or [K, {side}, {side}] "
                         f"with K >= 1, got shape {tuple(value.shape)}"
                         + (f" (load MNIST with size={side})" if value.dim() == 4 else ""))
    return checks.unit_range("images", value.detach())


def check_labels(labels: Any, count: int) -> None:
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


def check_label(label: object, num_classes: int) -> None:
    if label is not None and (isinstance(label, bool) or not isinstance(label, int)
                              or not 0 <= label < num_classes):
        raise ValueError(f"label must be None or a class from 0 to {num_classes - 1}, "
                         f"got {label!r}")


def slider(description: str, value: float, low: float, high: float, step: float,
            integer: bool = False) -> widgets.Widget:
    kind = widgets.IntSlider if integer else widgets.FloatSlider
    return kind(value=value, min=low, max=high, step=step, description=description,
                continuous_update=False, style={"description_width": "initial"})


def enable_with(chooser: widgets.Dropdown, used_by: dict[str, Any],
                 controls: dict[str, widgets.Widget]) -> None:
    """Enable each control in ``used_by`` only while ``chooser`` shows an option that uses it."""

    def update(*_: Any) -> None:
        for name, options in used_by.items():
            controls[name].disabled = chooser.value not in options

    chooser.observe(update, names="value")
    update()
