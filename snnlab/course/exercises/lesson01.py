"""Checkers for the exercises of lesson 01: spike encoding.

``check_rate_code`` names: probabilities instead of samples, time last (batch-first), one value
per pixel (counts or rates) instead of a spike train, a missing gain, one sample repeated over
time, an inverted comparison (probability 1 - p), a wrong dtype.

``check_latency_code`` names: a missing tau, the log ratio upside down (a sign error), the linear
code, floor / ceil instead of rounding (off by one), steps counted from 1, "never" pixels firing
at the last step, late spikes moved to the last step instead of dropped, a spike at every step
after the crossing, time last, spike times instead of a spike train, a wrong dtype.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from snnlab.course.exercises.judge import Case, Mistake, fmt, gives, run_cases, same_tensor

# ------------------------------------------------------------------------------ rate code


def _rates(spikes: Tensor) -> Tensor:
    return spikes.detach().to(torch.float64).mean(dim=0)


def _is_spike_train(received: Any, shape: list[int]) -> bool:
    return (isinstance(received, Tensor) and list(received.shape) == shape
            and bool(((received == 0) | (received == 1)).all()))


def _rate_mistakes() -> list[Mistake]:
    def probabilities(got: Any, images: Tensor, num_steps: int, gain: float) -> bool:
        return (isinstance(got, Tensor) and got.is_floating_point()
                and not bool(((got == 0) | (got == 1)).all())
                and same_tensor(got, (gain * images).expand(got.shape)))

    def time_last(got: Any, images: Tensor, num_steps: int, gain: float) -> bool:
        return (isinstance(got, Tensor) and list(got.shape) == [*images.shape, num_steps]
                and num_steps != images.shape[0])

    def per_pixel(got: Any, images: Tensor, num_steps: int, gain: float) -> bool:
        return isinstance(got, Tensor) and list(got.shape) == list(images.shape)

    def rate_close(got: Any, images: Tensor, num_steps: int, p: Tensor) -> bool:
        shape = [num_steps, *images.shape]
        if not _is_spike_train(got, shape):
            return False
        if num_steps >= 2000:  # every rate is known to within 0.05
            return bool(((_rates(got) - p).abs() <= 0.05).all())
        certain = (p == 0) | (p == 1)  # over a few steps only these rates are known
        return bool(certain.any()) and bool((_rates(got) == p)[certain].all())

    def no_gain(got: Any, images: Tensor, num_steps: int, gain: float) -> bool:
        return gain != 1 and rate_close(got, images, num_steps, images.double())

    def inverted(got: Any, images: Tensor, num_steps: int, gain: float) -> bool:
        return rate_close(got, images, num_steps, 1 - gain * images.double())

    def repeated(got: Any, images: Tensor, num_steps: int, gain: float) -> bool:
        shape = [num_steps, *images.shape]
        uncertain = ((gain * images > 0) & (gain * images < 1)).any()
        return (num_steps > 1 and bool(uncertain) and _is_spike_train(got, shape)
                and bool((got == got[:1]).all()))

    def wrong_dtype(got: Any, images: Tensor, num_steps: int, gain: float) -> bool:
        return (isinstance(got, Tensor) and not got.is_floating_point()
                and list(got.shape) == [num_steps, *images.shape])

    return [
        Mistake("you returned the probabilities gain * images, not spikes: draw a 0/1 sample "
                "for every entry (torch.bernoulli, or torch.rand(...) < p)", probabilities),
        Mistake("your spikes have an integer or bool dtype: spikes are floats 0.0 / 1.0 "
                "(add .float())", wrong_dtype),
        Mistake("time is the last dimension of your spikes; snnlab is time-first: the result "
                "must be [num_steps, *images.shape]", time_last),
        Mistake("you returned one value per pixel (a count or a rate?), not a spike train: "
                "return all the steps, [num_steps, *images.shape]", per_pixel),
        Mistake("every step of yours is the same sample repeated: draw a fresh sample at every "
                "time step (give torch.bernoulli a tensor that already has the time dimension)",
                repeated),
        Mistake("your pixels fire with probability `pixel`, whatever the gain: the gain factor "
                "is missing (p = gain * pixel)", no_gain),
        Mistake("your pixels fire with probability 1 - p: a spike is when the uniform number "
                "is *below* p (u < p)", inverted),
    ]


def _judge_rate_code(images: Tensor, num_steps: int, gain: float) -> Callable[[Any], str | None]:
    """Rate code: spikes[t, ...] ~ Bernoulli(gain * images), shape [num_steps, *images.shape]."""
    probability = (gain * images).double()
    want_shape = [num_steps, *images.shape]

    def judge(spikes: Any) -> str | None:
        if not isinstance(spikes, Tensor):
            return f"expected a torch.Tensor of spikes, but you returned a {type(spikes).__name__}"
        if list(spikes.shape) != want_shape:
            return (f"the spikes should have shape {want_shape} (time first), "
                    f"but yours have shape {list(spikes.shape)}")
        if not spikes.is_floating_point():
            return f"spikes should be a float tensor (0.0 and 1.0), but yours are {spikes.dtype}"
        if not bool(((spikes == 0) | (spikes == 1)).all()):
            return ("every entry should be a spike (1.0) or no spike (0.0), but yours include "
                    f"{fmt(spikes[(spikes != 0) & (spikes != 1)][:4])}")
        rate = _rates(spikes)
        # Over >= 2000 steps a rate's standard error is <= 0.011, so allow 0.05. Over a few steps
        # only certain pixels (probability 0 or 1) have a known rate.
        if num_steps >= 2000:
            judged = torch.ones_like(rate, dtype=torch.bool)
            tolerance = 0.05
        else:
            judged = (probability == 0) | (probability == 1)
            tolerance = 0.0
        if not bool(((rate - probability).abs() <= tolerance)[judged].all()):
            return (f"the firing rate of each pixel (mean over time) should be about "
                    f"{fmt(probability)}, but yours is {fmt(rate)}")
        return None

    return judge


def check_rate_code(rate_code: Callable[[Tensor, int, float], Tensor]) -> bool:
    """Check ``rate_code(images, num_steps, gain) -> spikes``.

    Each pixel (in [0, 1]) fires independently at every step with probability p = gain * pixel,
    gain in [0, 1], as in ``snnlab.encoding.rate``; the result has shape
    [num_steps, *images.shape] and holds 0.0 / 1.0.
    """
    cases = []
    for what, images, num_steps, gain, hint in [
        ("time comes first in the shape", torch.full((2, 3), 0.5), 7, 1.0,
         "stack or repeat along a new first dimension of length num_steps"),
        ("black pixels never fire, white ones always do", torch.tensor([0.0, 1.0, 0.0]), 20, 1.0,
         "sample 0/1 spikes"),
        ("the firing rate equals the pixel value", torch.tensor([0.1, 0.5, 0.8]), 4000, 1.0,
         "draw a fresh random sample at every time step"),
        ("gain scales the firing rate", torch.tensor([0.2, 0.6, 1.0]), 4000, 0.5,
         "the spike probability is gain * pixel"),
        ("gain 0 silences every pixel", torch.tensor([0.3, 1.0]), 50, 0.0,
         "the spike probability is gain * pixel"),
    ]:
        judge = _judge_rate_code(images, num_steps, gain)
        cases.append(Case(what, (images, num_steps, gain), judge, hint))
    with torch.random.fork_rng(devices=[]):  # don't disturb the notebook's random stream
        torch.manual_seed(1234)
        return run_cases("check_rate_code", rate_code, cases, ("images", "num_steps", "gain"),
                         _rate_mistakes(), copy_inputs=True)


# ------------------------------------------------------------------------------ latency code


def _train(step: Tensor, fires: Tensor, num_steps: int, dims: int) -> Tensor:
    """0/1 spikes [num_steps, ...]: a spike at ``step`` where ``fires``, none elsewhere."""
    steps = torch.arange(num_steps, dtype=step.dtype).view(num_steps, *([1] * dims))
    return ((steps == step) & fires).float()


def _spike_time(images: Tensor, tau: float, threshold: float) -> Tensor:
    # In the images' dtype, as a student's code computes it (rounding depends on it).
    fires = images > threshold
    safe = torch.where(fires, images, torch.ones_like(images))
    return tau * torch.log(safe / (safe - threshold))


def reference_latency_code(images: Tensor, num_steps: int, tau: float,
                           threshold: float) -> Tensor:
    """The RC latency code: a pixel x > threshold fires once, at the step nearest to
    t = tau * ln(x / (x - threshold)); none if that is after the last step or x <= threshold."""
    fires = images > threshold
    step = torch.round(_spike_time(images, tau, threshold))
    return _train(step, fires & (step <= num_steps - 1), num_steps, images.dim())


def _latency_variant(time_of: Callable[[Tensor, float, float], Tensor],
                     to_step: Callable[[Tensor], Tensor] = torch.round,
                     never: str = "silent", late: str = "dropped", once: bool = True,
                     shift: int = 0) -> Callable[..., Tensor]:
    """A wrong latency code, built from the reference with one thing changed."""

    def code(images: Tensor, num_steps: int, tau: float, threshold: float) -> Tensor:
        fires = images > threshold
        step = to_step(time_of(images, tau, threshold)) + shift
        step = torch.where(fires, step, torch.full_like(step, num_steps - 1 if never == "last"
                                                         else float("inf")))
        fires = fires | (never == "last")
        if late == "moved":
            step = step.clamp(max=num_steps - 1)
        fires = fires & (step <= num_steps - 1)
        if once:
            return _train(step, fires, num_steps, images.dim())
        steps = torch.arange(num_steps, dtype=step.dtype).view(num_steps,
                                                               *([1] * images.dim()))
        return ((steps >= step) & fires).float()

    return code


def _no_tau(images: Tensor, tau: float, threshold: float) -> Tensor:
    return _spike_time(images, 1.0, threshold)


def _upside_down(images: Tensor, tau: float, threshold: float) -> Tensor:
    return -_spike_time(images, tau, threshold)


def _linear(images: Tensor, tau: float, threshold: float) -> Tensor:
    return tau * (1 - images)


def _latency_mistakes() -> list[Mistake]:
    def time_last(got: Any, images: Tensor, num_steps: int, tau: float, threshold: float) -> bool:
        want = reference_latency_code(images, num_steps, tau, threshold)
        return isinstance(got, Tensor) and same_tensor(got.movedim(-1, 0), want)

    def spike_times(got: Any, images: Tensor, num_steps: int, tau: float,
                    threshold: float) -> bool:
        return isinstance(got, Tensor) and list(got.shape) == list(images.shape)

    def wrong_dtype(got: Any, images: Tensor, num_steps: int, tau: float,
                    threshold: float) -> bool:
        return (isinstance(got, Tensor) and not got.is_floating_point()
                and same_tensor(got, reference_latency_code(images, num_steps, tau, threshold)))

    return [
        Mistake("time is the last dimension of your spikes; snnlab is time-first: "
                "[num_steps, *images.shape]", time_last),
        Mistake("you returned one value per pixel (the spike times?), not a spike train: "
                "return [num_steps, *images.shape] with a 1.0 at each pixel's spike step",
                spike_times),
        Mistake("your spikes have an integer or bool dtype: spikes are floats 0.0 / 1.0 "
                "(add .float())", wrong_dtype),
        Mistake("your spike times are not scaled by tau: the membrane's time constant sets "
                "the time scale, t = tau * (...)", gives(_latency_variant(_no_tau))),
        Mistake("your spike times come out negative, so the bright pixels never fire: the "
                "ratio inside the log is upside down (a sign error); solve "
                "x (1 - e^(-t/tau)) = threshold for t again",
                gives(_latency_variant(_upside_down))),
        Mistake("those are the times of the linear code, tau * (1 - x): this exercise asks for "
                "the RC (log) code you derive from U(t)", gives(_latency_variant(_linear))),
        Mistake("your spikes come one step early: round the time to the nearest step "
                "(torch.round), don't floor it", gives(_latency_variant(
                    _spike_time, to_step=torch.floor))),
        Mistake("your spikes come one step late: round the time to the nearest step "
                "(torch.round), don't ceil it", gives(_latency_variant(
                    _spike_time, to_step=torch.ceil))),
        Mistake("your spikes come one step late: steps are counted from 0, so a spike time "
                "of 0.3 is step 0", gives(_latency_variant(_spike_time, shift=1))),
        Mistake("pixels at or below the threshold fire at the last step in yours: they never "
                "reach the threshold, so they must not fire at all",
                gives(_latency_variant(_spike_time, never="last"))),
        Mistake("a spike later than the last step should be dropped, but yours is moved onto "
                "the last step", gives(_latency_variant(_spike_time, late="moved"))),
        Mistake("your pixels keep firing at every step after their spike time: a latency code "
                "fires once, at the step where the membrane first reaches the threshold",
                gives(_latency_variant(_spike_time, once=False))),
    ]


def check_latency_code(latency_code: Callable[[Tensor, int, float, float], Tensor]) -> bool:
    """Check ``latency_code(images, num_steps, tau, threshold) -> spikes``.

    Each pixel x is a constant current charging an RC membrane from U(0) = 0; it fires once, at
    the step nearest (torch.round) to the time its membrane reaches the threshold. A pixel that
    never gets there (x <= threshold), or only after the last step, does not fire. Result:
    float 0/1 spikes ``[num_steps, *images.shape]``.
    """
    generator = torch.Generator().manual_seed(1)
    cases = []
    for what, images, num_steps, tau, threshold, hint in [
        ("brighter pixels fire earlier, each once", torch.tensor([1.0, 0.5, 0.3]), 10, 5.0, 0.2,
         "solve U(t) = x (1 - exp(-t / tau)) = threshold for t"),
        ("time comes first (an image [2, 3])",
         torch.tensor([[0.9, 0.45, 0.25], [0.6, 0.35, 0.7]]), 12, 4.0, 0.15,
         "the result is [num_steps, *images.shape]"),
        ("the time scales with tau", torch.tensor([1.0, 0.5, 0.3]), 40, 20.0, 0.2,
         "the spike time is proportional to tau"),
        ("pixels at or below the threshold never fire",
         torch.tensor([0.0, 0.05, 0.1, 0.4]), 30, 3.0, 0.1,
         "for x <= threshold the membrane levels off at x and never reaches the threshold"),
        ("a spike after the last step is dropped", torch.tensor([0.95, 0.21, 0.6]), 6, 3.0, 0.2,
         "keep only spikes at steps 0 .. num_steps - 1"),
        ("a batch of random pixels", torch.rand(4, 6, generator=generator), 25, 6.0, 0.1,
         "round each time to the nearest step"),
    ]:
        expected = reference_latency_code(images, num_steps, tau, threshold)

        def judge(got: Any, e: Tensor = expected) -> str | None:
            if not isinstance(got, Tensor):
                return f"expected a torch.Tensor of spikes, but you returned a {type(got).__name__}"
            if list(got.shape) != list(e.shape):
                return (f"the spikes should have shape {list(e.shape)} (time first), "
                        f"but yours have shape {list(got.shape)}")
            if not got.is_floating_point():
                return f"spikes should be a float tensor (0.0 and 1.0), but yours are {got.dtype}"
            if not same_tensor(got, e):
                return (f"the spike steps should be {_steps(e)}, but yours are {_steps(got)} "
                        "(one entry per pixel: the step it fires at, None if silent)")
            return None

        cases.append(Case(what, (images, num_steps, tau, threshold), judge, hint))
    return run_cases("check_latency_code", latency_code, cases,
                     ("images", "num_steps", "tau", "threshold"), _latency_mistakes(),
                     copy_inputs=True)


def _steps(spikes: Tensor) -> str:
    """Each pixel's firing steps, e.g. [1, 3, None]: the readable form of a latency train."""
    flat = spikes.detach().reshape(spikes.shape[0], -1)
    shown = []
    for column in flat.T[:8]:
        when = torch.nonzero(column).flatten().tolist()
        shown.append("None" if not when else str(when[0]) if len(when) == 1 else str(when))
    more = ", ..." if flat.shape[1] > 8 else ""
    return "[" + ", ".join(shown) + more + "]"
