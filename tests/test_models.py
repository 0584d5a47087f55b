"""The four networks: shapes, input checks, and the fast path agreeing with the step loop."""

from __future__ import annotations

import pytest
import torch

from snnlab import checks, models


def _spike_train(num_steps: int, batch: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(num_steps, batch, 784, generator=generator) < 0.3).float()


CASES = {
    "fc": (lambda: models.FCSNN(num_hidden=50, num_steps=6), lambda: torch.rand(4, 1, 28, 28)),
    "fc-spikes": (lambda: models.FCSNN(num_hidden=50), lambda: _spike_train(7, 4)),
    "single": (lambda: models.SingleLayerSNN(num_steps=9), lambda: _spike_train(9, 4)),
    "csnn": (lambda: models.CSNN(num_steps=5), lambda: torch.rand(4, 1, 28, 28)),
    "sae": (lambda: models.SpikingAutoencoder(latent_dim=8, num_steps=4),
            lambda: torch.rand(4, 1, 32, 32)),
}
SHAPES = {"fc": [(6, 4, 10)] * 2, "fc-spikes": [(7, 4, 10)] * 2, "single": [(9, 4, 10)] * 2,
          "csnn": [(5, 4, 10)] * 2, "sae": [(4, 4, 8), (4, 4, 1, 32, 32)]}


@pytest.mark.parametrize("case", sorted(CASES))
def test_output_shapes_are_time_first(case):
    torch.manual_seed(0)
    build, make_input = CASES[case]
    spikes, membrane = build()(make_input())
    assert [tuple(spikes.shape), tuple(membrane.shape)] == SHAPES[case]
    if case != "sae":  # classifiers: spikes are 0/1
        assert set(spikes.unique().tolist()) <= {0.0, 1.0}


def _make_active(model: torch.nn.Module) -> None:
    """Scale the weights up so that every layer fires a fair amount (a better test)."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "weight" in name and parameter.dim() > 1:
                parameter.mul_(3.0)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_fast_forward_matches_step_by_step_loop(case, mode):
    torch.manual_seed(0)
    build, make_input = CASES[case]
    # float64, so that the two paths' different summation orders (time-batched, channels-last
    # convolutions) leave differences far below the tolerances
    fast, slow = build().double(), build().double()
    slow.load_state_dict(fast.state_dict())
    _make_active(fast)
    _make_active(slow)
    fast.train(mode == "train")
    slow.train(mode == "train")
    x = make_input().double()

    spikes_fast, membrane_fast = fast(x)
    spikes_slow, membrane_slow = slow.forward_steps(x)
    torch.testing.assert_close(spikes_fast, spikes_slow)
    torch.testing.assert_close(membrane_fast, membrane_slow, rtol=1e-5, atol=1e-5)
    # the test needs some activity to mean anything (in eval mode, the autoencoder's fresh
    # BatchNorm statistics keep its latent layer quiet; its output membrane still moves)
    assert spikes_fast.sum() > 0 or (case == "sae" and membrane_fast.abs().sum() > 0)

    # same gradients for every parameter
    (membrane_fast.square().mean() + spikes_fast.mean()).backward()
    (membrane_slow.square().mean() + spikes_slow.mean()).backward()
    for (name, p_fast), (_, p_slow) in zip(fast.named_parameters(), slow.named_parameters(),
                                           strict=True):
        torch.testing.assert_close(p_fast.grad, p_slow.grad, rtol=1e-4, atol=1e-5, msg=name)
    # and BatchNorm's running statistics moved the same way
    for (name, b_fast), (_, b_slow) in zip(fast.named_buffers(), slow.named_buffers(),
                                           strict=True):
        torch.testing.assert_close(b_fast, b_slow, msg=name)


def test_fcsnn_static_image_is_the_same_current_at_every_step():
    torch.manual_seed(0)
    model = models.FCSNN(num_hidden=40, num_steps=8)
    image = torch.rand(3, 1, 28, 28)
    repeated = image.flatten(1).expand(8, 3, 784)  # the same image as an 8-step "spike train"
    for a, b in zip(model(image), model(repeated), strict=True):
        torch.testing.assert_close(a, b)
    for a, b in zip(model(image), model(image.flatten(1)), strict=True):
        torch.testing.assert_close(a, b)


def test_single_layer_uses_the_tau_form():
    """U[t] = (1 - 1/tau) U[t-1] + W x[t] / tau, reset to zero after a spike."""
    model = models.SingleLayerSNN(tau=4.0, num_steps=3)
    with torch.no_grad():
        model.fc.weight.zero_()
        model.fc.weight[0, 0] = 2.0  # neuron 0 gets 2.0 * input 0
    x = torch.zeros(3, 1, 784)
    x[:, 0, 0] = 1.0
    _, membrane = model(x)
    # 0.5; 0.75 * 0.5 + 0.5 = 0.875; 0.75 * 0.875 + 0.5 = 1.15625
    torch.testing.assert_close(membrane[:, 0, 0], torch.tensor([0.5, 0.875, 1.15625]))
    assert model.lif.reset == "zero"


def test_single_layer_encodes_images_as_poisson_spikes():
    torch.manual_seed(0)
    model = models.SingleLayerSNN(num_steps=50)
    images = torch.zeros(2, 1, 28, 28)
    images[0] = 1.0  # always-on pixels: every input neuron fires at every step
    with torch.no_grad():
        model.fc.weight.fill_(0.01)
    spikes, membrane = model(images)
    assert spikes.shape == (50, 2, 10)
    # sample 1 sees no input spikes at all, so its membrane stays at rest
    assert membrane[:, 1].abs().max() == 0
    # sample 0 gets 784 * 0.01 / tau = 3.92 per step: over threshold at every step
    assert spikes[:, 0].min() == 1.0


def test_models_record_their_constructor_arguments():
    model = models.FCSNN(num_hidden=30, beta=0.9, num_steps=7)
    assert model.config == dict(num_inputs=784, num_hidden=30, num_outputs=10, beta=0.9,
                                num_steps=7)
    rebuilt = models.FCSNN(**model.config)
    assert rebuilt.fc1.weight.shape == (30, 784)


@pytest.mark.parametrize("build, x, words", [
    (lambda: models.FCSNN(), torch.rand(2, 3, 28, 28), ["FCSNN", "(2, 3, 28, 28)"]),
    (lambda: models.FCSNN(), torch.rand(5, 2, 100), ["spike train", "(5, 2, 100)"]),
    (lambda: models.SingleLayerSNN(), torch.rand(2, 10), ["SingleLayerSNN", "(2, 10)"]),
    (lambda: models.CSNN(), torch.rand(2, 784), ["CSNN", "[B, 1, 28, 28]"]),
    (lambda: models.SpikingAutoencoder(), torch.rand(2, 1, 28, 28),
     ["size=32", "[B, 1, 32, 32]", "(2, 1, 28, 28)"]),
    (lambda: models.SpikingAutoencoder(), torch.rand(2, 3, 32, 32), ["[B, 1, 32, 32]"]),
])
def test_wrong_input_shapes_give_clear_errors(build, x, words):
    with pytest.raises(ValueError) as error:
        build()(x)
    for word in words:
        assert word in str(error.value)


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError),
                                        (True, TypeError)])
def test_num_steps_must_be_a_positive_int(bad, error):
    with pytest.raises(error, match="num_steps must be a positive int"):
        models.CSNN(num_steps=bad)


def test_single_layer_tau_must_exceed_one():
    with pytest.raises(ValueError, match="tau"):
        models.SingleLayerSNN(tau=1.0)


# ------------------------------------------------------------------ Lesson 05: CSNN.layer_spikes


def test_csnn_layer_spikes_match_the_step_loop_layer_by_layer():
    torch.manual_seed(0)
    model = models.CSNN(num_steps=6)
    _make_active(model)
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        layers = model.layer_spikes(x)
        output_spikes, _ = model(x)
        mem1 = mem2 = mem3 = None  # the loop of forward_steps, keeping every layer's spikes
        record = {"lif1": [], "lif2": [], "lif3": []}
        for _ in range(6):
            spk1, mem1 = model.lif1(torch.nn.functional.max_pool2d(model.conv1(x), 2), mem1)
            spk2, mem2 = model.lif2(torch.nn.functional.max_pool2d(model.conv2(spk1), 2), mem2)
            spk3, mem3 = model.lif3(model.fc(spk2.flatten(1)), mem3)
            for name, spikes in (("lif1", spk1), ("lif2", spk2), ("lif3", spk3)):
                record[name].append(spikes)
    assert {name: tuple(s.shape) for name, s in layers.items()} == {
        "lif1": (6, 3, 12, 12, 12), "lif2": (6, 3, 64, 4, 4), "lif3": (6, 3, 10)}
    for name, spikes in layers.items():
        assert spikes.sum() > 0, f"{name} never fires: the comparison would mean nothing"
        torch.testing.assert_close(spikes, torch.stack(record[name]), msg=name)
    assert torch.equal(layers["lif3"], output_spikes)


def test_csnn_layer_spikes_checks_its_input():
    with pytest.raises(ValueError, match=r"CSNN: x must be images \[B, 1, 28, 28\]"):
        models.CSNN(num_steps=2).layer_spikes(torch.rand(2, 28, 28))


def test_single_layer_poisson_input_fires_with_the_pixel_probability():
    """0 never fires, 1 always fires, and a pixel in between at its own rate."""
    torch.manual_seed(0)
    image = torch.zeros(1, 784)
    image[0, :200], image[0, 200:400], image[0, 400:600] = 1.0, 0.25, 0.7
    spikes = models.SingleLayerSNN(num_steps=400)._spike_train(image)
    assert spikes.shape == (400, 1, 784) and spikes.dtype == image.dtype
    rates = spikes.mean(0)[0]
    assert rates[:200].eq(1).all() and rates[600:].eq(0).all()
    assert abs(rates[200:400].mean().item() - 0.25) < 0.01
    assert abs(rates[400:600].mean().item() - 0.7) < 0.01
    assert 0.1 < rates[200:400].min() and rates[400:600].max() < 0.9  # every pixel, not a few
    first_steps = spikes[:2, 0, 200:600]
    assert not torch.equal(first_steps[0], first_steps[1])  # fresh coins at every step

    # in a batch, each image's coins land on its own pixels
    images = torch.zeros(3, 784)
    images[0, :100], images[1, 100:200], images[2, 200:300] = 0.5, 0.5, 1.0
    rates = models.SingleLayerSNN(num_steps=400)._spike_train(images).mean(0)  # [3, 784]
    expected = torch.zeros(3, 784)
    expected[0, :100], expected[1, 100:200], expected[2, 200:300] = 0.5, 0.5, 1.0
    torch.testing.assert_close(rates, expected, atol=0.1, rtol=0)
    assert rates[expected == 0].eq(0).all() and rates[2, 200:300].eq(1).all()


# ------------------------------------------------------------------ careless inputs, every model

SMALL = {
    "FCSNN": lambda: models.FCSNN(num_hidden=8, num_steps=3),
    "SingleLayerSNN": lambda: models.SingleLayerSNN(num_steps=3),
    "CSNN": lambda: models.CSNN(num_steps=2),
    "SpikingAutoencoder": lambda: models.SpikingAutoencoder(latent_dim=4, num_steps=2),
}
SIDE = {"FCSNN": 28, "SingleLayerSNN": 28, "CSNN": 28, "SpikingAutoencoder": 32}


def _images(side: int, batch: int = 2) -> torch.Tensor:
    return torch.rand(batch, 1, side, side, generator=torch.Generator().manual_seed(1))


def _nan_at_second_image(side: int) -> torch.Tensor:
    x = _images(side)
    x[1, 0, 3, 4] = float("nan")
    return x


VALUE_CASES = {  # name: (make x from the side, error, words)
    "uint8": (lambda s: (_images(s) * 255).to(torch.uint8), TypeError, r"x.float\(\) / 255"),
    "0-255 floats": (lambda s: _images(s) * 255, ValueError, r"\[0, 1\].*x / 255"),
    "negative": (lambda s: _images(s) - 0.5, ValueError, r"x must hold .* \[0, 1\]"),
    "nan": (_nan_at_second_image, checks.NonFiniteError, r"x holds NaN: 1 of .*\(1, 0, 3, 4\)"),
    "inf": (lambda s: _images(s) / 0, checks.NonFiniteError, "x holds inf"),
    "numpy": (lambda s: _images(s).numpy(), TypeError, r"x must be a torch.Tensor.*numpy"),
    "list": (lambda s: _images(s).tolist(), TypeError, "x must be a torch.Tensor, got list"),
    "None": (lambda s: None, TypeError, "x must be a torch.Tensor, got NoneType"),
    "float64": (lambda s: _images(s).double(), TypeError, r"x is torch.float64 .* x.to\("),
    "bool": (lambda s: _images(s) > 0.5, TypeError, r"x.float\(\)"),
    "meta device": (lambda s: _images(s).to("meta"), ValueError, "x is on meta"),
    "empty batch": (lambda s: _images(s, batch=0), ValueError, "empty batch"),
    "no channel": (lambda s: _images(s)[:, 0], ValueError, "channel dimension is missing"),
    "one 2-D image": (lambda s: _images(s)[0, 0], ValueError, "channel dimension is missing"),
    "3 channels": (lambda s: torch.rand(2, 3, s, s), ValueError, "3 channels"),
    "0-dim": (lambda s: torch.tensor(0.5), ValueError, r"got \(\)"),
}


@pytest.mark.parametrize("method", ["forward", "forward_steps"])
@pytest.mark.parametrize("case", sorted(VALUE_CASES))
@pytest.mark.parametrize("name", sorted(SMALL))
def test_every_model_checks_its_input_before_any_layer(name, case, method):
    make, error, words = VALUE_CASES[case]
    model = SMALL[name]()
    with pytest.raises(error, match=words):
        getattr(model, method)(make(SIDE[name]))


@pytest.mark.parametrize("name, x, words", [
    ("FCSNN", torch.rand(2, 1, 32, 32), "size=28"),
    ("CSNN", torch.rand(2, 1, 32, 32), "size=28"),
    ("SpikingAutoencoder", torch.rand(2, 1, 28, 28), "size=32"),
    ("CSNN", torch.rand(2, 784), r"flat vector.*x.view\(-1, 1, 28, 28\)"),
    ("SpikingAutoencoder", torch.rand(2, 1024), r"flat vector.*x.view\(-1, 1, 32, 32\)"),
    ("CSNN", torch.rand(3, 2, 1, 28, 28).round(), "does not take a spike train"),
    ("FCSNN", torch.rand(0, 2, 784), "empty batch"),
    ("SingleLayerSNN", torch.rand(3, 0, 784), "empty batch"),
])
def test_wrong_image_size_flat_vectors_and_trains_are_explained(name, x, words):
    with pytest.raises(ValueError, match=words):
        SMALL[name]()(x)


@pytest.mark.parametrize("name", ["FCSNN", "SingleLayerSNN"])
def test_batch_first_spike_train_gets_the_time_first_hint(name):
    model = SMALL[name]()  # num_steps=3
    batch_first = torch.rand(2, 3, 784).round()  # [batch, num_steps, 784]
    with pytest.warns(UserWarning, match=r"time-first.*x.transpose\(0, 1\)"):
        spikes, _ = model(batch_first)
    assert spikes.shape[:2] == (2, 3)  # taken as it is: 2 steps of a batch of 3


def test_float64_is_accepted_once_the_model_is_float64():
    model = SMALL["FCSNN"]().double()
    spikes, membrane = model(_images(28).double())
    assert membrane.dtype == torch.float64 and spikes.shape == (3, 2, 10)


def test_layer_spikes_output_must_be_a_bool():
    with pytest.raises(TypeError, match="output must be True or False"):
        SMALL["CSNN"]().layer_spikes(_images(28), output="no")


@pytest.mark.parametrize("build, kwargs, error, words", [
    (models.FCSNN, dict(num_hidden=0), ValueError, "num_hidden must be a positive int"),
    (models.FCSNN, dict(num_hidden=2.5), TypeError, "num_hidden must be a positive int"),
    (models.FCSNN, dict(num_hidden=True), TypeError, "num_hidden must be a positive int"),
    (models.FCSNN, dict(num_inputs=-784), ValueError, "num_inputs must be a positive int"),
    (models.FCSNN, dict(num_outputs=None), TypeError, "num_outputs must be a positive int"),
    (models.FCSNN, dict(beta=1.5), ValueError, r"beta must be in \[0, 1\]"),
    (models.FCSNN, dict(beta="0.9"), TypeError, "beta must be a number"),
    (models.FCSNN, dict(beta=float("nan")), ValueError, "beta must be in"),
    (models.FCSNN, dict(num_steps=2.5), TypeError, "num_steps must be a positive int"),
    (models.SingleLayerSNN, dict(tau=0.5), ValueError, "tau must be > 1"),
    (models.SingleLayerSNN, dict(tau=True), TypeError, "tau must be a number"),
    (models.SingleLayerSNN, dict(tau=float("inf")), ValueError, "tau must be > 1"),
    (models.CSNN, dict(beta=-0.1), ValueError, "beta must be in"),
    (models.CSNN, dict(num_steps="25"), TypeError, "num_steps must be a positive int"),
    (models.SpikingAutoencoder, dict(latent_dim=-1), ValueError, "latent_dim must be a positive"),
    (models.SpikingAutoencoder, dict(latent_dim=True), TypeError, "latent_dim must be a positive"),
    (models.SpikingAutoencoder, dict(threshold=0), ValueError, "threshold must be finite and > 0"),
    (models.SpikingAutoencoder, dict(num_steps=0), ValueError, "num_steps must be a positive"),
])
def test_constructor_arguments_are_checked(build, kwargs, error, words):
    with pytest.raises(error, match=words):
        build(**kwargs)


def test_single_layer_forward_draws_the_coins_of_forward_steps():
    """forward draws its Poisson train in blocks of BLOCK_STEPS steps; with the same seed it
    gets the very coins forward_steps draws at once (also with a shorter last block)."""
    model = models.SingleLayerSNN(num_steps=60)  # blocks of 25, 25 and 10 steps
    assert model.BLOCK_STEPS == 25
    with torch.no_grad():
        model.fc.weight.copy_(torch.linspace(0, 0.01, 10)[:, None].expand(10, 784))
    images = torch.rand(3, 1, 28, 28)
    images[:, :, :5] = 0.0  # some pixels that never fire
    images[:, :, -5:] = 1.0  # and some that always do
    torch.manual_seed(7)
    fast = model(images)
    torch.manual_seed(7)
    steps = model.forward_steps(images)
    assert 0 < fast[0].mean() < 1
    assert torch.equal(fast[0], steps[0])
    torch.testing.assert_close(fast[1], steps[1])
    torch.manual_seed(8)
    assert not torch.equal(model(images)[1], fast[1])  # another seed, other coins
