"""Speed and memory of the Brian2 network, measured in one run.

    python -m benchmarks.bio_speed [--sizes 100 400] [--examples 1000] [--runtime-examples 40]

Seconds per training example (cpp_standalone: one compiled binary re-run per
chunk; runtime: Brian2's runtime mode, one ``run()`` per chunk), seconds per
frozen example, compile time and peak memory (the Python process and the
standalone binary). Real MNIST training images; the first chunk of each
standalone configuration also compiles, so it is timed apart. Writes
``benchmarks/results/bio_speed.json`` and prints a markdown table.
"""
from __future__ import annotations

import json
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np

import imagesets
from bio.devices import RuntimeRunner, get_runner
from bio.frozen import spike_counts
from bio.network import intensities
from bio.parameters import NetworkConfig
from runstore.cli import Parser, existing_dir, exit_with

OUT = Path(__file__).parent / "results"


def _peak_mb(who):
    return resource.getrusage(who).ru_maxrss / 1024.0


def train_standalone(cfg, images, chunk, seed=0):
    """Chunks as bio.train_stdp runs them: quiet examples are shown again at once,
    so a chunk of ``chunk`` presentations finishes at most that many examples."""
    t0 = time.perf_counter()
    runner = get_runner("cpp_standalone", cfg, chunk, mode="train")
    build = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    w, theta = 0.3 * rng.random((784, cfg.n_exc)), np.full(cfg.n_exc, 20.0)
    x = intensities(images)
    spent, done, presented, spikes, rep = 0.0, 0, 0, 0, 0
    while len(x) - done >= chunk:
        t1 = time.perf_counter()
        res = runner.run(x[done:done + chunk], w, theta, seed=seed, keys=np.arange(done, done + chunk), rep0=rep)
        spent += time.perf_counter() - t1
        sch = res.schedule
        w, theta, rep = res.w, res.theta_mV, int(sch.next_rep[0])
        done, presented = done + int(sch.done[0]), presented + chunk
        spikes += int(res.exc_presented.sum())
    return {"build_s": build, "sec_per_example": spent / done, "sec_per_presentation": spent / presented,
            "examples": done, "presentations": presented, "exc_spikes_per_presentation": spikes / presented}, w, theta


def train_runtime(cfg, images, seed=0):
    import brian2

    brian2.device.reinit()
    brian2.set_device("runtime")
    runner = RuntimeRunner(cfg, len(images), mode="train")
    rng = np.random.default_rng(seed)
    w, theta = 0.3 * rng.random((784, cfg.n_exc)), np.full(cfg.n_exc, 20.0)
    x = intensities(images)
    runner.run(x, w, theta, seed=0)   # warm-up: Cython compilation is cached afterwards
    t1 = time.perf_counter()
    runner.run(x, w, theta, seed=1)
    return {"sec_per_presentation": (time.perf_counter() - t1) / len(images), "presentations": len(images)}


def main(argv=None):
    p = Parser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 400])
    p.add_argument("--examples", type=int, default=1000, help="training examples per standalone measurement")
    p.add_argument("--chunk", type=int, default=500)
    p.add_argument("--frozen-examples", type=int, default=1000)
    p.add_argument("--runtime-examples", type=int, default=20, help="0 skips the runtime mode")
    p.add_argument("--data-dir", type=existing_dir, default=None)
    p.add_argument("--out", default=str(OUT / "bio_speed.json"))
    args = p.parse_args(argv)
    x, _ = imagesets.load("mnist", "train", data_dir=args.data_dir)
    xt, _ = imagesets.load("mnist", "test", data_dir=args.data_dir)
    rows = []
    for n_exc in args.sizes:
        cfg = NetworkConfig(n_exc=n_exc)
        row = {"n_exc": n_exc}
        sa, w, theta = train_standalone(cfg, x[:args.examples], min(args.chunk, args.examples))
        row["standalone_train"] = sa
        t0 = time.perf_counter()
        spike_counts(xt[:args.frozen_examples], w, theta, cfg, seed=1, chunk_size=args.chunk,
                     repeat_low=False, progress=False)
        row["standalone_frozen_sec_per_example_incl_build"] = (time.perf_counter() - t0) / args.frozen_examples
        t0 = time.perf_counter()
        spike_counts(xt[:args.frozen_examples], w, theta, cfg, seed=2, chunk_size=args.chunk,
                     repeat_low=False, progress=False)
        row["standalone_frozen_sec_per_example"] = (time.perf_counter() - t0) / args.frozen_examples
        if args.runtime_examples:
            row["runtime_train"] = train_runtime(cfg, x[:args.runtime_examples])
            row["ratio_runtime_over_standalone"] = (row["runtime_train"]["sec_per_presentation"]
                                                   / sa["sec_per_presentation"])
        from bio import devices
        devices._CACHE.clear()
        rows.append(row)
        print(json.dumps(row), flush=True)
    result = {
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "load_average_1min_at_end": os.getloadavg()[0], "python": platform.python_version()},
        "brian2": __import__("brian2").__version__,
        "peak_rss_mb_python": _peak_mb(resource.RUSAGE_SELF),
        "peak_rss_mb_standalone_binary": _peak_mb(resource.RUSAGE_CHILDREN),
        "rows": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print("\n| exc neurons | standalone train ms/ex | ms/presentation | runtime ms/presentation | ratio | "
          "frozen ms/ex | compile s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        rt = r.get("runtime_train", {}).get("sec_per_presentation")
        print(f"| {r['n_exc']} | {1e3 * r['standalone_train']['sec_per_example']:.2f} | "
              f"{1e3 * r['standalone_train']['sec_per_presentation']:.2f} | "
              f"{'-' if rt is None else f'{1e3 * rt:.1f}'} | "
              f"{'-' if rt is None else format(r['ratio_runtime_over_standalone'], '.1f') + 'x'} | "
              f"{1e3 * r['standalone_frozen_sec_per_example']:.2f} | {r['standalone_train']['build_s']:.0f} |")
    print(f"peak memory: python {result['peak_rss_mb_python']:.0f} MB, "
          f"standalone binary {result['peak_rss_mb_standalone_binary']:.0f} MB")
    return result


if __name__ == "__main__":
    exit_with(main, user_errors=(imagesets.DatasetError,))
