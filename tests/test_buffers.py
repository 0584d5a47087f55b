"""Reused buffers: the same tensors as torch.empty_like, memory handed out only when free."""

from __future__ import annotations

import pytest
import torch

from snnlab import buffers
from snnlab.neurons import LIF

BIG = (8, 128, 1000)  # 4 MB in float32: above MIN_BYTES, so it comes from the pool


def _fresh_pool(monkeypatch):
    monkeypatch.setattr(buffers, "_buffers", {})


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "transposed", "small"])
def test_empty_like_has_the_shape_dtype_and_strides_of_torch_empty_like(layout, dtype):
    if layout == "channels_last":
        x = torch.zeros(64, 32, 16, 16, dtype=dtype).contiguous(memory_format=torch.channels_last)
    elif layout == "transposed":
        x = torch.zeros(1000, 8, 128, dtype=dtype).transpose(0, 2)
    elif layout == "small":
        x = torch.zeros(3, 4, dtype=dtype)
    else:
        x = torch.zeros(BIG, dtype=dtype)
    y = buffers.empty_like(x)
    reference = torch.empty_like(x)
    assert (y.shape, y.stride(), y.dtype, y.device) == (
        reference.shape, reference.stride(), reference.dtype, reference.device)
    assert y._base is None and not y.requires_grad
    y.fill_(2.5)  # every element is writable memory of its own
    assert y.sum().item() == 2.5 * y.numel()


def test_memory_is_reused_only_once_nothing_uses_it(monkeypatch):
    _fresh_pool(monkeypatch)
    like = torch.empty(BIG)
    first = buffers.empty_like(like)
    address = first.data_ptr()
    view = first[2:5]
    del first
    second = buffers.empty_like(like)  # a view still holds the first buffer
    assert second.data_ptr() != address
    del view
    third = buffers.empty_like(like)  # now it is free again
    assert third.data_ptr() == address
    assert buffers.cached_bytes() == 2 * like.numel() * 4


def test_idle_buffers_beyond_max_idle_are_released(monkeypatch):
    _fresh_pool(monkeypatch)
    like = torch.empty(BIG)
    held = [buffers.empty_like(like) for _ in range(buffers.MAX_IDLE + 5)]
    assert buffers.cached_bytes() == (buffers.MAX_IDLE + 5) * like.numel() * 4
    del held
    kept = buffers.empty_like(like)
    assert buffers.cached_bytes() == buffers.MAX_IDLE * like.numel() * 4
    assert kept.numel() == like.numel()


def test_lif_outputs_and_gradients_survive_later_calls(monkeypatch):
    """Outputs, saved tensors and .grad keep their memory while anyone holds them."""
    _fresh_pool(monkeypatch)
    lif = LIF(0.9)
    generator = torch.Generator().manual_seed(0)
    x1 = torch.randn(BIG, generator=generator).requires_grad_()
    spk1, mem1 = lif.sequence(x1)
    (spk1.sum() + mem1.sum()).backward()
    kept = [t.detach().clone() for t in (spk1, mem1, x1.grad)]
    for _ in range(3):  # more calls, each wanting buffers of the same size
        x2 = torch.randn(BIG, generator=generator).requires_grad_()
        spk2, mem2 = lif.sequence(x2)
        (spk2.sum() + mem2.sum()).backward()
    for now, before in zip((spk1, mem1, x1.grad), kept, strict=True):
        assert torch.equal(now, before)
    mem1.add_(1.0)  # an output is a tensor of its own: in-place changes are allowed
    assert torch.equal(mem1, kept[1] + 1.0)


def test_a_training_loop_stops_taking_new_memory(monkeypatch):
    _fresh_pool(monkeypatch)
    lif = LIF(0.9)
    x = torch.randn(BIG)
    sizes = []
    for _ in range(4):
        xi = x.clone().requires_grad_()
        spk, mem = lif.sequence(xi)
        (spk.sum() + mem.sum()).backward()
        del spk, mem, xi
        sizes.append(buffers.cached_bytes())
    assert sizes[0] > 0 and sizes[1] == sizes[2] == sizes[3]
