"""Lesson 01 checkers against a catalogue of wrong answers written the way students write them.

Every wrong answer must fail; each one a named mistake explains must fail with exactly that
mistake's sentence; the share of wrong answers that get a named message is measured and must
stay at 80% or more. Also: the edge cases (a value exactly at the threshold, a clamped time
inside the window, many pixels of one value), NaN, None, raising, slow answers, and several
different correct answers.
"""

from __future__ import annotations

import math
import time

import pytest
import torch

from snnlab import encoding
from snnlab.course.exercises import judge, lesson01
from snnlab.course.exercises.lesson01 import check_latency_code, check_rate_code

# ------------------------------------------------------------------ correct answers


def rate_bernoulli(images, num_steps, gain=1.0):
    return torch.bernoulli((gain * images).expand(num_steps, *images.shape))


def rate_uniform(images, num_steps, gain=1.0):
    return (torch.rand(num_steps, *images.shape) < gain * images).float()


def rate_loop(images, num_steps, gain=1.0):
    return torch.stack([torch.bernoulli(gain * images) for _ in range(num_steps)])


def rate_library(images, num_steps, gain=1.0):
    return encoding.rate(images, num_steps, gain)


def latency_where(images, num_steps, tau, threshold):
    fires = images > threshold
    safe = torch.where(fires, images, torch.ones_like(images))
    step = torch.where(fires, torch.round(tau * torch.log(safe / (safe - threshold))),
                       torch.full_like(images, math.inf))
    steps = torch.arange(num_steps).view(-1, *[1] * images.dim())
    return (steps == step).float()


def latency_loop(images, num_steps, tau, threshold):
    out = torch.zeros(num_steps, *images.shape)
    flat = out.view(num_steps, -1)
    for i, x in enumerate(images.flatten().tolist()):
        if x > threshold:
            step = round(-tau * math.log1p(-threshold / x))
            if step <= num_steps - 1:
                flat[step, i] = 1.0
    return out


def latency_nan_then_compare(images, num_steps, tau, threshold):
    # the log of a negative number is NaN, and NaN equals no step: no spike, as it should be
    time_ = tau * torch.log(images / (images - threshold))
    time_ = torch.where(images > threshold, time_, torch.full_like(time_, math.nan))
    steps = torch.arange(num_steps).view(-1, *[1] * images.dim())
    return (steps == torch.round(time_)).float()


def latency_library(images, num_steps, tau, threshold):
    return encoding.latency(images, num_steps, tau=tau, threshold=threshold, clip=True)


CORRECT = [(check_rate_code, f) for f in (rate_bernoulli, rate_uniform, rate_loop, rate_library)]
CORRECT += [(check_latency_code, f) for f in (latency_where, latency_loop,
                                              latency_nan_then_compare, latency_library)]


@pytest.mark.parametrize("check, answer", CORRECT)
def test_correct_answers_pass(check, answer, capsys):
    assert check(answer) is True
    assert capsys.readouterr().out.startswith(f"✓ {check.__name__}: passed ")


@pytest.mark.parametrize("seed", range(5))
def test_a_correct_rate_code_passes_whatever_random_stream_it_draws_from(seed, capsys):
    generator = torch.Generator().manual_seed(seed)

    def answer(images, num_steps, gain=1.0):
        u = torch.rand(num_steps, *images.shape, generator=generator)
        return (u < gain * images).float()

    assert check_rate_code(answer) is True


# ------------------------------------------------------------------ the catalogue


def _rate(images, num_steps, gain=1.0):
    return gain * images


def _expand(x, n):
    return x.expand(n, *x.shape)


RATE_WRONG = {
    # name: (answer, the words of its message, or None where no named mistake applies)
    "probabilities": (lambda im, n, g=1.0: _expand(g * im, n), "probabilities gain * images"),
    "bool dtype": (lambda im, n, g=1.0: torch.rand(n, *im.shape) < g * im,
                   "integer or bool dtype"),
    "time last": (lambda im, n, g=1.0: torch.bernoulli((g * im).unsqueeze(-1).expand(
        *im.shape, n)), "time is the last dimension"),
    "stacked on dim 1": (lambda im, n, g=1.0: torch.stack(
        [torch.bernoulli(g * im) for _ in range(n)], dim=1), "time is the second dimension"),
    "flattened": (lambda im, n, g=1.0: torch.bernoulli(_expand(g * im.flatten(), n)),
                  "[num_steps, number of pixels]"),
    "counts": (lambda im, n, g=1.0: torch.bernoulli(_expand(g * im, n)).sum(0),
               "one value per pixel"),
    "one sample repeated": (lambda im, n, g=1.0: _expand(torch.bernoulli(g * im), n),
                            "one sample repeated"),
    "one uniform per pixel": (lambda im, n, g=1.0: _expand((torch.rand_like(im) < g * im)
                                                           .float(), n), "one sample repeated"),
    "threshold at 0.5": (lambda im, n, g=1.0: _expand((g * im > 0.5).float(), n),
                         "one sample repeated"),
    "rounded": (lambda im, n, g=1.0: _expand(torch.round(g * im), n),
                "one sample repeated"),
    "one uniform per step": (lambda im, n, g=1.0: (torch.rand(n, *[1] * im.dim())
                                                   < g * im).float(), "share their random"),
    "shared over a batch": (lambda im, n, g=1.0: (torch.rand(n, 1, *im.shape[1:]) < g * im)
                            .float(), "share their random"),
    "no gain": (lambda im, n, g=1.0: torch.bernoulli(_expand(im, n)), "gain factor is missing"),
    "divided by gain": (lambda im, n, g=1.0: (torch.rand(n, *im.shape) < im / g).float(),
                        "pixel / gain"),
    "inverted": (lambda im, n, g=1.0: (torch.rand(n, *im.shape) > g * im).float(),
                 "probability 1 - p"),
    "randn": (lambda im, n, g=1.0: (torch.randn(n, *im.shape) < g * im).float(),
              "torch.randn draws normal"),
    "fair coin": (lambda im, n, g=1.0: torch.randint(0, 2, (n, *im.shape)).float(),
                  "half the time whatever their value"),
    "clamped Poisson": (lambda im, n, g=1.0: torch.poisson(_expand(g * im, n)).clamp(max=1),
                        "Poisson count clamped to 1"),
    # no named mistake for these: the generic message (expected / received) must do
    "gain squared": (lambda im, n, g=1.0: torch.bernoulli(_expand(g * g * im, n)), None),
    "batch-first list": (lambda im, n, g=1.0: [torch.bernoulli(g * im) for _ in range(n)],
                         None),
}


def _latency(time_of, **kwargs):
    return lesson01._latency_variant(time_of, **kwargs)


def _log_time(x, tau, th):
    return lesson01._spike_time(x, tau, th)


def _library_clamp(im, n, tau, th):  # encoding.latency without clip: "never" becomes late
    return encoding.latency(im, n, tau=tau, threshold=th)


def _clamp_below_only(im, n, tau, th):  # a student's clip that keeps x == threshold
    x = im.clamp(min=th + 1e-9)
    step = torch.round(tau * torch.log(x / (x - th)))
    steps = torch.arange(n).view(-1, *[1] * im.dim())
    return ((steps == step) & (im >= th)).float()


def _nan_to_zero(im, n, tau, th):
    step = torch.nan_to_num(torch.round(tau * torch.log(im / (im - th))), nan=0.0, posinf=0.0)
    steps = torch.arange(n).view(-1, *[1] * im.dim())
    return (steps == step).float()


def _truncated(im, n, tau, th):
    fires = im > th
    safe = torch.where(fires, im, torch.ones_like(im))
    step = (tau * torch.log(safe / (safe - th))).long()
    out = torch.zeros(n, *im.shape)
    flat, steps, on = out.view(n, -1), step.flatten(), fires.flatten()
    for i in range(steps.numel()):
        if on[i] and steps[i] < n:
            flat[steps[i], i] = 1.0
    return out


LATENCY_WRONG = {
    "no tau": (_latency(lesson01._no_tau), "not scaled by tau"),
    "upside down": (_latency(lesson01._upside_down), "upside down"),
    "linear code": (_latency(lesson01._linear), "linear code"),
    "decaying membrane": (_latency(lesson01._decaying), "starts at x and decays"),
    "log10": (_latency(lesson01._log10), "log10"),
    "approximation": (_latency(lesson01._approximate), "the approximation tau * threshold / x"),
    "floor": (_latency(_log_time, to_step=torch.floor), "don't floor or truncate it"),
    "truncated": (_truncated, "don't floor or truncate it"),
    "ceil": (_latency(_log_time, to_step=torch.ceil), "don't ceil it"),
    "counted from 1": (_latency(_log_time, shift=1), "counted from 0"),
    "never at the last step": (_latency(_log_time, never="last"), "fire at the last step"),
    "never at step 0": (_nan_to_zero, "fire at step 0"),
    "clamped like the library": (_library_clamp, "fire late in yours"),
    "clamp with x < threshold silenced": (_clamp_below_only, "exactly at the threshold fires"),
    "late moved": (_latency(_log_time, late="moved"), "moved onto the last step"),
    "every step after": (_latency(_log_time, fire="after"), "every step after"),
    "every step before": (_latency(_log_time, fire="before"), "every step up to"),
    "time last": (lambda *a: latency_where(*a).movedim(0, -1), "time is the last"),
    "spike times": (lambda im, n, tau, th: _log_time(im, tau, th), "spike times?"),
    "bool": (lambda *a: latency_where(*a).bool(), "integer or bool dtype"),
    # no named mistake: the generic message must do
    "times doubled": (_latency(lambda x, tau, th: 2 * _log_time(x, tau, th)), None),
    "half the threshold": (_latency(lambda x, tau, th: tau * torch.log(x / (x - th / 2))),
                           None),
}

CATALOGUE = [(check_rate_code, name, *entry) for name, entry in RATE_WRONG.items()]
CATALOGUE += [(check_latency_code, name, *entry) for name, entry in LATENCY_WRONG.items()]


@pytest.mark.parametrize("check, name, answer, words", CATALOGUE,
                         ids=[f"{c.__name__}-{n}" for c, n, _, _ in CATALOGUE])
def test_every_wrong_answer_fails_with_its_own_message(check, name, answer, words, capsys):
    assert check(answer) is False
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"✗ {check.__name__}: case ") and "\n" not in out
    if words is not None:
        assert words in out, out
    else:  # the fallback shows what was expected and what came back, and names nothing
        assert "should" in out or "expected" in out, out


def _named(check, answer, capsys):
    check(answer)
    out = capsys.readouterr().out
    mistakes = lesson01._rate_mistakes() if check is check_rate_code else \
        lesson01._latency_mistakes()
    return any(m.message in out for m in mistakes)


@pytest.mark.parametrize("check, wrong", [(check_rate_code, RATE_WRONG),
                                          (check_latency_code, LATENCY_WRONG)])
def test_at_least_80_percent_of_the_catalogue_is_named(check, wrong, capsys):
    named = [_named(check, answer, capsys) for answer, _ in wrong.values()]
    share = sum(named) / len(named)
    print(f"{check.__name__}: {sum(named)} of {len(named)} wrong answers named ({share:.0%})")
    assert share >= 0.8
    # exactly those with words are named: no answer reads a sentence about another mistake
    assert named == [words is not None for _, words in wrong.values()]


def test_each_named_mistake_has_its_own_message(capsys):
    """Different mistakes in the catalogue are named by different sentences, and each
    answer's line holds exactly one of them."""
    for check, wrong, mistakes in ((check_rate_code, RATE_WRONG, lesson01._rate_mistakes()),
                                   (check_latency_code, LATENCY_WRONG,
                                    lesson01._latency_mistakes())):
        sentence_of = {}
        for answer, words in wrong.values():
            if words is None:
                continue
            check(answer)
            out = capsys.readouterr().out
            found = [i for i, m in enumerate(mistakes) if m.message in out]
            assert len(found) == 1, out
            sentence_of.setdefault(words, set()).add(found[0])
        assert all(len(v) == 1 for v in sentence_of.values())
        used = [next(iter(v)) for v in sentence_of.values()]
        assert len(set(used)) == len(used)
        print(f"{check.__name__}: {len(used)} of {len(mistakes)} named mistakes exercised")
        assert len(used) == len(mistakes)  # every named mistake has an answer in the catalogue


# ------------------------------------------------------------------ edge cases


def test_the_lesson_setting_puts_the_clamped_spike_inside_the_window():
    """tau = 5, theta = 0.01, T = 100: a clamped x <= theta fires at step 58 < 100."""
    images = torch.tensor([0.0, 0.01])
    clamped = _library_clamp(images, 100, 5.0, 0.01)
    assert clamped.argmax(0).tolist() == [58, 58] and clamped.sum() == 2
    assert latency_where(images, 100, 5.0, 0.01).sum() == 0


def test_a_value_exactly_at_the_threshold_is_silent_in_the_reference_and_the_library():
    images = torch.tensor([0.01, 0.2, 0.2, 0.0100001])
    reference = lesson01.reference_latency_code(images, 100, 5.0, 0.2)
    assert reference[:, 1:3].sum() == 0  # at the threshold
    library = encoding.latency(images, 100, tau=5.0, threshold=0.2, clip=True)
    assert torch.equal(reference, library)
    assert torch.equal(lesson01.reference_latency_code(images, 100, 5.0, 0.01),
                       encoding.latency(images, 100, tau=5.0, threshold=0.01, clip=True))


@pytest.mark.parametrize("group", [2, 4, 400])
def test_pixels_of_equal_value_may_not_share_their_coins(group, capsys):
    """Pixels that copy one coin in groups pass every rate case (each pixel alone fires with
    the right probability) and must still fail: their per-step count varies `group` times as
    much as independent pixels' (D / T about `group`; the limit is 1.5)."""

    def grouped(images, num_steps, gain=1.0):
        if images.numel() != 400:
            return torch.bernoulli((gain * images).expand(num_steps, *images.shape))
        coins = (torch.rand(num_steps, 400 // group) < 0.5).float()
        return coins.repeat_interleave(group, dim=1).view(num_steps, *images.shape)

    assert check_rate_code(grouped) is False
    out = capsys.readouterr().out
    words = "share their random numbers" if group == 400 else "times the independent one"
    assert "case 6" in out and words in out, out


def test_the_independence_test_false_failure_probability_is_below_1e_16():
    """Chernoff: P(D >= c) <= min_s E[exp(s Z^2)]^T e^(-s c) on the exact binomial law."""
    pixels = math.prod(lesson01.INDEPENDENCE_SHAPE)
    steps, p = lesson01.INDEPENDENCE_STEPS, 0.5
    limit = lesson01.INDEPENDENCE_LIMIT * steps
    k = torch.arange(pixels + 1, dtype=torch.float64)
    log_pmf = (torch.lgamma(torch.tensor(pixels + 1.0, dtype=torch.float64))
               - torch.lgamma(k + 1) - torch.lgamma(pixels - k + 1)
               + k * math.log(p) + (pixels - k) * math.log(1 - p))
    z2 = (k - pixels * p) ** 2 / (pixels * p * (1 - p))
    best = min(steps * torch.logsumexp(log_pmf + s * z2, 0).item() - s * limit
               for s in torch.linspace(0.01, 0.49, 97).tolist())
    bound = math.exp(best)
    assert bound < 1e-16, bound


def test_the_dispersion_statistic_by_hand():
    spikes = torch.tensor([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    # counts 2 and 4 against 2 +- 1: ((0)^2 + (2)^2) / 1 / 2 steps = 2
    assert lesson01.dispersion(spikes, 0.5) == 2.0


# ------------------------------------------------------------------ odd answers


ODD = [None, 3.0, "spikes", (torch.zeros(1),)]


@pytest.mark.parametrize("check, arity", [(check_rate_code, 3), (check_latency_code, 4)])
@pytest.mark.parametrize("value", ODD, ids=["None", "float", "str", "tuple"])
def test_odd_return_values_fail_with_one_line(check, arity, value, capsys):
    assert check(lambda *a: value) is False
    out = capsys.readouterr().out.strip()
    assert out.startswith("✗") and "\n" not in out


@pytest.mark.parametrize("check, correct", [(check_rate_code, rate_bernoulli),
                                            (check_latency_code, latency_where)])
def test_nan_never_passes(check, correct, capsys):
    def nan_once(*args):
        out = correct(*args)
        out.view(-1)[0] = math.nan
        return out

    assert check(nan_once) is False
    assert "NaN" in capsys.readouterr().out


@pytest.mark.parametrize("check", [check_rate_code, check_latency_code])
def test_a_raising_answer_is_reported_by_type_and_message(check, capsys):
    def broken(*args):
        raise IndexError("index 7 is out of bounds")

    assert check(broken) is False
    out = capsys.readouterr().out
    assert "your function raised IndexError: index 7 is out of bounds" in out


@pytest.mark.parametrize("check, correct", [(check_rate_code, rate_bernoulli),
                                            (check_latency_code, latency_where)])
def test_a_slow_answer_is_stopped_at_the_time_limit(check, correct, monkeypatch, capsys):
    monkeypatch.setattr(judge, "TIME_LIMIT_SECONDS", 0.3)

    def slow(*args):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            pass
        return correct(*args)

    start = time.monotonic()
    assert check(slow) is False
    assert time.monotonic() - start < 3
    assert "ran longer than the 0.3 s time limit" in capsys.readouterr().out


def test_checkers_are_deterministic_for_a_random_answer(capsys):
    outs = []
    for _ in range(2):
        check_rate_code(RATE_WRONG["gain squared"][0])
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1]
