"""Where compiled Brian2 standalone projects live, and the lock that lets processes share them.

A project is compiled once per configuration and re-run for every chunk, so
the cache is shared by every process of a run (and by sweep workers). On a
cluster, point ``SNN_BUILD_DIR`` at a directory per machine or at a shared
file system that supports ``flock``.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


def build_root() -> Path:
    """Where compiled standalone projects are kept (``SNN_BUILD_DIR`` overrides)."""
    env = os.environ.get("SNN_BUILD_DIR")
    if env:
        return Path(env)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "snn-robustness" / "brian2-build"


@contextlib.contextmanager
def file_lock(path: Path):
    """Exclusive lock on ``path`` (created if missing) across processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
