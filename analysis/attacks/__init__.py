"""Gradient attacks, one short file each over one base class (torchattacks style).

    atk = PGD(model, eps=0.1, alpha=0.01, steps=40, restarts=2, eot=4)
    x_adv = atk(x, y)

``model`` maps images in [0, 1] to class scores (logits or any score whose
argmax is the prediction). For a random model (Poisson input) set ``eot`` to
average the gradient over that many forward passes.

AutoAttack's suite (torchattacks): "apgd-ce", "apgd-dlr" and "square-ta"; an
example is robust only if no attack fooled it (``worst_case``).
"""
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


__all__ = ["ATTACKS", "APGD", "APGDCE", "APGDDLR", "Attack", "FGSM", "PGD", "Square", "SquareTA", "make_attack",
           "worst_case"]
