"""The fast path's reused memory: the same tensors as torch.empty_like, handed out only when
free, bounded in total, released when no longer asked for, and switchable off."""

from __future__ import annotations

import pytest
import torch

from snnlab import bptt, models
from snnlab.neurons import LIF

BIG = (8, 128, 1000)  # 4 MB in float32: above MIN_BYTES, so it comes from the pool
BIG_BYTES = 8 * 128 * 1000 * 4


@pytest.fixture(autouse=True)
def fresh_pool(monkeypatch):
    monkeypatch.setattr(bptt, "_pool", [])
    monkeypatch.setattr(bptt, "REUSE_MEMORY", True)


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
    y = bptt._empty_like(x)
    reference = torch.empty_like(x)
    assert (y.shape, y.stride(), y.dtype, y.device) == (
        reference.shape, reference.stride(), reference.dtype, reference.device)
    assert y._base is None and not y.requires_grad
    y.fill_(2.5)  # every element is writable memory of its own
    assert y.sum().item() == 2.5 * y.numel()


def test_memory_is_reused_only_once_nothing_uses_it():
    like = torch.empty(BIG)
    first = bptt._empty_like(like)
    address = first.data_ptr()
    view = first[2:5]
    del first
    second = bptt._empty_like(like)  # a view still holds the first buffer
    assert second.data_ptr() != address
    del view
    third = bptt._empty_like(like)  # now it is free again
    assert third.data_ptr() == address
    assert bptt.cached_bytes() == 2 * BIG_BYTES


def test_the_pool_is_bounded_in_total_bytes(monkeypatch):
    monkeypatch.setattr(bptt, "MAX_CACHED_BYTES", 3 * BIG_BYTES)
    like = torch.empty(BIG)
    held = [bptt._empty_like(like) for _ in range(6)]  # in use: all kept while held
    assert bptt.cached_bytes() == 6 * BIG_BYTES
    del held
    kept = bptt._empty_like(like)  # idle ones beyond the bound are released
    assert bptt.cached_bytes() == 3 * BIG_BYTES
    assert kept.numel() == like.numel()


def test_sizes_no_longer_requested_are_released():
    old = bptt._empty_like(torch.empty(BIG))
    del old
    other = torch.empty(4, 128, 1000)  # another size, asked for again and again
    for _ in range(bptt.FORGET_AFTER + 2):
        bptt._empty_like(other)
    assert bptt.cached_bytes() == 4 * 128 * 1000 * 4  # only the size still in use


def test_the_switch_turns_reuse_off(monkeypatch):
    monkeypatch.setattr(bptt, "REUSE_MEMORY", False)
    lif = LIF(0.9)
    spk, mem = lif.sequence(torch.randn(BIG))
    assert bptt.cached_bytes() == 0
    monkeypatch.setattr(bptt, "REUSE_MEMORY", True)
    spk2, mem2 = lif.sequence(torch.randn(BIG))
    assert bptt.cached_bytes() == 2 * BIG_BYTES


def test_the_step_api_never_touches_the_pool():
    lif = LIF(0.9)
    mem = None
    for x in torch.randn(BIG):
        spk, mem = lif(x, mem)
    assert bptt.cached_bytes() == 0


def test_lif_outputs_and_gradients_survive_later_calls():
    """Outputs, saved tensors and .grad keep their memory while anyone holds them."""
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


def test_a_training_loop_stops_taking_new_memory():
    lif = LIF(0.9)
    x = torch.randn(BIG)
    sizes = []
    for _ in range(4):
        xi = x.clone().requires_grad_()
        spk, mem = lif.sequence(xi)
        (spk.sum() + mem.sum()).backward()
        del spk, mem, xi
        sizes.append(bptt.cached_bytes())
    assert sizes[0] > 0 and sizes[1] == sizes[2] == sizes[3]


def test_forward_steps_never_touches_the_pool_and_forward_does():
    model = models.FCSNN()  # hidden layer [25, 64, 1000]: 6.4 MB, above MIN_BYTES
    x = torch.rand(64, 784)
    model.forward_steps(x)
    assert bptt.cached_bytes() == 0
    model(x)
    assert bptt.cached_bytes() > 0
