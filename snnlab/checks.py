"""Argument checks, written once for the whole library.

Every public function of snnlab checks what it is given before it computes anything, so a
mistake ends in one clear sentence (what was wrong, what is allowed) instead of a wrong
answer or a traceback from deep inside torch. The checks live here so that the modules a
student reads keep their maths in front::

    num_steps = checks.positive_int("num_steps", num_steps)
    gain = checks.number("gain", gain, "in [0, 1]", lambda g: 0 <= g <= 1)
    data = checks.tensor("data", data)

Each returns the value it accepted (a float for ``number``, an int for ``positive_int``).
``first_non_finite`` and ``first_non_finite_state`` look for a NaN or inf in a network's
weights, gradients or optimizer state; ``fit`` asks them at every step, the checkpoints at
every save and load.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor, nn

__all__ = ["NonFiniteError", "tensor", "finite", "unit_range", "positive_int", "number",
           "positive_number", "choice", "boolean", "where", "device", "integer",
           "sequence_size", "steps", "parameter", "describe", "neuron_input", "neuron_state",
           "allocation", "images", "per_sample", "list_of", "first_non_finite",
           "first_non_finite_state"]

MAX_VALUES = 2**30  # values one call may make over time: 4 GB of float32; more is a slip


class NonFiniteError(ValueError):
    """A NaN or inf where a finite number is needed (``fit`` stops cleanly on it)."""


def tensor(name: str, value: object, *, floating: bool = True) -> Tensor:
    """``value`` must be a torch.Tensor, and floating-point unless ``floating=False``."""
    if not isinstance(value, Tensor):
        kind = type(value).__name__
        if type(value).__module__ == "numpy":
            convert = f"torch.from_numpy({name})" + (".float()" if floating else "")
            raise TypeError(f"{name} must be a torch.Tensor, got a numpy {kind}; convert it "
                            f"with {convert}")
        raise TypeError(f"{name} must be a torch.Tensor, got {kind}")
    if floating and not value.is_floating_point():
        hint = (f" (for 8-bit images 0-255 use {name}.float() / 255)"
                if value.dtype == torch.uint8 else f" (use {name}.float())")
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}{hint}")
    return value


def where(mask: Tensor) -> str:
    """Where the first True of ``mask`` is, and how many there are, in words."""
    count = int(mask.sum())
    first = tuple(int(i) for i in mask.nonzero()[0]) if count else ()
    return f"{count} of {mask.numel()} values, the first at index {first}"


def finite(name: str, value: Tensor) -> Tensor:
    """A floating tensor with no NaN or inf."""
    if value.numel() == 0 or torch.isfinite(value.sum()):  # one cheap pass: a NaN or an inf
        return value  # anywhere makes the sum NaN or inf
    bad = ~torch.isfinite(value)
    if bad.any():  # (else only the sum overflowed)
        kinds = " and ".join(kind for kind, found in (
            ("NaN", torch.isnan(value).any()), ("inf", torch.isinf(value).any())) if found)
        raise NonFiniteError(f"{name} holds {kinds}: {where(bad.cpu())}. Every value must be "
                             "a finite number")
    return value


def _all_finite(value: object) -> bool:
    """False for a floating tensor holding a NaN or inf. (For float32 and smaller, one float64
    sum: it is NaN or inf exactly when some entry is, since such entries cannot add up past
    float64's range; cheaper than ``torch.isfinite(value).all()``, and fit runs it every step.)"""
    if not torch.is_tensor(value) or not value.is_floating_point() or value.numel() == 0:
        return True
    if value.dtype == torch.float64:
        return bool(torch.isfinite(value).all())
    return bool(torch.isfinite(value.sum(dtype=torch.float64)))


def first_non_finite(tensors: Mapping[str, object]) -> str | None:
    """The name of the first floating tensor holding a NaN or inf (a network's weights, their
    gradients), or None if all are finite. Lesson 04."""
    return next((name for name, value in tensors.items() if not _all_finite(value)), None)


def first_non_finite_state(optimizer: torch.optim.Optimizer, model: nn.Module,
                           state_dict: dict | None = None) -> str | None:
    """Where the optimizer's state (say Adam's running averages) holds a NaN or inf, as
    ``"exp_avg_sq of fc1.weight"``, or None if all is finite. ``state_dict``: a saved state of
    this optimizer to look at instead of its own. Lesson 04."""
    # its own state is keyed by the parameters themselves, a saved one by their places
    states = optimizer.state if state_dict is None else state_dict.get("state", {})
    for key, state in states.items():
        bad = next((entry for entry, value in state.items() if not _all_finite(value)), None)
        if bad is None:
            continue
        if torch.is_tensor(key):  # name the parameter (only now: fit asks this every step)
            param, unnamed = key, "a parameter"
        else:
            params = [p for group in optimizer.param_groups for p in group["params"]]
            param = params[key] if isinstance(key, int) and key < len(params) else None
            unnamed = f"parameter {key}"
        name = next((name for name, p in model.named_parameters() if p is param), unnamed)
        return f"{bad} of {name}"
    return None


def unit_range(name: str, value: Tensor) -> Tensor:
    """A finite floating tensor with every value in [0, 1] (pixels, probabilities)."""
    finite(name, value)
    outside = (value < 0) | (value > 1)
    if outside.any():
        raise ValueError(f"{name} must lie in [0, 1], found values in "
                         f"[{value.min().item():g}, {value.max().item():g}] "
                         f"({where(outside.cpu())} outside)")
    return value


def integer(name: str, value: object) -> int:
    """An int, of any sign (a bool is not an int here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    return value


def positive_int(name: str, value: object) -> int:
    """An int >= 1 (a bool is not an int here; a numpy integer is)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int (>= 1), got {value}")
    return int(value)


def number(name: str, value: object, allowed: str, ok: Callable[[float], bool]) -> float:
    """A real number (int or float, not bool) for which ``ok`` holds; ``allowed`` says which
    in words. NaN never passes, since every comparison with it is False."""
    if isinstance(value, Tensor) and value.numel() == 1 and value.is_floating_point():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number {allowed}, got {type(value).__name__}")
    if not ok(float(value)):
        raise ValueError(f"{name} must be {allowed}, got {value}")
    return float(value)


def positive_number(name: str, value: object) -> float:
    """A finite number > 0."""
    return number(name, value, "> 0 and finite", lambda v: 0 < v < math.inf)


def choice(name: str, value: object, options: Sequence[object]) -> object:
    """One of ``options``."""
    if value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")
    return value


def boolean(name: str, value: object) -> bool:
    """True or False, nothing else (``train="no"`` would otherwise count as True)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return value


def device(device: str | torch.device | None, default: torch.device,
           name: str = "device") -> torch.device:
    """A usable torch.device (``default`` for None): a CUDA one only where CUDA is. ``name``
    is what the caller calls it (a command says ``--device``)."""
    if device is None:
        return default
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"{name} must be 'cpu', 'cuda' or 'cuda:N', got {device!r}") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name} {str(device)!r} asked for, but this machine has no CUDA GPU; "
                         f"use {name} 'cpu' instead")
    return device


def sequence_size(name: str, value: Tensor, num_steps: int) -> None:
    """Refuse ``num_steps`` copies of ``value`` over time ([num_steps, *value.shape]) that
    could not fit in memory, before allocating them, rather than crash."""
    allocation(f"num_steps={num_steps} for {name} of shape {tuple(value.shape)}",
               (num_steps, *value.shape), "use fewer steps or less data", value.dtype)


def allocation(what: str, shape: Sequence[int], fix: str,
               dtype: torch.dtype = torch.float32) -> None:
    """Refuse, before allocating it, a tensor of ``shape`` with more than ``MAX_VALUES``
    values: one sentence saying how much memory ``what`` would need, and ``fix``, rather
    than an allocator's crash (or minutes of swapping)."""
    count = math.prod(shape)
    if count > MAX_VALUES:
        size = count * torch.empty((), dtype=dtype).element_size() / 1024**3
        raise ValueError(f"{what} makes a tensor of shape {tuple(shape)}, {count:.3g} values "
                         f"({size:.1f} GB of {dtype}), more than the {MAX_VALUES:.3g} one call "
                         f"may make; {fix}")


def steps(name: str, value: object) -> tuple[Tensor, ...]:
    """The steps of a sequence given one by one: a non-empty list or tuple of floating
    tensors that share one shape, dtype and device."""
    if not isinstance(value, (list, tuple)) or len(value) == 0:
        raise ValueError(f"{name} must be a tensor or a non-empty list of step tensors, got "
                         f"{type(value).__name__} of length {len(value)}"
                         if isinstance(value, (list, tuple)) else
                         f"{name} must be a list of step tensors, got {type(value).__name__}")
    first = tensor(f"{name}[0]", value[0])
    for t, step in enumerate(value):
        tensor(f"{name}[{t}]", step)
        if (step.shape, step.dtype, step.device) != (first.shape, first.dtype, first.device):
            raise ValueError(f"the steps of {name} must share one shape, dtype and device: "
                             f"step 0 is {tuple(first.shape)} {first.dtype} on {first.device}, "
                             f"step {t} is {tuple(step.shape)} {step.dtype} on {step.device}")
    return tuple(value)


def parameter(name: str, value: float | Tensor, allowed: str,
              ok: Callable[[Tensor], Tensor]) -> Tensor:
    """A neuron parameter (beta, threshold) as a tensor for which ``ok`` holds everywhere: a
    number becomes a 0-dim tensor, a tensor is copied."""
    if isinstance(value, Tensor):
        value = tensor(name, value).detach().clone()
    else:
        value = torch.tensor(number(name, value, allowed, lambda v: True))
    if value.numel() == 0 or not ok(value).all():
        got = describe(value) if value.numel() else "an empty tensor"
        raise ValueError(f"{name} must be {allowed}, got {got}")
    return value


def neuron_input(name: str, value: object, params: Mapping[str, Tensor],
                 time_first: bool = False) -> Tensor:
    """A finite floating tensor, ``[batch, ...]`` (or ``[num_steps >= 1, batch, ...]`` with
    ``time_first``), to which every neuron parameter in ``params`` (beta, threshold...)
    broadcasts: one value for all neurons, or one per neuron."""
    finite(name, tensor(name, value))
    if time_first and (value.dim() == 0 or len(value) == 0):
        raise ValueError(f"{name} must be time-first, [num_steps >= 1, batch, ...], got "
                         f"shape {tuple(value.shape)}")
    neuron_shape = value.shape[1:] if time_first else value.shape
    for param_name, param in params.items():
        try:
            fits = torch.broadcast_shapes(param.shape, neuron_shape) == neuron_shape
        except RuntimeError:
            fits = False
        if not fits:
            raise ValueError(f"{param_name} of shape {tuple(param.shape)} does not "
                             f"broadcast to {name} of shape {tuple(neuron_shape)}")
    return value


def neuron_state(name: str, value: object, input: Tensor) -> Tensor:
    """A state variable passed back into a neuron (its membrane, its synaptic current...):
    a finite floating tensor with the input's shape and device."""
    finite(name, tensor(name, value))
    if value.shape != input.shape or value.device != input.device:
        raise ValueError(f"{name} must have the input's shape and device, got {name} "
                         f"{tuple(value.shape)} on {value.device} for input "
                         f"{tuple(input.shape)} on {input.device}")
    return value


def describe(value: Tensor) -> str:
    """A short text for a parameter: the number itself, or the range for per-neuron values."""
    value = value.detach()
    if value.numel() == 1:
        return f"{value.item():g}"
    return f"{tuple(value.shape)} values in [{value.min().item():g}, {value.max().item():g}]"


def images(name: str, value: object) -> Tensor:
    """A batch of B >= 1 images ``[B, 1, H, W]`` or ``[B, H, W]``, values in [0, 1]."""
    tensor(name, value)
    shape = tuple(value.shape)
    if value.dim() in (3, 4) and (value.dim() == 3 or shape[1] == 1) and 0 not in shape:
        return unit_range(name, value)
    hint = ""
    if 0 in shape[:1]:
        hint = ": an empty batch; give at least one image"
    elif value.dim() == 2 and shape[1] > 0 and math.isqrt(shape[1]) ** 2 == shape[1]:
        side = math.isqrt(shape[1])
        hint = (f": flat vectors of {shape[1]} pixels; give them their image shape, "
                f"{name}.view(-1, 1, {side}, {side})")
    elif value.dim() == 2:
        hint = f": one image? Give it a batch dimension, {name}.view(1, 1, {shape[0]}, {shape[1]})"
    elif value.dim() == 4 and shape[1] != 1:
        hint = f": {shape[1]} channels, but these are grey images with 1"
    raise ValueError(f"{name} must be a batch of images [B, 1, H, W] or [B, H, W] with B >= 1, "
                     f"got shape {shape}{hint}")


def per_sample(name: str, value: object, batch: int) -> Tensor:
    """One number for all samples, or one per sample ``[batch]``: a finite float32 ``[batch]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Tensor)):
        raise TypeError(f"{name} must be a number or a tensor of {batch} numbers (one per "
                        f"sample), got {type(value).__name__}")
    values = torch.as_tensor(value, dtype=torch.float32)
    if values.dim() > 1 or values.numel() not in (1, batch):
        raise ValueError(f"{name} must be a number or one per sample, a tensor [{batch}] "
                         f"(the batch has {batch}), got shape {tuple(values.shape)}")
    return finite(name, values).expand(batch)


def list_of(name: str, value: object, kind: type, made_by: str) -> list:
    """A list or tuple whose every item is a ``kind`` (what ``made_by`` returns)."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list of {kind.__name__} as {made_by} returns it, "
                        f"got {type(value).__name__}")
    for i, item in enumerate(value):
        if not isinstance(item, kind):
            raise TypeError(f"{name} must be a list of {kind.__name__} as {made_by} returns "
                            f"it, but {name}[{i}] is {type(item).__name__}")
    return list(value)
