"""Checkers for the exercises of lesson 01: spike encoding.

``check_rate_code`` names: probabilities instead of samples, a wrong dtype, time last or second,
the pixels flattened, one value per pixel (counts or rates) instead of a spike train, a
one sample repeated over time (or a fixed rule such as p > 0.5), one random number shared by
many pixels, a missing gain, the pixel divided by the gain, an inverted comparison (probability
1 - p), torch.randn instead of torch.rand, a fair coin whatever the pixel, a clamped Poisson
draw (probability 1 - e^(-p)).

``check_latency_code`` names: time last, spike times instead of a spike train, a wrong dtype, a
missing tau, the log ratio upside down, the linear code, a membrane that decays instead of
charging, log10 instead of ln, the approximation tau * threshold / x, floor / ceil / truncation
instead of rounding, steps counted from 1, "never" pixels firing at the last step, at step 0, or
late (a clamp to just above the threshold), a pixel exactly at the threshold firing, late spikes
moved to the last step instead of dropped, a spike at every step after (or before) the crossing.

Each mistake is recognised by comparing the answer with what that mistake returns on the same
input; an answer no mistake explains gets the input, the expected and the received value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from snnlab.course.exercises.judge import Case, Mistake, fmt, gives, run_cases, same_tensor
from snnlab.i18n import tr

# ------------------------------------------------------------------------------ rate code

# The independence case: many pixels of one value, so that every step's spike count across them
# is Binomial(N, p) when each pixel draws its own random number. The dispersion statistic
#     D = sum_t (C_t - N p)^2 / (N p (1 - p))
# has mean T then (D / T = 1 +- 0.05 here); pixels that share random numbers in groups of k make
# it about k * T, so even pairs (D / T = 2 +- 0.1) fail. The check fails above 1.5 T. For a
# correct answer (N = 400, p = 0.5, T = 800) a Chernoff bound on the exact binomial law,
# P(D >= 1.5 T) <= min_s E[exp(s Z^2)]^T exp(-1.5 s T), gives a false-failure probability below
# 1e-16 (tests/test_exercises_lesson01.py computes it); the checker is seeded, so the reference
# passes every time.
INDEPENDENCE_SHAPE = (20, 20)
INDEPENDENCE_STEPS = 800
INDEPENDENCE_LIMIT = 1.5  # D / T above this fails


def _not_a_tensor(got: Any) -> str:
    return tr("expected a torch.Tensor of spikes, but you returned a {type}").format(
        type=type(got).__name__)


def _wrong_shape(shape: list[int], got: Tensor) -> str:
    return tr("the spikes should have shape {expected} (time first), but yours have shape "
              "{received}").format(expected=shape, received=list(got.shape))


def _not_float(got: Tensor) -> str:
    return tr("spikes should be a float tensor (0.0 and 1.0), but yours are {dtype}").format(
        dtype=got.dtype)


def _rates(spikes: Tensor) -> Tensor:
    return spikes.detach().to(torch.float64).mean(dim=0)


def _is_spike_train(received: Any, shape: list[int]) -> bool:
    return (isinstance(received, Tensor) and list(received.shape) == shape
            and received.is_floating_point()
            and bool(((received == 0) | (received == 1)).all()))


def dispersion(spikes: Tensor, probability: float) -> float:
    """D / T for spikes ``[T, ...]`` of pixels that all fire with ``probability``: about 1 when
    the pixels fire independently, about k when they share random numbers in groups of k."""
    num_steps = spikes.shape[0]
    count = spikes.detach().to(torch.float64).reshape(num_steps, -1)
    pixels = count.shape[1]
    variance = pixels * probability * (1 - probability)
    return float(((count.sum(1) - pixels * probability) ** 2).sum() / variance / num_steps)


def _plausible(got: Any, images: Tensor, num_steps: int, p: Tensor) -> bool:
    """Are these spikes what pixels firing with probability ``p`` (a mistake's) would give?
    Over >= 2000 steps every rate must be within 0.05; over fewer, within 4 standard errors
    (exactly, where p is 0 or 1)."""
    if not _is_spike_train(got, [num_steps, *images.shape]):
        return False
    p = p.double().clamp(0, 1)
    error = (_rates(got) - p).abs()
    if num_steps >= 2000:
        return bool((error <= 0.05).all())
    return bool((error <= 4 * (p * (1 - p) / num_steps).sqrt() + 1e-12).all())


def _rate_mistakes() -> list[Mistake]:
    def probabilities(got: Any, images: Tensor, num_steps: int, gain: float) -> bool:
        return (isinstance(got, Tensor) and got.is_floating_point()
                and not bool(((got == 0) | (got == 1)).all())
                and same_tensor(got, (gain * images).expand(got.shape)))

    def time_last(got: Any, images: Tensor, num_steps: int, gain: float) -> bool:
        return (isinstance(got, Tensor) and list(got.shape) == [*images.shape, num_steps]
                and num_steps != images.shape[0])

    def time_second(got: Any, images: Tensor, num_steps: int, gain: float) -> bool:
        return (isinstance(got, Tensor) and images.dim() >= 1 and images.shape[0] != num_steps
                and list(got.shape) == [images.shape[0], num_steps, *images.shape[1:]])

    def flattened(got: Any, images: Tensor, num_steps: int, gain: float) -> bool:
        return (isinstance(got, Tensor) and images.dim() > 1
                and list(got.shape) == [num_steps, images.numel()])

    def per_pixel(got: Any, images: Tensor, num_steps: int, gain: float) -> bool:
        return isinstance(got, Tensor) and list(got.shape) == list(images.shape)

    def wrong_dtype(got: Any, images: Tensor, num_steps: int, gain: float) -> bool:
        return (isinstance(got, Tensor) and not got.is_floating_point()
                and list(got.shape) == [num_steps, *images.shape])

    def repeated(got: Any, images: Tensor, num_steps: int, gain: float) -> bool:
        uncertain = ((gain * images > 0) & (gain * images < 1)).any()
        return (num_steps > 1 and bool(uncertain)
                and _is_spike_train(got, [num_steps, *images.shape])
                and bool((got == got[:1]).all()))

    def shared(got: Any, images: Tensor, num_steps: int, gain: float) -> bool:
        # pixels of one value that fire together at every step, along some dimension
        if not _is_spike_train(got, [num_steps, *images.shape]):
            return False
        for dim in range(images.dim()):
            if images.shape[dim] > 1 and bool((images == images.narrow(dim, 0, 1)).all()):
                uncertain = bool(((gain * images > 0) & (gain * images < 1)).any())
                if uncertain and bool((got == got.narrow(dim + 1, 0, 1)).all()):
                    return True
        return False

    def rate_is(p: Callable[[Tensor, float], Tensor | None]) -> Callable[..., bool]:
        def matches(got: Any, images: Tensor, num_steps: int, gain: float) -> bool:
            wanted = p(images.double(), gain)
            differs = wanted is not None and bool(  # else this mistake changes nothing here
                ((wanted.clamp(0, 1) - gain * images.double()).abs() > 1e-9).any())
            return differs and _plausible(got, images, num_steps, wanted)
        return matches

    normal_cdf = torch.special.ndtr
    return [
        Mistake(tr("you returned the probabilities gain * images, not spikes: draw a 0/1 sample "
                "for every entry (torch.bernoulli, or torch.rand(...) < p)"), probabilities),
        Mistake(tr("your spikes have an integer or bool dtype: spikes are floats 0.0 / 1.0 "
                "(add .float())"), wrong_dtype),
        Mistake(tr("time is the last dimension of your spikes; snnlab is time-first: the result "
                "must be [num_steps, *images.shape]"), time_last),
        Mistake(tr("time is the second dimension of your spikes (stacked along dim=1?); snnlab is "
                "time-first: the result must be [num_steps, *images.shape]"), time_second),
        Mistake(tr("your spikes are [num_steps, number of pixels]: keep the images' own shape "
                "after the time dimension, [num_steps, *images.shape]"), flattened),
        Mistake(tr("you returned one value per pixel (a count or a rate?), not a spike train: "
                "return all the steps, [num_steps, *images.shape]"), per_pixel),
        Mistake(tr("every step of yours is the same as the first, so each pixel fires at every "
                "step or never (one sample repeated over time, or a fixed rule such as p > 0.5): "
                "draw a fresh random 0/1 sample with probability p at every time step (give "
                "torch.bernoulli a tensor that already has the time dimension)"), repeated),
        Mistake(tr("your pixels share their random numbers: pixels of the same value fire or stay "
                "silent together at every step, so they are not independent (one uniform "
                "number per step broadcast over the pixels?). Give every pixel and step its "
                "own draw, e.g. torch.rand(num_steps, *images.shape)"), shared),
        Mistake(tr("your pixels fire with probability `pixel`, whatever the gain: the gain factor "
                "is missing (p = gain * pixel)"),
                rate_is(lambda x, g: x if g != 1 else None)),
        Mistake(tr("your pixels fire with probability pixel / gain: the probability is "
                "gain * pixel"), rate_is(lambda x, g: x / g if 0 < g < 1 else None)),
        Mistake(tr("your pixels fire with probability 1 - p: a spike is when the uniform number "
                "is *below* p (u < p)"), rate_is(lambda x, g: 1 - g * x)),
        Mistake(tr("torch.randn draws normal (Gaussian) numbers, so P(randn < p) is not p: "
                "compare with torch.rand, uniform on [0, 1)"),
                rate_is(lambda x, g: normal_cdf(g * x))),
        Mistake(tr("your pixels fire half the time whatever their value (a fair coin): the "
                "probability of a spike must be gain * pixel"),
                rate_is(lambda x, g: torch.full_like(x, 0.5))),
        Mistake(tr("a Poisson count clamped to 1 fires with probability 1 - e^(-p), not p (a "
                "white pixel misses a third of its steps): draw a Bernoulli sample, "
                "torch.bernoulli(p) or torch.rand(...) < p"),
                rate_is(lambda x, g: -torch.expm1(-g * x))),
    ]


def _judge_rate_code(images: Tensor, num_steps: int, gain: float) -> Callable[[Any], str | None]:
    """Rate code: spikes[t, ...] ~ Bernoulli(gain * images), shape [num_steps, *images.shape]."""
    probability = (gain * images).double()
    want_shape = [num_steps, *images.shape]
    equal = bool((probability == probability.flatten()[0]).all()) and probability.numel() >= 100

    def judge(spikes: Any) -> str | None:
        if not isinstance(spikes, Tensor):
            return _not_a_tensor(spikes)
        if list(spikes.shape) != want_shape:
            return _wrong_shape(want_shape, spikes)
        if not spikes.is_floating_point():
            return _not_float(spikes)
        if not bool(((spikes == 0) | (spikes == 1)).all()):
            return tr("every entry should be a spike (1.0) or no spike (0.0), but yours include "
                      "{values}").format(values=fmt(spikes[(spikes != 0) & (spikes != 1)][:4]))
        rate = _rates(spikes)
        # Over 4000 steps a rate's standard error is <= 0.0079, so allow 0.05 (6.3 standard
        # errors at worst: a false failure below 1e-9 per pixel). Over fewer steps only certain
        # pixels (probability 0 or 1) have a known rate.
        if num_steps >= 2000:
            judged = torch.ones_like(rate, dtype=torch.bool)
            tolerance = 0.05
        else:
            judged = (probability == 0) | (probability == 1)
            tolerance = 0.0
        if not bool(((rate - probability).abs() <= tolerance)[judged].all()):
            return tr("the firing rate of each pixel (mean over time) should be about "
                      "{expected}, but yours is {received}").format(
                          expected=fmt(probability), received=fmt(rate))
        if equal:
            p = float(probability.flatten()[0])
            spread = dispersion(spikes, p)
            if spread > INDEPENDENCE_LIMIT:
                count = spikes.detach().reshape(num_steps, -1).sum(1)
                pixels = probability.numel()
                return tr("{pixels} pixels of value {p} should fire independently, so that "
                          "each step's spike count among them is about {mean} +- {sd}; yours "
                          "are {counts} (their variance is {ratio} times the independent "
                          "one)").format(pixels=pixels, p=f"{p:g}", mean=f"{pixels * p:g}",
                                         sd=f"{math.sqrt(pixels * p * (1 - p)):.0f}",
                                         counts=fmt(count), ratio=f"{spread:.1f}")
        return None

    return judge


def check_rate_code(rate_code: Callable[[Tensor, int, float], Tensor]) -> bool:
    """Check ``rate_code(images, num_steps, gain) -> spikes``.

    Each pixel (in [0, 1]) fires independently at every step with probability p = gain * pixel,
    gain in [0, 1], as in ``snnlab.encoding.rate``; the result has shape
    [num_steps, *images.shape] and holds 0.0 / 1.0. Seeded: the same answer gets the same
    verdict every time. Probability that a correct answer with another random stream fails: the
    rate cases below 1e-8 in all, the independence case below 1e-16.
    """
    cases = []
    for what, images, num_steps, gain in [
        (tr("time comes first in the shape"), torch.full((2, 3), 0.5), 7, 1.0),
        (tr("black pixels never fire, white ones always do"), torch.tensor([0.0, 1.0, 0.0]), 400,
         1.0),
        (tr("the firing rate equals the pixel value"), torch.tensor([0.1, 0.5, 0.8]), 4000, 1.0),
        (tr("gain scales the firing rate"), torch.tensor([0.2, 0.6, 1.0]), 4000, 0.5),
        (tr("gain 0 silences every pixel"), torch.tensor([0.3, 1.0]), 50, 0.0),
        (tr("400 pixels of one grey value fire independently of each other"),
         torch.full(INDEPENDENCE_SHAPE, 0.5), INDEPENDENCE_STEPS, 1.0),
    ]:
        judge = _judge_rate_code(images, num_steps, gain)
        cases.append(Case(what, (images, num_steps, gain), judge))
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
                     never: str = "silent", late: str = "dropped", fire: str = "once",
                     shift: int = 0) -> Callable[..., Tensor]:
    """A wrong latency code, built from the reference with one thing changed.

    ``never``: what pixels x <= threshold do: "silent" (right), "last" (fire at the last
    step), "zero" (fire at step 0), "clamped" (x clamped to threshold + 1e-7, as
    ``encoding.latency`` without clip), "at threshold" (clamped, and only x < threshold
    silenced). ``late``: "dropped" (right) or "moved" onto the last step. ``fire``: "once"
    (right), "after" (at every step from the crossing on), "before" (every step up to it).
    """

    def code(images: Tensor, num_steps: int, tau: float, threshold: float) -> Tensor:
        fires = images > threshold
        if never in ("clamped", "at threshold"):
            step = to_step(time_of(images.clamp(min=threshold + 1e-7), tau, threshold)) + shift
            fires = images >= threshold if never == "at threshold" else torch.ones_like(fires)
        else:
            step = to_step(time_of(images, tau, threshold)) + shift
            if never in ("last", "zero"):
                step = torch.where(fires, step, torch.full_like(
                    step, num_steps - 1 if never == "last" else 0))
                fires = torch.ones_like(fires)
        if late == "moved":
            step = step.clamp(max=num_steps - 1)
        fires = fires & (step <= num_steps - 1)
        if fire == "once":
            return _train(step, fires, num_steps, images.dim())
        steps = torch.arange(num_steps, dtype=step.dtype).view(num_steps,
                                                               *([1] * images.dim()))
        crossed = steps >= step if fire == "after" else steps <= step
        return (crossed & fires).float()

    return code


def _safe(images: Tensor, threshold: float) -> Tensor:
    return torch.where(images > threshold, images, torch.ones_like(images))


def _no_tau(images: Tensor, tau: float, threshold: float) -> Tensor:
    return _spike_time(images, 1.0, threshold)


def _upside_down(images: Tensor, tau: float, threshold: float) -> Tensor:
    return -_spike_time(images, tau, threshold)


def _linear(images: Tensor, tau: float, threshold: float) -> Tensor:
    return tau * (1 - images)


def _decaying(images: Tensor, tau: float, threshold: float) -> Tensor:
    return tau * torch.log(_safe(images, threshold) / threshold)


def _log10(images: Tensor, tau: float, threshold: float) -> Tensor:
    x = _safe(images, threshold)
    return tau * torch.log10(x / (x - threshold))


def _approximate(images: Tensor, tau: float, threshold: float) -> Tensor:
    return tau * threshold / _safe(images, threshold)


def _never_fire(when: str) -> Callable[..., bool]:
    """Right for every pixel above the threshold; some pixels at or below it fire, once each:
    ``when`` = "zero" (at step 0), "late" (at a step >= 1), or "at threshold" (exactly those
    at the threshold fire, late)."""

    def matches(got: Any, images: Tensor, num_steps: int, tau: float, threshold: float) -> bool:
        if not (isinstance(got, Tensor) and got.is_floating_point()
                and list(got.shape) == [num_steps, *images.shape]):
            return False
        want = reference_latency_code(images, num_steps, tau, threshold)
        got_flat, want_flat = got.detach().reshape(num_steps, -1), want.reshape(num_steps, -1)
        x = images.reshape(-1)
        above = x > threshold
        if not bool(above.any()) or not same_tensor(got_flat[:, above], want_flat[:, above]):
            return False
        below = got_flat[:, ~above]
        if below.numel() == 0 or not bool(((below == 0) | (below == 1)).all()):
            return False
        count = below.sum(0)
        fired = count > 0
        if not bool(fired.any()) or bool((count > 1).any()):
            return False
        first = below.argmax(0)[fired]
        if when == "zero":
            return bool((first == 0).all())
        at = x[~above] == threshold
        if when == "at threshold":
            return bool(torch.equal(fired, at) and (first >= 1).all())
        return bool((first >= 1).all())  # "late"

    return matches


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
        Mistake(tr("time is the last dimension of your spikes; snnlab is time-first: "
                "[num_steps, *images.shape]"), time_last),
        Mistake(tr("you returned one value per pixel (the spike times?), not a spike train: "
                "return [num_steps, *images.shape] with a 1.0 at each pixel's spike step"),
                spike_times),
        Mistake(tr("your spikes have an integer or bool dtype: spikes are floats 0.0 / 1.0 "
                "(add .float())"), wrong_dtype),
        Mistake(tr("your spike times are not scaled by tau: the membrane's time constant sets "
                "the time scale, t = tau * (...)"), gives(_latency_variant(_no_tau))),
        Mistake(tr("your spike times come out negative, so the bright pixels never fire: the "
                "ratio inside the log is upside down (a sign error); solve "
                "x (1 - e^(-t/tau)) = threshold for t again"),
                gives(_latency_variant(_upside_down))),
        Mistake(tr("those are the times of the linear code, tau * (1 - x): this exercise asks for "
                "the RC (log) code you derive from U(t)"), gives(_latency_variant(_linear))),
        Mistake(tr("your times solve x e^(-t/tau) = threshold, a membrane that starts at x and "
                "decays; this one charges from U(0) = 0: U(t) = x (1 - e^(-t/tau))"),
                gives(_latency_variant(_decaying))),
        Mistake(tr("your times use log10 (base 10): the inverse of e^(-t/tau) is the natural "
                "logarithm, torch.log"), gives(_latency_variant(_log10))),
        Mistake(tr("your times are the approximation tau * threshold / x, close only for "
                "x >> threshold: use the exact solution of x (1 - e^(-t/tau)) = threshold"),
                gives(_latency_variant(_approximate))),
        Mistake(tr("your spikes come one step early: round the time to the nearest step "
                "(torch.round), don't floor or truncate it (int(), .long())"),
                gives(_latency_variant(_spike_time, to_step=torch.floor))),
        Mistake(tr("your spikes come one step late: round the time to the nearest step "
                "(torch.round), don't ceil it"), gives(_latency_variant(
                    _spike_time, to_step=torch.ceil))),
        Mistake(tr("your spikes come one step late: steps are counted from 0, so a spike time "
                "of 0.3 is step 0"), gives(_latency_variant(_spike_time, shift=1))),
        Mistake(tr("pixels at or below the threshold fire at the last step in yours: they never "
                "reach the threshold, so they must not fire at all"),
                gives(_latency_variant(_spike_time, never="last"))),
        Mistake(tr("pixels at or below the threshold fire at step 0 in yours (an undefined time "
                "replaced by 0?): they never reach the threshold, so they must not fire at all"),
                _never_fire("zero")),
        Mistake(tr("a pixel exactly at the threshold fires (late) in yours: at x = threshold the "
                "membrane only reaches it as t -> infinity, so it never fires; only "
                "x > threshold fire"), _never_fire("at threshold")),
        Mistake(tr("pixels at or below the threshold fire late in yours (x clamped to just above "
                "the threshold, as encoding.latency does without clip=True?): their membrane "
                "never reaches the threshold, so they must not fire at all"),
                _never_fire("late")),
        Mistake(tr("a spike later than the last step should be dropped, but yours is moved onto "
                "the last step"), gives(_latency_variant(_spike_time, late="moved"))),
        Mistake(tr("your pixels keep firing at every step after their spike time: a latency code "
                "fires once, at the step where the membrane first reaches the threshold"),
                gives(_latency_variant(_spike_time, fire="after"))),
        Mistake(tr("your pixels fire at every step up to their spike time: a latency code fires "
                "once, at the step where the membrane first reaches the threshold"),
                gives(_latency_variant(_spike_time, fire="before"))),
    ]


def check_latency_code(latency_code: Callable[[Tensor, int, float, float], Tensor]) -> bool:
    """Check ``latency_code(images, num_steps, tau, threshold) -> spikes``.

    Each pixel x is a constant current charging an RC membrane from U(0) = 0; it fires once, at
    the step nearest (torch.round) to the time its membrane reaches the threshold. A pixel that
    never gets there (x <= threshold), or only after the last step, does not fire. Result:
    float 0/1 spikes ``[num_steps, *images.shape]``. Deterministic: no randomness in the cases.
    """
    generator = torch.Generator().manual_seed(1)
    cases = []
    for what, images, num_steps, tau, threshold, hint in [
        (tr("brighter pixels fire earlier, each once"), torch.tensor([1.0, 0.5, 0.3]), 10, 5.0, 0.2,
         tr("solve U(t) = x (1 - exp(-t / tau)) = threshold for t")),
        (tr("time comes first (an image [2, 3])"),
         torch.tensor([[0.9, 0.45, 0.25], [0.6, 0.35, 0.7]]), 12, 4.0, 0.15, ""),
        (tr("the time scales with tau"), torch.tensor([1.0, 0.5, 0.3]), 40, 20.0, 0.2, ""),
        (tr("pixels at or below the threshold never fire"),
         torch.tensor([0.0, 0.05, 0.1, 0.4]), 30, 3.0, 0.1, ""),
        (tr("the lesson's setting: at or below the threshold means no spike, even where a late "
         "one would fit in the window"),
         torch.tensor([0.0, 0.005, 0.01, 0.0101, 0.02, 0.5, 1.0]), 100, 5.0, 0.01, ""),
        (tr("a spike after the last step is dropped"), torch.tensor([0.95, 0.21, 0.6]), 6, 3.0, 0.2,
         ""),
        (tr("a batch of random pixels"), torch.rand(4, 6, generator=generator), 25, 6.0, 0.1, ""),
    ]:
        expected = reference_latency_code(images, num_steps, tau, threshold)

        def judge(got: Any, e: Tensor = expected) -> str | None:
            if not isinstance(got, Tensor):
                return _not_a_tensor(got)
            if list(got.shape) != list(e.shape):
                return _wrong_shape(list(e.shape), got)
            if not got.is_floating_point():
                return _not_float(got)
            if not same_tensor(got, e):
                return tr("the spike steps should be {expected}, but yours are {received} (one "
                          "entry per pixel: the step it fires at, None if silent)").format(
                              expected=_steps(e), received=_steps(got))
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
