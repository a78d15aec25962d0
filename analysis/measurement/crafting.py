"""What both measurements of analysis.measurement build on: names and seeds of cached results, crafting
adversarial images, batched predictions, and the input quantizer (gradient passed straight through)."""
from __future__ import annotations

import hashlib
import json
import zlib

import numpy as np
import torch
from tqdm.auto import tqdm

from analysis.attacks import make_attack
from analysis.defaults import FULL_LEVELS


# --- names and seeds of cached results ---------------------------------------------------------
def digest(obj, length: int = 8) -> str:
    """Short hash of a JSON-able object: names cached results by everything they depend on. The sweeps
    and analysis.damping use 8 hex digits, analysis.compare's cells 10 (their saved names)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:length]


def cell_seed(seed: int, name: str) -> int:
    # Each cell draws its own Poisson spikes whatever ran before it, so a resumed run gives the same numbers.
    return (seed * 1_000_003 + zlib.crc32(name.encode())) % 2**31


# --- crafting on a differentiable model ---------------------------------------------------------
def craft(attack, x, y, batch_size, progress, desc):
    out = []
    for k in tqdm(range(0, len(x), batch_size), desc=desc, disable=not progress, dynamic_ncols=True):
        out.append(attack(x[k:k + batch_size], y[k:k + batch_size]))
    return torch.cat(out)


def craft_attack(name: str, scores, x, y, eps: float, seed: int, batch_size: int, progress: bool = False,
                 desc: str = "", **kw) -> torch.Tensor:
    """Adversarial images of attack ``name`` on ``scores``. Seeded first: the attack's random start and
    a spiking model's Poisson draws then repeat exactly when a cached result is recomputed."""
    torch.manual_seed(seed)
    return craft(make_attack(name, scores, eps, **kw), x, y, batch_size, progress, desc)


def fgsm(subj, x, y, eps: float, eot: int, seed: int, scores=None) -> torch.Tensor:
    """FGSM on a measured model (``subj``: its scores, batch size, loss, and whether it is random)."""
    x_adv = craft_attack("fgsm", scores or subj.scores, x, y, eps, seed, subj.batch_size,
                         eot=eot if subj.stochastic else 1, loss=subj.loss)
    return torch.where(torch.isfinite(x_adv), x_adv, x)   # an exploded (NaN) gradient leaves a pixel as it was


@torch.no_grad()
def batched_predict(scores, x, batch_size):
    return torch.cat([scores(x[k:k + batch_size]).argmax(1) for k in range(0, len(x), batch_size)]).cpu().numpy()


# --- input quantization ------------------------------------------------------------------------
def quantize(x: torch.Tensor, levels: int) -> torch.Tensor:
    """Intensities in [0, 1] rounded to ``levels`` evenly spaced values, gradient passed
    straight through (BPDA: rounding has zero gradient, so an attack would see none)."""
    if levels >= FULL_LEVELS:
        return x
    q = torch.round(x * (levels - 1)) / (levels - 1)
    return x + (q - x).detach()


def quantize_uint8(images: np.ndarray, levels: int) -> np.ndarray:
    if levels >= FULL_LEVELS:
        return images
    q = quantize(torch.as_tensor(images, dtype=torch.float64) / 255.0, levels)
    return (q * 255).round().to(torch.uint8).numpy()
