"""One networks.train run from its settings to metrics.json: the run directory, the stages, the epochs, the test.

    data = load_data("mnist")                                   # full train and test arrays
    metrics = run(options("cnn", dset="mnist", out="runs/x"), data)

:func:`run` is what the command line (networks.train) and the sweeps call; the data come in as
arrays, so a caller can hand in changed images (the sweeps' pre-quantized inputs), and a run that
needs a run of its own first (its CNN) starts it here with the same data. See networks.registry for
the run directory's files.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch

import imagesets
from networks.recipes import SPIKING
from networks.registry import CONFIG, METRICS, MODEL, build_model, load_checkpoint
from networks.settings import options, recorded
from networks.stages import HYBRID_CNN, initial_state, run_converted, stage_record
from networks.training import evaluate, evaluate_per_step, train
from runstore.cli import UserError
from runstore.files import load_json, save_json
from runstore.provenance import provenance
from runstore.locks import run_lock

TEST_PROGRESS = "test_progress.pt"   # the test pass's results so far (long for spiking nets), until metrics.json
# What runs made before an option existed did (their config.json lacks it): --resume compares with these.
BEFORE_OPTION = dict(optimizer="adam", schedule="cosine", warmup=0.2, label_smoothing=0.0, precision="fp32",
                     v_init=0.0, momentum=0.9, hybrid=False)
BEFORE_MODEL = dict(v_init=0.0)   # the same for the model's constructor arguments
# Settings that may change on --resume (more epochs continue the run).
RESUMABLE = {"epochs", "torch_device", "threads", "no_progress", "resume", "data_dir", "out", "recipe"}


def load_data(dset: str, data_dir=None) -> tuple:
    """(x_train, y_train, x_test, y_test) of ``dset``: every image, uint8 numpy arrays."""
    x_train, y_train = imagesets.load(dset, "train", data_dir=data_dir)
    x_test, y_test = imagesets.load(dset, "test", data_dir=data_dir)
    return x_train, y_train, x_test, y_test


def run(args, data: tuple) -> dict:
    """Train and test the run of ``args`` (networks.settings) on ``data`` (:func:`load_data`'s arrays; the
    run takes its first --n-train and --n-test), holding its run directory's lock throughout."""
    if args.threads:
        torch.set_num_threads(args.threads)
    x_train, y_train, x_test, y_test = data
    n_train, n_test = args.n_train or len(x_train), args.n_test or len(x_test)
    tensors = (torch.as_tensor(x_train[:n_train]), torch.as_tensor(y_train[:n_train]),
               torch.as_tensor(x_test[:n_test]), torch.as_tensor(y_test[:n_test]))
    with run_lock(args.out):   # one process per run directory, for the whole run
        return _run(args, *tensors, sub_run=lambda net, out, **given: run(sub_options(args, net, out, **given), data))


def sub_options(args, net: str, out: Path, **given):
    """The settings of a run this one starts in ``out`` (its CNN stage): the options they share, ``given``,
    and --resume where that run has checkpointed."""
    shared = {k: getattr(args, k) for k in ("dset", "arch", "seed", "torch_device", "recipe", "threads", "bias",
                                            "no_progress", "n_train", "n_test", "data_dir")}
    return options(net, **shared, out=str(out), resume=(Path(out) / MODEL).exists(), **given)


def prepare_run_dir(args) -> tuple[Path, dict | None]:
    """The run directory and, with --resume, its checkpoint (else None: a hybrid stdp run resumed in a stage
    before its own first checkpoint, which its CNN stage's run directory holds)."""
    run_dir = Path(args.out)
    record = {"net": args.net, "dset": args.dset, "model": args.model, "train": recorded(args)}
    staged = args.hybrid and (run_dir / CONFIG).exists()
    if args.resume:
        if not (run_dir / MODEL).exists() and not staged:
            raise UserError(f"--resume given but {run_dir / MODEL} does not exist; start without --resume")
        old = load_json(run_dir / CONFIG)
        new = {**record["train"], "model": record["model"]}
        was = {**old["train"], "model": {k: v for k, v in BEFORE_MODEL.items() if k in new["model"]} | old["model"]}
        if args.net == "converted":   # its architecture comes from the CNN it converts (run_converted)
            new["model"], was["model"] = ({k: v for k, v in m.items() if k not in ("arch", "bias", "on_off")}
                                          for m in (new["model"], was["model"]))
        changed = [k for k in new if k not in RESUMABLE and was.get(k, BEFORE_OPTION.get(k)) != new[k]]
        if changed:
            raise UserError(f"--resume with different settings than the run in {run_dir}: "
                             + ", ".join(f"{k} was {was.get(k)!r}, now {new[k]!r}" for k in changed))
        save_json(run_dir / CONFIG, {**old, "train": record["train"]})
        return run_dir, load_checkpoint(run_dir / MODEL, args.device) if (run_dir / MODEL).exists() else None
    if any((run_dir / f).exists() for f in (MODEL, METRICS) + ((HYBRID_CNN,) if args.hybrid else ())):
        raise UserError(f"{run_dir} already holds a run; pass --resume to continue it or --out NEWDIR")
    run_dir.mkdir(parents=True, exist_ok=True)
    save_json(run_dir / CONFIG, record)
    return run_dir, None


def _run(args, x_train, y_train, x_test, y_test, sub_run) -> dict:
    progress = not args.no_progress
    run_dir, state = prepare_run_dir(args)
    extra = {}
    if args.net == "converted":
        model, extra = run_converted(args, x_train, run_dir, sub_run)
        state = load_checkpoint(run_dir / MODEL)
    else:
        torch.manual_seed(args.seed)
        model = build_model(args.net, **args.model).to(args.device)
        if state is None:
            state = initial_state(args, model, x_train, run_dir, progress, sub_run)
        else:
            model.load_state_dict(state["model"])
        if args.hybrid:
            extra = stage_record(state, run_dir)
        state = train(args, model, x_train, y_train, state, run_dir, progress)
    t0 = time.perf_counter()
    torch.manual_seed(args.seed)   # Poisson draws of the test pass
    resume = dict(checkpoint=run_dir / TEST_PROGRESS, key=[state["epoch"], len(x_test)])
    if args.net in SPIKING:
        acc, extra["test_accuracy_by_T"] = evaluate_per_step(model, x_test, y_test, progress=progress, **resume)
    else:
        acc, _ = evaluate(model, x_test, y_test, progress=progress, **resume)
    eval_s = time.perf_counter() - t0
    metrics = {
        "net": args.net, "dset": args.dset, "test_accuracy": acc, "n_test": len(x_test), "n_train": len(x_train),
        "epochs": state["epoch"], "train_seconds": state["train_seconds"], "eval_seconds": eval_s,
        "seconds": state["train_seconds"] + eval_s, "device": str(args.device), "threads": torch.get_num_threads(),
        "history": state["history"], **extra, "provenance": provenance(args, [args.from_dir]),
    }
    if "stage_seconds" in extra:   # stdp --hybrid: its stages before BPTT too (the CNN's with its test pass)
        metrics["pipeline_seconds"] = metrics["seconds"] + sum(extra["stage_seconds"].values())
    save_json(run_dir / METRICS, metrics)
    (run_dir / TEST_PROGRESS).unlink(missing_ok=True)
    print(json.dumps({k: metrics[k] for k in ("net", "dset", "test_accuracy", "n_test", "epochs", "seconds")}))
    print(f"run directory: {run_dir}")
    return metrics

