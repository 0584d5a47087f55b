"""RecurrentLIF (lesson 07): the equations, memory through V, and RecurrentSNN's two paths."""

import pytest
import torch

from snnlab import models
from snnlab.neurons import LIF
from snnlab.recurrent import RecurrentLIF


def layer_with(weight, beta=0.5, threshold=1.0):
    layer = RecurrentLIF(len(weight), beta, threshold).double()
    with torch.no_grad():
        layer.recurrent.weight.copy_(torch.as_tensor(weight, dtype=torch.float64))
    return layer


def test_equations_by_hand():
    # neuron 0 gets input; neuron 1 gets only neuron 0's spikes, weight 1.5, one step later
    layer = layer_with([[0.0, 0.0], [1.5, 0.0]])
    current = torch.tensor([[[1.2, 0.0]], [[0.0, 0.0]], [[0.0, 0.0]]], dtype=torch.float64)
    spk, mem = layer.sequence(current)
    # t0: U = (1.2, 0) -> S = (1, 0)
    # t1: U0 = 0.6 + 0 - 1 = -0.4 ; U1 = 0 + 1.5 * S0[t0] = 1.5 -> S = (0, 1)
    # t2: U0 = -0.2 ; U1 = 0.75 + 0 - 1 (reset) = -0.25 -> S = (0, 0)
    torch.testing.assert_close(mem[:, 0], torch.tensor(
        [[1.2, 0.0], [-0.4, 1.5], [-0.2, -0.25]], dtype=torch.float64))
    assert spk[:, 0].tolist() == [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]


def reference(layer, current):
    """The docstring's equations, written out with plain tensors (float64)."""
    weight, beta, theta = layer.recurrent.weight, layer.lif.beta, layer.lif.threshold
    mem = torch.zeros_like(current[0])
    spk = torch.zeros_like(current[0])
    spikes, membranes = [], []
    for input in current:
        reset = (mem > theta).to(mem.dtype)
        mem = beta * mem + input + spk @ weight.T - reset * theta
        spk = layer.lif.surrogate(mem - theta)
        spikes.append(spk)
        membranes.append(mem)
    return torch.stack(spikes), torch.stack(membranes)


def values_and_grads(run, layer, current):
    current = current.detach().clone().requires_grad_()
    layer.zero_grad()
    spk, mem = run(current)
    generator = torch.Generator().manual_seed(1)
    w_spk, w_mem = torch.randn(2, *spk.shape, generator=generator, dtype=spk.dtype)
    ((spk * w_spk).sum() + (mem * w_mem).sum()).backward()
    return spk.detach(), mem.detach(), current.grad, layer.recurrent.weight.grad.clone()


def test_sequence_matches_the_equations_in_values_and_gradients():
    torch.manual_seed(0)
    layer = RecurrentLIF(6, beta=0.8).double()
    with torch.no_grad():
        layer.recurrent.weight.mul_(3)
    current = torch.randn(15, 4, 6, dtype=torch.float64) * 0.8 + 0.4
    ours = values_and_grads(layer.sequence, layer, current)
    theirs = values_and_grads(lambda c: reference(layer, c), layer, current)
    assert ours[0].sum() > 10  # the case has spikes
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b)


def test_without_recurrent_weights_it_is_a_lif():
    layer = layer_with(torch.zeros(5, 5), beta=0.7)
    lif = LIF(0.7).double()
    current = torch.randn(12, 3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    ours = values_and_grads(layer.sequence, layer, current)[:3]
    current = current.clone().requires_grad_()
    spk, mem = lif.sequence(current)
    generator = torch.Generator().manual_seed(1)
    w_spk, w_mem = torch.randn(2, *spk.shape, generator=generator, dtype=spk.dtype)
    ((spk * w_spk).sum() + (mem * w_mem).sum()).backward()
    for a, b in zip(ours, (spk, mem, current.grad), strict=True):
        torch.testing.assert_close(a, b.detach())


def test_memory_through_v_and_the_gradient_that_follows_it():
    # beta = 0: the membrane forgets at once; only V can carry step 0's input to step 3
    loop = layer_with([[0.0, 0.0, 1.5], [1.5, 0.0, 0.0], [0.0, 1.5, 0.0]], beta=0.0)
    current = torch.zeros(4, 1, 3, dtype=torch.float64)
    current[0, 0, 0] = 2.0
    current.requires_grad_()
    spk, _ = loop.sequence(current)
    assert spk[:, 0].argmax(-1).tolist() == [0, 1, 2, 0]  # the spike goes round the ring
    spk[3, 0, 0].backward()
    assert current.grad[0, 0, 0] > 0
    cut = layer_with(torch.zeros(3, 3), beta=0.0)
    current.grad = None
    spk, _ = cut.sequence(current)
    assert spk[1:].sum() == 0
    spk[3, 0, 0].backward()
    assert current.grad[0].abs().sum() == 0


def _assert_fast_path_equals_step_loop(net, x, gain):
    """forward and forward_steps: the same spikes, membranes and parameter gradients."""
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(gain)  # enough current to spike in every layer
    results = []
    for forward in (net.forward, net.forward_steps):
        net.zero_grad()
        spk, mem = forward(x)
        (spk.sum() + (mem ** 2).sum()).backward()
        results.append((spk, mem, *(p.grad.clone() for p in net.parameters())))
    assert results[0][0].sum() > 0
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b)


def test_recurrent_snn_forward_equals_forward_steps():
    torch.manual_seed(0)
    for collapse in (False, True):
        net = models.RecurrentSNN(num_inputs=2 * 6 * 6, num_hidden=20, collapse_time=collapse)
        x = (torch.rand(9, 3, 2, 6, 6, dtype=torch.float64) < 0.3).double()
        _assert_fast_path_equals_step_loop(net.double(), x, gain=5)


def test_collapsed_network_sees_only_the_time_average():
    torch.manual_seed(0)
    net = models.RecurrentSNN(num_inputs=2 * 5 * 5, num_hidden=10, collapse_time=True)
    x = (torch.rand(8, 2, 2, 5, 5) < 0.3).float()
    shuffled = x[torch.randperm(8)]
    torch.testing.assert_close(net(x)[1], net(shuffled)[1])
    net.collapse_time = False
    assert not torch.allclose(net(x)[1], net(shuffled)[1])


def test_event_csnn_forward_equals_forward_steps():
    torch.manual_seed(0)
    net = models.EventCSNN(beta=0.6, size=20).double()
    x = (torch.rand(5, 2, 2, 20, 20, dtype=torch.float64) < 0.3).double()
    _assert_fast_path_equals_step_loop(net, x, gain=4)


def test_errors_name_the_argument():
    layer = RecurrentLIF(4, beta=0.5)
    with pytest.raises(ValueError, match="input_seq"):
        layer.sequence(torch.zeros(3, 2, 5))
    with pytest.raises(ValueError, match="spk"):
        layer(torch.zeros(2, 4), torch.zeros(3, 4))
    with pytest.raises(ValueError, match="num_neurons"):
        layer(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="beta"):
        RecurrentLIF(4, beta=1.5)
    net = models.RecurrentSNN()
    with pytest.raises(ValueError, match="time-first"):
        net(torch.zeros(2, 34, 34, 2, 20))
    with pytest.raises(ValueError, match="single step"):
        net(torch.zeros(4, 2, 34, 34))
    with pytest.raises(ValueError, match="num_inputs"):
        models.RecurrentSNN(num_inputs=100)


def test_float64_input_is_refused_with_the_fix_as_models_do():
    layer = RecurrentLIF(4, beta=0.5)
    x = torch.rand(3, 2, 4, dtype=torch.float64)
    fix = (r"input_seq is torch.float64 but the recurrent weights V are torch.float32; pass "
           r"input_seq.to\(torch.float32\) \(or convert the layer: layer.to\(torch.float64\)\)")
    with pytest.raises(TypeError, match=fix):
        layer.sequence(x)
    with pytest.raises(TypeError, match=r"input is torch.float64 but the recurrent weights"):
        layer(x[0])
    # either fix works, and both compute the same spikes
    torch.manual_seed(0)
    layer = RecurrentLIF(4, beta=0.5)
    with torch.no_grad():
        layer.recurrent.weight.mul_(4)
    x = torch.rand(6, 2, 4) * 2
    spikes32, mem32 = layer.sequence(x)
    spikes64, mem64 = layer.double().sequence(x.double())
    assert spikes64.dtype == torch.float64 and spikes32.sum() > 0
    assert torch.equal(spikes64.float(), spikes32)
    assert torch.allclose(mem64.float(), mem32, atol=1e-6)


def test_bool_spikes_are_refused_as_lif_refuses_bool_input():
    layer = RecurrentLIF(4, beta=0.5)
    with pytest.raises(TypeError, match=r"spk must be a floating-point tensor, got dtype "
                                        r"torch.bool \(use spk.float\(\)\)"):
        layer(torch.rand(2, 4), torch.zeros(2, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match=r"input must be a floating-point tensor, got dtype "
                                        r"torch.bool \(use input.float\(\)\)"):
        LIF(0.5)(torch.zeros(2, 4, dtype=torch.bool))  # (LIF's own message, for comparison)
    with pytest.raises(ValueError, match=r"mem \(the previous membrane\) must have the input's "
                                         r"shape, dtype and device, \(2, 4\) torch.float32 on "
                                         r"cpu; got \(2, 4\) torch.float64 on cpu"):
        layer(torch.rand(2, 4), None, torch.zeros(2, 4, dtype=torch.float64))
