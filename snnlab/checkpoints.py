"""Checkpoints: a trained network on disk, with what is needed to rebuild it (lesson 04).

A checkpoint holds the network's class and constructor arguments (``model.config``), its
weights, optionally the optimizer's and scheduler's state (to resume training), and plain
metadata (epoch, metrics). Three promises:

- a write is atomic: a temporary file renamed over the target at the end, so a failed or
  interrupted save (Ctrl-C, a full disk) leaves the previous checkpoint as it was;
- a network with a NaN or inf weight is never saved, and never loaded as trained;
- a file that is not a checkpoint of the same network (a plain ``state_dict``, another
  architecture) is never overwritten: saving over it raises ``FileExistsError``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from torch import Tensor, nn

import snnlab

__all__ = ["save_checkpoint", "load_checkpoint", "restore", "checkpoint_info",
           "check_writable", "first_non_finite"]

FORMAT = "snnlab-checkpoint-1"
_PLAIN_TYPES = (str, int, float, bool, type(None))


def _model_classes() -> dict[str, type[nn.Module]]:
    """Every network a checkpoint can hold, by class name."""
    from snnlab import models

    return {cls.__name__: cls for cls in models.MODELS}


def first_non_finite(tensors: dict[str, Tensor]) -> str | None:
    """The name of the first floating tensor holding a NaN or inf, or None if all are finite."""
    for name, value in tensors.items():
        if value.is_floating_point() and not torch.isfinite(value).all():
            return name
    return None


def check_writable(path: str | os.PathLike, model: nn.Module) -> Path:
    """Check, before any training, that a checkpoint of ``model`` can be written to ``path``.

    The folder must exist or be creatable and be writable; ``path`` must not be a folder, nor
    a file that is something other than an snnlab checkpoint of the same network class.
    """
    path = Path(path)
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
        except ValueError:
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
    """
    classes = _model_classes()
    name = type(model).__name__
    if classes.get(name) is not type(model):
        raise TypeError(f"save_checkpoint: model must be one of the snnlab.models networks "
                        f"{sorted(classes)}, got {name}")
    _check_plain(metadata, "metadata")
    state = model.state_dict()
    bad = first_non_finite(state)
    if bad is not None:
        raise ValueError(f"save_checkpoint: {name}'s weight {bad!r} holds NaN or inf; a broken "
                         f"network is never saved (the training diverged: lower the learning "
                         f"rate, or keep the last good checkpoint)")
    path = check_writable(path, model)
    weights = {key: (value.detach().to("cpu", dtype) if value.is_floating_point()
                     else value.detach().cpu()) for key, value in state.items()}
    content = {
        "format": FORMAT,
        "snnlab_version": snnlab.__version__,
        "model_class": name,
        "model_config": dict(model.config),
        "state_dict": weights,
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "metadata": metadata,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(content, file)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_name, 0o666 & ~umask)  # mkstemp's file is private; a checkpoint is not
        os.replace(temp_name, path)  # atomic on POSIX and Windows
    except BaseException:  # including KeyboardInterrupt: never leave the temp file behind
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path


def _read(path: str | os.PathLike) -> dict:
    path = Path(path)
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
    return content


def checkpoint_info(path: str | os.PathLike) -> dict:
    """What a checkpoint holds, without building the model: class, config, version, metadata."""
    content = _read(path)
    return {"model_class": content["model_class"], "model_config": content["model_config"],
            "snnlab_version": content["snnlab_version"], **content["metadata"]}


def load_checkpoint(path: str | os.PathLike, *, model_class: type[nn.Module] | str | None = None,
                    device: str | torch.device | None = None) -> nn.Module:
    """Rebuild the saved network, load its weights (as float32) and return it in eval mode.

    ``model_class``: the architecture you expect (class or name); a checkpoint of another
    one raises ValueError. ``device``: where to put the model (default: the CPU).
    """
    content = _read(path)
    classes = _model_classes()
    name = content["model_class"]
    expected = model_class if isinstance(model_class, str | type(None)) else model_class.__name__
    if expected is not None and expected != name:
        raise ValueError(f"{str(path)!r} holds a {name}, not a {expected}")
    if name not in classes:
        raise ValueError(f"{str(path)!r} holds a {name!r}, which snnlab.models does not have "
                         f"(known: {sorted(classes)})")
    model = classes[name](**content["model_config"])
    restore(path, model, content=content)
    if device is not None:
        model.to(device)
    return model.eval()


def restore(path: str | os.PathLike, model: nn.Module,
            optimizer: torch.optim.Optimizer | None = None,
            scheduler: torch.optim.lr_scheduler.LRScheduler | None = None, *,
            content: dict | None = None) -> dict:
    """Load a checkpoint's weights (and optimizer, scheduler state) into existing objects, to
    resume training; return its metadata. The checkpoint must hold ``model``'s class."""
    content = _read(path) if content is None else content
    name = content["model_class"]
    if name != type(model).__name__:
        raise ValueError(f"{str(path)!r} holds a {name}, not a {type(model).__name__}")
    bad = first_non_finite(content["state_dict"])
    if bad is not None:
        raise ValueError(f"{str(path)!r}: the weight {bad!r} holds NaN or inf, so this is a "
                         "broken network, not a trained one; delete the file and train again")
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
        if target is not None:
            if content.get(key) is None:
                raise ValueError(f"{str(path)!r} holds no {key} state")
            target.load_state_dict(content[key])
    return dict(content["metadata"])
