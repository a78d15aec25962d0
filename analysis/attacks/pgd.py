"""Projected gradient descent, L-infinity (Madry et al. 2018).

Random start in the eps-ball, ``steps`` signed steps of size ``alpha``, and
``restarts`` independent runs keeping, per example, the one that fooled the
model (or reached the highest loss). With ``restarts=0`` it starts at x.
"""
from __future__ import annotations

import torch

from analysis.attacks.base import Attack


class PGD(Attack):
    def __init__(self, model, eps, alpha=None, steps=10, restarts=1, random_start=True, **kw):
        super().__init__(model, eps, **kw)
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        if restarts < 1:
            raise ValueError(f"restarts must be >= 1, got {restarts}")
        self.alpha = float(alpha) if alpha is not None else 2.5 * self.eps / steps
        self.steps, self.restarts, self.random_start = int(steps), int(restarts), bool(random_start)

    def _one_run(self, x, y):
        x_adv = x.clone()
        if self.random_start:
            x_adv = self.project(x + torch.empty_like(x).uniform_(-self.eps, self.eps), x)
        for _ in range(self.steps):
            x_adv = self.project(x_adv + self.alpha * self.gradient(x_adv, y).sign(), x)
        return x_adv

    def forward(self, x, y):
        best = x.clone()
        best_fooled = torch.zeros(len(x), dtype=torch.bool, device=x.device)
        best_loss = torch.full((len(x),), float("-inf"), device=x.device)
        for _ in range(self.restarts):
            x_adv = self._one_run(x, y)
            with torch.no_grad():
                scores = self.model(x_adv)
                fooled = scores.argmax(dim=1) != y
                loss = self.loss(scores, y)
            # prefer a run that fools the model, then the higher loss
            better = (fooled & ~best_fooled) | ((fooled == best_fooled) & (loss > best_loss))
            best[better] = x_adv[better]
            best_fooled |= fooled
            best_loss = torch.where(better, loss, best_loss)
        return best
