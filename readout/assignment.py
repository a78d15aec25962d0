"""Diehl & Cook label assignment: each exc neuron votes for its favourite class.

Assign on training examples only; assigning on the test set inflates accuracy.
"""
from __future__ import annotations

import numpy as np

UNASSIGNED = -1


def class_mean_counts(counts: np.ndarray, labels: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Mean spike count of every neuron for every class, shape (n_classes, n_neurons)."""
    counts = np.asarray(counts, dtype=np.float64)
    labels = np.asarray(labels)
    if counts.ndim != 2 or len(counts) != len(labels):
        raise ValueError(f"counts must be (n_examples, n_neurons) matching {len(labels)} labels, got {counts.shape}")
    means = np.zeros((n_classes, counts.shape[1]))
    for c in range(n_classes):
        sel = labels == c
        if sel.any():
            means[c] = counts[sel].mean(axis=0)
    return means


def assign_labels(counts: np.ndarray, labels: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Class each neuron fires most for; ``UNASSIGNED`` for neurons that never fired."""
    means = class_mean_counts(counts, labels, n_classes)
    assignments = means.argmax(axis=0)
    assignments[means.max(axis=0) <= 0] = UNASSIGNED
    return assignments


def class_scores(counts: np.ndarray, assignments: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Mean count of the neurons assigned to each class, shape (n_examples, n_classes)."""
    counts = np.asarray(counts, dtype=np.float64)
    scores = np.zeros((len(counts), n_classes))
    for c in range(n_classes):
        sel = assignments == c
        if sel.any():
            scores[:, c] = counts[:, sel].mean(axis=1)
    return scores


def predict(counts: np.ndarray, assignments: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """The class whose assigned neurons fire most on average (ties: lowest class)."""
    return class_scores(counts, assignments, n_classes).argmax(axis=1)
