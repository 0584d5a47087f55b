"""Lessons 04-10 are stored with ``TRAIN = False``, so nbval runs their loading path. Here each
runs once more with ``TRAIN = True`` in quick mode: every training cell, experiment and baseline
a student starts by flipping the switch works too (on tiny subsets, in a fresh folder, so no run
of an earlier test is loaded instead of trained)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("lesson", ["04_fc_snn_mnist", "05_csnn_mnist",
                                    "06_spiking_autoencoder", "07_event_digits",
                                    "08_neurons_with_memory", "09_stdp", "10_ann_to_snn"])
def test_the_lesson_trains_with_train_true_in_quick_mode(lesson, tmp_path, monkeypatch,
                                                          mnist_root):
    notebook = nbformat.read(ROOT / "notebooks" / "solutions" / f"{lesson}.ipynb", as_version=4)
    switches = 0
    for cell in notebook.cells:
        if cell.cell_type == "code" and re.search(r"^TRAIN = False\b", cell.source, re.M):
            cell.source = re.sub(r"^TRAIN = False\b", "TRAIN = True", cell.source, flags=re.M)
            switches += 1
    assert switches == 1, f"{lesson} should set TRAIN once, at the top"
    monkeypatch.setenv("SNNLAB_QUICK", "1")
    monkeypatch.setenv("SNNLAB_DATA_DIR", str(mnist_root))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.chdir(tmp_path)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert os.listdir(tmp_path), "TRAIN = True wrote no run to its folder"
