"""A torch readout: softmax regression on exc spike counts.

Trained on the frozen network's counts for training examples (the same ones
label assignment uses), so both readouts see the same data. Counts are
divided by a fixed scale (the mean total count per example) so the weights
do not depend on how active the network is; the model is differentiable, so
attacks through the twin can use it.
"""
from __future__ import annotations

import numpy as np
import torch

from runstore.files import check_array, check_keys, load_npz, save_npz


class SoftmaxReadout(torch.nn.Module):
    def __init__(self, n_neurons: int, n_classes: int = 10, scale: float = 1.0):
        super().__init__()
        self.linear = torch.nn.Linear(n_neurons, n_classes)
        self.register_buffer("scale", torch.tensor(float(scale)))

    def forward(self, counts: torch.Tensor) -> torch.Tensor:
        return self.linear(counts.to(self.linear.weight.dtype) / self.scale)

    @classmethod
    def fit(cls, counts, labels, n_classes=10, weight_decay=1e-4, epochs=300, seed=0) -> "SoftmaxReadout":
        """Full-batch L-BFGS on cross-entropy with L2 regularisation."""
        torch.manual_seed(seed)
        x = torch.as_tensor(np.asarray(counts), dtype=torch.float64)
        y = torch.as_tensor(np.asarray(labels), dtype=torch.long)
        scale = max(float(x.sum(dim=1).mean()), 1.0)
        model = cls(x.shape[1], n_classes, scale).double()
        opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=epochs, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y) + weight_decay * model.linear.weight.pow(2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        return model

    @torch.no_grad()
    def predict(self, counts) -> np.ndarray:
        x = torch.as_tensor(np.asarray(counts), dtype=self.linear.weight.dtype)
        return self(x).argmax(dim=1).numpy()

    def save(self, path) -> None:
        save_npz(path, weight=self.linear.weight.detach().cpu().numpy(),
                 bias=self.linear.bias.detach().cpu().numpy(), scale=np.float64(self.scale))

    @classmethod
    def load(cls, path) -> "SoftmaxReadout":
        d = load_npz(path)
        check_keys(path, d, ("weight", "bias", "scale"))
        weight = check_array(path, "weight", d["weight"], (None, None))
        bias = check_array(path, "bias", d["bias"], (weight.shape[0],))
        scale = check_array(path, "scale", d["scale"], ())
        m = cls(weight.shape[1], weight.shape[0], float(scale)).double()
        with torch.no_grad():
            m.linear.weight.copy_(torch.as_tensor(weight))
            m.linear.bias.copy_(torch.as_tensor(bias))
        return m
