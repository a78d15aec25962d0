"""Brian2 speed of this checkout against another commit, measured in one run.

    python -m benchmarks.against_commit HEAD~1                    # 100 and 400 exc, 2 rounds
    python -m benchmarks.against_commit 3548b96 --sizes 400 1600 --examples 2000 --rounds 3

Both sides run their own ``benchmarks.bio_speed`` (the other commit from a git worktree under
``build/bench/``, each side with its own Brian2 build cache), one size at a time, alternating which
side goes first from round to round so that a drift in the machine's load hits both alike. Per side
and size the best round counts (the least disturbed), and the figures are given as ratios other /
this (above 1: this checkout is faster) with the 1-minute load average before each measurement; a
ratio is only meaningful when that load stayed below the cores' count minus one.

Both sides also keep what they computed (the trained weights and thetas, and the frozen spike counts
of the test images), and the table says whether they are the same, bit for bit: a speed-up that
changes a spike changes every result downstream. Writes ``benchmarks/results/against_COMMIT_nSIZES.json``
and prints a markdown table.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from runstore.cli import Parser, exit_with, positive_int

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).parent / "results"
# Each figure's place in a side's row; an older commit may lack one (sec_per_presentation came later):
# it then reads n/a rather than stopping the comparison.
FIGURES = {"train ms/ex": ("train", "sec_per_example"), "train ms/presentation": ("train", "sec_per_presentation"),
           "frozen ms/ex": ("frozen_sec_per_example",)}


def figure(row: dict, where: tuple) -> float | None:
    """One figure of a side's row, in ms, or None where that side does not record it."""
    for key in where:
        if not isinstance(row, dict) or key not in row:
            return None
        row = row[key]
    return 1e3 * row


def best(values) -> float | None:
    values = [v for v in values if v is not None]
    return min(values) if values else None


def show(v, fmt="{:.2f}") -> str:
    return "n/a" if v is None else fmt.format(v)
RESULTS = ("w", "theta_mV", "exc", "inh", "input")

# Run in each side's tree: only functions that both sides have (benchmarks.bio_speed's training loop,
# bio.frozen's runner and counts), timed as bio_speed times them: the build apart.
MEASURE = """
import json, sys, time, numpy as np, imagesets
from benchmarks.bio_speed import train_standalone
from bio.frozen import frozen_runner, spike_counts
from bio.parameters import NetworkConfig
size, examples, frozen, data_dir, out = json.loads(sys.argv[1])
x, _ = imagesets.load("mnist", "train", data_dir=data_dir)
xt, _ = imagesets.load("mnist", "test", data_dir=data_dir)
cfg = NetworkConfig(n_exc=size)
train, w, theta = train_standalone(cfg, x[:examples], min(500, examples))
frozen_runner(cfg, frozen, 500, 1, "cpp_standalone")
t0 = time.perf_counter()
r = spike_counts(xt[:frozen], w, theta, cfg, seed=1, chunk_size=500, repeat_low=False, progress=False)
row = {"train": train, "frozen_sec_per_example": (time.perf_counter() - t0) / frozen}
np.savez(out + ".npz", w=w, theta_mV=theta, exc=r.exc, inh=r.inh, input=r.input)
open(out + ".json", "w").write(json.dumps(row))
"""


def git(*args, cwd=ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def worktree(rev: str) -> tuple[str, Path]:
    """The commit's full hash and a clean checkout of it (made once, reused)."""
    try:
        sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"error: {rev!r} is not a commit of this repository (git rev-parse failed)")
    path = ROOT / "build" / "bench" / sha[:10]
    if not (path / "benchmarks" / "bio_speed.py").exists():
        if path.exists():
            raise SystemExit(f"error: {path} exists but has no benchmarks/bio_speed.py; remove it and retry")
        git("worktree", "add", "--detach", str(path), sha)
        if not (path / "benchmarks" / "bio_speed.py").exists():
            raise SystemExit(f"error: commit {sha[:10]} has no benchmarks/bio_speed.py to compare with")
    return sha, path


def settled_load(max_load: float, max_wait_s: float) -> float:
    """The 1-minute load average once it is below ``max_load`` (the previous measurement's own load decays),
    or after ``max_wait_s`` seconds, whichever comes first."""
    deadline = time.monotonic() + max_wait_s
    while os.getloadavg()[0] >= max_load and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def measure(tree: Path, build: Path, size: int, args) -> tuple[dict, dict]:
    """One side's figures for one size, and what it computed (arrays named in RESULTS)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "measured")
        cmd = [sys.executable, "-c", MEASURE,
               json.dumps([size, args.examples, args.frozen_examples, args.data_dir, out])]
        env = {**os.environ, "SNN_BUILD_DIR": str(build), "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
        load = settled_load(args.max_load, args.max_wait)
        proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(f"error: the benchmark failed in {tree}:\n{proc.stderr[-3000:]}")
        row = json.loads(Path(out + ".json").read_text())
        with np.load(out + ".npz") as z:
            computed = {k: z[k] for k in RESULTS}
    return {"load_1min_before": load, **{k: figure(row, w) for k, w in FIGURES.items()}, "raw": row}, computed


def main(argv=None) -> dict:
    p = Parser(prog="python -m benchmarks.against_commit", description=__doc__.split("\n\n")[0])
    p.add_argument("rev", help="the commit to compare with (e.g. HEAD~1, a hash, a branch)")
    p.add_argument("--sizes", type=positive_int, nargs="+", default=[100, 400])
    p.add_argument("--examples", type=positive_int, default=2000, help="training examples per measurement")
    p.add_argument("--frozen-examples", type=positive_int, default=1000)
    p.add_argument("--rounds", type=positive_int, default=2)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--max-load", type=float, default=1.0,
                   help="wait before each measurement until the 1-minute load average is below this")
    p.add_argument("--max-wait", type=float, default=300.0, help="but no longer than this many seconds")
    args = p.parse_args(argv)
    sha, tree = worktree(args.rev)
    here = git("rev-parse", "HEAD") + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")
    sides = {"this": (ROOT, ROOT / "build" / "bench" / "build-this"),
             "other": (tree, ROOT / "build" / "bench" / f"build-{sha[:10]}")}
    runs = {side: {s: [] for s in args.sizes} for side in sides}
    computed = {side: {} for side in sides}
    for k in range(args.rounds):
        for size in args.sizes:
            for side in (("this", "other") if k % 2 == 0 else ("other", "this")):
                figures, computed[side][size] = measure(*sides[side], size, args)
                runs[side][size].append(figures)
                print(f"round {k + 1}, {size} exc, {side}: "
                      + ", ".join(f"{f} {show(runs[side][size][-1][f])}" for f in FIGURES), flush=True)
    rows = []
    for size in args.sizes:
        top = {side: {f: best(r[f] for r in runs[side][size]) for f in FIGURES} for side in sides}
        rows.append({"n_exc": size, "this": top["this"], "other": top["other"],
                     "ratio_other_over_this": {f: top["other"][f] / top["this"][f]
                                               if top["other"][f] is not None and top["this"][f] else None
                                               for f in FIGURES},
                     "max_load_1min": max(r["load_1min_before"] for side in sides for r in runs[side][size]),
                     "differs": [k for k in RESULTS
                                 if not np.array_equal(computed["this"][size][k], computed["other"][size][k])]})
    result = {"this": here, "other": sha, "cores": os.cpu_count(), "settings": vars(args), "rows": rows, "runs": runs}
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"against_{sha[:10]}_n{'-'.join(map(str, args.sizes))}.json"   # one file per commit and sizes
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nthis checkout ({here[:10]}) against {sha[:10]}; best of {args.rounds} rounds; ratio = other / this\n")
    print("| exc neurons | " + " | ".join(f"{f} (this / other / ratio)" for f in FIGURES)
          + " | max load | same weights and counts |")
    print("|---" * (len(FIGURES) + 3) + "|")
    for r in rows:
        print(f"| {r['n_exc']} | " + " | ".join(f"{show(r['this'][f])} / {show(r['other'][f])} / "
                                                 f"{show(r['ratio_other_over_this'][f], '{:.2f}x')}" for f in FIGURES)
              + f" | {r['max_load_1min']:.1f} | {'yes' if not r['differs'] else 'no: ' + ', '.join(r['differs'])} |")
    print(f"wrote {path}")
    return result


if __name__ == "__main__":
    exit_with(main)
