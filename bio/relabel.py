"""Assign a trained network's labels on more training examples, and score it again.

    python -m bio.relabel --run runs/stdp-mnist-n6400-s0 --n-label 60000            # the run's weights.npz
    python -m bio.relabel --run runs/stdp-mnist-n6400-s0 --n-label 60000 --epoch 4  # epochs/weights-epoch-4.npz

Diehl & Cook assigned the labels of the paper's networks on all 60,000 training images (the released code's
README); ``bio.train_stdp`` assigns them on the first 10,000 by default (``--n-label``). With 6,400 neurons,
10,000 examples leave many neurons few responses to be labelled by, so the protocol may matter there. This
re-runs the run's own labelling and test (``bio.train_stdp.evaluate``: the same seeds and keys, so the first
``n_label`` examples of the run get the same counts as in the run) with ``--n-label`` training images, and
writes ``RUN/relabel/n{N}[-epoch{E}].json`` (accuracy with label assignment and with the softmax readout,
both for the run's own n_label, from these counts, and for N) and ``.npz`` (the counts). The run's own files
are left as they are.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bio import train_stdp
from bio.frozen import load_weights, weights_file
from bio.parameters import NetworkConfig
from readout.assignment import assign_labels, predict
from readout.softmax import SoftmaxReadout
from runstore.cli import Parser, UserError, existing_dir, exit_with, positive_int
from runstore.files import load_json, save_json, save_npz
from runstore.provenance import provenance

OUT = "relabel"


def parse_args(argv=None) -> argparse.Namespace:
    p = Parser(prog="python -m bio.relabel", description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, type=existing_dir, help="a bio.train_stdp run directory")
    p.add_argument("--n-label", type=positive_int, default=60000, help="training images the labels are assigned on")
    p.add_argument("--epoch", type=positive_int, default=None,
                   help="the weights kept after this epoch (--test-each-epoch runs), not the run's last")
    p.add_argument("--data-dir", type=existing_dir, default=None)
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def run_settings(run: Path, data_dir) -> argparse.Namespace:
    """The run's own settings (config.json), as bio.train_stdp resolves them, with the run's network."""
    cfg = load_json(Path(run) / "config.json")
    args = train_stdp.options(dset=cfg["dset"], seed=cfg["seed"], device=cfg.get("device", "cpp_standalone"),
                              chunk_size=cfg["chunk_size"], n_label=cfg["n_label"], n_test=cfg["n_test"],
                              out=str(run), data_dir=data_dir)
    args.config = NetworkConfig.from_dict(cfg["network"])
    return args


def relabel(run, n_label: int, epoch: int | None = None, data_dir=None, progress: bool = True) -> dict:
    run = Path(run)
    args = run_settings(run, data_dir)
    x_train, y_train, x_test, y_test = train_stdp.load_data(args.dset, data_dir)
    if n_label > len(x_train):
        raise UserError(f"--n-label {n_label}: {args.dset} has {len(x_train)} training images")
    n_test = min(args.n_test, len(x_test))
    source = weights_file(run, epoch)
    w, theta_mV = load_weights(source, args.config)
    ev = train_stdp.evaluate(args, w, theta_mV, x_train[:n_label], y_train[:n_label], x_test[:n_test],
                             y_test[:n_test], progress)
    # The run's own protocol from the same counts: the first n_label examples are the run's labelling set.
    own = min(args.n_label, n_label)
    own_assign = assign_labels(ev["label_counts"][:own], y_train[:own])
    own_softmax = SoftmaxReadout.fit(ev["label_counts"][:own], y_train[:own], seed=args.seed)
    y = y_test[:n_test]
    result = {
        "run": str(run), "weights": str(source), "epoch": epoch, "n_test": n_test, "n_label": n_label,
        "test_accuracy": ev["test_accuracy"], "softmax_test_accuracy": ev["softmax_test_accuracy"],
        "label_accuracy": ev["label_accuracy"],
        "neurons_unassigned": int((ev["assignments"] < 0).sum()),
        "run_protocol": {"n_label": own,
                         "test_accuracy": float((predict(ev["test_counts"], own_assign) == y).mean()),
                         "softmax_test_accuracy": float((own_softmax.predict(ev["test_counts"]) == y).mean()),
                         "neurons_unassigned": int((own_assign < 0).sum())},
        "neurons_reassigned": int((own_assign != ev["assignments"]).sum()),
        "frozen_sec_per_example": ev["frozen_sec_per_example"],
        "provenance": provenance({"run": str(run), "n_label": n_label, "epoch": epoch,
                                  "network": args.config.to_dict()}, inputs=[run / "config.json", source]),
    }
    name = f"n{n_label}" + (f"-epoch{epoch}" if epoch else "")
    # uint16 holds any count (at most one exc spike per 5 ms refractory period) in half the space of int32:
    # 0.8 GB for 60,000 x 6,400
    save_npz(run / OUT / f"{name}.npz", label_counts=ev["label_counts"].astype(np.uint16),
             label_targets=y_train[:n_label], test_counts=ev["test_counts"].astype(np.uint16), test_targets=y,
             assignments=ev["assignments"])
    save_json(run / OUT / f"{name}.json", result)
    print(json.dumps({k: result[k] for k in ("n_label", "test_accuracy", "softmax_test_accuracy", "run_protocol",
                                             "neurons_reassigned")}))
    return result


def main(argv=None) -> dict:
    a = parse_args(argv)
    return relabel(a.run, a.n_label, a.epoch, a.data_dir, progress=not a.no_progress)


if __name__ == "__main__":
    exit_with(main)
