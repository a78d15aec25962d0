"""The robustness comparison table: every trained model under white- and black-box attacks.

    python -m analysis.compare --dset mnist --runs-root runs/baselines --stdp-run runs/stdp-mnist-n400-s0

For every target model: clean accuracy, the share of exactly-zero input
gradients (analysis.metrics.zero_gradient_share: a check for gradient masking),
and per attack (FGSM, PGD, APGD-CE, APGD-DLR) and eps the adversarial accuracy
and attack success rate (analysis.metrics.robustness), and per eps the worst
case over the white-box attacks: an example counts as robust only if no attack
fooled it, as AutoAttack reports robust accuracy. FGSM stays for comparison
with the seed papers, which report it; the worst case is the number to trust.

* white-box: crafted with the target's own gradients; spiking nets with EOT
  over ``--eot`` Poisson draws (their straight-through sampler gives the
  gradient); the Brian2 STDP network (``--stdp-run``, "Diehl & Cook",
  analysis.measurement.Brian2Target) crafted on its torch twin and scored
  on Brian2 with fresh Poisson draws, as analysis.attack does;
* black-box (transfer): crafted white-box on each source of ``--sources``
  (``cnn`` should be a CNN trained independently of the target CNN, with
  another seed) and scored on every target. A source that is the target, or
  shares its weights or training seed (a converted SNN and its CNN), is not a
  black-box attack: that cell is skipped and marked.

Targets are ``--runs``, else per net kind the lowest-seed finished run of
``--dset`` under ``--runs-root``. Every (target, attack, eps, setting) cell is
cached as JSON under OUT/cache (adversarial images per crafting model as npz),
its file name carrying a hash of everything its numbers depend on, so an
interrupted run resumes and a changed setting recomputes (the cells are
analysis.measurement.Cells; this module picks the models and writes the table).
Writes ``compare.json``, ``compare.md`` and ``accuracy_under_attack.png/.pdf`` to ``--out``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import imagesets
from analysis.attacks import ATTACKS
from analysis.defaults import COMPARE_KIND, MODEL_ORDER, NET_LABELS, NET_SHORT, RESULTS
from analysis.measurement import Brian2Target, Cells, Model, Suite, batched_predict
from networks.cnn import IN_SHAPE, as_images
from networks.devices import add_torch_device_option, torch_device
from networks.registry import CONFIG, METRICS, MODEL, finished_runs, load_model
from runstore.cli import Parser, count, pixel_eps, existing_dir, exit_with, positive_float, positive_int
from runstore.files import load_json, relative_path, save_json
from runstore.locks import run_lock
from runstore.provenance import provenance

DEFAULT_EPS = {"mnist": 0.1, "fashion": 0.1, "cifar10": 8 / 255}


def parse_args(argv=None):
    p = Parser(prog="python -m analysis.compare", description=__doc__.split("\n\n")[0],
               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dset", default="mnist")
    p.add_argument("--runs", nargs="+", default=None, help="target run directories (networks.train)")
    p.add_argument("--runs-root", default="runs/baselines", help="where to look for runs without --runs")
    p.add_argument("--stdp-run", default=None, help="a bio.train_stdp run directory (the Diehl & Cook row)")
    p.add_argument("--sources", nargs="+", default=["cnn", "snn"],
                   help="black-box sources: a net kind (picks the run most independent of the targets) or KIND=DIR")
    p.add_argument("--eps", type=pixel_eps, nargs="+", default=None, help="default: 0.1 (MNIST), 8/255 (CIFAR-10)")
    p.add_argument("--attacks", nargs="+", default=["fgsm", "pgd", "apgd-ce", "apgd-dlr"],
                   choices=[a for a in ATTACKS if a != "square"])
    # 40 steps and 2 restarts so that PGD converges rather than stops short of the worst case. The step is
    # PGD's own 2.5 eps / steps (Madry et al.): enough to cross the ball and come back, and finer the more
    # steps there are; a fixed eps/4 (the old default, sized for 7 steps) keeps jumping a quarter of the ball
    # for all 40 steps and never settles on the worst point.
    add_measurement_options(p, eot=4, pgd_steps=40, pgd_restarts=2, apgd_iter=100)
    p.add_argument("--out", default=None, help=f"default {RESULTS}/compare/DSET")
    args = p.parse_args(argv)
    try:
        args.dset = imagesets.canonical_name(args.dset)
    except imagesets.UnknownDatasetError as e:
        p.error(str(e))
    args.eps = args.eps or [DEFAULT_EPS[args.dset]]
    if any(not 0 < e <= 1 for e in args.eps):
        p.error("--eps values must lie in (0, 1] (images are scaled to [0, 1])")
    for name in ("eot", "pgd_steps", "pgd_restarts", "apgd_iter", "batch_size", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.n_test < 0 or args.converted_T < 0:
        p.error("--n-test and --converted-T must be >= 0")
    args.out = Path(args.out or RESULTS / "compare" / args.dset)
    return args


def add_measurement_options(p: argparse.ArgumentParser, *, eot: int, pgd_steps: int, pgd_restarts: int,
                            apgd_iter: int) -> None:
    """The options of the test images, the attack suite's budget and the models (with these defaults) that
    analysis.compare and analysis.transfer_matrix share; :func:`measurement` reads them."""
    p.add_argument("--n-test", type=count, default=1000, help="the first N test images; 0 = all")
    p.add_argument("--eot", type=positive_int, default=eot,
                   help="Poisson draws averaged per gradient of a spiking model")
    p.add_argument("--pgd-steps", type=positive_int, default=pgd_steps)
    p.add_argument("--pgd-alpha", type=positive_float, default=None, help="PGD step; default 2.5 eps / steps")
    p.add_argument("--pgd-restarts", type=positive_int, default=pgd_restarts)
    p.add_argument("--apgd-iter", type=positive_int, default=apgd_iter,
                   help="APGD iterations (AutoAttack's standard 100)")
    p.add_argument("--converted-T", type=int, default=25,
                   help="time steps of converted SNNs (trained with 100; fewer make attacks affordable); "
                        "0 = as trained")
    p.add_argument("--batch-size", type=positive_int, default=100)
    add_torch_device_option(p)
    p.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", type=existing_dir, default=None)
    p.add_argument("--no-progress", action="store_true")


def measurement(args, eps: list, device) -> Cells:
    """The cells of ``args`` (:func:`add_measurement_options`): its first ``--n-test`` test images of ``--dset``,
    the attack suite at ``eps``, cached under ``--out``/cache."""
    images, labels = imagesets.load(args.dset, "test", data_dir=args.data_dir)
    n = len(images) if args.n_test == 0 else min(args.n_test, len(images))
    x = as_images(torch.as_tensor(images[:n]), IN_SHAPE[args.dset]).to(device)
    y = torch.as_tensor(labels[:n], dtype=torch.long, device=device)
    suite = Suite(args.attacks, eps, eot=args.eot, pgd_steps=args.pgd_steps, pgd_alpha=args.pgd_alpha,
                  pgd_restarts=args.pgd_restarts, apgd_iter=args.apgd_iter, batch_size=args.batch_size, seed=args.seed)
    return Cells(suite, x, y, Path(args.out) / "cache", args.dset, device, progress=not args.no_progress)


# --- models ------------------------------------------------------------------
def lineage(run: Path, cfg: dict) -> set:
    tr = cfg.get("train", {})
    links = {run.resolve()} | {Path(p).resolve() for p in (cfg.get("converted_from"), tr.get("from_dir")) if p}
    # Same net and seed: same initial weights and data order, so not independent either. A TGO net is the
    # surrogate SNN class with an extra loss term, and the STDP net builds its layers above the first as the
    # SNN does: both share that SNN's initial weights.
    family = {"tgo": "snn", "stdp": "snn"}.get(cfg["net"], cfg["net"])
    return links | {(family, tr.get("seed"))} if cfg["net"] != "converted" else links


def torch_model(run: Path, args, device) -> Model:
    cfg = load_json(run / CONFIG)
    net, overrides = cfg["net"], {}
    if net == "converted" and args.converted_T and args.converted_T != cfg["model"]["T"]:
        overrides["T"] = args.converted_T
    model = load_model(run, device, **overrides)
    T = getattr(model, "T", None)
    label = NET_LABELS.get(net, net)
    label = (label[:-1] + f", T={T})" if label.endswith(")") else f"{label} (T={T})") if T else label

    def predict(x):
        return batched_predict(model, x, args.batch_size)

    # "net" as compare.json has always named it (COMPARE_KIND); the cells' cache names hash ``info``
    info = {"path": str(run.resolve()), "net": COMPARE_KIND.get(net, net), "T": T, "overrides": overrides,
            "train_seed": cfg["train"].get("seed"),
            "trained_test_accuracy": load_json(run / METRICS)["test_accuracy"],
            "model_mtime_ns": (run / MODEL).stat().st_mtime_ns}
    return Model(run.name, net, label, run, model, predict, random=T is not None and model.encoding == "poisson",
                 info=info, lineage=lineage(run, cfg))


def stdp_run(run: Path, args) -> Brian2Target:
    """The Brian2 network of ``--stdp-run``, checked."""
    for need in ("config.json", "weights.npz", "counts.npz"):
        if not (run / need).exists():
            raise SystemExit(f"error: {run} has no {need}: train it first with python -m bio.train_stdp --out {run}")
    target = Brian2Target(run, args.seed, progress=not args.no_progress)
    if target.dset != args.dset:
        raise SystemExit(f"error: --stdp-run {run} was trained on {target.dset}, not {args.dset}")
    return target


def pick_targets(args) -> list[Path]:
    if args.runs:
        runs = [Path(r) for r in args.runs]
        for r in runs:
            if not all((r / f).exists() for f in (CONFIG, MODEL)):
                raise SystemExit(f"error: {r} is not a finished networks.train run (no {CONFIG} or {MODEL})")
            if load_json(r / CONFIG).get("dset") != args.dset:
                raise SystemExit(f"error: {r} was trained on {load_json(r / CONFIG).get('dset')}, not {args.dset}")
        return runs
    best = {}
    for r in finished_runs(Path(args.runs_root), args.dset):
        cfg = load_json(r / CONFIG)
        key = (cfg["train"].get("seed", 0), r.name)
        if cfg["net"] not in best or key < best[cfg["net"]][0]:
            best[cfg["net"]] = (key, r)
    return [r for _, r in sorted(best.values(), key=lambda kv: MODEL_ORDER.index(load_json(kv[1] / CONFIG)["net"]))]


def pick_sources(args, targets: list[Model]) -> dict[str, Path]:
    """{role: run dir}; a bare kind picks the run sharing lineage with the fewest targets."""
    pool = {p.resolve(): p for p in finished_runs(Path(args.runs_root), args.dset)}
    pool.update({t.path.resolve(): t.path for t in targets if t.kind != "bio"})
    out = {}
    for spec in args.sources:
        kind, _, path = spec.partition("=")
        if path:
            out[kind] = Path(path)
            continue
        cands = [p for p in pool.values() if load_json(p / CONFIG)["net"] == kind]
        if not cands:
            raise SystemExit(f"error: no finished {kind} run for {args.dset} to craft black-box attacks on; train one, "
                             f"e.g. python -m networks.train --net {kind} --dset {args.dset} --seed 1 "
                             f"--out {Path(args.runs_root) / f'{kind}-{args.dset}-s1'}")
        related = lambda p: sum(bool(lineage(p, load_json(p / CONFIG)) & t.lineage) for t in targets)  # noqa: E731
        out[kind] = min(cands, key=lambda p: (related(p), str(p)))
    return out


# --- outputs -------------------------------------------------------------------
def pct(v) -> str:
    return "-" if v is None or v != v else f"{100 * v:.1f}"


def markdown(summary: dict) -> str:
    s, roles = summary["settings"], list(summary["sources"])
    lines = [f"# Robustness on {s['dset']}: n = {summary['n_test']} (the first {summary['n_test']} test images)", ""]
    for eps in s["eps"]:
        head = ["model", "clean %", "zero-grad share %"] + [f"{a.upper()} adv %" for a in s["attacks"]] + \
               ["worst case adv %", "worst case ASR %"]
        lines += [f"## White-box, eps = {eps:g}" + (f" ({eps * 255:.0f}/255)" if s["dset"] == "cifar10" else ""),
                  "", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        bpda = []
        for m in summary["models"]:
            adv = {c["attack"]: c["adv_accuracy"] for c in summary["cells"]
                   if c["target"] == m["key"] and c["eps"] == eps and c["setting"] == "white"}
            w = next(c for c in summary["worst_case"] if c["target"] == m["key"] and c["eps"] == eps)
            lines.append("| " + " | ".join([m["label"], pct(m["clean_accuracy"]), pct(m["zero_grad_share"])]
                                           + [pct(adv[a]) for a in s["attacks"]]
                                           + [pct(w["adv_accuracy"]), pct(w["attack_success_rate"])]) + " |")
            bpda += [f"{c['attack'].upper()} {pct(c['adv_accuracy'])} %" for c in summary["cells"]
                     if c["target"] == m["key"] and c["eps"] == eps and c["setting"] == "white-bpda"]
        lines.append("")
        if bpda:
            lines += [f"{NET_SHORT['converted']} through the ReLU CNN it was converted from (BPDA, white-box, in its "
                      "worst case): " + ", ".join(bpda) + ".", ""]
    for name in s["attacks"]:
        for eps in s["eps"]:
            head = ["model", "clean %", "white-box adv %", "white-box ASR %"] + \
                   [f"black-box from {summary['sources'][r]['label']} adv %" for r in roles]
            title = f"## {name.upper()}, eps = {eps:g}" + (f" ({eps * 255:.0f}/255)" if s["dset"] == "cifar10" else "")
            lines += [title,
                      "", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
            for m in summary["models"]:
                cells = {c["setting"]: c for c in summary["cells"]
                         if c["target"] == m["key"] and c["attack"] == name and c["eps"] == eps}
                w = cells["white"]
                row = [m["label"], pct(m["clean_accuracy"]), pct(w["adv_accuracy"]), pct(w["attack_success_rate"])]
                for r in roles:
                    c = cells[f"black-{r}"]
                    row.append(pct(c.get("adv_accuracy")) if c["black_box"] else
                               "self" if "self" in c["skipped"] else "n/a (related)")
                lines.append("| " + " | ".join(row) + " |")
            lines.append("")
    pgd = f"PGD: {s['pgd_steps']} steps of " + ("2.5 eps / steps" if s["pgd_alpha"] is None else
                                                 f"{s['pgd_alpha']:g}") + \
          f", random start, {s['pgd_restarts']} restart(s). APGD (torchattacks): {s['apgd_iter']} iterations."
    lines += ["ASR (attack success rate): the share of correctly classified clean images that the attack turns wrong.",
              "Worst case: an image counts as robust only if it is classified right clean and under every white-box "
              "attack of the table (AutoAttack's robust accuracy).",
              "Zero-grad share: the share of input-gradient entries that are exactly 0; a sign-gradient attack never "
              "moves those pixels, so a large share means gradient masking (e.g. a ReLU net without biases on "
              "MNIST's zero background).",
              f"White-box: each model's own input gradients; spiking models averaged over {s['eot']} Poisson draws "
              "(EOT) through their straight-through sampler. " + pgd,
              "Black-box: crafted white-box on the source, scored on the target; 'self' / 'n/a (related)': the "
              "source is the target or shares its weights or training seed, so the transfer is not black-box."]
    for r, src in summary["sources"].items():
        lines.append(f"- source {src['label']}: {src['path']} (train seed {src.get('train_seed')})")
    for m in summary["models"]:
        extra = (f", {m['n_exc']} exc neurons, assignment readout; attacks crafted on its torch twin (clean "
                 f"{pct(m['twin_clean_accuracy'])}%), scored on Brian2 with fresh Poisson draws"
                 ) if m["net"] == COMPARE_KIND["bio"] else ""
        lines.append(f"- {m['label']}: {m['path']}{extra}")
    return "\n".join(lines) + "\n"


def figure(summary: dict, path) -> None:
    """The figure of analysis.compare_figures (imported here: matplotlib only when a figure is drawn)."""
    from analysis.compare_figures import compare_figure
    compare_figure(summary, path)


def no_runs_message(args) -> str:
    d, root = args.dset, Path(args.runs_root)
    return (f"error: no trained {d} runs in {root} (or --runs); train them first, e.g.\n"
            f"  python -m networks.train --net cnn --dset {d} --out {root / f'cnn-{d}-s0'}\n"
            f"  python -m networks.train --net snn --dset {d} --out {root / f'snn-{d}-s0'}"
            + (f" --from {root / f'cnn-{d}-s0'}" if d == "cifar10" else "") + "\n"
            f"  python -m networks.train --net cnn --dset {d} --seed 1 --out {root / f'cnn-{d}-s1'}"
            "   # the independent black-box source\n"
            f"then: python -m analysis.compare --dset {d} --runs-root {root}")


def main(argv=None) -> dict:
    args = parse_args(argv)
    with run_lock(args.out, what="comparison"):   # one process writes this folder at a time
        return compare(args)


def compare(args) -> dict:
    torch.set_num_threads(args.threads)
    device = torch_device(args.torch_device)
    target_runs = pick_targets(args)
    if not target_runs and not args.stdp_run:
        raise SystemExit(no_runs_message(args))
    t_start = time.perf_counter()
    targets = [torch_model(r, args, device) for r in target_runs]
    if args.stdp_run:
        targets.append(stdp_run(Path(args.stdp_run), args).cells_model(args.batch_size, device))
    if len({t.key for t in targets}) < len(targets):
        raise SystemExit("error: two target runs share a directory name; their cache files would collide")
    def model_at(path: Path, known: list[Model]) -> Model:   # a model already loaded, else load it
        return next((m for m in known if m.path.resolve() == path.resolve()), None) or torch_model(path, args, device)

    sources = {role: model_at(p, targets) for role, p in pick_sources(args, targets).items()}

    measured = measurement(args, args.eps, device)
    n = len(measured.x)

    # A converted SNN is also attacked through the ReLU CNN it came from (BPDA), a white-box attack that
    # does not depend on how well surrogate gradients pass through its IF layers.
    bpda = {}
    for t in targets:
        origin = load_json(t.path / CONFIG).get("converted_from") if t.kind == "converted" else None
        if origin and (Path(origin) / MODEL).exists():
            bpda[t.key] = model_at(Path(origin), [*targets, *sources.values()])
    table = measured.table(targets, sources, bpda)
    cells = table["cells"]
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    # paths as given or relative to the project (the cells and their cache names keep the resolved ones)
    shown = {m.info["path"]: relative_path(m.path) for m in [*targets, *sources.values(), *bpda.values()]}
    summary = {"settings": settings, "n_test": n, "device": str(device),
               "models": [{**m, "path": shown[m["path"]]} for m in table["models"]],
               "sources": {r: {"label": NET_SHORT.get(s.kind, s.kind) + (f" (seed {s.info.get('train_seed')})"
                                                                          if r == "cnn" else ""),
                               **s.info, "path": shown[s.info["path"]]}
                           for r, s in sources.items()},
               "cells": [{k: shown.get(v, v) if k == "source" else v for k, v in c.items() if k != "pred"}
                         for c in cells],
               "worst_case": table["worst_case"],
               "run": {"cells_computed": measured.computed, "cells_cached": measured.cached,
                       "seconds": time.perf_counter() - t_start,
                       "cell_seconds_total": sum(c.get("seconds", 0.0) for c in cells)},
               "provenance": provenance(settings, shown.values())}
    save_json(args.out / "compare.json", summary)
    (args.out / "compare.md").write_text(markdown(summary))
    figure(summary, args.out / "accuracy_under_attack")
    print((args.out / "compare.md").read_text())
    return summary


if __name__ == "__main__":
    exit_with(main, user_errors=(imagesets.DatasetError,))
