"""Frozen evaluation one example at a time against batched copies, measured in one run.

    python -m benchmarks.frozen_batch [--run /path/to/trained_run] [--examples 1000] [--copies 1 4 16]
                                      [--device cpp_standalone|cuda_standalone]

Each setting evaluates the same test images with the same seed; since an
example's input spikes depend only on (seed, example), every setting must
return the same spike counts, and the script checks that it does. The first
call of each setting compiles and is timed apart. Without ``--run`` the
weights are random (same sizes, similar spike counts: the cost is per input
spike and per time step, not per weight value). Writes
``benchmarks/results/frozen_batch.json`` and prints a markdown table.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import imagesets
from bio import devices
from bio.frozen import frozen_runner, load_trained, spike_counts
from bio.parameters import NetworkConfig

OUT = Path(__file__).parent / "results"


def load_network(run: str | None, n_exc: int):
    if run:
        return (*load_trained(run), str(run))
    rng = np.random.default_rng(0)
    return NetworkConfig(n_exc=n_exc), 0.3 * rng.random((784, n_exc)), np.full(n_exc, 20.0), "random weights"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", default=None, help="a trained bio.train_stdp run directory (default: random weights)")
    p.add_argument("--n-exc", type=int, default=400, help="network size when no --run is given")
    p.add_argument("--examples", type=int, default=1000)
    p.add_argument("--chunk", type=int, default=1000, help="examples per compiled run")
    p.add_argument("--copies", type=int, nargs="+", default=[1, 4, 16])
    p.add_argument("--device", default="cpp_standalone")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default=str(OUT / "frozen_batch.json"))
    args = p.parse_args(argv)
    cfg, w, theta, source = load_network(args.run, args.n_exc)
    x, _ = imagesets.load("mnist", "test", data_dir=args.data_dir)
    x = x[:args.examples]
    rows, reference = [], None
    for copies in args.copies:
        kw = dict(seed=1, chunk_size=args.chunk, copies=copies, repeat_low=False, progress=False, device=args.device)
        t0 = time.perf_counter()
        frozen_runner(cfg, len(x), args.chunk, copies, args.device)   # compiles this configuration
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = spike_counts(x, w, theta, cfg, **kw)
        sec = (time.perf_counter() - t0) / len(x)
        reference = reference or res
        same = bool(np.array_equal(res.exc, reference.exc) and np.array_equal(res.inh, reference.inh)
                    and np.array_equal(res.input, reference.input))
        rows.append({"copies": copies, "sec_per_example": sec, "build_s": build, "same_counts_as_first": same,
                     "exc_spikes_per_example": float(res.exc.sum(1).mean())})
        print(json.dumps(rows[-1]), flush=True)
        devices._CACHE.clear()
    base = rows[0]["sec_per_example"]
    for r in rows:
        r["speedup_over_first"] = base / r["sec_per_example"]
    result = {"machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                          "load_average_1min": os.getloadavg()[0], "python": platform.python_version()},
              "brian2": __import__("brian2").__version__, "device": args.device, "network": source,
              "n_exc": cfg.n_exc, "examples": len(x), "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{args.device}, {cfg.n_exc} exc, {len(x)} examples, {source}")
    print("| copies | ms/example | speed-up | same counts | compile s |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['copies']} | {1e3 * r['sec_per_example']:.2f} | {r['speedup_over_first']:.2f}x | "
              f"{'yes' if r['same_counts_as_first'] else 'NO'} | {r['build_s']:.0f} |")
    if not all(r["same_counts_as_first"] for r in rows):
        raise SystemExit("batched counts differ from one example at a time: a bug")
    return result


if __name__ == "__main__":
    main()
