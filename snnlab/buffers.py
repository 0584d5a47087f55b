"""Reusable memory for the neurons' whole-sequence tensors (CPU only).

``LIF.sequence`` returns tensors that span all time steps, ``[num_steps, batch, ...]``: at
T=100 and 128 x 1000 neurons, 51 MB each. On Linux, memory that large comes straight from
the kernel, and goes straight back to it when the tensor is freed. Every new one then arrives
as fresh pages, which the kernel must fault in and zero one 4 kB page at a time: about 9 ms for
51 MB on the course's CPU, as long as the LIF layer's whole forward pass. A training loop pays
it again at every step, for every such tensor.

So the neurons take those tensors from here instead. A buffer is a ``bytearray`` that this
module keeps; a tensor made on it with ``torch.frombuffer`` holds a reference to it for as
long as the tensor's memory lives (views, autograd's saved tensors and ``.grad`` included).
A buffer whose only reference is ours is free, and the next request of the same size gets it
back: its pages are already there. Nothing is ever handed out twice while in use, so the
numbers cannot change; only the time does.

Limits: CPU tensors of at least 1 MB (small ones are cheap, and a GPU has its own caching
allocator); at most ``MAX_IDLE`` free buffers of one size are kept, so memory a program held
on to once (say, a list of 1,000 membranes) is released once it lets go of it.
"""

from __future__ import annotations

import math
import sys
import threading

import torch
from torch import Tensor

__all__ = ["empty_like", "empty_strided", "cached_bytes", "MIN_BYTES", "MAX_IDLE"]

MIN_BYTES = 1 << 20  # smaller tensors come from torch.empty as usual
MAX_IDLE = 16  # free buffers kept per size

_buffers: dict[int, list[bytearray]] = {}  # size in bytes -> the buffers of that size
_lock = threading.Lock()


def empty_like(x: Tensor) -> Tensor:
    """Like ``torch.empty_like(x)`` (same shape, dtype, device and memory layout)."""
    layout = torch.empty_like(x, device="meta")  # the strides empty_like would choose
    return empty_strided(x, tuple(layout.shape), layout.stride())


def empty_strided(like: Tensor, shape: tuple[int, ...], strides: tuple[int, ...]) -> Tensor:
    """Like ``like.new_empty_strided(shape, strides)``: uninitialised, in ``like``'s dtype."""
    nbytes = math.prod(shape) * like.element_size()  # the strides describe a dense layout
    if like.device.type != "cpu" or nbytes < MIN_BYTES:
        return like.new_empty_strided(shape, strides)
    with _lock:
        buffer = _free_buffer(nbytes)
        memory = torch.frombuffer(buffer, dtype=like.dtype).untyped_storage()  # refers to buffer
    # a tensor of its own on that memory (not a view, so autograd treats it like any other)
    return torch.empty(0, dtype=like.dtype).set_(memory, 0, shape, strides)


def _free_buffer(nbytes: int) -> bytearray:
    """A buffer of ``nbytes`` that no tensor uses, new if none is; drops idle extras."""
    same_size = _buffers.setdefault(nbytes, [])
    # A buffer is free when its references are only our list's and getrefcount's argument.
    free = [i for i in range(len(same_size)) if sys.getrefcount(same_size[i]) == 2]
    for i in reversed(free[MAX_IDLE:]):  # keep at most MAX_IDLE idle buffers of this size
        del same_size[i]
    if free:
        return same_size[free[0]]
    buffer = bytearray(nbytes)
    same_size.append(buffer)
    return buffer


def cached_bytes() -> int:
    """The memory the module holds, in use or free (for tests and the curious)."""
    with _lock:
        return sum(size * len(buffers) for size, buffers in _buffers.items())
