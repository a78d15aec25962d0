"""ANN-to-SNN conversion with data-based threshold balancing.

A trained :class:`CNN` (ReLU, average pooling, with or without biases) becomes
a :class:`SpikingNet` of IF (or LIF) neurons with threshold 1 and reset by
subtraction, whose spike rates approximate the ReLU activations divided by a
per-layer scale (Diehl et al. 2015; Rueckauer et al. 2017): the scale of
hidden layer l is the maximum (percentile=100) or a percentile of its positive
activations on calibration images, and

    W_l <- W_l * scale_{l-1} / scale_l,    b_l <- b_l / scale_l,    scale_0 = 1

(inputs are in [0, 1], so rate = intensity needs no scale). The output layer
keeps scale 1: its mean input current over T approximates the CNN's logits.
A CNN with batch norm is first folded into one without (networks.cnn.fold_batchnorm:
exact in eval mode), so the SNN's architecture is the CNN's without its norms. A CNN
whose layer 0 reads ON/OFF channels (``on_off``: the STDP layer of networks.stdp_net)
gives an SNN that reads them too; its layer 0 is scaled like any other, by one scalar,
so its receptive fields stay what they were.
"""
from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from networks.cnn import CNN, fold_batchnorm
from networks.snn import SpikingNet

SAMPLE_PER_BATCH = 200_000   # positive activations kept per layer and batch for the percentile


@torch.no_grad()
def activation_scales(cnn: CNN, images, percentile: float = 99.9, batch_size: int = 256, seed: int = 0,
                      progress: bool = False) -> list[float]:
    """Per hidden layer, the given percentile of its positive activations on ``images``."""
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    cnn.eval()
    gen = torch.Generator().manual_seed(seed)
    device = next(cnn.parameters()).device
    samples = [[] for _ in range(cnn.n_hidden)]
    peak = [0.0] * cnn.n_hidden
    for k in tqdm(range(0, len(images), batch_size), desc="calibrating the conversion", disable=not progress,
                  dynamic_ncols=True):
        _, rec = cnn(torch.as_tensor(images[k:k + batch_size]).to(device), record=True)
        for i in range(cnn.n_hidden):
            a = rec[f"act.{i}"]
            a = a[a > 0].cpu()
            if len(a):
                peak[i] = max(peak[i], a.max().item())
                # Percentiles of huge conv layers from a uniform subsample.
                if len(a) > SAMPLE_PER_BATCH:
                    a = a[torch.randint(len(a), (SAMPLE_PER_BATCH,), generator=gen)]
                samples[i].append(a.numpy())
    scales = []
    for i in range(cnn.n_hidden):
        if not samples[i]:
            raise ValueError(f"layer {i} never activates on the calibration images; cannot set its scale")
        scales.append(peak[i] if percentile == 100 else float(np.percentile(np.concatenate(samples[i]), percentile)))
    return scales


def snn_kwargs(cnn: CNN) -> dict:
    """The architecture arguments a SpikingNet needs to take ``cnn``'s weights."""
    return dict(arch=cnn.arch, in_shape=cnn.in_shape, n_classes=cnn.n_classes,
                bias=cnn.layers[0].bias is not None, on_off=cnn.on_off)


@torch.no_grad()
def convert(cnn: CNN, images, *, percentile: float = 99.9, T: int = 100, leak: float = 1.0,
            encoding: str = "poisson", progress: bool = False, **snn_options) -> tuple[SpikingNet, list[float]]:
    """(the converted SNN, the per-layer scales) from a trained CNN and calibration images."""
    if cnn.has_batchnorm:
        cnn = fold_batchnorm(cnn)
    scales = activation_scales(cnn, images, percentile, progress=progress)
    snn = SpikingNet(**snn_kwargs(cnn), T=T, leak=leak, threshold=1.0, encoding=encoding,
                     readout="mem", reset="subtract", **snn_options).to(next(cnn.parameters()).device)
    prev = 1.0
    for layer, src, scale in zip(snn.layers, cnn.layers, scales + [1.0]):
        layer.weight.copy_(src.weight * (prev / scale))
        if src.bias is not None:
            layer.bias.copy_(src.bias / scale)
        prev = scale
    return snn.eval(), scales
