"""Lesson 05's experiments: the regulariser, the ANN twin, a tiny run of the whole experiment,
and the stored results the lesson loads (consistent with themselves and with the settings)."""

from __future__ import annotations

import json
import statistics

import pytest
import torch

from snnlab import models
from snnlab.course.experiments import lesson05 as experiment

TINY = dict(train_images=100, test_images=100, probe_images=20, epochs=1, batch_size=50,
            num_steps=3)


def _layers(dead_map: int | None = 3, rate: float = 0.1, seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    lif1 = (torch.rand(4, 5, 12, 12, 12, generator=generator) < rate).float()
    lif2 = (torch.rand(4, 5, 64, 4, 4, generator=generator) < rate).float()
    if dead_map is not None:
        lif1[:, :, dead_map] = 0
    return {"lif1": lif1.requires_grad_(), "lif2": lif2.requires_grad_(),
            "lif3": torch.zeros(4, 5, 10)}


def test_map_rates_by_hand():
    spikes = torch.zeros(2, 3, 2, 2, 2)
    spikes[0, 0, 1, 0, 0] = 1
    spikes[:, :, 0] = 1
    assert experiment.map_rates(spikes).tolist() == pytest.approx([1.0, 1 / 24])
    with pytest.raises(ValueError, match=r"\[T, B, C, H, W\]"):
        experiment.map_rates(torch.zeros(2, 3, 4))


def test_regulariser_is_zero_when_every_map_fires_and_pushes_a_dead_map_up():
    alive = _layers(dead_map=None, rate=0.1)
    assert experiment.rate_regulariser(alive).item() == 0.0
    layers = _layers(dead_map=3)
    penalty = experiment.rate_regulariser(layers, floor=0.2, strength=1.0)
    rates = layers["lif1"].mean(dim=(0, 1, 3, 4)).detach()
    expected = (0.2 * rates.mean()) ** 2 / 12  # only map 3 is short, by the whole floor
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-5)
    penalty.backward()
    grad = layers["lif1"].grad
    assert (grad[:, :, 3] < 0).all()  # more spikes in the dead map lower the penalty
    assert (grad[:, :, 4] == 0).all() and (layers["lif2"].grad == 0).all()


def test_regulariser_rejects_records_without_feature_maps():
    with pytest.raises(ValueError, match="convolutional"):
        experiment.rate_regulariser({"lif3": torch.zeros(4, 5, 10)})
    with pytest.raises(ValueError, match="strength"):
        experiment.rate_regulariser(_layers(), strength=0)


def test_ann_twin_has_the_csnns_weights_and_shapes():
    ann, csnn = experiment.ConvANN(), models.CSNN()
    shapes = {name: p.shape for name, p in ann.named_parameters()}
    assert shapes == {name: p.shape for name, p in csnn.named_parameters()}
    assert ann(torch.rand(3, 1, 28, 28)).shape == (3, 10)


def test_firing_summary_counts_dead_maps_of_each_network():
    ann = experiment.ConvANN()
    with torch.no_grad():
        ann.conv1.bias.fill_(10.0)
        ann.conv1.bias[5] = -100.0  # map 5 of layer 1 can never be above 0, the others always are
    summary = experiment.firing_summary(ann, torch.rand(4, 1, 28, 28))
    assert summary["dead maps 1"] == pytest.approx(1 / 12)
    assert "saturated neurons 1" not in summary
    silent = experiment.firing_summary(models.CSNN(num_steps=3), torch.zeros(2, 1, 28, 28))
    assert silent["dead maps 2"] == 1.0 and silent["saturated neurons 2"] == 0.0


def test_a_tiny_run_of_the_experiment(tmp_path):
    torch.set_num_threads(1)
    results = experiment.run(seeds=(0, 1), **TINY)
    assert results["seeds"] == [0, 1] and results["settings"]["train_images"] == 100
    for condition in experiment.CONDITIONS:
        runs = results["results"][condition]
        assert len(runs) == 2 and all(0 <= r["accuracy"] <= 1 for r in runs)
    path = experiment.save(results, tmp_path / "tiny.json")
    assert experiment.load(path) == json.loads(json.dumps(results))
    summary = experiment.summarise(results)
    accuracies = [r["accuracy"] for r in results["results"]["CSNN"]]
    assert summary["CSNN"]["accuracy"] == pytest.approx(
        (statistics.mean(accuracies), min(accuracies), max(accuracies)))
    lines = experiment.table(results, columns=("accuracy", "saturated neurons 1",
                                               "cpu_seconds")).splitlines()
    assert lines[0].split() == ["accuracy", "%", "saturated", "neurons", "1", "%", "training",
                                "CPU", "s"]
    assert len(lines) == 4 and lines[3].startswith("ANN (ReLU)")
    assert lines[3].split()[-3] == "-"  # an ANN has no saturated neurons: a dash, not 0
    mean, low, high = summary["CSNN"]["accuracy"]
    assert f"{100 * mean:.1f} ({100 * low:.1f}-{100 * high:.1f})" in lines[1]
    only = experiment.table(results, conditions=["ANN (ReLU)"]).splitlines()
    assert len(only) == 2 and only[1].startswith("ANN (ReLU)")
    with pytest.raises(ValueError, match="no results for"):
        experiment.table(results, conditions=["SNN"])


def test_the_same_seed_gives_the_same_run():
    torch.set_num_threads(1)
    first = experiment.train_once("CSNN + regulariser", 3, TINY)
    second = experiment.train_once("CSNN + regulariser", 3, TINY)
    assert {k: v for k, v in first.items() if k != "cpu_seconds"} == \
        {k: v for k, v in second.items() if k != "cpu_seconds"}


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="condition must be one of"):
        experiment.train_once("SNN", 0)
    with pytest.raises(TypeError, match="unknown setting"):
        experiment.run(seeds=(0,), learning_rate=1.0)
    with pytest.raises(ValueError, match="seeds"):
        experiment.run(seeds=())


def test_stored_results_are_consistent_with_the_settings_and_themselves():
    stored = experiment.load()
    assert stored["settings"] == experiment.SETTINGS
    assert stored["seeds"] == list(experiment.SEEDS) and len(stored["seeds"]) >= 3
    assert set(stored["results"]) == set(experiment.CONDITIONS)
    summary = experiment.summarise(stored)
    for condition, runs in stored["results"].items():
        values = [r["accuracy"] for r in runs]
        assert summary[condition]["accuracy"][0] == pytest.approx(statistics.mean(values))
        assert all(r["cpu_seconds"] > 0 for r in runs)
    assert stored["cpu_minutes"] > 0 and stored["threads"] == 1
