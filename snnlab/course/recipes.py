"""Training recipes: how each of the course's networks is trained, in one table.

``RECIPES`` maps a short name to a :class:`Recipe`; ``print(recipes.table())`` shows them:

    name             model               loss            metric    epochs  batch  peak lr  image
    fc               FCSNN               ce_rate         accuracy  6       128    0.002    28
    single           SingleLayerSNN      mse_rate        accuracy  5       128    0.02     28
    csnn             CSNN                ce_rate         accuracy  1       128    0.01     28
    sae              SpikingAutoencoder  reconstruction  mse       1       128    0.006    32
    order            RecurrentSNN        ce_rate         accuracy  1       128    0.002    34
    order_collapsed  RecurrentSNN        ce_rate         accuracy  1       128    0.002    34
    ecsnn            EventCSNN           ce_rate         accuracy  2       128    0.005    34

(lesson 07's three train on event recordings made from MNIST, ``snnlab.events``)

Every recipe uses Adam with a one-cycle learning-rate schedule: the rate warms up to the
peak over the first 30% of the steps, then anneals to nearly zero. That gets close to the
final accuracy in a few epochs, which is what a laptop CPU can afford: each recipe trains in
at most 3 minutes on the course's 2-core CPU (``bench/time_to_number.py`` times them). The
course's pretrained CSNN and autoencoder trained longer (5 and 2 epochs, at peaks 0.005 and
0.003): their ``metrics.json`` says how. The classifiers
learn from spike counts (``ce_rate``, or ``mse_rate`` for SpikingJelly's single layer),
because "the most spikes wins" is how their accuracy is measured.

From Python::

    from snnlab.course import recipes
    model, history = recipes.train("fc", epochs=1, subset=2000)   # train (quick)
    model = recipes.pretrained("fc")                               # or load the course's weights

From the shell: ``python -m snnlab train fc --epochs 1 --subset 2000`` (see ``--help``).
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from snnlab import checkpoints, checks, config, data, events, files, losses, models, training
from snnlab.i18n import pad, tr, width

# The course's pretrained checkpoints: package data, installed with snnlab itself (wheel, pip
# or a clone alike; how they were made: checkpoints/README.md beside this file).
CHECKPOINT_DIR = Path(str(resources.files("snnlab.course") / "checkpoints"))


@dataclass(frozen=True)
class Recipe:
    """Everything needed to train one network: model, loss, optimizer settings, data.
    Lessons 04-06."""

    model: type[nn.Module]
    model_kwargs: dict
    loss: losses.LossFn
    metric: str  # "accuracy" or "mse"
    epochs: int
    batch_size: int
    lr: float  # the peak of the one-cycle schedule
    image_size: int = 28  # 28, or 32 for the autoencoder
    note: str = field(default="", compare=False)
    loaders: Callable[..., tuple] | None = None  # the data: None for MNIST, or events (07)


RECIPES: dict[str, Recipe] = {
    "fc": Recipe(
        models.FCSNN, dict(num_hidden=1000, beta=0.95, num_steps=25),
        losses.ce_rate, "accuracy", epochs=6, batch_size=128, lr=2e-3,
        note="snnTorch tutorial 5's network; cross-entropy on the spike counts"),
    "single": Recipe(
        models.SingleLayerSNN, dict(tau=2.0, num_steps=100),
        losses.mse_rate, "accuracy", epochs=5, batch_size=128, lr=2e-2,
        note="SpikingJelly's first example: Poisson input, MSE between rate and one-hot"),
    "csnn": Recipe(
        models.CSNN, dict(beta=0.5, num_steps=25),
        losses.ce_rate, "accuracy", epochs=1, batch_size=128, lr=1e-2,
        note="snnTorch tutorial 6's network; cross-entropy on the spike counts"),
    "sae": Recipe(
        models.SpikingAutoencoder, dict(latent_dim=32, beta=0.5, num_steps=5, threshold=1.0),
        losses.reconstruction, "mse", epochs=1, batch_size=128, lr=6e-3, image_size=32,
        note="snnTorch's spiking autoencoder; MSE of the last step's output membrane"),
    "order": Recipe(
        models.RecurrentSNN, dict(num_hidden=256, beta=0.9),
        losses.ce_rate, "accuracy", epochs=1, batch_size=128, lr=2e-3, image_size=34,
        loaders=events.order_loaders,
        note="lesson 07: which of two event digits came first; recurrent LIF layer"),
    "order_collapsed": Recipe(
        models.RecurrentSNN, dict(num_hidden=256, beta=0.9, collapse_time=True),
        losses.ce_rate, "accuracy", epochs=1, batch_size=128, lr=2e-3, image_size=34,
        loaders=events.order_loaders,
        note="lesson 07: the same network on the events averaged over time (no order)"),
    "ecsnn": Recipe(
        models.EventCSNN, dict(beta=0.9),
        losses.ce_rate, "accuracy", epochs=2, batch_size=128, lr=5e-3, image_size=34,
        loaders=events.saccade_loaders,
        note="lesson 07: a CSNN on event-camera digits (saccades)"),
}


# The losses a recipe can train with instead of its own (``loss="ce_membrane"``; CLI --loss),
# by the metric the recipe is judged on.
LOSSES: dict[str, dict[str, losses.LossFn]] = {
    "accuracy": {fn.__name__: fn for fn in (losses.ce_rate, losses.ce_membrane, losses.mse_rate,
                                            losses.mse_count)},
    "mse": {losses.reconstruction.__name__: losses.reconstruction},
}
# How the learning rate moves: "one-cycle" (every recipe's: up to ``lr`` over the first 30%
# of the steps, then down to nearly zero) or "constant" (``lr`` throughout, as the lab handout
# and snnTorch's tutorials train).
SCHEDULES = ("one-cycle", "constant")


def _losses(recipe: Recipe) -> dict[str, losses.LossFn]:
    """The losses a run of ``recipe`` may use, by name: its own and ``LOSSES`` of its metric."""
    return {recipe.loss.__name__: recipe.loss, **LOSSES[recipe.metric]}


def table() -> str:
    """The recipes as a plain-text table (name, model, loss, metric, epochs, batch, lr, image).
    Lesson 04."""
    rows = [(tr("name", context="recipe table"), tr("model", context="recipe table"),
             tr("loss", context="recipe table"), tr("metric", context="recipe table"),
             tr("epochs", context="recipe table"), tr("batch", context="recipe table"),
             tr("peak lr", context="recipe table"), tr("image", context="recipe table"))]
    rows += [(name, r.model.__name__, r.loss.__name__, r.metric, str(r.epochs),
              str(r.batch_size), f"{r.lr:g}", str(r.image_size)) for name, r in RECIPES.items()]
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def _recipe(name: str) -> Recipe:
    if not isinstance(name, str) or name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose one of {sorted(RECIPES)}")
    return RECIPES[name]


def _with_defaults(recipe: Recipe, epochs: object, batch_size: object,
                   lr: object) -> tuple[object, object, object]:
    """Epochs, batch size and peak learning rate, the recipe's wherever the caller gave None."""
    return (recipe.epochs if epochs is None else epochs,
            recipe.batch_size if batch_size is None else batch_size,
            recipe.lr if lr is None else lr)


def build_model(name: str, **overrides: object) -> nn.Module:
    """The recipe's network, with some constructor arguments overridden (e.g. num_steps=10).
    Lessons 04-06."""
    recipe = _recipe(name)
    allowed = [p for p in inspect.signature(recipe.model).parameters if p != "self"]
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        raise TypeError(f"recipe {name!r} ({recipe.model.__name__}) has no setting "
                        f"{', '.join(unknown)}; it takes {', '.join(allowed)}")
    return recipe.model(**{**recipe.model_kwargs, **overrides})


def train(
    name: str,
    *,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    subset: int | None = None,
    test_subset: int | None = None,
    seed: int = 0,
    device: str | torch.device | None = None,
    data_dir: str | None = None,
    out: str | Path | None = None,
    loss: str | None = None,
    schedule: str = "one-cycle",
    progress: bool = True,
    **model_overrides: object,
) -> tuple[nn.Module, training.History]:
    """Train recipe ``name`` (a key of ``RECIPES``) on MNIST or its events. Lessons 04-07.

    Arguments left as None take the recipe's values. ``subset``/``test_subset`` train and
    test on class-balanced subsets (quick runs). ``loss`` names another loss of
    ``snnlab.losses`` (see ``LOSSES``); ``schedule`` is "one-cycle" (``lr`` is the peak) or
    "constant" (``lr`` throughout). ``model_overrides`` change the network (``num_steps=10``,
    ``beta=0.9``, ``num_hidden=512``, ``latent_dim=8``, ...). With ``out``, the folder receives
    ``<name>.pt`` (the checkpoint, saved after every epoch), ``<name>.metrics.json`` (the
    run's settings and result), ``<name>.history.csv`` (per epoch) and ``<name>.steps.csv``
    (per optimizer step): the layout of the course's pretrained files.

    Every argument, and ``out``, is checked before any work starts. Returns
    ``(model, history)``.
    """
    settings = _settings(name, epochs, batch_size, lr, subset, test_subset, seed, loss, schedule,
                         model_overrides)
    _check_run_arguments(device, data_dir, progress)
    checkpoint = None if out is None else _checkpoint_path(name, out, settings)
    return _run(name, settings, device, data_dir, checkpoint, progress, resume=False)


def _as_argument(setting: str) -> str:
    """How the Python API names a setting in its messages: ``batch_size``."""
    return setting


def _as_option(setting: str) -> str:
    """How ``python -m snnlab train`` names it: ``--batch-size``."""
    return "--" + setting.replace("_", "-")


def _check_run_arguments(device: object, data_dir: object, progress: object,
                         spell: Callable[[str], str] = _as_argument) -> None:
    checks.device(device, torch.device("cpu"), spell("device"))  # before any work, not later
    if data_dir is not None and (isinstance(data_dir, bool)
                                 or not isinstance(data_dir, str | os.PathLike)):
        raise TypeError(f"{spell('data_dir')} must be a folder path or None, got "
                        f"{type(data_dir).__name__} {data_dir!r}")
    checks.boolean("progress", progress)


def _checkpoint_path(name: str, out: object, settings: dict,
                     spell: Callable[[str], str] = _as_argument) -> Path:
    """``out/<name>.pt``, checked before any work: a writable place, not a file of another
    kind. An hour of training must never be lost at its first save."""
    if isinstance(out, bool) or not isinstance(out, str | os.PathLike) or out == "":
        raise TypeError(f"{spell('out')} must be a folder path (str or pathlib.Path), got "
                        f"{type(out).__name__} {out!r}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{spell('out')} {str(out)!r} is a file; give a folder for the "
                                 f"run's files ({name}.pt, {name}.metrics.json, ...)")
    checkpoint = out / f"{name}.pt"
    model = _recipe(name).model(**settings["model_config"])
    checkpoints.check_writable(checkpoint, model)
    for suffix in (".metrics.json", ".history.csv", ".steps.csv"):
        if checkpoint.with_suffix(suffix).is_dir():
            raise IsADirectoryError(f"{str(checkpoint.with_suffix(suffix))!r} is a folder; the "
                                    "run needs that name for a file")
    return checkpoint


def _settings(name: str, epochs: object, batch_size: object, lr: object, subset: object,
              test_subset: object, seed: object, loss: object, schedule: object,
              model_overrides: dict, spell: Callable[[str], str] = _as_argument) -> dict:
    """Every setting of a run, checked, the recipe's wherever the caller gave None. Messages
    name each setting as ``spell`` says: :func:`_as_argument` (``batch_size``) or
    :func:`_as_option` (``--batch-size``)."""
    recipe = _recipe(name)
    loss = recipe.loss.__name__ if loss is None else loss
    checks.choice(spell("loss"), loss, tuple(_losses(recipe)))
    checks.choice(spell("schedule"), schedule, SCHEDULES)
    epochs, batch_size, lr = _with_defaults(recipe, epochs, batch_size, lr)
    checks.positive_int(spell("epochs"), epochs)
    checks.positive_int(spell("batch_size"), batch_size)
    checks.positive_number(spell("lr"), lr)
    for key, value, train in (("subset", subset, True), ("test_subset", test_subset, False)):
        if value is not None:
            checks.positive_int(spell(key), value)
            data.check_subset(spell(key), value, train)
    if checks.integer(spell("seed"), seed) < 0:
        raise ValueError(f"{spell('seed')} must be an int >= 0, got {seed}")
    try:
        model_config = build_model(name, **model_overrides).config
    except (ValueError, TypeError) as error:  # the network's own check: "beta must be in ..."
        raise _respelled(error, model_overrides, spell) from None
    settings = {"recipe": name, "model_config": model_config,
                "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed,
                "subset": subset, "test_subset": test_subset}
    # Another loss or schedule than the recipe's is part of the run's settings; the recipe's
    # own are implied by its name (so runs saved before these options existed still load).
    if loss != recipe.loss.__name__:
        settings["loss"] = loss
    if schedule != "one-cycle":
        settings["schedule"] = schedule
    return settings


def _respelled(error: ValueError | TypeError, settings: dict,
               spell: Callable[[str], str]) -> ValueError | TypeError:
    """``error`` of a network's constructor, whose message starts with the name of one of
    ``settings`` ("num_steps must be ..."), with that name as ``spell`` says it."""
    message = str(error)
    for setting in settings:
        if message.startswith(f"{setting} "):
            return type(error)(spell(setting) + message[len(setting):])
    return error


class _CannotResume(Exception):
    """An unfinished run whose checkpoint or history cannot be read back consistently."""


def _run(name: str, settings: dict, device: object, data_dir: object,
         checkpoint: Path | None, progress: bool, resume: bool, announce: str = ""
         ) -> tuple[nn.Module, training.History]:
    """Train (or, with ``resume``, continue the run of ``checkpoint``); write the run's files.
    ``checkpoint`` was checked by :func:`_checkpoint_path`. ``announce`` (what is about to
    happen) is printed once the data is loaded: a missing MNIST stops the run before it."""
    recipe = _recipe(name)
    config.seed_everything(settings["seed"])
    model = recipe.model(**settings["model_config"])
    loaders = data.loaders if recipe.loaders is None else recipe.loaders
    train_loader, test_loader = loaders(
        settings["batch_size"], size=recipe.image_size, subset=settings["subset"],
        test_subset=settings["test_subset"], root=data_dir, seed=settings["seed"])
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"])
    constant = settings.get("schedule") == "constant"
    scheduler = None if constant else torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=settings["lr"], total_steps=settings["epochs"] * len(train_loader),
        pct_start=0.3)
    history = None
    if resume:
        try:
            done = checkpoints.restore(checkpoint, model, optimizer, scheduler)["epoch"]
            history = training.History.from_csv(checkpoint.with_suffix(".history.csv"),
                                                checkpoint.with_suffix(".steps.csv"))
            history.truncate(done, steps_per_epoch=len(train_loader))
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise _CannotResume(str(error)) from error
        if len(history.epochs["epoch"]) != done:
            raise _CannotResume(f"{checkpoint.with_suffix('.history.csv')} holds "
                                f"{len(history.epochs['epoch'])} epochs but the checkpoint "
                                f"holds {done}")
        # Replay the finished epochs' shuffles, drawn as fit draws them (through tqdm, to the
        # end of each epoch), so the remaining epochs see the data in the order an
        # uninterrupted run would. Loading without training takes seconds per epoch.
        for _ in range(done):
            for _ in tqdm(train_loader, disable=True):
                pass
    if announce:
        print(announce)
    if checkpoint is not None:
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        _write_metrics(checkpoint, settings, history or training.History(recipe.metric),
                       "incomplete", 0.0)

    start = time.perf_counter()
    history = training.fit(
        model, train_loader, _losses(recipe)[settings.get("loss", recipe.loss.__name__)],
        optimizer,
        settings["epochs"], test_loader,
        metric=recipe.metric, scheduler=scheduler, device=device, checkpoint=checkpoint,
        history=history, progress=progress)
    if checkpoint is not None:
        try:
            _write_metrics(checkpoint, settings, history, history.stopped,
                           time.perf_counter() - start)
        except OSError as error:  # a stopped run still returns its history (a full disk?)
            if history.stopped is None:
                raise
            print(tr("could not record how the run ended ({error})").format(error=error))
    return model, history


def _write_metrics(checkpoint: Path, settings: dict, history: training.History,
                   stopped: str | None, seconds: float) -> None:
    """``<name>.metrics.json``: the settings, how the run ended, and its final numbers."""
    metrics = {
        **settings, "model": _recipe(settings["recipe"]).model.__name__, "stopped": stopped,
        "stopped_at": history.stopped_at, "stopped_because": history.stopped_because,
        **{key: _json_number(value) for key, value in history.final().items()
           if key != "seconds"},  # that one is the last epoch's; the run's total follows
        "wall_seconds": round(seconds, 1),
    }
    files.write_text(checkpoint.with_suffix(".metrics.json"), json.dumps(metrics, indent=2) + "\n")


def _json_number(value: float) -> float | None:
    return None if math.isnan(value) else value


def load_or_train(
    name: str,
    out: str | Path,
    *,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    subset: int | None = None,
    test_subset: int | None = None,
    seed: int = 0,
    device: str | torch.device | None = None,
    data_dir: str | None = None,
    loss: str | None = None,
    schedule: str = "one-cycle",
    progress: bool = True,
    **model_overrides: object,
) -> tuple[nn.Module, training.History]:
    """Train recipe ``name`` into ``out`` (as :func:`train`), or load the finished run there.

    A run in ``out`` counts when its ``<name>.metrics.json`` shows the same settings (recipe,
    network, epochs, batch size, learning rate, schedule, loss, seed, subsets); give every
    change of settings its own ``out`` folder, and each run stays on disk. Finished: the
    network and its history are read back, so re-running a lesson costs seconds. Interrupted
    (Ctrl-C, a kernel restart, a failed save) after at least one epoch: training resumes from
    its last checkpoint. Stopped by a NaN or inf, or run with other settings: it trains afresh. It
    always prints which. Every argument, and ``out``, is checked before any work starts.
    Returns ``(model, history)``. Lessons 04-06.
    """
    settings = _settings(name, epochs, batch_size, lr, subset, test_subset, seed, loss, schedule,
                         model_overrides)
    _check_run_arguments(device, data_dir, progress)
    checkpoint = _checkpoint_path(name, out, settings)
    out = checkpoint.parent
    earlier = _read_metrics(checkpoint)
    if earlier is None:
        announce = tr("Training {name} into {out}.").format(name=name, out=out)
    elif {key: earlier.get(key) for key in settings} != json.loads(json.dumps(settings)):
        announce = tr("The run in {out} used other settings; training {name} afresh.").format(
            out=out, name=name)
    elif earlier.get("stopped") is None and checkpoint.is_file():
        metric = _recipe(name).metric
        print(tr("Loading the finished run in {out} (test {metric} {value}); delete that "
                 "folder to train again.").format(
                     out=out, metric={"accuracy": tr("accuracy"), "mse": tr("mse")}[metric],
                     value=_number(earlier.get(f"test_{metric}"))))
        model = checkpoints.load_checkpoint(checkpoint, model_class=_recipe(name).model,
                                            device=device)
        return model, training.History.from_csv(checkpoint.with_suffix(".history.csv"),
                                                checkpoint.with_suffix(".steps.csv"))
    elif earlier.get("stopped") is None:
        announce = tr("The run in {out} finished, but its checkpoint {file} is gone; "
                      "training {name} afresh.").format(out=out, file=checkpoint.name, name=name)
    elif earlier["stopped"] != "non-finite" and _finished_epochs(checkpoint) > 0:
        done = _finished_epochs(checkpoint)
        try:
            return _run(name, settings, device, data_dir, checkpoint, progress, resume=True,
                        announce=tr("The run in {out} did not finish ({reason}); resuming it "
                                    "from its checkpoint after epoch {epoch}.").format(
                                        out=out, epoch=done,
                                        reason=training.stop_reason(earlier["stopped"])))
        except _CannotResume as error:
            announce = tr("The run in {out} did not finish ({reason}) and cannot be resumed "
                          "({error}); training {name} afresh.").format(
                              out=out, reason=training.stop_reason(earlier["stopped"]),
                              error=error, name=name)
    else:
        announce = tr("The run in {out} did not finish ({reason}, at epoch and batch {where}); "
                      "training {name} afresh.").format(
                          out=out, reason=training.stop_reason(earlier["stopped"]),
                          where=earlier.get("stopped_at"), name=name)
    return _run(name, settings, device, data_dir, checkpoint, progress, resume=False,
                announce=announce)


def _number(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else tr("not measured")


def _read_metrics(checkpoint: Path) -> dict | None:
    """The metrics.json of an earlier run beside ``checkpoint``, or None."""
    try:
        metrics = json.loads(checkpoint.with_suffix(".metrics.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return metrics if isinstance(metrics, dict) else None


def _finished_epochs(checkpoint: Path) -> int:
    """How many epochs the checkpoint holds (0 if there is no readable one)."""
    try:
        return int(checkpoints.checkpoint_info(checkpoint).get("epoch", 0))
    except (OSError, ValueError, TypeError):
        return 0


def pretrained(name: str, device: str | torch.device | None = None) -> nn.Module:
    """The course's pretrained network for recipe ``name``, from ``snnlab/course/checkpoints/``.
    Lessons 04-06."""
    return checkpoints.load_checkpoint(CHECKPOINT_DIR / f"{name}.pt",
                                       model_class=_recipe(name).model, device=device)


def pretrained_history(name: str) -> training.History:
    """The training history (per step and per epoch) of the pretrained network ``name``.
    Lessons 04-06."""
    _recipe(name)
    return training.History.from_csv(CHECKPOINT_DIR / f"{name}.history.csv",
                                     CHECKPOINT_DIR / f"{name}.steps.csv")


def publish(run: str | Path, name: str, to: str | Path = CHECKPOINT_DIR) -> list[Path]:
    """Copy a finished run of recipe ``name`` into ``to`` as the course's pretrained files.

    Writes ``<name>.pt`` (weights in float16: half the size, and no optimizer state),
    ``<name>.metrics.json``, ``<name>.history.csv`` and ``<name>.steps.csv``. Returns the paths.
    Lesson 04 (instructors: how the course's pretrained files were made).
    """
    recipe = _recipe(name)
    for argument, value in (("run", run), ("to", to)):
        if isinstance(value, bool) or not isinstance(value, str | os.PathLike) or value == "":
            raise TypeError(f"publish: {argument} must be a folder path, got "
                            f"{type(value).__name__} {value!r}")
    source, to = Path(run) / f"{name}.pt", Path(to)
    if to.exists() and not to.is_dir():
        raise NotADirectoryError(f"publish: to={str(to)!r} is a file, not a folder")
    metrics = _read_metrics(source)
    if metrics is None or metrics.get("stopped") is not None or not source.is_file():
        raise FileNotFoundError(f"{str(run)!r} holds no finished run of {name!r} (it needs "
                                f"{name}.pt and {name}.metrics.json showing a finished run)")
    model = checkpoints.load_checkpoint(source, model_class=recipe.model)
    checkpoints.check_writable(to / f"{name}.pt", model)
    to.mkdir(parents=True, exist_ok=True)
    written = [checkpoints.save_checkpoint(
        to / f"{name}.pt", model, dtype=torch.float16, recipe=name, epoch=metrics["epochs"],
        metric=_recipe(name).metric,
        metrics={k: v for k, v in metrics.items() if k.startswith(("train_", "test_", "epoch"))})]
    for suffix in (".metrics.json", ".history.csv", ".steps.csv"):
        written.append(to / f"{name}{suffix}")
        written[-1].write_bytes(source.with_suffix(suffix).read_bytes())
    return written


# --------------------------------------------------------------------------------------
# Command line: python -m snnlab train RECIPE ...
# --------------------------------------------------------------------------------------


# The train command's options that change the network: option -> the constructor argument.
MODEL_OPTIONS = {"--num-steps": "num_steps", "--num-hidden": "num_hidden", "--beta": "beta",
                 "--tau": "tau"}


def _takes(setting: str) -> list[str]:
    """The recipes whose network has the constructor argument ``setting``."""
    return [name for name, recipe in RECIPES.items()
            if setting in inspect.signature(recipe.model).parameters]


def _default(name: str, setting: str) -> object:
    recipe = RECIPES[name]
    return recipe.model_kwargs.get(
        setting, inspect.signature(recipe.model).parameters[setting].default)


def _for(setting: str) -> str:
    """'for fc, csnn (defaults 0.95, 0.5)': the recipes that take ``setting``, from RECIPES."""
    names = _takes(setting)
    text = tr("for {names} (defaults {values})") if len(names) > 1 else tr(
        "for {names} (default {values})")
    return text.format(names=", ".join(names),
                       values=", ".join(f"{_default(n, setting):g}" for n in names))


def _listed(names: list[str]) -> str:
    quoted = [repr(name) for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``train`` subcommand's arguments to ``parser``; every list of recipes in the
    help is made from ``RECIPES``. Lesson 04."""
    events_recipes = [name for name, recipe in RECIPES.items() if recipe.loaders is not None]
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (tr("recipes (the defaults; Adam with a one-cycle schedule):") + "\n"
                     + "\n".join("  " + line for line in table().splitlines())
                     + "\n  " + tr("({names}: lesson 07, on event recordings made from MNIST)")
                     .format(names=", ".join(events_recipes))
                     + "\n\n" + tr("examples:")
                     + "\n  python -m snnlab train fc --epochs 1 --subset 2000 --out runs/fc\n"
                       "  python -m snnlab train fc --num-hidden 512 --num-steps 200 "
                       "--batch-size 512 --loss ce_membrane --lr 5e-4 --schedule constant "
                       "--epochs 3\n    "
                     + tr("(the lab handout's recipe, saved in runs/fc_num-hidden-512_...)"))
    parser.add_argument("model", choices=list(RECIPES),
                        help=tr("which network: {networks}").format(networks=", ".join(
                            f"{name} ({recipe.model.__name__})"
                            for name, recipe in RECIPES.items())))
    parser.add_argument("--epochs", type=int, help=tr("number of epochs (default: the recipe's)"))
    parser.add_argument("--num-steps", type=int,
                        help=tr("simulation time steps per sample, {which}").format(
                            which=_for("num_steps")))
    parser.add_argument("--batch-size", type=int, help=tr("batch size (default: the recipe's)"))
    parser.add_argument("--lr", type=float,
                        help=tr("learning rate: the peak of the one-cycle schedule, or the "
                                "constant rate (default: the recipe's)"))
    parser.add_argument("--schedule", choices=SCHEDULES, default="one-cycle",
                        help=tr("how the learning rate moves (default: one-cycle)"))
    by_metric = {metric: [n for n, r in RECIPES.items() if r.metric == metric]
                 for metric in LOSSES}
    parser.add_argument("--loss", choices=sorted({n for m in LOSSES.values() for n in m}),
                        help=tr("the loss (default: the recipe's; {choices})").format(
                            choices="; ".join(
                                (tr("{names} take {losses}") if len(by_metric[metric]) > 1
                                 else tr("{names} takes {losses}")).format(
                                    names=", ".join(by_metric[metric]),
                                    losses=", ".join(LOSSES[metric]))
                                for metric in LOSSES)))
    parser.add_argument("--num-hidden", type=int,
                        help=tr("hidden LIF neurons, {which}").format(which=_for("num_hidden")))
    parser.add_argument("--beta", type=float,
                        help=tr("membrane decay per step, 0 <= beta <= 1 (1: no leak; 0: "
                                "nothing kept from one step to the next), {which}").format(
                            which=_for("beta")))
    parser.add_argument("--tau", type=float,
                        help=tr("membrane time constant, > 1 (beta = 1 - 1/tau), {which}")
                        .format(which=_for("tau")))
    parser.add_argument("--device",
                        help=tr("cpu, cuda, cuda:1, ... (default: a GPU if there is one)"))
    parser.add_argument("--data-dir",
                        help=tr("folder holding MNIST/raw/ (default: $SNNLAB_DATA_DIR or the "
                                "cache)"))
    parser.add_argument("--out", default=None,
                        help=tr("folder for the checkpoint, metrics.json and history CSVs "
                                "(default: runs/<model>, plus the changed settings, e.g. "
                                "runs/fc_num-steps-10)"))
    parser.add_argument("--seed", type=int, default=0, help=tr("random seed (default: 0)"))
    parser.add_argument("--subset", type=int,
                        help=tr("train on a class-balanced subset of this many images "
                                "(the test set shrinks to a fifth of it)"))
    parser.add_argument("--no-progress", action="store_true", help=tr("no progress bars"))


def main(args: argparse.Namespace) -> int:
    """Run ``python -m snnlab train ...``; return the exit status.

    Like ``load_or_train``: running the same command again loads a finished run, resumes an
    interrupted one and retrains a broken one, saying which. Mistakes raise ValueError or
    TypeError, which ``python -m snnlab`` prints as one line (exit status 2). A run that
    stopped early exits with 1 (130 if interrupted). Lesson 04.
    """
    overrides: dict[str, object] = {}
    recipe = _recipe(args.model)
    for option, setting in MODEL_OPTIONS.items():
        value = getattr(args, setting)
        if value is None:
            continue
        if args.model not in _takes(setting):
            instead = {"beta": "tau", "tau": "beta"}.get(setting)
            hint = (f"; give --{instead} instead" if instead and args.model in _takes(instead)
                    else "")
            raise ValueError(f"{option} is for {_listed(_takes(setting))} only, not "
                             f"{args.model!r} ({recipe.model.__name__}){hint}")
        overrides[setting] = value
    if args.out is not None and not args.out.strip():
        raise ValueError("--out must name a folder, got an empty string")
    if args.data_dir is not None and not args.data_dir.strip():
        raise ValueError("--data-dir must name a folder, got an empty string")
    out = Path(args.out) if args.out is not None else Path("runs") / run_name(args)
    test_subset = None if args.subset is None else max(10, min(10_000, args.subset // 5))
    # Every option, checked and named as this command names it, before anything is printed
    # or written (load_or_train checks them again, in the Python API's words).
    settings = _settings(args.model, args.epochs, args.batch_size, args.lr, args.subset,
                         test_subset, args.seed, args.loss, args.schedule, overrides,
                         spell=_as_option)
    _check_run_arguments(args.device, args.data_dir, not args.no_progress, spell=_as_option)
    _checkpoint_path(args.model, out, settings, spell=_as_option)
    try:
        model, history = load_or_train(
            args.model, out, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
            subset=args.subset, test_subset=test_subset, seed=args.seed, device=args.device,
            data_dir=args.data_dir, loss=args.loss, schedule=args.schedule,
            progress=not args.no_progress, **overrides)
    except data.MNISTNotFoundError as error:  # name this command's option, not root=...
        if error.raw is None:
            raise
        raise data.missing_error(error.raw, error.reason,
                                 folder="give --data-dir FOLDER") from None
    final, metric = history.final(), history.metric
    if history.stopped is not None:
        print(_stopped_message(args.model, out / f"{args.model}.pt", history), file=sys.stderr)
        return 130 if history.stopped == "interrupted" else 1
    print(tr("{model}: test {metric} {value} after {epochs} epochs; the run is in {out}/ "
             "({files})").format(
        model=args.model, metric={"accuracy": tr("accuracy"), "mse": tr("mse")}[metric],
        value=f"{final[f'test_{metric}']:.4f}", epochs=int(final["epoch"]), out=out,
        files=", ".join(f"{args.model}{suffix}" for suffix in (
            ".pt", ".metrics.json", ".history.csv", ".steps.csv"))))
    if metric == "accuracy":
        warning = training.chance_warning(final["test_accuracy"], _num_classes(model))
        if warning is not None:
            print(f"{args.model}: {warning}", file=sys.stderr)
    return 0


def _num_classes(model: nn.Module) -> int:
    """The classifier's number of classes: the out_features of its last linear layer."""
    last = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return last[-1].out_features if last else 10


def _stopped_message(name: str, checkpoint: Path, history: training.History) -> str:
    """What ``train`` says about a run that stopped early: where and why, what is on disk, how
    much was trained, and how to go on (what running the same command again will do)."""
    reason = training.stop_reason(history.stopped)
    if history.stopped_at:
        reason = tr("{reason} at epoch and batch {where}").format(reason=reason,
                                                                 where=history.stopped_at)
    saved = _saved_epoch(checkpoint, history)
    on_disk = (tr("the checkpoint of epoch {epoch} is in {folder} ({file}, intact)").format(
        epoch=saved, folder=checkpoint.parent, file=checkpoint.name) if saved
        else tr("no checkpoint of this run was written"))
    sentences = [tr("{name}: stopped ({reason}); {on_disk}.").format(
        name=name, reason=reason, on_disk=on_disk)]
    if history.stopped != "interrupted" and history.stopped_because:
        sentences.append(tr("Why: {because}.").format(because=history.stopped_because))
    done, steps = len(history.epochs["epoch"]), len(history.steps["loss"])
    asked = (_read_metrics(checkpoint) or {}).get("epochs")
    trained = (tr("Trained: {done} of {asked} epochs ({steps} steps)") if isinstance(asked, int)
               else tr("Trained: {done} epochs ({steps} steps)") if done != 1
               else tr("Trained: {done} epoch ({steps} steps)")).format(done=done, asked=asked,
                                                                         steps=steps)
    if done > saved:
        trained += (tr("; epoch {epoch} was not saved").format(epoch=done) if done == saved + 1
                    else tr("; epochs {first}-{last} were not saved").format(first=saved + 1,
                                                                              last=done))
    sentences.append(tr("{clause}.").format(clause=trained))
    if history.stopped == "non-finite":
        then = tr("to train afresh (a lower --lr may help)")
    elif saved:
        then = tr("to resume after epoch {epoch}").format(epoch=saved)
    else:
        then = tr("to train afresh")
    if history.stopped == "save failed":
        then = tr("{then} once the disk has room again (or the folder is writable again)").format(
            then=then)
    sentences.append(tr("Run the same command again {then}.").format(then=then))
    message = sentences[0]
    for sentence in sentences[1:]:
        message = tr("{sentence} {next}").format(sentence=message, next=sentence)
    return message


def _saved_epoch(checkpoint: Path, history: training.History) -> int:
    """The epoch of the checkpoint a stopped run left on disk, or 0 if it left none."""
    epoch = _finished_epochs(checkpoint)
    done = len(history.epochs["epoch"])
    # (a file from an earlier run with other settings does not count: its epoch is not one
    # this run's history holds, or this run wrote no epoch at all)
    return epoch if 0 < epoch <= done else 0


def run_name(args: argparse.Namespace) -> str:
    """The default folder name of a CLI run: the model, then each setting the command changed
    (``fc``, ``fc_num-steps-10``, ``fc_num-hidden-512_num-steps-200_...``), so runs with other
    settings never overwrite each other. Lesson 04."""
    changed = [(option, getattr(args, option.replace("-", "_")))
               for option in ("num-hidden", "num-steps", "beta", "tau", "batch-size", "loss",
                              "lr", "schedule", "epochs", "subset", "seed")]
    defaults = {"schedule": "one-cycle", "seed": 0}
    parts = [f"{option}-{value:g}" if isinstance(value, float) else f"{option}-{value}"
             for option, value in changed if value is not None and value != defaults.get(option)]
    return "_".join([args.model, *parts])

