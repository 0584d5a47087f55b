"""Lesson 07: an event camera, and digits that move."""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from torch import Tensor

from snnlab import animate, checks, plot
from snnlab import events as camera
from snnlab.course.widgets.panels import check_labels, image_batch, new_figure, panel, slider
from snnlab.i18n import tr

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


def _one_recording(events: object) -> Tensor:
    """``events`` checked as one recording ``[T, 2, H, W]``, T >= 1, of 0/1 ON and OFF events
    (``events.saccade_events(...)[:, k]``); returned detached, on the CPU."""
    checks.tensor("events", events)
    shape = tuple(events.shape)
    if events.dim() != 4 or shape[1] != 2 or 0 in shape:
        hint = (": T = 0, no steps to show" if events.dim() == 4 and shape[:2] == (0, 2) else
                ": a batch? Pick a sample first, e.g. events[:, 0]" if events.dim() == 5 else "")
        raise ValueError("events must be one recording [T, 2, H, W] with T >= 1 (ON and OFF "
                         f"channels), got {shape}{hint}")
    events = checks.finite("events", events.detach().cpu())
    if ((events != 0) & (events != 1)).any():
        raise ValueError("events must hold 0/1 events (1: an event, 0: none), found values in "
                         f"[{events.min().item():g}, {events.max().item():g}]: "
                         f"{checks.where((events != 0) & (events != 1))}")
    return events


def event_video(events: Tensor, fps: float = 4, title: str = "") -> animate.Video:
    """The events of one recording, ``[T, 2, H, W]``, as a video: one frame per step.

    Each frame shows the step's events (orange ON, blue OFF, white both, black none), a legend
    of those colours, and the title: ``title`` (e.g. the digit's label) above "time step t
    (of 0-T-1)", counted from 0 as in the rasters. Lesson 07.
    """
    events = _one_recording(events)
    fps = checks.positive_number("fps", fps)
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}")
    rgb = event_rgb(events)  # [T, H, W, 3]
    num_steps = len(rgb)
    fig = Figure(figsize=(3.6, 4.0), dpi=animate.DPI)  # 360 x 400 pixels: even sides
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.04, 0.13, 0.92, 0.7))
    image = ax.imshow(rgb[0], interpolation="nearest")
    ax.set_axis_off()
    fig.legend(handles=[Patch(color=np.array(colour) / 255, label=name) for colour, name in (
        (ON_COLOUR, tr("ON (brighter)")), (OFF_COLOUR, tr("OFF (darker)")))],
        loc="lower center", ncols=2, fontsize="small", frameon=False)
    prefix = f"{title}\n" if title else ""
    label = fig.text(0.5, 0.985, " ", ha="center", va="top", fontsize="medium")

    def draw(t: int) -> list:
        image.set_data(rgb[t])
        label.set_text(prefix + tr("time step {t} (of 0-{last})").format(t=t,
                                                                           last=num_steps - 1))
        return [image, label]

    return animate.FigureVideo(fig, draw, num_steps, fps)


def event_counts(events: Tensor) -> dict[str, int]:
    """``{"ON", "OFF", "events", "pixel values"}`` of one recording ``[T, 2, H, W]``: the
    events, and the numbers a frame camera would send for the same steps (T * H * W)."""
    events = _one_recording(events)
    num_steps, _, height, width = events.shape
    on, off = int(events[:, 0].sum()), int(events[:, 1].sum())
    return {"ON": on, "OFF": off, "events": on + off, "pixel values": num_steps * height * width}


def draw_events(events: Tensor, image: Tensor | None = None, title: str = "",
                max_frames: int = 12, path: Tensor | None = None) -> Figure:
    """One recording ``[T, 2, H, W]``: the digit, an ON/OFF raster, counts, and its frames.

    Top: the still digit (if given), with the saccade ``path`` ``[T + 1, 2]`` (x, y shifts in
    pixels, ``events.saccade_path``) drawn from its centre if given; the raster (each event a
    tick at its step and pixel index, ON orange, OFF blue); ON and OFF events per step.
    Bottom: the first ``max_frames`` steps as pictures, a film strip of the video. Steps are
    counted from 0, with integer ticks. Lesson 07.
    """
    events = _one_recording(events)
    num_steps, _, height, width = events.shape
    counts = event_counts(events)
    shown = min(num_steps, max_frames)
    fig = new_figure(10.0, 4.6)
    top = fig.add_gridspec(1, 3, width_ratios=[1, 2.6, 1.6], left=0.02, right=0.98,
                           bottom=0.42, top=0.86, wspace=0.3)
    strip = fig.add_gridspec(1, shown, left=0.02, right=0.98, bottom=0.03, top=0.3,
                             wspace=0.06)
    ax_image, ax_raster, ax_counts = (fig.add_subplot(cell) for cell in top)
    if image is not None:
        ax_image.imshow(image.detach().cpu().reshape(image.shape[-2:]).numpy(), cmap="gray",
                        vmin=0, vmax=1, interpolation="nearest")
        ax_image.set_title(tr("the digit (28 x 28)"), fontsize="medium")
        if path is not None:
            xy = path.detach().cpu().numpy() + (image.shape[-1] - 1) / 2  # shifts from centre
            ax_image.plot(xy[:, 0], xy[:, 1], "-", color=np.array(ON_COLOUR) / 255,
                          linewidth=1.5)
            ax_image.plot(*xy[0], "o", color=np.array(ON_COLOUR) / 255, markersize=4)
            ax_image.set_title(tr("the digit and its saccade\n(start: dot)"),
                               fontsize="medium")
    ax_image.set_axis_off()

    steps = np.arange(num_steps, dtype=np.float32)
    for channel, colour, name in ((0, ON_COLOUR, "ON"), (1, OFF_COLOUR, "OFF")):
        t, pixel = events[:, channel].reshape(num_steps, -1).nonzero(as_tuple=True)
        ax_raster.scatter(steps[t.numpy()] + (0.15 if channel else -0.15), pixel.numpy(), s=3,
                          marker="|",
                          color=np.array(colour) / 255, label=name, linewidths=0.8)
    ax_raster.set_xlim(-0.7, num_steps - 0.3)
    ax_raster.set_ylim(height * width, 0)
    ax_raster.set_xlabel(tr("time step t"))
    ax_raster.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_raster.set_ylabel(tr("pixel (row-major, {height} x {width})").format(height=height,
                                                                             width=width))
    ax_raster.legend(loc="upper right", fontsize="small", markerscale=4, handletextpad=0.2)
    ax_raster.set_title(tr("{on} ON + {off} OFF = {events} events").format(
        on=counts["ON"], off=counts["OFF"], events=counts["events"]), fontsize="medium")

    per_step = events.sum((2, 3)).numpy()  # [T, 2]
    ax_counts.bar(steps - 0.2, per_step[:, 0], width=0.4, color=np.array(ON_COLOUR) / 255,
                  label="ON")
    ax_counts.bar(steps + 0.2, per_step[:, 1], width=0.4, color=np.array(OFF_COLOUR) / 255,
                  label="OFF")
    ax_counts.set_xlabel(tr("time step t"))
    ax_counts.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_counts.set_ylabel(tr("events per step"))
    ax_counts.spines[["top", "right"]].set_visible(False)
    ax_counts.set_title(tr("a frame camera: {values} values\nevents: {share} of that").format(
        values=f"{counts['pixel values']:,}",
        share=f"{counts['events'] / counts['pixel values']:.1%}"), fontsize="medium")

    rgb = event_rgb(events)
    for t in range(shown):
        ax = fig.add_subplot(strip[0, t])
        ax.imshow(rgb[t], interpolation="nearest")
        ax.set_title(f"t = {t}", fontsize="small")
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize="medium", x=0.01, ha="left")
    return fig


def saccade_recording(image: Tensor, angle: float, num_steps: int = 12, speed: float = 1.0,
                      threshold: float = 0.5) -> Tensor:
    """The events ``[T, 2, 34, 34]`` of one digit ``[1, 28, 28]`` on its saccade. Lesson 07.

    Exactly ``events.saccade_events(images, num_steps, speed, threshold, angle=angles)[:, k]``
    for ``image = images[k]`` and ``angle = angles[k]``: the explorer records with this, so it
    shows the same events as a recording made for a whole batch with the same angles.
    """
    return camera.saccade_events(image.reshape(1, 1, *image.shape[-2:]), num_steps, speed,
                                 threshold, angle=float(angle))[:, 0]


def event_explorer(images: Tensor, labels: Any = None, num_steps: int = 12,
                   angles: Tensor | None = None) -> widgets.interactive:
    """Pick a digit, set the camera's contrast threshold and the speed of the motion; see the
    events.

    ``images``: ``[K, 1, 28, 28]`` digits in [0, 1]; ``labels``: their K labels (optional);
    ``angles``: each digit's saccade angle ``[K]`` in radians (default: those
    ``events.saccade_events(images, seed=0)`` draws, ``events.saccade_angles(K, seed=0)``).
    Each setting shows ``draw_events`` (the digit with its saccade drawn) and the recording as
    a video (``event_video``): a higher threshold keeps only the strongest changes, a faster
    motion makes more of them, and at speed 0 the camera sees nothing at all. The recordings
    come from ``saccade_recording`` (``panel.record(digit, threshold, speed)``). Lesson 07.
    """
    images = image_batch(images, 28)
    images = images if images.dim() == 4 else images.unsqueeze(1)  # [K, 1, 28, 28]
    check_labels(labels, len(images))
    num_steps = checks.positive_int("num_steps", num_steps)
    if angles is None:
        angles = camera.saccade_angles(len(images), seed=0)
    angles = checks.tensor("angles", angles)
    if angles.shape != (len(images),):
        raise ValueError(f"angles must hold one angle per image, shape [{len(images)}], got "
                         f"{tuple(angles.shape)}")
    checks.finite("angles", angles)

    def record(digit: int, threshold: float, speed: float) -> Tensor:
        return saccade_recording(images[digit], float(angles[digit]), num_steps, speed,
                                 threshold)

    def name(digit: int) -> str:
        if labels is None:
            return tr("digit #{index}").format(index=digit)
        return plot.digit_name(digit, labels[digit], "digit")

    def draw(digit: int, threshold: float, speed: float) -> Figure:
        path = camera.saccade_path(num_steps, speed, float(angles[digit]))
        return draw_events(record(digit, threshold, speed), images[digit],
                           tr("{digit}: contrast threshold κ = {threshold}, speed {speed} "
                              "pixels per step, angle {angle}°").format(
                               digit=name(digit), threshold=f"{threshold:g}",
                               speed=f"{speed:g}",
                               angle=f"{math.degrees(float(angles[digit])):.0f}"), path=path)

    def video(digit: int, threshold: float, speed: float) -> list[dict[str, Any]]:
        clip = event_video(record(digit, threshold, speed), title=name(digit))
        return [{"output_type": "display_data", "metadata": {},
                 "data": {"text/html": clip.to_html(), "text/plain": repr(clip)}}]

    ui = panel(draw, {
        "digit": slider(tr("digit (index)"), 0, 0, len(images) - 1, 1, integer=True),
        "threshold": slider(tr("threshold κ"), 0.5, 0.1, 2.0, 0.1),
        "speed": slider(tr("speed (pixels/step)"), 1.0, 0.0, 3.0, 0.25),
    }, extra=video)
    ui.record = record  # what the panel shows, for a test or a closer look
    return ui
