"""Lesson 05: a convolutional SNN (feature maps over time, firing statistics)."""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets
import matplotlib
import torch
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.transforms import offset_copy
from torch import Tensor

from snnlab import animate, checks, i18n, plot
from snnlab.course.widgets.panels import (
    check_labels,
    image_batch,
    new_figure,
    one_image,
    panel,
    slider,
)
from snnlab.i18n import pad, tr

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
        return tr("{count} maps of {height}x{width}").format(count=channels, height=height,
                                                              width=width)
    return tr("{count} neurons").format(count=record.shape[1])


def mosaic(maps: Tensor, ncol: int | None = None) -> Tensor:
    """Feature maps side by side: ``[C, H, W]`` -> one 2-D image, a NaN line around each map.

    The maps fill a grid row by row, ``ncol`` maps per row (default :func:`map_columns`); draw
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
    ncol = map_columns(channels) if ncol is None else ncol
    if isinstance(ncol, bool) or not isinstance(ncol, int) or ncol < 1:
        raise ValueError(f"ncol must be a positive int, got {ncol!r}")
    ncol = min(ncol, channels)
    nrow = math.ceil(channels / ncol)
    out = torch.full((nrow * (height + 1) + 1, ncol * (width + 1) + 1), float("nan"))
    for c in range(channels):
        top, left = 1 + (c // ncol) * (height + 1), 1 + (c % ncol) * (width + 1)
        out[top:top + height, left:left + width] = maps[c]
    return out


def map_columns(channels: int) -> int:
    """How many maps one row of a mosaic holds: ``ceil(sqrt(C))``, 4 for 12 maps, 8 for 64.

    The one tiling of the course: the video, the explorer and the lesson's figures all use it,
    so map 7 sits in the same place in every picture."""
    checks.positive_int("channels", channels)
    return math.ceil(math.sqrt(channels))


def number_maps(ax: Axes, channels: int, height: int, width: int, ncol: int | None = None,
                fontsize: float = 6.5) -> list:
    """Write each map's index (from 0) in the top-left corner of its tile in a mosaic.

    ``channels, height, width``: the shape ``[C, H, W]`` the mosaic was made from (and its
    ``ncol``); the numbers are white with a dark outline, readable on any colour. Returns
    the text objects.
    """
    ncol = map_columns(channels) if ncol is None else min(ncol, channels)
    outline = [patheffects.withStroke(linewidth=1.6, foreground="black")]
    texts = []
    for c in range(channels):
        top, left = 1 + (c // ncol) * (height + 1), 1 + (c % ncol) * (width + 1)
        texts.append(ax.text(left - 0.35, top - 0.4, str(c), ha="left", va="top",
                             fontsize=fontsize, color="white", path_effects=outline))
    return texts


def show_maps(ax: Axes, maps: Tensor, cmap: str | Colormap, vmin: float = 0.0,
              vmax: float | None = None, numbered: bool = True) -> AxesImage:
    """Draw feature maps ``[C, H, W]`` on ``ax`` as the course tiles them everywhere.

    One :func:`mosaic` with :func:`map_columns` maps per row, grey lines between the maps,
    and (``numbered``) each map's index in its corner: map ``c`` is ``maps[c]``, so an index
    printed by the lesson can be found in the picture. Returns the image (``set_data`` it with
    another mosaic of the same shape to animate).
    """
    if not isinstance(maps, Tensor) or maps.dim() != 3:
        raise ValueError(f"maps must be a tensor [C, H, W], got {type(maps).__name__} of shape "
                         f"{tuple(getattr(maps, 'shape', ()))}")
    colours = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    image = ax.imshow(mosaic(maps.detach().cpu().float()).numpy(),
                      cmap=colours.with_extremes(bad=MAP_GAP), vmin=vmin, vmax=vmax,
                      interpolation="nearest")
    if numbered:
        number_maps(ax, *maps.shape)
    ax.set_axis_off()
    return image


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
    def right(text: str, columns: int) -> str:  # right-aligned in any script
        return " " * max(0, columns - i18n.width(text)) + text

    lines = [pad(tr("layer", context="table"), 8) + right(tr("neurons", context="table"), 9)
             + right(tr("rate", context="table"), 8) + right(tr("dead", context="table"), 8)
             + right(tr("saturated", context="table"), 11)
             + right(tr("silent/img", context="table"), 12)
             + right(tr("sat./img", context="table"), 10)]
    for name, spikes in layers.items():
        s = firing_statistics(spikes)
        lines.append(f"{pad(name, 8)}{s['neurons']:>9}{s['rate']:>8.3f}{s['dead']:>8.1%}"
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
    fig = new_figure(3.3 * len(layers), 3.0)
    axes = fig.subplots(1, len(layers), squeeze=False)[0]
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.17, top=0.8, wspace=0.32)
    for ax, (name, spikes) in zip(axes, layers.items(), strict=True):
        stats = firing_statistics(spikes)
        rates = spikes.detach().float().flatten(2).mean(dim=(0, 1)).cpu()  # [N]
        top = max(0.1, math.ceil(float(rates.max()) * 10) / 10)  # the x axis ends near the max
        bins = torch.linspace(0, top, 21)
        groups = [(rates[rates == 0], plot.HIGHLIGHT, tr("dead (rate 0)")),
                  (rates[(rates > 0) & (rates < 1)], plot.BAR, tr("firing")),
                  (rates[rates == 1], plot.OKABE_ITO[2], tr("saturated (rate 1)"))]
        groups = [group for group in groups if group[0].numel()]
        ax.hist([g[0].numpy() for g in groups], bins=bins.numpy(), stacked=True,
                color=[g[1] for g in groups], label=[g[2] for g in groups])
        ax.legend(frameon=False, fontsize="small")
        ax.set_xlim(-0.02 * top, 1.02 * top)
        ax.locator_params(axis="y", integer=True)  # whole numbers of neurons
        ax.set_xlabel(tr("firing rate (spikes / step)"))
        heading = (titles or {}).get(name, name)
        ax.set_title(heading + "\n" + tr("{count} neurons, {dead} dead, {saturated} saturated")
                     .format(count=stats["neurons"], dead=f"{stats['dead']:.0%}",
                             saturated=f"{stats['saturated']:.0%}"), fontsize="medium")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylabel(tr("neurons", context="axis"))
    return fig


def draw_csnn_layer(image: Tensor, record: Tensor, step: int, label: int | None = None,
                    title: str = "") -> Figure:
    """One layer of one digit at one time step: the input, its spikes now, its spikes so far.

    ``image``: the digit (784 pixels); ``record``: that digit's spikes in one layer,
    ``[T, C, H, W]`` (feature maps) or ``[T, N]`` (neurons); ``step``: the time step t, from 0
    to T - 1. Middle: the maps at step t, spikes in white (each map numbered). Right: each
    neuron's spike count over steps 0..t (for single neurons, a bar per neuron with the leader
    highlighted).
    """
    record = _one_sample_record(record, "record")
    one_image("image", image, 28)
    num_steps = record.shape[0]
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < num_steps:
        raise ValueError(f"step must be an int from 0 to {num_steps - 1} (time steps count "
                         f"from 0), got {step!r}")
    now, so_far = record[step], record[:step + 1].sum(0)
    neurons = record.dim() == 2
    steps = tr("step 0") if step == 0 else tr("steps 0-{step}").format(step=step)

    fig = new_figure(10.0, 3.4)
    grid = fig.add_gridspec(1, 3, width_ratios=[1.0, 1.35, 1.6], left=0.02, right=0.97,
                            bottom=0.14, top=0.84, wspace=0.2)
    ax_image, ax_now, ax_count = (fig.add_subplot(cell) for cell in grid)
    ax_image.imshow(image.detach().cpu().reshape(28, 28).numpy(), cmap="gray", vmin=0, vmax=1,
                    interpolation="nearest")
    ax_image.set_title(tr("input") if label is None else tr("input (label {label})").format(
        label=label), fontsize="medium")
    ax_image.set_axis_off()

    if neurons:  # a raster of steps 0..t, and the spike count of each neuron so far
        plot.raster(record[:step + 1], ax=ax_now, ylabel=tr("output neuron (class)"))
        ax_now.set_xlim(-0.5, num_steps - 0.5)
        ax_now.set_xlabel(tr("time step"))
        ax_now.axvline(step, color=plot.HIGHLIGHT, lw=1, alpha=0.6)
        ax_now.set_title(tr("spikes, {steps}").format(steps=steps), fontsize="medium")
        best = so_far.max()
        colours = [plot.HIGHLIGHT if c == best and c > 0 else plot.BAR for c in so_far.tolist()]
        bars = ax_count.bar(range(now.numel()), so_far.numpy(), color=colours, width=0.7)
        ax_count.bar_label(bars, labels=[f"{c:g}" for c in so_far.tolist()], fontsize="small",
                           padding=2)
        ax_count.set_xticks(range(now.numel()))
        ax_count.set_ylim(0, num_steps * 1.12)
        ax_count.set_xlabel(tr("output neuron (class)"))
        ax_count.set_ylabel(tr("spikes so far"))
        ax_count.spines[["top", "right"]].set_visible(False)
        leader = (tr("no spikes yet") if best == 0
                  else tr("most spikes: class {c}").format(c=int(so_far.argmax())))
        ax_count.set_title(tr("{steps}: {leader}").format(steps=steps, leader=leader),
                           fontsize="medium")
    else:  # the maps at this step, and each neuron's spike count so far
        show_maps(ax_now, now, "gray", vmax=1)
        ax_now.set_title(tr("spikes at step {step}: {count} of {total} neurons").format(
            step=step, count=int(now.sum()), total=now.numel()), fontsize="medium")
        most = max(1.0, float(record.sum(0).max()))  # the busiest neuron's total: a fixed scale
        shown = show_maps(ax_count, so_far, plot.HEATMAP, vmax=most)
        fig.colorbar(shown, ax=ax_count, shrink=0.9, label=tr("spikes so far"))
        ax_count.set_title(tr("spike count, {steps}").format(steps=steps), fontsize="medium")
    fig.suptitle(title + tr("{layer}, time step {step} (of 0-{last})").format(
        layer=describe_layer(record), step=step, last=num_steps - 1), fontsize="medium")
    return fig


def _layer_titles(records: dict[str, Tensor]) -> dict[str, str]:
    """{key: "layer 1: 12 maps of 12x12", ..., last key: "output: 10 neurons"}, from one
    sample's records ``{key: [T, ...]}`` in the order of the network."""
    last = len(records)
    return {name: (tr("output: {layer}") if i == last else tr("layer {i}: {layer}")).format(
                i=i, layer=describe_layer(record))
            for i, (name, record) in enumerate(records.items(), start=1)}


def csnn_explorer(model: torch.nn.Module, images: Tensor,
                  labels: Any = None) -> widgets.interactive:
    """Pick a test digit and a layer of a CSNN, then step through time.

    ``model``: a network with ``layer_spikes(images)`` (:class:`snnlab.models.CSNN`);
    ``images``: ``[K, 1, 28, 28]`` digits; ``labels``: their K labels (optional). The spikes
    of all K digits are computed once, so moving a slider only re-draws. The time step runs
    from 0 to T - 1 and opens at the last one.
    """
    if not callable(getattr(model, "layer_spikes", None)):
        raise TypeError("model must have a layer_spikes(images) method, like "
                        f"snnlab.models.CSNN; got {type(model).__name__}")
    images = image_batch(images, 28)
    if images.dim() != 4:
        raise ValueError(f"images must be a tensor [K, 1, 28, 28], got shape "
                         f"{tuple(images.shape)}; add the channel axis, images.unsqueeze(1)")
    check_labels(labels, len(images))
    device = next(model.parameters()).device
    with torch.no_grad():
        layers = {name: s.cpu() for name, s in model.layer_spikes(images.to(device)).items()}
    titles = _layer_titles({name: s[:, 0] for name, s in layers.items()})
    options = [(text, name) for name, text in titles.items()]
    num_steps = next(iter(layers.values())).shape[0]

    def draw(digit: int, layer: str, step: int) -> Figure:
        label = int(labels[digit]) if labels is not None else None
        return draw_csnn_layer(images[digit], layers[layer][:, digit], step, label,
                               title=tr("digit #{index}: ").format(index=digit))

    controls = {
        "digit": slider(tr("digit (index)"), 0, 0, len(images) - 1, 1, integer=True),
        "layer": widgets.Dropdown(options=options, value=options[0][1],
                                  description=tr("layer")),
        "step": slider(tr("time step"), num_steps - 1, 0, num_steps - 1, 1, integer=True),
    }
    return panel(draw, controls)


def feature_map_video(image: Tensor, layers: dict[str, Tensor], label: int | None = None,
                      fps: float = 4) -> animate.Video:
    """A video of one digit going through a CSNN: every layer's spikes, one frame per step.

    ``image``: the digit (784 pixels); ``layers``: ``{name: [T, ...]}``, that digit's spikes in
    each layer (``[T, C, H, W]`` feature maps or ``[T, N]`` neurons), e.g.
    ``{k: s[:, i] for k, s in model.layer_spikes(images).items()}``. Feature maps are tiled
    in a grid (grey lines between maps, :func:`map_columns` maps per row, each numbered from
    0); the output layer is a column of cells, one per class, with its spike count so far
    beside it. The clock counts time steps from 0.
    """
    if not isinstance(layers, dict) or not layers:
        raise ValueError(f"layers must be a non-empty dict {{name: spikes [T, ...]}}, got "
                         f"{type(layers).__name__}")
    one_image("image", image, 28)
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
    axes[0].set_title(tr("input") if label is None else tr("input (label {label})").format(
        label=label), fontsize="medium")
    axes[0].set_axis_off()
    colours = matplotlib.colormaps["gray"].with_extremes(bad=MAP_GAP)
    pictures, counters = [], []
    class_counts, output = [], None  # the text beside each output neuron; its record
    numbers: list = []  # each map's index
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
            numbers += number_maps(ax, *record.shape[1:])  # redrawn over the moving maps
            ax.set_axis_off()
    clock = fig.text(0.02, 0.97, " ", ha="left", va="top", fontsize="large")
    frames = [mosaic(r[t]).numpy() for r in records.values() for t in range(num_steps)]

    def draw(t: int) -> list:
        for k, (picture, counter, record) in enumerate(
                zip(pictures, counters, records.values(), strict=True)):
            picture.set_data(frames[k * num_steps + t])
            count = int(record[t].sum())
            counter.set_text((tr("{count} spike") if count == 1 else tr("{count} spikes"))
                             .format(count=count))
        if output is not None:
            so_far = output[:t + 1].sum(0)
            for n, text in enumerate(class_counts):
                text.set_text(f" {int(so_far[n])}")
                text.set_color(plot.HIGHLIGHT if so_far[n] == so_far.max() > 0 else plot.INK)
        clock.set_text(tr("time step {t} (of 0-{last})").format(t=t, last=num_steps - 1))
        return [*pictures, *numbers, *counters, *class_counts, clock]

    return animate.FigureVideo(fig, draw, num_steps, fps)
