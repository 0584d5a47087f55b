"""Lesson 09's study (snnlab.course.experiments.lesson09): a tiny unsupervised run and its
determinism, the control, the summary and table, main's files and the stored results."""

from __future__ import annotations

import json
import statistics

import pytest
import torch

from snnlab.course.experiments import lesson09 as ex

TINY = {"train_size": 300, "assign_size": 200, "test_size": 200, "batch_size": 10,
        "eval_batch": 100, "threads": 1,
        "network": {"num_neurons": 20, "num_steps": 40, "threshold": 6.0, "A_plus": 0.005}}


@pytest.fixture(scope="module")
def tiny_run():
    return ex.train_and_test(0, TINY)


def test_tiny_run_learns_and_beats_its_random_control(tiny_run):
    result, net = tiny_run
    assert result["seed"] == 0 and result["threads"] == 1 and result["train_seconds"] > 0
    assert 0 <= result["accuracy"] <= 1 and 0 <= result["control_accuracy"] <= 1
    # 300 images, 20 neurons: far from MNIST's best, but STDP must beat its own start
    assert result["accuracy"] > result["control_accuracy"]
    assert result["accuracy"] > 0.4  # 54.5% when written; chance is 10%
    torch.testing.assert_close(net.weight.sum(0), torch.full((20,), 78.0))  # normalised
    assert net.theta.max() > 0 and result["theta_max"] == round(net.theta.max().item(), 2)
    assert net.assignments.shape == (20,) and set(net.assignments.tolist()) <= set(range(10))
    untrained = ex.build(0, TINY)
    assert not torch.allclose(untrained.weight, net.weight)  # it learned


def test_same_seed_same_network(tiny_run):
    result, net = tiny_run
    small = {**TINY, "train_size": 100}
    a, _ = ex.train(0, small)
    b, _ = ex.train(0, small)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.theta, b.theta)
    c, _ = ex.train(1, small)
    assert not torch.equal(a.weight, c.weight)


def test_summary_and_table():
    results = [{"seed": s, "accuracy": a, "control_accuracy": c, "train_seconds": t}
               for s, a, c, t in ((0, 0.86, 0.5, 100.0), (1, 0.88, 0.52, 110.0),
                                  (2, 0.87, 0.51, 120.0))]
    s = ex.summary(results)
    assert s["mean"] == pytest.approx(0.87) and s["min"] == 0.86 and s["max"] == 0.88
    assert s["std"] == pytest.approx(statistics.stdev([0.86, 0.88, 0.87])) and s["n"] == 3
    assert ex.summary(results[:1])["std"] == 0.0
    text = ex.table(results)
    assert "87.0% +- 1.0%" in text and "51.0% +- 1.0%" in text and "110" in text
    assert text.splitlines()[-1].split() == ["Diehl", "&", "Cook", "87.0%"]
    with pytest.raises(ValueError, match="empty"):
        ex.summary([])


def test_main_writes_results_and_the_weights_and_they_load(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(ex, "SETTINGS", {**ex.SETTINGS, **{k: v for k, v in TINY.items()
                                                          if k != "network"}, "seeds": [0]})
    monkeypatch.setattr(ex, "NETWORK", {**ex.NETWORK, **TINY["network"]})
    assert ex.main([str(tmp_path)]) == 0
    stored = ex.load(tmp_path / ex.RESULTS_FILE.name)
    assert [r["seed"] for r in stored["results"]] == [0] and stored["paper"] == ex.PAPER
    assert "seed 0: accuracy" in capsys.readouterr().out
    net = ex.pretrained(tmp_path / ex.WEIGHTS_FILE.name)
    assert net.weight.shape == (784, 20) and net.assignments.dtype == torch.long
    # the stored network classifies as the trained one did (same counts: same spikes)
    again = ex.evaluate(net, 0, TINY)
    assert again["accuracy"] == pytest.approx(stored["results"][0]["accuracy"], abs=0.02)
    broken = {**stored, "results": []}
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    with pytest.raises(ValueError, match="one run per seed"):
        ex.load(tmp_path / "broken.json")


def test_stored_results_if_present():
    if not ex.RESULTS_FILE.exists():
        pytest.skip("the study has not been run")
    stored = ex.load()
    assert sorted(r["seed"] for r in stored["results"]) == stored["settings"]["seeds"]
    for r in stored["results"]:
        assert r["accuracy"] > r["control_accuracy"] and r["train_seconds"] < 600
    if ex.WEIGHTS_FILE.exists():
        assert ex.WEIGHTS_FILE.stat().st_size < 2_500_000
        net = ex.pretrained()
        assert net.weight.shape == (784, stored["settings"]["network"]["num_neurons"])


@pytest.mark.parametrize("settings, match", [
    ({"train_size": 60_001}, "at most 60000"),
    ({"test_size": 0}, "test_size must be a positive int"),
    ({"network": {"num_neurons": 0}}, "num_neurons must be a positive int"),
])
def test_bad_settings(settings, match):
    with pytest.raises(ValueError, match=match):
        ex.train(0, {**TINY, **settings})
