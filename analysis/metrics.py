"""Robustness numbers, defined once.

attack success rate: the share of examples the model classifies correctly
when clean that the attack turns wrong (examples already wrong are left out).

zero-gradient share: the share of input-gradient entries that are exactly 0,
a check for gradient masking (:func:`zero_gradient_share`).
"""
from __future__ import annotations

import numpy as np
import torch

from analysis.attacks.base import Attack


def robustness(y, pred_clean, pred_adv) -> dict:
    y, pred_clean, pred_adv = (np.asarray(a) for a in (y, pred_clean, pred_adv))
    correct = pred_clean == y
    n_correct = int(correct.sum())
    flipped = int((correct & (pred_adv != y)).sum())
    return {
        "n": int(len(y)),
        "clean_accuracy": float(correct.mean()),
        "adv_accuracy": float((pred_adv == y).mean()),
        "attack_success_rate": float(flipped / n_correct) if n_correct else float("nan"),
    }


def zero_gradient_share(model_scores, x, y, loss: str = "ce", eot: int = 1, batch_size: int | None = None) -> float:
    """The share of input-gradient entries that are exactly 0, mean over examples and pixels.

    A sign-gradient attack (FGSM, PGD's steps: sign(0) = 0) never moves such a pixel, so a large share
    is gradient masking, not robustness. The classic case: a ReLU net without biases on MNIST, whose
    background is exactly 0, has first-layer pre-activations exactly 0 there, and ReLU's derivative at 0
    is 0. The gradient is the attacks' own (:meth:`Attack.gradient`, with ``loss`` and ``eot`` as there;
    with eot > 1 an entry counts only if its mean over the draws is 0). Deterministic for a deterministic
    model; seed torch first for a random one.
    """
    grad = Attack(model_scores, eps=0.0, eot=eot, loss=loss).gradient
    y = torch.as_tensor(y, device=x.device)
    step = batch_size or len(x)
    zeros = sum(int((grad(x[k:k + step], y[k:k + step]) == 0).sum()) for k in range(0, len(x), step))
    return zeros / x.numel()
