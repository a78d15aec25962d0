"""`load`: find, fetch, verify and parse one split of a dataset."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import catalog, checksums, cifar, download, idx, tarball
from .catalog import CIFAR10_MEMBERS, CIFAR10_TARBALL, Dataset
from .datadir import resolve_data_dir
from .errors import MalformedFileError, MissingDataError

SPLITS = ("train", "test")


def load(
    name: str,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) of one split of dataset `name`.

    Images are uint8, (N, 28, 28) for MNIST and Fashion-MNIST and
    (N, 32, 32, 3) HWC for CIFAR-10; labels are int64 (N,). Missing files are
    downloaded unless `download` is False, and every file is checked against
    its published SHA-256 before it is parsed.
    """
    ds = catalog.dataset(name)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    root = resolve_data_dir(data_dir)
    if ds.format == "idx":
        image_path, label_path = (_require(root, ds, f, download) for f in ds.files[split])
        return _read_idx_pair(ds, image_path, label_path)
    return cifar.read_batches(_require_cifar(root, ds, split, download))


def _require(root: Path, ds: Dataset, filename: str, allow_download: bool) -> Path:
    """Path of a verified copy of `filename`, downloading it if missing and allowed."""
    rel = ds.relpath(filename)
    path = root / rel
    expected = catalog.SHA256[rel]
    if not path.exists():
        url = download.mirror_url(rel) or download.upstream_url(ds.name, filename)
        if not allow_download:
            raise MissingDataError(path, url, "not found, and downloading is disabled (download=False)", expected)
        download.fetch(url, path, expected)
    checksums.verify(path, expected)
    return path


def _require_cifar(root: Path, ds: Dataset, split: str, allow_download: bool) -> list[Path]:
    """Verified batch paths of a CIFAR-10 split, unpacking the tarball if needed."""
    files = ds.files[split]
    missing = [f for f in files if not (root / ds.relpath(f)).exists()]
    tar_rel = ds.relpath(CIFAR10_TARBALL)
    tar_path = root / tar_rel
    if missing:
        if tar_path.exists():
            # A tarball placed by hand is unpacked, and left where it is.
            _unpack(root, ds, tar_path)
        elif allow_download and download.mirror() is None:
            download.fetch(download.upstream_url(ds.name, CIFAR10_TARBALL), tar_path, catalog.SHA256[tar_rel])
            _unpack(root, ds, tar_path)
            # Only the unpacked batches are used from now on; keeping another
            # 170 MB copy of them helps nobody.
            tar_path.unlink()
        elif download.mirror() is None:
            raise MissingDataError(
                tar_path,
                download.upstream_url(ds.name, CIFAR10_TARBALL),
                f"it is needed to unpack {root / ds.relpath(missing[0])}, and downloading is "
                "disabled (download=False); a tarball saved there is unpacked by the next load",
                catalog.SHA256[tar_rel],
            )
        # With a mirror the loose batches are fetched one by one below.
    return [_require(root, ds, f, allow_download) for f in files]


def _unpack(root: Path, ds: Dataset, tar_path: Path) -> None:
    checksums.verify(tar_path, catalog.SHA256[ds.relpath(CIFAR10_TARBALL)])
    wanted = {}
    for member in CIFAR10_MEMBERS:
        dest = root / ds.relpath(member)
        if not dest.exists():
            wanted[member] = (dest, catalog.SHA256[ds.relpath(member)])
    tarball.extract_verified(tar_path, wanted)


def _read_idx_pair(ds: Dataset, image_path: Path, label_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = idx.read_idx(image_path)
    labels = idx.read_idx(label_path)
    if images.dtype != np.uint8 or images.shape[1:] != ds.image_shape or images.ndim != 1 + len(ds.image_shape):
        raise MalformedFileError(
            image_path, f"expected uint8 images of shape (N, {', '.join(map(str, ds.image_shape))}), "
            f"found {images.dtype} {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise MalformedFileError(label_path, f"expected a 1-D uint8 label array, found {labels.dtype} {labels.shape}")
    if len(labels) != len(images):
        raise MalformedFileError(label_path, f"{len(labels)} labels for the {len(images)} images of {image_path.name}")
    if labels.size and labels.max() >= len(ds.classes):
        raise MalformedFileError(label_path, f"label {labels.max()} outside 0-{len(ds.classes) - 1}")
    return images, labels.astype(np.int64)
