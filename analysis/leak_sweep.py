"""Robustness and perturbation damping against the membrane leak.

    python -m analysis.leak_sweep --quick                       # small models, under 30 min on 2 cores
    python -m analysis.leak_sweep --seeds 5 --estimate          # converged models (the default): the cost first
    python -m analysis.leak_sweep --leaks 1 0.9 --tau-exc 100 20 --seeds 5 --jobs 2
    python -m analysis.leak_sweep --dset cifar10 --seeds 3 --estimate   # CIFAR-10 (hybrid SNN, CPU recipe): the cost

The surrogate-gradient SNN is trained at each per-step leak (1 = IF, lower =
stronger leak), the Brian2 Diehl & Cook network is retrained with STDP at each
exc membrane time constant, and a CNN (ReLU) with the same training budget is
the reference. Every model gets, at ``--eps``: clean accuracy, white-box FGSM
on itself (EOT over Poisson draws; the Brian2 network's crafted on its torch
twin), FGSM transferred from the source CNN (black-box), a random-sign control,
and the relative change per layer, measured as in analysis.damping
(:func:`analysis.measurement.evaluate`). ``--suite full`` adds PGD, APGD-CE/DLR
and the worst case per example, ``--ensemble ends`` the surrogate ensemble at
the sweep's ends and reference, ``--protocols swept reference`` the attacks
crafted at the reference setting and scored at the swept one
(analysis.sweep_points.with_measurements).

``--dset cifar10`` runs the same sweep on CIFAR-10 with networks.train's CPU
recipe: one CNN per seed, the surrogate SNN the hybrid (that CNN converted at
T 8, then a BPTT epoch at each leak; its reference leak 1, the recipe's), eps
4/255 and 8/255 (a point each), no Brian2 network, written to
results/sweeps-cifar10 (docs/sweeps.md, "CIFAR-10").

Each point is an independent job (analysis.sweep_points: ``--jobs N`` at a time
or on a dask scheduler's workers, ``--seeds N`` models per point, a progress bar
with the expected wall time), cached as ``OUT/points/NAME.json`` with its trained
model in ``OUT/runs/``, so an interrupted sweep resumes; analysis.timestep_sweep
writes to the same folder and shares its points. Writes ``OUT/leak_sweep.json``
and the figure ``OUT/leak_sweep.png/.pdf``.
"""
from __future__ import annotations

import argparse

import torch

import imagesets

from analysis.defaults import REFS
from analysis.sweep_jobs import make_job
from analysis.sweep_options import add_common, settings
from analysis.sweep_points import sweep, with_measurements
from runstore.cli import Parser, exit_with, positive_float, positive_int, unit_interval


# The leaks swept by default: CIFAR-10's are issue 30's (its hybrid SNN's reference is leak 1, the recipe's IF).
LEAKS = {"mnist": [1.0, 0.99, 0.95, 0.9, 0.8], "cifar10": [1.0, 0.99, 0.95, 0.9]}


def parse_args(argv=None):
    p = Parser(prog="python -m analysis.leak_sweep", description=__doc__.split("\n\n")[0],
               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--leaks", type=unit_interval, nargs="*", default=None,
                   help="per-step leak of the surrogate SNN (1 = IF) (default: " + "; ".join(
                       f"{d} {' '.join(map(str, v))}" for d, v in LEAKS.items()) + ")")
    # tau 20 ms needs dt 0.1 ms (analysis.defaults.DT_PER_TAU): ~25x the training and 8x the evaluation of tau 100,
    # about 10 CPU-hours per converged seed with the suite, so the converged series stops at 50 (--tau-exc 100 50 20)
    p.add_argument("--tau-exc", type=positive_float, nargs="*", default=None,
                   help="exc membrane time constants of the Brian2 network (ms); none: --tau-exc with no value "
                        "(default: 100 50; --quick 100 50 20; MNIST only)")
    p.add_argument("-t", "--timesteps", type=positive_int, default=None,
                   help="time steps of the SNN (default: the dataset's reference, 8)")
    add_common(p)
    args = p.parse_args(argv)
    if args.leaks is None:
        args.leaks = list(LEAKS[args.dset])
    if args.timesteps is None:
        args.timesteps = REFS[args.dset]["T"]
    if args.dset != "mnist":
        if args.tau_exc:
            p.error("--tau-exc: the Brian2 network runs on MNIST only")
        args.tau_exc = []
    if args.tau_exc is None:
        args.tau_exc = [100.0, 50.0, 20.0] if args.quick else [100.0, 50.0]
    if any(not 0 < v <= 1 for v in args.leaks) or any(v <= 0 for v in args.tau_exc):
        p.error("leaks must lie in (0, 1] and --tau-exc values be > 0")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(1)
    s = settings(args)
    jobs = with_measurements([make_job("cnn", s)], None, args)
    jobs += with_measurements([make_job("snn", s, leak=v, T=args.timesteps) for v in args.leaks], "leak", args)
    jobs += with_measurements([make_job("bio", s, tau_exc_ms=v) for v in args.tau_exc], "tau_exc_ms", args)
    return sweep("leak_sweep", jobs, args, s, {"leaks": args.leaks, "tau_exc_ms": args.tau_exc, "T": args.timesteps})


if __name__ == "__main__":
    exit_with(main, user_errors=(imagesets.DatasetError,))
