"""Reader for CIFAR-10 python batches."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from . import safepickle
from .errors import MalformedFileError

_PIXELS = 32 * 32 * 3


def read_batch(path: Path | str) -> tuple[np.ndarray, np.ndarray]:
    """(data uint8 (N, 3072) in CHW order, labels int64 (N,)) of one batch file."""
    path = Path(path)
    batch = safepickle.load(path)
    if not isinstance(batch, dict):
        raise MalformedFileError(path, f"expected a dict, found {type(batch).__name__}")
    # Python 2 batches have bytes keys; a Python 3 re-pickle may have str keys.
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _PIXELS:
        found = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise MalformedFileError(path, f"'data' must be a uint8 array of shape (N, {_PIXELS}), found {found}")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise MalformedFileError(path, f"'labels' is not a list of integers ({exc})") from exc
    if labels.shape != (data.shape[0],):
        raise MalformedFileError(path, f"{labels.shape} labels for {data.shape[0]} images")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise MalformedFileError(path, f"labels outside 0-9 (range {labels.min()}..{labels.max()})")
    return data, labels


def read_batches(paths: Sequence[Path]) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (N, 32, 32, 3) in HWC order and labels int64 (N,) of several batches."""
    parts = [read_batch(p) for p in paths]
    total = sum(len(labels) for _, labels in parts)
    images = np.empty((total, 32, 32, 3), np.uint8)
    start = 0
    for data, labels in parts:
        stop = start + len(labels)
        # Rows store all red values, then green, then blue (CHW).
        images[start:stop] = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        start = stop
    return images, np.concatenate([labels for _, labels in parts])
