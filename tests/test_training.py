"""Losses, accuracy, the training loop (with its guards) and checkpoints."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from snnlab import checkpoints, data, losses, models, training

# ---------------------------------------------------------------- losses on hand-made cases


def test_ce_membrane_sums_cross_entropy_over_steps():
    membrane = torch.tensor([[[2.0, 0.0]], [[0.0, 0.0]]])  # T=2, B=1, C=2
    targets = torch.tensor([0])
    expected = -math.log(math.exp(2) / (math.exp(2) + 1)) + math.log(2)
    loss = losses.ce_membrane(torch.zeros_like(membrane), membrane, targets)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_ce_membrane_averages_over_the_batch():
    membrane = torch.tensor([[[2.0, 0.0], [0.0, 0.0]]])  # T=1, B=2
    targets = torch.tensor([0, 1])
    expected = (-math.log(math.exp(2) / (math.exp(2) + 1)) + math.log(2)) / 2
    loss = losses.ce_membrane(torch.zeros_like(membrane), membrane, targets)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_ce_rate_uses_spike_counts_as_logits():
    spikes = torch.tensor([[[1.0, 0.0, 0.0]], [[1.0, 1.0, 0.0]], [[1.0, 0.0, 0.0]]])  # 3, 1, 0
    loss = losses.ce_rate(spikes, torch.zeros_like(spikes), torch.tensor([1]))
    expected = -math.log(math.e / (math.e**3 + math.e + 1))
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_mse_rate_compares_firing_rate_with_one_hot():
    spikes = torch.zeros(4, 1, 2)
    spikes[:2, 0, 0] = 1  # neuron 0 fires at rate 0.5, neuron 1 never; target is neuron 0
    loss = losses.mse_rate(spikes, torch.zeros_like(spikes), torch.tensor([0]))
    assert loss.item() == pytest.approx(((0.5 - 1) ** 2 + 0) / 2)


def test_mse_count_targets_counts_for_correct_and_incorrect_classes():
    spikes = torch.zeros(10, 1, 3)
    spikes[:, 0, 0] = 1  # counts: 10, 0, 0
    loss = losses.mse_count(spikes, torch.zeros_like(spikes), torch.tensor([1]))
    # targets: 0.2*10=2 for classes 0 and 2, 0.8*10=8 for class 1
    assert loss.item() == pytest.approx(((10 - 2) ** 2 + (0 - 8) ** 2 + (0 - 2) ** 2) / 3)
    loss = losses.mse_count(spikes, torch.zeros_like(spikes), torch.tensor([0]),
                              correct_rate=1.0, incorrect_rate=0.0)
    assert loss.item() == 0.0


def test_reconstruction_uses_the_last_steps_membrane():
    membrane = torch.zeros(3, 1, 1, 2, 2)
    membrane[-1] = 0.5
    membrane[0] = 100.0  # earlier steps do not count
    images = torch.ones(1, 1, 2, 2)
    loss = losses.reconstruction(torch.zeros(3, 1, 4), membrane, images)
    assert loss.item() == pytest.approx(0.25)


def test_accuracy_counts_spikes_and_the_highest_count_wins():
    spikes = torch.zeros(4, 3, 2)
    spikes[:, 0, 1] = 1  # sample 0: class 1 fires 4 times
    spikes[:3, 1, 0] = 1
    spikes[:, 1, 1] = 1  # sample 1: 3 vs 4, class 1 wins
    spikes[:2, 2, 0] = 1  # sample 2: class 0 wins 2 vs 0
    assert losses.accuracy(spikes, torch.tensor([1, 1, 1])) == pytest.approx(2 / 3)
    assert losses.accuracy(spikes, torch.tensor([1, 0, 0])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="num_steps, batch, classes"):
        losses.accuracy(spikes[0], torch.tensor([1, 1, 1]))


# ---------------------------------------------------------------- the training loop


def _fake_batches(num_batches: int = 4, batch: int = 8, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    return [(torch.rand(batch, 1, 28, 28, generator=generator),
             torch.randint(0, 10, (batch,), generator=generator)) for _ in range(num_batches)]


def _small_fc(seed: int = 0) -> models.FCSNN:
    torch.manual_seed(seed)
    return models.FCSNN(num_hidden=32, num_steps=5)


def test_tiny_training_run_on_real_mnist_lowers_the_loss_and_beats_chance(mnist_root):
    torch.manual_seed(0)
    train_loader, test_loader = data.loaders(batch_size=50, subset=500, test_subset=200,
                                             root=mnist_root)
    model = models.FCSNN(num_hidden=100, num_steps=8)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    before = training.evaluate(model, test_loader, losses.ce_membrane)
    history = training.fit(model, train_loader, losses.ce_membrane, optimizer, epochs=3,
                           test_loader=test_loader, device="cpu", progress=False)
    assert history.stopped is None
    assert len(history.steps["loss"]) == 3 * 10 and len(history.epochs["epoch"]) == 3
    assert history.epochs["test_loss"][-1] < 0.6 * before["loss"]
    assert history.epochs["test_accuracy"][-1] > 0.6  # chance is 0.1
    assert history.epochs["train_loss"][-1] < history.epochs["train_loss"][0]
    again = training.evaluate(model, test_loader, losses.ce_membrane)
    assert again["accuracy"] == pytest.approx(history.epochs["test_accuracy"][-1])


def test_autoencoder_training_targets_the_images():
    torch.manual_seed(0)
    model = models.SpikingAutoencoder(latent_dim=8, num_steps=2)
    images = torch.rand(6, 1, 32, 32)
    loader = [(images, torch.zeros(6, dtype=torch.long))]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    history = training.fit(model, loader, losses.reconstruction, optimizer, epochs=2,
                           test_loader=loader, metric="mse", progress=False)
    assert history.metric == "mse"
    assert set(history.epochs) == {"epoch", "train_loss", "train_mse", "test_loss", "test_mse",
                                   "seconds"}
    # the loss *is* the mse of the reconstruction here
    assert history.epochs["test_mse"][-1] == pytest.approx(history.epochs["test_loss"][-1])


def test_history_records_steps_and_epochs_and_writes_csv(tmp_path):
    model = _small_fc()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    history = training.fit(model, _fake_batches(3), losses.ce_rate, optimizer, epochs=2,
                           progress=False)
    assert history.steps["loss"] and len(history.steps["loss"]) == 6
    assert len(history.steps["accuracy"]) == 6
    assert history.epochs["epoch"] == [1.0, 2.0]
    assert all(math.isnan(v) for v in history.epochs["test_accuracy"])  # no test set given
    history.to_csv(tmp_path / "h.csv")
    history.to_csv(tmp_path / "s.csv", per="step")
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines[0] == "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds"
    assert len(lines) == 3
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 7


def test_scheduler_steps_once_per_optimizer_step():
    model = _small_fc()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5**step)
    training.fit(model, _fake_batches(3), losses.ce_rate, optimizer, epochs=2,
                 scheduler=scheduler, progress=False)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.5**6)


def test_gradient_clipping_limits_the_update():
    """With SGD(lr=1), clipping the gradient norm to c moves the weights by at most c."""
    model = _small_fc()
    start = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    training.fit(model, _fake_batches(1), lambda s, m, y: 1000 * losses.ce_membrane(s, m, y),
                 optimizer, epochs=1, clip_grad=0.01, progress=False)
    moved = torch.cat([p.detach().flatten() for p in model.parameters()]) - start
    assert 0 < moved.norm().item() <= 0.01 + 1e-6


def test_non_finite_loss_stops_and_restores_the_last_good_weights(capsys):
    model = _small_fc()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    seen = []

    def loss_that_explodes_on_call_3(spikes, membrane, targets):
        seen.append({k: v.clone() for k, v in model.state_dict().items()})
        loss = losses.ce_membrane(spikes, membrane, targets)
        return loss * float("nan") if len(seen) == 3 else loss

    history = training.fit(model, _fake_batches(4), loss_that_explodes_on_call_3, optimizer,
                           epochs=2, progress=False)
    assert history.stopped == "non-finite" and history.stopped_at == (1, 3)
    assert len(history.steps["loss"]) == 2 and history.epochs["epoch"] == []
    # the weights after step 2, the last good step: step 3 was never taken
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, seen[2][key])
    assert not torch.equal(seen[1]["fc1.weight"], seen[2]["fc1.weight"])
    message = capsys.readouterr().out
    assert "NaN or inf" in message and "epoch 1, batch 3" in message
    assert "learning rate" in message


def test_a_broken_network_is_refused_before_training():
    model = _small_fc()
    with torch.no_grad():
        model.fc2.weight.fill_(float("inf"))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="fc2.weight.*NaN or inf"):
        training.fit(model, _fake_batches(2), losses.ce_membrane, optimizer, epochs=1,
                     progress=False)


def test_keyboard_interrupt_returns_history_and_keeps_the_last_checkpoint(tmp_path, capsys):
    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    calls = []

    def loss_interrupted_in_epoch_2(spikes, membrane, targets):
        calls.append(1)
        if len(calls) == 6:  # epoch 2, second batch (4 batches per epoch)
            raise KeyboardInterrupt
        return losses.ce_membrane(spikes, membrane, targets)

    path = tmp_path / "run" / "model.pt"
    history = training.fit(model, _fake_batches(4), loss_interrupted_in_epoch_2, optimizer,
                           epochs=3, checkpoint=path, progress=False)
    assert history.stopped == "interrupted"
    assert len(history.steps["loss"]) == 5 and history.epochs["epoch"] == [1.0]
    info = checkpoints.checkpoint_info(path)
    assert info["epoch"] == 1 and info["metrics"]["epoch"] == 1.0
    assert checkpoints.load_checkpoint(path).config == model.config
    assert "interrupted" in capsys.readouterr().out


def test_fit_rejects_bad_arguments():
    model = _small_fc()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs"):
        training.fit(model, _fake_batches(1), losses.ce_rate, optimizer, epochs=0)
    with pytest.raises(ValueError, match="metric"):
        training.fit(model, _fake_batches(1), losses.ce_rate, optimizer, 1, metric="f1")


# ---------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip(tmp_path):
    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    training.fit(model, _fake_batches(2), losses.ce_rate, optimizer, 1, progress=False)
    path = checkpoints.save_checkpoint(tmp_path / "fc.pt", model, optimizer, epoch=1,
                                    metrics={"test_accuracy": 0.5}, note="hello")
    assert [p.name for p in tmp_path.iterdir()] == ["fc.pt"]  # no temp file left over

    fresh_optimizer = torch.optim.Adam(_small_fc(1).parameters(), lr=1e-3)
    loaded = checkpoints.load_checkpoint(path, model_class=models.FCSNN)
    assert type(loaded) is models.FCSNN and not loaded.training
    assert loaded.config == model.config
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    x = torch.rand(3, 784)
    for a, b in zip(loaded(x), model.eval()(x), strict=True):
        assert torch.equal(a, b)

    new_model = models.FCSNN(**model.config)
    fresh_optimizer = torch.optim.Adam(new_model.parameters(), lr=1e-3)
    checkpoints.restore(path, new_model, fresh_optimizer)
    assert fresh_optimizer.state_dict()["state"][0]["step"] == 2

    info = checkpoints.checkpoint_info(path)
    assert info["model_class"] == "FCSNN" and info["epoch"] == 1
    assert info["metrics"] == {"test_accuracy": 0.5} and info["note"] == "hello"
    assert info["snnlab_version"]


def test_float16_checkpoint_is_smaller_and_loads_as_float32(tmp_path):
    model = models.CSNN(num_steps=3)
    full = checkpoints.save_checkpoint(tmp_path / "full.pt", model)
    half = checkpoints.save_checkpoint(tmp_path / "half.pt", model, dtype=torch.float16)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded = checkpoints.load_checkpoint(half)
    assert loaded.conv2.weight.dtype == torch.float32
    torch.testing.assert_close(loaded.conv2.weight, model.conv2.weight, rtol=1e-3, atol=1e-4)


def test_interrupted_save_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    model = _small_fc()
    path = checkpoints.save_checkpoint(tmp_path / "fc.pt", model, epoch=1)
    before = path.read_bytes()

    def save_half_then_interrupt(obj, file):
        file.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", save_half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        checkpoints.save_checkpoint(path, model, epoch=2)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["fc.pt"]


def test_missing_checkpoint_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.pt"):
        checkpoints.load_checkpoint(tmp_path / "nowhere.pt")
    with pytest.raises(FileNotFoundError, match="folder"):
        checkpoints.load_checkpoint(tmp_path)


def test_truncated_checkpoint_gives_a_clear_error(tmp_path):
    path = checkpoints.save_checkpoint(tmp_path / "fc.pt", _small_fc())
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError, match="truncated"):
        checkpoints.load_checkpoint(path)


def test_checkpoint_of_another_architecture_gives_a_clear_error(tmp_path):
    path = checkpoints.save_checkpoint(tmp_path / "csnn.pt", models.CSNN(num_steps=2))
    with pytest.raises(ValueError, match="holds a CSNN, not a FCSNN"):
        checkpoints.load_checkpoint(path, model_class=models.FCSNN)
    with pytest.raises(ValueError, match="holds a CSNN, not a SpikingAutoencoder"):
        checkpoints.load_checkpoint(path, model_class="SpikingAutoencoder")


def test_plain_state_dict_is_not_mistaken_for_a_checkpoint(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(_small_fc().state_dict(), path)
    with pytest.raises(ValueError, match="not an snnlab checkpoint"):
        checkpoints.load_checkpoint(path)


def test_weights_that_do_not_fit_the_class_give_a_clear_error(tmp_path):
    path = checkpoints.save_checkpoint(tmp_path / "fc.pt", _small_fc())
    content = torch.load(path, weights_only=True)
    content["model_config"]["num_hidden"] = 33  # as if the model code had changed
    torch.save(content, path)
    with pytest.raises(ValueError, match="do not fit FCSNN"):
        checkpoints.load_checkpoint(path)


def test_save_checkpoint_rejects_foreign_models_and_non_plain_metadata(tmp_path):
    with pytest.raises(TypeError, match="snnlab.models"):
        checkpoints.save_checkpoint(tmp_path / "x.pt", torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="metrics"):
        checkpoints.save_checkpoint(tmp_path / "x.pt", _small_fc(), metrics={"acc": torch.ones(1)})
    assert list(tmp_path.iterdir()) == []


def test_evaluate_weights_batches_by_size():
    model = _small_fc()
    batches = [(torch.rand(6, 784), torch.randint(0, 10, (6,))),
               (torch.rand(2, 784), torch.randint(0, 10, (2,)))]
    result = training.evaluate(model, batches, losses.ce_rate)
    batch_losses = [losses.ce_rate(*model(x), y).item() for x, y in batches]
    expected = (6 * batch_losses[0] + 2 * batch_losses[1]) / 8
    assert result["loss"] == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="no batches"):
        training.evaluate(model, [], losses.ce_rate)


def test_losses_match_pytorch_on_random_records():
    torch.manual_seed(0)
    spikes = (torch.rand(5, 4, 10) < 0.3).float()
    membrane = torch.randn(5, 4, 10)
    targets = torch.randint(0, 10, (4,))
    expected = sum(F.cross_entropy(membrane[t], targets) for t in range(5))
    assert losses.ce_membrane(spikes, membrane, targets).item() == pytest.approx(
        expected.item(), rel=1e-5)
