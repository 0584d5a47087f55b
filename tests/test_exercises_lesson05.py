"""Lesson 05 checkers against a catalogue of wrong answers written the way students write them.

Every wrong answer must fail; each one a named mistake explains fails with exactly that
mistake's sentence (and no other's); the share of wrong answers that get a named message is
measured and must stay at 80% or more. Also: the edge cases, NaN, None, raising, slow answers,
and several different correct answers.
"""

from __future__ import annotations

import math

import pytest
import torch
from catalogue import assert_named, verdict

from snnlab.course.exercises import lesson05
from snnlab.course.exercises.lesson05 import (
    check_dead_and_saturated,
    check_flat_features,
    check_run_stateful,
)
from snnlab.neurons import LIF, reset_states

# ------------------------------------------------------------------ correct answers


def flat_features(image_size, kernel_sizes, pool, channels):
    side = image_size
    for kernel in kernel_sizes:
        side = (side - kernel + 1) // pool
    return channels[-1] * side * side


def flat_features_math(image_size, kernel_sizes, pool, channels):
    side = image_size
    for kernel in kernel_sizes:
        side = math.floor((side - kernel + 1) / pool)
    return int(channels[-1] * side ** 2)


def flat_features_measured(image_size, kernel_sizes, pool, channels):
    x = torch.zeros(1, 1, image_size, image_size)
    for c_in, c_out, k in zip([1, *channels[:-1]], channels, kernel_sizes, strict=True):
        x = torch.nn.functional.max_pool2d(torch.nn.Conv2d(c_in, c_out, k)(x), pool)
    return x.numel()


def run_stateful(net, x, num_steps):
    reset_states(net)
    return torch.stack([net(x) for _ in range(num_steps)])


def run_stateful_loop(net, x, num_steps):
    for module in net.modules():
        if isinstance(module, LIF):
            module.reset_state()
    outputs = None
    for t in range(num_steps):
        out = net(x)
        if outputs is None:
            outputs = torch.empty(num_steps, *out.shape)
        outputs[t] = out.detach()
    return outputs


def dead_and_saturated(spikes):
    num_steps, batch = spikes.shape[:2]
    total = spikes.flatten(2).sum(dim=(0, 1))
    return (total == 0).float().mean().item(), (total == num_steps * batch).float().mean().item()


def dead_and_saturated_all(spikes):
    counts = spikes.sum(0)  # [B, ...]
    dead = (counts == 0).all(0)
    saturated = (counts == spikes.shape[0]).all(0)
    return float(dead.float().mean()), float(saturated.float().mean())


def dead_and_saturated_rates(spikes):
    rate = spikes.mean(dim=(0, 1))
    return (rate == 0).sum().item() / rate.numel(), (rate == 1).sum().item() / rate.numel()


CORRECT = [(check_flat_features, f) for f in (flat_features, flat_features_math,
                                               flat_features_measured)]
CORRECT += [(check_run_stateful, f) for f in (run_stateful, run_stateful_loop)]
CORRECT += [(check_dead_and_saturated, f) for f in (dead_and_saturated, dead_and_saturated_all,
                                                    dead_and_saturated_rates)]


@pytest.mark.parametrize("check, answer", CORRECT, ids=lambda x: getattr(x, "__name__", ""))
def test_correct_answers_pass(check, answer, capsys):
    assert check(answer) is True
    assert capsys.readouterr().out.startswith(f"✓ {check.__name__}: passed ")


# ------------------------------------------------------------------ the catalogue


def _flat(step, count=lambda c, side: c[-1] * side * side):
    def answer(image_size, kernel_sizes, pool, channels):
        side = image_size
        for i, kernel in enumerate(kernel_sizes):
            side = step(side, kernel, pool, i, kernel_sizes)
        return count(channels, side)
    return answer


FLAT_WRONG = {
    "side - k": (_flat(lambda s, k, p, i, ks: (s - k) // p), "by the kernel size instead"),
    "side - k - 1": (_flat(lambda s, k, p, i, ks: (s - k - 1) // p), "by kernel + 1"),
    "/ then int": (lambda *a: int(_flat(lambda s, k, p, i, ks: (s - k + 1) / p)(*a)),
                   "round only at the end"),
    "/ never rounded": (_flat(lambda s, k, p, i, ks: (s - k + 1) / p), "return an int"),
    "ceil": (_flat(lambda s, k, p, i, ks: math.ceil((s - k + 1) / p)), "round up"),
    "kernel_sizes[0]": (_flat(lambda s, k, p, i, ks: (s - ks[0] + 1) // p),
                        "kernel_sizes[0] for every layer"),
    "no conv shrink": (_flat(lambda s, k, p, i, ks: s // p), "keep the side"),
    "no channels": (_flat(lambda s, k, p, i, ks: (s - k + 1) // p, lambda c, s: s * s),
                    "forget the channels"),
    "first channels": (_flat(lambda s, k, p, i, ks: (s - k + 1) // p,
                             lambda c, s: c[0] * s * s), "first layer's channels"),
    "all channels": (_flat(lambda s, k, p, i, ks: (s - k + 1) // p,
                           lambda c, s: sum(c) * s * s), "add up the channels"),
    "side once": (_flat(lambda s, k, p, i, ks: (s - k + 1) // p, lambda c, s: c[-1] * s),
                  "by the side once"),
    "side only": (_flat(lambda s, k, p, i, ks: (s - k + 1) // p, lambda c, s: s),
                  "return the side"),
    # no named mistake
    "rounded to nearest": (_flat(lambda s, k, p, i, ks: round((s - k + 1) / p)),
                           "or to the nearest"),
    "pool as a subtraction": (_flat(lambda s, k, p, i, ks: s - k + 1 - p + 1), None),
    "hard-coded 1024": (lambda *a: 1024, None),
}


def _run(net, x, n, *, reset="once", dim=0, steps=None, join="stack"):
    if reset == "once":
        reset_states(net)
    outputs = []
    for _ in range(n if steps is None else steps(n)):
        if reset == "every":
            reset_states(net)
        outputs.append(net(x))
    if reset == "after":
        reset_states(net)
    return torch.cat(outputs) if join == "cat" else torch.stack(outputs, dim=dim)


RUN_WRONG = {
    "no reset": (lambda net, x, n: _run(net, x, n, reset="never"), "did not reset"),
    "reset after the loop": (lambda net, x, n: _run(net, x, n, reset="after"), "did not reset"),
    "reset every step": (lambda net, x, n: _run(net, x, n, reset="every"), "at every step"),
    "batch first": (lambda net, x, n: _run(net, x, n, dim=1), "batch-first"),
    "cat": (lambda net, x, n: _run(net, x, n, join="cat"), "torch.cat"),
    "summed": (lambda net, x, n: _run(net, x, n).sum(0), "add up the outputs"),
    "last only": (lambda net, x, n: _run(net, x, n)[-1], "only the last step"),
    "one too few": (lambda net, x, n: _run(net, x, n, steps=lambda n: n - 1), "too few"),
    "one too many": (lambda net, x, n: _run(net, x, n, steps=lambda n: n + 1), "too many"),
    # no named mistake
    "list": (lambda net, x, n: [net(x) for _ in range(n)], None),
    "doubled input": (lambda net, x, n: run_stateful(net, 2 * x, n), None),
}


def _totals(s):
    return s.flatten(2).sum(dim=(0, 1))


DEAD_WRONG = {
    "per image": (lambda s: ((s.sum(0) == 0).float().mean().item(),
                             (s.sum(0) == s.shape[0]).float().mean().item()),
                  "each image on its own"),
    "per image, flatten(1)": (lambda s: ((s.flatten(1).sum(0) == 0).float().mean().item(),
                                         (s.flatten(1).sum(0) == len(s)).float().mean().item()),
                              "each image on its own"),
    "dead on any image": (lambda s: ((s.sum(0) == 0).any(0).float().mean().item(),
                                     dead_and_saturated(s)[1]), "silent on at least one image"),
    "saturated at T": (lambda s: (dead_and_saturated(s)[0],
                                  (_totals(s) >= s.shape[0]).float().mean().item()),
                       "fires T times in total"),
    "rate > 0.9": (lambda s: (dead_and_saturated(s)[0],
                              (s.mean((0, 1)) > 0.9).float().mean().item()), "above 0.9"),
    "rate > 0.95": (lambda s: (dead_and_saturated(s)[0],
                               (s.mean((0, 1)) > 0.95).float().mean().item()), "above 0.9"),
    "rate < 1%": (lambda s: ((s.mean((0, 1)) < 0.01).float().mean().item(),
                             dead_and_saturated(s)[1]), "below 1%"),
    "counts": (lambda s: tuple(float(v * s[0, 0].numel()) for v in dead_and_saturated(s)),
               "count the neurons"),
    "percentages": (lambda s: tuple(100 * v for v in dead_and_saturated(s)), "percentages"),
    "swapped": (lambda s: dead_and_saturated(s)[::-1], "the wrong order"),
    "tensors": (lambda s: tuple(torch.tensor(v) for v in dead_and_saturated(s)),
                "tensors instead of Python floats"),
    # no named mistake
    "maps as neurons": (lambda s: ((s.sum((0, 1)).flatten(1).sum(1) == 0).float().mean().item(),
                                   0.0), None),
    "a list": (lambda s: list(dead_and_saturated(s)), None),
}

CATALOGUE = [(check_flat_features, n, *e) for n, e in FLAT_WRONG.items()]
CATALOGUE += [(check_run_stateful, n, *e) for n, e in RUN_WRONG.items()]
CATALOGUE += [(check_dead_and_saturated, n, *e) for n, e in DEAD_WRONG.items()]
MISTAKES = {check_flat_features: lesson05._flat_features_mistakes(),
            check_run_stateful: lesson05._run_stateful_mistakes(),
            check_dead_and_saturated: lesson05._dead_and_saturated_mistakes()}
GENERIC = ("should be", "your function raised", "should have shape", "return a tuple")


@pytest.mark.parametrize("check, name, answer, words", CATALOGUE,
                         ids=[f"{c.__name__}-{n}" for c, n, _, _ in CATALOGUE])
def test_every_wrong_answer_fails_with_its_own_message(check, name, answer, words, capsys):
    out = verdict(check, answer, capsys)
    assert_named(out, words, MISTAKES[check], GENERIC)
    assert words is not None or "your function did not" not in out, out


@pytest.mark.parametrize("check, wrong", [(check_flat_features, FLAT_WRONG),
                                          (check_run_stateful, RUN_WRONG),
                                          (check_dead_and_saturated, DEAD_WRONG)])
def test_at_least_80_percent_of_the_catalogue_is_named(check, wrong, capsys):
    named = [words is not None and words in verdict(check, answer, capsys)
             for answer, words in wrong.values()]
    share = sum(named) / len(named)
    print(f"{check.__name__}: {sum(named)} of {len(named)} wrong answers named ({share:.0%})")
    assert share >= 0.8
    assert named == [words is not None for _, words in wrong.values()]


@pytest.mark.parametrize("check, wrong", [(check_flat_features, FLAT_WRONG),
                                          (check_run_stateful, RUN_WRONG),
                                          (check_dead_and_saturated, DEAD_WRONG)])
def test_every_named_mistake_is_in_the_catalogue_and_has_its_own_sentence(check, wrong, capsys):
    mistakes = MISTAKES[check]
    used = {}
    for answer, words in wrong.values():
        if words is None:
            continue
        out = verdict(check, answer, capsys)
        found = [i for i, m in enumerate(mistakes) if m.message in out]
        if not any(words in m.message for m in mistakes):  # named by the case itself
            assert not found, out
            continue
        assert len(found) == 1, out
        used.setdefault(words, set()).add(found[0])
    assert all(len(v) == 1 for v in used.values())
    assert sorted({next(iter(v)) for v in used.values()}) == list(range(len(mistakes)))


# ------------------------------------------------------------------ edge cases


def test_the_nearly_saturated_and_nearly_dead_neurons_sit_just_inside_the_definitions():
    """Rates 103/104 (above 0.99) and 1/104 (below 1%): neither saturated nor dead."""
    captured = {}
    original = lesson05.run_cases
    try:
        lesson05.run_cases = lambda name, fn, cases, *a, **k: captured.setdefault("c", cases)
        check_dead_and_saturated(dead_and_saturated)
    finally:
        lesson05.run_cases = original
    spikes = captured["c"][2].args[0]
    rate = spikes.mean((0, 1))
    assert rate.tolist()[1:4] == pytest.approx([1.0, 103 / 104, 1 / 104]) and rate[0] == 0
    assert dead_and_saturated(spikes) == pytest.approx((0.2, 0.2))


def test_odd_sides_meet_every_pooling():
    """Floor and ceil differ in two cases: a leftover row at 2x2 and at 3x3 pooling."""
    assert flat_features(28, [3, 3], 2, [8, 16]) == 16 * 5 * 5
    assert flat_features(30, [3, 4], 3, [6, 10]) == 10 * 2 * 2  # 30 -> 28 -> 9 -> 6 -> 2


def test_lesson_05_stale_state_really_changes_the_outputs():
    """Without this the same-size case could not tell a missing reset from a correct one."""
    net = lesson05._stateful_net(conv=False, seed=0)
    x = torch.rand(4, 6, generator=torch.Generator().manual_seed(0))
    fresh = run_stateful(net, x, 8)
    for _ in range(3):
        net(x + 0.5)
    assert fresh.sum() > 0 and not torch.equal(RUN_WRONG["no reset"][0](net, x, 8), fresh)


def test_lesson_05_checks_leave_the_global_random_stream_alone():
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    for check, answer in CHECKS:
        check(answer)
    assert torch.equal(torch.rand(3), expected)


# ------------------------------------------------------------------ odd answers

CHECKS = [(check_flat_features, flat_features), (check_run_stateful, run_stateful),
          (check_dead_and_saturated, dead_and_saturated)]


@pytest.mark.parametrize("check, correct", CHECKS)
@pytest.mark.parametrize("value", [None, "size", (1.0, 2.0, 3.0)], ids=["None", "str", "tuple"])
def test_odd_return_values_fail_with_one_line(check, correct, value, capsys):
    assert check(lambda *a: value) is False
    out = capsys.readouterr().out.strip()
    assert out.startswith("✗") and "\n" not in out


@pytest.mark.parametrize("check, nan", [
    (check_flat_features, lambda *a: math.nan),
    (check_run_stateful, lambda net, x, n: run_stateful(net, x, n) * math.nan),
    (check_dead_and_saturated, lambda s: (math.nan, dead_and_saturated(s)[1]))])
def test_nan_never_passes(check, nan, capsys):
    assert check(nan) is False
    assert "NaN" in capsys.readouterr().out



# ------------------------------------------------------------------ exercise 4: the regulariser
# A design exercise judged by its result. The probe catches answers that cannot work before any
# training (instant); the training-judged answers each cost a short run (about 6 CPU seconds).

import torch.nn.functional as F  # noqa: E402

from snnlab.course.exercises.lesson05 import check_regulariser  # noqa: E402
from snnlab.course.experiments.lesson05 import rate_regulariser  # noqa: E402


def _map_rates(layers):
    return [s.mean(dim=(0, 1, 3, 4)) for name, s in layers.items() if name in ("lif1", "lif2")]


REGULARISER_PROBED = {
    "activity penalty (L1 on spikes)": (lambda L: sum(s.mean() for s in L.values()),
                                        "pushes the wrong way"),
    "negated floor": (lambda L: -rate_regulariser(L), "pushes the wrong way"),
    "detached rates": (lambda L: sum(F.relu(0.01 - r.detach()).mean() for r in _map_rates(L)),
                       "carries no gradient"),
    "counting dead maps": (lambda L: sum((r == 0).float().mean() for r in _map_rates(L)),
                           "carries no gradient"),
    ".item()": (lambda L: rate_regulariser(L).item(), "the Python number"),
    "one value per map": (lambda L: torch.cat([F.relu(0.01 - r) for r in _map_rates(L)]),
                          "has shape [76]"),
    "log of a zero rate": (lambda L: -sum(torch.log(r).mean() for r in _map_rates(L)),
                           "guard divisions and logarithms"),
    "the output layer only": (lambda L: F.relu(0.1 - L["lif3"].mean()),
                              "gives the dead maps no gradient"),
    "a string": (lambda L: "regularise", "one-number torch tensor"),
    "stub": (lambda L: (_ for _ in ()).throw(NotImplementedError), "not implemented yet"),
    "raises": (lambda L: L["lif4"], "your function raised KeyError"),
}


@pytest.mark.parametrize("name", REGULARISER_PROBED)
def test_regulariser_probe_names_each_mistake_before_training(name, capsys, monkeypatch):
    answer, words = REGULARISER_PROBED[name]
    trained = []
    monkeypatch.setattr(lesson05, "regulariser_run", lambda *a: trained.append(a))
    assert check_regulariser(answer) is False
    out = capsys.readouterr().out.strip()
    assert words in out and "\n" not in out, out
    assert not trained  # caught before any training


def test_regulariser_probe_stops_a_slow_answer(capsys, monkeypatch):
    from snnlab.course.exercises import judge

    monkeypatch.setattr(judge, "TIME_LIMIT_SECONDS", 0.3)

    def slow(layers):
        while True:
            pass

    assert check_regulariser(slow) is False
    assert "ran longer than the 0.3 s time limit" in capsys.readouterr().out


def test_regulariser_checker_wants_the_function_itself(capsys):
    assert check_regulariser(None) is False
    assert "pass your function itself" in capsys.readouterr().out


def _judged(monkeypatch, without, outcome):
    """The verdict for a made-up pair of runs (no training)."""
    monkeypatch.setattr(lesson05, "_without_regulariser", lambda: without)
    monkeypatch.setattr(lesson05, "regulariser_run", lambda *a: outcome)
    return check_regulariser(rate_regulariser)


RUN = {"accuracy": 0.74, "dead maps": 15, "maps": 76, "largest term": 0.0, "stopped": None}


@pytest.mark.parametrize("outcome, passed, words", [
    ({"dead maps": 7, "accuracy": 0.64}, True, "passed: dead maps 15 of 76 -> 7 of 76"),
    ({"dead maps": 8, "accuracy": 0.80}, False, "did not wake enough dead maps"),
    ({"dead maps": 0, "accuracy": 0.63}, False, "too strong"),
    ({"dead maps": 15, "accuracy": 0.10}, False, "too strong"),  # the accuracy is said first
    ({"stopped": "non-finite"}, False, "became NaN or infinite"),
])
def test_regulariser_verdict_sits_at_the_documented_edges(outcome, passed, words, capsys,
                                                          monkeypatch):
    """Half the dead maps may stay (7 of 15 passes, 8 fails); 10 points of accuracy may go."""
    assert _judged(monkeypatch, dict(RUN), {**RUN, "largest term": 0.01, **outcome}) is passed
    out = capsys.readouterr().out.strip()
    assert words in out and "\n" not in out, out


def test_regulariser_raising_during_training_is_reported(capsys, monkeypatch):
    monkeypatch.setattr(lesson05, "_without_regulariser", lambda: dict(RUN))

    def fine_on_the_probe_only(layers):
        if layers["lif1"].shape[1] != 4:  # the probe record has 4 images, training batches 32
            raise RuntimeError("shape mismatch")
        return rate_regulariser(layers)

    assert check_regulariser(fine_on_the_probe_only) is False
    out = capsys.readouterr().out
    assert "during training your function raised RuntimeError: shape mismatch" in out


# Each of these trains (about 6 CPU seconds per answer, plus once the run without a term).
REGULARISER_TRAINED = {
    "the lesson's regulariser": (rate_regulariser, True, "passed"),
    "ten times stronger": (lambda L: 1000 * sum(F.relu(0.2 * r.mean().detach() - r).pow(2).mean()
                                                for r in _map_rates(L)), True, "passed"),
    "a floor at half the layer's mean rate": (lambda L: rate_regulariser(L, floor=0.5), True,
                                              "passed"),
    "far too strong": (lambda L: 1e5 * rate_regulariser(L), False, "too strong"),
    "far too weak": (lambda L: 1e-7 * rate_regulariser(L), False, "did not wake enough"),
}


@pytest.mark.parametrize("name", REGULARISER_TRAINED)
def test_regulariser_is_judged_by_the_trained_network(name, capsys):
    answer, passed, words = REGULARISER_TRAINED[name]
    assert check_regulariser(answer) is passed
    out = capsys.readouterr().out.strip()
    assert out.startswith("✓" if passed else "✗") and words in out, out


def test_regulariser_run_is_deterministic():
    first = lesson05.regulariser_run(rate_regulariser)
    assert lesson05.regulariser_run(rate_regulariser) == first
    assert first["maps"] == 76 and first["stopped"] is None
