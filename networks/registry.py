"""Build, save and reload the torch baselines from their run directories.

A run directory (written by ``python -m networks.train``) holds

* ``config.json``: {"net": cnn|snn|tgo|converted|stdp|stdp-cnn, "dset": ..., "model": the
  constructor's keyword arguments, "train": the training settings, ...};
* ``model.pt``: {"model": state_dict, "optimizer": ..., "epoch": epochs done,
  "history": per-epoch records, "train_seconds": ...}, written atomically and
  read with ``torch.load(..., weights_only=True)`` (no pickled code);
* ``metrics.json``: clean test accuracy on the test set and timings.

    model = load_model("/work/runs/baselines/snn-mnist", "cpu")
    logits = model(images)                      # images in [0, 1] or uint8
    logits, rec = model(images, record=True)    # per-layer records, see networks.cnn / networks.snn
"""
from __future__ import annotations

from pathlib import Path

import torch

from networks.cnn import CNN
from networks.snn import SpikingNet
from networks.stdp_net import STDPCNN, STDPNet
from networks.tgo import TGONet
from runstore.cli import Diverged
from runstore.files import BadFileError, check_tensors, first_nonfinite, load_json, load_torch, save_torch

NETS = {"cnn": CNN, "snn": SpikingNet, "tgo": TGONet, "converted": SpikingNet, "stdp": STDPNet,
        "stdp-cnn": STDPCNN}   # stdp-cnn: the CNN stage of the CIFAR-10 stdp recipe (networks.train)
CONFIG, MODEL, METRICS = "config.json", "model.pt", "metrics.json"


def finished_runs(root, dset: str) -> list[Path]:
    """The run directories of ``dset`` directly under ``root`` that finished (config, weights and metrics
    written), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(d for d in root.iterdir() if all((d / f).exists() for f in (CONFIG, MODEL, METRICS))
                  and load_json(d / CONFIG).get("dset") == dset)


def build_model(net: str, **model_kwargs) -> torch.nn.Module:
    if net not in NETS:
        raise ValueError(f"unknown net {net!r}; choose from {', '.join(NETS)}")
    return NETS[net](**model_kwargs)


def save_checkpoint(path, obj: dict) -> None:
    """torch.save to a temporary file beside ``path``, then os.replace: never torn. A model whose
    weights are no longer finite is not saved: the last good checkpoint stays."""
    bad = first_nonfinite(obj["model"], "model.") if "model" in obj else None
    if bad:
        raise Diverged(f"{bad[0]} has {bad[1]} non-finite value(s): training diverged; {path} was not "
                       f"overwritten and keeps the last good checkpoint (try a lower --lr)")
    save_torch(path, obj)


def load_checkpoint(path, device="cpu") -> dict:
    """A run's checkpoint (no pickled code runs), refused with its file named if it cannot be read
    or its model holds non-finite weights."""
    state = load_torch(path, device)
    if not isinstance(state, dict):
        raise BadFileError(path, f"holds a {type(state).__name__}, not a checkpoint dict")
    if "model" in state:
        check_tensors(path, state["model"], "model.")
    return state


def load_model(run_dir, device="cpu", **overrides) -> torch.nn.Module:
    """The trained model of ``run_dir`` on ``device``, in eval mode.

    ``overrides`` replace constructor arguments, e.g. ``T=20`` or
    ``surrogate="triangle"`` to attack an SNN through another surrogate.
    """
    run_dir = Path(run_dir)
    cfg = load_json(run_dir / CONFIG)
    model = build_model(cfg["net"], **{**cfg["model"], **overrides})
    state = load_checkpoint(run_dir / MODEL, device)
    if "model" not in state:
        raise BadFileError(run_dir / MODEL, "holds no model weights")
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as e:   # another architecture than config.json says
        raise BadFileError(run_dir / MODEL, f"does not fit the model of {run_dir / CONFIG}: "
                                            f"{str(e).splitlines()[0]}") from e
    return model.to(device).eval()
