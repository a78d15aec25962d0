"""Threshold Guarding Optimization (Wang et al. 2026, seed 002).

Neurons whose membrane potential sits near threshold flip under small input
perturbations, and their surrogate gradients carry the attack. TGO trains the
surrogate SNN with

1. a guarding loss that pushes potentials out of a band around threshold:
   per neuron and step ``relu(1 - |u - thr| / (margin * thr))^2``, which is 1
   at threshold, 0 at ``margin`` thresholds or farther, averaged over every
   hidden layer, step and neuron; weighted by ``guard`` in the total loss;
2. noisy (probabilistic) spiking neurons: :class:`SpikingNet`'s ``noise``.

The seed gives only the abstract; the band, its quadratic shape and the
Gaussian threshold noise are this project's reading of it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from networks.snn import SpikingNet

GUARD, MARGIN, NOISE = 0.5, 0.3, 0.1   # defaults: loss weight, band in thresholds, threshold noise std


def guard_loss(potentials, threshold: float, margin: float) -> torch.Tensor:
    """Mean closeness to threshold of the potentials (list of tensors), in [0, 1]."""
    if margin <= 0:
        raise ValueError(f"margin must be > 0, got {margin}")
    terms = [F.relu(1 - (u - threshold).abs() / (margin * threshold)).square().mean() for u in potentials]
    return torch.stack(terms).mean()


class TGONet(SpikingNet):
    def __init__(self, *args, guard: float = GUARD, margin: float = MARGIN, noise: float = NOISE, **kw):
        super().__init__(*args, noise=noise, **kw)
        if guard < 0 or margin <= 0:
            raise ValueError(f"need guard >= 0 and margin > 0, got guard={guard}, margin={margin}")
        self.guard, self.margin = float(guard), float(margin)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", guard={self.guard:g}, margin={self.margin:g}"

    def training_loss(self, x, y, label_smoothing: float = 0.0):
        logits, rec = self(x, record=True)
        mems = [rec[f"mem.{i}"] for i in range(self.n_hidden)]
        return F.cross_entropy(logits.float(), y, label_smoothing=label_smoothing) + self.guard * guard_loss(mems, self.threshold, self.margin), logits
