"""One process per run directory, and builds that are never re-linked under a running binary.

:func:`run_lock` holds an advisory ``flock`` on ``DIR/.lock`` for as long as a run writes ``DIR``;
the lock file names its holder (PID, host, start time, command line), so a second process on the
same ``--out`` is refused with a line that says who has it. The kernel drops a ``flock`` when its
process dies, however it dies, so a stale lock of a killed run never blocks the next one (the lock
file stays, naming the dead holder, and is simply taken over). Locks are re-entrant within a
process: a run that starts a sub-run, or a sweep point that trains its own model, may lock a
directory it already holds. On a cluster the directories must be on a file system whose ``flock``
works across machines (local disks, NFSv4, Lustre with ``flock`` mounted).

:func:`file_lock` is the plain blocking lock, exclusive or shared: a Brian2 build takes it
exclusively while it generates and links its binary, and every run of the binary takes it shared.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

LOCK_NAME = ".lock"
_held: dict[str, list] = {}   # resolved lock path -> [open file, depth]: this process's run locks


class RunBusyError(RuntimeError):
    """The directory is being written by another live process."""


def _holder() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join(sys.argv)}


def _describe(path: Path) -> str:
    try:
        h = json.loads(path.read_text())
        return f"PID {h['pid']} on {h['host']} (since {h['started']}: {h['command']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextlib.contextmanager
def run_lock(directory, wait: bool = False, what: str = "run"):
    """Hold ``directory``'s lock for the block (creating the directory). Another live holder: with
    ``wait`` block until it is done, else raise :class:`RunBusyError` naming it."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:   # a typo, a read-only place, a file in the way
        raise type(e)(e.errno, f"cannot create the output folder {directory} ({e.strerror})") from None
    path = directory / LOCK_NAME
    key = str(path.resolve())
    if key in _held:   # re-entrant: this process holds it already
        _held[key][1] += 1
        try:
            yield path
        finally:
            _held[key][1] -= 1
        return
    fh = open(path, "a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise RunBusyError(f"{directory} is in use by {_describe(path)}: a second {what} there would mix "
                                   f"their results; wait for it to finish, or use another --out") from None
            print(f"waiting for {directory}, in use by {_describe(path)}", file=sys.stderr, flush=True)
            fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(_holder()) + "\n")
        fh.flush()
        os.fchmod(fh.fileno(), 0o644)
        _held[key] = [fh, 1]
        try:
            yield path
        finally:
            del _held[key]
            fcntl.flock(fh, fcntl.LOCK_UN)
    finally:
        fh.close()


@contextlib.contextmanager
def file_lock(path, shared: bool = False):
    """A blocking lock on ``path`` (created if missing) across processes; ``shared`` for readers."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield fh
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def try_exclusive(fh) -> bool:
    """Turn a held lock on ``fh`` exclusive if no other process holds it now (never waits)."""
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
