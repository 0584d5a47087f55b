"""Recipes: train-or-load for the lessons, the pretrained files, and History read back from CSV."""

from __future__ import annotations

import dataclasses
import errno
import json
import os

import pytest
import torch

from snnlab import checkpoints, data, losses, models, training
from snnlab.course import recipes


def _tiny(tmp_path, mnist_root, folder="run", **overrides):
    settings = dict(epochs=1, subset=200, test_subset=50, batch_size=50, data_dir=str(mnist_root),
                    device="cpu", progress=False, num_steps=5)
    return recipes.load_or_train("fc", tmp_path / folder, **{**settings, **overrides})


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
        pytest.fail(f"pretrained checkpoints missing from snnlab/course/checkpoints/: {missing}")
    for name, recipe in recipes.RECIPES.items():
        model = recipes.pretrained(name)
        assert isinstance(model, recipe.model)
        history = recipes.pretrained_history(name)
        assert history.metric == recipe.metric
        # a pretrained network may train longer than the lesson's recipe: its history
        # matches how it was trained, as its metrics.json records, and its shape the recipe's
        trained = json.loads((recipes.CHECKPOINT_DIR / f"{name}.metrics.json").read_text())
        assert trained["recipe"] == name
        assert recipe.model_kwargs.items() <= trained["model_config"].items()
        assert trained["stopped"] is None
        assert len(history.epochs["epoch"]) == trained["epochs"] >= recipe.epochs
        assert history.epochs[f"test_{recipe.metric}"][-1] == pytest.approx(
            trained[f"test_{recipe.metric}"])
        assert len(history.steps["loss"]) > 100


# ------------------------------------------------ unfinished runs: resume or retrain


class _InterruptedLoader:
    """A DataLoader whose iteration raises KeyboardInterrupt at (epoch, batch), as Ctrl-C would."""

    def __init__(self, loader, epoch: int, batch: int):
        self.loader, self.epoch, self.batch, self.epochs_started = loader, epoch, batch, 0

    def __len__(self):
        return len(self.loader)

    def __iter__(self):  # the loader's iterator at once: its shuffle draws as a DataLoader's
        return self._epoch(iter(self.loader))

    def _epoch(self, batches):
        self.epochs_started += 1
        for number, item in enumerate(batches, start=1):
            if (self.epochs_started, number) == (self.epoch, self.batch):
                raise KeyboardInterrupt
            yield item


def _interrupt_loader_at(monkeypatch, epoch: int, batch: int):
    real_loaders = data.loaders

    def loaders(*args, **kwargs):
        train_loader, test_loader = real_loaders(*args, **kwargs)
        return _InterruptedLoader(train_loader, epoch, batch), test_loader

    monkeypatch.setattr(data, "loaders", loaders)


def _settings(mnist_root):
    return dict(epochs=2, subset=200, test_subset=50, batch_size=50, data_dir=str(mnist_root),
                device="cpu", progress=False, num_steps=4, num_hidden=32)


def test_an_interrupted_run_resumes_and_ends_like_an_uninterrupted_one(tmp_path, mnist_root,
                                                                       monkeypatch, capsys):
    settings = _settings(mnist_root)
    _, straight = recipes.load_or_train("fc", tmp_path / "straight", **settings)
    capsys.readouterr()

    with monkeypatch.context() as patch:
        _interrupt_loader_at(patch, epoch=2, batch=2)  # Ctrl-C from the loader, mid-epoch 2
        _, stopped = recipes.load_or_train("fc", tmp_path / "run", **settings)
    assert stopped.stopped == "interrupted" and stopped.stopped_at == (2, 2)
    run = tmp_path / "run"
    assert json.loads((run / "fc.metrics.json").read_text())["stopped"] == "interrupted"
    assert checkpoints.checkpoint_info(run / "fc.pt")["epoch"] == 1
    on_disk = training.History.from_csv(run / "fc.history.csv", run / "fc.steps.csv")
    assert on_disk.epochs["epoch"] == [1.0] and len(on_disk.steps["loss"]) == 4 + 1
    capsys.readouterr()

    model, history = recipes.load_or_train("fc", run, **settings)
    out = capsys.readouterr().out
    assert "did not finish (interrupted); resuming it from its checkpoint after epoch 1" in out
    assert history.stopped is None
    assert history.epochs["epoch"] == [1.0, 2.0]  # every epoch once
    assert len(history.steps["loss"]) == 2 * 4  # every step once
    # the same weights, optimizer and schedule state and data order: the same run
    assert history.steps["loss"] == pytest.approx(straight.steps["loss"], rel=1e-5)
    assert history.epochs["test_accuracy"] == pytest.approx(straight.epochs["test_accuracy"])
    metrics = json.loads((run / "fc.metrics.json").read_text())
    assert metrics["stopped"] is None and metrics["stopped_at"] is None
    on_disk = training.History.from_csv(run / "fc.history.csv", run / "fc.steps.csv")
    assert on_disk.epochs["epoch"] == [1.0, 2.0] and len(on_disk.steps["loss"]) == 8

    again, _ = recipes.load_or_train("fc", run, **settings)
    assert "Loading the finished run" in capsys.readouterr().out
    torch.testing.assert_close(again.fc1.weight, model.fc1.weight.cpu())


def test_a_run_interrupted_in_its_first_epoch_trains_afresh(tmp_path, mnist_root, monkeypatch,
                                                            capsys):
    settings = _settings(mnist_root)
    with monkeypatch.context() as patch:
        _interrupt_loader_at(patch, epoch=1, batch=3)
        _, stopped = recipes.load_or_train("fc", tmp_path / "run", **settings)
    assert stopped.stopped == "interrupted" and not (tmp_path / "run" / "fc.pt").exists()
    capsys.readouterr()
    _, history = recipes.load_or_train("fc", tmp_path / "run", **settings)
    assert "did not finish (interrupted, at epoch and batch [1, 3]); training fc afresh" in (
        capsys.readouterr().out)
    assert history.stopped is None and history.epochs["epoch"] == [1.0, 2.0]


def test_a_run_stopped_by_nan_is_retrained_not_loaded(tmp_path, mnist_root, monkeypatch, capsys):
    settings = _settings(mnist_root)
    calls = []

    def nan_at_epoch_2_batch_2(spikes, membrane, targets):
        calls.append(1)
        loss = losses.ce_rate(spikes, membrane, targets)
        return loss * float("nan") if len(calls) == 7 else loss  # (5 = the test pass)

    with monkeypatch.context() as patch:
        patch.setitem(recipes.RECIPES, "fc", dataclasses.replace(recipes.RECIPES["fc"],
                                                                 loss=nan_at_epoch_2_batch_2))
        _, broken = recipes.load_or_train("fc", tmp_path / "run", **settings)
    assert broken.stopped == "non-finite" and broken.stopped_at == (2, 2)
    metrics = json.loads((tmp_path / "run" / "fc.metrics.json").read_text())
    assert metrics["stopped"] == "non-finite" and metrics["stopped_at"] == [2, 2]
    capsys.readouterr()

    _, history = recipes.load_or_train("fc", tmp_path / "run", **settings)
    assert "did not finish (non-finite, at epoch and batch [2, 2]); training fc afresh" in (
        capsys.readouterr().out)
    assert history.stopped is None and history.epochs["epoch"] == [1.0, 2.0]


def test_a_full_disk_stops_the_run_and_the_next_call_resumes(tmp_path, mnist_root, monkeypatch,
                                                             capsys):
    settings = _settings(mnist_root)
    real_save, saves = torch.save, []

    def disk_full_on_the_second_save(obj, file):
        saves.append(1)
        if len(saves) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(obj, file)

    with monkeypatch.context() as patch:
        patch.setattr(torch, "save", disk_full_on_the_second_save)
        _, stopped = recipes.load_or_train("fc", tmp_path / "run", **settings)
    assert stopped.stopped == "save failed"
    run = tmp_path / "run"
    assert checkpoints.checkpoint_info(run / "fc.pt")["epoch"] == 1
    assert json.loads((run / "fc.metrics.json").read_text())["stopped"] == "save failed"
    capsys.readouterr()
    _, history = recipes.load_or_train("fc", run, **settings)
    assert "did not finish (save failed); resuming it from its checkpoint after epoch 1" in (
        capsys.readouterr().out)
    assert history.epochs["epoch"] == [1.0, 2.0] and len(history.steps["loss"]) == 8


def test_a_finished_run_whose_checkpoint_is_gone_trains_afresh(tmp_path, mnist_root, capsys):
    _tiny(tmp_path, mnist_root)
    (tmp_path / "run" / "fc.pt").unlink()
    capsys.readouterr()
    _tiny(tmp_path, mnist_root)
    assert "its checkpoint fc.pt is gone; training fc afresh" in capsys.readouterr().out
    assert (tmp_path / "run" / "fc.pt").is_file()


def test_an_unfinished_run_with_a_damaged_history_trains_afresh_and_says_why(tmp_path,
                                                                            mnist_root,
                                                                            monkeypatch, capsys):
    settings = _settings(mnist_root)
    with monkeypatch.context() as patch:
        _interrupt_loader_at(patch, epoch=2, batch=1)
        recipes.load_or_train("fc", tmp_path / "run", **settings)
    (tmp_path / "run" / "fc.history.csv").write_text("epoch,test_accuracy\n1\n")
    capsys.readouterr()
    _, history = recipes.load_or_train("fc", tmp_path / "run", **settings)
    out = capsys.readouterr().out
    assert "cannot be resumed" in out and "fc.history.csv" in out and "training fc afresh" in out
    assert history.epochs["epoch"] == [1.0, 2.0]


# ------------------------------------------------ careless arguments, before any work


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if any data is loaded: every check must come first."""
    def loaders(*args, **kwargs):
        raise AssertionError("data was loaded although an argument was wrong")

    monkeypatch.setattr(data, "loaders", loaders)


@pytest.mark.parametrize("change, error, message", [
    (dict(name="cnn"), ValueError, "unknown recipe 'cnn'; choose one of"),
    (dict(name=None), ValueError, "unknown recipe None"),
    (dict(name=["fc"]), ValueError, "unknown recipe \\['fc'\\]"),
    (dict(epochs=True), TypeError, "epochs must be a positive int, got bool"),
    (dict(epochs=0), ValueError, "epochs must be a positive int"),
    (dict(epochs=-3), ValueError, "epochs must be a positive int"),
    (dict(epochs=1.5), TypeError, "epochs must be a positive int, got float"),
    (dict(epochs="2"), TypeError, "epochs must be a positive int, got str"),
    (dict(lr=float("nan")), ValueError, "lr must be > 0 and finite, got nan"),
    (dict(lr=float("inf")), ValueError, "lr must be > 0 and finite, got inf"),
    (dict(lr=0), ValueError, "lr must be > 0"),
    (dict(lr=-1e-3), ValueError, "lr must be > 0"),
    (dict(lr="1e-3"), TypeError, "lr must be a number"),
    (dict(batch_size=0), ValueError, "batch_size must be a positive int"),
    (dict(batch_size=True), TypeError, "batch_size must be a positive int"),
    (dict(subset=1.5), TypeError, "subset must be a positive int"),
    (dict(test_subset=-1), ValueError, "test_subset must be a positive int"),
    (dict(subset=5), ValueError, r"subset must be an int from 10 to 60000 \(at least one image"),
    (dict(subset=60001), ValueError, "subset must be an int from 10 to 60000"),
    (dict(test_subset=10001), ValueError, "test_subset must be an int from 10 to 10000"),
    (dict(seed=-1), ValueError, "seed must be an int >= 0"),
    (dict(seed=1.0), TypeError, "seed must be an int, got float"),
    (dict(seed=None), TypeError, "seed must be an int"),
    (dict(tau=2.0), TypeError, "recipe 'fc' \\(FCSNN\\) has no setting tau; it takes"),
    (dict(hidden=10), TypeError, "has no setting hidden"),
    (dict(num_steps=0), ValueError, "num_steps must be a positive int"),
    (dict(beta=2.0), ValueError, "beta must be in"),
    (dict(device="gpu"), ValueError, "device must be 'cpu', 'cuda' or 'cuda:N'"),
    (dict(data_dir=5), TypeError, "data_dir must be a folder path"),
    (dict(progress="no"), TypeError, "progress must be True or False"),
    (dict(out=None), TypeError, "out must be a folder path"),
    (dict(out=5), TypeError, "out must be a folder path"),
])
@pytest.mark.parametrize("function", ["train", "load_or_train"])
def test_careless_recipe_arguments_are_refused_before_any_work(tmp_path, no_training, function,
                                                               change, error, message, capsys):
    arguments = dict(name="fc", out=tmp_path / "run", epochs=1, progress=False)
    arguments.update(change)
    if function == "train" and arguments["out"] is None:
        arguments["out"] = 5  # (train without out is allowed: it saves nothing)
        message = "out must be a folder path"
    name = arguments.pop("name")
    with pytest.raises(error, match=message):
        getattr(recipes, function)(name, **arguments)
    assert not (tmp_path / "run").exists()
    assert capsys.readouterr().out == ""  # not even "Training fc into ..."


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_device_cuda_without_a_gpu_is_refused_before_any_work(tmp_path, no_training):
    with pytest.raises(ValueError, match="'cuda' asked for, but this machine has no CUDA GPU"):
        recipes.load_or_train("fc", tmp_path / "run", device="cuda")
    with pytest.raises(ValueError, match="no CUDA GPU"):
        recipes.pretrained("fc", device="cuda")


@pytest.mark.parametrize("function", ["train", "load_or_train"])
def test_output_places_that_cannot_be_written_are_refused_before_any_work(tmp_path, no_training,
                                                                          function, monkeypatch):
    run = getattr(recipes, function)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(NotADirectoryError, match=r"out '.*notes\.txt' is a file"):
        run("fc", out=tmp_path / "notes.txt", epochs=1)
    (tmp_path / "plain").mkdir()
    torch.save(models.FCSNN(num_hidden=8).state_dict(), tmp_path / "plain" / "fc.pt")
    with pytest.raises(FileExistsError, match=r"plain/fc\.pt' already holds a file that is "
                                              "not an snnlab checkpoint"):
        run("fc", out=tmp_path / "plain", epochs=1)
    (tmp_path / "other").mkdir()
    checkpoints.save_checkpoint(tmp_path / "other" / "fc.pt", models.CSNN(num_steps=2))
    with pytest.raises(FileExistsError, match=r"other/fc\.pt' already holds a checkpoint of CSNN"):
        run("fc", out=tmp_path / "other", epochs=1)
    (tmp_path / "odd" / "fc.metrics.json").mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match=r"fc\.metrics\.json' is a folder"):
        run("fc", out=tmp_path / "odd", epochs=1)
    (tmp_path / "locked").mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access",  # as root, chmod stops nothing: pretend
                        lambda p, mode: False if str(p) == str(tmp_path / "locked")
                        else real_access(p, mode))
    with pytest.raises(PermissionError, match="locked' is not writable"):
        run("fc", out=tmp_path / "locked", epochs=1)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert list((tmp_path / "locked").iterdir()) == []


@pytest.mark.parametrize("call, error, message", [
    (lambda t: recipes.publish(t / "run", "cnn", to=t / "assets"), ValueError,
     "unknown recipe 'cnn'"),
    (lambda t: recipes.publish(None, "fc", to=t / "assets"), TypeError,
     "publish: run must be a folder path"),
    (lambda t: recipes.publish(t / "run", "fc", to=t / "notes.txt"), NotADirectoryError,
     r"to='.*notes\.txt' is a file"),
    (lambda t: recipes.pretrained("cnn"), ValueError, "unknown recipe 'cnn'"),
    (lambda t: recipes.pretrained_history(3), ValueError, "unknown recipe 3"),
    (lambda t: recipes.build_model("fc", bogus=1), TypeError, "has no setting bogus"),
])
def test_careless_publish_and_pretrained_arguments(tmp_path, call, error, message):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(error, match=message):
        call(tmp_path)
    assert not (tmp_path / "assets").exists()


def test_load_or_train_says_what_it_does_in_chinese(tmp_path, mnist_root, capsys):
    from snnlab import i18n

    i18n.set_language("zh_CN")
    try:
        _tiny(tmp_path, mnist_root)
        trained = capsys.readouterr().out
        _, history = _tiny(tmp_path, mnist_root)
        loaded = capsys.readouterr().out
    finally:
        i18n.set_language("en")
    run = tmp_path / "run"
    assert trained.startswith(f"正在训练 fc，结果保存到 {run}。\n")
    accuracy = history.final()["test_accuracy"]
    assert loaded == (f"正在加载 {run} 中已完成的运行（测试准确率 {accuracy:.4f}）；"
                      "要重新训练，请删除那个文件夹。\n")


@pytest.mark.parametrize("content", ["{not json", "[1, 2, 3]", "\xff\xfe"])
def test_a_damaged_metrics_file_means_no_earlier_run(tmp_path, mnist_root, content, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "fc.metrics.json").write_bytes(content.encode("latin-1"))
    _, history = _tiny(tmp_path, mnist_root)
    assert f"Training fc into {tmp_path / 'run'}." in capsys.readouterr().out
    assert history.stopped is None
    assert json.loads((tmp_path / "run" / "fc.metrics.json").read_text())["stopped"] is None
