"""Losses, accuracy, the training loop (with its guards) and checkpoints."""

from __future__ import annotations

import errno
import inspect
import math
import os
import sys
import tempfile

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


def _lessons_train_step(model, images, labels, loss_fn, optimizer) -> float:
    """Lesson 04's exercise train_step, as its instructor edition solves it."""
    spikes, membrane = model(images)
    loss = loss_fn(spikes, membrane, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def test_fit_trains_exactly_as_the_lessons_train_step_loop():
    batches = _fake_batches(6)
    mine, theirs = _small_fc(), _small_fc()
    my_optimizer = torch.optim.Adam(mine.parameters(), lr=1e-2)
    my_losses = [_lessons_train_step(mine, images, labels, losses.ce_rate, my_optimizer)
                 for _ in range(2) for images, labels in batches]
    their_optimizer = torch.optim.Adam(theirs.parameters(), lr=1e-2)
    history = training.fit(theirs, batches, losses.ce_rate, their_optimizer, 2, progress=False)
    assert history.steps["loss"] == my_losses  # the same numbers, bit for bit
    for (name, a), b in zip(mine.state_dict().items(), theirs.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert not torch.equal(mine.fc1.weight, _small_fc().fc1.weight)  # (it did train)


def test_fits_loop_holds_the_lessons_five_lines_in_their_order():
    """A student can put train_step and fit's epoch loop side by side: the loop's statements
    are the lesson's five, in order, with the guards (named helpers) between them."""
    source = inspect.getsource(training.fit)
    loop = source[source.index("for images, labels in run.batches"):]
    lines = [line.strip() for line in loop.splitlines()]
    places = [next(i for i, line in enumerate(lines) if line.startswith(start))
              for start in ("spikes, membrane = _forward(model, images",
                            "loss = _loss(loss_fn, spikes, membrane, targets",
                            "optimizer.zero_grad()", "loss.backward()", "optimizer.step()")]
    assert places == sorted(places) and places[-1] - places[0] <= 10
    body = source[source.index('"""', source.index('"""') + 3) + 3:]
    assert len(body.strip().splitlines()) <= 45  # the loop, not the bookkeeping


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


# ---------------------------------------------------------------- careless arguments to fit


def _setup():
    model = _small_fc()
    return model, torch.optim.SGD(model.parameters(), lr=0.1)


def _other_optimizer():
    return torch.optim.SGD(_small_fc(1).parameters(), lr=0.1)


def _plateau(optimizer):
    return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)


@pytest.mark.parametrize("change, error, message", [
    (dict(epochs=True), TypeError, "epochs must be a positive int, got bool"),
    (dict(epochs=2.0), TypeError, "epochs must be a positive int, got float"),
    (dict(epochs="3"), TypeError, "epochs must be a positive int, got str"),
    (dict(epochs=None), TypeError, "epochs must be a positive int"),
    (dict(epochs=0), ValueError, "epochs must be a positive int"),
    (dict(epochs=-2), ValueError, "epochs must be a positive int"),
    (dict(model=None), TypeError, "model must be a torch.nn.Module"),
    (dict(model="fc"), TypeError, "model must be a torch.nn.Module"),
    (dict(optimizer=None), TypeError, "optimizer must be a torch.optim.Optimizer"),
    (dict(optimizer="adam"), TypeError, "optimizer must be a torch.optim.Optimizer"),
    (dict(optimizer=_other_optimizer), ValueError, "optimizer holds parameters that are not"),
    (dict(lr=float("nan")), ValueError, "the optimizer's lr must be > 0 and at most 3.4e.38, "
                                        "got nan"),
    (dict(lr=float("inf")), ValueError, "the optimizer's lr must be > 0 and at most 3.4e.38, "
                                        "got inf"),
    (dict(lr=1e40), ValueError, "the optimizer's lr must be > 0 and at most 3.4e.38, got 1e.40"),
    (dict(lr=0.0), ValueError, "the optimizer's lr must be > 0"),
    (dict(lr=-0.1), ValueError, "the optimizer's lr must be > 0"),
    (dict(train_loader=[]), ValueError, "train_loader holds no batches"),
    (dict(train_loader=None), TypeError, "train_loader must be an iterable"),
    (dict(train_loader=torch.rand(4, 784)), TypeError, "train_loader must be an iterable.*Tensor"),
    (dict(train_loader=lambda: iter(_fake_batches(2)), epochs=2), TypeError,
     "train_loader is a one-shot iterator"),
    (dict(test_loader=[]), ValueError, "test_loader holds no batches"),
    (dict(test_loader=5), TypeError, "test_loader must be an iterable"),
    (dict(loss_fn=None), TypeError, "loss_fn must be a function"),
    (dict(loss_fn="ce_rate"), TypeError, "loss_fn must be a function"),
    (dict(metric="f1"), ValueError, "metric must be one of"),
    (dict(metric=None), ValueError, "metric must be one of"),
    (dict(scheduler="onecycle"), TypeError, "scheduler must be"),
    (dict(scheduler=lambda: torch.optim.lr_scheduler.StepLR(_other_optimizer(), 1)), ValueError,
     "scheduler drives another optimizer"),
    (dict(scheduler=_plateau), TypeError, "ReduceLROnPlateau cannot be used"),
    (dict(device="gpu"), ValueError, "device must be 'cpu', 'cuda' or 'cuda:N'"),
    (dict(clip_grad=0), ValueError, "clip_grad must be > 0"),
    (dict(clip_grad=float("nan")), ValueError, "clip_grad must be > 0"),
    (dict(clip_grad=True), TypeError, "clip_grad must be a number"),
    (dict(clip_grad="1"), TypeError, "clip_grad must be a number"),
    (dict(progress="no"), TypeError, "progress must be True or False"),
    (dict(history="history"), TypeError, "history must be a snnlab.training.History"),
    (dict(history=lambda: training.History("mse")), ValueError,
     "history is of a run with metric 'mse'"),
    (dict(checkpoint=5), TypeError, "checkpoint path must be a file path"),
])
def test_fit_refuses_careless_arguments_before_any_work(change, error, message):
    model, optimizer = _setup()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    arguments = dict(model=model, train_loader=_fake_batches(2), loss_fn=losses.ce_rate,
                     optimizer=optimizer, epochs=1, progress=False)
    if "lr" in change:  # (torch itself refuses some at construction; set after, as users do)
        optimizer.param_groups[0]["lr"] = change.pop("lr")
    for key, value in change.items():
        needs_optimizer = key == "scheduler" and value is _plateau
        arguments[key] = (value(optimizer) if needs_optimizer
                          else value() if callable(value) and key not in ("loss_fn",)
                          else value)
    with pytest.raises(error, match=message):
        training.fit(**arguments)
    for key, value in model.state_dict().items():  # nothing was trained
        assert torch.equal(value, before[key])


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_fit_on_a_missing_gpu_says_so_before_training():
    model, optimizer = _setup()
    with pytest.raises(ValueError, match="'cuda' asked for, but this machine has no CUDA GPU"):
        training.fit(model, _fake_batches(1), losses.ce_rate, optimizer, 1, device="cuda")


def test_fit_refuses_a_history_longer_than_the_run():
    model, optimizer = _setup()
    history = training.fit(model, _fake_batches(1), losses.ce_rate, optimizer, 2, progress=False)
    with pytest.raises(ValueError, match="history already holds 2 epochs, more than epochs=1"):
        training.fit(model, _fake_batches(1), losses.ce_rate, optimizer, 1, history=history)


def test_fit_refuses_checkpoint_paths_it_could_not_write_before_training(tmp_path):
    model, optimizer = _setup()
    (tmp_path / "notes.txt").write_text("my notes")
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    checkpoints.save_checkpoint(tmp_path / "csnn.pt", models.CSNN(num_steps=2))
    cases = [(tmp_path, IsADirectoryError, "is a folder"),
             (tmp_path / "notes.txt" / "fc.pt", NotADirectoryError, r"notes\.txt' is a file"),
             (tmp_path / "notes.txt", FileExistsError, r"notes\.txt' already holds a file that"),
             (tmp_path / "weights.pt", FileExistsError, r"weights\.pt' already holds a file"),
             (tmp_path / "csnn.pt", FileExistsError, r"csnn\.pt' already holds a checkpoint of "
                                                     "CSNN")]
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for path, error, message in cases:
        with pytest.raises(error, match=message):
            training.fit(model, _never_iterated(), losses.ce_rate, optimizer, 1, checkpoint=path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


class _never_iterated:  # noqa: N801 (a loader that fails the test if training starts)
    def __len__(self):
        return 1

    def __iter__(self):
        raise AssertionError("training started although an argument was wrong")


def test_fit_refuses_a_read_only_output_folder_before_training(tmp_path, monkeypatch):
    model, optimizer = _setup()
    real_access = os.access
    monkeypatch.setattr(os, "access",  # tests run as root, where chmod stops nothing
                        lambda p, mode: False if str(p) == str(tmp_path) else real_access(p, mode))
    with pytest.raises(PermissionError, match="not writable"):
        training.fit(model, _never_iterated(), losses.ce_rate, optimizer, 1,
                     checkpoint=tmp_path / "fc.pt")


@pytest.mark.parametrize("batch, error, message", [
    ((torch.rand(4, 784),), TypeError, "must yield \\(images, labels\\) pairs, got a tuple of 1"),
    (torch.rand(4, 784), TypeError, "must yield \\(images, labels\\) pairs, got a Tensor"),
    ((torch.rand(4, 784), torch.zeros(4, dtype=torch.long), 0), TypeError, "tuple of 3 items"),
    ({"x": torch.rand(4, 784)}, TypeError, "pairs, got a dict"),
    ((torch.rand(4, 784), torch.zeros(4)), TypeError, "labels must be class labels.*float32"),
    ((torch.rand(4, 784), [0, 1, 2, 3]), TypeError, "labels must be a torch.Tensor, got list"),
    (([0.5] * 784, torch.zeros(1, dtype=torch.long)), TypeError, "images must be a torch.Tensor"),
    ((torch.rand(4, 784).numpy(), torch.zeros(4, dtype=torch.long)), TypeError,
     "images must be a torch.Tensor, got a numpy ndarray"),
    (((torch.rand(4, 784) * 255).byte(), torch.zeros(4, dtype=torch.long)), TypeError,
     "images must be a floating-point tensor.*/ 255"),
    ((torch.rand(4, 784), torch.zeros(3, dtype=torch.long)), ValueError,
     "yielded 3 labels for images of shape \\(4, 784\\)"),
    ((torch.rand(4, 784), torch.full((4,), 10)), ValueError, "labels in \\[0, 10\\)"),
    ((torch.rand(4, 784) * 255, torch.zeros(4, dtype=torch.long)), ValueError,
     "x must hold pixel values or spikes in \\[0, 1\\]"),
])
def test_a_loader_yielding_the_wrong_things_gets_a_clear_error(batch, error, message):
    model, optimizer = _setup()
    with pytest.raises(error, match=message):
        training.fit(model, [batch], losses.ce_rate, optimizer, 1, progress=False)
    with pytest.raises(error, match=message):
        training.evaluate(model, [batch], losses.ce_rate)


@pytest.mark.parametrize("loss_fn, error, message", [
    (lambda s, m, y: 1.0, TypeError, "loss_fn must return the loss as a one-number tensor, .*"
                                     "got a float"),
    (lambda s, m, y: s.sum(0).mean(0), TypeError, "got a tensor of shape \\(10,\\)"),
    (lambda s, m, y: torch.tensor(1.0), ValueError, "does not depend on the model's weights"),
    (lambda s, m, y: losses.ce_rate(s, m, y).detach(), ValueError, "does not depend on"),
])
def test_a_loss_fn_returning_the_wrong_thing_gets_a_clear_error(loss_fn, error, message):
    model, optimizer = _setup()
    with pytest.raises(error, match=message.replace(", .*", ".*")):
        training.fit(model, _fake_batches(1), loss_fn, optimizer, 1, progress=False)


def test_an_emptied_iterator_is_an_error_not_a_division_by_zero():
    model, optimizer = _setup()
    with pytest.raises(ValueError, match="train_loader yielded no batches in epoch 1"):
        training.fit(model, iter([]), losses.ce_rate, optimizer, 1, progress=False)


def test_a_model_that_does_not_return_a_record_gets_a_clear_error():
    model = torch.nn.Linear(784, 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="must return a pair \\(spikes, membrane\\).*Linear"):
        training.fit(model, [(torch.rand(2, 784), torch.zeros(2, dtype=torch.long))],
                     losses.ce_rate, optimizer, 1, progress=False)


def _autoencoder_and_images():
    torch.manual_seed(0)
    return (models.SpikingAutoencoder(latent_dim=10, num_steps=2),
            [(torch.rand(4, 1, 32, 32), torch.tensor([0, 1, 2, 3]))])


@pytest.mark.parametrize("case, loss_fn, message", [
    # the autoencoder's 10 latent neurons would even train as a "classifier" with ce_rate
    ("autoencoder", losses.ce_rate, r"metric='accuracy' is for classifiers, whose output "
     r"layer's spikes and membrane are both \[num_steps, batch, classes\]; SpikingAutoencoder "
     r"returned spikes \(2, 4, 10\) and membrane \(2, 4, 1, 32, 32\) for images of shape "
     r"\(4, 1, 32, 32\)\. Its membrane has the images' shape: it is an autoencoder, use "
     r"metric='mse'"),
    ("autoencoder", losses.reconstruction, r"metric='accuracy' is for classifiers.*use "
     r"metric='mse'"),
    ("classifier", losses.ce_rate, r"metric='mse' is for autoencoders, whose membrane at the "
     r"last step has the images' shape \(8, 1, 28, 28\) \(it is compared with them\); FCSNN "
     r"returned spikes \(5, 8, 10\) and membrane \(5, 8, 10\)\. That is a classifier's output: "
     r"use metric='accuracy'"),
    ("classifier", losses.reconstruction, r"metric='mse' is for autoencoders.*use "
     r"metric='accuracy'"),
])
def test_a_metric_that_does_not_fit_the_model_is_refused_before_any_step(case, loss_fn,
                                                                        message):
    if case == "autoencoder":
        model, batches = _autoencoder_and_images()
        metric = "accuracy"
    else:
        model, batches, metric = _small_fc(), _fake_batches(2), "mse"
    before = {key: value.clone() for key, value in model.named_parameters()}
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    with pytest.raises(ValueError, match=message):
        training.fit(model, batches, loss_fn, optimizer, 1, metric=metric, progress=False)
    for key, value in model.named_parameters():  # no step was taken
        assert torch.equal(value, before[key]), key
    assert optimizer.state == {}
    with pytest.raises(ValueError, match=message):
        training.evaluate(model, batches, loss_fn, metric=metric)


def test_the_right_metric_for_each_model_trains():
    model, batches = _autoencoder_and_images()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    history = training.fit(model, batches, losses.reconstruction, optimizer, 1, metric="mse",
                           progress=False)
    assert history.stopped is None and history.epochs["train_mse"][0] > 0
    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    history = training.fit(model, _fake_batches(2), losses.ce_rate, optimizer, 1,
                           progress=False)
    assert history.stopped is None and 0 <= history.epochs["train_accuracy"][0] <= 1


@pytest.mark.parametrize("call, error, message", [
    (lambda m: training.evaluate(None, _fake_batches(1), losses.ce_rate), TypeError,
     "model must be a torch.nn.Module"),
    (lambda m: training.evaluate(m, None, losses.ce_rate), TypeError, "loader must be"),
    (lambda m: training.evaluate(m, _fake_batches(1), None), TypeError, "loss_fn must be"),
    (lambda m: training.evaluate(m, _fake_batches(1), losses.ce_rate, metric="acc"),
     ValueError, "metric must be one of"),
    (lambda m: training.evaluate(m, _fake_batches(1), losses.ce_rate, progress=1), TypeError,
     "progress must be True or False"),
    (lambda m: training.evaluate(m, _fake_batches(1), losses.ce_rate, device="gpu"),
     ValueError, "device must be"),
    (lambda m: training.History("f1"), ValueError, "metric must be one of"),
    (lambda m: training.History("mse").truncate(-1, 3), ValueError,
     "truncate: epochs must be an int >= 0"),
    (lambda m: training.History("mse").truncate(1, 0), ValueError, "steps_per_epoch"),
])
def test_evaluate_and_history_refuse_careless_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call(_small_fc())


def test_history_files_that_are_missing_or_damaged_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no history file at .*none\.csv"):
        training.History.from_csv(tmp_path / "none.csv")
    with pytest.raises(FileNotFoundError, match="that is a folder"):
        training.History.from_csv(tmp_path)
    (tmp_path / "ragged.csv").write_text("epoch,test_accuracy\n1,0.5\n2\n")
    with pytest.raises(ValueError, match=r"ragged\.csv': line 3 has 1 values but the header "
                                         "names 2"):
        training.History.from_csv(tmp_path / "ragged.csv")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        training.History("mse").to_csv(tmp_path)


def test_a_history_write_that_fails_leaves_the_last_one_intact(tmp_path, monkeypatch):
    history = training.History("accuracy")
    history.to_csv(tmp_path / "h.csv")
    before = (tmp_path / "h.csv").read_text()
    history.epochs = {key: [1.0] for key in history.epochs}

    def disk_full(source, target):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        history.to_csv(tmp_path / "h.csv")
    assert (tmp_path / "h.csv").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["h.csv"]


# ---------------------------------------------------------------- stops that lose nothing


def test_a_nan_gradient_with_a_finite_loss_stops_before_the_step():
    model = _small_fc()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    calls = []

    def loss_with_a_nan_gradient_on_call_3(spikes, membrane, targets):
        calls.append({k: v.clone() for k, v in model.state_dict().items()})
        loss = losses.ce_membrane(spikes, membrane, targets)
        if len(calls) == 3:  # sqrt'(0) is inf, times 0 is NaN: the loss stays finite
            loss = loss + torch.sqrt(membrane.sum() * 0)
        return loss

    history = training.fit(model, _fake_batches(4), loss_with_a_nan_gradient_on_call_3,
                           optimizer, epochs=1, progress=False)
    assert history.stopped == "non-finite" and history.stopped_at == (1, 3)
    assert len(history.steps["loss"]) == 2
    for key, value in model.state_dict().items():
        assert torch.isfinite(value).all()
        torch.testing.assert_close(value, calls[2][key])  # the weights after step 2


def test_a_weight_that_overflows_in_the_step_is_restored():
    model = _small_fc()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e38)  # finite, but w - lr*g overflows
    before = {k: v.clone() for k, v in model.state_dict().items()}
    history = training.fit(model, _fake_batches(2),
                           lambda s, m, y: 1e4 * losses.ce_membrane(s, m, y), optimizer,
                           epochs=1, progress=False)
    assert history.stopped == "non-finite" and history.stopped_at == (1, 1)
    assert history.steps["loss"] == []
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])


def _files(path):
    """The checkpoint's epoch, and the per-epoch and per-step history beside it."""
    epochs = training.History.from_csv(path.with_suffix(".history.csv"),
                                       path.with_suffix(".steps.csv"))
    return checkpoints.checkpoint_info(path)["epoch"], epochs


def test_a_nan_mid_epoch_keeps_the_last_good_checkpoint_and_the_history(tmp_path):
    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    calls = []

    def nan_in_epoch_2_batch_3(spikes, membrane, targets):
        calls.append(1)
        loss = losses.ce_membrane(spikes, membrane, targets)
        return loss * float("nan") if len(calls) == 7 else loss

    path = tmp_path / "fc.pt"
    history = training.fit(model, _fake_batches(4), nan_in_epoch_2_batch_3, optimizer, 3,
                           checkpoint=path, progress=False)
    assert history.stopped == "non-finite" and history.stopped_at == (2, 3)
    epoch, on_disk = _files(path)
    assert epoch == 1
    assert on_disk.epochs["epoch"] == [1.0]
    assert on_disk.steps["loss"] == pytest.approx(history.steps["loss"])
    assert len(on_disk.steps["loss"]) == 4 + 2  # every good step, the NaN one not
    assert torch.isfinite(checkpoints.load_checkpoint(path).fc1.weight).all()


class _InterruptedLoader:
    """Batches like a DataLoader, but Ctrl-C arrives while fetching one of them."""

    def __init__(self, batches, epoch: int, batch: int):
        self.batches, self.epoch, self.batch, self.epochs_started = batches, epoch, batch, 0

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        self.epochs_started += 1
        for number, item in enumerate(self.batches, start=1):
            if (self.epochs_started, number) == (self.epoch, self.batch):
                raise KeyboardInterrupt
            yield item


@pytest.mark.parametrize("at_batch", [1, 3])
def test_ctrl_c_from_the_loader_keeps_the_last_checkpoint_and_the_history(tmp_path, at_batch,
                                                                          capsys):
    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    path = tmp_path / "fc.pt"
    history = training.fit(model, _InterruptedLoader(_fake_batches(4), 2, at_batch),
                           losses.ce_rate, optimizer, 3, checkpoint=path, progress=False)
    assert history.stopped == "interrupted" and history.stopped_at == (2, at_batch)
    epoch, on_disk = _files(path)
    assert epoch == 1 and on_disk.epochs["epoch"] == [1.0]
    assert len(on_disk.steps["loss"]) == 4 + at_batch - 1
    assert f"interrupted (Ctrl-C) at epoch 2, batch {at_batch}" in capsys.readouterr().out


def test_a_full_disk_at_a_save_keeps_the_last_checkpoint_and_the_history(tmp_path, monkeypatch):
    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    path = tmp_path / "fc.pt"
    real_save, saves = torch.save, []

    def disk_full_on_the_second_save(obj, file):
        saves.append(1)
        if len(saves) == 2:
            file.write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(obj, file)

    monkeypatch.setattr(torch, "save", disk_full_on_the_second_save)
    history = training.fit(model, _fake_batches(4), losses.ce_rate, optimizer, 3,
                           checkpoint=path, progress=False)
    assert history.stopped == "save failed" and history.stopped_at == (2, 4)
    epoch, on_disk = _files(path)
    assert epoch == 1  # the epoch-1 checkpoint, intact
    assert on_disk.epochs["epoch"] == [1.0, 2.0]  # every epoch trained is in the history
    assert len(on_disk.steps["loss"]) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fc.history.csv", "fc.pt",
                                                          "fc.steps.csv"]


# torch's own words when its writer finds the disk full (torch 2.x, inline_container.cc)
TORCH_DISK_FULL = "[enforce fail at inline_container.cc:672] . unexpected pos 105408 vs 105300"


def _torch_save_fails_on_save(number: int, how: str):
    """torch.save as on a disk that fills up at save ``number``: some bytes written, then the
    error torch raises. "runtime": its RuntimeError alone; "runtime after oserror": the
    RuntimeError torch raises while the OSError(ENOSPC) of the write is being handled (what
    torch 2.x does on a real full disk); "oserror": the OSError itself."""
    real_save, saves = torch.save, []

    def save(obj, file):
        saves.append(1)
        if len(saves) != number:
            return real_save(obj, file)
        file.write(b"PK\x03\x04 the first bytes of a checkpoint")
        full = OSError(errno.ENOSPC, "No space left on device")
        if how == "oserror":
            raise full
        if how == "runtime":
            raise RuntimeError(TORCH_DISK_FULL)
        try:
            raise full
        except OSError:
            raise RuntimeError(TORCH_DISK_FULL)  # noqa: B904 (torch chains it like this)
    return save


@pytest.mark.parametrize("how", ["runtime", "runtime after oserror", "oserror"])
def test_a_full_disk_reported_by_torch_stops_the_run_as_save_failed(tmp_path, monkeypatch,
                                                                    capsys, how):
    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    path = tmp_path / "fc.pt"
    monkeypatch.setattr(torch, "save", _torch_save_fails_on_save(2, how))
    history = training.fit(model, _fake_batches(4), losses.ce_rate, optimizer, 3,
                           checkpoint=path, progress=False)
    assert history.stopped == "save failed" and history.stopped_at == (2, 4)
    assert history.epochs["epoch"] == [1.0, 2.0] and len(history.steps["loss"]) == 8
    assert "the disk is full" in history.stopped_because
    assert f"could not write {str(path)!r}" in history.stopped_because
    epoch, on_disk = _files(path)
    assert epoch == 1 and on_disk.epochs["epoch"] == [1.0, 2.0]  # the epoch-1 checkpoint
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fc.history.csv", "fc.pt",
                                                          "fc.steps.csv"]
    printed = capsys.readouterr().out
    assert "the checkpoint could not be written" in printed and "the disk is full" in printed
    assert f"The last checkpoint, {path} (epoch 1), is intact." in printed
    assert "inline_container" not in printed or how == "runtime"  # the real cause, if known


def test_a_full_disk_at_the_first_save_says_no_checkpoint_is_on_disk(tmp_path, monkeypatch,
                                                                     capsys):
    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    monkeypatch.setattr(torch, "save", _torch_save_fails_on_save(1, "runtime"))
    history = training.fit(model, _fake_batches(2), losses.ce_rate, optimizer, 2,
                           checkpoint=tmp_path / "fc.pt", progress=False)
    assert history.stopped == "save failed" and history.epochs["epoch"] == [1.0]
    assert "No checkpoint of this run is on disk." in capsys.readouterr().out
    assert not (tmp_path / "fc.pt").exists()


def test_fit_continues_an_earlier_history_to_the_full_length():
    model, optimizer = _setup()
    first = training.fit(model, _fake_batches(2), losses.ce_rate, optimizer, 1, progress=False)
    history = training.fit(model, _fake_batches(2), losses.ce_rate, optimizer, 3,
                           history=first, progress=False)
    assert history.epochs["epoch"] == [1.0, 2.0, 3.0] and len(history.steps["loss"]) == 6


def test_a_folder_turned_read_only_mid_run_keeps_the_last_checkpoint_and_history(
        tmp_path, monkeypatch, capsys):
    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    path = tmp_path / "fc.pt"
    real_mkstemp, files = tempfile.mkstemp, []

    def read_only_after_epoch_1(*args, **kwargs):  # epoch 1 writes 3 files; then: no more
        files.append(1)
        if len(files) > 3:
            raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path))
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", read_only_after_epoch_1)
    history = training.fit(model, _fake_batches(4), losses.ce_rate, optimizer, 3,
                           checkpoint=path, progress=False)
    assert history.stopped == "save failed" and history.stopped_at == (2, 4)
    assert history.epochs["epoch"] == [1.0, 2.0]  # in memory, everything
    epoch, on_disk = _files(path)  # on disk, epoch 1 whole: checkpoint and history agree
    assert epoch == 1 and on_disk.epochs["epoch"] == [1.0] and len(on_disk.steps["loss"]) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fc.history.csv", "fc.pt",
                                                          "fc.steps.csv"]
    printed = capsys.readouterr().out
    assert "the checkpoint could not be written" in printed and "Permission denied" in printed
    assert f"could not write the history beside {path}" in printed


# ----- progress: bars for someone watching, one line per epoch for a stored run


def test_fit_prints_one_line_per_epoch_when_nobody_watches(capsys):
    """Under pytest, as under nbconvert or with output to a file: no terminal, no live notebook."""
    model = _small_fc()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    training.fit(model, _fake_batches(3), losses.ce_rate, optimizer, epochs=2,
                 test_loader=_fake_batches(2))
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    assert "train loss" in lines[0] and "means over the epoch's batches" in lines[0]
    assert "test accuracy" in lines[0] and lines[0].endswith(" s")
    assert "it/s" not in captured.err and "|" not in captured.err  # no bar


def test_fit_prints_its_epoch_lines_and_chance_warning_in_chinese(capsys):
    from snnlab import i18n

    model = _small_fc()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    i18n.set_language("zh_CN")
    try:
        history = training.fit(model, _fake_batches(3), losses.ce_rate, optimizer, epochs=2,
                               test_loader=_fake_batches(2))
        warning = training.chance_warning(0.1, 10, "test", epoch=3)
    finally:
        i18n.set_language("en")
    last = history.final()
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("第 ")]
    assert len(lines) == 2
    assert lines[1].startswith(f"第 2/2 轮：训练损失 {last['train_loss']:.4f}，训练准确率 "
                               f"{last['train_accuracy']:.4f}（本轮各批次的平均值）| 测试损失 "
                               f"{last['test_loss']:.4f}，测试准确率 "
                               f"{last['test_accuracy']:.4f} | ")
    assert lines[1].endswith(" 秒")
    assert warning.startswith("警告：第 3 轮之后的测试集准确率 0.1000 处于随机水平"
                              "（低于 1/10 + 0.05 = 0.15）：网络没有学到东西。 "
                              "可能的原因：学习率太高")


def test_fit_shows_bars_and_the_test_result_where_someone_watches(monkeypatch, capsys):
    monkeypatch.setattr(training, "_watched", lambda: True)
    model = _small_fc()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    training.fit(model, _fake_batches(3), losses.ce_rate, optimizer, epochs=1,
                 test_loader=_fake_batches(2))
    captured = capsys.readouterr()
    assert "epoch 1/1" in captured.err and "3/3" in captured.err  # tqdm's bar
    assert captured.out.startswith("epoch 1/1: test loss") and "train loss" not in captured.out


def test_progress_false_prints_nothing(capsys):
    model = _small_fc()
    training.fit(model, _fake_batches(2), losses.ce_rate,
                 torch.optim.SGD(model.parameters(), lr=0.1), epochs=1, progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_watched_tells_a_live_notebook_from_an_executed_one(monkeypatch):
    class Kernel:
        pass

    class Shell:
        kernel = Kernel()

    fake_ipython = type(sys)("IPython")
    fake_ipython.get_ipython = Shell
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    for name in ("JPY_SESSION_NAME", "VSCODE_PID"):
        monkeypatch.delenv(name, raising=False)
    assert training._watched() is False  # nbconvert, nbclient, nbval, papermill
    monkeypatch.setenv("JPY_SESSION_NAME", "notebooks/04_fc_snn_mnist.ipynb")
    assert training._watched() is True  # a kernel that JupyterLab started


def _poison_optimizer_on_call(number: int, scale: float, model, snapshots: list):
    """A loss that is ``scale`` times too big on call ``number`` (finite: 1e30), and that
    records the optimizer's state and the weights just before each step."""

    def loss_fn(spikes, membrane, targets):
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        loss = losses.ce_membrane(spikes, membrane, targets)
        return loss * scale if len(snapshots) == number else loss

    return loss_fn


def test_an_optimizer_state_overflow_stops_and_restores_weights_and_state(capsys):
    """A finite but huge loss (1e30) gives finite gradients whose squares overflow Adam's
    exp_avg_sq to inf: the weights stay finite, but that weight would never move again. fit
    stops there and puts back the weights and the optimizer's state of the last good step."""
    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    snapshots = []
    loss_fn = _poison_optimizer_on_call(3, 1e30, model, snapshots)
    training.fit(model, _fake_batches(4), loss_fn, optimizer, epochs=1, progress=False)
    # what Adam held after step 2, the last good one: run the same two steps again
    reference_model = _small_fc()
    reference = torch.optim.Adam(reference_model.parameters(), lr=1e-3)
    training.fit(reference_model, _fake_batches(2), losses.ce_membrane, reference, epochs=1,
                 progress=False)

    message = capsys.readouterr().out
    assert "exp_avg_sq of fc1.weight became NaN or inf after the optimizer step" in message
    assert "optimizer state restored" in message and "epoch 1, batch 3" in message
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, snapshots[2][key])
        torch.testing.assert_close(value, reference_model.state_dict()[key])
    ours, theirs = optimizer.state_dict()["state"], reference.state_dict()["state"]
    assert ours.keys() == theirs.keys()
    for index in ours:
        assert int(ours[index]["step"]) == 2
        for key in ("exp_avg", "exp_avg_sq"):
            assert torch.isfinite(ours[index][key]).all()
            torch.testing.assert_close(ours[index][key], theirs[index][key])


def test_the_restored_optimizer_trains_on():
    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    first = training.fit(model, _fake_batches(4), _poison_optimizer_on_call(3, 1e30, model, []),
                         optimizer, epochs=1, progress=False)
    assert first.stopped == "non-finite" and first.stopped_at == (1, 3)
    before = model.fc1.weight.detach().clone()
    training.fit(model, _fake_batches(2, seed=1), losses.ce_membrane, optimizer, epochs=1,
                 progress=False)
    assert (model.fc1.weight - before).abs().max() > 1e-4  # it still moves every weight


def test_a_weight_overflow_restores_the_momentum_too(capsys):
    """SGD with momentum, whose learning rate jumps to 1e38 at step 2, where the loss is also
    1000 times too big: that step sends weights to inf and writes the momentum buffers; both
    go back to how step 1 left them."""
    model = _small_fc()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 if step < 1
                                                  else 1e40)
    snapshots = []
    loss_fn = _poison_optimizer_on_call(2, 1e3, model, snapshots)
    history = training.fit(model, _fake_batches(3), loss_fn, optimizer, epochs=1,
                           scheduler=scheduler, progress=False)
    assert history.stopped == "non-finite" and history.stopped_at == (1, 2)
    assert "became NaN or inf after the optimizer step" in capsys.readouterr().out
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, snapshots[1][key])
    reference_model = _small_fc()  # the first step again: its momentum buffers
    reference = torch.optim.SGD(reference_model.parameters(), lr=0.01, momentum=0.9)
    training.fit(reference_model, _fake_batches(1), losses.ce_membrane, reference, epochs=1,
                 progress=False)
    ours, theirs = optimizer.state_dict()["state"], reference.state_dict()["state"]
    assert len(ours) == len(theirs) == 4
    for index in ours:
        torch.testing.assert_close(ours[index]["momentum_buffer"],
                                   theirs[index]["momentum_buffer"])


def test_an_optimizer_with_broken_state_is_refused_before_training():
    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    training.fit(model, _fake_batches(1), losses.ce_membrane, optimizer, epochs=1,
                 progress=False)
    next(iter(optimizer.state.values()))["exp_avg_sq"].fill_(float("inf"))
    with pytest.raises(ValueError, match=r"optimizer's exp_avg_sq of fc1.weight already holds "
                                         r"NaN or inf.*new optimizer"):
        training.fit(model, _fake_batches(1), losses.ce_membrane, optimizer, epochs=1,
                     progress=False)


# ----- a run at chance level says so; Ctrl-C before any checkpoint says there is none


@pytest.mark.parametrize("accuracy, num_classes, warns", [
    (0.0, 10, True), (0.1, 10, True), (0.1499, 10, True), (0.15, 10, False), (0.9, 10, False),
    (0.54, 2, True), (0.55, 2, False), (float("nan"), 10, False),
])
def test_chance_warning_is_below_one_over_the_classes_plus_the_margin(accuracy, num_classes,
                                                                        warns):
    warning = training.chance_warning(accuracy, num_classes, "test", epoch=3)
    assert (warning is not None) == warns
    if warns:
        assert warning.startswith(f"warning: the test accuracy after epoch 3, {accuracy:.4f}, "
                                  f"is at chance level (below 1/{num_classes} + 0.05 = ")
        assert "a learning rate too high" in warning and "beta = 0" in warning


def test_fit_warns_after_an_epoch_at_chance_and_not_after_one_that_learned(capsys):
    torch.manual_seed(0)
    labels = torch.arange(64) % 4  # 4 classes: class k lights band k of the image
    images = torch.zeros(64, 1, 28, 28)
    for k in range(4):
        images[labels == k, 0, 7 * k:7 * k + 7, :] = 1.0
    batches = [(images[i:i + 16], labels[i:i + 16]) for i in range(0, 64, 16)]
    model = models.FCSNN(num_hidden=32, num_outputs=4, num_steps=5)
    history = training.fit(model, batches, losses.ce_rate,
                           torch.optim.Adam(model.parameters(), lr=1e-2), epochs=2,
                           test_loader=batches)
    learned = capsys.readouterr().out
    assert min(history.epochs["test_accuracy"]) >= 0.9
    assert "epoch 2/2" in learned and "chance" not in learned

    # blank images: every image gets the same answer, so exactly a quarter are right
    blank = [(torch.zeros_like(x), y) for x, y in batches]
    model = models.FCSNN(num_hidden=32, num_outputs=4, num_steps=5)
    history = training.fit(model, blank, losses.ce_rate,
                           torch.optim.Adam(model.parameters(), lr=1e-2), epochs=2,
                           test_loader=blank)
    broken = capsys.readouterr().out
    for epoch, accuracy in zip((1, 2), history.epochs["test_accuracy"], strict=True):
        assert accuracy == 0.25  # chance: 1/4
        assert (f"warning: the test accuracy after epoch {epoch}, {accuracy:.4f}, is at chance "
                "level (below 1/4 + 0.05 = 0.30)") in broken


def test_ctrl_c_at_the_first_step_says_no_checkpoint_was_written(tmp_path, capsys):
    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    path = tmp_path / "fc.pt"
    history = training.fit(model, _InterruptedLoader(_fake_batches(4), 1, 1), losses.ce_rate,
                           optimizer, 3, checkpoint=path, progress=False)
    assert history.stopped == "interrupted" and history.stopped_at == (1, 1)
    printed = capsys.readouterr().out
    assert printed == ("fit: interrupted (Ctrl-C) at epoch 1, batch 1; stopped. No epoch "
                       "finished, so no checkpoint was written.\n")
    assert not path.exists()


def test_ctrl_c_after_a_save_names_the_checkpoints_epoch(tmp_path, capsys):
    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    path = tmp_path / "fc.pt"
    training.fit(model, _InterruptedLoader(_fake_batches(4), 3, 2), losses.ce_rate, optimizer,
                 3, checkpoint=path, progress=False)
    assert (f"at epoch 3, batch 2; stopped. The last checkpoint, {path} (epoch 2), is intact."
            in capsys.readouterr().out)
    assert checkpoints.checkpoint_info(path)["epoch"] == 2


@pytest.fixture
def chinese():
    from snnlab import i18n

    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_the_stop_lines_in_chinese(tmp_path, capsys, chinese):
    from chinese import english_prose

    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    path = tmp_path / "fc.pt"
    history = training.fit(model, _InterruptedLoader(_fake_batches(4), 1, 1), losses.ce_rate,
                           optimizer, 3, checkpoint=path, progress=False)
    assert history.stopped == "interrupted"  # the reason stays a key, as metrics.json has it
    assert capsys.readouterr().out == ("fit：第 1 轮第 1 个批次时，被中断（Ctrl-C）；已停止。"
                                       "没有完成任何一轮，所以没有写入检查点。\n")

    def nan_on_call_2(spikes, membrane, targets, calls=[]):  # noqa: B006 (counts the calls)
        calls.append(1)
        loss = losses.ce_membrane(spikes, membrane, targets)
        return loss * float("nan") if len(calls) == 2 else loss

    model = _small_fc()
    history = training.fit(model, _fake_batches(4), nan_on_call_2,
                           torch.optim.SGD(model.parameters(), lr=0.1), epochs=1, progress=False)
    assert history.stopped == "non-finite" and history.stopped_at == (1, 2)
    assert history.stopped_because == (
        "损失 变成了 NaN 或 inf（可以试试更低的学习率，或者用 clip_grad 裁剪梯度）")
    line = capsys.readouterr().out
    assert line.startswith("fit：第 1 轮第 2 个批次时，损失 变成了 NaN 或 inf") and "已停止" in line
    assert english_prose(line) == []
