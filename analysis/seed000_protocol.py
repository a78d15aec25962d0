"""Seed 000's CIFAR-10 FGSM protocol, replayed on our CNN: how much of its CNN number is the attack.

    python -m analysis.seed000_protocol --run runs/baselines/cnn-cifar10-s0 --n-test 1000

Seed 000's released code (github.com/Doa-ddaram/Robustness, ``main.py`` and
``utils/adversarial_image.py``, read, not copied) normalises CIFAR-10 images per channel
(mean 0.4914/0.4822/0.4465, std 0.2470/0.2435/0.2616) before the CNN sees them, adds
``eps * sign(grad)`` to the *normalised* image and then clamps it to [0, 1] as if it were
pixels; ``train_cifar10.sh`` passes ``--epsilon 0.018``. The clamp alone moves every pixel
outside [mean, mean + std] to that band's edge, a change far larger than eps. This script
scores our CNN under

* ``clamp only``: the clamp with eps 0 (no attack at all);
* ``seed FGSM``: the seed's attack (eps in normalised units, then the clamp);
* ``FGSM, pixels``: FGSM with the same eps in pixel units, clipped to [0, 1] (this project's);

and writes ``OUT/cifar10.json``. The CNN takes [0, 1] pixels (its first batch norm does the
scaling), so each image is mapped back to pixels with the same mean and std before it is scored;
the sign of the input gradient is the same in both units (std > 0).
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

import imagesets
from analysis.defaults import RESULTS, RUNS
from networks.cnn import IN_SHAPE, as_images
from networks.registry import CONFIG, load_model
from runstore.cli import Parser, pixel_eps, existing_dir, exit_with, positive_int
from runstore.files import load_json, relative_path, save_json
from runstore.provenance import provenance

SEED000_MEAN = (0.4914, 0.4822, 0.4465)   # its transforms.Normalize for CIFAR-10
SEED000_STD = (0.2470, 0.2435, 0.2616)
SEED000_EPS = 0.018                       # its train_cifar10.sh


def gradient_sign(model, x, y) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    return torch.autograd.grad(F.cross_entropy(model(x), y), x)[0].sign()


def seed000_fgsm(x, sign, eps, mean, std) -> torch.Tensor:
    """The seed's FGSM on a normalised image, clamped to [0, 1], mapped back to pixels."""
    return torch.clamp((x - mean) / std + eps * sign, 0, 1) * std + mean


def accuracy(model, x, y, batch_size) -> float:
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])
    return float((pred == y).float().mean())


def parse_args(argv=None):
    p = Parser(prog="python -m analysis.seed000_protocol", description=__doc__.split("\n\n")[0])
    p.add_argument("--run", default=str(RUNS / "baselines/cnn-cifar10-s0"), help="a networks.train CIFAR-10 CNN run")
    p.add_argument("--n-test", type=positive_int, default=1000, help="the first N test images")
    p.add_argument("--eps", type=pixel_eps, default=SEED000_EPS)
    p.add_argument("--batch-size", type=positive_int, default=100)
    p.add_argument("--threads", type=positive_int, default=1)
    p.add_argument("--out", default=str(RESULTS / "seed000_protocol"))
    p.add_argument("--data-dir", type=existing_dir, default=None)
    args = p.parse_args(argv)
    run = Path(args.run)
    if not (run / CONFIG).exists():
        p.error(f"{run} is not a networks.train run; train it first: python -m networks.train --net cnn "
                f"--dset cifar10 --out {run}")
    cfg = load_json(run / CONFIG)
    if cfg.get("dset") != "cifar10" or cfg.get("net") != "cnn":
        p.error(f"{run} is a {cfg.get('net')} on {cfg.get('dset')}; the seed's protocol is replayed on a CIFAR-10 CNN")
    if args.n_test < 1 or args.batch_size < 1 or not 0 <= args.eps <= 1:
        p.error("--n-test and --batch-size must be >= 1 and --eps in [0, 1]")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    model = load_model(Path(args.run), "cpu").eval()
    images, labels = imagesets.load("cifar10", "test", data_dir=args.data_dir)
    x = as_images(torch.as_tensor(images[:args.n_test]), IN_SHAPE["cifar10"])
    y = torch.as_tensor(labels[:args.n_test], dtype=torch.long)
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (SEED000_MEAN, SEED000_STD))
    sign = torch.cat([gradient_sign(model, x[i:i + args.batch_size], y[i:i + args.batch_size])
                      for i in range(0, len(x), args.batch_size)])
    inputs = {"clean": x,
              "clamp only (seed's clamp, eps 0)": seed000_fgsm(x, sign, 0.0, mean, std),
              f"seed FGSM (eps {args.eps:g} normalised, then the clamp)": seed000_fgsm(x, sign, args.eps, mean, std),
              f"FGSM, pixels (eps {args.eps:g}, clip to [0, 1])": (x + args.eps * sign).clamp(0, 1)}
    acc = {name: accuracy(model, xi, y, args.batch_size) for name, xi in inputs.items()}
    linf = {name: float((xi - x).abs().amax(dim=(1, 2, 3)).mean()) for name, xi in inputs.items()}
    summary = {"run": relative_path(args.run), "n_test": len(x), "eps": args.eps,
               "mean": SEED000_MEAN, "std": SEED000_STD, "accuracy": acc, "mean_linf_change": linf,
               "provenance": provenance(args, [args.run])}
    save_json(Path(args.out) / "cifar10.json", summary)
    print(f"| input ({len(x)} test images) | accuracy % | mean L-inf change (pixels) |\n|---|---|---|")
    for name in inputs:
        print(f"| {name} | {100 * acc[name]:.1f} | {linf[name]:.3f} |")
    return summary


if __name__ == "__main__":
    exit_with(main, user_errors=(imagesets.DatasetError,))
