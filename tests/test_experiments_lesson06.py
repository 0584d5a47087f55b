"""Lesson 06's experiments (snnlab.course.experiments.lesson06): the code runs, and the stored
results are what the lesson says they are."""

from __future__ import annotations

import statistics

import pytest
import torch

from snnlab import data, losses, models
from snnlab.course.exercises.lesson06 import check_mean_step_loss
from snnlab.course.experiments import lesson06 as experiments

TINY = {"train_images": 64, "epochs": 1, "batch_size": 32, "lr": 3e-3, "test_images": 40}


@pytest.fixture(scope="module")
def tiny_results():
    torch.set_num_threads(1)
    return experiments.run(seeds=(0, 1), settings=TINY,
                           variants=["last step", "every step", "ANN (ReLU)"], progress=False)


def test_run_trains_every_variant_once_per_seed(tiny_results):
    assert tiny_results["seeds"] == [0, 1] and tiny_results["settings"] == TINY
    assert list(tiny_results["runs"]) == ["last step", "every step", "ANN (ReLU)"]
    for variant, runs in tiny_results["runs"].items():
        steps = 1 if variant == "ANN (ReLU)" else 5
        assert len(runs) == 2
        for result in runs:
            assert len(result["mse_per_step"]) == steps
            assert result["test_mse"] == result["mse_per_step"][-1] > 0
            assert result["cpu_seconds"] >= 0 and result["wall_seconds"] >= 0
        # the seed changes the weights and the data, so the two runs differ
        assert runs[0]["test_mse"] != runs[1]["test_mse"]
    pictures = tiny_results["examples"]["last step"]
    assert pictures.shape == (5, len(experiments.EXAMPLE_DIGITS), 32, 32)
    assert pictures.min() >= 0 and pictures.max() <= 1
    assert tiny_results["examples"]["ANN (ReLU)"].shape[0] == 1


def test_all_black_is_the_mean_square_of_the_test_digits(tiny_results):
    test_set = data.mnist(train=False, size=32, subset=TINY["test_images"], seed=0)
    images = torch.stack([image for image, _ in test_set])
    assert tiny_results["all_black"] == pytest.approx((images ** 2).mean().item(), rel=1e-5)


def test_a_run_is_repeatable():
    settings = {**TINY, "train_images": 32}
    _, first = experiments.train_one("every step", 3, settings)
    _, again = experiments.train_one("every step", 3, settings)
    assert first["mse_per_step"] == again["mse_per_step"]


def test_variants_that_differ_in_the_loss_start_from_the_same_weights():
    last, every = experiments.build("last step", 4), experiments.build("every step", 4)
    for (name, a), (_, b) in zip(last.state_dict().items(), every.state_dict().items(),
                                 strict=True):
        assert torch.equal(a, b), name
    assert experiments.build("latent 8", 4).to_latent.out_features == 8
    assert experiments.build("latent 128", 4).to_latent.out_features == 128
    assert isinstance(experiments.build("ANN (ReLU)", 4), experiments.ReLUAutoencoder)


def test_mean_step_loss_is_the_exercises_answer():
    assert check_mean_step_loss(experiments.mean_step_loss)
    images = torch.rand(3, 1, 32, 32)
    same = images.expand(4, -1, -1, -1, -1) * 0.5
    assert torch.allclose(experiments.mean_step_loss(None, same, images),
                          losses.reconstruction(None, same, images))
    with pytest.raises(ValueError, match="membrane must be"):
        experiments.mean_step_loss(None, torch.zeros(4, 3, 1, 28, 28), images)


def test_relu_autoencoder_mirrors_the_spiking_one():
    ann = experiments.ReLUAutoencoder(latent_dim=32)
    snn = models.SpikingAutoencoder(latent_dim=32)
    code, output = ann(torch.rand(2, 1, 32, 32))
    assert code.shape == (1, 2, 32) and output.shape == (1, 2, 1, 32, 32)
    assert (code >= 0).all()  # ReLU
    # the same layers: the same number of weights
    assert sum(p.numel() for p in ann.parameters()) == sum(p.numel() for p in snn.parameters())
    with pytest.raises(ValueError, match="size=32"):
        ann(torch.rand(2, 1, 28, 28))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown variant"):
        experiments.build("latent 64", 0)
    with pytest.raises(ValueError, match="settings must be a dict"):
        experiments.run(seeds=(0,), settings={"train_images": 10})
    with pytest.raises(ValueError, match="at least one seed"):
        experiments.run(seeds=(), settings=TINY)


def test_results_survive_save_and_load(tiny_results, tmp_path, monkeypatch):
    path = experiments.save(tiny_results, tmp_path / "results.json")
    with pytest.raises(ValueError, match="other settings"):
        experiments.load(path)
    monkeypatch.setattr(experiments, "SETTINGS", TINY)
    monkeypatch.setattr(experiments, "SEEDS", (0, 1))
    monkeypatch.setattr(experiments, "VARIANTS",
                        {v: experiments.VARIANTS[v] for v in tiny_results["runs"]})
    loaded = experiments.load(path)
    assert loaded["runs"] == tiny_results["runs"]
    for variant, pictures in tiny_results["examples"].items():
        if variant != "digits":  # pictures are stored as bytes: within half a grey level
            assert (loaded["examples"][variant] - pictures).abs().max() <= 0.5 / 255 + 1e-6


# ------------------------------------------------------------------ the stored results
@pytest.fixture(scope="module")
def stored():
    return experiments.load()


def test_stored_results_hold_every_variant_and_seed(stored):
    assert stored["settings"] == experiments.SETTINGS
    assert stored["seeds"] == list(experiments.SEEDS)
    for variant, runs in stored["runs"].items():
        assert len(runs) == len(experiments.SEEDS)
        steps = 1 if variant == "ANN (ReLU)" else 5
        for result in runs:
            assert len(result["mse_per_step"]) == steps
            assert result["test_mse"] == result["mse_per_step"][-1]
        table = experiments.summary(stored)[variant]
        values = [result["test_mse"] for result in runs]
        assert table["mean"] == pytest.approx(statistics.fmean(values))
        assert table["min"] == min(values) and table["max"] == max(values)


def test_stored_all_black_score_is_that_of_the_stored_test_digits(stored):
    test_set = data.mnist(train=False, size=32, subset=stored["settings"]["test_images"], seed=0)
    images = torch.stack([image for image, _ in test_set])
    assert stored["all_black"] == pytest.approx((images ** 2).mean().item(), rel=1e-5)


def test_every_stored_network_learned(stored):
    """Every run of every variant beats a picture that is all black by a wide margin."""
    for variant, runs in stored["runs"].items():
        assert max(r["test_mse"] for r in runs) < 0.8 * stored["all_black"], variant


def test_stored_examples_are_the_lessons_digits(stored):
    digits = data.mnist(train=False, size=32, subset=500)
    labels = [int(digits[i][1]) for i in stored["examples"]["digits"]]
    assert labels == list(experiments.EXAMPLE_DIGITS)
    for variant in experiments.VARIANTS:
        pictures = stored["examples"][variant]
        assert pictures.shape[1:] == (len(labels), 32, 32)
