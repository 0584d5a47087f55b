"""``python -m snnlab train ...`` end to end, on a small subset of the real MNIST."""

from __future__ import annotations

import csv
import errno
import json
import os
import subprocess
import sys

import pytest
import torch
from chinese import english_prose

from snnlab import __main__ as cli
from snnlab import checkpoints, data, i18n, models, training
from snnlab.course import recipes


def _run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snnlab", "train", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_train_cli_end_to_end(tmp_path, mnist_root):
    out = tmp_path / "run"
    result = _run("fc", "--epochs", "2", "--subset", "300", "--num-steps", "6",
                  "--batch-size", "50", "--lr", "0.005", "--beta", "0.9", "--seed", "1",
                  "--device", "cpu", "--data-dir", str(mnist_root), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "fc.history.csv", "fc.metrics.json", "fc.pt", "fc.steps.csv"]

    metrics = json.loads((out / "fc.metrics.json").read_text())
    assert metrics["epochs"] == 2 and metrics["batch_size"] == 50 and metrics["lr"] == 0.005
    assert metrics["model_config"]["num_steps"] == 6 and metrics["model_config"]["beta"] == 0.9
    assert 0.3 < metrics["test_accuracy"] <= 1.0  # chance is 0.1
    # the final test metric is printed
    assert f"test accuracy {metrics['test_accuracy']:.4f}" in result.stdout
    # not a terminal: one summary line per epoch instead of progress bars
    assert "epoch 1/2: train loss" in result.stdout and "it/s" not in result.stderr
    assert "chance" not in result.stdout + result.stderr  # it learned: no warning

    with open(out / "fc.history.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["epoch"] for row in rows] == ["1.0", "2.0"]
    assert float(rows[-1]["test_accuracy"]) == pytest.approx(metrics["test_accuracy"])
    # the run's wall time covers every epoch, not just the last one
    assert metrics["wall_seconds"] >= sum(float(row["seconds"]) for row in rows) - 0.1
    assert "seconds" not in metrics
    assert len((out / "fc.steps.csv").read_text().splitlines()) == 1 + 2 * 6  # 300 / 50 each
    assert metrics["stopped"] is None

    again = _run("fc", "--epochs", "2", "--subset", "300", "--num-steps", "6",
                 "--batch-size", "50", "--lr", "0.005", "--beta", "0.9", "--seed", "1",
                 "--device", "cpu", "--data-dir", str(mnist_root), "--out", str(out))
    assert again.returncode == 0 and "Loading the finished run" in again.stdout

    model = checkpoints.load_checkpoint(out / "fc.pt")
    assert isinstance(model, models.FCSNN) and model.config["num_steps"] == 6


def test_train_cli_help_lists_the_models_and_options():
    result = _run("--help")
    assert result.returncode == 0
    for word in ["fc", "single", "csnn", "sae", "--epochs", "--num-steps", "--batch-size",
                 "--lr", "--beta", "--tau", "--device", "--data-dir", "--out", "--seed",
                 "--subset", "SpikingAutoencoder"]:
        assert word in result.stdout


def _cli(*argv: str) -> int:
    """``python -m snnlab ...`` in this process; the exit status."""
    try:
        return cli.main(list(argv))
    except SystemExit as exit_info:  # argparse's own errors
        return exit_info.code


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.endswith("\n"), f"not one line: {err!r}"
    assert "Traceback" not in err
    return err


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if any data is loaded: every check must come first."""
    def loaders(*args, **kwargs):
        raise AssertionError("data was loaded although an argument was wrong")

    monkeypatch.setattr(data, "loaders", loaders)


@pytest.mark.parametrize("args, message", [
    (["fc", "--tau", "3"], "--tau is for 'single' only, not 'fc' (FCSNN); give --beta instead"),
    (["single", "--beta", "0.9"], "not 'single' (SingleLayerSNN); give --tau instead"),
    (["fc", "--beta", "-0.1"], "--beta must be in [0, 1], got -0.1"),
    (["ecsnn", "--num-hidden", "64"], "--num-hidden is for 'fc', 'order' and 'order_collapsed' "
                                      "only, not 'ecsnn' (EventCSNN)"),
    (["order", "--num-steps", "10"], "--num-steps is for 'fc', 'single', 'csnn' and 'sae'"),
    (["cnn"], "argument model: invalid choice: 'cnn'"),
    (["fc", "--epochs", "0"], "--epochs must be a positive int (>= 1), got 0"),
    (["fc", "--epochs", "-3"], "--epochs must be a positive int (>= 1), got -3"),
    (["fc", "--epochs", "two"], "argument --epochs: invalid int value: 'two'"),
    (["fc", "--epochs", "1.5"], "argument --epochs: invalid int value: '1.5'"),
    (["fc", "--lr", "nan"], "--lr must be > 0 and finite, got nan"),
    (["fc", "--lr", "inf"], "--lr must be > 0 and finite, got inf"),
    (["fc", "--lr", "0"], "--lr must be > 0 and finite, got 0.0"),
    (["fc", "--lr", "-0.01"], "--lr must be > 0 and finite, got -0.01"),
    (["fc", "--lr", "fast"], "argument --lr: invalid float value: 'fast'"),
    (["fc", "--batch-size", "0"], "--batch-size must be a positive int"),
    (["fc", "--num-steps", "0"], "--num-steps must be a positive int"),
    (["fc", "--num-hidden", "-3"], "--num-hidden must be a positive int (>= 1), got -3"),
    (["single", "--tau", "0.5"], "--tau must be > 1"),
    (["fc", "--beta", "1.5"], "--beta must be in"),
    (["fc", "--seed", "-1"], "--seed must be an int >= 0, got -1"),
    (["fc", "--subset", "0"], "--subset must be a positive int"),
    (["fc", "--subset", "5"], "--subset must be an int from 10 to 60000 (at least one image per "
                              "digit, at most the MNIST training set), got 5"),
    (["order", "--subset", "60001"], "--subset must be an int from 10 to 60000"),
    (["fc", "--device", "gpu"], "--device must be 'cpu', 'cuda' or 'cuda:N', got 'gpu'"),
    (["fc", "--loss", "reconstruction"], "--loss must be one of ('ce_rate'"),
    (["fc", "--data-dir", ""], "--data-dir must name a folder, got an empty string"),
    (["fc", "--colour", "red"], "unrecognized arguments: --colour red"),
    (["fc", "--out", " "], "--out must name a folder"),
])
def test_train_cli_rejects_bad_arguments_in_one_line(args, message, capsys, tmp_path,
                                                     no_training):
    code = _cli("train", "--out", str(tmp_path / "x"), *args)  # (a later --out wins)
    assert code == 2
    captured = capsys.readouterr()
    err = _one_line(captured.err)
    assert message in err
    assert captured.out == ""  # not even "Training fc into ..."
    assert not (tmp_path / "x").exists()
    for api_name in ("batch_size", "num_steps", "num_hidden", "device=", "root=", "data_dir"):
        assert api_name not in err  # the command's options, not the Python API's names


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_train_cli_device_cuda_without_a_gpu(capsys, tmp_path, no_training):
    assert _cli("train", "fc", "--device", "cuda", "--out", str(tmp_path / "x")) == 2
    assert ("--device 'cuda' asked for, but this machine has no CUDA GPU; use --device 'cpu' "
            "instead") in _one_line(capsys.readouterr().err)


def test_train_cli_refuses_output_places_it_could_not_write(capsys, tmp_path, no_training):
    (tmp_path / "notes.txt").write_text("mine")
    assert _cli("train", "fc", "--out", str(tmp_path / "notes.txt")) == 2
    assert "notes.txt' is a file" in _one_line(capsys.readouterr().err)
    (tmp_path / "run").mkdir()
    torch.save(models.FCSNN(num_hidden=8).state_dict(), tmp_path / "run" / "fc.pt")
    assert _cli("train", "fc", "--out", str(tmp_path / "run")) == 2
    assert "fc.pt' already holds a file that is not an snnlab checkpoint" in _one_line(
        capsys.readouterr().err)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_train_cli_without_mnist_says_where_to_put_it_in_one_line(capsys, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setattr("torchvision.datasets.MNIST", _no_internet)  # no download either
    code = _cli("train", "fc", "--epochs", "1", "--data-dir", str(tmp_path / "nodata"),
                "--out", str(tmp_path / "run"))
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing said about training that never started
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no run folder, no nodata/MNIST
    err = _one_line(captured.err)
    assert "MNIST was not found in" in err and "nodata" in err
    # the command's own way to name another folder, not the Python API's root=...
    assert err.rstrip().endswith("or give --data-dir FOLDER") and "root=" not in err
    assert "SNNLAB_DATA_DIR" in err


def _no_internet(*args, **kwargs):
    raise RuntimeError("no internet in this test")


def test_handout_cli_errors_are_one_line_with_status_2(capsys, tmp_path):
    missing = tmp_path / "nope.ipynb"
    assert _cli("handout", str(missing), "--version", "student", "--to", "html",
                "--out", str(tmp_path / "out")) == 2
    assert f"{missing}: no such notebook" in _one_line(capsys.readouterr().err)
    (tmp_path / "out.txt").write_text("mine")
    assert _cli("handout", str(missing), "--version", "student", "--to", "html",
                "--out", str(tmp_path / "out.txt")) == 2
    assert "out.txt is a file" in _one_line(capsys.readouterr().err)
    assert _cli("handout", "--version", "student", "--to", "html", "--out", str(tmp_path)) == 2
    assert "no notebooks given" in _one_line(capsys.readouterr().err)
    assert _cli("handout", "x.ipynb", "--version", "teacher", "--to", "html",
                "--out", str(tmp_path)) == 2
    assert "argument --version: invalid choice: 'teacher'" in _one_line(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_a_bug_exits_1_and_says_what_to_report(capsys, monkeypatch):
    def broken(args):
        raise RuntimeError("something inside snnlab broke")

    monkeypatch.setattr(recipes, "main", broken)
    assert _cli("train", "fc") == 1
    err = capsys.readouterr().err
    assert "internal error RuntimeError: something inside snnlab broke" in err
    assert "This is a bug in snnlab" in err and "report" in err and "Traceback" not in err


def test_a_full_disk_exits_1_in_one_line_and_is_not_called_a_bug(capsys, monkeypatch):
    def disk_full(args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(recipes, "main", disk_full)
    assert _cli("train", "fc") == 1
    err = _one_line(capsys.readouterr().err)
    assert "No space left on device" in err and "bug" not in err


@pytest.mark.parametrize("stopped, code", [("interrupted", 130), ("non-finite", 1),
                                           ("save failed", 1)])
def test_a_run_that_stopped_early_exits_non_zero_and_says_how_to_go_on(stopped, code, capsys,
                                                                       monkeypatch, tmp_path):
    def stopped_run(name, out, **settings):
        history = training.History("accuracy")
        history.stopped, history.stopped_at = stopped, (2, 3)
        history.epochs = {key: [1.0] for key in history.epochs}
        return None, history

    monkeypatch.setattr(recipes, "load_or_train", stopped_run)
    checkpoints.save_checkpoint(tmp_path / "fc.pt", models.FCSNN(num_hidden=8), epoch=1,
                                metric="accuracy")
    assert _cli("train", "fc", "--out", str(tmp_path)) == code
    err = capsys.readouterr().err
    assert f"fc: stopped ({stopped} at epoch and batch (2, 3))" in err
    assert "the checkpoint of epoch 1 is in" in err and "Run the same command again" in err


def test_train_cli_on_a_disk_that_fills_up_stops_clearly_and_resumes(tmp_path, mnist_root,
                                                                     monkeypatch, capsys):
    run = tmp_path / "run"
    args = ["train", "fc", "--epochs", "2", "--subset", "100", "--num-steps", "3",
            "--num-hidden", "16", "--batch-size", "50", "--device", "cpu", "--data-dir",
            str(mnist_root), "--out", str(run), "--no-progress"]
    real_save, saves = torch.save, []

    def disk_full_at_the_second_save(obj, file):  # as torch 2.x reports a full disk
        saves.append(1)
        if len(saves) != 2:
            return real_save(obj, file)
        file.write(b"PK\x03\x04 the first bytes")
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos "  # noqa: B904
                               "3264 vs 3158")

    with monkeypatch.context() as patch:
        patch.setattr(torch, "save", disk_full_at_the_second_save)
        assert _cli(*args) == 1
    err = _one_line(capsys.readouterr().err)
    assert "bug" not in err and "internal error" not in err
    assert err.startswith("fc: stopped (save failed at epoch and batch (2, 2)); the checkpoint "
                          f"of epoch 1 is in {run} (fc.pt, intact). Why: the checkpoint could "
                          f"not be written: could not write {str(run / 'fc.pt')!r}")
    assert "the disk is full (No space left on device; " in err
    assert ("Trained: 2 of 2 epochs (4 steps); epoch 2 was not saved. Run the same command "
            "again to resume after epoch 1 once the disk has room again") in err
    assert sorted(p.name for p in run.iterdir()) == [
        "fc.history.csv", "fc.metrics.json", "fc.pt", "fc.steps.csv"]
    metrics = json.loads((run / "fc.metrics.json").read_text())
    assert metrics["stopped"] == "save failed" and metrics["stopped_at"] == [2, 2]
    assert "the disk is full" in metrics["stopped_because"]
    assert checkpoints.checkpoint_info(run / "fc.pt")["epoch"] == 1

    assert _cli(*args) == 0  # room again: the same command finishes the run
    out = capsys.readouterr().out
    assert "did not finish (save failed); resuming it from its checkpoint after epoch 1" in out
    assert checkpoints.checkpoint_info(run / "fc.pt")["epoch"] == 2


def test_train_cli_resumes_an_interrupted_run_and_says_so(tmp_path, mnist_root, monkeypatch,
                                                         capsys):
    args = ["train", "fc", "--epochs", "2", "--subset", "100", "--num-steps", "3",
            "--batch-size", "50", "--device", "cpu", "--data-dir", str(mnist_root),
            "--out", str(tmp_path / "run"), "--no-progress"]
    real_loaders = data.loaders

    def loaders_interrupted_in_epoch_2(*arguments, **settings):
        train_loader, test_loader = real_loaders(*arguments, **settings)

        class Interrupted:
            epochs = 0

            def __len__(self):
                return len(train_loader)

            def __iter__(self):  # (runs from the first batch on: counts epochs, not iter())
                Interrupted.epochs += 1
                if Interrupted.epochs == 2:
                    raise KeyboardInterrupt
                yield from train_loader

        return Interrupted(), test_loader

    with monkeypatch.context() as patch:
        patch.setattr(data, "loaders", loaders_interrupted_in_epoch_2)
        assert _cli(*args) == 130
    assert "fc: stopped (interrupted at epoch and batch (2, 1)); the checkpoint of epoch 1" in (
        capsys.readouterr().err)
    assert _cli(*args) == 0
    out = capsys.readouterr().out
    assert "did not finish (interrupted); resuming it from its checkpoint after epoch 1" in out
    assert "after 2 epochs" in out
    history = training.History.from_csv(tmp_path / "run" / "fc.history.csv")
    assert history.epochs["epoch"] == [1.0, 2.0]


def test_train_cli_runs_the_lab_handouts_recipe_shape_into_its_own_folder(tmp_path, mnist_root):
    """--num-hidden, --num-steps, --batch-size, --loss, --lr, --schedule: the handout's kind of
    run (784-512-10, T=200, batch 512, ce_membrane, constant 5e-4), scaled down."""
    common = ["--data-dir", str(mnist_root), "--device", "cpu", "--subset", "256"]
    result = _run("fc", "--num-hidden", "16", "--num-steps", "8", "--batch-size", "64",
                  "--loss", "ce_membrane", "--lr", "5e-4", "--schedule", "constant",
                  "--epochs", "1", *common, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = (tmp_path / "runs" / "fc_num-hidden-16_num-steps-8_batch-size-64_loss-ce_membrane"
           "_lr-0.0005_schedule-constant_epochs-1_subset-256")
    metrics = json.loads((out / "fc.metrics.json").read_text())
    assert metrics["model_config"]["num_hidden"] == 16 and metrics["model_config"]["num_steps"] == 8
    assert (metrics["batch_size"], metrics["loss"], metrics["lr"], metrics["schedule"]) == (
        64, "ce_membrane", 5e-4, "constant")
    assert metrics["stopped"] is None and 0.0 <= metrics["test_accuracy"] <= 1.0
    assert len((out / "fc.steps.csv").read_text().splitlines()) == 1 + 256 // 64
    # ce_membrane sums 8 steps of cross-entropy: the loss starts near 8 ln 10, not ln 10
    with open(out / "fc.steps.csv") as file:
        first_loss = float(next(csv.DictReader(file))["loss"])
    assert first_loss > 8
    model = checkpoints.load_checkpoint(out / "fc.pt")
    assert model.fc1.out_features == 16 and model.num_steps == 8
    assert result.stdout.count("epoch 1/1: train loss") == 1  # one line, no bars
    assert "it/s" not in result.stderr

    # Another setting, another folder: the first run stays as it was.
    other = _run("fc", "--num-hidden", "16", "--num-steps", "4", "--epochs", "1", *common,
                 cwd=tmp_path)
    assert other.returncode == 0, other.stderr
    other_out = tmp_path / "runs" / "fc_num-hidden-16_num-steps-4_epochs-1_subset-256"
    assert json.loads((out / "fc.metrics.json").read_text()) == metrics
    # the recipe's own loss and schedule are implied by its name, not written
    other_metrics = json.loads((other_out / "fc.metrics.json").read_text())
    assert "loss" not in other_metrics and "schedule" not in other_metrics


def test_train_cli_help_lists_the_lab_options():
    result = _run("--help")
    assert result.returncode == 0
    for word in ["--num-hidden", "--loss", "--schedule", "ce_membrane", "constant",
                 "lab handout"]:
        assert word in result.stdout


@pytest.mark.parametrize("args, message", [
    (["csnn", "--num-hidden", "100"], "only, not 'csnn' (CSNN)"),
    (["fc", "--loss", "reconstruction"], "--loss must be one of ('ce_rate', 'ce_membrane'"),
    (["sae", "--loss", "ce_rate"], "--loss must be one of ('reconstruction',)"),
    (["fc", "--schedule", "cosine"], "invalid choice: 'cosine'"),
    (["fc", "--num-hidden", "0"], "--num-hidden must be a positive int"),
])
def test_train_cli_rejects_bad_lab_options(args, message, capsys, tmp_path):
    try:
        code = cli.main(["train", *args, "--out", str(tmp_path / "x")])
    except SystemExit as exit_info:  # argparse's own errors
        code = exit_info.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_train_cli_help_lists_every_recipe_from_the_table(capsys):
    assert _cli("train", "--help") == 0
    help_text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for name, recipe in recipes.RECIPES.items():
        assert f"{name} ({recipe.model.__name__})" in help_text
    assert "hidden LIF neurons, for fc, order, order_collapsed (defaults 1000, 256, 256)" in (
        help_text)
    assert ("0 <= beta <= 1 (1: no leak; 0: nothing kept from one step to the next), for fc, "
            "csnn, sae, order, order_collapsed, ecsnn") in help_text
    assert "sae takes reconstruction" in help_text  # one recipe: the verb agrees


@pytest.mark.parametrize("args, overrides", [
    (["order", "--num-hidden", "64"], {"num_hidden": 64}),
    (["order_collapsed", "--num-hidden", "64", "--beta", "0.8"], {"num_hidden": 64, "beta": 0.8}),
    (["ecsnn", "--beta", "1"], {"beta": 1.0}),     # no leak: an integrate-and-fire neuron
    (["csnn", "--beta", "0"], {"beta": 0.0}),      # allowed, as the help says (0 <= beta <= 1)
    (["single", "--tau", "3"], {"tau": 3.0}),
])
def test_train_cli_passes_each_recipes_settings_as_load_or_train_takes_them(args, overrides,
                                                                            monkeypatch,
                                                                            tmp_path):
    asked = {}

    def recorded(name, out, **settings):
        asked.update(settings, name=name)
        raise KeyboardInterrupt  # (stop here)

    monkeypatch.setattr(recipes, "load_or_train", recorded)
    assert _cli("train", *args, "--out", str(tmp_path / "x")) == 130
    assert asked["name"] == args[0]
    assert {key: asked[key] for key in overrides} == overrides
    # and the Python API takes the same settings for that recipe
    assert recipes.build_model(args[0], **overrides).config.items() >= overrides.items()


def test_train_cli_trains_order_with_another_hidden_layer(tmp_path, mnist_root):
    code = _cli("train", "order", "--num-hidden", "16", "--subset", "100", "--epochs", "1",
                "--device", "cpu", "--data-dir", str(mnist_root), "--out", str(tmp_path / "o"),
                "--no-progress")
    assert code == 0
    metrics = json.loads((tmp_path / "o" / "order.metrics.json").read_text())
    assert metrics["model_config"]["num_hidden"] == 16 and metrics["stopped"] is None


def test_train_cli_warns_when_a_run_stays_at_chance(tmp_path, mnist_root, capsys):
    code = _cli("train", "fc", "--lr", "1e9", "--subset", "300", "--num-steps", "4",
                "--epochs", "1", "--device", "cpu", "--data-dir", str(mnist_root),
                "--out", str(tmp_path / "run"))
    captured = capsys.readouterr()
    metrics = json.loads((tmp_path / "run" / "fc.metrics.json").read_text())
    assert metrics["test_accuracy"] < 0.15  # chance is 0.10
    assert code == 0 and "fc: test accuracy" in captured.out
    assert (f"warning: the test accuracy after epoch 1, {metrics['test_accuracy']:.4f}, is at "
            "chance level (below 1/10 + 0.05 = 0.15)") in captured.out
    assert "a learning rate too high" in captured.out and "beta = 0" in captured.out
    assert captured.err.startswith("fc: warning: the test accuracy, ") and "chance" in captured.err


def test_ctrl_c_at_the_first_step_says_no_checkpoint_was_written(tmp_path, mnist_root,
                                                                monkeypatch, capsys):
    real_loaders = data.loaders

    def interrupted_at_once(*arguments, **settings):
        train_loader, test_loader = real_loaders(*arguments, **settings)

        class Interrupted:
            def __len__(self):
                return len(train_loader)

            def __iter__(self):
                raise KeyboardInterrupt
                yield  # (a generator)

        return Interrupted(), test_loader

    monkeypatch.setattr(data, "loaders", interrupted_at_once)
    run = tmp_path / "run"
    assert _cli("train", "fc", "--subset", "100", "--epochs", "1", "--device", "cpu",
                "--data-dir", str(mnist_root), "--out", str(run)) == 130
    captured = capsys.readouterr()
    assert ("fit: interrupted (Ctrl-C) at epoch 1, batch 1; stopped. No epoch finished, so no "
            "checkpoint was written.") in captured.out
    assert "intact" not in captured.out
    assert ("fc: stopped (interrupted at epoch and batch (1, 1)); no checkpoint of this run was "
            "written.") in captured.err
    assert not (run / "fc.pt").exists()


def test_train_cli_help_in_chinese():
    done = subprocess.run([sys.executable, "-m", "snnlab", "train", "--help"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "SNNLAB_LANG": "zh_CN"})
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())  # argparse wraps lines
    assert "在 MNIST 上训练本课程的一个网络。" in text
    assert "要训练的网络：fc (FCSNN), single (SingleLayerSNN)" in text
    assert ("隐藏层 LIF 神经元数，适用于 fc, order, order_collapsed"
            "（默认值依次为 1000, 256, 256）") in text
    assert "训练方案（默认设置；优化器为 Adam，学习率调度为 one-cycle）：" in text
    assert "（实验讲义中的训练方案，结果保存在 runs/fc_num-hidden-512_...）" in text
    for name, recipe in recipes.RECIPES.items():
        assert f"{name} ({recipe.model.__name__})" in text
    # argparse's own words (usage, options, the -h line) may stay English; so do options,
    # metavars, the recipes' and networks' names, and the example commands
    names = {*recipes.RECIPES, *(r.model.__name__ for r in recipes.RECIPES.values())}
    lines = [line.replace("show this help message and exit", "")
             for line in done.stdout.split("\n\n", 1)[1].splitlines()
             if not line.lstrip().startswith(("python -m", "options:", "positional"))]
    words = [word for word in " ".join(lines).replace(",", " ").split()
             if word not in names and not word.startswith(("-", "[", "{")) and not word.isupper()]
    assert english_prose(" ".join(words)) == []  # the recipes' names are names, not prose
    header = next(line for line in done.stdout.splitlines() if "名称" in line)
    fc = next(line for line in done.stdout.splitlines() if line.startswith("  fc "))
    assert i18n.width(header[:header.index("模型")]) == fc.index("FCSNN")  # the columns line up


@pytest.fixture
def chinese():
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_a_stopped_run_says_how_to_go_on_in_chinese(capsys, monkeypatch, tmp_path, chinese):
    def stopped_run(name, out, **settings):
        history = training.History("accuracy")
        history.stopped, history.stopped_at = "save failed", (2, 3)
        history.stopped_because = i18n.tr("the checkpoint could not be written: {error}") \
            .format(error="No space left on device")
        history.epochs = {key: [1.0, 2.0] for key in history.epochs}
        history.steps["loss"] = [1.0] * 5
        return None, history

    monkeypatch.setattr(recipes, "load_or_train", stopped_run)
    checkpoints.save_checkpoint(tmp_path / "fc.pt", models.FCSNN(num_hidden=8), epoch=1,
                                metric="accuracy")
    assert _cli("train", "fc", "--out", str(tmp_path)) == 1
    err = capsys.readouterr().err
    assert err == (f"fc：已停止（保存失败，停在轮次和批次 (2, 3)）；第 1 轮的检查点在 {tmp_path} 中"
                   "（fc.pt，完好无损）。原因：检查点无法写入：No space left on device。"
                   "已训练：2 轮（5 步）；第 2 轮没有保存。"
                   "要从第 1 轮之后继续训练（等磁盘重新有了空间，或文件夹重新可写之后），"
                   "再运行一次同样的命令。\n")


def test_the_result_line_in_chinese(capsys, monkeypatch, tmp_path, chinese):
    def finished_run(name, out, **settings):
        history = training.History("accuracy")
        history.epochs = {key: [1.0] for key in history.epochs}
        history.epochs["test_accuracy"] = [0.9123]
        return models.FCSNN(num_hidden=8), history

    monkeypatch.setattr(recipes, "load_or_train", finished_run)
    assert _cli("train", "fc", "--out", str(tmp_path)) == 0
    out = capsys.readouterr().out
    assert out == (f"fc：训练 1 轮后，测试准确率 0.9123；运行结果在 {tmp_path}/"
                   "（fc.pt, fc.metrics.json, fc.history.csv, fc.steps.csv）\n")
