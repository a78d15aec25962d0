"""Is the attack path faster in bf16, and is the attack as strong? Measured on one trained surrogate SNN.

    python -m benchmarks.attack_precision --run results/sweeps/runs/snn-leak0.99-T8-L256-5a8f217f [--n-test 200]

The sweeps spend most of their time crafting PGD and APGD through a T-step surrogate SNN (docs/sweeps.md).
The CIFAR training recipe gained 4.4x from bf16 autocast and channels-last tensors on this CPU (AVX-512
BF16); crafting needs no exact arithmetic, only a gradient that points the same way, so the same could
pay there. For each variant (fp32; bf16 autocast; bf16 with channels-last) this times one EOT-2 input
gradient per image at the sweeps' batch (the attacks' unit of work, :class:`analysis.attacks.Attack`) and
crafts PGD-20 at the sweeps' settings (SWEEP_SUITE) on the first ``--n-test`` test images, scored in fp32
on the model as trained (the same Poisson seed for every variant): the speed-up and the accuracy under
each, all in this one run. Writes ``benchmarks/results/attack_precision.json``. Take the timing on a quiet
machine (load < 1); the strength comparison holds at any load.
"""
from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import numpy as np
import torch

from analysis.attacks import Attack, attack_settings
from analysis.measurement import craft_attack, load_test, subject
from analysis.measurement.evaluation import SWEEP_SUITE
from runstore.cli import Parser, existing_dir, exit_with, positive_int
from runstore.files import save_json

VARIANTS = ("fp32", "bf16", "bf16+channels_last")


def crafting_scores(subj, variant: str):
    """The model's scores as an attack crafts through them, in ``variant``'s arithmetic."""
    model = subj.model
    if variant.endswith("channels_last"):
        model.to(memory_format=torch.channels_last)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if variant.startswith("bf16") else contextlib.nullcontext()

    def scores(x):
        if variant.endswith("channels_last"):
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast:
            return model(x).float()
    return scores


def main(argv=None) -> dict:
    p = Parser(prog="python -m benchmarks.attack_precision", description=__doc__.split("\n\n")[0])
    p.add_argument("--run", type=existing_dir, required=True, help="a surrogate SNN run (networks.train)")
    p.add_argument("--n-test", type=positive_int, default=200)
    p.add_argument("--eps", type=float, default=0.1)
    p.add_argument("--out", default="benchmarks/results/attack_precision.json")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    x, y = load_test(args.n_test)
    out = {"run": str(args.run), "n_test": args.n_test, "eps": args.eps, "load_before": os.getloadavg()[0],
           "variants": {}}
    clean = subject("snn", args.run).predict(x, 1)
    out["clean_accuracy"] = float((clean == y.numpy()).mean())
    for variant in VARIANTS:
        subj = subject("snn", args.run)   # a fresh copy: channels-last changes the model in place
        scores = crafting_scores(subj, variant)
        grad = Attack(scores, args.eps, eot=SWEEP_SUITE["eot"]).gradient
        n_grad = min(len(x), 4 * subj.batch_size)
        grad(x[:subj.batch_size], y[:subj.batch_size])   # warm-up: oneDNN picks its kernels on the first call
        torch.manual_seed(0)
        t0, c0 = time.perf_counter(), time.process_time()
        for k in range(0, n_grad, subj.batch_size):
            grad(x[k:k + subj.batch_size], y[k:k + subj.batch_size])
        wall, cpu = (time.perf_counter() - t0) / n_grad, (time.process_time() - c0) / n_grad
        kw = attack_settings("pgd", eot=SWEEP_SUITE["eot"], loss=subj.loss, pgd_steps=SWEEP_SUITE["pgd_steps"],
                             pgd_alpha=None, pgd_restarts=SWEEP_SUITE["pgd_restarts"])
        t1 = time.perf_counter()
        x_adv = craft_attack("pgd", scores, x, y, args.eps, 7, subj.batch_size, **kw)
        pgd_s = (time.perf_counter() - t1) / len(x)
        adv = subject("snn", args.run).predict(x_adv, 2)   # scored in fp32, one seed for all variants
        right = clean == y.numpy()
        out["variants"][variant] = {
            "gradient_seconds_per_image": wall, "gradient_cpu_seconds_per_image": cpu,
            "pgd_seconds_per_image": pgd_s, "pgd_adv_accuracy": float((adv == y.numpy()).mean()),
            "pgd_asr": float((adv[right] != y.numpy()[right]).mean()) if right.any() else None}
        print(f"{variant}: gradient {1e3 * wall:.1f} ms per image (cpu {1e3 * cpu:.1f}), PGD-20 {pgd_s:.3f} s per "
              f"image, adv accuracy {100 * out['variants'][variant]['pgd_adv_accuracy']:.1f} %", flush=True)
    base = out["variants"]["fp32"]
    for v in out["variants"].values():
        v["speedup_vs_fp32"] = base["gradient_seconds_per_image"] / v["gradient_seconds_per_image"]
        v["adv_accuracy_minus_fp32_points"] = 100 * (v["pgd_adv_accuracy"] - base["pgd_adv_accuracy"])
    n = args.n_test   # two standard errors of a difference of two accuracies near p, on the same images (upper bound)
    pbar = base["pgd_adv_accuracy"]
    out["two_se_points"] = 100 * 2 * float(np.sqrt(2 * pbar * (1 - pbar) / n))
    out["load_after"] = os.getloadavg()[0]
    save_json(Path(args.out), out)
    return out


if __name__ == "__main__":
    exit_with(main)
