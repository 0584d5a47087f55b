"""Lesson 06: a spiking autoencoder."""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets
import matplotlib
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor

from snnlab import checks, plot
from snnlab.course.widgets.panels import (
    check_labels,
    image_batch,
    new_figure,
    one_image,
    panel,
    slider,
)
from snnlab.i18n import tr
from snnlab.models import SpikingAutoencoder


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
    image = one_image("image", image, 32)
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


def draw_spike_matrix(spikes: Tensor, ax: Any, ylabel: str | None = None) -> Any:
    """Few steps, many neurons: spikes ``[T, N]`` as a grid of cells, black = spike.

    A raster's thin marks get lost when there are only a handful of steps; here each
    (step, neuron) is one cell. Steps are numbered from 0, as everywhere in the course:
    0 .. T-1. ``ylabel``: default "latent neuron". Returns ``ax``.
    """
    spikes = checks.tensor("spikes", spikes, floating=False).detach().cpu().float()
    if spikes.dim() != 2 or 0 in spikes.shape:
        raise ValueError(f"spikes must be [T, N] with T, N >= 1, got {tuple(spikes.shape)}")
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    num_steps, num_neurons = spikes.shape
    ax.imshow(spikes.T.numpy(), cmap="Greys", vmin=0, vmax=1, aspect="auto",
              interpolation="nearest", origin="lower")
    ax.set_xticks(range(num_steps), [str(t) for t in range(num_steps)])
    ax.set_xticks([t + 0.5 for t in range(num_steps - 1)], minor=True)
    ax.set_yticks([n + 0.5 for n in range(num_neurons - 1)], minor=True)
    ax.grid(which="minor", color="#DDDDDD", lw=0.5)
    ax.tick_params(which="minor", length=0)
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel(tr("time step"))
    ax.set_ylabel(tr("latent neuron") if ylabel is None else ylabel)
    return ax


def draw_autoencoder(image: Tensor, latent_spikes: Tensor, reconstructions: Tensor,
                     target: Tensor | None = None, title: str = "") -> Figure:
    """The input, its latent spike raster, and the reconstruction after every time step.

    ``image``: the network's input (1024 pixels); ``latent_spikes``: ``[T, latent_dim]``;
    ``reconstructions``: the output membrane ``[T, 32, 32]`` (see :func:`run_autoencoder`).
    Each reconstruction is titled with its step (from 0) and its MSE against ``target``
    (default: the input), and
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
    one_image("image", image, side)
    if target is not None:
        one_image("target", target, side)
    num_steps, latent_dim = latent_spikes.shape
    image = image.detach().cpu().float().reshape(reconstructions.shape[1:])
    target = image if target is None else target.detach().cpu().float().reshape(image.shape)

    width = 3.3 + 1.2 * num_steps  # inches: input and raster, then one square per step
    fig = new_figure(width, 3.2)
    split = 3.3 / width  # the input and the raster (with its labels) left of this, steps right
    left = fig.add_gridspec(1, 2, width_ratios=[1.0, 0.9], left=0.01, right=split - 0.015,
                            bottom=0.17, top=0.74, wspace=0.55)
    right = fig.add_gridspec(1, num_steps, left=split + 0.01, right=0.995, bottom=0.17,
                             top=0.74, wspace=0.1)
    ax_image, ax_latent = fig.add_subplot(left[0]), fig.add_subplot(left[1])
    ax_image.imshow(image.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax_image.set_title(tr("input"), fontsize="medium")
    ax_image.set_axis_off()

    draw_spike_matrix(latent_spikes, ax_latent)
    ax_latent.set_title(tr("latent spikes\n{count} of {total}").format(
        count=int(latent_spikes.sum()), total=num_steps * latent_dim), fontsize="medium")

    for t in range(num_steps):
        ax = fig.add_subplot(right[t])
        ax.imshow(reconstructions[t].numpy(), cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")
        error = torch.mean((reconstructions[t] - target) ** 2).item()
        ax.set_title(tr("step {t}\nMSE {error}").format(t=t, error=f"{error:.3f}"),
                     fontsize="medium")
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
    images = image_batch(images, 32)
    check_labels(labels, len(images))

    def draw(digit: int, noise: float) -> Figure:
        clean = images[digit]
        noisy = add_noise(clean, noise)
        latent, reconstructions = run_autoencoder(model, noisy)
        name = (plot.digit_name(digit, labels[digit]) if labels is not None
                else tr("test digit #{index}").format(index=digit))
        title = tr("{name}, noise {noise}: reconstruction (output membrane) after each "
                   "step").format(name=name, noise=f"{noise:g}")
        return draw_autoencoder(noisy, latent, reconstructions, target=clean, title=title)

    controls = {
        "digit": slider(tr("digit (index)"), 0, 0, len(images) - 1, 1, integer=True),
        "noise": slider(tr("noise"), 0.0, 0.0, 0.6, 0.05),
    }
    return panel(draw, controls)
