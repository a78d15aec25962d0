"""Attack the Brian2 network: craft on the torch twin, score on Brian2.

    python -m analysis.attack --run runs/stdp-mnist-n100-s0 --attack fgsm pgd --eps 0.05 0.1 0.2 0.3

Brian2 gives no gradients, so the perturbation is crafted white-box on the
surrogate twin (straight-through Poisson sampler, surrogate spike derivative,
EOT over ``--eot`` Poisson draws), clipped to [0, 1], and then the Brian2
network - the victim - classifies it with fresh Poisson draws. The twin is
scored too (white-box on itself), and ``square`` runs a gradient-free query
attack directly on Brian2 for ``--n-query`` images, to show whether the
twin-crafted attack is as strong as it should be. ``square`` decides on one
Poisson draw per query; ``square-art`` (ART's Square, analysis.attacks.query)
on the mean of ``--query-draws`` draws, and its images are scored on that
many fresh draws again: only that can find or rule out gradient masking.

Writes to ``--out`` (default RUN/attack): ``attack.json`` (every number, the
settings and the attacked network's config, its n_exc among them), ``attack.md`` (a table), ``accuracy_vs_eps.png/.pdf`` and
``gallery.png/.pdf``. Each finished (attack, eps) is cached under
``cache/`` so an interrupted run resumes where it stopped.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

import imagesets
from analysis.attacks import ATTACKS, attack_settings, make_attack
from analysis.measurement import Brian2Target, batched_predict, craft
from analysis.metrics import robustness
from bio.devices import DEVICES
from bio.frozen import load_assignments, weights_file
from networks.devices import add_torch_device_option, torch_device
from runstore.cli import Parser, UserError, pixel_eps, existing_dir, exit_with, positive_float, positive_int
from runstore.files import load_npz, save_json, save_npz
from runstore.provenance import provenance
from runstore.locks import run_lock

READOUTS = ("assignment", "softmax")
QUERY_ATTACKS = ("square-art",)   # numpy/ART query attacks on Brian2, outside the torch ATTACKS


def parse_args(argv=None):
    p = Parser(prog="python -m analysis.attack", description=__doc__.split("\n\n")[0],
               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--run", required=True, help="a bio.train_stdp run directory")
    p.add_argument("--epoch", type=positive_int, default=None,
                   help="attack the weights kept after this epoch (runs trained with --test-each-epoch: "
                        "RUN/epochs/weights-epoch-N.npz), not the run's last; the softmax readout is the last "
                        "weights' only. Default --out: RUN/attack-epochN")
    p.add_argument("--attack", nargs="+", default=["fgsm", "pgd"],
                   help=f"any of {', '.join([*ATTACKS, *QUERY_ATTACKS])}")
    p.add_argument("--eps", type=pixel_eps, nargs="+", default=[0.05, 0.1, 0.2, 0.3])
    p.add_argument("--n-test", type=positive_int, default=1000, help="test images attacked (first N of the test set)")
    p.add_argument("--n-query", type=positive_int, default=50, help="images for the query attacks (square, square-art)")
    p.add_argument("--queries", type=positive_int, default=200,
                   help="square: query budget per image; square-art: ART iterations (about 2 queries per image "
                        "each, counted in queries_mean)")
    p.add_argument("--query-draws", type=positive_int, default=4,
                   help="square-art: Poisson draws averaged per query, and per image in the final re-check")
    p.add_argument("--eot", type=positive_int, default=1, help="Poisson draws averaged per gradient")
    p.add_argument("--steps", type=positive_int, default=10, help="PGD steps")
    p.add_argument("--alpha", type=positive_float, default=None, help="PGD step size (default 2.5 eps / steps)")
    p.add_argument("--restarts", type=positive_int, default=1, help="PGD random restarts")
    p.add_argument("--readout", default="assignment", choices=READOUTS, help="readout the twin attack ascends")
    p.add_argument("--loss", default=None, choices=("ce", "margin"),
                   help="attack loss (default: margin for assignment, ce for softmax)")
    p.add_argument("--surrogate", default="fast_sigmoid", help="surrogate spike derivative of the twin")
    p.add_argument("--slope", type=positive_float, default=5.0, help="surrogate slope (1/mV)")
    p.add_argument("--batch-size", type=positive_int, default=100)
    add_torch_device_option(p)
    p.add_argument("--device", default="cpp_standalone", choices=DEVICES,
                   help="Brian2 device that scores the attacks (cuda_standalone: brian2cuda, batched copies)")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="torch CPU threads (more threads than free cores slows the twin down many times)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", type=existing_dir, default=None)
    p.add_argument("--out", default=None)
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    for a in args.attack:
        if a.lower() not in ATTACKS and a.lower() not in QUERY_ATTACKS:
            p.error(f"unknown attack {a!r}; choose from {', '.join([*ATTACKS, *QUERY_ATTACKS])}")
    if any(e < 0 or e > 1 for e in args.eps):
        p.error("--eps values must lie in [0, 1] (images are scaled to [0, 1])")
    for name in ("n_test", "eot", "steps", "restarts", "batch_size", "queries", "n_query", "query_draws"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    run = Path(args.run)
    try:   # the files the attack reads, checked before anything runs
        weights_file(run, args.epoch)
        load_assignments(run, args.epoch)
    except UserError as e:
        p.error(str(e))
    if args.epoch is not None and args.readout == "softmax":
        p.error("--readout softmax: the softmax readout is fitted to the run's last weights; with --epoch use "
                "--readout assignment")
    args.loss = args.loss or ("margin" if args.readout == "assignment" else "ce")
    args.out = Path(args.out or run / ("attack" if args.epoch is None else f"attack-epoch{args.epoch}"))
    return args


def main(argv=None):
    args = parse_args(argv)
    with run_lock(args.out, what="attack run"):   # one process writes this folder at a time
        return attack_run(args)


def attack_run(args):
    progress = not args.no_progress
    device = torch_device(args.torch_device)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    run, out = Path(args.run), args.out
    cache = out / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    victim = Brian2Target(run, args.seed, progress, device=args.device, epoch=args.epoch)
    images, labels = imagesets.load(victim.dset, "test", data_dir=args.data_dir)
    n = min(args.n_test, len(images))
    x_np = images[:n].reshape(n, -1).astype(np.float64) / 255.0
    y_np = labels[:n]
    # Crafting needs no exactness, so float32 and no rest period (state starts at rest).
    twin = victim.twin(surrogate=args.surrogate, slope=args.slope, rest=False, dtype=torch.float32, device=device)
    model = victim.twin_scores(twin, args.readout)
    x = torch.tensor(x_np, dtype=torch.float32, device=device)
    y = torch.tensor(y_np, dtype=torch.long, device=device)

    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    clean_path = cache / "clean.npz"
    if clean_path.exists():
        clean = load_npz(clean_path)
        made_on = int(clean["epoch"]) if "epoch" in clean else 0   # 0: the run's last weights
        if made_on != (args.epoch or 0):
            raise UserError(f"{out} holds attacks on the " + (f"epoch-{made_on}" if made_on else "last") +
                            " weights; choose another --out for these")
    else:
        t0 = time.perf_counter()
        clean = {"brian2_counts": victim.counts(x_np), "twin_pred": batched_predict(model, x, args.batch_size)}
        clean["seconds"] = np.float64(time.perf_counter() - t0)
        clean["epoch"] = np.int64(args.epoch or 0)
        save_npz(clean_path, **clean)
    clean_pred = victim.predictions(clean["brian2_counts"])

    results = []
    if "square-art" in [a.lower() for a in args.attack]:
        import analysis.attacks.query  # noqa: F401   ART takes seconds to import: not inside the timing
    for name in [a.lower() for a in args.attack]:
        for eps in args.eps:
            path = cache / f"{name}_eps{eps:g}.npz"
            if not path.exists():
                t0 = time.perf_counter()
                if name == "square":
                    m = min(args.n_query, n)
                    q_model = lambda z: torch.as_tensor(  # noqa: E731
                        victim_scores(victim, z.reshape(len(z), -1).cpu().numpy(), args.readout, pad_to=m))
                    atk = make_attack("square", q_model, eps, queries=args.queries, seed=args.seed)
                    x_adv = atk(x[:m].cpu().double().reshape(m, 1, 28, 28), y[:m].cpu()).reshape(m, -1)
                    extra = {"queries_mean": np.float64(atk.queries_used.float().mean())}
                elif name == "square-art":
                    m = min(args.n_query, n)
                    x_adv, counts, extra = square_art_on_victim(victim, x_np[:m], y_np[:m], eps, args)
                else:
                    m = n
                    kw = attack_settings(name, eot=args.eot, loss=args.loss, pgd_steps=args.steps,
                                         pgd_alpha=args.alpha, pgd_restarts=args.restarts)
                    atk = make_attack(name, model, eps, **kw)
                    x_adv = craft(atk, x, y, args.batch_size, progress, f"{name} eps={eps:g} on twin")
                    extra = {}
                craft_s = time.perf_counter() - t0
                if name == "square-art":   # scored by the attack's own re-check (mean of k fresh draws)
                    x_adv_np, score_s = x_adv, float(extra.pop("recheck_seconds"))
                    craft_s -= score_s
                    x_adv = torch.as_tensor(x_adv)
                else:
                    x_adv_np = x_adv.detach().cpu().double().numpy().clip(0, 1)
                    t1 = time.perf_counter()
                    counts = victim.counts(x_adv_np)
                    score_s = time.perf_counter() - t1
                twin_pred = batched_predict(model, x_adv.to(device, torch.float32), args.batch_size)
                save_npz(path, x_adv=x_adv_np.astype(np.float32), brian2_counts=counts, twin_pred=twin_pred,
                         craft_seconds=np.float64(craft_s), score_seconds=np.float64(score_s), m=np.int64(m), **extra)
            d = load_npz(path)
            m = int(d["m"])
            if name == "square-art" and (int(d["query_draws"]), int(d["queries"]), m) != \
                    (args.query_draws, args.queries, min(args.n_query, n)):
                raise SystemExit(f"error: {path} was made with --query-draws {int(d['query_draws'])} --queries "
                                 f"{int(d['queries'])} on {m} images; delete it or choose another --out")
            adv_pred = victim.predictions(d["brian2_counts"])
            row = {"attack": name, "eps": eps, "n": m,
                   "craft_seconds": float(d["craft_seconds"]), "score_seconds": float(d["score_seconds"]),
                   "brian2": {r: robustness(y_np[:m], clean_pred[r][:m], adv_pred[r]) for r in adv_pred},
                   "twin": robustness(y_np[:m], clean["twin_pred"][:m], d["twin_pred"])}
            if "queries_mean" in d:
                row["queries_mean"] = float(d["queries_mean"])
            if "query_draws" in d:   # square-art: brian2 numbers are from the mean of that many fresh draws
                q = float(d["queries_mean"]) * m
                row.update(query_draws=int(d["query_draws"]), iterations=int(d["queries"]),
                           seconds_per_query_image=float(d["craft_seconds"]) / q if q else None)
            results.append(row)

    weights = weights_file(run, args.epoch)
    summary = {"settings": settings, "n_test": n, "epoch": args.epoch, "weights": str(weights),
               "network": victim.config.to_dict(),   # its size (n_exc) and settings: the run folder may be gone later
               "clean": {"brian2": {r: float((p == y_np).mean()) for r, p in clean_pred.items()},
                         "twin": float((clean["twin_pred"] == y_np).mean())},
               "results": results, "provenance": provenance(settings, [run, weights])}
    save_json(out / "attack.json", summary)
    (out / "attack.md").write_text(markdown_table(summary, args.readout))
    from analysis import attack_figures
    attack_figures.accuracy_vs_eps(summary, out / "accuracy_vs_eps", args.readout)
    gallery = {}
    for name in dict.fromkeys(r["attack"] for r in results):
        eps = min(args.eps, key=lambda e: abs(e - 0.1))
        gallery[f"{name} eps={eps:g}"] = load_npz(cache / f"{name}_eps{eps:g}.npz")["x_adv"][:8]
    n_show = min(8, *(len(v) for v in gallery.values()))   # query attacks may have fewer than 8 images
    attack_figures.gallery(x_np[:n_show], {k: v[:n_show] for k, v in gallery.items()}, out / "gallery")
    print((out / "attack.md").read_text())
    return summary


def padded_counts(victim: Brian2Target, x: np.ndarray, pad_to: int) -> np.ndarray:
    """Brian2 exc spike counts of ``x`` (fresh Poisson draws per call), one compiled run.

    Batches are padded to ``pad_to`` so every call re-runs one compiled binary
    instead of compiling one per batch size. The padding repeats the batch's
    own images: a blank one evokes no spikes and is shown MAX_REPEATS + 1 times.
    The counts of the real rows do not depend on the padding.
    """
    if len(x) > pad_to:
        raise ValueError(f"{len(x)} images in a call padded to {pad_to}")
    pad = x[np.arange(pad_to - len(x)) % len(x)]
    return victim.counts(np.concatenate([x, pad]), chunk_size=pad_to)[:len(x)]


def readout_scores(victim: Brian2Target, counts: np.ndarray, readout: str) -> np.ndarray:
    if readout == "softmax" and victim.softmax is not None:
        with torch.no_grad():
            return victim.softmax(torch.as_tensor(counts, dtype=torch.float64)).numpy()
    from readout.assignment import class_scores as np_scores
    return np_scores(counts, victim.assignments)


def victim_scores(victim: Brian2Target, x: np.ndarray, readout: str, pad_to: int) -> np.ndarray:
    """Class scores of the Brian2 network, one Poisson draw (fresh per call)."""
    return readout_scores(victim, padded_counts(victim, x, pad_to), readout)


def square_art_on_victim(victim: Brian2Target, x: np.ndarray, y: np.ndarray, eps: float, args):
    """ART's Square on Brian2, every query the mean of ``args.query_draws`` draws (one run on the images
    tiled k times). Returns x_adv, the re-check's mean counts (k fresh draws) and the numbers to cache."""
    from analysis.attacks.query import mean_draw_scores, square_art

    k, m = args.query_draws, len(x)
    mean_counts = mean_draw_scores(lambda z: padded_counts(victim, z, pad_to=m * k), k)
    last = {}

    def predict(z):
        # The readout's scores of the mean counts (kept for the re-check's both readouts), not normalised:
        # an image often fires only neurons of its own class, so its share of the spikes is 1 whatever the
        # perturbation and the margin ART descends has no slope; the class mean count still falls with it.
        last["counts"] = mean_counts(z)
        return readout_scores(victim, last["counts"], args.readout)

    def recheck(z):
        t0 = time.perf_counter()
        s = predict(z)
        last["seconds"] = time.perf_counter() - t0
        return s

    res = square_art(predict, x, y, eps, queries=args.queries, recheck=recheck, seed=args.seed,
                     progress=not args.no_progress)
    return res.x_adv, last["counts"], {"queries_mean": np.float64(res.queries_mean),
                                       "query_draws": np.int64(k), "queries": np.int64(args.queries),
                                       "recheck_seconds": np.float64(last["seconds"])}


def markdown_table(summary: dict, readout: str) -> str:
    lines = [f"Clean accuracy on {summary['n_test']} test images: Brian2 "
             + ", ".join(f"{r} {100 * a:.1f}%" for r, a in summary["clean"]["brian2"].items())
             + f"; twin {100 * summary['clean']['twin']:.1f}%.", "",
             "| attack | eps | n | Brian2 adv acc (assignment) | Brian2 ASR | Brian2 adv acc (softmax) "
             "| twin adv acc | twin ASR |", "|---|---|---|---|---|---|---|---|"]
    for r in summary["results"]:
        b = r["brian2"]["assignment"]
        s = r["brian2"].get("softmax")
        lines.append(f"| {r['attack']} | {r['eps']:g} | {r['n']} | {100 * b['adv_accuracy']:.1f}% | "
                     f"{100 * b['attack_success_rate']:.1f}% | "
                     f"{'-' if s is None else format(100 * s['adv_accuracy'], '.1f') + '%'} | "
                     f"{100 * r['twin']['adv_accuracy']:.1f}% | {100 * r['twin']['attack_success_rate']:.1f}% |")
    lines += ["", f"Crafted on the twin with the {readout} readout; ASR = attack success rate, the share of "
              "correctly classified clean images that the attack turns wrong.", ""]
    for r in summary["results"]:
        if "query_draws" in r:
            lines[-1:] = [f"square-art (eps {r['eps']:g}): queries on the mean of {r['query_draws']} Poisson draws, "
                          f"{r['queries_mean']:.1f} queries per image over {r['iterations']} ART iterations; its "
                          f"Brian2 numbers are a re-check on {r['query_draws']} fresh draws.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    exit_with(main, user_errors=(imagesets.DatasetError,))
