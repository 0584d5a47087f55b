import hashlib
import urllib.error
from pathlib import Path

import pytest
import torch
import torchvision

from snnlab import data

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file below a folder with its md5, to show that loading wrote nothing there."""
    return {str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_real_mnist_from_read_only_root(mnist_root):
    before = _snapshot(mnist_root)
    train = data.mnist(True, root=mnist_root)
    test = data.mnist(False, root=mnist_root)
    assert (len(train), len(test)) == (60000, 10000)
    image, label = train[0]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert float(image.min()) == 0.0 and float(image.max()) == 1.0
    assert label == 5  # the first training digit of MNIST is a 5
    assert torch.bincount(train.targets).tolist() == TRAIN_COUNTS
    assert torch.bincount(test.targets).tolist() == TEST_COUNTS
    assert _snapshot(mnist_root) == before, "loading must never write into the data folder"


def test_data_dir_from_environment(mnist_root, monkeypatch):
    monkeypatch.setenv("SNNLAB_DATA_DIR", str(mnist_root))
    assert data.data_root() == mnist_root
    assert len(data.mnist(False)) == 10000
    monkeypatch.delenv("SNNLAB_DATA_DIR")
    assert data.data_root() == data.cache_dir()
    assert data.data_root("/some/where") == Path("/some/where")


def test_subset_is_balanced_and_seeded(mnist_root):
    first = data.mnist(True, root=mnist_root, subset=1003, seed=3)
    again = data.mnist(True, root=mnist_root, subset=1003, seed=3)
    other = data.mnist(True, root=mnist_root, subset=1003, seed=4)
    labels = torch.tensor([first[i][1] for i in range(len(first))])
    assert len(first) == 1003
    assert torch.bincount(labels, minlength=10).tolist() == [101, 101, 101] + [100] * 7
    assert first.indices == again.indices
    assert first.indices != other.indices


def test_size_32_resizes_within_range(mnist_root):
    test = data.mnist(False, root=mnist_root, size=32, subset=20)
    image, _ = test[0]
    assert image.shape == (1, 32, 32)
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0 and float(image.max()) > 0.5


def test_loaders_give_batches(mnist_root):
    train_loader, test_loader = data.loaders(64, root=mnist_root, subset=200, test_subset=100)
    images, labels = next(iter(train_loader))
    assert images.shape == (64, 1, 28, 28) and labels.shape == (64,)
    assert len(train_loader.dataset) == 200 and len(test_loader.dataset) == 100
    assert train_loader.pin_memory == torch.cuda.is_available()
    # the test loader keeps order, so two passes agree
    first = torch.cat([y for _, y in test_loader])
    assert torch.equal(first, torch.cat([y for _, y in test_loader]))


def test_missing_files_without_download_names_the_files(tmp_path):
    with pytest.raises(data.MNISTNotFoundError) as error:
        data.mnist(True, root=tmp_path, download=False)
    message = str(error.value)
    for name in data.MNIST_FILES:
        assert name in message
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "SNNLAB_DATA_DIR" in message


def test_failed_download_gives_the_clear_error_not_urllib(tmp_path, monkeypatch):
    def offline(self):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", offline)
    with pytest.raises(data.MNISTNotFoundError) as error:
        data.mnist(False, root=tmp_path, download=True)
    assert "could not be downloaded (URLError)" in str(error.value)
    assert error.value.__cause__ is None and error.value.__suppress_context__


def test_damaged_gz_is_reported(mnist_root, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in data.MNIST_FILES:
        (raw / name).write_bytes((mnist_root / "MNIST" / "raw" / name).read_bytes())
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not a gzip file")
    with pytest.raises(data.MNISTNotFoundError, match="t10k-labels-idx1-ubyte.gz is damaged"):
        data.mnist(False, root=tmp_path)


@pytest.mark.parametrize("bad", [dict(size=0), dict(size=28.0), dict(subset=5), dict(subset=10**6)])
def test_bad_arguments(mnist_root, bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        data.mnist(False, root=mnist_root, **bad)
