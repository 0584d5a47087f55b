"""``python -m snnlab train ...`` end to end, on a small subset of the real MNIST."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from snnlab import __main__ as cli
from snnlab import checkpoints, models


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
    assert "epoch 1/2" in result.stderr  # the progress bar

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


@pytest.mark.parametrize("args, message", [
    (["fc", "--tau", "3"], "--tau is for the 'single' model"),
    (["single", "--beta", "0.9"], "--beta is not used by 'single'"),
    (["cnn"], "invalid choice"),
])
def test_train_cli_rejects_bad_arguments(args, message, capsys, tmp_path):
    try:
        code = cli.main(["train", *args, "--out", str(tmp_path / "x")])
    except SystemExit as exit_info:  # argparse's own errors
        code = exit_info.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()
