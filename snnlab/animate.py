"""Spike videos for notebooks: watch spikes move, step by step.

Two ways to make a video, one result type (:class:`Video`):

- :func:`spikes` and :func:`spike_counts` draw every frame with matplotlib (a title with the
  time step, axes, bars), for clips that need labels.
- :func:`video` is the fast path for long spike videos: raw frames are scaled up (nearest
  neighbour, so every pixel stays a crisp square) with no matplotlib drawing at all.

Either way the frames are piped raw into ffmpeg (via ``ffmpeg-python``).

A :class:`Video` shows itself inline in Jupyter / Colab as an embedded MP4 (H.264, yuv420p, so
every browser plays it) when it is the last expression of a cell, and ``video.save(path)``
writes ``.mp4`` or ``.gif``.

The ffmpeg binary comes from the ``imageio-ffmpeg`` pip package: on import this module points
``matplotlib.rcParams["animation.ffmpeg_path"]`` at it, so no system ffmpeg is needed. Without a
usable ffmpeg nothing raises: a warning names what is missing (once per session) or why ffmpeg
failed (every time), matplotlib videos show as matplotlib's JavaScript player and fast-path
videos as an inline GIF, and files are written as GIF by Pillow. Lessons 01, 02, 04 and 05.
"""

from __future__ import annotations

import base64
import itertools
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import torch
from matplotlib.animation import FuncAnimation
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from snnlab import checks, files
from snnlab.i18n import tr
from snnlab.plot import BAR, HIGHLIGHT, WIDTH, _class_names, _time_by_neuron, to_numpy

try:
    import ffmpeg  # the ffmpeg-python package: builds the ffmpeg command lines below
except ImportError:  # pragma: no cover - it is a dependency, but importing must never fail
    ffmpeg = None

CRF = 23                  # H.264 quality: 0 lossless ... 51 worst; 23 is ffmpeg's default
EMBED_LIMIT_MB = 5.0      # cap for the JavaScript-player fallback, so notebooks stay < 8 MB
DPI = 100                 # matplotlib videos: pixels per inch (figure sizes give even pixels)
MAX_FRAMES = 10_000       # 400 s at 25 fps: longer is a mistake (e.g. a whole batch as time)
MAX_BYTES = 2 * 1024**3   # raw frames of the fast path: at most 2 GB


def _use_imageio_ffmpeg() -> None:
    """Point matplotlib at the ffmpeg binary shipped inside the imageio-ffmpeg wheel."""
    try:
        import imageio_ffmpeg

        matplotlib.rcParams["animation.ffmpeg_path"] = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # package missing, or no binary for this platform: warn when it matters
        pass


_use_imageio_ffmpeg()


def ffmpeg_exe() -> str | None:
    """The ffmpeg binary videos are encoded with (``rcParams["animation.ffmpeg_path"]``),
    or None when it does not exist or is not executable. Lesson 00 (the environment check)."""
    return shutil.which(str(matplotlib.rcParams["animation.ffmpeg_path"]))


def _missing_ffmpeg() -> str | None:
    """What is missing for MP4 encoding, in words, or None when ffmpeg is usable."""
    if ffmpeg is None:
        return tr("the ffmpeg-python package is missing (`pip install ffmpeg-python`)")
    if ffmpeg_exe() is None:
        path = matplotlib.rcParams["animation.ffmpeg_path"]
        return tr("no usable ffmpeg binary (matplotlib's animation.ffmpeg_path is {path}); "
                  "`pip install imageio-ffmpeg` provides one").format(path=repr(path))
    return None


_warned = False


def _warn(missing: str, every_time: bool) -> None:
    """A clear warning about what is missing or failed, and what happens instead: once per
    session for a missing ffmpeg (nothing changes until it is installed), every time for an
    ffmpeg failure (each may have its own cause)."""
    global _warned
    if every_time or not _warned:
        _warned = _warned or not every_time
        warnings.warn(tr("snnlab.animate: {missing}. Videos show as a JavaScript player or GIF "
                         "instead of MP4, and .mp4 files are saved as .gif.").format(
                             missing=missing), stacklevel=4)


# --------------------------------------------------------------------------------- the result

class _NoMP4(Exception):
    """No MP4 was written (ffmpeg missing or failed; the warning says which): save a GIF."""


class Video:
    """A spike video: inline in a notebook as an MP4, ``save(path)`` to ``.mp4`` or ``.gif``.

    A subclass says how to make the frames (``frames()``: uint8 ``[H, W]`` grey or
    ``[H, W, 3]`` RGB arrays, even H and W); encoding is the same for every video. Lesson 01.
    """

    def __init__(self, num_frames: int, fps: float) -> None:
        self.num_frames = num_frames
        self.fps = fps
        self._html: str | None = None

    def frames(self) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def _write_mp4(self, path: Path) -> None:
        """Pipe the raw frames into ffmpeg's H.264 encoder (yuv420p: every browser plays it)."""
        frames = self.frames()
        first = next(frames)
        height, width = first.shape[:2]
        process = (
            ffmpeg.input("pipe:", format="rawvideo", pix_fmt="gray" if first.ndim == 2 else "rgb24",
                         s=f"{width}x{height}", framerate=self.fps)
            .output(str(path), format="mp4", vcodec="libx264", pix_fmt="yuv420p", crf=CRF,
                    movflags="+faststart")
            .global_args("-loglevel", "error")  # so the stderr pipe never fills up
            .overwrite_output()
            .run_async(cmd=ffmpeg_exe(), pipe_stdin=True, pipe_stderr=True)
        )
        try:
            for frame in itertools.chain([first], frames):
                process.stdin.write(frame.tobytes())
        except BrokenPipeError:  # ffmpeg stopped early; its own message follows
            pass
        finally:
            try:
                process.stdin.close()
            except BrokenPipeError:
                pass
        error = process.stderr.read().decode(errors="replace")
        process.stderr.close()
        if process.wait() != 0:
            raise RuntimeError(error)

    def _write_gif(self, path: Path) -> None:
        # Pillow merges identical consecutive frames into one longer frame; timing is unchanged.
        images = [Image.fromarray(frame) for frame in self.frames()]
        images[0].save(path, format="GIF", save_all=True, append_images=images[1:],
                       duration=round(1000 / self.fps), loop=0)

    def _fallback_html(self) -> str:
        """Without ffmpeg: the video as an inline GIF."""
        with tempfile.TemporaryDirectory() as folder:
            gif = Path(folder) / "video.gif"
            self._write_gif(gif)
            data = base64.b64encode(gif.read_bytes()).decode("ascii")
        return f'<img src="data:image/gif;base64,{data}">'

    def _try_mp4(self, path: Path, name: Path | None = None) -> bool:
        """Write an MP4 if ffmpeg is usable; else warn (once) and return False. Never raises.
        ``name``: the file to name in a warning, if ``path`` is a temporary one."""
        missing = _missing_ffmpeg()
        if missing is not None:
            _warn(missing, every_time=False)
            return False
        try:
            self._write_mp4(path)
            return True
        except (OSError, RuntimeError) as error:
            _warn(tr("ffmpeg failed writing {name} ({error})").format(
                name=name or path, error=str(error).strip()[-300:]), every_time=True)
            return False

    def save(self, path: str | Path) -> Path:
        """Write the video to ``path`` (``.mp4`` or ``.gif``) and return the path written.

        Without ffmpeg an ``.mp4`` request writes a GIF next to it (same name, ``.gif``).
        A missing folder is created. The file is written whole or not at all
        (``snnlab.files``): if the write fails (a full disk), an OSError names the file and
        says why, and no partial video is left behind.
        """
        if not isinstance(path, (str, Path)):
            raise TypeError(f"path must be a file name (str or pathlib.Path), got "
                            f"{type(path).__name__}")
        path = Path(path)
        if path.suffix.lower() not in (".mp4", ".gif"):
            raise ValueError(f"path must end in .mp4 or .gif, got {str(path)!r}")
        if path.is_dir():
            raise ValueError(f"path must be a file name, but {str(path)!r} is a folder")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OSError(f"cannot create the folder {str(path.parent)!r} for the video: "
                          f"{error.strerror}") from None
        if path.suffix.lower() == ".mp4":
            try:
                with files.replacing(path) as temp:
                    if not self._try_mp4(temp, name=path):
                        raise _NoMP4
                return path
            except _NoMP4:  # (the temporary file is gone)
                path = path.with_suffix(".gif")
        with files.replacing(path) as temp:
            self._write_gif(temp)
        return path

    def to_html(self) -> str:
        """HTML that plays the video: an embedded MP4, or the fallback without ffmpeg."""
        if self._html is None:
            with tempfile.TemporaryDirectory() as folder:
                mp4 = Path(folder) / "video.mp4"
                if self._try_mp4(mp4):
                    data = base64.b64encode(mp4.read_bytes()).decode("ascii")
                    self._html = ('<video controls autoplay loop muted playsinline>'
                                  f'<source type="video/mp4" src="data:video/mp4;base64,{data}">'
                                  '</video>')
                else:
                    self._html = self._fallback_html()
        return self._html

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.num_frames} frames at {self.fps:g} fps>"


class ArrayVideo(Video):
    """The fast path: ready-made uint8 frames ``[T, H, W]``. Lesson 05."""

    def __init__(self, pixels: np.ndarray, fps: float) -> None:
        super().__init__(len(pixels), fps)
        self.pixels = pixels

    def frames(self) -> Iterator[np.ndarray]:
        return iter(self.pixels)


class FigureVideo(Video):
    """The matplotlib path: ``draw(t)`` updates ``fig`` to time step t and returns the artists
    it changed.

    Everything else (axes, ticks, labels) is drawn once and reused as a background, so each
    frame only redraws what moves ("blitting"). The figure is not managed by pyplot, so Jupyter
    shows no stray static copy of it. Lesson 01.
    """

    def __init__(self, fig: Figure, draw: Callable[[int], list[Artist]], num_frames: int,
                 fps: float) -> None:
        super().__init__(num_frames, fps)
        self.fig, self.draw = fig, draw
        for artist in draw(0):
            artist.set_animated(True)  # left out of the background
        fig.canvas.draw()  # lays the figure out (once, for the first frame) ...
        fig.set_layout_engine("none")  # ... and freezes that layout
        self._background = fig.canvas.copy_from_bbox(fig.bbox)

    def frames(self) -> Iterator[np.ndarray]:
        canvas = self.fig.canvas
        for t in range(self.num_frames):
            canvas.restore_region(self._background)
            for artist in self.draw(t):
                self.fig.draw_artist(artist)
            yield np.array(canvas.buffer_rgba())[..., :3]  # a copy: the buffer is reused

    def _fallback_html(self) -> str:
        """Without ffmpeg: matplotlib's JavaScript player, capped so notebooks stay small."""
        animation = FuncAnimation(self.fig, self.draw, frames=self.num_frames,
                                  interval=1000 / self.fps, cache_frame_data=False)
        with matplotlib.rc_context({"animation.embed_limit": EMBED_LIMIT_MB}):
            return animation.to_jshtml(fps=self.fps, default_mode="loop")


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure for a video, drawn by Agg and unknown to pyplot; width x height in inches.

    Sizes times DPI should be even (H.264 with yuv420p needs even sides)."""
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


# --------------------------------------------------------------------------------- inputs

def _frames(x: Any, name: str) -> np.ndarray:
    """``x`` as float frames ``[T, H, W]``: ``[T, N]`` becomes one row of N cells."""
    a = to_numpy(x, name).astype(np.float32)
    allowed = "[T, H, W], [T, N], or [T, 1, H, W] (size-1 axes between T and H)"
    if a.ndim < 2 or a.shape[0] == 0 or a.size == 0:
        raise ValueError(f"{name} must have shape {allowed}, got shape {a.shape}")
    if a.ndim > 2 and any(d != 1 for d in a.shape[1:-2]):
        raise ValueError(f"{name} must have shape {allowed}, got shape {a.shape}; "
                         "pick one sample first, e.g. spikes[:, 0]")
    _check_length(name, len(a))
    checks.finite(name, torch.from_numpy(a))
    return a[:, None, :] if a.ndim == 2 else a.reshape(len(a), a.shape[-2], a.shape[-1])


def _check_length(name: str, num_frames: int) -> None:
    """No video of more than MAX_FRAMES frames: it would take minutes and gigabytes."""
    if num_frames > MAX_FRAMES:
        raise ValueError(f"{name} has {num_frames} time steps, one video frame each; at most "
                         f"{MAX_FRAMES} are allowed. Is the time axis first? Else pick fewer "
                         f"steps, e.g. {name}[:500]")


# --------------------------------------------------------------------------------- the fast path

def video(frames: Any, fps: float = 25, scale: int = 8) -> Video:
    """A spike video without matplotlib: frames scaled up and piped straight into ffmpeg.

    Args:
        frames: ``[T, H, W]`` (e.g. a rate-coded digit ``[200, 28, 28]``), ``[T, 1, H, W]``, or
            ``[T, N]`` (one row of N cells). Values in [0, 1] map to black..white (spikes are
            white); other ranges are scaled by the whole video's min and max.
        fps: frames (time steps) per second.
        scale: each value becomes a ``scale x scale`` square of pixels (nearest neighbour).

    Lesson 05.
    """
    fps = checks.positive_number("fps", fps)
    checks.positive_int("scale", scale)
    a = _frames(frames, "frames")
    size = a.shape[0] * (a.shape[1] * scale + 1) * (a.shape[2] * scale + 1)  # bytes, with padding
    if size > MAX_BYTES:
        raise ValueError(f"frames {a.shape} at scale={scale} would need {size / 1024**3:.1f} GB "
                         f"of video frames (at most {MAX_BYTES / 1024**3:.0f} GB); use a smaller "
                         "scale or fewer steps")
    low, high = float(a.min()), float(a.max())
    if low < 0 or high > 1:  # not spikes or probabilities: stretch to [0, 1]
        a = (a - low) / (high - low) if high > low else np.zeros_like(a)
    pixels = np.round(a * 255).astype(np.uint8)
    pixels = pixels.repeat(scale, axis=1).repeat(scale, axis=2)
    # H.264 with yuv420p needs even sides: pad one black row / column if needed.
    _, height, width = pixels.shape
    pixels = np.pad(pixels, ((0, 0), (0, height % 2), (0, width % 2)))
    return ArrayVideo(np.ascontiguousarray(pixels), fps)


# --------------------------------------------------------------------------------- matplotlib

def spikes(frames: Any, fps: float = 25, title: str | None = None) -> Video:
    """Animate a spike tensor with matplotlib, one frame per time step.

    ``frames``: ``[T, H, W]`` (an image per step, e.g. a rate-coded digit), ``[T, 1, H, W]``,
    or ``[T, N]`` (a row of N neurons). Spikes are white on black; the title counts time steps
    from 0, as rasters and tables do. Lesson 01.
    """
    fps = checks.positive_number("fps", fps)
    a = _frames(frames, "frames")
    num_steps, height, width = a.shape
    row = height == 1
    fig, ax = _figure(WIDTH, 1.6) if row else _figure(2.8, 3.0)
    image = ax.imshow(a[0], cmap="gray", vmin=min(0.0, float(a.min())),
                      vmax=max(1.0, float(a.max())), interpolation="nearest",
                      aspect="auto" if row else "equal")
    moving: list[Artist] = [image]
    if row:
        ax.set_yticks([])
        ax.set_xlabel(tr("neuron index"))
        if width <= 20:
            ax.set_xticks(range(width))
        if width <= 100:  # grey borders, so two neighbours spiking together stay two cells
            moving.append(ax.vlines(np.arange(1, width) - 0.5, -0.5, 0.5, color="#777777",
                                    linewidth=1))
    else:
        ax.set_axis_off()
    prefix = f"{title}\n" if title else ""
    label = ax.set_title(" ", fontsize="medium", y=1.0)  # fixed y: no re-placing per frame

    def draw(t: int) -> list[Artist]:
        image.set_data(a[t])
        # from 0, as rasters
        label.set_text(prefix + tr("time step {t} (of 0-{last})").format(t=t, last=num_steps - 1))
        return [*moving, label]  # the borders are redrawn over the image

    return FigureVideo(fig, draw, num_steps, fps)


def spike_counts(spikes: Any, labels: Sequence[str] | None = None, fps: float = 25,
                 title: str | None = None) -> Video:
    """The output layer's spike counts as a bar chart that grows step by step.

    ``spikes``: ``[T, N]`` (or ``[T, 1, N]``) output spikes of one sample; ``labels`` names the
    N classes (default 0..N-1); ``title``: a first line above the step counter, e.g. which
    network this is. At step t (counted from 0) bar n shows sum_{s<=t} spikes[s, n]. A class
    that leads alone is highlighted and named in the caption; while two or more classes share
    the highest count, no bar is highlighted and the caption says which are tied. Lessons 02
    and 04.
    """
    fps = checks.positive_number("fps", fps)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")
    s = _time_by_neuron(spikes, "spikes", flatten=False)
    _check_length("spikes", len(s))
    counts = np.cumsum(s != 0, axis=0)  # [T, N]: spikes so far
    num_steps, num_classes = counts.shape
    names = _class_names(labels, num_classes)
    fig, ax = _figure(WIDTH, 3.6 if title else 3.2)
    bars = ax.bar(np.arange(num_classes), counts[0], color=BAR, width=0.7)
    numbers = [ax.text(n, 0, "", ha="center", va="bottom", fontsize="small")
               for n in range(num_classes)]
    ax.set_xticks(np.arange(num_classes), names)
    ax.set_ylim(0, max(1, counts[-1].max()) * 1.15)
    ax.set_xlabel(tr("class (output neuron)"))
    ax.set_ylabel(tr("spike count so far"))
    ax.spines[["top", "right"]].set_visible(False)
    prefix = f"{title}\n" if title else ""
    label = ax.set_title(" ", fontsize="medium", y=1.0)  # fixed y: no re-placing per frame

    def draw(t: int) -> list[Artist]:
        best = counts[t].max()
        leaders = [n for n in range(num_classes) if counts[t, n] == best] if best > 0 else []
        for n, (bar, number, count) in enumerate(zip(bars, numbers, counts[t], strict=True)):
            bar.set_height(count)
            bar.set_color(HIGHLIGHT if leaders == [n] else BAR)  # a tie highlights no one
            number.set_position((number.get_position()[0], count))
            number.set_text(str(count))
        if not leaders:
            standing = tr("no spikes yet")
        elif len(leaders) == 1:
            standing = tr("class {name} leads").format(name=names[leaders[0]])
        else:
            standing = tr("tied: {names}").format(names=_joined([names[n] for n in leaders]))
        # time steps from 0, as rasters and tables
        label.set_text(prefix + tr("time step {t} (of 0-{last}): {standing}").format(
            t=t, last=num_steps - 1, standing=standing))
        return [*bars, *numbers, label]

    return FigureVideo(fig, draw, num_steps, fps)


def _joined(names: list[str]) -> str:
    """Names in words: 'a and b', 'a, b and c'."""
    if len(names) == 1:
        return names[0]
    return tr("{first} and {last}").format(first=", ".join(names[:-1]), last=names[-1])
