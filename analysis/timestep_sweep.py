"""Robustness and perturbation damping against time steps and input pre-quantization.

    python -m analysis.timestep_sweep --quick                   # small models, about 30 min on 2 cores
    python -m analysis.timestep_sweep --seeds 5 --estimate      # converged models (the default): the cost first
    python -m analysis.timestep_sweep -t 2 4 8 16 32 --present-ms 50 100 350 --bio-levels 2 4 8 16 256 --jobs 2
    python -m analysis.timestep_sweep --dset cifar10 --seeds 3 --estimate   # CIFAR-10 (CPU recipe): the cost

Sharmin et al.'s first cause of SNN robustness is the discretization of the
Poisson input: stronger with fewer time steps, and with inputs quantized to
few levels before encoding. Swept here, each against the baselines' settings
of the others (analysis.defaults.REF):

* the surrogate SNN trained with T time steps; the Brian2 network retrained
  with STDP at each presentation time (its analogue of T);
* the SNN, the Brian2 network and a CNN (is it the spikes, or just the
  quantization?) trained and tested on images pre-quantized to ``--levels``
  (``--bio-levels``) levels (256: the 8-bit originals); attacks perturb the
  original image and the quantizer, part of the model, passes their gradient
  straight through;
* the converted SNN (Sharmin et al. 2020: its robustness depends on the input
  pre-quantization, not on T), converted from the sweep's own CNN of the same
  seed and levels, at ``--converted-timesteps`` (256 levels) and at
  ``--converted-levels`` (at ``--converted-T``, its reference), attacked through
  its own surrogate and through the CNN (BPDA, the delta and attacks "bpda");
* Poisson against direct input (``--encodings``) for the surrogate SNN at the
  reference T: is it the Poisson encoder alone?

Points, their evaluation (``--suite``, ``--ensemble``, ``--protocols``), caching,
``--jobs`` and the output folder are those of analysis.leak_sweep (analysis.sweep_points; points shared with it). Writes
``OUT/timestep_sweep.json`` and ``OUT/timestep_sweep.png/.pdf`` (time steps: a column each for the
surrogate SNN, the Brian2 network and the converted SNN, BPDA a line of its own),
``OUT/quantization_sweep.png/.pdf`` (the converted SNN's levels series among them) and
``OUT/encoding.png/.pdf`` (Poisson against direct input) (analysis.sweep_figures).

``--dset cifar10`` (networks.train's CPU recipe; docs/sweeps.md, "CIFAR-10"):
the hybrid surrogate SNN (its seed's CNN converted, then BPTT; IF) at T 4, 8,
16; the converted SNN at T 16, 32, 64, 128 and, at its reference T 64,
pre-quantized to 4, 8, 256 levels, every one converted from its seed's one
CNN (the levels applied at the calibration and the input); direct input (the
recipe's) and no encoding series, no Brian2 network; eps 4/255 and 8/255.
"""
from __future__ import annotations

import argparse

import torch

import imagesets

from analysis.defaults import FULL_LEVELS, REFS, REF_CONVERTED_TS, SPIKING_ENCODING
from analysis.sweep_jobs import make_job
from analysis.sweep_options import add_common, settings
from analysis.sweep_points import sweep, with_measurements
from runstore.cli import Parser, exit_with, positive_float, positive_int, unit_interval


# Defaults per dataset of the options that differ (None on the command line). CIFAR-10: issue 30's series, the
# converted SNN's levels alone pre-quantized (--quantize converted), no Brian2 network, no encoding series (the
# recipe's direct input throughout).
SERIES = {"mnist": dict(timesteps=[2, 4, 8, 16], present_ms=[100.0, 200.0, 350.0], levels=[2, 4, 8, 16, 256],
                        quantize=["snn", "bio", "cnn", "converted"], converted_levels=[2, 4, 8, 256],
                        encodings=["poisson", "direct"]),
          "cifar10": dict(timesteps=[4, 8, 16], present_ms=[], levels=[4, 8, 256], quantize=["converted"],
                          converted_levels=[4, 8, 256], encodings=["direct"])}


def parse_args(argv=None):
    p = Parser(prog="python -m analysis.timestep_sweep", description=__doc__.split("\n\n")[0],
               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    def default(name):
        return "(default: " + "; ".join(f"{d} {' '.join(map(str, v[name])) or 'none'}" for d, v in SERIES.items()) + ")"
    p.add_argument("-t", "--timesteps", type=positive_int, nargs="*", default=None, help="SNN time steps " + default("timesteps"))
    p.add_argument("--present-ms", type=positive_float, nargs="*", default=None,
                   help="Brian2 presentation times (ms; MNIST only) " + default("present_ms"))
    p.add_argument("--levels", type=int, nargs="*", default=None,
                   help="input quantization levels of the SNN and the CNN (256: none) " + default("levels"))
    # 8 and 16 levels lie below the Brian2 network's resolution (a white pixel gives it ~22 +- 4.7
    # Poisson spikes in 350 ms, so neighbouring levels are 1.5 to 3 spikes apart), but they are where
    # an eps-sized step can cross a rounding boundary and grow: measured, not assumed away.
    p.add_argument("--bio-levels", type=int, nargs="*", default=None,
                   help="input quantization levels of the Brian2 network; None: those of --levels")
    p.add_argument("--quantize", nargs="*", default=None,
                   choices=["snn", "bio", "cnn", "converted"],
                   help="models trained and tested at each --levels (converted: at each --converted-levels) "
                        + default("quantize"))
    p.add_argument("--leak", type=unit_interval, default=None,
                   help="leak of the SNN (default: the dataset's reference, " + "; ".join(
                       f"{d} {r['leak']}" for d, r in REFS.items()) + ")")
    p.add_argument("--converted-timesteps", type=positive_int, nargs="*", default=[16, 32, 64, 128],
                   help="time steps of the converted SNN (256 levels; none: no converted T series)")
    p.add_argument("--converted-levels", type=int, nargs="*", default=None,
                   help="input quantization levels of the converted SNN (--quantize converted), each converted "
                        "from the CNN trained on images quantized to them (CIFAR-10: from the seed's one CNN, the "
                        "levels applied at the calibration and the input) " + default("converted_levels"))
    p.add_argument("--converted-T", type=positive_int, default=None,
                   help="time steps of the converted SNN's levels series, and the reference of its T series "
                        "(default: " + "; ".join(f"{d} {t}" for d, t in REF_CONVERTED_TS.items()) + ")")
    p.add_argument("--encodings", nargs="*", default=None, choices=["poisson", "direct"],
                   help="input encodings of the surrogate SNN at the reference T (the dataset's own: the T series' "
                        "reference point; fewer than two: no encoding series) " + default("encodings"))
    add_common(p)
    args = p.parse_args(argv)
    for name, value in SERIES[args.dset].items():
        if getattr(args, name) is None:
            setattr(args, name, list(value))
    if args.leak is None:
        args.leak = REFS[args.dset]["leak"]
    if args.converted_T is None:
        args.converted_T = REF_CONVERTED_TS[args.dset]
    if args.dset != "mnist":
        if args.present_ms or "bio" in args.quantize:
            p.error("--present-ms, --quantize bio: the Brian2 network runs on MNIST only")
        args.bio_levels = []
    if args.bio_levels is None:
        args.bio_levels = list(args.levels)
    if any(t < 1 for t in args.timesteps) or any(v <= 0 for v in args.present_ms) \
            or any(not 2 <= v <= FULL_LEVELS for v in args.levels + args.bio_levels + args.converted_levels):
        p.error(f"need time steps >= 1, presentation times > 0 and levels in 2..{FULL_LEVELS}")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(1)
    s = settings(args)
    jobs = with_measurements([make_job("snn", s, T=t, leak=args.leak) for t in args.timesteps], "T", args)
    jobs += with_measurements([make_job("bio", s, present_ms=v) for v in args.present_ms], "present_ms", args)
    for kind in (k for k in args.quantize if k != "converted"):
        jobs += with_measurements([make_job(kind, s, levels=q, leak=args.leak)
                                   for q in (args.bio_levels if kind == "bio" else args.levels)], "levels", args)
    # the converted SNN: its T series at 256 levels, its levels series at --converted-T (its reference)
    jobs += with_measurements([make_job("converted", s, T=t) for t in args.converted_timesteps], "T", args,
                              ref=args.converted_T)
    if "converted" in args.quantize:
        jobs += with_measurements([make_job("converted", s, levels=q, T=args.converted_T)
                                   for q in args.converted_levels], "levels", args)
    # the same SNN with Poisson and direct input at the reference T (the dataset's own: the T series' reference point)
    if len(set(args.encodings)) > 1:
        jobs += with_measurements([make_job("snn", s, T=REFS[args.dset]["T"], leak=args.leak, encoding=e)
                                   for e in args.encodings], "encoding", args, ref=SPIKING_ENCODING[args.dset])
    return sweep("timestep_sweep", jobs, args, s, {
        "timesteps": args.timesteps, "present_ms": args.present_ms, "levels": args.levels,
        "bio_levels": args.bio_levels, "leak": args.leak, "converted_timesteps": args.converted_timesteps,
        "converted_levels": args.converted_levels if "converted" in args.quantize else [],
        "converted_T": args.converted_T, "encodings": args.encodings if len(set(args.encodings)) > 1 else []})


if __name__ == "__main__":
    exit_with(main, user_errors=(imagesets.DatasetError,))
