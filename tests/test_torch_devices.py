"""One ``--torch-device`` option; the same numbers on CPU and CUDA (the CUDA half runs only where torch sees a GPU)."""
import argparse

import numpy as np
import pytest
import torch

from analysis.attacks import make_attack
from bio.parameters import NetworkConfig
from networks.cnn import CNN
from networks.devices import add_torch_device_option, torch_device
from networks.snn import SpikingNet
from networks.twin import DiehlCookTwin

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no CUDA device")


def test_auto_is_cuda_exactly_when_torch_sees_one():
    assert torch_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert torch_device("cpu").type == "cpu"


def test_asking_for_a_missing_gpu_or_an_unknown_device_is_an_error():
    with pytest.raises(ValueError, match="auto, cpu, cuda"):
        torch_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            torch_device("cuda")


def test_option_parses_and_rejects():
    p = argparse.ArgumentParser()
    add_torch_device_option(p)
    assert p.parse_args([]).torch_device == "auto"
    with pytest.raises(SystemExit):
        p.parse_args(["--torch-device", "tpu"])


def _twin(device):
    rng = np.random.default_rng(0)
    w = rng.random((784, 10))
    w *= 78 / w.sum(0)
    return DiehlCookTwin(w, np.linspace(20, 25, 10), NetworkConfig(n_exc=10), dtype=torch.float64).to(device)


@needs_cuda
def test_twin_same_spikes_and_gradients_on_cpu_and_cuda():
    trains = (torch.rand(3, 700, 784, generator=torch.Generator().manual_seed(0)) < 0.02).double()
    out = {}
    for dev in ("cpu", "cuda"):
        x = trains.to(dev).requires_grad_(True)
        exc = _twin(dev)(x)
        exc.sum().backward()
        out[dev] = exc.detach().cpu(), x.grad.cpu()
    assert out["cpu"][0].sum() > 0 and torch.equal(out["cpu"][0], out["cuda"][0])
    assert torch.allclose(out["cpu"][1], out["cuda"][1], rtol=1e-9, atol=1e-12)


@needs_cuda
@pytest.mark.parametrize("net", [CNN, lambda: SpikingNet(T=4, encoding="direct")], ids=["cnn", "snn"])
def test_baseline_and_fgsm_same_on_cpu_and_cuda(net):
    torch.manual_seed(0)
    model = net().double().eval()
    x = torch.rand(8, 1, 28, 28, dtype=torch.float64)
    y = torch.arange(8) % 10
    res = {}
    for dev in ("cpu", "cuda"):
        m = model.to(dev)
        adv = make_attack("fgsm", m, 0.1)(x.to(dev), y.to(dev))
        res[dev] = m(x.to(dev)).detach().cpu(), adv.cpu()
    assert torch.allclose(res["cpu"][0], res["cuda"][0], rtol=1e-6, atol=1e-8)
    # a gradient within float noise of zero may change sign: nearly all pixels agree
    assert (res["cpu"][1] == res["cuda"][1]).double().mean() > 0.99
