"""ANN-to-SNN conversion (snnlab.conversion, lesson 10): the IF neuron's rate against the
bound of the module docstring, threshold balancing, the converted network's limit, and the
counts that ``run`` makes against ``snnlab.synops``."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from snnlab import conversion as cv
from snnlab import synops
from snnlab.neurons import LIF


def _ann(seed: int = 0) -> cv.ConvNet:
    torch.manual_seed(seed)
    return cv.ConvNet().eval()


def _images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------- the IF neuron
@pytest.mark.parametrize("theta", [1.0, 0.5, 2.5])
def test_rate_times_theta_approaches_relu_within_theta_over_T(theta):
    # 0 <= clip(I, 0, theta) - theta * N(T) / T <= theta / T, at every T (module docstring)
    current = torch.linspace(-1.0, 1.5, 401, dtype=torch.float64) * theta
    spikes = cv.IF(theta).spikes(current.unsqueeze(0), num_steps=256)[:, 0]  # [T, 401]
    steps = torch.arange(1, 257, dtype=torch.float64)[:, None]
    rate = spikes.cumsum(0) / steps
    error = current.clamp(0, theta) - theta * rate
    assert (error >= -1e-9).all()
    assert (error <= theta / steps + 1e-9).all()
    assert (rate[:, current < 0] == 0).all()  # a negative current never fires: relu(I) = 0
    assert (rate[:, current > theta] == 1).all()  # saturates at one spike per step
    # and the bound is not loose: some current in [0, theta] comes close to it at T = 256
    assert (error[-1] > 0.9 * theta / 256).any()


def test_membrane_stays_in_zero_theta_for_currents_in_zero_theta():
    neuron = cv.IF(0.8)
    current = torch.rand(50, generator=torch.Generator().manual_seed(1)) * 0.8
    mem = None
    for _ in range(100):
        spk, mem = neuron(current, mem)
        assert (mem >= 0).all() and (mem <= 0.8).all()
        assert set(spk.unique().tolist()) <= {0.0, 1.0}


def test_step_loop_equals_spikes_and_lif_beta_1_subtract():
    # Dyadic currents (multiples of 1/16): every sum is exact in float32, so the two reset
    # conventions (now, or one step later) must give the very same spikes.
    g = torch.Generator().manual_seed(2)
    current = torch.randint(-16, 40, (30, 6, 20), generator=g).float() / 16  # varies in time
    neuron = cv.IF(1.0)
    loop, mem = [], None
    for x in current:
        spk, mem = neuron(x, mem)
        loop.append(spk)
    assert torch.equal(torch.stack(loop), neuron.spikes(current))
    with torch.no_grad():
        lif = LIF(beta=1.0, threshold=1.0, reset="subtract").spikes(current)
    assert torch.equal(lif, neuron.spikes(current))
    constant = current[0]
    with torch.no_grad():
        lif_constant = LIF(1.0, reset="subtract").spikes(constant, num_steps=64)
    assert torch.equal(lif_constant, neuron.spikes(constant, num_steps=64))


def test_reset_to_zero_keeps_an_error_that_does_not_shrink():
    # I = 0.75, theta = 1: subtraction gives rate 0.75 (up to 1/T); reset to zero throws
    # the 0.5 above theta away at every spike, and fires every other step: rate 0.5.
    current = torch.tensor([0.75])
    subtract = cv.IF(1.0).spikes(current, num_steps=256).mean()
    with torch.no_grad():
        zero = LIF(1.0, reset="zero").spikes(current, num_steps=256).mean()
    assert abs(float(subtract) - 0.75) <= 1 / 256
    assert float(zero) == pytest.approx(0.5, abs=1 / 256)


# ---------------------------------------------------------------- balancing
def test_percentile_is_below_the_maximum_and_means_what_it_says():
    ann, images = _ann(), _images(64)
    top = cv.activation_scales(ann, images)
    robust = cv.activation_scales(ann, images, percentile=99.9)
    half = cv.activation_scales(ann, images, percentile=50.0, batch_size=10)
    with torch.no_grad():
        acts = ann.activations(images)
    for name in cv.HIDDEN:
        values = acts[name].flatten()
        assert float(top[name]) == float(values.max())
        assert 0 < float(robust[name]) < float(top[name])
        for p, scale in ((99.9, robust[name]), (50.0, half[name])):
            assert (values <= scale).double().mean() >= p / 100  # p% at or below it
            assert (values < scale).double().mean() < p / 100  # and it is the smallest such
    per_channel = cv.activation_scales(ann, images, per_channel=True)
    assert per_channel["layer1"].shape == (12,) and per_channel["layer2"].shape == (64,)
    for name in cv.HIDDEN:
        channel_max = acts[name].amax((0, 2, 3))
        expected = torch.where(channel_max > 0, channel_max, torch.ones_like(channel_max))
        assert torch.equal(per_channel[name], expected)


def test_converted_layer_one_rates_are_the_scaled_relu_within_one_over_T():
    ann, images = _ann(), _images(4)
    scales = cv.activation_scales(ann, images)  # balanced on these images: no rate above 1
    snn = cv.convert(ann, scales, num_steps=200)
    spikes = snn.layer_spikes(images)
    with torch.no_grad():
        target = ann.activations(images)["layer1"] / scales["layer1"]
    assert float(target.max()) <= 1 + 1e-6
    error = target - spikes["if1"].mean(0)
    assert float(error.min()) >= -1e-5 and float(error.max()) <= 1 / 200 + 1e-5


def test_conversion_of_a_tiny_network_reaches_the_ann_as_T_grows():
    ann, images = _ann(3), _images(4, seed=3)
    scales = cv.activation_scales(ann, images)
    with torch.no_grad():
        logits = ann(images)
    errors = []
    for num_steps in (16, 128, 1024):
        output = cv.convert(ann, scales, num_steps).layer_spikes(images)["output"]
        errors.append(float((output[-1] / num_steps - logits).abs().max()))
    scale = float(logits.abs().max())
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.02 * scale  # U[T-1] / T -> z
    snn = cv.convert(ann, scales, 1024)
    assert torch.equal(snn(images)[-1].argmax(-1), logits.argmax(-1))


def test_per_channel_scales_and_convert_leaves_the_ann_alone():
    ann, images = _ann(), _images(16)
    before = {k: v.clone() for k, v in ann.state_dict().items()}
    scales = cv.activation_scales(ann, images, per_channel=True)
    snn = cv.convert(ann, scales)
    for key, value in ann.state_dict().items():
        assert torch.equal(value, before[key])
    expected = ann.conv2.weight * scales["layer1"][None, :, None, None] \
        / scales["layer2"][:, None, None, None]
    assert torch.allclose(snn.conv2.weight, expected)
    assert torch.allclose(snn.fc.weight,
                          ann.fc.weight * scales["layer2"].repeat_interleave(16)[None])
    # one number or one per channel: one number is the same as that number for every channel
    layer = cv.activation_scales(ann, images)
    same = {k: v.expand(len(scales[k])) for k, v in layer.items()}
    assert torch.equal(cv.convert(ann, layer).conv2.weight, cv.convert(ann, same).conv2.weight)


# ---------------------------------------------------------------- run and its counts
def test_fan_out_counts_every_border():
    fan = cv.fan_out(torch.nn.Conv2d(12, 64, 5), 12)
    assert fan.shape == (12, 12)
    assert fan[0, 0] == 64 and fan[6, 6] == 64 * 25 and fan[0, 6] == 64 * 5
    assert fan.sum() == 8 * 8 * 25 * 64  # every output position's window, once each


def test_run_reads_every_T_and_counts_as_synops_does():
    ann, images = _ann(), _images(6)
    images = images * (images > 0.4)  # zeros, as MNIST's background: they cost nothing
    snn = cv.convert(ann, cv.activation_scales(ann, _images(32, seed=5), percentile=99.9))
    result = cv.run(snn, images, steps=[1, 2, 4, 8], batch_size=4)
    assert result.predictions.shape == (4, 6)
    for k, num_steps in enumerate(result.steps):
        snn.num_steps = num_steps
        layers = snn.layer_spikes(images)
        assert torch.equal(result.predictions[k], layers["output"][-1].argmax(-1))
        assert float(result.spikes["if1"][k]) == pytest.approx(float(layers["if1"].sum()) / 6)
        counted = {layer.name: layer for layer in synops.count(snn, images)}
        assert counted["conv1"].kind == "MAC" and counted["conv2"].kind == "AC"
        assert float(result.ops["conv1_MAC"][k]) == pytest.approx(counted["conv1"].ops)
        assert counted["conv1"].ops < 24 * 24 * 12 * 25  # fewer than a dense pass: zeros
        assert float(result.ops["conv2_AC"][k]) == pytest.approx(counted["conv2"].ops)
        assert float(result.ops["fc_AC"][k]) == pytest.approx(counted["fc"].ops)
        assert {n: c.ann_macs for n, c in counted.items()} == result.ann_macs
    assert sum(result.ann_macs.values()) == 1_411_840
    labels = result.predictions[-1].clone()
    assert cv.accuracy(result, labels)[-1] == 1.0
    assert cv.powers_of_two(256) == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert cv.powers_of_two(100) == [1, 2, 4, 8, 16, 32, 64]


def test_percentile_balancing_fires_more_than_max_balancing():
    ann, images = _ann(), _images(8)
    balance = _images(64, seed=9)
    counts = {}
    for p in (100.0, 99.9):
        snn = cv.convert(ann, cv.activation_scales(ann, balance, percentile=p))
        counts[p] = cv.run(snn, images, steps=[16]).spikes["if1"][0]
    assert counts[99.9] > counts[100.0]  # lower lambda_1: larger currents, higher rates


# ---------------------------------------------------------------- bad input
def test_bad_input_is_refused_in_words():
    ann, images = _ann(), _images(4)
    with pytest.raises(ValueError, match="threshold"):
        cv.IF(0.0)
    with pytest.raises(ValueError, match="time-first"):
        cv.IF().spikes(torch.ones(5))
    with pytest.raises(ValueError, match="percentile"):
        cv.activation_scales(ann, images, percentile=0)
    with pytest.raises(ValueError, match="percentile"):
        cv.activation_scales(ann, images, percentile=100.5)
    with pytest.raises(ValueError, match="images"):
        cv.activation_scales(ann, images.flatten(1))
    with pytest.raises(ValueError, match=r"\[0, 1\]|unit|range"):
        cv.activation_scales(ann, images * 3)
    with pytest.raises(TypeError, match="ConvNet"):
        cv.activation_scales(torch.nn.Linear(2, 2), images)
    with pytest.raises(TypeError, match="per_channel"):
        cv.activation_scales(ann, images, per_channel=1)
    scales = cv.activation_scales(ann, images)
    with pytest.raises(ValueError, match="keys"):
        cv.convert(ann, {"layer1": scales["layer1"]})
    with pytest.raises(ValueError, match="> 0"):
        cv.convert(ann, {**scales, "layer2": torch.tensor(0.0)})
    with pytest.raises(ValueError, match="per channel"):
        cv.convert(ann, {**scales, "layer1": torch.ones(5)})
    snn = cv.convert(ann, scales)
    with pytest.raises(ValueError, match="increasing"):
        cv.run(snn, images, steps=[4, 2])
    with pytest.raises(TypeError, match="SpikingConvNet"):
        cv.run(ann, images)
    result = cv.run(snn, images, steps=[1, 2])
    with pytest.raises(ValueError, match="labels"):
        cv.accuracy(result, torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="plain"):
        cv.fan_out(torch.nn.Conv2d(1, 1, 3, padding=1), 12)


def test_ann_shapes_and_no_biases():
    ann, images = _ann(), _images(3)
    acts = ann.activations(images)
    assert acts["layer1"].shape == (3, 12, 12, 12) and acts["layer2"].shape == (3, 64, 4, 4)
    assert torch.equal(ann(images), acts["output"]) and acts["output"].shape == (3, 10)
    assert all(m.bias is None for m in (ann.conv1, ann.conv2, ann.fc))
    # avgpool is linear: conv then pool is one linear map, the IF layer's whole input
    x = images[:1]
    assert torch.allclose(F.avg_pool2d(ann.conv1(2 * x), 2), 2 * F.avg_pool2d(ann.conv1(x), 2))
    assert math.isclose(sum(p.numel() for p in ann.parameters()), 12 * 25 + 64 * 12 * 25 + 10240)
