"""Lesson 04's experiments: the code runs (tiny), repeats itself, and the stored results are
consistent with the settings the lesson reads and with the claims its text makes."""

import json
import statistics

import pytest
import torch
from torch.nn import functional as F

from snnlab import losses
from snnlab.course import recipes
from snnlab.course.experiments import lesson04 as experiments

TINY = dict(epochs=1, subset=100, test_subset=20)


def test_relu_network_is_the_fc_network_without_spikes():
    torch.manual_seed(0)
    net = experiments.ReLUNetwork()
    images, labels = torch.rand(5, 1, 28, 28), torch.tensor([0, 3, 9, 2, 2])
    scores, same = net(images)
    assert scores.shape == (1, 5, 10) and torch.equal(same, scores)
    expected = net.fc2(torch.relu(net.fc1(images.flatten(1))))
    assert torch.equal(scores[0], expected)
    # ce_rate of a one-step record is the plain cross-entropy of the scores
    assert torch.allclose(losses.ce_rate(scores, same, labels), F.cross_entropy(expected, labels))
    assert sum(p.numel() for p in net.parameters()) == sum(
        p.numel() for p in recipes.build_model("fc").parameters())
    with pytest.raises(ValueError, match="ReLUNetwork takes images"):
        net(torch.rand(5, 100))


def test_compare_recipes_runs_every_condition_and_seed(mnist_root):
    torch.set_num_threads(1)
    results = experiments.compare_recipes(seeds=[0, 1], data_dir=str(mnist_root), **TINY)
    assert list(results) == ["fc", "handout", "ann"]
    for condition in results.values():
        assert len(condition["test_accuracy"]) == 2
        assert all(0.0 <= a <= 1.0 for a in condition["test_accuracy"])
        assert all(s > 0 for s in condition["cpu_seconds"] + condition["wall_seconds"])


def test_a_seed_repeats_its_run(mnist_root):
    torch.set_num_threads(1)
    first = experiments.recipe_run("ann", 3, data_dir=str(mnist_root), **TINY)
    again = experiments.recipe_run("ann", 3, data_dir=str(mnist_root), **TINY)
    assert first["test_accuracy"] == again["test_accuracy"]


def test_compare_losses_gives_both_losses_per_seed(mnist_root):
    torch.set_num_threads(1)
    results = experiments.compare_losses(seeds=[0], num_images=100, data_dir=str(mnist_root))
    assert set(results) == {"ce_rate", "ce_membrane"}
    for result in results.values():
        assert len(result["test_accuracy"]) == 1
        assert 0 <= result["label_spikes"][0] <= result["all_spikes"][0] <= 10 * 25


@pytest.mark.parametrize("seeds", [[], [0, -1], "012", [True], None])
def test_bad_seeds_are_refused(seeds):
    with pytest.raises(ValueError, match="seeds must be"):
        experiments.compare_losses(seeds=seeds)


def test_bad_condition_is_refused():
    with pytest.raises(ValueError, match="condition must be one of"):
        experiments.recipe_run("cnn", 0)
    with pytest.raises(ValueError, match="loss_name must be one of"):
        experiments.loss_run("mse_rate", 0)


def test_spread():
    s = experiments.spread([0.9, 0.92, 0.94])
    assert s["min"] == 0.9 and s["max"] == 0.94
    assert s["mean"] == pytest.approx(0.92) and s["std"] == pytest.approx(0.02)
    assert experiments.spread([0.5])["std"] == 0.0
    with pytest.raises(ValueError):
        experiments.spread([])


def test_load_refuses_another_experiment(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"experiment": "losses", "results": {}}))
    with pytest.raises(ValueError, match="no stored 'recipes' experiment"):
        experiments.load_recipes(path)


def _seeds_match(stored: dict, names) -> None:
    seeds = stored["settings"]["seeds"]
    assert len(seeds) >= 3 and len(set(seeds)) == len(seeds)
    assert set(stored["results"]) == set(names)
    for result in stored["results"].values():
        assert all(len(values) == len(seeds) for values in result.values())


def test_stored_loss_experiment_is_consistent():
    stored = experiments.load_losses()
    _seeds_match(stored, experiments.LOSS_NAMES)
    assert stored["settings"]["num_images"] == 10_000 and stored["settings"]["epochs"] == 1
    results = stored["results"]
    for result in results.values():
        assert all(0.5 < a < 1.0 for a in result["test_accuracy"])
        assert all(c <= a for c, a in zip(result["label_spikes"], result["all_spikes"],
                                          strict=True))
    # the lesson's claim: ce_rate spends fewer output spikes than ce_membrane in every seed
    assert max(results["ce_rate"]["all_spikes"]) < min(results["ce_membrane"]["all_spikes"])


def test_stored_recipe_experiment_is_consistent():
    stored = experiments.load_recipes()
    _seeds_match(stored, experiments.CONDITIONS)
    assert {k: v for k, v in stored["settings"]["handout"].items() if k != "recipe"} == \
        experiments.HANDOUT
    results = stored["results"]
    for result in results.values():
        assert all(0.9 < a < 1.0 for a in result["test_accuracy"])
        assert all(c > 0 for c in result["cpu_seconds"])
    assert stored["cpu_seconds"] >= 0.9 * sum(
        sum(r["cpu_seconds"]) for r in results.values())
    mean = {name: statistics.fmean(r["test_accuracy"]) for name, r in results.items()}
    # the lesson's claim: the course recipe beats the handout's recipe by more than the spread
    assert min(results["fc"]["test_accuracy"]) > max(results["handout"]["test_accuracy"])
    assert mean["fc"] > mean["handout"]
