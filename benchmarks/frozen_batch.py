"""Frozen evaluation one example at a time against batched copies, measured in one run.

    python -m benchmarks.frozen_batch [--run /path/to/trained_run] [--examples 1000] [--copies 1 4 16]
                                      [--device cpp_standalone|cuda_standalone] [--torch-device auto|cpu|cuda]

Each setting evaluates the same test images with the same seed; since an
example's input spikes depend only on (seed, example), every setting must
return the same spike counts, and the script checks that it does. The first
call of each setting compiles and is timed apart. Without ``--run`` the
weights are random (same sizes, similar spike counts: the cost is per input
spike and per time step, not per weight value). The torch twin of the same
network is timed too (forward, and forward + backward as an attack needs it),
on ``--torch-device``. Writes
``benchmarks/results/frozen_batch.json`` and prints a markdown table.
"""
from __future__ import annotations

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
from networks.devices import add_torch_device_option, torch_device
from networks.twin import DiehlCookTwin
from runstore.cli import Parser, existing_dir, exit_with

OUT = Path(__file__).parent / "results"


def load_network(run: str | None, n_exc: int):
    if run:
        return (*load_trained(run), str(run))
    rng = np.random.default_rng(0)
    return NetworkConfig(n_exc=n_exc), 0.3 * rng.random((784, n_exc)), np.full(n_exc, 20.0), "random weights"


def time_twin(cfg, w, theta, images, batch: int, device) -> dict:
    import torch

    twin = DiehlCookTwin(w, theta, cfg, rest=False, dtype=torch.float32).to(device)
    x = torch.as_tensor(images.reshape(len(images), -1), dtype=torch.float32, device=device) / 255.0
    out = {"device": str(device), "batch": batch, "examples": len(x)}
    for key, grad in (("forward_sec_per_example", False), ("forward_backward_sec_per_example", True)):
        twin(x[:2].requires_grad_(grad))           # warm-up (CUDA context, allocator)
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        sync()
        t0 = time.perf_counter()
        for start in range(0, len(x), batch):
            xb = x[start:start + batch].clone().requires_grad_(grad)
            with torch.set_grad_enabled(grad):
                exc = twin(xb)
                if grad:
                    exc.sum().backward()
        sync()
        out[key] = (time.perf_counter() - t0) / len(x)
    return out


def main(argv=None):
    p = Parser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", default=None, help="a trained bio.train_stdp run directory (default: random weights)")
    p.add_argument("--n-exc", type=int, default=400, help="network size when no --run is given")
    p.add_argument("--examples", type=int, default=1000)
    p.add_argument("--chunk", type=int, default=1000, help="examples per compiled run")
    p.add_argument("--copies", type=int, nargs="+", default=[1, 4, 16])
    p.add_argument("--device", default="cpp_standalone")
    p.add_argument("--twin-examples", type=int, default=200, help="0 skips timing the torch twin")
    p.add_argument("--twin-batch", type=int, default=100)
    add_torch_device_option(p)
    p.add_argument("--data-dir", type=existing_dir, default=None)
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
    twin = time_twin(cfg, w, theta, x[:args.twin_examples], args.twin_batch, torch_device(args.torch_device)) \
        if args.twin_examples else None
    base = rows[0]["sec_per_example"]
    for r in rows:
        r["speedup_over_first"] = base / r["sec_per_example"]
    result = {"machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                          "load_average_1min": os.getloadavg()[0], "python": platform.python_version()},
              "brian2": __import__("brian2").__version__, "device": args.device, "network": source,
              "n_exc": cfg.n_exc, "examples": len(x), "rows": rows, "twin": twin}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{args.device}, {cfg.n_exc} exc, {len(x)} examples, {source}")
    print("| copies | ms/example | speed-up | same counts | compile s |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['copies']} | {1e3 * r['sec_per_example']:.2f} | {r['speedup_over_first']:.2f}x | "
              f"{'yes' if r['same_counts_as_first'] else 'NO'} | {r['build_s']:.0f} |")
    if twin:
        print(f"torch twin on {twin['device']} (float32, batch {twin['batch']}): "
              f"{1e3 * twin['forward_sec_per_example']:.2f} ms/ex forward, "
              f"{1e3 * twin['forward_backward_sec_per_example']:.2f} ms/ex forward + backward")
    if not all(r["same_counts_as_first"] for r in rows):
        raise SystemExit("batched counts differ from one example at a time: a bug")
    return result


if __name__ == "__main__":
    exit_with(main, user_errors=(imagesets.DatasetError,))
