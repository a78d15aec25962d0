"""A run's test accuracy epoch by epoch, and whether it still climbs.

    python -m bio.learning_curve --run runs/stdp-mnist-n6400-s0
    python -m bio.learning_curve --run results/bio/n6400-s0 --window 6

Reads the epochs a ``bio.train_stdp --test-each-epoch`` run scored (``RUN/epochs/epoch-N.json``, each on the
full test set) and applies the stop rule of the 6,400-neuron run (docs/brian2-model.md): fit a least-squares
line to the test accuracy of the last ``--window`` epochs; the run has levelled off when the whole 95 %
t-interval of the slope lies at or below zero. One epoch's accuracy wanders by about a point at 6,400 exc,
so "no gain for two epochs" stops a run that still climbs; a slope over several epochs does not. Prints the
curve, the best epoch and the verdict, and writes them to ``RUN/epochs/learning_curve.json``.
"""
from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

import numpy as np
from scipy import stats

from bio.frozen import EPOCHS
from runstore.cli import Parser, UserError, existing_dir, exit_with, positive_int
from runstore.files import load_json, save_json

WINDOW = 6          # epochs the stop rule's line is fitted to
LEVEL = 0.95
SCORED = re.compile(r"^epoch-(\d+)\.json$")


def epoch_accuracies(run) -> dict[int, float]:
    """{epoch: test accuracy} of the epochs a run scored, in epoch order."""
    folder = Path(run) / EPOCHS
    found = {int(m.group(1)): p for p in folder.glob("epoch-*.json") if (m := SCORED.match(p.name))}
    if not found:
        raise UserError(f"{folder} holds no epoch-N.json: train the run with --test-each-epoch")
    return {e: float(load_json(found[e])["test_accuracy"]) for e in sorted(found)}


def slope_interval(epochs, accuracies, level: float = LEVEL) -> tuple[float, float, float]:
    """Least-squares slope of accuracy per epoch and its two-sided ``level`` t-interval (n - 2 degrees of
    freedom); NaN bounds for fewer than three epochs, where a line leaves no residual to judge it by."""
    x, y = np.asarray(epochs, float), np.asarray(accuracies, float)
    if len(x) < 2:
        return math.nan, math.nan, math.nan
    fit = stats.linregress(x, y)
    if len(x) < 3:
        return float(fit.slope), math.nan, math.nan
    half = stats.t.ppf(0.5 + level / 2, len(x) - 2) * fit.stderr
    return float(fit.slope), float(fit.slope - half), float(fit.slope + half)


def learning_curve(run, window: int = WINDOW) -> dict:
    acc = epoch_accuracies(run)
    epochs = list(acc)
    last = epochs[-window:]
    slope, lo, hi = slope_interval(last, [acc[e] for e in last])
    best = max(epochs, key=lambda e: (acc[e], -e))
    if math.isnan(hi):
        verdict = f"too few epochs to judge ({len(last)}; the rule needs at least 3, and uses the last {window})"
    elif hi <= 0:
        verdict = "levelled off: the slope's whole interval is at or below zero; stop"
    elif lo > 0:
        verdict = "still climbing: the slope's whole interval is above zero; go on"
    else:
        verdict = "undecided: the slope's interval holds zero; go on"
    return {"run": str(run), "accuracy": {str(e): a for e, a in acc.items()},
            "best_epoch": best, "best_accuracy": acc[best],
            "window": [last[0], last[-1]], "slope_per_epoch": slope, "ci95": [lo, hi],
            "levelled_off": bool(hi <= 0), "verdict": verdict}


def parse_args(argv=None) -> argparse.Namespace:
    p = Parser(prog="python -m bio.learning_curve", description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, type=existing_dir,
                   help="a bio.train_stdp run trained with --test-each-epoch")
    p.add_argument("--window", type=positive_int, default=WINDOW, help="the last epochs the line is fitted to")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    a = parse_args(argv)
    out = learning_curve(a.run, a.window)
    save_json(Path(a.run) / EPOCHS / "learning_curve.json", out)
    for e, v in out["accuracy"].items():
        print(f"epoch {e}: {100 * v:.2f} %" + ("  (best)" if int(e) == out["best_epoch"] else ""))
    lo, hi = out["ci95"]
    print(json.dumps({"epochs": out["window"], "slope_points_per_epoch": round(100 * out["slope_per_epoch"], 3),
                      "ci95_points": [round(100 * lo, 3), round(100 * hi, 3)]}))
    print(out["verdict"])
    return out


if __name__ == "__main__":
    exit_with(main)
