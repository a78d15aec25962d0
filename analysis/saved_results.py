"""Reading the saved summaries of analysis.damping and the sweeps: numbers out of JSON, nothing computed.

Shared by the figure families (analysis.damping_figures, analysis.sweep_figures) and
analysis.report. Numpy and the constants of analysis.defaults only.
"""
from __future__ import annotations

import math

import numpy as np

from analysis.defaults import DEFAULTS, FULL_LEVELS, REF

MODEL_ORDER = ("cnn", "converted", "snn", "bio")
FULL = FULL_LEVELS   # quantization levels of the 8-bit originals: no pre-quantization


def value_of(summary):
    return np.nan if summary is None or summary.get("value") is None else summary["value"]


def changes(res: dict, delta: str):
    d = res["deltas"][delta]["change"]
    return np.array([value_of(d.get(s)) for s in res["stages"]])


def main_delta(res: dict) -> str:
    """The perturbation compared across models: the same d for all (transfer) when there is one."""
    return "transfer" if "transfer" in res["deltas"] else "fgsm"


def stage_ratio(res: dict, stage: str, delta: str | None = None) -> float:
    """Change at ``stage`` over change at the first stage (what the network was given)."""
    c = dict(zip(res["stages"], changes(res, delta or main_delta(res))))
    return c[stage] / c[res["stages"][0]] if c[res["stages"][0]] else np.nan


def last_hidden(res: dict) -> str:
    hidden = [s for s in res["stages"] if s.startswith("L") or s == "exc counts"]
    rates = [s for s in hidden if not s.endswith("mem")]
    return (rates or hidden or [res["stages"][-1]])[-1]


def adv(res: dict, delta: str, key: str = "adv_accuracy") -> float:
    d = res["deltas"].get(delta)
    return np.nan if d is None else d[key]


def redraw(res: dict) -> str:
    """ASR of a fresh Poisson draw with no perturbation at all: the floor of a stochastic model's ASR."""
    return pct(res["redraw"]["attack_success_rate"]) if res.get("redraw") else "-"


def pct(v) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}"


def num(v, fmt=".2f") -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)


def main_eps(data: dict) -> str:
    """The eps the report and the damping figure show: the sweeps' eps when it was measured."""
    eps = sorted({e for k in data["models"] for e in data["models"][k]}, key=float)
    return f"{DEFAULTS['eps']:g}" if f"{DEFAULTS['eps']:g}" in eps else eps[0]


def points_of(summary: dict, kind: str, key: str, fixed: dict) -> list[dict]:
    """The sweep's points of ``kind`` with every setting in ``fixed``, sorted by ``key``."""
    pts = [p for p in summary["points"] if p["job"]["kind"] == kind
           and all(p["job"].get(k) == v for k, v in fixed.items())]
    return sorted(pts, key=lambda p: p["job"][key])


def quant_points(summary, kind):
    fixed = {"snn": {"T": REF["T"], "leak": summary["leak"]},
             "bio": {"present_ms": REF["present_ms"], "tau_exc_ms": REF["tau_exc_ms"]},
             "cnn": {}}[kind]
    return points_of(summary, kind, "levels", fixed)
