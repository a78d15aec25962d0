import numpy as np
import pytest
import torch

from analysis.attacks import APGDCE, APGDDLR, FGSM, PGD, Square, SquareTA, attack_settings, make_attack, worst_case
from analysis.metrics import robustness, zero_gradient_share
from networks.cnn import CNN
from tests.conftest import bars


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


@pytest.fixture(scope="module")
def tiny_cnn():
    """A small CNN fitted to 8x8 images labelled by a random linear teacher (4 classes), and 64 of them."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)    # set up before conftest's one_thread, which is per test
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(256, 1, 8, 8, generator=g)
    y = ((x.flatten(1) - 0.5) @ torch.randn(64, 4, generator=g)).argmax(1)
    cnn = CNN("c4-p-f16", in_shape=(1, 8, 8), n_classes=4, bias=True)
    opt = torch.optim.Adam(cnn.parameters(), 1e-2)
    for _ in range(100):
        loss, _ = cnn.training_loss(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch.set_num_threads(threads)
    return cnn.eval(), x[:64], y[:64]


def test_apgd_is_at_least_as_strong_as_fgsm_and_the_worst_case_is_the_strongest(tiny_cnn):
    # A trained (nonlinear) model: on a linear one FGSM's single step is already near the best vertex of
    # the ball, and a CE-ascending APGD can end one example short of it; hence the worst case.
    model, x, y = tiny_cnn
    predict = lambda z: model(z).argmax(1)  # noqa: E731
    acc = lambda z: (predict(z) == y).float().mean().item()  # noqa: E731
    assert acc(x) > 0.8
    for eps in (0.02, 0.05):
        adv = {"fgsm": FGSM(model, eps)(x, y), "apgd-ce": APGDCE(model, eps, seed=0)(x, y),
               "apgd-dlr": make_attack("apgd-dlr", model, eps, seed=0)(x, y)}
        assert all((a - x).abs().max() <= eps + 1e-6 and 0 <= a.min() and a.max() <= 1 for a in adv.values())
        assert acc(adv["apgd-ce"]) <= acc(adv["fgsm"])
        robust = worst_case(predict, x, y, adv)
        assert robust.dtype == torch.bool and robust.shape == y.shape
        assert all(robust.float().mean().item() <= acc(a) for a in adv.values())
    # a large eps fools every example
    assert acc(APGDCE(model, 0.5, n_iter=20)(x, y)) == 0.0 and acc(APGDDLR(model, 0.5, n_iter=20)(x, y)) == 0.0
    with pytest.raises(TypeError):   # APGD-CE ascends cross-entropy and nothing else
        make_attack("apgd-ce", model, 0.1, loss="margin")


def test_apgd_averages_eot_gradients_and_square_ta_needs_none(tiny_cnn, linear):
    model, x, y = tiny_cnn
    noisy = lambda z: model(z + 0.05 * torch.randn_like(z))  # noqa: E731   a random model
    model.train()   # no dropout in it: the same outputs; torchattacks' eval()/train() must leave the mode alone
    x_adv = APGDCE(noisy, 0.1, n_iter=20, eot=4)(x, y)
    assert model.training
    model.eval()
    assert x_adv.shape == x.shape and (model(x_adv).argmax(1) == y).float().mean() < 0.2
    model, x, y = linear
    img = x.reshape(64, 1, 5, 6)

    @torch.no_grad()
    def black_box(z):
        return model(z.reshape(len(z), -1))

    x_adv = SquareTA(black_box, 0.3, queries=100, seed=0)(img, y)
    assert (x_adv - img).abs().max() <= 0.3 + 1e-6
    assert (black_box(x_adv).argmax(1) == y).float().mean() < 0.5


def test_zero_gradient_share_finds_the_masking_of_a_bias_free_relu_net():
    torch.manual_seed(0)
    x, y = bars(32)
    x, y = torch.as_tensor(x).float() / 255, torch.as_tensor(y)
    # Without biases the first layer's pre-activation is exactly 0 on the zero background: no gradient there.
    bare = CNN("c4-p-f16")
    share = zero_gradient_share(bare, x, y)
    assert share > 0.5
    assert zero_gradient_share(bare, x, y, batch_size=10) == share    # deterministic, whatever the batches
    # Positive biases make the background's pre-activations positive: the gradient reaches every pixel.
    biased = CNN("c4-p-f16", bias=True)
    biased.load_state_dict({**bare.state_dict(), **{k: v for k, v in biased.state_dict().items() if "bias" in k}})
    for layer in biased.layers:
        torch.nn.init.uniform_(layer.bias, 0.05, 0.2)
    assert zero_gradient_share(biased, x, y) < 0.05


def test_attack_settings_are_the_dicts_the_cache_names_hash():
    """analysis.compare's cell names hash these dicts and analysis.attack crafts with them: a changed
    key would recompute every saved cell."""
    pgd = dict(pgd_steps=40, pgd_alpha=None, pgd_restarts=2)
    assert attack_settings("pgd", eot=4, loss="ce", apgd_iter=100, **pgd) == \
        {"eot": 4, "loss": "ce", "steps": 40, "alpha": None, "restarts": 2}
    assert attack_settings("fgsm", eot=1, loss="margin", apgd_iter=100, **pgd) == {"eot": 1, "loss": "margin"}
    assert attack_settings("apgd-dlr", eot=4, loss="ce", apgd_iter=100, **pgd) == {"eot": 4, "n_iter": 100}
    assert attack_settings("apgd-ce", eot=1, loss="ce", **pgd) == {"eot": 1}   # analysis.attack: APGD's default
