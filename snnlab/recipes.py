"""Training recipes: how each of the course's networks is trained, in one table.

``RECIPES`` maps a short name to a :class:`Recipe`; ``print(recipes.table())`` shows them:

    name    model               loss            metric    epochs  batch  peak lr  image
    fc      FCSNN               ce_rate         accuracy  6       128    0.002    28
    single  SingleLayerSNN      mse_rate        accuracy  5       128    0.02     28
    csnn    CSNN                ce_rate         accuracy  5       128    0.005    28
    sae     SpikingAutoencoder  reconstruction  mse       2       128    0.003    32

Every recipe uses Adam with a one-cycle learning-rate schedule: the rate warms up to the
peak over the first 30% of the steps, then anneals to nearly zero. That gets close to the
final accuracy in a few epochs, which is what a laptop CPU can afford. The classifiers
learn from spike counts (``ce_rate``, or ``mse_rate`` for SpikingJelly's single layer),
because "the most spikes wins" is how their accuracy is measured.

From Python::

    from snnlab import recipes
    model, history = recipes.train("fc", epochs=1, subset=2000)   # train (quick)
    model = recipes.pretrained("fc")                               # or load the course's weights

From the shell: ``python -m snnlab train fc --epochs 1 --subset 2000`` (see ``--help``).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from snnlab import config, data, models, training

# The committed, pretrained checkpoints (see assets/checkpoints/README.md).
CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "assets" / "checkpoints"


@dataclass(frozen=True)
class Recipe:
    """Everything needed to train one network: model, loss, optimizer settings, data."""

    model: type[nn.Module]
    model_kwargs: dict
    loss: training.LossFn
    metric: str  # "accuracy" or "mse"
    epochs: int
    batch_size: int
    lr: float  # the peak of the one-cycle schedule
    image_size: int = 28  # 28, or 32 for the autoencoder
    note: str = field(default="", compare=False)


RECIPES: dict[str, Recipe] = {
    "fc": Recipe(
        models.FCSNN, dict(num_hidden=1000, beta=0.95, num_steps=25),
        training.ce_rate, "accuracy", epochs=6, batch_size=128, lr=2e-3,
        note="snnTorch tutorial 5's network; cross-entropy on the spike counts"),
    "single": Recipe(
        models.SingleLayerSNN, dict(tau=2.0, num_steps=100),
        training.mse_rate, "accuracy", epochs=5, batch_size=128, lr=2e-2,
        note="SpikingJelly's first example: Poisson input, MSE between rate and one-hot"),
    "csnn": Recipe(
        models.CSNN, dict(beta=0.5, num_steps=25),
        training.ce_rate, "accuracy", epochs=5, batch_size=128, lr=5e-3,
        note="snnTorch tutorial 6's network; cross-entropy on the spike counts"),
    "sae": Recipe(
        models.SpikingAutoencoder, dict(latent_dim=32, beta=0.5, num_steps=5, threshold=1.0),
        training.reconstruction, "mse", epochs=2, batch_size=128, lr=3e-3, image_size=32,
        note="snnTorch's spiking autoencoder; MSE of the last step's output membrane"),
}


def table() -> str:
    """The recipes as a plain-text table (name, model, loss, metric, epochs, batch, lr, image)."""
    rows = [("name", "model", "loss", "metric", "epochs", "batch", "peak lr", "image")]
    rows += [(name, r.model.__name__, r.loss.__name__, r.metric, str(r.epochs),
              str(r.batch_size), f"{r.lr:g}", str(r.image_size)) for name, r in RECIPES.items()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def _recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose one of {sorted(RECIPES)}")
    return RECIPES[name]


def _with_defaults(recipe: Recipe, epochs: object, batch_size: object,
                   lr: object) -> tuple[object, object, object]:
    """Epochs, batch size and peak learning rate, the recipe's wherever the caller gave None."""
    return (recipe.epochs if epochs is None else epochs,
            recipe.batch_size if batch_size is None else batch_size,
            recipe.lr if lr is None else lr)


def build_model(name: str, **overrides: object) -> nn.Module:
    """The recipe's network, with some constructor arguments overridden (e.g. num_steps=10)."""
    recipe = _recipe(name)
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
    progress: bool = True,
    **model_overrides: object,
) -> tuple[nn.Module, training.History]:
    """Train recipe ``name`` ("fc", "single", "csnn" or "sae") on MNIST.

    Arguments left as None take the recipe's values. ``subset``/``test_subset`` train and
    test on class-balanced subsets (quick runs). ``model_overrides`` change the network
    (``num_steps=10``, ``beta=0.9``, ``tau=3.0``, ...). With ``out``, the folder receives
    ``<name>.pt`` (checkpoint, saved after every epoch), ``metrics.json``, ``history.csv``
    (per epoch) and ``steps.csv`` (per optimizer step).

    Returns ``(model, history)``.
    """
    recipe = _recipe(name)
    epochs, batch_size, lr = _with_defaults(recipe, epochs, batch_size, lr)
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")

    config.seed_everything(seed)
    model = build_model(name, **model_overrides)
    train_loader, test_loader = data.loaders(
        batch_size, size=recipe.image_size, subset=subset, test_subset=test_subset,
        root=data_dir, seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=epochs * len(train_loader), pct_start=0.3)
    checkpoint = Path(out) / f"{name}.pt" if out is not None else None

    start = time.perf_counter()
    history = training.fit(
        model, train_loader, recipe.loss, optimizer, epochs, test_loader,
        metric=recipe.metric, scheduler=scheduler, device=device, checkpoint=checkpoint,
        progress=progress)
    seconds = time.perf_counter() - start

    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        history.to_csv(out / "history.csv")
        history.to_csv(out / "steps.csv", per="step")
        metrics = {
            "recipe": name, "model": type(model).__name__, "model_config": model.config,
            "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed,
            "subset": subset, "test_subset": test_subset, "stopped": history.stopped,
            **{key: _json_number(value) for key, value in history.final().items()
               if key != "seconds"},  # that one is the last epoch's; the run's total follows
            "wall_seconds": round(seconds, 1),
        }
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return model, history


def _json_number(value: float) -> float | None:
    return None if math.isnan(value) else value


# What must agree for a finished run to stand in for a new one (see load_or_train).
_RUN_SETTINGS = ("recipe", "model_config", "epochs", "batch_size", "lr", "seed", "subset",
                 "test_subset")
# train()'s own keyword arguments; the rest of its keywords change the network.
_TRAIN_ARGUMENTS = ("epochs", "batch_size", "lr", "subset", "test_subset", "seed", "data_dir",
                    "progress")


def load_or_train(
    name: str, out: str | Path, *, device: str | torch.device | None = None, **train_kwargs: object,
) -> tuple[nn.Module, training.History]:
    """Train recipe ``name`` into ``out`` (as :func:`train`), or load the finished run there.

    A run in ``out`` counts when its ``metrics.json`` shows the same settings (recipe, network,
    epochs, batch size, learning rate, seed, subsets) and that it was not stopped early. Then
    the network and its history are read back instead of training again, so re-running a
    lesson costs seconds. Delete ``out`` to train afresh. Returns ``(model, history)``.
    """
    recipe = _recipe(name)
    model_overrides = {k: v for k, v in train_kwargs.items() if k not in _TRAIN_ARGUMENTS}
    epochs, batch_size, lr = _with_defaults(recipe, train_kwargs.get("epochs"),
                                            train_kwargs.get("batch_size"), train_kwargs.get("lr"))
    wanted = {
        "recipe": name,
        "model_config": build_model(name, **model_overrides).config,
        "epochs": epochs, "batch_size": batch_size, "lr": lr,
        "seed": train_kwargs.get("seed", 0),
        "subset": train_kwargs.get("subset"),
        "test_subset": train_kwargs.get("test_subset"),
    }
    out = Path(out)
    finished = _finished_run(out, name)
    if finished is not None:
        same = {key: finished.get(key) for key in _RUN_SETTINGS} == json.loads(json.dumps(wanted))
        if same and finished.get("stopped") is None:
            metric = finished[f"test_{recipe.metric}"]
            print(f"Loading the finished run in {out} (test {recipe.metric} {metric:.4f}); "
                  f"delete that folder to train again.")
            model = training.load_checkpoint(out / f"{name}.pt", model_class=recipe.model,
                                             device=device)
            history = training.History.from_csv(out / "history.csv", out / "steps.csv")
            return model, history
    return train(name, out=out, device=device, **train_kwargs)


def _finished_run(out: Path, name: str) -> dict | None:
    """The metrics.json of a finished run of ``name`` in ``out``, or None."""
    files = [out / "metrics.json", out / f"{name}.pt", out / "history.csv", out / "steps.csv"]
    if not all(file.is_file() for file in files):
        return None
    try:
        return json.loads(files[0].read_text())
    except json.JSONDecodeError:
        return None


def pretrained(name: str, device: str | torch.device | None = None) -> nn.Module:
    """The course's pretrained network for recipe ``name``, from ``assets/checkpoints/``."""
    _recipe(name)
    return training.load_checkpoint(CHECKPOINT_DIR / f"{name}.pt",
                                    model_class=RECIPES[name].model, device=device)


def pretrained_history(name: str) -> training.History:
    """The training history (per step and per epoch) of the pretrained network ``name``."""
    _recipe(name)
    return training.History.from_csv(CHECKPOINT_DIR / f"{name}.history.csv",
                                     CHECKPOINT_DIR / f"{name}.steps.csv")


def publish(run: str | Path, name: str, to: str | Path = CHECKPOINT_DIR) -> list[Path]:
    """Copy a finished full run of recipe ``name`` into ``to`` as the course's pretrained files.

    Writes ``<name>.pt`` (weights in float16: half the size, and no optimizer state),
    ``<name>.metrics.json``, ``<name>.history.csv`` and ``<name>.steps.csv``. Returns the paths.
    """
    run, to = Path(run), Path(to)
    metrics = _finished_run(run, name)
    if metrics is None:
        raise FileNotFoundError(f"{str(run)!r} holds no finished run of {name!r} (it needs "
                                f"{name}.pt, metrics.json, history.csv and steps.csv)")
    model = training.load_checkpoint(run / f"{name}.pt", model_class=RECIPES[name].model)
    to.mkdir(parents=True, exist_ok=True)
    checkpoint = training.save_checkpoint(
        to / f"{name}.pt", model, dtype=torch.float16, recipe=name,
        metric=RECIPES[name].metric, metrics={k: v for k, v in metrics.items()
                                               if k.startswith(("train_", "test_", "epoch"))})
    written = [checkpoint]
    for source, target in (("metrics.json", "metrics.json"), ("history.csv", "history.csv"),
                           ("steps.csv", "steps.csv")):
        written.append(to / f"{name}.{target}")
        written[-1].write_bytes((run / source).read_bytes())
    return written


# --------------------------------------------------------------------------------------
# Command line: python -m snnlab train {fc,single,csnn,sae} ...
# --------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``train`` subcommand's arguments to ``parser``."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = ("recipes (the defaults; Adam with a one-cycle schedule):\n"
                     + "\n".join("  " + line for line in table().splitlines())
                     + "\n\nexample:\n  python -m snnlab train fc --epochs 1 --subset 2000 "
                       "--out runs/fc")
    parser.add_argument("model", choices=sorted(RECIPES),
                        help="which network: fc (FCSNN), single (SingleLayerSNN), csnn (CSNN), "
                             "sae (SpikingAutoencoder)")
    parser.add_argument("--epochs", type=int, help="number of epochs (default: the recipe's)")
    parser.add_argument("--num-steps", type=int,
                        help="simulation time steps per sample (default: the recipe's)")
    parser.add_argument("--batch-size", type=int, help="batch size (default: the recipe's)")
    parser.add_argument("--lr", type=float,
                        help="peak learning rate of the one-cycle schedule (default: the recipe's)")
    parser.add_argument("--beta", type=float,
                        help="membrane decay per step, 0 < beta < 1 (fc, csnn, sae)")
    parser.add_argument("--tau", type=float,
                        help="membrane time constant, > 1 (single only; beta = 1 - 1/tau)")
    parser.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: a GPU if there is one)")
    parser.add_argument("--data-dir",
                        help="folder holding MNIST/raw/ (default: $SNNLAB_DATA_DIR or the cache)")
    parser.add_argument("--out", default=None,
                        help="folder for the checkpoint, metrics.json and history CSVs "
                             "(default: runs/<model>)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--subset", type=int,
                        help="train on a class-balanced subset of this many images "
                             "(the test set shrinks to a fifth of it)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def main(args: argparse.Namespace) -> int:
    """Run ``python -m snnlab train ...``; return the exit status."""
    overrides: dict[str, object] = {}
    if args.num_steps is not None:
        overrides["num_steps"] = args.num_steps
    if args.tau is not None:
        if args.model != "single":
            raise SystemExit("--tau is for the 'single' model; use --beta for the others")
        overrides["tau"] = args.tau
    if args.beta is not None:
        if args.model == "single":
            raise SystemExit("--beta is not used by 'single'; give --tau (beta = 1 - 1/tau)")
        overrides["beta"] = args.beta
    out = Path(args.out) if args.out is not None else Path("runs") / args.model
    test_subset = None if args.subset is None else max(10, min(10_000, args.subset // 5))
    try:
        model, history = train(
            args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
            subset=args.subset, test_subset=test_subset, seed=args.seed, device=args.device,
            data_dir=args.data_dir, out=out, progress=not args.no_progress, **overrides)
    except (ValueError, TypeError, FileNotFoundError) as error:
        raise SystemExit(f"error: {error}") from None
    final = history.final()
    metric = history.metric
    if not final:
        print(f"stopped before the first epoch finished ({history.stopped}); nothing saved")
        return 1
    print(f"{args.model}: test {metric} {final[f'test_{metric}']:.4f} after "
          f"{int(final['epoch'])} epochs; wrote {out}/{args.model}.pt, metrics.json, "
          "history.csv, steps.csv" + (f" (stopped: {history.stopped})" if history.stopped else ""))
    return 0 if history.stopped is None else 1
