"""bio.learning_curve: the stop rule of the long Brian2 runs, on written epoch files (no Brian2 run)."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from bio.learning_curve import learning_curve, main, slope_interval
from runstore.cli import UserError

ROOT = Path(__file__).resolve().parents[1]


def scored_run(tmp_path, accuracies) -> Path:
    (tmp_path / "epochs").mkdir(parents=True)
    for e, a in enumerate(accuracies, 1):
        (tmp_path / "epochs" / f"epoch-{e}.json").write_text(json.dumps({"test_accuracy": a, "epochs": e}))
    return tmp_path


def test_slope_and_interval_are_the_least_squares_line_and_its_t_interval():
    x = np.arange(1, 7.0)
    y = np.array([0.90, 0.92, 0.91, 0.94, 0.93, 0.95])
    sxx = ((x - x.mean()) ** 2).sum()
    b = ((x - x.mean()) * (y - y.mean())).sum() / sxx
    resid = y - (y.mean() + b * (x - x.mean()))
    se = math.sqrt((resid ** 2).sum() / 4 / sxx)
    slope, lo, hi = slope_interval(x, y)
    assert slope == pytest.approx(b) and (hi - lo) / 2 == pytest.approx(2.7764451 * se, rel=1e-6)   # t(0.975, 4)
    assert math.isnan(slope_interval([1, 2], [0.9, 0.91])[1])   # no residual left: no interval


def test_the_verdicts_follow_the_interval(tmp_path):
    falling = learning_curve(scored_run(tmp_path / "f", [0.90, 0.95, 0.94, 0.93, 0.92, 0.91, 0.90]))
    assert falling["levelled_off"] and falling["window"] == [2, 7] and falling["best_epoch"] == 2
    climbing = learning_curve(scored_run(tmp_path / "c", [0.80, 0.85, 0.88, 0.90, 0.93]))
    assert climbing["verdict"].startswith("still climbing") and not climbing["levelled_off"]
    assert learning_curve(scored_run(tmp_path / "t", [0.9, 0.91]))["verdict"].startswith("too few")
    with pytest.raises(UserError, match="--test-each-epoch"):
        learning_curve(tmp_path)


def test_the_committed_6400_run_regenerates_its_documented_trend(tmp_path):
    """docs/brian2-model.md: epochs 1-6 rise 0.23 points per epoch, 95 % interval [-0.16, 0.61]."""
    out = learning_curve(ROOT / "results" / "bio" / "n6400-s0", window=6)
    six = {k: v for k, v in out["accuracy"].items() if int(k) <= 6}
    run = scored_run(tmp_path, list(six.values()))
    r = main(["--run", str(run)])
    assert round(100 * r["slope_per_epoch"], 2) == 0.23
    assert [round(100 * v, 2) for v in r["ci95"]] == [-0.16, 0.61]
    assert (run / "epochs" / "learning_curve.json").is_file()
