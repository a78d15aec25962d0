"""Gradient attacks, one short file each over one base class (torchattacks style).

    atk = PGD(model, eps=0.1, alpha=0.01, steps=40, restarts=2, eot=4)
    x_adv = atk(x, y)

``model`` maps images in [0, 1] to class scores (logits or any score whose
argmax is the prediction). For a random model (Poisson input) set ``eot`` to
average the gradient over that many forward passes.
"""
from analysis.attacks.base import Attack
from analysis.attacks.fgsm import FGSM
from analysis.attacks.pgd import PGD
from analysis.attacks.square import Square

ATTACKS = {"fgsm": FGSM, "pgd": PGD, "square": Square}


def make_attack(name: str, model, eps: float, **kw) -> Attack:
    try:
        cls = ATTACKS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown attack {name!r}; choose from {', '.join(ATTACKS)}") from None
    return cls(model, eps=eps, **kw)


__all__ = ["ATTACKS", "Attack", "FGSM", "PGD", "Square", "make_attack"]
