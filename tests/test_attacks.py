import numpy as np
import pytest
import torch

from analysis.attacks import FGSM, PGD, Square, make_attack
from analysis.metrics import robustness


@pytest.fixture
def linear():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(30, 4))
    x = torch.rand(64, 30)
    return model, x, model(x).argmax(1)


@pytest.mark.parametrize("cls", [FGSM, PGD])
def test_perturbation_stays_in_the_ball_and_the_image_range(cls, linear):
    model, x, y = linear
    x_adv = cls(model, eps=0.1)(x, y)
    assert (x_adv - x).abs().max() <= 0.1 + 1e-6
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert torch.equal(cls(model, eps=0.0)(x, y), x)


def test_accuracy_falls_with_eps_and_pgd_is_at_least_as_strong(linear):
    model, x, y = linear
    acc = lambda a: (a.predict(a(x, y)) == y).float().mean().item()  # noqa: E731
    fgsm = [acc(FGSM(model, e)) for e in (0.02, 0.05, 0.1, 0.5)]
    pgd = [acc(PGD(model, e, steps=20, restarts=2)) for e in (0.02, 0.05, 0.1, 0.5)]
    assert all(a >= b for a, b in zip(fgsm, fgsm[1:]))
    assert all(p <= f + 1e-9 for p, f in zip(pgd, fgsm))
    assert pgd[-1] == 0.0


def test_eot_averages_the_gradient_of_a_random_model():
    torch.manual_seed(1)
    w = torch.randn(10, 2)

    def noisy(x):  # the score's gradient is w plus zero-mean noise
        return x @ (w + 3 * torch.randn_like(w))

    x, y = torch.rand(200, 10), torch.zeros(200, dtype=torch.long)
    true = torch.autograd.functional.jacobian(lambda z: torch.nn.functional.cross_entropy(z @ w, y, reduction="sum"), x)
    err = lambda k: (FGSM(noisy, 0.1, eot=k).gradient(x, y) - true).abs().mean().item()  # noqa: E731
    assert err(32) < 0.5 * err(1)


def test_margin_loss_and_bad_parameters():
    atk = FGSM(lambda x: x, eps=0.1, loss="margin")
    scores = torch.tensor([[3.0, 1.0, 2.0]])
    assert atk.loss(scores, torch.tensor([0])).item() == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        make_attack("cw", None, 0.1)
    with pytest.raises(ValueError):
        FGSM(None, eps=-1)
    with pytest.raises(ValueError):
        FGSM(lambda x: x, 0.1)(torch.full((1, 3), 2.0), torch.tensor([0]))


def test_attack_success_rate_counts_only_clean_correct_examples():
    r = robustness(y=[0, 1, 2, 3], pred_clean=[0, 1, 2, 0], pred_adv=[1, 1, 0, 3])
    assert r["clean_accuracy"] == 0.75 and r["adv_accuracy"] == 0.5
    assert r["attack_success_rate"] == pytest.approx(2 / 3)
    assert np.isnan(robustness([0], [1], [1])["attack_success_rate"])


def test_square_attack_needs_no_gradient_and_fools_a_linear_model(linear):
    model, x, y = linear

    @torch.no_grad()
    def black_box(z):   # no autograd graph: a gradient attack could not run on it
        return model(z.reshape(len(z), -1))

    img = x.reshape(64, 1, 5, 6)
    atk = Square(black_box, eps=0.3, queries=200, seed=0)
    x_adv = atk(img, y)
    assert (x_adv - img).abs().max() <= 0.3 + 1e-6
    acc = (black_box(x_adv).argmax(1) == y).float().mean().item()
    assert acc < 0.5
    assert atk.queries_used.max() <= 200
