"""Nets whose first layer was learned without labels by STDP (seed 000's "SNN + STDP").

Layer 0 holds STDP weights and is frozen (:class:`STDPLayer`); the layers above it are trained with
labels. :class:`STDPNet` is the spiking net (surrogate-gradient LIF layers above, BPTT, as
:class:`~networks.snn.SpikingNet`); :class:`STDPCNN` is the ANN with the same frozen layer 0, the
first trained stage of the CIFAR-10 recipe (``python -m networks.train --net stdp --dset cifar10``:
the STDPCNN is trained, converted and fine-tuned by BPTT as an STDPNet, as the surrogate SNN's
hybrid recipe does with a plain CNN). Two sources for layer 0:

* **conv STDP** (the default of ``python -m networks.train --net stdp``): 3x3 filters learned by
  :mod:`networks.conv_stdp` on ON/OFF input channels (two per colour channel), under the surrogate
  SNN's own architecture (MNIST ``c32-p-c64-p-f256``; CIFAR-10 ``cifar`` without layer 0's batch
  norm), so that the two nets differ only in how layer 0 was learned.
* **this project's Brian2 Diehl & Cook network** (``--from`` a ``bio.train_stdp`` run): its input ->
  exc weights as a fully connected layer. The Brian2 network reads its exc layer through lateral
  inhibition, a winner-take-all; here the same receptive fields feed forward without it, so the
  layers above see how well every template matches, not only which one won. As a feature layer it
  is weak: an ANN on the 400 templates' currents reaches 95.8 % (linear readout 88.8 %), so this
  variant cannot reach seed 000's 99.25 % (README).

STDP weights are all positive, so every neuron would fire at every step; each neuron's (feature
map's) input current is standardised over training images instead (mean 0, std one threshold; an
ANN: std 1): an affine map per unit fitted without labels, the job of the adaptive threshold and the
inhibition in the Brian2 network. The receptive fields stay those STDP learned; nothing in layer 0 is
trained, and layer 0 has no batch norm (:func:`stdp_arch`): a trained norm would learn from labels.

    model = STDPNet("c32-p-c64-p-f256", on_off=True)
    model.load_stdp(filters, x_train[:1000])     # filters: (32, 2, 3, 3) from networks.conv_stdp
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from networks.cnn import ARCHS, CNN, as_images
from networks.snn import SpikingNet


def stdp_arch(arch: str) -> str:
    """``arch`` without layer 0's batch norm (``c64b-p-...`` -> ``c64-p-...``; unchanged if it has none):
    an STDP layer's currents are standardised without labels (STDPLayer.load_stdp), not by a trained norm."""
    first, *rest = ARCHS.get(arch, arch).split("-")
    if first.startswith("c") and first.endswith("b"):
        return "-".join([first[:-1], *rest])
    return arch


class STDPLayer:
    """Mixin for a :class:`~networks.cnn.Backbone`: layer 0 holds STDP-learned weights, frozen, with a bias
    (the standardisation's shift) and no batch norm. ``on_off=True`` (a Backbone option): layer 0 reads the
    input's ON and OFF channels, what networks.conv_stdp learns filters on."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        if not isinstance(self.norms[0], torch.nn.Identity):
            raise ValueError(f"layer 0 of an STDP net cannot have a batch norm (its currents are standardised "
                             f"without labels); {self.arch!r} has one: use {stdp_arch(self.arch)!r}")
        first = self.layers[0]
        if first.bias is None:
            first.bias = torch.nn.Parameter(torch.zeros(first.weight.shape[0]))
        for param in first.parameters():   # set by load_stdp, never trained
            param.requires_grad_(False)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", layer 0 from STDP (frozen{', ON/OFF input' if self.on_off else ''})"

    @torch.no_grad()
    def load_stdp(self, w: np.ndarray, x_calib) -> dict:
        """Layer 0 := STDP weights ``w`` (a Diehl & Cook network's (n_input, n_exc), or conv filters
        (maps, 2C, k, k)), each neuron's current standardised over ``x_calib`` (the expected input:
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
        unit = getattr(self, "threshold", 1.0)    # a spiking net: one threshold; an ANN: 1, as a batch norm's
        shape = (-1,) + (1,) * (w.ndim - 1)
        first.weight.copy_(w / std.view(shape) * unit)
        first.bias.copy_(-mean / std * unit)
        return {"current_mean": mean.cpu().tolist(), "current_std": std.cpu().tolist()}


class STDPNet(STDPLayer, SpikingNet):
    """``SpikingNet`` whose layer 0 holds STDP-learned weights, frozen."""

    def __init__(self, arch: str = "f400-f256", in_shape=(1, 28, 28), n_classes: int = 10, **kw):
        super().__init__(arch, in_shape, n_classes, **kw)


class STDPCNN(STDPLayer, CNN):
    """``CNN`` (ReLU) whose layer 0 holds STDP-learned weights, frozen: the ANN stage of the CIFAR-10 recipe."""


def load_stdp_run(run_dir) -> tuple[np.ndarray, np.ndarray, dict]:
    """(w, theta_mV, config) of a ``bio.train_stdp`` run, without pickle, checked (bio.frozen.load_trained)."""
    from bio.frozen import load_trained
    from runstore.files import load_json

    _, w, theta_mV = load_trained(run_dir)
    return w, theta_mV, load_json(Path(run_dir) / "config.json")
