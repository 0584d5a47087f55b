import gzip
import hashlib
import struct
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
    # the Python API's way to name another folder, not the command line's
    assert message.endswith("or pass root=...") and "--data-dir" not in message
    assert error.value.raw == tmp_path / "MNIST" / "raw" and error.value.reason == "download=False"


def test_failed_download_gives_the_clear_error_not_urllib(tmp_path, monkeypatch):
    def offline(self):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", offline)
    with pytest.raises(data.MNISTNotFoundError) as error:
        data.mnist(False, root=tmp_path, download=True)
    assert "could not be downloaded (URLError)" in str(error.value)
    assert error.value.__cause__ is None and error.value.__suppress_context__


@pytest.mark.parametrize("how", ["root", "SNNLAB_DATA_DIR"])
def test_a_failed_load_creates_nothing_in_the_data_folder_or_the_cache(tmp_path, monkeypatch,
                                                                        how):
    """Not even an empty MNIST/raw/, under a folder that did not exist, nor the cache."""
    def offline(self):
        Path(self.raw_folder).mkdir(parents=True, exist_ok=True)  # as torchvision's own does
        (Path(self.raw_folder) / "t10k-images-idx3-ubyte.gz").write_bytes(b"half a download")
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", offline)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "data"
    existing = tmp_path / "empty"
    existing.mkdir()
    for root in (folder / "not" / "there", existing):
        if how == "root":
            arguments = dict(root=root)
        else:
            monkeypatch.setenv("SNNLAB_DATA_DIR", str(root))
            arguments = {}
        for download in (True, False):
            with pytest.raises(data.MNISTNotFoundError):
                data.mnist(False, download=download, **arguments)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]
    assert list(existing.iterdir()) == []


def _download_from(mnist_root: Path):
    """torchvision's MNIST.download, from the real files on disk instead of the internet."""
    def download(self):
        raw = Path(self.raw_folder)
        raw.mkdir(parents=True, exist_ok=True)
        for name in data.MNIST_FILES:
            content = gzip.decompress((mnist_root / "MNIST" / "raw" / name).read_bytes())
            (raw / name.removesuffix(".gz")).write_bytes(content)
    return download


def test_a_download_goes_into_the_cache_never_into_the_named_folder(tmp_path, monkeypatch,
                                                                    mnist_root):
    monkeypatch.setattr(torchvision.datasets.MNIST, "download", _download_from(mnist_root))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("SNNLAB_DATA_DIR", str(tmp_path / "mine"))
    assert len(data.mnist(False)) == 10000
    assert not (tmp_path / "mine").exists()
    cached = tmp_path / "cache" / "snnlab" / "MNIST" / "raw"
    assert sorted(p.name for p in cached.iterdir()) == sorted(
        name.removesuffix(".gz") for name in data.MNIST_FILES)  # the four, no partial file

    def offline(self):
        raise AssertionError("downloaded again")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", offline)
    assert len(data.mnist(True)) == 60000  # the earlier download, found in the cache
    assert not (tmp_path / "mine").exists()


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


# ------------------------------------------------------------------ careless arguments

@pytest.mark.parametrize("train, error", [("yes", TypeError), (1, TypeError), (None, TypeError),
                                          ("test", TypeError)])
def test_train_must_be_a_bool(tmp_path, train, error):
    with pytest.raises(error, match="train must be True or False"):
        data.mnist(train, root=tmp_path, download=False)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(size=True), ValueError, "size must be an int >= 8"),
    (dict(size=7), ValueError, "size must be an int >= 8"),
    (dict(seed="a"), TypeError, "seed must be an int"),
    (dict(seed=1.5), TypeError, "seed must be an int"),
    (dict(download="no"), TypeError, "download must be True or False"),
    (dict(root=5), TypeError, "root must be a folder path"),
])
def test_mnist_arguments_are_checked_before_any_file_is_read(tmp_path, kwargs, error, words):
    kwargs.setdefault("root", tmp_path)
    with pytest.raises(error, match=words):
        data.mnist(False, **kwargs)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(batch_size=0), ValueError, "batch_size must be a positive int"),
    (dict(batch_size=True), TypeError, "batch_size must be a positive int"),
    (dict(batch_size=32.0), TypeError, "batch_size must be a positive int"),
    (dict(batch_size="64"), TypeError, "batch_size must be a positive int"),
    (dict(size=0), ValueError, "size must be an int >= 8"),
    (dict(num_workers=-1), ValueError, "num_workers must be an int >= 0"),
    (dict(num_workers=True), ValueError, "num_workers must be an int >= 0"),
    (dict(seed=None), TypeError, "seed must be an int"),
    (dict(download=1), TypeError, "download must be True or False"),
])
def test_loaders_arguments_are_checked_before_any_file_is_read(tmp_path, kwargs, error, words):
    with pytest.raises(error, match=words):
        data.loaders(root=tmp_path, **kwargs)


@pytest.mark.parametrize("subset", [True, 5.0, 0, -1])
def test_subset_must_be_an_int_in_range(mnist_root, subset):
    with pytest.raises(ValueError, match="subset must be an int from 10 to 10000"):
        data.mnist(False, root=mnist_root, subset=subset)


# ------------------------------------------------------------------ damaged files (small fakes)

def _idx(magic: int, count: int, item: bytes) -> bytes:
    header = struct.pack(">ii", magic, count)
    return header + (struct.pack(">ii", 28, 28) if magic == 2051 else b"") + item * count


def _fake_mnist(tmp_path, monkeypatch, change: dict[str, bytes] | None = None) -> Path:
    """Four small, well-formed .gz files (a test set of 10 images), with md5 sums that match,
    except for the files in ``change``, whose content replaces the good one."""
    monkeypatch.setattr(data, "MNIST_FILES", dict(data.MNIST_FILES))
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    good = {"train-images-idx3-ubyte.gz": gzip.compress(_idx(2051, 0, b"")),
            "train-labels-idx1-ubyte.gz": gzip.compress(_idx(2049, 0, b"")),
            "t10k-images-idx3-ubyte.gz": gzip.compress(_idx(2051, 10, bytes(784))),
            "t10k-labels-idx1-ubyte.gz": gzip.compress(_idx(2049, 10, b"\x03"))}
    for name, content in {**good, **(change or {})}.items():
        (raw / name).write_bytes(content)
        data.MNIST_FILES[name] = hashlib.md5(content).hexdigest()
    return raw


def test_small_fake_mnist_loads_when_well_formed(tmp_path, monkeypatch):
    _fake_mnist(tmp_path, monkeypatch)
    monkeypatch.setattr(data, "_check_idx", lambda raw, train: None)  # 10 images, not 10000
    test = data.mnist(False, root=tmp_path)
    assert len(test) == 10 and test[0][1] == 3


@pytest.mark.parametrize("name, content, words", [
    ("t10k-images-idx3-ubyte.gz", gzip.compress(_idx(2051, 10, bytes(range(256)) * 4))[:300],
     "not a complete gzip file"),
    ("t10k-labels-idx1-ubyte.gz", b"this is not gzip at all", "not a complete gzip file"),
])
def test_truncated_or_foreign_gzip_names_the_file(tmp_path, monkeypatch, name, content, words):
    raw = _fake_mnist(tmp_path, monkeypatch, {name: content})
    with pytest.raises(data.MNISTNotFoundError) as error:
        data.mnist(False, root=tmp_path)
    message = str(error.value)
    assert str(raw / name) in message and words in message and "Delete it" in message
    assert not isinstance(error.value.__context__, AssertionError)


def test_wrong_md5_names_the_file(tmp_path, monkeypatch):
    raw = _fake_mnist(tmp_path, monkeypatch)
    data.MNIST_FILES["t10k-images-idx3-ubyte.gz"] = "0" * 32
    with pytest.raises(data.MNISTNotFoundError, match=r"md5 is \w+, not 0{32}\)\. Delete") as error:
        data.mnist(False, root=tmp_path)
    assert str(raw / "t10k-images-idx3-ubyte.gz") in str(error.value)


FULL_IMAGES = gzip.compress(_idx(2051, 10000, bytes(784)))  # a right-sized (blank) test set
LABELS_AS_IMAGES = gzip.compress(_idx(2051, 10000, b"\x03"))
NO_LABELS = gzip.compress(_idx(2049, 10000, b""))


@pytest.mark.parametrize("name, change, words", [
    ("t10k-labels-idx1-ubyte", {"t10k-images-idx3-ubyte.gz": FULL_IMAGES,
                                "t10k-labels-idx1-ubyte.gz": LABELS_AS_IMAGES},
     "magic number 2049"),
    ("t10k-labels-idx1-ubyte", {"t10k-images-idx3-ubyte.gz": FULL_IMAGES,
                                "t10k-labels-idx1-ubyte.gz": NO_LABELS},
     "8 bytes instead of 10008"),
    ("t10k-images-idx3-ubyte", {}, "10000 items"),
    ("t10k-images-idx3-ubyte", {"t10k-images-idx3-ubyte.gz": gzip.compress(b"")},
     "header is empty"),
])
def test_wrong_idx_header_or_size_names_the_extracted_file(tmp_path, monkeypatch, name, change,
                                                           words):
    _fake_mnist(tmp_path, monkeypatch, change)
    with pytest.raises(data.MNISTNotFoundError, match=words) as error:
        data.mnist(False, root=tmp_path)
    assert name + " is damaged" in str(error.value)
    assert "Delete it and load again" in str(error.value)


def test_truncated_extracted_file_in_root_names_it(mnist_root, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in data.MNIST_FILES:  # copies of the real files, extracted, one cut short
        content = gzip.decompress((mnist_root / "MNIST" / "raw" / name).read_bytes())
        cut = name.startswith("t10k-images")
        (raw / name.removesuffix(".gz")).write_bytes(content[:-10] if cut else content)
    with pytest.raises(data.MNISTNotFoundError,
                       match=r"t10k-images-idx3-ubyte is damaged \(7840006 bytes instead of "
                             r"7840016\)"):
        data.mnist(False, root=tmp_path)
