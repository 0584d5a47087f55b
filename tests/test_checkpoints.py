"""Checkpoints: round trips, and every way a careless save or load is refused with a clear error.

A broken (NaN) network is never saved or loaded; a file that is not a checkpoint of the same
network is never overwritten; a failed save (Ctrl-C, a full disk) leaves the last one intact.
"""

from __future__ import annotations

import errno
import os

import pytest
import torch

from snnlab import checkpoints, checks, losses, models, training


def _fake_batches(num_batches: int = 2, batch: int = 8, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    return [(torch.rand(batch, 1, 28, 28, generator=generator),
             torch.randint(0, 10, (batch,), generator=generator)) for _ in range(num_batches)]


def _small_fc(seed: int = 0) -> models.FCSNN:
    torch.manual_seed(seed)
    return models.FCSNN(num_hidden=32, num_steps=4)


def _nan_model() -> models.FCSNN:
    model = _small_fc()
    with torch.no_grad():
        model.fc2.weight[3, 5] = float("nan")
    return model


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


# ---------------------------------------------------------------- a broken network, never kept


def test_save_refuses_a_network_with_a_nan_weight_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match=r"weight 'fc2.weight' holds NaN or inf"):
        checkpoints.save_checkpoint(tmp_path / "fc.pt", _nan_model())
    assert list(tmp_path.iterdir()) == []


def test_save_of_a_nan_network_leaves_the_good_checkpoint_as_it_was(tmp_path):
    path = checkpoints.save_checkpoint(tmp_path / "fc.pt", _small_fc(), epoch=1)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="fc2.weight"):
        checkpoints.save_checkpoint(path, _nan_model(), epoch=2)
    assert path.read_bytes() == before


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_load_refuses_non_finite_weights_naming_the_file_and_the_tensor(tmp_path, value):
    path = checkpoints.save_checkpoint(tmp_path / "fc.pt", _small_fc())
    content = torch.load(path, weights_only=True)
    content["state_dict"]["fc1.bias"][7] = value  # as a diverged run would have saved it
    torch.save(content, path)
    with pytest.raises(ValueError, match=r"fc\.pt.*'fc1\.bias' holds NaN or inf"):
        checkpoints.load_checkpoint(path)
    with pytest.raises(ValueError, match=r"fc\.pt.*'fc1\.bias'"):
        checkpoints.restore(path, _small_fc())


# ---------------------------------------------------------------- never overwrite a stranger


def test_a_plain_state_dict_is_never_overwritten(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(_small_fc().state_dict(), path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match=r"weights\.pt.*not an snnlab checkpoint"):
        checkpoints.save_checkpoint(path, _small_fc())
    assert path.read_bytes() == before


def test_a_checkpoint_of_another_architecture_is_never_overwritten(tmp_path):
    path = checkpoints.save_checkpoint(tmp_path / "net.pt", models.CSNN(num_steps=2))
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match=r"net\.pt.*checkpoint of CSNN.*FCSNN"):
        checkpoints.save_checkpoint(path, _small_fc())
    assert path.read_bytes() == before


def test_a_checkpoint_of_the_same_network_is_replaced(tmp_path):
    path = checkpoints.save_checkpoint(tmp_path / "fc.pt", _small_fc(), epoch=1)
    checkpoints.save_checkpoint(path, _small_fc(seed=1), epoch=2)
    assert checkpoints.checkpoint_info(path)["epoch"] == 2


# ---------------------------------------------------------------- failed saves


def test_a_full_disk_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = checkpoints.save_checkpoint(tmp_path / "fc.pt", _small_fc(), epoch=1)
    before = path.read_bytes()

    def disk_full(obj, file):
        file.write(b"the first bytes")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(OSError, match="No space left") as caught:
        checkpoints.save_checkpoint(path, _small_fc(seed=1), epoch=2)
    assert caught.value.errno == errno.ENOSPC
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["fc.pt"]  # no temporary file left


def test_a_full_disk_reported_by_torchs_writer_is_an_os_error_naming_the_file(tmp_path,
                                                                             monkeypatch):
    path = checkpoints.save_checkpoint(tmp_path / "fc.pt", _small_fc(), epoch=1)
    before = path.read_bytes()

    def torch_on_a_full_disk(obj, file):  # torch 2.x's own words
        file.write(b"PK\x03\x04 the first bytes")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704 "
                           "vs 598")

    monkeypatch.setattr(torch, "save", torch_on_a_full_disk)
    with pytest.raises(OSError) as caught:
        checkpoints.save_checkpoint(path, _small_fc(seed=1), epoch=2)
    message = str(caught.value)
    assert message.startswith(f"could not write {str(path)!r} (it was left as it was): "
                              "torch's writer stopped partway, most likely because the disk is "
                              "full ([enforce fail at inline_container.cc:672]")
    assert "MB free there" in message or "kB free there" in message
    assert isinstance(caught.value.__cause__.__cause__, RuntimeError)  # torch's, kept
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["fc.pt"]  # no temporary file left


def test_float16_refuses_a_weight_beyond_its_range_naming_it(tmp_path):
    model = _small_fc()
    with torch.no_grad():
        model.fc2.weight[3, 1] = -1e5  # float32 holds it; float16 stops at 65504
    with pytest.raises(ValueError, match=r"save_checkpoint: FCSNN's weight 'fc2\.weight' holds "
                                         r"values up to 1e\+05 in size, beyond the range of "
                                         r"torch\.float16 \(its largest number is 6\.55e\+04\)"
                                         r".*would become inf.*dtype=torch\.float32"):
        checkpoints.save_checkpoint(tmp_path / "half.pt", model, dtype=torch.float16)
    assert list(tmp_path.iterdir()) == []
    # the same network in float32, and one just inside float16's range, save and load
    checkpoints.load_checkpoint(checkpoints.save_checkpoint(tmp_path / "full.pt", model))
    with torch.no_grad():
        model.fc2.weight[3, 1] = -65504.0
    loaded = checkpoints.load_checkpoint(checkpoints.save_checkpoint(
        tmp_path / "half.pt", model, dtype=torch.float16))
    assert loaded.fc2.weight[3, 1].item() == -65504.0


def test_a_read_only_folder_is_refused_before_writing(tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access",  # as root, chmod would not stop us: pretend
                        lambda p, mode: False if str(p) == str(folder) else real_access(p, mode))
    with pytest.raises(PermissionError, match=r"locked.*not writable"):
        checkpoints.check_writable(folder / "fc.pt", _small_fc())
    with pytest.raises(PermissionError, match="locked"):
        checkpoints.save_checkpoint(folder / "fc.pt", _small_fc())
    assert list(folder.iterdir()) == []


def test_check_writable_accepts_a_missing_folder_it_can_create(tmp_path):
    path = checkpoints.check_writable(tmp_path / "new" / "deeper" / "fc.pt", _small_fc())
    assert path == tmp_path / "new" / "deeper" / "fc.pt"
    assert not (tmp_path / "new").exists()  # checking creates nothing


# ---------------------------------------------------------------- careless arguments


def _other_optimizer():
    return torch.optim.SGD(_small_fc(1).parameters(), lr=0.1)


@pytest.mark.parametrize("call, error, message", [
    (lambda d, m: checkpoints.save_checkpoint(None, m), TypeError, "path must be a file path"),
    (lambda d, m: checkpoints.save_checkpoint(5, m), TypeError, "path must be a file path"),
    (lambda d, m: checkpoints.save_checkpoint(d, m), IsADirectoryError, "is a folder"),
    (lambda d, m: checkpoints.save_checkpoint(d / "a.pt", None), TypeError, "model must be one"),
    (lambda d, m: checkpoints.save_checkpoint(d / "a.pt", torch.nn.Linear(2, 2)), TypeError,
     "snnlab.models"),
    (lambda d, m: checkpoints.save_checkpoint(d / "a.pt", m, "adam"), TypeError,
     "optimizer must be a torch.optim.Optimizer"),
    (lambda d, m: checkpoints.save_checkpoint(d / "a.pt", m, _other_optimizer()), ValueError,
     "optimizer holds parameters that are not the model's"),
    (lambda d, m: checkpoints.save_checkpoint(d / "a.pt", m, None, "onecycle"), TypeError,
     "scheduler must be"),
    (lambda d, m: checkpoints.save_checkpoint(
        d / "a.pt", m, torch.optim.SGD(m.parameters(), lr=0.1),
        torch.optim.lr_scheduler.StepLR(_other_optimizer(), 1)), ValueError,
     "scheduler drives another optimizer"),
    (lambda d, m: checkpoints.save_checkpoint(d / "a.pt", m, dtype=torch.int8), TypeError,
     "dtype must be a floating torch dtype"),
    (lambda d, m: checkpoints.save_checkpoint(d / "a.pt", m, dtype="float16"), TypeError,
     "dtype must be a floating torch dtype"),
    (lambda d, m: checkpoints.save_checkpoint(d / "a.pt", m, model_class="CSNN"), ValueError,
     "metadata may not be called.*model_class"),
    (lambda d, m: checkpoints.save_checkpoint(d / "a.pt", m, when=object()), TypeError,
     r"metadata\['when'\]"),
    (lambda d, m: checkpoints.load_checkpoint(None), TypeError, "path must be a file path"),
    (lambda d, m: checkpoints.load_checkpoint(d / "good.pt", model_class=5), TypeError,
     "model_class must be a network class"),
    (lambda d, m: checkpoints.load_checkpoint(d / "good.pt", model_class="fcsnn"), ValueError,
     "model_class must be one of the snnlab.models networks.*'fcsnn'"),
    (lambda d, m: checkpoints.load_checkpoint(d / "good.pt", model_class=torch.nn.Linear),
     ValueError, "model_class must be one of.*'Linear'"),
    (lambda d, m: checkpoints.load_checkpoint(d / "good.pt", device="gpu"), ValueError,
     "device must be 'cpu', 'cuda'"),
    (lambda d, m: checkpoints.checkpoint_info(d), FileNotFoundError, "that is a folder"),
    (lambda d, m: checkpoints.restore(d / "good.pt", None), TypeError, "restore: model must"),
    (lambda d, m: checkpoints.restore(d / "good.pt", models.CSNN(num_steps=2)), ValueError,
     "holds a FCSNN, not a CSNN"),
    (lambda d, m: checkpoints.restore(d / "good.pt", models.FCSNN(num_hidden=8, num_steps=4)),
     ValueError, "weights do not fit FCSNN"),
    (lambda d, m: checkpoints.restore(d / "good.pt", m, _other_optimizer()), ValueError,
     "optimizer holds parameters that are not the model's"),
    (lambda d, m: checkpoints.restore(d / "good.pt", m, torch.optim.Adam(m.parameters())),
     ValueError, "state of a SGD optimizer, not of a Adam"),
    (lambda d, m: checkpoints.restore(d / "bare.pt", m, torch.optim.SGD(m.parameters(), lr=1)),
     ValueError, r"bare\.pt' holds no optimizer state"),
    (lambda d, m: checkpoints.check_writable(d / "a.pt", "FCSNN"), TypeError,
     "model must be a torch.nn.Module"),
])
def test_careless_checkpoint_arguments_are_refused(tmp_path, call, error, message):
    model = _small_fc()
    checkpoints.save_checkpoint(tmp_path / "good.pt", model,
                                torch.optim.SGD(model.parameters(), lr=0.1), epoch=1)
    checkpoints.save_checkpoint(tmp_path / "bare.pt", model)
    with pytest.raises(error, match=message):
        call(tmp_path, model)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bare.pt", "good.pt"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_loading_onto_a_missing_gpu_says_so(tmp_path):
    path = checkpoints.save_checkpoint(tmp_path / "fc.pt", _small_fc())
    with pytest.raises(ValueError, match="'cuda' asked for, but this machine has no CUDA GPU"):
        checkpoints.load_checkpoint(path, device="cuda")


@pytest.mark.parametrize("damage, message", [
    (lambda c: c.pop("model_config"), "'model_config' is missing"),
    (lambda c: c.pop("state_dict"), "'state_dict' is missing"),
    (lambda c: c.update(metadata=[1, 2]), "'metadata' is missing or not a dict"),
    (lambda c: c["state_dict"].update({"fc1.weight": "weights"}),
     "the weight 'fc1.weight' is a str, not a tensor"),
    (lambda c: c["model_config"].update(bogus=1), r"no longer build a FCSNN"),
    (lambda c: c["model_config"].update(num_hidden=-3), r"no longer build a FCSNN.*num_hidden"),
    (lambda c: c.update(model_class="Transformer"), "'Transformer', which snnlab.models does "
     "not have"),
])
def test_a_damaged_checkpoint_names_the_file_and_what_is_wrong(tmp_path, damage, message):
    path = checkpoints.save_checkpoint(tmp_path / "fc.pt", _small_fc())
    content = torch.load(path, weights_only=True)
    damage(content)
    torch.save(content, path)
    with pytest.raises(ValueError, match=message) as caught:
        checkpoints.load_checkpoint(path)
    assert str(path) in str(caught.value)


def test_an_empty_file_is_not_a_checkpoint(tmp_path):
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.pt' is not a readable checkpoint"):
        checkpoints.load_checkpoint(tmp_path / "empty.pt")


def test_a_fitted_model_round_trips_with_its_optimizer(tmp_path):
    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    training.fit(model, _fake_batches(2), losses.ce_rate, optimizer, 1, progress=False)
    path = checkpoints.save_checkpoint(tmp_path / "fc.pt", model, optimizer, epoch=1)
    again = models.FCSNN(**model.config)
    again_optimizer = torch.optim.Adam(again.parameters(), lr=1e-3)
    assert checkpoints.restore(path, again, again_optimizer) == {"epoch": 1}
    assert again_optimizer.state_dict()["state"][0]["step"] == 2
    torch.testing.assert_close(again.fc1.weight, model.fc1.weight)


def _trained_with_adam():
    model = _small_fc()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    training.fit(model, _fake_batches(1), losses.ce_rate, optimizer, 1, progress=False)
    return model, optimizer


def test_save_refuses_an_optimizer_whose_state_holds_inf(tmp_path):
    """Adam with an inf exp_avg_sq never moves that weight again: such a state is not saved
    for a resume (the network alone still can be)."""
    model, optimizer = _trained_with_adam()
    optimizer.state[model.fc2.weight]["exp_avg_sq"][0, 0] = float("inf")
    with pytest.raises(ValueError, match=r"the optimizer's exp_avg_sq of fc2.weight holds NaN "
                                         r"or inf"):
        checkpoints.save_checkpoint(tmp_path / "fc.pt", model, optimizer)
    assert not (tmp_path / "fc.pt").exists()
    checkpoints.save_checkpoint(tmp_path / "fc.pt", model)  # without the optimizer: fine
    assert (tmp_path / "fc.pt").exists()


def test_restore_refuses_a_saved_optimizer_state_with_nan(tmp_path):
    model, optimizer = _trained_with_adam()
    path = checkpoints.save_checkpoint(tmp_path / "fc.pt", model, optimizer)
    content = torch.load(path, weights_only=False)
    content["optimizer"]["state"][0]["exp_avg"][0, 0] = float("nan")  # a file damaged elsewhere
    torch.save(content, path)
    fresh = _small_fc(seed=1)
    fresh_optimizer = torch.optim.Adam(fresh.parameters(), lr=1e-3)
    with pytest.raises(ValueError, match=r"fc.pt': the optimizer's exp_avg of fc1.weight holds "
                                         r"NaN or inf; resume with a new optimizer"):
        checkpoints.restore(path, fresh, fresh_optimizer)
    assert fresh_optimizer.state_dict()["state"] == {}  # nothing half loaded
    assert not torch.equal(fresh.fc1.weight, model.fc1.weight)
    checkpoints.restore(path, fresh)  # the weights alone are good
    torch.testing.assert_close(fresh.fc1.weight, model.fc1.weight)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.float64])
def test_first_non_finite_finds_every_kind_of_broken_value(dtype):
    big = torch.finfo(dtype).max
    for value in (float("nan"), float("inf"), -float("inf")):
        broken = torch.zeros(1000, dtype=dtype)
        broken[637] = value
        assert checks.first_non_finite({"a": torch.zeros(3), "w": broken}) == "w"
    both = torch.zeros(10, dtype=dtype)
    both[2], both[7] = float("inf"), -float("inf")  # they would cancel in a careless sum
    assert checks.first_non_finite({"w": both}) == "w"
    huge = torch.full((100_000,), big, dtype=dtype)  # finite, however large their sum
    assert checks.first_non_finite({"w": huge, "i": torch.arange(3)}) is None
