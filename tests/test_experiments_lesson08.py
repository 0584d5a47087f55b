"""Lesson 08's gap task (snnlab.course.experiments.lesson08): the data and its timeline, the
four networks, a tiny training run, the table and the stored results' checks."""

from __future__ import annotations

import json

import pytest
import torch
from chinese import english_prose

from snnlab import i18n
from snnlab.adaptive import ALIF
from snnlab.course.experiments import lesson08 as ex
from snnlab.neurons import LIF, taus_from_betas
from snnlab.synaptic import Synaptic

TINY = {"train_size": 40, "test_size": 30, "epochs": 1, "batch_size": 16}


@pytest.fixture
def chinese():
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


@pytest.fixture(scope="module")
def digits():
    return ex.gap_data(False, 20, seed=0)


def test_data_shapes_values_and_determinism(digits):
    x, y = digits
    assert x.shape == (8, 20, 578) and x.dtype == torch.uint8
    assert set(x.unique().tolist()) <= {0, 1} and x.sum() > 0  # events, not an empty recording
    assert y.shape == (20,) and y.dtype == torch.long and set(y.tolist()) <= set(range(10))
    again, y_again = ex.gap_data(False, 20, seed=0, chunk=7)  # made in other chunks: the same
    assert torch.equal(again, x) and torch.equal(y_again, y)
    other, _ = ex.gap_data(False, 20, seed=1)
    assert not torch.equal(other, x)  # another seed: other digits or other saccades


@pytest.mark.parametrize("gap", [0, 3, 17])
def test_timeline_digit_then_blank_then_cue(digits, gap):
    x, _ = digits
    sample = ex.gap_inputs(x, gap)
    assert sample.shape == (8 + gap + 4, 20, 579) and sample.dtype == torch.float32
    assert torch.equal(sample[:8, :, :578], x.float())  # the digit, steps 0-7
    assert sample[:8, :, 578].sum() == 0  # no cue during the digit
    assert sample[8:8 + gap].sum() == 0  # the gap is blank
    cue = sample[8 + gap:]
    assert cue[:, :, :578].sum() == 0 and torch.equal(cue[:, :, 578], torch.ones(4, 20))


def test_the_cue_carries_no_label_information(digits):
    x, y = digits
    sample = ex.gap_inputs(x, 5)
    cue = sample[8 + 5:]
    assert len(set(y.tolist())) > 1  # several digits ...
    assert (cue == cue[:, :1]).all()  # ... and the same cue for every one of them


def test_each_kind_builds_and_trains_one_step(digits):
    x, y = digits
    expected = {"lif": LIF, "lif_learned": LIF, "synaptic": Synaptic, "alif": ALIF}
    for kind in ex.KINDS:
        torch.manual_seed(0)
        net = ex.build(kind)
        assert isinstance(net.neuron, expected[kind])
        logits, spikes = net(x, 6)
        assert logits.shape == (20, 10) and spikes.shape == (8 + 6 + 4, 20, 128)
        assert set(spikes.detach().unique().tolist()) <= {0.0, 1.0}
        loss = torch.nn.functional.cross_entropy(logits, y)
        loss.backward()
        assert net.fc.weight.grad.abs().sum() > 0, kind  # the error reaches the input weights
    learned = ex.build("lif_learned", seed=3)
    assert isinstance(learned.neuron.beta, torch.nn.Parameter)
    taus = taus_from_betas(learned.neuron.beta.detach())
    assert taus.min() >= 2 - 1e-3 and taus.max() <= 50 + 1e-3 and taus.std() > 1  # spread
    assert torch.equal(ex.build("lif_learned", seed=3).neuron.beta, learned.neuron.beta)
    assert isinstance(ex.build("lif").neuron.beta, torch.Tensor)
    assert not any(name.endswith("beta") for name, _ in ex.build("lif").named_parameters())
    alif = ex.build("alif").neuron
    assert float(alif.b) == 1.0 and abs(float(alif.rho) - 0.99005) < 1e-4


def test_readout_sees_only_the_cue(digits):
    x, _ = digits
    torch.manual_seed(0)
    net = ex.build("lif")
    logits, spikes = net(x, 4)
    expected = net.readout(spikes[8 + 4:].mean(0))
    assert torch.allclose(logits, expected)


def test_train_and_test_tiny_run_and_determinism():
    first = ex.train_and_test("lif_learned", 2, seed=0, settings=TINY)
    assert 0.0 <= first["accuracy"] <= 1.0
    assert first["spikes_per_sample"] >= 0 and first["cpu_seconds"] >= 0
    assert (first["kind"], first["gap"], first["seed"]) == ("lif_learned", 2, 0)
    assert len(first["betas"]) == 128 and all(0 <= b <= 1 for b in first["betas"])
    second = ex.train_and_test("lif_learned", 2, seed=0, settings=TINY)
    assert second["accuracy"] == first["accuracy"] and second["betas"] == first["betas"]
    assert "betas" not in ex.train_and_test("alif", 2, seed=0, settings=TINY)


def test_run_table_and_load(tmp_path):
    results = ex.run(["lif", "synaptic"], [0, 3], [0], settings=TINY)
    assert [(r["kind"], r["gap"]) for r in results] == [("lif", 0), ("synaptic", 0),
                                                          ("lif", 3), ("synaptic", 3)]
    text = ex.table(results)
    assert "G = 0" in text and "G = 3" in text and "chance" in text and "10.0%" in text
    lif = next(r for r in results if r["kind"] == "lif" and r["gap"] == 3)
    assert f"{lif['accuracy']:.1%}" in text.splitlines()[1]
    assert "spikes" not in text and "n=1" in ex.table(results, "spikes_per_sample")
    stored = {"settings": {**ex.SETTINGS, "gaps": [0, 3], "seeds": [0]}, "results": results}
    path = tmp_path / "gap.json"
    path.write_text(json.dumps(stored))
    with pytest.raises(ValueError, match="lif_learned at G = 0"):  # two kinds missing
        ex.load(path)
    stored["results"] += ex.run(["lif_learned", "alif"], [0, 3], [0], settings=TINY)
    path.write_text(json.dumps(stored))
    assert ex.load(path)["results"] == stored["results"]


def test_table_in_chinese(chinese):
    results = [{"kind": k, "gap": g, "seed": 0, "accuracy": 0.5, "spikes_per_sample": 10.0}
               for k in ex.KINDS for g in (0, 50)]
    text = ex.table(results)
    assert "自适应阈值" in text and "随机水平" in text and "50.0%" in text
    assert not english_prose(text)


def test_stored_results_if_present():
    if not ex.RESULTS_FILE.exists():
        pytest.skip("no stored study yet")
    stored = json.loads(ex.RESULTS_FILE.read_text())
    for r in stored["results"]:
        assert 0 <= r["accuracy"] <= 1 and r["kind"] in ex.KINDS
        assert r["gap"] in stored["settings"]["gaps"] and r["seed"] in stored["settings"]["seeds"]


def test_bad_arguments(digits):
    x, _ = digits
    with pytest.raises(ValueError, match="kind"):
        ex.build("lstm")
    with pytest.raises(ValueError, match="kind"):
        ex.run(["lif", "gru"], [0], [0], settings=TINY)
    with pytest.raises(ValueError, match="gap must be >= 0"):
        ex.gap_inputs(x, -1)
    with pytest.raises(TypeError, match="gap must be an int"):
        ex.gap_inputs(x, 2.5)
    with pytest.raises(ValueError, match=r"\[8, batch, 578\]"):
        ex.gap_inputs(x[:4], 2)
    with pytest.raises(ValueError, match=r"\[8, batch, 578\]"):
        ex.gap_inputs(x.flatten(1), 2)
    with pytest.raises(ValueError, match="gap must be >= 0"):
        ex.train_and_test("lif", -3, settings=TINY)


def test_main_saves_every_run_and_resumes(tmp_path, monkeypatch, capsys):
    path = tmp_path / "gap.json"
    monkeypatch.setattr(ex, "SETTINGS", {**ex.SETTINGS, **TINY, "gaps": [0], "seeds": [0]})
    assert ex.main([str(path)]) == 0
    first = json.loads(path.read_text())["results"]
    assert sorted(r["kind"] for r in first) == sorted(ex.KINDS)
    assert capsys.readouterr().out.count("seed 0: accuracy") == 4
    monkeypatch.setattr(ex, "SETTINGS", {**ex.SETTINGS, "gaps": [0, 2]})  # one more gap
    ex.main([str(path)])
    assert capsys.readouterr().out.count("G =   2 seed 0") == 4  # only the new runs are made
    stored = ex.load(path)
    assert stored["results"][:4] == first and len(stored["results"]) == 8
    monkeypatch.setattr(ex, "SETTINGS", {**ex.SETTINGS, "epochs": 2})  # trained otherwise:
    ex.main([str(path)])                                               # all runs made again
    assert capsys.readouterr().out.count("seed 0: accuracy") == 8
    assert json.loads(path.read_text())["settings"]["epochs"] == 2


def test_train_then_test_is_train_and_test():
    model = ex.train("alif", 2, seed=0, settings=TINY)
    assert not model.training
    tested = ex.test(model, 2, settings=TINY)
    whole = ex.train_and_test("alif", 2, seed=0, settings=TINY)
    assert tested == {k: whole[k] for k in ("accuracy", "spikes_per_sample")}


def test_beta_study_tiny_run_and_table():
    results = ex.run_betas([0.9, 1.0], gap=3, seeds=[0], settings=TINY)
    assert [(r["beta"], r["gap"], r["kind"]) for r in results] == [(0.9, 3, "lif"),
                                                                    (1.0, 3, "lif")]
    assert results[0] == {**ex.train_and_test("lif", 3, 0, {**TINY, "beta": 0.9}), "beta": 0.9,
                          "cpu_seconds": results[0]["cpu_seconds"],
                          "seconds": results[0]["seconds"]}
    lines = ex.betas_table(results).splitlines()
    assert lines[1].split()[:3] == ["0.9", "9.5", "72.9%"]      # tau, 0.9 ** 3 kept
    assert lines[2].split()[:3] == ["1", "inf", "100.0%"]
    assert f"{results[1]['accuracy']:.1%} (" in lines[2]
    with pytest.raises(ValueError, match="beta"):
        ex.run_betas([1.5], gap=3, seeds=[0], settings=TINY)


def test_stored_beta_study_and_alif_network():
    study = ex.load_betas()
    assert sorted({r["beta"] for r in study["results"]}) == sorted(ex.BETAS)
    assert all(r["gap"] == ex.BETAS_GAP and r["kind"] == "lif" for r in study["results"])
    for beta in ex.BETAS:
        assert sorted(r["seed"] for r in study["results"] if r["beta"] == beta) == [0, 1, 2]
    # the beta = 0.9 runs are the gap study's own LIF runs at G = 50
    gap_study = ex.load()["results"]
    assert ({(r["seed"], r["accuracy"]) for r in study["results"] if r["beta"] == 0.9}
            == {(r["seed"], r["accuracy"]) for r in gap_study
                if r["kind"] == "lif" and r["gap"] == 50})
    model = ex.pretrained_alif()
    assert isinstance(model.neuron, ex.ALIF) and not model.training
    x, y = ex.gap_data(False, 200, seed=0)
    with torch.no_grad():
        logits, spikes = model(x, ex.BETAS_GAP)
    assert (logits.argmax(1) == y).float().mean() > 0.7      # it has learnt the task
    assert spikes.shape == (8 + ex.BETAS_GAP + 4, 200, 128)
