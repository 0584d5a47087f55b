"""Lesson 10's experiment (snnlab.course.experiments.lesson10): a tiny study end to end on
synthetic digits, the energy arithmetic, the tables, resuming, and the stored results."""

from __future__ import annotations

import json

import pytest
import torch

from snnlab import conversion
from snnlab.course.experiments import lesson10 as ex

TINY = {"epochs": 1, "batch_size": 16, "balance_size": 20, "test_size": 24,
        "largest_steps": 8, "seeds": [0, 1]}


def _fake_mnist(train: bool, root=None):
    g = torch.Generator().manual_seed(1 if train else 2)
    n = 64 if train else 24
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setattr(ex, "mnist_tensors", _fake_mnist)


def test_train_is_seeded_and_returns_an_eval_convnet():
    x, y = _fake_mnist(True)
    a = ex.train(x, y, seed=0, settings=TINY)
    b = ex.train(x, y, seed=0, settings=TINY)
    c = ex.train(x, y, seed=1, settings=TINY)
    assert isinstance(a, conversion.ConvNet) and not a.training
    assert torch.equal(a.conv2.weight, b.conv2.weight)
    assert not torch.equal(a.conv2.weight, c.conv2.weight)
    assert 0.0 <= ex.test_ann(a, x, y) <= 1.0


def test_convert_and_run_reports_every_T_and_counts(tiny):
    x, y = _fake_mnist(True)
    ann = ex.train(x, y, settings=TINY)
    xt, yt = _fake_mnist(False)
    results = {b: ex.convert_and_run(ann, b, x, xt, yt, TINY) for b in ex.BALANCINGS}
    for b, r in results.items():
        assert r["steps"] == [1, 2, 4, 8] and len(r["accuracy"]) == 4
        macs = r["ops"]["conv1_MAC"]  # once: the current is constant, whatever T
        assert macs == [macs[0]] * 4 and 0 < macs[0] <= 24 * 24 * 12 * 25
        fired = r["spikes"]["if2"]
        assert r["ops"]["fc_AC"] == pytest.approx([10 * s for s in fired], abs=0.1)
        assert all(a <= b for a, b in zip(r["ops"]["conv2_AC"][:-1], r["ops"]["conv2_AC"][1:],
                                          strict=True))
        assert sum(r["ann_macs"].values()) == 1_411_840
    assert results["p99.9"]["scales"]["layer1"] < results["max"]["scales"]["layer1"]
    assert results["max"]["percentile"] == 100.0 and results["p99.9"]["percentile"] == 99.9
    with pytest.raises(ValueError, match="balancing"):
        ex.convert_and_run(ann, "mean", x, xt, yt, TINY)


def test_energy_is_horowitz_arithmetic():
    assert ex.energy(1, 0) == pytest.approx(4.6)  # 3.7 pJ multiply + 0.9 pJ add
    assert ex.energy(0, 1) == pytest.approx(0.9)
    assert ex.energy(1_411_840, 0) == pytest.approx(6_494_464)  # the ANN: 6.5 microjoules
    # the SNN breaks even with the ANN at (4.6 * 1,411,840 - 4.6 * 172,800) / 0.9 ACs
    even = (ex.energy(1_411_840, 0) - ex.energy(172_800, 0)) / 0.9
    assert ex.energy(172_800, even) == pytest.approx(ex.energy(1_411_840, 0))


def test_run_and_save_tables_resume_and_load(tiny, tmp_path, monkeypatch):
    path, ann_file = tmp_path / "study.json", tmp_path / "ann.pt"
    fake_csnn = {"accuracy": 0.5, "num_steps": 25, "spikes": {"lif1": 1.0},
                 "ops": {"conv1_MAC": 100.0, "conv2_AC": 50.0, "fc_AC": 5.0},
                 "ann_macs": {"conv1": 100.0}}
    monkeypatch.setattr(ex, "measure_csnn", lambda root=None, test_size=0: fake_csnn)
    study = ex.run_and_save(path, TINY, ann_file=ann_file)
    assert [r["seed"] for r in study["results"]] == [0, 1]
    stored = ex.load(path)
    assert stored["settings"]["seeds"] == [0, 1] and stored["csnn"] == fake_csnn
    ann = ex.pretrained_ann(ann_file)
    x, y = _fake_mnist(True)
    assert torch.equal(ann.conv1.weight, ex.train(x, y, 0, {**ex.SETTINGS, **TINY}).conv1.weight)
    text = ex.table(stored)
    assert len(text.splitlines()) == 1 + 4 and "p99.9" in text and "ANN" in text
    rows = ex.energy_rows(stored)
    assert rows[0][1] == 1_411_840 and rows[-1][0].startswith("CSNN")
    assert rows[-1][3] == pytest.approx(ex.energy(100.0, 55.0))
    assert len(rows) == 1 + 2 * 4 + 1
    assert "/ ANN" in ex.energy_table(stored)
    # a rerun makes nothing it already has
    monkeypatch.setattr(ex, "run_seed", lambda *a, **k: pytest.fail("ran a seed again"))
    again = ex.run_and_save(path, TINY, ann_file=ann_file)
    assert again["results"] == study["results"]
    # a file without one of its seeds is refused
    broken = json.loads(path.read_text())
    broken["results"] = broken["results"][:1]
    path.write_text(json.dumps(broken))
    with pytest.raises(ValueError, match="one result per seed"):
        ex.load(path)


def test_the_stored_study_if_there_is_one():
    if not ex.RESULTS_FILE.exists():
        pytest.skip("no stored lesson 10 study yet (python -m snnlab.course.experiments.lesson10)")
    study = ex.load()
    assert study["settings"]["test_size"] == 10_000 and len(study["results"]) == 3
    for result in study["results"]:
        assert 0.98 < result["ann_accuracy"] < 1.0
        for r in result["snn"]:
            assert r["steps"] == conversion.powers_of_two(256)
            assert r["accuracy"][-1] > r["accuracy"][0]  # more steps, better
            assert r["accuracy"][-1] > result["ann_accuracy"] - 0.01
            # the aim: within 0.2 points of the ANN by T = 32, on every seed (measured: the
            # worst seed -0.19 with max balancing, -0.13 with the 99.9th percentile)
            assert r["accuracy"][5] >= result["ann_accuracy"] - 0.002, (r["balancing"], result)
            ops = r["ops"]
            energy = [ex.energy(m, c + f) for m, c, f in
                      zip(ops["conv1_MAC"], ops["conv2_AC"], ops["fc_AC"], strict=True)]
            ann = ex.energy(sum(r["ann_macs"].values()), 0)
            assert energy[0] < ann < energy[-1]  # cheaper at T = 1, dearer at T = 256
    assert 0.9 < study["csnn"]["accuracy"] < 1.0 and study["csnn"]["num_steps"] == 25
    if ex.ANN_FILE.exists():
        assert isinstance(ex.pretrained_ann(), conversion.ConvNet)


def test_csnn_measure_on_a_few_real_digits(mnist_root):
    ex._CACHE.clear()
    found = ex.measure_csnn(mnist_root, test_size=40, batch_size=20)
    ex._CACHE.clear()
    assert found["num_steps"] == 25 and 0.5 < found["accuracy"] <= 1.0
    assert set(found["spikes"]) == {"lif1", "lif2", "lif3"}
    # pixels: MACs, once, for the pixels that are not 0 (most of MNIST is background)
    assert 0 < found["ops"]["conv1_MAC"] < 0.5 * 24 * 24 * 12 * 25
    assert found["ops"]["conv2_AC"] > 0 and found["ops"]["fc_AC"] > 0


def test_per_channel_balancing_of_one_ann(tiny):
    x, y = _fake_mnist(True)
    ann = ex.train(x, y, settings=TINY)
    found = ex.run_per_channel(ann, seed=0, settings=TINY)
    assert [r["balancing"] for r in found["snn"]] == list(ex.PER_CHANNEL)
    for r in found["snn"]:
        assert len(r["scales"]["layer1"]) == 12 and len(r["scales"]["layer2"]) == 64
        assert r["steps"] == [1, 2, 4, 8]
    top, robust = found["snn"]
    assert all(a >= b for a, b in zip(top["scales"]["layer1"], robust["scales"]["layer1"],
                                      strict=True))
    assert found["ann_accuracy"] == ex.test_ann(ann, *_fake_mnist(False))
    layer = ex.convert_and_run(ann, "max", x, *_fake_mnist(False), TINY)
    assert isinstance(layer["scales"]["layer1"], float)  # one lambda per layer
