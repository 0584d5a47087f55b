"""Checkpoints: a trained network on disk, with what is needed to rebuild it (lesson 04).

A checkpoint holds the network's class and constructor arguments (``model.config``), its
weights, optionally the optimizer's and scheduler's state (to resume training), and plain
metadata (epoch, metrics). Three promises:

- a write is atomic (``snnlab.files``): a temporary file renamed over the target at the end,
  so a failed or interrupted save (Ctrl-C, a full disk) leaves the previous checkpoint as it
  was, and a failed write is an ``OSError`` that names the file and says why;
- a network with a NaN or inf weight is never saved (nor one whose weights would turn into
  inf in a smaller ``dtype``), and never loaded as trained;
- a file that is not a checkpoint of the same network (a plain ``state_dict``, another
  architecture) is never overwritten: saving over it raises ``FileExistsError``.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor, nn

import snnlab
from snnlab import checks, files

__all__ = ["save_checkpoint", "load_checkpoint", "restore", "checkpoint_info",
           "check_writable"]

FORMAT = "snnlab-checkpoint-1"
_PLAIN_TYPES = (str, int, float, bool, type(None))
# What checkpoint_info reports besides the metadata; a metadata key may not hide one of them.
_RESERVED = ("model_class", "model_config", "snnlab_version")


def _model_classes() -> dict[str, type[nn.Module]]:
    """Every network a checkpoint can hold, by class name."""
    from snnlab import models

    return {cls.__name__: cls for cls in models.MODELS}


def _path(name: str, value: object) -> Path:
    """A file path given as str or os.PathLike (not None, a number or an open file)."""
    if isinstance(value, bool) or not isinstance(value, str | os.PathLike) or value == "":
        raise TypeError(f"{name} must be a file path (str or pathlib.Path), got "
                        f"{type(value).__name__} {value!r}")
    return Path(value)


def _check_model(name: str, model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{name}: model must be a torch.nn.Module (one of the snnlab.models "
                        f"networks), got {type(model).__name__}")
    return model


def _check_optimizer(name: str, optimizer: object, model: nn.Module) -> None:
    """None, or a torch optimizer whose parameters all belong to ``model``."""
    if optimizer is None:
        return
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"{name}: optimizer must be a torch.optim.Optimizer or None, got "
                        f"{type(optimizer).__name__}")
    mine = {id(p) for p in model.parameters()}
    if not all(id(p) in mine for group in optimizer.param_groups for p in group["params"]):
        raise ValueError(f"{name}: the optimizer holds parameters that are not the model's; "
                         "build it from this model: torch.optim.Adam(model.parameters(), ...)")


def _check_scheduler(name: str, scheduler: object, optimizer: object) -> None:
    """None, or a learning-rate scheduler driving ``optimizer``."""
    if scheduler is None:
        return
    if not isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler):
        raise TypeError(f"{name}: scheduler must be a torch.optim.lr_scheduler scheduler or None,"
                        f" got {type(scheduler).__name__}")
    if optimizer is None or scheduler.optimizer is not optimizer:
        raise ValueError(f"{name}: the scheduler drives another optimizer than the one given "
                         "(or none was given); build it from this optimizer")


def check_writable(path: str | os.PathLike, model: nn.Module) -> Path:
    """Check, before any training, that a checkpoint of ``model`` can be written to ``path``.

    The folder must exist or be creatable and be writable; ``path`` must not be a folder, nor
    a file that is something other than an snnlab checkpoint of the same network class.
    Returns the path. Lesson 04.
    """
    path = _path("checkpoint path", path)
    _check_model("check_writable", model)
    if path.is_dir():
        raise IsADirectoryError(f"checkpoint path {str(path)!r} is a folder; give a file name "
                                f"such as {str(path / 'model.pt')!r}")
    folder = next((p for p in (path.parent, *path.parent.parents) if p.exists()), Path("."))
    if not folder.is_dir():
        raise NotADirectoryError(f"cannot save to {str(path)!r}: {str(folder)!r} is a file, "
                                 "not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot save to {str(path)!r}: the folder {str(folder)!r} is "
                              "not writable; choose another place")
    if path.exists():
        try:
            held = checkpoint_info(path)["model_class"]
        except (ValueError, OSError):
            held = None
        if held != type(model).__name__:
            what = f"a checkpoint of {held}" if held else "a file that is not an snnlab checkpoint"
            raise FileExistsError(f"{str(path)!r} already holds {what}; snnlab will not overwrite "
                                  f"it with a {type(model).__name__}. Delete it or choose "
                                  "another path")
    return path


def _check_plain(value: object, name: str) -> None:
    """Metadata must be plain Python values so that ``weights_only=True`` can load it."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"checkpoint metadata {name}: keys must be str, got {key!r}")
            _check_plain(item, f"{name}[{key!r}]")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_plain(item, f"{name}[{index}]")
    elif not isinstance(value, _PLAIN_TYPES):
        raise TypeError(f"checkpoint metadata {name}: must be str, int, float, bool, None, "
                        f"or a list/dict of those; got {type(value).__name__}")


def save_checkpoint(path: str | os.PathLike, model: nn.Module,
                    optimizer: torch.optim.Optimizer | None = None,
                    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None, *,
                    dtype: torch.dtype = torch.float32, **metadata: object) -> Path:
    """Save ``model`` (and ``optimizer``, ``scheduler``) with its constructor arguments.

    ``model`` must be one of the networks in ``snnlab.models`` (they record their
    constructor arguments in ``model.config``), so :func:`load_checkpoint` can rebuild it.
    ``dtype=torch.float16`` halves the file (floating-point weights only; loading converts
    them back to float32). ``metadata`` (epoch, metrics, ...) must be plain Python values.
    A network with a NaN or inf weight is refused (ValueError), and so is one with a weight
    beyond ``dtype``'s range (float16's is +-65504), which would be saved as inf; so is a
    ``path`` holding anything but a checkpoint of the same network class (FileExistsError).
    A write that fails (a full disk, a folder turned read-only) raises OSError naming the file
    and why, and leaves the file that was there as it was. Lesson 04.
    """
    path = _path("save_checkpoint: path", path)
    classes = _model_classes()
    name = type(model).__name__
    if classes.get(name) is not type(model):
        raise TypeError(f"save_checkpoint: model must be one of the snnlab.models networks "
                        f"{sorted(classes)}, got {name}")
    _check_optimizer("save_checkpoint", optimizer, model)
    _check_scheduler("save_checkpoint", scheduler, optimizer)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"save_checkpoint: dtype must be a floating torch dtype such as "
                        f"torch.float32 or torch.float16, got {dtype!r}")
    hidden = sorted(set(metadata) & set(_RESERVED))
    if hidden:
        raise ValueError(f"save_checkpoint: metadata may not be called {hidden}; "
                         f"checkpoint_info reports those itself ({list(_RESERVED)})")
    _check_plain(metadata, "metadata")
    state = model.state_dict()
    bad = checks.first_non_finite(state)
    if bad is not None:
        raise ValueError(f"save_checkpoint: {name}'s weight {bad!r} holds NaN or inf; a broken "
                         f"network is never saved (the training diverged: lower the learning "
                         f"rate, or keep the last good checkpoint)")
    bad = None if optimizer is None else checks.first_non_finite_state(optimizer, model)
    if bad is not None:
        raise ValueError(f"save_checkpoint: the optimizer's {bad} holds NaN or inf; it would "
                         f"never move the weights again after a resume, so it is not saved "
                         f"(save without the optimizer, or keep the last good checkpoint)")
    check_writable(path, model)
    weights = {key: (value.detach().to("cpu", dtype) if value.is_floating_point()
                     else value.detach().cpu()) for key, value in state.items()}
    bad = checks.first_non_finite(weights)
    if bad is not None:  # finite before the cast, so beyond the smaller dtype's range
        largest = state[bad].detach().abs().max().item()
        raise ValueError(f"save_checkpoint: {name}'s weight {bad!r} holds values up to "
                         f"{largest:.4g} in size, beyond the range of {dtype} (its largest "
                         f"number is {torch.finfo(dtype).max:.4g}): saved as {dtype} they would "
                         "become inf, and the checkpoint could not be loaded. Save it with "
                         "dtype=torch.float32 (the default)")
    content = {
        "format": FORMAT,
        "snnlab_version": snnlab.__version__,
        "model_class": name,
        "model_config": dict(model.config),
        "state_dict": weights,
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "optimizer_class": type(optimizer).__name__ if optimizer is not None else None,
        "scheduler_class": type(scheduler).__name__ if scheduler is not None else None,
        "metadata": metadata,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with files.replacing(path) as temp, open(temp, "wb") as file:
        try:
            torch.save(content, file)
        except RuntimeError as error:  # how torch's writer reports a failed write (a full disk)
            if isinstance(error.__context__, OSError):  # the write's own error, if it had one
                raise error.__context__ from error
            raise OSError(f"torch's writer stopped partway, most likely because the disk is "
                          f"full ({_one_line(error)})") from error
    return path


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _read(path: str | os.PathLike) -> dict:
    """The checkpoint's content, checked: an snnlab checkpoint with every part in place."""
    path = _path("checkpoint path", path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {str(path)!r}"
                                + (" (that is a folder)" if path.is_dir() else ""))
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"{str(path)!r} is not a readable checkpoint (truncated, corrupt, or "
                         f"not a PyTorch file): {type(error).__name__}") from error
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        kind = ("a plain state_dict" if isinstance(content, dict) and content
                and all(isinstance(v, Tensor) for v in content.values()) else "a PyTorch file")
        raise ValueError(f"{str(path)!r} is {kind}, not an snnlab checkpoint (save one with "
                         f"snnlab.checkpoints.save_checkpoint)")
    parts = {"model_class": str, "model_config": dict, "state_dict": dict, "metadata": dict,
             "snnlab_version": str}
    for key, kind in parts.items():
        if not isinstance(content.get(key), kind):
            raise ValueError(f"{str(path)!r} is a damaged snnlab checkpoint: its {key!r} is "
                             f"missing or not a {kind.__name__}")
    for key, value in content["state_dict"].items():
        if not isinstance(value, Tensor):
            raise ValueError(f"{str(path)!r} is a damaged snnlab checkpoint: the weight {key!r} "
                             f"is a {type(value).__name__}, not a tensor")
    return content


def checkpoint_info(path: str | os.PathLike) -> dict:
    """What a checkpoint holds, without building the model: class, config, version, metadata.
    Lesson 04."""
    content = _read(path)
    return {"model_class": content["model_class"], "model_config": content["model_config"],
            "snnlab_version": content["snnlab_version"], **content["metadata"]}


def load_checkpoint(path: str | os.PathLike, *, model_class: type[nn.Module] | str | None = None,
                    device: str | torch.device | None = None) -> nn.Module:
    """Rebuild the saved network, load its weights (as float32) and return it in eval mode.

    ``model_class``: the architecture you expect (class or name); a checkpoint of another
    one raises ValueError. ``device``: where to put the model (default: the CPU).
    A checkpoint with a NaN or inf weight is refused, naming the file and the weight.
    Lesson 04.
    """

    classes = _model_classes()
    if isinstance(model_class, type) and issubclass(model_class, nn.Module):
        expected = model_class.__name__
    elif model_class is None or isinstance(model_class, str):
        expected = model_class
    else:
        raise TypeError(f"load_checkpoint: model_class must be a network class such as "
                        f"snnlab.models.FCSNN, its name, or None; got {model_class!r}")
    if expected is not None and expected not in classes:
        raise ValueError(f"load_checkpoint: model_class must be one of the snnlab.models "
                         f"networks {sorted(classes)}, got {expected!r}")
    device = checks.device(device, torch.device("cpu"))
    content = _read(path)
    name = content["model_class"]
    if expected is not None and expected != name:
        raise ValueError(f"{str(path)!r} holds a {name}, not a {expected}")
    if name not in classes:
        raise ValueError(f"{str(path)!r} holds a {name!r}, which snnlab.models does not have "
                         f"(known: {sorted(classes)})")
    try:
        model = classes[name](**content["model_config"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"{str(path)!r}: its settings {content['model_config']} no longer "
                         f"build a {name} ({error}); was it saved by another version of "
                         "snnlab?") from error
    restore(path, model, content=content)
    return model.to(device).eval()


def restore(path: str | os.PathLike, model: nn.Module,
            optimizer: torch.optim.Optimizer | None = None,
            scheduler: torch.optim.lr_scheduler.LRScheduler | None = None, *,
            content: dict | None = None) -> dict:
    """Load a checkpoint's weights (and optimizer, scheduler state) into existing objects, to
    resume training; return its metadata. The checkpoint must hold ``model``'s class, and
    ``optimizer`` must be built from ``model`` (and be of the saved optimizer's class).
    Lesson 04."""
    _check_model("restore", model)
    _check_optimizer("restore", optimizer, model)
    _check_scheduler("restore", scheduler, optimizer)
    content = _read(path) if content is None else content
    name = content["model_class"]
    if name != type(model).__name__:
        raise ValueError(f"{str(path)!r} holds a {name}, not a {type(model).__name__}")
    bad = checks.first_non_finite(content["state_dict"])
    if bad is not None:
        raise ValueError(f"{str(path)!r}: the weight {bad!r} holds NaN or inf, so this is a "
                         "broken network, not a trained one; delete the file and train again")
    saved_state = content.get("optimizer")
    bad = None if optimizer is None or saved_state is None else checks.first_non_finite_state(
        optimizer, model, saved_state)
    if bad is not None:  # checked before anything is loaded
        raise ValueError(f"{str(path)!r}: the optimizer's {bad} holds NaN or inf; resume "
                         "with a new optimizer instead (restore without one)")
    reference = model.state_dict()
    weights = {key: value.to(reference[key].dtype) if key in reference else value
               for key, value in content["state_dict"].items()}
    try:
        model.load_state_dict(weights)
    except RuntimeError as error:
        raise ValueError(f"{str(path)!r}: the weights do not fit {name}"
                         f"({content['model_config']}); was it saved by another version "
                         f"of the model? ({error})") from error
    for target, key in ((optimizer, "optimizer"), (scheduler, "scheduler")):
        if target is None:
            continue
        if content.get(key) is None:
            raise ValueError(f"{str(path)!r} holds no {key} state")
        saved = content.get(f"{key}_class")
        if saved is not None and saved != type(target).__name__:
            raise ValueError(f"{str(path)!r} holds the state of a {saved} {key}, not of a "
                             f"{type(target).__name__}; build the same kind to resume")
        try:
            target.load_state_dict(content[key])
        except (ValueError, KeyError, RuntimeError) as error:
            raise ValueError(f"{str(path)!r}: its {key} state does not fit this {key} "
                             f"({type(error).__name__}: {error})") from error
    return dict(content["metadata"])
