"""Convolutional filters learned without labels by STDP (Kheradpisheh et al. 2018's rule).

Each training image is shown for ``T`` steps as Bernoulli spikes (rate = intensity, the encoding of
:class:`~networks.snn.SpikingNet`) on two channels per colour channel, ON (the pixel spiked) and OFF
(it did not), to a layer of non-leaky integrate-and-fire neurons sharing the filters. Without the OFF
channel a patch inside a stroke drives every filter hardest and every filter learns "all ink"; with it
every patch has the same number of active inputs and a filter wins where its pattern of ink and
background (of each colour) matches. Per image at most ``winners`` neurons learn: the earliest to
cross ``threshold`` (ties: the highest potential), one per feature map, none within ``radius`` of an
earlier winner (lateral inhibition). A winner's filter follows the simplified STDP rule with soft bounds

    dw =  a_plus  * w * (1 - w)   for inputs that spiked at or before the winner's spike
    dw =  a_minus * w * (1 - w)   for the others (a_minus < 0)

so its weights settle near 0 or 1. No labels are read.

    w = learn_filters(x_train[:5000], n_maps=32, kernel=3, seed=0)   # MNIST: (32, 2, 3, 3) in [0, 1]
    w = learn_filters(x_rgb[:5000], n_maps=64, kernel=3, seed=0)     # colour (N, 3, H, W): (64, 6, 3, 3)
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

# Kheradpisheh et al. 2018 start at a_plus 0.004, a_minus -0.003; a larger step at the same ratio
# converges on a few thousand images.
A_PLUS, A_MINUS = 0.02, -0.015
W_INIT_MEAN, W_INIT_STD = 0.8, 0.05


def on_off(spikes: torch.Tensor) -> torch.Tensor:
    """(..., C, H, W) spikes -> (..., 2C, H, W): the C ON channels, then their complements (OFF)."""
    return torch.cat([spikes, 1 - spikes], dim=-3)


def first_spikes(potential: torch.Tensor, threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per neuron of (T, maps, H, W) cumulative potentials: the first step at or above threshold (T if
    none) and the potential at the last step."""
    T = potential.shape[0]
    above = potential >= threshold
    t_first = torch.where(above.any(0), above.to(torch.uint8).argmax(0), torch.full_like(above[0], T, dtype=torch.long))
    return t_first, potential[-1]


def pick_winners(t_first: torch.Tensor, v_last: torch.Tensor, T: int, winners: int, radius: int) -> list:
    """(map, row, col, step) of up to ``winners`` neurons: earliest spike first, then highest potential;
    one per map, none within ``radius`` (Chebyshev distance) of an earlier winner."""
    score = torch.where(t_first < T, (T - t_first).double() * 1e6 + v_last.double(), torch.zeros_like(v_last.double()))
    out = []
    for _ in range(winners):
        flat = int(score.argmax())
        if score.view(-1)[flat] <= 0:
            break
        f, r, c = (int(v) for v in np.unravel_index(flat, score.shape))
        out.append((f, r, c, int(t_first[f, r, c])))
        score[f] = 0                                                                       # one per map
        score[:, max(0, r - radius):r + radius + 1, max(0, c - radius):c + radius + 1] = 0   # inhibition
    return out


def stdp_update(w: torch.Tensor, spiked: torch.Tensor, a_plus: float = A_PLUS, a_minus: float = A_MINUS):
    """The simplified STDP rule for one filter ``w`` (C, k, k), given which inputs of its patch spiked at
    or before the winner did."""
    soft = w * (1 - w)
    return (w + torch.where(spiked, a_plus * soft, a_minus * soft)).clamp(0, 1)


@torch.no_grad()
def learn_filters(images, n_maps: int = 32, kernel: int = 3, *, T: int = 10, threshold: float | None = None,
                  winners: int | None = None, radius: int = 1, epochs: int = 1, seed: int = 0,
                  progress: bool = True) -> np.ndarray:
    """Filters (n_maps, 2C, kernel, kernel) in [0, 1] learned by STDP on images (N, H, W) (grayscale,
    C = 1) or (N, C, H, W), uint8 or floats in [0, 1]; the channels are ordered as :func:`on_off`
    gives them. ``threshold`` defaults to twice the initial potential of one step (every patch has
    C * kernel**2 active inputs, one of ON or OFF per pixel and colour): a neuron fires at its second
    step at the earliest.
    ``winners`` defaults to one per map: with fewer, the first maps to specialise win every image
    and the others never learn (measured with 5 winners: 5 of 32 maps learned on 3,000 MNIST images,
    convergence 0.13 against 0.0003)."""
    winners = n_maps if winners is None else winners
    x = torch.as_tensor(images)
    x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
    x = x.unsqueeze(1) if x.ndim == 3 else x
    if x.ndim != 4 or x.min() < 0 or x.max() > 1:
        raise ValueError(f"learn_filters takes images (N, H, W) or (N, C, H, W), uint8 or floats in [0, 1]; "
                         f"got shape {tuple(x.shape)}, values in [{float(x.min()):g}, {float(x.max()):g}]")
    channels = x.shape[1]
    gen = torch.Generator().manual_seed(seed)
    w = (W_INIT_MEAN + W_INIT_STD * torch.randn(n_maps, 2 * channels, kernel, kernel, generator=gen)).clamp(0, 1)
    thr = threshold if threshold is not None else 2 * channels * kernel * kernel * W_INIT_MEAN
    pad = kernel // 2
    order = [int(i) for e in range(epochs)
             for i in torch.randperm(len(x), generator=torch.Generator().manual_seed(seed + e))]
    for i in tqdm(order, desc="conv STDP", unit="img", disable=not progress, dynamic_ncols=True):
        spikes = on_off((torch.rand((T, *x.shape[1:]), generator=gen) < x[i]).float())   # (T, 2C, H, W)
        # Each filter's total weight is scaled to the initial total before it competes (the synaptic
        # scaling of Diehl & Cook's weight normalisation): otherwise the filters with the largest
        # sums win every image, since every patch drives the same number of inputs.
        scaled = w * (w[0].numel() * W_INIT_MEAN / w.sum((1, 2, 3), keepdim=True).clamp_min(1e-9))
        potential = F.conv2d(F.pad(spikes, (pad,) * 4, value=0.0), scaled).cumsum(0)   # IF: no leak, no reset
        t_first, v_last = first_spikes(potential, thr)
        seen = F.pad(spikes.cumsum(0) > 0, (pad,) * 4)                                   # spiked by step t
        for f, r, c, t in pick_winners(t_first, v_last, T, winners, radius):
            w[f] = stdp_update(w[f], seen[t, :, r:r + kernel, c:c + kernel])
    return w.numpy()


def convergence(w: np.ndarray) -> float:
    """Kheradpisheh et al.'s C_l, the mean of w (1 - w): 0 once every weight is 0 or 1."""
    return float(np.mean(w * (1 - w)))
