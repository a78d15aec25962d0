"""Where compiled Brian2 standalone projects live, and the lock that lets processes share them.

A project is compiled once per configuration and re-run for every chunk, so
the cache is shared by every process of a run (and by sweep workers). On a
cluster, point ``SNN_BUILD_DIR`` at a directory per machine or at a shared
file system that supports ``flock``.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

# What make compares: the generated sources, headers and the makefile itself.
_MAKE_INPUTS = {".cpp", ".h", ".cu", ".cuh"}
_MAKEFILES = {"makefile", "win_makefile"}


def build_root() -> Path:
    """Where compiled standalone projects are kept (``SNN_BUILD_DIR`` overrides)."""
    env = os.environ.get("SNN_BUILD_DIR")
    if env:
        return Path(env)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "snn-robustness" / "brian2-build"


def _make_inputs(directory: Path) -> dict[Path, tuple[int, bytes]]:
    out = {}
    for f in directory.rglob("*"):
        if f.is_file() and (f.suffix in _MAKE_INPUTS or f.name in _MAKEFILES):
            out[f] = (f.stat().st_mtime_ns, f.read_bytes())
    return out


@contextlib.contextmanager
def unchanged_sources_keep_their_time(directory):
    """Give every generated file whose content the block did not change its old modification time.

    brian2 rewrites main.cpp, objects.cpp and the makefile on every build, identical or not, and
    each object depends on the makefile: every process that opened a cached project recompiled all
    of it (14 s at 400 exc). With the old times back, make rebuilds only what changed."""
    directory = Path(directory)
    before = _make_inputs(directory) if directory.is_dir() else {}
    yield
    for f, (mtime, content) in before.items():
        with contextlib.suppress(FileNotFoundError):
            if f.stat().st_mtime_ns != mtime and f.read_bytes() == content:
                os.utime(f, ns=(mtime, mtime))
