"""Where a saved result came from: the commit, the command line, the settings and the runs it read.

Every CLI's writer adds ``"provenance": provenance(config=..., inputs=[...])`` to the JSON it saves, so a
result can be traced back (and flagged in REPORT.md when it predates the code that would make it now,
analysis.provenance_table). :func:`provenance` is the one function that builds that record:

* ``commit`` / ``dirty``: the git commit of the checkout the code ran from, and whether its tracked files
  outside ``results/`` differed from that commit (results are outputs, not code);
* ``command``: ``python -m MODULE ARGS`` as typed, when the result was made through a CLI's entry point
  (:func:`runstore.cli.run_main` calls :func:`start`); None for a library call (a test, a sweep point run
  in a worker process, whose sweep's own summary carries the command);
* ``config``: the settings it ran with; ``inputs``: the runs it read, relative to the project root;
* ``started`` / ``finished`` (UTC, ISO 8601) and ``wall_seconds`` of this invocation, from the start of its
  process (imports included; a resumed run counts only its own part); for a library call, of the work it
  timed itself (``started``), else None;
* ``workflow``: the Snakemake rule and study (``SNN_RULE``, ``SNN_STUDY``, set by workflow/Snakefile), or
  None for a command typed by hand.

It imports nothing from the project (runstore is the bottom floor) and needs git only where there is one: a
copy without ``.git`` records ``commit`` None.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import os
import subprocess
import sys
import time
from pathlib import Path

from runstore.files import relative_path

ROOT = Path(__file__).resolve().parents[1]   # the checkout the project's code runs from
RULE_ENV, STUDY_ENV = "SNN_RULE", "SNN_STUDY"
OUTPUTS = "results"   # tracked outputs: their changes do not make the code dirty

_clock = {"started": None, "command": None}


def process_started() -> float:
    """When this process started (time.time() scale), from Linux's /proc; now where there is none."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return time.time() - (uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.time()


def start(module: str, argv: list[str]) -> None:
    """Called by the CLI entry point (runstore.cli.run_main) as it starts ``python -m module argv``: the
    clock of ``wall_seconds`` and the command line every result of this process records."""
    _clock.update(started=process_started(), command=["python", "-m", module, *map(str, argv)])


def entry_module(main) -> str:
    """The module a CLI's ``main`` belongs to, by its import name also when it runs as ``__main__``."""
    if main.__module__ != "__main__":
        return main.__module__
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return spec.name if spec else Path(sys.argv[0]).stem


def git(*args: str, root: Path = ROOT) -> str | None:
    """``git args`` in ``root``: its output, or None without git or outside a checkout."""
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.cache
def git_state(root: Path = ROOT) -> dict:
    """{"commit", "dirty"} of the checkout at ``root`` (once per process: the code does not change under a
    running process, and a sweep writes many points)."""
    commit = git("rev-parse", "HEAD", root=root)
    if commit is None:
        return {"commit": None, "dirty": None}
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", f":(exclude){OUTPUTS}", root=root)
    return {"commit": commit, "dirty": bool(changed)}


def iso(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(timespec="seconds")


def plain(value):
    """``value`` as JSON can hold it: paths as strings, namespaces and tuples unpacked."""
    if isinstance(value, argparse.Namespace):
        value = vars(value)
    elif callable(getattr(value, "to_dict", None)):   # bio.parameters.NetworkConfig: with its units' numbers
        value = value.to_dict()
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def provenance(config=None, inputs=(), started: float | None = None) -> dict:
    """The provenance record of a result being saved now: ``config`` its settings (a dict or an argparse
    namespace), ``inputs`` the run directories or files it read, ``started`` when its own work began
    (time.time(); default: when the command's process started, None for a library call)."""
    now = time.time()
    began = _clock["started"] if started is None else started
    rule = os.environ.get(RULE_ENV)
    return {**git_state(), "command": _clock["command"], "config": plain(config),
            "inputs": sorted({relative_path(p) for p in inputs if p}),
            "started": began and iso(began), "finished": iso(now),
            "wall_seconds": began and round(now - began, 3),
            "workflow": {"rule": rule, "study": os.environ.get(STUDY_ENV)} if rule else None}
