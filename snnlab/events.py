"""An event camera, simulated on moving MNIST digits. Lesson 07.

An event camera (a dynamic vision sensor, DVS) sends no frames. Each pixel watches the
logarithm of the light falling on it and reports an event the moment that value has changed
by more than a contrast threshold: an ON event when it got brighter, an OFF event when it got
darker. A still scene sends nothing at all. This is lesson 01's delta code, one per pixel,
applied to the log intensity. The camera has its own symbols, so that they never meet the
neurons' (I the input current, theta the firing threshold): with P[k] a pixel's value in
frame k (the light on it, in [0, 1]; frame 0 is the scene before any event) and steps t
counted from 0:

    ℓ[k]   = ln(P[k] + eps)                     log intensity "ell" (eps: a dark pixel's floor)
    d[t]   = ℓ[t+1] - ℓ[t]                      the change during step t
    ON[t]  = 1 if d[t] >=  κ                    (else 0)      κ ("kappa"): contrast threshold
    OFF[t] = 1 if d[t] <= -κ                    (else 0)

In code the contrast threshold is the argument ``threshold``.

A real sensor compares against the level at its last event, not the last step, and may fire
several events during one step; this model fires at most one event per pixel, polarity and
step (a camera read out in time bins), which is what ``encoding.delta`` computes.

N-MNIST (Orchard et al., 2015) was recorded by moving such a camera in three saccades, a
small triangle, in front of MNIST digits on a screen. Here the digit moves instead, along the
same kind of triangle, and the camera above turns the frames into events::

    events = saccade_events(images, num_steps=12, speed=1.0)   # [T, B, 2, 34, 34]

Channel 0 holds the ON events, channel 1 the OFF events; time comes first, as everywhere in
snnlab. ``order_events`` shows two digits one after the other (the task of lesson 07 where the
order is the information), and ``saccade_loaders`` / ``order_loaders`` serve both as
DataLoaders for training, made batch by batch from MNIST, seeded, with no download beyond MNIST.
"""

from __future__ import annotations

import math
import os

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset

from snnlab import checks, data, encoding

__all__ = ["CANVAS", "log_intensity", "camera_events", "saccade_path", "saccade_angles", "move",
           "saccade_events", "order_events", "EventDigits", "saccade_loaders", "order_loaders"]

CANVAS = 34  # N-MNIST's sensor crop: 34 x 34 pixels, a 28 x 28 digit with room to move
MAX_SPEED = 3.0  # pixels per step; faster, and the triangle pushes the digit off the canvas


# ---------------------------------------------------------------- the camera
def log_intensity(frames: Tensor, eps: float = 0.1) -> Tensor:
    """ℓ = ln(P + eps), per pixel value P: what each pixel of an event camera responds to.

    The logarithm makes the camera see *relative* changes (contrast): a pixel going from 0.1
    to 0.2 changes ℓ as much as one going from 0.5 to 1.0 (with eps, nearly so for pixels
    well above eps). ``eps`` keeps a black pixel finite. Same shape as ``frames``. Lesson 07.
    """
    checks.unit_range("frames", checks.tensor("frames", frames))
    eps = checks.positive_number("eps", eps)
    return torch.log(frames + eps)


def camera_events(frames: Tensor, threshold: float = 0.5, eps: float = 0.1) -> Tensor:
    """ON/OFF events of the frames ``[T + 1, ..., H, W]``: ``[T, ..., 2, H, W]``. Lesson 07.

    The first frame is the scene the camera has been looking at (it sends no events for it);
    step t (from 0) compares frame t + 1 with frame t, through the change of the log
    intensity ℓ = ln(P + eps) (module docstring)::

        d[t]   = ℓ[t+1] - ℓ[t]
        ON[t]  = d[t] >= κ,      OFF[t] = d[t] <= -κ          (κ = ``threshold``)

    computed by ``encoding.delta`` with ``off_spike=True``, whose -1 spikes become the OFF
    channel. Returns 0/1 floats, ON in channel 0 and OFF in channel 1 of dimension -3.

    Args:
        frames: intensities in [0, 1], time first, at least 2 frames.
        threshold: κ, the contrast threshold on the change of ℓ = ln(P + eps), > 0.
        eps: the floor added before the logarithm, > 0.
    """
    checks.unit_range("frames", checks.tensor("frames", frames))
    if frames.dim() < 3 or len(frames) < 2:
        raise ValueError("frames must be [T + 1, ..., H, W] with at least 2 frames (the first "
                         f"is the scene before any event), got shape {tuple(frames.shape)}")
    threshold = checks.positive_number("threshold", threshold)
    delta = encoding.delta(log_intensity(frames, eps), threshold, off_spike=True)[1:]
    return torch.stack([(delta > 0), (delta < 0)], dim=-3).to(frames.dtype)


# ---------------------------------------------------------------- the motion
def saccade_path(num_steps: int, speed: float, angle: Tensor | float = 0.0) -> Tensor:
    """Positions ``[num_steps + 1, ..., 2]`` (x, y in pixels) once round a triangle. Lesson 07.

    Like N-MNIST's three saccades: the digit moves at ``speed`` pixels per step along an
    equilateral triangle centred on the canvas and is back at its start after ``num_steps``
    steps, so each side is ``speed * num_steps / 3`` pixels long. Its corners lie on a circle
    of radius r = side / sqrt(3), at the angles ``angle``, ``angle + 120°``, ``angle + 240°``
    (in radians; give a tensor of angles ``[B]`` for B different paths).
    """
    num_steps = checks.positive_int("num_steps", num_steps)
    speed = checks.number("speed", speed, f"in [0, {MAX_SPEED:g}] pixels per step",
                          lambda v: 0 <= v <= MAX_SPEED)
    angle = torch.as_tensor(angle, dtype=torch.float32)
    checks.finite("angle", angle)
    checks.allocation(f"saccade_path: num_steps={num_steps}", (num_steps + 1, *angle.shape, 2),
                      "use fewer steps")
    side = speed * num_steps / 3
    radius = side / math.sqrt(3)
    corners = angle.unsqueeze(-1) + torch.arange(4) * (2 * math.pi / 3)  # [..., 4]: back to 0
    corners = radius * torch.stack([corners.cos(), corners.sin()], dim=-1)  # [..., 4, 2]
    # Arc length s of step t, and where on the triangle that is: side k, a fraction f along it.
    s = torch.arange(num_steps + 1) * (3 / num_steps)  # in sides: 0 .. 3
    k = s.floor().clamp(max=2).long()
    f = (s - k).view(-1, *([1] * angle.dim()), 1)  # [T + 1, ..., 1]
    start = corners[..., k, :].movedim(-2, 0)  # [T + 1, ..., 2]
    end = corners[..., k + 1, :].movedim(-2, 0)
    return start + f * (end - start)


def move(images: Tensor, positions: Tensor, canvas: int = CANVAS) -> Tensor:
    """Frames ``[S, B, canvas, canvas]``: each digit shifted to its position at each step.

    ``images`` ``[B, 1, 28, 28]`` (or ``[B, 28, 28]``) are centred on a black canvas, then
    shifted by ``positions`` ``[S, B, 2]`` (x right, y down, in pixels, fractions allowed:
    bilinear interpolation, as a sensor pixel averages the light over its area). Lesson 07.
    """
    images = checks.images("images", images)
    images = images.reshape(len(images), 1, *images.shape[-2:])
    checks.finite("positions", checks.tensor("positions", positions))
    if positions.dim() != 3 or positions.shape[1:] != (len(images), 2):
        raise ValueError(f"positions must be [steps, {len(images)}, 2] (x, y per step and "
                         f"image), got shape {tuple(positions.shape)}")
    canvas = checks.positive_int("canvas", canvas)
    height, width = images.shape[-2:]
    if canvas < max(height, width):
        raise ValueError(f"canvas must be at least the image size {max(height, width)}, "
                         f"got {canvas}")
    _check_recording_size(f"move: {len(positions)} positions", len(positions), len(images),
                          canvas)
    left, top = (canvas - width) // 2, (canvas - height) // 2
    padded = F.pad(images, (left, canvas - width - left, top, canvas - height - top))
    steps, batch = positions.shape[:2]
    # grid_sample reads output pixel p from input p - shift; coordinates span [-1, 1].
    affine = torch.zeros(steps * batch, 2, 3, dtype=images.dtype, device=images.device)
    affine[:, 0, 0] = affine[:, 1, 1] = 1
    affine[:, :, 2] = -positions.reshape(-1, 2).to(images) * (2 / canvas)
    grid = F.affine_grid(affine, [steps * batch, 1, canvas, canvas], align_corners=False)
    source = padded.repeat(steps, 1, 1, 1)
    frames = F.grid_sample(source, grid, mode="bilinear", padding_mode="zeros",
                           align_corners=False)
    return frames.view(steps, batch, canvas, canvas).clamp_(0, 1)


def _check_recording_size(what: str, num_frames: int, batch: int, canvas: int) -> None:
    """Refuse a recording too big for memory before making it: ``move``'s sampling grid, the
    largest tensor on the way, holds 2 numbers per pixel of every frame of every digit."""
    checks.allocation(f"{what} of {batch} digit(s) on a {canvas} x {canvas} canvas",
                      (num_frames * batch, canvas, canvas, 2),
                      "use fewer steps, or record fewer digits at a time")


def _angles(num: int, generator: torch.Generator | None) -> Tensor:
    return torch.rand(num, generator=generator) * (2 * math.pi)


def saccade_angles(num: int, seed: int = 0) -> Tensor:
    """The random angles ``[num]`` (radians) that ``saccade_events(images, seed=seed)`` gives
    ``num`` digits' triangles: pass them as ``angle=`` to record, or ``saccade_path`` to draw,
    the same motion. Lesson 07."""
    return _angles(checks.positive_int("num", num), torch.Generator().manual_seed(seed))


def saccade_events(images: Tensor, num_steps: int = 12, speed: float = 1.0,
                   threshold: float = 0.5, angle: Tensor | float | None = None,
                   seed: int = 0, canvas: int = CANVAS) -> Tensor:
    """Event-camera recordings of digits on a saccade: ``[T, B, 2, canvas, canvas]``. Lesson 07.

    Each digit starts still at the first corner of its triangle (``saccade_path``), which the
    camera has already seen, then goes once round it in ``num_steps`` steps; ``camera_events``
    turns the ``num_steps + 1`` frames into events. ``images``: B >= 1 digits
    ``[B, 1, H, W]`` or ``[B, H, W]`` in [0, 1]. ``angle`` (radians, a number or ``[B]``)
    turns the triangles; by default each digit gets a random angle drawn with ``seed``
    (``saccade_angles(B, seed)``: the angles to draw each digit's path with). ``threshold``
    is the contrast threshold κ.
    """
    batch = len(checks.images("images", images))
    num_steps = checks.positive_int("num_steps", num_steps)
    canvas = checks.positive_int("canvas", canvas)
    _check_recording_size(f"saccade_events: num_steps={num_steps}", num_steps + 1, batch,
                          canvas)
    if angle is None:
        angle = _angles(batch, torch.Generator().manual_seed(seed))
    angle = checks.per_sample("angle", angle, batch)
    positions = saccade_path(num_steps, speed, angle)  # [T + 1, B, 2]
    return camera_events(move(images, positions, canvas), threshold)


def order_events(first: Tensor, second: Tensor, steps_per_digit: int = 8, gap: int = 2,
                 speed: float = 1.0, threshold: float = 0.5, seed: int = 0,
                 angles: tuple[Tensor, Tensor] | None = None, canvas: int = CANVAS) -> Tensor:
    """Two digits, one after the other, as events ``[T, B, 2, canvas, canvas]``. Lesson 07.

    The timeline of the ``1 + T`` frames, T = 2 * (steps_per_digit + gap):

        black | first, moving (steps_per_digit frames) | black (gap) |
                second, moving (steps_per_digit frames) | black (gap)

    Each digit goes once round its own triangle (``angles``: the two digits' angles ``[B]``;
    by default random, drawn with ``seed``), so it
    appears (ON events), moves, and disappears (OFF events). The two digits' events never
    meet in time, so the events summed over time are the sum of what each digit gives
    alone, the same whichever came first: only the order in time says which was first.
    """
    first, second = checks.images("first", first), checks.images("second", second)
    if first.shape != second.shape:
        raise ValueError(f"first and second must have the same shape, got {tuple(first.shape)} "
                         f"and {tuple(second.shape)}")
    steps_per_digit = checks.positive_int("steps_per_digit", steps_per_digit)
    gap = checks.positive_int("gap", gap)
    batch = len(first)
    canvas = checks.positive_int("canvas", canvas)
    _check_recording_size(f"order_events: steps_per_digit={steps_per_digit}, gap={gap}",
                          2 * (steps_per_digit + gap) + 1, batch, canvas)
    generator = torch.Generator().manual_seed(seed)
    moving = []
    if angles is None:
        angles = (_angles(batch, generator), _angles(batch, generator))
    if not isinstance(angles, (tuple, list)) or len(angles) != 2:
        got = (f"a {type(angles).__name__} of {len(angles)}"
               if isinstance(angles, (tuple, list)) else type(angles).__name__)
        raise ValueError("angles must be None or a pair (the first digits' angles, the second "
                         f"digits'), each a number or a tensor [{batch}], got {got}")
    for images, angle, name in zip((first, second), angles, ("angles[0]", "angles[1]"),
                                   strict=True):
        positions = saccade_path(steps_per_digit, speed, checks.per_sample(name, angle, batch))
        moving.append(move(images, positions[:-1], canvas))  # [steps_per_digit, B, H, W]
    black = torch.zeros_like(moving[0][:1])
    gap_frames = black.expand(gap, -1, -1, -1)
    video = torch.cat([black, moving[0], gap_frames, moving[1], gap_frames])
    return camera_events(video, threshold)


# ---------------------------------------------------------------- data sets
class EventDigits(Dataset):
    """MNIST as event recordings, made batch by batch (``collate``). Lesson 07.

    ``mnist``: the digits, ``snnlab.data.mnist(train)`` (or ``subset=N`` of it).
    ``task="saccade"``: each digit on its own saccade (``saccade_events``); the label is the
    digit. ``task="order"``: each digit followed by a partner digit of another class
    (``order_events``); the label is the digit that came *first*. Which partner depends only
    on ``seed`` and the sample's index. The triangles' angles are drawn for each batch, seeded
    by ``seed`` and the batch's first index: an unshuffled loader (the test set) gives the
    same recordings every time, a shuffled one new triangles in every epoch.

    Items are ``(index, label)``; a DataLoader with ``collate_fn=dataset.collate`` turns a
    list of them into ``(events [T, B, 2, canvas, canvas], labels [B])``: time first.
    """

    def __init__(self, mnist: Dataset, task: str = "saccade", num_steps: int = 12,
                 speed: float = 1.0, threshold: float = 0.5, seed: int = 0,
                 canvas: int = CANVAS) -> None:
        self.task = checks.choice("task", task, ("saccade", "order"))
        self.num_steps = checks.positive_int("num_steps", num_steps)
        if task == "order" and (num_steps % 2 or num_steps < 4):
            raise ValueError("num_steps must be even and >= 4 for task='order' (two digits of "
                             f"num_steps / 2 - 2 steps, each followed by 2 black ones), "
                             f"got {num_steps}")
        self.speed = checks.number("speed", speed, f"in [0, {MAX_SPEED:g}] pixels per step",
                                   lambda v: 0 <= v <= MAX_SPEED)
        self.threshold = checks.positive_number("threshold", threshold)
        self.seed, self.canvas = seed, checks.positive_int("canvas", canvas)
        base, indices = _mnist_and_indices(mnist)
        self.images = base.images[indices]  # [N, 1, 28, 28]
        self.labels = base.targets[indices]  # [N]
        self.partner = self._partners(seed) if task == "order" else None

    def _partners(self, seed: int) -> Tensor:
        """For each sample, the index of a sample of another class (seeded)."""
        generator = torch.Generator().manual_seed(seed + 1)
        partner = torch.randperm(len(self.labels), generator=generator)
        for _ in range(100):  # re-draw the few that landed on their own class
            same = (self.labels[partner] == self.labels).nonzero().flatten()
            if len(same) == 0:
                return partner
            partner[same] = torch.randint(len(self.labels), (len(same),), generator=generator)
        raise ValueError("task='order' needs digits of at least two classes")

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[int, int]:
        return index, int(self.labels[index])

    def collate(self, items: list[tuple[int, int]]) -> tuple[Tensor, Tensor]:
        """``(events [T, B, 2, canvas, canvas], labels [B])`` for a list of ``(index, label)``."""
        index = torch.tensor([i for i, _ in items])
        # One seed per batch, from the data set's seed and the batch's first index.
        seed = self.seed * 1_000_003 + int(index[0])
        if self.task == "saccade":
            events = saccade_events(self.images[index], self.num_steps, self.speed,
                                    self.threshold, seed=seed, canvas=self.canvas)
        else:
            events = order_events(self.images[index], self.images[self.partner[index]],
                                  self.num_steps // 2 - 2, 2, self.speed, self.threshold,
                                  seed=seed, canvas=self.canvas)
        return events, self.labels[index]


def _mnist_and_indices(mnist: object) -> tuple[data.MNIST, Tensor]:
    """The MNIST data set behind ``mnist`` (itself, or a Subset's), and which of its digits."""
    if isinstance(mnist, Subset) and isinstance(mnist.dataset, data.MNIST):
        return mnist.dataset, torch.as_tensor(mnist.indices)
    if isinstance(mnist, data.MNIST):
        return mnist, torch.arange(len(mnist))
    raise TypeError("mnist must be an MNIST data set from snnlab.data.mnist(train) (a "
                    "class-balanced part of it with subset=N is fine), whose digits "
                    f"EventDigits reads as .images and .targets; got {type(mnist).__name__}"
                    + (" of " + type(mnist.dataset).__name__ if isinstance(mnist, Subset) else ""))


def _loaders(task: str, batch_size: int, size: int, subset: int | None,
             test_subset: int | None, root: str | os.PathLike | None, seed: int,
             num_steps: int) -> tuple[DataLoader, DataLoader]:
    checks.positive_int("batch_size", batch_size)
    made = []
    for train, count in ((True, subset), (False, test_subset)):
        digits = data.mnist(train, root=root, subset=count, seed=seed)
        dataset = EventDigits(digits, task, num_steps=num_steps, seed=seed + (0 if train else 1),
                              canvas=size)
        made.append(DataLoader(dataset, batch_size=batch_size, shuffle=train,
                               collate_fn=dataset.collate,
                               generator=torch.Generator().manual_seed(seed) if train else None))
    return made[0], made[1]


def saccade_loaders(batch_size: int = 128, size: int = CANVAS, subset: int | None = None,
                    test_subset: int | None = None, root: str | os.PathLike | None = None,
                    seed: int = 0, num_steps: int = 8) -> tuple[DataLoader, DataLoader]:
    """Training and test loaders of event digits on saccades, ``([T, B, 2, size, size], [B])``.

    MNIST's training and test sets (or class-balanced ``subset`` / ``test_subset`` of them)
    as ``EventDigits(task="saccade")``; the training loader shuffles (seeded). The
    arguments are those of ``snnlab.data.loaders``, with ``size`` the canvas. Lesson 07.
    """
    return _loaders("saccade", batch_size, size, subset, test_subset, root, seed, num_steps)


def order_loaders(batch_size: int = 128, size: int = CANVAS, subset: int | None = None,
                  test_subset: int | None = None, root: str | os.PathLike | None = None,
                  seed: int = 0, num_steps: int = 20) -> tuple[DataLoader, DataLoader]:
    """Like ``saccade_loaders``, for the order task: two digits, label = the first. Lesson 07."""
    return _loaders("order", batch_size, size, subset, test_subset, root, seed, num_steps)
