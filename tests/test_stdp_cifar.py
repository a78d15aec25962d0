"""Seed 000's SNN + STDP on colour images: ON/OFF colour channels, conv STDP filters, and the CIFAR-10 recipe
(conv STDP -> CNN above the frozen layer -> conversion -> BPTT), its frozen layer 0 and its resume."""
import json

import numpy as np
import pytest
import torch

from networks import pipeline, stages
from networks import train as train_cli
from networks.recipes import RECIPES
from networks.stages import HYBRID_CNN, STDP_FILTERS
from networks.cnn import without_batchnorm
from networks.conv_stdp import convergence, learn_filters, on_off
from networks.converted import convert
from networks.registry import load_checkpoint, load_model
from networks.snn import SpikingNet
from networks.stdp_net import STDPCNN, STDPNet, stdp_arch
from runstore.cli import UserError
from tests.test_baselines import interrupt_at
from tests.test_cifar_recipe import TINY_BN, cli, fake_cifar, with_batch_statistics  # noqa: F401  (fixture)

MAPS = 4    # TINY_BN's first layer


def colour_bars(n, seed=0):
    """(n, 3, 16, 16) uint8: on a dark background a vertical or horizontal bar, red, green or blue."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 3, 16, 16), np.uint8)
    for k in range(n):
        c, at = rng.integers(0, 3), rng.integers(3, 11)
        if rng.integers(0, 2):
            x[k, c, 2:14, at:at + 3] = 255
        else:
            x[k, c, at:at + 3, 2:14] = 255
    return x


def test_on_off_gives_an_on_and_an_off_channel_per_colour():
    s = torch.rand(2, 3, 4, 4)
    out = on_off(s)
    assert out.shape == (2, 6, 4, 4)
    assert torch.equal(out[:, :3], s) and torch.equal(out[:, 3:], 1 - s)
    gray = torch.rand(5, 1, 4, 4)
    assert torch.equal(on_off(gray), torch.cat([gray, 1 - gray], 1))     # MNIST's two channels, as before


def test_colour_filters_have_on_off_shape_stay_in_bounds_and_learn():
    x = colour_bars(120, seed=1)
    init = learn_filters(x, n_maps=6, kernel=3, progress=False, seed=2, epochs=0)    # no image shown: the init
    w = learn_filters(x, n_maps=6, kernel=3, progress=False, seed=2, epochs=2)
    assert w.shape == init.shape == (6, 6, 3, 3) and w.min() >= 0 and w.max() <= 1
    assert np.abs(w - init).max() > 0.3 and convergence(w) < convergence(init)
    with pytest.raises(ValueError):
        learn_filters(np.full((4, 3, 8, 8), 2.0), n_maps=2, progress=False)   # floats beyond [0, 1]


def test_stdp_nets_take_no_batch_norm_on_layer_0():
    assert stdp_arch("cifar") == "c64-p-c128b-c128b-p-c256b-c256b-p-c256b-p"
    assert stdp_arch("mnist") == "mnist" and stdp_arch(TINY_BN) == "c4-p-c8b-p"
    with pytest.raises(ValueError, match="batch norm"):
        STDPCNN(TINY_BN, (3, 32, 32), 10, on_off=True)
    net = STDPCNN(stdp_arch(TINY_BN), (3, 32, 32), 10, on_off=True)
    assert net.layers[0].in_channels == 6 and not net.layers[0].weight.requires_grad


def test_conversion_scales_the_stdp_layer_by_one_number():
    """The converted net keeps layer 0's receptive fields: its weights are the CNN's over one scalar."""
    torch.manual_seed(0)
    x = torch.rand(32, 3, 32, 32)
    cnn = STDPCNN(stdp_arch(TINY_BN), (3, 32, 32), 10, bias=True, on_off=True)
    cnn.load_stdp(learn_filters(colour_bars(40), n_maps=MAPS, progress=False), x)
    cnn = with_batch_statistics(cnn, x)
    snn, scales = convert(cnn, x, T=64, encoding="direct", v_init=0.5)
    assert snn.on_off and snn.arch == without_batchnorm(TINY_BN)
    assert torch.allclose(snn.layers[0].weight * scales[0], cnn.layers[0].weight, rtol=1e-6, atol=1e-7)
    with torch.no_grad():
        ref, out = cnn(x[:4]), snn(x[:4])
    assert ((out - ref).norm() / ref.norm()).item() < 0.3


# --- the recipe on the command line ---------------------------------------------------------
STDP_ARGS = ("--net", "stdp", "-t", "3", "--stdp-images", "32", "--cnn-epochs", "2", "--epochs", "1")


def record_layer_0(monkeypatch) -> list:
    """Wrap the training loop (networks.training.train, as a run calls it): per call (each trained stage), layer 0's weights and bias at its start and end."""
    real, calls = pipeline.train, []

    def train(args, model, *a, **kw):
        before = [p.detach().clone() for p in model.layers[0].parameters()]
        state = real(args, model, *a, **kw)
        calls.append((args.net, before, [p.detach().clone() for p in model.layers[0].parameters()]))
        return state

    monkeypatch.setattr(pipeline, "train", train)
    return calls


def test_the_recipe_sets_the_stdp_stages_and_mnist_keeps_its_own():
    cpu = RECIPES["cifar10"]["cpu"]
    a = train_cli.parse_args(["--net", "stdp", "--dset", "cifar10"])
    assert a.hybrid and a.arch == "cifar" and a.cnn_epochs is None
    assert (a.timesteps, a.epochs, a.lr, a.percentile, a.v_init, a.encoding, a.leak) == tuple(
        cpu["snn"][k] for k in ("T", "epochs", "lr", "percentile", "v_init", "encoding", "leak"))   # as the hybrid's
    assert a.model["arch"] == without_batchnorm("cifar") and a.model["on_off"] and a.model["bias"]
    c = train_cli.parse_args(["--net", "stdp-cnn", "--dset", "cifar10"])
    assert all(getattr(c, k) == v for k, v in cpu["cnn"].items())       # trained exactly as the CNN
    assert c.model["arch"] == stdp_arch("cifar") and c.model["on_off"]
    m = train_cli.parse_args(["--net", "stdp", "--dset", "mnist"])
    assert not m.hybrid and m.model["arch"] == "mnist" and m.model["on_off"]
    for bad in (["--net", "snn", "--hybrid"], ["--net", "stdp", "--cnn-epochs", "2"],
                ["--net", "stdp", "--dset", "cifar10", "--from", "runs/x"],
                ["--net", "stdp-cnn", "--from", "runs/x"], ["--net", "stdp", "--dset", "cifar10", "--threshold", "2"]):
        with pytest.raises(SystemExit):
            train_cli.parse_args(bad)


def test_the_pipeline_runs_with_layer_0_frozen_in_every_stage(tmp_path, fake_cifar, monkeypatch):  # noqa: F811
    calls = record_layer_0(monkeypatch)
    metrics = train_cli.main(cli(tmp_path / "run", *STDP_ARGS))
    run, cnn_dir = tmp_path / "run", tmp_path / "run" / HYBRID_CNN
    assert (run / "metrics.json").exists() and (cnn_dir / "metrics.json").exists()
    assert json.loads((run / "metrics.json").read_text())["test_accuracy"] == metrics["test_accuracy"]
    assert set(metrics) >= {"cnn_test_accuracy", "scales", "stage_seconds", "pipeline_seconds", "test_accuracy_by_T"}
    assert [net for net, *_ in calls] == ["stdp-cnn", "stdp"]
    for net, before, after in calls:       # weight decay and BPTT leave layer 0 exactly as it was
        assert all(torch.equal(a, b) for a, b in zip(before, after)), net
    # CNN stage: layer 0 is the STDP filters, standardised per map (a positive factor per map), no labels
    filters = torch.as_tensor(np.load(cnn_dir / STDP_FILTERS)["w"])
    cnn, snn = load_model(cnn_dir), load_model(run)
    assert isinstance(cnn, STDPCNN) and filters.shape == (MAPS, 6, 3, 3)
    assert isinstance(cnn.norms[0], torch.nn.Identity)
    ratio = cnn.layers[0].weight / filters.clamp_min(1e-3)
    big = filters > 0.05
    for f in range(MAPS):
        assert torch.allclose(ratio[f][big[f]], ratio[f][big[f]].mean(), rtol=1e-3)
    # conversion and BPTT: layer 0 is the CNN's over one scalar, frozen
    assert isinstance(snn, STDPNet) and snn.on_off and not snn.layers[0].weight.requires_grad
    assert torch.allclose(snn.layers[0].weight * metrics["scales"][0], cnn.layers[0].weight, rtol=1e-5, atol=1e-7)
    assert torch.equal(calls[1][2][0], snn.layers[0].weight)
    with pytest.raises(UserError, match="already holds a run"):      # a second fresh run in the same directory
        train_cli.main(cli(tmp_path / "run", *STDP_ARGS))


def stopped_in(run) -> str:
    """The stage an interrupted run stopped in, from what it checkpointed."""
    if (run / "model.pt").exists():
        return f"BPTT epoch {load_checkpoint(run / 'model.pt')['epoch'] + 1}"
    if (run / "cnn" / "metrics.json").exists():
        return "conversion"
    return f"CNN epoch {load_checkpoint(run / 'cnn' / 'model.pt')['epoch'] + 1}"


@pytest.mark.parametrize("cut, stage", [(2, "CNN epoch 2"), (4, "conversion"), (5, "BPTT epoch 1")])
def test_an_interrupted_pipeline_resumes_to_the_same_weights(tmp_path, fake_cifar, monkeypatch, cut, stage):  # noqa
    """Checkpoints of a run: CNN epochs 1 and 2, the CNN's test pass, the converted net, BPTT's epoch, the test
    pass. Cut before the n-th, then --resume: the final weights and accuracies are those of an uninterrupted run."""
    whole = train_cli.main(cli(tmp_path / "whole", *STDP_ARGS))
    interrupt_at(monkeypatch, cli(tmp_path / "cut", *STDP_ARGS), cut)
    assert stopped_in(tmp_path / "cut") == stage
    monkeypatch.setattr(stages, "learn_filters", None)   # a resumed run must not learn its filters again
    resumed = train_cli.main(cli(tmp_path / "cut", *STDP_ARGS, "--resume"))
    for sub in ("cnn", "."):
        a, b = (load_checkpoint(tmp_path / d / sub / "model.pt") for d in ("whole", "cut"))
        assert a["model"].keys() == b["model"].keys()
        assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"]), sub
    for k in ("test_accuracy", "test_accuracy_by_T", "cnn_test_accuracy", "scales"):
        assert resumed[k] == whole[k], k


def test_converted_takes_the_cnn_stage_of_a_stdp_run(tmp_path, fake_cifar):  # noqa: F811
    """--net converted --from OUT/cnn: the stdp net's starting point on its own, an SNN reading ON/OFF."""
    train_cli.main(cli(tmp_path / "run", *STDP_ARGS))
    conv = train_cli.main(cli(tmp_path / "conv", "--net", "converted", "--from", str(tmp_path / "run" / "cnn"),
                              "-t", "4"))
    model = load_model(tmp_path / "conv")
    assert model.on_off and type(model) is SpikingNet and set(conv["test_accuracy_by_T"]) == {1, 2, 4}
