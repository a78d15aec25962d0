"""The CIFAR-10 CPU recipe: the batch-norm net, folding, conversion, the recipe's training options, resume."""
import numpy as np
import pytest
import torch

from networks import pipeline, training
from networks import train as train_cli
from networks.recipes import RECIPES
from networks.cnn import ARCHS, CNN, fold_batchnorm, without_batchnorm
from networks.converted import convert
from networks.registry import load_checkpoint, load_model
from networks.snn import SpikingNet
from tests.test_baselines import interrupt_at, set_save_checkpoint

TINY_BN = "c4b-p-c8b-p"     # the recipe's layer kinds, small


def with_batch_statistics(cnn, x):
    """``cnn`` in eval mode with non-trivial norms: random affine parameters, running stats of ``x``."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in cnn.norms:
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(0.4 * torch.rand(m.bias.shape, generator=g) - 0.2)
                m.momentum = None     # running stats: the plain mean over the passes
        cnn.train()
        cnn(x)
    return cnn.eval()


def test_the_cifar_net_has_batch_norm_and_the_expected_shapes():
    cnn = CNN("cifar", (3, 32, 32), 10, bias=True)
    assert cnn.has_batchnorm and sum(isinstance(m, torch.nn.BatchNorm2d) for m in cnn.norms) == 6
    assert all(m.bias is None for m, n in zip(cnn.layers, cnn.norms) if isinstance(n, torch.nn.BatchNorm2d))
    x = torch.randint(0, 256, (2, 32, 32, 3), dtype=torch.uint8)     # HWC uint8, as the loader gives
    logits, rec = cnn.eval()(x, record=True)
    assert logits.shape == (2, 10)
    assert rec["act.0"].shape == (2, 64, 32, 32) and rec["act.5"].shape == (2, 256, 4, 4)
    assert without_batchnorm("cifar") == ARCHS["cifar"].replace("b", "")
    snn = SpikingNet(without_batchnorm("cifar"), (3, 32, 32), T=3, bias=True, encoding="direct")
    assert snn(x).shape == (2, 10) and snn(x, per_step=True).shape == (2, 3, 10)
    assert torch.equal(snn(x, per_step=True)[:, -1], snn(x))


def test_folding_batch_norm_is_exact():
    torch.manual_seed(0)
    x = torch.rand(16, 3, 32, 32)
    for arch, bias in (("cifar", True), (TINY_BN, False), ("c4b-c4-p-f8", True)):
        cnn = with_batch_statistics(CNN(arch, (3, 32, 32), 10, bias=bias), x)
        folded = fold_batchnorm(cnn)
        assert not folded.has_batchnorm and folded.arch == without_batchnorm(arch)
        with torch.no_grad():
            a, b = cnn(x), folded(x)
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-5 * a.abs().max().item())


def test_converting_the_cifar_net_approaches_its_outputs_as_T_grows():
    torch.manual_seed(0)
    x = torch.rand(32, 3, 32, 32)
    cnn = with_batch_statistics(CNN("cifar", (3, 32, 32), 10, bias=True), x)
    with torch.no_grad():
        snn, scales = convert(cnn, x, T=64, encoding="direct", v_init=0.5)
        ref = cnn(x[:4])
        out = snn(x[:4], per_step=True)        # the logits of T = 1..64 in one pass
    assert snn.arch == without_batchnorm("cifar") and len(scales) == cnn.n_hidden
    err = [((out[:, t - 1] - ref).norm() / ref.norm()).item() for t in (8, 16, 32, 64)]
    # the error of a rate code falls as 1/T: about halved by each doubling of T (1.05, 0.62, 0.34, 0.18 here)
    assert all(later < 0.7 * earlier for earlier, later in zip(err, err[1:])) and err[-1] < 0.25


def test_membrane_starting_at_half_threshold_rounds_rates():
    """An IF neuron driven by 0.4 thresholds per step for 4 steps (1.6 in all) spikes floor(1.6) = 1 times
    from rest, round(1.6) = 2 times from half a threshold."""
    snn = SpikingNet("f1", (1, 1, 1), n_classes=1, T=4, leak=1.0, encoding="direct", v_init=0.5)
    counts = []
    for v_init in (0.0, 0.5):
        snn.v_init, u, n = v_init, None, 0
        for t in range(4):
            s, _, u = snn.lif(u, torch.tensor([0.4]))
            n += int(s.item())
        counts.append(n)
    assert counts == [1, 2]
    with pytest.raises(ValueError):
        SpikingNet("f1", (1, 1, 1), v_init=1.0)


# --- the recipe on the command line ---------------------------------------------------------
@pytest.fixture
def fake_cifar(monkeypatch):
    """Colour 32x32 images whose class is the brightest of 4 channels-and-halves: learnable in a few steps."""
    def make(n, seed):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 4, n)
        x = rng.integers(0, 100, (n, 32, 32, 3)).astype(np.uint8)
        for k in range(n):
            c, half = y[k] % 3, (y[k] // 3) * 16
            x[k, half:half + 16, :, c] += 120
        return x, y.astype(np.int64)
    tr, te = make(128, 1), make(40, 2)
    monkeypatch.setattr(train_cli.imagesets, "load", lambda name, split, data_dir=None: tr if split == "train" else te)


def cli(out, *extra):
    return ["--dset", "cifar10", "--arch", TINY_BN, "--batch-size", "32", "--torch-device", "cpu", "--out", str(out),
            "--no-progress", "--n-calib", "64", *extra]


def test_the_recipes_set_the_defaults_and_flags_override_them():
    cpu, gpu = RECIPES["cifar10"]["cpu"], RECIPES["cifar10"]["gpu"]
    a = train_cli.parse_args(["--net", "cnn", "--dset", "cifar10"])
    assert a.recipe == "cpu" and a.arch == "cifar" and a.precision == "bf16"
    assert (a.epochs, a.batch_size, a.optimizer, a.lr, a.schedule) == tuple(
        cpu["cnn"][k] for k in ("epochs", "batch_size", "optimizer", "lr", "schedule"))
    a = train_cli.parse_args(["--net", "converted", "--dset", "cifar10"])
    assert (a.timesteps, a.encoding, a.v_init, a.leak) == (64, "direct", 0.5, 1.0)
    a = train_cli.parse_args(["--net", "cnn", "--dset", "cifar10", "--recipe", "gpu"])
    assert a.arch == "vgg9" and (a.epochs, a.batch_size, a.lr, a.dropout, a.optimizer, a.precision) == (
        gpu["cnn"]["epochs"], gpu["cnn"]["batch_size"], gpu["cnn"]["lr"], gpu["cnn"]["dropout"], "adam", "fp32")
    a = train_cli.parse_args(["--net", "snn", "--dset", "cifar10", "--recipe", "gpu", "--epochs", "1", "-t", "4"])
    assert (a.epochs, a.timesteps, a.lr, a.leak, a.encoding) == (1, 4, gpu["snn"]["lr"], gpu["snn"]["leak"], "poisson")
    a = train_cli.parse_args(["--net", "cnn", "--dset", "mnist"])    # MNIST keeps its settings
    assert (a.epochs, a.batch_size, a.optimizer, a.precision, a.recipe) == (2, 64, "adam", "fp32", None)
    with pytest.raises(SystemExit):
        train_cli.parse_args(["--net", "cnn", "--dset", "mnist", "--recipe", "cpu"])


def test_onecycle_rises_then_falls_to_zero():
    a = train_cli.parse_args(["--net", "cnn", "--dset", "cifar10", "--lr", "0.4", "--warmup", "0.25"])
    lrs = [training.learning_rate(a, step, 8) for step in range(9)]
    assert lrs[0] == 0 and lrs[2] == pytest.approx(0.4) and lrs[-1] == pytest.approx(0)
    assert lrs[:3] == sorted(lrs[:3]) and lrs[2:] == sorted(lrs[2:], reverse=True)


def test_recipe_resume_conversion_and_hybrid(tmp_path, fake_cifar, monkeypatch):
    args = ("--net", "cnn", "--epochs", "2", "--lr", "0.05")     # sgd, onecycle, label smoothing, bf16
    whole = train_cli.main(cli(tmp_path / "whole", *args))
    interrupt_at(monkeypatch, cli(tmp_path / "cut", *args))
    assert load_checkpoint(tmp_path / "cut" / "model.pt")["epoch"] == 1
    resumed = train_cli.main(cli(tmp_path / "cut", *args, "--resume"))
    a, b = (load_checkpoint(tmp_path / d / "model.pt") for d in ("whole", "cut"))
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert resumed["test_accuracy"] == whole["test_accuracy"] > 0.5
    assert "momentum_buffer" in str(a["optimizer"]["state"][0].keys())     # SGD's state was saved and reloaded
    # converted: BN folded away, accuracy at every power-of-two T from one pass
    conv = train_cli.main(cli(tmp_path / "conv", "--net", "converted", "--from", str(tmp_path / "whole"), "-t", "32"))
    model = load_model(tmp_path / "conv")
    assert model.arch == without_batchnorm(TINY_BN) and model.v_init == 0.5 and model.encoding == "direct"
    assert set(conv["test_accuracy_by_T"]) == {1, 2, 4, 8, 16, 32} and conv["test_accuracy_by_T"][32] == conv["test_accuracy"]
    assert conv["test_accuracy"] >= whole["test_accuracy"] - 0.1
    again = train_cli.main(cli(tmp_path / "conv", "--net", "converted", "--from", str(tmp_path / "whole"), "-t", "32",
                               "--resume"))
    assert again["test_accuracy_by_T"] == conv["test_accuracy_by_T"]
    # hybrid: the SNN takes the folded architecture of --from by itself
    hybrid = train_cli.main(cli(tmp_path / "hybrid", "--net", "snn", "-t", "4", "--from", str(tmp_path / "whole"),
                                "--arch", without_batchnorm(TINY_BN)))
    assert load_model(tmp_path / "hybrid").arch == without_batchnorm(TINY_BN) and hybrid["test_accuracy"] > 0.5
    hybrid2 = train_cli.parse_args(["--net", "snn", "--dset", "cifar10", "--from", str(tmp_path / "whole")])
    assert hybrid2.arch == without_batchnorm(TINY_BN) and hybrid2.bias is True


def test_resume_within_an_epoch_and_within_the_test_pass(tmp_path, fake_cifar, monkeypatch):
    """A checkpoint written part-way through an epoch (CHECKPOINT_SECONDS) and a test pass cut off after its
    first batch both resume to exactly what an uninterrupted run gives; Poisson input and dropout included."""
    args = ("--net", "snn", "--arch", "c4-p-f16", "--epochs", "1", "-t", "3", "--encoding", "poisson",
            "--dropout", "0.3", "--precision", "fp32", "--n-test", "40")
    real_predictions, real_save = training.predictions, training.save_checkpoint

    def two_batches(model, x, batch_size, *a, **kw):      # test in 2 batches of 20, so there is a cut to make
        return real_predictions(model, x, 20, *a, **kw)

    def cut_after_first_batch(path, obj):
        real_save(path, obj)
        if path.name == pipeline.TEST_PROGRESS:
            raise KeyboardInterrupt

    monkeypatch.setattr(training, "predictions", two_batches)
    whole = train_cli.main(cli(tmp_path / "whole", *args))
    monkeypatch.setattr(training, "CHECKPOINT_SECONDS", 0.0)     # a checkpoint after every step
    interrupt_at(monkeypatch, cli(tmp_path / "cut", *args))
    saved = load_checkpoint(tmp_path / "cut" / "model.pt")
    assert saved["epoch"] == 0 and saved["step"] == 1         # cut inside the epoch
    set_save_checkpoint(monkeypatch, cut_after_first_batch)
    with pytest.raises(KeyboardInterrupt):                     # training finishes, the test pass is cut
        train_cli.main(cli(tmp_path / "cut", *args, "--resume"))
    assert (tmp_path / "cut" / pipeline.TEST_PROGRESS).exists()
    set_save_checkpoint(monkeypatch, real_save)
    resumed = train_cli.main(cli(tmp_path / "cut", *args, "--resume"))
    a, b = (load_checkpoint(tmp_path / d / "model.pt") for d in ("whole", "cut"))
    assert a["epoch"] == b["epoch"] == 1 and "step" not in b
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert not (tmp_path / "cut" / pipeline.TEST_PROGRESS).exists()
    assert resumed["test_accuracy_by_T"] == whole["test_accuracy_by_T"]


def test_runs_made_before_the_new_options_still_resume(tmp_path, fake_cifar):
    """A config.json without the options added with the recipe (optimizer, schedule, v_init, ...) reads as
    what those runs did: Adam, cosine, fp32, potentials from 0."""
    import json
    out = tmp_path / "old"
    train_cli.main(cli(out, "--net", "snn", "--arch", "c4-p-f16", "-t", "2", "--recipe", "gpu", "--epochs", "1"))
    cfg = json.loads((out / "config.json").read_text())
    for k in ("optimizer", "schedule", "warmup", "label_smoothing", "precision", "v_init", "momentum", "recipe"):
        cfg["train"].pop(k)
    cfg["model"].pop("v_init")
    (out / "config.json").write_text(json.dumps(cfg))
    m = train_cli.main(cli(out, "--net", "snn", "--arch", "c4-p-f16", "-t", "2", "--recipe", "gpu", "--epochs", "2",
                           "--resume"))
    assert m["epochs"] == 2
