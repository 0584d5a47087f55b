"""Static pictures of spiking networks: rasters, membrane traces, spike counts, training curves.

Every function takes spikes (or membrane potentials) as a torch tensor (any device, with or
without grad) or a numpy array, time first: ``[num_steps, num_neurons]``. Each draws into the
``ax`` you pass (one Axes, or a list of Axes for the multi-panel figures), or into a new figure,
and returns the Axes it drew on; ``ax.figure.savefig("handout.png")`` saves the picture.

Why Axes and not the Figure: Jupyter shows a returned Figure a second time, under the one
pyplot already shows.

Style: black spike marks, the Okabe-Ito colour-blind-safe palette for lines and bars, viridis for
heatmaps, labelled axes with units, and no top or right frame lines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from snnlab import checks, training
from snnlab.i18n import tr

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-blindness.
OKABE_ITO: list[str] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7",
                        "#E69F00", "#56B4E9", "#F0E442", "#000000"]
INK = "#000000"             # spike marks
BAR = "#0072B2"             # ordinary bars (blue)
HIGHLIGHT = "#D55E00"       # the winning class (vermillion)
THRESHOLD = "#555555"       # the dashed threshold line
HEATMAP = "viridis"         # perceptually uniform, colour-blind safe
WIDTH = 6.4                 # figure width in inches (matplotlib's default)


# --------------------------------------------------------------------------------- input checks

def digit_name(index: int, label: int, prefix: str = "test digit") -> str:
    """``"test digit #0 (an 8)"``: a digit named by its place in the test set and its label,
    so that "#0" is never read as the class 0. Lessons 04-07. In Chinese the two prefixes the
    course uses, ``"test digit"`` and ``"digit"``, are translated: "测试集数字 #0（标签 8）"."""
    index, label = int(index), int(label)
    an = label == 8
    if prefix == "test digit":
        name = tr("test digit #{index} (an {label})") if an else tr(
            "test digit #{index} (a {label})")
    elif prefix == "digit":
        name = tr("digit #{index} (an {label})") if an else tr("digit #{index} (a {label})")
    else:
        return f"{prefix} #{index} ({'an' if an else 'a'} {label})"
    return name.format(index=index, label=label)


def to_numpy(x: Any, name: str) -> np.ndarray:
    """``x`` as a numpy array of real numbers: tensors are detached and moved to the CPU
    first. Lessons 01-06 draw through it; you rarely call it yourself."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        if x.dtype in (torch.bfloat16, torch.float16):  # numpy has no bfloat16
            x = x.float()
        x = x.resolve_conj().numpy()
    elif isinstance(x, (list, tuple)):
        try:
            x = np.asarray(x)
        except ValueError:  # rows of different lengths
            raise ValueError(f"{name} must be a rectangular array; the nested lists have rows of "
                             "different lengths") from None
    elif not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a torch.Tensor or a numpy array, got {type(x).__name__}")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    return x


def _time_by_neuron(x: Any, name: str, flatten: bool = True) -> np.ndarray:
    """``x`` as a float ``[T, N]`` array.

    ``[T]`` is one neuron. With ``flatten``, ``[T, ...]`` flattens to ``[T, N]`` (an image
    ``[T, 28, 28]`` becomes 784 neurons); without, only size-1 middle axes may go (``[T, 1, N]``).
    """
    a = to_numpy(x, name)
    allowed = "[T, ...] (flattened to [T, N])" if flatten else "[T], [T, N] or [T, 1, N]"
    if a.ndim == 0 or a.shape[0] == 0 or a.size == 0:
        raise ValueError(f"{name} must have shape {allowed} with T >= 1, got shape {a.shape}")
    checks.finite(name, torch.from_numpy(a.astype(np.float32)))
    if a.ndim == 1:
        a = a[:, None]
    elif not flatten and any(d != 1 for d in a.shape[1:-1]):
        raise ValueError(f"{name} must have shape {allowed}, got shape {a.shape}; "
                         "pick one sample first, e.g. spikes[:, 0]")
    return a.reshape(a.shape[0], -1).astype(np.float32)


def _axes(ax: Any, count: int, name: str = "ax") -> list[Axes]:
    """Check that ``ax`` is a sequence of ``count`` Axes (for the multi-panel figures)."""
    axes = list(np.ravel(ax)) if isinstance(ax, (Sequence, np.ndarray)) else [ax]
    if len(axes) != count or not all(isinstance(a, Axes) for a in axes):
        raise ValueError(f"{name} must be None or a list of {count} matplotlib Axes, got {ax!r}")
    return axes


def _one_axes(ax: Any) -> None:
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be None or one matplotlib Axes, got {type(ax).__name__}")


def _clean(ax: Axes) -> None:
    """No chart junk: drop the top and right frame lines."""
    ax.spines[["top", "right"]].set_visible(False)


def _axes_size_points(ax: Axes) -> tuple[float, float]:
    """Width and height of ``ax`` in points (1/72 inch)."""
    box = ax.get_position()
    width, height = ax.figure.get_size_inches()
    return box.width * width * 72, box.height * height * 72


# --------------------------------------------------------------------------------- rasters

def raster(spikes: Any, ax: Axes | None = None, *, title: str | None = None,
           ylabel: str | None = None, color: str | Sequence[str] = INK) -> Axes:
    """Raster plot: a mark at (t, n) for every spike of neuron n at time step t.

    Neuron 0 is the bottom row, as in every neuron-by-time plot of the course (``layers``,
    ``output_spikes``, ``membrane_heatmap``): the index grows upwards, like a y axis.

    Args:
        spikes: ``[T, N]``, or ``[T]`` for one neuron, or ``[T, ...]`` (flattened to ``[T, N]``,
            so a spike-coded image ``[T, 28, 28]`` gives 784 rows). Any nonzero value is a spike.
        ylabel: the y axis's label (default: "neuron index", in the course's language).
        color: one colour, or one per neuron (cycled).

    Lesson 01.
    """
    s = _time_by_neuron(spikes, "spikes")
    _one_axes(ax)
    if not isinstance(color, str) and not (isinstance(color, Sequence) and len(color) > 0):
        raise TypeError(f"color must be a colour name or a non-empty list of them, got {color!r}")
    num_steps, num_neurons = s.shape
    if ax is None:
        height = float(np.clip(1.4 + 0.17 * math.sqrt(num_neurons), 1.6, 6.0))
        _, ax = plt.subplots(figsize=(WIDTH, height), layout="constrained")
    t, n = np.nonzero(s)

    # Each mark is a vertical bar one row tall and about one time step wide, so 784 rows x 200
    # steps reads like an image, while a few neurons get clear ticks.
    width_pt, height_pt = _axes_size_points(ax)
    row = height_pt / num_neurons
    column = width_pt / num_steps
    length = float(np.clip(0.8 * row, 1.5, 14.0))
    thickness = float(np.clip(0.6 * column, 0.5, 1.5))
    colors = color if isinstance(color, str) else [color[i % len(color)] for i in n]
    ax.scatter(t, n, marker="|", s=length**2, linewidths=thickness, c=colors)

    ax.set_xlim(-0.5, num_steps - 0.5)
    ax.set_ylim(-0.5, num_neurons - 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if num_neurons == 1:
        ax.set_yticks([])  # one neuron: no index to read
    elif num_neurons <= 10:
        ax.set_yticks(range(num_neurons))  # few neurons: label every one
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(tr("time step"))
    ax.set_ylabel(tr("neuron index") if ylabel is None else ylabel)
    if title:
        ax.set_title(title)
    _clean(ax)
    return ax


def layers(input_spikes: Any, hidden_spikes: Any, output_spikes: Any,
           ax: Sequence[Axes] | None = None) -> list[Axes]:
    """Stacked rasters of a feed-forward network: input, hidden and output layer, one time axis.

    Each argument is ``[T, ...]`` (flattened to ``[T, N]``); all three need the same ``T``.
    Returns the three Axes, top (input) to bottom (output). Lesson 02.
    """
    named = {"input_spikes": input_spikes, "hidden_spikes": hidden_spikes,
             "output_spikes": output_spikes}
    arrays = {name: _time_by_neuron(x, name) for name, x in named.items()}
    steps = {name: a.shape[0] for name, a in arrays.items()}
    if len(set(steps.values())) != 1:
        raise ValueError(f"all layers need the same number of time steps T, got {steps}")
    if ax is None:
        # Taller panels for bigger layers, but never so thin that 10 outputs are unreadable.
        ratios = [1 + math.log10(a.shape[1]) for a in arrays.values()]
        _, ax = plt.subplots(3, 1, figsize=(WIDTH, 7), sharex=True, layout="constrained",
                             gridspec_kw={"height_ratios": ratios})
    axes = _axes(ax, 3)
    labels = [tr("input neuron"), tr("hidden neuron"), tr("output neuron")]
    for axis, a, label in zip(axes, arrays.values(), labels, strict=True):
        raster(a, ax=axis, ylabel=label)
    for axis in axes[:-1]:
        axis.set_xlabel("")
    return axes


def output_spikes(spikes: Any, labels: Sequence[str] | None = None,
                  ax: Axes | None = None) -> Axes:
    """The output layer's spikes, one row per class, with each neuron's firing rate on the right.

    Firing rate = spike count / T, in spikes per time step. ``spikes``: ``[T, N]`` or ``[T]``.
    ``labels``: a name for each of the N classes (default 0..N-1). Lesson 04.
    """
    s = _time_by_neuron(spikes, "spikes", flatten=False)
    _one_axes(ax)
    num_steps, num_neurons = s.shape
    names = _class_names(labels, num_neurons)
    if ax is None:
        _, ax = plt.subplots(figsize=(WIDTH, 0.9 + 0.28 * num_neurons), layout="constrained")
    raster(s, ax=ax, ylabel=tr("output neuron (class)"))
    rows = np.arange(num_neurons)
    ax.set_yticks(rows, names)
    rates = (s != 0).sum(axis=0) / num_steps
    right = ax.secondary_yaxis("right")
    right.set_yticks(rows, [f"{r:.2f}" for r in rates])
    right.set_ylabel(tr("firing rate (spikes / step)"))
    right.spines["right"].set_visible(False)
    return ax


# --------------------------------------------------------------------------------- membrane

def traces(current: Any, membrane: Any, spikes: Any, threshold: float | None = None,
           ax: Sequence[Axes] | None = None) -> list[Axes]:
    """Three panels over time: input current I[t], membrane potential U[t], output spikes S[t].

    Args:
        current: ``[T]`` or ``[T, N]`` input current.
        membrane, spikes: ``[T]`` or ``[T, N]``, the same shape, for one or more neurons.
        threshold: theta, drawn as a dashed line on the membrane panel.
    Returns the three Axes, top to bottom. Lesson 02.
    """
    i = _time_by_neuron(current, "current", flatten=False)
    u = _time_by_neuron(membrane, "membrane", flatten=False)
    s = _time_by_neuron(spikes, "spikes", flatten=False)
    if u.shape != s.shape:
        raise ValueError(f"membrane and spikes must have the same shape, got {u.shape} "
                         f"and {s.shape}")
    if i.shape[0] != u.shape[0] or i.shape[1] not in (1, u.shape[1]):
        raise ValueError(f"current must have the time steps of membrane {u.shape} and one or "
                         f"N neurons ([T] or [T, N]), got shape {i.shape}")
    if threshold is not None:
        checks.positive_number("threshold", threshold)
    if ax is None:
        _, ax = plt.subplots(3, 1, figsize=(WIDTH, 5), sharex=True, layout="constrained",
                             gridspec_kw={"height_ratios": [1, 2, 1]})
    ax_i, ax_u, ax_s = _axes(ax, 3)
    t = np.arange(u.shape[0])
    colors = OKABE_ITO if u.shape[1] > 1 else [INK]
    for n in range(i.shape[1]):
        ax_i.plot(t, i[:, n], drawstyle="steps-mid", color=colors[n % len(colors)], lw=1.2)
    for n in range(u.shape[1]):
        ax_u.plot(t, u[:, n], color=colors[n % len(colors)], lw=1.2,
                  label=tr("neuron {n}").format(n=n))
    if threshold is not None:
        # Labelled just outside the right edge, where it never hides a trace.
        ax_u.axhline(threshold, color=THRESHOLD, ls="--", lw=1)
        ax_u.text(1.01, threshold, tr(r"threshold $\theta$"), transform=ax_u.get_yaxis_transform(),
                  va="center", ha="left", color=THRESHOLD, fontsize="small")
    raster(s, ax=ax_s, ylabel=tr("neuron"), color=colors)
    ax_i.set_ylabel(tr("input current I"))
    ax_u.set_ylabel(tr("membrane U"))
    ax_s.set_title(tr("output spikes S"), fontsize="medium", loc="left")
    for axis in (ax_i, ax_u):
        _clean(axis)
        axis.set_xlabel("")
    return [ax_i, ax_u, ax_s]


def membrane_heatmap(membrane: Any, ax: Axes | None = None) -> Axes:
    """Neurons x time heatmap of membrane potential; ``membrane``: ``[T, N]`` or ``[T]``.

    Lesson 02 (many neurons at once).
    """
    u = _time_by_neuron(membrane, "membrane", flatten=False)
    _one_axes(ax)
    num_steps, num_neurons = u.shape
    if ax is None:
        _, ax = plt.subplots(figsize=(WIDTH, 1.2 + 0.25 * min(num_neurons, 20)),
                             layout="constrained")
    image = ax.imshow(u.T, aspect="auto", origin="lower", cmap=HEATMAP, interpolation="nearest",
                      extent=(-0.5, num_steps - 0.5, -0.5, num_neurons - 0.5))
    ax.figure.colorbar(image, ax=ax, label=tr("membrane U"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel(tr("time step"))
    ax.set_ylabel(tr("neuron index"))
    return ax


# --------------------------------------------------------------------------------- counts

def _class_names(labels: Sequence[str] | None, count: int) -> list[str]:
    if labels is None:
        return [str(k) for k in range(count)]
    if not isinstance(labels, (Sequence, np.ndarray, torch.Tensor)):
        raise TypeError(f"labels must be a list of class names, got {type(labels).__name__}")
    names = [str(name) for name in labels]
    if len(names) != count:
        raise ValueError(f"labels must name each of the {count} output neurons, "
                         f"got {len(names)} labels")
    return names


def spike_counts(spikes: Any, labels: Sequence[str] | None = None,
                 ax: Axes | None = None) -> Axes:
    """Bar chart of each output neuron's total spike count; the most active class stands out.

    ``spikes``: ``[T, N]`` output spikes of one sample (``[T, 1, N]`` is fine too).
    ``labels``: a name for each of the N classes (default 0..N-1). A class that leads alone is
    highlighted; when two or more share the highest count, none is (a tie has no winner), and
    the title says which are tied. Lesson 04.
    """
    s = _time_by_neuron(spikes, "spikes", flatten=False)
    _one_axes(ax)
    counts = s.sum(axis=0)
    names = _class_names(labels, counts.size)
    if ax is None:
        _, ax = plt.subplots(figsize=(WIDTH, 3.2), layout="constrained")
    leaders = np.flatnonzero(counts == counts.max()) if counts.max() > 0 else []
    colors = [HIGHLIGHT if len(leaders) == 1 and n == leaders[0] else BAR
              for n in range(counts.size)]
    if len(leaders) > 1:
        ax.set_title(tr("tied: {names}").format(names=", ".join(names[n] for n in leaders)),
                     fontsize="medium")
    bars = ax.bar(np.arange(counts.size), counts, color=colors, width=0.7)
    ax.bar_label(bars, labels=[f"{c:g}" for c in counts], fontsize="small", padding=2)
    ax.set_xticks(np.arange(counts.size), names)
    ax.set_ylim(0, max(1.0, counts.max()) * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(tr("class (output neuron)"))
    ax.set_ylabel(tr("spike count in {steps} steps").format(steps=s.shape[0]))
    _clean(ax)
    return ax


# --------------------------------------------------------------------------------- images

def image_grid(images: Any, ncol: int = 8, titles: Sequence[str] | None = None,
               ax: Sequence[Axes] | None = None) -> list[Axes]:
    """A grid of grey images, row by row, e.g. originals above their reconstructions.

    ``images``: ``[K, H, W]``, ``[K, 1, H, W]``, or ``[K, H*W]`` when ``H*W`` is a square
    (784 -> 28x28). All images share one grey scale, so reconstructions compare fairly.

    Example: ``image_grid(torch.cat([x[:8], x_hat[:8]]), ncol=8)``. Lessons 01 and 06.
    """
    a = to_numpy(images, "images").astype(np.float32)
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    elif a.ndim == 2 and math.isqrt(a.shape[1]) ** 2 == a.shape[1]:
        side = math.isqrt(a.shape[1])
        a = a.reshape(a.shape[0], side, side)
    if a.ndim != 3 or a.shape[0] == 0:
        raise ValueError("images must have shape [K, H, W], [K, 1, H, W] or [K, H*W] with H*W "
                         f"a square, got shape {a.shape}")
    checks.positive_int("ncol", ncol)
    checks.finite("images", torch.from_numpy(a))
    count = a.shape[0]
    if titles is not None and len(titles) != count:
        raise ValueError(f"titles must have one entry per image ({count}), got {len(titles)}")
    ncol = min(ncol, count)
    nrow = math.ceil(count / ncol)
    if ax is None:
        _, ax = plt.subplots(nrow, ncol, figsize=(1.0 * ncol + 0.2, 1.15 * nrow + 0.1),
                             layout="constrained", squeeze=False)
    axes = _axes(ax, nrow * ncol)  # the last row may have empty cells
    vmin, vmax = min(0.0, float(a.min())), max(1.0, float(a.max()))
    for k, axis in enumerate(axes):
        axis.set_axis_off()
        if k < count:
            axis.imshow(a[k], cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
            if titles is not None:
                axis.set_title(str(titles[k]), fontsize="small")
    return axes


# --------------------------------------------------------------------------------- training

def history(history: Any, ax: Sequence[Axes] | None = None) -> list[Axes]:
    """Training curves of a :class:`snnlab.training.History`, in four panels.

    Top row, per optimizer step: training loss and metric on each batch.
    Bottom row, per epoch: train and test loss, train and test metric.
    Returns the four Axes: step loss, step metric, epoch loss, epoch metric. Lesson 04.
    """
    for attribute in ("metric", "steps", "epochs"):
        if not hasattr(history, attribute):
            raise TypeError(f"history must be a snnlab.training.History (with .metric, .steps, "
                            f".epochs), got {type(history).__name__} without .{attribute}")
    metric = history.metric
    metric_label = {"accuracy": tr("accuracy"), "mse": "MSE"}.get(metric, metric)
    if ax is None:
        _, ax = plt.subplots(2, 2, figsize=(WIDTH, 4.6), layout="constrained")
        ax = ax.ravel()
    ax_loss, ax_metric, ax_epoch_loss, ax_epoch_metric = _axes(ax, 4)

    steps = history.steps
    for axis, key, label in ((ax_loss, "loss", tr("loss")), (ax_metric, metric, metric_label)):
        values = np.asarray(steps.get(key, []), dtype=float)
        axis.plot(np.arange(1, values.size + 1), values, color=OKABE_ITO[0], lw=1)
        axis.set_xlabel(tr("optimizer step"))
        axis.set_ylabel(tr("train {metric}").format(metric=label))

    epochs = history.epochs
    epoch = np.asarray(epochs.get("epoch", []), dtype=float)
    for axis, key, label in ((ax_epoch_loss, "loss", tr("loss")),
                             (ax_epoch_metric, metric, metric_label)):
        for split, name, color in (("train", tr("train"), OKABE_ITO[0]),
                                   ("test", tr("test"), OKABE_ITO[1])):
            values = np.asarray(epochs.get(f"{split}_{key}", []), dtype=float)
            if values.size and not np.isnan(values).all():
                axis.plot(epoch, values, "o-", color=color, lw=1.2, ms=4, label=name)
        if axis.lines:
            axis.legend(frameon=False, fontsize="small")
        else:
            axis.text(0.5, 0.5, tr("no finished epoch"), ha="center", va="center",
                      transform=axis.transAxes, color=THRESHOLD)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_xlabel(tr("epoch"))
        axis.set_ylabel(label)
    for axis in (ax_loss, ax_metric, ax_epoch_loss, ax_epoch_metric):
        _clean(axis)
    stopped = getattr(history, "stopped", None)
    if stopped:
        reason = training.stop_reason(stopped)
        ax_loss.figure.suptitle(tr("stopped early: {reason}").format(reason=reason),
                                fontsize="medium")
    return [ax_loss, ax_metric, ax_epoch_loss, ax_epoch_metric]


# --------------------------------------------------------------------------------- surrogates

def surrogate(fn: Any, ax: Sequence[Axes] | None = None, x_max: float = 1.0) -> list[Axes]:
    """The spike function and its surrogate, against x = U - theta in [-x_max, x_max]. Lesson 03.

    Left: the Heaviside step S = H(x) that the forward pass computes, and the smooth curve the
    backward pass pretends the step is. A curve that rises by much less than 1 over the window
    (the fast sigmoid's rises by only 2/slope) is stretched to span 0..1, and its legend says
    so. Right: the surrogate derivative dS/dx that the backward pass uses (the true derivative
    of the step is 0 everywhere except at x = 0, where it is infinite).
    ``fn``: a :class:`snnlab.surrogate.Surrogate` (``.name``, ``.smooth(x)``, ``.derivative(x)``).
    """
    for attribute in ("name", "smooth", "derivative"):
        if not hasattr(fn, attribute):
            raise TypeError(f"fn must be a snnlab.surrogate.Surrogate (with .name, .smooth, "
                            f".derivative), got {type(fn).__name__} without .{attribute}")
    x_max = checks.positive_number("x_max", x_max)
    x = torch.linspace(-x_max, x_max, 801)
    smooth = to_numpy(fn.smooth(x), "fn.smooth(x)")
    derivative = to_numpy(fn.derivative(x), "fn.derivative(x)")
    if derivative.ndim == 0:  # e.g. a constant straight-through derivative
        derivative = np.full(x.shape, float(derivative))
    x = x.numpy()
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(WIDTH, 2.8), layout="constrained")
    ax_s, ax_d = _axes(ax, 2)
    ax_s.plot(x, (x > 0).astype(float), color=INK, lw=1.5, label=tr("step H(x): forward"))
    low, high = float(np.min(smooth)), float(np.max(smooth))
    smooth_label = tr("{name}: backward pretends").format(name=fn.name)
    if high - low < 0.5:  # e.g. the fast sigmoid, 2/slope high: flat at the step's scale
        smooth = (smooth - low) / (high - low)
        smooth_label += "\n" + tr("(stretched {factor}x)").format(factor=f"{1 / (high - low):.3g}")
    ax_s.plot(x, smooth, color=OKABE_ITO[1], lw=1.5, ls="--", label=smooth_label)
    ax_s.set_ylabel(tr("spike S"))
    ax_s.set_title(tr("step and smooth stand-in"), fontsize="medium", loc="left")
    # The legend goes in headroom above every curve (the top 40% of the panel), so that it
    # covers none of them, however long its labels.
    top, bottom = max(1.0, float(np.max(smooth))), min(0.0, float(np.min(smooth)))
    ax_s.set_ylim(bottom - 0.05 * (top - bottom), top + 0.7 * (top - bottom))
    ax_s.set_yticks([t for t in ax_s.get_yticks() if bottom - 1e-9 <= t <= top + 1e-9])
    ax_s.legend(frameon=False, fontsize="small", loc="upper left")
    ax_d.plot(x, derivative, color=OKABE_ITO[1], lw=1.5,
              label=tr("{name} derivative").format(name=fn.name))
    ax_d.set_ylabel("dS/dx")
    ax_d.set_ylim(bottom=0)
    ax_d.set_title(tr("backward: surrogate derivative"), fontsize="medium", loc="left")
    for axis in (ax_s, ax_d):
        axis.set_xlabel(r"$x = U - \theta$")
        _clean(axis)
    return [ax_s, ax_d]


# --------------------------------------------------------------------------------- encoding noise

def rate_std(steps: Sequence[int], probabilities: Sequence[float], measured: Any,
             ax: Axes | None = None) -> Axes:
    """How the error of a decoded rate falls with the number of steps, on log-log axes.

    Dots: ``measured[i, j]``, the standard deviation of the decoded rate for probability
    ``probabilities[i]`` over ``steps[j]`` steps (``snnlab.encoding.rate_std``). Lines: the
    Bernoulli law sqrt(p (1 - p) / T), a slope of -1/2. Lesson 01.
    """
    m = to_numpy(measured, "measured").astype(np.float64)
    t = np.asarray(list(steps), dtype=np.float64)
    if m.shape != (len(probabilities), t.size):
        raise ValueError(f"measured must have shape [len(probabilities), len(steps)] = "
                         f"[{len(probabilities)}, {t.size}], got {list(m.shape)}")
    if t.size == 0 or (t <= 0).any():
        raise ValueError("steps must be positive numbers of steps")
    _one_axes(ax)
    if ax is None:
        _, ax = plt.subplots(figsize=(WIDTH * 0.75, 3.4), layout="constrained")
    line = np.geomspace(t.min(), t.max(), 100)
    for k, p in enumerate(probabilities):
        color = OKABE_ITO[k % len(OKABE_ITO)]
        ax.plot(line, np.sqrt(p * (1 - p) / line), color=color, lw=1.2)
        ax.plot(t, m[k], "o", color=color, ms=5, label=f"p = {p:g}")
    ax.plot([], [], color="0.3", lw=1.2, label=r"$\sqrt{p(1-p)/T}$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(tr("number of steps T"))
    ax.set_ylabel(tr("std of the decoded rate"))
    ax.legend(frameon=False, fontsize="small")
    _clean(ax)
    return ax


def code_name(name: str) -> str:
    """The name of a code of ``snnlab.encoding.reconstruction_error`` (its keys ``"rate"``
    and ``"latency (linear)"``), in the course's language; any other name as it is."""
    names = {"rate": tr("rate", context="code"), "latency (linear)": tr("latency (linear)")}
    return names.get(name, name)


def damage(levels: Sequence[float], errors: dict[str, Any], xlabel: str,
           baseline: float | None = None, ax: Axes | None = None) -> Axes:
    """Decoding error against the size of some damage, one line per code, on a log y axis.

    ``errors``: ``{name: [num_seeds, len(levels)]}`` (``snnlab.encoding.reconstruction_error``);
    each line is the mean over seeds, its shaded band the smallest to the largest seed.
    ``baseline``: a dashed line, e.g. the error of reading every pixel as black. Lesson 01.
    """
    x = np.asarray(list(levels), dtype=np.float64)
    if not errors:
        raise ValueError("errors must hold at least one code")
    _one_axes(ax)
    if ax is None:
        _, ax = plt.subplots(figsize=(WIDTH * 0.75, 3.4), layout="constrained")
    for k, (name, values) in enumerate(errors.items()):
        e = to_numpy(values, f"errors[{name!r}]").astype(np.float64)
        if e.ndim != 2 or e.shape[1] != x.size:
            raise ValueError(f"errors[{name!r}] must have shape [num_seeds, {x.size}], "
                             f"got {list(e.shape)}")
        color = OKABE_ITO[k % len(OKABE_ITO)]
        ax.plot(x, e.mean(0), "o-", color=color, ms=4, lw=1.5,
                label=tr("{name} ({count} seeds)").format(name=code_name(name),
                                                          count=e.shape[0]))
        ax.fill_between(x, e.min(0), e.max(0), color=color, alpha=0.25, lw=0)
    if baseline is not None:
        ax.axhline(baseline, color=THRESHOLD, ls="--", lw=1, label=tr("every pixel read as black"))
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(tr("mean squared error per pixel"))
    ax.legend(frameon=False, fontsize="small")
    _clean(ax)
    return ax
