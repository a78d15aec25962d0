"""Brian2 speed of this checkout against another commit, measured in one run.

    python -m benchmarks.against_commit HEAD~1                    # 100 and 400 exc, 2 rounds
    python -m benchmarks.against_commit 3548b96 --sizes 400 1600 --examples 2000 --rounds 3

Both sides run their own ``benchmarks.bio_speed`` (the other commit from a git worktree under
``build/bench/``, each side with its own Brian2 build cache), one size at a time, alternating which
side goes first from round to round so that a drift in the machine's load hits both alike. Per side
and size the best round counts (the least disturbed), and the figures are given as ratios other /
this (above 1: this checkout is faster) with the 1-minute load average before each measurement; a
ratio is only meaningful when that load stayed below the cores' count minus one. Writes
``benchmarks/results/against_COMMIT.json`` and prints a markdown table.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).parent / "results"
FIGURES = {"train ms/ex": lambda r: 1e3 * r["standalone_train"]["sec_per_example"],
           "train ms/presentation": lambda r: 1e3 * r["standalone_train"]["sec_per_presentation"],
           "frozen ms/ex": lambda r: 1e3 * r["standalone_frozen_sec_per_example"]}


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


def measure(tree: Path, build: Path, size: int, args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speed.json"
        cmd = [sys.executable, "-m", "benchmarks.bio_speed", "--sizes", str(size), "--examples", str(args.examples),
               "--frozen-examples", str(args.frozen_examples), "--runtime-examples", "0", "--out", str(out)]
        if args.data_dir:
            cmd += ["--data-dir", args.data_dir]
        env = {**os.environ, "SNN_BUILD_DIR": str(build), "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
        load = os.getloadavg()[0]
        proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(f"error: the benchmark failed in {tree}:\n{proc.stderr[-3000:]}")
        row = json.loads(out.read_text())["rows"][0]
    return {"load_1min_before": load, **{k: f(row) for k, f in FIGURES.items()}, "raw": row}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.against_commit", description=__doc__.split("\n\n")[0])
    p.add_argument("rev", help="the commit to compare with (e.g. HEAD~1, a hash, a branch)")
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 400])
    p.add_argument("--examples", type=int, default=2000, help="training examples per measurement")
    p.add_argument("--frozen-examples", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)
    if args.rounds < 1 or args.examples < 1 or args.frozen_examples < 1:
        p.error("--rounds, --examples and --frozen-examples must be at least 1")
    sha, tree = worktree(args.rev)
    here = git("rev-parse", "HEAD") + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")
    sides = {"this": (ROOT, ROOT / "build" / "bench" / "build-this"),
             "other": (tree, ROOT / "build" / "bench" / f"build-{sha[:10]}")}
    runs = {side: {s: [] for s in args.sizes} for side in sides}
    for k in range(args.rounds):
        for size in args.sizes:
            for side in (("this", "other") if k % 2 == 0 else ("other", "this")):
                runs[side][size].append(measure(*sides[side], size, args))
                print(f"round {k + 1}, {size} exc, {side}: "
                      + ", ".join(f"{f} {runs[side][size][-1][f]:.2f}" for f in FIGURES), flush=True)
    rows = []
    for size in args.sizes:
        best = {side: {f: min(r[f] for r in runs[side][size]) for f in FIGURES} for side in sides}
        rows.append({"n_exc": size, "this": best["this"], "other": best["other"],
                     "ratio_other_over_this": {f: best["other"][f] / best["this"][f] for f in FIGURES},
                     "max_load_1min": max(r["load_1min_before"] for side in sides for r in runs[side][size])})
    result = {"this": here, "other": sha, "cores": os.cpu_count(), "settings": vars(args), "rows": rows, "runs": runs}
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"against_{sha[:10]}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nthis checkout ({here[:10]}) against {sha[:10]}; best of {args.rounds} rounds; ratio = other / this\n")
    print("| exc neurons | " + " | ".join(f"{f} (this / other / ratio)" for f in FIGURES) + " | max load |")
    print("|---" * (len(FIGURES) + 2) + "|")
    for r in rows:
        print(f"| {r['n_exc']} | " + " | ".join(f"{r['this'][f]:.2f} / {r['other'][f]:.2f} / "
                                                 f"{r['ratio_other_over_this'][f]:.2f}x" for f in FIGURES)
              + f" | {r['max_load_1min']:.1f} |")
    print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()
