"""Where an adversarial perturbation dies out: its relative change at every stage of a network.

    python -m analysis.damping                       # CNN, surrogate SNN and Brian2 on the existing runs
    python -m analysis.damping --models cnn snn converted bio     # and the converted SNN (slow: T = 100)
    python -m analysis.damping --models cnn snn --n 100 --eps 0.05 0.1
    python -m analysis.damping --from-sweep results/sweeps/leak_sweep.json   # the converged models over seeds

Sharmin et al. name two causes of SNN robustness: Poisson input discretization
and the LIF neuron damping a perturbation layer by layer where ReLU passes it
on linearly. This measures both. For clean images x and perturbed x + d, at
each stage f (input intensities, input spike trains, every hidden layer, the
output), :func:`analysis.measurement.relative_change` is

    sum_n ||f(x_n + d_n) - f(x_n)||_1  /  sum_n ||f(x_n)||_1

L1, because on binary spike trains it is exactly the number of spikes that
appeared or vanished over the number of clean spikes; pooled over examples,
because a layer that is nearly silent on a few examples would dominate a mean
of per-example ratios. The clean and perturbed passes share their random draws
(common random numbers: same torch seed; for Brian2 the same sampler seed and
every pixel drawing each step, see :class:`analysis.measurement.Brian2Target`), so the change is
the perturbation's own effect. The Poisson noise floor, the same measure
between two independent draws of clean x, is reported next to it: a change
far below the floor is buried in the encoding's own noise.

Three perturbations of one L-inf size eps: ``fgsm`` (white-box on the model
itself; EOT over Poisson draws; the Brian2 network's is crafted on its torch
twin), ``transfer`` (FGSM crafted on a source CNN, the same d for every model:
the fair comparison between models, and a black-box attack), and ``random``
(random signs, the control). Writes ``damping.json``, ``examples.npz`` (images
for the gallery), ``raster.npz`` (one Brian2 example) and the figure
``damping.png/.pdf`` to ``--out``; each (model, eps) is cached under ``cache/``.
The measurement is :func:`analysis.measurement.evaluate`; this module picks the models and
writes the results out.

``--from-sweep SUMMARY|POINTS_FOLDER`` measures nothing: every sweep point already holds this measurement, so
it reads the converged leak sweep's reference models (the CNN, the SNN at leak 0.99 and T 8, Brian2 at tau_exc
100 ms; 60,000 training images, 1,000 test images, one model per seed) from a sweep summary or from the
points folder (``results/sweeps/points``, while the sweep runs), pools them over seeds
(:mod:`analysis.damping_seeds`: mean and 95 % t-interval over seeds of every change, ratio and gain) and
writes ``converged.json`` and the figure ``converged.png/.pdf`` to ``--out``. It stops with an error when
there is no such point.
"""
from __future__ import annotations

import argparse
import functools
import time
from pathlib import Path

import numpy as np
import torch

import imagesets

from analysis.defaults import DEFAULT_RUNS, FULL_LEVELS, RESULTS, SOURCES
from analysis.measurement import Brian2Target, evaluate_cached, load_test, shared_deltas, subject
from networks.devices import add_torch_device_option, torch_device
from runstore.cli import Parser, pixel_eps, existing_dir, exit_with, positive_int
from runstore.files import save_json, save_npz
from runstore.provenance import provenance
from runstore.locks import run_lock


def gain(res: dict, delta: str = "transfer") -> float | None:
    """Output change over input change: above 1 the network amplifies the perturbation."""
    d = res["deltas"].get(delta) or res["deltas"]["fgsm"]
    first, out = d["change"][res["stages"][0]]["value"], d["change"]["output"]["value"]
    return None if not first or out is None else out / first


# --- a raster of the Brian2 network ------------------------------------------------
def record_raster(run, image: np.ndarray, seed: int = 0) -> dict:
    """Input, exc and inh spikes of the frozen Brian2 network on one image (runtime
    device, numpy target: no compilation). Quiet presentations are repeated with the
    usual boost, as :func:`bio.frozen.spike_counts` does."""
    import dataclasses

    from brian2 import mV, ms, prefs
    from brian2 import seed as brian_seed

    from bio import parameters as P
    from bio.devices import get_runner
    from bio.network import DiehlCookNetwork, intensities

    v = Brian2Target(Path(run), seed, progress=False)
    get_runner("runtime", v.config, 1)    # switches Brian2 to its runtime device
    target = prefs.codegen.target
    prefs.codegen.target = "numpy"
    cfg = dataclasses.replace(v.config, rest_ms=0.0)   # frozen examples start from rest: no rest period
    try:
        # One loaded example; the presenter shows it again, brighter, while it stays quiet.
        net = DiehlCookNetwork(cfg, 1, mode="frozen", standalone=False)
        net.stimulus.values[:] = intensities(image[None])
        net.syn.w = v.w.ravel()
        net.exc.theta = v.theta * mV
        brian_seed(seed)
        for attempt in range(P.MAX_REPEATS + 1):
            net.net.run(cfg.present_ms * ms, namespace={})
            if int(net.presenter.count[0]) >= P.MIN_SPIKES:
                break
    finally:
        prefs.codegen.target = target
    boost = float(net.presenter.rep[0]) * float(P.RATE_BOOST / P.Hz)
    start = attempt * cfg.present_ms
    out = {}
    for group, mon in (("input", net.input_mon), ("exc", net.exc_mon), ("inh", net.inh_mon)):
        t = np.asarray(mon.t[:] / ms)
        last = t >= start - 1e-9   # the kept (last) presentation, times from its start
        out[f"{group}_i"], out[f"{group}_t"] = np.asarray(mon.i[:], np.int64)[last], t[last] - start
    return {**out, "image": image, "boost_hz": np.float64(boost), "present_ms": np.float64(v.config.present_ms),
            "n_exc": np.int64(v.config.n_exc), "assignments": v.assignments}


# --- CLI ---------------------------------------------------------------------------
def parse_args(argv=None):
    p = Parser(prog="python -m analysis.damping", description=__doc__.split("\n\n")[0],
               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    for kind, path in DEFAULT_RUNS.items():
        p.add_argument(f"--{kind}", default=str(path), help=f"the {kind} run directory")
    p.add_argument("--source", default=None,
                   help="transfer source CNN (default: the first present of " + ", ".join(map(str, SOURCES)) + ")")
    p.add_argument("--models", nargs="+", default=["cnn", "snn", "bio"], choices=list(DEFAULT_RUNS),
                   help="converted (T=100) is left out by default: ~12 min on one busy core for n=200")
    p.add_argument("--eps", type=pixel_eps, nargs="+", default=[0.1])
    p.add_argument("--n", type=positive_int, default=200, help="test images (the first N)")
    p.add_argument("--eot", type=positive_int, default=4, help="Poisson draws averaged per gradient of a spiking model")
    p.add_argument("--levels", type=int, default=FULL_LEVELS, help="input quantization levels (256: none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads")
    add_torch_device_option(p)
    p.add_argument("--data-dir", type=existing_dir, default=None)
    p.add_argument("--out", default=str(RESULTS / "damping"))
    p.add_argument("--from-sweep", metavar="SUMMARY_OR_POINTS", default=None,
                   help="measure nothing: pool the converged reference models of a sweep summary "
                        "(results/sweeps/leak_sweep.json) or points folder (results/sweeps/points) over seeds into "
                        "OUT/converged.json and OUT/converged.png; the model, eps and --n options are not used")
    args = p.parse_args(argv)
    if args.n < 1 or args.eot < 1 or args.levels < 2 or any(not 0 < e <= 1 for e in args.eps):
        p.error("need --n >= 1, --eot >= 1, --levels >= 2 and every --eps in (0, 1]")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    with run_lock(args.out, what="damping run"):   # one process writes this folder at a time
        return from_sweep(args) if args.from_sweep else damping(args)


def from_sweep(args) -> dict:
    """The converged models over seeds from a sweep's points (analysis.damping_seeds), written to
    OUT/converged.json with the figure OUT/converged.png/.pdf."""
    from analysis.damping_figures import converged_figure
    from analysis.damping_seeds import converged_damping, read_points
    from analysis.saved_results import pooled_text

    source, out = Path(args.from_sweep), Path(args.out)
    data = converged_damping(read_points(source), source=str(source))
    used = [source / f"{name}.json" for m in data["models"].values() for name in m["points"]] \
        if source.is_dir() else [source]
    data["provenance"] = provenance({"from_sweep": str(source), "out": str(out)}, used)
    save_json(out / "converged.json", data)
    converged_figure(data, out / "converged")
    for m in data["models"].values():
        t = m["deltas"].get("transfer") or m["deltas"]["fgsm"]
        print(f"{m['label']}: seeds {m['seeds']}, n {m['n']}, gain {pooled_text(t['gain'], fmt='.3f')} "
              f"({m['interval']})")
    print(f"wrote {out / 'converged.json'} and {out / 'converged.png'}")
    return data


def damping(args) -> dict:
    torch.set_num_threads(args.threads)
    device = torch_device(args.torch_device)
    out = Path(args.out)
    x, y = load_test(args.n, args.data_dir)
    source_dir = Path(args.source) if args.source else next((s for s in SOURCES if (s / "model.pt").exists()), None)
    source = subject("cnn", source_dir, device=device) if source_dir and (source_dir / "model.pt").exists() \
        else None
    notes = [] if source else ["no source CNN: no transfer perturbation"]
    data = {"settings": {k: v for k, v in vars(args).items()}, "source": str(source_dir) if source else None,
            "n": len(x), "models": {}, "notes": notes}
    examples = {"x": x[:8].numpy()}
    t_start = time.perf_counter()
    for eps in args.eps:
        # one transfer and one random perturbation for every model at this eps, crafted only if a model needs it
        shared = functools.cache(lambda eps=eps: shared_deltas(x, y, eps, args.seed, source))
        for kind in args.models:
            run = Path(getattr(args, kind))
            need = "weights.npz" if kind == "bio" else "model.pt"
            if not (run / need).exists():
                notes.append(f"{kind}: {run} has no {need}; skipped")
                print(notes[-1])
                continue
            res, adv = evaluate_cached(out / "cache", kind, run, x, y, eps, eot=args.eot, levels=args.levels,
                                       seed=args.seed, source_dir=source_dir, shared=shared, device=device)
            data["models"].setdefault(kind, {})[f"{eps:g}"] = res
            examples.update({f"{kind}__{k}__eps{eps:g}": v for k, v in adv.items()})
            print(f"{res['label']}: clean {100 * res['clean_accuracy']:.1f}%, " + ", ".join(
                f"{n} {100 * d['adv_accuracy']:.1f}%" for n, d in res["deltas"].items())
                + f"; gain {gain(res) or float('nan'):.2f}; {res['seconds']:.0f} s", flush=True)
    data["seconds"] = time.perf_counter() - t_start
    data["provenance"] = provenance(args, [source_dir] + [getattr(args, kind) for kind in data["models"]])
    if "bio" in data["models"]:
        save_npz(out / "raster.npz", **record_raster(args.bio, x[0, 0].numpy().ravel(), args.seed))
    save_json(out / "damping.json", data)
    save_npz(out / "examples.npz", **examples)
    from analysis.damping_figures import damping_figure
    damping_figure(data, out / "damping")
    print(f"wrote {out / 'damping.json'} and {out / 'damping.png'}")
    return data


if __name__ == "__main__":
    exit_with(main, user_errors=(imagesets.DatasetError,))
