"""Where the compiled Brian2 network spends its time: a perf profile of the standalone binary.

    python -m benchmarks.profile_bio --run runs/stdp-mnist-n400-s0   # frozen evaluation of 1,000 test images
    python -m benchmarks.profile_bio --n-exc 100 --mode train --examples 2000

Runs the pass once to compile (not profiled), then again under ``perf record`` (Linux perf; the
kernel must let users profile their own processes, ``perf_event_paranoid`` <= 2), and reports each
generated function's share of the binary's samples (``main``). A share is a fraction of the binary's
own time, so it holds on a loaded machine too, unlike an absolute timing. Writes
``benchmarks/results/profile_MODE_nN.json`` and prints a markdown table.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import imagesets
from runstore.cli import Parser, existing_dir, exit_with

OUT = Path(__file__).parent / "results"
# What a generated function does, for the table (Brian2 names code objects after their group and role).
ROLES = {"exp": "scalar exp() calls (before bio.devices.VECTOR_MATH: the v step, one per neuron and step)",
         "_ZGV": "libmvec's vector exp(): the exponential-Euler step of v, 8 neurons per call",
         "_run_normalise": "weight normalisation at each slot start (training)",
         "_run_inputs_spike_thresholder": "Poisson input: one random number per input pixel and step",
         "_run_input_exc_pre_codeobject": "input -> exc synapses: ge += w per input spike",
         "_run_input_exc_pre_push_spikes": "input -> exc spike queue",
         "_run_exc_stateupdater": "exc state update (v, ge, gi, theta, timer)",
         "_run_inh_stateupdater": "inh state update",
         "_run_exc_spike_thresholder": "exc threshold test", "_run_inh_spike_thresholder": "inh threshold test"}


def workload(args) -> str:
    """The Python that runs the pass in a child process (so that perf sees the binary it starts)."""
    return f"""
import numpy as np, imagesets
from bio.parameters import NetworkConfig
cfg = NetworkConfig(n_exc={args.n_exc})
rng = np.random.default_rng(0)
w, theta = 0.3 * rng.random((784, cfg.n_exc)), np.full(cfg.n_exc, 20.0)
if {args.run!r}:
    from runstore.files import load_npz
    d = load_npz({args.run!r} + "/weights.npz")
    w, theta = d["w"], d["theta_mV"]
if {args.mode!r} == "frozen":
    from bio.frozen import spike_counts
    x, _ = imagesets.load("mnist", "test", data_dir={args.data_dir!r})
    spike_counts(x[:{args.examples}], w, theta, cfg, seed=1, chunk_size={args.chunk}, progress=False)
else:
    from bio.devices import get_runner
    from bio.network import intensities
    x, _ = imagesets.load("mnist", "train", data_dir={args.data_dir!r})
    runner = get_runner("cpp_standalone", cfg, {args.chunk}, mode="train")
    xs = intensities(x[:{args.examples}])
    for k in range(0, len(xs) - {args.chunk} + 1, {args.chunk}):
        res = runner.run(xs[k:k + {args.chunk}], w, theta, seed=0, keys=np.arange(k, k + {args.chunk}), rep0=0)
        w, theta = res.w, res.theta_mV
"""


def shares(perf_data: Path) -> dict[str, float]:
    """Per symbol, its share of the samples of the ``main`` binary (all of its self time)."""
    out = subprocess.run(["perf", "report", "-i", str(perf_data), "--comm", "main", "--no-children",
                          "--sort", "symbol", "--stdio", "-g", "none"], capture_output=True, text=True, check=True).stdout
    raw = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+\[[.k]\]\s+(\S+)", line)
        if m:
            raw[m.group(2)] = raw.get(m.group(2), 0.0) + float(m.group(1))
    total = sum(raw.values())
    if not total:
        raise SystemExit("error: perf recorded no samples of the standalone binary ('main')")
    grouped: dict[str, float] = {}
    for sym, v in raw.items():
        key = "exp" if sym.startswith(("__ieee754_exp", "exp@", "__exp")) else sym
        grouped[key] = grouped.get(key, 0.0) + v / total
    return dict(sorted(grouped.items(), key=lambda kv: -kv[1]))


def main(argv=None) -> dict:
    p = Parser(prog="python -m benchmarks.profile_bio", description=__doc__.split("\n\n")[0])
    p.add_argument("--n-exc", type=int, default=400)
    p.add_argument("--mode", choices=["frozen", "train"], default="frozen")
    p.add_argument("--examples", type=int, default=1000)
    p.add_argument("--chunk", type=int, default=500)
    p.add_argument("--run", default=None, help="a bio.train_stdp run whose weights to use (default: random "
                   "initial weights); its --n-exc must match")
    p.add_argument("--frequency", type=int, default=499, help="perf samples per second")
    p.add_argument("--data-dir", type=existing_dir, default=None)
    args = p.parse_args(argv)
    if shutil.which("perf") is None:
        raise SystemExit("error: this benchmark needs Linux perf (e.g. apt install linux-perf)")
    code = workload(args)
    subprocess.run([sys.executable, "-c", code], check=True)          # compile once, unprofiled
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "perf.data"
        rec = subprocess.run(["perf", "record", "-F", str(args.frequency), "-o", str(data), "--",
                              sys.executable, "-c", code], capture_output=True, text=True)
        if rec.returncode:
            raise SystemExit(f"error: perf record failed (perf_event_paranoid too strict?):\n{rec.stderr[-2000:]}")
        s = shares(data)
    result = {"settings": vars(args), "share_of_binary_time": s}
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"profile_{args.mode}_n{args.n_exc}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{args.mode}, {args.n_exc} exc, {args.examples} examples: share of the standalone binary's time\n")
    print("| function | share | what it does |\n|---|---|---|")
    for sym, v in s.items():
        if v >= 0.01:
            role = next((r for k, r in ROLES.items() if sym.startswith(k)), "")
            print(f"| `{sym}` | {100 * v:.1f} % | {role} |")
    print(f"wrote {path}")
    return result


if __name__ == "__main__":
    exit_with(main, user_errors=(imagesets.DatasetError,))
