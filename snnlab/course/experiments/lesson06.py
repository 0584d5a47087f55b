"""Lesson 06's experiments: which loss, how big a code, and what the spikes cost against an ANN.

Every run trains a fresh autoencoder the same way, from the lesson's recipe ("sae" in
``snnlab.course.recipes``) scaled down so that all runs fit on a laptop CPU:

- ``SETTINGS["train_images"]`` class-balanced training digits, ``SETTINGS["epochs"]`` epoch(s),
  batches of ``SETTINGS["batch_size"]``;
- Adam with the recipe's one-cycle schedule (up to ``SETTINGS["lr"]`` over the first 30% of the
  optimizer steps, then down to nearly zero);
- scored on the same ``SETTINGS["test_images"]`` class-balanced test digits in every run.

A seed fixes the initial weights, the training subset and the order of the batches. Runs that
differ in one thing only (the loss, say) use the same seed, so they start from the same
weights and see the same batches in the same order.

The variants (``VARIANTS``):

- ``"last step"``: the recipe's network and loss, ``losses.reconstruction``,
  L = mean_pixels (U[T-1] - x)^2;
- ``"every step"``: the same network, trained on the mean of every step's error,
  L = (1/T) sum_t mean_pixels (U[t] - x)^2;
- ``"latent 8"``, ``"latent 128"``: the recipe's loss, a code of 8 or 128 latent neurons
  (``"last step"`` is the code of 32);
- ``"ANN (ReLU)"``: :class:`ReLUAutoencoder`, the same layers with ReLU instead of LIF and
  no time steps, trained on the same loss.

:func:`run` trains them all (every variant, every seed) and returns the results;
:func:`load` reads the results stored with the course, made by ``run`` with ``SETTINGS``
and ``SEEDS`` (``python -m snnlab.course.experiments.lesson06`` writes them again).
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from snnlab import checks, data, files, losses, training
from snnlab.config import seed_everything
from snnlab.course import recipes
from snnlab.i18n import pad, tr

__all__ = ["SETTINGS", "SEEDS", "VARIANTS", "names", "RESULTS_FILE", "EXAMPLE_DIGITS",
           "ReLUAutoencoder", "mean_step_loss", "build", "train_one", "run", "load", "save",
           "summary", "example_reconstructions"]

# How every run is trained (the recipe's optimizer and schedule, less data and fewer epochs).
SETTINGS: dict[str, int | float] = {"train_images": 20_000, "epochs": 1, "batch_size": 32,
                                    "lr": 3e-3, "test_images": 2_000}
SEEDS: tuple[int, ...] = (0, 1, 2)
# variant -> (network, latent_dim, loss): "snn" is the recipe's SpikingAutoencoder
VARIANTS: dict[str, tuple[str, int, str]] = {
    "last step": ("snn", 32, "last step"),
    "every step": ("snn", 32, "every step"),
    "latent 8": ("snn", 8, "last step"),
    "latent 128": ("snn", 128, "last step"),
    "ANN (ReLU)": ("ann", 32, "last step"),
}
# The test digits whose reconstructions are stored (seed 0): the first 0, 2, 3, ... of the
# 500 test digits the lesson keeps at hand, data.mnist(train=False, size=32, subset=500).
EXAMPLE_DIGITS: tuple[int, ...] = (0, 2, 3, 4, 5, 7, 8, 9)
RESULTS_FILE = recipes.CHECKPOINT_DIR / "lesson06_experiments.json"


def names() -> dict[str, str]:
    """``{variant: its name}`` in the course's language, for the lesson's tables."""
    return {"last step": tr("last step", context="variant"),
            "every step": tr("every step", context="variant"),
            "latent 8": tr("latent 8"), "latent 128": tr("latent 128"),
            "ANN (ReLU)": tr("ANN (ReLU)")}


class ReLUAutoencoder(nn.Module):
    """The lesson's autoencoder without spikes or time: the ANN baseline. Lesson 06.

    The layers of :class:`snnlab.models.SpikingAutoencoder`, with ReLU where it has LIF:
    conv(1->32), conv(32->64), conv(64->128) (3x3, stride 2, each with BatchNorm and ReLU),
    linear 2048 -> ``latent_dim`` and ReLU (the code: ``latent_dim`` real numbers, not spikes),
    linear ``latent_dim`` -> 2048 and ReLU, two transposed convolutions (128->64->32, BatchNorm,
    ReLU) and a last one to one channel, left linear as the spiking network's membrane is.

    Input ``[B, 1, 32, 32]``. Returns ``(code [1, B, latent_dim], output [1, B, 1, 32, 32])``:
    time-first with one step, so the course's losses and ``training.fit`` take it as they
    take the spiking network (the reconstruction is ``output[-1]``).
    """

    def __init__(self, latent_dim: int = 32) -> None:
        super().__init__()
        latent_dim = checks.positive_int("latent_dim", latent_dim)
        self.num_steps = 1

        def down(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=2, padding=1),
                                 nn.BatchNorm2d(c_out), nn.ReLU())

        def up(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1,
                                                    output_padding=1),
                                 nn.BatchNorm2d(c_out), nn.ReLU())

        self.encoder = nn.Sequential(down(1, 32), down(32, 64), down(64, 128), nn.Flatten(),
                                     nn.Linear(128 * 4 * 4, latent_dim), nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(latent_dim, 128 * 4 * 4), nn.ReLU(),
                                     nn.Unflatten(1, (128, 4, 4)), up(128, 64), up(64, 32),
                                     nn.ConvTranspose2d(32, 1, 3, stride=2, padding=1,
                                                        output_padding=1))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x = checks.tensor("x", x)
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, 32, 32):
            raise ValueError(f"ReLUAutoencoder: x must be images [B, 1, 32, 32], got "
                             f"{tuple(x.shape)}: load MNIST with size=32")
        code = self.encoder(x)
        return code[None], self.decoder(code)[None]


def mean_step_loss(spikes: Tensor, membrane: Tensor, images: Tensor) -> Tensor:
    """The mean over the steps of each step's reconstruction error (the latent spikes unused):

        L = (1/T) sum_t mean_pixels (U[t] - x)^2

    ``membrane`` ``[T, B, 1, H, W]``, ``images`` ``[B, 1, H, W]``; a 0-dim tensor.
    """
    checks.tensor("membrane", membrane)
    checks.tensor("images", images)
    if membrane.dim() < 2 or membrane.shape[1:] != images.shape:
        raise ValueError(f"mean_step_loss: membrane must be [T, *images.shape], got "
                         f"{tuple(membrane.shape)} for images {tuple(images.shape)}")
    return ((membrane - images.unsqueeze(0)) ** 2).mean()


LOSSES: dict[str, Callable[[Tensor, Tensor, Tensor], Tensor]] = {
    "last step": losses.reconstruction, "every step": mean_step_loss}


def build(variant: str, seed: int) -> nn.Module:
    """A fresh network of ``variant`` (a key of ``VARIANTS``), its weights drawn with ``seed``."""
    network, latent_dim, _ = _variant(variant)
    seed_everything(seed)
    if network == "ann":
        return ReLUAutoencoder(latent_dim)
    return recipes.build_model("sae", latent_dim=latent_dim)


def _variant(variant: str) -> tuple[str, int, str]:
    if not isinstance(variant, str) or variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {list(VARIANTS)}")
    return VARIANTS[variant]


def _check_settings(settings: dict) -> dict:
    if not isinstance(settings, dict) or set(settings) != set(SETTINGS):
        raise ValueError(f"settings must be a dict with the keys {sorted(SETTINGS)}, got "
                         f"{settings!r}")
    for key in ("train_images", "epochs", "batch_size", "test_images"):
        checks.positive_int(f"settings[{key!r}]", settings[key])
    checks.number("settings['lr']", settings["lr"], "> 0", lambda v: 0 < v < math.inf)
    return settings


def scoring_loader(settings: dict) -> torch.utils.data.DataLoader:
    """The test digits every run is scored on (the same for every seed)."""
    test_set = data.mnist(train=False, size=32, subset=settings["test_images"], seed=0)
    return torch.utils.data.DataLoader(test_set, batch_size=250)


@torch.no_grad()
def score(model: nn.Module, loader: torch.utils.data.DataLoader) -> dict[str, list[float] | float]:
    """Test MSE of the reconstruction after every step (``mse_per_step``, the last one is
    ``test_mse``) and the mean number of latent spikes per digit (``spikes_per_digit``; for
    the ANN, the mean number of code values above zero)."""
    model.eval()
    squared, code_active, count = None, 0.0, 0
    for images, _ in loader:
        code, membrane = model(images)
        per_step = ((membrane - images) ** 2).mean(dim=(2, 3, 4)).sum(dim=1)   # [T]
        squared = per_step if squared is None else squared + per_step
        code_active += (code > 0).float().sum().item()
        count += len(images)
    mse_per_step = (squared / count).tolist()
    return {"mse_per_step": mse_per_step, "test_mse": mse_per_step[-1],
            "spikes_per_digit": code_active / count}


def train_one(variant: str, seed: int, settings: dict | None = None,
              progress: bool = False) -> tuple[nn.Module, dict]:
    """Train one network of ``variant`` with ``seed``; return it (in eval mode) and its result:
    ``test_mse``, ``mse_per_step``, ``spikes_per_digit`` (see :func:`score`), and the training
    time, ``cpu_seconds`` (CPU time of this process, all its threads) and ``wall_seconds``.
    """
    settings = _check_settings(dict(SETTINGS) if settings is None else settings)
    checks.integer("seed", seed)
    _, _, loss_name = _variant(variant)
    model = build(variant, seed)
    train_set = data.mnist(train=True, size=32, subset=settings["train_images"], seed=seed)
    loader = torch.utils.data.DataLoader(train_set, batch_size=settings["batch_size"],
                                         shuffle=True,
                                         generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"])
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=settings["lr"], pct_start=0.3,
        total_steps=settings["epochs"] * len(loader))
    cpu, wall = time.process_time(), time.perf_counter()
    history = training.fit(model, loader, LOSSES[loss_name], optimizer, settings["epochs"],
                           metric="mse", scheduler=schedule, device="cpu", progress=progress)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if history.stopped is not None:
        raise RuntimeError(f"{variant}, seed {seed}: training stopped early ({history.stopped})")
    result = score(model, scoring_loader(settings))
    result.update(cpu_seconds=round(cpu, 1), wall_seconds=round(wall, 1))
    return model.eval(), result


@torch.no_grad()
def example_reconstructions(model: nn.Module, images: Tensor) -> Tensor:
    """The reconstruction after every step of ``images`` ``[K, 1, 32, 32]``: ``[T, K, 32, 32]``,
    clipped to [0, 1]."""
    model.eval()
    return model(images)[1][:, :, 0].clamp(0, 1)


def _example_images() -> tuple[list[int], Tensor]:
    digits = data.mnist(train=False, size=32, subset=500)
    labels = [int(label) for _, label in digits]
    index = [labels.index(d) for d in EXAMPLE_DIGITS]
    return index, torch.stack([digits[i][0] for i in index])


def _to_text(pictures: Tensor) -> list[list[str]]:
    """[T, K, 32, 32] in [0, 1] -> T lists of K base64 strings, one byte (0-255) per pixel."""
    grey = (pictures * 255).round().to(torch.uint8)
    return [[base64.b64encode(image.numpy().tobytes()).decode("ascii") for image in step]
            for step in grey]


def _from_text(text: list[list[str]]) -> Tensor:
    """The inverse of :func:`_to_text`: ``[T, K, 32, 32]`` floats in [0, 1]."""
    steps = [torch.stack([torch.frombuffer(bytearray(base64.b64decode(s)), dtype=torch.uint8)
                          for s in step]) for step in text]
    return torch.stack(steps).reshape(len(text), -1, 32, 32).float() / 255


def run(seeds: Sequence[int] = SEEDS, settings: dict | None = None,
        variants: Sequence[str] | None = None, progress: bool = True) -> dict:
    """Train every variant (default: all of ``VARIANTS``) once per seed; return the results:

    ``{"settings": ..., "seeds": [...], "all_black": MSE of an all-black picture on the test
    digits, "runs": {variant: [result per seed]}, "examples": {"digits": [test digit indices],
    variant: reconstructions of seed 0's network}}``. A result is :func:`train_one`'s.
    """
    settings = _check_settings(dict(SETTINGS) if settings is None else dict(settings))
    seeds = [checks.integer("seed", seed) for seed in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    variants = list(VARIANTS) if variants is None else list(variants)
    for variant in variants:
        _variant(variant)
    loader = scoring_loader(settings)
    all_black = sum((x ** 2).sum().item() for x, _ in loader) / (len(loader.dataset) * 32 * 32)
    index, images = _example_images()
    results: dict = {"settings": settings, "seeds": seeds, "all_black": all_black,
                     "runs": {v: [] for v in variants}, "examples": {"digits": index}}
    for variant in variants:
        for seed in seeds:
            model, result = train_one(variant, seed, settings)
            results["runs"][variant].append(result)
            if seed == seeds[0]:
                results["examples"][variant] = example_reconstructions(model, images)
            if progress:
                line = tr("seed {seed}: test MSE {mse:.4f}, {seconds:.0f} s CPU").format(
                    seed=seed, mse=result["test_mse"], seconds=result["cpu_seconds"])
                print(pad(names()[variant], 12), line)
    return results


def save(results: dict, path: str | Path = RESULTS_FILE) -> Path:
    """Write ``results`` (from :func:`run`) as JSON, with the date and the machine."""
    stored = {**results, "examples": {key: value if key == "digits" else _to_text(value)
                                      for key, value in results["examples"].items()},
              "made": {"date": datetime.date.today().isoformat(),
                       "command": "python -m snnlab.course.experiments.lesson06",
                       "torch": torch.__version__, "threads": torch.get_num_threads(),
                       "machine": platform.processor() or platform.machine()}}
    path = Path(path)
    files.write_text(path, json.dumps(stored, indent=1) + "\n")
    return path


def load(path: str | Path = RESULTS_FILE) -> dict:
    """The stored results (as :func:`run` returns them, plus ``"made"``: date, command, torch).

    Checks that they were made with this module's ``SETTINGS``, ``SEEDS`` and ``VARIANTS``.
    """
    stored = json.loads(Path(path).read_text())
    if stored["settings"] != SETTINGS or stored["seeds"] != list(SEEDS) \
            or list(stored["runs"]) != list(VARIANTS):
        raise ValueError(f"{path} was made with other settings, seeds or variants than "
                         "snnlab.course.experiments.lesson06's; run it again")
    stored["examples"] = {key: value if key == "digits" else _from_text(value)
                          for key, value in stored["examples"].items()}
    return stored


def summary(results: dict, key: str = "test_mse") -> dict[str, dict[str, float]]:
    """Per variant: ``mean``, ``min``, ``max`` and ``std`` (sample) of ``key`` over the seeds."""
    table = {}
    for variant, runs in results["runs"].items():
        values = [run[key] for run in runs]
        table[variant] = {"mean": statistics.fmean(values), "min": min(values),
                          "max": max(values),
                          "std": statistics.stdev(values) if len(values) > 1 else 0.0}
    return table


if __name__ == "__main__":
    torch.set_num_threads(1)
    print(f"written: {save(run())}")
