"""What a converted-SNN sweep point costs against a surrogate-SNN point: the figures behind COST's "converted_*".

    python -m benchmarks.converted_cost --cnn runs/baselines/cnn-mnist-s1 [--n-test 100] [--out benchmarks/results/converted_cost.json]

Converts the trained CNN of ``--cnn`` (MNIST, Poisson input, IF, percentile 99.9 on 2,000 training images, as
analysis.timestep_sweep's converted points do) at ``--T``, and builds an untrained surrogate SNN of the same
architecture at T 8 (the cost of a forward or backward pass does not depend on the weights). On the first
``--n-test`` test images, one thread, CPU seconds (``time.process_time``: on a loaded machine wall time measures the
load, not the work): the conversion (data loading and calibration), networks.pipeline's test pass per image and
time step, :func:`analysis.measurement.evaluate` without a suite per image and time step (the SNN with the
transfer delta, the converted net with it and the BPDA delta), and one gradient per image and time step (FGSM,
EOT 1) through each, and through the CNN per image. COST's figures are wall seconds with one job per core; the
converted figures are the SNN's COST figure times the measured ratio converted / SNN.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from analysis.measurement import TorchSubject, evaluate, fgsm, load_test, shared_deltas
from analysis.sweep_costs import COST
from networks import pipeline
from networks.converted import convert
from networks.registry import load_model
from networks.snn import SpikingNet
from networks.training import evaluate_per_step
from runstore.files import save_json


def cpu(f):
    t0 = time.process_time()
    out = f()
    return out, time.process_time() - t0


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.converted_cost", description=__doc__.split("\n\n")[0])
    p.add_argument("--cnn", required=True, help="a trained MNIST CNN run (networks.train --net cnn)")
    p.add_argument("-t", "--T", type=int, default=32, help="time steps of the converted net")
    p.add_argument("--n-test", type=int, default=100)
    p.add_argument("--out", default="benchmarks/results/converted_cost.json")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    n = args.n_test

    def conversion():
        x_train = pipeline.load_data("mnist")[0]
        cnn = load_model(args.cnn, "cpu")
        torch.manual_seed(0)
        return cnn, convert(cnn, torch.as_tensor(x_train[:2000]), percentile=99.9, T=args.T, leak=1.0)[0]
    (cnn, conv), conversion_s = cpu(conversion)
    torch.manual_seed(0)
    snn = SpikingNet("mnist", T=8, leak=0.99, bias=True)
    x, y = load_test(n)
    source = TorchSubject(cnn, "CNN")
    shared = shared_deltas(x, y, 0.1, 0, source)
    out = {"cnn": str(Path(args.cnn)), "T": {"snn": snn.T, "converted": conv.T}, "n_test": n, "conversion_s": conversion_s}
    (acc, _), test_s = cpu(lambda: evaluate_per_step(conv, (x * 255).round().to(torch.uint8), y))
    out["converted_test_s_per_image_step"] = test_s / (n * conv.T)
    out["converted_clean_accuracy"] = acc
    for name, net, origin in (("snn", snn, None), ("converted", conv, cnn)):
        subj = TorchSubject(net, name, origin=origin)
        _, s = cpu(lambda: evaluate(subj, x, y, 0.1, eot=4, seed=0, shared=shared))
        out[f"{name}_eval_s_per_image_step"] = s / (n * net.T)
        _, g = cpu(lambda: fgsm(subj, x, y, 0.1, 1, 0))
        out[f"{name}_gradient_s_per_image_step"] = g / (n * net.T)
    _, g = cpu(lambda: fgsm(source, x, y, 0.1, 1, 0))
    out["cnn_gradient_s_per_image"] = g / n
    ratio = out["converted_eval_s_per_image_step"] / out["snn_eval_s_per_image_step"]
    out["suggested_cost"] = {
        "converted_eval": COST["snn_eval"] * ratio,
        "converted_test": COST["snn_eval"] * out["converted_test_s_per_image_step"] / out["snn_eval_s_per_image_step"],
        "converted_craft_over_snn_craft": out["converted_gradient_s_per_image_step"] / out["snn_gradient_s_per_image_step"]}
    for k, v in out.items():
        print(f"{k}: {v}")
    save_json(Path(args.out), out)
    return out


if __name__ == "__main__":
    main()
