"""Surrogate spike functions: exact step forward, the documented derivative backward."""

import math

import pytest
import torch

from snnlab import surrogate

# The formulas from the issue, written out independently of snnlab's code.
FORMULAS = {
    "fast_sigmoid": lambda x: 1 / (25 * x.abs() + 1) ** 2,
    "atan": lambda x: (2.0 / 2) / (1 + (math.pi / 2 * 2.0 * x) ** 2),
    "sigmoid": lambda x: 25 * torch.exp(-25 * x) / (1 + torch.exp(-25 * x)) ** 2,
    "straight_through": lambda x: torch.ones_like(x),
}
FACTORIES = {
    "fast_sigmoid": surrogate.fast_sigmoid,
    "atan": surrogate.atan,
    "sigmoid": surrogate.sigmoid,
    "straight_through": surrogate.straight_through,
}


def input_grad(spike_fn, x):
    x = x.clone().requires_grad_()
    spike_fn(x).backward(torch.ones_like(x))
    return x.grad


@pytest.mark.parametrize("name", FACTORIES)
def test_forward_is_strict_heaviside_in_input_dtype(name):
    spike_fn = FACTORIES[name]()
    x = torch.tensor([-1.0, -1e-12, 0.0, 1e-12, 3.0], dtype=torch.float64)
    spikes = spike_fn(x)
    assert spikes.dtype == torch.float64
    assert spikes.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]  # fires only for x > 0
    assert spike_fn.name == name


@pytest.mark.parametrize("name", FACTORIES)
def test_backward_is_the_documented_formula(name):
    spike_fn = FACTORIES[name]()
    x = torch.linspace(-1, 1, 401, dtype=torch.float64)
    expected = FORMULAS[name](x)
    torch.testing.assert_close(input_grad(spike_fn, x), expected)
    torch.testing.assert_close(spike_fn.derivative(x), expected)


def test_backward_scales_the_incoming_gradient():
    spike_fn = surrogate.atan(alpha=3.0)
    x = torch.tensor([-0.2, 0.0, 0.4], requires_grad=True)
    upstream = torch.tensor([2.0, -1.0, 0.5])
    spike_fn(x).backward(upstream)
    torch.testing.assert_close(x.grad, upstream * spike_fn.derivative(x.detach()))


@pytest.mark.parametrize("name", FACTORIES)
def test_derivative_is_the_numerical_slope_of_smooth(name):
    """gradcheck-style: central differences of smooth() equal derivative()."""
    spike_fn = FACTORIES[name]()
    x = torch.linspace(-0.5, 0.5, 201, dtype=torch.float64)
    x = x[x.abs() > 1e-3]  # fast_sigmoid's derivative has a corner at 0: skip its neighbourhood
    eps = 1e-6
    numeric = (spike_fn.smooth(x + eps) - spike_fn.smooth(x - eps)) / (2 * eps)
    torch.testing.assert_close(numeric, spike_fn.derivative(x), rtol=1e-6, atol=1e-6)
    # smooth() is a stand-in for the step: it rises, and is halfway up its rise at x = 0
    ends = spike_fn.smooth(torch.tensor([-1e6, 1e6], dtype=torch.float64))
    middle = spike_fn.smooth(torch.tensor(0.0, dtype=torch.float64))
    assert ends[0] < middle < ends[1]
    torch.testing.assert_close(middle, ends.mean(), rtol=1e-5, atol=1e-5)


def test_parameters_change_the_curve():
    x = torch.tensor([0.1], dtype=torch.float64)
    torch.testing.assert_close(
        surrogate.fast_sigmoid(slope=5).derivative(x), 1 / (5 * x + 1) ** 2
    )
    torch.testing.assert_close(
        surrogate.atan(alpha=4).derivative(x), 2 / (1 + (math.pi * 2 * x) ** 2)
    )
    s = torch.sigmoid(10 * x)
    torch.testing.assert_close(surrogate.sigmoid(slope=10).derivative(x), 10 * s * (1 - s))
    assert repr(surrogate.atan(alpha=4)) == "atan(alpha=4)"


def test_sigmoid_gradient_stays_finite_far_below_threshold():
    grad = input_grad(surrogate.sigmoid(), torch.tensor([-50.0, -10.0, 0.0, 10.0, 50.0]))
    assert torch.isfinite(grad).all()
    assert grad[2].item() == pytest.approx(25 / 4)


SNNTORCH_NAMES = {
    "fast_sigmoid": "fast_sigmoid",
    "atan": "atan",
    "sigmoid": "sigmoid",
    "straight_through": "straight_through_estimator",
}


@pytest.mark.parametrize("name", FACTORIES)
def test_gradients_match_snntorch(name):
    snn_surrogate = pytest.importorskip("snntorch.surrogate")
    torch.manual_seed(0)
    x = torch.randn(1000) * 0.5  # float32, within the range where snnTorch's sigmoid is finite
    ours, theirs = FACTORIES[name](), getattr(snn_surrogate, SNNTORCH_NAMES[name])()
    assert torch.equal(ours(x), theirs(x))
    torch.testing.assert_close(input_grad(ours, x), input_grad(theirs, x))


@pytest.mark.parametrize(
    ("factory", "argument", "bad"),
    [
        (surrogate.fast_sigmoid, "slope", 0),
        (surrogate.fast_sigmoid, "slope", -3.0),
        (surrogate.atan, "alpha", float("nan")),
        (surrogate.sigmoid, "slope", float("inf")),
    ],
)
def test_bad_shape_parameter_is_a_value_error_naming_it(factory, argument, bad):
    with pytest.raises(ValueError, match=argument):
        factory(bad)


def test_non_number_parameter_is_a_type_error():
    with pytest.raises(TypeError, match="alpha"):
        surrogate.atan("2")


def test_calling_on_a_non_float_tensor_is_a_type_error():
    spike_fn = surrogate.atan()
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        spike_fn([0.5])
    with pytest.raises(TypeError, match="floating-point"):
        spike_fn(torch.tensor([1, 2]))


@pytest.mark.parametrize("slope", [5.0, 25.0])
def test_sigmoid_derivative_is_accurate_and_symmetric_in_float32(slope):
    """No cancellation: within float32 rounding of the float64 formula over [-2, 2]."""
    x64 = torch.linspace(-2, 2, 4001, dtype=torch.float64)
    exact = slope * torch.exp(-slope * x64) / (1 + torch.exp(-slope * x64)) ** 2
    ours = surrogate.sigmoid(slope).derivative(x64.float()).double()
    # float32 x itself is rounded, so compare with the exact value at the rounded x
    exact_at_rounded = slope * torch.exp(-slope * x64.float().double()) / (
        1 + torch.exp(-slope * x64.float().double())) ** 2
    torch.testing.assert_close(ours, exact_at_rounded, rtol=1e-5, atol=0)
    assert (ours > 0).all()  # never flushed to 0 (the old form gave 0 above x = 0.75)
    torch.testing.assert_close(ours, ours.flip(0), rtol=1e-6, atol=0)  # symmetric in x
    assert abs(ours[-1].item() - exact[-1].item()) / exact[-1].item() < 1e-5
