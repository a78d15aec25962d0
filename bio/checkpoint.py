"""Atomic, pickle-free storage of arrays and JSON next to a run.

Everything is written to a temporary file in the same directory and moved
into place with ``os.replace``, so an interrupted run never leaves a torn
file; arrays are loaded with ``allow_pickle=False`` so a tampered file
cannot execute code.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np


def _atomic_write(path: Path, write) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save_npz(path, **arrays) -> None:
    for name, a in arrays.items():
        if np.asarray(a).dtype == object:
            raise TypeError(f"array {name!r} has dtype object; it would need pickle")
    _atomic_write(Path(path), lambda fh: np.savez(fh, **arrays))


def load_npz(path) -> dict:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError as e:  # object arrays, or not an npz at all
        raise ValueError(f"{path} is not a plain numeric .npz file ({e}); refusing to load it") from e


def save_json(path, obj) -> None:
    data = (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()
    _atomic_write(Path(path), lambda fh: fh.write(data))


def load_json(path) -> dict:
    with open(path) as fh:
        return json.load(fh)
