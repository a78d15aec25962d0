"""Attacks through the twin of a small trained network are strong enough to trust.

The network: 10 exc neurons whose weights are the class-mean images of 200
training digits (the prototypes STDP converges to), normalised to 78 as in
training, and assigned one class each. Synthetic bars stand in for MNIST when
the data are not there.
"""
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from analysis.attacks import FGSM, PGD
from bio.parameters import NetworkConfig, W_NORM_SUM
from readout.assignment_torch import class_scores
from networks.twin import DiehlCookTwin
from tests.conftest import bars

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def trained():
    root = os.environ.get("SNN_DATA_DIR")
    if root and (Path(root) / "mnist" / "train-images-idx3-ubyte.gz").is_file():
        import imagesets

        x, y = imagesets.load("mnist", "train", download=False)
        x, y, classes = x[:400], y[:400], 10
    else:
        x, y = bars(400)
        classes = 2
    x = x.reshape(len(x), -1) / 255.0
    protos = np.stack([x[:200][y[:200] == c].mean(0) for c in range(classes)], axis=1) + 1e-3
    w = protos * W_NORM_SUM / protos.sum(0)
    twin = DiehlCookTwin(w, np.full(classes, 20.0), NetworkConfig(n_exc=classes), rest=False, dtype=torch.float32)
    assignments = np.arange(classes)
    model = lambda z: class_scores(twin(z), assignments, classes)  # noqa: E731
    xt = torch.tensor(x[200:260], dtype=torch.float32)
    yt = torch.tensor(y[200:260], dtype=torch.long)
    return model, xt, yt


def accuracy(model, x, y, draws=3):
    with torch.no_grad():
        return float(np.mean([(model(x).argmax(1) == y).float().mean().item() for _ in range(draws)]))


def test_gradients_are_not_masked(trained):
    model, x, y = trained
    g = FGSM(model, 0.1, loss="margin").gradient(x[:20], y[:20])
    assert torch.isfinite(g).all()
    assert (g.abs().flatten(1).sum(1) > 0).all()   # every example gets a direction


def test_accuracy_falls_with_eps_pgd_beats_fgsm_and_reaches_zero(trained):
    model, x, y = trained
    torch.manual_seed(0)
    clean = accuracy(model, x, y)
    assert clean > 0.5
    fgsm = [accuracy(model, FGSM(model, e, loss="margin")(x, y), y) for e in (0.05, 0.1, 0.2, 0.5)]
    pgd = [accuracy(model, PGD(model, e, steps=3, loss="margin")(x, y), y) for e in (0.1, 0.5)]
    # draws of the Poisson input make each accuracy noisy by a few points
    assert all(b <= a + 0.05 for a, b in zip([clean] + fgsm, fgsm))
    assert pgd[0] <= fgsm[1] + 0.05
    assert pgd[1] <= 0.05 and fgsm[-1] <= 0.15
