"""STDP: traces by hand, the window from two spikes, bounds, batches, bad input. Lesson 09."""

import math

import pytest
import torch

from snnlab import checks
from snnlab.stdp import STDPState, decay, stdp_sequence, stdp_step, stdp_window, trace

RULE = {"A_plus": 0.01, "A_minus": 0.012, "tau_plus": 20.0, "tau_minus": 10.0}


def train(times, num_steps=40):
    """A [num_steps, 1, 1] spike train with spikes at ``times``."""
    spikes = torch.zeros(num_steps, 1, 1, dtype=torch.float64)
    spikes[list(times), 0, 0] = 1.0
    return spikes


def test_decay():
    assert decay(10.0) == pytest.approx(math.exp(-0.1))
    assert decay(1) == pytest.approx(0.36787944117144233)


def test_trace_by_hand_adds_up():
    # tau = 1 / ln 2: the trace halves each step. Spikes at 0, 1 and 3:
    # 1, 0.5 + 1 = 1.5, 0.75, 0.375 + 1 = 1.375, 0.6875. The traces add: 1.5 > 1.
    x = trace(train([0, 1, 3], 5), tau=1 / math.log(2))
    torch.testing.assert_close(x.flatten(), torch.tensor([1.0, 1.5, 0.75, 1.375, 0.6875],
                                                         dtype=torch.float64))


def test_trace_keeps_shape_and_batch():
    spikes = (torch.rand(30, 4, 7, generator=torch.Generator().manual_seed(0)) < 0.2).float()
    x = trace(spikes, 5.0)
    assert x.shape == spikes.shape and x.dtype == spikes.dtype
    torch.testing.assert_close(x[:, 2], trace(spikes[:, 2:3], 5.0)[:, 0])


# dt = t_post - t_pre in steps, and the window by hand for RULE:
# dt >= 0: 0.01 * exp(-dt / 20); dt < 0: -0.012 * exp(dt / 10)
HAND = [(0, 0.01), (1, 0.009512294245007140), (5, 0.007788007830714049),
        (20, 0.003678794411714423), (-1, -0.010858049016431514),
        (-5, -0.007278367916551601), (-10, -0.004414553294057308)]


@pytest.mark.parametrize("dt, expected", HAND)
def test_window_by_hand(dt, expected):
    assert stdp_window(dt, **RULE).item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("dt, expected", HAND)
def test_two_spikes_change_the_weight_by_the_window(dt, expected):
    t_pre = 25 if dt < 0 else 5
    weight = torch.full((1, 1), 0.5, dtype=torch.float64)
    new = stdp_sequence(weight, train([t_pre]), train([t_pre + dt]), **RULE)
    assert (new - weight).item() == pytest.approx(expected, rel=1e-12)


def test_window_of_a_tensor():
    dt = torch.tensor([d for d, _ in HAND], dtype=torch.float64)
    torch.testing.assert_close(stdp_window(dt, **RULE),
                               torch.tensor([w for _, w in HAND], dtype=torch.float64))


def test_step_by_hand():
    # one input, two outputs; tau = 1 / ln 2 so the traces halve each step.
    rule = {"A_plus": 0.1, "A_minus": 0.2, "tau_plus": 1 / math.log(2),
            "tau_minus": 1 / math.log(2)}
    w = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
    one, zero = torch.ones(1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64)
    post = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    # step 0: output 0 fires. No input trace yet: no change. Post trace (1, 0).
    w, state = stdp_step(w, zero, post, None, **rule)
    torch.testing.assert_close(w, torch.tensor([[0.5, 0.5]], dtype=torch.float64))
    # step 1: the input fires. Depression by 0.2 * (0.5 * 1) on output 0, nothing on output 1.
    w, state = stdp_step(w, one, torch.zeros(1, 2, dtype=torch.float64), state, **rule)
    torch.testing.assert_close(w, torch.tensor([[0.4, 0.5]], dtype=torch.float64))
    # step 2: output 1 fires; input trace 0.5: potentiation by 0.1 * 0.5 on output 1.
    w, state = stdp_step(w, zero, torch.tensor([[0.0, 1.0]], dtype=torch.float64), state, **rule)
    torch.testing.assert_close(w, torch.tensor([[0.4, 0.55]], dtype=torch.float64))
    torch.testing.assert_close(state.pre, torch.tensor([[0.5]], dtype=torch.float64))
    torch.testing.assert_close(state.post, torch.tensor([[0.25, 1.0]], dtype=torch.float64))


def random_spikes(num_steps, batch, n, p, seed):
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(num_steps, batch, n, generator=generator) < p).double()


@pytest.mark.parametrize("bounds", ["hard", "soft"])
def test_batch_of_one_is_the_one_sample_rule(bounds):
    pre, post = random_spikes(30, 1, 6, 0.2, 1), random_spikes(30, 1, 3, 0.2, 2)
    weight = torch.rand(6, 3, generator=torch.Generator().manual_seed(3)).double()
    state, w = None, weight
    for t in range(30):  # one sample: spikes [n] made [1, n]
        w, state = stdp_step(w, pre[t, 0][None], post[t, 0][None], state, **RULE, bounds=bounds)
    torch.testing.assert_close(stdp_sequence(weight, pre, post, **RULE, bounds=bounds), w)


@pytest.mark.parametrize("bounds", ["hard", "soft"])
def test_a_batch_is_the_sum_of_its_samples(bounds):
    # one step from given traces, so every sample sees the same weight: the batch's change is
    # the sum of the samples' changes (hard bounds: weights inside, so the clamp does nothing)
    batch, generator = 5, torch.Generator().manual_seed(4)
    pre, post = random_spikes(1, batch, 6, 0.5, 5)[0], random_spikes(1, batch, 3, 0.5, 6)[0]
    state = STDPState(torch.rand(batch, 6, generator=generator).double(),
                      torch.rand(batch, 3, generator=generator).double())
    weight = (0.3 + 0.4 * torch.rand(6, 3, generator=generator)).double()
    together, _ = stdp_step(weight, pre, post, state, **RULE, bounds=bounds)
    alone = sum(stdp_step(weight, pre[b:b + 1], post[b:b + 1],
                          STDPState(state.pre[b:b + 1], state.post[b:b + 1]),
                          **RULE, bounds=bounds)[0] - weight for b in range(batch))
    assert alone.abs().sum() > 0
    torch.testing.assert_close(together - weight, alone)


def test_hard_bounds_clamp():
    pre, post = random_spikes(200, 4, 5, 0.3, 7), random_spikes(200, 4, 2, 0.3, 8)
    grow = stdp_sequence(torch.full((5, 2), 0.9).double(), pre, post, 0.5, 0.0, 20.0, 20.0,
                         w_max=1.0)
    shrink = stdp_sequence(torch.full((5, 2), 0.1).double(), pre, post, 0.0, 0.5, 20.0, 20.0)
    assert torch.equal(grow, torch.ones(5, 2).double())  # pushed far past 1, clamped there
    assert torch.equal(shrink, torch.zeros(5, 2).double())


def test_soft_bounds_stay_inside_and_slow_down():
    pre, post = random_spikes(200, 1, 5, 0.1, 9), random_spikes(200, 1, 2, 0.1, 10)
    rule = {"A_plus": 0.05, "A_minus": 0.05, "tau_plus": 5.0, "tau_minus": 5.0}
    for start in (0.0, 0.01, 0.5, 0.99, 2.0):
        w = stdp_sequence(torch.full((5, 2), min(start, 2.0)).double().clamp(max=2.0), pre, post,
                          **rule, w_max=2.0, bounds="soft")
        assert (w >= 0).all() and (w <= 2.0).all()
    # a weight at 0 cannot shrink, one at w_max cannot grow
    only_grow = stdp_sequence(torch.full((5, 2), 2.0).double(), pre, post, 0.05, 0.0, 5.0, 5.0,
                              w_max=2.0, bounds="soft")
    only_shrink = stdp_sequence(torch.zeros(5, 2).double(), pre, post, 0.0, 0.05, 5.0, 5.0,
                                w_max=2.0, bounds="soft")
    assert torch.equal(only_grow, torch.full((5, 2), 2.0).double())
    assert torch.equal(only_shrink, torch.zeros(5, 2).double())
    # soft: the change of one post-after-pre pair shrinks with (w_max - w)
    near_top = stdp_sequence(torch.full((1, 1), 1.5).double(), train([5]), train([6]), **rule,
                             w_max=2.0, bounds="soft") - 1.5
    low = stdp_sequence(torch.full((1, 1), 0.5).double(), train([5]), train([6]), **rule,
                        w_max=2.0, bounds="soft") - 0.5
    assert near_top.item() == pytest.approx(low.item() * 0.5 / 1.5)


def test_weight_not_changed_in_place():
    weight = torch.full((1, 1), 0.5, dtype=torch.float64)
    stdp_sequence(weight, train([3]), train([4]), **RULE)
    assert weight.item() == 0.5


W = torch.zeros(3, 2)
S3, S2 = torch.zeros(4, 3), torch.zeros(4, 2)


@pytest.mark.parametrize("change, error, match", [
    ({"tau_plus": -1.0}, ValueError, "tau_plus must be > 0"),
    ({"tau_minus": 0.0}, ValueError, "tau_minus must be > 0"),
    ({"A_plus": -0.1}, ValueError, "A_plus must be finite and >= 0"),
    ({"A_minus": float("nan")}, ValueError, "A_minus"),
    ({"w_max": 0.0}, ValueError, "w_max must be > 0"),
    ({"bounds": "clip"}, ValueError, r"bounds must be one of \('hard', 'soft'\)"),
    ({"weight": torch.zeros(3)}, ValueError, r"weight must be \[n_pre, n_post\]"),
    ({"pre_spk": torch.zeros(4, 5)}, ValueError, "pre_spk must be .* n_pre = 3"),
    ({"post_spk": torch.zeros(2, 2)}, ValueError, "must agree on the batch"),
    ({"pre_spk": torch.zeros(4, 3, dtype=torch.int64)}, TypeError, "floating-point"),
    ({"pre_spk": torch.zeros(4, 3, dtype=torch.float64)}, ValueError, "one dtype and device"),
    ({"weight": torch.full((3, 2), float("nan"))}, checks.NonFiniteError, "weight holds NaN"),
    ({"state": STDPState(torch.zeros(4, 3), torch.zeros(1, 2))}, ValueError, "state.post"),
])
def test_step_refuses_bad_input(change, error, match):
    args = {"weight": W, "pre_spk": S3, "post_spk": S2, "state": None, **RULE, **change}
    with pytest.raises(error, match=match):
        stdp_step(**args)


def test_sequence_and_trace_refuse_bad_input():
    with pytest.raises(ValueError, match=r"pre_seq must be \[num_steps, batch, n\]"):
        stdp_sequence(W, S3, S2, **RULE)
    with pytest.raises(ValueError, match="must agree on steps and batch"):
        stdp_sequence(W, torch.zeros(5, 1, 3), torch.zeros(4, 1, 2), **RULE)
    with pytest.raises(ValueError, match="tau must be > 0"):
        trace(torch.zeros(3, 1), -2.0)
    with pytest.raises(ValueError, match="time-first"):
        trace(torch.zeros(()), 2.0)
    with pytest.raises(TypeError, match="dt must be a number"):
        stdp_window("1", **RULE)


@pytest.mark.parametrize("bounds", ["hard", "soft"])
def test_no_depression_when_A_minus_is_0(bounds):
    # post at 5, pre at 8 (dt = -3): only depression would act, and A_minus = 0 -> no change;
    # pre at 2, post at 5 (dt = 3): the potentiation is the window's
    rule = {**RULE, "A_minus": 0.0, "bounds": bounds}
    w = torch.full((1, 1), 0.5, dtype=torch.float64)
    after = stdp_sequence(w, train([8]), train([5]), **rule)
    torch.testing.assert_close(after, w)
    after = stdp_sequence(w, train([2]), train([5]), **rule)
    gain = 0.01 * math.exp(-3 / 20) * (0.5 if bounds == "soft" else 1.0)  # soft: (w_max - w)
    torch.testing.assert_close(after, w + gain)
