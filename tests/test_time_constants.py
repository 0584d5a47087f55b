"""Heterogeneous, learned time constants: one beta per neuron in LIF. Lesson 08."""

import math

import pytest
import torch

from snnlab.neurons import LIF, betas_from_taus, random_betas, taus_from_betas, unroll


def test_betas_from_taus_and_back():
    taus = torch.tensor([1.0, 5.0, 20.0, 100.0])
    betas = betas_from_taus(taus, dt=1.0)
    torch.testing.assert_close(betas, torch.exp(-1 / taus))
    torch.testing.assert_close(taus_from_betas(betas), taus)
    assert betas_from_taus(10.0, dt=2.0).item() == pytest.approx(math.exp(-0.2))
    assert taus_from_betas(1.0).item() == math.inf


@pytest.mark.parametrize("call, words", [
    (lambda: betas_from_taus(0.0), "taus must be > 0"),
    (lambda: betas_from_taus(torch.tensor([2.0, -1.0])), "taus must be > 0"),
    (lambda: taus_from_betas(0.0), r"betas must be in \(0, 1\]"),
    (lambda: betas_from_taus(5.0, dt=0), "dt must be > 0"),
    (lambda: random_betas(4, 10.0, 5.0), "tau_max must be >= tau_min = 10"),
])
def test_bad_time_constants_are_named(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_random_betas_spread_tau_evenly_on_a_log_scale():
    betas = random_betas(20000, 2.0, 50.0, generator=torch.Generator().manual_seed(0))
    assert betas.shape == (20000,) and betas.dtype == torch.float32
    taus = taus_from_betas(betas.double())
    assert taus.min() >= 2.0 - 1e-4 and taus.max() <= 50.0 + 1e-3
    # log-uniform: the median is the geometric mean, 10; each decade-ish half holds half
    assert taus.median().item() == pytest.approx(10.0, rel=0.03)
    again = random_betas(20000, 2.0, 50.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(betas, again)


def test_each_neuron_decays_at_its_own_rate():
    betas = torch.tensor([0.0, 0.5, 0.9, 1.0])
    lif = LIF(betas, threshold=100.0)
    impulse = torch.zeros(6, 1, 4)
    impulse[0] = 1.0
    for run in (unroll, LIF.sequence):
        _, mem = run(lif, impulse)
        steps = torch.arange(6.0).unsqueeze(1)
        torch.testing.assert_close(mem[:, 0], betas ** steps)


def test_gradients_reach_each_beta():
    lif = LIF(random_betas(5, 2.0, 50.0, generator=torch.Generator().manual_seed(1)),
              learn_beta=True)
    x = torch.rand(30, 8, 5, generator=torch.Generator().manual_seed(2))
    spk, mem = lif.sequence(x)
    (spk.sum() + mem.sum()).backward()
    assert lif.beta.grad.shape == (5,) and (lif.beta.grad != 0).all()


def test_beta_pushed_past_one_acts_as_one():
    """An optimizer step may push the parameter past 1; the neuron still decays by
    clamp(beta, 0, 1) = 1 (no growth), and that beta gets gradient 0 from then on."""
    lif = LIF(torch.tensor([0.5, 0.95]), threshold=100.0, learn_beta=True)
    optimizer = torch.optim.SGD(lif.parameters(), lr=1.0)
    mem0 = torch.ones(1, 2)
    _, mem = lif(torch.zeros(1, 2), mem0)
    (-mem.sum()).backward()  # a longer memory lowers this loss: beta goes up by 1
    optimizer.step()
    assert lif.beta[0].item() == pytest.approx(1.5) and lif.beta[1].item() > 1
    optimizer.zero_grad()
    _, mem = lif(torch.zeros(1, 2), mem0)
    assert torch.equal(mem, mem0)  # decays by exactly 1: the used beta stayed in [0, 1]
    (-mem.sum()).backward()
    assert torch.equal(lif.beta.grad, torch.zeros(2))
