"""Clean test accuracy and training time of the trained models, saved as ``results/accuracy/DSET.json``.

    python -m analysis.accuracy_table --dset cifar10                 # every finished run of cifar10 under runs/baselines
    python -m analysis.accuracy_table --dset cifar10 --runs runs/baselines/cnn-cifar10-s0 runs/cifar/converted-t8-p99

Keeps, from each finished ``networks.train`` run (config.json + metrics.json; the weights stay in
runs/), what the README's and REPORT.md's accuracy tables show: net, seed, recipe, test accuracy on
how many images, epochs, seconds per epoch and in all, threads, and per net its extras (the converted
net's accuracy at every T, a hybrid's CNN stage). analysis.figures reads these files into REPORT.md,
where seed 000's clean accuracies are judged against them; runs/ can then be deleted.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from analysis.defaults import RESULTS, RUNS
from networks.registry import CONFIG, METRICS, finished_runs
from runstore.cli import Parser, exit_with
from runstore.files import load_json, relative_path, save_json
from runstore.provenance import provenance

# Per-net extras of metrics.json worth keeping (networks.train writes them).
EXTRAS = ("test_accuracy_by_T", "cnn_test_accuracy", "stage_seconds", "pipeline_seconds", "stdp_convergence")


def run_record(run: Path) -> dict:
    """What the accuracy tables need from one finished networks.train run."""
    cfg, m = load_json(run / CONFIG), load_json(run / METRICS)
    tr = cfg.get("train", {})
    # a stage of a staged run (stdp's OUT/cnn) is named with the run that holds it
    name = f"{run.parent.name}/{run.name}" if (run.parent / CONFIG).is_file() else run.name
    origin = tr.get("from_dir") or cfg.get("converted_from")
    rec = {"run": name, "net": cfg["net"], "dset": cfg["dset"], "seed": tr.get("seed"),
           "recipe": tr.get("recipe"), "arch": cfg["model"].get("arch"), "T": cfg["model"].get("T"),
           "from": origin and relative_path(origin),
           **{k: m[k] for k in ("test_accuracy", "n_test", "n_train", "epochs", "train_seconds", "eval_seconds",
                                "seconds", "threads", "device")},
           "epoch_seconds": [h["seconds"] for h in m.get("history", [])]}
    return rec | {k: m[k] for k in EXTRAS if k in m}


def parse_args(argv=None):
    p = Parser(prog="python -m analysis.accuracy_table", description=__doc__.split("\n\n")[0],
               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dset", required=True)
    p.add_argument("--runs", nargs="+", default=None, help="run directories (default: every finished run of --dset "
                   "under --runs-root)")
    p.add_argument("--runs-root", default=str(RUNS / "baselines"))
    p.add_argument("--out", default=str(RESULTS / "accuracy"), help="folder of DSET.json")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    runs = [Path(r) for r in args.runs] if args.runs else finished_runs(args.runs_root, args.dset)
    missing = [str(r) for r in runs if not (r / METRICS).is_file()]
    if missing:
        raise SystemExit(f"error: not a finished networks.train run (no {METRICS}): {', '.join(missing)}")
    if not runs:
        raise SystemExit(f"error: no finished {args.dset} run under {args.runs_root}; train one with "
                         f"python -m networks.train --net cnn --dset {args.dset}")
    records = [run_record(r) for r in runs]
    wrong = [r["run"] for r in records if r["dset"] != args.dset]
    if wrong:
        raise SystemExit(f"error: runs of another dataset than {args.dset}: {', '.join(wrong)}")
    out = Path(args.out) / f"{args.dset}.json"
    summary = {"dset": args.dset, "runs": records, "provenance": provenance(args, runs)}
    save_json(out, summary)
    for r in records:
        print(f"{r['run']:32s} {r['net']:10s} {100 * r['test_accuracy']:6.2f} % on {r['n_test']} images, "
              f"{r['train_seconds'] / 60:.1f} min training"
              + (f" ({r['pipeline_seconds'] / 60:.1f} min all stages)" if "pipeline_seconds" in r else ""))
    print(f"wrote {out}")
    return summary


if __name__ == "__main__":
    exit_with(main)
