"""Lesson 08: neurons with more state (synaptic current, alpha, adaptive threshold)."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from snnlab import checks, plot
from snnlab.adaptive import ALIF
from snnlab.course.widgets.panels import enable_with, new_figure, panel, slider
from snnlab.i18n import tr
from snnlab.neurons import LIF
from snnlab.synaptic import Alpha, Synaptic

NEURONS = ("lif", "synaptic", "alpha", "alif")
STIMULI = ("pulses", "step")
NUM_STEPS = 120
PULSE_STEPS = (10, 40, 43, 46)   # one lone input spike, then a burst of three
STEP_ON, STEP_OFF = 10, 80       # the constant current's first step and the step after its last


def stimulus(kind: str, strength: float, num_steps: int = NUM_STEPS) -> Tensor:
    """The input X[t] of the lesson's traces, ``[num_steps]``. Lesson 08.

    "pulses": input spikes of size ``strength`` at steps 10 (alone) and 40, 43, 46 (a burst);
    "step": a constant ``strength`` from step 10 to step 79, then nothing.
    """
    checks.choice("stimulus", kind, STIMULI)
    strength = checks.number("strength", strength, "in [0, 10]", lambda v: 0 <= v <= 10)
    num_steps = checks.positive_int("num_steps", num_steps)
    x = torch.zeros(num_steps)
    if kind == "pulses":
        x[[t for t in PULSE_STEPS if t < num_steps]] = strength
    else:
        x[STEP_ON:STEP_OFF] = strength
    return x


def make_neuron(kind: str, beta: float = 0.9, threshold: float = 1.0, alpha: float = 0.8,
                rho: float = 0.95, b: float = 0.2) -> torch.nn.Module:
    """One neuron of ``kind`` ("lif", "synaptic", "alpha", "alif") with these parameters (each
    uses the ones its equations have). Lesson 08."""
    checks.choice("neuron", kind, NEURONS)
    if kind == "lif":
        return LIF(beta=beta, threshold=threshold)
    if kind == "synaptic":
        return Synaptic(alpha=alpha, beta=beta, threshold=threshold)
    if kind == "alpha":
        return Alpha(alpha=alpha, beta=beta, threshold=threshold)
    return ALIF(beta=beta, threshold=threshold, rho=rho, b=b)


def neuron_response(kind: str, x: Tensor, **params: float) -> dict[str, Tensor]:
    """Run one neuron of ``kind`` over the input ``x`` ``[T]`` from rest. Lesson 08.

    Returns ``{"input", "membrane", "spikes", "threshold"}``, each ``[T]`` (the threshold is
    constant except for ALIF), and ``"current"`` (I_syn) for the synaptic neuron, ``"exc"``
    and ``"inh"`` for the alpha neuron.
    """
    x = checks.tensor("x", x)
    if x.dim() != 1 or len(x) == 0:
        raise ValueError(f"x must be one neuron's input over time, [T] with T >= 1, got shape "
                         f"{tuple(x.shape)}")
    neuron = make_neuron(kind, **params)
    with torch.no_grad():
        spikes, state = neuron.sequence(x.view(-1, 1))
    membrane = state if isinstance(state, Tensor) else state.mem
    out = {"input": x, "membrane": membrane[:, 0], "spikes": spikes[:, 0]}
    if kind == "alif":
        out["threshold"] = neuron.threshold_at(state.a)[:, 0]
    else:
        out["threshold"] = torch.full_like(x, float(neuron.threshold))
    if kind == "synaptic":
        out["current"] = state.syn[:, 0]
    if kind == "alpha":
        out["exc"], out["inh"] = state.exc[:, 0], state.inh[:, 0]
    return out


def intervals(spikes: Tensor) -> list[int]:
    """The steps between consecutive spikes of one neuron ``[T]``. Lesson 08."""
    times = torch.nonzero(spikes > 0).flatten().tolist()
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def neuron_names() -> dict[str, str]:
    """``{kind: the neuron's name}`` in the course's language."""
    return {"lif": "LIF", "synaptic": tr("synaptic"), "alpha": tr("alpha", context="neuron"),
            "alif": tr("adaptive threshold (ALIF)")}


def _draw_one(ax_u, response: dict[str, Tensor], kind: str, colour: str) -> None:
    """Membrane, threshold and spike ticks of one response on one axis."""
    t = np.arange(len(response["membrane"]))
    ax_u.plot(t, response["membrane"], color=colour, lw=1.3, label=tr("membrane U"))
    ax_u.plot(t, response["threshold"], color=plot.THRESHOLD, lw=1.0, ls="--",
              label=tr("threshold theta"), drawstyle="steps-mid" if kind == "alif" else None)
    top = max(float(response["threshold"].max()), float(response["membrane"].max())) * 1.08
    spike_times = t[response["spikes"].numpy() > 0]
    ax_u.vlines(spike_times, top, top * 1.12, color=plot.INK, lw=1.2)
    ax_u.set_ylim(min(0.0, float(response["membrane"].min()) * 1.1), top * 1.15)


def draw_neuron(neuron: str = "alif", stimulus_kind: str = "step", strength: float = 0.4,
                beta: float = 0.9, alpha: float = 0.8, rho: float = 0.95,
                b: float = 0.2) -> Figure:
    """The explorer's figure: the input (and the neuron's currents), the membrane U with the
    threshold theta, the spikes (ticks above). Lesson 08."""
    kind = checks.choice("neuron", neuron, NEURONS)
    if kind == "alpha" and not alpha > beta:
        fig = new_figure(7.5, 4.6)
        fig.text(0.5, 0.5, tr("the alpha neuron needs alpha > beta (here alpha = {alpha:.2f}, "
                              "beta = {beta:.2f}):\nits membrane is the difference of two "
                              "currents, and it must start positive").format(alpha=alpha,
                                                                             beta=beta),
                 ha="center", va="center")
        return fig
    x = stimulus(stimulus_kind, strength)
    response = neuron_response(kind, x, beta=beta, alpha=alpha, rho=rho, b=b)
    fig = new_figure(7.5, 4.6)
    ax_x, ax_u = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 2.2]})
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.11, top=0.89, hspace=0.12)
    t = np.arange(len(x))
    ax_x.plot(t, x, color=plot.THRESHOLD, lw=1.0, drawstyle="steps-mid", label=tr("input X"))
    if kind == "synaptic":
        ax_x.plot(t, response["current"], color=plot.BAR, lw=1.3, label=tr("current I_syn"))
    if kind == "alpha":
        ax_x.plot(t, response["exc"], color=plot.BAR, lw=1.3, label="I_exc")
        ax_x.plot(t, response["inh"], color=plot.HIGHLIGHT, lw=1.3, label="I_inh")
    ax_x.legend(loc="upper right", fontsize="small", ncol=3, frameon=False)
    _draw_one(ax_u, response, kind, plot.BAR)
    ax_u.legend(loc="lower right", fontsize="small", ncol=2, frameon=False)
    ax_u.set_xlabel(tr("time step t"))
    ax_u.set_ylabel("U")
    gaps = intervals(response["spikes"])
    count = int(response["spikes"].sum())
    if len(gaps) >= 2:
        title = tr("{name}: {count} spikes; steps between spikes: first {first}, last "
                   "{last}").format(name=neuron_names()[kind], count=count, first=gaps[0],
                                    last=gaps[-1])
    else:
        title = tr("{name}: {count} spikes").format(name=neuron_names()[kind], count=count)
    fig.suptitle(title, fontsize="medium")
    return fig


def draw_comparison(neurons: dict[str, dict[str, float]], stimulus_kind: str,
                    strength: float) -> Figure:
    """One row per neuron, ``{kind: its parameters}``, all fed the same input (drawn on top):
    membrane U, threshold theta (dashed) and spikes (ticks). Lesson 08."""
    kinds = tuple(checks.choice("neuron", k, NEURONS) for k in neurons)
    x = stimulus(stimulus_kind, strength)
    height = 1.3 + 1.75 * len(kinds)
    fig = new_figure(7.5, height)
    axes = fig.subplots(len(kinds) + 1, 1, sharex=True,
                        gridspec_kw={"height_ratios": [0.7] + [1.6] * len(kinds)})
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.5 / height, top=1 - 0.15 / height,
                        hspace=0.4)
    t = np.arange(len(x))
    axes[0].plot(t, x, color=plot.THRESHOLD, lw=1.0, drawstyle="steps-mid")
    axes[0].set_ylabel(tr("input X"))
    for ax, kind, colour in zip(axes[1:], kinds, plot.OKABE_ITO[1:], strict=False):
        response = neuron_response(kind, x, **neurons[kind])
        _draw_one(ax, response, kind, colour)
        ax.set_ylabel("U")
        ax.set_title(tr("{name}: {count} spikes").format(
            name=neuron_names()[kind], count=int(response["spikes"].sum())), loc="left",
            fontsize="small")
    axes[-1].set_xlabel(tr("time step t"))
    return fig


def firing_rates(kind: str, currents: Tensor, num_steps: int = 300,
                 **params: float) -> tuple[Tensor, Tensor]:
    """The f-I curve: for each constant input in ``currents`` ``[K]``, the firing rate in
    spikes per step over the first 20 steps (onset) and over the last 100 (steady). Lesson 08."""
    currents = checks.tensor("currents", currents)
    num_steps = checks.number("num_steps", num_steps, "an int >= 120",
                              lambda v: v == int(v) and v >= 120)
    neuron = make_neuron(kind, **params)
    with torch.no_grad():
        spikes, _ = neuron.sequence(currents.view(1, -1).expand(int(num_steps), -1).contiguous())
    return spikes[:20].mean(0), spikes[-100:].mean(0)


def neuron_explorer() -> widgets.interactive:
    """The neuron type and its parameters against an input you choose; live membrane,
    threshold and spikes. Lesson 08."""
    controls = {
        "neuron": widgets.Dropdown(options=[(name, kind)
                                            for kind, name in neuron_names().items()],
                                   value="alif", description=tr("neuron")),
        "stimulus_kind": widgets.Dropdown(options=[(tr("input spikes"), "pulses"),
                                                   (tr("constant current"), "step")],
                                          value="step", description=tr("input")),
        "strength": slider(tr("input strength"), 0.4, 0.0, 1.5, 0.05),
        "beta": slider(tr("beta (membrane)"), 0.9, 0.5, 0.99, 0.01),
        "alpha": slider(tr("alpha (current)"), 0.8, 0.5, 0.99, 0.01),
        "rho": slider(tr("rho (adaptation decay)"), 0.95, 0.5, 0.999, 0.005),
        "b": slider(tr("b (adaptation strength)"), 0.2, 0.0, 1.0, 0.05),
    }
    enable_with(controls["neuron"], {"alpha": ("synaptic", "alpha"), "rho": ("alif",),
                                     "b": ("alif",)}, controls)
    return panel(draw_neuron, controls)
