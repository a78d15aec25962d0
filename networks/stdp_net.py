"""A spiking net whose first layer was learned without labels by STDP (seed 000's "SNN + STDP").

Layer 0 holds STDP weights and is frozen; the layers above it are surrogate-gradient LIF layers
(:class:`~networks.snn.SpikingNet`), trained with labels by BPTT. Two sources for layer 0:

* **conv STDP** (the default of ``python -m networks.train --net stdp``): 3x3 filters learned by
  :mod:`networks.conv_stdp` on ON/OFF input channels, under the surrogate SNN's own architecture
  (``c32-p-c64-p-f256``), so that the two nets differ only in how layer 0 was learned.
* **this project's Brian2 Diehl & Cook network** (``--from`` a ``bio.train_stdp`` run): its input ->
  exc weights as a fully connected layer. The Brian2 network reads its exc layer through lateral
  inhibition, a winner-take-all; here the same receptive fields feed forward without it, so the
  layers above see how well every template matches, not only which one won. As a feature layer it
  is weak: an ANN on the 400 templates' currents reaches 95.8 % (linear readout 88.8 %), so this
  variant cannot reach seed 000's 99.25 % (README).

STDP weights are all positive, so every neuron would fire at every step; each neuron's (feature
map's) input current is standardised over training images instead (mean 0, std one threshold): an
affine map per unit fitted without labels, the job of the adaptive threshold and the inhibition in
the Brian2 network. The receptive fields stay those STDP learned; nothing in layer 0 is trained.

    model = STDPNet("c32-p-c64-p-f256", on_off=True)
    model.load_stdp(filters, x_train[:1000])     # filters: (32, 2, 3, 3) from networks.conv_stdp
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from networks.cnn import as_images
from networks.conv_stdp import on_off
from networks.snn import SpikingNet


class STDPNet(SpikingNet):
    """``SpikingNet`` whose layer 0 holds STDP-learned weights, frozen. ``on_off``: layer 0 reads two
    channels, the input spikes and their complement (what networks.conv_stdp learns filters on)."""

    def __init__(self, arch: str = "f400-f256", in_shape=(1, 28, 28), n_classes: int = 10, *,
                 on_off: bool = False, **kw):
        super().__init__(arch, in_shape, n_classes, **kw)
        self.on_off = bool(on_off)
        first = self.layers[0]
        if self.on_off:
            if not isinstance(first, torch.nn.Conv2d) or in_shape[0] != 1:
                raise ValueError("on_off needs a conv first layer on grayscale images")
            first = self.layers[0] = torch.nn.Conv2d(2, first.out_channels, first.kernel_size,
                                                     padding=first.padding, bias=True)
        if first.bias is None:
            first.bias = torch.nn.Parameter(torch.zeros(first.weight.shape[0]))
        for param in first.parameters():   # set by load_stdp, never trained
            param.requires_grad_(False)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", layer 0 from STDP (frozen{', ON/OFF input' if self.on_off else ''})"

    def weight_input(self, i: int, h: torch.Tensor) -> torch.Tensor:
        return super().weight_input(i, on_off(h) if i == 0 and self.on_off else h)

    @torch.no_grad()
    def load_stdp(self, w: np.ndarray, x_calib) -> dict:
        """Layer 0 := STDP weights ``w`` (a Diehl & Cook network's (n_input, n_exc), or conv filters
        (maps, 2, k, k)), each neuron's current standardised over ``x_calib`` (the expected input:
        rate = intensity; per feature map for a conv layer). Returns the raw currents' means and stds."""
        first = self.layers[0]
        w = torch.as_tensor(np.asarray(w), dtype=first.weight.dtype, device=first.weight.device)
        if isinstance(first, torch.nn.Linear):
            w = w.T
        if tuple(w.shape) != tuple(first.weight.shape):
            raise ValueError(f"STDP weights {tuple(w.shape)} do not fit layer 0 {tuple(first.weight.shape)}")
        first.weight.copy_(w)
        first.bias.zero_()
        current = self.weight_input(0, as_images(x_calib, self.in_shape).to(w))
        dims = [d for d in range(current.ndim) if d != 1]          # all but the neuron / map axis
        mean, std = current.mean(dims), current.std(dims)
        if len(current) < 2 or (std == 0).any():
            raise ValueError("calibration images leave an STDP neuron without input variance; pass more images")
        shape = (-1,) + (1,) * (w.ndim - 1)
        first.weight.copy_(w / std.view(shape) * self.threshold)
        first.bias.copy_(-mean / std * self.threshold)
        return {"current_mean": mean.cpu().tolist(), "current_std": std.cpu().tolist()}


def load_stdp_run(run_dir) -> tuple[np.ndarray, np.ndarray, dict]:
    """(w, theta_mV, config) of a ``bio.train_stdp`` run, without pickle."""
    from bio.checkpoint import load_json, load_npz

    run_dir = Path(run_dir)
    for need in ("config.json", "weights.npz"):
        if not (run_dir / need).is_file():
            raise FileNotFoundError(f"{run_dir} has no {need}: train the STDP layer first with "
                                    f"python -m bio.train_stdp --dset mnist --out {run_dir}")
    z = load_npz(run_dir / "weights.npz")
    return z["w"], z["theta_mV"], load_json(run_dir / "config.json")
