"""The base of every gradient attack: loss, EOT-averaged input gradient, clipping."""
from __future__ import annotations

import torch
import torch.nn.functional as F


class Attack:
    """L-infinity attack on ``model`` within ``eps`` of x, images kept in [0, 1].

    ``eot``: forward/backward passes averaged per gradient (expectation over
    transformation) for models with random input encoding.
    ``loss``: "ce" (cross-entropy on the scores) or "margin" (best other score
    minus true score, CW-style; useful when scores are spike counts, not logits).
    """

    def __init__(self, model, eps: float, eot: int = 1, loss: str = "ce"):
        if eps < 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        if eot < 1:
            raise ValueError(f"eot must be >= 1, got {eot}")
        if loss not in ("ce", "margin"):
            raise ValueError(f"loss must be 'ce' or 'margin', not {loss!r}")
        self.model, self.eps, self.eot, self.loss_name = model, float(eps), int(eot), loss

    def loss(self, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per-example loss the attack ascends."""
        if self.loss_name == "ce":
            return F.cross_entropy(scores, y, reduction="none")
        true = scores.gather(1, y[:, None]).squeeze(1)
        other = scores.masked_fill(F.one_hot(y, scores.shape[1]).bool(), float("-inf")).amax(dim=1)
        return other - true

    def gradient(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Input gradient of the loss, averaged over ``eot`` forward passes."""
        grad = torch.zeros_like(x)
        for _ in range(self.eot):
            xi = x.detach().clone().requires_grad_(True)
            loss = self.loss(self.model(xi), y).sum()
            grad += torch.autograd.grad(loss, xi)[0]
        return grad / self.eot

    def project(self, x_adv: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(torch.min(torch.max(x_adv, x - self.eps), x + self.eps), 0.0, 1.0)

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x).argmax(dim=1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if x.min() < 0 or x.max() > 1:
            raise ValueError("attacks take images scaled to [0, 1]")
        if self.eps == 0:
            return x.detach().clone()
        return self.forward(x.detach(), y.detach()).detach()
