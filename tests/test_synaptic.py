"""Synaptic and Alpha neurons: snnTorch parity, sequence == step loop, errors. Lesson 08."""

import pytest
import torch

from snnlab import bptt, surrogate
from snnlab.neurons import LIF, unroll
from snnlab.synaptic import Alpha, AlphaState, Synaptic, SynapticState

SURROGATES = {
    "atan": surrogate.atan,
    "fast_sigmoid": surrogate.fast_sigmoid,
    "sigmoid": surrogate.sigmoid,
    "straight_through": surrogate.straight_through,
}
SNN_NAMES = {"straight_through": "straight_through_estimator"}


def random_input(*shape, dtype=torch.float64, seed=0, scale=0.6, shift=0.3):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=dtype) * scale + shift


def values_and_grads(run, neuron, input_seq, seed=1):
    """Run, backprop a random mix of the spikes and every state variable; return the values
    and every gradient (input and parameters)."""
    generator = torch.Generator().manual_seed(seed)
    input_seq = input_seq.detach().clone().requires_grad_()
    neuron.zero_grad()
    spk, states = run(neuron, input_seq)
    loss = sum((x * torch.randn(x.shape, generator=generator, dtype=x.dtype)).sum()
               for x in (spk, *states))
    loss.backward()
    params = {name: p.grad.clone() for name, p in neuron.named_parameters()}
    return spk.detach(), [s.detach() for s in states], input_seq.grad, params


def snntorch_loop(neuron, input_seq):
    """snnTorch's step API in a loop: spk, *states = neuron(x, *states)."""
    states, spikes, history = None, [], []
    for step_input in input_seq:
        spk, *states = neuron(step_input) if states is None else neuron(step_input, *states)
        spikes.append(spk)
        history.append(states)
    return torch.stack(spikes), [torch.stack(seq) for seq in zip(*history, strict=True)]


def ours_loop(neuron, input_seq):
    spk_seq, state_seq = unroll(neuron, input_seq)
    return spk_seq, list(state_seq)


def ours_sequence(neuron, input_seq):
    spk_seq, state_seq = neuron.sequence(input_seq)
    return spk_seq, list(state_seq)


# ---------------------------------------------------------------- by hand
def test_synaptic_by_hand():
    neuron = Synaptic(alpha=0.5, beta=0.5, threshold=1.0)
    spk, state = unroll(neuron, torch.tensor([[1.0], [0.0], [0.0], [0.0]]))
    # I: 1, 0.5, 0.25, 0.125 ; U: 1, 0.5+0.5=1.0, 0.5+0.25=0.75, 0.375+0.125=0.5
    torch.testing.assert_close(state.syn.flatten(), torch.tensor([1.0, 0.5, 0.25, 0.125]))
    torch.testing.assert_close(state.mem.flatten(), torch.tensor([1.0, 1.0, 0.75, 0.5]))
    assert spk.sum() == 0  # U = theta exactly does not fire
    spk, state = unroll(neuron, torch.tensor([[1.5], [0.0], [0.0]]))
    # U: 1.5 (spike) ; 0.75 + 0.75 - 1 = 0.5 ; 0.25 + 0.375 = 0.625
    torch.testing.assert_close(state.mem.flatten(), torch.tensor([1.5, 0.5, 0.625]))
    assert spk.flatten().tolist() == [1.0, 0.0, 0.0]


def test_synaptic_zero_reset_clears_the_whole_fresh_membrane():
    spk, state = unroll(Synaptic(0.5, 0.5, reset="zero"), torch.tensor([[1.5], [1.0], [0.0]]))
    # U: 1.5 spike ; reset: (0.75 + 1.75) * 0 = 0 ; 0 + 0.875 ; the current is not reset
    torch.testing.assert_close(state.mem.flatten(), torch.tensor([1.5, 0.0, 0.875]))
    torch.testing.assert_close(state.syn.flatten(), torch.tensor([1.5, 1.75, 0.875]))


@pytest.mark.parametrize("reset", ["subtract", "none"])
def test_synaptic_with_alpha_zero_is_lif(reset):
    x = random_input(30, 4, 7)
    spk1, state = Synaptic(0.0, 0.8, 0.7, reset).double().sequence(x)
    spk2, mem2 = LIF(0.8, 0.7, reset).double().sequence(x)
    assert torch.equal(spk1, spk2) and torch.equal(state.mem, mem2) and spk1.sum() > 0


def test_alpha_membrane_is_a_difference_of_exponentials():
    alpha, beta, steps = 0.9, 0.6, 12
    impulse = torch.zeros(steps, 1, 1, dtype=torch.float64)
    impulse[0] = 1.0
    _, state = Alpha(alpha, beta, threshold=100.0).double().sequence(impulse)
    k = torch.arange(steps, dtype=torch.float64)
    tau_alpha = torch.log(torch.tensor(alpha)) / (torch.log(torch.tensor(beta))
                                                  - torch.log(torch.tensor(alpha))) + 1
    expected = tau_alpha * (alpha ** k - beta ** k)
    torch.testing.assert_close(state.mem.flatten(), expected.double())
    assert state.mem[0].item() == 0 and state.mem.argmax() > 1  # rises, then decays


# ---------------------------------------------------------------- snnTorch parity
@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("name", SURROGATES)
def test_synaptic_matches_snntorch(reset, name):
    snn = pytest.importorskip("snntorch")
    snn_surrogate = pytest.importorskip("snntorch.surrogate")
    # kept where snnTorch's sigmoid surrogate stays finite (it overflows below U - theta = -3.5)
    alpha, beta = torch.linspace(0.2, 0.8, 6), torch.linspace(0.3, 0.9, 6)
    ours = Synaptic(alpha, beta, 0.7, reset, SURROGATES[name](), learn_alpha=True,
                    learn_beta=True, learn_threshold=True)
    theirs = snn.Synaptic(alpha=alpha, beta=beta, threshold=torch.tensor(0.7),
                          reset_mechanism=reset,
                          spike_grad=getattr(snn_surrogate, SNN_NAMES.get(name, name))(),
                          learn_alpha=True, learn_beta=True, learn_threshold=True)
    x = random_input(60, 5, 6, dtype=torch.float32, scale=0.2, shift=0.1)
    spk1, (syn1, mem1), grad1, params1 = values_and_grads(ours_loop, ours, x)
    spk2, (syn2, mem2), grad2, params2 = values_and_grads(snntorch_loop, theirs, x)
    assert 0.05 < spk1.mean() < 0.95
    assert torch.equal(spk1, spk2)
    torch.testing.assert_close(syn1, syn2, rtol=0, atol=1e-6)
    torch.testing.assert_close(mem1, mem2, rtol=0, atol=1e-6)
    torch.testing.assert_close(grad1, grad2)
    for key in ("alpha", "beta", "threshold"):
        assert params1[key].abs().sum() > 0
        torch.testing.assert_close(params1[key], params2[key], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("reset", ["zero", "none"])
@pytest.mark.parametrize("name", SURROGATES)
def test_alpha_matches_snntorch(reset, name):
    snn = pytest.importorskip("snntorch")
    snn_surrogate = pytest.importorskip("snntorch.surrogate")
    alpha, beta = torch.linspace(0.8, 0.97, 6), torch.linspace(0.3, 0.75, 6)
    # snnTorch 1.0's Alpha cannot learn alpha (learn_alpha=True raises): beta and theta only
    ours = Alpha(alpha, beta, 0.7, reset, SURROGATES[name](), learn_beta=True,
                 learn_threshold=True)
    theirs = snn.Alpha(alpha=alpha, beta=beta, threshold=torch.tensor(0.7),
                       reset_mechanism=reset,
                       spike_grad=getattr(snn_surrogate, SNN_NAMES.get(name, name))(),
                       learn_beta=True, learn_threshold=True)
    x = random_input(60, 5, 6, dtype=torch.float32, scale=0.3, shift=0.15)
    spk1, states1, grad1, params1 = values_and_grads(ours_loop, ours, x)
    spk2, states2, grad2, params2 = values_and_grads(snntorch_loop, theirs, x)
    assert 0.05 < spk1.mean() < 0.95
    assert torch.equal(spk1, spk2)
    for ours_state, their_state in zip(states1, states2, strict=True):
        torch.testing.assert_close(ours_state, their_state, rtol=0, atol=1e-6)
    torch.testing.assert_close(grad1, grad2)
    for key in ("beta", "threshold"):
        assert params1[key].abs().sum() > 0
        torch.testing.assert_close(params1[key], params2[key], rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- sequence == step loop
@pytest.fixture(params=[None, 3 * 7], ids=["one-block", "rows-of-3"])
def backward_blocks(request, monkeypatch):
    if request.param is not None:
        monkeypatch.setattr(bptt, "BLOCK_ELEMENTS", request.param)


@pytest.mark.parametrize("learn", [False, True], ids=["fixed", "learned"])
@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("name", SURROGATES)
@pytest.mark.usefixtures("backward_blocks")
def test_synaptic_sequence_equals_step_loop(name, reset, learn):
    neuron = Synaptic(torch.linspace(0.3, 0.9, 7), torch.linspace(0.5, 1.0, 7), 0.8, reset,
                      SURROGATES[name](), learn_alpha=learn, learn_beta=learn,
                      learn_threshold=learn).double()
    x = random_input(25, 4, 7, scale=0.4, shift=0.1)
    spk1, states1, grad1, params1 = values_and_grads(ours_loop, neuron, x)
    spk2, states2, grad2, params2 = values_and_grads(ours_sequence, neuron, x)
    assert 0.05 < spk1.mean() < 0.95
    assert torch.equal(spk1, spk2)
    for a, b in zip(states1, states2, strict=True):
        assert torch.equal(a, b)
    torch.testing.assert_close(grad1, grad2)
    assert params1.keys() == params2.keys() == (
        {"alpha", "beta", "threshold"} if learn else set())
    for key in params1:
        assert params1[key].abs().sum() > 0
        torch.testing.assert_close(params1[key], params2[key])


@pytest.mark.parametrize("reset", ["zero", "none"])
def test_alpha_sequence_equals_step_loop(reset):
    neuron = Alpha(torch.linspace(0.8, 0.95, 7), 0.5, 0.6, reset, learn_alpha=True,
                   learn_beta=True, learn_threshold=True).double()
    x = random_input(25, 4, 7, scale=0.4, shift=0.2)
    spk1, states1, grad1, params1 = values_and_grads(ours_loop, neuron, x)
    spk2, states2, grad2, params2 = values_and_grads(ours_sequence, neuron, x)
    assert 0.05 < spk1.mean() < 0.95 and torch.equal(spk1, spk2)
    for a, b in zip(states1, states2, strict=True):
        assert torch.equal(a, b)
    torch.testing.assert_close(grad1, grad2)
    for key in ("alpha", "beta", "threshold"):
        assert params1[key].abs().sum() > 0
        torch.testing.assert_close(params1[key], params2[key])


def test_decay_sequence_passes_gradcheck():
    x = random_input(6, 2, 3).requires_grad_()
    alpha = torch.tensor([0.3, 0.7, 0.9], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(bptt.decay_sequence, (x, alpha))


def test_states_are_named_tuples_and_can_be_passed_back():
    neuron = Synaptic(0.8, 0.9)
    x = random_input(3, 4, dtype=torch.float32)
    spk, state = neuron(x)
    assert isinstance(state, SynapticState) and state.mem.shape == (3, 4)
    spk, state2 = neuron(x, state)
    torch.testing.assert_close(state2.syn, 0.8 * state.syn + x)
    _, alpha_state = Alpha(0.9, 0.5)(x)
    assert isinstance(alpha_state, AlphaState) and alpha_state.exc.shape == (3, 4)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("make, error, words", [
    (lambda: Synaptic(1.2, 0.5), ValueError, "alpha must be in [0, 1]"),
    (lambda: Synaptic(0.5, -0.1), ValueError, "beta must be in [0, 1]"),
    (lambda: Synaptic(0.5, 0.5, threshold=0.0), ValueError, "threshold must be finite and > 0"),
    (lambda: Synaptic(0.5, 0.5, reset="soft"), ValueError, "reset must be one of"),
    (lambda: Synaptic(0.5, 0.5, learn_alpha="yes"), TypeError, "learn_alpha must be True"),
    (lambda: Synaptic(0.5, 0.5, surrogate=torch.sigmoid), TypeError, "surrogate must be"),
    (lambda: Alpha(0.5, 0.8), ValueError, "alpha > beta"),
    (lambda: Alpha(0.9, 0.0), ValueError, "beta must be in (0, 1)"),
    (lambda: Alpha(0.9, 0.5, reset="subtract"), ValueError, "does not match its currents"),
])
def test_constructor_errors_name_the_argument(make, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        make()


def test_call_errors_name_the_argument():
    neuron = Synaptic(torch.full((5,), 0.5), 0.9)
    with pytest.raises(ValueError, match="alpha of shape \\(5,\\) does not broadcast"):
        neuron(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="state.mem must have the input's shape"):
        neuron(torch.zeros(2, 5), SynapticState(torch.zeros(2, 5), torch.zeros(3, 5)))
    with pytest.raises(ValueError, match="input_seq must be time-first"):
        neuron.sequence(torch.zeros(0, 2, 5))
    with pytest.raises(TypeError, match="input must be a floating-point tensor"):
        Alpha(0.9, 0.5)(torch.zeros(2, 5, dtype=torch.long))


def test_repr_shows_the_settings():
    assert "alpha=0.8, beta=0.9, threshold=1, reset='subtract'" in repr(Synaptic(0.8, 0.9))
    assert "reset='zero'" in repr(Alpha(0.9, 0.5))
