"""Every figure of the robustness analysis from saved JSON/NPZ, and ``results/REPORT.md``.

    python -m analysis.figures                   # after analysis.damping / leak_sweep / timestep_sweep
    python -m analysis.figures --results results --bio-run runs/stdp-mnist-n100-s0

Nothing is trained or attacked here. Read: ``RESULTS/damping/`` (damping.json,
examples.npz, raster.npz; converged.json of analysis.damping --from-sweep),
``RESULTS/sweeps/{leak,timestep}_sweep.json``, ``RESULTS/compare/*/compare.json`` (analysis.compare),
``RESULTS/accuracy/*.json`` (analysis.accuracy_table), ``RESULTS/weights/**/sparsity.json``, every analysis.attack
``attack.json`` under the runs folder and RESULTS, and the receptive fields
of ``--bio-run``. A missing input is skipped with a note in the report.
Each figure is saved as PNG and PDF beside the file it was drawn from (damping/damping.png,
compare/mnist/accuracy_under_attack.png, ...; the Brian2 runs of analysis.attack together in
attack/accuracy_vs_eps.png; the size series attack/size-n*, issue 27, in attack/accuracy_vs_size.png with its
numbers in accuracy_vs_size.json), in the style of analysis.plotting; each seed claim of Sharmin et al.
is judged in the report (reproduced / partly / not reproduced / no effect) with its numbers, and its
effects drawn in the forest plot ``RESULTS/claims_forest.png`` (its rows in claims_forest.json).

This module is the command line only. The figures are drawn by one module per family
(analysis.damping_figures, analysis.sweep_figures, analysis.compare_figures, analysis.attack_figures,
analysis.weight_figures, bio.figures; the forest plot: analysis.forest_figure), REPORT.md is written by
analysis.report; their main names are re-exported here.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from analysis.compare_figures import NAME as COMPARE_NAME, compare_figure
from analysis.damping_figures import accuracy_eps_figure, converged_figure, damping_figure, gallery_figure, \
    raster_figure
from analysis.defaults import DEFAULT_RUNS, RESULTS, RUNS
from analysis.report import MIN_BIO_TRAIN, Report, stale_inputs, write_report
from analysis.verdicts import verdict
from analysis.sweep_figures import SWEEP_FIGURES, encoding_figure, leak_figure, quantization_figure, \
    timestep_figure
from runstore.cli import Parser, exit_with
from runstore.files import load_json, load_npz, save_json

__all__ = ["MIN_BIO_TRAIN", "Report", "SWEEP_FIGURES", "accuracy_eps_figure", "compare_figure", "damping_figure",
           "encoding_figure", "gallery_figure", "leak_figure", "main", "parse_args", "quantization_figure",
           "raster_figure", "stale_inputs", "timestep_figure", "verdict", "write_report"]


# --- CLI --------------------------------------------------------------------------------------
def parse_args(argv=None):
    p = Parser(prog="python -m analysis.figures", description=__doc__.split("\n\n")[0],
               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--results", default=str(RESULTS), help="results folder (damping/, sweeps/, compare/)")
    p.add_argument("--bio-run", default=str(DEFAULT_RUNS["bio"]), help="a bio run for the receptive fields")
    p.add_argument("--runs", default=str(RUNS), help="where to look for analysis.attack's attack.json files")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    """Draws every figure beside its data; ``made`` holds what was read and, under "figures", the
    analysis.plotting.Drawn of each figure drawn (REPORT.md's captions are checked against them)."""
    args = parse_args(argv)
    res = Path(args.results)
    made, notes, drawn = {}, [], {}
    made["figures"], made["read"] = drawn, []   # "read": every result file, for REPORT.md's provenance table

    def read(path):
        made["read"].append(Path(path))
        return load_json(path)

    def attempt(what, fn):
        try:
            fn()
        except Exception as e:   # one unreadable input must not stop the others
            notes.append(f"{what}: {type(e).__name__}: {e}")

    def draw(name, fn, *a):
        """Draw figure ``name``; a figure function returns None when it has nothing to draw."""
        def go():
            d = fn(*a)
            if d is not None:
                drawn[name] = d
        attempt(name, go)

    damp = res / "damping"
    if (damp / "damping.json").exists():
        made["damping"] = read(damp / "damping.json")
        draw("damping", damping_figure, made["damping"], damp / "damping")
        draw("accuracy_vs_eps", accuracy_eps_figure, made["damping"], damp / "accuracy_vs_eps")
        if (damp / "examples.npz").exists():
            draw("gallery", lambda: gallery_figure(load_npz(damp / "examples.npz"), made["damping"], damp / "gallery"))
        if (damp / "raster.npz").exists():
            draw("raster", lambda: raster_figure(load_npz(damp / "raster.npz"), damp / "raster"))
        else:
            notes.append("no damping/raster.npz (analysis.damping writes it when it measures a Brian2 run)")
    if (damp / "converged.json").exists():   # the converged models over seeds (analysis.damping --from-sweep)
        made["damping_converged"] = read(damp / "converged.json")
        draw("damping_converged", converged_figure, made["damping_converged"], damp / "converged")
    for name, fn in SWEEP_FIGURES.items():
        path = res / "sweeps" / f"{name}.json"
        if path.exists():
            made[name] = read(path)
            draw(name, fn, made[name], path.with_name(name))
    if "timestep_sweep" in made:   # timestep_figure drew them too; drawn again here for their Drawn records
        draw("quantization_sweep", quantization_figure, made["timestep_sweep"], res / "sweeps" / "quantization_sweep")
        draw("encoding", encoding_figure, made["timestep_sweep"], res / "sweeps" / "encoding")
    comp = {p.parent.name: (p, read(p)) for p in sorted(res.glob("compare/*/compare.json"))}
    for name, (path, summary) in comp.items():
        draw(f"compare_{name}", compare_figure, summary, path.with_name(COMPARE_NAME))
    if comp:
        made["compare"] = {name: summary for name, (_, summary) in comp.items()}
    else:
        notes.append("no compare/*/compare.json (analysis.compare)")
    transfer = {p.parent.name: read(p) for p in sorted(res.glob("transfer_matrix/*/transfer_matrix.json"))}
    if transfer:
        made["transfer_matrix"] = transfer
    else:
        notes.append("no transfer_matrix/*/transfer_matrix.json (analysis.transfer_matrix)")
    attacks = sorted({*Path(args.runs).glob("*/attack*/attack.json"), *res.glob("**/attack.json")})
    from analysis.attack_figures import accuracy_vs_eps, runs_figure, size_figure
    from analysis.size_series import is_size_folder, size_series
    attack_summaries, size_summaries = {}, {}
    for path in attacks:
        def one(path=path):
            summary = read(path)
            accuracy_vs_eps(summary, path.with_name("accuracy_vs_eps"))   # beside it, as analysis.attack draws it
            if is_size_folder(path):   # the size series (issue 27): its own figure, not a panel of the runs'
                size_summaries[path] = summary
                return
            name = Path(summary["settings"]["run"]).name
            while name in attack_summaries:
                name += "+"
            attack_summaries[name] = summary
        attempt(f"attack {path}", one)
    if attack_summaries:
        made["attack"] = attack_summaries
        draw("attack_runs", runs_figure, attack_summaries, res / "attack" / "accuracy_vs_eps")
    if size_summaries:
        def sizes():
            made["attack_size"] = size_series(size_summaries)
            save_json(res / "attack" / "accuracy_vs_size.json", made["attack_size"])   # the figure's numbers
        attempt("accuracy against network size", sizes)
        if made.get("attack_size"):
            draw("attack_size", size_figure, made["attack_size"], res / "attack" / "accuracy_vs_size")
    if not attacks:
        notes.append(f"no analysis.attack attack.json under {args.runs} or {res}")
    accuracy = {p.stem: read(p) for p in sorted(res.glob("accuracy/*.json"))}
    if accuracy:
        made["accuracy"] = accuracy
    else:
        notes.append("no accuracy/*.json (analysis.accuracy_table)")
    from analysis.weight_figures import sparsity_figure
    sparsity = res / "weights" / "sparsity.json"
    if sparsity.exists():
        made["sparsity"] = read(sparsity)
    else:
        notes.append("no weights/sparsity.json (analysis.weight_sparsity)")
    # every dataset's numbers (results/weights/DSET/sparsity.json too), for the STDP claim of that dataset;
    # files written before weight_sparsity recorded the dataset are MNIST's
    made["sparsity_by_dset"] = {}
    for path in sorted(res.glob("weights/**/sparsity.json")):
        sp = read(path)
        made["sparsity_by_dset"][sp.get("dset", "mnist")] = sp
        draw("weight_sparsity" if path == sparsity else f"weight_sparsity_{path.parent.name}", sparsity_figure, sp,
             path.with_name("weight_sparsity"))
    weights = Path(args.bio_run) / "weights.npz"
    if weights.exists():
        from bio.figures import receptive_fields
        from analysis.plotting import Drawn

        def rf():
            receptive_fields(load_npz(weights)["w"], weights.with_name("receptive_fields"))   # beside its run's weights
            made["receptive_fields"] = args.bio_run
            drawn["receptive_fields"] = Drawn(weights.with_name("receptive_fields.png"))
        attempt("receptive fields", rf)
    else:
        notes.append(f"no {weights}: no receptive fields")
    report = write_report(res, made, notes)
    print(f"figures beside their data under {res}; report {report}" + (f"; {len(notes)} note(s)" if notes else ""))
    return made


if __name__ == "__main__":
    exit_with(main)
