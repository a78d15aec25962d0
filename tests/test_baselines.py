"""The torch baselines on tiny data: training, conversion, TGO's loss, gradients, the CLI."""
import json

import pytest
import torch

from analysis.attacks import FGSM
from networks import stages, training
from networks import train as train_cli
from networks.cnn import CNN
from networks.converted import convert
from networks.pipeline import load_data
from networks.registry import build_model, load_checkpoint, load_model
from networks.snn import SpikingNet
from networks.tgo import TGONet, guard_loss
from runstore.cli import UserError
from tests.conftest import bars

TINY = "c4-p-f16"


def teacher_task(n=256, seed=0):
    """8x8 images labelled by a random linear teacher: 4 well-populated classes."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 8, 8, generator=g)
    y = ((x.flatten(1) - 0.5) @ torch.randn(64, 4, generator=g)).argmax(1)
    return x, y


def fit(model, x, y, steps, lr=1e-2):
    opt = torch.optim.Adam(model.parameters(), lr)
    losses = []
    for _ in range(steps):
        loss, _ = model.training_loss(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("net, kw", [("cnn", {}), ("cnn", dict(bias=True)), ("snn", dict(T=4)),
                                     ("snn", dict(T=4, readout="spikes", leak=1.0)), ("tgo", dict(T=4)),
                                     ("tgo", dict(T=4, bias=True)), ("converted", dict(T=4, encoding="direct"))])
def test_each_model_learns_on_tiny_data(net, kw):
    torch.manual_seed(0)
    x, y = (torch.as_tensor(a) for a in bars(32))
    model = build_model(net, arch=TINY, n_classes=2, **kw)
    losses = fit(model, x, y, 20)
    assert sum(losses[-3:]) < 0.5 * sum(losses[:3])


def test_records_have_one_entry_per_layer_and_time_step():
    x = torch.rand(3, 28, 28)
    _, rec = CNN(TINY)(x, record=True)
    assert rec["input"].shape == (3, 1, 28, 28) and rec["act.0"].shape == (3, 4, 28, 28) and rec["act.1"].shape == (3, 16)
    snn = SpikingNet(TINY, T=5)
    logits, rec = snn(x, record=True)
    assert rec["input_spikes"].shape == (3, 5, 1, 28, 28) and set(rec["input_spikes"].unique().tolist()) <= {0.0, 1.0}
    assert rec["spikes.0"].shape == rec["mem.0"].shape == (3, 5, 4, 28, 28) and rec["mem.1"].shape == (3, 5, 16)
    assert torch.allclose(rec["rate.1"], rec["spikes.1"].mean(1))
    assert torch.allclose(rec["out"][:, -1], logits)


def test_data_init_wakes_every_layer_of_a_deep_snn():
    torch.manual_seed(0)
    x = torch.as_tensor(bars(16)[0])
    snn = SpikingNet("c4-c4-c4-c4-c4-f16-f16", T=4, threshold=4.0)
    _, rec = snn(x, record=True)
    assert rec["rate.6"].sum() == 0                 # silent at random init
    rates = snn.data_init(x)
    assert all(0.01 < r < 0.5 for r in rates)


@pytest.mark.parametrize("bias", [False, True])
def test_conversion_keeps_the_cnn_predictions_at_large_T(bias):
    torch.manual_seed(0)
    x, y = teacher_task()
    cnn = CNN(TINY, in_shape=(1, 8, 8), n_classes=4, bias=bias)
    fit(cnn, x, y, 100)
    if bias:   # trained biases (zero at init): the conversion must carry them, scaled
        assert all(layer.bias.abs().max() > 0 for layer in cnn.layers)
    ref = cnn.eval()(x).argmax(1)
    assert ref.bincount(minlength=4).min() > 20    # not one class everywhere
    with torch.no_grad():
        snn, scales = convert(cnn, x, percentile=99.9, T=200, encoding="direct")
        assert len(scales) == cnn.n_hidden and all(s > 0 for s in scales)
        assert (snn(x).argmax(1) == ref).float().mean() >= 0.95
        # Poisson input adds its own sampling noise on top of the conversion's
        snn.encoding = "poisson"
        assert (snn(x).argmax(1) == ref).float().mean() >= 0.9


def test_guard_loss_is_zero_far_from_threshold_and_positive_near_it():
    thr, margin = 1.0, 0.3
    far = [torch.tensor([-5.0, 0.0, 0.6, 1.4, 3.0]), torch.zeros(4, 4)]
    assert guard_loss(far, thr, margin).item() == 0.0
    assert guard_loss([torch.tensor([1.0])], thr, margin).item() == pytest.approx(1.0)
    near = guard_loss([torch.tensor([0.9, 1.1])], thr, margin).item()
    assert 0 < near < 1
    assert guard_loss([torch.tensor([1.2])], 2.0, margin).item() == 0.0   # the band scales with the threshold
    # and it is part of TGO's training loss
    torch.manual_seed(0)
    x, y = torch.rand(4, 28, 28), torch.zeros(4, dtype=torch.long)
    plain, guarded = (TGONet(TINY, T=3, noise=0.0, guard=g) for g in (0.0, 5.0))
    guarded.load_state_dict(plain.state_dict())
    torch.manual_seed(1)
    l0, _ = plain.training_loss(x, y)
    torch.manual_seed(1)
    l1, _ = guarded.training_loss(x, y)
    assert l1 > l0


def test_noisy_neurons_fire_at_random():
    snn = SpikingNet(TINY, T=1, noise=0.5, encoding="direct").eval()
    u = torch.full((1000,), 1.0)    # at threshold: fires half the time
    assert 0.4 < snn.fire(u).mean().item() < 0.6
    assert snn.fire(torch.full((1000,), 3.0)).mean().item() > 0.99


@pytest.mark.parametrize("encoding", ["poisson", "direct"])
def test_snn_input_gradient_is_finite_and_nonzero(encoding):
    torch.manual_seed(0)
    x, y = bars(8)
    x = torch.as_tensor(x).float() / 255
    for model in (SpikingNet(TINY, T=4, encoding=encoding), TGONet(TINY, T=4, encoding=encoding)):
        g = FGSM(model.eval(), eps=0.1, eot=2).gradient(x, torch.as_tensor(y))
        assert torch.isfinite(g).all()
        assert (g != 0).float().mean() > 0.1     # no gradient masking


# --- the command line --------------------------------------------------------
@pytest.fixture
def fake_mnist(monkeypatch):
    xtr, ytr = bars(96, seed=1)
    xte, yte = bars(40, seed=2)
    monkeypatch.setattr(train_cli.imagesets, "load",
                        lambda name, split, data_dir=None: (xtr, ytr) if split == "train" else (xte, yte))


def cli(out, *extra):
    return ["--dset", "mnist", "--arch", TINY, "--batch-size", "32", "--lr", "0.01", "--torch-device", "cpu",
            "--out", str(out), "--no-progress", *extra]


def interrupt_at(monkeypatch, argv, n: int = 2) -> None:
    """Run the CLI on ``argv`` and interrupt it (KeyboardInterrupt) as it is about to write its n-th
    checkpoint (counting those of every stage of a staged run)."""
    real, calls = training.save_checkpoint, {"n": 0}

    def interrupted(path, obj):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        real(path, obj)

    set_save_checkpoint(monkeypatch, interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_cli.main(argv)
    set_save_checkpoint(monkeypatch, real)


def set_save_checkpoint(monkeypatch, save) -> None:
    """Every module of a run that writes checkpoints (the epochs and test pass, the stages) uses ``save``."""
    for module in (training, stages):
        monkeypatch.setattr(module, "save_checkpoint", save)


def test_resume_after_interruption_gives_the_same_weights(tmp_path, fake_mnist, monkeypatch):
    args = ("--net", "snn", "-t", "3", "--epochs", "2")
    whole = train_cli.main(cli(tmp_path / "whole", *args))
    interrupt_at(monkeypatch, cli(tmp_path / "cut", *args))
    assert load_checkpoint(tmp_path / "cut" / "model.pt")["epoch"] == 1
    resumed = train_cli.main(cli(tmp_path / "cut", *args, "--resume"))
    a, b = (load_checkpoint(tmp_path / d / "model.pt") for d in ("whole", "cut"))
    assert a["epoch"] == b["epoch"] == 2
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert resumed["test_accuracy"] == whole["test_accuracy"]

    metrics = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    assert metrics["n_test"] == 40 and metrics["epochs"] == 2 and metrics["device"] == "cpu" and metrics["seconds"] > 0
    # the checkpoint reloads without pickle and gives the same model
    model = load_model(tmp_path / "whole")
    torch.manual_seed(0)
    _, _, x_test, y_test = load_data("mnist")
    acc, _ = training.evaluate(model, torch.as_tensor(x_test[:40]), torch.as_tensor(y_test[:40]))
    assert acc == metrics["test_accuracy"]


def test_cnn_then_converted_and_the_cli_refusals(tmp_path, fake_mnist):
    cnn = train_cli.main(cli(tmp_path / "cnn", "--net", "cnn", "--epochs", "1", "--bias"))
    conv = train_cli.main(cli(tmp_path / "conv", "--net", "converted", "--from", str(tmp_path / "cnn"), "-t", "20"))
    assert conv["cnn_test_accuracy"] == cnn["test_accuracy"] and len(conv["scales"]) == 2
    model = load_model(tmp_path / "conv")
    assert isinstance(model, SpikingNet) and model.T == 20 and model.layers[0].bias is not None
    assert load_model(tmp_path / "conv", T=7).T == 7
    # hybrid: BPTT from the converted weights
    hybrid = train_cli.main(cli(tmp_path / "hybrid", "--net", "snn", "--bias", "-t", "4", "--epochs", "1",
                                "--from", str(tmp_path / "cnn")))
    assert hybrid["test_accuracy"] > 0.5
    with pytest.raises(UserError, match="already holds a run"):
        train_cli.main(cli(tmp_path / "cnn", "--net", "cnn", "--epochs", "1"))
    with pytest.raises(UserError, match="different settings"):      # resumed with other settings
        train_cli.main(cli(tmp_path / "cnn", "--net", "cnn", "--epochs", "1", "--bias", "--lr", "0.1", "--resume"))


def test_biases_by_default_and_bias_free_runs_keep_theirs(tmp_path, fake_mnist):
    assert train_cli.parse_args(["--net", "cnn"]).bias is True
    assert train_cli.parse_args(["--net", "cnn", "--no-bias"]).model["bias"] is False
    # a run made before biases were the default: its config says bias false, and without a flag it
    # resumes, and is converted or trained from (--from), as it was
    old = tmp_path / "old"
    train_cli.main(cli(old, "--net", "cnn", "--epochs", "1", "--no-bias"))
    train_cli.main(cli(old, "--net", "cnn", "--epochs", "2", "--resume"))
    assert load_model(old).layers[0].bias is None and load_checkpoint(old / "model.pt")["epoch"] == 2
    assert train_cli.parse_args(cli(tmp_path / "tgo", "--net", "tgo", "--from", str(old))).bias is False
    # and a new TGO net from a CNN with biases
    new = tmp_path / "new"
    train_cli.main(cli(new, "--net", "cnn", "--epochs", "1"))
    tgo = train_cli.main(cli(tmp_path / "tgo", "--net", "tgo", "-t", "4", "--epochs", "1", "--from", str(new)))
    assert load_model(tmp_path / "tgo").layers[0].bias is not None and tgo["test_accuracy"] > 0.5


def test_options_as_keywords_are_the_command_lines_settings():
    """networks.settings.options (what stages and sweeps call) resolves and checks settings as the CLI does."""
    from networks import settings
    by_keywords = settings.options("snn", timesteps=4, leak=0.9, out="x", n_train=100)
    by_cli = settings.parse_args(["--net", "snn", "-t", "4", "--leak", "0.9", "--out", "x", "--n-train", "100"])
    assert vars(by_keywords) == vars(by_cli)
    with pytest.raises(UserError, match="--hybrid is for --net stdp"):
        settings.options("cnn", hybrid=True)
    with pytest.raises(TypeError, match="no option nonsense"):
        settings.options("cnn", nonsense=1)
