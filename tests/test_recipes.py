"""Recipes: train-or-load for the lessons, the pretrained files, and History read back from CSV."""

from __future__ import annotations

import json

import pytest
import torch

from snnlab import checkpoints, models, training
from snnlab.course import recipes


def _tiny(tmp_path, mnist_root, **overrides):
    settings = dict(epochs=1, subset=200, test_subset=50, batch_size=50, data_dir=str(mnist_root),
                    device="cpu", progress=False, num_steps=5)
    return recipes.load_or_train("fc", tmp_path / "run", **{**settings, **overrides})


def test_load_or_train_trains_then_loads_the_finished_run(tmp_path, mnist_root, capsys):
    model, history = _tiny(tmp_path, mnist_root)
    assert "Loading" not in capsys.readouterr().out
    assert len(history.steps["loss"]) == 4  # 200 images / 50 per batch

    again, history_again = _tiny(tmp_path, mnist_root)
    assert "Loading the finished run" in capsys.readouterr().out
    assert history_again.steps["loss"] == pytest.approx(history.steps["loss"])
    assert history_again.epochs["test_accuracy"] == pytest.approx(history.epochs["test_accuracy"])
    for key, value in model.state_dict().items():
        torch.testing.assert_close(again.state_dict()[key], value.cpu())


def test_load_or_train_trains_again_when_a_setting_differs(tmp_path, mnist_root, capsys):
    _tiny(tmp_path, mnist_root)
    capsys.readouterr()
    model, history = _tiny(tmp_path, mnist_root, num_steps=4)  # another network
    assert "Loading" not in capsys.readouterr().out
    assert model.config["num_steps"] == 4
    _tiny(tmp_path, mnist_root, num_steps=4, lr=1e-3)  # another learning rate
    assert "Loading" not in capsys.readouterr().out
    metrics = json.loads((tmp_path / "run" / "fc.metrics.json").read_text())
    assert metrics["lr"] == 1e-3


def test_publish_writes_half_precision_weights_and_the_history(tmp_path, mnist_root):
    model, history = _tiny(tmp_path, mnist_root)
    written = recipes.publish(tmp_path / "run", "fc", to=tmp_path / "assets")
    assert sorted(p.name for p in written) == [
        "fc.history.csv", "fc.metrics.json", "fc.pt", "fc.steps.csv"]
    assert (tmp_path / "assets" / "fc.pt").stat().st_size < (tmp_path / "run" / "fc.pt").stat(
    ).st_size / 2  # float16 and no optimizer state
    loaded = checkpoints.load_checkpoint(tmp_path / "assets" / "fc.pt", model_class=models.FCSNN)
    weight = model.state_dict()["fc1.weight"].cpu()
    torch.testing.assert_close(loaded.state_dict()["fc1.weight"], weight.half().float())
    read = training.History.from_csv(tmp_path / "assets" / "fc.history.csv",
                                     tmp_path / "assets" / "fc.steps.csv")
    assert read.metric == "accuracy"
    assert read.steps["loss"] == pytest.approx(history.steps["loss"])


def test_publish_refuses_an_unfinished_run(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(FileNotFoundError, match="no finished run of 'fc'"):
        recipes.publish(tmp_path / "run", "fc", to=tmp_path / "assets")


def test_history_csv_round_trip_and_bad_files(tmp_path):
    history = training.History("mse")
    history.steps = {"loss": [0.5, 0.25, 0.125], "mse": [0.4, 0.2, 0.1]}
    for key, value in (("epoch", 1.0), ("train_loss", 0.3), ("train_mse", 0.2),
                       ("test_loss", 0.28), ("test_mse", 0.19), ("seconds", 12.5)):
        history.epochs[key] = [value]
    history.to_csv(tmp_path / "epochs.csv")
    history.to_csv(tmp_path / "steps.csv", per="step")
    read = training.History.from_csv(tmp_path / "epochs.csv", tmp_path / "steps.csv")
    assert read.metric == "mse" and read.steps == history.steps and read.epochs == history.epochs

    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="no test_accuracy or test_mse column"):
        training.History.from_csv(tmp_path / "other.csv")
    (tmp_path / "words.csv").write_text("epoch,test_mse\n1,lots\n")
    with pytest.raises(ValueError, match="every value must be a number"):
        training.History.from_csv(tmp_path / "words.csv")


def test_pretrained_files_load_for_every_recipe():
    missing = [name for name in recipes.RECIPES
               if not (recipes.CHECKPOINT_DIR / f"{name}.pt").is_file()]
    if missing:
        pytest.fail(f"pretrained checkpoints missing from assets/checkpoints/: {missing}")
    for name, recipe in recipes.RECIPES.items():
        model = recipes.pretrained(name)
        assert isinstance(model, recipe.model)
        history = recipes.pretrained_history(name)
        assert history.metric == recipe.metric
        assert len(history.epochs["epoch"]) == recipe.epochs
        assert len(history.steps["loss"]) > 100
