"""Lessons 01-03 checkers: the reference passes, a different correct answer passes, every
typical mistake fails with the sentence that names it, and nothing a student writes (NaN,
exceptions, None, wrong types and shapes, backward() inside, endless loops) makes a checker
raise or hang."""

from __future__ import annotations

import math

import pytest
import torch

from snnlab import encoding, surrogate
from snnlab.course.exercises import judge
from snnlab.course.exercises.lesson01 import check_latency_code, check_rate_code
from snnlab.course.exercises.lesson02 import check_beta, check_lif_layer
from snnlab.course.exercises.lesson03 import check_atan_derivative, check_spike_function
from snnlab.neurons import LIF

# ------------------------------------------------------------------ reference solutions


def rate_code(images, num_steps, gain=1.0):
    return torch.bernoulli((gain * images).expand(num_steps, *images.shape))


def latency_code(images, num_steps, tau, threshold):
    fires = images > threshold
    safe = torch.where(fires, images, torch.ones_like(images))
    time = tau * torch.log(safe / (safe - threshold))
    step = torch.where(fires, torch.round(time), torch.full_like(time, math.inf))
    steps = torch.arange(num_steps).view(-1, *[1] * images.dim())
    return (steps == step).float()


def beta_from_tau(tau, dt):
    return math.exp(-dt / tau)


def lif_layer(currents, beta, threshold):
    mem, spikes, membrane = torch.zeros_like(currents[0]), [], []
    for current in currents:
        reset = (mem > threshold).float()
        mem = beta * mem + current - reset * threshold
        spikes.append((mem > threshold).float())
        membrane.append(mem)
    return torch.stack(spikes), torch.stack(membrane)


def atan_derivative(x, alpha):
    return (alpha / 2) / (1 + (math.pi / 2 * alpha * x) ** 2)


def spike_class(derivative=lambda x: 1 / (10 * x.abs() + 1) ** 2, forward=None,
                backward=None):
    """A torch.autograd.Function: the exact step forward, grad * derivative backward, unless
    ``forward(x)`` / ``backward(x, grad)`` replace them (to build mistakes)."""

    class Spike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return forward(x) if forward else (x > 0).to(x.dtype)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return backward(x, grad_output) if backward else grad_output * derivative(x)

    return Spike


# Different but correct: other formulas, other loops, other libraries' functions.


def rate_code_by_comparison(images, num_steps, gain=1.0):
    return (torch.rand(num_steps, *images.shape) < gain * images).float()


def latency_code_by_log1p(images, num_steps, tau, threshold):
    out = torch.zeros(num_steps, *images.shape)
    flat = out.view(num_steps, -1)
    for i, x in enumerate(images.flatten().tolist()):
        if x > threshold:
            step = round(-tau * math.log1p(-threshold / x))
            if step <= num_steps - 1:
                flat[step, i] = 1.0
    return out


def lif_layer_with_snnlab(currents, beta, threshold):
    return LIF(beta=beta, threshold=threshold).sequence(currents)


SOLUTIONS = [
    (check_rate_code, rate_code), (check_rate_code, rate_code_by_comparison),
    (check_latency_code, latency_code), (check_latency_code, latency_code_by_log1p),
    (check_beta, beta_from_tau), (check_beta, lambda tau, dt: float(torch.exp(torch.tensor(
        -dt / tau, dtype=torch.float64)))),
    (check_lif_layer, lif_layer), (check_lif_layer, lif_layer_with_snnlab),
    (check_atan_derivative, atan_derivative),
    (check_atan_derivative, lambda x, alpha: surrogate.atan(alpha).derivative(x)),
    (check_spike_function, spike_class()),
    (check_spike_function, spike_class(lambda x: surrogate.atan(2.0).derivative(x))),
]


@pytest.mark.parametrize("check, solution", SOLUTIONS)
def test_correct_answers_pass(check, solution, capsys):
    assert check(solution) is True
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"✓ {check.__name__}: passed ") and "\n" not in out


def test_the_latency_reference_is_snnlab_latency_code_with_clip():
    images = torch.rand(3, 7, generator=torch.Generator().manual_seed(0)) * 0.9 + 0.05
    ours = latency_code(images, 30, 4.0, 0.02)
    assert torch.equal(ours, encoding.latency(images, 30, tau=4.0, threshold=0.02, clip=True))


# ------------------------------------------------------------------ typical mistakes
# Each wrong answer is written the way a student would write it; the checker must name it.


def _latency(time_of, to_step=torch.round, never_last=False, move_late=False, every_step=False,
             shift=0):
    def code(images, num_steps, tau, threshold):
        fires = images > threshold
        safe = torch.where(fires, images, torch.ones_like(images))
        step = to_step(time_of(safe, tau, threshold)) + shift
        if never_last:
            step = torch.where(fires, step, torch.full_like(step, num_steps - 1))
            fires = torch.ones_like(fires)
        if move_late:
            step = step.clamp(max=num_steps - 1)
        steps = torch.arange(num_steps).view(-1, *[1] * images.dim())
        hit = (steps >= step) if every_step else (steps == step)
        return (hit & fires).float()

    return code


def log_time(x, tau, threshold):
    return tau * torch.log(x / (x - threshold))


def _lif(reset="previous", compare=torch.gt, leak=True, fixed_threshold=None, lag=None,
         dim=0, as_list=False, swap=False, spike_dtype=torch.float32):
    def layer(currents, beta, threshold):
        theta = fixed_threshold or threshold
        b = beta if leak else 1.0
        mem, last, spikes, membrane = torch.zeros_like(currents[0]), None, [], []
        for current in currents:
            fired_before = compare(mem, theta).float()
            if reset == "previous":
                mem = b * mem + current - fired_before * theta
            elif reset == "zero":
                mem = b * (1 - fired_before) * mem + current
            elif reset == "none":
                mem = b * mem + current
            elif reset == "decayed":
                mem = b * (mem - (last if last is not None else 0) * theta) + current
            if reset == "current":  # spike, then reset in the same step, from this membrane
                mem = b * mem + current
                s = compare(mem, theta).float()
                mem = mem - s * theta
            else:
                s = compare(mem, theta).float()
            last = s
            spikes.append(s)
            membrane.append(mem)
        if lag == "membrane":
            membrane = [torch.zeros_like(membrane[0])] + membrane[:-1]
        if lag == "spikes":
            spikes = [torch.zeros_like(spikes[0])] + spikes[:-1]
        if as_list:
            return spikes, membrane
        out = torch.stack(spikes, dim).to(spike_dtype), torch.stack(membrane, dim)
        return out[::-1] if swap else out

    return layer


def _derivative_of(fn):
    return spike_class(backward=fn)


MISTAKES = [
    # lesson 01: rate code
    (check_rate_code, lambda im, n, gain=1.0: (gain * im).expand(n, *im.shape),
     "probabilities gain * images, not spikes"),
    (check_rate_code, lambda im, n, gain=1.0: torch.bernoulli(
        (gain * im).unsqueeze(-1).expand(*im.shape, n)), "time is the last dimension"),
    (check_rate_code, lambda im, n, gain=1.0: torch.bernoulli(
        (gain * im).expand(n, *im.shape)).sum(0), "one value per pixel"),
    (check_rate_code, lambda im, n, gain=1.0: torch.bernoulli(gain * im).expand(n, *im.shape),
     "one sample repeated"),
    (check_rate_code, lambda im, n, gain=1.0: torch.bernoulli(im.expand(n, *im.shape)),
     "gain factor is missing"),
    (check_rate_code, lambda im, n, gain=1.0: (torch.rand(n, *im.shape) > gain * im).float(),
     "probability 1 - p"),
    (check_rate_code, lambda im, n, gain=1.0: torch.rand(n, *im.shape) < gain * im,
     "integer or bool dtype"),
    # lesson 01: latency code
    (check_latency_code, _latency(lambda x, tau, th: log_time(x, 1.0, th)), "not scaled by tau"),
    (check_latency_code, _latency(lambda x, tau, th: tau * torch.log((x - th) / x)),
     "upside down"),
    (check_latency_code, _latency(lambda x, tau, th: tau * (1 - x)), "linear code"),
    (check_latency_code, _latency(log_time, to_step=torch.floor), "don't floor or truncate it"),
    (check_latency_code, _latency(log_time, to_step=torch.ceil), "don't ceil it"),
    (check_latency_code, _latency(log_time, shift=1), "counted from 0"),
    (check_latency_code, _latency(log_time, never_last=True), "must not fire at all"),
    (check_latency_code, _latency(log_time, move_late=True), "moved onto the last step"),
    (check_latency_code, _latency(log_time, every_step=True), "keep firing at every step"),
    (check_latency_code, lambda *a: latency_code(*a).movedim(0, -1), "time is the last"),
    (check_latency_code, lambda im, n, tau, th: log_time(im, tau, th), "spike times?"),
    (check_latency_code, lambda *a: latency_code(*a).bool(), "integer or bool dtype"),
    # lesson 02: exact beta
    (check_beta, lambda tau, dt: torch.exp(torch.tensor(-dt / tau)), "you returned a tensor"),
    (check_beta, lambda tau, dt: 1 - dt / tau, "Euler's beta"),
    (check_beta, lambda tau, dt: math.exp(-tau / dt), "upside down"),
    (check_beta, lambda tau, dt: math.exp(dt / tau), "sign error"),
    (check_beta, lambda tau, dt: math.exp(-1 / tau), "dt is missing"),
    # lesson 02: LIF layer
    (check_lif_layer, _lif(reset="current"), "reset was computed from the current membrane"),
    (check_lif_layer, _lif(reset="decayed"), "multiplied by beta"),
    (check_lif_layer, _lif(compare=torch.ge), "not >="),
    (check_lif_layer, _lif(leak=False), "leak is missing"),
    (check_lif_layer, _lif(reset="zero"), "reset to zero"),
    (check_lif_layer, _lif(reset="none"), "never reset"),
    (check_lif_layer, _lif(lag="membrane"), "membrane is one step behind"),
    (check_lif_layer, _lif(lag="spikes"), "spikes are one step late"),
    (check_lif_layer, _lif(fixed_threshold=1.0), "threshold is fixed at 1"),
    (check_lif_layer, _lif(swap=True), "return (spikes, membrane)"),
    (check_lif_layer, _lif(dim=1), "time is not the first dimension"),
    (check_lif_layer, _lif(as_list=True), "Python lists"),
    (check_lif_layer, _lif(spike_dtype=torch.bool), "bool or int"),
    # lesson 03: arctan derivative
    (check_atan_derivative, lambda x, a: 1 / (math.pi * (1 + (math.pi / 2 * a * x) ** 2)),
     "chain-rule factor is missing"),
    (check_atan_derivative, lambda x, a: (math.pi / 2 * a) / (1 + (math.pi / 2 * a * x) ** 2),
     "1/pi in front"),
    (check_atan_derivative, lambda x, a: (a / 2) / (1 + (a * x) ** 2), "pi/2 is missing"),
    (check_atan_derivative, lambda x, a: (a / 2) / (1 - (math.pi / 2 * a * x) ** 2),
     "with a plus"),
    (check_atan_derivative, lambda x, a: -atan_derivative(x, a), "sign error"),
    (check_atan_derivative, lambda x, a: 0.5 + torch.atan(math.pi / 2 * a * x) / math.pi,
     "the smooth curve itself"),
    # lesson 03: a spike Function
    (check_spike_function, spike_class(forward=lambda x: torch.sigmoid(10 * x)),
     "exact step H(x)"),
    (check_spike_function, spike_class(forward=lambda x: (x >= 0).to(x.dtype)), "not x >= 0"),
    (check_spike_function, spike_class(forward=lambda x: x > 0), "bool or int"),
    (check_spike_function, _derivative_of(lambda x, g: 1 / (10 * x.abs() + 1) ** 2),
     "ignores grad_output"),
    (check_spike_function, _derivative_of(lambda x, g: -g / (10 * x.abs() + 1) ** 2),
     "sign error"),
    (check_spike_function, _derivative_of(lambda x, g: torch.zeros_like(x)), "returns zeros"),
    (check_spike_function, _derivative_of(lambda x, g: g * (x / x) / (10 * x.abs() + 1) ** 2),
     "contains NaN"),
    (check_spike_function, _derivative_of(lambda x, g: g / x.abs().sqrt()), "contains NaN"),
    (check_spike_function, _derivative_of(lambda x, g: g.sum()), "wrong shape"),
    (check_spike_function, _derivative_of(lambda x, g: g * (x.abs() < 1e-3).to(x.dtype)),
     "does not learn"),
]


@pytest.mark.parametrize("check, wrong, words", MISTAKES)
def test_typical_mistake_is_named(check, wrong, words, capsys):
    assert check(wrong) is False
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"✗ {check.__name__}: case ") and "\n" not in out
    assert words in out, out


def test_each_mistake_has_its_own_message(capsys):
    messages, seen = {}, set()
    for check, wrong, words in MISTAKES:
        if (check, words) in seen:  # two ways to make the same mistake
            continue
        seen.add((check, words))
        check(wrong)
        messages.setdefault(check.__name__, []).append(capsys.readouterr().out.split(": ", 2)[-1])
    for name, texts in messages.items():
        explained = [t.split(" with ")[-1] for t in texts]
        assert len(set(explained)) == len(explained), name


def test_a_forward_with_a_parameter_is_named(capsys):
    class WithSlope(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, slope):
            return (x > 0).to(x.dtype)

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, None

    assert check_spike_function(WithSlope) is False
    assert "forward must take x only" in capsys.readouterr().out


def test_an_unknown_mistake_falls_back_to_input_expected_received(capsys):
    assert check_lif_layer(_lif(fixed_threshold=0.7)) is False
    out = capsys.readouterr().out
    assert "with currents=" in out and "should be [" in out and "but yours is [" in out


# ------------------------------------------------------------------ anything a student writes

ALL_CHECKS = [(check_rate_code, 3), (check_latency_code, 4), (check_beta, 2),
              (check_lif_layer, 3), (check_atan_derivative, 2)]


@pytest.mark.parametrize("check, arity", ALL_CHECKS)
@pytest.mark.parametrize("answer", [
    lambda *args: None, lambda *args: "spikes", lambda *args: torch.zeros(3, 1, 7),
    lambda *args: float("nan"), lambda *args: [1, 2], lambda *args: (torch.zeros(2),),
    lambda *args: torch.zeros(2, dtype=torch.complex64), lambda *args: object(),
])
def test_odd_answers_fail_with_one_line(check, arity, answer, capsys):
    assert check(answer) is False
    out = capsys.readouterr().out
    assert out.startswith(f"✗ {check.__name__}: case 1 ") and out.count("\n") == 1


@pytest.mark.parametrize("check, arity", ALL_CHECKS)
def test_nan_answers_never_pass(check, arity, capsys):
    correct = {check_rate_code: rate_code, check_latency_code: latency_code,
               check_beta: beta_from_tau, check_lif_layer: lif_layer,
               check_atan_derivative: atan_derivative}[check]

    def with_nan(*args):
        out = correct(*args)
        if isinstance(out, tuple):
            return out[0], out[1] * float("nan")
        if isinstance(out, float):
            return float("nan")
        return out * float("nan")

    assert check(with_nan) is False
    assert "contains NaN" in capsys.readouterr().out


def test_a_nan_tensor_is_never_equal_even_where_nan_is_expected():
    assert judge.compare_tensor(torch.tensor([float("nan")]), torch.tensor([float("nan")]),
                                "x") is not None
    assert judge.compare_tensor(torch.tensor([math.inf]), torch.tensor([math.inf]), "x") is None


@pytest.mark.parametrize("error", [ValueError("bad value"), ZeroDivisionError("division by zero"),
                                   KeyError("k"), RecursionError("deep")])
def test_exceptions_are_reported_by_type_and_message(error, capsys):
    def raises(*args):
        raise error

    assert check_lif_layer(raises) is False
    out = capsys.readouterr().out
    assert f"your function raised {type(error).__name__}" in out and "Traceback" not in out


def test_system_exit_inside_the_function_is_reported_not_raised(capsys):
    def exits(*args):
        raise SystemExit(3)

    assert check_beta(exits) is False
    assert "raised SystemExit" in capsys.readouterr().out


def test_backward_called_inside_the_function_is_reported(capsys):
    def calls_backward(x, alpha):
        y = atan_derivative(x, alpha)
        y.sum().backward()  # x does not require grad: autograd raises
        return y

    assert check_atan_derivative(calls_backward) is False
    out = capsys.readouterr().out
    assert "raised RuntimeError" in out and "does not require grad" in out


def test_backward_inside_a_spike_function_is_reported(capsys):
    class Calls(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.sum().backward()
            return (x > 0).to(x.dtype)

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    assert check_spike_function(Calls) is False
    assert "✗ check_spike_function: case 1" in capsys.readouterr().out


def test_a_function_that_changes_its_inputs_cannot_change_the_cases(capsys):
    def spoils(currents, beta, threshold):
        out = lif_layer(currents, beta, threshold)
        currents.mul_(0)
        return out

    assert check_lif_layer(spoils) is True


@pytest.mark.parametrize("check", [check_lif_layer, check_beta, check_latency_code])
def test_an_endless_loop_is_stopped_at_the_time_limit(check, monkeypatch, capsys):
    monkeypatch.setattr(judge, "TIME_LIMIT_SECONDS", 0.3)

    def forever(*args):
        while True:
            pass

    assert check(forever) is False
    out = capsys.readouterr().out
    assert "ran longer than the 0.3 s time limit" in out and "stopped" in out


def test_an_endless_loop_that_catches_exceptions_is_stopped_too(monkeypatch, capsys):
    monkeypatch.setattr(judge, "TIME_LIMIT_SECONDS", 0.3)

    def stubborn(*args):
        while True:
            try:
                sum(range(1000))
            except Exception:
                pass

    assert check_beta(stubborn) is False
    assert "time limit" in capsys.readouterr().out


def test_the_stopped_thread_really_ends():
    status, _ = judge.call_with_time_limit(lambda: [None for _ in iter(int, 1)], (), 0.2)
    assert status == "stopped"
    assert not any(t.name == "snnlab-checker" and t.is_alive()
                   for t in __import__("threading").enumerate())


def test_passing_a_result_or_an_instance_is_explained(capsys):
    assert check_beta(0.5) is False
    assert "pass your function itself" in capsys.readouterr().out
    assert check_spike_function(lambda x: x) is False
    assert "pass your class itself" in capsys.readouterr().out


@pytest.mark.parametrize("check", [check_rate_code, check_latency_code, check_beta,
                                   check_lif_layer, check_atan_derivative])
def test_stub_reports_not_implemented(check, capsys):
    def stub(*args):
        """Signature + docstring, as in the student handout."""
        # YOUR CODE HERE
        raise NotImplementedError

    assert check(stub) is False
    assert capsys.readouterr().out.startswith(f"… {check.__name__}: not implemented yet")


def test_a_stubbed_spike_class_reports_not_implemented(capsys):
    class Stub(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            raise NotImplementedError

        @staticmethod
        def backward(ctx, grad_output):
            raise NotImplementedError

    assert check_spike_function(Stub) is False
    assert capsys.readouterr().out.startswith("… check_spike_function: not implemented yet")


def test_checks_leave_the_global_random_stream_alone():
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    check_rate_code(rate_code)
    check_spike_function(spike_class())
    assert torch.equal(torch.rand(3), expected)


def test_a_call_python_cannot_interrupt_is_left_behind_with_a_message(monkeypatch, capsys):
    monkeypatch.setattr(judge, "TIME_LIMIT_SECONDS", 0.2)

    def sleeps(*args):  # one C call: the TimeLimit exception waits until it returns
        __import__("time").sleep(3)

    assert check_beta(sleeps) is False
    out = capsys.readouterr().out
    assert "0.2 s time limit" in out and "keeps running in the background" in out
