"""The stages of a networks.train run before its BPTT epochs: conversion of a CNN, conv STDP filters,
the hybrid start, and each run's first weights.

A stage that needs a run of its own (the CNN of a converted net, the CNN stage of a hybrid stdp net)
starts it through ``sub_run(net, out, **options)``, the caller's way to run networks.train in ``out``
with these options on the same data (networks.pipeline), so every stage checkpoints and resumes.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from networks.cnn import as_images
from networks.conv_stdp import convergence, learn_filters
from networks.converted import convert
from networks.recipes import CONVERTIBLE, STDP_CALIB_IMAGES, STDP_NETS
from networks.registry import CONFIG, METRICS, MODEL, load_model, save_checkpoint
from networks.stdp_net import load_stdp_run
from runstore.cli import UserError
from runstore.files import load_json, load_npz, save_json, save_npz

STDP_FILTERS = "stdp_filters.npz"
HYBRID_CNN = "cnn"         # stdp --hybrid: the sub-directory of its CNN stage (a stdp-cnn run)
DATA_INIT_IMAGES = 32   # training images --init data calibrates on
# converted without --from: the options of its own run that the CNN it trains first shares
CNN_OPTIONS = ("epochs", "batch_size", "lr", "dropout", "optimizer", "momentum", "schedule", "warmup",
               "weight_decay", "label_smoothing", "precision")


def convert_run(args, cnn_dir, x_train):
    """(converted SNN, scales, CNN) from the CNN (or stdp-cnn) run in ``cnn_dir``, calibrated on training images."""
    if load_json(Path(cnn_dir) / CONFIG)["net"] not in CONVERTIBLE:
        raise UserError(f"--from {cnn_dir} is not a CNN run ({' or '.join(CONVERTIBLE)})")
    cnn = load_model(cnn_dir, args.device)
    torch.manual_seed(args.seed)
    snn, scales = convert(cnn, x_train[:args.n_calib], percentile=args.percentile, T=args.timesteps,
                          leak=args.leak, encoding=args.encoding, surrogate=args.surrogate, slope=args.slope,
                          noise=args.noise, v_init=args.v_init, progress=not args.no_progress)
    return snn, scales, cnn


def record_conversion(run_dir: Path, snn, cnn_dir: Path) -> None:
    """config.json: the CNN run a converted net came from, and the SNN's architecture (the CNN's folded),
    whatever --arch/--bias said."""
    cfg = load_json(run_dir / CONFIG)
    cfg["model"] = {**cfg["model"], "arch": snn.arch, "bias": snn.layers[0].bias is not None}
    cfg["model"].update({"on_off": True} if snn.on_off else {})
    cfg["converted_from"] = str(cnn_dir)
    save_json(run_dir / CONFIG, cfg)


def run_converted(args, x_train, run_dir: Path, sub_run) -> tuple[torch.nn.Module, dict]:
    """converted: its CNN (--from, else one trained first in OUT/cnn by ``sub_run(net, out, **options)``
    with this run's CNN settings), converted and checkpointed; (SNN, what metrics.json adds)."""
    cnn_dir = Path(args.from_dir) if args.from_dir else run_dir / "cnn"
    if not args.from_dir and not (cnn_dir / METRICS).exists():
        sub_run("cnn", cnn_dir, **{k: getattr(args, k) for k in CNN_OPTIONS})
    t0 = time.perf_counter()
    snn, scales, cnn = convert_run(args, cnn_dir, x_train)
    record_conversion(run_dir, snn, cnn_dir)
    state = {"model": snn.state_dict(), "epoch": 0, "history": [], "train_seconds": time.perf_counter() - t0,
             "scales": torch.tensor(scales)}
    save_checkpoint(run_dir / MODEL, state)
    return snn, {"scales": scales, "cnn_test_accuracy": load_json(cnn_dir / METRICS)["test_accuracy"]}


def run_stdp_cnn_stage(args, run_dir: Path, sub_run) -> Path:
    """stdp --hybrid, stages 1 and 2, as a stdp-cnn run in OUT/cnn (skipped once it has finished): conv STDP
    learns layer 0's filters, then the CNN above them trains with the recipe's CNN settings (--recipe; only
    its epochs can be changed here, --cnn-epochs). Returns its run directory."""
    cnn_dir = run_dir / HYBRID_CNN
    if not (cnn_dir / METRICS).exists():
        epochs = {"epochs": args.cnn_epochs} if args.cnn_epochs else {}   # else the recipe's
        sub_run("stdp-cnn", cnn_dir, timesteps=args.timesteps, stdp_images=args.stdp_images, **epochs)
    return cnn_dir


def start_from_stdp_cnn(args, model, x_train, run_dir: Path, sub_run) -> dict:
    """stdp --hybrid, stages 1-3: the CNN stage (run_stdp_cnn_stage), then its conversion, loaded into ``model``
    and checkpointed as epoch 0 of BPTT. Returns that checkpoint's state."""
    cnn_dir = run_stdp_cnn_stage(args, run_dir, sub_run)
    t0 = time.perf_counter()
    snn, scales, _ = convert_run(args, cnn_dir, x_train)
    try:
        model.load_state_dict(snn.state_dict())
    except RuntimeError as e:   # cannot happen unless OUT/cnn was made by other settings
        raise UserError(f"the CNN stage in {cnn_dir} does not fit this net: {e}") from e
    record_conversion(run_dir, snn, cnn_dir)
    state = {"model": model.state_dict(), "epoch": 0, "history": [], "train_seconds": 0.0,
             "scales": torch.tensor(scales), "conversion_seconds": time.perf_counter() - t0}
    save_checkpoint(run_dir / MODEL, state)
    return state


def stage_record(state: dict, run_dir: Path) -> dict:
    """stdp --hybrid: what metrics.json says of the stages before BPTT (OUT/cnn: the stdp-cnn run)."""
    cnn_dir = run_dir / HYBRID_CNN
    cnn, filters = load_json(cnn_dir / METRICS), load_npz(cnn_dir / STDP_FILTERS)
    return {"scales": state["scales"].tolist(), "cnn_test_accuracy": cnn["test_accuracy"],
            "stdp_convergence": float(filters["convergence"]),
            "stage_seconds": {"stdp": float(filters["seconds"]), "cnn": cnn["seconds"],
                              "conversion": state["conversion_seconds"]}}


def stdp_weights(args, model, x_train, run_dir: Path, progress: bool) -> np.ndarray:
    """Layer 0's STDP weights: a Diehl & Cook run's input weights (--from), else conv filters learned by
    networks.conv_stdp on the first --stdp-images training images, grayscale or colour (kept in the run
    as stdp_filters.npz)."""
    if args.from_dir:
        return load_stdp_run(args.from_dir)[0]
    path = run_dir / STDP_FILTERS
    if not path.exists():
        first = model.layers[0]
        t0 = time.perf_counter()
        w = learn_filters(as_images(x_train[:args.stdp_images], model.in_shape), first.out_channels,
                          first.kernel_size[0], T=args.timesteps, seed=args.seed, progress=progress)
        save_npz(path, w=w, seconds=np.float64(time.perf_counter() - t0), convergence=np.float64(convergence(w)))
    z = load_npz(path)
    print(f"conv STDP filters ({path}): convergence {float(z['convergence']):.4f} (0: every weight 0 or 1), "
          f"learned in {float(z['seconds']):.0f} s")
    return z["w"]


def initial_state(args, model, x_train, run_dir: Path, progress: bool, sub_run) -> dict:
    """A fresh run's starting weights, set in ``model``, and its state before the first epoch."""
    if args.hybrid:
        return start_from_stdp_cnn(args, model, x_train, run_dir, sub_run)
    if args.net in STDP_NETS:
        w = stdp_weights(args, model, x_train, run_dir, progress)
        model.load_stdp(w, x_train[:STDP_CALIB_IMAGES].to(args.device))   # per-map standardisation: no labels
    elif args.from_dir:
        try:
            model.load_state_dict(convert_run(args, args.from_dir, x_train)[0].state_dict())
        except RuntimeError as e:   # another architecture
            raise UserError(f"the CNN in {args.from_dir} does not fit --arch/--bias: {e}") from e
    elif args.init == "data" and args.net != "cnn":
        rates = model.data_init(x_train[:DATA_INIT_IMAGES].to(args.device))
        print("data init, spike rates per layer:", " ".join(f"{r:.3f}" for r in rates))
    return {"epoch": 0, "history": [], "train_seconds": 0.0}
