"""Reader for gzipped IDX files (the MNIST and Fashion-MNIST format)."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import MalformedFileError

# IDX type codes (third byte of the magic number); multi-byte types are big-endian.
_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: Path | str) -> np.ndarray:
    """The array stored in the gzipped IDX file at `path` (native byte order, writable)."""
    path = Path(path)
    try:
        with gzip.open(path, "rb") as f:
            return _read(f, path)
    except (OSError, EOFError, zlib.error) as exc:
        # gzip.BadGzipFile is an OSError; a missing file is not malformed.
        if isinstance(exc, FileNotFoundError):
            raise
        raise MalformedFileError(path, f"not a readable gzip file ({exc})") from exc


def _read(f, path: Path) -> np.ndarray:
    head = f.read(4)
    if len(head) < 4:
        raise MalformedFileError(path, f"IDX header truncated ({len(head)} of 4 magic bytes)")
    magic = int.from_bytes(head, "big")
    if head[:2] != b"\0\0" or head[2] not in _DTYPES or head[3] == 0:
        raise MalformedFileError(path, f"bad IDX magic number 0x{magic:08x}: not an IDX file")
    dtype, ndim = _DTYPES[head[2]], head[3]
    raw_dims = f.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise MalformedFileError(path, f"IDX header truncated (magic 0x{magic:08x} promises {ndim} dimensions)")
    shape = struct.unpack(f">{ndim}I", raw_dims)
    try:
        array = np.empty(shape, dtype)
    except (MemoryError, ValueError) as exc:
        raise MalformedFileError(path, f"IDX header claims an impossible shape {shape}") from exc
    # Read straight into the array: one allocation, and the result is writable
    # (np.frombuffer over bytes would be read-only).
    view = memoryview(array.reshape(-1).view(np.uint8))
    filled = 0
    while filled < array.nbytes:
        n = f.readinto(view[filled:])
        if not n:
            raise MalformedFileError(
                path,
                f"IDX data truncated: header says shape {shape} of {dtype} "
                f"({array.nbytes} bytes) but only {filled} bytes follow",
            )
        filled += n
    if f.read(1):
        raise MalformedFileError(path, f"IDX file has data beyond the {array.nbytes} bytes of shape {shape}")
    return array if dtype.isnative else array.astype(dtype.newbyteorder("="))
