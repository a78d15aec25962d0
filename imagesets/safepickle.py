"""A pickle reader that only rebuilds numpy arrays and plain Python data.

The CIFAR-10 batches are pickles, and unpickling runs whatever callable the
file names. This unpickler resolves globals from a fixed allow-list instead
of importing them, so a tampered batch fails loudly instead of running code.
"""

from __future__ import annotations

import codecs
import pickle
from pathlib import Path

import numpy as np

from .errors import DatasetError, MalformedFileError, UnsafePickleError

try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy 1.x
    from numpy.core.multiarray import _reconstruct


def _dtype(spec, align=False, copy=False):
    # Object dtypes would let a pickle smuggle arbitrary objects into an
    # array; the batches only ever hold uint8.
    dt = np.dtype(spec, align, copy)
    if dt.hasobject:
        raise pickle.UnpicklingError(f"refusing object dtype {dt!r}")
    return dt


def _latin1_encode(text, encoding="latin1"):
    # Python 3 writes bytes at protocol 2 as _codecs.encode(text, "latin1"),
    # so batches re-pickled by Python 3 need it; nothing else is admitted.
    if not isinstance(text, str) or codecs.lookup(encoding).name != "iso8859-1":
        raise pickle.UnpicklingError("_codecs.encode is admitted only as (str, 'latin1')")
    return text.encode("latin1")


def _empty_bytes():
    # Python 3 writes b"" at protocol 2 as a bare call to bytes().
    return b""


# What the original Python 2 batches reference (numpy.core.multiarray._reconstruct,
# numpy.ndarray, numpy.dtype; see pickletools.dis), the numpy 2 spelling of the
# first, and the two helpers above for Python 3 re-pickles.
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _dtype,
    ("_codecs", "encode"): _latin1_encode,
    ("__builtin__", "bytes"): _empty_bytes,
    ("builtins", "bytes"): _empty_bytes,
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler whose globals come only from ALLOWED_GLOBALS."""

    def __init__(self, file, path: Path | str = "<stream>", **kwargs):
        super().__init__(file, **kwargs)
        self.path = Path(path)

    def find_class(self, module: str, name: str):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            allowed = ", ".join(sorted(f"{m}.{n}" for m, n in ALLOWED_GLOBALS))
            raise UnsafePickleError(
                self.path,
                f"refusing to unpickle global {module}.{name}; this loader only admits {allowed}. "
                "The file is not a genuine CIFAR-10 batch: delete it and load again.",
            ) from None

    def persistent_load(self, pid):
        raise UnsafePickleError(self.path, "refusing a pickle with persistent ids")


def load(path: Path | str):
    """Unpickle the file at `path` with RestrictedUnpickler (Python 2 str -> bytes)."""
    path = Path(path)
    with open(path, "rb") as f:
        try:
            return RestrictedUnpickler(f, path, encoding="bytes").load()
        except DatasetError:
            raise
        except Exception as exc:
            raise MalformedFileError(path, f"not a readable pickle ({type(exc).__name__}: {exc})") from exc
