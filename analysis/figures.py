"""Every figure of the robustness analysis from saved JSON/NPZ, and ``results/REPORT.md``.

    python -m analysis.figures                   # after analysis.damping / leak_sweep / timestep_sweep
    python -m analysis.figures --results results --bio-run runs/stdp-mnist-n100-s0

Nothing is trained or attacked here. Read: ``RESULTS/damping/`` (damping.json,
examples.npz, raster.npz), ``RESULTS/sweeps/{leak,timestep}_sweep.json``,
``RESULTS/compare/*/compare.json`` (analysis.compare), ``RESULTS/accuracy/*.json``
(analysis.accuracy_table), every analysis.attack
``attack.json`` under the runs folder and RESULTS, and the receptive fields
of ``--bio-run``. A missing input is skipped with a note in the report.
Figures go to ``RESULTS/figures`` as PNG and PDF, in the style of
analysis.plotting; each seed claim of Sharmin et al. is judged in the report
(reproduced / partly / not reproduced) with its numbers.

This module is the command line only. The figures are drawn by one module per family
(analysis.damping_figures, analysis.sweep_figures, analysis.compare_figures, analysis.attack_figures,
analysis.weight_figures, bio.figures), REPORT.md is written by analysis.report; their main names are re-exported here.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from analysis.compare_figures import compare_figure
from analysis.damping_figures import accuracy_eps_figure, damping_figure, gallery_figure, raster_figure
from analysis.defaults import DEFAULT_RUNS, RUNS
from analysis.report import MIN_BIO_TRAIN, Report, stale_inputs, verdict, write_report
from analysis.sweep_figures import SWEEP_FIGURES, leak_figure, quantization_figure, timestep_figure
from runstore.cli import Parser, exit_with
from runstore.files import load_json, load_npz

__all__ = ["MIN_BIO_TRAIN", "Report", "SWEEP_FIGURES", "accuracy_eps_figure", "compare_figure", "damping_figure",
           "gallery_figure", "leak_figure", "main", "parse_args", "quantization_figure", "raster_figure",
           "stale_inputs", "timestep_figure", "verdict", "write_report"]


# --- CLI --------------------------------------------------------------------------------------
def parse_args(argv=None):
    p = Parser(prog="python -m analysis.figures", description=__doc__.split("\n\n")[0],
               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--results", default="results", help="results folder (damping/, sweeps/, compare/)")
    p.add_argument("--bio-run", default=str(DEFAULT_RUNS["bio"]), help="a bio run for the receptive fields")
    p.add_argument("--runs", default=str(RUNS), help="where to look for analysis.attack's attack.json files")
    p.add_argument("--out", default=None, help="figure folder (default RESULTS/figures)")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    res = Path(args.results)
    figdir = Path(args.out) if args.out else res / "figures"
    made, notes = {}, []

    def attempt(what, fn):
        try:
            fn()
        except Exception as e:   # one unreadable input must not stop the others
            notes.append(f"{what}: {type(e).__name__}: {e}")

    damping_json = res / "damping" / "damping.json"
    if damping_json.exists():
        made["damping"] = load_json(damping_json)
        attempt("damping figure", lambda: damping_figure(made["damping"], figdir / "damping"))
        if (res / "damping" / "examples.npz").exists():
            attempt("gallery", lambda: (gallery_figure(load_npz(res / "damping" / "examples.npz"), made["damping"],
                                                       figdir / "gallery"), made.__setitem__("gallery", True)))
        if (res / "damping" / "raster.npz").exists():
            attempt("raster", lambda: (raster_figure(load_npz(res / "damping" / "raster.npz"), figdir / "raster"),
                                       made.__setitem__("raster", True)))
        else:
            notes.append("no damping/raster.npz (analysis.damping writes it when it measures a Brian2 run)")
    for name, fn in SWEEP_FIGURES.items():
        path = res / "sweeps" / f"{name}.json"
        if path.exists():
            made[name] = load_json(path)
            attempt(name, lambda fn=fn, name=name: fn(made[name], figdir / name))
    comp = {p.parent.name: load_json(p) for p in sorted(res.glob("compare/*/compare.json"))}
    for name, summary in comp.items():
        attempt(f"compare {name}", lambda s=summary, n=name: compare_figure(s, figdir / f"compare_{n}"))
    if comp:
        made["compare"] = comp
    else:
        notes.append("no compare/*/compare.json (analysis.compare)")
    attacks = sorted({*Path(args.runs).glob("*/attack*/attack.json"), *res.glob("**/attack.json")})
    from analysis.attack_figures import accuracy_vs_eps
    attack_summaries = {}
    for path in attacks:
        def one(path=path):
            summary = load_json(path)
            name = Path(summary["settings"]["run"]).name
            while name in attack_summaries:
                name += "+"
            accuracy_vs_eps(summary, figdir / f"accuracy_vs_eps_{name}")
            attack_summaries[name] = summary
        attempt(f"attack {path}", one)
    if attack_summaries:
        made["attack"] = attack_summaries
    if not attacks:
        notes.append(f"no analysis.attack attack.json under {args.runs} or {res}")
    attempt("accuracy against eps", lambda: made.__setitem__(
        "accuracy_vs_eps", accuracy_eps_figure(made.get("damping"), attack_summaries, figdir / "accuracy_vs_eps")))
    accuracy = {p.stem: load_json(p) for p in sorted(res.glob("accuracy/*.json"))}
    if accuracy:
        made["accuracy"] = accuracy
    else:
        notes.append("no accuracy/*.json (analysis.accuracy_table)")
    sparsity = res / "weights" / "sparsity.json"
    if sparsity.exists():
        from analysis.weight_figures import sparsity_figure
        made["sparsity"] = load_json(sparsity)
        attempt("weight sparsity", lambda: sparsity_figure(made["sparsity"], figdir / "weight_sparsity"))
    else:
        notes.append("no weights/sparsity.json (analysis.weight_sparsity)")
    # every dataset's numbers (results/weights/DSET/sparsity.json too), for the STDP claim of that dataset;
    # files written before weight_sparsity recorded the dataset are MNIST's
    made["sparsity_by_dset"] = {sp.get("dset", "mnist"): sp
                                for sp in map(load_json, sorted(res.glob("weights/**/sparsity.json")))}
    weights = Path(args.bio_run) / "weights.npz"
    if weights.exists():
        from bio.figures import receptive_fields
        attempt("receptive fields", lambda: (receptive_fields(load_npz(weights)["w"], figdir / "receptive_fields"),
                                             made.__setitem__("receptive_fields", args.bio_run)))
    else:
        notes.append(f"no {weights}: no receptive fields")
    report = write_report(res, figdir, made, notes)
    print(f"figures in {figdir}; report {report}" + (f"; {len(notes)} note(s)" if notes else ""))
    return made


if __name__ == "__main__":
    exit_with(main)
