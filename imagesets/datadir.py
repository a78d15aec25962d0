"""Where the data directory is."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "SNN_DATA_DIR"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The data directory: `data_dir`, else $SNN_DATA_DIR, else a per-user cache.

    The cache is $XDG_CACHE_HOME/snn-robustness/data or
    ~/.cache/snn-robustness/data. Nothing is created here; downloads create
    folders as they need them.
    """
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME")
    # The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
    if cache and os.path.isabs(cache):
        base = Path(cache)
    else:
        base = Path.home() / ".cache"
    return base / "snn-robustness" / "data"
