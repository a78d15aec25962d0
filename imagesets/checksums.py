"""SHA-256 of data files, computed at most once per process per file version."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

from .errors import ChecksumError

_CHUNK = 1 << 20

# (real path, size, mtime, inode, device) -> hex digest. Hashing the CIFAR
# training batches takes a noticeable fraction of a second, and experiments
# load the same split many times; any rewrite of the file changes the key.
_digests: dict[tuple, str] = {}
_lock = threading.Lock()


def _key(path: Path) -> tuple:
    st = os.stat(path)
    return (os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


def sha256_copy(source, sink=None) -> str:
    """Hex SHA-256 of everything left in binary stream `source`, also written to `sink` if given."""
    digest = hashlib.sha256()
    while chunk := source.read(_CHUNK):
        digest.update(chunk)
        if sink is not None:
            sink.write(chunk)
    return digest.hexdigest()


def sha256_file(path: Path | str) -> str:
    """Hex SHA-256 of the file at `path`, from the per-process cache when unchanged."""
    path = Path(path)
    key = _key(path)
    with _lock:
        cached = _digests.get(key)
    if cached is not None:
        return cached
    with open(path, "rb") as f:
        digest = sha256_copy(f)
    # A file rewritten while it was being hashed must not be cached under
    # either its old or its new identity.
    if _key(path) == key:
        with _lock:
            _digests[key] = digest
    return digest


def remember(path: Path | str, digest: str) -> None:
    """Record the digest of a file this process has just written and hashed."""
    key = _key(Path(path))
    with _lock:
        _digests[key] = digest


def forget_all() -> None:
    """Drop every cached digest (for tests and for long-lived processes)."""
    with _lock:
        _digests.clear()


def verify(path: Path | str, expected: str) -> None:
    """Raise ChecksumError unless the file at `path` has SHA-256 `expected`."""
    actual = sha256_file(path)
    if actual != expected.lower():
        raise ChecksumError(path, expected, actual)


def write_verified(dest: Path, sha256: str, copy, mismatch) -> None:
    """Write ``dest`` through ``copy(out) -> hex digest`` so it appears only if verified.

    The bytes go to a hidden temporary file next to ``dest`` and are renamed
    into place only when the digest is ``sha256``; otherwise ``mismatch(actual)``
    (an exception) is raised and nothing is left under the final name.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            actual = copy(out)
            out.flush()
            # Without fsync a crash just after the rename could leave a
            # correctly named file with missing contents.
            os.fsync(out.fileno())
        if actual != sha256.lower():
            raise mismatch(actual)
        # mkstemp makes the file private; data files are meant to be shared.
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    remember(dest, actual)
