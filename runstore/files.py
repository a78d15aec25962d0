"""Atomic, pickle-free storage of arrays, JSON and torch checkpoints, checked on the way back in.

Everything is written to a temporary file in the same directory and moved into place with
``os.replace``, so an interrupted run never leaves a torn file; files get the permissions of a
file created normally (0666 less the umask, usually 0644), so a lab-mate can read a shared run.
Arrays load with ``allow_pickle=False`` and checkpoints with ``torch.load(weights_only=True)``, so a
tampered file cannot execute code. A file that cannot be read (truncated, not the format its name
says) raises :class:`BadFileError`, which names the file; :func:`check_array` and
:func:`check_tensors` refuse wrong shapes, dtypes and non-finite values the same way.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np


class BadFileError(ValueError):
    """A file that exists but cannot be used: its path and what is wrong."""

    def __init__(self, path, problem: str):
        self.path, self.problem = Path(path), problem
        super().__init__(f"{path}: {problem}")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, write) -> None:
    """Call ``write(binary file)`` on a temporary file beside ``path``, then move it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())   # mkstemp's 0600 would hide results from the group
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _must_exist(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")


def save_npz(path, **arrays) -> None:
    for name, a in arrays.items():
        if np.asarray(a).dtype == object:
            raise TypeError(f"array {name!r} has dtype object; it would need pickle")
    atomic_write(path, lambda fh: np.savez(fh, **arrays))


def load_npz(path) -> dict:
    path = Path(path)
    _must_exist(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        # object arrays need pickle; a truncated file is a bad zip or ends early
        raise BadFileError(path, f"not a readable plain numeric .npz file ({type(e).__name__}: {e}); "
                                 f"refusing to load it") from e


def save_json(path, obj) -> None:
    data = (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()
    atomic_write(path, lambda fh: fh.write(data))


def load_json(path):
    path = Path(path)
    _must_exist(path)
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadFileError(path, f"not valid JSON ({e}); it was cut off or overwritten") from e


def relative_path(path) -> str:
    """``path`` as saved results record it: relative to the working directory (the project root, where
    the CLIs run, and against which readers resolve it again) when it lies below it, else as given."""
    p = Path(path)
    if p.is_absolute():
        for here, there in ((Path.cwd(), p), (Path.cwd().resolve(), p), (Path.cwd().resolve(), p.resolve())):
            try:
                return str(there.relative_to(here))
            except ValueError:
                pass
    return str(p)


def save_torch(path, obj) -> None:
    import torch

    atomic_write(path, lambda fh: torch.save(obj, fh))


def load_torch(path, device="cpu"):
    """A torch checkpoint, loaded without executing code (tensors, numbers, strings and containers only)."""
    import torch

    path = Path(path)
    _must_exist(path)
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as e:   # torn or foreign bytes fail in many ways (zip, struct, unpickler): all mean unusable
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BadFileError(path, f"not a readable torch checkpoint ({type(e).__name__}: {first})") from e


# --- what a loaded array must be ------------------------------------------------------------------
def check_array(path, name: str, a, shape: tuple | None = None, kind: str = "f", finite: bool = True) -> np.ndarray:
    """``a`` as an array, if it has ``shape`` (None entries match any length), dtype kind ``kind``
    ('f' float, 'i' integer, 'b' bool; floats accept integers too) and only finite values."""
    a = np.asarray(a)
    if a.dtype.kind not in (kind + ("iu" if kind == "f" else "u" if kind == "i" else "")):
        raise BadFileError(path, f"{name} has dtype {a.dtype}, expected {'float' if kind == 'f' else kind}")
    if shape is not None and (a.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, a.shape))):
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise BadFileError(path, f"{name} has shape {a.shape}, expected {want}")
    if finite and a.dtype.kind == "f" and not np.isfinite(a).all():
        bad = ~np.isfinite(a)
        where = np.argwhere(bad)[0].tolist()
        raise BadFileError(path, f"{name} holds {int(bad.sum())} non-finite value(s) (NaN or inf; the first at "
                                 f"index {where}); the run that wrote it diverged or the file was damaged")
    return a


def check_keys(path, arrays: dict, names) -> None:
    missing = [n for n in names if n not in arrays]
    if missing:
        raise BadFileError(path, f"lacks {', '.join(missing)} (has {', '.join(sorted(arrays)) or 'nothing'})")


def first_nonfinite(state: dict, prefix: str = ""):
    """(name, count) of the first floating tensor in a (nested) dict with NaN or inf values, else None."""
    import torch

    for key, value in state.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            found = first_nonfinite(value, name + ".")
            if found:
                return found
        elif isinstance(value, torch.Tensor) and value.is_floating_point() and not torch.isfinite(value).all():
            return name, int((~torch.isfinite(value)).sum())
    return None


def check_tensors(path, state: dict, prefix: str = "") -> None:
    """Every floating tensor in a (nested) checkpoint dict is finite."""
    found = first_nonfinite(state, prefix)
    if found:
        raise BadFileError(path, f"{found[0]} holds {found[1]} non-finite value(s) (NaN or inf); the run that "
                                 f"wrote it diverged or the file was damaged")
