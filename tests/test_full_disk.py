"""A disk that really fills up: training, the train and handout commands and Video.save on a
small tmpfs, mounted without root in a user namespace (``unshare -Urm``). Each must stop with a
clear message and leave no partial file (and training: its last checkpoint and its history).
Skips where the system allows no user namespaces (the simulated full disks of test_training,
test_cli, test_handout and test_animate run everywhere)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Printed at the end of each run: every file on the small disk, with its size.
LIST_FILES = ("import json, os, sys; d = sys.argv[1]; print('FILES', json.dumps(sorted("
              "[os.path.relpath(os.path.join(r, f), d), os.path.getsize(os.path.join(r, f))] "
              "for r, _, fs in os.walk(d) for f in fs)))")


@functools.cache
def _small_disks_allowed() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-Urm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


def _on_a_small_disk(tmp_path: Path, size: str, commands: str) -> tuple[str, str, list]:
    """Run shell ``commands`` with a ``size`` tmpfs mounted at $DISK; their stdout (without the
    file list), stderr, and the files left on the disk as [name, bytes] pairs."""
    if not _small_disks_allowed():
        pytest.skip("no user namespaces here (unshare -Urm), so no small disk without root")
    disk = tmp_path / "disk"
    disk.mkdir()
    script = (f'mount -t tmpfs -o size={size} tmpfs "$DISK" || exit 99\n{commands}\n'
              f'"$PYTHON" -c "{LIST_FILES}" "$DISK"\n')
    env = {**os.environ, "DISK": str(disk), "PYTHON": sys.executable, "PYTHONPATH": str(REPO)}
    done = subprocess.run(["unshare", "-Urm", "sh", "-c", script], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out, _, listing = done.stdout.rpartition("FILES ")
    return out, done.stderr, json.loads(listing)


def test_fit_on_a_full_disk_stops_as_save_failed_with_its_history(tmp_path):
    script = """
import json, os, torch
from snnlab import checkpoints, losses, models, training
torch.manual_seed(0)
model = models.FCSNN(num_hidden=32, num_steps=5)  # a checkpoint of about 0.3 MB
generator = torch.Generator().manual_seed(0)
batches = [(torch.rand(8, 1, 28, 28, generator=generator),
            torch.randint(0, 10, (8,), generator=generator)) for _ in range(4)]
path = os.path.join(os.environ["DISK"], "fc.pt")
history = training.fit(model, batches, losses.ce_rate, torch.optim.Adam(model.parameters()), 3,
                       checkpoint=path, progress=False)
print("RESULT", json.dumps({"stopped": history.stopped, "at": history.stopped_at,
                            "because": history.stopped_because, "epochs": history.epochs["epoch"],
                            "saved": checkpoints.checkpoint_info(path)["epoch"]}))
"""
    out, err, files = _on_a_small_disk(tmp_path, "512k", f'"$PYTHON" -c \'{script}\'')
    result = json.loads(out.split("RESULT ")[1])
    assert result["stopped"] == "save failed" and result["at"] == [2, 4], err
    assert result["epochs"] == [1.0, 2.0] and result["saved"] == 1
    assert "the disk is full (No space left on device" in result["because"]
    assert sorted(name for name, _ in files) == ["fc.history.csv", "fc.pt", "fc.steps.csv"]


def test_the_train_command_on_a_full_disk_says_what_happened(tmp_path, mnist_root):
    out, err, files = _on_a_small_disk(tmp_path, "512k", (
        '"$PYTHON" -m snnlab train fc --epochs 2 --subset 100 --batch-size 50 --num-steps 3 '
        f'--num-hidden 32 --device cpu --data-dir "{mnist_root}" --out "$DISK/run" '
        '--no-progress\necho "EXIT $?"'))
    assert "EXIT 1" in out
    assert "internal error" not in err and "Traceback" not in err
    assert err.startswith("fc: stopped (save failed at epoch and batch (2, 2)); the checkpoint "
                          "of epoch 1 is in ")
    assert "the disk is full (No space left on device" in err
    assert "Trained: 2 of 2 epochs (4 steps); epoch 2 was not saved" in err
    assert sorted(name for name, _ in files) == [
        "run/fc.history.csv", "run/fc.metrics.json", "run/fc.pt", "run/fc.steps.csv"]


def test_the_handout_command_on_a_full_disk_leaves_no_partial_page(tmp_path):
    out, err, files = _on_a_small_disk(tmp_path, "16k", (
        '"$PYTHON" -m snnlab handout tests/fixtures/01_toy_lesson.ipynb --version student '
        '--to html --out "$DISK/handouts"\necho "EXIT $?"'))
    assert "EXIT 1" in out
    assert ("error: 01_toy_lesson.ipynb: could not write '" in err
            and "01_toy_lesson-student.html' (it was left as it was): the disk is full" in err)
    assert files == []


def test_video_save_on_a_full_disk_leaves_no_partial_video(tmp_path):
    script = """
import os, warnings, torch
from snnlab import animate
frames = (torch.rand(300, 28, 28, generator=torch.Generator().manual_seed(0)) < 0.5).float()
for name in ("clip.mp4", "clip.gif"):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            animate.video(frames, scale=8).save(os.path.join(os.environ["DISK"], name))
        except OSError as error:
            print("RAISED", name, error)
    for warning in caught:
        print("WARNED", name, str(warning.message).replace("\\n", " "))
"""
    out, err, files = _on_a_small_disk(tmp_path, "64k", f'"$PYTHON" -c \'{script}\'')
    raised = [line for line in out.splitlines() if line.startswith("RAISED")]
    assert len(raised) == 2 and all("clip.gif' (it was left as it was): the disk is full" in line
                                    for line in raised), out + err
    warned = [line for line in out.splitlines() if line.startswith("WARNED clip.mp4")]
    assert warned and "No space left on device" in warned[0]  # ffmpeg's own words
    assert files == []
