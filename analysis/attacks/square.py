"""Square attack, L-infinity (Andriushchenko et al. 2020): no gradient needed.

A score-based random search: start from vertical stripes of +-eps, then try
a random square of +-eps per channel at a time and keep it when the margin
loss rises. It only calls ``model`` (images in, class scores out), so it runs
directly on the Brian2 network and shows whether the twin-crafted gradient
attack is as strong as it should be. Each iteration is one batched call on
the examples not yet fooled.
"""
from __future__ import annotations

import math

import torch

from analysis.attacks.base import Attack


class Square(Attack):
    def __init__(self, model, eps, queries=300, p_init=0.1, seed=0, **kw):
        kw.setdefault("loss", "margin")
        super().__init__(model, eps, **kw)
        if queries < 1:
            raise ValueError(f"queries must be >= 1, got {queries}")
        self.queries, self.p_init, self.seed = int(queries), float(p_init), int(seed)
        self.queries_used = None

    def _p(self, it: int) -> float:
        # the paper's schedule for 10k queries, rescaled to this budget
        frac = it / self.queries * 10000
        for bound, div in ((10, 1), (50, 2), (200, 4), (500, 8), (1000, 16), (2000, 32), (4000, 64),
                           (6000, 128), (8000, 256)):
            if frac <= bound:
                return self.p_init / div
        return self.p_init / 512

    @torch.no_grad()
    def forward(self, x, y):
        g = torch.Generator(device="cpu").manual_seed(self.seed)
        n, c, h, w = x.shape if x.dim() == 4 else (x.shape[0], 1, *x.shape[1:])
        img = x.reshape(n, c, h, w)
        stripes = torch.randint(0, 2, (n, c, 1, w), generator=g).to(x) * 2 - 1
        x_adv = self.project(img + self.eps * stripes, img)
        loss = self.loss(self.model(x_adv.reshape(x.shape)), y)
        self.queries_used = torch.ones(n, dtype=torch.long)
        for it in range(1, self.queries):
            todo = (loss <= 0).nonzero().flatten()   # margin > 0: already fooled
            if len(todo) == 0:
                break
            side = max(1, min(h - 1, int(round(math.sqrt(self._p(it) * h * w)))))
            cand = x_adv[todo].clone()
            for k in range(len(todo)):
                r, s = (int(v) for v in torch.randint(0, h - side + 1, (2,), generator=g))
                sign = (torch.randint(0, 2, (c, 1, 1), generator=g).to(x) * 2 - 1)
                cand[k, :, r:r + side, s:s + side] = img[todo[k], :, r:r + side, s:s + side] + self.eps * sign
            cand = self.project(cand, img[todo])
            new = self.loss(self.model(cand.reshape(len(todo), *x.shape[1:])), y[todo])
            better = new > loss[todo]
            x_adv[todo[better]] = cand[better]
            loss[todo[better]] = new[better]
            self.queries_used[todo.cpu()] += 1
        return x_adv.reshape(x.shape)
