"""The transfer matrix: are attacks crafted on an SNN stronger than attacks crafted on an ANN? (Sharmin et al. 2019)

    python -m analysis.transfer_matrix --eps 0.1 --n-test 1000 --attacks fgsm pgd

Sources x targets among ``--models`` (default: the CNN and the surrogate SNN, T = 8 and leak 0.99, of seeds 0
and 1, and the SNN converted from the seed-0 CNN): each cell is the target's adversarial accuracy, and attack
success rate among the images it classifies right clean, on the test images crafted white-box on the source,
with the source's own gradients as analysis.compare crafts them (spiking sources with EOT over ``--eot``
Poisson draws through their straight-through sampler; the converted SNN through its own surrogate gradients at
``--converted-T`` steps). The diagonal is the white-box attack itself (analysis.compare's white-box cell). A
source that shares weights or training seed with the target (the converted SNN and its CNN) is scored all the
same and marked ``related``: that transfer is not black-box (crafted on the seed-0 CNN and scored on the
converted SNN, it is analysis.compare's BPDA cell). The verdict on the claim is
analysis.seed_claims.transfer_claim (statistics: analysis.verdicts.transfer_effects, black-box cells only).

The cells are analysis.measurement's (:class:`analysis.measurement.Cells`): one JSON file per cell under
OUT/cache, named by a hash of everything its numbers depend on, and the adversarial images one npz per
(source, attack), so an interrupted run resumes and a changed setting recomputes only what depends on it.
Default models: the converged leak sweep's (results/sweeps/runs/, named by analysis.sweep_jobs.model_name)
where trained, else runs/baselines/{cnn,snn,converted}-mnist-s{0,1}. Writes ``transfer_matrix.json`` (every
cell with its per-example predictions, the labels, the effects and the claim) and ``transfer_matrix.md`` to
``--out`` (default results/transfer_matrix/mnist).
"""
from __future__ import annotations

import argparse
import dataclasses
import re
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

import imagesets
from analysis.compare import add_measurement_options, measurement, pct, torch_model
from analysis.defaults import CONVERGED, DSET_NAMES, REF, RESULTS, RUNS
from analysis.measurement import Model
from analysis.measurement.evaluation import SWEEP_SUITE
from analysis.seed_claims import transfer_claim
from analysis.sweep_jobs import make_job, model_name
from analysis.verdicts import transfer_effects
from networks.devices import torch_device
from networks.registry import CONFIG, METRICS, MODEL
from runstore.cli import Parser, UserError, exit_with, pixel_eps
from runstore.files import load_json, relative_path, save_json
from runstore.provenance import provenance
from runstore.locks import run_lock

DSET = "mnist"
DEFAULT_MODELS = ("cnn-s0", "cnn-s1", "snn-s0", "snn-s1", "converted-s0")
SWEEP_OUT = RESULTS / "sweeps"    # analysis.leak_sweep's --out: its models are in SWEEP_OUT/runs
ANN_NETS = ("cnn", "stdp-cnn")        # every other net spikes


def parse_args(argv=None):
    p = Parser(prog="python -m analysis.transfer_matrix", description=__doc__.split("\n\n")[0],
               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), metavar="NAME[=RUN_DIR]",
                   help="the models, sources and targets alike: NAME=RUN_DIR (a networks.train run), or one of "
                        f"{', '.join(DEFAULT_MODELS)} alone for its default run")
    p.add_argument("--eps", type=pixel_eps, default=0.1)
    p.add_argument("--attacks", nargs="+", default=["fgsm", "pgd"], choices=["fgsm", "pgd", "apgd-ce", "apgd-dlr"])
    # the MNIST comparison table's budget (docs/attacks.md), that of the sweeps' suite
    add_measurement_options(p, eot=SWEEP_SUITE["eot"], pgd_steps=SWEEP_SUITE["pgd_steps"],
                            pgd_restarts=SWEEP_SUITE["pgd_restarts"], apgd_iter=SWEEP_SUITE["apgd_iter"])
    p.add_argument("--out", default=str(RESULTS / "transfer_matrix" / DSET))
    args = p.parse_args(argv)
    if not 0 < args.eps <= 1:
        p.error("--eps must lie in (0, 1] (images are scaled to [0, 1])")
    if args.converted_T < 0:
        p.error("--converted-T must be >= 0")
    args.dset, args.out = DSET, Path(args.out)
    return args


# --- the models -------------------------------------------------------------------------------
def sweep_run(kind: str, seed: int) -> Path:
    """Where the converged leak sweep trains its ``kind`` model (CNN, or SNN at REF's T and leak) of ``seed``."""
    settings = dict(CONVERGED, seed=seed, source=None, data_dir=None, out=str(SWEEP_OUT), torch_device="cpu")
    return SWEEP_OUT / "runs" / model_name(make_job(kind, settings))


def finished(run: Path) -> bool:
    return all((run / f).exists() for f in (CONFIG, MODEL, METRICS))


def train_commands(name: str, cnn_s0: Path | None) -> list[str]:
    """The commands that train the default model ``name``."""
    net, seed = name.rsplit("-s", 1)
    if net == "converted":
        cnn = cnn_s0 or RUNS / f"baselines/cnn-{DSET}-s0"
        return [f"python -m networks.train --net converted --dset {DSET} --from {cnn} --out {converted_dir(cnn)}"]
    spiking = f" -t {REF['T']} --leak {REF['leak']:g}" if net == "snn" else ""
    return [f"python -m analysis.leak_sweep --leaks {REF['leak']:g} --tau-exc --seeds {int(seed) + 1} --train-only"
            f"   (the converged sweep's CNN and SNN per seed; {sweep_run(net, int(seed))} among them)",
            f"or python -m networks.train --net {net} --dset {DSET}{spiking} --seed {seed} "
            f"--out {RUNS / f'baselines/{net}-{DSET}-s{seed}'}"]


def converted_dir(cnn: Path) -> Path:
    """Where a converted SNN of the CNN run ``cnn`` goes when there is no default: beside it."""
    return RUNS / f"baselines/converted-{DSET}-s0" if cnn == RUNS / f"baselines/cnn-{DSET}-s0" \
        else cnn.parent / f"converted-{cnn.name}"


def default_run(name: str, cnn_s0: Path | None) -> Path | None:
    """The finished default run of ``name``: the sweep's, else the baseline's (the converted SNN: one converted
    from ``cnn_s0``), or None."""
    net, seed = name.rsplit("-s", 1)
    if net == "converted":
        if cnn_s0 is None:
            return None
        cands = [RUNS / f"baselines/converted-{DSET}-s0", converted_dir(cnn_s0)]
        return next((c for c in cands if finished(c) and Path(load_json(c / CONFIG).get("converted_from", "/"))
                     .resolve() == cnn_s0.resolve()), None)
    return next((c for c in (sweep_run(net, int(seed)), RUNS / f"baselines/{net}-{DSET}-s{seed}") if finished(c)),
                None)


def pick_models(specs: list[str]) -> dict[str, Path]:
    """{NAME: run directory} of ``--models``; a missing default names the command that trains it."""
    given = dict(s.partition("=")[::2] for s in specs)
    for name in given:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
            raise UserError(f"--models: {name!r} is no file-name-safe NAME (letters, digits, . _ -)")
        if not given[name] and name not in DEFAULT_MODELS:
            raise UserError(f"--models: {name} has no default run; give it as {name}=RUN_DIR")
    cnn_s0 = Path(given["cnn-s0"]) if given.get("cnn-s0") else default_run("cnn-s0", None)
    out, missing = {}, []
    for name, path in given.items():
        run = Path(path) if path else default_run(name, cnn_s0)
        if run is None or not finished(run):
            where = f"{run} is not a finished networks.train run" if run else f"no trained {name}"
            missing.append(f"{where}; train it with\n  " + "\n  ".join(train_commands(name, cnn_s0)))
            continue
        if load_json(run / CONFIG).get("dset") != DSET:
            raise UserError(f"{name}: {run} was trained on {load_json(run / CONFIG).get('dset')}, not {DSET}")
        out[name] = run
    if missing:   # SystemExit keeps the lines (a UserError is printed as one)
        raise SystemExit(f"error: {len(missing)} of {len(given)} models missing:\n" + "\n".join(missing)
                         + "\nthen run python -m analysis.transfer_matrix again")
    if len({r.resolve() for r in out.values()}) < len(out):
        raise UserError("--models: two names share one run directory")
    return out


# --- the matrix -------------------------------------------------------------------------------
def matrix_cells(measured, models: dict[str, Model], attacks: list[str], eps: float, progress: bool) -> list[dict]:
    """Every (attack, source, target) cell: white-box on the diagonal, else crafted on the source and scored on
    the target (a related source scored too, and marked). Prints how many are still to compute."""
    plan = [(a, s, t) for a in attacks for s in models for t in models]

    def one(attack, source, target):
        src, tgt = models[source], models[target]
        if source == target:
            return measured.attack_cell(tgt, attack, eps, None, None)
        return measured.attack_cell(tgt, attack, eps, src, source, related=True)

    todo = measured.pending(lambda: [one(*k) for k in plan] + [measured.clean(m) for m in models.values()])
    crafts = sum(not measured.adversarial_path(models[s], a, eps).exists() for a in attacks for s in models)
    print(f"transfer matrix: {len(plan)} cells ({len(attacks)} attacks x {len(models)} sources x {len(models)} "
          f"targets) and {len(models)} clean ones; {todo} to compute; {crafts} of {len(attacks) * len(models)} "
          "adversarial sets not crafted yet", flush=True)
    cells = []
    for attack, source, target in tqdm(plan, desc="cells", disable=not progress, dynamic_ncols=True):
        c = one(attack, source, target)
        cells.append({"source": source, "target": target, "white_box": source == target,
                      **{k: v for k, v in c.items() if k not in ("source", "target", "setting")}})
    return cells


def markdown(m: dict) -> str:
    names, s = m["order"], m["settings"]
    lines = [f"# Transfer matrix on {DSET_NAMES.get(m['dset'], m['dset'])}, eps {m['eps']:g}, n = {m['n_test']}",
             "", "Adversarial accuracy % of the target (column) on images crafted white-box on the source (row); "
             "in brackets the attack success rate % among the images the target classifies right clean. "
             "Diagonal (**bold**): white-box. *: the source shares weights or training seed with the target "
             "(not black-box; left out of the verdict).", ""]
    for attack in m["attacks"]:
        cell = {(c["source"], c["target"]): c for c in m["cells"] if c["attack"] == attack}
        lines += [f"## {attack.upper()}", "", "| crafted on \\ scored on | " + " | ".join(names) + " |",
                  "|---" * (len(names) + 1) + "|"]
        for src in names:
            row = []
            for tgt in names:
                c = cell[(src, tgt)]
                v = f"{pct(c['adv_accuracy'])} ({pct(c['attack_success_rate'])})"
                row.append(f"**{v}**" if c["white_box"] else v + ("*" if c.get("related") else ""))
            lines.append(f"| {src} ({'spiking' if m['models'][src]['spiking'] else 'ANN'}) | " + " | ".join(row) + " |")
        lines.append("| clean | " + " | ".join(pct(m["models"][t]["clean_accuracy"]) for t in names) + " |")
        lines.append("")
    lines += ["## SNN- against ANN-crafted attacks, per target", "",
              "| target | attack | SNN sources | acc % | ANN sources | acc % | SNN - ANN, points (95 % interval) |",
              "|---|---|---|---|---|---|---|"]
    for e in m["effects"]:
        est, lo, hi = (100 * v for v in e["effect"])
        lines.append(f"| {e['target']} | {e['attack'].upper()} | {', '.join(e['snn_sources'])} | "
                     f"{pct(e['snn_accuracy'])} | {', '.join(e['ann_sources'])} | {pct(e['ann_accuracy'])} | "
                     f"{est:+.1f} ({lo:+.1f}, {hi:+.1f}) |")
    claim = m.get("claim")
    lines += ["", f"**Claim** ({claim['statement']}): **{claim['verdict']}**." if claim else "", "",
              f"Crafting: {s['eot']} Poisson draws per gradient (EOT) of a spiking source; PGD {s['pgd_steps']} steps "
              f"x {s['pgd_restarts']} restart(s); converted SNN at T = {s['converted_T'] or 'as trained'}. "
              "Per-example interval: paired bootstrap over the test images (analysis.verdicts.paired_difference)."]
    lines += [f"- {k}: {v['label']}, {v['path']} (train seed {v['train_seed']})" for k, v in m["models"].items()]
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    args = parse_args(argv)
    runs = pick_models(args.models)   # before the lock: a missing model writes nothing
    with run_lock(args.out, what="transfer matrix"):
        return transfer_matrix(args, runs)


def transfer_matrix(args, runs: dict[str, Path]) -> dict:
    torch.set_num_threads(args.threads)
    device = torch_device(args.torch_device)
    t0 = time.perf_counter()
    models = {name: dataclasses.replace(torch_model(run, args, device), key=name) for name, run in runs.items()}
    measured = measurement(args, [args.eps], device)
    cells = matrix_cells(measured, models, args.attacks, args.eps, not args.no_progress)
    info = {}
    for name, mod in models.items():
        clean = measured.clean(mod)
        info[name] = {"label": mod.label, "net": mod.kind, "spiking": mod.kind not in ANN_NETS,
                      "path": relative_path(mod.path), "train_seed": mod.info["train_seed"], "T": mod.info["T"],
                      "trained_test_accuracy": mod.info["trained_test_accuracy"],
                      "converted_from": load_json(mod.path / CONFIG).get("converted_from"),
                      "clean_accuracy": clean["accuracy"], "clean_pred": clean["pred"]}
    matrix = {"dset": DSET, "eps": args.eps, "n_test": len(measured.x), "attacks": args.attacks, "order": list(runs),
              "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
              "device": str(device), "labels": "".join(map(str, measured.y_np)), "models": info, "cells": cells}
    matrix["effects"] = transfer_effects(matrix)
    claim = transfer_claim(matrix)
    matrix["claim"] = claim._asdict() if claim else None
    # every cell once (Cells counts each lookup of a clean cell, which every attack cell makes, as a cached one)
    matrix["run"] = {"cells_computed": measured.computed, "cells_cached": len(cells) + len(models) - measured.computed,
                     "seconds": time.perf_counter() - t0,
                     "cell_seconds_total": sum(c.get("seconds", 0.0) for c in cells)}
    matrix["provenance"] = provenance(matrix["settings"], runs.values())
    save_json(args.out / "transfer_matrix.json", matrix)
    (args.out / "transfer_matrix.md").write_text(markdown(matrix))
    print((args.out / "transfer_matrix.md").read_text())
    return matrix


if __name__ == "__main__":
    exit_with(main, user_errors=(imagesets.DatasetError,))
