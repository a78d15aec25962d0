"""AutoAttack's attacks (Croce & Hein 2020) from torchattacks 3.5.1, over our base class.

    atk = APGDCE(model, eps=0.1, n_iter=100, eot=4)
    x_adv = atk(x, y)
    robust = worst_case(predict, x, y, {"fgsm": x_fgsm, "apgd-ce": x_adv})

A fixed-step PGD can stop short of the worst case (steps too coarse to settle,
too fine to get there); APGD halves its step whenever the loss stops rising
and adds momentum, so it needs no tuning. "apgd-ce" ascends cross-entropy;
"apgd-dlr" the difference-of-logits ratio, -(z_y - max_{i!=y} z_i) / (z_1 - z_3)
over the sorted scores, which a shift or rescaling of the scores leaves alone:
it still has a gradient where a saturated softmax gives cross-entropy none,
and suits spike-count scores (it needs at least 3 classes). "square-ta" is
AutoAttack's gradient-free Square: if it beats the gradient attacks, their
gradients are masked. An example counts as robust only if no attack of the
suite fooled it (:func:`worst_case`), as AutoAttack reports robust accuracy.

torchattacks wants an ``nn.Module`` on (N, C, H, W) images; our models are
callables on images of any shape, so each call wraps the model in a tiny
module. APGD attacks only the examples it finds classified correctly on its
first forward pass; on a random (Poisson) model that is one draw.
"""
from __future__ import annotations

import torch
import torchattacks
from torch import nn

from analysis.attacks.base import Attack


class _Scores(nn.Module):
    """``model`` as the module torchattacks attacks; ``eot`` > 1 averages its scores over that many passes."""

    def __init__(self, model, shape, eot: int = 1):
        super().__init__()
        # Kept out of the module tree: torchattacks switches its module to eval() and back, which must not
        # change our model's mode.
        object.__setattr__(self, "fn", model)
        self.shape, self.eot = tuple(shape), eot
        # torchattacks reads the device from the first parameter (and prints a warning when there is none);
        # the attack sets the device per call anyway.
        self.anchor = nn.Parameter(torch.zeros(0), requires_grad=False)
        self.eval()

    def forward(self, x):
        x = x.reshape(len(x), *self.shape)
        return sum(self.fn(x) for _ in range(self.eot)) / self.eot


class _TorchAttack(Attack):
    """Runs the torchattacks attack ``self.build(module, seed)`` on images reshaped to (N, C, H, W).

    ``seed=None`` draws each call's seed from torch's generator: torchattacks reseeds the global
    generator with it, so a seeded caller still gets reproducible results, and batches different starts.
    """
    score_eot = False   # True: average scores over eot passes (no gradient to average)

    def __init__(self, model, eps, eot=1, seed=None):
        super().__init__(model, eps, eot=eot)   # the base's loss is unused: these attacks bring their own
        self.seed = seed

    def build(self, module, seed):  # pragma: no cover
        raise NotImplementedError

    def forward(self, x, y):
        n = len(x)
        shape4 = x.shape if x.dim() == 4 else (n, 1) + (1,) * (3 - x.dim()) + tuple(x.shape[1:])
        module = _Scores(self.model, x.shape[1:], self.eot if self.score_eot else 1)
        seed = self.seed if self.seed is not None else int(torch.randint(2**31 - 1, ()))
        atk = self.build(module, seed)
        atk.set_device(x.device)
        return atk(x.reshape(shape4), y).reshape(x.shape)


class APGD(_TorchAttack):
    """APGD, L-infinity, ``n_iter`` iterations per restart; ``eot`` gradients averaged (torchattacks' eot_iter)."""

    def __init__(self, model, eps, loss="ce", n_iter=100, restarts=1, rho=0.75, **kw):
        super().__init__(model, eps, **kw)
        if loss not in ("ce", "dlr"):
            raise ValueError(f"APGD's loss must be 'ce' or 'dlr', not {loss!r}")
        if n_iter < 1 or restarts < 1:
            raise ValueError(f"need n_iter >= 1 and restarts >= 1, got {n_iter}, {restarts}")
        self.apgd_loss, self.n_iter, self.restarts, self.rho = loss, int(n_iter), int(restarts), float(rho)

    def build(self, module, seed):
        return torchattacks.APGD(module, norm="Linf", eps=self.eps, steps=self.n_iter, n_restarts=self.restarts,
                                 seed=seed, loss=self.apgd_loss, eot_iter=self.eot, rho=self.rho)


class APGDCE(APGD):
    def __init__(self, model, eps, **kw):
        super().__init__(model, eps, loss="ce", **kw)


class APGDDLR(APGD):
    def __init__(self, model, eps, **kw):
        super().__init__(model, eps, loss="dlr", **kw)


class SquareTA(_TorchAttack):
    """torchattacks' Square, L-infinity, margin loss; 5000 queries per restart as in standard AutoAttack.

    It takes no gradient, so ``eot`` averages the scores of a random model over that many passes per query.
    """
    score_eot = True

    def __init__(self, model, eps, queries=5000, p_init=0.8, restarts=1, **kw):
        super().__init__(model, eps, **kw)
        if queries < 1 or restarts < 1:
            raise ValueError(f"need queries >= 1 and restarts >= 1, got {queries}, {restarts}")
        self.queries, self.p_init, self.restarts = int(queries), float(p_init), int(restarts)

    def build(self, module, seed):
        return torchattacks.Square(module, norm="Linf", eps=self.eps, n_queries=self.queries,
                                   n_restarts=self.restarts, p_init=self.p_init, loss="margin", seed=seed)


@torch.no_grad()
def worst_case(model_predict, x, y, adversarials: dict) -> torch.Tensor:
    """Per example, True if it is robust as AutoAttack counts it: classified right clean and under
    every attack's images (``adversarials``: {attack name: x_adv}). ``model_predict`` gives labels."""
    y = torch.as_tensor(y).cpu()
    right = lambda z: torch.as_tensor(model_predict(z)).cpu() == y  # noqa: E731
    robust = right(x)
    for x_adv in adversarials.values():
        robust &= right(x_adv)
    return robust
