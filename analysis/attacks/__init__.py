"""Gradient attacks, one short file each over one base class (torchattacks style).

    atk = PGD(model, eps=0.1, alpha=0.01, steps=40, restarts=2, eot=4)
    x_adv = atk(x, y)

``model`` maps images in [0, 1] to class scores (logits or any score whose
argmax is the prediction). For a random model (Poisson input) set ``eot`` to
average the gradient over that many forward passes.

AutoAttack's suite (torchattacks): "apgd-ce", "apgd-dlr" and "square-ta"; an
example is robust only if no attack fooled it (``worst_case``).
"""
from __future__ import annotations

from analysis.attacks.autoattack import APGD, APGDCE, APGDDLR, SquareTA, worst_case
from analysis.attacks.base import Attack
from analysis.attacks.fgsm import FGSM
from analysis.attacks.pgd import PGD
from analysis.attacks.square import Square

ATTACKS = {"fgsm": FGSM, "pgd": PGD, "square": Square, "apgd-ce": APGDCE, "apgd-dlr": APGDDLR, "square-ta": SquareTA}


def make_attack(name: str, model, eps: float, **kw) -> Attack:
    try:
        cls = ATTACKS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown attack {name!r}; choose from {', '.join(ATTACKS)}") from None
    return cls(model, eps=eps, **kw)


def attack_settings(name: str, *, eot: int, loss: str, pgd_steps: int, pgd_alpha: float | None, pgd_restarts: int,
                    apgd_iter: int | None = None) -> dict:
    """The keyword arguments of :func:`make_attack` for attack ``name`` (analysis.attack and the cells of
    analysis.compare): ``eot`` Poisson draws per gradient (1 for a deterministic model), ``loss`` for FGSM and
    PGD (APGD and Square bring their own losses: ce / dlr, margin), PGD's steps, step (None: PGD's own
    2.5 eps / steps) and restarts, and APGD's iterations (None: APGD's default). The cells' cache names hash
    this dict: a new key changes them all."""
    kw = {"eot": eot}
    if name in ("fgsm", "pgd"):
        kw["loss"] = loss
    if name == "pgd":
        kw.update(steps=pgd_steps, alpha=pgd_alpha, restarts=pgd_restarts)
    if name.startswith("apgd") and apgd_iter is not None:
        kw["n_iter"] = apgd_iter
    return kw


__all__ = ["ATTACKS", "APGD", "APGDCE", "APGDDLR", "Attack", "FGSM", "PGD", "Square", "SquareTA", "attack_settings",
           "make_attack", "worst_case"]
