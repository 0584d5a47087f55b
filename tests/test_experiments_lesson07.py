"""Lesson 07's study (snnlab.course.experiments.lesson07): the code runs, the readouts and
operation counts are right, and the stored results are consistent with their settings."""

from __future__ import annotations

import json
import statistics
from types import SimpleNamespace

import pytest
import torch

from snnlab.course.experiments import lesson07 as ex

TINY = {"subset": 40, "test_subset": 30, "batch_size": 16}


def test_first_spike_times_and_predictions():
    spikes = torch.zeros(4, 1, 3)
    spikes[2, 0, 0] = 1               # neuron 0 first fires at step 2
    spikes[[0, 3], 0, 1] = 1          # neuron 1 at steps 0 and 3
    assert ex.first_spike_times(spikes).tolist() == [[2.0, 0.0, 4.0]]  # 2: never, so T
    assert ex.first_spike_predictions(spikes).tolist() == [1]
    # a tie in time goes to the output with more spikes, not to the lower index
    tie = torch.zeros(3, 1, 2)
    tie[1, 0, :] = 1
    tie[2, 0, 1] = 1
    assert ex.first_spike_predictions(tie).tolist() == [1]
    # the times are differentiable through the spikes (what trains the readout)
    soft = torch.full((3, 2, 4), 0.5, requires_grad=True)
    ex.first_spike_times(soft).sum().backward()
    assert soft.grad is not None and soft.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r"\[T, B, C\]"):
        ex.first_spike_times(torch.zeros(3, 4))


def test_controls_are_what_they_say():
    for condition in ("no_recurrence", "first_spike"):
        net = ex.build(condition, 10)
        weight = net.rlif1.recurrent.weight
        assert torch.count_nonzero(weight) == 0 and not weight.requires_grad
    assert ex.build("recurrent", 2).rlif1.recurrent.weight.requires_grad
    assert ex.build("collapsed", 10).collapse_time
    elman = ex.build("elman", 2)
    assert elman(torch.zeros(5, 3, 2, 34, 34)).shape == (3, 2)
    assert ex.build("summed_mlp", 10)(torch.zeros(8, 3, 2, 34, 34)).shape == (3, 10)
    with pytest.raises(ValueError, match="unknown condition"):
        ex.build("lstm", 10)


def test_elman_operation_count():
    x = torch.zeros(20, 2, 2, 34, 34)
    x[0, 0, 0, 0, :5] = 1  # 5 events in sample 0, 3 in sample 1
    x[3, 1, 1, 2, :3] = 1
    ops = ex.elman_ops(ex.ElmanRNN(num_hidden=256, num_outputs=10), x)
    assert ops["dense_MAC"] == 20 * (2312 * 256 + 256 * 256 + 256 * 10) == 13_199_360
    assert ops["sparse_input_AC"] == 4 * 256  # (5 + 3) / 2 events per sample, 256 targets each
    assert ops["sparse_input_MAC"] == 20 * (256 * 256 + 256 * 10)


def test_larger_labels_say_whether_the_second_digit_is_larger():
    train, _ = ex.loaders("larger", 16, 40, 30, seed=0)
    recordings, larger = next(iter(train))
    assert recordings.shape[:2] == (20, 16) and set(larger.tolist()) <= {0, 1}
    dataset = train.dataset
    batch = [dataset[i] for i in range(6)]
    _, first = dataset.collate(batch)
    second = dataset.labels[dataset.partner[torch.arange(6)]]
    assert (second != first).all()  # partners are of another class
    _, got = ex._larger_collate(dataset)(batch)
    assert got.tolist() == (second > first).long().tolist()


def test_one_digit_ceiling_by_hand():
    labels = torch.tensor([0, 0, 5, 5, 5, 9])
    partner = torch.tensor([2, 3, 0, 5, 1, 0])  # second digits: 5, 5, 0, 9, 0, 0
    loader = SimpleNamespace(dataset=SimpleNamespace(labels=labels, partner=partner))
    # after 0: both larger (2 right); after 5: 0, 9, 0 -> "smaller" right twice; after 9: 1
    assert ex.one_digit_ceiling(loader) == pytest.approx(5 / 6)


def test_run_trains_every_condition_tiny():
    results = ex.run("order", ["recurrent", "first_spike", "elman"], seeds=[0, 1], settings=TINY)
    assert list(results) == ["recurrent", "first_spike", "elman"]
    for runs in results.values():
        assert [r["seed"] for r in runs] == [0, 1]
        assert all(0 <= r["accuracy"] <= 1 and r["cpu_seconds"] >= 0 for r in runs)
    assert results["elman"][0]["ops"]["dense_MAC"] == 13_199_360
    assert results["recurrent"][0]["ops"]["AC"] > 0
    with pytest.raises(ValueError, match="condition"):
        ex.run("digit", ["recurrent"], settings=TINY)


def test_summary_and_table():
    runs = [{"seed": s, "accuracy": a} for s, a in enumerate([0.5, 0.7, 0.6])]
    s = ex.summary(runs)
    assert s["mean"] == pytest.approx(0.6) and s["min"] == 0.5 and s["max"] == 0.7
    assert s["std"] == pytest.approx(0.1)
    text = ex.table({"results": {"order": {"recurrent": runs}}}, "order")
    assert "60.0%" in text and "50.0% - 70.0%" in text


def test_stored_study_is_consistent():
    stored = ex.load()  # raises unless every task and condition has one run per seed
    assert stored["settings"] == ex.SETTINGS
    assert len(stored["settings"]["seeds"]) >= 3
    raw = json.loads(ex.RESULTS_FILE.read_text())
    total = 0.0
    for task, (conditions, _, _) in ex.TASKS.items():
        assert list(raw["results"][task]) == list(conditions)
        for condition, runs in raw["results"][task].items():
            accuracies = [r["accuracy"] for r in runs]
            assert ex.accuracies(stored, task)[condition]["mean"] == pytest.approx(
                statistics.fmean(accuracies))
            assert all(0 <= a <= 1 for a in accuracies)
            total += sum(r["cpu_seconds"] for r in runs)
    assert raw["cpu_minutes"] == pytest.approx(total / 60, abs=0.06)
    assert 0.5 < raw["one_digit_ceiling"] < 0.9
