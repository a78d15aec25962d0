"""Robustness numbers, defined once.

attack success rate: the share of examples the model classifies correctly
when clean that the attack turns wrong (examples already wrong are left out).
"""
from __future__ import annotations

import numpy as np


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
