"""MNIST for the lessons.

Where the data comes from, in order:

1. the ``root`` argument, else the ``SNNLAB_DATA_DIR`` environment variable, else a per-user
   cache folder (``$XDG_CACHE_HOME/snnlab`` or ``~/.cache/snnlab``);
2. if ``<root>/MNIST/raw/`` already holds the extracted files, they are used as they are;
3. if it holds the four original ``.gz`` files, they are checked (md5) and extracted into the
   per-user cache;
4. otherwise an earlier download in the cache (``<cache>/MNIST/raw/``) is used, or, if
   ``download=True``, torchvision downloads MNIST into a scratch folder and the files move
   into the cache once all four are there.

So a folder you name (``root``, ``SNNLAB_DATA_DIR``) is only ever read, and may be read-only:
nothing is written or created in it, and a failed download leaves nothing behind anywhere.

Images come out as float tensors ``[1, size, size]`` with values in [0, 1]; labels as ints.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch.utils.data import DataLoader, Dataset, Subset

from snnlab import checks

# The four files of the original MNIST distribution, with their md5 sums.
MNIST_FILES: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


# How many images each set holds: a subset may ask for 10 (one per digit) up to these.
TRAIN_SIZE, TEST_SIZE = 60_000, 10_000


class MNISTNotFoundError(FileNotFoundError):
    """MNIST is neither on disk (undamaged) nor downloadable. Lesson 04.

    When the files are missing (not damaged), ``raw`` is the folder searched and ``reason``
    why nothing was downloaded, so that a command can say how to name another folder in its
    own words (``python -m snnlab train``: ``--data-dir``, see :func:`missing_error`)."""

    def __init__(self, message: str, raw: Path | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.raw, self.reason = raw, reason


def cache_dir() -> Path:
    """The per-user cache folder: ``$XDG_CACHE_HOME/snnlab``, else ``~/.cache/snnlab``.
    Lesson 00 (where the data lives)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "snnlab"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder that holds (or will hold) ``MNIST/raw/``: argument, env var, or cache.
    Lesson 00."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get("SNNLAB_DATA_DIR"):
        return Path(os.environ["SNNLAB_DATA_DIR"]).expanduser()
    return cache_dir()


class MNIST(torchvision.datasets.MNIST):
    """torchvision's MNIST, with every image prepared once as a float tensor in [0, 1].

    ``dataset[i]`` is ``(image, label)`` with ``image`` of shape ``[1, size, size]``. Preparing
    all images up front (about 200 MB for the training set) makes each epoch fast on a CPU.
    ``size`` other than 28 resizes with bilinear interpolation (the autoencoder uses 32).
    Lesson 04.
    """

    def __init__(self, root: Path, train: bool, size: int = 28) -> None:
        super().__init__(str(root), train=train, download=False)
        images = self.data.unsqueeze(1).float().div_(255)  # [N, 1, 28, 28]
        if size != 28:
            images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
            images = images.clamp_(0.0, 1.0)
        self.images = images
        self.size = size

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], int(self.targets[index])


def missing_error(raw: Path, reason: str, folder: str = "pass root=...") -> MNISTNotFoundError:
    """The error for MNIST missing from ``raw``: where to put the files, and ``folder``, how
    to name another folder (the Python API's ``root=...``, or a command's option). Lesson 04."""
    names = "\n".join(f"  {raw / name}" for name in MNIST_FILES)
    return MNISTNotFoundError(
        f"MNIST was not found in {raw} and {reason}.\n"
        f"Put the four original MNIST files there:\n{names}\n"
        f"or set SNNLAB_DATA_DIR to a folder that holds MNIST/raw/ with them, or {folder}",
        raw=raw, reason=reason)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _damaged(path: Path, what: str) -> MNISTNotFoundError:
    return MNISTNotFoundError(f"{path} is damaged ({what}). Delete it and load again: snnlab "
                              "extracts or downloads it afresh (or put the original file there)")


def _check_idx(raw: Path, train: bool) -> None:
    """The extracted image and label files hold the right idx header and size (else a
    truncated or foreign file would fail deep inside torchvision, naming no file)."""
    count = TRAIN_SIZE if train else TEST_SIZE
    for kind, magic, header, item in (("images-idx3-ubyte", 2051, 16, 28 * 28),
                                      ("labels-idx1-ubyte", 2049, 8, 1)):
        path = raw / f"{'train' if train else 't10k'}-{kind}"
        with open(path, "rb") as file:
            start = file.read(8)
        found = struct.unpack(">ii", start) if len(start) == 8 else None
        if found != (magic, count):
            raise _damaged(path, f"its header is {start.hex() or 'empty'}, not the MNIST idx "
                                 f"header for {count} items (magic number {magic})")
        size = path.stat().st_size
        if size != header + count * item:
            raise _damaged(path, f"{size} bytes instead of {header + count * item}")


def _extract_into_cache(raw: Path) -> Path:
    """Check and extract the ``.gz`` files in ``raw`` into the cache; return the new root."""
    key = hashlib.sha1(str(raw.resolve()).encode()).hexdigest()[:12]
    root = cache_dir() / "extracted" / key
    target = root / "MNIST" / "raw"
    for name, md5 in MNIST_FILES.items():
        extracted = target / name.removesuffix(".gz")
        if extracted.exists():
            continue
        if _md5(raw / name) != md5:
            raise _damaged(raw / name, f"its md5 is {_md5(raw / name)}, not {md5}")
        target.mkdir(parents=True, exist_ok=True)
        partial = extracted.with_suffix(".partial")
        try:
            with gzip.open(raw / name, "rb") as source, open(partial, "wb") as sink:
                shutil.copyfileobj(source, sink)
        except (EOFError, gzip.BadGzipFile, zlib.error) as error:
            partial.unlink(missing_ok=True)
            raise _damaged(raw / name, f"not a complete gzip file: {error}") from None
        partial.replace(extracted)  # atomic, so an interrupted run never leaves half a file
    return root


def _download_into_cache(raw: Path) -> Path:
    """Download MNIST with torchvision into a scratch folder; once all four files are there,
    move them into ``<cache>/MNIST/raw/`` and return the cache. A download that fails is an
    MNISTNotFoundError about ``raw`` (the folder searched) and leaves nothing behind."""
    target = cache_dir() / "MNIST" / "raw"
    with tempfile.TemporaryDirectory(prefix="snnlab-mnist-") as scratch:
        try:
            torchvision.datasets.MNIST(scratch, train=False, download=True)  # fetches all four
        except Exception as error:  # network errors come in many types; none should leak
            raise missing_error(raw, f"could not be downloaded ({type(error).__name__})") from None
        target.mkdir(parents=True, exist_ok=True)
        for name in MNIST_FILES:
            extracted = name.removesuffix(".gz")
            partial = target / f"{extracted}.partial"
            shutil.move(Path(scratch) / "MNIST" / "raw" / extracted, partial)
            partial.replace(target / extracted)  # atomic: never half a file under its name
    return cache_dir()


def _check_size_and_seed(size: object, seed: object) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an int >= 8 (28 is MNIST's own size), got {size!r}")
    checks.integer("seed", seed)


def _has_extracted(raw: Path) -> bool:
    return all((raw / name.removesuffix(".gz")).exists() for name in MNIST_FILES)


def mnist(
    train: bool,
    root: str | os.PathLike | None = None,
    size: int = 28,
    subset: int | None = None,
    download: bool = True,
    seed: int = 0,
) -> Dataset:
    """The MNIST training (``train=True``, 60,000 images) or test set (10,000 images).

    Args:
        train: the training set if True, else the test set.
        root: folder holding ``MNIST/raw/`` (default: ``SNNLAB_DATA_DIR``, else the user cache).
        size: image side in pixels; 28 is the original, 32 suits the autoencoder.
        subset: if given, a class-balanced random subset of this many images (same for the same
            ``seed``): ``subset // 10`` per digit, the remainder going to the lowest digits.
        download: allow torchvision to download MNIST (into the user cache, never into
            ``root``) when it is not on disk.
        seed: seed for choosing the subset.

    Lesson 00 (getting the data); size=32 in lesson 06.
    """
    checks.boolean("train", train)
    checks.boolean("download", download)
    _check_size_and_seed(size, seed)
    check_subset("subset", subset, train)
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a folder path (str or pathlib.Path), got "
                        f"{type(root).__name__}")
    raw = data_root(root) / "MNIST" / "raw"
    if _has_extracted(raw):
        source = raw.parent.parent
    elif all((raw / name).exists() for name in MNIST_FILES):
        source = _extract_into_cache(raw)
    elif _has_extracted(cache_dir() / "MNIST" / "raw"):  # downloaded earlier
        source = cache_dir()
    elif not download:
        raise missing_error(raw, "download=False")
    else:
        source = _download_into_cache(raw)
    _check_idx(source / "MNIST" / "raw", train)
    dataset = MNIST(source, train=train, size=size)
    return dataset if subset is None else balanced_subset(dataset, subset, seed)


def check_subset(name: str, value: object, train: bool) -> None:
    """``value`` must be None or a subset size MNIST's training (``train``) or test set can
    give: an int from 10 (one image per digit) to the set's size. Checked before any file is
    read, so a command can say so before it starts. Lesson 04."""
    if value is None:
        return
    size, kind = (TRAIN_SIZE, "training") if train else (TEST_SIZE, "test")
    if isinstance(value, bool) or not isinstance(value, int) or not 10 <= value <= size:
        raise ValueError(f"{name} must be an int from 10 to {size} (at least one image per "
                         f"digit, at most the MNIST {kind} set), got {value!r}")


def balanced_subset(dataset: MNIST, num_images: int, seed: int = 0) -> Subset:
    """A seeded subset with (nearly) the same number of images of every digit. Lesson 04."""
    if isinstance(num_images, bool) or not isinstance(num_images, int) \
            or not 10 <= num_images <= len(dataset):
        raise ValueError(
            f"subset must be an int from 10 to {len(dataset)} (the data set's size), "
            f"got {num_images!r}"
        )
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for digit in range(10):
        take = num_images // 10 + (1 if digit < num_images % 10 else 0)
        candidates = (dataset.targets == digit).nonzero().flatten()
        if take > len(candidates):
            raise ValueError(f"subset={num_images} asks for {take} images of digit {digit}, "
                             f"but there are only {len(candidates)}")
        order = torch.randperm(len(candidates), generator=generator)[:take]
        chosen.append(candidates[order])
    indices = torch.cat(chosen).sort().values
    return Subset(dataset, indices.tolist())


def loaders(
    batch_size: int = 128,
    size: int = 28,
    subset: int | None = None,
    test_subset: int | None = None,
    root: str | os.PathLike | None = None,
    download: bool = True,
    seed: int = 0,
    num_workers: int = 0,
) -> tuple[DataLoader, DataLoader]:
    """Training and test DataLoaders of MNIST batches ``([B, 1, size, size], [B])``.

    The training loader shuffles (seeded); the test loader keeps the data set's order.
    The images already sit in memory as tensors, so ``num_workers=0`` is fastest on a CPU;
    ``pin_memory`` is on only when a CUDA GPU is there to copy to. Lesson 04.
    """
    checks.positive_int("batch_size", batch_size)
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError(f"num_workers must be an int >= 0, got {num_workers!r}")
    checks.boolean("download", download)
    _check_size_and_seed(size, seed)
    train_set = mnist(True, root=root, size=size, subset=subset, download=download, seed=seed)
    test_set = mnist(False, root=root, size=size, subset=test_subset, download=download, seed=seed)
    pin = torch.cuda.is_available()
    train_loader = DataLoader(
        train_set, batch_size=batch_size, shuffle=True, num_workers=num_workers,
        pin_memory=pin, generator=torch.Generator().manual_seed(seed),
    )
    test_loader = DataLoader(
        test_set, batch_size=batch_size, shuffle=False, num_workers=num_workers, pin_memory=pin
    )
    return train_loader, test_loader
