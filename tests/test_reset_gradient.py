"""lif_loop and ResetNet: detached, the values and gradients of snnlab's LIF and FCSNN; not
detached, the same values and the gradient of the chain rule through the reset."""

from __future__ import annotations

import pytest
import torch

from snnlab import models, surrogate
from snnlab.course.exercises.lesson03 import bptt_grad_w
from snnlab.course.reset_gradient import ResetNet, compare_reset_gradient, lif_loop
from snnlab.neurons import LIF


def test_detached_lif_loop_is_snnlabs_lif_in_values_and_gradients():
    gen = torch.Generator().manual_seed(0)
    current = (1.5 * torch.rand(12, 4, 6, generator=gen)).requires_grad_()
    upstream = torch.randn(12, 4, 6, generator=gen)
    spikes, membrane = lif_loop(current, 0.9, 1.0, surrogate.atan(), detach_reset=True)
    (ours,) = torch.autograd.grad((spikes * upstream).sum() + membrane.sum(), current)
    ref_spikes, ref_membrane = LIF(0.9).sequence(current)
    (ref,) = torch.autograd.grad((ref_spikes * upstream).sum() + ref_membrane.sum(), current)
    assert spikes.sum() > 0
    assert torch.equal(spikes, ref_spikes) and torch.allclose(membrane, ref_membrane, atol=1e-6)
    assert torch.allclose(ours, ref, atol=1e-5)


def test_the_reset_gradient_is_the_chain_rule_of_the_exercise():
    x = torch.tensor([1.5, 0.4, 1.2], dtype=torch.float64)
    w = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    spike_fn = surrogate.atan(2.0)
    for detach in (False, True):
        spikes, _ = lif_loop((w * x).view(3, 1, 1), 0.8, 1.2, spike_fn, detach_reset=detach)
        (grad,) = torch.autograd.grad(spikes.sum(), w)
        expected = bptt_grad_w(x, 1.0, 0.8, 1.2, spike_fn.derivative, reset_path=not detach)
        assert grad.item() == pytest.approx(expected, rel=1e-12)
    assert bptt_grad_w(x, 1.0, 0.8, 1.2, spike_fn.derivative) != pytest.approx(
        bptt_grad_w(x, 1.0, 0.8, 1.2, spike_fn.derivative, reset_path=False))


def test_detached_reset_net_is_fcsnn_and_the_other_has_the_same_values():
    torch.manual_seed(0)
    fcsnn = models.FCSNN(num_hidden=100, num_steps=10)
    images = torch.rand(5, 1, 28, 28)
    nets = {}
    for detach in (True, False):
        nets[detach] = ResetNet(detach_reset=detach)
        nets[detach].load_state_dict({k: v for k, v in fcsnn.state_dict().items()
                                      if k.startswith("fc")})
    ref = fcsnn(images)
    grads = {}
    for detach, net in nets.items():
        spikes, membrane = net(images)
        assert torch.equal(spikes, ref[0]) and torch.allclose(membrane, ref[1], atol=1e-5)
        (grads[detach],) = torch.autograd.grad(membrane.sum(), net.fc1.weight)
    (ref_grad,) = torch.autograd.grad(ref[1].sum(), fcsnn.fc1.weight)
    assert torch.allclose(grads[True], ref_grad, atol=1e-5)
    assert not torch.allclose(grads[False], ref_grad, atol=1e-5)


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="detach_reset must be True or False"):
        ResetNet(detach_reset="yes")
    with pytest.raises(ValueError, match="time-first"):
        lif_loop(torch.ones(3), 0.9, 1.0, surrogate.atan())
    with pytest.raises(ValueError, match="at least one seed"):
        compare_reset_gradient([], epochs=1, num_train=10, num_test=10)
