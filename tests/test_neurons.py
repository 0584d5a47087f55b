"""LIF and Lapicque neurons: snnTorch parity, sequence == step loop, stateful mode, errors."""

import pytest
import torch
from torch import nn

from snnlab import bptt, checks, surrogate
from snnlab.neurons import LIF, Lapicque, reset_states

SURROGATES = {
    "atan": surrogate.atan,
    "fast_sigmoid": surrogate.fast_sigmoid,
    "sigmoid": surrogate.sigmoid,
    "straight_through": surrogate.straight_through,
}
RESETS = ["subtract", "zero", "none"]


def step_loop(neuron, input_seq):
    """The teaching API, looped over time."""
    mem, spikes, membranes = None, [], []
    for step_input in input_seq:
        spk, mem = neuron(step_input, mem)
        spikes.append(spk)
        membranes.append(mem)
    return torch.stack(spikes), torch.stack(membranes)


def random_input(*shape, dtype=torch.float64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=dtype) * 0.6 + 0.3


def values_and_grads(run, neuron, input_seq, seed=1):
    """Run, then backprop a random mix of spk and mem; return outputs and all gradients."""
    generator = torch.Generator().manual_seed(seed)
    weight_spk = torch.randn(input_seq.shape, generator=generator, dtype=input_seq.dtype)
    weight_mem = torch.randn(input_seq.shape, generator=generator, dtype=input_seq.dtype)
    input_seq = input_seq.detach().clone().requires_grad_()
    neuron.zero_grad()
    spk, mem = run(neuron, input_seq)
    ((spk * weight_spk).sum() + (mem * weight_mem).sum()).backward()
    params = {name: p.grad.clone() for name, p in neuron.named_parameters()}
    return spk.detach(), mem.detach(), input_seq.grad, params


@pytest.fixture(params=[None, 1, 3 * 7, 6 * 4 * 7],
                ids=["one-block", "sample-by-sample", "rows-of-3", "blocks-of-6-steps"])
def backward_blocks(request, monkeypatch):
    """The fast backward pass works in blocks of about bptt.BLOCK_ELEMENTS numbers. The tests'
    layers ([T, 4, 7]) fit in one block; these sizes make it go one sample of one step at a
    time, 3 of the 4 samples at a time (a last block of 1), or all 4 over 6 steps at a time
    (a last block of fewer steps)."""
    if request.param is not None:
        monkeypatch.setattr(bptt, "BLOCK_ELEMENTS", request.param)


def sequence(neuron, input_seq):
    return neuron.sequence(input_seq)


# ---------------------------------------------------------------- the equations
def test_subtract_reset_by_hand():
    lif = LIF(beta=0.5, threshold=1.0)
    spk, mem = step_loop(lif, torch.tensor([[0.8], [0.8], [0.8], [0.0]]))
    # U: 0.8 ; 0.4+0.8=1.2 (spike) ; 0.6+0.8-1=0.4 ; 0.2
    torch.testing.assert_close(mem.flatten(), torch.tensor([0.8, 1.2, 0.4, 0.2]))
    assert spk.flatten().tolist() == [0.0, 1.0, 0.0, 0.0]


def test_zero_and_no_reset_by_hand():
    current = torch.tensor([[0.8], [0.8], [0.8]])
    _, mem_zero = step_loop(LIF(beta=0.5, reset="zero"), current)
    _, mem_none = step_loop(LIF(beta=0.5, reset="none"), current)
    torch.testing.assert_close(mem_zero.flatten(), torch.tensor([0.8, 1.2, 0.8]))
    torch.testing.assert_close(mem_none.flatten(), torch.tensor([0.8, 1.2, 1.4]))


def test_membrane_exactly_at_threshold_does_not_fire():
    spk, mem = LIF(beta=0.9, threshold=1.0)(torch.tensor([1.0]))
    assert spk.item() == 0.0 and mem.item() == 1.0


# ---------------------------------------------------------------- snnTorch parity
@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("name", SURROGATES)
def test_step_api_matches_snntorch_leaky(reset, name):
    snn = pytest.importorskip("snntorch")
    snn_surrogate = pytest.importorskip("snntorch.surrogate")
    snn_names = {"straight_through": "straight_through_estimator"}
    beta = torch.linspace(0.3, 1.0, 6)  # per-neuron, learnable in both
    ours = LIF(beta, 0.7, reset=reset, surrogate=SURROGATES[name](), learn_beta=True)
    theirs = snn.Leaky(
        beta=beta,
        threshold=0.7,
        reset_mechanism=reset,
        spike_grad=getattr(snn_surrogate, snn_names.get(name, name))(),
        learn_beta=True,
    )
    input_seq = random_input(40, 5, 6, dtype=torch.float32) * 0.5  # small: finite sigmoid grad

    def snntorch_loop(neuron, input_seq):
        mem, spikes, membranes = neuron.init_leaky(), [], []
        for step_input in input_seq:
            spk, mem = neuron(step_input, mem)
            spikes.append(spk)
            membranes.append(mem)
        return torch.stack(spikes), torch.stack(membranes)

    spk1, mem1, grad1, params1 = values_and_grads(step_loop, ours, input_seq)
    spk2, mem2, grad2, params2 = values_and_grads(snntorch_loop, theirs, input_seq)
    assert 0 < spk1.mean() < 1
    assert torch.equal(spk1, spk2) and torch.equal(mem1, mem2)
    torch.testing.assert_close(grad1, grad2)
    torch.testing.assert_close(params1["beta"], params2["beta"])


# ---------------------------------------------------------------- sequence == step loop
@pytest.mark.parametrize("learn", [False, True], ids=["fixed", "learned"])
@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("name", SURROGATES)
@pytest.mark.usefixtures("backward_blocks")
def test_sequence_equals_step_loop(name, reset, learn):
    beta = torch.linspace(0.5, 1.0, 7)
    lif = LIF(
        beta, 0.8, reset, SURROGATES[name](), learn_beta=learn, learn_threshold=learn
    ).double()
    input_seq = random_input(25, 4, 7)
    spk1, mem1, grad1, params1 = values_and_grads(step_loop, lif, input_seq)
    spk2, mem2, grad2, params2 = values_and_grads(sequence, lif, input_seq)
    assert 0 < spk1.mean() < 1
    assert torch.equal(spk1, spk2)
    assert torch.equal(mem1, mem2)
    torch.testing.assert_close(grad1, grad2)
    assert params1.keys() == params2.keys() == ({"beta", "threshold"} if learn else set())
    for key in params1:
        assert params2[key].shape == getattr(lif, key).shape
        assert params1[key].abs().sum() > 0
        torch.testing.assert_close(params1[key], params2[key])


@pytest.mark.parametrize("learn", [False, True], ids=["fixed", "learned"])
@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.usefixtures("backward_blocks")
def test_constant_input_equals_the_expanded_sequence(reset, learn):
    """lif.sequence(current, num_steps=T) is lif.sequence(current.expand(T, ...)), gradients
    included (the constant input's gradient is summed over the steps)."""
    lif = LIF(torch.linspace(0.5, 1.0, 7), 0.8, reset, learn_beta=learn,
              learn_threshold=learn).double()
    current = random_input(4, 7)

    def expanded(neuron, x):
        return neuron.sequence(x.expand(20, *x.shape))

    def constant(neuron, x):
        return neuron.sequence(x, num_steps=20)

    spk1, mem1, grad1, params1 = values_and_grads(expanded, lif, current)
    spk2, mem2, grad2, params2 = values_and_grads(constant, lif, current)
    assert spk2.shape == (20, 4, 7) and 0 < spk1.mean() < 1
    assert torch.equal(spk1, spk2) and torch.equal(mem1, mem2)
    assert grad2.shape == current.shape and grad2.abs().sum() > 0
    torch.testing.assert_close(grad1, grad2)
    assert params1.keys() == params2.keys()
    for key in params1:
        torch.testing.assert_close(params1[key], params2[key])


@pytest.mark.parametrize("constant", [False, True], ids=["sequence", "constant"])
@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.usefixtures("backward_blocks")
def test_spikes_alone_equal_the_sequence_spikes(reset, constant):
    """lif.spikes is sequence()[0]: same spikes, same input and parameter gradients (its
    backward pass writes over the membrane it kept, which nobody else can see)."""
    lif = LIF(torch.linspace(0.5, 1.0, 7), 0.8, reset, learn_beta=True,
              learn_threshold=True).double()
    current = random_input(4, 7) if constant else random_input(20, 4, 7)
    num_steps = 20 if constant else None
    weight = torch.randn(20, 4, 7, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    results = []
    for method in ("sequence", "spikes"):
        lif.zero_grad()
        x = current.clone().requires_grad_()
        out = getattr(lif, method)(x, num_steps=num_steps)
        spk = out[0] if method == "sequence" else out
        (spk * weight).sum().backward()
        results.append((spk.detach(), x.grad, lif.beta.grad, lif.threshold.grad))
    (spk1, *grads1), (spk2, *grads2) = results
    assert torch.equal(spk1, spk2) and 0 < spk1.mean() < 1
    for ours, reference in zip(grads2, grads1, strict=True):
        assert ours.abs().sum() > 0
        torch.testing.assert_close(ours, reference)


def test_spikes_refuse_a_second_backward_instead_of_a_wrong_one():
    lif = LIF(0.9).double()
    x = random_input(10, 3, 4).requires_grad_()
    loss = lif.spikes(x).sum() * 2
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


@pytest.mark.usefixtures("backward_blocks")
def test_sequence_with_only_parameter_gradients():
    """The input needs no gradient (a first layer fed by data), beta and thr still learn."""
    grads = []
    for run in (step_loop, sequence):
        lif = LIF(0.8, 0.9, learn_beta=True, learn_threshold=True).double()
        spk, mem = run(lif, random_input(15, 3, 5))
        (spk.sum() + mem.pow(2).sum()).backward()
        grads.append((lif.beta.grad, lif.threshold.grad))
    for ours, reference in zip(*grads, strict=True):
        assert ours.abs() > 0
        torch.testing.assert_close(ours, reference)


@pytest.mark.parametrize("output", ["spk", "mem"])
@pytest.mark.usefixtures("backward_blocks")
def test_sequence_gradient_from_one_output_only(output):
    lif = LIF(0.9, reset="zero", learn_beta=True, learn_threshold=True).double()
    input_seq = random_input(30, 3, 5)
    grads = []
    for run in (step_loop, sequence):
        x = input_seq.clone().requires_grad_()
        lif.zero_grad()
        spk, mem = run(lif, x)
        weight = torch.arange(30.0)[:, None, None]
        ((spk if output == "spk" else mem).pow(2) * weight).sum().backward()
        # "zero" reset with a loss on mem only: the step loop never touches the threshold
        # (grad None), the sequence reports an explicit 0
        grads.append(
            [
                g if g is not None else torch.tensor(0.0)
                for g in (x.grad, lif.beta.grad, lif.threshold.grad)
            ]
        )
    for ours, reference in zip(*grads, strict=True):
        torch.testing.assert_close(ours, reference, check_dtype=False)


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.usefixtures("backward_blocks")
def test_sequence_membrane_gradient_passes_gradcheck(reset):
    """Through mem_seq the hand-written backward must equal finite differences
    (the reset is piecewise constant, so small nudges do not change it)."""
    input_seq = random_input(12, 2, 3).requires_grad_()
    beta = torch.tensor([0.6, 0.8, 0.95], dtype=torch.float64, requires_grad=True)
    threshold = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)

    def mem_seq(input_seq, beta, threshold):
        lif = LIF(0.5, reset=reset).double()
        lif.beta, lif.threshold = beta, threshold  # plain tensors that require grad
        return lif.sequence(input_seq)[1]

    assert torch.autograd.gradcheck(mem_seq, (input_seq, beta, threshold))


def test_sequence_follows_input_dtype_and_works_without_grad():
    lif = LIF(torch.tensor([0.9, 0.8]), learn_beta=True)  # float32 parameters
    input_seq = random_input(10, 3, 2)  # float64
    spk, mem = lif.sequence(input_seq)
    assert spk.dtype == mem.dtype == torch.float64
    with torch.no_grad():
        spk_ng, mem_ng = lif.sequence(input_seq)
    assert not spk_ng.requires_grad and not mem_ng.requires_grad
    assert torch.equal(spk, spk_ng) and torch.equal(mem, mem_ng)


def test_learned_beta_outside_unit_range_is_clamped_like_snntorch():
    lif = LIF(0.9, learn_beta=True)
    with torch.no_grad():
        lif.beta.fill_(1.3)
    input_seq = random_input(15, 2, 3, dtype=torch.float32)
    reference = step_loop(LIF(1.0), input_seq)
    for run in (step_loop, sequence):
        lif.zero_grad()
        spk, mem = run(lif, input_seq)
        torch.testing.assert_close(mem, reference[1])
        (spk.sum() + mem.sum()).backward()
        assert lif.beta.grad.item() == 0.0


# ---------------------------------------------------------------- stateful mode
def test_stateful_steps_use_and_update_the_stored_membrane():
    input_seq = random_input(8, 3, 4)
    lif = LIF(0.8, stateful=True).double()
    outputs = [lif(step_input) for step_input in input_seq]
    assert torch.equal(lif.membrane, outputs[-1][1])
    reference = step_loop(LIF(0.8).double(), input_seq)
    assert torch.equal(torch.stack([mem for _, mem in outputs]), reference[1])
    lif.reset_state()
    assert lif.membrane is None
    with pytest.raises(ValueError, match="mem must not be passed"):
        lif(input_seq[0], torch.zeros(3, 4))


def test_stateful_batch_shape_change_says_to_reset():
    model = nn.ModuleList([nn.Linear(4, 4), LIF(0.9, stateful=True)])
    lif = model[1]
    lif(torch.rand(8, 4))
    with pytest.raises(ValueError, match=r"reset_states\(model\)"):
        lif(torch.rand(5, 4))  # last, smaller batch
    reset_states(model)
    spk, mem = lif(torch.rand(5, 4))
    assert mem.shape == (5, 4)


def test_stateful_reuse_after_backward_says_to_reset():
    layer, lif = nn.Linear(4, 4), LIF(0.9, stateful=True)
    for _ in range(3):
        spk, mem = lif(layer(torch.rand(6, 4)))
    (spk.sum() + mem.sum()).backward()
    with pytest.raises(ValueError, match=r"already used.*reset_states\(model\)"):
        lif(layer(torch.rand(6, 4)))
    reset_states(lif)
    spk, mem = lif(layer(torch.rand(6, 4)))
    mem.sum().backward()  # a fresh graph backpropagates fine


def test_reset_states_reaches_nested_neurons():
    inner = LIF(0.9, stateful=True)
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(inner), LIF(0.5, stateful=True))
    inner(torch.rand(3, 2))
    model[2](torch.rand(3, 2))
    reset_states(model)
    assert inner.membrane is None and model[2].membrane is None
    with pytest.raises(TypeError, match="module"):
        reset_states([inner])


# ---------------------------------------------------------------- Lapicque
def test_lapicque_is_an_euler_step_of_the_rc_circuit():
    R, C, dt = 5.0, 1e-3, 1e-4
    neuron = Lapicque(R=R, C=C, time_step=dt, threshold=0.5)
    assert neuron.beta.item() == pytest.approx(1 - dt / (R * C))
    current = random_input(20, 3, dtype=torch.float32) * 0.05
    # Forward Euler of C dU/dt = I - U/R by hand, with the subtract reset
    mem, expected = torch.zeros(3), []
    for step_current in current:
        reset = (mem > 0.5).float()
        mem = mem + dt / C * (step_current - mem / R) - reset * 0.5
        expected.append(mem)
    _, mem_loop = step_loop(neuron, current)
    torch.testing.assert_close(mem_loop, torch.stack(expected))
    torch.testing.assert_close(neuron.sequence(current)[1], mem_loop)
    # every way to run it scales the current by dt/C
    drive = current.abs() * 20
    spikes_loop = step_loop(neuron, drive)[0]
    assert 0 < spikes_loop.mean() < 1
    assert torch.equal(neuron.spikes(drive), spikes_loop)
    constant = drive[0]
    torch.testing.assert_close(neuron.sequence(constant, num_steps=20)[1],
                               step_loop(neuron, constant.expand(20, 3))[1])


def test_lapicque_matches_snntorch_for_subtract_reset():
    snn = pytest.importorskip("snntorch")
    ours = Lapicque(R=5.1, C=5e-3, time_step=1e-3, threshold=0.5)
    theirs = snn.Lapicque(R=5.1, C=5e-3, time_step=1e-3, threshold=0.5)
    current = random_input(50, 4, 3, dtype=torch.float32)
    mem, spikes = theirs.init_lapicque(), []
    for step_current in current:
        spk, mem = theirs(step_current, mem)
        spikes.append(spk)
    spk_ours, _ = ours.sequence(current)
    assert spk_ours.sum() > 0
    assert torch.equal(spk_ours, torch.stack(spikes))


def test_lapicque_rejects_bad_circuits():
    with pytest.raises(ValueError, match="R must be > 0"):
        Lapicque(R=0, C=1.0, time_step=0.1)
    with pytest.raises(ValueError, match="C must be > 0"):
        Lapicque(R=1.0, C=-1.0, time_step=0.1)
    with pytest.raises(ValueError, match=r"time_step must be > 0 and at most R\*C"):
        Lapicque(R=1.0, C=1e-3, time_step=1e-2)
    with pytest.raises(TypeError, match="input"):
        Lapicque(R=1.0, C=1.0, time_step=0.1)([1.0])


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize("beta", [-0.1, 1.5, float("nan"), torch.tensor([0.5, 1.2])])
def test_beta_outside_unit_interval_is_rejected(beta):
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\]"):
        LIF(beta)


@pytest.mark.parametrize("threshold", [0.0, -1.0, float("inf"), torch.tensor([1.0, 0.0])])
def test_non_positive_threshold_is_rejected(threshold):
    with pytest.raises(ValueError, match="threshold must be finite and > 0"):
        LIF(0.9, threshold=threshold)


def test_other_constructor_errors_name_the_argument():
    with pytest.raises(ValueError, match="reset must be one of"):
        LIF(0.9, reset="hard")
    with pytest.raises(TypeError, match="surrogate"):
        LIF(0.9, surrogate=torch.sigmoid)
    with pytest.raises(TypeError, match="beta"):
        LIF("0.9")
    with pytest.raises(TypeError, match="beta"):
        LIF(torch.tensor([1, 0]))


def test_call_errors_name_the_argument():
    lif = LIF(torch.full((4,), 0.9))
    with pytest.raises(TypeError, match="input must be a torch.Tensor"):
        lif([0.1, 0.2, 0.3, 0.4])
    with pytest.raises(TypeError, match="input must be a floating-point tensor"):
        lif(torch.ones(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="mem must have the input's shape"):
        lif(torch.rand(2, 4), torch.zeros(3, 4))  # never silently zeroed
    with pytest.raises(ValueError, match="beta of shape"):
        lif(torch.rand(2, 5))
    with pytest.raises(ValueError, match="input_seq must be time-first"):
        lif.sequence(torch.rand(0, 2, 4))
    with pytest.raises(ValueError, match="num_steps must be a positive int"):
        lif.sequence(torch.rand(2, 4), num_steps=0)
    with pytest.raises(ValueError, match="input_seq must be time-first"):
        lif.spikes(torch.rand(0, 2, 4))
    with pytest.raises(ValueError,
                       match=r"beta of shape \(4,\) does not broadcast to input_seq of shape"):
        lif.sequence(torch.rand(2, 5), num_steps=3)
    with pytest.raises(TypeError, match="input_seq"):
        lif.sequence(torch.rand(3, 2, 4).numpy())


def test_repr_shows_the_settings():
    text = repr(LIF(0.9, threshold=0.5, reset="zero", stateful=True))
    assert "beta=0.9" in text and "threshold=0.5" in text
    assert "reset='zero'" in text and "atan(alpha=2)" in text and "stateful=True" in text


# ------------------------------------------------------------------ careless inputs

def _with(value, index=(1, 2)):
    x = torch.zeros(3, 4)
    x[index] = value
    return x


@pytest.mark.parametrize("neuron", [lambda: LIF(0.9), lambda: Lapicque(R=5, C=1, time_step=1),
                                    lambda: LIF(0.9, stateful=True)], ids=["LIF", "Lapicque",
                                                                          "stateful"])
@pytest.mark.parametrize("value, kind", [(float("nan"), "NaN"), (float("inf"), "inf"),
                                         (-float("inf"), "inf")])
def test_nan_or_inf_current_is_an_error_not_a_nan_membrane(neuron, value, kind):
    lif = neuron()
    with pytest.raises(checks.NonFiniteError, match=rf"input holds {kind}: 1 of 12 .*\(1, 2\)"):
        lif(_with(value))
    with pytest.raises(checks.NonFiniteError, match=rf"input_seq holds {kind}: 1 of 12"):
        lif.sequence(_with(value))
    with pytest.raises(checks.NonFiniteError, match=rf"input_seq holds {kind}"):
        lif.spikes(_with(value)[1], num_steps=4)  # a constant input, given once


def test_nan_membrane_passed_in_is_an_error():
    with pytest.raises(checks.NonFiniteError, match="mem holds NaN"):
        LIF(0.9)(torch.zeros(3, 4), _with(float("nan")))


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(beta=None), TypeError, "beta must be a number"),
    (dict(beta=True), TypeError, "beta must be a number"),
    (dict(beta=[0.5, 0.6]), TypeError, "beta must be a number"),
    (dict(beta=torch.empty(0)), ValueError, "beta must be in .*empty tensor"),
    (dict(beta=torch.tensor(float("nan"))), ValueError, "beta must be in"),
    (dict(beta=0.9, threshold="1"), TypeError, "threshold must be a number"),
    (dict(beta=0.9, threshold=torch.empty(0)), ValueError, "threshold .*empty tensor"),
    (dict(beta=0.9, reset=None), ValueError, "reset must be one of"),
    (dict(beta=0.9, reset="Subtract"), ValueError, "reset must be one of"),
    (dict(beta=0.9, surrogate="atan"), TypeError, "surrogate must be an snnlab"),
    (dict(beta=0.9, surrogate=surrogate.atan), TypeError, "surrogate must be an snnlab"),
    (dict(beta=0.9, learn_beta=1), TypeError, "learn_beta must be True or False"),
    (dict(beta=0.9, learn_threshold="yes"), TypeError, "learn_threshold must be True or False"),
    (dict(beta=0.9, stateful=None), TypeError, "stateful must be True or False"),
])
def test_lif_constructor_arguments_are_checked(kwargs, error, words):
    with pytest.raises(error, match=words):
        LIF(**kwargs)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(R="1", C=1, time_step=0.1), TypeError, "R must be a number"),
    (dict(R=float("inf"), C=1, time_step=0.1), ValueError, "R must be > 0 and finite"),
    (dict(R=1, C=0, time_step=0.1), ValueError, "C must be > 0"),
    (dict(R=1, C=1, time_step=float("nan")), ValueError, "time_step must be > 0"),
    (dict(R=1, C=1, time_step=0.1, threshold=-1), ValueError, "threshold must be finite and > 0"),
    (dict(R=1, C=1, time_step=0.1, stateful=1), TypeError, "stateful must be True or False"),
])
def test_lapicque_constructor_arguments_are_checked(kwargs, error, words):
    with pytest.raises(error, match=words):
        Lapicque(**kwargs)


@pytest.mark.parametrize("call, error, words", [
    (lambda lif: lif(0.5), TypeError, "input must be a torch.Tensor, got float"),
    (lambda lif: lif(None), TypeError, "input must be a torch.Tensor, got NoneType"),
    (lambda lif: lif(torch.zeros(3).numpy()), TypeError, r"torch.from_numpy\(input\).float"),
    (lambda lif: lif(torch.zeros(2), 0.0), TypeError, "mem must be a torch.Tensor"),
    (lambda lif: lif.sequence(torch.tensor(1.0)), ValueError, "input_seq must be time-first"),
    (lambda lif: lif.sequence(torch.ones(2), num_steps=2.5), TypeError, "num_steps must be"),
    (lambda lif: lif.sequence(torch.ones(2), num_steps=True), TypeError, "num_steps must be"),
    (lambda lif: lif.spikes(torch.ones(3, 2, dtype=torch.int32)), TypeError, "input_seq must be"),
])
def test_lif_call_arguments_are_named(call, error, words):
    with pytest.raises(error, match=words):
        call(LIF(0.9))


@pytest.mark.parametrize("name", ["atan", "fast_sigmoid", "sigmoid"])
@pytest.mark.parametrize("value, error", [(0, ValueError), (-1, ValueError),
                                          (float("nan"), ValueError), (float("inf"), ValueError),
                                          ("2", TypeError), (True, TypeError), (None, TypeError)])
def test_surrogate_shape_parameters_are_checked(name, value, error):
    argument = "alpha" if name == "atan" else "slope"
    with pytest.raises(error, match=argument):
        getattr(surrogate, name)(value)


def test_reset_states_needs_a_module():
    with pytest.raises(TypeError, match="module must be a torch.nn.Module, got list"):
        reset_states([LIF(0.9)])


@pytest.mark.parametrize("method", ["sequence", "spikes"])
def test_absurd_num_steps_for_a_constant_input_is_refused_before_allocating(method):
    """num_steps=10**12 would need 10**15 numbers: a clear error, not a MemoryError."""
    with pytest.raises(ValueError, match=r"num_steps=1000000000000 for input_seq of shape "
                                         r"\(128, 1000\) .* more than the"):
        getattr(LIF(0.9), method)(torch.rand(128, 1000), num_steps=10**12)
    spikes = LIF(0.9).spikes(torch.rand(2, 3), num_steps=1000)  # a big but sane request works
    assert spikes.shape == (1000, 2, 3)


@pytest.mark.usefixtures("backward_blocks")
@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "slice", "expanded", "cropped"])
@pytest.mark.parametrize("method", ["sequence", "spikes"])
@pytest.mark.parametrize("reset", RESETS)
def test_a_list_of_steps_equals_the_stacked_sequence(reset, method, layout):
    """lif.spikes([x0, x1, ...]) is lif.spikes(torch.stack([x0, x1, ...])): the same spikes and
    membranes, and each step gets its own gradient (parameters included), whatever the steps'
    memory layout (as BatchNorm leaves them, step by step, in the autoencoder)."""
    lif = LIF(torch.linspace(0.5, 1.0, 3).view(3, 1, 1), 0.8, reset, learn_beta=True,
              learn_threshold=True).double()  # one beta per channel
    base = random_input(6, 4, 3, 5, 2)  # [T, B, C, H, W]
    if layout == "contiguous":
        steps = list(base)
    elif layout == "channels_last":
        steps = [x.contiguous(memory_format=torch.channels_last) for x in base]
    elif layout == "slice":  # steps that are slices of a bigger batch
        steps = [x.contiguous(memory_format=torch.channels_last)[1:3] for x in base]
    elif layout == "expanded":  # one step seen at every step, without a copy
        steps = [base[0].contiguous(memory_format=torch.channels_last)] * 6
    else:  # cropped: gaps inside each step
        steps = [x.contiguous(memory_format=torch.channels_last)[..., :1] for x in base]
    steps = [x.detach().requires_grad_() for x in steps]
    stacked = torch.stack(steps).detach().requires_grad_()
    weight = torch.randn(stacked.shape, generator=torch.Generator().manual_seed(2),
                         dtype=torch.float64)
    results = []
    for inputs in (steps, stacked):
        lif.zero_grad()
        out = getattr(lif, method)(inputs)
        spk = out[0] if method == "sequence" else out
        loss = (spk * weight).sum() + (out[1].pow(2).sum() if method == "sequence" else 0)
        loss.backward()
        grads = (torch.stack([x.grad if x.grad is not None else torch.zeros_like(x)
                              for x in steps]) if inputs is steps else stacked.grad)
        results.append((spk.detach(), grads, lif.beta.grad.clone(), lif.threshold.grad.clone()))
    (spk1, *grads1), (spk2, *grads2) = results
    assert torch.equal(spk1, spk2) and 0 < spk1.mean() < 1
    for ours, reference in zip(grads1, grads2, strict=True):
        assert ours.abs().sum() > 0
        torch.testing.assert_close(ours, reference)


@pytest.mark.parametrize("steps, num_steps, error, words", [
    ([], None, ValueError, "non-empty list of step tensors"),
    ([torch.rand(2, 3), torch.rand(2, 4)], None, ValueError, "step 1 is \\(2, 4\\)"),
    ([torch.rand(2, 3), torch.rand(2, 3).double()], None, ValueError, "share one shape, dtype"),
    ([torch.rand(2, 3), [0.5, 0.5, 0.5]], None, TypeError, "input_seq\\[1\\]"),
    ([torch.rand(2, 3), torch.full((2, 3), float("nan"))], None, ValueError, "input_seq\\[1\\]"),
    ([torch.rand(2, 3)] * 3, 3, ValueError, "num_steps goes with one constant input"),
])
def test_a_careless_list_of_steps_is_named(steps, num_steps, error, words):
    with pytest.raises(error, match=words):
        LIF(0.9).spikes(steps, num_steps=num_steps)
