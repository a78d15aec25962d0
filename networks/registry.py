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

from bio.checkpoint import _atomic_write, load_json
from networks.cnn import CNN
from networks.snn import SpikingNet
from networks.stdp_net import STDPCNN, STDPNet
from networks.tgo import TGONet

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
    """torch.save to a temporary file beside ``path``, then os.replace: never torn."""
    _atomic_write(Path(path), lambda fh: torch.save(obj, fh))


def load_checkpoint(path, device="cpu") -> dict:
    return torch.load(path, map_location=device, weights_only=True)


def load_model(run_dir, device="cpu", **overrides) -> torch.nn.Module:
    """The trained model of ``run_dir`` on ``device``, in eval mode.

    ``overrides`` replace constructor arguments, e.g. ``T=20`` or
    ``surrogate="triangle"`` to attack an SNN through another surrogate.
    """
    run_dir = Path(run_dir)
    cfg = load_json(run_dir / CONFIG)
    model = build_model(cfg["net"], **{**cfg["model"], **overrides})
    model.load_state_dict(load_checkpoint(run_dir / MODEL, device)["model"])
    return model.to(device).eval()
