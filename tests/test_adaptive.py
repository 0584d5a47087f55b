"""ALIF: by hand, b = 0 is LIF, adaptation, its bound, sequence == step loop. Lesson 08."""

import pytest
import torch

from snnlab import surrogate
from snnlab.adaptive import ALIF, ALIFState
from snnlab.neurons import LIF, unroll

RESETS = ["subtract", "zero", "none"]


def random_input(*shape, seed=0, scale=0.6, shift=0.3):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=torch.float64) * scale + shift


def values_and_grads(run, neuron, input_seq, seed=1):
    generator = torch.Generator().manual_seed(seed)
    input_seq = input_seq.detach().clone().requires_grad_()
    neuron.zero_grad()
    spk, mem = run(neuron, input_seq)
    weight_spk = torch.randn(spk.shape, generator=generator, dtype=spk.dtype)
    weight_mem = torch.randn(spk.shape, generator=generator, dtype=spk.dtype)
    ((spk * weight_spk).sum() + (mem * weight_mem).sum()).backward()
    params = {name: p.grad.clone() for name, p in neuron.named_parameters()}
    return spk.detach(), mem.detach(), input_seq.grad, params


def alif_loop(neuron, x):
    spk, state = unroll(neuron, x)
    return spk, state.mem


def alif_sequence(neuron, x):
    spk, state = neuron.sequence(x)
    return spk, state.mem


def lif_loop(neuron, x):
    return unroll(neuron, x)


def test_alif_by_hand():
    alif = ALIF(beta=1.0, threshold=1.0, rho=0.5, b=0.5).double()
    spk, state = unroll(alif, torch.tensor([[1.5], [0.0], [1.2], [0.0]], dtype=torch.float64))
    # t0: U 1.5 > theta 1: spike. t1: a = 1, theta = 1.5, U = 1.5 - 1 (theta[0]) = 0.5.
    # t2: a = 0.5, theta = 1.25, U = 0.5 + 1.2 = 1.7: spike. t3: a = 0.25 + 1 = 1.25,
    # U = 1.7 - 1.25 (the threshold it crossed) = 0.45
    assert spk.flatten().tolist() == [1.0, 0.0, 1.0, 0.0]
    torch.testing.assert_close(state.mem.flatten(), torch.tensor([1.5, 0.5, 1.7, 0.45]).double())
    torch.testing.assert_close(state.a.flatten(), torch.tensor([0.0, 1.0, 0.5, 1.25]).double())
    torch.testing.assert_close(alif.threshold_at(state.a).flatten(),
                               torch.tensor([1.0, 1.5, 1.25, 1.625]).double())


@pytest.mark.parametrize("reset", RESETS)
def test_b_zero_is_lif_exactly(reset):
    beta = torch.linspace(0.5, 1.0, 7)
    alif = ALIF(beta, 0.8, rho=0.9, b=0.0, reset=reset, learn_beta=True,
                learn_threshold=True).double()
    lif = LIF(beta, 0.8, reset, learn_beta=True, learn_threshold=True).double()
    x = random_input(40, 4, 7)
    spk1, mem1, grad1, params1 = values_and_grads(alif_loop, alif, x)
    spk2, mem2, grad2, params2 = values_and_grads(lif_loop, lif, x)
    assert 0.05 < spk1.mean() < 0.95
    assert torch.equal(spk1, spk2) and torch.equal(mem1, mem2)
    torch.testing.assert_close(grad1, grad2)
    for key in ("beta", "threshold"):
        torch.testing.assert_close(params1[key], params2[key])


def intervals(spk):
    times = spk.flatten().nonzero().flatten()
    return torch.diff(times).double()


def test_constant_input_shows_spike_frequency_adaptation():
    x = torch.full((300, 1, 1), 0.3, dtype=torch.float64)
    plain = intervals(ALIF(0.9, 1.0, rho=0.97, b=0.0).double().sequence(x)[0])
    adapting = intervals(ALIF(0.9, 1.0, rho=0.97, b=0.2).double().sequence(x)[0])
    # without adaptation the rhythm is regular (4-5 steps); with it the intervals grow
    assert plain[:3].mean() == pytest.approx(plain[-10:].mean(), abs=0.5)
    assert adapting[0] == plain[0]  # the first spike comes before any adaptation
    assert adapting[-10:].mean() > adapting[:3].mean() + 2
    assert len(adapting) < 0.7 * len(plain)


@pytest.mark.parametrize("rho", [0.5, 0.9, 0.99])
def test_adaptation_stays_below_its_bound_under_constant_firing(rho):
    x = torch.full((2000, 2, 1), 50.0, dtype=torch.float64)  # fires at every step
    alif = ALIF(0.9, 1.0, rho=rho, b=0.1).double()
    spk, state = alif.sequence(x)
    assert spk[:-1].all()
    bound = 1 / (1 - alif.rho.item())  # the rho it holds: 0.99 rounded to float32
    assert state.a.max() <= bound * (1 + 1e-12)
    assert state.a[-1].min() > 0.99 * bound  # and it gets there


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("name", ["atan", "fast_sigmoid"])
def test_sequence_equals_step_loop(reset, name):
    alif = ALIF(torch.linspace(0.5, 1.0, 7), 0.8, rho=torch.linspace(0.8, 0.99, 7), b=0.3,
                reset=reset, surrogate=getattr(surrogate, name)(), learn_beta=True,
                learn_threshold=True).double()
    x = random_input(30, 4, 7)
    spk1, mem1, grad1, params1 = values_and_grads(alif_loop, alif, x)
    spk2, mem2, grad2, params2 = values_and_grads(alif_sequence, alif, x)
    assert 0.05 < spk1.mean() < 0.95
    assert torch.equal(spk1, spk2) and torch.equal(mem1, mem2)
    torch.testing.assert_close(grad1, grad2)
    for key in ("beta", "threshold"):
        assert params1[key].abs().sum() > 0
        torch.testing.assert_close(params1[key], params2[key])


def test_the_gradient_flows_through_the_adaptation():
    """A spike at t raises theta later: the loss on late spikes reaches early input through a,
    which it cannot do without adaptation once the membrane has forgotten (beta = 0)."""
    x = random_input(12, 3, 5, scale=0.5, shift=1.0).requires_grad_()
    grads = []
    for b in (0.0, 0.5):
        x.grad = None
        spk, _ = ALIF(0.0, 1.0, rho=0.9, b=b).double().sequence(x)
        spk[-1].sum().backward()
        grads.append(x.grad[:5].abs().sum().item())
    assert grads[0] == 0 and grads[1] > 0


def test_state_can_be_passed_back():
    alif = ALIF(0.9)
    x = torch.ones(2, 3)
    _, state = alif(x)
    assert isinstance(state, ALIFState) and state.a.shape == (2, 3)
    _, state = alif(x * 2, state)
    assert torch.equal(state.mem, 0.9 * torch.ones(2, 3) + 2)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"beta": 1.2}, ValueError, "beta must be in"),
    ({"beta": 0.9, "rho": -0.1}, ValueError, "rho must be in"),
    ({"beta": 0.9, "b": -1.0}, ValueError, "b must be finite and >= 0"),
    ({"beta": 0.9, "threshold": 0.0}, ValueError, "threshold must be finite and > 0"),
    ({"beta": 0.9, "reset": "soft"}, ValueError, "reset must be one of"),
    ({"beta": 0.9, "learn_beta": 1}, TypeError, "learn_beta must be True or False"),
])
def test_constructor_errors_name_the_argument(kwargs, error, words):
    with pytest.raises(error, match=words):
        ALIF(**kwargs)


def test_call_errors_name_the_argument():
    alif = ALIF(0.9, rho=torch.full((4,), 0.9))
    with pytest.raises(ValueError, match=r"rho of shape \(4,\) does not broadcast"):
        alif(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="state.a must have the input's shape"):
        alif(torch.zeros(2, 4), ALIFState(torch.zeros(2, 4), torch.zeros(4)))
    assert "rho=(4,) values in [0.9, 0.9], b=0.2" in repr(alif)


@pytest.mark.parametrize("reset", RESETS)
def test_sequence_equals_step_loop_with_a_loss_on_the_threshold(reset):
    """A loss on state.a (the threshold over time) too: the third output's gradient."""
    alif = ALIF(torch.linspace(0.5, 1.0, 7), 0.8, rho=0.9, b=torch.linspace(0.0, 0.6, 7),
                reset=reset, learn_beta=True, learn_threshold=True).double()
    x = random_input(30, 4, 7)
    weights = torch.randn(3, 30, 4, 7, generator=torch.Generator().manual_seed(5),
                          dtype=torch.float64)
    results = []
    for run in (unroll, ALIF.sequence):
        alif.zero_grad()
        xg = x.clone().requires_grad_()
        spk, state = run(alif, xg)
        loss = (spk * weights[0] + state.mem * weights[1] + state.a * weights[2]).sum()
        loss.backward()
        results.append((spk, state, xg.grad, alif.beta.grad.clone(), alif.threshold.grad.clone()))
    (spk1, state1, *grads1), (spk2, state2, *grads2) = results
    assert 0.05 < spk1.mean() < 0.95 and torch.equal(spk1, spk2)
    assert torch.equal(state1.mem, state2.mem) and torch.equal(state1.a, state2.a)
    for ours, reference in zip(grads2, grads1, strict=True):
        assert reference.abs().sum() > 0
        torch.testing.assert_close(ours, reference)


def test_sequence_without_gradients_and_in_float32():
    alif = ALIF(0.9, b=0.3)
    x = random_input(20, 3, 5).float()
    with torch.no_grad():
        spk, state = alif.sequence(x)
    spk2, state2 = unroll(alif, x)
    assert spk.dtype == torch.float32 and torch.equal(spk, spk2)
    assert torch.equal(state.a, state2.a)
