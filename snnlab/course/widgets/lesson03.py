"""Lesson 03: surrogate gradients."""

from __future__ import annotations

import ipywidgets as widgets
from matplotlib.figure import Figure

from snnlab import plot, surrogate
from snnlab.course.widgets.panels import enable_with, new_figure, panel
from snnlab.i18n import tr

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
    fig = new_figure(7.5, 3.0)
    plot.surrogate(fn, ax=fig.subplots(1, 2))
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.17, top=0.8, wspace=0.3)
    knob = {"fast_sigmoid": f"slope = {slope:g}", "sigmoid": f"slope = {slope:g}",
            "atan": f"alpha = {alpha:g}", "straight_through": tr("no parameter")}[name]
    fig.suptitle(tr("{name} ({knob})").format(name=name, knob=knob), fontsize="medium")
    return fig


def surrogate_explorer() -> widgets.interactive:
    """Pick a surrogate and its slope (fast_sigmoid, sigmoid) or alpha (atan)."""
    controls = {
        "name": widgets.Dropdown(options=SURROGATES, value="fast_sigmoid",
                                 description=tr("surrogate")),
        # Logarithmic: the slopes of lesson 03's experiment, 0.3 to 1000, are all in reach.
        "slope": widgets.FloatLogSlider(value=25.0, base=10, min=-1, max=3, step=0.05,
                                        description=tr("slope"), continuous_update=False,
                                        style={"description_width": "initial"}),
        "alpha": widgets.FloatLogSlider(value=2.0, base=10, min=-1, max=2, step=0.05,
                                        description=tr("alpha"), continuous_update=False,
                                        style={"description_width": "initial"}),
    }
    enable_with(controls["name"], {"slope": ["fast_sigmoid", "sigmoid"], "alpha": ["atan"]},
                 controls)
    return panel(draw_surrogate, controls)
