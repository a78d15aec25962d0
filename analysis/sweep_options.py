"""The sweeps' shared command line (analysis.leak_sweep, analysis.timestep_sweep): its options, and the settings
they give, per dataset (MNIST, CIFAR-10: analysis.defaults); analysis.sweep_points runs what they ask for.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from analysis.defaults import BUDGET_KEYS, BUDGETS, CONVERGED, DEFAULTS, DSET_NAMES, MIDDLE_SEEDS, QUICK, SWEEP_DSETS, \
    SWEEP_EPS, SWEEP_OUT, TRANSFER_SOURCES
from analysis.sweep_jobs import N_EXC
from networks.devices import add_torch_device_option, torch_device
from runstore.cli import UserError, existing_dir, pixel_eps, positive_int
from runstore.files import load_json


def add_common(p: argparse.ArgumentParser) -> None:
    def budget(name):
        cifar = BUDGETS["cifar10"]["converged"][name]
        return f"(default {CONVERGED[name]}" + (f", CIFAR-10 {cifar}" if cifar != CONVERGED[name] else "") + \
            f"; --quick {QUICK[name]})"
    p.add_argument("--dset", choices=SWEEP_DSETS, default="mnist",
                   help="the dataset every model trains and is measured on. cifar10: networks.train's CPU recipe (one "
                        "CNN per seed; the surrogate SNN the hybrid, converted from that CNN then BPTT; the converted "
                        "SNN from that CNN), its reference settings (analysis.defaults.REFS: T 8, leak 1; converted "
                        "T 64), eps 4/255 and 8/255, no Brian2 network, written to " + str(SWEEP_OUT["cifar10"]))
    p.add_argument("--quick", action="store_true",
                   help="the small budget (minutes per point on a laptop) instead of converged models; any budget "
                        "option given still wins")
    p.add_argument("--n-train", type=positive_int, default=None, help="training examples, torch models " + budget("n_train"))
    p.add_argument("--bio-n-train", type=positive_int, default=None,
                   help="STDP training examples, Brian2 " + budget("bio_n_train"))
    p.add_argument("--n-label", type=positive_int, default=None,
                   help="examples labelling the Brian2 neurons " + budget("n_label"))
    p.add_argument("--n-test", type=positive_int, default=None, help="test images evaluated (the first N) " + budget("n_test"))
    p.add_argument("--middle-n-test", type=positive_int, default=None,
                   help="test images at the points between a series' two ends and its reference " + budget("middle_n_test"))
    p.add_argument("--epochs", type=positive_int, default=None,
                   help="epochs, torch models (default: each net's own, CNN 2 and SNN 1; CIFAR-10 the recipe's, CNN 20 "
                        "and hybrid SNN 1; --quick 1)")
    p.add_argument("--eps", type=pixel_eps, nargs="+", default=None,
                   help="L-inf size of every perturbation; several: each a point of its own on the same model, and a "
                        "summary and figures per eps, OUT/epsEPS/NAME.json (default: MNIST " + " ".join(map(str, SWEEP_EPS["mnist"]))
                        + "; CIFAR-10 " + " ".join(map(str, SWEEP_EPS["cifar10"])) + ", 4/255 and 8/255)")
    p.add_argument("--eot", type=positive_int, default=DEFAULTS["eot"], help="Poisson draws averaged per white-box gradient")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    p.add_argument("--seeds", type=positive_int, default=1,
                   help="models trained per point, seeds SEED..SEED+N-1: tables give mean and 95%% interval")
    p.add_argument("--middle-seeds", type=positive_int, default=MIDDLE_SEEDS,
                   help="models per point between a series' two ends and its reference (at most --seeds)")
    # The converged budget measures what issue 28's verdicts rest on (the worst case, the ensemble at the ends,
    # both protocols); --quick measures as REPORT.md's small sweeps did (FGSM, the swept protocol).
    p.add_argument("--suite", choices=("fgsm", "full"), default=None,
                   help="white-box attacks per point: fgsm, the seeds' FGSM alone; full, also PGD (20 steps), "
                        "APGD-CE and APGD-DLR (25 iterations), EOT over 2 Poisson draws (the MNIST comparison table's "
                        "budget), and the worst case per example over the four (the Brian2 network: FGSM and PGD "
                        "through both twins) (default: full; --quick fgsm)")
    p.add_argument("--ensemble", choices=("none", "ends", "all"), default=None,
                   help="the surrogate ensemble (PGD crafted through 8 more backward functions: triangle "
                        "and fast sigmoid of 3 widths each, straight-through, rate gradient) and its worst case per "
                        "example, on the surrogate SNN points at each series' two ends and reference setting (ends) or "
                        "at every point (all) (default: ends; --quick none)")
    p.add_argument("--protocols", nargs="+", choices=("swept", "reference"), default=None,
                   help="swept: attacks crafted on the point's own model; reference: also crafted on the model trained "
                        "at the reference setting (T 8, leak 0.99, tau 100 ms, 350 ms, 256 levels; CIFAR-10 T 8, leak 1, "
                        "converted T 64; same seed) and scored at the swept one, as Sharmin 2020's released code does "
                        "(default: both; --quick swept)")
    p.add_argument("--source", default=None, help="transfer source CNN run (default: the first present of "
                   + ", ".join(map(str, TRANSFER_SOURCES["mnist"])) + "; CIFAR-10 "
                   + ", ".join(map(str, TRANSFER_SOURCES["cifar10"])) + ", whose seed must not be one of the sweep's; "
                   "'none' for no transfer attack)")
    # One job per core by default: the under-30-minute default run needs both cores of a 2-core machine.
    p.add_argument("--jobs", type=positive_int, default=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else os.cpu_count() or 1, help="points run at once, one process each (default: the usable cores)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="a running dask scheduler (tcp://host:8786) whose workers run the points; --jobs is "
                        "then ignored")
    add_torch_device_option(p)
    p.add_argument("--data-dir", type=existing_dir, default=None)
    p.add_argument("--out", default=None, help="output folder, shared by both sweeps (default: MNIST "
                   + str(SWEEP_OUT["mnist"]) + ", CIFAR-10 " + str(SWEEP_OUT["cifar10"]) + ")")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--estimate", action="store_true",
                   help="print the points still to compute and their expected time (from COST), then stop")
    p.add_argument("--train-only", action="store_true",
                   help="train every point's model (kept in OUT/runs, resumable) and measure nothing yet")
    p.add_argument("--saved-only", action="store_true",
                   help="compute nothing: write OUT/NAME.json and the figure from the points already saved, the others "
                        "listed as not run (a sweep stopped part-way; REPORT.md then names them and judges without them)")


# What each budget measures by default (option: (--quick, converged)).
MEASURED = {"suite": ("fgsm", "full"), "ensemble": ("none", "ends"), "protocols": (["swept"], ["swept", "reference"])}


def settings(args) -> dict:
    """The sweep's settings from its command line (what is not given: the dataset's defaults). "eps" is the
    first eps, "eps_list" all of them when there are several (:func:`sweep` makes a point of each); "dset" is
    there when the dataset is not MNIST."""
    dset = getattr(args, "dset", "mnist")
    if getattr(args, "out", None) is None:
        args.out = str(SWEEP_OUT[dset])
    if args.eps is None:
        args.eps = list(SWEEP_EPS[dset])
    elif not isinstance(args.eps, (list, tuple)):
        args.eps = [args.eps]
    measuring = not any(getattr(args, k, False) for k in ("estimate", "train_only", "saved_only"))
    if args.source is None:
        source = next((s for s in TRANSFER_SOURCES[dset] if (s / "model.pt").exists()), None)
        if source is None and dset != "mnist" and measuring:
            raise UserError(f"no transfer source CNN for {DSET_NAMES[dset]}: none of "
                            f"{', '.join(map(str, TRANSFER_SOURCES[dset]))} has a model.pt. Train one with a seed none "
                            f"of the sweep's models has (python -m networks.train --net cnn --dset {dset} --seed 9 --out "
                            f"{TRANSFER_SOURCES[dset][0]}), pass --source RUN, or --source none for no transfer attack")
    else:
        source = None if args.source.lower() == "none" else Path(args.source)
    torch_device(args.torch_device)   # asking for cuda without one fails here, not in every job
    budget = BUDGETS[dset]["quick" if args.quick else "converged"]
    for name in BUDGET_KEYS:
        if getattr(args, name) is None:
            setattr(args, name, budget[name])
    for name, (quick, converged) in MEASURED.items():
        if getattr(args, name, None) is None:
            setattr(args, name, quick if args.quick else converged)
    if source is not None and measuring:
        check_source(source, dset, range(args.seed, args.seed + args.seeds))
    s = {**{k: getattr(args, k) for k in DEFAULTS}, "seeds": args.seeds, "source": source and str(source.resolve()),
         "data_dir": args.data_dir, "out": str(Path(args.out).resolve()), "torch_device": args.torch_device}
    s["eps"] = args.eps[0]
    if len(args.eps) > 1:
        s["eps_list"] = list(args.eps)
    if dset != "mnist":
        s["dset"] = dset
    return s


def check_source(source: Path, dset: str, seeds) -> None:
    """The transfer source must be a run of the sweep's dataset; off MNIST its seed must be none of the sweep's:
    every SNN of a CIFAR-10 seed is made from that seed's CNN, and a CNN of the same recipe and seed starts from
    the same weights and sees the same batches, so its FGSM would be nearly white-box. (MNIST's SNNs train from
    random weights; there only the seed's CNN point shares a seed with the default source cnn-mnist-s1.)"""
    config = Path(source) / "config.json"
    if not config.exists():
        return
    cfg = load_json(config)
    if cfg.get("dset", "mnist") != dset:
        raise UserError(f"--source {source} is a {cfg.get('dset')} run; the sweep runs on {dset}")
    seed = cfg.get("train", {}).get("seed")
    if dset != "mnist" and seed in seeds:
        raise UserError(f"--source {source} was trained with seed {seed}, one of the sweep's seeds "
                        f"({', '.join(map(str, seeds))}): the SNNs of that seed start from a CNN of the same recipe and "
                        f"seed, so the transfer would not be black-box. Use a source of another seed")


def scale_note(s: dict) -> str:
    dset = s.get("dset", "mnist")
    budgets = BUDGETS[dset]

    def is_budget(budget):
        return all(s[k] == budget[k] for k in BUDGET_KEYS)
    seeds = s.get("seeds", 1)
    middle = f" ({s['middle_n_test']} between each series' ends)" if s.get("middle_n_test", s["n_test"]) != s["n_test"] else ""
    scale = (("converged" if is_budget(budgets["converged"]) else "quick" if is_budget(budgets["quick"]) else "custom scale")
             + (f", {seeds} seeds per point" if seeds > 1 else ""))
    if dset != "mnist":   # no Brian2 network there
        eps = ", ".join(f"{e:g}" for e in s.get("eps_list", [s["eps"]]))
        return (f"{DSET_NAMES[dset]}, {scale}: torch models {s['n_train']} training images x "
                f"{s['epochs'] or 'their own'} epoch(s); {s['n_test']} test images{middle}; eps {eps}")
    return (scale + f": torch models {s['n_train']} training images x {s['epochs'] or 'their own'} epoch(s), Brian2 {N_EXC} exc "
              f"neurons, {s['bio_n_train']} STDP examples, {s['n_label']} labelling; {s['n_test']} test images" + middle)


