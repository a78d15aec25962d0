"""The label-assignment readout in torch, differentiable for attacks (the twin's readout).

Mirrors :mod:`readout.assignment` (numpy): the score of a class is the mean
spike count of the exc neurons assigned to it (0 for a class with none).
"""
from __future__ import annotations

import numpy as np
import torch


def class_scores(counts: torch.Tensor, assignments, n_classes: int = 10) -> torch.Tensor:
    """(B, n_classes) scores from (B, n_exc) counts; gradients flow to ``counts``.

    Sums then divides, like numpy's mean: for whole-number counts the scores
    are bit-identical to the numpy version, so argmax ties break the same way.
    """
    a = torch.as_tensor(np.asarray(assignments), device=counts.device)
    # Unassigned neurons (-1) match no class.
    members = (a[:, None] == torch.arange(n_classes, device=counts.device)).to(counts.dtype)
    return (counts @ members) / members.sum(0).clamp(min=1)


def predict(counts: torch.Tensor, assignments, n_classes: int = 10) -> torch.Tensor:
    """The class with the highest score (ties: lowest class, as numpy's argmax)."""
    return class_scores(counts, assignments, n_classes).argmax(dim=1)
