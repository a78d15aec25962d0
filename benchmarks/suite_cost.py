"""What the sweeps' attack suite costs per test image and attack, and what a larger batch saves.

    python -m benchmarks.suite_cost [--n-train 2000] [--n-test 40] [--eot 1 4] [--out benchmarks/results/suite_cost.json]

Trains (or reuses, under ``--runs``) one sweep point's surrogate SNN at the reference setting (T 8, leak 0.99) on
``--n-train`` MNIST images, then times :func:`analysis.measurement.evaluation.attack_suite` (the ``--suite full``
attacks at each ``--eot``, and the surrogate ensemble's members crafted with PGD at the first) on the first
``--n-test`` test images: seconds per test image per attack, one core. Last, the ratio of a gradient (the attacks' own, EOT
``--eot``'s largest) at the sweep's batch size and at a larger one, both timed in this run.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from analysis import sweep_jobs, sweep_points
from analysis.attacks import Attack
from analysis.defaults import QUICK
from analysis.measurement import load_test, subject
from analysis.measurement.evaluation import ENSEMBLE, attack_suite, suite_spec
from runstore.files import save_json


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.suite_cost", description=__doc__.split("\n\n")[0])
    p.add_argument("--n-train", type=int, default=2000)
    p.add_argument("--n-test", type=int, default=40)
    p.add_argument("--eot", type=int, nargs="+", default=[1, 4])
    p.add_argument("--runs", default="/tmp/suite-cost", help="where the point's model is trained")
    p.add_argument("--members", nargs="*", default=list(ENSEMBLE), help="ensemble members timed (PGD on each)")
    p.add_argument("--out", default="benchmarks/results/suite_cost.json")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    s = dict(QUICK, n_train=args.n_train, n_test=args.n_test, source=None, data_dir=None, out=args.runs,
             torch_device="cpu", bio_n_train=0)
    job = sweep_jobs.make_job("snn", s)
    run = Path(args.runs) / "runs" / sweep_jobs.model_name(job)
    metrics = sweep_points.train(job, run)
    x, y = load_test(args.n_test)
    subj = subject("snn", run)
    pred = subj.predict(x, 1)
    out = {"n_train": args.n_train, "n_test": args.n_test, "T": job["T"], "clean_accuracy": metrics["test_accuracy"],
           "batch_size": subj.batch_size, "per_image_seconds": {}}
    for eot in args.eot:
        full = suite_spec("full", "snn")
        res, _ = attack_suite(subj, subj, x, y, full, 0.1, eot=eot, seed=0, pred_clean=pred)
        timed = {k: r["seconds"] / len(x) for k, r in res["attacks"].items()}
        if args.members and eot == args.eot[0]:
            ens = dict(full, attacks=["pgd"], ensemble=args.members)
            more, _ = attack_suite(subj, subj, x, y, ens, 0.1, eot=eot, seed=0, pred_clean=pred)
            timed.update({k: r["seconds"] / len(x) for k, r in more["attacks"].items() if "/" in k})
        out["per_image_seconds"][f"eot{eot}"] = timed
        out[f"worst_case_eot{eot}"] = res["worst_case"]["adv_accuracy"]
        print(f"eot {eot}: " + ", ".join(f"{k} {v:.3f}" for k, v in timed.items()) + " s per image", flush=True)
    # a larger batch: the same gradients, timed in this run
    xb, yb = load_test(max(400, args.n_test))
    grad = Attack(subj.scores, 0.1, eot=max(args.eot)).gradient
    ratio = {}
    for bs in sorted({10, 25, subj.batch_size, 200, 400}):
        torch.manual_seed(0)
        t0 = time.perf_counter()
        for k in range(0, len(xb), bs):
            grad(xb[k:k + bs], yb[k:k + bs])
        ratio[bs] = (time.perf_counter() - t0) / len(xb)
    out["gradient_seconds_per_image_by_batch"] = ratio
    out["speedup_vs_sweep_batch"] = {bs: ratio[subj.batch_size] / v for bs, v in ratio.items()}
    print(f"one EOT-{max(args.eot)} gradient, s per image by batch size: {ratio}; speed-up {out['speedup_vs_sweep_batch']}")
    save_json(Path(args.out), out)
    return out


if __name__ == "__main__":
    main()
