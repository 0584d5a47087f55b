"""Encoders: shapes, hand-computed spike times, snnTorch parity, and argument errors."""

import itertools
import math

import pytest
import torch

from snnlab import encoding


def unit_data(*shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    data = torch.rand(*shape, generator=generator)
    data.view(-1)[:4] = torch.tensor([0.0, 0.01, 0.5, 1.0])  # edges and the default threshold
    return data


# ---------------------------------------------------------------- rate
def test_rate_shape_dtype_and_values():
    data = unit_data(3, 1, 4, 4).double()
    spikes = encoding.rate(data, num_steps=7)
    assert spikes.shape == (7, 3, 1, 4, 4) and spikes.dtype == torch.float64
    assert set(spikes.unique().tolist()) <= {0.0, 1.0}


def test_rate_edges_are_certain():
    spikes = encoding.rate(torch.tensor([0.0, 1.0]), num_steps=500)
    assert spikes[:, 0].sum() == 0 and spikes[:, 1].sum() == 500
    assert encoding.rate(torch.tensor([1.0]), num_steps=500, gain=0.0).sum() == 0


@pytest.mark.parametrize("gain", [1.0, 0.5, 0.25])
def test_rate_fires_with_probability_gain_times_x(gain):
    torch.manual_seed(0)
    data = torch.tensor([0.1, 0.4, 0.8]).repeat(1000)  # 1000 copies x 200 steps each
    firing = encoding.rate(data, num_steps=200, gain=gain).mean(0).view(1000, 3).mean(0)
    # standard error <= sqrt(0.25 / 200000) ~ 0.0011; allow 5 of them
    torch.testing.assert_close(firing, gain * torch.tensor([0.1, 0.4, 0.8]), atol=6e-3, rtol=0)


@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_rate_matches_snntorch_in_distribution(gain):
    spikegen = pytest.importorskip("snntorch.spikegen")
    torch.manual_seed(1)
    data = unit_data(2000)
    ours = encoding.rate(data, num_steps=100, gain=gain).mean(0)
    theirs = spikegen.rate(data, num_steps=100, gain=gain).mean(0)
    # per-entry rates over 100 steps are noisy; their averages over data bins are not
    for low in torch.arange(0, 1, 0.1):
        in_bin = (data >= low) & (data < low + 0.1)
        assert abs(ours[in_bin].mean() - theirs[in_bin].mean()) < 0.015


def test_rate_is_repeatable_with_a_seed():
    data = unit_data(10)
    torch.manual_seed(3)
    first = encoding.rate(data, 20)
    torch.manual_seed(3)
    assert torch.equal(first, encoding.rate(data, 20))


# ---------------------------------------------------------------- latency
def test_latency_rc_times_by_hand():
    # t = tau * ln(x / (x - threshold)): x = 0.5, thr = 0.4, tau = 10 -> 10 ln 5 = 16.09 -> 16
    #                                    x = 0.9, thr = 0.4, tau = 10 -> 10 ln 1.8 = 5.88 -> 6
    spikes = encoding.latency(torch.tensor([0.5, 0.9]), num_steps=20, tau=10, threshold=0.4)
    assert spikes.sum(0).tolist() == [1.0, 1.0]
    assert spikes.argmax(0).tolist() == [round(10 * math.log(5)), round(10 * math.log(1.8))]


def test_latency_linear_times_by_hand_and_drops_late_spikes():
    data = torch.tensor([1.0, 0.75, 0.2, 0.0])
    # t = tau * (1 - x) capped at tau * (1 - threshold): 0, 2.5 -> 2 (half to even), 8, 9.9 -> 10
    spikes = encoding.latency(data, num_steps=10, tau=10, threshold=0.01, linear=True)
    assert spikes.sum(0).tolist() == [1.0, 1.0, 1.0, 0.0]  # step 10 does not exist: dropped
    assert spikes.argmax(0)[:3].tolist() == [0, 2, 8]


def test_latency_normalize_puts_the_latest_spike_on_the_last_step():
    data = torch.tensor([0.0, 0.3, 1.0])
    for linear in (False, True):
        spikes = encoding.latency(data, num_steps=25, normalize=True, linear=linear)
        assert spikes.sum(0).tolist() == [1.0, 1.0, 1.0]
        assert spikes[-1, 0] == 1.0  # x = 0 (below threshold) fires last


def test_latency_clip_silences_inputs_at_or_below_threshold():
    data = torch.tensor([0.0, 0.005, 0.01, 0.0101, 0.6])
    spikes = encoding.latency(data, num_steps=25, normalize=True, clip=True)
    assert spikes.sum(0).tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]


def test_latency_without_clip_gives_the_clamped_time_inside_the_window():
    # x <= threshold is clamped to threshold + 1e-7: t = 5 ln(0.0100001 / 1e-7) = 57.56 -> 58
    data = torch.tensor([0.0, 0.01, 0.5])
    spikes = encoding.latency(data, num_steps=100, tau=5, threshold=0.01)
    assert spikes.sum(0).tolist() == [1.0, 1.0, 1.0]
    assert spikes.argmax(0)[:2].tolist() == [58, 58]
    assert round(5 * math.log(0.0100001 / 1e-7)) == 58
    clipped = encoding.latency(data, num_steps=100, tau=5, threshold=0.01, clip=True)
    assert clipped.sum(0).tolist() == [0.0, 0.0, 1.0]  # at x == threshold: t -> infinity


def test_latency_at_most_one_spike_and_brighter_is_earlier():
    data = unit_data(500)
    spikes = encoding.latency(data, num_steps=30, tau=4, threshold=0.05)
    assert spikes.sum(0).max() == 1
    fired = spikes.sum(0) == 1
    times = spikes.argmax(0)[fired].float()
    order = data[fired].argsort()
    assert (times[order].diff() <= 0).all()  # non-increasing time as x grows


def test_latency_matches_snntorch_exactly():
    spikegen = pytest.importorskip("snntorch.spikegen")
    data = unit_data(16, 3, 5)
    options = itertools.product(
        [1, 7, 25, 100], [0.5, 5.0, 20.0], [0.01, 0.3], [False, True], [False, True], [False, True]
    )
    for num_steps, tau, threshold, linear, normalize, clip in options:
        kwargs = dict(tau=tau, threshold=threshold, linear=linear, normalize=normalize, clip=clip)
        ours = encoding.latency(data, num_steps, **kwargs)
        # bypass=True: snnTorch drops late spikes instead of raising, as snnlab always does
        theirs = spikegen.latency(data, num_steps=num_steps, bypass=True, **kwargs)
        if clip:  # snnTorch's clip keeps x == threshold (a late spike); snnlab silences it
            theirs = theirs * (data != threshold)
        assert torch.equal(ours, theirs), (num_steps, kwargs)


# ---------------------------------------------------------------- decoding and damage
def test_decode_rate_is_count_over_steps_and_gain():
    spikes = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
    assert encoding.decode_rate(spikes).tolist() == [0.75, 0.25]
    assert encoding.decode_rate(spikes, gain=0.5).tolist() == [1.5, 0.5]
    with pytest.raises(ValueError, match=r"gain must be in \(0, 1\]"):
        encoding.decode_rate(spikes, gain=0.0)


@pytest.mark.parametrize("linear", [False, True])
def test_decode_latency_inverts_the_code(linear):
    data = torch.linspace(0.02, 1.0, 300)
    num_steps, tau = (100, 99.0) if linear else (400, 30.0)
    spikes = encoding.latency(data, num_steps, tau=tau, threshold=0.01, linear=linear)
    assert spikes.sum(0).min() == 1  # every value fires inside the window
    decoded = encoding.decode_latency(spikes, tau=tau, threshold=0.01, linear=linear)
    # the decoded value lies on the same step as the original: encoding it again gives
    # the same spikes (step 0 decodes to 1, the brightest value that fires there)
    again = encoding.latency(decoded, num_steps, tau=tau, threshold=0.01, linear=linear)
    assert torch.equal(again, spikes)
    if linear:  # rounding moves a time by <= 0.5 steps, the value by <= 0.5 / tau
        assert (decoded - data).abs().max() <= 0.5 / tau + 1e-6
    silent = torch.zeros(num_steps, 3)
    assert encoding.decode_latency(silent, tau=tau, linear=linear).tolist() == [0.0] * 3


def test_decode_latency_by_hand():
    spikes = torch.zeros(10, 3)
    spikes[0, 0] = spikes[4, 1] = spikes[6, 1] = 1  # entry 1: the first spike counts
    assert encoding.decode_latency(spikes, tau=8.0, linear=True).tolist() == [1.0, 0.5, 0.0]
    log = encoding.decode_latency(spikes, tau=2.0, threshold=0.2)
    assert log[0] == 1.0 and log[2] == 0.0
    assert abs(log[1].item() - 0.2 / (1 - math.exp(-2.0))) < 1e-6


def test_jitter_keeps_every_spike_inside_the_window_and_moves_them_by_sigma():
    generator = torch.Generator().manual_seed(0)
    spikes = torch.zeros(200, 500)
    spikes[100] = 1  # 500 spikes at step 100
    spikes[0, :10] = 1  # and 10 at the first step, which can only stay or move later
    moved = encoding.jitter(spikes, 5.0, generator)
    assert moved.shape == spikes.shape and moved.sum() == 510
    assert torch.equal(moved.sum(0), spikes.sum(0))  # no spike lost, none moved to another entry
    steps = moved[:, 10:].argmax(0).double()
    assert abs(steps.mean() - 100) < 1.0 and abs(steps.std() - 5.0) < 0.6  # 5 SE: ~0.16, ~0.16
    assert torch.equal(encoding.jitter(spikes, 0.0), spikes)


def test_jitter_adds_up_spikes_that_land_together():
    spikes = torch.ones(3, 1)
    moved = encoding.jitter(spikes, 100.0, torch.Generator().manual_seed(1))
    assert moved.sum() == 3 and set(moved.flatten().tolist()) <= {0.0, 1.0, 2.0, 3.0}


def test_delete_removes_the_given_fraction():
    generator = torch.Generator().manual_seed(0)
    spikes = torch.ones(100, 1000)
    kept = encoding.delete(spikes, 0.3, generator)
    assert set(kept.unique().tolist()) == {0.0, 1.0}
    assert abs(kept.mean().item() - 0.7) < 0.0075  # 5 standard errors (0.0015)
    counts = torch.full((100, 1000), 2.0)
    assert abs(encoding.delete(counts, 0.5, generator).mean().item() - 1.0) < 0.01
    assert torch.equal(encoding.delete(spikes, 0.0), spikes)
    assert encoding.delete(spikes, 1.0).sum() == 0


@pytest.mark.parametrize("damage", [encoding.jitter, encoding.delete])
def test_damage_refuses_what_is_not_a_spike_count(damage):
    with pytest.raises(ValueError, match="non-negative whole counts"):
        damage(torch.tensor([[1.0, -1.0]]), 0.5)
    with pytest.raises(ValueError, match="non-negative whole counts"):
        damage(torch.tensor([[0.5, 1.0]]), 0.5)
    with pytest.raises(ValueError, match="time-first"):
        damage(torch.tensor(1.0), 0.5)


def test_damage_levels_are_checked():
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        encoding.jitter(torch.ones(3, 2), -1.0)
    with pytest.raises(ValueError, match=r"probability must be in \[0, 1\]"):
        encoding.delete(torch.ones(3, 2), 1.5)


def test_rate_std_follows_the_bernoulli_law_and_is_seeded():
    steps = [10, 100]
    measured = encoding.rate_std([0.2, 0.5], steps, trials=4000, seed=3)
    theory = torch.tensor([[math.sqrt(p * (1 - p) / t) for t in steps] for p in (0.2, 0.5)],
                          dtype=torch.float64)
    # a std measured from 4000 trials is off by about 1/sqrt(2 * 4000) = 1.1%; allow 5%
    assert ((measured / theory - 1).abs() < 0.05).all()
    state = torch.get_rng_state()
    assert torch.equal(measured, encoding.rate_std([0.2, 0.5], steps, trials=4000, seed=3))
    assert torch.equal(state, torch.get_rng_state())
    with pytest.raises(ValueError, match="at least 2"):
        encoding.rate_std([0.5], [10], trials=1)


def test_reconstruction_error_rate_ignores_jitter_and_deletion_hurts_latency_more():
    images = unit_data(4, 30)
    images[images < 0.3] = 0.0
    jitter = encoding.reconstruction_error(images, 50, "jitter", [0, 3], seeds=[0, 1])
    assert set(jitter) == {"rate", "latency (linear)"} and jitter["rate"].shape == (2, 2)
    # jitter keeps every spike in the window, so a rate code's count is untouched
    assert torch.equal(jitter["rate"][:, 0], jitter["rate"][:, 1])
    assert (jitter["latency (linear)"][:, 1] > jitter["latency (linear)"][:, 0]).all()
    # deleting every spike leaves the decoders nothing: both read black, error = mean(x^2)
    delete = encoding.reconstruction_error(images, 50, "delete", [0, 1.0], seeds=[0])
    for errors in delete.values():
        assert abs(errors[0, 1].item() - (images.double() ** 2).mean().item()) < 1e-9
    state = torch.get_rng_state()
    again = encoding.reconstruction_error(images, 50, "jitter", [0, 3], seeds=[0, 1])
    assert all(torch.equal(again[k], jitter[k]) for k in jitter)
    assert torch.equal(state, torch.get_rng_state())
    with pytest.raises(ValueError, match="damage must be one of"):
        encoding.reconstruction_error(images, 50, "shift", [0], seeds=[0])


# ---------------------------------------------------------------- delta
def test_delta_by_hand():
    signal = torch.tensor([0.5, 0.5, 0.65, 0.3, 0.25])
    assert encoding.delta(signal, threshold=0.1).tolist() == [1.0, 0.0, 1.0, 0.0, 0.0]
    with_off = encoding.delta(signal, threshold=0.1, off_spike=True)
    assert with_off.tolist() == [1.0, 0.0, 1.0, -1.0, 0.0]


def test_delta_first_step_compares_with_zero():
    signal = torch.tensor([[-0.5, 0.05], [-0.5, 0.05]])
    assert encoding.delta(signal, 0.1, off_spike=True)[0].tolist() == [-1.0, 0.0]


def test_delta_matches_snntorch_exactly():
    spikegen = pytest.importorskip("snntorch.spikegen")
    generator = torch.Generator().manual_seed(0)
    signal = (torch.randn(60, 4, 5, generator=generator) * 0.1).cumsum(0)
    for threshold, off_spike in itertools.product([0.01, 0.1, 0.3], [False, True]):
        ours = encoding.delta(signal, threshold, off_spike)
        theirs = spikegen.delta(signal, threshold=threshold, off_spike=off_spike)
        assert torch.equal(ours, theirs)
        assert ours.abs().sum() > 0


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("encoder", [encoding.rate, encoding.latency])
def test_data_outside_unit_range_reports_the_range_found(encoder):
    with pytest.raises(ValueError, match=r"data must lie in \[0, 1\], found values in \[-0.5, 2\]"):
        encoder(torch.tensor([-0.5, 0.3, 2.0]), 5)


@pytest.mark.parametrize("encoder", [encoding.rate, encoding.latency])
def test_num_steps_must_be_a_positive_int(encoder):
    data = torch.rand(3)
    with pytest.raises(ValueError, match="num_steps must be a positive int"):
        encoder(data, 0)
    for bad in (2.5, True, "10"):
        with pytest.raises(TypeError, match="num_steps must be a positive int"):
            encoder(data, bad)


@pytest.mark.parametrize("encoder", [encoding.rate, encoding.latency, encoding.delta])
def test_data_must_be_a_float_tensor(encoder):
    with pytest.raises(TypeError, match="data must be a torch.Tensor"):
        encoder([0.1, 0.2], 5)
    with pytest.raises(TypeError, match="floating-point.*255"):
        encoder(torch.tensor([0, 255], dtype=torch.uint8), 5)


def test_rate_gain_range():
    with pytest.raises(ValueError, match=r"gain must be in \[0, 1\]"):
        encoding.rate(torch.rand(3), 5, gain=1.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tau": 0}, "tau must be > 0"),
        ({"tau": -1.0}, "tau must be > 0"),
        ({"threshold": 0.0}, "threshold must be strictly between 0 and 1"),
        ({"threshold": 1.0}, "threshold must be strictly between 0 and 1"),
    ],
)
def test_latency_parameter_ranges(kwargs, message):
    with pytest.raises(ValueError, match=message):
        encoding.latency(torch.rand(3), 5, **kwargs)


def test_delta_argument_errors():
    with pytest.raises(ValueError, match="threshold must be > 0"):
        encoding.delta(torch.rand(5, 2), threshold=0.0)
    with pytest.raises(ValueError, match="time-first"):
        encoding.delta(torch.tensor(0.5))


@pytest.mark.parametrize("encode", [encoding.rate, encoding.latency])
def test_absurd_num_steps_is_refused_before_allocating(encode):
    with pytest.raises(ValueError, match=r"num_steps=1000000000 for data of shape \(2, 3\)"):
        encode(torch.rand(2, 3), 10**9)  # 24 GB of spikes: an error, not a crash
